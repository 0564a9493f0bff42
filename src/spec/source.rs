//! Where an API's OpenAPI document comes from, and turning its text into a JSON value.
//!
//! Precedence (applied by [`crate::spec::load`]): `--definition <file|url>` > an allowed `./.epilot/overrides/<api>.json|yaml|yml`
//! (see `spec/overrides.rs`) > a registered or pulled definition > the definitions bundled
//! into the binary. JSON or YAML is told from the content, not the name.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// Where a document was read from; shown in errors and used to resolve relative server URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Bundled(String),
    File(PathBuf),
    Url(String),
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Bundled(name) => format!("the bundled `{name}` definition"),
            Origin::File(path) => path.display().to_string(),
            Origin::Url(url) => url.clone(),
        }
    }
}

/// The names of the APIs compiled into the binary.
pub fn bundled_names() -> impl Iterator<Item = &'static str> {
    bundled::BUNDLED.iter().map(|(name, _)| *name)
}

/// The text of a bundled definition (compact JSON).
pub fn bundled_text(api: &str) -> Option<&'static str> {
    bundled::BUNDLED
        .iter()
        .find(|(name, _)| *name == api)
        .map(|(_, json)| *json)
}

pub fn is_url(location: &str) -> bool {
    let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

pub(super) fn read_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::spec(format!(
            "cannot read the OpenAPI document {}: {e}",
            path.display()
        ))
        .with_help("check the path given to --definition")
    })?;
    utf8(bytes, path)
}

pub(super) fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::spec(format!(
            "the OpenAPI document {} is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parses document text as JSON when it starts like JSON, otherwise as YAML, and checks that it
/// is an OpenAPI 3 document. Errors carry the line and column where parsing broke.
pub fn parse_document(text: &str, origin: &Origin) -> Result<Value> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let value: Value = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(|e| {
            Error::spec(format!(
                "{} is not valid JSON: {} at line {} column {}",
                origin.describe(),
                strip_position(&e.to_string()),
                e.line(),
                e.column()
            ))
        })?
    } else {
        if let Err((line, column)) = flow_depth_within(trimmed, MAX_FLOW_DEPTH) {
            return Err(Error::spec(format!(
                "{} is not valid YAML or JSON: `[`/`{{` nested deeper than {MAX_FLOW_DEPTH} levels at line {line} column {column}",
                origin.describe()
            )));
        }
        let yaml: serde_yaml::Value = serde_yaml::from_str(trimmed).map_err(|e| {
            let position = e
                .location()
                .map(|l| format!(" at line {} column {}", l.line(), l.column()))
                .unwrap_or_default();
            Error::spec(format!(
                "{} is not valid YAML or JSON: {}{position}",
                origin.describe(),
                strip_position(&e.to_string())
            ))
        })?;
        yaml_to_json(yaml, 0).map_err(|msg| Error::spec(format!("{}: {msg}", origin.describe())))?
    };
    check_openapi_version(&value, origin)?;
    Ok(value)
}

/// serde's messages end in " at line X column Y"; the caller adds its own position.
fn strip_position(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |at| &message[..at])
}

const MAX_YAML_DEPTH: usize = 256;

/// serde_yaml stops at 128 levels, but only after its scanner has read ahead: on flow
/// collections (`[[[…` or `{a: {a: …`) that read-ahead is quadratic, and 200 KB of them took
/// 97 s to refuse. This pre-scan refuses them in linear time. Block nesting (`a:\n a:\n …`,
/// `- - - …`) needs no scan: serde_yaml refuses it in milliseconds.
const MAX_FLOW_DEPTH: usize = 128;

