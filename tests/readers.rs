//! What a damaged trace gives every reader: what can be read, with what could not named. A
//! part of a trace (a file cut by a full disk, a corrupt segment, a segment gone, a file that
//! is not a file) never refuses the whole trace, and never hangs or floods a reader.

use memtide_trace::{self as trace, segments};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::memtide;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trace-twelve-runners")
}

/// A copy of the twelve-runner trace in `tmp`.
fn copy(tmp: &Path) -> PathBuf {
    let out = tmp.join("t");
    std::fs::create_dir(&out).unwrap();
    for e in std::fs::read_dir(fixture()).unwrap().flatten() {
        std::fs::copy(e.path(), out.join(e.file_name())).unwrap();
    }
    out
}

/// The copy, with the first `n` samples of `system.csv` moved into a compressed closed
/// segment 1 that `meta.json` lists, as `record --max-size` leaves a trace.
fn segmented(tmp: &Path, n: usize) -> (PathBuf, String) {
    let dir = copy(tmp);
    let text = std::fs::read_to_string(dir.join(trace::SYSTEM_FILE)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let t = |row: &str| -> u64 { row.split(',').nth(1).unwrap().parse().unwrap() };
    let closed = format!("{header}\n{}\n", rows[..n].join("\n"));
    std::fs::write(
        segments::segment_path(&dir, trace::SYSTEM_FILE, 1, true),
        segments::gzip(closed.as_bytes()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join(trace::SYSTEM_FILE),
        format!("{header}\n{}\n", rows[n..].join("\n")),
    )
    .unwrap();
    let path = dir.join(trace::META_FILE);
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    meta["format_version"] = trace::SEGMENTED_FORMAT_VERSION.into();
    meta["segments"] = serde_json::json!({
        "segment_bytes": 1_000_000, "segment_ms": 3_600_000, "keep_ms": null,
        "max_size_bytes": null,
        "closed": [{"number": 1, "first_t_ms": t(rows[0]), "last_t_ms": t(rows[n - 1])}],
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    (dir, header.to_owned())
}

/// `memtide report --format json DIR`, killed if it takes more than 30 s (a reader that
/// hangs fails the test instead of hanging it).
fn report(dir: &Path) -> Output {
    let mut child = memtide()
        .args(["report", "--format", "json"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("report of {} still running after 30 s", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The samples the report counted, and its warnings; the report must have succeeded.
fn read(dir: &Path) -> (u64, Vec<String>) {
    let o = report(dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    (r["trace"]["samples"].as_u64().unwrap(), warnings)
}

#[test]
fn a_file_whose_only_row_was_cut_leaves_that_row_out_not_the_trace() {
    let whole = read(&fixture()).0;
    for (file, header) in [
        (trace::POLLS_FILE, None),
        (trace::MODELS_FILE, None),
        (
            trace::PRESSURE_FILE,
            Some("time_utc,t_ms,source,level,detail"),
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = copy(tmp.path());
        let path = dir.join(file);
        let header = header.map_or_else(
            || {
                let text = std::fs::read_to_string(&path).unwrap();
                text.lines().next().unwrap().to_owned()
            },
            str::to_owned,
        );
        // A full disk cut the file's one row in the middle.
        std::fs::write(&path, format!("{header}\n2026-12-01T11:56:1")).unwrap();
        let (samples, warnings) = read(&dir);
        assert_eq!(samples, whole, "{file}: every sample is still read");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(file) && w.contains("line 2: incomplete")),
            "{file}: {warnings:?}"
        );
    }
}

#[test]
fn a_corrupt_segment_is_named_and_the_rest_of_the_trace_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = segmented(tmp.path(), 30);
    assert_eq!(read(&dir).0, 70, "the segmented copy reads whole");
    // Corrupt after gzip's header, and from its first byte.
    let gz = segments::segment_path(&dir, trace::SYSTEM_FILE, 1, true);
    let good = std::fs::read(&gz).unwrap();
    for from in [10, 0] {
        let mut bytes = good.clone();
        bytes[from..].fill(0x5a);
        std::fs::write(&gz, bytes).unwrap();
        let (samples, warnings) = read(&dir);
        assert_eq!(samples, 40, "the live segment's samples");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("system.000001.csv.gz") && w.contains("left out")),
            "corrupt from byte {from}: {warnings:?}"
        );
    }
}

#[test]
fn a_listed_segment_that_is_gone_is_said_with_its_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = segmented(tmp.path(), 30);
    std::fs::remove_file(segments::segment_path(&dir, trace::SYSTEM_FILE, 1, true)).unwrap();
    let (samples, warnings) = read(&dir);
    assert_eq!(samples, 40);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("segment 1 (1 to ") && w.contains("not on disk")),
        "{warnings:?}"
    );
}

#[test]
fn a_line_of_megabytes_costs_a_bounded_read_and_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, header) = segmented(tmp.path(), 30);
    // 64 MiB of one line, in a few kilobytes of gzip.
    let mut bomb = format!("{header}\n").into_bytes();
    bomb.resize(bomb.len() + (64 << 20), b'7');
    std::fs::write(
        segments::segment_path(&dir, trace::SYSTEM_FILE, 1, true),
        segments::gzip(&bomb).unwrap(),
    )
    .unwrap();
    let (samples, warnings) = read(&dir);
    assert_eq!(samples, 40);
    assert!(
        warnings.iter().any(|w| w.contains("longer than 4 MiB")),
        "{warnings:?}"
    );
}

