//! A trace kept in segments (`record --keep/--max-size`): what stays on disk, and that every
//! reader reads it, whole or in a window, also after the recorder was killed.

use memtide_model::timeline::{Timeline, Window};
use memtide_trace::segments;
use memtide_trace::{self as trace, Meta};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{memtide, report_json_with, KillOnDrop};

/// A shell that starts stand-in runners, stopped with them when dropped: when its test ends,
/// whether it passed or not.
struct Parent(KillOnDrop);

impl Parent {
    /// A shell running `script`.
    fn start(script: &str) -> Parent {
        Parent(KillOnDrop(
            Command::new("sh").arg("-c").arg(script).spawn().unwrap(),
        ))
    }

    fn id(&self) -> u32 {
        self.0 .0.id()
    }
}

impl Drop for Parent {
    /// Its children first: once it is gone, they would no longer be its. The shell itself is
    /// killed and reaped by its [`KillOnDrop`] after this.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-P", &self.id().to_string()])
            .status();
    }
}

/// A parent with three stand-in runners under it.
fn runners() -> Parent {
    let exe = env!("CARGO_BIN_EXE_memtide");
    Parent::start(&format!(
        "for i in 1 2 3; do '{exe}' runner --model seg/m$i --port 4510$i --mib 4 & done; wait"
    ))
}

/// The bytes the trace takes on disk, as `du` counts them: what `--max-size` bounds.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| segments::disk_bytes(&e.path()))
        .sum()
}

