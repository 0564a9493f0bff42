//! The only module that talks HTTP. It sends a [`PreparedRequest`] with ureq, following
//! redirects itself (see [`redirect`]) and retrying what is safe to retry, all under one
//! deadline: `--timeout` bounds the whole exchange, waits and body included. It hands back the
//! status, headers and the body as a stream, so large answers never sit in memory. Every
//! failure becomes a network error (exit 3) that names the host (or the proxy) and the phase
//! that failed.
//!
//! Proxies come from the environment as curl reads it ([`proxy`]); TLS trusts the platform's
//! roots, or only `--cacert` ([`tls`]); `--insecure` turns verification off.

pub mod mock;
pub mod proxy;
pub mod redirect;
pub mod tls;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    ConnectProxyConnector, Connector, RustlsConnector, TcpConnector, Transport,
};
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
const LONGEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// The most a downloaded definition may weigh; the largest epilot spec is about 0.5 MB.
pub const DOWNLOAD_CAP: u64 = 50 * 1024 * 1024;

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
        self.body.read_to_end(&mut bytes).map_err(read_error)?;
        Ok(bytes)
    }
}

/// A failed body read in words: the deadline, or a broken connection.
pub fn read_error(error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::TimedOut {
        return Error::network(format!("timed out while reading the answer: {error}"))
            .with_help("raise the limit with --timeout SECONDS, or check the server");
    }
    Error::network(format!(
        "the connection broke while reading the answer: {error}"
    ))
}

/// How requests are sent: limits, retries, trust and proxies.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// For the whole exchange: every attempt, wait, redirect and the body.
    pub timeout: Duration,
    pub retries: u32,
    /// Retry POST and PATCH too (they may not be idempotent).
    pub retry_unsafe: bool,
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
    /// `--insecure-http`: secrets may travel in plain http through a proxy on another machine.
    pub insecure_http: bool,
    pub proxies: proxy::ProxyEnv,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            retry_unsafe: false,
            cacert: None,
            insecure: false,
            insecure_http: false,
            proxies: proxy::ProxyEnv::default(),
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

/// What happened on the way, for `-v`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Retry(Retry),
    Redirect {
        status: u16,
        to: String,
        /// What changed: method, body, headers left behind.
        notes: Vec<String>,
    },
}

/// How https is checked: by ureq (platform roots, or nothing with --insecure), or by our
/// connector with the --cacert verifier.
enum Trust {
    Ureq(TlsConfig),
    Cacert(Arc<rustls::ClientConfig>),
}

impl Trust {
    fn new(settings: &Settings) -> Result<Trust> {
        match &settings.cacert {
            Some(path) => {
                let certificates = tls::read_cacert(path)?;
                if settings.insecure {
                    return Ok(Trust::Ureq(ureq_tls(true)));
                }
                Ok(Trust::Cacert(tls::client_config(path, certificates)?))
            }
            None => Ok(Trust::Ureq(ureq_tls(settings.insecure))),
        }
    }
}

fn ureq_tls(insecure: bool) -> TlsConfig {
    TlsConfig::builder()
        .root_certs(RootCerts::PlatformVerifier)
        .disable_verification(insecure)
        .build()
}

/// One attempt's agent: it may use what is left of the deadline, and follows no redirect.
/// Its connections tell `reset` when the peer resets them (see [`ResetWatch`]).
fn agent(
    trust: &Trust,
    proxy: Option<ureq::Proxy>,
    remaining: Duration,
    reset: &Arc<AtomicBool>,
) -> Agent {
    let mut builder = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(remaining))
        .timeout_connect(Some(CONNECT_TIMEOUT.min(remaining)))
        .allow_non_standard_methods(true)
        .user_agent(format!("epilot/{}", env!("CARGO_PKG_VERSION")))
        .proxy(proxy);
    if let Trust::Ureq(tls) = trust {
        builder = builder.tls_config(tls.clone());
    }
    let tcp =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(ResetWatch {
                reset: Arc::clone(reset),
            });
    match trust {
        Trust::Ureq(_) => Agent::with_parts(
            builder.build(),
            tcp.chain(RustlsConnector::default()),
            DefaultResolver::default(),
        ),
        Trust::Cacert(config) => Agent::with_parts(
            builder.build(),
            tcp.chain(tls::PinnedTls {
                config: config.clone(),
            }),
            DefaultResolver::default(),
        ),
    }
}

