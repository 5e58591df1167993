//! How long `memtide import` takes on a day of the Guide's shell-loop traces: the `ps` TSV every
//! second with 10 processes (864 000 rows) and a system block every 5 s (17 280 blocks of
//! `vm_stat`, `memory_pressure`, `sysctl vm.swapusage`, `ollama ps` and `/api/ps`), built from the
//! captures in `tests/fixtures/seed/`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DAY_S: u64 = 86_400;
const SEED_LOG: &str = include_str!("../tests/fixtures/seed/system-memtrace-20260514-092500.log");

/// One block of the fixture log (the one at 09:25:20, with every section), to repeat.
fn block_template() -> String {
    let start = SEED_LOG.find("===== 2026-05-14T09:25:20Z =====").unwrap();
    let body = &SEED_LOG[start..];
    let first = body.find('\n').unwrap() + 1;
    let end = body[first..]
        .find("\n=====")
        .map_or(body.len(), |e| first + e + 1);
    body[first..end].to_owned()
}

fn utc(s: u64) -> String {
    let t = jiff::Timestamp::from_second(1_778_750_000 + s as i64).unwrap();
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn write_day(dir: &Path) {
    let mut tsv = String::from("ts\tpid\tppid\tcomm\trss_kb\tvsz_kb\tcommand\n");
    for s in 0..DAY_S {
        let ts = utc(s);
        for p in 0..10u64 {
            let cmd = if p % 2 == 0 {
                "/Applications/Ollama.app/Contents/Resources/ollama serve".to_owned()
            } else {
                format!("/Applications/Ollama.app/Contents/Resources/ollama runner --ollama-engine --model /Users/a/.ollama/models/blobs/sha256-{p:064x} --port {}", 50000 + p)
            };
            let _ = writeln!(tsv, "{ts}\t{}\t1\t/Applications/Ollama.app/Contents/Resources/ollama\t{}\t436878528\t{cmd}", 1000 + p, 100_000 + (s % 600) * 1000);
        }
    }
    std::fs::write(dir.join("ps.tsv"), tsv).unwrap();
    let block = block_template();
    let mut log = String::new();
    for s in (0..DAY_S).step_by(5) {
        let _ = write!(log, "===== {} =====\n{block}", utc(s));
    }
    std::fs::write(dir.join("system.log"), log).unwrap();
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    write_day(tmp.path());
    let mut g = c.benchmark_group("import");
    g.sample_size(10).measurement_time(Duration::from_secs(40));
    g.bench_function("24h_seed_trace_10_processes", |b| {
        b.iter(|| {
            let out = tmp.path().join("out");
            let _ = std::fs::remove_dir_all(&out);
            let st = Command::new(env!("CARGO_BIN_EXE_memtide"))
                .args(["import", "--ps-tsv"])
                .arg(tmp.path().join("ps.tsv"))
                .arg("--system-log")
                .arg(tmp.path().join("system.log"))
                .arg("--out")
                .arg(&out)
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(st.success());
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
