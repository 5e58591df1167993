//! What a person must be able to trust: memtide never destroys a trace, treats a closed pipe as
//! a normal end, checks its options before it works, and says in one message what to do.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{memtide, report_json};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn seed_files() -> [String; 4] {
    [
        "--ps-tsv".into(),
        fixture("seed/ollama-process-memtrace-20260514-092500.tsv")
            .display()
            .to_string(),
        "--system-log".into(),
        fixture("seed/system-memtrace-20260514-092500.log")
            .display()
            .to_string(),
    ]
}

/// `memtide import` of a shell-loop TSV and system log into `out`.
fn import(tsv: &Path, log: &Path, out: &Path) -> Output {
    memtide()
        .arg("import")
        .arg("--ps-tsv")
        .arg(tsv)
        .arg("--system-log")
        .arg(log)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn record_import_and_demo_refuse_a_directory_that_holds_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("trace");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("system.csv"), "the user's data").unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let runs: [Vec<String>; 3] = [
        vec![
            "record".into(),
            "--no-ollama".into(),
            "--duration".into(),
            "1s".into(),
            "--quiet".into(),
            "--pid".into(),
            std::process::id().to_string(),
        ],
        ["import".to_owned()]
            .into_iter()
            .chain(seed_files())
            .collect(),
        vec!["demo".into(), "--duration".into(), "6s".into()],
    ];
    for args in &runs {
        let o = memtide()
            .args(args)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.contains("already holds files") && e.contains("--force") && e.contains("trace"),
            "{args:?}: {e}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("system.csv")).unwrap(),
            "the user's data",
            "{args:?} touched the trace"
        );
    }
    // --force replaces memtide's files and leaves the rest.
    let o = memtide()
        .arg("import")
        .args(seed_files())
        .arg("--out")
        .arg(&dir)
        .arg("--force")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(dir.join("system.csv"))
        .unwrap()
        .starts_with("time_utc,"));
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn two_recorders_started_in_the_same_second_get_two_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let start = || {
        memtide()
            .args(["record", "--no-ollama", "--quiet", "--duration", "1s"])
            .args(["--pid", &std::process::id().to_string()])
            .current_dir(tmp.path())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (start(), start());
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let mut dirs: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for d in &dirs {
        assert!(d.starts_with("memtide-"), "{d}");
        let meta = std::fs::read_to_string(tmp.path().join(d).join("meta.json")).unwrap();
        assert!(meta.contains("\"end_utc\": \"20"), "{d}: {meta}");
    }
}

/// Runs memtide with its stdout a pipe whose reader goes away after one byte (as
/// `| head -c 1` does), or at once when `read` is 0. Returns the status and stderr.
fn with_reader_gone(args: &[&str], read: usize, cwd: &Path) -> (Option<i32>, String) {
    let mut child = memtide()
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    if read > 0 {
        let mut b = vec![0u8; read];
        let _ = out.read_exact(&mut b);
    }
    drop(out);
    let status = wait_exit(&mut child, Duration::from_secs(120));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

#[test]
fn a_reader_that_goes_away_is_a_normal_end_for_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = fixture("../../crates/model/tests/fixtures/trace-imported");
    let t = trace.to_str().unwrap();
    let chart = tmp.path().join("c.svg");
    let chart = chart.to_str().unwrap();
    let me = std::process::id().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["report", t],
        vec!["report", t, "--format", "json"],
        vec!["report", t, "--format", "markdown"],
        vec!["snapshot", "--no-ollama", "--pid", &me],
        vec!["snapshot", "--no-ollama", "--json", "--pid", &me],
        vec!["render", t, "-o", chart],
        vec!["record", "--no-ollama", "--duration", "1s", "--pid", &me],
        vec!["--help"],
        vec![
            "bench",
            "--processes",
            "1",
            "--ticks",
            "20",
            "--rounds",
            "1",
            "--seconds",
            "0.5",
        ],
        vec!["demo", "--duration", "6s"],
        vec!["completions", "bash"],
        vec!["man"],
    ];
    let seed = seed_files();
    let mut import: Vec<&str> = vec!["import"];
    import.extend(seed.iter().map(String::as_str));
    let out = tmp.path().join("imported");
    import.extend(["--out", out.to_str().unwrap(), "--force"]);
    for args in cases.iter().chain([&import]) {
        for read in [0, 1] {
            let (code, err) = with_reader_gone(args, read, tmp.path());
            assert_eq!(code, Some(0), "{args:?} (read {read}): {err}");
            assert!(
                !err.contains("Broken pipe") && !err.contains("panicked"),
                "{args:?} (read {read}): {err}"
            );
        }
    }
}

