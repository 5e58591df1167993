//! Which processes a [`crate::Sampler`] follows.

/// Which processes to sample.
///
/// A selector is applied once to each process identity, when the sampler first sees it. The
/// rules that include descendants also take in processes born after sampling began.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProcessSelector {
    /// Every Ollama process and its descendants: `ollama serve`, every runner generation
    /// (`ollama runner`, `ollama_llama_server`, `llama-server`, `ollama runner --mlx-engine`,
    /// `ollama-mlx`), the Ollama app, and `ollama run` clients. See
    /// [`ProcessSelector::is_ollama`]. The sampler decides by the kernel's name of a process
    /// (every one of these is named after an Ollama executable) and reads a command line only
    /// for the processes it follows: a process whose name is not Ollama's is not followed
    /// unless it descends from one that is. A process that changes into Ollama by an `exec`
    /// is seen when that happens in its first seconds (the fork and exec of a launch); one
    /// that execs Ollama later, long after it started under another name, is not.
    #[default]
    Ollama,
    /// Processes whose name or command line contains any of these strings, ignoring ASCII case.
    /// The sampling process itself is never matched this way (its own command line usually
    /// holds the pattern).
    Match(Vec<String>),
    /// These PIDs, as the processes that hold them when sampling starts. A process that later
    /// gets one of these PIDs is another process and is not selected.
    Pids(Vec<u32>),
    /// This process (as it is when sampling starts) and all its descendants, including those
    /// born later.
    DescendantsOf(u32),
    /// A process started after sampling began (a command the caller spawned: its PID is held
    /// for it until the caller waits for it) and all its descendants. See
    /// [`crate::Sampler::follow_tree`].
    TreeOf(u32),
    /// The processes of process group `pgid` that started at or after `since_us` (on the
    /// clock of [`crate::ProcessId::start_time_us`]; [`crate::Sampler::start_time_now`] reads
    /// it), and their descendants; never the sampling process. A process that calls `setsid`
    /// or `setpgid` before the sampler first sees it is not in the group any more. Where the
    /// OS backend cannot read process groups (neither Linux nor macOS), nothing. See
    /// [`crate::Sampler::follow_group`].
    GroupOf {
        /// The process group's ID.
        pgid: u32,
        /// Processes that started before this are not taken.
        since_us: u64,
    },
    /// Every process.
    All,
    /// Every process that any of these selects.
    Any(Vec<ProcessSelector>),
}

/// What a selector sees of a process when it decides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub pid: u32,
    /// The process group (0: unknown).
    pub pgid: u32,
    pub start_time_us: u64,
    pub name: &'a str,
    pub argv: &'a [String],
    /// The process was alive when sampling started.
    pub preexisting: bool,
    /// The process is the one sampling.
    pub is_self: bool,
}

/// A selector's decision on one process, before ancestry is taken into account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Selected for itself.
    pub direct: bool,
    /// The root of a tree whose descendants are selected too.
    pub tree_root: bool,
}

impl ProcessSelector {
    /// Whether a process's `exec` can change the decision (it changes the name and the
    /// command line, never the PID, start time, parent or group).
    pub(crate) fn can_change_at_exec(&self) -> bool {
        match self {
            ProcessSelector::Ollama | ProcessSelector::Match(_) => true,
            ProcessSelector::Any(v) => v.iter().any(ProcessSelector::can_change_at_exec),
            _ => false,
        }
    }

    /// Whether processes known and not followed must be asked, now and then, whether they
    /// called `exec`: only under a pattern (`Match`), which any command line can come to
    /// match. The Ollama rule needs no such check (see [`ProcessSelector::Ollama`]).
    pub(crate) fn asks_after_exec(&self) -> bool {
        match self {
            ProcessSelector::Match(_) => true,
            ProcessSelector::Any(v) => v.iter().any(ProcessSelector::asks_after_exec),
            _ => false,
        }
    }

    /// The decision from what the kernel's process record gives (name, PID, group, start
    /// time), without the command line, when that is enough; `None` when the command line is
    /// needed. The Ollama rule decides by the kernel's name whenever there is one; a pattern
    /// says yes when it is in the name and needs the command line to say no.
    pub(crate) fn judge_by_name(&self, c: &Candidate<'_>) -> Option<Verdict> {
        match self {
            ProcessSelector::Ollama if c.name.is_empty() => None,
            ProcessSelector::Ollama => Some(Verdict {
                direct: false,
                tree_root: ProcessSelector::is_ollama(c.name, &[]),
            }),
            ProcessSelector::Match(patterns) => {
                if c.is_self {
                    Some(Verdict::default())
                } else if patterns.iter().any(|p| matches_pattern(p, c.name, &[])) {
                    Some(Verdict {
                        direct: true,
                        tree_root: false,
                    })
                } else {
                    None
                }
            }
            ProcessSelector::Any(v) => v.iter().try_fold(Verdict::default(), |acc, s| {
                let one = s.judge_by_name(c)?;
                Some(Verdict {
                    direct: acc.direct || one.direct,
                    tree_root: acc.tree_root || one.tree_root,
                })
            }),
            other => Some(other.judge(c)),
        }
    }

