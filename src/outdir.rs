//! Where a new trace goes: never over a person's data unless they say `--force`.

use anyhow::{bail, Context, Result};
use memtide_trace as trace;
use std::path::{Path, PathBuf};

/// The temporary files a write interrupted by a crash may leave; with [`trace::FILES`], what
/// `--force` removes, and nothing else.
const TEMPORARY_FILES: [&str; 2] = ["meta.tmp", "identities.tmp"];

/// How many suffixes (`-2`, `-3`, …) a default name is tried with before giving up.
const MAX_SUFFIX: u32 = 1000;

/// Makes the directory a new trace is written into, and returns it.
///
/// - `out` given: created if missing; an empty directory is used as it is; a directory that
///   holds files is refused unless `force`, in which case memtide's own files (`TRACE_FILES`
///   and `extra`) are removed from it and anything else is left; a file is refused.
/// - `out` not given: `<prefix>-YYYYMMDD-HHMMSS` (local time) in the current directory, with
///   `-2`, `-3`, … added when that exists. The directory is created with one `mkdir`, which
///   fails when it exists, so two recorders started in the same second get two directories.
pub fn claim(out: Option<&Path>, prefix: &str, force: bool, extra: &[&str]) -> Result<PathBuf> {
    let Some(dir) = out else {
        return claim_new(prefix);
    };
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Err(e) => return Err(e).with_context(|| format!("cannot use {}", dir.display())),
        Ok(m) if !m.is_dir() => bail!(
            "{} is a file, not a directory: give --out a directory name",
            dir.display()
        ),
        Ok(_) => {
            let mut entries =
                std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
            if entries.next().is_some() {
                if !force {
                    bail!(
                        "{} already holds files: choose another --out, or add --force to replace \
                         the trace in it (--force removes only memtide's own files)",
                        dir.display()
                    );
                }
                remove_own(dir, extra)?;
            }
        }
    }
    Ok(dir.to_owned())
}

/// Whether `name` is a segment of a segmented trace (`system.000003.csv.gz`), or a
/// compression of one that a crash cut short (`….csv.gz.tmp`).
fn is_segment(name: &str) -> bool {
    let name = name.strip_suffix(".tmp").unwrap_or(name);
    trace::SEGMENTED_FILES
        .iter()
        .any(|base| memtide_trace::segments::parse_segment_name(base, name).is_some())
}

fn remove_own(dir: &Path, extra: &[&str]) -> Result<()> {
    // The segments of an earlier segmented trace too: left there, they would be read as part
    // of the new one.
    let segments: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| is_segment(n))
        .collect();
    let named = trace::FILES
        .iter()
        .chain(&TEMPORARY_FILES)
        .chain(extra)
        .map(|n| n.to_string());
    for name in named.chain(segments) {
        let path = dir.join(&name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    Ok(())
}

fn claim_new(prefix: &str) -> Result<PathBuf> {
    let stamp = jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string();
    let base = format!("{prefix}-{stamp}");
    for n in 1..=MAX_SUFFIX {
        let dir = PathBuf::from(if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", dir.display()));
            }
        }
    }
    bail!("{base} and {MAX_SUFFIX} variants of it exist already: give --out a directory name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_with_files_is_refused_and_force_removes_only_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("t");
        assert_eq!(claim(Some(&dir), "x", false, &[]).unwrap(), dir, "created");
        assert_eq!(
            claim(Some(&dir), "x", false, &[]).unwrap(),
            dir,
            "empty: used"
        );
        std::fs::write(dir.join(trace::SYSTEM_FILE), "a").unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let e = claim(Some(&dir), "x", false, &[]).unwrap_err().to_string();
        assert!(
            e.contains("already holds files") && e.contains("--force"),
            "{e}"
        );
        assert!(dir.join(trace::SYSTEM_FILE).exists(), "nothing touched");
        claim(Some(&dir), "x", true, &[]).unwrap();
        assert!(!dir.join(trace::SYSTEM_FILE).exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
            "mine"
        );
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(claim(Some(&file), "x", true, &[]).is_err(), "a file");
    }
}
