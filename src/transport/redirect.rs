//! Redirects, followed by epilot itself so that every hop is a decision it makes: which method
//! and body go on, and which headers. On a hop to another origin only the headers epilot
//! generates for any request go on; everything the user, a profile or the spec added (tokens,
//! cookies, organisation ids) stays behind, whatever its name. An https page never sends us
//! to plain http.

use crate::error::{Error, Result};
use crate::request::PreparedRequest;
use crate::spec::Method;

/// Hops after the first request; one more redirect is an error.
pub const MAX_HOPS: usize = 10;

/// Headers that describe the request itself rather than who sends it: safe for any origin.
/// (The conditional ones keep a definition download revalidating through a CDN hop.)
const GENERIC_HEADERS: [&str; 4] = ["accept", "user-agent", "if-none-match", "if-modified-since"];

/// Scheme, host and effective port: two URLs with the same origin may share secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

pub fn origin(url: &str) -> Option<Origin> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let port = match (uri.port_u16(), scheme.as_str()) {
        (_, s) if s != "http" && s != "https" => return None,
        (Some(port), _) => port,
        (None, "http") => 80,
        (None, _) => 443,
    };
    Some(Origin {
        host: uri.host()?.to_ascii_lowercase(),
        scheme,
        port,
    })
}

/// The request to send next, and what changed on the way (for `-v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub request: PreparedRequest,
    pub notes: Vec<String>,
}

/// Whether `status` with `location` sends `request` elsewhere: `None` when the answer is the
/// answer (not a followable status, or no `Location`), an error when the hop is refused.
pub fn next(request: &PreparedRequest, status: u16, location: Option<&str>) -> Result<Option<Hop>> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = location.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let target = resolve(&request.url, location)
        .filter(|url| origin(url).is_some())
        .ok_or_else(|| {
            Error::network(format!(
                "{} redirected ({status}) to `{}`, which is not an http(s) URL",
                request.url,
                crate::request::url::redacted(location)
            ))
        })?;
    if let Some(masked) = masked_userinfo(&target) {
        return Err(Error::network(format!(
            "{} redirected ({status}) to {masked}, which carries a user name or password: epilot does not follow it",
            request.url
        ))
        .with_help("a server should not hand out credentials in a redirect; call the address yourself if it is right"));
    }
    let (from, to) = (origin(&request.url), origin(&target));
    if is_https(&request.url) && !is_https(&target) {
        return Err(Error::network(format!(
            "{} redirected ({status}) to {target}: epilot does not follow https to plain http",
            request.url
        ))
        .with_help("if the plain http address is right, call it directly with --server"));
    }
    let mut notes = Vec::new();
    let mut next = request.clone();
    next.url = target;
    let becomes_get = match status {
        303 => !matches!(request.method, Method::Get | Method::Head),
        301 | 302 => request.method == Method::Post,
        _ => false,
    };
    if becomes_get {
        notes.push(format!(
            "{status} after {}: following with GET, without the body",
            request.method.as_str()
        ));
        next.method = Method::Get;
        next.body = None;
        next.form = None;
        next.headers
            .retain(|h| !h.name.to_ascii_lowercase().starts_with("content-"));
    }
    if from != to {
        let keep_content_type = next.body.is_some();
        let (kept, dropped): (Vec<_>, Vec<_>) = next.headers.into_iter().partition(|h| {
            let name = h.name.to_ascii_lowercase();
            GENERIC_HEADERS.contains(&name.as_str())
                || (keep_content_type && name == "content-type")
        });
        next.headers = kept;
        if !dropped.is_empty() {
            let names: Vec<&str> = dropped.iter().map(|h| h.name.as_str()).collect();
            notes.push(format!("another origin: not sending {}", names.join(", ")));
        }
    }
    Ok(Some(Hop {
        request: next,
        notes,
    }))
}

/// `url` with its `user:password@` masked, when it has one.
fn masked_userinfo(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (_, host) = authority.rsplit_once('@')?;
    Some(format!("{scheme}://***@{host}{tail}"))
}

fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// `location` read against `base` (RFC 3986 §5.2), without a fragment (never sent).
pub fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.split('#').next().unwrap_or_default();
    let (scheme, rest) = base.split_once("://")?;
    if has_scheme(location) {
        return Some(location.to_string());
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let base_path = tail.split(['?', '#']).next().unwrap_or_default();
    let base_query = tail.split('#').next().unwrap_or_default();
    let joined = if let Some(network) = location.strip_prefix("//") {
        format!("{scheme}://{network}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{}", normalize(location))
    } else if location.is_empty() {
        format!("{scheme}://{authority}{base_query}")
    } else if location.starts_with('?') {
        format!("{scheme}://{authority}{base_path}{location}")
    } else {
        let directory = base_path.rfind('/').map_or("/", |i| &base_path[..=i]);
        format!(
            "{scheme}://{authority}{}",
            normalize(&format!("{directory}{location}"))
        )
    };
    Some(joined)
}

fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else {
        return false;
    };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Removes `.` and `..` segments from the path part of `path_and_query`.
