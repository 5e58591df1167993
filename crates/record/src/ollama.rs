//! Asking Ollama: a blocking client for `/api/ps` and `/api/version` (the answers are
//! `memtide_model::ollama`'s types), and why a request gave no answer.

use memtide_model::ollama::{parse_ps, PsResponse, VersionResponse, MAX_PS_BODY_BYTES};
use std::time::{Duration, Instant};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Why a request to Ollama gave no answer memtide can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OllamaError {
    /// Nothing answered: connection refused, host not found, reset.
    #[error("Ollama at {url} is unreachable: {detail}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The server did not answer within the timeout.
    #[error("Ollama at {url} did not answer within {timeout_ms} ms")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout.
        timeout_ms: u64,
    },
    /// The server answered with an HTTP error status.
    #[error("Ollama at {url} answered HTTP {status}")]
    Http {
        /// The URL asked.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The answer was not the JSON expected.
    #[error("Ollama at {url} sent a response memtide cannot read: {detail}")]
    BadResponse {
        /// The URL asked.
        url: String,
        /// What was wrong.
        detail: String,
    },
}

impl OllamaError {
    /// The poll's outcome as the trace holds it.
    pub fn outcome(&self) -> memtide_trace::PollOutcome {
        use memtide_trace::PollOutcome;
        match self {
            OllamaError::Unreachable { .. } => PollOutcome::Unreachable,
            OllamaError::Timeout { .. } => PollOutcome::Timeout,
            OllamaError::Http { .. } => PollOutcome::HttpError,
            OllamaError::BadResponse { .. } => PollOutcome::BadResponse,
        }
    }
}

/// A blocking client for the two endpoints memtide reads. Plain HTTP only, which is what a
/// local Ollama speaks. The connection is kept open between requests (Ollama's server keeps
/// it alive), and the server's address is looked up once and again only after a request
/// failed.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    timeout: Duration,
    agent: ureq::Agent,
    addresses: std::sync::Arc<Remembered>,
}

/// A name lookup made once and kept until a request fails. ureq looks the host up before
/// every request, even one sent on a kept connection, and, with a timeout set, does it on a
/// thread it starts for the purpose (`ureq` 3.5, `src/unversioned/resolver.rs`,
/// `resolve_async`): a thread started and stopped at every poll, most of a poll's cost.
#[derive(Debug, Default)]
struct Remembered {
    looked_up: std::sync::Mutex<Option<ResolvedSocketAddrs>>,
}

impl Remembered {
    fn forget(&self) {
        *self.looked_up.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[derive(Debug)]
struct RememberingResolver(std::sync::Arc<Remembered>);

impl Resolver for RememberingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut kept = self.0.looked_up.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(addrs) = kept.as_ref() {
            return Ok(addrs.clone());
        }
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        *kept = Some(addrs.clone());
        Ok(addrs)
    }
}

impl Client {
    /// A client for `base_url` (see [`memtide_model::ollama::base_url`]) whose every request gives up after
    /// `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build();
        let addresses = std::sync::Arc::new(Remembered::default());
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::default(),
            RememberingResolver(addresses.clone()),
        );
        Client {
            base: base_url.trim_end_matches('/').to_owned(),
            timeout,
            agent,
            addresses,
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn get(&self, path: &str) -> Result<String, OllamaError> {
        let got = self.get_once(path);
        if got.is_err() {
            // The server may have moved: looked up again at the next request.
            self.addresses.forget();
        }
        got
    }

    fn get_once(&self, path: &str) -> Result<String, OllamaError> {
        let url = format!("{}{path}", self.base);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| self.failure(&url, e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(OllamaError::Http { url, status });
        }
        resp.body_mut()
            .with_config()
            .limit(MAX_PS_BODY_BYTES)
            .read_to_string()
            .map_err(|e| match self.failure(&url, e) {
                OllamaError::Unreachable { url, detail } => {
                    OllamaError::BadResponse { url, detail }
                }
                other => other,
            })
    }

    fn failure(&self, url: &str, e: ureq::Error) -> OllamaError {
        match e {
            ureq::Error::Timeout(_) => OllamaError::Timeout {
                url: url.to_owned(),
                timeout_ms: self.timeout.as_millis() as u64,
            },
            ureq::Error::StatusCode(status) => OllamaError::Http {
                url: url.to_owned(),
                status,
            },
            ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => {
                OllamaError::Timeout {
                    url: url.to_owned(),
                    timeout_ms: self.timeout.as_millis() as u64,
                }
            }
            ureq::Error::Protocol(_) | ureq::Error::BodyExceedsLimit(_) => {
                OllamaError::BadResponse {
                    url: url.to_owned(),
                    detail: e.to_string(),
                }
            }
            other => OllamaError::Unreachable {
                url: url.to_owned(),
                detail: other.to_string(),
            },
        }
    }

    /// `GET /api/ps`, with how long it took.
    pub fn ps(&self) -> (Result<PsResponse, OllamaError>, Duration) {
        let (text, took) = self.ps_text();
        (text.and_then(|t| self.parse_ps_text(&t)), took)
    }

    /// `GET /api/ps` as the server sent it, with how long it took.
    pub(crate) fn ps_text(&self) -> (Result<String, OllamaError>, Duration) {
        let started = Instant::now();
        let result = self.get("/api/ps");
        (result, started.elapsed())
    }

    /// An answer of `/api/ps` read.
    pub(crate) fn parse_ps_text(&self, text: &str) -> Result<PsResponse, OllamaError> {
        parse_ps(text).map_err(|e| OllamaError::BadResponse {
            url: format!("{}/api/ps", self.base),
            detail: e.to_string(),
        })
    }

    /// `GET /api/version`.
    pub fn version(&self) -> Result<String, OllamaError> {
        let body = self.get("/api/version")?;
        serde_json::from_str::<VersionResponse>(&body)
            .map(|v| v.version)
            .map_err(|e| OllamaError::BadResponse {
                url: format!("{}/api/version", self.base),
                detail: e.to_string(),
            })
    }
}
