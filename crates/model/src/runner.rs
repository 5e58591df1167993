//! What an Ollama-related process is, from its name and argument vector, for every runner
//! generation Ollama has shipped (from the launch code of each release, `llm/server.go` and
//! later `llm/llama_server.go`, and real command lines in `crates/model/tests/fixtures/`):
//!
//! | Ollama | runner command line |
//! |---|---|
//! | ≤ v0.1.17 | `ollama-runner --model <blob> … --port N` |
//! | v0.1.32 – v0.5.1 | `…/runners/<variant>/ollama_llama_server --model <blob> … --port N` |
//! | v0.5.2 – v0.24 | `ollama runner [--ollama-engine] --model <blob> [...] --port N` |
//! | v0.12.4+ | `ollama runner --ollama-engine --port N`: a GPU discovery probe, no model |
//! | v0.14 – v0.3x | `ollama[-mlx] runner --image-engine`/`--imagegen-engine --model <name>` |
//! | v0.16+ | `ollama runner --mlx-engine --model <name> --port N` (the name, not a path) |
//! | v0.30+ | `…/llama-server --model <blob> --port N …`; without `--model`, a discovery probe |

use crate::manifests;
use serde::{Deserialize, Serialize};

/// The part a process plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Role {
    /// A process that serves one model.
    Runner {
        /// Which runner family.
        engine: Engine,
        /// The `--model` argument: a blob path for GGUF runners, a model name for MLX and
        /// image runners.
        model_arg: String,
        /// Started by Ollama. Only such a runner is ever credited with a model of Ollama's
        /// `/api/ps` by timing. Ollama's own runner binaries always are; a `llama-server` is
        /// when an Ollama process is among its ancestors or its binary is Ollama's.
        #[serde(default = "yes")]
        under_ollama: bool,
    },
    /// A runner started without a model to probe the GPUs; it never holds a model.
    Discovery,
    /// `ollama serve`, the scheduler.
    Serve,
    /// The desktop app (`Ollama.app`).
    App,
    /// A client command: `ollama run`, `ollama pull`, ...
    Client {
        /// The subcommand.
        command: String,
    },
    /// Anything else the user chose to follow.
    Other,
}

impl Role {
    /// A short label: `runner`, `discovery runner`, `serve`, `app`, `client`, `process`.
    pub fn label(&self) -> &'static str {
        match self {
            Role::Runner { .. } => "runner",
            Role::Discovery => "discovery runner",
            Role::Serve => "ollama serve",
            Role::App => "Ollama app",
            Role::Client { .. } => "ollama client",
            Role::Other => "process",
        }
    }

    /// `true` for a runner that holds a model.
    pub fn is_model_runner(&self) -> bool {
        matches!(self, Role::Runner { .. })
    }
}

/// A runner's family, in the words the report and the exporter have always used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Engine {
    /// `ollama_llama_server` (v0.1.32 – v0.5.1).
    #[serde(rename = "ollama_llama_server")]
    OllamaLlamaServer,
    /// `ollama runner` (v0.5.2+), llama.cpp inside Ollama's own binary.
    #[serde(rename = "ollama runner")]
    OllamaRunner,
    /// `ollama runner --ollama-engine`: Ollama's own engine.
    #[serde(rename = "ollama engine")]
    OllamaEngine,
    /// `llama-server` that Ollama started (v0.30+).
    #[serde(rename = "llama-server")]
    LlamaServer,
    /// `ollama runner --mlx-engine` (v0.16+).
    #[serde(rename = "mlx")]
    Mlx,
    /// `ollama runner --image-engine` or `--imagegen-engine`.
    #[serde(rename = "image")]
    Image,
    /// `ollama-runner` (≤ v0.1.17).
    #[serde(rename = "ollama-runner")]
    OllamaRunnerV01,
    /// A `llama-server` that no Ollama started (LM Studio's, llama.cpp's own).
    #[serde(rename = "llama.cpp server")]
    LlamaCppServer,
}

