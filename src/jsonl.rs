//! `memtide record --jsonl -`: one JSON object per sample, a line each (JSON Lines), for a
//! program that reads memtide as it records (a dashboard, a log shipper, `jq`). The fields are
//! those of the trace (docs/trace-format.md, "Streaming"); `schema` is the format's version,
//! raised when a field changes meaning or goes.

use memtide_model::runner::Role;
use memtide_model::timeline::Measure;
use memtide_record::live::{Live, LoadedModel};
use memtide_trace::SystemRow;
use serde::Serialize;
use std::io::Write;

/// The version of the line format: the `schema` of every line.
pub const SCHEMA: u32 = 1;

/// One sample.
#[derive(Serialize)]
struct Line<'a> {
    schema: u32,
    /// The system as `system.csv` has it (`time_utc`, `t_ms`, bytes).
    system: &'a SystemRow,
    /// Every followed process alive at this sample.
    processes: Vec<Process<'a>>,
    /// What Ollama's `/api/ps` listed, on the first line after the first poll and whenever
    /// it changed since the last line that had it (an answer after failures, new models, a
    /// failure); absent otherwise, and when Ollama is not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    ollama: Option<Ollama<'a>>,
}

#[derive(Serialize)]
struct Process<'a> {
    pid: u32,
    start_time_us: u64,
    name: &'a str,
    role: &'a Role,
    /// The model a runner serves.
    model: Option<&'a str>,
    rss_bytes: u64,
    footprint_bytes: Option<u64>,
    weights_resident_bytes: Option<u64>,
    /// What memtide calls this process's memory everywhere (report, charts, `top`, `serve`),
    /// and which measure that is.
    memory_bytes: u64,
    memory_measure: Measure,
}

#[derive(Serialize)]
struct Ollama<'a> {
    url: Option<&'a str>,
    /// `false` while polls fail; `models` is then the last listing that was answered.
    answering: bool,
    models: Vec<Model<'a>>,
}

#[derive(Serialize)]
struct Model<'a> {
    name: &'a str,
    size_bytes: u64,
    size_vram_bytes: Option<u64>,
    context_length: Option<u64>,
    expires_utc: Option<String>,
}

/// Writes a line per sample; remembers what Ollama listed last, to write it only on change.
pub struct Stream<W: Write> {
    out: W,
    last_ollama: Option<(bool, Vec<LoadedModel>)>,
}

impl<W: Write> Stream<W> {
    pub fn new(out: W) -> Self {
        Stream {
            out,
            last_ollama: None,
        }
    }

    /// The line of the sample `live` holds now (nothing before the first sample). An error is
    /// the reader's: a closed pipe ends the stream.
    pub fn write(&mut self, live: &Live) -> std::io::Result<()> {
        let Some(system) = &live.system else {
            return Ok(());
        };
        let processes = live
            .processes
            .iter()
            .filter(|p| !p.exited)
            .map(|p| Process {
                pid: p.id.pid,
                start_time_us: p.id.start_time_us,
                name: &p.identity.name,
                role: &p.role,
                model: p.model.as_deref(),
                rss_bytes: p.rss_bytes,
                footprint_bytes: p.footprint_bytes,
                weights_resident_bytes: p.weights_resident_bytes,
                memory_bytes: p.memory(),
                memory_measure: p.measure(),
            })
            .collect();
        let o = &live.ollama;
        // Nothing to say of Ollama before its first poll has answered or failed.
        let polled = o.last_ok.is_some() || o.failing_since.is_some();
        let answering = o.failing_since.is_none();
        // Compared in place: the listing is copied only when it changed.
        let changed = o.url.is_some()
            && polled
            && self
                .last_ollama
                .as_ref()
                .is_none_or(|(a, m)| *a != answering || *m != o.models);
        let ollama = changed.then(|| Ollama {
            url: o.url.as_deref(),
            answering,
            models: o
                .models
                .iter()
                .map(|m| Model {
                    name: &m.name,
                    size_bytes: m.size_bytes,
                    size_vram_bytes: m.size_vram_bytes,
                    context_length: m.context_length,
                    expires_utc: m.expires_at.map(memtide_trace::utc_ms),
                })
                .collect(),
        });
        let line = Line {
            schema: SCHEMA,
            system,
            processes,
            ollama,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        // Each line reaches the reader as it is taken, not when a buffer fills.
        self.out.flush()?;
        if changed {
            self.last_ollama = Some((answering, o.models.clone()));
        }
        Ok(())
    }
}