/// Checks that `[`/`{` flow collections nest at most `limit` deep; otherwise the 1-based line
/// and column of the first opener past it. A light YAML scanner: it knows quoted scalars,
/// comments and block scalars (`|`, `>`), where brackets are text. Where it cannot tell, it
/// counts: a stray `[` at the start of a plain line costs a level, never a missed attack.
fn flow_depth_within(text: &str, limit: usize) -> std::result::Result<(), (usize, usize)> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut depth = 0usize;
    let mut quote = Quote::None;
    // The indentation of the line that opened a block scalar; deeper lines are its text.
    let mut block_scalar: Option<usize> = None;
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        // A token may start here: a quote opens a quoted scalar, `[`/`{` a flow collection.
        let mut token_start = true;
        let mut escaped = false;
        let mut previous = ' ';
        let mut chars = line.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let next = chars.peek().map_or(' ', |(_, n)| *n);
            match quote {
                Quote::Single => {
                    if c == '\'' {
                        if next == '\'' {
                            chars.next();
                        } else {
                            quote = Quote::None;
                        }
                    }
                }
                Quote::Double => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        quote = Quote::None;
                    }
                }
                Quote::None => match c {
                    '#' if previous.is_whitespace() => break,
                    '\'' if token_start => quote = Quote::Single,
                    '"' if token_start => quote = Quote::Double,
                    '[' | '{' if token_start || depth > 0 => {
                        depth += 1;
                        if depth > limit {
                            return Err((number + 1, line[..at].chars().count() + 1));
                        }
                        token_start = true;
                    }
                    ']' | '}' if depth > 0 => {
                        depth -= 1;
                        token_start = false;
                    }
                    '|' | '>' if token_start && depth == 0 => {
                        block_scalar = Some(indent);
                        break;
                    }
                    // An anchor or tag leaves the node to come: skip its name.
                    '&' | '!' if token_start => {
                        let in_name = |(_, n): &(usize, char)| {
                            !n.is_whitespace() && !matches!(n, ',' | '[' | ']' | '{' | '}')
                        };
                        while chars.next_if(in_name).is_some() {}
                    }
                    ',' if depth > 0 => token_start = true,
                    '-' | '?' | ':' if next.is_whitespace() => token_start = true,
                    ':' if depth > 0 && matches!(next, ',' | '[' | ']' | '{' | '}') => {
                        token_start = true
                    }
                    c if c.is_whitespace() => {}
                    _ => token_start = false,
                },
            }
            previous = c;
        }
    }
    Ok(())
}

/// YAML allows non-string keys (`200:` is an integer); JSON Schema and OpenAPI want strings.
fn yaml_to_json(value: serde_yaml::Value, depth: usize) -> std::result::Result<Value, String> {
    use serde_yaml::Value as Y;
    if depth > MAX_YAML_DEPTH {
        return Err(format!("nesting deeper than {MAX_YAML_DEPTH} levels"));
    }
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|v| yaml_to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut object = serde_json::Map::with_capacity(map.len());
            for (key, v) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    // Named by kind only: printing it could mean megabytes of a hostile key.
                    Y::Sequence(_) | Y::Mapping(_) | Y::Tagged(_) => {
                        return Err(format!(
                            "a {} is used as a mapping key; OpenAPI keys are text",
                            yaml_kind(&key)
                        ))
                    }
                };
                object.insert(key, yaml_to_json(v, depth + 1)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value, depth + 1)?,
    })
}

fn yaml_kind(value: &serde_yaml::Value) -> &'static str {
    match value {
        serde_yaml::Value::Sequence(_) => "sequence",
        serde_yaml::Value::Mapping(_) => "mapping",
        serde_yaml::Value::Tagged(_) => "tagged value",
        _ => "scalar",
    }
}

