//! A pressure notification goes from the watch, through the listener thread and the
//! recorder, into the trace with its own time, and the report tells it; the same poll loop as
//! the kernel's trigger, woken here by a descriptor the test writes to.

#![cfg(target_os = "linux")]

use memtide_model::events::{EventKind, Options as ReportOptions};
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_record::{Options, Recorder};
use memtide_sampler::pressure::PressureWatch;
use memtide_sampler::ProcessSelector;
use std::io::Write;
use std::time::{Duration, Instant};

#[test]
fn a_notification_between_ticks_is_written_at_its_moment_and_reported() {
    let mut o = Options::new(
        Duration::from_millis(100),
        ProcessSelector::Pids(vec![std::process::id()]),
    );
    o.pressure = None;
    let mut rec = Recorder::new(o).unwrap();
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
    assert_eq!(n.source, "test");
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