/// Wraps the TCP connection to remember a reset. ureq ends a body on a reset as on a clean
/// close, which is wrong for a body that only the close delimits (`Connection: close`, no
/// length): a cut answer would pass for a whole one. Only a FIN may end such a body; the
/// body reader ([`Bounded`]) turns an end after a reset into an error.
#[derive(Debug)]
struct ResetWatch {
    reset: Arc<AtomicBool>,
}

impl<In: Transport> Connector<In> for ResetWatch {
    type Out = Watched<In>;

    fn connect(
        &self,
        _: &ureq::unversioned::transport::ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| Watched {
            inner,
            reset: Arc::clone(&self.reset),
        }))
    }
}

#[derive(Debug)]
struct Watched<T> {
    inner: T,
    reset: Arc<AtomicBool>,
}

impl<T: Transport> Transport for Watched<T> {
    fn buffers(&mut self) -> &mut dyn ureq::unversioned::transport::Buffers {
        self.inner.buffers()
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(
        &mut self,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<bool, ureq::Error> {
        let result = self.inner.await_input(timeout);
        if let Err(ureq::Error::Io(error)) = &result {
            if matches!(
                error.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            ) {
                self.reset.store(true, Ordering::SeqCst);
            }
        }
        result
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
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

/// Sends `request`, following up to [`redirect::MAX_HOPS`] redirects and retrying each hop
/// as [`send_hop`] does, all before one deadline `settings.timeout` from now. `on_event`
/// hears about each repeat and redirect (for `-v`).
pub fn send(
    request: &PreparedRequest,
    settings: &Settings,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Response> {
    // Longer than anyone waits; keeps an absurd --timeout from overflowing the clock.
    let deadline = Instant::now() + settings.timeout.min(LONGEST_TIMEOUT);
    let trust = Trust::new(settings)?;
    // Borrowed until a redirect makes another request: a large body is not copied to send it.
    let mut current = std::borrow::Cow::Borrowed(request);
    for hop in 0..=redirect::MAX_HOPS {
        let response = send_hop(&current, settings, &trust, deadline, on_event)?;
        let Some(next) = redirect::next(&current, response.status, response.header("location"))?
        else {
            return Ok(response);
        };
        if hop == redirect::MAX_HOPS {
            break;
        }
        on_event(&Event::Redirect {
            status: response.status,
            to: next.request.url.clone(),
            notes: next.notes,
        });
        current = std::borrow::Cow::Owned(next.request);
    }
    Err(Error::network(format!(
        "{} redirected more than {} times",
        request.url,
        redirect::MAX_HOPS
    ))
    .with_help("the server may be redirecting in a loop; -v shows each hop"))
}

/// One hop: retries connection failures and 429/502/503/504 answers for idempotent methods
/// (all methods with `retry_unsafe`), as long as the deadline allows.
fn send_hop(
    request: &PreparedRequest,
    settings: &Settings,
    trust: &Trust,
    deadline: Instant,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Response> {
    let chosen = settings.proxies.for_url(&request.url)?;
    if let Some(chosen) = &chosen {
        refuse_secrets_in_clear(request, chosen, settings.insecure_http)?;
    }
    let may_retry =
        settings.retries > 0 && (is_idempotent(request.method) || settings.retry_unsafe);
    let mut attempt = 1;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(out_of_time(&request.url, settings.timeout, "talking to"));
        }
        let reset = Arc::new(AtomicBool::new(false));
        let agent = agent(
            trust,
            chosen.as_ref().map(|c| c.proxy.clone()),
            remaining,
            &reset,
        );
        let outcome = send_once(&agent, request, settings.timeout, deadline, reset);
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
        let failed = |error| {
            let context = Failure {
                url: &request.url,
                proxy: chosen.as_ref(),
                cacert: settings.cacert.as_deref().filter(|_| !settings.insecure),
                timeout: settings.timeout,
                remaining,
            };
            describe(error, &context)
        };
        let Some((reason, wait)) = retry else {
            return outcome.map_err(failed);
        };
        // Never wait past the deadline: return what we have instead.
        if Instant::now() + wait >= deadline {
            return outcome.map_err(failed);
        }
        on_event(&Event::Retry(Retry {
            attempt,
            reason,
            wait,
        }));
        drop(outcome);
        std::thread::sleep(wait);
        attempt += 1;
    }
}

/// A plain-http request goes through an http proxy as it is: a proxy on another machine
/// reads its token as a server there would, so it needs `--insecure-http` too.
fn refuse_secrets_in_clear(
    request: &PreparedRequest,
    chosen: &proxy::Chosen,
    insecure_http: bool,
) -> Result<()> {
    let plain = request
        .url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
    let secrets: Vec<&str> = request
        .headers
        .iter()
        .filter(|h| h.masked)
        .map(|h| h.name.as_str())
        .collect();
    if !plain || chosen.loopback || insecure_http || secrets.is_empty() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "refusing to send {} in plain http through the proxy {}: the proxy would read it",
        secrets.join(", "),
        chosen.shown
    ))
    .with_help("use an https:// server, exempt the host with NO_PROXY, or pass --insecure-http if you really mean it"))
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
    timeout: Duration,
    deadline: Instant,
    reset: Arc<AtomicBool>,
) -> std::result::Result<Response, ureq::Error> {
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    for header in &request.headers {
        builder = builder.header(&header.name, header.value.expose());
    }
    let http_request = builder
        // Borrowed: a large -d @file is not copied once more per attempt.
        .body(request.body.as_deref().unwrap_or_default())
        .map_err(ureq::Error::Http)?;
    let response = agent.run(http_request)?;
    let status = response.status();
    // epilot never asks to switch protocols: such an answer carries no body to show, and taking
    // it for a success would replace an -o FILE with nothing.
    if status == ureq::http::StatusCode::SWITCHING_PROTOCOLS {
        return Err(ureq::Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it answered 101 Switching Protocols, which epilot never asks for",
        )));
    }
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
        body: Box::new(Bounded {
            inner: response.into_body().into_reader(),
            timeout,
            deadline,
            reset,
        }),
    })
}

