//! The bench's sysinfo rows: the same processes and memory, and a full refresh.

use super::{measure, Row};
use anyhow::Result;

pub fn rows(pids: &[u32], ticks: usize, rows: &mut Vec<Row>) -> Result<()> {
    use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut sys = System::new();
    let ids: Vec<Pid> = pids.iter().map(|&p| Pid::from_u32(p)).collect();
    let (m, p) = measure(ticks, 5, || {
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&ids),
            true,
            ProcessRefreshKind::nothing().with_memory(),
        );
        sys.refresh_memory_specifics(MemoryRefreshKind::everything());
        Ok(())
    })?;
    rows.push(Row {
        what: "sysinfo: the same processes and memory".into(),
        median: m,
        p90: p,
    });
    let mut all = System::new();
    let (m, p) = measure((ticks / 10).max(10), 2, || {
        all.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::everything(),
        );
        all.refresh_memory_specifics(MemoryRefreshKind::everything());
        Ok(())
    })?;
    rows.push(Row {
        what: "sysinfo: full refresh (all processes, memory)".into(),
        median: m,
        p90: p,
    });
    Ok(())
}
