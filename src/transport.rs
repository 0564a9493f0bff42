//! The only module that talks HTTP. It sends a [`PreparedRequest`] with ureq and hands back
//! the status, headers and body; every failure becomes a network error (exit 3) that names the
//! host and the phase that failed.

use std::io::Read;
use std::time::Duration;

use ureq::Agent;

use crate::error::{Error, Result};
use crate::request::PreparedRequest;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
        .allow_non_standard_methods(true)
        .user_agent(format!("epilot/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

pub fn send(request: &PreparedRequest, timeout: Duration) -> Result<Response> {
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    for header in &request.headers {
        builder = builder.header(&header.name, header.value.expose());
    }
    let body = request.body.clone().unwrap_or_default();
    let http_request = builder
        .body(body)
        .map_err(|e| Error::usage(format!("cannot build the request to {}: {e}", request.url)))?;
    let response = agent(timeout)
        .run(http_request)
        .map_err(|e| describe(e, &request.url, timeout))?;
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
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .read_to_end(&mut body)
        .map_err(|e| {
            Error::network(format!(
                "the connection to {} broke while reading the answer: {e}",
                host_of(&request.url)
            ))
        })?;
    Ok(Response {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        version,
        headers,
        body,
    })
}

/// Reads a document (an OpenAPI definition) from a URL.
pub fn fetch_text(url: &str) -> Result<String> {
    let request = ureq::http::Request::builder()
        .method("GET")
        .uri(url)
        .header(
            "Accept",
            "application/json, application/yaml, text/yaml, */*",
        )
        .body(Vec::new())
        .map_err(|e| Error::usage(format!("`{url}` is not a valid URL: {e}")))?;
    let response = agent(DEFAULT_TIMEOUT).run(request).map_err(|e| {
        let mut error = describe(e, url, DEFAULT_TIMEOUT);
        error.message = format!("cannot download the definition: {}", error.message);
        error
    })?;
    if !response.status().is_success() {
        return Err(Error::spec(format!(
            "cannot download the definition {url}: the server answered {}",
            response.status()
        )));
    }
    let mut text = String::new();
    response
        .into_body()
        .into_reader()
        .read_to_string(&mut text)
        .map_err(|e| Error::spec(format!("cannot read the definition {url}: {e}")))?;
    Ok(text)
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
    let mut builder = ureq::http::Request::builder()
        .method("GET")
        .uri(url)
        .header(
            "Accept",
            "application/yaml, application/json, text/yaml, */*",
        );
    if let Some(etag) = etag {
        builder = builder.header("If-None-Match", etag);
    }
    if let Some(date) = last_modified {
        builder = builder.header("If-Modified-Since", date);
    }
    let request = builder
        .body(Vec::new())
        .map_err(|e| Error::usage(format!("`{url}` is not a valid URL: {e}")))?;
    let response = agent(DEFAULT_TIMEOUT)
        .run(request)
        .map_err(|e| describe(e, url, DEFAULT_TIMEOUT))?;
    if response.status().as_u16() == 304 {
        return Ok(Fetched::NotModified);
    }
    if !response.status().is_success() {
        return Err(Error::network(format!(
            "{url} answered {}",
            response.status()
        )));
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let mut text = String::new();
    response
        .into_body()
        .into_reader()
        .read_to_string(&mut text)
        .map_err(|e| Error::network(format!("cannot read {url}: {e}")))?;
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
            .with_help("check the server URL (--server) and your network connection"),
        ureq::Error::BadUri(reason) => {
            Error::usage(format!("the URL {url} is not valid: {reason}"))
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::network(format!("the connection to {host} was refused"))
                .with_help("is the server running, and is --server right?")
        }
        ureq::Error::Io(io) => Error::network(format!("network error talking to {host}: {io}")),
        ureq::Error::Tls(reason) => {
            Error::network(format!("the TLS handshake with {host} failed: {reason}"))
        }
        ureq::Error::Rustls(reason) => {
            Error::network(format!("the TLS handshake with {host} failed: {reason}"))
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
}