fn normalize(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.find('?') {
        Some(i) => path_and_query.split_at(i),
        None => (path_and_query, ""),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("/{}{query}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Header;

    fn request(method: Method, url: &str, body: Option<&str>) -> PreparedRequest {
        let header = Header::new;
        PreparedRequest {
            method,
            url: url.into(),
            headers: vec![
                header("Accept", "application/json"),
                header("Content-Type", "application/json"),
                header("Authorization", "Bearer secret"),
                header("x-epilot-org-id", "42"),
                header("X-Custom", "from -H"),
            ],
            body: body.map(|b| b.as_bytes().to_vec()),
            form: None,
        }
    }

    fn names(request: &PreparedRequest) -> Vec<&str> {
        request.headers.iter().map(|h| h.name.as_str()).collect()
    }

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = "http://a.test:8080/v1/users/me?x=1";
        assert_eq!(
            resolve(base, "https://b.test/p").unwrap(),
            "https://b.test/p"
        );
        assert_eq!(resolve(base, "//b.test/p").unwrap(), "http://b.test/p");
        assert_eq!(
            resolve(base, "/v2/me?y=2").unwrap(),
            "http://a.test:8080/v2/me?y=2"
        );
        assert_eq!(
            resolve(base, "other").unwrap(),
            "http://a.test:8080/v1/users/other"
        );
        assert_eq!(
            resolve(base, "../groups/").unwrap(),
            "http://a.test:8080/v1/groups/"
        );
        assert_eq!(
            resolve(base, "?page=2").unwrap(),
            "http://a.test:8080/v1/users/me?page=2"
        );
        assert_eq!(
            resolve(base, "/a/./b/../c#frag").unwrap(),
            "http://a.test:8080/a/c"
        );
        assert_eq!(resolve("http://a.test", "x").unwrap(), "http://a.test/x");
    }

    #[test]
    fn origins_differ_by_scheme_host_or_port() {
        assert_eq!(origin("http://A.test/x"), origin("http://a.test:80/y"));
        assert_ne!(origin("http://a.test"), origin("https://a.test"));
        assert_ne!(origin("http://a.test:8080"), origin("http://a.test:8081"));
        assert_ne!(origin("http://a.test"), origin("http://b.test"));
        assert_eq!(origin("ftp://a.test"), None);
        assert_eq!(origin("ftp://a.test:21/x"), None);
    }

    #[test]
    fn methods_and_bodies_change_only_where_the_status_says() {
        let hop = |method, status| {
            next(
                &request(method, "http://a.test/x", Some("{}")),
                status,
                Some("/y"),
            )
            .unwrap()
            .unwrap()
        };
        for status in [307, 308] {
            for method in [Method::Post, Method::Put, Method::Patch] {
                let hop = hop(method, status);
                assert_eq!(
                    (hop.request.method, hop.request.body.as_deref()),
                    (method, Some(&b"{}"[..]))
                );
                assert!(hop.notes.is_empty());
            }
        }
        for status in [301, 302] {
            let put = hop(Method::Put, status);
            assert_eq!(
                (put.request.method, put.request.body.is_some()),
                (Method::Put, true)
            );
            let post = hop(Method::Post, status);
            assert_eq!(
                (post.request.method, post.request.body.as_deref()),
                (Method::Get, None)
            );
            assert!(!names(&post.request).contains(&"Content-Type"));
            assert!(post.notes[0].contains("following with GET"));
        }
        let see_other = hop(Method::Put, 303);
        assert_eq!(
            (see_other.request.method, see_other.request.body),
            (Method::Get, None)
        );
        assert!(see_other.notes[0].starts_with("303 after PUT"));
    }

    #[test]
    fn another_origin_gets_only_the_generic_headers() {
        let same = next(
            &request(Method::Put, "http://a.test/x", Some("{}")),
            307,
            Some("/y"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            same.request.headers.len(),
            5,
            "same origin keeps everything"
        );
        let other = next(
            &request(Method::Put, "http://a.test/x", Some("{}")),
            307,
            Some("http://a.test:81/y"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(names(&other.request), ["Accept", "Content-Type"]);
        assert_eq!(
            other.notes,
            ["another origin: not sending Authorization, x-epilot-org-id, X-Custom"]
        );
        let get = next(
            &request(Method::Post, "http://a.test/x", Some("{}")),
            303,
            Some("http://b.test/"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(names(&get.request), ["Accept"]);
    }

    #[test]
    fn a_definition_download_keeps_revalidating_on_another_origin() {
        let mut download = request(Method::Get, "https://docs.test/user.yaml", None);
        download
            .headers
            .push(Header::new("If-None-Match", "\"v1\""));
        let hop = next(&download, 302, Some("https://cdn.test/user.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(names(&hop.request), ["Accept", "If-None-Match"]);
    }

    #[test]
    fn https_to_http_is_refused_and_odd_answers_are_answers() {
        let secure = request(Method::Get, "https://a.test/x", None);
        let error = next(&secure, 302, Some("http://a.test/x")).unwrap_err();
        assert!(
            error.message.contains("https://a.test/x") && error.message.contains("http://a.test/x")
        );
        assert!(
            next(&secure, 302, None).unwrap().is_none(),
            "no Location: the answer stands"
        );
        assert!(next(&secure, 300, Some("/y")).unwrap().is_none());
        assert!(next(&secure, 304, Some("/y")).unwrap().is_none());
        assert!(next(&secure, 302, Some("ftp://a.test/")).is_err());
        let ftp = next(&secure, 302, Some("ftp://a.test:21/")).unwrap_err();
        assert_eq!(ftp.kind, crate::error::ErrorKind::Network);
        let credentials = next(&secure, 302, Some("https://u:pw@a.test/ui")).unwrap_err();
        assert_eq!(credentials.kind, crate::error::ErrorKind::Network);
        assert!(
            credentials.message.contains("https://***@a.test/ui"),
            "{}",
            credentials.message
        );
        assert!(
            !credentials.message.contains("pw"),
            "{}",
            credentials.message
        );
        assert!(next(
            &request(Method::Get, "http://a.test/", None),
            302,
            Some("https://a.test/")
        )
        .unwrap()
        .is_some());
    }
}