    /// Whether a process that appears after the first listing can be selected: not under
    /// `Pids` alone, which takes only processes alive when sampling starts, so the process
    /// table need not be listed again (followed processes are read every tick, which is how
    /// their exits are seen).
    pub(crate) fn takes_new(&self) -> bool {
        match self {
            ProcessSelector::Pids(_) => false,
            ProcessSelector::Any(v) => v.iter().any(ProcessSelector::takes_new),
            _ => true,
        }
    }

    /// Whether any rule selects descendants.
    pub(crate) fn has_trees(&self) -> bool {
        match self {
            ProcessSelector::Ollama
            | ProcessSelector::DescendantsOf(_)
            | ProcessSelector::TreeOf(_)
            | ProcessSelector::GroupOf { .. } => true,
            ProcessSelector::Any(v) => v.iter().any(ProcessSelector::has_trees),
            _ => false,
        }
    }

    pub(crate) fn judge(&self, c: &Candidate<'_>) -> Verdict {
        match self {
            ProcessSelector::Ollama => Verdict {
                direct: false,
                tree_root: ProcessSelector::is_ollama(c.name, c.argv),
            },
            ProcessSelector::Match(patterns) => Verdict {
                direct: !c.is_self && patterns.iter().any(|p| matches_pattern(p, c.name, c.argv)),
                tree_root: false,
            },
            ProcessSelector::Pids(pids) => Verdict {
                direct: c.preexisting && pids.contains(&c.pid),
                tree_root: false,
            },
            ProcessSelector::DescendantsOf(root) => Verdict {
                direct: false,
                tree_root: c.preexisting && c.pid == *root,
            },
            ProcessSelector::TreeOf(root) => Verdict {
                direct: false,
                tree_root: c.pid == *root,
            },
            ProcessSelector::GroupOf { pgid, since_us } => Verdict {
                direct: false,
                tree_root: !c.is_self
                    && c.pgid != 0
                    && c.pgid == *pgid
                    && c.start_time_us >= *since_us,
            },
            ProcessSelector::All => Verdict {
                direct: true,
                tree_root: false,
            },
            ProcessSelector::Any(v) => v.iter().fold(Verdict::default(), |acc, s| {
                let one = s.judge(c);
                Verdict {
                    direct: acc.direct || one.direct,
                    tree_root: acc.tree_root || one.tree_root,
                }
            }),
        }
    }

    /// Whether a process with this kernel name and argument vector is one of Ollama's.
    ///
    /// It looks at the kernel's short name and at the executable's file name (argv\[0\]), so
    /// that it works whether or not the command line could be read: names starting with
    /// `ollama` (`ollama`, `ollama_llama_server` and its 15-byte truncation `ollama_llama_se`,
    /// `ollama-runner`, `ollama-mlx`, the app's `Ollama`), and `llama-server`, which Ollama
    /// ships as its runner since v0.30. An argv with `--mlx-engine` is an Ollama MLX runner
    /// whatever its executable is called.
    pub fn is_ollama(name: &str, argv: &[String]) -> bool {
        fn ollama_name(n: &str) -> bool {
            let n = n.as_bytes();
            (n.len() >= 6 && n[..6].eq_ignore_ascii_case(b"ollama")) || n == b"llama-server"
        }
        let exe = argv.first().map(|a| {
            a.rsplit(['/', '\\'])
                .next()
                .unwrap_or(a)
                .trim_end_matches(".exe")
        });
        ollama_name(name)
            || exe.is_some_and(ollama_name)
            || argv.iter().any(|a| a == "--mlx-engine")
    }
}

