//! Drives the real `memtide` binary.

use std::process::Command;

fn memtide(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memtide"))
        .args(args)
        .output()
        .expect("run memtide");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn snapshot_of_one_pid_shows_it_and_the_system() {
    let me = std::process::id().to_string();
    let (ok, out, err) = memtide(&["snapshot", "--pid", &me]);
    assert!(ok, "stderr: {err}");
    assert!(out.contains("free "), "{out}");
    assert!(out.contains("  available "), "{out}");
    let row = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(me.as_str()))
        .unwrap_or_else(|| panic!("no row for pid {me} in\n{out}"));
    // The test binary's own command line ends the row.
    assert!(row.contains("cli-"), "{row}");
    assert!(row.contains("MiB"), "{row}");
}

#[test]
fn snapshot_with_no_match_says_so() {
    let (ok, out, _) = memtide(&["snapshot", "--match", "no-such-process-name-xyzzy-42"]);
    assert!(ok);
    // The snapshot process itself has the pattern in its argv; nothing else does.
    let rows = out.lines().filter(|l| l.contains("xyzzy")).count();
    assert_eq!(rows, 1, "{out}");
}

#[test]
fn bad_arguments_are_an_error_that_names_them() {
    let (ok, _, err) = memtide(&["snapshot", "--pid", "notanumber"]);
    assert!(!ok);
    assert!(err.contains("--pid"), "{err}");
}