/// `record` of `parent`'s children every `interval` into the kept trace `out`, quiet.
fn kept_recorder(parent: &Parent, interval: &str, max: &str, segment: &str, out: &Path) -> Child {
    memtide()
        .args(["record", "--quiet", "--no-ollama", "--interval", interval])
        .args([
            "--max-size",
            max,
            "--segment-size",
            segment,
            "--children-of",
        ])
        .arg(parent.id().to_string())
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn meta(dir: &Path) -> Meta {
    serde_json::from_slice(&std::fs::read(dir.join(trace::META_FILE)).unwrap()).unwrap()
}

#[test]
fn a_kept_recording_holds_the_newest_rows_within_its_limits() {
    let parent = runners();
    std::thread::sleep(Duration::from_millis(500));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let o = memtide()
        .args(["record", "--quiet", "--no-ollama", "--interval", "50ms"])
        .args(["--duration", "25s", "--keep", "8s", "--max-size", "300kB"])
        .args(["--segment-size", "20kB", "--children-of"])
        .arg(parent.id().to_string())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    drop(parent);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let m = meta(&out);
    assert_eq!(m.format_version, trace::SEGMENTED_FORMAT_VERSION);
    let segs = m.segments.clone().unwrap();
    assert!(
        segs.closed.first().unwrap().number > 1,
        "the oldest segments were deleted: {:?}",
        segs.closed
    );
    let total = dir_bytes(&out);
    assert!(total <= 300_000, "{total} bytes on disk, over --max-size");
    // Every closed segment on disk is compressed once the recorder has finished.
    for c in &segs.closed {
        for base in trace::SEGMENTED_FILES {
            assert!(
                segments::segment_path(&out, base, c.number, true).exists(),
                "{base} of segment {} is not compressed",
                c.number
            );
        }
    }
    // What is kept is the newest: it ends with the recording, and reaches back at least the
    // 8 s asked for, but not to the start.
    let r = report_json_with(&out, &[]);
    let samples = r["trace"]["samples"].as_u64().unwrap();
    assert!(
        (160..=400).contains(&samples),
        "{samples} samples of 50 ms kept for --keep 8s"
    );
    let tl = Timeline::load(&out).unwrap();
    let (first, last) = tl.span().unwrap();
    assert!(last >= 24_000, "the newest sample is at {last} ms of 25 s");
    assert!(
        first >= 8_000 && last - first >= 8_000,
        "kept {first}–{last} ms"
    );
    // Each runner kept its identity and its rows.
    let runners: Vec<_> = tl
        .processes
        .iter()
        .filter(|p| p.identity.argv.iter().any(|a| a.starts_with("seg/m")))
        .collect();
    assert_eq!(runners.len(), 3);
    assert!(runners.iter().all(|p| p.rows.len() as u64 + 2 >= samples));

    // The last 3 s: about 60 samples, read from the newest segments only.
    let r = report_json_with(&out, &["--last", "3s"]);
    let n = r["trace"]["samples"].as_u64().unwrap();
    assert!(
        (50..=70).contains(&n),
        "{n} samples in the last 3 s at 50 ms"
    );
    let png = tmp.path().join("last.png");
    let o = memtide()
        .arg("render")
        .arg(&out)
        .args(["--last", "5s", "-o"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}

#[test]
fn a_window_opens_only_the_segments_that_overlap_it() {
    // Two closed segments and the live file; the first segment is garbage, but meta.json
    // says it ended before the window, so a windowed read never opens it.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/model/tests/fixtures/trace-imported");
    let mut m: Meta =
        serde_json::from_slice(&std::fs::read(fixture.join(trace::META_FILE)).unwrap()).unwrap();
    let whole = Timeline::load(&fixture).unwrap();
    let (a, b) = whole.span().unwrap();
    let mid = a + (b - a) / 2;
    // The fixture predates pressure_events.csv.
    for base in trace::SEGMENTED_FILES
        .iter()
        .filter(|b| fixture.join(b).exists())
    {
        let text = std::fs::read_to_string(fixture.join(base)).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap().to_owned();
        let t_col = header.split(',').position(|h| h == "t_ms").unwrap();
        let (mut late, mut live) = (header.clone() + "\n", header.clone() + "\n");
        for l in lines {
            let t: u64 = l.split(',').nth(t_col).unwrap().parse().unwrap();
            if t <= mid {
                late += l;
                late += "\n";
            } else {
                live += l;
                live += "\n";
            }
        }
        std::fs::write(segments::segment_path(d, base, 1, true), b"not gzip").unwrap();
        std::fs::write(
            segments::segment_path(d, base, 2, true),
            segments::gzip(late.as_bytes()).unwrap(),
        )
        .unwrap();
        std::fs::write(d.join(base), live).unwrap();
    }
    std::fs::copy(
        fixture.join(trace::IDENTITIES_FILE),
        d.join(trace::IDENTITIES_FILE),
    )
    .unwrap();
    m.format_version = trace::SEGMENTED_FORMAT_VERSION;
    m.segments = Some(trace::SegmentsMeta {
        closed: vec![
            trace::SegmentInfo {
                number: 1,
                first_t_ms: 0,
                last_t_ms: 0,
            },
            trace::SegmentInfo {
                number: 2,
                first_t_ms: a,
                last_t_ms: mid,
            },
        ],
        ..trace::SegmentsMeta::default()
    });
    std::fs::write(d.join(trace::META_FILE), serde_json::to_vec(&m).unwrap()).unwrap();

    let w = Window {
        from_ms: Some(a.max(1)),
        to_ms: None,
    };
    let tl = Timeline::load_window(d, w).unwrap();
    // Segment 2 and the live file together are the whole fixture.
    let n = |t: &Timeline| t.system.iter().filter(|r| w.contains(r.t_ms)).count();
    assert_eq!(tl.system.len(), n(&whole));
    assert_eq!(
        tl.processes.iter().map(|p| p.rows.len()).sum::<usize>(),
        whole
            .processes
            .iter()
            .map(|p| p.rows.iter().filter(|r| w.contains(r.t_ms)).count())
            .sum::<usize>()
    );
    // The whole trace opens the garbage segment, leaves it out, and says which file it is.
    let all = Timeline::load(d).unwrap();
    assert_eq!(all.system.len(), whole.system.len());
    assert!(
        all.warnings
            .iter()
            .any(|w| w.contains("system.000001.csv.gz") && w.contains("left out")),
        "{:?}",
        all.warnings
    );
    assert_eq!(Timeline::end_t_ms(d).unwrap(), Some(b));
}

#[test]
fn what_a_crash_leaves_mid_switch_or_mid_compression_reads_whole() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/model/tests/fixtures/trace-imported");
    let whole = Timeline::load(&fixture).unwrap();
    let rows = |t: &Timeline| {
        (
            t.system.len(),
            t.processes.iter().map(|p| p.rows.len()).sum::<usize>(),
            t.polls.len(),
        )
    };
    // Each state: which files of segment 1 exist (plain, compressed, a half-written .tmp),
    // and whether the live file was recreated yet.
    for (name, plain, gz, tmp_part, live) in [
        ("renamed, live not yet created", true, false, false, false),
        (
            "compressing: a partial .tmp beside the plain file",
            true,
            false,
            true,
            true,
        ),
        ("compressed, plain not yet removed", true, true, false, true),
        ("compressed", false, true, false, true),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for f in trace::FILES {
            if f != trace::META_FILE && !trace::SEGMENTED_FILES.contains(&f) {
                std::fs::copy(fixture.join(f), d.join(f)).unwrap();
            }
        }
        std::fs::copy(fixture.join(trace::META_FILE), d.join(trace::META_FILE)).unwrap();
        for base in trace::SEGMENTED_FILES
            .iter()
            .filter(|b| fixture.join(b).exists())
        {
            let text = std::fs::read(fixture.join(base)).unwrap();
            if plain {
                std::fs::write(segments::segment_path(d, base, 1, false), &text).unwrap();
            }
            let packed = segments::gzip(&text).unwrap();
            if gz {
                std::fs::write(segments::segment_path(d, base, 1, true), &packed).unwrap();
            }
            if tmp_part {
                let p = segments::segment_path(d, base, 1, true);
                let t =
                    p.with_file_name(format!("{}.tmp", p.file_name().unwrap().to_string_lossy()));
                std::fs::write(t, &packed[..packed.len() / 2]).unwrap();
            }
            if live {
                // A fresh live file: its header only.
                let header = String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap()
                    .to_owned();
                std::fs::write(d.join(base), header + "\n").unwrap();
            }
        }
        let tl = Timeline::load(d).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(rows(&tl), rows(&whole), "{name}");
        let o = memtide().arg("report").arg(d).output().unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn a_recorder_killed_while_switching_segments_leaves_a_trace_report_reads() {
    // Segments of 16 kB at 20 ms switch about every half second: killed at several moments,
    // some land in a switch or a compression.
    let parent = runners();
    std::thread::sleep(Duration::from_millis(500));
    let tmp = tempfile::tempdir().unwrap();
    for (k, after_ms) in [700u64, 1100, 1500, 1900, 2300].into_iter().enumerate() {
        let out = tmp.path().join(format!("t{k}"));
        let mut rec = kept_recorder(&parent, "20ms", "64kB", "16kB", &out);
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(after_ms));
        rec.kill().unwrap(); // SIGKILL
        rec.wait().unwrap();
        let tl = Timeline::load(&out).unwrap_or_else(|e| panic!("killed at {after_ms} ms: {e}"));
        let n = tl.system.len() as u128;
        assert!(
            n >= 10 && n <= t0.elapsed().as_millis() / 20 + 2,
            "killed at {after_ms} ms: {n} samples"
        );
        let o = memtide().arg("report").arg(&out).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    drop(parent);
}

/// A flight recorder in a crash loop (killed with SIGKILL, started again by its service
/// manager, a hundred times): what each crash left is adopted or removed, so the directory stays
/// within its limit, and the rows kept read in order.
#[test]
fn a_hundred_crashes_keep_a_kept_trace_within_its_limit() {
    let parent = runners();
    std::thread::sleep(Duration::from_millis(300));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let (limit, segment) = (256_000u64, 32_000u64);
    let mut written_before_last = 0;
    for k in 0..100u64 {
        let mut rec = kept_recorder(&parent, "10ms", "256KB", "32KB", &out);
        // Killed at moments spread over a segment's life: in a write, a switch, a compression.
        std::thread::sleep(Duration::from_millis(120 + (k * 37) % 300));
        if k == 99 {
            written_before_last = Timeline::load(&out).map_or(0, |t| t.system.len());
        }
        rec.kill().unwrap();
        rec.wait().unwrap();
    }
    drop(parent);
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no compression cut short is left: {names:?}"
    );
    let bytes = dir_bytes(&out);
    assert!(
        bytes <= limit + segment,
        "{bytes} bytes on disk against a limit of {limit} and a segment of {segment}, in {} files",
        names.len()
    );
    // Every segment on disk is one meta.json lists, and every one it lists is on disk.
    let m = meta(&out);
    let listed: Vec<u32> = m
        .segments
        .unwrap()
        .closed
        .iter()
        .map(|c| c.number)
        .collect();
    let mut on_disk: Vec<u32> = names
        .iter()
        .filter_map(|n| segments::parse_segment_name(trace::SYSTEM_FILE, n).map(|(k, _)| k))
        .collect();
    on_disk.sort_unstable();
    on_disk.dedup();
    assert_eq!(on_disk, listed, "{names:?}");
    // The rows kept read in time order, none twice, and the last run's are among them.
    let tl = Timeline::load(&out).unwrap();
    assert!(tl.system.windows(2).all(|w| w[0].t_ms < w[1].t_ms));
    assert!(
        tl.system.len() >= written_before_last.min(100),
        "{}",
        tl.system.len()
    );
    let o = memtide().arg("report").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_burst_follows_a_runner_start_and_ends_at_the_base_rate() {
    let exe = env!("CARGO_BIN_EXE_memtide");
    // A parent that starts a stand-in runner 2.5 s in, which stays.
    let parent = Parent::start(&format!(
        "sleep 2.5; '{exe}' runner --model burst/m1 --port 45201 --mib 4 & wait"
    ));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let o = memtide()
        .args(["record", "--quiet", "--no-ollama", "--interval", "500ms"])
        .args(["--burst", "100ms", "--burst-for", "2s", "--duration", "8s"])
        .arg("--children-of")
        .arg(parent.id().to_string())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    drop(parent);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = meta(&out);
    assert_eq!(
        (m.burst_interval_ms, m.burst_hold_ms),
        (Some(100), Some(2000))
    );
    let tl = Timeline::load(&out).unwrap();
    let runner = tl
        .processes
        .iter()
        .find(|p| p.identity.argv.iter().any(|a| a == "burst/m1"))
        .expect("the runner was recorded");
    let started = runner.rows.first().unwrap().t_ms;
    let t: Vec<u64> = tl.system.iter().map(|r| r.t_ms).collect();
    let steps: Vec<(u64, u64)> = t.windows(2).map(|w| (w[0], w[1] - w[0])).collect();
    // At rest before the runner: the base interval.
    assert!(
        steps
            .iter()
            .filter(|(at, _)| *at + 600 < started)
            .all(|(_, d)| *d >= 400),
        "{steps:?}"
    );
    // After it: about 2 s at 100 ms.
    let fast = steps
        .iter()
        .filter(|(at, d)| *at >= started && *d <= 150)
        .count();
    assert!((14..=24).contains(&fast), "{fast} fast steps: {steps:?}");
    // And back at rest at the end.
    assert!(
        steps.iter().rev().take(3).all(|(_, d)| *d >= 400),
        "{steps:?}"
    );
    // The report reads the mixed spacing without gaps: one runner line, no missed stretch.
    let r = report_json_with(&out, &[]);
    assert_eq!(r["trace"]["samples"].as_u64().unwrap() as usize, t.len());
    let series = tl.system_series(|p| p.available_bytes.get().map(|v| v as f64));
    assert!(
        series.values.iter().all(Option::is_some),
        "a gap in a trace with no missed sample"
    );
}

#[test]
fn a_kept_trace_given_again_is_continued_and_force_starts_afresh() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("flight");
    let me = std::process::id().to_string();
    let run = |extra: &[&str]| {
        let o = memtide()
            .args([
                "record",
                "--no-ollama",
                "--interval",
                "100ms",
                "--duration",
                "1500ms",
            ])
            .args(["--pid", &me, "--keep", "1h", "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    run(&[]);
    let first = Timeline::load(&out).unwrap();
    // The recorder is down a moment (a restart).
    std::thread::sleep(Duration::from_millis(800));
    let said = run(&[]);
    assert!(said.contains("continuing the kept trace"), "{said}");
    let both = Timeline::load(&out).unwrap();
    assert_eq!(both.meta.start_utc, first.meta.start_utc);
    assert!(both.system.len() >= first.system.len() + 10);
    assert_eq!(
        both.meta.samples,
        Some(both.system.len() as u64),
        "samples count both runs"
    );
    let t: Vec<u64> = both.system.iter().map(|r| r.t_ms).collect();
    assert!(t.windows(2).all(|w| w[0] < w[1]), "time goes on: {t:?}");
    // The pause between the runs is a gap, not a line drawn across it.
    let s = both.system_series(|p| p.available_bytes.get().map(|v| v as f64));
    assert!(s.values.iter().any(Option::is_none));
    // This process, followed in both runs, is one identity.
    let mine: Vec<_> = both
        .processes
        .iter()
        .filter(|p| p.identity.pid.to_string() == me)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].rows.len(), both.system.len());
    // --force replaces it.
    run(&["--force"]);
    let fresh = Timeline::load(&out).unwrap();
    assert_ne!(fresh.meta.start_utc, first.meta.start_utc);
    assert!(fresh.system.len() < both.system.len());
    assert!(std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().contains(".000")));
}
