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
    let _ = crate::listing::operations(&api);
    for entry in api.operations.iter().take(20) {
        if let Ok(op) = index::resolve_operation(&document, entry) {
            let _ = crate::help::operation_text("fuzz", &document, &op, &crate::help::PLAIN);
            let _ = crate::mock::response(&document, &op, &mut std::io::sink());
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
    let Ok(collected) = params::collect(&op, &positionals, &pairs, pick % 2 == 0) else {
        return;
    };
    let _ = crate::validate::check_request(document, &op, &collected.values, None);
    let base = "https://fuzz.example.com/base";
    let Ok(built) = request::build(Plan {
        op: &op,
        values: &collected.values,
        body: None,
        base_url: base,
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
