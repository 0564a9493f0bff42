//! Entry points for the fuzzers in `fuzz/` and for the regression tests that replay what they
//! found (`tests/fixtures/fuzz/`). Each takes arbitrary bytes and must never panic, hang or
//! exhaust memory; the assertions inside state what must always hold.

use std::sync::OnceLock;

use serde_json::Value;

use crate::input::body::BodyInput;
use crate::input::params;
use crate::request::{self, Plan};
use crate::spec::{index, normalize, source, Origin};

/// Any bytes as an OpenAPI document: load, index, resolve each operation, render its help.
pub fn load_spec_and_render(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut document) = source::parse_document(text, &Origin::File("fuzz".into())) else {
        return;
    };
    normalize::normalize(&mut document);
    let api = index::index("fuzz", &document);
    let _ = crate::commands::list::operations(&api, Some("fuzz.json"));
    for entry in api.operations.iter().take(20) {
        if let Ok(op) = index::resolve_operation(&document, entry) {
            let _ = crate::output::help::operation_text(
                "fuzz",
                None,
                &document,
                &op,
                &crate::output::help::PLAIN,
            );
            let _ = crate::transport::mock::response(&document, &op, &mut std::io::sink());
        }
    }
}

fn fixture(cell: &'static OnceLock<Value>, text: &str) -> &'static Value {
    cell.get_or_init(|| {
        let mut document =
            source::parse_document(text, &Origin::File("fixture".into())).expect("fixture parses");
        normalize::normalize(&mut document);
        document
    })
}

fn petstore() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    fixture(&CELL, include_str!("../tests/fixtures/petstore-3.0.json"))
}

fn validation() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    fixture(&CELL, include_str!("../tests/fixtures/validation-3.0.yaml"))
}

/// Bytes as command-line values: the first line picks an operation of the petstore fixture;
/// each further line is a positional value (`pos:<text>`) or a `-p` pair (`name=value`).
pub fn parameters_to_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let document = petstore();
    let api = index::index("pets", document);
    let mut lines = text.lines();
    let pick = lines.next().and_then(|l| l.bytes().next()).unwrap_or(0) as usize;
    let Some(entry) = api.operations.get(pick % api.operations.len()) else {
        return;
    };
    let Ok(op) = index::resolve_operation(document, entry) else {
        return;
    };
    let (mut positionals, mut pairs) = (Vec::new(), Vec::new());
    for line in lines.take(16) {
        match line.strip_prefix("pos:") {
            Some(value) => positionals.push(value.to_string()),
            None => pairs.push(line.to_string()),
        }
    }
    let Ok(collected) = params::collect(&op, &positionals, &pairs, pick.is_multiple_of(2)) else {
        return;
    };
    let _ = crate::validate::check_request(document, &op, &collected.values, None);
    let base = "https://fuzz.example.com/base";
    let base_url = request::Url::parse(base).expect("the base parses");
    let url =
        request::url_for(&op, &collected.values, &base_url).expect("the fixture's paths stay");
    let Ok(built) = request::build(Plan {
        op: &op,
        values: &collected.values,
        body: None,
        url: &url,
        token: None,
        headers: &[],
    }) else {
        return;
    };
    // Whatever the values, the path keeps the template's shape: no value adds a segment,
    // a query or a fragment.
    let path = built
        .url
        .strip_prefix(base)
        .expect("the URL starts with the base");
    let path_only = path.split('?').next().unwrap_or("");
    assert_eq!(
        path_only.matches('/').count(),
        entry.path.matches('/').count(),
        "{path}"
    );
    assert!(!path.contains('#'), "{path}");
    assert!(path.matches('?').count() <= 1, "{path}");
}

/// Bytes as a JSON request body for the validation fixture's operations.
pub fn validate_body(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let document = validation();
    let api = index::index("v", document);
    let entry = &api.operations[pick as usize % api.operations.len()];
    let Ok(op) = index::resolve_operation(document, entry) else {
        return;
    };
    // The validator's own parse must read exactly what serde_json reads, and refuse the same.
    let parsed = crate::validate::Instance::parse(body);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => assert_eq!(parsed.map(|i| i.to_value()).ok(), Some(value)),
        Err(_) => assert!(parsed.is_err()),
    }
    let values: params::ParamValues = vec![None; op.params.len()];
    let _ = crate::validate::check_request(
        document,
        &op,
        &values,
        Some(&BodyInput::Raw(body.to_vec())),
    );
}

