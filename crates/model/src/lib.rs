//! # memtide-model
//!
//! The OS-neutral half of memtide: where Ollama is and what it says, and (as the project grows)
//! the trace format and the join of runner processes to the models they serve. It never reads
//! the kernel and never draws.
//!
//! ```
//! use memtide_model::ollama::base_url;
//!
//! // `--ollama` wins, then `OLLAMA_HOST` read the way Ollama reads it, then the default.
//! assert_eq!(base_url(None, Some("0.0.0.0:8080")), "http://0.0.0.0:8080");
//! assert_eq!(base_url(None, None), "http://127.0.0.1:11434");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod events;
pub mod manifests;
pub mod ollama;
pub mod report;
pub mod runner;
pub mod seed;
pub mod timeline;
pub mod trace;
