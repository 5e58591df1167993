//! `memtide service install|uninstall|status`: memtide always on, without editing a file. On
//! macOS a launchd agent (`~/Library/LaunchAgents/dev.memtide.KIND.plist`, loaded into the
//! user's GUI domain with `launchctl bootstrap`), on Linux a systemd user unit
//! (`$XDG_CONFIG_HOME/systemd/user/memtide-KIND.service`, `systemctl --user enable --now`).
//! Either runs as the user, from login, and is started again when it fails. The files are the
//! ones `contrib/` documents, written for this user and this binary.
//!
//! Managing a service is done by the service manager's own command (`launchctl`, `systemctl`):
//! there is no other interface to either. Nothing here samples anything.

use crate::cli::{ServiceAction, ServiceKind, ServiceManager};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use ServiceManager as Manager;

impl Manager {
    /// This OS's.
    fn here() -> Result<Manager> {
        match memtide_trace::Os::current() {
            memtide_trace::Os::Macos => Ok(Manager::Launchd),
            memtide_trace::Os::Linux => Ok(Manager::Systemd),
            os => bail!(
                "memtide service knows launchd (macOS) and systemd (Linux), not {}",
                os.display_name()
            ),
        }
    }
}

impl ServiceKind {
    fn word(self) -> &'static str {
        match self {
            ServiceKind::Record => "record",
            ServiceKind::Serve => "serve",
        }
    }

    /// launchd's label.
    fn label(self) -> String {
        format!("dev.memtide.{}", self.word())
    }

    /// systemd's unit name.
    fn unit(self) -> String {
        format!("memtide-{}.service", self.word())
    }
}

/// Where the user's files go.
struct Home {
    home: PathBuf,
    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    config: PathBuf,
    /// `$XDG_STATE_HOME`, else `~/.local/state`.
    state: PathBuf,
}

impl Home {
    fn from_env() -> Result<Home> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .context("HOME is not set: memtide service needs the user's home directory")?;
        let xdg = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(default))
        };
        Ok(Home {
            config: xdg("XDG_CONFIG_HOME", ".config"),
            state: xdg("XDG_STATE_HOME", ".local/state"),
            home,
        })
    }

    /// The service's file.
    fn file(&self, m: Manager, kind: ServiceKind) -> PathBuf {
        match m {
            Manager::Launchd => self
                .home
                .join("Library/LaunchAgents")
                .join(format!("{}.plist", kind.label())),
            Manager::Systemd => self.config.join("systemd/user").join(kind.unit()),
        }
    }

    /// Where `service install record` keeps its trace unless told.
    fn flight_dir(&self, m: Manager) -> PathBuf {
        match m {
            Manager::Launchd => self.home.join("Library/Application Support/memtide/flight"),
            Manager::Systemd => self.state.join("memtide/flight"),
        }
    }

    /// Where launchd writes the service's standard error.
    fn log(&self, kind: ServiceKind) -> PathBuf {
        self.home
            .join("Library/Logs")
            .join(format!("memtide-{}.log", kind.word()))
    }
}

/// The flags a service runs with: the user's, or the defaults of docs/always-on.md and
/// docs/fleet.md; always `--quiet` (no status line for a log), `record` always into a fixed
/// directory (a restart continues it), `serve` on loopback unless `--listen` says otherwise.
pub fn service_flags(kind: ServiceKind, given: &[String], flight_dir: &Path) -> Vec<String> {
    let mut flags: Vec<String> = if given.is_empty() {
        match kind {
            ServiceKind::Record => ["--keep", "24h", "--max-size", "1GB", "--interval", "1s"]
                .into_iter()
                .chain(["--burst", "100ms"])
                .map(String::from)
                .collect(),
            ServiceKind::Serve => ["--interval", "1s"].map(String::from).to_vec(),
        }
    } else {
        given.to_vec()
    };
    let has = |flags: &[String], names: &[&str]| {
        flags.iter().any(|f| {
            names
                .iter()
                .any(|n| f == n || f.starts_with(&format!("{n}=")))
        })
    };
    if !has(&flags, &["--quiet", "-q"]) {
        flags.insert(0, "--quiet".into());
    }
    match kind {
        ServiceKind::Record if !has(&flags, &["--out", "-o"]) => {
            flags.push("--out".into());
            flags.push(flight_dir.to_string_lossy().into_owned());
        }
        ServiceKind::Serve if !has(&flags, &["--listen"]) => {
            flags.push("--listen".into());
            flags.push("127.0.0.1:9464".into());
        }
        _ => {}
    }
    flags
}

