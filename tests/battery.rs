//! A battery of broken inputs: 360 traces and shell-loop files, each the project's real fixture
//! with one mutation (truncated lines, wrong column counts, non-numeric and huge values, empty
//! and missing files, binary garbage, a byte order mark, CRLF line ends, reordered and
//! duplicated headers, time going back, NaN and infinity, …), through `report`, `render` (SVG
//! and HTML) and `import`, each with a time limit. No run may panic or hang, and every run that
//! fails must say which file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TRACE_FILES: [&str; 6] = [
    "meta.json",
    "system.csv",
    "processes.csv",
    "identities.csv",
    "ollama_polls.csv",
    "models.csv",
];

/// How long one run may take before it counts as a hang.
const LIMIT: Duration = Duration::from_secs(20);

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A small deterministic generator (xorshift64*), so that a failing case can be run again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The mutations, by name; each takes a file's bytes and returns the new bytes, or `None` to
/// delete the file.
const MUTATIONS: [&str; 20] = [
    "truncate",
    "drop a field",
    "add a field",
    "non-numeric",
    "huge number",
    "NaN and infinity",
    "empty",
    "missing",
    "binary garbage",
    "byte order mark",
    "CRLF",
    "reordered header",
    "duplicate header",
    "time backwards",
    "time jump",
    "duplicate row",
    "stray quote",
    "NUL bytes",
    "long line",
    "negative number",
];

fn mutate(kind: &str, bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let pick = |rng: &mut Rng, lines: &[String]| {
        if lines.len() > 1 {
            1 + rng.below(lines.len() - 1)
        } else {
            0
        }
    };
    let join = |lines: &[String]| (lines.join("\n") + "\n").into_bytes();
    let replace_field = |rng: &mut Rng, lines: &mut Vec<String>, with: &str| {
        let i = pick(rng, lines);
        if let Some(line) = lines.get_mut(i) {
            let mut f: Vec<&str> = line.split(',').collect();
            let k = rng.below(f.len());
            f[k] = with;
            *line = f.join(",");
        }
    };
    Some(match kind {
        "truncate" => bytes[..rng.below(bytes.len() + 1)].to_vec(),
        "drop a field" => {
            let i = pick(rng, &lines);
            if let Some(l) = lines.get_mut(i) {
                if let Some(c) = l.find(',') {
                    l.remove(c);
                }
            }
            join(&lines)
        }
        "add a field" => {
            let i = pick(rng, &lines);
            if let Some(l) = lines.get_mut(i) {
                l.push_str(",extra");
            }
            join(&lines)
        }
        "non-numeric" => {
            replace_field(rng, &mut lines, "abc");
            join(&lines)
        }
        "huge number" => {
            replace_field(rng, &mut lines, "99999999999999999999999999");
            join(&lines)
        }
        "NaN and infinity" => {
            replace_field(rng, &mut lines, "NaN");
            replace_field(rng, &mut lines, "inf");
            join(&lines)
        }
        "negative number" => {
            replace_field(rng, &mut lines, "-5");
            join(&lines)
        }
        "empty" => Vec::new(),
        "missing" => return None,
        "binary garbage" => (0..rng.below(4096) + 1).map(|_| rng.next() as u8).collect(),
        "byte order mark" => [b"\xef\xbb\xbf".as_slice(), bytes].concat(),
        "CRLF" => text.replace('\n', "\r\n").into_bytes(),
        "reordered header" => {
            if let Some(h) = lines.first_mut() {
                let mut f: Vec<&str> = h.split(',').collect();
                f.reverse();
                *h = f.join(",");
            }
            join(&lines)
        }
        "duplicate header" => {
            if let Some(h) = lines.first().cloned() {
                let i = pick(rng, &lines);
                lines.insert(i, h);
            }
            join(&lines)
        }
        "time backwards" => {
            if lines.len() > 3 {
                let (a, b) = (
                    1 + rng.below(lines.len() - 1),
                    1 + rng.below(lines.len() - 1),
                );
                lines.swap(a, b);
            }
            join(&lines)
        }
        "time jump" => {
            replace_field(rng, &mut lines, "1000000000000000");
            join(&lines)
        }
        "duplicate row" => {
            let i = pick(rng, &lines);
            if let Some(l) = lines.get(i).cloned() {
                lines.insert(i, l);
            }
            join(&lines)
        }
        "stray quote" => {
            let i = pick(rng, &lines);
            if let Some(l) = lines.get_mut(i) {
                let at = rng.below(l.len() + 1);
                let at = (0..=at).rev().find(|&k| l.is_char_boundary(k)).unwrap_or(0);
                l.insert(at, '"');
            }
            join(&lines)
        }
        "NUL bytes" => {
            let mut b = bytes.to_vec();
            for _ in 0..4 {
                let at = rng.below(b.len() + 1);
                b.insert(at, 0);
            }
            b
        }
        "long line" => {
            let i = pick(rng, &lines);
            if let Some(l) = lines.get_mut(i) {
                l.push_str(&"9".repeat(100_000));
            }
            join(&lines)
        }
        other => unreachable!("{other}"),
    })
}

