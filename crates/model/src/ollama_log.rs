//! Ollama's server log: the lines in which Ollama's scheduler says what it predicted and
//! decided for a load, and llama.cpp says what it allocated, parsed from the formats of their
//! sources. Everything else in the log is left alone.
//!
//! Sources (Ollama v0.33.0-rc2, commit fb3076099; llama.cpp as Ollama parses it):
//! - Ollama logs with Go's `log/slog` text handler (`logutil/logutil.go`, `NewLogger`):
//!   `time=<RFC 3339, local offset> level=INFO source=<file>:<line> msg="…" key=value …`, a value
//!   quoted (Go syntax) when it holds a space or a quote. Sizes are `format.HumanBytes2`
//!   (`format/bytes.go`): `13.8 GiB`, `512.0 MiB`, `0 B`, powers of 1024, one decimal.
//! - The scheduler (`server/sched.go`): `system memory` (l.613: `total`, `free`, `free_swap`),
//!   `gpu memory` (l.620: `id`, `library`, `available`, `free`, `minimum`, `overhead`),
//!   `llama-server model predicted to exceed available memory, evicting` (l.551) and
//!   `llama-server model fits alongside existing models` (l.562), both with `predicted`,
//!   `available`, `gpu_free`, `system_free`; `model is too large for system memory` (l.632);
//!   `disabling mmap for llama-server load by default` (l.1147, `reason`) and `… due to host
//!   memory pressure` (l.1215); `runtime OOM detected; expiring loaded models …` (l.1648).
//! - Off macOS, from v0.2.2 until v0.30 removed it (`llm/server.go`, behind
//!   `runtime.GOOS != "darwin"`): `model request too large for system` with `requested`,
//!   `available` (free memory and free swap), `total`, `free` and `swap`, before the load ends
//!   with `model requires more system memory`. Up to v0.11.4 it is logged before the runner
//!   starts (`NewLlamaServer`, l.170 of v0.11.4), with `available` a plain count of bytes; from
//!   v0.11.5 after its start, by the load (`verifyLayout`, l.989 of v0.12.11).
//! - The runner (`llm/llama_server.go`): `starting llama-server` (l.433) with `cmd`, the
//!   command line, whose `--port` (l.371) is the runner's; `llama-server started in N.NN
//!   seconds` (l.1362). Before v0.30 the same were `starting runner` (from v0.11.5) or
//!   `starting llama server` (v0.1.32 to v0.11.4, `llm/server.go`), and `llama runner started
//!   in N.NN seconds`.
//! - llama.cpp's own lines, which Ollama copies from the runner's output into its log unchanged
//!   (`llm/llama_server.go` l.427-428 and l.917, the runner's stdout and stderr written to
//!   Ollama's standard error), in the forms Ollama itself parses (l.2707-2743):
//!   `<component>: <backend> <model|KV|compute|output|RS> buffer size = <N.NN> MiB`,
//!   `offloaded N/M layers to GPU`, `using device <dev> (<name>) (<id>) - N MiB free`; and
//!   `load_tensors: loading model tensors, this can take a while... (load_mode = …)`, which
//!   starts each load of the weights (llama.cpp `src/llama-model.cpp`, `load_tensors`).
//!
//! - Ollama's own engine (`ollama runner --ollama-engine`, v0.11.5 to v0.2x) prints no buffer
//!   lines: Ollama sums what it allocated by device once the load is done (`BackendMemory.Log`,
//!   `ml/device.go` l.235-274 of v0.24: `model weights`, `kv cache`, `compute graph` with
//!   `device` and `size`, then `total memory`), and its runner says `offloaded N/M layers to
//!   GPU` as a line of its own (`ml/backend/ggml/ggml.go` l.502).
//!
//! What a runner allocated is the sum of its buffer lines after its last `loading model
//! tensors` line. Ollama instead keeps the last line of each component, backend and kind
//! (`llm/llama_server.go` l.2802-2812), which drops one of the two KV caches of a model with
//! sliding-window attention: the real server on Gemma 3 270M prints `llama_kv_cache: CPU KV
//! buffer size = 1.50 MiB` (the full-attention cache) and then `= 7.50 MiB` (the
//! sliding-window one), and both are allocated (`scripts/check-real-runner`).

use jiff::Timestamp;
use memtide_trace::{LogEvent, OllamaLogRow};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub use memtide_trace::BufferKind;

/// The component of a buffer row that Ollama's own sum of what its engine allocated gave
/// (`model weights`, `kv cache`, `compute graph` with `device=`), rather than a line of
/// llama.cpp.
pub const OLLAMA_ENGINE: &str = "ollama";

/// What a load that was too large for the machine needed and had, as Ollama said (`model
/// request too large for system`: `requested`, `available`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooLargeBy {
    /// The memory the model needed outside the GPUs.
    pub requested_bytes: Option<u64>,
    /// Free memory and free swap together.
    pub available_bytes: Option<u64>,
}

/// What the scheduler predicted for a load and what it had (`sched.go` l.551, l.562).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    /// `predicted`: what the model would take.
    pub predicted_bytes: Option<u64>,
    /// `available`: what the scheduler counted as free for it.
    pub available_bytes: Option<u64>,
    /// `gpu_free`.
    pub gpu_free_bytes: Option<u64>,
    /// `system_free`.
    pub system_free_bytes: Option<u64>,
}

/// Ollama's estimate of a load, from its `offload` line: `offload to gpu` from v0.1.33 to
/// v0.1.44 (`llm/memory.go` l.133-172 of v0.1.44: `layers.real`, one `memory.available`),
/// `offload to <library>` from v0.1.45 to v0.5.11 (l.308-355 of v0.1.45), `offload
/// library=<library>` from v0.5.12 to v0.12.10 (`MemoryEstimate.LogValue`, l.363-421 of
/// v0.11.4). Written before the runner's start line up to v0.11.4 (`llm/server.go` l.175, the
/// start at l.438) and after it from v0.11.5, where the load follows the start
/// (`llamaServer.Load`, `llm/server.go` l.531 of v0.11.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// `library` (`metal`, `Metal`, `cuda`, `rocm`, `cpu`, ...; `gpu` before v0.1.45), as
    /// Ollama wrote it.
    pub library: String,
    /// `layers.offload` (`layers.real` before v0.1.45): the layers it put on the GPU.
    pub layers: Option<u32>,
    /// `layers.model`: the model's layers, its output layer counted (not written before
    /// v0.1.45).
    pub of: Option<u32>,
    /// `memory.required.full`: the model with every layer on the GPU.
    pub full_bytes: Option<u64>,
    /// `memory.required.partial`: the `layers` it put on the GPU.
    pub partial_bytes: Option<u64>,
    /// `memory.available`: what the GPUs had available for it, summed over them.
    pub available_bytes: Option<u64>,
}

/// A line of the log that matters for memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Ollama started a runner; its port, where the command line gives it.
    RunnerStart {
        /// `--port`.
        port: Option<u16>,
    },
    /// llama.cpp begins to load the weights: the buffer lines that follow are this load's.
    LoadStart,
    /// The runner answered: its load is done.
    RunnerReady {
        /// How long the load took, as Ollama says.
        seconds: f64,
    },
    /// llama.cpp allocated a buffer, or Ollama summed what its own engine allocated on a device.
    Buffer {
        /// Who printed it (`load_tensors`, `llama_kv_cache`, `sched_reserve`, ...). A later line
        /// of the same component, backend and kind replaces an earlier one (a probe, then the
        /// load), as Ollama counts them.
        component: String,
        /// `CPU_Mapped`, `MTL0`, `CUDA0`, `CPU_REPACK`, ...
        backend: String,
        /// What it holds.
        kind: BufferKind,
        /// Its size (llama.cpp prints MiB with two decimals).
        bytes: u64,
    },
    /// `offloaded N/M layers to GPU`.
    Offloaded {
        /// N.
        layers: u32,
        /// M.
        of: u32,
    },
    /// `using device MTL0 (…) - N MiB free`.
    DeviceFree {
        /// `MTL0`, `CUDA0`, ...
        device: String,
        /// What the device had free.
        free_bytes: u64,
    },
    /// `system memory`: what the scheduler saw of the machine.
    SystemMemory {
        /// `total`.
        total_bytes: Option<u64>,
        /// `free`.
        free_bytes: Option<u64>,
        /// `free_swap`.
        free_swap_bytes: Option<u64>,
    },
    /// `gpu memory`: what the scheduler saw of a GPU.
    GpuMemory {
        /// `id`.
        id: String,
        /// `library` (`Metal`, `CUDA`, ...).
        library: String,
        /// `available`.
        available_bytes: Option<u64>,
        /// `free`.
        free_bytes: Option<u64>,
    },
    /// The next model fits beside those loaded.
    Fits(Prediction),
    /// The next model would not fit: Ollama evicts loaded models first.
    Evict(Prediction),
    /// Ollama's estimate of a load (its `offload` line).
    Estimate(Estimate),
    /// Ollama turned mmap off for the next load.
    MmapOff {
        /// Why (`reason`, or `host memory pressure`).
        reason: String,
    },
    /// The model is too large for the machine's memory, and the load ends: `model is too large
    /// for system memory` (the scheduler, from v0.13, no figures), or, off macOS,
    /// `model request too large for system` (the runner's load, v0.2.2 to v0.2x).
    TooLarge {
        /// `requested`: the memory the model needed outside the GPUs.
        requested_bytes: Option<u64>,
        /// `available`: free memory and free swap together.
        available_bytes: Option<u64>,
    },
    /// `runtime OOM detected; expiring loaded models …`.
    RuntimeOom {
        /// `model`.
        model: String,
    },
}

