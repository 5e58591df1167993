//! One redaction for every output a person may paste into a public issue or attach to it: the
//! report (text, Markdown, JSON), the chart (SVG, PNG), the viewer and the comparison. It works
//! on the data before anything is drawn, never on markup, so that a user name that is also a
//! word of SVG or HTML cannot break a file.

use memtide_model::report::Report;
use memtide_model::timeline::Timeline;
use std::path::PathBuf;

/// The user's home directory and name, to be taken out of every string a trace holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// Each spelling of the home directory that is replaced by `~`: as it is, and
    /// percent-encoded (`%2FUsers%2Falice`, as a URL or a query holds it).
    homes: Vec<String>,
    user: String,
}

/// A user name this short is replaced only as a word of its own: `al` would otherwise take
/// the `al` out of `also`. A longer one is replaced also where a word starts with it
/// (`alices-macbook`, `aliceMBP`), in any case (`Alice`).
const SHORT_NAME: usize = 3;

/// What a redacted user name becomes.
const USER: &str = "user";

impl Redaction {
    /// Takes out `home` (a directory, not `/`) and `user` (a name, not `user` itself).
    pub fn new(home: &str, user: &str) -> Redaction {
        let home = home.trim_end_matches('/');
        let homes = if home.len() > 1 {
            vec![home.to_owned(), home.replace('/', "%2F")]
        } else {
            Vec::new()
        };
        let user = if user.eq_ignore_ascii_case(USER) {
            String::new()
        } else {
            user.to_owned()
        };
        Redaction { homes, user }
    }

    /// `s` with the home directory replaced by `~` and the user name by `user`, whatever
    /// their case.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for home in &self.homes {
            out = replace_ignoring_case(&out, home, "~", |_, _| true);
        }
        if self.user.is_empty() {
            return out;
        }
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let short = self.user.chars().count() <= SHORT_NAME;
        replace_ignoring_case(&out, &self.user, USER, |before, after| {
            !word(before) && (!short || !word(after))
        })
    }

    /// A copy of `report` redacted, every string of it.
    pub fn report(&self, report: &Report) -> Result<Report, crate::chart::RenderError> {
        crate::try_map_strings(report, |s| {
            let r = self.text(s);
            (r != s).then_some(r)
        })
    }

    /// `tl` redacted, in place: its directory, what `meta.json` says in words, each process's
    /// names and command line, Ollama's model names, the errors and details rows hold, and
    /// the warnings. Times, numbers and the closed words of the trace are left as they are.
    pub fn timeline(&self, tl: &mut Timeline) {
        let t = |s: &mut String| *s = self.text(s);
        let opt = |s: &mut Option<String>| {
            if let Some(v) = s.as_mut() {
                *v = self.text(v);
            }
        };
        tl.dir = PathBuf::from(self.text(&tl.dir.to_string_lossy()));
        let m = &mut tl.meta;
        opt(&mut m.source);
        opt(&mut m.ollama_log);
        opt(&mut m.read_error);
        if let Some(o) = m.ollama.as_mut() {
            t(&mut o.url);
        }
        m.selection.patterns.iter_mut().for_each(t);
        for p in &mut tl.processes {
            let i = &mut p.identity;
            t(&mut i.name);
            opt(&mut i.exe);
            opt(&mut i.error);
            i.argv.iter_mut().for_each(t);
            i.models.iter_mut().for_each(t);
        }
        for r in &mut tl.polls {
            opt(&mut r.error);
        }
        for r in &mut tl.models {
            t(&mut r.name);
            t(&mut r.model);
        }
        for r in &mut tl.pressure {
            t(&mut r.detail);
        }
        for r in &mut tl.ollama_log {
            t(&mut r.detail);
        }
        tl.warnings.iter_mut().for_each(t);
    }
}

/// `s` with each occurrence of `what` (ASCII case ignored) that `keep` accepts, given the
/// characters before and after it, replaced by `with`.
fn replace_ignoring_case(
    s: &str,
    what: &str,
    with: &str,
    keep: impl Fn(Option<char>, Option<char>) -> bool,
) -> String {
    if what.is_empty() {
        return s.to_owned();
    }
    let (hay, needle) = (s.to_ascii_lowercase(), what.to_ascii_lowercase());
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    while let Some(i) = hay[at..].find(&needle).map(|i| i + at) {
        let end = i + needle.len();
        if keep(s[..i].chars().last(), s[end..].chars().next()) {
            out.push_str(&s[at..i]);
            out.push_str(with);
        } else {
            out.push_str(&s[at..end]);
        }
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_home_and_user_is_taken_out() {
        let r = Redaction::new("/Users/alice/", "alice");
        let cases = [
            (
                "/Users/alice/.ollama/models/blobs/sha256-ab --port 1",
                "~/.ollama/models/blobs/sha256-ab --port 1",
            ),
            ("/USERS/ALICE/x", "~/x"),
            ("file:///%2FUsers%2Falice%2Ftraces", "file:///~%2Ftraces"),
            ("%2fusers%2fALICE", "~"),
            (
                "memtide report: /tmp/alice-traces/t",
                "memtide report: /tmp/user-traces/t",
            ),
            ("alice Alice ALICE", "user user user"),
            // Where a word starts with the name: a host, a possessive, a suffix.
            (
                "alices-macbook-pro aliceMBP alice's",
                "users-macbook-pro userMBP user's",
            ),
            // Inside a word that does not start with it, the name is another word's.
            ("malice, palace", "malice, palace"),
        ];
        for (s, want) in cases {
            assert_eq!(r.text(s), want, "{s}");
        }
        // A short name only as a word of its own.
        let short = Redaction::new("/home/al", "al");
        assert_eq!(
            short.text("llama3.2:3b also al AL"),
            "llama3.2:3b also user user"
        );
        assert_eq!(short.text("/home/al/x"), "~/x");
        assert_eq!(Redaction::new("", "").text("x"), "x");
        assert_eq!(Redaction::new("/", "user").text("/user/x"), "/user/x");
    }
}