/// The launchd agent: runs at login and again whenever it exits with a failure, in the
/// background, niced, its standard error into `log`.
pub fn plist(label: &str, argv: &[String], log: &Path) -> Result<Vec<u8>> {
    use plist::{Dictionary, Value};
    let mut keep_alive = Dictionary::new();
    keep_alive.insert("SuccessfulExit".into(), Value::Boolean(false));
    let mut d = Dictionary::new();
    d.insert("Label".into(), Value::String(label.into()));
    d.insert(
        "ProgramArguments".into(),
        Value::Array(argv.iter().cloned().map(Value::String).collect()),
    );
    d.insert("RunAtLoad".into(), Value::Boolean(true));
    d.insert("KeepAlive".into(), Value::Dictionary(keep_alive));
    d.insert("ProcessType".into(), Value::String("Background".into()));
    d.insert("Nice".into(), Value::Integer(10.into()));
    d.insert(
        "StandardErrorPath".into(),
        Value::String(log.to_string_lossy().into_owned()),
    );
    let mut out = Vec::new();
    Value::Dictionary(d)
        .to_writer_xml(&mut out)
        .context("cannot write the launchd agent")?;
    out.push(b'\n');
    Ok(out)
}

/// The systemd user unit.
pub fn unit(kind: ServiceKind, argv: &[String]) -> String {
    let what = match kind {
        ServiceKind::Record => "flight recorder: memory of local models, kept on disk",
        ServiceKind::Serve => "Prometheus exporter of local models' memory",
    };
    let exec: Vec<String> = argv.iter().map(|a| systemd_word(a)).collect();
    format!(
        "# Written by `memtide service install {}`; `memtide service uninstall {}` removes it.\n\
         [Unit]\n\
         Description=memtide {what}\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={}\n\
         # On SIGTERM memtide finishes its files and exits.\n\
         TimeoutStopSec=10\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         Nice=10\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        kind.word(),
        kind.word(),
        exec.join(" ")
    )
}

/// One word of a unit's command line, as systemd reads it back (systemd.service(5),
/// "Command lines"; systemd.unit(5), "Specifiers"): in double quotes when it holds anything
/// but plain characters, with `\` and `"` escaped, and `%` and `$` doubled so that neither a
/// specifier nor a variable is expanded.
fn systemd_word(word: &str) -> String {
    let escaped = word.replace('%', "%%").replace('$', "$$");
    let plain = !escaped.is_empty()
        && escaped
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,%$".contains(c));
    if plain {
        escaped
    } else {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// This binary's path as the user reaches it: found on PATH when it was started by name (a
/// Homebrew or Cargo link that stays put across upgrades), else made absolute.
fn binary() -> Result<PathBuf> {
    let arg0 = std::env::args_os().next().map(PathBuf::from);
    if let Some(a) = arg0.as_ref().filter(|a| a.components().count() == 1) {
        if let Some(found) = std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(a))
                .find(|p| p.is_file())
        }) {
            return Ok(std::path::absolute(found)?);
        }
    }
    match arg0.filter(|a| a.components().count() > 1) {
        Some(a) => Ok(std::path::absolute(a)?),
        None => std::env::current_exe().context("cannot tell where memtide is"),
    }
}

