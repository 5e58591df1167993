//! The closed sets of values a trace holds: each an enum that serialises to the word the files
//! have always held, so that a value no code handles is a compile error and not a string
//! compared with a literal.

use serde::{Deserialize, Serialize};

/// What a row of `ollama_log.csv` says (as memtide-model's Ollama log parser reads it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogEvent {
    /// Ollama started a runner (`port` is its port).
    #[default]
    RunnerStart,
    /// llama.cpp begins to load the weights; the buffer lines after it are this load's.
    LoadStart,
    /// The runner answered; `detail` is the load's seconds.
    RunnerReady,
    /// llama.cpp allocated a buffer, or Ollama summed what its own engine allocated (component
    /// `ollama`): `component`, `backend`, `kind`, `bytes`.
    Buffer,
    /// `offloaded N/M layers to GPU`: `detail` is `N/M`.
    Offloaded,
    /// A device's free memory before the load: `backend` is the device, `gpu_free_bytes`.
    DeviceFree,
    /// The scheduler's view of the machine: `bytes` total, `system_free_bytes`, `detail`
    /// `free_swap=N`.
    SystemMemory,
    /// The scheduler's view of a GPU: `backend` its id, `available_bytes`, `gpu_free_bytes`,
    /// `detail` its library.
    GpuMemory,
    /// The next model fits beside those loaded: the prediction columns.
    Fits,
    /// The next model would not fit; Ollama evicts first: the prediction columns.
    Evict,
    /// Ollama's estimate of a load (its `offload` line, v0.1.33 to v0.12.10): `backend` the GPU
    /// library, `detail` `N/M` layers it gave the GPU, `predicted_bytes` the whole model on
    /// the GPU, `bytes` the `N` layers, `available_bytes` what the GPUs had available.
    Estimate,
    /// Ollama turned mmap off for the next load: `detail` is why.
    MmapOff,
    /// The model is too large for system memory.
    TooLarge,
    /// Ollama detected an out-of-memory failure: `detail` is the model.
    RuntimeOom,
}

/// What a buffer holds, as llama.cpp names it in `… buffer size = …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BufferKind {
    /// The model's weights (`model`): `<backend>_Mapped` when they stay in the mapped file.
    Model,
    /// The KV cache (`KV`).
    Kv,
    /// Compute (graph) buffers (`compute`).
    Compute,
    /// The output buffer (`output`).
    Output,
    /// Recurrent state (`RS`).
    Rs,
}

impl BufferKind {
    /// The kind llama.cpp's word names (`model`, `KV`, `compute`, `output`, `RS`).
    pub fn from_llama_word(w: &str) -> Option<BufferKind> {
        Some(match w {
            "model" => BufferKind::Model,
            "KV" => BufferKind::Kv,
            "compute" => BufferKind::Compute,
            "output" => BufferKind::Output,
            "RS" => BufferKind::Rs,
            _ => return None,
        })
    }

    /// In words: `weights`, `KV cache`, ...
    pub fn name(self) -> &'static str {
        match self {
            BufferKind::Model => "weights",
            BufferKind::Kv => "KV cache",
            BufferKind::Compute => "compute buffers",
            BufferKind::Output => "output buffer",
            BufferKind::Rs => "recurrent state",
        }
    }
}

/// The kernel's memory-pressure level, in `system.csv`'s `pressure` and
/// `pressure_events.csv`'s `level`; ordered from none to the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PressureLevel {
    /// No pressure (macOS level 1; Linux PSI under memtide's warning threshold).
    Normal,
    /// Reclaiming hard (macOS level 2, yellow in Activity Monitor).
    Warning,
    /// Thrashing or about to kill processes (macOS level 4, red).
    Critical,
}

impl PressureLevel {
    /// The word the files hold: `normal`, `warning`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            PressureLevel::Normal => "normal",
            PressureLevel::Warning => "warning",
            PressureLevel::Critical => "critical",
        }
    }
}

