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
    /// llama.cpp allocated a buffer: `component`, `backend`, `kind`, `bytes`.
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
