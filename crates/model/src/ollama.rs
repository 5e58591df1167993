//! Ollama's HTTP API as memtide reads it: where the server is, and the answers of `/api/ps` and
//! `/api/version` (memtide-record asks them, `ollama::Client` there).
//!
//! The response types accept every version's shape: `size_vram` absent before v0.1.42 when a model
//! was on the CPU only, `context_length` absent before v0.10, `modified_at` present in
//! v0.1.38–v0.1.41, times with nanoseconds and the server's local offset, the year-2318
//! `expires_at` of `keep_alive: -1`, and fields added later (ignored).

use serde::{Deserialize, Deserializer, Serialize};

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

/// The most bytes of a `/api/ps` answer that are read: a few hundred models' worth. A longer
/// answer (a broken or hostile server) is a bad response, so that it cannot slow sampling or
/// fill the trace.
pub const MAX_PS_BODY_BYTES: u64 = 1 << 20;

/// The most models kept from one `/api/ps` answer. Ollama keeps at most
/// `OLLAMA_MAX_LOADED_MODELS` loaded (3 per GPU by default); 64 is far above any real machine.
/// The rest are counted in [`PsResponse::dropped`].
pub const MAX_PS_MODELS: usize = 64;

/// `GET /api/ps`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PsResponse {
    /// The loaded models, longest remaining keep-alive first. `null` is read as none.
    pub models: Vec<RunningModel>,
    /// Models of the answer that were not kept: past [`MAX_PS_MODELS`], or not readable as a
    /// model (a field of the wrong type). The rest of the answer is kept either way.
    #[serde(skip)]
    pub dropped: usize,
}

impl<'de> Deserialize<'de> for PsResponse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Each model is read as plain JSON first and then on its own, so that one bad model
        // costs only itself. The answer's size is bounded before this (MAX_PS_BODY_BYTES).
        #[derive(Deserialize)]
        struct Values {
            #[serde(default, deserialize_with = "null_as_default")]
            models: Vec<serde_json::Value>,
        }
        let v = Values::deserialize(d)?;
        let total = v.models.len();
        let models: Vec<RunningModel> = v
            .models
            .into_iter()
            .take(MAX_PS_MODELS)
            .filter_map(|m| serde_json::from_value(m).ok())
            .collect();
        Ok(PsResponse {
            dropped: total - models.len(),
            models,
        })
    }
}

/// One loaded model, as `/api/ps` describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunningModel {
    /// Short display name, e.g. `qwen3:8b`.
    #[serde(default)]
    pub name: String,
    /// Same as `name` in every version so far.
    #[serde(default)]
    pub model: String,
    /// Ollama's estimate of the runner's total memory, in bytes (KV cache included).
    #[serde(default)]
    pub size: u64,
    /// Hex SHA-256 of the model's manifest (the first 12 characters are `ollama ps`'s ID).
    #[serde(default)]
    pub digest: String,
    /// What the model is.
    #[serde(default, deserialize_with = "null_as_default")]
    pub details: ModelDetails,
    /// When the model will be unloaded. `None` when the server sent none.
    #[serde(default, with = "opt_timestamp")]
    pub expires_at: Option<jiff::Timestamp>,
    /// The part of `size` on the GPU, in bytes (all of it on Apple Silicon). Absent before
    /// v0.1.42 for CPU-only models.
    #[serde(default)]
    pub size_vram: Option<u64>,
    /// The context length the runner was loaded with (v0.10+).
    #[serde(default)]
    pub context_length: Option<u64>,
}

/// `details` of a model, as Ollama's `api/types.go` (`ModelDetails`, l. 933) names them; each is empty
/// where Ollama left it out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDetails {
    /// The model it was made from, where it was made from another.
    #[serde(default)]
    pub parent_model: String,
    /// Its file format: `gguf`, or `safetensors` for MLX models.
    #[serde(default)]
    pub format: String,
    /// Its architecture family, for example `llama`.
    #[serde(default)]
    pub family: String,
    /// Every family it belongs to (a vision model lists its projector's too).
    #[serde(default, deserialize_with = "null_as_default")]
    pub families: Vec<String>,
    /// Its parameter count as Ollama writes it, for example `8.0B`.
    #[serde(default)]
    pub parameter_size: String,
    /// Its quantization, for example `Q4_K_M`.
    #[serde(default)]
    pub quantization_level: String,
}

/// `GET /api/version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResponse {
    /// For example `0.30.7`.
    pub version: String,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// RFC 3339 times with any offset and up to nanoseconds, as Go's `time.Time` marshals them.
mod opt_timestamp {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<jiff::Timestamp>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => s
                .parse::<jiff::Timestamp>()
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("expires_at `{s}`: {e}"))),
        }
    }

    pub fn serialize<S: Serializer>(t: &Option<jiff::Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_string()),
            None => s.serialize_none(),
        }
    }
}

