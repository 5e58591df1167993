//! From the sampler's types to the trace format's rows, and runners' model names from their
//! command lines.

use memtide_model::runner::{self, Role};
use memtide_model::{manifests, ollama};
use memtide_sampler::pressure::PressureSource;
use memtide_sampler::{ProcessInfo, ProcessSample, SystemSample};
use memtide_trace::{
    utc_ms, IdentityRow, ModelRow, NotificationSource, PollOutcome, PollRow, PressureLevel,
    ProcessRow, SystemRow,
};

/// The sampler's pressure level as the trace holds it.
pub fn pressure_level(l: memtide_sampler::PressureLevel) -> PressureLevel {
    match l {
        memtide_sampler::PressureLevel::Normal => PressureLevel::Normal,
        memtide_sampler::PressureLevel::Warning => PressureLevel::Warning,
        memtide_sampler::PressureLevel::Critical => PressureLevel::Critical,
    }
}

/// Where the sampler's pressure notifications come from, as the trace holds it.
pub fn notification_source(s: PressureSource) -> NotificationSource {
    match s {
        PressureSource::Psi => NotificationSource::Psi,
        PressureSource::Sysctl => NotificationSource::Sysctl,
    }
}
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// A system sample as a row of `system.csv`.
pub fn system_row(time_utc: &str, t_ms: u64, s: &SystemSample) -> SystemRow {
    SystemRow {
        time_utc: time_utc.to_owned(),
        t_ms,
        total_bytes: s.total_bytes,
        free_bytes: s.free_bytes,
        available_bytes: s.available_bytes,
        active_bytes: s.active_bytes,
        inactive_bytes: s.inactive_bytes,
        speculative_bytes: s.speculative_bytes,
        wired_bytes: s.wired_bytes,
        purgeable_bytes: s.purgeable_bytes,
        compressor_bytes: s.compressor_bytes,
        compressor_payload_bytes: s.compressor_payload_bytes,
        compressed_bytes: s.compressed_bytes,
        file_backed_bytes: s.file_backed_bytes,
        anonymous_bytes: s.anonymous_bytes,
        swap_total_bytes: s.swap_total_bytes,
        swap_used_bytes: s.swap_used_bytes,
        pageins_bytes: s.pageins_bytes,
        pageouts_bytes: s.pageouts_bytes,
        swapins_bytes: s.swapins_bytes,
        swapouts_bytes: s.swapouts_bytes,
        compressions_bytes: s.compressions_bytes,
        decompressions_bytes: s.decompressions_bytes,
        // Two decimals: the kernel's own figures have no more.
        free_percent: s.free_percent.map(|p| (p * 100.0).round() / 100.0),
        pressure: s.pressure.map(pressure_level),
        psi_some_avg10: s.psi_some_avg10,
        psi_full_avg10: s.psi_full_avg10,
        psi_some_total_us: s.psi_some_total_us,
        psi_full_total_us: s.psi_full_total_us,
        stats_age_ms: s.stats_age.as_millis() as u64,
    }
}

/// A process sample as a row of `processes.csv`.
pub fn process_row(time_utc: &str, t_ms: u64, p: &ProcessSample) -> ProcessRow {
    ProcessRow {
        time_utc: time_utc.to_owned(),
        t_ms,
        pid: p.id.pid,
        start_time_us: p.id.start_time_us,
        ppid: p.ppid,
        rss_bytes: p.rss_bytes,
        footprint_bytes: p.footprint_bytes,
        peak_footprint_bytes: p.peak_footprint_bytes,
        peak_rss_bytes: p.peak_rss_bytes,
        virtual_bytes: p.virtual_bytes,
        wired_bytes: p.wired_bytes,
        swapped_bytes: p.swapped_bytes,
        rss_file_bytes: p.rss_file_bytes,
        status_age_ms: p.status_age.map(|d| d.as_millis() as u64),
        weights_resident_bytes: p.weights_resident_bytes,
    }
}

/// The model file of a runner whose `--model` is a path to a file (an Ollama blob, a GGUF
/// file), whose mapped weights the sampler is to count; `None` for any other process, a model
/// named rather than given as a file, or a relative path (relative to a directory memtide does
/// not know).
pub fn model_file(info: &ProcessInfo) -> Option<PathBuf> {
    let Role::Runner { model_arg, .. } = runner::classify(&info.name, &info.argv) else {
        return None;
    };
    let path = Path::new(&model_arg);
    (path.is_absolute() && path.is_file()).then(|| path.to_owned())
}