/// A parsed line, with its own time where it has one (Ollama's lines; llama.cpp's have none,
/// as Ollama starts the runner with `--no-log-timestamps`).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// `time=`.
    pub time: Option<Timestamp>,
    /// What it says.
    pub line: Line,
}

/// Parses one line of the log (without its line end); `None` for a line that says nothing
/// about memory, or that does not have the form of its source.
pub fn parse(text: &str) -> Option<Parsed> {
    let text = text.trim_end_matches(['\r', '\n']);
    if text.starts_with("time=") {
        let attrs = attrs(text);
        let get = |k: &str| attrs.iter().find(|(key, _)| *key == k).map(|(_, v)| v);
        let time = get("time").and_then(|t| t.parse::<Timestamp>().ok());
        let msg = get("msg")?;
        let bytes = |k: &str| get(k).and_then(|v| human_bytes(v));
        let prediction = || Prediction {
            predicted_bytes: bytes("predicted"),
            available_bytes: bytes("available"),
            gpu_free_bytes: bytes("gpu_free"),
            system_free_bytes: bytes("system_free"),
        };
        let line = match msg.as_ref() {
            "starting llama-server" | "starting runner" | "starting llama server" => {
                Line::RunnerStart {
                    port: get("cmd").and_then(|c| port_of(c)),
                }
            }
            "system memory" => Line::SystemMemory {
                total_bytes: bytes("total"),
                free_bytes: bytes("free"),
                free_swap_bytes: bytes("free_swap"),
            },
            "gpu memory" => Line::GpuMemory {
                id: get("id").map_or_else(String::new, |v| v.to_string()),
                library: get("library").map_or_else(String::new, |v| v.to_string()),
                available_bytes: bytes("available"),
                free_bytes: bytes("free"),
            },
            "llama-server model fits alongside existing models" => Line::Fits(prediction()),
            "llama-server model predicted to exceed available memory, evicting" => {
                Line::Evict(prediction())
            }
            "model is too large for system memory" => Line::TooLarge {
                requested_bytes: None,
                available_bytes: None,
            },
            // Up to v0.11.4 `available` is a plain count of bytes (`NewLlamaServer`, l.170 of
            // v0.11.4); from v0.11.5 a `HumanBytes2` figure (`verifyLayout`, l.989 of v0.12.11).
            "model request too large for system" => Line::TooLarge {
                requested_bytes: bytes("requested"),
                available_bytes: bytes("available")
                    .or_else(|| get("available").and_then(|v| bytes_within(v.parse().ok()?))),
            },
            m if m == "offload" || m.starts_with("offload to ") => Line::Estimate(Estimate {
                library: get("library")
                    .map(|v| v.to_string())
                    .or_else(|| m.strip_prefix("offload to ").map(str::to_owned))
                    .unwrap_or_default(),
                layers: get("layers.offload")
                    .or_else(|| get("layers.real"))
                    .and_then(|v| v.parse().ok()),
                of: get("layers.model").and_then(|v| v.parse().ok()),
                full_bytes: bytes("memory.required.full"),
                partial_bytes: bytes("memory.required.partial"),
                available_bytes: get("memory.available")
                    .and_then(|v| human_bytes_list(v).or_else(|| human_bytes(v))),
            }),
            "disabling mmap for llama-server load by default" => Line::MmapOff {
                reason: get("reason").map_or_else(String::new, |v| v.to_string()),
            },
            "disabling mmap for llama-server load due to host memory pressure" => Line::MmapOff {
                reason: "host memory pressure".into(),
            },
            m if m.starts_with("runtime OOM detected") => Line::RuntimeOom {
                model: get("model").map_or_else(String::new, |v| v.to_string()),
            },
            // The Ollama engine's runner (`ml/backend/ggml/ggml.go` l.502 of v0.24).
            m if m.starts_with("offloaded ") => offloaded(m)?,
            // What the Ollama engine allocated, as Ollama sums it once its load is done
            // (`BackendMemory.Log`, `ml/device.go` l.235-274 of v0.24, at INFO from
            // `ollamaServer.Load`, `llm/server.go` l.788; at DEBUG for each try before it).
            "model weights" | "kv cache" | "compute graph"
                if get("level").is_some_and(|l| l == "INFO") =>
            {
                Line::Buffer {
                    component: OLLAMA_ENGINE.to_owned(),
                    backend: get("device")?.to_string(),
                    kind: match msg.as_ref() {
                        "model weights" => BufferKind::Model,
                        "kv cache" => BufferKind::Kv,
                        _ => BufferKind::Compute,
                    },
                    bytes: bytes("size")?,
                }
            }
            m => {
                let rest = m
                    .strip_prefix("llama-server started in ")
                    .or_else(|| m.strip_prefix("llama runner started in "))?;
                Line::RunnerReady {
                    seconds: rest.strip_suffix(" seconds")?.trim().parse().ok()?,
                }
            }
        };
        return Some(Parsed { time, line });
    }
    let line = buffer(text)
        .or_else(|| offloaded(text))
        .or_else(|| device_free(text))
        .or_else(|| {
            text.contains("load_tensors: loading model tensors")
                .then_some(Line::LoadStart)
        })?;
    Some(Parsed { time: None, line })
}

/// The `key=value` pairs of a slog text line, values unquoted.
fn attrs(text: &str) -> Vec<(&str, Cow<'_, str>)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else {
            return out;
        };
        let key = &rest[..eq];
        if key.is_empty() || key.contains(' ') {
            return out;
        }
        rest = &rest[eq + 1..];
        if let Some(quoted) = rest.strip_prefix('"') {
            // A Go-quoted string: `\"` and `\\` are the escapes that matter here.
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, 't')) => value.push('\t'),
                        Some((_, e)) => value.push(e),
                        None => break,
                    },
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let Some(end) = end else {
                // An unterminated quote (a cut line): what there is.
                out.push((key, Cow::Owned(value)));
                return out;
            };
            out.push((key, Cow::Owned(value)));
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push((key, Cow::Borrowed(&rest[..end])));
            rest = &rest[end..];
        }
    }
}

/// `13.8 GiB`, `512.0 MiB`, `3.0 KiB`, `0 B` (`format.HumanBytes2`) as bytes.
fn human_bytes(v: &str) -> Option<u64> {
    let (number, unit) = v.trim().split_once(' ')?;
    number_unit_bytes(number, unit)
}

/// A `format.HumanBytes2` figure given as its number and its unit.
fn number_unit_bytes(number: &str, unit: &str) -> Option<u64> {
    let n: f64 = number.parse().ok()?;
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    bytes_within(n * scale)
}

/// A Go slice of `format.HumanBytes2` figures, `[22.0 GiB 22.0 GiB]`, summed; `None` when any
/// of them is not one.
fn human_bytes_list(v: &str) -> Option<u64> {
    let inner = v.trim().strip_prefix('[')?.strip_suffix(']')?;
    let words: Vec<&str> = inner.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return None;
    }
    words.chunks(2).try_fold(0u64, |sum, pair| {
        Some(sum.saturating_add(number_unit_bytes(pair[0], pair[1])?))
    })
}

