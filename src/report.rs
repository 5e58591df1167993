//! `memtide report`: the summary and the narrative of a trace.

use anyhow::{Context, Result};
use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_render::report::{render, Clock, Style};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// `s` with the home directory `home` replaced by `~` and the user name `user` by `user`
/// wherever it stands as a name of its own (not inside a longer word: a user `al` leaves
/// `llama` alone).
pub fn redact(s: &str, home: &str, user: &str) -> String {
    let mut out = if home.len() > 1 {
        s.replace(home.trim_end_matches('/'), "~")
    } else {
        s.to_owned()
    };
    if user.is_empty() || user == "user" {
        return out;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut at = 0;
    while let Some(i) = out[at..].find(user).map(|i| i + at) {
        let end = i + user.len();
        if !word(out[..i].chars().last()) && !word(out[end..].chars().next()) {
            out.replace_range(i..end, "user");
            at = i + "user".len();
        } else {
            at = end;
        }
    }
    out
}

/// Loads the trace in `dir`, saying what to do when `dir` is not one.
pub fn load(dir: &Path) -> Result<Timeline> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a directory: give the trace directory that memtide record or memtide \
             import wrote",
            dir.display()
        );
    }
    if !dir.join(memtide_model::trace::META_FILE).exists() {
        anyhow::bail!(
            "{} has no meta.json: it is not a trace directory written by memtide record or \
             memtide import",
            dir.display()
        );
    }
    Timeline::load(dir).with_context(|| format!("cannot read the trace in {}", dir.display()))
}

/// The text report of a trace, in local time.
pub fn text(dir: &Path) -> Result<String> {
    let tl = load(dir)?;
    let r = report::build(&tl, &Options::default());
    Ok(render(
        &r,
        Style::Text,
        &Clock::new(jiff::tz::TimeZone::system()),
    ))
}

pub fn run(dir: &Path, format: Format, low_free_percent: f64, redact: bool) -> Result<()> {
    let tl = load(dir)?;
    let mut r = report::build(&tl, &Options { low_free_percent });
    if redact {
        let home = std::env::var("HOME").unwrap_or_default();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| home.rsplit('/').next().map(str::to_owned))
            .unwrap_or_default();
        r = memtide_render::map_strings(&r, |s| Some(self::redact(s, &home, &user)));
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        Format::Text | Format::Markdown => {
            let style = if format == Format::Text {
                Style::Text
            } else {
                Style::Markdown
            };
            let clock = Clock::new(jiff::tz::TimeZone::system());
            out.write_all(render(&r, style, &clock).as_bytes())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn home_and_user_name_are_taken_out() {
        let (home, user) = ("/Users/alice", "alice");
        assert_eq!(
            redact(
                "/Users/alice/.ollama/models/blobs/sha256-ab --port 1",
                home,
                user
            ),
            "~/.ollama/models/blobs/sha256-ab --port 1"
        );
        assert_eq!(
            redact("memtide report: /tmp/alice-traces/t", home, user),
            "memtide report: /tmp/user-traces/t"
        );
        assert_eq!(redact("alice alice", home, user), "user user");
        // Inside a longer word the name stays.
        assert_eq!(redact("malice, aliceb", home, user), "malice, aliceb");
        assert_eq!(redact("llama3.2:3b", "/home/al", "al"), "llama3.2:3b");
        assert_eq!(redact("/home/al/x", "/home/al", "al"), "~/x");
        assert_eq!(redact("x", "", ""), "x");
    }
}