/// A new identity's row, first and last seen at `seen`.
pub fn identity_row(info: &ProcessInfo, models: &[String], seen: &str) -> IdentityRow {
    let start = if info.id.start_time_us > 0 {
        utc_ms(UNIX_EPOCH + Duration::from_micros(info.id.start_time_us))
    } else {
        String::new()
    };
    IdentityRow {
        pid: info.id.pid,
        start_time_us: info.id.start_time_us,
        start_utc: start,
        ppid: info.ppid,
        name: info.name.to_string(),
        exe: info.exe.clone(),
        argv: info.argv.clone(),
        models: models.to_vec(),
        first_seen_utc: seen.to_owned(),
        last_seen_utc: seen.to_owned(),
        exited: false,
        exited_utc: None,
        error: None,
    }
}

/// A poll of `/api/ps` as a row of `ollama_polls.csv` and its models' rows of `models.csv`.
pub fn poll_rows(
    time_utc: &str,
    t_ms: u64,
    result: &Result<ollama::PsResponse, crate::ollama::OllamaError>,
    latency: Duration,
) -> (PollRow, Vec<ModelRow>) {
    let latency_ms = latency.as_millis() as u64;
    match result {
        Ok(ps) => {
            let poll = PollRow {
                time_utc: time_utc.to_owned(),
                t_ms,
                outcome: PollOutcome::Ok,
                latency_ms,
                models_loaded: Some(ps.models.len() as u32),
                // The answer stands; what was left out of it is said here.
                error: (ps.dropped > 0).then(|| {
                    format!(
                        "{} models left out (past the first {}, or unreadable)",
                        ps.dropped,
                        ollama::MAX_PS_MODELS
                    )
                }),
            };
            let models = ps
                .models
                .iter()
                .map(|m| ModelRow {
                    time_utc: time_utc.to_owned(),
                    t_ms,
                    name: m.name.clone(),
                    model: m.model.clone(),
                    digest: m.digest.clone(),
                    size_bytes: m.size,
                    size_vram_bytes: m.size_vram,
                    context_length: m.context_length,
                    expires_at_utc: m.expires_at.map(memtide_trace::timestamp_utc_ms),
                    format: m.details.format.clone(),
                    family: m.details.family.clone(),
                    families: m.details.families.clone(),
                    parameter_size: m.details.parameter_size.clone(),
                    quantization_level: m.details.quantization_level.clone(),
                    parent_model: m.details.parent_model.clone(),
                })
                .collect();
            (poll, models)
        }
        Err(e) => (
            PollRow {
                time_utc: time_utc.to_owned(),
                t_ms,
                outcome: e.outcome(),
                latency_ms,
                models_loaded: None,
                error: Some(e.to_string()),
            },
            Vec::new(),
        ),
    }
}

/// Resolves runners' blob paths to model names, loading each models directory's manifests
/// once (and again when a blob is not found, in case a model was pulled meanwhile).
#[derive(Default)]
pub struct ModelNames {
    indexes: HashMap<PathBuf, manifests::ManifestIndex>,
    /// Where to look when a blob's path does not say (see [`default_models_dir`]).
    fallback_dir: Option<PathBuf>,
}

impl ModelNames {
    /// Names found next to each blob, else in `fallback_dir` (Ollama's models directory).
    pub fn new(fallback_dir: Option<PathBuf>) -> ModelNames {
        ModelNames {
            indexes: HashMap::new(),
            fallback_dir,
        }
    }

    /// The model names a runner's command line points at.
    pub fn for_argv(&mut self, argv: &[String]) -> Vec<String> {
        let Some(arg) = manifests::model_arg(argv) else {
            return Vec::new();
        };
        let Some(hex) = manifests::blob_digest(arg) else {
            return Vec::new();
        };
        // The manifests sit next to the blobs; failing that, where Ollama keeps them by default.
        let Some(dir) = manifests::models_dir_of_blob(arg).or_else(|| self.fallback_dir.clone())
        else {
            return Vec::new();
        };
        if let Some(index) = self.indexes.get(&dir) {
            let names = index.names(hex);
            if !names.is_empty() {
                return names;
            }
        }
        match load_manifests(&dir) {
            Ok(index) => {
                let names = index.names(hex);
                self.indexes.insert(dir, index);
                names
            }
            Err(_) => Vec::new(),
        }
    }
}

