//! Valid input + server + token → a plain [`PreparedRequest`]. No I/O happens here, so the
//! whole mapping from the command line to bytes on the wire is unit-tested.

pub mod curl;
pub mod multipart;
pub mod style;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::body::{BodyInput, FormValue};
use crate::input::params::ParamValues;
use crate::secret::Secret;
use crate::spec::{Auth, Location, Method, Operation, Origin, Server};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<Header>,
    pub body: Option<Vec<u8>>,
    /// Set for form bodies so `--dry-run` can show them as `-F` fields.
    pub form: Option<Vec<crate::input::body::FormField>>,
}

impl PreparedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.expose())
    }
}

/// A bearer token and whether the user typed it on this command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub value: Secret,
    pub explicit: bool,
}

/// The base URL: `--server`, else the operation's first server (relative ones resolved
/// against the URL the definition came from).
pub fn base_url(servers: &[Server], server_flag: Option<&str>, origin: &Origin) -> Result<String> {
    if let Some(server) = server_flag {
        if !crate::spec::source::is_url(server) {
            return Err(
                Error::usage(format!("--server `{server}` is not an http(s) URL")).with_help(
                    "write it with its scheme, e.g. --server https://user.sls.epilot.io",
                ),
            );
        }
        return Ok(server.trim_end_matches('/').to_string());
    }
    let Some(server) = servers.first() else {
        return Err(Error::usage(format!(
            "{} names no server to send the request to",
            origin.describe()
        ))
        .with_help("pass the base URL with --server https://..."));
    };
    if crate::spec::source::is_url(&server.url) {
        return Ok(server.url.trim_end_matches('/').to_string());
    }
    match origin {
        Origin::Url(document_url) => Ok(join_relative(document_url, &server.url)),
        _ => Err(Error::usage(format!(
            "the server `{}` in {} is relative, so it needs a base",
            server.url,
            origin.describe()
        ))
        .with_help("pass the base URL with --server https://...")),
    }
}

fn join_relative(document_url: &str, relative: &str) -> String {
    let after_scheme = document_url.find("://").map_or(0, |i| i + 3);
    let origin_end = document_url[after_scheme..]
        .find('/')
        .map_or(document_url.len(), |i| i + after_scheme);
    let result = if relative.starts_with('/') {
        format!("{}{relative}", &document_url[..origin_end])
    } else {
        let dir_end = document_url
            .rfind('/')
            .filter(|i| *i >= origin_end)
            .unwrap_or(document_url.len());
        format!(
            "{}/{}",
            &document_url[..dir_end],
            relative.trim_start_matches("./")
        )
    };
    result.trim_end_matches('/').to_string()
}

pub struct Plan<'a> {
    pub op: &'a Operation,
    pub values: &'a ParamValues,
    pub body: Option<BodyInput>,
    pub base_url: &'a str,
    pub token: Option<&'a Token>,
    /// `-H 'Key: Value'` as typed.
    pub headers: &'a [String],
}

