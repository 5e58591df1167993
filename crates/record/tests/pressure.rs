//! A pressure notification goes from the watch, through the listener thread and the
//! recorder, into the trace with its own time, and the report tells it. On Linux, the same
//! poll loop as the kernel's PSI trigger, woken by a descriptor the test writes to; on every
//! OS, macOS's level poller over a level the test changes.

use memtide_model::events::{EventKind, Options as ReportOptions};
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_record::{Options, Recorder};
use memtide_sampler::pressure::PressureWatch;
use memtide_sampler::{PressureLevel, ProcessSelector};
use memtide_trace::NotificationSource;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
#[test]
fn a_notification_between_ticks_is_written_at_its_moment_and_reported() {
    let mut o = Options::new(
        Duration::from_millis(100),
        ProcessSelector::Pids(vec![std::process::id()]),
    );
    o.pressure = None;
    let mut rec = Recorder::new(o).unwrap();
    use std::io::Write;
    let (r, w) = std::io::pipe().unwrap();
    rec.listen_on(PressureWatch::on_readable(r.into()).unwrap())
        .unwrap();
    assert_eq!(
        rec.pressure_signal(),
        Some("a test descriptor became readable")
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    rec.start_trace(&dir, "memtide test").unwrap();
    let started = Instant::now();
    let mut fired_at = None;
    for k in 0..12 {
        rec.wait_for_tick();
        rec.tick().unwrap();
        if k == 5 {
            // Half-way to the next tick.
            std::thread::sleep(Duration::from_millis(40));
            fired_at = Some(started.elapsed());
            (&w).write_all(b"!").unwrap();
        }
    }
    rec.finish().unwrap();

    let tl = Timeline::load(&dir).unwrap();
    assert_eq!(tl.pressure.len(), 1, "{:?}", tl.pressure);
    let n = &tl.pressure[0];
    assert_eq!(n.source, NotificationSource::Psi);
    let fired = fired_at.unwrap().as_millis() as u64;
    // Its own moment, not the next tick's: within a few ms of the write.
    assert!(
        n.t_ms.abs_diff(fired) <= 30,
        "written at {} ms, fired at {fired} ms",
        n.t_ms
    );
    assert!(
        tl.system.iter().all(|s| s.t_ms != n.t_ms),
        "it lies between ticks"
    );
    let r = report::build(&tl, &ReportOptions::default());
    let events: Vec<_> = r
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PressureNotification { .. }))
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].t_ms, n.t_ms);
}

#[test]
fn each_change_of_a_polled_level_is_written_with_its_level_and_reported() {
    // The level the fake kernel is at: 0 normal, 1 warning, 2 critical.
    let level = Arc::new(AtomicU8::new(0));
    let read = {
        let level = level.clone();
        move || {
            Ok(match level.load(Ordering::SeqCst) {
                0 => PressureLevel::Normal,
                1 => PressureLevel::Warning,
                _ => PressureLevel::Critical,
            })
        }
    };
    let watch = PressureWatch::polling(read, Duration::from_millis(10)).unwrap();
    let mut o = Options::new(
        Duration::from_millis(100),
        ProcessSelector::Pids(vec![std::process::id()]),
    );
    o.pressure = None;
    let mut rec = Recorder::new(o).unwrap();
    rec.listen_on(watch).unwrap();
    assert_eq!(
        rec.pressure_signal(),
        Some("a change of the kernel's memory-pressure level (read every 10 ms)")
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    rec.start_trace(&dir, "memtide test").unwrap();
    let started = Instant::now();
    let mut changed_at = Vec::new();
    // Warning at the 4th tick, critical at the 7th, back to normal at the 10th; the same
    // level set again changes nothing.
    for k in 0..14 {
        rec.wait_for_tick();
        rec.tick().unwrap();
        let to = match k {
            3 => Some(1),
            5 => Some(1),
            6 => Some(2),
            9 => Some(0),
            _ => None,
        };
        if let Some(to) = to {
            std::thread::sleep(Duration::from_millis(40));
            if level.swap(to, Ordering::SeqCst) != to {
                changed_at.push(started.elapsed().as_millis() as u64);
            }
        }
    }
    rec.finish().unwrap();

    let tl = Timeline::load(&dir).unwrap();
    let levels: Vec<Option<&str>> = tl
        .pressure
        .iter()
        .map(|n| n.level.map(memtide_trace::PressureLevel::as_str))
        .collect();
    assert_eq!(
        levels,
        [Some("warning"), Some("critical"), Some("normal")],
        "{:?}",
        tl.pressure
    );
    for (n, at) in tl.pressure.iter().zip(&changed_at) {
        assert_eq!(n.source, NotificationSource::Sysctl);
        // Written by the listener at its own moment after the change, not at a tick.
        assert!(
            n.t_ms >= *at,
            "written at {} ms, changed at {at} ms",
            n.t_ms
        );
        assert!(tl.system.iter().all(|s| s.t_ms != n.t_ms), "at a tick");
    }
    let r = report::build(&tl, &ReportOptions::default());
    let told = r
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PressureNotification { .. }))
        .count();
    assert_eq!(told, 3);
}
