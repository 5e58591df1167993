//! The bench on macOS: sysinfo is not part of memtide's macOS build, so its rows are left out,
//! and the bench says so.

use super::Row;
use anyhow::Result;

pub fn rows(_pids: &[u32], _ticks: usize, _rows: &mut Vec<Row>) -> Result<()> {
    say!("memtide bench: sysinfo is not part of memtide's macOS build; its rows are skipped");
    Ok(())
}