pub fn build(plan: Plan<'_>) -> Result<PreparedRequest> {
    let op = plan.op;
    let mut path = op.entry.path.clone();
    let mut query: Vec<String> = Vec::new();
    let mut headers: Vec<Header> = Vec::new();
    let mut cookies: Vec<String> = Vec::new();
    for (param, value) in op.params.iter().zip(plan.values) {
        let Some(value) = value else { continue };
        let value = &encode_content_param(param.content_type.as_deref(), value);
        match param.location {
            Location::Path => {
                path = path.replace(
                    &format!("{{{}}}", param.name),
                    &style::path_segment(param, value),
                );
            }
            Location::Query => query.extend(style::query_pairs(param, value)),
            Location::Header => {
                check_spec_name(op, param, "header")?;
                headers.push(Header {
                    name: param.name.clone(),
                    value: Secret::from(style::header_value(param, value)),
                });
            }
            Location::Cookie => {
                check_spec_name(op, param, "cookie")?;
                cookies.extend(style::cookie_pairs(param, value));
            }
        }
    }
    let path = style::protect_dot_segments(&op.entry.path, &path);
    let mut url = format!("{}{}", plan.base_url, path);
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    if !cookies.is_empty() {
        headers.push(Header {
            name: "Cookie".into(),
            value: Secret::from(cookies.join("; ")),
        });
    }
    headers.push(Header {
        name: "User-Agent".into(),
        value: Secret::from(format!("epilot/{}", env!("CARGO_PKG_VERSION"))),
    });

    if let Some(token) = plan.token {
        if op.auth == Auth::Bearer || token.explicit {
            headers.push(Header {
                name: "Authorization".into(),
                value: Secret::from(format!("Bearer {}", token.value.expose())),
            });
        }
    }

    let (body, form) = match plan.body {
        None => (None, None),
        Some(BodyInput::Raw(bytes)) => {
            let content_type = match &op.body {
                Some(b) if !b.content_type.contains('*') => b.content_type.clone(),
                _ if crate::input::body::check_json(&bytes).is_ok() => {
                    "application/json".to_string()
                }
                _ => "application/octet-stream".to_string(),
            };
            headers.push(Header {
                name: "Content-Type".into(),
                value: Secret::from(content_type),
            });
            (Some(bytes), None)
        }
        Some(BodyInput::Form(fields)) => {
            let urlencoded = op.body.as_ref().is_some_and(|b| {
                b.content_type
                    .starts_with("application/x-www-form-urlencoded")
            });
            let (content_type, bytes) = if urlencoded {
                let pairs: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let value = match &f.value {
                            FormValue::Text(text) => text.clone(),
                            FormValue::File { contents, .. } => {
                                String::from_utf8_lossy(contents).into_owned()
                            }
                        };
                        format!("{}={}", style::encode(&f.name), style::encode(&value))
                    })
                    .collect();
                (
                    "application/x-www-form-urlencoded".to_string(),
                    pairs.join("&").into_bytes(),
                )
            } else {
                let boundary = multipart::boundary();
                (
                    format!("multipart/form-data; boundary={boundary}"),
                    multipart::encode(&fields, &boundary),
                )
            };
            headers.push(Header {
                name: "Content-Type".into(),
                value: Secret::from(content_type),
            });
            (Some(bytes), Some(fields))
        }
    };

    // User headers come last and replace generated ones of the same name.
    for raw in plan.headers {
        let header = parse_header(raw)?;
        headers.retain(|h| !h.name.eq_ignore_ascii_case(&header.name));
        headers.push(header);
    }

    let request = PreparedRequest {
        method: op.entry.method,
        url,
        headers,
        body,
        form,
    };
    request.check()?;
    Ok(request)
}

impl PreparedRequest {
    /// What every request must satisfy before it is shown (`--dry-run`, `--guided`) or sent,
    /// whichever source its headers came from: so the curl line and the wire never differ,
    /// and nothing the transport would refuse is half-sent.
    pub fn check(&self) -> Result<()> {
        for header in &self.headers {
            check_header(&header.name, header.value.expose())?;
        }
        Ok(())
    }
}