/// The largest size a line may state: 1 PiB. Past it a figure is not a machine's memory but a
/// broken or hostile line, and the line is left alone (so no sum of them can overflow).
pub const MAX_LOG_BYTES: u64 = 1 << 50;

fn bytes_within(b: f64) -> Option<u64> {
    (b.is_finite() && b >= 0.0 && b <= MAX_LOG_BYTES as f64).then(|| b.round() as u64)
}

/// The `--port N` of a command line (words separated by spaces).
pub fn port_of(cmd: &str) -> Option<u16> {
    let mut words = cmd.split_whitespace();
    while let Some(w) = words.next() {
        if w == "--port" {
            return words.next()?.parse().ok();
        }
        if let Some(p) = w.strip_prefix("--port=") {
            return p.parse().ok();
        }
    }
    None
}

/// `<component>: <backend> <kind> buffer size = <N.NN> MiB`.
fn buffer(text: &str) -> Option<Line> {
    let (head, tail) = text.split_once(" buffer size")?;
    let mib: f64 = tail
        .trim_start()
        .strip_prefix('=')?
        .trim()
        .strip_suffix("MiB")?
        .trim()
        .parse()
        .ok()?;
    let mut words = head.split_whitespace().rev();
    let last = words.next()?;
    let (kind, backend, kindless) = match BufferKind::from_llama_word(last) {
        Some(kind) => (kind, words.next()?, false),
        // Before llama.cpp named its buffers by what they hold (Ollama up to v0.5.1), the
        // weights' line had no kind: `llm_load_tensors: <backend> buffer size = …`, one per
        // buffer of the model (`llama/llama.cpp` l.9206 of v0.5.1).
        None => (BufferKind::Model, last, true),
    };
    let component = words.next()?.strip_suffix(':')?;
    if kindless && component != "llm_load_tensors" {
        return None;
    }
    let named = |s: &str| {
        !s.is_empty()
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let bytes = bytes_within(mib * 1024.0 * 1024.0)?;
    (named(component) && !backend.contains(':')).then(|| Line::Buffer {
        component: component.to_owned(),
        backend: backend.to_owned(),
        kind,
        bytes,
    })
}

/// `offloaded N/M layers to GPU`.
fn offloaded(text: &str) -> Option<Line> {
    let at = text.find("offloaded ")?;
    let rest = &text[at + "offloaded ".len()..];
    let (counts, after) = rest.split_once(' ')?;
    if !after.starts_with("layers to GPU") {
        return None;
    }
    let (n, m) = counts.split_once('/')?;
    Some(Line::Offloaded {
        layers: n.parse().ok()?,
        of: m.parse().ok()?,
    })
}

/// `using device MTL0 (Apple M5 Max) (unknown id) - 110100 MiB free`.
fn device_free(text: &str) -> Option<Line> {
    let at = text.find("using device ")?;
    let rest = &text[at + "using device ".len()..];
    let device = rest.split_whitespace().next()?;
    let (_, tail) = rest.rsplit_once(" - ")?;
    let mib: u64 = tail.trim().strip_suffix("MiB free")?.trim().parse().ok()?;
    Some(Line::DeviceFree {
        device: device.to_owned(),
        free_bytes: mib.checked_mul(1 << 20).filter(|&b| b <= MAX_LOG_BYTES)?,
    })
}

/// The `ollama_log.csv` row of `line`, read at `t_ms`, whose time is `time_utc`.
pub fn row(line: &Line, time_utc: String, t_ms: u64, port: Option<u16>) -> OllamaLogRow {
    let mut r = OllamaLogRow {
        time_utc,
        t_ms,
        port,
        ..OllamaLogRow::default()
    };
    let predicted = |r: &mut OllamaLogRow, p: &Prediction| {
        r.predicted_bytes = p.predicted_bytes;
        r.available_bytes = p.available_bytes;
        r.gpu_free_bytes = p.gpu_free_bytes;
        r.system_free_bytes = p.system_free_bytes;
    };
    match line {
        Line::RunnerStart { .. } => r.event = LogEvent::RunnerStart,
        Line::LoadStart => r.event = LogEvent::LoadStart,
        Line::RunnerReady { seconds } => {
            r.event = LogEvent::RunnerReady;
            r.detail = format!("{seconds:.2} s");
        }
        Line::Buffer {
            component,
            backend,
            kind,
            bytes,
        } => {
            r.event = LogEvent::Buffer;
            r.component = component.clone();
            r.backend = backend.clone();
            r.kind = Some(*kind);
            r.bytes = Some(*bytes);
        }
        Line::Offloaded { layers, of } => {
            r.event = LogEvent::Offloaded;
            r.detail = format!("{layers}/{of}");
        }
        Line::DeviceFree { device, free_bytes } => {
            r.event = LogEvent::DeviceFree;
            r.backend = device.clone();
            r.gpu_free_bytes = Some(*free_bytes);
        }
        Line::SystemMemory {
            total_bytes,
            free_bytes,
            free_swap_bytes,
        } => {
            r.event = LogEvent::SystemMemory;
            r.bytes = *total_bytes;
            r.system_free_bytes = *free_bytes;
            r.detail = free_swap_bytes.map_or_else(String::new, |b| format!("free_swap={b}"));
        }
        Line::GpuMemory {
            id,
            library,
            available_bytes,
            free_bytes,
        } => {
            r.event = LogEvent::GpuMemory;
            r.backend = id.clone();
            r.available_bytes = *available_bytes;
            r.gpu_free_bytes = *free_bytes;
            r.detail = library.clone();
        }
        Line::Fits(p) => {
            r.event = LogEvent::Fits;
            predicted(&mut r, p);
        }
        Line::Evict(p) => {
            r.event = LogEvent::Evict;
            predicted(&mut r, p);
        }
        Line::Estimate(e) => {
            r.event = LogEvent::Estimate;
            r.backend = e.library.clone();
            if let (Some(n), Some(m)) = (e.layers, e.of) {
                r.detail = format!("{n}/{m}");
            }
            r.predicted_bytes = e.full_bytes;
            r.bytes = e.partial_bytes;
            r.available_bytes = e.available_bytes;
        }
        Line::MmapOff { reason } => {
            r.event = LogEvent::MmapOff;
            r.detail = reason.clone();
        }
        Line::TooLarge {
            requested_bytes,
            available_bytes,
        } => {
            r.event = LogEvent::TooLarge;
            r.predicted_bytes = *requested_bytes;
            r.available_bytes = *available_bytes;
        }
        Line::RuntimeOom { model } => {
            r.event = LogEvent::RuntimeOom;
            r.detail = model.clone();
        }
    }
    r
}

/// What one runner allocated, by Ollama's log: the sum of llama.cpp's buffer lines after its
/// last `loading model tensors` line (see the module's note on how Ollama's own count
/// differs), or for a runner of Ollama's own engine, Ollama's sums of what it allocated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocated {
    /// Every buffer: `(backend, kind, bytes)`, in the order printed.
    pub buffers: Vec<(String, BufferKind, u64)>,
    /// The weights (`model` buffers), all backends.
    pub weights_bytes: u64,
    /// The part of them in `*_Mapped` buffers: the mapped file itself.
    pub mapped_weights_bytes: u64,
    /// The KV cache.
    pub kv_bytes: u64,
    /// Compute buffers.
    pub compute_bytes: u64,
    /// Output and recurrent-state buffers.
    pub other_bytes: u64,
    /// `offloaded N/M layers to GPU`, where printed.
    pub offloaded: Option<(u32, u32)>,
}

impl Allocated {
    /// Everything, summed.
    pub fn total_bytes(&self) -> u64 {
        self.weights_bytes
            .saturating_add(self.kv_bytes)
            .saturating_add(self.compute_bytes)
            .saturating_add(self.other_bytes)
    }
}