/// Runs a service manager's command; its failure names it and says what it printed.
fn manage(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn uid() -> String {
    rustix::process::getuid().as_raw().to_string()
}

/// `memtide service …`.
pub fn command(action: ServiceAction) -> Result<()> {
    let home = Home::from_env()?;
    match action {
        ServiceAction::Install {
            kind,
            no_start,
            force,
            manager,
            flags,
        } => {
            let m = match manager {
                Some(m) => m,
                None => Manager::here()?,
            };
            install(m, &home, kind, &flags, !no_start, force)
        }
        ServiceAction::Uninstall { kind } => {
            let m = Manager::here()?;
            let kinds = kind.map_or(vec![ServiceKind::Record, ServiceKind::Serve], |k| vec![k]);
            let mut removed = 0;
            for k in kinds {
                removed += usize::from(uninstall(m, &home, k)?);
            }
            if removed == 0 {
                outln!("no memtide service is installed")?;
            }
            Ok(())
        }
        ServiceAction::Status => status(Manager::here()?, &home),
    }
}

fn install(
    m: Manager,
    home: &Home,
    kind: ServiceKind,
    given: &[String],
    start: bool,
    force: bool,
) -> Result<()> {
    let flags = service_flags(kind, given, &home.flight_dir(m));
    // The flags are checked as the service will read them, before anything is written.
    let mut argv = vec!["memtide".to_owned(), kind.word().to_owned()];
    argv.extend(flags.iter().cloned());
    if let Err(e) = <crate::cli::Cli as clap::Parser>::try_parse_from(&argv) {
        bail!(
            "the flags for `memtide {}` are refused: {}",
            kind.word(),
            e.render().to_string().trim()
        );
    }
    argv[0] = binary()?.to_string_lossy().into_owned();
    let file = home.file(m, kind);
    if file.exists() && !force {
        bail!(
            "{} exists: `memtide service uninstall {}` first, or give --force to replace it",
            file.display(),
            kind.word()
        );
    }
    let text = match m {
        Manager::Launchd => plist(&kind.label(), &argv, &home.log(kind))?,
        Manager::Systemd => unit(kind, &argv).into_bytes(),
    };
    let parent = file.parent().context("a service file has a directory")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    if kind == ServiceKind::Record {
        let out = flags
            .iter()
            .position(|f| f == "--out" || f == "-o")
            .and_then(|i| flags.get(i + 1));
        if let Some(dir) = out.and_then(|d| Path::new(d).parent()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    outln!("wrote {}", file.display())?;
    outln!("it runs: {}", argv.join(" "))?;
    if !start {
        return Ok(());
    }
    match m {
        Manager::Launchd => {
            let domain = format!("gui/{}", uid());
            // Replacing a loaded agent: launchd keeps the old one until it is booted out.
            if force && loaded(m, kind, &file).is_some() {
                manage(
                    "launchctl",
                    &["bootout", &format!("{domain}/{}", kind.label())],
                )?;
            }
            manage(
                "launchctl",
                &["bootstrap", &domain, &file.to_string_lossy()],
            )?;
        }
        Manager::Systemd => {
            manage("systemctl", &["--user", "daemon-reload"])?;
            manage("systemctl", &["--user", "enable", "--now", &kind.unit()])?;
            if force {
                manage("systemctl", &["--user", "restart", &kind.unit()])?;
            }
        }
    }
    outln!("started; `memtide service status` says how it runs")?;
    Ok(())
}

/// What the service manager says of the service `kind`: `None` when it has not loaded it
/// from `file` (not loaded at all, or loaded from another file, which is not this home's to
/// stop).
fn loaded(m: Manager, kind: ServiceKind, file: &Path) -> Option<String> {
    let text = match m {
        Manager::Launchd => manage(
            "launchctl",
            &["print", &format!("gui/{}/{}", uid(), kind.label())],
        ),
        Manager::Systemd => manage(
            "systemctl",
            &[
                "--user",
                "show",
                "--property=FragmentPath,LoadState,ActiveState,SubState,MainPID",
                &kind.unit(),
            ],
        ),
    }
    .ok()?;
    let from = loaded_path(m, &text)?;
    (Path::new(&from) == file).then_some(text)
}

/// The file a service was loaded from: `launchctl print`'s `path = …` line, `systemctl show`'s
/// `FragmentPath=`.
pub fn loaded_path(m: Manager, text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| match m {
            Manager::Launchd => l
                .trim()
                .strip_prefix("path = ")
                .map(|p| p.trim().to_owned()),
            Manager::Systemd => l.strip_prefix("FragmentPath=").map(str::to_owned),
        })
        .filter(|p| !p.is_empty())
}

/// Stops and removes one service; whether there was one.
fn uninstall(m: Manager, home: &Home, kind: ServiceKind) -> Result<bool> {
    let file = home.file(m, kind);
    if !file.exists() {
        return Ok(false);
    }
    // Only the service loaded from this file is stopped; the file goes either way.
    if loaded(m, kind, &file).is_some() {
        match m {
            Manager::Launchd => {
                manage(
                    "launchctl",
                    &["bootout", &format!("gui/{}/{}", uid(), kind.label())],
                )?;
            }
            Manager::Systemd => {
                manage("systemctl", &["--user", "disable", "--now", &kind.unit()])?;
            }
        }
    }
    std::fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
    outln!("removed {}", file.display())?;
    Ok(true)
}

/// What is installed, what it runs and whether it runs.
fn status(m: Manager, home: &Home) -> Result<()> {
    let mut any = false;
    for kind in [ServiceKind::Record, ServiceKind::Serve] {
        let file = home.file(m, kind);
        if !file.exists() {
            continue;
        }
        any = true;
        let state = match (m, loaded(m, kind, &file)) {
            (Manager::Launchd, Some(text)) => launchd_state(&text),
            (Manager::Systemd, Some(text)) => systemd_state(&text),
            // launchd loads every agent in ~/Library/LaunchAgents at login; systemd starts
            // at login only what was enabled.
            (Manager::Launchd, None) => {
                "installed, not loaded (it loads at the next login)".to_owned()
            }
            (Manager::Systemd, None) => format!(
                "installed, not loaded (`systemctl --user enable --now {}` starts it)",
                kind.unit()
            ),
        };
        outln!("{}: {} ({})", kind.word(), state, file.display())?;
    }
    if !any {
        outln!("no memtide service is installed (`memtide service install record` or `serve`)")?;
    }
    Ok(())
}

/// `running, pid 123` from `launchctl print`'s `state = running` and `pid = 123` lines.
pub fn launchd_state(text: &str) -> String {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            (k.trim() == name).then(|| v.trim().to_owned())
        })
    };
    match (field("state"), field("pid")) {
        (Some(s), Some(p)) => format!("{s}, pid {p}"),
        (Some(s), None) => s,
        _ => "loaded".into(),
    }
}

