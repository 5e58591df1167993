//! What the chart and the viewer draw, chosen once from a trace so that both show the same
//! lines under the same names and colours: the processes (the runners by peak, then the
//! rest summed), available memory with the source of its figure, and the system's series.

use memtide_model::events::ProcessReport;
use memtide_model::report::Report;
use memtide_model::runner::Role;
use memtide_model::timeline::{Gapped, Series, Timeline};

/// At most this many processes get a line of their own; the rest are summed into one.
pub const MAX_PROCESS_LINES: usize = 8;

/// Strong colours for the processes with a line of their own (runners first). None of them is
/// used by a system series, a marker or a band.
pub const PROCESS_COLORS: [&str; MAX_PROCESS_LINES] = [
    "#1f77b4", "#2ca02c", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#393b79", "#ad494a",
];
/// Lighter shades of [`PROCESS_COLORS`], in the same order: for the ninth to sixteenth model of
/// compare's charts, which give every model runner a line of its own.
pub const PROCESS_COLORS_LIGHT: [&str; MAX_PROCESS_LINES] = [
    "#aec7e8", "#98df8a", "#f7b6d2", "#9edae5", "#c49c94", "#dbdb8d", "#6b6ecf", "#ff9896",
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

/// What [`processes`] makes of each process's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Cut to this many columns of the window ([`crate::decimate`]: each column's lowest and
    /// highest point, so no peak is lost), and the rest summed: what a chart of that many
    /// pixel columns draws, the same points it would keep from the whole series.
    Cut(usize),
    /// No line: only the choice, names, colours and peaks (the viewer reads each process's
    /// samples onto its own grid).
    Chosen,
}

/// The processes alive in `[from, to]`, chosen and coloured: the runners by peak, then the
/// helpers by peak, the first [`MAX_PROCESS_LINES`] with a line each, the rest summed. Each
/// line is cut as its samples are read ([`Lines`]), so that no process's full series is held.
pub fn processes(
    tl: &Timeline,
    report: &Report,
    metric: Measure,
    from: u64,
    to: u64,
    lines: Lines,
) -> Processes {
    let interval = tl.interval_ms();
    let mut all: Vec<ProcessLine> = Vec::new();
    for (index, (p, timeline)) in report.processes.iter().zip(&tl.processes).enumerate() {
        let Some(peak) = timeline
            .rows
            .iter()
            .filter(|r| (from..=to).contains(&r.t_ms))
            .map(|r| r.value(metric))
            .max()
        else {
            continue;
        };
        let series = match lines {
            Lines::Cut(columns) => {
                crate::decimate::series(timeline.points(metric, interval), from, to, columns)
            }
            Lines::Chosen => Series::default(),
        };
        all.push(ProcessLine {
            index,
            label: process_label(p),
            pid: p.pid,
            runner: p.role.is_model_runner(),
            series,
            peak: peak as f64,
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
    let others = match lines {
        Lines::Cut(columns) if !rest.is_empty() => {
            let mut sum: Vec<(u64, f64)> = Vec::new();
            for line in &rest {
                let samples = tl.processes[line.index]
                    .rows
                    .iter()
                    .map(|r| (r.t_ms, r.value(metric) as f64));
                sum = add_sorted(&sum, samples);
            }
            let points = Gapped::new(sum.into_iter().map(|(t, v)| (t, Some(v))), interval);
            Some(crate::decimate::series(points, from, to, columns))
        }
        _ => None,
    };
    Processes {
        shown: all,
        rest,
        others,
    }
}

/// `sum` (in time order, one value a time) with `more` (in time order) added: the values at
/// the same time summed. A merge of the two, so that a sum over processes takes one value
/// a time rather than a map's node.
fn add_sorted(sum: &[(u64, f64)], more: impl Iterator<Item = (u64, f64)>) -> Vec<(u64, f64)> {
    let mut out: Vec<(u64, f64)> = Vec::with_capacity(sum.len() + more.size_hint().0);
    let mut put = |(t, v): (u64, f64)| match out.last_mut() {
        Some(last) if last.0 == t => last.1 += v,
        _ => out.push((t, v)),
    };
    let mut a = sum.iter().copied().peekable();
    let mut b = more.peekable();
    while let Some(next) = match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x.0 > y.0 => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    } {
        put(next);
    }
    out.shrink_to_fit();
    out
}

pub use memtide_model::available::{available, source, Available, AvailableFrom};

/// Whether the trace has a free % series to put on a right axis.
pub fn has_free_percent(tl: &Timeline) -> bool {
    tl.system.iter().any(|r| r.free_percent.get().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_never_repeat_between_kinds_of_line() {
        let mut all: Vec<&str> = PROCESS_COLORS.to_vec();
        all.extend(PROCESS_COLORS_LIGHT);
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