fn check_openapi_version(value: &Value, origin: &Origin) -> Result<()> {
    let Some(object) = value.as_object() else {
        return Err(Error::spec(format!(
            "{} is not an OpenAPI document: its top level is not an object",
            origin.describe()
        )));
    };
    match object.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with("3.") => Ok(()),
        Some(version) => Err(Error::spec(format!(
            "{} declares OpenAPI {version}; only OpenAPI 3.0 and 3.1 are supported",
            origin.describe()
        ))),
        None if object.contains_key("swagger") => Err(Error::spec(format!(
            "{} is a Swagger 2.0 document; only OpenAPI 3.0 and 3.1 are supported",
            origin.describe()
        ))
        .with_help("convert it to OpenAPI 3 first (for example with swagger2openapi)")),
        None => Err(Error::spec(format!(
            "{} is not an OpenAPI document: it has no `openapi` version field",
            origin.describe()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin::File(PathBuf::from("spec.yaml"))
    }

    #[test]
    fn json_and_yaml_are_told_apart_by_content() {
        let json = parse_document(r#"{"openapi":"3.0.0","paths":{}}"#, &origin()).unwrap();
        let yaml = parse_document("openapi: 3.0.0\npaths: {}\n", &origin()).unwrap();
        assert_eq!(json, yaml);
    }

    #[test]
    fn yaml_integer_keys_become_strings() {
        let doc = parse_document("openapi: 3.0.0\nr:\n  200: ok\n", &origin()).unwrap();
        assert_eq!(doc["r"]["200"], "ok");
    }

    #[test]
    fn broken_json_names_file_line_and_column() {
        let err = parse_document(
            "{\n  \"openapi\": \"3.0.0\",\n  \"paths\": {,}\n}",
            &origin(),
        )
        .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Spec);
        assert!(
            err.message.starts_with("spec.yaml is not valid JSON"),
            "{}",
            err.message
        );
        assert!(err.message.contains("line 3 column 13"), "{}", err.message);
    }

    #[test]
    fn broken_yaml_names_line() {
        let err = parse_document("openapi: 3.0.0\npaths:\n  - a\n  b: c\n", &origin()).unwrap_err();
        assert!(err.message.contains("line 4"), "{}", err.message);
    }

    #[test]
    fn swagger_2_is_refused_with_advice() {
        let err = parse_document("swagger: '2.0'\n", &origin()).unwrap_err();
        assert!(err.message.contains("Swagger 2.0"));
        assert!(err.help.is_some());
    }

    #[test]
    fn urls_are_recognised_case_insensitively() {
        assert!(is_url("HTTPS://example.com/a.yaml"));
        assert!(is_url("http://127.0.0.1:80/x"));
        assert!(!is_url("./http.yaml"));
    }

    #[test]
    fn deep_flow_nesting_is_refused_fast_with_its_position() {
        let deep = format!(
            "openapi: 3.0.0\nx: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let started = std::time::Instant::now();
        let err = parse_document(&deep, &origin()).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            err.message
                .contains("nested deeper than 128 levels at line 2 column 132"),
            "{}",
            err.message
        );
        let keys = format!(
            "openapi: 3.0.0\nx: {}1{}\n",
            "{a: ".repeat(50_000),
            "}".repeat(50_000)
        );
        assert!(parse_document(&keys, &origin()).is_err());
        // Anchors and tags before the opener do not hide it.
        let anchored = format!("x: &a !t {}", "[".repeat(200));
        assert_eq!(flow_depth_within(&anchored, 128), Err((1, 138)));
    }

    #[test]
    fn brackets_as_text_do_not_count_as_nesting() {
        let text = format!(
            "a: '{open}'\nb: \"{open}\\\"\"\nc: x [{open}\n# {open}\nd: |\n  {open}\n  [\ne: >-\n    {open}\nf: [1, {{g: [2]}}, 'it''s [', \"[\"]\ng: it's [\n",
            open = "[".repeat(200)
        );
        assert_eq!(flow_depth_within(&text, 128), Ok(()));
        assert_eq!(flow_depth_within(&"[".repeat(128), 128), Ok(()));
        assert_eq!(flow_depth_within(&"[".repeat(129), 128), Err((1, 129)));
    }

    /// What YAML's edge cases become (YAML 1.2 core schema, as serde_yaml reads it): real specs
    /// quote such values, so this only pins the behaviour down.
    #[test]
    fn yaml_scalars_follow_yaml_1_2() {
        let doc = parse_document(
            "openapi: 3.0.0\nbig: 1e400\nhex: 0x1F\ninf: .inf\nyes: yes\non: on\nno: no\nt: true\nn: ~\ntagged: !custom {a: 1}\n",
            &origin(),
        )
        .unwrap();
        let expected = serde_json::json!({"openapi": "3.0.0", "big": "1e400", "hex": 31, "inf": null,
            "yes": "yes", "on": "on", "no": "no", "t": true, "n": null, "tagged": {"a": 1}});
        assert_eq!(doc, expected);
        let err = parse_document("openapi: 3.0.0\nx: 1\nx: 2\n", &origin()).unwrap_err();
        assert!(
            err.message.contains("duplicate entry with key \"x\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_collection_as_a_key_is_named_not_printed() {
        let key = format!("[{}]", "1, ".repeat(100_000));
        let err = parse_document(&format!("openapi: 3.0.0\nx: {{? {key} : a}}\n"), &origin())
            .unwrap_err();
        assert_eq!(
            err.message,
            "spec.yaml: a sequence is used as a mapping key; OpenAPI keys are text"
        );
    }
}
