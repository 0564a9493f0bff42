//! Valid input + server + token → a plain [`PreparedRequest`]. No I/O happens here, so the
//! whole mapping from the command line to bytes on the wire is unit-tested.

pub mod curl;
pub mod multipart;
pub mod secret;
pub mod style;
pub mod url;

pub use url::Url;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::body::{BodyInput, FormValue};
use crate::input::params::ParamValues;
use crate::request::secret::Secret;
use crate::spec::{Auth, Location, Method, Operation, Origin, Server};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Secret,
    /// Shown masked wherever a request is printed (`-v`, `--dry-run`, the curl line reads it
    /// from the environment): set for credential names ([`is_sensitive`]) and for every
    /// header a profile adds, whatever its name (README "Where a token may go").
    pub masked: bool,
}

impl Header {
    /// A header masked when its name says it is a credential.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Header {
        let name = name.into();
        Header {
            masked: is_sensitive(&name),
            name,
            value: Secret::from(value.into()),
        }
    }

    /// The same header, masked whatever its name: a profile's headers are secrets.
    pub fn into_masked(self) -> Header {
        Header {
            masked: true,
            ..self
        }
    }
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
pub fn base_url(servers: &[Server], server_flag: Option<&str>, origin: &Origin) -> Result<Url> {
    if let Some(server) = server_flag {
        return Url::parse_server(server).map_err(|reason| {
            Error::usage(format!(
                "--server `{}` is not a usable http(s) URL: {reason}",
                url::redacted(server)
            ))
            .with_help("write it with its scheme, e.g. --server https://user.sls.epilot.io")
        });
    }
    let Some(server) = servers.first() else {
        return Err(Error::usage(format!(
            "{} names no server to send the request to",
            origin.describe()
        ))
        .with_help("pass the base URL with --server https://..."));
    };
    let absolute = match (Url::parse_server(&server.url), origin) {
        (Ok(url), _) => return Ok(url),
        (Err(reason), _) if url::has_scheme(&server.url) => Err(reason),
        (Err(_), Origin::Url(document)) => {
            Url::parse(document).map(|document| document.resolve(&server.url))
        }
        (Err(_), _) => {
            return Err(Error::usage(format!(
                "the server `{}` in {} is relative, so it needs a base",
                server.url,
                origin.describe()
            ))
            .with_help("pass the base URL with --server https://..."))
        }
    };
    absolute
        .and_then(|text| Url::parse_server(&text))
        .map_err(|reason| {
            Error::spec(format!(
                "the server `{}` in {} is not a usable URL: {reason}",
                url::redacted(&server.url),
                origin.describe()
            ))
            .with_help(
                "fix the document's `servers`, or pass the base URL with --server https://...",
            )
        })
}

/// The URL a request goes to: the base URL with the expanded path template and the query.
/// Values are percent-encoded, but the template is the document's own text: one that would
/// move the request to another scheme, host or port (`@host/x`, `.evil.example/x`, `:8080/x`)
/// is an error in the document, decided on the URL as the transport will read it.
pub fn url_for(op: &Operation, values: &ParamValues, base: &Url) -> Result<Url> {
    let mut path = op.entry.path.clone();
    let mut query: Vec<String> = Vec::new();
    for (param, value) in op.params.iter().zip(values) {
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
            Location::Header | Location::Cookie => {}
        }
    }
    let path = style::protect_dot_segments(&op.entry.path, &path);
    let text = base.join(&path, &query);
    let moved = |what: String| {
        Error::spec(format!(
            "the path `{}` of `{}` {what}",
            op.entry.path, op.entry.name
        ))
        .with_help("a path must start with `/` and stay on the server; fix the document's `paths`")
    };
    let url =
        Url::parse(&text).map_err(|reason| moved(format!("does not make a URL: {reason}")))?;
    if url.origin() != base.origin() {
        return Err(moved(format!(
            "would send the request to {} instead of {}",
            url.origin(),
            base.origin()
        )));
    }
    Ok(url)
}

pub struct Plan<'a> {
    pub op: &'a Operation,
    pub values: &'a ParamValues,
    pub body: Option<BodyInput>,
    /// From [`url_for`], so the secrets were decided on the URL that is sent.
    pub url: &'a Url,
    pub token: Option<&'a Token>,
    /// The profile's headers, then `-H 'Key: Value'` as typed, parsed by [`parse_header`]
    /// (a profile's marked [`Header::into_masked`]).
    pub headers: &'a [Header],
}

