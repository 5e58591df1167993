//! What the chart and the viewer draw, chosen once from a trace so that both show the same
//! lines under the same names and colours: the processes (the runners by peak, then the
//! rest summed), available memory with the source of its figure, and the system's series.

use memtide_model::events::ProcessReport;
use memtide_model::report::Report;
use memtide_model::runner::Role;
use memtide_model::timeline::{Series, Timeline};
use std::collections::BTreeMap;

/// At most this many processes get a line of their own; the rest are summed into one.
pub const MAX_PROCESS_LINES: usize = 8;

/// Strong colours for the processes with a line of their own (runners first). None of them is
/// used by a system series, a marker or a band.
pub const PROCESS_COLORS: [&str; MAX_PROCESS_LINES] = [
    "#1f77b4", "#2ca02c", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#393b79", "#ad494a",
];
/// Muted colours for helpers (serve, clients, the app) with a line of their own.
pub const HELPER_COLORS: [&str; 4] = ["#b5a58a", "#a3b1c2", "#c2a5b8", "#a9bfa5"];
/// The "N other processes" line.
pub const OTHERS_COLOR: &str = "#8a8a8a";
/// Available memory: the line a person reads first.
pub const AVAILABLE_COLOR: &str = "#111111";
/// Wired memory.
pub const WIRED_COLOR: &str = "#ff7f0e";
/// The compressor's memory.
pub const COMPRESSOR_COLOR: &str = "#9467bd";
/// Swap used.
pub const SWAP_COLOR: &str = "#c98e00";
/// The total RAM reference line.
pub const TOTAL_COLOR: &str = "#555555";
/// The GPU wired limit reference line.
pub const GPU_LIMIT_COLOR: &str = "#00897b";

pub use memtide_model::timeline::Measure;

/// What a chart or the viewer calls the per-process measure it draws, for a trace: model
/// memory says what it adds up, and a measure the trace cannot give says what is drawn
/// instead.
pub fn measure_label(tl: &Timeline, measure: Measure) -> &'static str {
    let has = |f: fn(&memtide_model::timeline::Sample) -> bool| {
        tl.processes.iter().any(|p| p.rows.iter().any(|r| f(&r)))
    };
    let footprint = has(|r| r.footprint_bytes.is_some());
    match measure {
        Measure::Rss => "RSS",
        _ if !footprint => "RSS: no footprint in this trace",
        Measure::Footprint => "footprint",
        Measure::ModelMemory if has(|r| r.weights_resident_bytes.is_some()) => {
            "model memory: footprint + mapped weights"
        }
        Measure::ModelMemory => "model memory: footprint, no mapped weights counted",
    }
}

/// One process, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessLine {
    /// Its index in the report's (and the timeline's) processes.
    pub index: usize,
    /// `llama3.2:3b (61864)`, `unknown model (62010)`, `ollama serve (91511)`.
    pub label: String,
    /// The PID.
    pub pid: u32,
    /// A model runner (drawn strong), or a helper (drawn muted).
    pub runner: bool,
    /// The metric drawn.
    pub series: Series,
    /// Its highest value in the window, bytes.
    pub peak: f64,
    /// `#rrggbb`.
    pub color: &'static str,
}

/// The processes of a window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Processes {
    /// The ones with a line of their own: runners by peak, then helpers by peak, at most
    /// [`MAX_PROCESS_LINES`].
    pub shown: Vec<ProcessLine>,
    /// The rest, in the same order (their colour is [`OTHERS_COLOR`]).
    pub rest: Vec<ProcessLine>,
    /// The rest summed at each sample time, when there is a rest.
    pub others: Option<Series>,
}

/// A process as a person names it: the model and PID for a runner, the role or name and PID
/// for the others.
pub fn process_label(p: &ProcessReport) -> String {
    match &p.role {
        Role::Runner { .. } => format!(
            "{} ({})",
            p.model.as_deref().unwrap_or("unknown model"),
            p.pid
        ),
        Role::Other => format!("{} ({})", p.name, p.pid),
        role => format!("{} ({})", role.label(), p.pid),
    }
}