/// The body reader. Every read checks the one deadline itself (a read that never waits, as
/// one that decodes, would not meet ureq's timer), says which limit ran out, and refuses an
/// end that came from a reset rather than a clean close.
struct Bounded<R> {
    inner: R,
    timeout: Duration,
    deadline: Instant,
    reset: Arc<AtomicBool>,
}

impl<R> Bounded<R> {
    fn out_of_time(&self) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "the {}s limit for the whole exchange (--timeout) ran out",
                self.timeout.as_secs_f64()
            ),
        )
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(self.out_of_time());
        }
        let read = self.inner.read(buf).map_err(|error| {
            let timed_out = error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                .is_some_and(|e| matches!(e, ureq::Error::Timeout(_)));
            if timed_out {
                self.out_of_time()
            } else {
                error
            }
        })?;
        if read == 0 && self.reset.load(Ordering::SeqCst) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the server reset the connection before the answer was complete",
            ));
        }
        Ok(read)
    }
}

/// Reads a document (an OpenAPI definition) from a URL, within the default deadline.
pub fn fetch_text(url: &str) -> Result<String> {
    fetch_text_within(url, DEFAULT_TIMEOUT)
}

/// [`fetch_text`] within `timeout` (the command's `--timeout`).
pub fn fetch_text_within(url: &str, timeout: Duration) -> Result<String> {
    match fetch(url, None, None, timeout)? {
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
    fetch(url, etag, last_modified, DEFAULT_TIMEOUT)
}

fn fetch(
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    timeout: Duration,
) -> Result<Fetched> {
    let mut headers = vec![crate::request::Header::new(
        "Accept",
        "application/yaml, application/json, text/yaml, */*",
    )];
    for (name, value) in [
        ("If-None-Match", etag),
        ("If-Modified-Since", last_modified),
    ] {
        if let Some(value) = value {
            headers.push(crate::request::Header::new(name, value));
        }
    }
    let request = PreparedRequest {
        method: Method::Get,
        url: url.to_string(),
        headers,
        body: None,
        form: None,
    };
    let settings = Settings {
        timeout,
        proxies: proxy::ProxyEnv::from_process(),
        ..Settings::default()
    };
    let mut response = send(&request, &settings, &mut |_| {}).map_err(|e| Error {
        message: format!("cannot download the definition: {}", e.message),
        ..e
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
    let bytes = read_capped(&mut response, url)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::spec(format!("the definition at {url} is not UTF-8 text")))?;
    Ok(Fetched::Fresh {
        text,
        etag,
        last_modified,
    })
}

/// The body, refused once it passes [`DOWNLOAD_CAP`]: never more than one byte past it is
/// read, whatever `Content-Length` claims.
fn read_capped(response: &mut Response, url: &str) -> Result<Vec<u8>> {
    let too_big = || {
        Error::spec(format!(
            "the definition at {url} is larger than {} MB, the most epilot downloads",
            DOWNLOAD_CAP / (1024 * 1024)
        ))
        .with_help("if it is right, download it yourself and pass the file: --definition FILE")
    };
    let declared = response
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > DOWNLOAD_CAP) {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    (&mut response.body)
        .take(DOWNLOAD_CAP + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > DOWNLOAD_CAP {
        return Err(too_big());
    }
    Ok(bytes)
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Where a failed attempt was going, for its message.
struct Failure<'a> {
    url: &'a str,
    proxy: Option<&'a proxy::Chosen>,
    cacert: Option<&'a std::path::Path>,
    timeout: Duration,
    /// What was left of the deadline when the attempt started.
    remaining: Duration,
}

fn out_of_time(url: &str, timeout: Duration, what: &str) -> Error {
    Error::network(format!(
        "timed out: the {}s limit for the whole exchange ran out {what} {}",
        timeout.as_secs_f64(),
        host_of(url)
    ))
    .with_help("raise the limit with --timeout SECONDS, or check the server")
}

fn describe(error: ureq::Error, failure: &Failure<'_>) -> Error {
    let host = host_of(failure.url);
    if let Some(proxy) = failure.proxy {
        if let Some(error) = describe_proxy(&error, proxy, host) {
            return error;
        }
    }
    match error {
        ureq::Error::Timeout(phase) => {
            let what = match phase {
                ureq::Timeout::Connect | ureq::Timeout::Resolve => "connecting to",
                ureq::Timeout::SendRequest | ureq::Timeout::SendBody => "sending the request to",
                ureq::Timeout::RecvResponse => "waiting for the answer from",
                ureq::Timeout::RecvBody => "reading the answer from",
                _ => "talking to",
            };
            let connect_limit = matches!(phase, ureq::Timeout::Connect | ureq::Timeout::Resolve)
                && failure.remaining > CONNECT_TIMEOUT;
            if connect_limit {
                return Error::network(format!(
                    "timed out after {}s connecting to {host}",
                    CONNECT_TIMEOUT.as_secs()
                ))
                .with_help("check the server address and your network");
            }
            out_of_time(failure.url, failure.timeout, &format!("while {what}"))
        }
        ureq::Error::HostNotFound => Error::network(format!("cannot resolve the host `{host}`"))
            .with_help(
                "check the server URL (--server), your network connection and proxy settings",
            ),
        ureq::Error::BadUri(reason) => {
            Error::usage(format!("the URL {} is not valid: {reason}", failure.url))
        }
        ureq::Error::Http(reason) => Error::usage(format!(
            "cannot build the request to {}: {reason}",
            failure.url
        )),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::network(format!("the connection to {host} was refused"))
                .with_help("is the server running, and is --server right?")
        }
        ureq::Error::Io(io) => match rustls_inside(&io) {
            Some(tls_error) => tls::describe(tls_error, host, failure.cacert),
            None => Error::network(format!("network error talking to {host}: {io}")),
        },
        ureq::Error::Rustls(reason) => tls::describe(&reason, host, failure.cacert),
        ureq::Error::Tls(reason) => {
            Error::network(format!("the TLS handshake with {host} failed: {reason}"))
                .with_help(tls::HELP)
        }
        other => Error::network(format!("request to {host} failed: {other}")),
    }
}

fn rustls_inside(io: &std::io::Error) -> Option<&rustls::Error> {
    io.get_ref()?.downcast_ref::<rustls::Error>()
}

/// Failures that happened on the way to the proxy, named after it rather than the server.
fn describe_proxy(error: &ureq::Error, proxy: &proxy::Chosen, host: &str) -> Option<Error> {
    let shown = &proxy.shown;
    let help = "check the proxy setting, or exempt the host with NO_PROXY";
    let message = match error {
        ureq::Error::ConnectProxyFailed(reason) => {
            // ureq says "proxy server responded 403/403": keep the status, in our words.
            let answer = reason
                .split(|c: char| !c.is_ascii_digit())
                .find(|part| part.len() == 3)
                .map_or_else(|| reason.clone(), |status| format!("it answered {status}"));
            format!("the proxy {shown} would not connect to {host} ({answer})")
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("the proxy {shown} refused the connection")
        }
        ureq::Error::HostNotFound => format!("cannot resolve the proxy {shown}"),
        // The resolver's own failure: the only name looked up is the proxy's.
        ureq::Error::Io(io) if io.to_string().contains("lookup address") => {
            format!("cannot resolve the proxy {shown}: {io}")
        }
        ureq::Error::ConnectionFailed => format!("cannot connect to the proxy {shown}"),
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            format!("timed out connecting to the proxy {shown}")
        }
        _ => return None,
    };
    Some(Error::network(message).with_help(help))
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
    fn a_token_in_plain_http_goes_only_through_a_proxy_on_this_machine() {
        let request = |url: &str| PreparedRequest {
            method: Method::Get,
            url: url.into(),
            headers: vec![crate::request::Header::new(
                "Authorization",
                "Bearer sekrit",
            )],
            body: None,
            form: None,
        };
        let chosen = |value: &str| {
            proxy::ProxyEnv::from_vars(&|name| (name == "HTTP_PROXY").then(|| value.to_string()))
                .for_url("http://127.0.0.1/")
                .unwrap()
                .unwrap()
        };
        let remote = chosen("http://proxy.example:3128");
        let error =
            refuse_secrets_in_clear(&request("http://127.0.0.1/x"), &remote, false).unwrap_err();
        assert_eq!(error.kind, crate::error::ErrorKind::Usage);
        assert!(error.message.contains("Authorization") && !error.message.contains("sekrit"));
        assert!(refuse_secrets_in_clear(&request("http://127.0.0.1/x"), &remote, true).is_ok());
        assert!(refuse_secrets_in_clear(&request("https://a.test/x"), &remote, false).is_ok());
        for local in ["http://127.0.0.1:3128", "localhost:8", "http://[::1]:8"] {
            let local = chosen(local);
            assert!(refuse_secrets_in_clear(&request("http://127.0.0.1/x"), &local, false).is_ok());
        }
        let mut anonymous = request("http://127.0.0.1/x");
        anonymous.headers.clear();
        assert!(refuse_secrets_in_clear(&anonymous, &remote, false).is_ok());
    }

    #[test]
    fn a_missing_or_empty_cacert_is_a_clear_error() {
        let missing = tls::read_cacert(std::path::Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(missing.message.contains("cannot read --cacert"));
        let file = tempfile::NamedTempFile::new().unwrap();
        let empty = tls::read_cacert(file.path()).unwrap_err();
        assert!(empty.message.contains("holds no PEM certificate"));
    }
}
