//! # memtide-model
//!
//! The OS-neutral analysis of memtide: the timeline a trace (`memtide-trace`'s directory, what
//! `memtide record` writes) loads into ([`timeline`]), which process is which runner and
//! which model it served ([`runner`], [`manifests`]), the events found in a trace
//! ([`events`]) and the report built from them ([`report`]); plus Ollama's answers ([`ollama`])
//! and the parsers of the shell-loop files of the Ollama macOS Memory Trace Guide ([`seed`]).
//! It never reads the kernel, never asks Ollama (memtide-record does) and never draws.
//!
//! ```
//! use memtide_model::{events, report, timeline::Timeline};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trace-imported"));
//! let trace = Timeline::load(dir)?;
//! let report = report::build(&trace, &events::Options::default());
//! for model in &report.models {
//!     println!("{:?}: runners {:?}, peak RSS {:?} B", model.model, model.runner_pids, model.peak_rss_bytes);
//! }
//! let overlaps = report.events.iter().filter(|e| matches!(e.kind, events::EventKind::Overlap { .. }));
//! assert_eq!(overlaps.count(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## Errors
//!
//! Reading traces gives `memtide_trace::TraceError`, which names the file (and the line,
//! for a malformed row); a body that is not Ollama's answer gives `serde_json`'s error.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod available;
pub mod compare;
pub mod events;
pub mod manifests;
pub mod ollama;
pub mod ollama_log;
pub mod report;
pub mod runner;
pub mod seed;
pub mod timeline;
