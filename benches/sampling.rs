//! What a sample costs (criterion): one tick of memtide's sampler with 1, 10 and 50 followed
//! processes; a first tick over the whole process table (discovery); and, in the same run,
//! the references of `memtide bench`: the floor (the same kernel reads and nothing else),
//! sysinfo refreshing the same processes and memory, and the `ps | awk` pipeline of the Ollama
//! macOS Memory Trace Guide's shell loop.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use memtide_sampler::{Floor, ProcessSelector, Sampler};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Idle(Vec<Child>);

impl Drop for Idle {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn idle(n: usize) -> Idle {
    let kids = (0..n)
        .map(|_| {
            Command::new("sleep")
                .arg("3600")
                .stdin(Stdio::null())
                .spawn()
                .expect("sleep")
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    Idle(kids)
}

fn ticks(c: &mut Criterion) {
    let mut g = c.benchmark_group("tick");
    for n in [1usize, 10, 50] {
        let kids = idle(n);
        let pids: Vec<u32> = kids.0.iter().map(Child::id).collect();
        let mut sampler = Sampler::new(ProcessSelector::Pids(pids.clone())).unwrap();
        assert_eq!(sampler.tick().unwrap().processes.len(), n);
        g.bench_with_input(BenchmarkId::new("memtide", n), &n, |b, _| {
            b.iter(|| sampler.tick().unwrap().processes.len())
        });
        if let Ok(mut floor) = Floor::new(&pids) {
            g.bench_with_input(BenchmarkId::new("floor", n), &n, |b, _| {
                b.iter(|| floor.read().unwrap())
            });
        }
        sysinfo_same(&mut g, &pids, n);
    }
    g.finish();
}

#[cfg(not(target_os = "macos"))]
fn sysinfo_same(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    pids: &[u32],
    n: usize,
) {
    use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut sys = System::new();
    let ids: Vec<Pid> = pids.iter().map(|&p| Pid::from_u32(p)).collect();
    g.bench_with_input(BenchmarkId::new("sysinfo", n), &n, |b, _| {
        b.iter(|| {
            sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&ids),
                true,
                ProcessRefreshKind::nothing().with_memory(),
            );
            sys.refresh_memory_specifics(MemoryRefreshKind::everything());
        })
    });
}

#[cfg(target_os = "macos")]
fn sysinfo_same(
    _: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    _: &[u32],
    _: usize,
) {
}

fn discovery_and_pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("whole_table");
    g.sample_size(20);
    g.bench_function("memtide_discovery", |b| {
        b.iter(|| {
            Sampler::new(ProcessSelector::All)
                .unwrap()
                .tick()
                .unwrap()
                .processes
                .len()
        })
    });
    g.bench_function("seed_ps_awk_pipeline", |b| {
        b.iter(|| {
            Command::new("sh")
                .args(["-c", "ps -axo pid=,ppid=,comm=,rss=,vsz=,command= | awk '/[o]llama|[m]lx|[r]unner/ { print }' > /dev/null"])
                .status()
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, ticks, discovery_and_pipeline);
criterion_main!(benches);
