//! Where the Ollama server is.

/// Ollama's port when none is given.
pub const DEFAULT_PORT: u16 = 11434;

/// The base URL of the Ollama server: `flag` (memtide's `--ollama`) if given, else `env` (the
/// value of `OLLAMA_HOST`), else `http://127.0.0.1:11434`.
///
/// Both are read the way Ollama's own client reads `OLLAMA_HOST` (`envconfig.Host()`): quotes
/// and spaces trimmed; `host`, `host:port`, `[v6]:port` or `scheme://host:port[/path]`; no
/// scheme means `http`; a missing port is 11434 without a scheme, 80 for `http://` and 443 for
/// `https://`; an empty host is `127.0.0.1`; a port that is not a number from 0 to 65535 is
/// replaced by the default.
pub fn base_url(flag: Option<&str>, env: Option<&str>) -> String {
    let given = flag.or(env).unwrap_or("");
    let s = given.trim().trim_matches(|c| c == '"' || c == '\'');
    let (scheme, rest, default_port) = match s.split_once("://") {
        None => ("http", s, DEFAULT_PORT),
        Some(("https", rest)) => ("https", rest, 443),
        Some(("http", rest)) => ("http", rest, 80),
        Some((scheme, rest)) => (scheme, rest, DEFAULT_PORT),
    };
    let (hostport, path) = match rest.split_once('/') {
        Some((hp, p)) => (hp, Some(p)),
        None => (rest, None),
    };
    let (host, port) = match split_host_port(hostport) {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(default_port)),
        None => (
            hostport.trim_start_matches('[').trim_end_matches(']'),
            default_port,
        ),
    };
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match path.filter(|p| !p.is_empty()) {
        Some(p) => format!("{scheme}://{host}:{port}/{}", p.trim_end_matches('/')),
        None => format!("{scheme}://{host}:{port}"),
    }
}

/// `host:port` or `[v6]:port` into its parts; `None` when there is no port (as Go's
/// `net.SplitHostPort` fails on a bare host or a bare IPv6 address).
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return Some((host, after.strip_prefix(':')?));
    }
    let (host, port) = s.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_forms() {
        let cases = [
            (None, "http://127.0.0.1:11434"),
            (Some(""), "http://127.0.0.1:11434"),
            (Some("0.0.0.0"), "http://0.0.0.0:11434"),
            (Some("\"0.0.0.0:11435\""), "http://0.0.0.0:11435"),
            (Some("example.com"), "http://example.com:11434"),
            (Some("http://example.com"), "http://example.com:80"),
            (Some("https://example.com"), "https://example.com:443"),
            (
                Some("https://example.com:8443/ollama/"),
                "https://example.com:8443/ollama",
            ),
            (Some(":9000"), "http://127.0.0.1:9000"),
            (Some("[::1]:9000"), "http://[::1]:9000"),
            (Some("::1"), "http://[::1]:11434"),
            (Some("host:notaport"), "http://host:11434"),
            (Some("host:99999"), "http://host:11434"),
        ];
        for (env, want) in cases {
            assert_eq!(base_url(None, env), want, "OLLAMA_HOST={env:?}");
        }
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        assert_eq!(
            base_url(Some("http://10.0.0.2:1234"), Some("0.0.0.0")),
            "http://10.0.0.2:1234"
        );
    }
}