/// Runs memtide with a time limit; returns the exit code and stderr.
fn run(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memtide"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hang: memtide {args:?} ran over {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code(), err)
}

/// A run may succeed, or fail with one clear message naming `names` (a file or directory it
/// was given); it may never panic, be killed by a signal, or print a Rust backtrace. Returns
/// whether it succeeded.
fn check(case: &str, args: &[&std::ffi::OsStr], names: &[&str]) -> bool {
    let (code, err) = run(args);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{case}: memtide {args:?} panicked:\n{err}"
    );
    match code {
        Some(0) => true,
        Some(1) => {
            let last = err.lines().last().unwrap_or("");
            assert!(
                names.iter().any(|n| last.contains(n)),
                "{case}: memtide {args:?} failed without naming the file: {last}"
            );
            false
        }
        other => panic!("{case}: memtide {args:?} exited with {other:?}:\n{err}"),
    }
}

/// Both outcomes must occur: a battery whose mutations never make a run fail (or never let
/// one pass) tests nothing.
fn assert_both(what: &str, outcomes: &[bool]) {
    let ok = outcomes.iter().filter(|&&o| o).count();
    let failed = outcomes.len() - ok;
    eprintln!(
        "{what}: {} runs, {ok} succeeded, {failed} failed with a clear error",
        outcomes.len()
    );
    assert!(
        ok > 0 && failed > 0,
        "{what}: {ok} succeeded, {failed} failed"
    );
}

