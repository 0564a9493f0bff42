//! The only module that talks HTTP. It sends a [`PreparedRequest`] with ureq, retrying what is
//! safe to retry, and hands back the status, headers and the body as a stream, so large
//! answers never sit in memory. Every failure becomes a network error (exit 3) that names the
//! host and the phase that failed.
//!
//! Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` with `NO_PROXY` (ureq reads them);
//! TLS trusts the platform's roots, plus `--cacert`; `--insecure` turns verification off.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Agent;

use crate::error::{Error, Result};
use crate::request::PreparedRequest;
use crate::spec::Method;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_RETRIES: u32 = 2;
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(10);
/// A `Retry-After` longer than this is not waited for: the answer is returned instead.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

pub struct Response {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// The body, read as it arrives.
    pub body: Box<dyn Read + Send>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads the whole body (for JSONata, error summaries and response validation).
    pub fn read_all(&mut self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.body.read_to_end(&mut bytes).map_err(|e| {
            Error::network(format!(
                "the connection broke while reading the answer: {e}"
            ))
        })?;
        Ok(bytes)
    }
}

/// How requests are sent: limits, retries and trust.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub timeout: Duration,
    pub retries: u32,
    /// Retry POST and PATCH too (they may not be idempotent).
    pub retry_unsafe: bool,
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            retry_unsafe: false,
            cacert: None,
            insecure: false,
        }
    }
}

/// Why an attempt is repeated, for `-v`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// The attempt that failed, from 1.
    pub attempt: u32,
    pub reason: String,
    pub wait: Duration,
}

fn tls_config(settings: &Settings) -> Result<TlsConfig> {
    let roots = match &settings.cacert {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                Error::usage(format!("cannot read --cacert {}: {e}", path.display()))
            })?;
            let certificates: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
                    _ => None,
                })
                .collect();
            if certificates.is_empty() {
                return Err(Error::usage(format!(
                    "--cacert {} holds no PEM certificate",
                    path.display()
                ))
                .with_help("give a file with -----BEGIN CERTIFICATE----- blocks"));
            }
            RootCerts::new_with_certs(&certificates)
        }
        None => RootCerts::PlatformVerifier,
    };
    Ok(TlsConfig::builder()
        .root_certs(roots)
        .disable_verification(settings.insecure)
        .build())
}

fn agent(settings: &Settings) -> Result<Agent> {
    Ok(Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(settings.timeout))
        .timeout_connect(Some(CONNECT_TIMEOUT.min(settings.timeout)))
        .allow_non_standard_methods(true)
        .user_agent(format!("epilot/{}", env!("CARGO_PKG_VERSION")))
        .tls_config(tls_config(settings)?)
        .build()
        .into())
}

/// Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2).
pub fn is_idempotent(method: Method) -> bool {
    !matches!(method, Method::Post | Method::Patch)
}

pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with jitter: about base × 2^(n-1), between half and all of it.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let exponential = BACKOFF_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    exponential
        .min(BACKOFF_CAP)
        .mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() % 10_000) as f64 / 10_000.0
}

/// Sends `request`, retrying connection failures and 429/502/503/504 answers for idempotent
/// methods (all methods with `retry_unsafe`), while the overall time allows. `on_retry` hears
/// about each repeat (for `-v`).
pub fn send(
    request: &PreparedRequest,
    settings: &Settings,
    on_retry: &mut dyn FnMut(&Retry),
) -> Result<Response> {
    let agent = agent(settings)?;
    let started = Instant::now();
    let may_retry =
        settings.retries > 0 && (is_idempotent(request.method) || settings.retry_unsafe);
    let mut attempt = 1;
    loop {
        let outcome = send_once(&agent, request);
        let retry = match &outcome {
            Ok(response)
                if may_retry
                    && is_retryable_status(response.status)
                    && attempt <= settings.retries =>
            {
                let wait = response
                    .header("retry-after")
                    .and_then(|v| retry_after(v, std::time::SystemTime::now()))
                    .unwrap_or_else(|| backoff(attempt, jitter()));
                (wait <= RETRY_AFTER_CAP)
                    .then(|| (format!("the server answered {}", response.status), wait))
            }
            Err(error)
                if may_retry && is_connection_failure(error) && attempt <= settings.retries =>
            {
                Some((error.to_string(), backoff(attempt, jitter())))
            }
            _ => None,
        };
        let Some((reason, wait)) = retry else {
            return outcome.map_err(|e| describe(e, &request.url, settings.timeout));
        };
        // Never wait past the overall time limit: return what we have instead.
        if started.elapsed() + wait >= settings.timeout {
            return outcome.map_err(|e| describe(e, &request.url, settings.timeout));
        }
        on_retry(&Retry {
            attempt,
            reason,
            wait,
        });
        drop(outcome);
        std::thread::sleep(wait);
        attempt += 1;
    }
}

fn is_connection_failure(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Io(io) => !matches!(
            io.kind(),
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
        ),
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => true,
        _ => false,
    }
}

fn send_once(
    agent: &Agent,
    request: &PreparedRequest,
) -> std::result::Result<Response, ureq::Error> {
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    for header in &request.headers {
        builder = builder.header(&header.name, header.value.expose());
    }
    let http_request = builder
        .body(request.body.clone().unwrap_or_default())
        .map_err(ureq::Error::Http)?;
    let response = agent.run(http_request)?;
    let status = response.status();
    let version = format!("{:?}", response.version());
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(Response {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        version,
        headers,
        body: Box::new(response.into_body().into_reader()),
    })
}

/// Reads a document (an OpenAPI definition) from a URL.
pub fn fetch_text(url: &str) -> Result<String> {
    match fetch_revalidating(url, None, None)? {
        Fetched::Fresh { text, .. } => Ok(text),
        Fetched::NotModified => Err(Error::spec(format!(
            "{url} answered 304 to an unconditional request"
        ))),
    }
}