pub fn build(plan: Plan<'_>) -> Result<PreparedRequest> {
    let op = plan.op;
    let mut headers: Vec<Header> = Vec::new();
    let mut cookies: Vec<String> = Vec::new();
    for (param, value) in op.params.iter().zip(plan.values) {
        let Some(value) = value else { continue };
        let value = &encode_content_param(param.content_type.as_deref(), value);
        match param.location {
            Location::Header => {
                check_spec_name(op, param, "header")?;
                headers.push(Header::new(
                    param.name.clone(),
                    style::header_value(param, value),
                ));
            }
            Location::Cookie => {
                check_spec_name(op, param, "cookie")?;
                cookies.extend(style::cookie_pairs(param, value));
            }
            Location::Path | Location::Query => {}
        }
    }
    if !cookies.is_empty() {
        headers.push(Header::new("Cookie", cookies.join("; ")));
    }
    headers.push(Header::new(
        "User-Agent",
        format!("epilot/{}", env!("CARGO_PKG_VERSION")),
    ));

    if let Some(token) = plan.token {
        if op.auth == Auth::Bearer || token.explicit {
            headers.push(Header::new(
                "Authorization",
                format!("Bearer {}", token.value.expose()),
            ));
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
            headers.push(Header::new("Content-Type", content_type));
            (Some(bytes), None)
        }
        Some(BodyInput::Form(fields)) => {
            let urlencoded = crate::input::body::form_is_urlencoded(op);
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
            headers.push(Header::new("Content-Type", content_type));
            (Some(bytes), Some(fields))
        }
    };

    // User headers come last and replace generated ones of the same name; a name typed more
    // than once is sent once per -H, in order, as curl does.
    let typed = plan.headers.to_vec();
    let multipart = headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("content-type")
            && h.value.expose().starts_with("multipart/form-data")
    });
    if multipart
        && typed
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("content-type"))
    {
        // Its boundary must be the one the parts are written with: only epilot knows it.
        return Err(Error::usage(
            "a Content-Type header cannot be given for a multipart (-F) body: epilot sets it, with the boundary between the parts",
        )
        .with_help("drop the -H 'Content-Type: ...' (or remove it from the profile)"));
    }
    headers.retain(|h| !typed.iter().any(|t| t.name.eq_ignore_ascii_case(&h.name)));
    headers.extend(typed);

    let request = PreparedRequest {
        method: op.entry.method,
        url: plan.url.to_string(),
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
    // The HTTP library reads these two as text and refuses other bytes only when sending;
    // refusing them here keeps --dry-run and a real call in agreement. (Other headers go out
    // as raw bytes, as with curl.) The character is not shown: the value may be a secret.
    let textual = ["authorization", "host"];
    if !value.is_ascii() && textual.contains(&name.to_ascii_lowercase().as_str()) {
        let from = if name.eq_ignore_ascii_case("authorization") {
            " (from --token, or the stored credential)"
        } else {
            ""
        };
        return Err(Error::usage(format!(
            "the value of header `{name}`{from} contains a non-ASCII character, which epilot cannot send"
        ))
        .with_help("this header must be ASCII; check --token and -H values for stray characters"));
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
    Ok(Header::new(name.to_string(), value.to_string()))
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
            url: &url_for(&op, &values, &base).unwrap(),
            token: Some(&token(false)),
            headers: &[Header::new("X-Extra", "1")],
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
        let url = Url::parse("http://h").unwrap();
        let plan = |t| Plan {
            op: &op,
            values: &values,
            body: Some(BodyInput::Raw(b"{}".to_vec())),
            url: &url,
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
            .unwrap()
            .join("/x", &[]),
            "http://localhost:1/x"
        );
        assert_eq!(
            base_url(
                &servers,
                None,
                &Origin::Url("https://h.io/specs/a.yaml".into())
            )
            .unwrap()
            .as_str(),
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
            .unwrap()
            .as_str(),
            "https://h.io/specs/v2"
        );
        assert!(base_url(&servers, None, &Origin::File("a.yaml".into())).is_err());
        assert!(base_url(&[], None, &Origin::File("a.yaml".into()))
            .unwrap_err()
            .help
            .unwrap()
            .contains("--server"));
        assert!(base_url(&servers, Some("localhost"), &Origin::File("a".into())).is_err());
        let with_password = vec![Server {
            url: "https://ada:pw@h.io/api".into(),
            description: None,
        }];
        let error = base_url(&with_password, None, &Origin::File("a".into())).unwrap_err();
        assert_eq!(error.kind, crate::error::ErrorKind::Spec);
        assert!(
            error.message.contains("`https://***@h.io/api`") && !error.message.contains("pw"),
            "{}",
            error.message
        );
    }

    fn with_path(template: &str) -> Operation {
        let doc = json!({"openapi": "3.0.0", "paths": {template: {"get": {
            "operationId": "op", "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
            ], "responses": {}}}}});
        op(&doc, "op")
    }

    fn url_of(template: &str, id: &str, base: &str) -> Result<String> {
        let op = with_path(template);
        let values = params::collect(&op, &[id.to_string()], &[], true)
            .unwrap()
            .values;
        url_for(&op, &values, &Url::parse(base).unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn a_path_template_cannot_move_the_request() {
        for (template, base, said) in [
            (
                "@127.0.0.1:4403/steal",
                "http://127.0.0.1:1234",
                "to http://127.0.0.1:4403 instead of http://127.0.0.1:1234",
            ),
            (
                ".evil.example/x",
                "https://user.sls.epilot.io",
                "to https://user.sls.epilot.io.evil.example instead of",
            ),
            (
                ":8080/x",
                "https://h.example",
                "to https://h.example:8080 instead of",
            ),
            (":8080/x", "http://127.0.0.1:1234", "does not make a URL"),
            (
                "x.example/{id}",
                "https://h",
                "to https://hx.example instead of",
            ),
        ] {
            let error = url_of(template, "1", base).unwrap_err();
            assert_eq!(error.kind, crate::error::ErrorKind::Spec, "{template}");
            assert!(
                error
                    .message
                    .contains(&format!("the path `{template}` of `op`"))
                    && error.message.contains(said),
                "{}",
                error.message
            );
        }
        let unreadable = url_of("\\\\evil/x", "1", "https://h.example").unwrap_err();
        assert!(unreadable.message.contains("does not make a URL"));
        for template in ["//evil.example/x", "/%2F%2Fevil.example", "/@evil.example"] {
            let url = url_of(template, "1", "https://h.example/api").unwrap();
            assert!(url.starts_with("https://h.example/api/"), "{url}");
        }
    }

    #[test]
    fn path_values_stay_in_their_segment() {
        for value in [
            "a/b",
            "@evil.example",
            "x?y=1",
            "#top",
            "..",
            "../..",
            "//evil",
        ] {
            let url = url_of("/items/{id}", value, "https://h.example/api?k=1").unwrap();
            let path = url.strip_prefix("https://h.example/api/items/").unwrap();
            assert!(
                !path.contains(['/', '?', '#', '@']) || path.ends_with("?k=1"),
                "{url}"
            );
            assert!(url.ends_with("?k=1"), "{url}");
        }
        assert_eq!(
            url_of("/items/{id}", "..", "https://h.example").unwrap(),
            "https://h.example/items/%2E%2E",
            "a value of dots is data, not a dot segment"
        );
    }

    #[test]
    fn a_servers_query_comes_before_the_operations_own() {
        let doc = doc();
        let op = op(&doc, "getUser");
        let values = params::collect(&op, &["7".into()], &["q=x".into()], false)
            .unwrap()
            .values;
        let base = base_url(
            &[],
            Some("https://h.example/v1/?key=abc"),
            &Origin::Bundled("t".into()),
        )
        .unwrap();
        assert_eq!(
            url_for(&op, &values, &base).unwrap().as_str(),
            "https://h.example/v1/users/7?key=abc&q=x"
        );
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
        let run = |pairs: &[&str], headers: &[Header]| {
            let pairs: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
            let values = params::collect(&op, &["..".to_string()], &pairs, true)
                .unwrap()
                .values;
            let url = url_for(&op, &values, &Url::parse("http://h").unwrap())?;
            build(Plan {
                op: &op,
                values: &values,
                body: None,
                url: &url,
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
        let e = run(&[], &[Header::new("X-Bad", "\u{1b}[2J")]).unwrap_err();
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