/// Runs `one` on every case, on two threads (the machine's two cores), and gathers the
/// outcomes of all the runs.
fn on_two_threads<C: Sync>(cases: &[C], one: impl Fn(&C, &mut Vec<bool>) + Sync) -> Vec<bool> {
    std::thread::scope(|s| {
        let workers: Vec<_> = cases
            .chunks(cases.len().div_ceil(2).max(1))
            .map(|half| {
                let one = &one;
                s.spawn(move || {
                    let mut outcomes = Vec::new();
                    for c in half {
                        one(c, &mut outcomes);
                    }
                    outcomes
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

#[test]
fn broken_traces_never_panic_or_hang_and_failures_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fixture("../../crates/model/tests/fixtures/trace-imported");
    let cases: Vec<(String, PathBuf)> = (0..240)
        .map(|i| {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((i as u64 + 1) * 0x1000_0001));
            let kind = MUTATIONS[i % MUTATIONS.len()];
            let file = TRACE_FILES[(i / MUTATIONS.len()) % TRACE_FILES.len()];
            let dir = tmp.path().join(format!("t{i}"));
            std::fs::create_dir(&dir).unwrap();
            for f in TRACE_FILES {
                let bytes = std::fs::read(base.join(f)).unwrap();
                let out = if f == file {
                    mutate(kind, &bytes, &mut rng)
                } else {
                    Some(bytes)
                };
                if let Some(b) = out {
                    std::fs::write(dir.join(f), b).unwrap();
                }
            }
            (format!("case {i}: {kind} in {file}"), dir)
        })
        .collect();
    let mut names: Vec<&str> = TRACE_FILES.to_vec();
    let tmp_name = tmp.path().to_str().unwrap().to_owned();
    names.push(&tmp_name);
    let names = &names;
    let outcomes = on_two_threads(&cases, |(case, dir), outcomes| {
        let d = dir.as_os_str();
        outcomes.push(check(case, &["report".as_ref(), d], names));
        let svg = dir.join("out.svg");
        outcomes.push(check(
            case,
            &["render".as_ref(), d, "-o".as_ref(), svg.as_os_str()],
            names,
        ));
        let html = dir.join("out.html");
        outcomes.push(check(
            case,
            &["render".as_ref(), d, "-o".as_ref(), html.as_os_str()],
            names,
        ));
        // What is drawn is sized by the trace's real span, never by a bad row.
        for out in [&svg, &html] {
            if let Ok(m) = std::fs::metadata(out) {
                assert!(m.len() < 5_000_000, "{case}: {} bytes", m.len());
            }
        }
    });
    assert_both("traces", &outcomes);
}

#[test]
fn broken_shell_loop_files_never_panic_or_hang_and_failures_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let tsv = std::fs::read(fixture("seed/ollama-process-memtrace-20260514-092500.tsv")).unwrap();
    let log = std::fs::read(fixture("seed/system-memtrace-20260514-092500.log")).unwrap();
    // The shell loops' own mutations beside the shared ones: a header time no clock shows.
    let cases: Vec<(String, PathBuf, PathBuf)> = (0..120)
        .map(|i| {
            let mut rng = Rng(0x51ed_2701_a3c4_b5d9 ^ ((i as u64 + 7) * 0x3000_0007));
            let kind = MUTATIONS[i % MUTATIONS.len()];
            let (t, l) = (
                tmp.path().join(format!("p{i}.tsv")),
                tmp.path().join(format!("s{i}.log")),
            );
            let (mut new_tsv, mut new_log) = (Some(tsv.clone()), Some(log.clone()));
            if i % 2 == 0 {
                new_tsv = mutate(kind, &tsv, &mut rng);
            } else {
                new_log = mutate(kind, &log, &mut rng);
                if i % 6 == 1 {
                    if let Some(b) = new_log.as_mut() {
                        b.extend_from_slice(b"===== 0000-01-01T00:00:00Z =====\nPages free: 1.\n");
                    }
                }
            }
            for (path, bytes) in [(&t, new_tsv), (&l, new_log)] {
                if let Some(b) = bytes {
                    std::fs::write(path, b).unwrap();
                }
            }
            (format!("case {i}: {kind}"), t, l)
        })
        .collect();
    let outcomes = on_two_threads(&cases, |(case, t, l), outcomes| {
        let out = t.with_extension("trace");
        let names = [
            t.file_name().unwrap().to_str().unwrap(),
            l.file_name().unwrap().to_str().unwrap(),
            out.file_name().unwrap().to_str().unwrap(),
        ];
        outcomes.push(check(
            case,
            &[
                "import".as_ref(),
                "--ps-tsv".as_ref(),
                t.as_os_str(),
                "--system-log".as_ref(),
                l.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
            &names,
        ));
        if out.join("meta.json").exists() {
            outcomes.push(check(case, &["report".as_ref(), out.as_os_str()], &names));
            let svg = out.join("c.svg");
            outcomes.push(check(
                case,
                &[
                    "render".as_ref(),
                    out.as_os_str(),
                    "-o".as_ref(),
                    svg.as_os_str(),
                ],
                &names,
            ));
            if let Ok(m) = std::fs::metadata(&svg) {
                assert!(m.len() < 5_000_000, "{case}: {} bytes", m.len());
            }
        }
    });
    assert_both("shell-loop files", &outcomes);
}
