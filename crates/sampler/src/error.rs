//! The sampler's errors, classified by what the caller should do about them.

use std::io;
use std::path::PathBuf;

/// A `Result` with the sampler's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while sampling.
///
/// A failed read is always an error (or, inside a tick, a process leaving the series); the
/// sampler never turns a failure into a zero reading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The process exited (or its PID now belongs to another process). This is the normal end
    /// of a process's series, not a failure.
    #[error("process {pid} has exited")]
    ProcessGone {
        /// The PID that is gone.
        pid: u32,
    },
    /// The OS refused to show this process's memory to us.
    #[error("permission denied: {call} for pid {pid}{}", permission_advice(owner.as_deref(), hint))]
    PermissionDenied {
        /// The process we asked about.
        pid: u32,
        /// The call or file that was refused.
        call: &'static str,
        /// The user the process runs as (a name, or `uid N` when the name is unknown), where
        /// the OS told it.
        owner: Option<String>,
        /// How to get access, when the owner is not known.
        hint: &'static str,
    },
    /// The process cannot be read yet: it is being created, or is in the middle of an `exec`.
    /// The sampler asks again on a later tick.
    #[error("process {pid} is still starting: {call} will be asked again")]
    NotReady {
        /// The process.
        pid: u32,
        /// The call that could not answer yet.
        call: &'static str,
    },
    /// memtide has no descriptor left (its own limit, `EMFILE`, or the system's, `ENFILE`) to
    /// open this process's files. Not the process's fault, and it passes: the sampler asks again
    /// at its next listing of the process table.
    #[error("no file descriptor left to open {call} for pid {pid}: asked again at the next look")]
    OutOfDescriptors {
        /// The process.
        pid: u32,
        /// What could not be opened.
        call: &'static str,
    },
    /// A pressure trigger the kernel would refuse, and why.
    #[error("{0}")]
    InvalidTrigger(String),
    /// This metric or operation does not exist on this OS.
    #[error("{what} is not supported on this operating system")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
    },
    /// Reading a file failed.
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not also a `source`, which would print
        /// it twice in a chain of errors).
        error: io::Error,
    },
    /// A system call failed with an error the sampler has no better name for.
    #[error("{call} failed with OS error {code} ({})", io::Error::from_raw_os_error(*code))]
    Os {
        /// The call.
        call: &'static str,
        /// The `errno`.
        code: i32,
    },
    /// A Mach call failed (macOS): its `kern_return_t`, named as Mach names it where known.
    #[error("{call} failed{}", match name {
        Some(n) => format!(": {n} (Mach error {code})"),
        None => format!(" with Mach error {code}"),
    })]
    Kern {
        /// The call.
        call: &'static str,
        /// The `kern_return_t`.
        code: i32,
        /// Its name (`KERN_INVALID_ARGUMENT`), from [`crate::darwin::kern_return_name`].
        name: Option<&'static str>,
    },
    /// The kernel answered with something we cannot decode.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// What was being decoded (a file name or a kernel structure).
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

/// `" (run by user ollama); run memtide as ollama (sudo -u ollama memtide …) or with sudo"`,
/// or the general hint when the owner is not known.
fn permission_advice(owner: Option<&str>, hint: &str) -> String {
    match owner {
        Some(o) if o.starts_with("uid ") => {
            format!(" (run by {o}); run memtide as that user, or with sudo")
        }
        Some(o) => {
            format!(" (run by user {o}); run memtide as {o} (sudo -u {o} memtide …), or with sudo")
        }
        None => format!("; {hint}"),
    }
}

impl Error {
    /// `true` for [`Error::ProcessGone`], the normal end of a process's series.
    pub fn is_gone(&self) -> bool {
        matches!(self, Error::ProcessGone { .. })
    }

    /// `true` for [`Error::NotReady`]: the same read may succeed on a later tick.
    pub fn is_not_ready(&self) -> bool {
        matches!(self, Error::NotReady { .. })
    }

    /// `true` for [`Error::OutOfDescriptors`]: memtide's own want, which passes.
    pub fn is_out_of_descriptors(&self) -> bool {
        matches!(self, Error::OutOfDescriptors { .. })
    }

    pub(crate) fn decode(what: &'static str, detail: impl Into<String>) -> Error {
        Error::Decode {
            what,
            detail: detail.into(),
        }
    }
}

/// A process the sampler selected but could not (or can no longer) read, reported once.
#[derive(Debug)]
pub struct ProcessFailure {
    /// Which process.
    pub id: crate::ProcessId,
    /// Why.
    pub error: Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_error_says_which_user_to_run_as() {
        let e = |owner: Option<&str>| Error::PermissionDenied {
            pid: 4242,
            call: "/proc/[pid]/status",
            owner: owner.map(str::to_owned),
            hint: "run memtide as the user that runs the process, or with sudo",
        };
        assert_eq!(
            e(Some("ollama")).to_string(),
            "permission denied: /proc/[pid]/status for pid 4242 (run by user ollama); run \
             memtide as ollama (sudo -u ollama memtide …), or with sudo"
        );
        assert!(e(Some("uid 996"))
            .to_string()
            .contains("(run by uid 996); run memtide as that user"));
        assert!(e(None)
            .to_string()
            .ends_with("; run memtide as the user that runs the process, or with sudo"));
    }
}
