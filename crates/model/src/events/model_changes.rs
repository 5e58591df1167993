//! Model loads and unloads, from consecutive successful `/api/ps` polls.
//!
//! A model is loaded at the first successful poll that lists it after one that did not, and
//! unloaded at the first successful poll that no longer lists it. Failed polls are skipped:
//! while Ollama is unreachable nothing is known, so nothing is inferred. Models listed by the
//! first successful poll were loaded before the recording started.

use std::collections::BTreeMap;

/// One successful poll: when, and each loaded model's name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// `t_ms` of the poll.
    pub t_ms: u64,
    /// Name and `size` in bytes of each loaded model.
    pub models: Vec<(String, u64)>,
}

/// A change seen between two polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Listed for the first time (or again).
    Load {
        /// When it was first listed.
        t_ms: u64,
        /// Its name.
        name: String,
        /// Its size then.
        size_bytes: u64,
        /// Already loaded at the first poll of the recording.
        before_recording: bool,
    },
    /// No longer listed.
    Unload {
        /// The first poll without it.
        t_ms: u64,
        /// Its name.
        name: String,
        /// Its size at the last poll that listed it.
        last_size_bytes: u64,
    },
}

/// A load, as [`Change::load`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load<'a> {
    /// When it was first listed.
    pub t_ms: u64,
    /// Its name.
    pub name: &'a str,
    /// Its size then.
    pub size_bytes: u64,
    /// Already loaded at the first poll of the recording.
    pub before_recording: bool,
}

impl Change {
    /// The load this change is, if it is one.
    pub fn load(&self) -> Option<Load<'_>> {
        match self {
            Change::Load {
                t_ms,
                name,
                size_bytes,
                before_recording,
            } => Some(Load {
                t_ms: *t_ms,
                name,
                size_bytes: *size_bytes,
                before_recording: *before_recording,
            }),
            Change::Unload { .. } => None,
        }
    }
}

/// The loads and unloads in a sequence of successful polls (in time order).
pub fn changes(polls: &[Poll]) -> Vec<Change> {
    let mut out = Vec::new();
    let mut loaded: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, poll) in polls.iter().enumerate() {
        let now: BTreeMap<&str, u64> = poll.models.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        for (name, size) in &now {
            if !loaded.contains_key(name) {
                out.push(Change::Load {
                    t_ms: poll.t_ms,
                    name: (*name).to_owned(),
                    size_bytes: *size,
                    before_recording: i == 0,
                });
            }
        }
        for (name, size) in &loaded {
            if !now.contains_key(name) {
                out.push(Change::Unload {
                    t_ms: poll.t_ms,
                    name: (*name).to_owned(),
                    last_size_bytes: *size,
                });
            }
        }
        loaded = now;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(t_ms: u64, models: &[(&str, u64)]) -> Poll {
        Poll {
            t_ms,
            models: models.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn nothing_to_compare() {
        assert!(changes(&[]).is_empty());
        assert!(changes(&[poll(0, &[])]).is_empty());
        assert!(changes(&[poll(0, &[]), poll(1000, &[])]).is_empty());
    }

    #[test]
    fn loaded_before_then_swapped_for_another() {
        let got = changes(&[
            poll(0, &[("a:1b", 10)]),
            poll(1000, &[("a:1b", 12), ("b:7b", 50)]),
            poll(2000, &[("b:7b", 55)]),
        ]);
        assert_eq!(
            got,
            [
                Change::Load {
                    t_ms: 0,
                    name: "a:1b".into(),
                    size_bytes: 10,
                    before_recording: true
                },
                Change::Load {
                    t_ms: 1000,
                    name: "b:7b".into(),
                    size_bytes: 50,
                    before_recording: false
                },
                Change::Unload {
                    t_ms: 2000,
                    name: "a:1b".into(),
                    last_size_bytes: 12
                },
            ]
        );
    }
}