/// ASCII-case-insensitive substring test against the name and every argument.
fn matches_pattern(pattern: &str, name: &str, argv: &[String]) -> bool {
    if pattern.is_empty() {
        return true;
    }
    let contains = |hay: &str| {
        hay.as_bytes()
            .windows(pattern.len())
            .any(|w| w.eq_ignore_ascii_case(pattern.as_bytes()))
    };
    // A pattern with spaces may span arguments, so also try the joined command line.
    contains(name)
        || argv.iter().any(|a| contains(a))
        || (pattern.contains(' ') && contains(&argv.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn cand<'a>(name: &'a str, argv: &'a [String]) -> Candidate<'a> {
        Candidate {
            pid: 10,
            pgid: 10,
            start_time_us: 1_000,
            name,
            argv,
            preexisting: true,
            is_self: false,
        }
    }

    #[test]
    fn ollama_rule_matches_every_runner_generation() {
        let yes = [
            ("ollama", "/usr/local/bin/ollama serve"),
            ("ollama", "/Applications/Ollama.app/Contents/Resources/ollama runner --model /m/blobs/sha256-ab --port 5"),
            ("ollama_llama_se", "/tmp/ollama1/runners/metal/ollama_llama_server --model /m --port 1"),
            ("llama-server", "/usr/local/lib/ollama/llama-server --model /m --port 2"),
            ("ollama", "ollama runner --mlx-engine --model qwen3.5:4b-nvfp4 --port 3"),
            ("Ollama", "/Applications/Ollama.app/Contents/MacOS/Ollama"),
            ("ollama-mlx", "ollama-mlx runner --image-engine --model x --port 4"),
            // An unreadable command line: the kernel name decides.
            ("ollama_llama_se", ""),
        ];
        for (name, cmd) in yes {
            let a = if cmd.is_empty() { vec![] } else { argv(cmd) };
            assert!(ProcessSelector::is_ollama(name, &a), "{name}: {cmd}");
            assert!(ProcessSelector::Ollama.judge(&cand(name, &a)).tree_root);
        }
        let no = [
            ("bash", "bash -c tail -f ollama.log"),
            ("vim", "vim notes-about-ollama.md"),
            ("llama", "llama --port 1"),
        ];
        for (name, cmd) in no {
            assert!(
                !ProcessSelector::is_ollama(name, &argv(cmd)),
                "{name}: {cmd}"
            );
        }
    }

    #[test]
    fn match_is_case_insensitive_substring_of_name_or_arguments() {
        let s = ProcessSelector::Match(vec!["QWEN".into()]);
        assert!(s.judge(&cand("x", &argv("run --model qwen3:8b"))).direct);
        assert!(!s.judge(&cand("x", &argv("run --model gemma"))).direct);
        let own = argv("memtide record --match qwen");
        let mut me = cand("x", &own);
        me.is_self = true;
        assert!(!s.judge(&me).direct, "the sampler's own process");
        let spaced = ProcessSelector::Match(vec!["--model gemma".into()]);
        assert!(spaced.judge(&cand("x", &argv("run --model gemma"))).direct);
    }

    #[test]
    fn pids_and_trees_only_take_processes_alive_at_start() {
        let a = argv("x");
        let mut c = cand("x", &a);
        assert!(ProcessSelector::Pids(vec![10]).judge(&c).direct);
        assert!(ProcessSelector::DescendantsOf(10).judge(&c).tree_root);
        c.preexisting = false;
        assert!(!ProcessSelector::Pids(vec![10]).judge(&c).direct);
        assert!(!ProcessSelector::DescendantsOf(10).judge(&c).tree_root);
    }

    #[test]
    fn any_unites_its_rules() {
        let a = argv("x");
        let s = ProcessSelector::Any(vec![
            ProcessSelector::Pids(vec![10]),
            ProcessSelector::DescendantsOf(10),
        ]);
        let v = s.judge(&cand("x", &a));
        assert!(v.direct && v.tree_root);
        assert!(s.has_trees());
        assert!(!s.can_change_at_exec() && !s.asks_after_exec());
        assert!(ProcessSelector::Any(vec![ProcessSelector::Match(vec![])]).asks_after_exec());
        assert!(ProcessSelector::Ollama.can_change_at_exec());
        assert!(
            !ProcessSelector::Ollama.asks_after_exec(),
            "no exec check of strangers"
        );
    }

    #[test]
    fn the_kernels_name_decides_where_it_can() {
        let none: [String; 0] = [];
        let c = |name| Candidate {
            argv: &none,
            ..cand(name, &none)
        };
        let ollama = ProcessSelector::Ollama;
        assert!(
            ollama
                .judge_by_name(&c("ollama_llama_se"))
                .unwrap()
                .tree_root
        );
        assert!(ollama.judge_by_name(&c("llama-server")).unwrap().tree_root);
        assert_eq!(ollama.judge_by_name(&c("bash")), Some(Verdict::default()));
        assert_eq!(
            ollama.judge_by_name(&c("")),
            None,
            "no name: the command line"
        );
        // A pattern in the name says yes; to say no it needs the arguments.
        let qwen = ProcessSelector::Match(vec!["QWEN".into()]);
        assert!(qwen.judge_by_name(&c("qwen-server")).unwrap().direct);
        assert_eq!(qwen.judge_by_name(&c("python3")), None);
        // Rules that never look at the command line always decide.
        let pids = ProcessSelector::Pids(vec![10]);
        assert!(pids.judge_by_name(&c("x")).unwrap().direct);
        // A union decides only when every rule can.
        let both = ProcessSelector::Any(vec![pids.clone(), qwen]);
        assert_eq!(both.judge_by_name(&c("python3")), None);
        let v = ProcessSelector::Any(vec![pids, ollama]).judge_by_name(&c("ollama"));
        assert_eq!(
            v,
            Some(Verdict {
                direct: true,
                tree_root: true
            })
        );
    }
}