impl Engine {
    /// Its name in the report, `top` and the exporter's `engine` label.
    pub fn name(self) -> &'static str {
        match self {
            Engine::OllamaLlamaServer => "ollama_llama_server",
            Engine::OllamaRunner => "ollama runner",
            Engine::OllamaEngine => "ollama engine",
            Engine::LlamaServer => "llama-server",
            Engine::Mlx => "mlx",
            Engine::Image => "image",
            Engine::OllamaRunnerV01 => "ollama-runner",
            Engine::LlamaCppServer => "llama.cpp server",
        }
    }

    /// Whether its `--model` is the model's name rather than a file (MLX and image runners).
    pub fn names_its_model(self) -> bool {
        match self {
            Engine::Mlx | Engine::Image => true,
            Engine::OllamaLlamaServer
            | Engine::OllamaRunner
            | Engine::OllamaEngine
            | Engine::LlamaServer
            | Engine::OllamaRunnerV01
            | Engine::LlamaCppServer => false,
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn yes() -> bool {
    true
}

/// Whether a `llama-server` binary is the one Ollama ships: inside `Ollama.app`, or in an
/// `ollama` library directory (`/usr/local/lib/ollama/`, `/usr/lib/ollama/` in Docker).
pub fn is_ollamas_binary(path: &str) -> bool {
    let p = path.to_ascii_lowercase().replace('\\', "/");
    p.contains("ollama.app/") || p.contains("/lib/ollama/")
}

fn base(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .trim_end_matches(".exe")
}

/// Classifies a process from its kernel name and argument vector (either may be empty).
pub fn classify(name: &str, argv: &[String]) -> Role {
    if argv.is_empty() {
        // Another user's process, or one that exited before its command line was read: the
        // name alone cannot tell a model runner from a discovery probe.
        return Role::Other;
    }
    let exe = argv.first().map(|a| base(a)).unwrap_or(name);
    let has = |flag: &str| argv.iter().any(|a| a == flag);
    let model = manifests::model_arg(argv).map(str::to_owned);
    let sub = argv.get(1).map(String::as_str);
    let runnerish = |engine: Engine| match &model {
        Some(m) => Role::Runner {
            engine,
            model_arg: m.clone(),
            // A llama-server is Ollama's only when its parents or its path say so (see
            // `is_ollamas_binary`); the analysis decides with the process tree.
            under_ollama: engine != Engine::LlamaServer
                || argv.first().is_some_and(|a| is_ollamas_binary(a)),
        },
        None => Role::Discovery,
    };
    let exe_lower = exe.to_ascii_lowercase();
    match exe_lower.as_str() {
        // The kernel truncates the name to 15 bytes.
        "ollama_llama_server" | "ollama_llama_se" => runnerish(Engine::OllamaLlamaServer),
        "llama-server" => runnerish(Engine::LlamaServer),
        "ollama-runner" => runnerish(Engine::OllamaRunnerV01),
        "ollama" | "ollama-mlx" if sub == Some("runner") => {
            let engine = if has("--mlx-engine") {
                Engine::Mlx
            } else if has("--image-engine") || has("--imagegen-engine") {
                Engine::Image
            } else if has("--ollama-engine") {
                Engine::OllamaEngine
            } else {
                Engine::OllamaRunner
            };
            runnerish(engine)
        }
        // `os.Executable() runner …`: Ollama starts its runners from its own binary, whatever
        // that binary is called (a renamed or wrapped install, memtide's demo).
        _ if sub == Some("runner") && has("--port") => runnerish(if has("--ollama-engine") {
            Engine::OllamaEngine
        } else {
            Engine::OllamaRunner
        }),
        "ollama" if sub == Some("serve") => Role::Serve,
        "ollama"
            if exe == "Ollama" || argv.iter().any(|a| a.contains("/Contents/MacOS/Ollama")) =>
        {
            Role::App
        }
        "ollama" => match sub {
            Some(s) if !s.starts_with('-') => Role::Client {
                command: s.to_owned(),
            },
            _ => Role::Client {
                command: String::new(),
            },
        },
        _ if has("--mlx-engine") => runnerish(Engine::Mlx),
        _ => Role::Other,
    }
}

/// Where a runner's model name came from, in order of trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// The runner's own argument vector names the model (MLX and image runners).
    Argv,
    /// The blob path in its argv, resolved through Ollama's manifests while recording.
    Manifest,
    /// Inferred from `/api/ps`: a model that appeared when the runner started, of a size
    /// close to the runner's footprint.
    ApiPs,
    /// Inferred from `/api/ps` by elimination: alive from the trace's first sample, the only
    /// unnamed runner of Ollama's then, while Ollama's first listing held exactly one model not
    /// otherwise named, of a size the runner could hold.
    ApiPsOnlyOne,
    /// No manifest names its model blob: it is named by the blob's digest
    /// (`sha256:a5fd3b62c8e1…`, 12 hex digits).
    Digest,
    /// Nothing tells.
    Unknown,
}

impl NameSource {
    /// How a report says it.
    pub fn describe(self) -> &'static str {
        match self {
            NameSource::Argv => "named in its command line",
            NameSource::Manifest => "from its model blob, through Ollama's manifests",
            NameSource::ApiPs => "inferred from /api/ps timing and size",
            NameSource::ApiPsOnlyOne => {
                "inferred from /api/ps: the only model listed and the only unnamed runner"
            }
            NameSource::Digest => "its model blob's digest (no manifest names it)",
            NameSource::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn engine(role: &Role) -> &str {
        match role {
            Role::Runner { engine, .. } => engine.name(),
            _ => panic!("not a runner: {role:?}"),
        }
    }

    #[test]
    fn every_runner_generation() {
        let blob = "/Users/a/.ollama/models/blobs/sha256-ff1d1fc78170d787ee1201778e2dd65ea211654ca5fb7d69b5a2e7b123a50373";
        let cases = [
            ("ollama-runner", format!("/tmp/ollama1/metal/bin/ollama-runner --model {blob} --ctx-size 2048 --port 1"), "ollama-runner"),
            ("ollama_llama_se", format!("/var/folders/x/T/ollama123/runners/metal/ollama_llama_server --model {blob} --ctx-size 2048 --batch-size 512 --embedding --n-gpu-layers 33 --port 52433"), "ollama_llama_server"),
            ("ollama", format!("/Applications/Ollama.app/Contents/Resources/ollama runner --model {blob} --ctx-size 4096 --batch-size 512 --n-gpu-layers 31 --threads 4 --no-mmap --parallel 1 --port 52433"), "ollama runner"),
            ("ollama", format!("/opt/homebrew/Cellar/ollama/0.17.0/bin/ollama runner --ollama-engine --model {blob} --port 54686"), "ollama engine"),
            ("ollama", "/Applications/Ollama.app/Contents/Resources/ollama runner --mlx-engine --model qwen3.5:4b-nvfp4 --port 56840".to_owned(), "mlx"),
            ("ollama", "ollama runner --imagegen-engine --model x/flux2:latest --port 3".to_owned(), "image"),
            ("llama-server", format!("/usr/local/lib/ollama/llama-server --model {blob} --port 4 --host 127.0.0.1 --no-webui --offline -c 8192 -np 1"), "llama-server"),
        ];
        for (name, cmd, want) in cases {
            let role = classify(name, &argv(&cmd));
            assert_eq!(engine(&role), want, "{cmd}");
            assert!(role.is_model_runner());
        }
        // The MLX runner's model argument is the name itself.
        let mlx = classify(
            "ollama",
            &argv("ollama runner --mlx-engine --model qwen3.5:4b-nvfp4 --port 1"),
        );
        assert_eq!(
            mlx,
            Role::Runner {
                engine: Engine::Mlx,
                model_arg: "qwen3.5:4b-nvfp4".into(),
                under_ollama: true,
            }
        );
    }

    #[test]
    fn a_llama_server_is_ollamas_only_with_evidence() {
        let under = |cmd: &str| match classify("llama-server", &argv(cmd)) {
            Role::Runner { under_ollama, .. } => under_ollama,
            other => panic!("{other:?}"),
        };
        // Ollama's own binary, on a Mac and on Linux.
        assert!(under(
            "/Applications/Ollama.app/Contents/Resources/llama-server --model /m/blobs/sha256-ab --port 1"
        ));
        assert!(under(
            "/usr/local/lib/ollama/llama-server --model /b --port 1"
        ));
        // Homebrew's llama.cpp, LM Studio's: decided from the process tree later.
        assert!(!under(
            "/opt/homebrew/bin/llama-server -m /models/qwen.gguf --port 8080"
        ));
        assert!(!under(
            "/Users/x/.lmstudio/bin/llama-server --model /Users/x/models/a.gguf --port 1"
        ));
    }

    #[test]
    fn discovery_runners_serve_app_and_clients() {
        assert_eq!(
            classify(
                "ollama",
                &argv("/usr/bin/ollama runner --ollama-engine --port 40123")
            ),
            Role::Discovery
        );
        assert_eq!(
            classify("llama-server", &argv("/usr/lib/ollama/llama-server --port 5 --host 127.0.0.1 --no-webui --offline --verbose")),
            Role::Discovery
        );
        assert_eq!(
            classify("ollama", &argv("/usr/local/bin/ollama serve")),
            Role::Serve
        );
        assert_eq!(
            classify(
                "Ollama",
                &argv("/Applications/Ollama.app/Contents/MacOS/Ollama")
            ),
            Role::App
        );
        assert_eq!(
            classify("ollama", &argv("ollama run qwen3:8b --verbose")),
            Role::Client {
                command: "run".into()
            }
        );
        assert_eq!(classify("bash", &argv("bash")), Role::Other);
        // Ollama's binary under another name still starts runners as `<exe> runner`.
        assert!(classify(
            "memtide",
            &argv("/x/memtide runner --model qwen3:8b --port 5")
        )
        .is_model_runner());
        assert_eq!(
            classify("tool", &argv("tool runner")),
            Role::Other,
            "no --port: not a runner"
        );
        // No command line (another user's process): not enough to tell.
        assert_eq!(classify("ollama_llama_se", &[]), Role::Other);
        assert_eq!(classify("ollama", &[]), Role::Other);
    }

    /// The command lines Ollama logged when it started a runner (`cmd="…"`), in real logs of
    /// five generations, each with the name the kernel gives the process on Linux (15 bytes).
    #[test]
    fn real_runner_command_lines_of_five_generations() {
        macro_rules! log {
            ($name:literal) => {
                include_str!(concat!("../tests/fixtures/", $name))
            };
        }
        let cmd = |log: &str| -> Vec<String> {
            let at = log.find("cmd=\"").expect("a start line") + "cmd=\"".len();
            let end = log[at..].find('"').unwrap();
            log[at..at + end].split(' ').map(str::to_owned).collect()
        };
        let role = |log: &str| {
            let argv = cmd(log);
            let kernel_name: String = base(&argv[0]).chars().take(15).collect();
            classify(&kernel_name, &argv)
        };
        let blob = |hex: &str| format!("/root/.ollama/models/blobs/sha256-{hex}");
        for (log, engine) in [
            (
                log!("macos-v0.4.0-tmp-runners-metal-ollama_llama_server.log"),
                Engine::OllamaLlamaServer,
            ),
            (
                log!("linux-v0.5.x-ollama_llama_server-runner-cuda_v12_avx.log"),
                Engine::OllamaLlamaServer,
            ),
            (
                log!("macos-homebrew-v0.17.0-cellar-ollama-runner-short.log"),
                Engine::OllamaRunner,
            ),
        ] {
            match role(log) {
                Role::Runner {
                    engine: e,
                    model_arg,
                    under_ollama: true,
                } => {
                    assert_eq!(e, engine, "{log}");
                    assert!(
                        crate::manifests::blob_digest(&model_arg).is_some(),
                        "{model_arg}"
                    );
                }
                other => panic!("{other:?}: {log}"),
            }
        }
        // v0.13's GPU discovery: no model.
        assert_eq!(
            role(log!("macos-v0.13.0-discovery-runner-no-model.log")),
            Role::Discovery
        );
        // v0.33's llama-server in Docker, with a projector beside the model: the model is
        // the weights, and the binary is Ollama's.
        assert_eq!(
            role(log!("linux-docker-v0.33.2-llama-server-mmproj.log")),
            Role::Runner {
                engine: Engine::LlamaServer,
                model_arg: blob("9ed150d4367e68df0ac8e1540f6ddc65b42d0ee26378329d1ecbca60f93fc5f8"),
                under_ollama: true,
            }
        );
    }

    /// `ps aux` on a Mac running the app (macOS, 2026-04): a runner of the Ollama engine, a
    /// client and the server.
    #[test]
    fn a_macs_ps_aux_lines() {
        let lines =
            include_str!("../tests/fixtures/macos-2026-04-ps-aux-ollama-runner-ollama-engine.txt");
        let roles: Vec<Role> = lines
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                // USER PID %CPU %MEM VSZ RSS TT STAT STARTED TIME COMMAND…
                let argv: Vec<String> = l.split_whitespace().skip(10).map(str::to_owned).collect();
                classify(base(&argv[0]), &argv)
            })
            .collect();
        assert!(
            matches!(
                &roles[0],
                Role::Runner {
                    engine: Engine::OllamaEngine,
                    under_ollama: true,
                    ..
                }
            ),
            "{:?}",
            roles[0]
        );
        assert_eq!(
            roles[1..],
            [
                Role::Client {
                    command: "run".into()
                },
                Role::Serve
            ]
        );
    }
}