/// The servers [`url_from_template`] builds on: a path, a query, IPv6, a port, none of them.
const BASES: [&str; 4] = [
    "https://fuzz.example.com/base",
    "http://127.0.0.1:8080",
    "https://[::1]:8443/api/?key=1",
    "https://User.Sls.Epilot.IO",
];

/// Bytes as a path template and values: the first line is the template (the document's own
/// text), the next ones the values of the path parameters `a` (simple) and `b` (label) and the
/// query parameter `q` (allowReserved). Building the URL may refuse, but whatever it returns
/// goes to the base's scheme, host and port, as the transport's own parser reads it.
pub fn url_from_template(data: &[u8]) {
    let _ = build_from_template(data);
}

/// What [`url_from_template`] did: `None` when the input made no operation, else whether the
/// URL was built (`true`) or refused.
fn build_from_template(data: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(data).ok()?;
    let (pick, text) = text.split_at_checked(1)?;
    let pick = pick.as_bytes()[0];
    let mut lines = text.split('\n');
    let template = lines.next().unwrap_or_default();
    let document = serde_json::json!({
        "openapi": "3.0.0",
        "paths": {template: {"get": {"operationId": "op", "parameters": [
            {"name": "a", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "b", "in": "path", "required": true, "style": "label",
             "schema": {"type": "string"}},
            {"name": "q", "in": "query", "allowReserved": true, "schema": {"type": "string"}}
        ], "responses": {}}}}
    });
    let api = index::index("fuzz", &document);
    let op = index::resolve_operation(&document, api.operations.first()?).ok()?;
    let pairs: Vec<String> = ["a", "b", "q"]
        .iter()
        .zip(lines)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let collected = params::collect(&op, &[], &pairs, true).ok()?;
    let base = request::Url::parse(BASES[pick as usize % BASES.len()]).expect("bases parse");
    match request::url_for(&op, &collected.values, &base) {
        Ok(url) => {
            assert_same_origin(url.as_str(), &base);
            Some(true)
        }
        Err(error) => {
            assert!(
                !(template.starts_with('/') && error.message.contains("would send")),
                "a template that starts with `/` cannot leave the server: {template:?} {}",
                error.message
            );
            // Values are encoded, so a refusal is always the template's doing.
            let plain = template.starts_with('/')
                && template
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/{}%".contains(&b));
            assert!(!plain, "{template:?} with {pairs:?}: {}", error.message);
            Some(false)
        }
    }
}

/// Reads `url` with `http::Uri` itself (not through [`request::Url`]) and compares.
fn assert_same_origin(url: &str, base: &request::Url) {
    let uri: ureq::http::Uri = url.parse().expect("a built URL parses");
    let origin = base.origin();
    assert_eq!(uri.scheme_str(), Some(origin.scheme.as_str()), "{url}");
    assert_eq!(
        uri.host().map(str::to_ascii_lowercase).as_deref(),
        Some(origin.host.as_str()),
        "{url}"
    );
    let default = if origin.scheme.as_str() == "https" {
        443
    } else {
        80
    };
    assert_eq!(uri.port_u16().unwrap_or(default), origin.port, "{url}");
}

#[cfg(test)]
mod tests {
    /// cargo-fuzz cannot run on every machine; this drives the URL target with a few thousand
    /// inputs made of the pieces that move requests elsewhere, on every `cargo test`
    /// (`EPILOT_URL_INPUTS=<n>` for a longer run).
    #[test]
    fn url_from_template_with_generated_inputs() {
        let inputs: u64 = std::env::var("EPILOT_URL_INPUTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(5000);
        const PIECES: [&str; 28] = [
            "/",
            "//",
            "@",
            "127.0.0.1",
            ":4403",
            ":",
            ".evil.example",
            "evil.example",
            "\\\\",
            "%2F%2F",
            "?",
            "#",
            "..",
            ".",
            "{a}",
            "{b}",
            "[",
            "]",
            "::1",
            "x",
            "%",
            " ",
            "é",
            "\t",
            "\n",
            "&",
            "=",
            ";",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut built, mut refused) = (0, 0);
        for _ in 0..inputs {
            let mut input = vec![b' ' + (next() % 90) as u8];
            if next() % 2 == 0 {
                input.push(b'/');
            }
            for _ in 0..(next() % 12) {
                input.extend(PIECES[(next() % PIECES.len() as u64) as usize].as_bytes());
            }
            match super::build_from_template(&input) {
                Some(true) => built += 1,
                Some(false) => refused += 1,
                None => {}
            }
        }
        assert!(
            built > inputs / 5 && refused > inputs / 10,
            "{built} built, {refused} refused"
        );
    }
}