impl std::fmt::Display for PressureLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a poll of Ollama's `/api/ps` ended, in `ollama_polls.csv`'s `outcome`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollOutcome {
    /// Ollama answered with a listing.
    #[default]
    Ok,
    /// Nothing listens at the address (connection refused, no route).
    Unreachable,
    /// No answer within the poll's timeout.
    Timeout,
    /// An HTTP status other than 200.
    HttpError,
    /// An answer that is not a listing (not JSON, too long).
    BadResponse,
}

impl PollOutcome {
    /// The word the file holds: `ok`, `unreachable`, `timeout`, `http_error`, `bad_response`.
    pub fn as_str(self) -> &'static str {
        match self {
            PollOutcome::Ok => "ok",
            PollOutcome::Unreachable => "unreachable",
            PollOutcome::Timeout => "timeout",
            PollOutcome::HttpError => "http_error",
            PollOutcome::BadResponse => "bad_response",
        }
    }

    /// Whether Ollama answered.
    pub fn is_ok(self) -> bool {
        self == PollOutcome::Ok
    }
}

/// What sent a pressure notification, in `pressure_events.csv`'s `source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationSource {
    /// Linux: a PSI trigger on `/proc/pressure/memory`.
    #[default]
    Psi,
    /// macOS: the kernel's level, `kern.memorystatus_vm_pressure_level`, polled.
    Sysctl,
    /// macOS, traces of earlier versions: libdispatch's memory-pressure source.
    Dispatch,
}

/// The operating system a trace was recorded on: `meta.json`'s `os`, in the words of Rust's
/// `std::env::consts::OS`. The two memtide reads natively are variants; any other is kept by
/// its word, so a trace from elsewhere still reads and writes back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Os {
    /// `linux`.
    Linux,
    /// `macos`.
    Macos,
    /// Any other word (`windows`, `freebsd`, ...), as written.
    Other(String),
}

impl Os {
    /// The OS this program was built for.
    pub fn current() -> Os {
        Os::from(std::env::consts::OS)
    }

    /// The word the file holds: `linux`, `macos`, or the other word as written.
    pub fn as_str(&self) -> &str {
        match self {
            Os::Linux => "linux",
            Os::Macos => "macos",
            Os::Other(word) => word,
        }
    }

    /// Its name as people write it: `Linux`, `macOS`, `Windows`, `FreeBSD`; any other word
    /// as it is.
    pub fn display_name(&self) -> &str {
        match self {
            Os::Linux => "Linux",
            Os::Macos => "macOS",
            Os::Other(word) => match word.as_str() {
                "windows" => "Windows",
                "freebsd" => "FreeBSD",
                "netbsd" => "NetBSD",
                "openbsd" => "OpenBSD",
                _ => word,
            },
        }
    }
}

impl Os {
    /// The variant of a word memtide reads natively, if it is one.
    fn known(word: &str) -> Option<Os> {
        match word {
            "linux" => Some(Os::Linux),
            "macos" => Some(Os::Macos),
            _ => None,
        }
    }
}

impl From<&str> for Os {
    fn from(word: &str) -> Os {
        Os::known(word).unwrap_or_else(|| Os::Other(word.to_owned()))
    }
}

impl From<String> for Os {
    fn from(word: String) -> Os {
        Os::known(&word).unwrap_or(Os::Other(word))
    }
}

impl From<Os> for String {
    fn from(os: Os) -> String {
        match os {
            Os::Other(word) => word,
            known => known.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for Os {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod os_tests {
    use super::Os;

    #[test]
    fn an_os_reads_and_writes_back_as_its_word_known_or_not() {
        for (word, os) in [
            ("linux", Os::Linux),
            ("macos", Os::Macos),
            ("freebsd", Os::Other("freebsd".into())),
        ] {
            let json = format!("\"{word}\"");
            let read: Os = serde_json::from_str(&json).unwrap();
            assert_eq!(read, os);
            assert_eq!(Os::from(word), os);
            assert_eq!(serde_json::to_string(&read).unwrap(), json);
        }
        assert_eq!(Os::Macos.display_name(), "macOS");
        assert_eq!(Os::from("freebsd").display_name(), "FreeBSD");
        assert_eq!(Os::from("haiku").display_name(), "haiku");
    }
}