/// `s` with every value outside `[from, to]` made a gap.
pub(crate) fn in_window(s: &Series, from: u64, to: u64) -> Series {
    Series {
        t_ms: s.t_ms.clone(),
        values: s
            .t_ms
            .iter()
            .zip(&s.values)
            .map(|(t, v)| if (from..=to).contains(t) { *v } else { None })
            .collect(),
    }
}

/// How many columns a process's line is cut to ([`crate::decimate`]: each column's lowest
/// and highest point, so no peak is lost): twice as fine as the viewer's rows at most
/// (`html::MAX_ROWS`, 40 000; a compile-time check there holds the two together), and far finer than any chart's
/// pixels, so that a week of samples is held as a few hundred thousand points however long
/// the trace.
pub const LINE_COLUMNS: usize = 80_000;

/// The processes alive in `[from, to]`, chosen and coloured: the runners by peak, then the
/// helpers by peak, the first [`MAX_PROCESS_LINES`] with a line each, the rest summed. Each
/// line is cut to [`LINE_COLUMNS`] within the window as it is made, so that one process's
/// full series is held at a time.
pub fn processes(tl: &Timeline, report: &Report, metric: Measure, from: u64, to: u64) -> Processes {
    let interval = tl.interval_ms();
    let mut all: Vec<ProcessLine> = Vec::new();
    for (index, (p, timeline)) in report.processes.iter().zip(&tl.processes).enumerate() {
        let full = timeline.series(metric, interval);
        let Some(peak) = full
            .points()
            .filter(|(t, _)| (from..=to).contains(t))
            .map(|(_, v)| v)
            .max_by(f64::total_cmp)
        else {
            continue;
        };
        let series = crate::decimate::series(&full, from, to, LINE_COLUMNS);
        drop(full);
        all.push(ProcessLine {
            index,
            label: process_label(p),
            pid: p.pid,
            runner: p.role.is_model_runner(),
            series,
            peak,
            color: OTHERS_COLOR,
        });
    }
    // Runners first, each group by peak (highest first), then by PID for a stable order.
    all.sort_by(|a, b| {
        b.runner
            .cmp(&a.runner)
            .then(b.peak.total_cmp(&a.peak))
            .then(a.pid.cmp(&b.pid))
    });
    let rest = all.split_off(all.len().min(MAX_PROCESS_LINES));
    // Colours by order of start, not of peak, so that a model keeps its colour whatever the
    // panel measures (model memory, footprint, RSS); the legend stays in order of peak.
    let first = |l: &ProcessLine| {
        (
            tl.processes[l.index].rows.first().map_or(0, |r| r.t_ms),
            l.pid,
        )
    };
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| first(&all[i]));
    let (mut runners, mut helpers) = (0, 0);
    for i in order {
        let line = &mut all[i];
        line.color = if line.runner {
            runners += 1;
            PROCESS_COLORS[runners - 1]
        } else {
            helpers += 1;
            HELPER_COLORS[(helpers - 1) % HELPER_COLORS.len()]
        };
    }
    // Summed at full resolution (the cut lines keep different times), then cut.
    let others = (!rest.is_empty()).then(|| {
        let mut sum: BTreeMap<u64, f64> = BTreeMap::new();
        for line in &rest {
            for (t, v) in tl.processes[line.index].series(metric, interval).points() {
                *sum.entry(t).or_default() += v;
            }
        }
        let full = Series::from_points(sum.into_iter().map(|(t, v)| (t, Some(v))), interval);
        crate::decimate::series(&full, from, to, LINE_COLUMNS)
    });
    Processes {
        shown: all,
        rest,
        others,
    }
}

pub use memtide_model::available::{available, Available, AvailableFrom};

/// Whether the trace has a free % series to put on a right axis.
pub fn has_free_percent(tl: &Timeline) -> bool {
    tl.system.iter().any(|r| r.free_percent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_never_repeat_between_kinds_of_line() {
        let mut all: Vec<&str> = PROCESS_COLORS.to_vec();
        all.extend(HELPER_COLORS);
        all.extend([
            OTHERS_COLOR,
            AVAILABLE_COLOR,
            WIRED_COLOR,
            COMPRESSOR_COLOR,
            SWAP_COLOR,
            TOTAL_COLOR,
            GPU_LIMIT_COLOR,
        ]);
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "{all:?}");
    }
}
