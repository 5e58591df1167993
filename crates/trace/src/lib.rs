//! # memtide-trace
//!
//! The trace directory memtide writes and reads: `meta.json` and CSV files with a header row,
//! one record per line, byte values as integers, times as UTC RFC 3339 with milliseconds
//! (`time_utc`) beside milliseconds since the recording started on a monotonic clock
//! (`t_ms`); an empty cell is a value the OS or the source does not have. `docs/trace-format.md`
//! in the repository describes every file and column.
//!
//! - [`schema`]: the files, `meta.json` ([`Meta`]) and the row of each CSV file;
//! - [`vocab`]: the closed sets of values the rows hold, as enums;
//! - [`write`](mod@write): [`TraceWriter`], which writes a trace, in segments for a flight recorder
//!   ([`segments`]), and continues a kept one;
//! - [`read`]: what a trace says of itself without reading its rows ([`read_meta`],
//!   [`end_t_ms`]); [`rows`]: its rows, one at a time, across segments and windows.
//!
//! ```
//! use memtide_trace::{read_meta, utc_ms, Meta, SystemRow, TraceWriter};
//! use std::time::{Duration, SystemTime};
//!
//! # fn main() -> Result<(), memtide_trace::TraceError> {
//! # let tmp = tempfile::tempdir().unwrap();
//! # let dir = tmp.path().join("trace");
//! let start = SystemTime::now();
//! let meta = Meta::new("linux", "x86_64", 16 << 30, 1000, utc_ms(start));
//! let mut trace = TraceWriter::create(&dir, meta)?;
//! trace.system(&SystemRow {
//!     time_utc: utc_ms(start),
//!     t_ms: 0,
//!     total_bytes: 16 << 30,
//!     available_bytes: Some(9 << 30),
//!     ..Default::default()
//! })?;
//! trace.finish(start + Duration::from_secs(1), 1, 0)?;
//! assert_eq!(read_meta(&dir)?.samples, Some(1));
//! # Ok(())
//! # }
//! ```
//!
//! It depends on no other memtide crate: the analysis (`memtide-model`) reads traces, the
//! recorder (`memtide-record`) writes them.
//!
//! ## Errors
//!
//! Every failure is a [`TraceError`], which names the file (and the line, for a malformed
//! row).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod lists;
pub mod read;
pub mod rows;
pub mod schema;
pub mod segments;
pub mod vocab;
pub mod write;

pub use error::TraceError;
pub use read::{complete_length, end_t_ms, read_meta};
pub use schema::*;
pub use vocab::{BufferKind, LogEvent, NotificationSource, Os, PollOutcome, PressureLevel};
pub use write::{Resumed, TraceWriter};
