//! One reading of URLs for the whole CLI, made with the parser the transport sends with
//! (`http::Uri`, re-exported by ureq). Deciding who may receive a secret on any other reading
//! of the text would let the two disagree (`https://a.example@b.example/` names `b` to the
//! transport), so the decision and the connection always see the same scheme, host and port.

use std::fmt;
use std::net::IpAddr;

use ureq::http::Uri;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Where a request goes: what a secret is bound to, compared whole (as browsers and curl do),
/// so another port or plain http on the same host is another destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: Scheme,
    /// Lowercased; an IPv6 address keeps its brackets.
    pub host: String,
    /// The effective port: the default one of the scheme when the URL names none.
    pub port: u16,
}

impl Origin {
    /// This machine: an address that parses as loopback, or the name `localhost`. A name that
    /// merely starts with `127.` is somebody's domain.
    pub fn is_loopback(&self) -> bool {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => ip.to_canonical().is_loopback(),
            Err(_) => bare == "localhost",
        }
    }

    /// The epilot platform's own servers: `*.epilot.io` and `*.epilot.cloud` over https.
    pub fn is_epilot(&self) -> bool {
        self.scheme == Scheme::Https
            && ["epilot.io", "epilot.cloud"].iter().any(|domain| {
                self.host == *domain
                    || self
                        .host
                        .strip_suffix(domain)
                        .is_some_and(|rest| rest.ends_with('.'))
            })
    }

    /// `host` or `host:port` when the port is not the scheme's default.
    pub fn host_and_port(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host_and_port())
    }
}

/// An absolute http(s) URL as the transport will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    text: String,
    origin: Origin,
    /// Scheme and authority exactly as written (user info included), to rebuild from.
    prefix: String,
    /// Without a trailing `/`, so a path template can follow.
    path: String,
    query: Option<String>,
}

impl Url {
    /// Reads `text`; the error says what is wrong with it, for a message that names the URL.
    pub fn parse(text: &str) -> Result<Url, String> {
        let uri: Uri = text.parse().map_err(|e| format!("{e}"))?;
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(other) => return Err(format!("the scheme `{other}` is not http or https")),
            None => return Err("it has no scheme (http:// or https://)".into()),
        };
        let authority = uri.authority().ok_or("it names no host")?;
        let host = authority.host();
        if host.is_empty() {
            return Err("it names no host".into());
        }
        let port = port_of(authority.as_str(), host)?.unwrap_or(scheme.default_port());
        Ok(Url {
            text: text.to_string(),
            origin: Origin {
                scheme,
                host: host.to_ascii_lowercase(),
                port,
            },
            prefix: format!("{}://{}", scheme.as_str(), authority.as_str()),
            path: uri.path().trim_end_matches('/').to_string(),
            query: uri.query().filter(|q| !q.is_empty()).map(str::to_string),
        })
    }

    /// A server's URL: as [`Url::parse`], and without a user name or password (`user:pw@`).
    /// The transport never sends them, so they could only end up printed (`--dry-run`, `-v`).
    pub fn parse_server(text: &str) -> Result<Url, String> {
        let url = Url::parse(text)?;
        if url.prefix.contains('@') {
            return Err(
                "it carries a user name or password before `@`, which is never sent; \
                 pass credentials with -H 'Authorization: ...' instead"
                    .into(),
            );
        }
        Ok(url)
    }

    /// The whole URL as text; the tests and the fuzzers compare with it.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The text of this base URL with `path` (an expanded path template) after its own path,
    /// and its own query parameters before `query`. A fragment is dropped: it is never sent.
    pub fn join(&self, path: &str, query: &[String]) -> String {
        let mut text = format!("{}{}{path}", self.prefix, self.path);
        let pairs: Vec<&str> = self
            .query
            .iter()
            .map(String::as_str)
            .chain(query.iter().map(String::as_str))
            .collect();
        if !pairs.is_empty() {
            text.push('?');
            text.push_str(&pairs.join("&"));
        }
        text
    }

    /// A server URL written relative to this one (the document's address), as RFC 3986 reads
    /// it: `//host/x` replaces the authority, `/x` the path, `x` and `../x` follow the folder.
    pub fn resolve(&self, relative: &str) -> String {
        if relative.starts_with("//") {
            return format!("{}:{relative}", self.origin.scheme.as_str());
        }
        let (relative_path, rest) = match relative.find(['?', '#']) {
            Some(i) => relative.split_at(i),
            None => (relative, ""),
        };
        let path = if relative_path.starts_with('/') {
            relative_path.to_string()
        } else {
            let folder = self.path.rsplit_once('/').map_or("", |(folder, _)| folder);
            format!("{folder}/{relative_path}")
        };
        let joined = format!("{}{}{rest}", self.prefix, remove_dot_segments(&path));
        joined.trim_end_matches('/').to_string()
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `text` with whatever sits before an `@` in its authority masked, for messages.
pub fn redacted(text: &str) -> String {
    // `//`, not `://`: a scheme-relative reference (`//u:pw@host/`) carries user info too.
    let start = text.find("//").map_or(0, |i| i + 2);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| i + start);
    match text[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..start], &text[start + at..]),
        None => text.to_string(),
    }
}

/// Whether `text` starts with a scheme (`https:`, `ftp:`), so it is not a relative reference.
pub fn has_scheme(text: &str) -> bool {
    text.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// The port written after the host, if any. `http::Uri` reads a port it cannot hold
/// (`:99999`, `:0x50`) as none at all, which would quietly mean the default one.
fn port_of(authority: &str, host: &str) -> Result<Option<u16>, String> {
    let after_user = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let written = after_user.get(host.len()..).unwrap_or("");
    match written.strip_prefix(':') {
        None | Some("") => Ok(None),
        Some(digits) => match digits.parse::<u16>() {
            Ok(port) if port > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(port)),
            _ => Err(format!(
                "the port `{digits}` is not a number from 1 to 65535"
            )),
        },
    }
}