/// RFC 9110 §5.6.2: a field name is a token, `1*tchar`. Anything else (a space, a colon, a
/// quote, `(`) could end the name early or read as syntax where the header is printed.
pub fn is_http_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header name must be a token and its value a field-value (RFC 9110 §5.5: no control
/// character but tab), or a line break would start a header of its own.
fn check_header(name: &str, value: &str) -> Result<()> {
    if !is_http_token(name) {
        return Err(Error::usage(format!(
            "`{}` is not a valid header name",
            crate::text::escape_controls(name)
        ))
        .with_help(TOKEN_HELP));
    }
    if let Some(c) = value.chars().find(|c| c.is_ascii_control() && *c != '\t') {
        return Err(Error::usage(format!(
            "the value of header `{name}` contains the control character U+{:04X}, which HTTP does not allow",
            u32::from(c)
        ))
        .with_help("remove line breaks and other control characters from the value"));
    }
    Ok(())
}

const TOKEN_HELP: &str =
    "header names are letters, digits and !#$%&'*+-.^_`|~ (RFC 9110), e.g. -H 'X-Request-Id: 42'";

/// A header or cookie parameter whose name is not a token is the definition's fault (exit 4).
fn check_spec_name(op: &Operation, param: &crate::spec::Param, what: &str) -> Result<()> {
    if is_http_token(&param.name) {
        return Ok(());
    }
    Err(Error::spec(format!(
        "the {what} parameter `{}` of `{}` has a name that is not a valid {what} name",
        crate::text::escape_controls(&param.name),
        op.entry.name
    ))
    .with_help(format!(
        "{what} names are letters, digits and !#$%&'*+-.^_`|~ (RFC 9110); fix the name in the definition"
    )))
}

/// Parameters declared with `content` carry JSON text.
fn encode_content_param(content_type: Option<&str>, value: &Value) -> Value {
    match (content_type, value) {
        (Some(_), Value::String(_)) | (None, _) => value.clone(),
        (Some(_), other) => Value::String(other.to_string()),
    }
}

pub fn parse_header(raw: &str) -> Result<Header> {
    let Some((name, value)) = raw.split_once(':') else {
        return Err(Error::usage(format!(
            "header `{}` has no `:`",
            crate::text::escape_controls(raw)
        ))
        .with_help("write headers as -H 'Name: value'"));
    };
    let (name, value) = (name.trim(), value.trim());
    check_header(name, value)?;
    Ok(Header {
        name: name.to_string(),
        value: Secret::from(value.to_string()),
    })
}

/// Whether a header's value is a credential that must be masked in anything shown.
pub fn is_sensitive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["token", "secret", "api-key", "apikey", "password"]
        .iter()
        .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::params;
    use crate::spec::index;
    use serde_json::json;

    fn op(doc: &Value, name: &str) -> Operation {
        let api = index::index("t", doc);
        index::resolve_operation(doc, api.find(name).unwrap()).unwrap()
    }

    fn doc() -> Value {
        json!({"openapi": "3.0.0",
        "servers": [{"url": "https://api.example.com/v1/"}],
        "security": [{"b": []}],
        "components": {"securitySchemes": {"b": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/users/{id}": {"get": {"operationId": "getUser", "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string"}}
            ], "responses": {}}},
            "/public": {"post": {"operationId": "pub", "security": [],
                "requestBody": {"content": {"application/json": {}}}, "responses": {}}}
        }})
    }

    fn token(explicit: bool) -> Token {
        Token {
            value: Secret::from("s3cret".to_string()),
            explicit,
        }
    }

    #[test]
    fn builds_url_headers_and_cookies() {
        let doc = doc();
        let op = op(&doc, "getUser");
        let pairs: Vec<String> = ["q=a b", "X-Trace=t1", "session=abc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values = params::collect(&op, &["a/b".to_string()], &pairs, false)
            .unwrap()
            .values;
        let base = base_url(&op.servers, None, &Origin::Bundled("t".into())).unwrap();
        let request = build(Plan {
            op: &op,
            values: &values,
            body: None,
            base_url: &base,
            token: Some(&token(false)),
            headers: &["X-Extra: 1".to_string()],
        })
        .unwrap();
        assert_eq!(
            request.url,
            "https://api.example.com/v1/users/a%2Fb?q=a%20b"
        );
        assert_eq!(request.header("x-trace"), Some("t1"));
        assert_eq!(request.header("cookie"), Some("session=abc"));
        assert_eq!(request.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(request.header("x-extra"), Some("1"));
        assert!(request.header("user-agent").unwrap().starts_with("epilot/"));
    }

    #[test]
    fn ambient_token_only_goes_where_bearer_is_declared() {
        let doc = doc();
        let op = op(&doc, "pub");
        let values = params::collect(&op, &[], &[], false).unwrap().values;
        let plan = |t| Plan {
            op: &op,
            values: &values,
            body: Some(BodyInput::Raw(b"{}".to_vec())),
            base_url: "http://h",
            token: Some(t),
            headers: &[],
        };
        let (ambient, explicit) = (token(false), token(true));
        assert_eq!(build(plan(&ambient)).unwrap().header("authorization"), None);
        let sent = build(plan(&explicit)).unwrap();
        assert_eq!(sent.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(sent.header("content-type"), Some("application/json"));
    }

    #[test]
    fn server_selection() {
        let servers = vec![Server {
            url: "/api".into(),
            description: None,
        }];
        assert_eq!(
            base_url(
                &servers,
                Some("http://localhost:1/"),
                &Origin::Bundled("x".into())
            )
            .unwrap(),
            "http://localhost:1"
        );
        assert_eq!(
            base_url(
                &servers,
                None,
                &Origin::Url("https://h.io/specs/a.yaml".into())
            )
            .unwrap(),
            "https://h.io/api"
        );
        let relative = vec![Server {
            url: "v2".into(),
            description: None,
        }];
        assert_eq!(
            base_url(
                &relative,
                None,
                &Origin::Url("https://h.io/specs/a.yaml".into())
            )
            .unwrap(),
            "https://h.io/specs/v2"
        );
        assert!(base_url(&servers, None, &Origin::File("a.yaml".into())).is_err());
        assert!(base_url(&[], None, &Origin::File("a.yaml".into()))
            .unwrap_err()
            .help
            .unwrap()
            .contains("--server"));
        assert!(base_url(&servers, Some("localhost"), &Origin::File("a".into())).is_err());
    }

    #[test]
    fn header_names_are_tokens() {
        assert!(is_http_token("X-Api-Key") && is_http_token("a!#$%&'*+-.^_`|~9"));
        for bad in [
            "",
            "Bad Name",
            "X-Api-Key$(touch x)",
            "a:b",
            "a\"b",
            "Grüße",
            "a\nb",
        ] {
            assert!(!is_http_token(bad), "{bad}");
        }
    }

    #[test]
    fn hostile_spec_names_and_values_are_refused_before_anything_is_shown() {
        let doc = json!({"openapi": "3.0.0", "paths": {"/items/{id}": {"get": {
            "operationId": "get", "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "X-Api-Key$(touch x)", "in": "header", "schema": {"type": "string"}},
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                {"name": "a;admin", "in": "cookie", "schema": {"type": "string"}}
            ], "responses": {}}}}});
        let op = op(&doc, "get");
        let run = |pairs: &[&str], headers: &[String]| {
            let pairs: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
            let values = params::collect(&op, &["..".to_string()], &pairs, true)
                .unwrap()
                .values;
            build(Plan {
                op: &op,
                values: &values,
                body: None,
                base_url: "http://h",
                token: None,
                headers,
            })
        };
        let e = run(&["X-Api-Key$(touch x)=1"], &[]).unwrap_err();
        assert_eq!(e.kind.exit_code(), 4);
        assert!(e.message.contains("`X-Api-Key$(touch x)`"), "{}", e.message);
        assert_eq!(run(&["a;admin=v"], &[]).unwrap_err().kind.exit_code(), 4);
        let e = run(&["X-Trace=a\r\nInjected: 1"], &[]).unwrap_err();
        assert_eq!(e.kind.exit_code(), 2);
        assert!(e.message.contains("U+000D"), "{}", e.message);
        let e = run(&[], &["X-Bad: \u{1b}[2J".to_string()]).unwrap_err();
        assert_eq!(e.kind.exit_code(), 2);
        let sent = run(&["X-Trace=a\tb"], &[]).unwrap();
        assert_eq!(sent.url, "http://h/items/%2E%2E");
        assert_eq!(sent.header("x-trace"), Some("a\tb"));
    }

    #[test]
    fn headers_are_checked() {
        assert_eq!(parse_header("X-A:  b ").unwrap().value.expose(), "b");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("Bad Name: x").is_err());
        assert!(parse_header("X-Api-Key$(touch x): v").is_err());
        assert!(parse_header("X-A: a\u{0}b").is_err());
        assert!(
            is_sensitive("Authorization") && is_sensitive("X-Api-Key") && !is_sensitive("Accept")
        );
    }
}