#[test]
fn options_are_checked_before_any_work() {
    let trace = fixture("../../crates/model/tests/fixtures/trace-imported");
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| memtide().args(args).output().unwrap();
    let t = trace.to_str().unwrap();
    for (w, h) in [("100000", "100000"), ("0", "500")] {
        let o = run(&["render", t, "--width", w, "--height", h]);
        assert_eq!(o.status.code(), Some(2), "clap's own error for {w}×{h}");
        let e = stderr(&o);
        assert!(
            e.contains("320–8192 pixels") && !e.contains("panicked"),
            "{e}"
        );
    }
    let jpg = tmp.path().join("chart.jpg");
    let o = run(&["render", t, "-o", jpg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not .jpg"), "{}", stderr(&o));
    assert!(!jpg.exists(), "nothing written");
    let png = tmp.path().join("y.png");
    let o = run(&["render", t, "-o", png.to_str().unwrap(), "--format", "svg"]);
    assert!(stderr(&o).contains("contradicts"), "{}", stderr(&o));
    assert!(!png.exists());
    for (args, says) in [
        (
            vec!["record", "--interval", "18446744073709551615s"],
            "at most 1h",
        ),
        (vec!["record", "--duration", "400days"], "at most"),
        (vec!["demo", "--duration", "2s"], "at least 6s"),
        (vec!["demo", "--duration", "12"], "try 250ms"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn each_error_is_said_once_and_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.tsv");
    let out = tmp.path().join("imported");
    let o = memtide()
        .args(["import", "--ps-tsv"])
        .arg(&missing)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    assert!(e.contains("missing.tsv"), "{e}");
    assert!(!out.exists(), "a failed import leaves no directory behind");

    // A trace whose meta.json cannot be read: one reason, the file named.
    let t = tmp.path().join("t");
    std::fs::create_dir(&t).unwrap();
    std::fs::write(t.join("meta.json"), "{").unwrap();
    let o = memtide().arg("report").arg(&t).output().unwrap();
    let e = stderr(&o);
    assert!(e.contains("meta.json") && e.lines().count() == 1, "{e}");
}

fn wait_exit(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "still running after {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_full_disk_names_the_file_that_failed_first_and_finishes_meta() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    // A file size limit stands in for a full disk: writes past 40 blocks of 512 bytes (the
    // unit of POSIX `ulimit -f`, dash's and bash's in POSIX mode, macOS's `sh`) fail with
    // EFBIG; memtide ignores SIGXFSZ, so the write returns the error instead of killing it.
    // Nothing is followed (the pattern is this test's own path, which no process has), so
    // system.csv is the file that reaches the limit first whatever runs on the machine.
    let nothing = tmp.path().join("no-process-has-this-path");
    let o = Command::new("sh")
        .args(["-c", r#"ulimit -f 40 && exec "$0" "$@""#])
        .arg(env!("CARGO_BIN_EXE_memtide"))
        .args([
            "record",
            "--no-ollama",
            "--quiet",
            "--interval",
            "10ms",
            "--match",
        ])
        .arg(&nothing)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("system.csv") && e.lines().count() == 1, "{e}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("meta.json")).unwrap()).unwrap();
    assert!(
        meta["end_utc"].is_string() && meta["samples"].as_u64() > Some(10),
        "{meta}"
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    // What was recorded reads.
    let r = memtide().arg("report").arg(&out).output().unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
}

#[test]
fn a_vanished_trace_directory_stops_the_recorder_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let mut rec = memtide()
        .args([
            "record",
            "--no-ollama",
            "--quiet",
            "--interval",
            "100ms",
            "--pid",
            &std::process::id().to_string(),
            "--out",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    std::fs::remove_dir_all(&out).unwrap();
    // Nothing else changes: the recorder notices the directory itself.
    let status = wait_exit(&mut rec, Duration::from_secs(3));
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    rec.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(
        err.contains("is gone") && err.contains(&out.display().to_string()),
        "{err}"
    );
}

/// The shell-loop fixture with hostile text in a command line and a model name: ESC
/// sequences, BEL, CR, a bidi override, and (in the /api/ps JSON) NUL.
fn hostile_trace(tmp: &Path) -> PathBuf {
    let tsv = std::fs::read_to_string(fixture("seed/ollama-process-memtrace-20260514-092500.tsv"))
        .unwrap()
        .replace(
            " serve",
            " serve \u{1b}[2J\u{1b}]0;owned\u{7}\r\u{202e}evil",
        );
    let log = std::fs::read_to_string(fixture("seed/system-memtrace-20260514-092500.log"))
        .unwrap()
        .replace(
            "\"name\": \"llama3.2:3b\"",
            "\"name\": \"llama\\u0000\\u001b[31m3.2:3b\"",
        );
    let (t, l) = (tmp.join("ps.tsv"), tmp.join("system.log"));
    std::fs::write(&t, tsv).unwrap();
    std::fs::write(&l, log).unwrap();
    let out = tmp.join("hostile");
    let o = import(&t, &l, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

/// No character a terminal or an XML parser would act on, other than line ends.
fn assert_contained(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(bad.is_empty(), "{what} emits {bad:?}");
}

#[test]
fn control_characters_in_names_are_shown_escaped_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = hostile_trace(tmp.path());
    for format in ["text", "markdown"] {
        let o = memtide()
            .arg("report")
            .arg(&trace)
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        assert_contained(format, &text);
        assert!(
            text.contains("\\u{1b}"),
            "{format}: the escape is shown\n{text}"
        );
    }
    for name in ["c.svg", "c.html"] {
        let out = tmp.path().join(name);
        let o = memtide()
            .arg("render")
            .arg(&trace)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        assert_contained(name, &text);
        assert!(
            text.contains("\\u{0}") || text.contains("\\u{1b}"),
            "{name}"
        );
    }
    // The JSON keeps what was recorded, escaped the JSON way.
    let o = memtide()
        .arg("report")
        .arg(&trace)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        !text.chars().any(|c| c < ' ' && c != '\n'),
        "json emits a raw C0 control character"
    );
    assert!(text.contains("\\u001b"), "{text}");
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    for (shell, says) in [
        ("bash", "_memtide()"),
        ("zsh", "#compdef memtide"),
        ("fish", "complete -c memtide"),
    ] {
        let o = memtide().args(["completions", shell]).output().unwrap();
        assert!(o.status.success());
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.contains(says) && text.contains("record"), "{shell}");
    }
    let o = memtide().arg("man").output().unwrap();
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.contains(".TH memtide 1") && page.contains("record"),
        "{page}"
    );
}

#[test]
fn a_runner_started_by_exec_long_after_its_fork_is_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let exe = env!("CARGO_BIN_EXE_memtide");
    // A launch wrapper, there before recording begins, that becomes a runner 3 s later.
    let mut wrapper = Command::new("sh")
        .arg("-c")
        .arg(format!(
            // The model name is put together by the shell, so that the wrapper's own command
            // line does not match what the recorder looks for.
            "m=wrapped; sleep 3; exec '{exe}' runner --model $m/late:1b --port 45123 --mib 8"
        ))
        .spawn()
        .unwrap();
    let pid = wrapper.id();
    std::thread::sleep(Duration::from_millis(300));
    let o = memtide()
        .args(["record", "--no-ollama", "--quiet", "--interval", "100ms"])
        .args(["--duration", "9s", "--match", "wrapped/late"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let _ = wrapper.kill();
    let _ = wrapper.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let ids = std::fs::read_to_string(out.join("identities.csv")).unwrap();
    let row = ids
        .lines()
        .find(|l| l.starts_with(&format!("{pid},")))
        .unwrap_or_else(|| panic!("the wrapper's PID {pid} was never followed:\n{ids}"));
    assert!(
        row.contains("runner") && row.contains("wrapped/late:1b"),
        "{row}"
    );
    // Followed within an exec check's interval (5 s) of the exec, at about 2.7 s into the
    // recording.
    let first = std::fs::read_to_string(out.join("processes.csv"))
        .unwrap()
        .lines()
        .find(|l| l.split(',').nth(2) == Some(&pid.to_string()))
        .map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap())
        .expect("samples of the runner");
    assert!(first <= 2_700 + 5_000 + 300, "first sampled at {first} ms");
}

fn copy_trace(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn warnings(r: &serde_json::Value) -> Vec<String> {
    r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn readers_drop_impossible_rows_and_say_which() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fixture("../../crates/model/tests/fixtures/trace-imported");
    let count = |dir: &Path| -> usize { report_json(dir)["processes"].as_array().unwrap().len() };
    let whole = count(&base);

    // A torn last line that still parses (`…,6419` for `…,64190`).
    let torn = tmp.path().join("torn");
    copy_trace(&base, &torn);
    let p = torn.join("processes.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, &text[..text.len() - 4]).unwrap();
    let r = report_json(&torn);
    let w = warnings(&r);
    assert!(
        w.iter()
            .any(|w| w.contains("processes.csv: 1 row skipped (line 101: incomplete")),
        "{w:?}"
    );
    assert_eq!(count(&torn), whole);

    // One stray quote costs its own row, not the ones after it.
    let quote = tmp.path().join("quote");
    copy_trace(&base, &quote);
    let p = quote.join("processes.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines[10] = lines[10].replacen(",", ",\"", 3);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let w = warnings(&report_json(&quote));
    assert!(
        w.iter()
            .any(|w| w.contains("processes.csv: 1 row skipped (line 11:")),
        "{w:?}"
    );

    // A t_ms jump of 10^15, and time going back: skipped, and the chart keeps its span.
    let jump = tmp.path().join("jump");
    copy_trace(&base, &jump);
    let p = jump.join("system.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines[4] = lines[4].replacen(",15000,", ",1000000000000000,", 1);
    lines[6] = lines[6].replacen(",25000,", ",1000,", 1);
    let t6 = lines[6].split(',').next().unwrap().to_owned();
    lines[6] = lines[6].replacen(&t6, "2026-05-14T09:25:01.000Z", 1);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let r = report_json(&jump);
    let w = warnings(&r);
    assert!(
        w.iter()
            .any(|w| w.contains("line 5: t_ms 1000000000000000")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.contains("time goes back")), "{w:?}");
    assert_eq!(r["trace"]["samples"], 7);
    let svg = tmp.path().join("j.svg");
    let o = memtide()
        .arg("render")
        .arg(&jump)
        .arg("-o")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(&svg).unwrap().len() < 2_000_000);
}

#[test]
fn import_checks_values_against_what_a_machine_can_have() {
    let tmp = tempfile::tempdir().unwrap();
    let [_, tsv, _, log] = seed_files();
    let mut tsv = std::fs::read_to_string(tsv).unwrap();
    let row = tsv.lines().nth(1).unwrap().to_owned();
    let f: Vec<&str> = row.split('\t').collect();
    let bad_rss = [f[0], f[1], f[2], f[3], "18014398509481984", f[5], f[6]].join("\t");
    let bad_pid = [f[0], "4294967295", f[2], f[3], f[4], f[5], f[6]].join("\t");
    tsv.push_str(&format!("{bad_rss}\n{bad_pid}\n"));
    let mut log = std::fs::read_to_string(log).unwrap();
    log = log.replacen("free percentage: 87%", "free percentage: 200%", 1);
    log.push_str("===== 0000-01-01T00:00:00Z =====\nSystem-wide memory free percentage: 50%\n");
    let (t, l) = (tmp.path().join("p.tsv"), tmp.path().join("s.log"));
    std::fs::write(&t, tsv).unwrap();
    std::fs::write(&l, log).unwrap();
    let out = tmp.path().join("t");
    let o = import(&t, &l, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    for says in [
        "rss_kb 18014398509481984",
        "pid 4294967295 is more than any machine has",
        "no percentage from 0 to 100",
        "more than 7 days from the others",
    ] {
        assert!(e.contains(says), "`{says}` not in\n{e}");
    }
    let r = report_json(&out);
    assert!(r["trace"]["start_utc"]
        .as_str()
        .unwrap()
        .starts_with("2026-05-14"));
    assert!(r["trace"]["end_utc"]
        .as_str()
        .unwrap()
        .starts_with("2026-05-14"));
    let svg = tmp.path().join("c.svg");
    let o = memtide()
        .arg("render")
        .arg(&out)
        .arg("-o")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(o.status.success() && std::fs::metadata(&svg).unwrap().len() < 2_000_000);

    // Garbage is refused with the file named, and leaves no directory.
    let junk = tmp.path().join("junk.log");
    std::fs::write(&junk, "hello\nworld\n\u{0}\u{1}binary\n").unwrap();
    let out = tmp.path().join("junk");
    let o = memtide()
        .arg("import")
        .arg("--system-log")
        .arg(&junk)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("junk.log: no readable block"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn a_recording_that_saw_nothing_says_so_in_the_summary_and_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = memtide()
        .args([
            "record",
            "--duration",
            "3s",
            "--match",
            "no-such-process-anywhere",
        ])
        .args(["--ollama", &format!("http://127.0.0.1:{port}")])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8(o.stdout).unwrap();
    assert!(
        summary.contains("warning: no process matched the selection"),
        "{summary}"
    );
    assert!(
        summary.contains("warning: Ollama never answered"),
        "{summary}"
    );
    let w = warnings(&report_json(&out));
    assert!(
        w.iter()
            .any(|w| w
                .contains("No process was followed: nothing matched `no-such-process-anywhere`")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("Ollama never answered at http://127.0.0.1:")
                && w.contains("unreachable")),
        "{w:?}"
    );
}

#[test]
fn help_uses_words_a_user_knows() {
    for cmd in [
        "",
        "record",
        "snapshot",
        "report",
        "import",
        "render",
        "demo",
        "bench",
        "completions",
        "man",
    ] {
        let o = memtide()
            .args(cmd.split_whitespace())
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8(o.stdout).unwrap().to_lowercase();
        for word in ["seed", "tick", "floor", "budget", "generation"] {
            assert!(
                !help.contains(word),
                "`memtide {cmd} --help` says `{word}`:\n{help}"
            );
        }
    }
}

#[test]
fn a_closed_stdout_is_a_normal_end_too() {
    let trace = fixture("../../crates/model/tests/fixtures/trace-imported");
    for args in [
        format!("report '{}' --format json", trace.display()),
        format!("snapshot --no-ollama --pid {}", std::process::id()),
        "--version".to_owned(),
    ] {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "exec '{}' {args} >&-",
                env!("CARGO_BIN_EXE_memtide")
            ))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{args}: {}", stderr(&o));
    }
}

#[test]
fn a_runner_with_mapped_weights_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    // A 128 MiB "model file" of non-zero bytes (so that no page is shared with the zero page).
    let weights = tmp.path().join("model.gguf");
    std::fs::write(&weights, vec![7u8; 128 << 20]).unwrap();
    let mut runner = memtide()
        .args([
            "runner",
            "--model",
            "mapped/weights:1b",
            "--port",
            "45124",
            "--mib",
            "16",
        ])
        .arg("--map-file")
        .arg(&weights)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let out = tmp.path().join("t");
    let o = memtide()
        .args([
            "record",
            "--no-ollama",
            "--quiet",
            "--duration",
            "2s",
            "--interval",
            "100ms",
        ])
        .args(["--pid", &runner.id().to_string()])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let _ = runner.kill();
    let _ = runner.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    // The file-backed part of RSS is recorded: Linux writes it (RssFile); macOS has no such
    // figure and leaves the column empty, and there the mapped pages are what RSS holds beyond
    // the footprint.
    let rows = std::fs::read_to_string(out.join("processes.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let last: Vec<&str> = rows.lines().last().unwrap().split(',').collect();
    let value = |name: &str| last[col(name)].parse::<u64>().ok();
    // (Less a few MiB there: the footprint also counts page tables.)
    let (file_bytes, least) = if cfg!(target_os = "macos") {
        assert_eq!(value("rss_file_bytes"), None, "{last:?}");
        let rss = value("rss_bytes").unwrap();
        (rss - value("footprint_bytes").unwrap(), 120 << 20)
    } else {
        (value("rss_file_bytes").unwrap(), 128 << 20)
    };
    assert!(file_bytes >= least, "mapped pages {file_bytes}");
    // And explained, in the JSON and in one sentence.
    let r = report_json(&out);
    let e = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "mapped_files")
        .unwrap_or_else(|| panic!("no mapped_files event in {}", r["events"]));
    let (rss, fp) = (
        e["rss_bytes"].as_u64().unwrap(),
        e["footprint_bytes"].as_u64().unwrap(),
    );
    assert!(
        rss - fp >= 120 << 20 && rss - fp <= 140 << 20,
        "rss {rss} footprint {fp}"
    );
    // It was running before the recording: never "started" at the first sample.
    let start = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "runner_start")
        .unwrap();
    assert_eq!(start["before_recording"], true, "{start}");
    let started: &str = start["started_utc"].as_str().unwrap();
    assert!(
        started < r["trace"]["start_utc"].as_str().unwrap(),
        "{start}"
    );
    let o = memtide().arg("report").arg(&out).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("was already running when recording began (started 20")
            && !text.contains("for mapped/weights:1b started."),
        "{text}"
    );
    assert!(
        text.contains(
            "is pages of mapped files, the model's weights read with mmap, page cache \
                       the OS can drop under pressure and read again from the file"
        ) && text.contains("The footprint leaves them out."),
        "{text}"
    );
}

/// A runner whose `--model` is a file that it maps and partly reads: `record` counts the file's
/// pages resident in the runner's mapping into `weights_resident_bytes`. On Linux every count
/// equals the mapping's `Rss` in `/proc/PID/smaps` to the page (the runner stays as it is once
/// it has read); elsewhere the count is at least what was read.
#[test]
fn a_runners_mapped_model_file_is_counted_in_processes_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let blobs = tmp.path().join("models/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let blob = blobs.join(format!("sha256-{}", "5e".repeat(32)));
    std::fs::write(&blob, vec![9u8; 64 << 20]).unwrap();
    let mut runner = memtide()
        .args(["runner", "--model"])
        .arg(&blob)
        .args(["--port", "45126", "--mib", "8", "--map-read-mib", "40"])
        .arg("--map-file")
        .arg(&blob)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The runner says nothing; it has read its file once its RSS holds it (read as memtide
    // reads it, on every OS).
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = runner.id();
    let mut sampler =
        memtide_sampler::Sampler::new(memtide_sampler::ProcessSelector::Pids(vec![pid])).unwrap();
    while sampler
        .tick()
        .unwrap()
        .processes
        .first()
        .is_none_or(|p| p.rss_bytes < 48 << 20)
    {
        assert!(Instant::now() < deadline, "the runner never read its file");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = tmp.path().join("t");
    let o = memtide()
        .args(["record", "--no-ollama", "--quiet", "--duration", "2500ms"])
        .args(["--interval", "100ms", "--pid", &pid.to_string()])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok();
    let _ = runner.kill();
    let _ = runner.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = std::fs::read_to_string(out.join("processes.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "weights_resident_bytes")
        .unwrap();
    let counts: Vec<u64> = rows
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(col)?.parse().ok())
        .collect();
    // From the second sample on: the first names the runner, the count starts at the next.
    assert!(counts.len() >= 10, "{} counts in\n{rows}", counts.len());
    match smaps {
        Some(smaps) => {
            let rss = smaps_rss(&smaps, &blob.display().to_string());
            assert!((40 << 20..64 << 20).contains(&rss), "smaps Rss {rss}");
            for c in &counts {
                assert!(c.abs_diff(rss) <= 4096, "counted {c}, smaps Rss {rss}");
            }
        }
        None => assert!(counts.iter().all(|&c| c >= 40 << 20), "{counts:?}"),
    }
    // Model memory, the report's figure for the runner: its footprint plus those weights, at
    // the sample where that sum is highest.
    let fp = header.iter().position(|h| *h == "footprint_bytes").unwrap();
    let sums = rows.lines().skip(1).filter_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        Some(f.get(fp)?.parse::<u64>().ok()? + f.get(col)?.parse::<u64>().unwrap_or(0))
    });
    let expected = sums.max().unwrap();
    let r = report_json(&out);
    let model = &r["models"][0];
    assert_eq!(model["metric"], "model_memory", "{model}");
    assert_eq!(model["peak_bytes"].as_u64(), Some(expected), "{model}");
    assert!(
        model["peak_weights_bytes"].as_u64().unwrap() >= 40 << 20,
        "{model}"
    );
    let text = memtide().arg("report").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("PEAK MODEL MEMORY"), "{text}");
    assert!(
        text.contains("Model memory is the footprint plus"),
        "{text}"
    );
}

/// The `Rss` of the `/proc/PID/smaps` entries that map `path`, in bytes.
fn smaps_rss(smaps: &str, path: &str) -> u64 {
    let mut inside = false;
    let mut kib = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            inside = line.ends_with(path);
        } else if let (true, Some(v)) = (inside, line.strip_prefix("Rss:")) {
            kib += v
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .unwrap();
        }
    }
    kib * 1024
}

#[test]
fn a_runner_that_grows_after_its_load_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let mut recorder = memtide()
        .args([
            "record",
            "--no-ollama",
            "--quiet",
            "--duration",
            "9s",
            "--interval",
            "100ms",
        ])
        .args(["--match", "growing/kv-cache"])
        .arg("--out")
        .arg(&out)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // Loads 64 MiB in 0.5 s, idles, then its "KV cache" adds 512 MiB at 5 s.
    let mut runner = memtide()
        .args([
            "runner",
            "--model",
            "growing/kv-cache:1b",
            "--port",
            "45125",
        ])
        .args([
            "--mib",
            "64",
            "--ramp-ms",
            "500",
            "--grow-mib",
            "512",
            "--grow-after-ms",
            "5000",
        ])
        .spawn()
        .unwrap();
    let status = wait_exit(&mut recorder, Duration::from_secs(30));
    let _ = runner.kill();
    let _ = runner.wait();
    assert!(status.success());
    let r = report_json(&out);
    let g = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "runner_growth")
        .unwrap_or_else(|| panic!("no runner_growth in {}", r["events"]));
    let grew = g["to_bytes"].as_u64().unwrap() - g["from_bytes"].as_u64().unwrap();
    assert!(
        (500 << 20..=530 << 20).contains(&grew),
        "grew by {} MiB: {g}",
        grew >> 20
    );
    assert_eq!(g["runner"]["model"], "growing/kv-cache:1b");
    let o = memtide().arg("report").arg(&out).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("grew by") && text.contains("after its load"),
        "{text}"
    );
}

#[test]
fn a_redacted_report_can_be_pasted_into_a_public_issue() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home/bobby");
    let blob = home.join(format!(".ollama/models/blobs/sha256-{}", "c".repeat(64)));
    let mut runner = memtide()
        .args(["runner", "--model"])
        .arg(&blob)
        .args(["--port", "45126", "--mib", "8"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = home.join("traces/bobby-run");
    let o = memtide()
        .args(["record", "--no-ollama", "--quiet", "--duration", "1s"])
        .args(["--pid", &runner.id().to_string()])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let _ = runner.kill();
    let _ = runner.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    // The home and the name as other tools spell them: upper-cased, percent-encoded in a URL,
    // at the start of a host name.
    let ids = out.join("identities.csv");
    let home_s = home.to_str().unwrap();
    let text = std::fs::read_to_string(&ids).unwrap();
    let variants = format!(
        r#"""--note"",""Bobbys-MBP"",""file://{}%2Fx"",""{}/y"",""--port"""#,
        home_s.replace('/', "%2F"),
        home_s.to_uppercase()
    );
    assert!(text.contains(r#"""--port"""#), "{text}");
    std::fs::write(&ids, text.replace(r#"""--port"""#, &variants)).unwrap();
    let leaks = |what: &str, text: &str| {
        assert!(
            !text.to_lowercase().contains("bobby"),
            "{what} names the user: {text}"
        );
    };
    // Unredacted, every spelling is there to be taken out.
    let o = memtide()
        .arg("view")
        .arg(&out)
        .args(["--no-open", "-o"])
        .arg(tmp.path().join("plain.html"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = std::fs::read_to_string(tmp.path().join("plain.html")).unwrap();
    for spelling in ["Bobbys-MBP", "%2Fbobby%2Fx", "/BOBBY/y"] {
        assert!(
            plain.contains(spelling),
            "{spelling} is not in the trace's viewer"
        );
    }
    // Every output a person may paste or attach.
    let chart = tmp.path().join("c.svg");
    let page = tmp.path().join("c.html");
    let view = tmp.path().join("v.html");
    let compared = tmp.path().join("cmp.svg");
    for (what, args) in [
        ("render svg", vec!["render", "-o", chart.to_str().unwrap()]),
        ("render html", vec!["render", "-o", page.to_str().unwrap()]),
        (
            "view",
            vec!["view", "--no-open", "-o", view.to_str().unwrap()],
        ),
    ] {
        let o = memtide()
            .args(&args[..1])
            .arg(&out)
            .args(&args[1..])
            .arg("--redact")
            .env("HOME", &home)
            .env("USER", "bobby")
            .output()
            .unwrap();
        assert!(o.status.success(), "{what}: {}", stderr(&o));
    }
    for (what, file) in [("svg", &chart), ("html", &page), ("view", &view)] {
        leaks(what, &std::fs::read_to_string(file).unwrap());
    }
    for format in ["text", "json"] {
        let o = memtide()
            .arg("compare")
            .arg(&out)
            .arg(&out)
            .args([
                "--format",
                format,
                "-o",
                compared.to_str().unwrap(),
                "--force",
            ])
            .arg("--redact")
            .env("HOME", &home)
            .env("USER", "bobby")
            .output()
            .unwrap();
        assert!(o.status.success(), "compare {format}: {}", stderr(&o));
        leaks(
            &format!("compare {format}"),
            &String::from_utf8_lossy(&o.stdout),
        );
        leaks(
            "the compare chart",
            &std::fs::read_to_string(&compared).unwrap(),
        );
    }
    for format in ["text", "markdown", "json"] {
        let o = memtide()
            .arg("report")
            .arg(&out)
            .args(["--format", format, "--redact"])
            .env("HOME", &home)
            .env("USER", "bobby")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        leaks(format, &text);
        if format != "markdown" {
            assert!(text.contains("~/traces/user-run"), "{format}: {text}");
        }
        if format == "json" {
            assert!(
                text.contains("~/.ollama/models/blobs/sha256-cccc"),
                "{text}"
            );
        }
    }
}