/// `/a/./b/../c` → `/a/c` (RFC 3986, 5.2.4), for relative server URLs.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    let last_is_folder = path.ends_with("/.") || path.ends_with("/..");
    let mut text = format!("/{}", out.join("/"));
    if last_is_folder && !text.ends_with('/') {
        text.push('/');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> String {
        Url::parse(text).unwrap().origin().to_string()
    }

    #[test]
    fn origin_is_what_the_transport_connects_to() {
        assert_eq!(
            origin("HTTPS://User.Sls.Epilot.IO/v2"),
            "https://user.sls.epilot.io"
        );
        assert_eq!(origin("https://h.example:443/x"), "https://h.example");
        assert_eq!(origin("http://h.example:8080"), "http://h.example:8080");
        assert_eq!(origin("http://h.example:/x"), "http://h.example");
        assert_eq!(origin("https://[::1]:8443/x"), "https://[::1]:8443");
        assert_eq!(
            origin("http://127.0.0.1:1234@127.0.0.1:4403/steal"),
            "http://127.0.0.1:4403",
            "user info is not the host"
        );
        assert_eq!(origin("http://a@b@c.example/x"), "http://c.example");
        let port = Url::parse("http://127.0.0.1:1234").unwrap().origin().port;
        assert_eq!(port, 1234);
    }

    #[test]
    fn what_is_not_an_http_url_is_refused_with_the_reason() {
        for bad in [
            "ftp://h.example/",
            "/relative",
            "http://",
            "http:///x",
            "http://h.example:99999/",
            "http://h.example:0x50/",
            "http://h.example:0/",
            "https://a.b\\\\host",
            "http://h.example/a b",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
        assert!(Url::parse("ftp://h/").unwrap_err().contains("`ftp`"));
        assert!(Url::parse("http://h:70000/")
            .unwrap_err()
            .contains("`70000`"));
    }

    #[test]
    fn loopback_is_an_address_or_localhost_not_a_name_that_looks_like_one() {
        let loopback = |text: &str| Url::parse(text).unwrap().origin().is_loopback();
        assert!(loopback("http://127.0.0.1:9/"));
        assert!(loopback("http://127.8.9.10/"));
        assert!(loopback("http://LOCALHOST:3000/"));
        assert!(loopback("http://[::1]:3000/"));
        assert!(loopback("http://[::ffff:127.0.0.1]/"));
        assert!(!loopback("http://127.evil.example/"));
        assert!(!loopback("http://127.0.0.1.evil.example/"));
        assert!(!loopback("http://localhost.evil.example/"));
        assert!(!loopback("http://[::2]/"));
        assert!(!loopback("http://10.0.0.1/"));
    }

    #[test]
    fn epilot_hosts_are_the_platforms_domains_over_https() {
        let epilot = |text: &str| Url::parse(text).unwrap().origin().is_epilot();
        assert!(epilot("https://user.sls.epilot.io/v2"));
        assert!(epilot("https://portal.epilot.cloud"));
        assert!(epilot("https://epilot.io"));
        assert!(!epilot("http://user.sls.epilot.io"), "plain http");
        assert!(!epilot("https://notepilot.io"));
        assert!(!epilot("https://epilot.io.evil.example"));
        assert!(!epilot("https://user.sls.epilot.io.evil.example"));
    }

    #[test]
    fn joining_keeps_the_servers_path_and_query() {
        let base = Url::parse("https://h.example/api/?key=1&b=2#top").unwrap();
        assert_eq!(
            base.join("/users/7", &["q=x".into()]),
            "https://h.example/api/users/7?key=1&b=2&q=x"
        );
        let bare = Url::parse("https://h.example").unwrap();
        assert_eq!(bare.join("/x", &[]), "https://h.example/x");
        assert_eq!(
            Url::parse("http://u:p@h.example:81/")
                .unwrap()
                .join("/x", &[]),
            "http://u:p@h.example:81/x"
        );
    }

    #[test]
    fn a_server_with_a_password_is_refused_and_never_shown() {
        let error = Url::parse_server("https://ada:pw@h.example/v1").unwrap_err();
        assert!(error.contains("user name or password"), "{error}");
        assert!(Url::parse_server("https://h.example/v1?user=a@b").is_ok());
        assert_eq!(
            redacted("https://ada:pw@h.example/v1@x"),
            "https://***@h.example/v1@x"
        );
        assert_eq!(redacted("h.example/a@b"), "h.example/a@b");
        assert_eq!(
            redacted("http://u:SRVPASS WORD@127.0.0.1:1/"),
            "http://***@127.0.0.1:1/"
        );
        assert_eq!(redacted("//u:pw@h.example/x"), "//***@h.example/x");
        assert_eq!(redacted("https://h.example"), "https://h.example");
    }

    #[test]
    fn relative_servers_follow_the_document() {
        let document = Url::parse("https://h.io/specs/v1/a.yaml?x=1").unwrap();
        assert_eq!(document.resolve("/api"), "https://h.io/api");
        assert_eq!(document.resolve("v2"), "https://h.io/specs/v1/v2");
        assert_eq!(document.resolve("./v2/"), "https://h.io/specs/v1/v2");
        assert_eq!(document.resolve("../v2"), "https://h.io/specs/v2");
        assert_eq!(document.resolve("../../../v2"), "https://h.io/v2");
        assert_eq!(document.resolve("//cdn.io/x"), "https://cdn.io/x");
        assert_eq!(document.resolve("."), "https://h.io/specs/v1");
    }
}