/// What Ollama decided for one runner's load, by the scheduler's lines around its start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// When the runner's start was read, `t_ms`.
    pub start_ms: u64,
    /// The scheduler's prediction, when other models were loaded (it predicts only then).
    pub prediction: Option<Prediction>,
    /// It predicted the model would not fit and evicted loaded models first.
    pub evicted: bool,
    /// Its estimate of the load, where it wrote one (v0.1.33 to v0.12.10).
    #[serde(default)]
    pub estimate: Option<Estimate>,
    /// Why it turned mmap off for this load, if it did.
    pub mmap_off: Option<String>,
    /// It found the model too large for the machine's memory and ended the load, as a line
    /// after the start said: from v0.13 the scheduler's (`server/sched.go` l.632 of v0.33);
    /// off macOS, v0.11.5 to v0.2x, the load's own (`llm/server.go`, l.989 of v0.12.11).
    #[serde(default)]
    pub too_large: bool,
    /// What it needed and what it had, where it said so (off macOS, up to v0.2x).
    #[serde(default)]
    pub too_large_by: Option<TooLargeBy>,
    /// The machine's memory and free memory as the scheduler saw them.
    pub system_total_bytes: Option<u64>,
    /// See `system_total_bytes`.
    pub system_free_bytes: Option<u64>,
    /// How long the load took, as Ollama said.
    pub ready_seconds: Option<String>,
}

impl Plan {
    /// What the scheduler saw of the machine, or its estimate, from `r`, unless a line nearer
    /// the start gave it already: before the start line up to v0.11.4, after it from v0.11.5.
    fn machine_or_estimate(&mut self, r: &OllamaLogRow) {
        match r.event {
            LogEvent::Estimate if self.estimate.is_none() => {
                let (layers, of) = r
                    .detail
                    .split_once('/')
                    .map_or((None, None), |(n, m)| (n.parse().ok(), m.parse().ok()));
                self.estimate = Some(Estimate {
                    library: r.backend.clone(),
                    layers,
                    of,
                    full_bytes: r.predicted_bytes,
                    partial_bytes: r.bytes,
                    available_bytes: r.available_bytes,
                });
            }
            LogEvent::SystemMemory if self.system_total_bytes.is_none() => {
                self.system_total_bytes = r.bytes;
                self.system_free_bytes = r.system_free_bytes;
            }
            _ => {}
        }
    }
}

/// How far from a runner's start line the scheduler's lines of its load are looked for: 30 s
/// either side. They are written within milliseconds of it, but a model's file is read and
/// checked before the start, and from Ollama v0.11.5 the load that follows the start (and
/// writes what the scheduler saw of the machine, and up to v0.12.10 its estimate) waits for
/// the runner to listen.
pub const PLAN_WINDOW_MS: u64 = 30_000;

/// The rows of the runner on `port` that started in `[from_ms, to_ms]`: from its start line (the
/// last one for that port in the window) to the next runner's start.
fn runner_rows(
    rows: &[OllamaLogRow],
    port: u16,
    from_ms: u64,
    to_ms: u64,
) -> Option<&[OllamaLogRow]> {
    let start = rows.iter().rposition(|r| {
        r.event == LogEvent::RunnerStart
            && r.port == Some(port)
            && r.t_ms >= from_ms
            && r.t_ms <= to_ms
    })?;
    let end = rows[start + 1..]
        .iter()
        .position(|r| r.event == LogEvent::RunnerStart)
        .map_or(rows.len(), |i| start + 1 + i);
    Some(&rows[start..end])
}

/// What the runner on `port` whose start was read in `[from_ms, to_ms]` allocated; `None`
/// without its start line or any buffer line.
pub fn allocated(rows: &[OllamaLogRow], port: u16, from_ms: u64, to_ms: u64) -> Option<Allocated> {
    let mine = runner_rows(rows, port, from_ms, to_ms)?;
    let mut last: Vec<(&OllamaLogRow, BufferKind, u64)> = Vec::new();
    let mut a = Allocated::default();
    for r in mine.iter().filter(|r| r.port == Some(port)) {
        match (r.event, r.kind, r.bytes) {
            // A new load: what came before was a probe or an earlier load.
            (LogEvent::LoadStart, _, _) => last.clear(),
            (LogEvent::Buffer, Some(kind), Some(bytes)) => last.push((r, kind, bytes)),
            (LogEvent::Offloaded, _, _) => {
                let (n, m) = r.detail.split_once('/').unwrap_or_default();
                a.offloaded = n.parse().ok().zip(m.parse().ok());
            }
            _ => {}
        }
    }
    // Ollama also sums what it expects of a llama.cpp load, in the same words as what its own
    // engine allocated (`llamaServer.Load`, `llm/server.go` l.670 of v0.17): where llama.cpp's
    // lines say what was allocated, those are the runner's, and Ollama's sums are left out.
    if last.iter().any(|(r, ..)| r.component != OLLAMA_ENGINE) {
        last.retain(|(r, ..)| r.component != OLLAMA_ENGINE);
    }
    if last.is_empty() {
        return None;
    }
    for (r, kind, bytes) in last {
        let backend = r.backend.as_str();
        match kind {
            BufferKind::Model => {
                a.weights_bytes = a.weights_bytes.saturating_add(bytes);
                if backend.ends_with("_Mapped") {
                    a.mapped_weights_bytes = a.mapped_weights_bytes.saturating_add(bytes);
                }
            }
            BufferKind::Kv => a.kv_bytes = a.kv_bytes.saturating_add(bytes),
            BufferKind::Compute => a.compute_bytes = a.compute_bytes.saturating_add(bytes),
            BufferKind::Output | BufferKind::Rs => {
                a.other_bytes = a.other_bytes.saturating_add(bytes)
            }
        }
        a.buffers.push((backend.to_owned(), kind, bytes));
    }
    Some(a)
}

/// What Ollama decided for the runner on `port` whose start was read in `[from_ms, to_ms]`:
/// the scheduler's lines in the [`PLAN_WINDOW_MS`] before its start line, after the previous
/// runner's start (its prediction, whether it turned mmap off, and up to v0.11.4 what it saw of
/// the machine and its estimate), and those after the start line until the runner answered or
/// another started, within [`PLAN_WINDOW_MS`] (from v0.11.5 what it saw of the machine, up to
/// v0.12.10 its estimate, from v0.13 that the model was too large: `server/sched.go` l.613 of
/// v0.33 logs the machine after `newServerFn` at l.577 has started the runner).
pub fn plan(rows: &[OllamaLogRow], port: u16, from_ms: u64, to_ms: u64) -> Option<Plan> {
    let mine = runner_rows(rows, port, from_ms, to_ms)?;
    let start = &mine[0];
    let at = rows.iter().position(|r| std::ptr::eq(r, start))?;
    let mut p = Plan {
        start_ms: start.t_ms,
        ..Plan::default()
    };
    // The lines of this load after its start, nearest first.
    for r in mine[1..]
        .iter()
        .take_while(|r| r.t_ms <= start.t_ms + PLAN_WINDOW_MS)
        .take_while(|r| !(r.event == LogEvent::RunnerReady && r.port == Some(port)))
    {
        match r.event {
            LogEvent::TooLarge => {
                p.too_large = true;
                if r.predicted_bytes.is_some() || r.available_bytes.is_some() {
                    p.too_large_by = Some(TooLargeBy {
                        requested_bytes: r.predicted_bytes,
                        available_bytes: r.available_bytes,
                    });
                }
            }
            _ => p.machine_or_estimate(r),
        }
    }
    for r in rows[..at]
        .iter()
        .rev()
        .take_while(|r| r.event != LogEvent::RunnerStart)
        .filter(|r| r.t_ms + PLAN_WINDOW_MS >= start.t_ms)
    {
        let prediction = || Prediction {
            predicted_bytes: r.predicted_bytes,
            available_bytes: r.available_bytes,
            gpu_free_bytes: r.gpu_free_bytes,
            system_free_bytes: r.system_free_bytes,
        };
        // Walking back: the line nearest the start wins.
        match r.event {
            LogEvent::Fits if p.prediction.is_none() => p.prediction = Some(prediction()),
            // An eviction is followed by a second try, which may fit: either way it evicted.
            LogEvent::Evict => {
                if p.prediction.is_none() {
                    p.prediction = Some(prediction());
                }
                p.evicted = true;
            }
            LogEvent::MmapOff if p.mmap_off.is_none() => p.mmap_off = Some(r.detail.clone()),
            _ => p.machine_or_estimate(r),
        }
    }
    p.ready_seconds = mine
        .iter()
        .find(|r| r.event == LogEvent::RunnerReady && r.port == Some(port))
        .map(|r| r.detail.clone());
    Some(p)
}

