//! What can go wrong with a trace directory.

use std::io;
use std::path::PathBuf;

/// Why a trace file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// A file could not be created or written (disk full, directory removed, ...).
    #[error("cannot write {}: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not also a `source`, which would print
        /// it twice in a chain of errors).
        error: io::Error,
    },
    /// The trace directory disappeared while it was being written.
    #[error("the trace directory {} is gone ({error}): recording stopped", path.display())]
    Gone {
        /// The directory.
        path: PathBuf,
        /// What the OS said when asked for it.
        error: io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not also a `source`, which would print
        /// it twice in a chain of errors).
        error: io::Error,
    },
    /// A file was read but is not what the format says.
    #[error("{}: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        detail: String,
    },
}