/// Parses a `/api/ps` body.
pub fn parse_ps(body: &str) -> Result<PsResponse, serde_json::Error> {
    serde_json::from_str(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../tests/fixtures/", $name))
        };
    }

    #[test]
    fn one_bad_model_costs_only_itself_and_the_count_is_capped() {
        let body = r#"{"models":[
            {"name":"good:1b","model":"good:1b","size":5,"digest":"ab"},
            {"name":"bad","size":"huge"},
            {"name":"good:2b","model":"good:2b","size":7,"digest":"cd"}]}"#;
        let ps = parse_ps(body).unwrap();
        let names: Vec<&str> = ps.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!((names, ps.dropped), (vec!["good:1b", "good:2b"], 1));
        let many = format!(
            "{{\"models\":[{}]}}",
            vec![r#"{"name":"m","size":1}"#; 1000].join(",")
        );
        let ps = parse_ps(&many).unwrap();
        assert_eq!(
            (ps.models.len(), ps.dropped),
            (MAX_PS_MODELS, 1000 - MAX_PS_MODELS)
        );
        assert!(parse_ps("[1,2]").is_err(), "not an answer at all");
    }

    #[test]
    fn ps_of_v0_10_and_later_two_models() {
        let ps = parse_ps(fixture!("ollama-bash-lib-demo-two-models-2025-07-29.json")).unwrap();
        assert_eq!(ps.models.len(), 2);
        let m = &ps.models[0];
        assert_eq!(
            (m.name.as_str(), m.size, m.size_vram),
            ("granite3.3:2b", 2686878533, Some(2686878533))
        );
        assert_eq!(m.context_length, Some(4096));
        assert_eq!(m.details.families, ["granite"]);
        assert_eq!(m.details.quantization_level, "Q4_K_M");
        // 20:47:55.827998 at +02:00 is 18:47:55.827998 UTC.
        assert_eq!(
            m.expires_at.unwrap().to_string(),
            "2025-07-29T18:47:55.827998Z"
        );
    }

    #[test]
    fn ps_of_v0_1_42_without_context_length() {
        let ps = parse_ps(fixture!("ollama-docs-api.md-v0.1.42-mistral.json")).unwrap();
        let m = &ps.models[0];
        assert_eq!(m.name, "mistral:latest");
        assert_eq!(m.context_length, None);
        assert_eq!(m.size_vram, Some(5137025024));
        assert_eq!(
            m.expires_at.unwrap().to_string(),
            "2024-06-04T21:38:31.83753Z"
        );
    }

    #[test]
    fn ps_partial_offload_from_the_openapi_example() {
        let ps = parse_ps(fixture!("ollama-docs-openapi-gemma4.json")).unwrap();
        let m = &ps.models[0];
        assert!(m.size_vram.unwrap() < m.size);
        assert_eq!(m.digest.len(), 64);
    }

    #[test]
    fn ps_of_v0_1_38_to_41_cpu_only_with_modified_at() {
        // The v0.1.42 example as v0.1.38-41 sent it for a CPU-only model: `size_vram` omitted
        // (omitempty) and a zero `modified_at`.
        let body = fixture!("ollama-docs-api.md-v0.1.42-mistral.json").replace(
            "\"size_vram\": 5137025024",
            "\"modified_at\": \"0001-01-01T00:00:00Z\"",
        );
        let m = &parse_ps(&body).unwrap().models[0];
        assert_eq!(m.size_vram, None);
        assert_eq!(m.size, 5137025024);
    }

    #[test]
    fn ps_keep_alive_forever_and_nanoseconds() {
        let body = r#"{"models":[{"name":"qwen3:8b","model":"qwen3:8b","size":1,"digest":"ab",
            "details":{"families":null},"expires_at":"2318-04-11T23:47:16.854775807-07:00",
            "size_vram":1,"context_length":8192,"added_later":{"x":1}}]}"#;
        let m = &parse_ps(body).unwrap().models[0];
        assert_eq!(
            m.expires_at.unwrap().to_string(),
            "2318-04-12T06:47:16.854775807Z"
        );
        assert!(m.details.families.is_empty());
    }

    #[test]
    fn ps_empty_null_and_garbage() {
        assert!(parse_ps(r#"{"models":[]}"#).unwrap().models.is_empty());
        assert!(parse_ps(r#"{"models":null}"#).unwrap().models.is_empty());
        assert!(parse_ps("<html>").is_err());
        // A model with a bad field is dropped and counted; the poll stands.
        for one in [r#"{"size":"big"}"#, r#"{"expires_at":"tomorrow"}"#] {
            let ps = parse_ps(&format!(r#"{{"models":[{one}]}}"#)).unwrap();
            assert_eq!((ps.models.len(), ps.dropped), (0, 1), "{one}");
        }
    }

    #[test]
    fn version_bodies() {
        for (text, want) in [
            (fixture!("ollama-0.30.7.txt"), "0.30.7"),
            (fixture!("ollama-0.24.0-mac-lan.txt"), "0.24.0"),
        ] {
            let body = text.lines().find(|l| l.starts_with('{')).unwrap();
            let v: VersionResponse = serde_json::from_str(body).unwrap();
            assert_eq!(v.version, want);
        }
    }

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