/// Which runner a line belongs to: llama.cpp's lines come from the runner Ollama started last
/// (Ollama loads one model at a time, `server/sched.go` `processPending`), whose port its
/// `starting llama-server` line gave; the scheduler's lines belong to none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Joiner {
    port: Option<u16>,
}

impl Joiner {
    /// The port `line` is joined to.
    pub fn port(&mut self, line: &Line) -> Option<u16> {
        match line {
            Line::RunnerStart { port } => {
                self.port = *port;
                *port
            }
            Line::RunnerReady { .. }
            | Line::LoadStart
            | Line::Buffer { .. }
            | Line::Offloaded { .. }
            | Line::DeviceFree { .. } => self.port,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn line(text: &str) -> Line {
        parse(text)
            .unwrap_or_else(|| panic!("not parsed: {text}"))
            .line
    }

    #[test]
    fn the_schedulers_lines() {
        // sched.go l.562, as slog's text handler writes it.
        let p = parse(
            "time=2026-08-21T18:48:22.123-07:00 level=INFO source=sched.go:562 \
             msg=\"llama-server model fits alongside existing models\" predicted=\"5.2 GiB\" \
             predicted_num_ctx=4096 num_batch=512 available=\"6.0 GiB\" gpu_free=\"6.0 GiB\" \
             system_free=\"13.8 GiB\" system_limited=false",
        )
        .unwrap();
        assert_eq!(
            p.time.unwrap().to_string(),
            "2026-08-22T01:48:22.123Z",
            "UTC, to the millisecond"
        );
        let gib = |x: f64| (x * (1u64 << 30) as f64).round() as u64;
        assert_eq!(
            p.line,
            Line::Fits(Prediction {
                predicted_bytes: Some(gib(5.2)),
                available_bytes: Some(gib(6.0)),
                gpu_free_bytes: Some(gib(6.0)),
                system_free_bytes: Some(gib(13.8)),
            })
        );
        assert!(matches!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO source=sched.go:551 msg=\"llama-server model predicted to exceed available memory, evicting\" predicted=\"9.1 GiB\" predicted_num_ctx=8192 num_batch=512 available=\"4.0 GiB\" gpu_free=\"4.0 GiB\" system_free=\"5.0 GiB\" system_limited=true"),
            Line::Evict(Prediction { predicted_bytes: Some(_), .. })
        ));
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO source=sched.go:613 msg=\"system memory\" total=\"32.0 GiB\" free=\"13.8 GiB\" free_swap=\"0 B\""),
            Line::SystemMemory {
                total_bytes: Some(32 << 30),
                free_bytes: Some(gib(13.8)),
                free_swap_bytes: Some(0),
            }
        );
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO source=sched.go:620 msg=\"gpu memory\" id=0 library=Metal available=\"21.3 GiB\" free=\"21.8 GiB\" minimum=\"512.0 MiB\" overhead=\"0 B\""),
            Line::GpuMemory {
                id: "0".into(),
                library: "Metal".into(),
                available_bytes: Some(gib(21.3)),
                free_bytes: Some(gib(21.8)),
            }
        );
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO source=sched.go:1147 msg=\"disabling mmap for llama-server load by default\" model=/Users/a/.ollama/models/blobs/sha256-ab reason=metal_partial_offload"),
            Line::MmapOff {
                reason: "metal_partial_offload".into()
            }
        );
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=WARN source=sched.go:1648 msg=\"runtime OOM detected; expiring loaded models to clear memory before next request\" model=qwen3:8b error=\"out of memory\""),
            Line::RuntimeOom {
                model: "qwen3:8b".into()
            }
        );
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO source=sched.go:632 msg=\"model is too large for system memory\" requireFull=true"),
            Line::TooLarge {
                requested_bytes: None,
                available_bytes: None
            }
        );
        // Off macOS, up to v0.2x: the runner's load says what it needed (`verifyLayout`, l.989
        // of v0.12.11), and up to v0.11.4 gave `available` as a plain count of bytes
        // (`NewLlamaServer`, l.170 of v0.11.4).
        assert_eq!(
            line("time=2026-03-02T10:00:00.000Z level=WARN source=server.go:1044 msg=\"model request too large for system\" requested=\"5.5 GiB\" available=\"3.0 GiB\" total=\"8.0 GiB\" free=\"3.0 GiB\" swap=\"0 B\""),
            Line::TooLarge {
                requested_bytes: Some(5905580032),
                available_bytes: Some(3 << 30)
            }
        );
        assert_eq!(
            line("time=2025-01-02T10:00:00.000Z level=WARN source=server.go:170 msg=\"model request too large for system\" requested=\"5.5 GiB\" available=3221225472 total=\"8.0 GiB\" free=\"3.0 GiB\" swap=\"0 B\""),
            Line::TooLarge {
                requested_bytes: Some(5905580032),
                available_bytes: Some(3221225472)
            }
        );
    }

    #[test]
    fn the_runners_start_and_its_port() {
        // llama_server.go l.433: the command line, quoted; its --port from l.371.
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO source=llama_server.go:433 msg=\"starting llama-server\" cmd=\"/Applications/Ollama.app/Contents/Resources/llama-server --model /Users/a/.ollama/models/blobs/sha256-ab --port 53211 --host 127.0.0.1 --no-webui\""),
            Line::RunnerStart { port: Some(53211) }
        );
        assert_eq!(
            line("time=2026-08-21T18:48:23.456-07:00 level=INFO source=llama_server.go:1362 msg=\"llama-server started in 1.33 seconds\""),
            Line::RunnerReady { seconds: 1.33 }
        );
        // Before v0.30.
        assert_eq!(
            line("time=2025-06-01T10:00:00.000+02:00 level=INFO source=server.go:405 msg=\"starting runner\" cmd=\"/usr/local/bin/ollama runner --model /m/blobs/sha256-cd --port 41113\""),
            Line::RunnerStart { port: Some(41113) }
        );
    }

    /// The runner's start line of each generation, from real logs: Ollama 0.4 on a Mac (its
    /// runner unpacked to a temporary directory), 0.5 on Linux, 0.13's GPU discovery runner,
    /// 0.17 from Homebrew, and 0.33's `llama-server` in a container.
    #[test]
    fn every_generations_runner_start_gives_its_port() {
        macro_rules! log {
            ($name:literal) => {
                include_str!(concat!("../tests/fixtures/", $name))
            };
        }
        let logs = [
            (
                log!("macos-v0.4.0-tmp-runners-metal-ollama_llama_server.log"),
                64377,
            ),
            (
                log!("linux-v0.5.x-ollama_llama_server-runner-cuda_v12_avx.log"),
                41813,
            ),
            (log!("macos-v0.13.0-discovery-runner-no-model.log"), 54434),
            (
                log!("macos-homebrew-v0.17.0-cellar-ollama-runner-short.log"),
                54686,
            ),
            (log!("linux-docker-v0.33.2-llama-server-mmproj.log"), 44067),
        ];
        for (log, port) in logs {
            let starts: Vec<_> = log
                .lines()
                .filter_map(parse)
                .filter(|p| matches!(p.line, Line::RunnerStart { .. }))
                .collect();
            assert_eq!(starts.len(), 1, "{log}");
            assert_eq!(starts[0].line, Line::RunnerStart { port: Some(port) });
            assert!(starts[0].time.is_some(), "{log}");
        }
    }

    /// A weights buffer of `mib` MiB, as parsed.
    fn weights_buffer(component: &str, backend: &str, mib: f64) -> Line {
        Line::Buffer {
            component: component.into(),
            backend: backend.into(),
            kind: BufferKind::Model,
            bytes: (mib * MIB as f64).round() as u64,
        }
    }

    /// llama.cpp as Ollama up to v0.5.1 shipped it printed the weights' buffers without a kind
    /// (`"%s: %10s buffer size = %8.2f MiB\n"` from `llm_load_tensors`, `llama/llama.cpp`
    /// l.9206 of v0.5.1) and its other buffers with one, as now (l.3817, l.20103 and l.20162).
    #[test]
    fn the_weights_line_of_llama_cpp_before_its_buffers_had_kinds() {
        let weights = |backend: &str, mib: f64| {
            line(&format!(
                "llm_load_tensors: {backend:>10} buffer size = {mib:>8.2} MiB"
            ))
        };
        assert_eq!(
            weights("Metal", 4155.99),
            weights_buffer("llm_load_tensors", "Metal", 4155.99)
        );
        assert!(matches!(
            weights("CPU", 70.31),
            Line::Buffer { kind: BufferKind::Model, ref backend, .. } if backend == "CPU"
        ));
        // Only the weights' component printed such a line: any other is not taken for weights.
        assert_eq!(
            parse("llama_new_context_with_model:      Metal buffer size =    10.00 MiB"),
            None
        );
        assert!(matches!(
            line("llama_kv_cache_init:      Metal KV buffer size =   256.00 MiB"),
            Line::Buffer { kind: BufferKind::Kv, bytes, .. } if bytes == 256 * MIB
        ));
    }

    #[test]
    fn llama_cpps_lines_as_ollama_passes_them_through() {
        // The forms of llm/llama_server.go l.2707-2713 and l.2732-2734, and of the real
        // server in scripts/check-real-runner.
        assert_eq!(
            line("load_tensors:   CPU_Mapped model buffer size =   235.16 MiB"),
            weights_buffer("load_tensors", "CPU_Mapped", 235.16)
        );
        assert!(matches!(
            line("load_tensors: MTL0_Mapped model buffer size =  1918.35 MiB"),
            Line::Buffer { kind: BufferKind::Model, ref backend, .. } if backend == "MTL0_Mapped"
        ));
        assert!(matches!(
            line("llama_kv_cache:        CPU KV buffer size =    13.00 MiB"),
            Line::Buffer { kind: BufferKind::Kv, bytes, .. } if bytes == 13 * MIB
        ));
        assert!(matches!(
            line("llama_context:        CPU  output buffer size =     1.00 MiB"),
            Line::Buffer {
                kind: BufferKind::Output,
                ..
            }
        ));
        assert!(matches!(
            line("sched_reserve:      CUDA0 compute buffer size =   378.04 MiB"),
            Line::Buffer {
                kind: BufferKind::Compute,
                ..
            }
        ));
        assert_eq!(
            line("load_tensors: offloaded 29/29 layers to GPU"),
            Line::Offloaded { layers: 29, of: 29 }
        );
        assert_eq!(
            line("llama_model_load_from_file_impl: using device MTL0 (Apple M5 Max) (unknown id) - 110100 MiB free"),
            Line::DeviceFree {
                device: "MTL0".into(),
                free_bytes: 110_100 * MIB,
            }
        );
    }

    #[test]
    fn everything_else_is_left_alone() {
        for text in [
            "",
            "time=",
            "time=x msg=",
            "[GIN] 2026/08/21 - 18:48:22 | 200 |  1.2ms | 127.0.0.1 | GET \"/api/ps\"",
            "time=2026-08-21T18:48:22.123-07:00 level=INFO source=routes.go:1 msg=\"Listening on 127.0.0.1:11434\"",
            "buffer size = 12 MiB",
            "x: CPU weights buffer size = 12 MiB",
            "x: CPU model buffer size = lots MiB",
            "x: CPU model buffer size = -3 MiB",
            "x: CPU model buffer size = 1e300 MiB",
            "using device MTL0 (x) - 99999999999999 MiB free",
            "offloaded all layers to GPU",
            "using device MTL0 - many MiB free",
            "time=2026-08-21T18:48:22.123-07:00 msg=\"llama-server started in soon seconds\"",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
        // A line cut inside a quote still yields what it holds.
        assert_eq!(
            line("time=2026-08-21T18:48:22.123-07:00 level=INFO msg=\"system memory\" total=\"32.0 GiB"),
            Line::SystemMemory {
                total_bytes: Some(32 << 30),
                free_bytes: None,
                free_swap_bytes: None,
            }
        );
    }

    #[test]
    fn llama_cpps_lines_go_to_the_runner_started_last() {
        let mut j = Joiner::default();
        assert_eq!(j.port(&Line::Offloaded { layers: 1, of: 1 }), None);
        assert_eq!(j.port(&Line::RunnerStart { port: Some(7) }), Some(7));
        assert_eq!(j.port(&Line::Offloaded { layers: 1, of: 1 }), Some(7));
        assert_eq!(
            j.port(&Line::TooLarge {
                requested_bytes: None,
                available_bytes: None
            }),
            None,
            "the scheduler's lines are no runner's"
        );
        assert_eq!(j.port(&Line::RunnerStart { port: Some(8) }), Some(8));
        assert_eq!(j.port(&Line::RunnerReady { seconds: 1.0 }), Some(8));
    }

    /// The rows a follower would write for `text`, one line a millisecond.
    fn rows(text: &str) -> Vec<OllamaLogRow> {
        let mut j = Joiner::default();
        text.lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let p = parse(l)?;
                let port = j.port(&p.line);
                Some(row(&p.line, String::new(), i as u64, port))
            })
            .collect()
    }

    const LOAD: &str = "\
time=2026-08-21T18:48:20.001-07:00 level=INFO source=sched.go:551 msg=\"llama-server model predicted to exceed available memory, evicting\" predicted=\"9.1 GiB\" available=\"4.0 GiB\" gpu_free=\"4.0 GiB\" system_free=\"5.0 GiB\"
time=2026-08-21T18:48:21.000-07:00 level=INFO source=sched.go:562 msg=\"llama-server model fits alongside existing models\" predicted=\"5.2 GiB\" available=\"6.0 GiB\" gpu_free=\"6.0 GiB\" system_free=\"13.8 GiB\"
time=2026-08-21T18:48:21.001-07:00 level=INFO source=sched.go:1147 msg=\"disabling mmap for llama-server load by default\" model=/m reason=metal_partial_offload
time=2026-08-21T18:48:21.002-07:00 level=INFO source=llama_server.go:433 msg=\"starting llama-server\" cmd=\"/x/llama-server --model /m --port 7\"
time=2026-08-21T18:48:21.003-07:00 level=INFO source=sched.go:613 msg=\"system memory\" total=\"32.0 GiB\" free=\"13.8 GiB\" free_swap=\"0 B\"
load_tensors: offloaded 20/29 layers to GPU
load_tensors:          CPU model buffer size =   100.00 MiB
load_tensors:         MTL0 model buffer size =  3000.00 MiB
load_tensors: loading model tensors, this can take a while... (load_mode = none)
load_tensors:          CPU model buffer size =   100.00 MiB
load_tensors:         MTL0 model buffer size =  3000.00 MiB
llama_kv_cache:       MTL0 KV buffer size =   100.00 MiB
llama_kv_cache:       MTL0 KV buffer size =   412.00 MiB
sched_reserve:        MTL0 compute buffer size =   300.00 MiB
llama_context:         CPU  output buffer size =     1.00 MiB
time=2026-08-21T18:48:23.000-07:00 level=INFO source=llama_server.go:1362 msg=\"llama-server started in 2.00 seconds\"
time=2026-08-21T18:48:30.000-07:00 level=INFO source=llama_server.go:433 msg=\"starting llama-server\" cmd=\"/x/llama-server --model /n --port 8\"
load_tensors:   CPU_Mapped model buffer size =   235.16 MiB
";

    #[test]
    fn a_runners_allocations_are_its_buffer_lines_after_its_last_load_start() {
        let rows = rows(LOAD);
        let a = allocated(&rows, 7, 0, u64::MAX).unwrap();
        assert_eq!(a.weights_bytes, 3100 * MIB);
        assert_eq!(a.mapped_weights_bytes, 0);
        assert_eq!(
            a.kv_bytes,
            512 * MIB,
            "two KV caches (full and sliding-window attention), both allocated"
        );
        assert_eq!(a.compute_bytes, 300 * MIB);
        assert_eq!(a.other_bytes, MIB);
        assert_eq!(a.total_bytes(), 3913 * MIB);
        assert_eq!(a.offloaded, Some((20, 29)));
        // The next runner's lines are its own.
        let b = allocated(&rows, 8, 0, u64::MAX).unwrap();
        assert_eq!(b.mapped_weights_bytes, b.weights_bytes);
        assert_eq!(allocated(&rows, 9, 0, u64::MAX), None);
    }

    #[test]
    fn a_loads_plan_is_the_schedulers_lines_around_its_start() {
        let rows = rows(LOAD);
        let p = plan(&rows, 7, 0, u64::MAX).unwrap();
        assert!(p.evicted, "it evicted, then the second try fit");
        let gib = |x: f64| (x * (1u64 << 30) as f64).round() as u64;
        assert_eq!(p.prediction.unwrap().predicted_bytes, Some(gib(5.2)));
        assert_eq!(p.prediction.unwrap().available_bytes, Some(gib(6.0)));
        assert_eq!(p.mmap_off.as_deref(), Some("metal_partial_offload"));
        assert_eq!(p.system_total_bytes, Some(32 << 30));
        assert_eq!(p.ready_seconds.as_deref(), Some("2.00 s"));
        // The second runner's start has no scheduler line of its own before it.
        let q = plan(&rows, 8, 0, u64::MAX).unwrap();
        assert_eq!((q.prediction, q.evicted, q.mmap_off), (None, false, None));
    }

    /// A load as Ollama v0.5 logged it: the runner's start line of a real log (its
    /// `starting llama server`), then llama.cpp's lines in that version's formats (see
    /// [`the_weights_line_of_llama_cpp_before_its_buffers_had_kinds`]), no `loading model
    /// tensors` line (llama.cpp printed none then), and `llama runner started in`.
    #[test]
    fn a_load_as_ollama_0_5_logged_it() {
        let start = include_str!(
            "../tests/fixtures/linux-v0.5.x-ollama_llama_server-runner-cuda_v12_avx.log"
        )
        .lines()
        .next()
        .unwrap();
        let log = format!(
            "{start}\n\
llm_load_tensors: offloaded 41/41 layers to GPU
llm_load_tensors:        CPU buffer size =    70.31 MiB
llm_load_tensors:      CUDA0 buffer size =  4155.99 MiB
llama_kv_cache_init:      CUDA0 KV buffer size =  1280.00 MiB
llama_new_context_with_model:  CUDA_Host  output buffer size =     2.02 MiB
llama_new_context_with_model:      CUDA0 compute buffer size =   560.00 MiB
time=2025-01-21T16:45:55.000-06:00 level=INFO source=server.go:594 msg=\"llama runner started in 3.52 seconds\"
"
        );
        let rows = rows(&log);
        let a = allocated(&rows, 41813, 0, u64::MAX).expect("the runner's buffers");
        let mib = |x: f64| (x * MIB as f64).round() as u64;
        assert_eq!(a.weights_bytes, mib(70.31) + mib(4155.99));
        assert_eq!(a.mapped_weights_bytes, 0, "this llama.cpp did not say");
        assert_eq!(a.kv_bytes, 1280 * MIB);
        assert_eq!(a.compute_bytes, 560 * MIB);
        assert_eq!(a.other_bytes, mib(2.02));
        assert_eq!(a.offloaded, Some((41, 41)));
        let p = plan(&rows, 41813, 0, u64::MAX).unwrap();
        assert_eq!(p.ready_seconds.as_deref(), Some("3.52 s"));
    }

    #[test]
    fn a_real_servers_load_as_llama_cpp_printed_it() {
        // scripts/check-real-runner's mapped load of Gemma 3 270M (see the fixture's .source).
        let log = include_str!("../tests/fixtures/llama-server-11434-gemma3-270m-mapped.log");
        let rows = rows(log);
        let port = rows[0].port.expect("the start line's port");
        let a = allocated(&rows, port, 0, u64::MAX).unwrap();
        let mib = |x: f64| (x * MIB as f64).round() as u64;
        assert_eq!(a.mapped_weights_bytes, mib(235.16));
        assert_eq!(
            a.weights_bytes,
            mib(235.16) + mib(12.66),
            "with the repacked tensors"
        );
        assert_eq!(a.kv_bytes, mib(1.5) + mib(7.5), "both KV caches");
        assert_eq!(a.compute_bytes, mib(19.28));
        assert_eq!(a.other_bytes, MIB);
        // The server's own breakdown at exit agrees: "Host 263 = 235 + 9 + 19" (MiB).
        assert!(
            log.contains("Host               |                  263 =   235 +       9 +      19")
        );
        assert_eq!(
            (a.mapped_weights_bytes + a.kv_bytes + a.compute_bytes) / MIB,
            263
        );
    }

    const GIB: f64 = (1u64 << 30) as f64;

    fn gib(x: f64) -> Option<u64> {
        Some((x * GIB).round() as u64)
    }

    /// Ollama's `offload` line as users of v0.1.45 to v0.12 posted it (see the fixture's
    /// `.source`), and as v0.1.33 to v0.1.44 wrote it (`llm/memory.go` l.133-172 of v0.1.44).
    #[test]
    fn ollamas_estimate_of_a_load_in_each_generations_words() {
        let lines: Vec<Line> =
            include_str!("../tests/fixtures/ollama-offload-lines-v0.1.45-to-v0.12.txt")
                .lines()
                .filter_map(|l| parse(l).map(|p| p.line))
                .filter(|l| matches!(l, Line::Estimate(_)))
                .collect();
        let estimate = |library: &str, n, m, full, partial, available| {
            Line::Estimate(Estimate {
                library: library.into(),
                layers: Some(n),
                of: Some(m),
                full_bytes: gib(full),
                partial_bytes: gib(partial),
                available_bytes: gib(available),
            })
        };
        assert_eq!(
            lines,
            [
                estimate("metal", 28, 28, 9.2, 9.2, 96.0),
                estimate("metal", 33, 33, 6.3, 6.3, 16.0),
                // Four GPUs of 22.0 GiB: what they had, summed.
                estimate("cuda", 44, 81, 127.4, 87.1, 88.0),
                // Cut inside a later value: what comes before it is read.
                estimate("Metal", 10, 29, 5.1, 2.6, 2.7),
            ]
        );
        assert_eq!(
            line("time=2024-05-01T10:00:00.000+02:00 level=INFO source=memory.go:133 msg=\"offload to gpu\" layers.requested=-1 layers.real=33 memory.available=\"16.0 GiB\" memory.required.full=\"6.3 GiB\" memory.required.partial=\"6.3 GiB\" memory.required.kv=\"1.0 GiB\""),
            Line::Estimate(Estimate {
                library: "gpu".into(),
                layers: Some(33),
                of: None,
                full_bytes: gib(6.3),
                partial_bytes: gib(6.3),
                available_bytes: gib(16.0),
            })
        );
        // An estimate is the scheduler's: no runner's.
        assert_eq!(Joiner { port: Some(7) }.port(&lines[0]), None);
        // Through a row of the trace and back, as the report reads it.
        let rows = rows(include_str!(
            "../tests/fixtures/linux-2025-08-system-memory-offload-start.log"
        ));
        assert_eq!(rows[1].event, LogEvent::Estimate);
        assert_eq!(
            (rows[1].backend.as_str(), rows[1].detail.as_str()),
            ("cuda", "48/49")
        );
    }

    /// Up to v0.11.4 Ollama wrote what it saw of the machine and its estimate before the
    /// runner's start line (`llm/server.go` l.135, l.175 and l.438 of v0.11.4).
    #[test]
    fn up_to_v0_11_4_a_loads_estimate_comes_before_its_start() {
        let linux = rows(include_str!(
            "../tests/fixtures/linux-2025-08-system-memory-offload-start.log"
        ));
        let p = plan(&linux, 39041, 0, u64::MAX).expect("the runner's start");
        assert_eq!(
            p.estimate,
            Some(Estimate {
                library: "cuda".into(),
                layers: Some(48),
                of: Some(49),
                full_bytes: gib(11.0),
                partial_bytes: gib(8.5),
                available_bytes: gib(10.9),
            })
        );
        assert_eq!(
            (p.system_total_bytes, p.system_free_bytes),
            (gib(30.9), gib(25.4))
        );
        // An Intel Mac whose GPU Ollama could not use: an estimate for the CPU alone.
        let intel = rows(include_str!(
            "../tests/fixtures/macos-intel-2024-07-offload-to-cpu-then-start.log"
        ));
        let e = plan(&intel, 61564, 0, u64::MAX).unwrap().estimate.unwrap();
        assert_eq!(
            (e.library.as_str(), e.layers, e.of, e.full_bytes),
            ("cpu", Some(0), Some(33), gib(5.8))
        );
    }

    /// From v0.11.5 the load follows the runner's start: what the scheduler saw of the machine
    /// (and up to v0.12.10 its estimate) comes after the start line. Two real logs, v0.17 from
    /// Homebrew on a Mac and v0.33 in Docker; and v0.12's lines as a Mac's log had them (see
    /// the fixture's `.source`), after a start line of the same form.
    #[test]
    fn from_v0_11_5_what_the_scheduler_saw_comes_after_the_start() {
        for (log, total, free) in [
            (
                include_str!(
                    "../tests/fixtures/macos-homebrew-v0.17.0-cellar-ollama-runner-short.log"
                ),
                32.0,
                13.8,
            ),
            (
                include_str!("../tests/fixtures/linux-docker-v0.33.2-llama-server-mmproj.log"),
                6.7,
                6.1,
            ),
        ] {
            let rows = rows(log);
            let start = rows
                .iter()
                .find(|r| r.event == LogEvent::RunnerStart)
                .unwrap();
            let p = plan(&rows, start.port.unwrap(), 0, u64::MAX).unwrap();
            assert_eq!(
                (p.system_total_bytes, p.system_free_bytes),
                (gib(total), gib(free)),
                "{log}"
            );
        }
        let v0_12: Vec<&str> =
            include_str!("../tests/fixtures/ollama-offload-lines-v0.1.45-to-v0.12.txt")
                .lines()
                .skip(3)
                .collect();
        let start =
            include_str!("../tests/fixtures/macos-homebrew-v0.17.0-cellar-ollama-runner-short.log")
                .lines()
                .next()
                .unwrap();
        let loaded = rows(&format!("{start}\n{}\n", v0_12.join("\n")));
        let port = loaded[0].port.unwrap();
        let p = plan(&loaded, port, 0, u64::MAX).unwrap();
        let e = p.estimate.expect("the estimate after the start");
        assert_eq!(
            (e.layers, e.of, e.full_bytes),
            (Some(10), Some(29), gib(5.1))
        );
        assert_eq!(p.system_total_bytes, gib(16.0));
        // The runner's answer ends its load: a later load's lines are not this one's.
        let later = format!(
            "{start}\ntime=2026-02-25T18:14:36.000+08:00 level=INFO source=server.go:1310 msg=\"llama runner started in 1.74 seconds\"\n{}\n",
            v0_12.join("\n")
        );
        let p = plan(&rows(&later), port, 0, u64::MAX).unwrap();
        assert_eq!((p.estimate, p.system_total_bytes), (None, None));
        assert_eq!(p.ready_seconds.as_deref(), Some("1.74 s"));
        // From v0.13 a load that cannot fit even alone ends after the start, in v0.17's words
        // (`server/sched.go` l.510).
        let homebrew =
            include_str!("../tests/fixtures/macos-homebrew-v0.17.0-cellar-ollama-runner-short.log");
        let too_large = format!(
            "{homebrew}time=2026-02-25T18:14:35.100+08:00 level=INFO source=sched.go:510 msg=\"model is too large for system memory\" requireFull=false\n"
        );
        let p = plan(&rows(&too_large), port, 0, u64::MAX).unwrap();
        assert!(p.too_large);
        assert_eq!(p.too_large_by, None, "v0.13's line gives no figures");
        assert!(!plan(&rows(homebrew), port, 0, u64::MAX).unwrap().too_large);
        // Off macOS, v0.11.5 to v0.2x: the runner's load found the model too large after its
        // start, and said by how much (`verifyLayout`, l.989 of v0.12.11).
        let linux = format!(
            "{homebrew}time=2026-02-25T18:14:35.100+08:00 level=WARN source=server.go:1044 msg=\"model request too large for system\" requested=\"615.4 MiB\" available=\"415.9 MiB\" total=\"916.8 MiB\" free=\"415.9 MiB\" swap=\"0 B\"\n"
        );
        let p = plan(&rows(&linux), port, 0, u64::MAX).unwrap();
        assert!(p.too_large);
        let mib = |m: f64| Some((m * 1048576.0).round() as u64);
        assert_eq!(
            p.too_large_by,
            Some(TooLargeBy {
                requested_bytes: mib(615.4),
                available_bytes: mib(415.9)
            })
        );
        // Up to v0.11.4 the line came before any runner started, and its load never started
        // one: it is not the next runner's.
        let before = format!(
            "time=2026-02-25T18:14:30.000+08:00 level=WARN source=server.go:170 msg=\"model request too large for system\" requested=\"615.4 MiB\" available=436104396 total=\"916.8 MiB\" free=\"415.9 MiB\" swap=\"0 B\"\n{homebrew}"
        );
        let p = plan(&rows(&before), port, 0, u64::MAX).unwrap();
        assert_eq!((p.too_large, p.too_large_by), (false, None));
    }

    /// What the Ollama engine allocated, as Ollama sums it, after a runner's start (a Mac's
    /// v0.20 log, see the fixture's `.source`, after the start line of the v0.17 Homebrew log,
    /// of the same form); the engine's own layer line; and Ollama's sums beside llama.cpp's
    /// lines, where llama.cpp's are the allocations.
    #[test]
    fn what_the_ollama_engine_allocated_as_ollama_sums_it() {
        let start =
            include_str!("../tests/fixtures/macos-homebrew-v0.17.0-cellar-ollama-runner-short.log")
                .lines()
                .next()
                .unwrap();
        let memory = include_str!("../tests/fixtures/macos-v0.20-ollama-engine-load-memory.log");
        let offloaded = "time=2026-05-20T19:37:18.669-04:00 level=INFO source=ggml.go:494 msg=\"offloaded 27/27 layers to GPU\"";
        let engine = rows(&format!("{start}\n{memory}{offloaded}\n"));
        let port = engine[0].port.unwrap();
        let a = allocated(&engine, port, 0, u64::MAX).expect("Ollama's sums");
        let mib = |x: f64| (x * MIB as f64).round() as u64;
        assert_eq!(a.weights_bytes, gib(2.7).unwrap() + mib(315.0));
        assert_eq!(
            a.mapped_weights_bytes, 0,
            "the Ollama engine copies its weights"
        );
        assert_eq!(a.kv_bytes, mib(208.0));
        assert_eq!(a.compute_bytes, mib(748.3) + mib(3.0));
        // Ollama's own total (4.0 GiB), within the rounding of the figures to one decimal
        // (2.7 GiB is 2.65 to 2.75).
        assert!(
            (a.total_bytes() as f64 / GIB - 4.0).abs() <= 0.1,
            "{}",
            a.total_bytes()
        );
        assert_eq!(a.offloaded, Some((27, 27)));
        // The same sums at DEBUG are the tries before the last: left alone.
        let debug = memory.replace(
            "level=INFO source=device.go",
            "level=DEBUG source=device.go",
        );
        let rows_debug = rows(&format!("{start}\n{debug}"));
        assert_eq!(allocated(&rows_debug, port, 0, u64::MAX), None);
        // From v0.13 Ollama writes the same sums of what it expects before llama.cpp loads
        // (`llamaServer.Load`): llama.cpp's buffer lines are then what was allocated.
        let llama = format!(
            "{start}\n{memory}load_tensors: loading model tensors, this can take a while... (mmap = true)\n\
load_tensors: Metal_Mapped model buffer size =  1918.35 MiB\n\
llama_kv_cache:      Metal KV buffer size =   224.00 MiB\n"
        );
        let a = allocated(&rows(&llama), port, 0, u64::MAX).unwrap();
        assert_eq!(
            (
                a.weights_bytes,
                a.mapped_weights_bytes,
                a.kv_bytes,
                a.compute_bytes
            ),
            (mib(1918.35), mib(1918.35), mib(224.0), 0)
        );
        // The older engine's lines by buffer (v0.6 to v0.11.4) are left alone: they come again
        // at each image's graph.
        assert_eq!(
            parse("time=2025-07-18T14:50:57.066Z level=INFO source=ggml.go:365 msg=\"model weights\" buffer=CUDA0 size=\"11.5 GiB\""),
            None
        );
        assert_eq!(
            line("time=2025-07-18T14:50:57.066Z level=INFO source=ggml.go:362 msg=\"offloaded 41/41 layers to GPU\""),
            Line::Offloaded { layers: 41, of: 41 }
        );
    }
}