/// Where Ollama's server log is on `os` (`std::env::consts::OS`) when Ollama was installed the
/// usual ways, in order of preference: on macOS the app's `~/.ollama/logs/server.log` (Ollama
/// `app/server/server_unix.go` l.20), then Homebrew's service's `var/log/ollama.log` (the
/// formula's `service` block: `log_path var/"log/ollama.log"`) under Homebrew's prefix on Apple
/// Silicon (`/opt/homebrew`) and on Intel (`/usr/local`). Elsewhere none: on Linux Ollama runs
/// under systemd and logs to the journal (its install script's unit, `scripts/install.sh`
/// l.220-221, sets no log file), which memtide does not read; a log that a service writes to a
/// file (`ollama serve 2> FILE`) is given with `--ollama-log`.
pub fn ollama_log_candidates(os: &memtide_trace::Os, home: Option<&str>) -> Vec<PathBuf> {
    if *os != memtide_trace::Os::Macos {
        return Vec::new();
    }
    let mut v: Vec<PathBuf> = home
        .map(|h| PathBuf::from(h).join(".ollama/logs/server.log"))
        .into_iter()
        .collect();
    v.push(PathBuf::from("/opt/homebrew/var/log/ollama.log"));
    v.push(PathBuf::from("/usr/local/var/log/ollama.log"));
    v
}

/// Ollama's models directory as Ollama finds it (`envconfig.Models()`): `OLLAMA_MODELS` when
/// set and not empty, else `.ollama/models` in the home directory. The caller passes the
/// environment in, so that this crate reads none.
pub fn default_models_dir(ollama_models: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    if let Some(dir) = ollama_models.filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    home.map(|h| PathBuf::from(h).join(".ollama").join("models"))
}

/// Reads every manifest under `<models_dir>/manifests` into an index of names by weights blob.
/// Manifests that cannot be read or parsed are left out (a half-pulled model leaves odd
/// files); a missing or unreadable `manifests` directory is an error.
pub fn load_manifests(models_dir: &Path) -> io::Result<manifests::ManifestIndex> {
    let root = models_dir.join("manifests");
    let mut index = manifests::ManifestIndex::default();
    let mut stack = vec![root.clone()];
    let mut first = true;
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if first => return Err(e),
            Err(_) => continue,
        };
        first = false;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(_) => {
                    let (Ok(rel), Ok(bytes)) = (path.strip_prefix(&root), std::fs::read(&path))
                    else {
                        continue;
                    };
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    index.add(&parts, &bytes);
                }
                Err(_) => {}
            }
        }
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_logs_are_looked_for_where_the_app_and_homebrew_write_them() {
        assert_eq!(
            ollama_log_candidates(&memtide_trace::Os::Macos, Some("/Users/me")),
            [
                PathBuf::from("/Users/me/.ollama/logs/server.log"),
                PathBuf::from("/opt/homebrew/var/log/ollama.log"),
                PathBuf::from("/usr/local/var/log/ollama.log"),
            ]
        );
        assert!(ollama_log_candidates(&memtide_trace::Os::Linux, Some("/home/me")).is_empty());
    }

    #[test]
    fn the_manifests_directory_is_walked_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "ab".repeat(32);
        let manifest = format!(
            r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{hex}","size":5}}]}}"#
        );
        for rel in [
            "registry.ollama.ai/library/qwen3/8b",
            "registry.ollama.ai/someone/tuned/v1",
        ] {
            let p = dir.path().join("manifests").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &manifest).unwrap();
        }
        let broken = dir
            .path()
            .join("manifests/registry.ollama.ai/library/broken/x");
        std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
        std::fs::write(broken, "{not json").unwrap();
        let index = load_manifests(dir.path()).unwrap();
        assert_eq!(index.names(&hex), ["qwen3:8b", "someone/tuned:v1"]);
        assert_eq!(index.len(), 1);
        assert!(load_manifests(&dir.path().join("nowhere")).is_err());
    }
}