/// A document fetched with revalidation: unchanged since the given validators, or new text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    NotModified,
    Fresh {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// GETs `url` with `If-None-Match`/`If-Modified-Since` when validators are known.
pub fn fetch_revalidating(
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched> {
    let mut headers = vec![crate::request::Header {
        name: "Accept".into(),
        value: crate::secret::Secret::from(
            "application/yaml, application/json, text/yaml, */*".to_string(),
        ),
    }];
    for (name, value) in [
        ("If-None-Match", etag),
        ("If-Modified-Since", last_modified),
    ] {
        if let Some(value) = value {
            headers.push(crate::request::Header {
                name: name.into(),
                value: crate::secret::Secret::from(value.to_string()),
            });
        }
    }
    let request = PreparedRequest {
        method: Method::Get,
        url: url.to_string(),
        headers,
        body: None,
        form: None,
    };
    let mut response = send(&request, &Settings::default(), &mut |_| {}).map_err(|e| {
        Error::new(
            e.kind,
            format!("cannot download the definition: {}", e.message),
        )
    })?;
    if response.status == 304 {
        return Ok(Fetched::NotModified);
    }
    if !(200..300).contains(&response.status) {
        return Err(Error::spec(format!(
            "cannot download the definition {url}: the server answered {}",
            response.status
        )));
    }
    let etag = response.header("etag").map(str::to_string);
    let last_modified = response.header("last-modified").map(str::to_string);
    let bytes = response.read_all()?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::spec(format!("the definition at {url} is not UTF-8 text")))?;
    Ok(Fetched::Fresh {
        text,
        etag,
        last_modified,
    })
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn describe(error: ureq::Error, url: &str, timeout: Duration) -> Error {
    let host = host_of(url);
    match error {
        ureq::Error::Timeout(phase) => {
            let (what, limit) = match phase {
                ureq::Timeout::Connect | ureq::Timeout::Resolve => {
                    ("connecting to", CONNECT_TIMEOUT.min(timeout))
                }
                ureq::Timeout::SendRequest | ureq::Timeout::SendBody => {
                    ("sending the request to", timeout)
                }
                ureq::Timeout::RecvResponse => ("waiting for the answer from", timeout),
                ureq::Timeout::RecvBody => ("reading the answer from", timeout),
                _ => ("talking to", timeout),
            };
            Error::network(format!(
                "timed out after {}s {what} {host}",
                limit.as_secs_f64()
            ))
            .with_help("raise the limit with --timeout SECONDS, or check the server")
        }
        ureq::Error::HostNotFound => Error::network(format!("cannot resolve the host `{host}`"))
            .with_help(
                "check the server URL (--server), your network connection and proxy settings",
            ),
        ureq::Error::BadUri(reason) => {
            Error::usage(format!("the URL {url} is not valid: {reason}"))
        }
        ureq::Error::Http(reason) => {
            Error::usage(format!("cannot build the request to {url}: {reason}"))
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::network(format!("the connection to {host} was refused"))
                .with_help("is the server running, and is --server right?")
        }
        ureq::Error::Io(io) => Error::network(format!("network error talking to {host}: {io}")),
        ureq::Error::Tls(reason) => {
            Error::network(format!("the TLS handshake with {host} failed: {reason}"))
        }
        ureq::Error::Rustls(reason) => Error::network(format!(
            "the TLS handshake with {host} failed: {reason}"
        ))
        .with_help(
            "for a private certificate authority pass --cacert FILE; --insecure skips the check",
        ),
        ureq::Error::InvalidProxyUrl => {
            Error::usage("the proxy URL in HTTPS_PROXY/HTTP_PROXY is not valid")
        }
        ureq::Error::RedirectFailed => Error::network(format!(
            "{host} redirected a request with a body; it was not repeated to the new location"
        )),
        ureq::Error::TooManyRedirects => {
            Error::network(format!("{host} redirected too many times"))
        }
        other => Error::network(format!("request to {host} failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_taken_from_the_url() {
        assert_eq!(
            host_of("https://user.sls.epilot.io/v2/users?x=1"),
            "user.sls.epilot.io"
        );
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
    }

    #[test]
    fn only_idempotent_methods_and_transient_statuses_are_retried() {
        assert!(
            is_idempotent(Method::Get)
                && is_idempotent(Method::Put)
                && is_idempotent(Method::Delete)
        );
        assert!(!is_idempotent(Method::Post) && !is_idempotent(Method::Patch));
        assert!(
            is_retryable_status(503)
                && is_retryable_status(429)
                && !is_retryable_status(500)
                && !is_retryable_status(404)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Sun, 09 Sep 2001 01:46:50 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after("Sun, 09 Sep 2001 01:46:30 GMT", now),
            Some(Duration::ZERO),
            "a past date means now"
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        assert_eq!(backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 1.0), Duration::from_millis(1000));
        assert_eq!(backoff(2, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(30, 1.0), Duration::from_secs(10));
    }

    #[test]
    fn a_missing_or_empty_cacert_is_a_clear_error() {
        let settings = Settings {
            cacert: Some("/nonexistent/ca.pem".into()),
            ..Settings::default()
        };
        assert!(tls_config(&settings)
            .unwrap_err()
            .message
            .contains("cannot read --cacert"));
        let file = tempfile::NamedTempFile::new().unwrap();
        let settings = Settings {
            cacert: Some(file.path().to_path_buf()),
            ..Settings::default()
        };
        assert!(tls_config(&settings)
            .unwrap_err()
            .message
            .contains("holds no PEM certificate"));
    }
}