#[test]
fn a_fifo_in_a_trace_is_left_out_without_waiting_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy(tmp.path());
    let models = dir.join(trace::MODELS_FILE);
    std::fs::remove_file(&models).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(&models)
        .status()
        .unwrap()
        .success());
    let (samples, warnings) = read(&dir);
    assert_eq!(samples, 70);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("models.csv") && w.contains("not a regular file")),
        "{warnings:?}"
    );
}

/// The copy with the wall clock stepped: every row from `t_ms` `at` on has its `time_utc`
/// moved by `by_ms` (in every file), as a clock set by hand or a laptop asleep leaves it.
fn step_wall_clock(dir: &Path, steps: &[(u64, i64)]) {
    for file in [
        trace::SYSTEM_FILE,
        trace::PROCESSES_FILE,
        trace::POLLS_FILE,
        trace::MODELS_FILE,
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for line in lines {
            let (time, rest) = line.split_once(',').unwrap();
            let t_ms: u64 = rest.split(',').next().unwrap().parse().unwrap();
            let by: i64 = steps
                .iter()
                .filter(|(at, _)| t_ms >= *at)
                .map(|s| s.1)
                .sum();
            let moved =
                time.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_millis(by);
            out.push_str(&format!("{},{rest}\n", trace::utc_ms(moved.into())));
        }
        std::fs::write(&path, out).unwrap();
    }
}

#[test]
fn a_wall_clock_stepped_by_days_or_hours_hides_no_row() {
    const DAY: i64 = 86_400_000;
    const HOURS_13: i64 = 13 * 3_600_000;
    // What happened, the steps (from which t_ms, by how much), what the reader says.
    type Case<'a> = (&'a str, &'a [(u64, i64)], &'a str);
    let cases: [Case; 3] = [
        ("two nights asleep", &[(6_000, 2 * DAY)], "2 d 0 h ahead of"),
        ("set back two days", &[(6_000, -2 * DAY)], "2 d 0 h behind"),
        (
            "two steps of 13 h",
            &[(4_000, HOURS_13), (10_000, HOURS_13)],
            "13 h 0 min ahead of",
        ),
    ];
    for (what, steps, said) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = copy(tmp.path());
        step_wall_clock(&dir, steps);
        let (samples, warnings) = read(&dir);
        assert_eq!(samples, 70, "{what}: every row is read");
        assert!(
            warnings.iter().any(|w| w.contains(said)),
            "{what}: {warnings:?}"
        );
        // The newest rows are there to be asked for.
        let o = memtide()
            .args(["report", "--format", "json", "--last", "1s"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(r["trace"]["samples"].as_u64().unwrap() >= 5, "{what}");
    }
}