/// `active (running), pid 123` from `systemctl show`'s properties.
pub fn systemd_state(text: &str) -> String {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("")
    };
    let pid = field("MainPID");
    let base = format!("{} ({})", field("ActiveState"), field("SubState"));
    if pid.is_empty() || pid == "0" {
        base
    } else {
        format!("{base}, pid {pid}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_docs_and_serve_stays_on_loopback() {
        let dir = Path::new("/home/a/.local/state/memtide/flight");
        let r = service_flags(ServiceKind::Record, &[], dir);
        assert_eq!(
            r.join(" "),
            "--quiet --keep 24h --max-size 1GB --interval 1s --burst 100ms --out \
             /home/a/.local/state/memtide/flight"
        );
        let s = service_flags(ServiceKind::Serve, &[], dir);
        assert_eq!(s.join(" "), "--quiet --interval 1s --listen 127.0.0.1:9464");
        // The user's flags are kept; what they leave out is added.
        let given = ["--listen=0.0.0.0:9464".to_owned(), "-q".to_owned()];
        assert_eq!(
            service_flags(ServiceKind::Serve, &given, dir),
            given.to_vec()
        );
        let given = ["--interval".to_owned(), "500ms".to_owned()];
        assert_eq!(
            service_flags(ServiceKind::Record, &given, dir).join(" "),
            "--quiet --interval 500ms --out /home/a/.local/state/memtide/flight"
        );
    }

    #[test]
    fn a_unit_quotes_what_systemd_would_expand_or_split() {
        assert_eq!(systemd_word("/usr/bin/memtide"), "/usr/bin/memtide");
        assert_eq!(systemd_word("/home/a b/x"), "\"/home/a b/x\"");
        assert_eq!(systemd_word("50%"), "50%%");
        assert_eq!(systemd_word("$HOME"), "$$HOME");
        assert_eq!(systemd_word("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(systemd_word(""), "\"\"");
        let u = unit(
            ServiceKind::Record,
            &[
                "/opt/memtide".into(),
                "record".into(),
                "--out".into(),
                "/tmp/my trace".into(),
            ],
        );
        assert!(
            u.contains("\nExecStart=/opt/memtide record --out \"/tmp/my trace\"\n"),
            "{u}"
        );
    }

    #[test]
    fn the_agent_is_a_plist_launchd_reads_back() {
        let argv = [
            "/opt/homebrew/bin/memtide".to_owned(),
            "serve".to_owned(),
            "<&>".to_owned(),
        ];
        let bytes = plist(
            "dev.memtide.serve",
            &argv,
            Path::new("/Users/a/Library/Logs/x.log"),
        )
        .unwrap();
        let v = plist::Value::from_reader_xml(bytes.as_slice()).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["Label"].as_string(), Some("dev.memtide.serve"));
        let args: Vec<&str> = d["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_string().unwrap())
            .collect();
        assert_eq!(args, argv);
        assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
        assert_eq!(
            d["KeepAlive"].as_dictionary().unwrap()["SuccessfulExit"].as_boolean(),
            Some(false)
        );
    }

    #[test]
    fn the_file_a_service_came_from_is_read_from_the_managers_words() {
        let print = "gui/501/dev.memtide.serve = {\n\tactive count = 1\n\tpath = /Users/a/Library/LaunchAgents/dev.memtide.serve.plist\n\tstate = running\n}";
        assert_eq!(
            loaded_path(Manager::Launchd, print).as_deref(),
            Some("/Users/a/Library/LaunchAgents/dev.memtide.serve.plist")
        );
        let show =
            "FragmentPath=/home/a/.config/systemd/user/memtide-serve.service\nLoadState=loaded\n";
        assert_eq!(
            loaded_path(Manager::Systemd, show).as_deref(),
            Some("/home/a/.config/systemd/user/memtide-serve.service")
        );
        // Not loaded: systemd answers with an empty path.
        assert_eq!(
            loaded_path(Manager::Systemd, "FragmentPath=\nLoadState=not-found\n"),
            None
        );
    }

    #[test]
    fn states_read_from_the_managers_words() {
        let print = "gui/501/dev.memtide.serve = {\n\tactive count = 1\n\tstate = running\n\n\tprogram = /opt/homebrew/bin/memtide\n\tpid = 4242\n}";
        assert_eq!(launchd_state(print), "running, pid 4242");
        assert_eq!(launchd_state("state = not running\n"), "not running");
        let show = "ActiveState=active\nSubState=running\nMainPID=77\n";
        assert_eq!(systemd_state(show), "active (running), pid 77");
        assert_eq!(
            systemd_state("ActiveState=inactive\nSubState=dead\nMainPID=0\n"),
            "inactive (dead)"
        );
    }
}
