//! Rewrites an OpenAPI document in place so that the 3.0-shaped model (and openapiv3) accepts it.
//!
//! OpenAPI 3.1 is JSON Schema 2020-12: `type` may be an array with "null", `const`, schema
//! `examples` arrays and numeric `exclusiveMinimum`/`exclusiveMaximum` appear. In both
//! versions a schema `$ref` may carry siblings (`nullable`, `description`, `type`) that a plain
//! reference would silently drop; those become `allOf: [{$ref}]` plus the siblings, which keeps
//! their meaning.

use serde_json::{Map, Value};

/// Normalises `document`; `is_3_1` enables the 3.1 → 3.0 rewrites.
pub fn normalize(document: &mut Value) {
    let is_3_1 = document
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3.1"));
    if let Some(object) = document.as_object_mut() {
        // Webhooks are not callable operations; they only slow loading down.
        object.remove("webhooks");
    }
    walk(document, is_3_1);
}

fn walk(value: &mut Value, is_3_1: bool) {
    match value {
        Value::Object(object) => {
            rewrite_ref_siblings(object);
            if is_3_1 {
                rewrite_3_1_schema(object);
            }
            for child in object.values_mut() {
                walk(child, is_3_1);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, is_3_1);
            }
        }
        _ => {}
    }
}

const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "nullable",
    "properties",
    "items",
    "enum",
    "format",
    "default",
    "example",
    "required",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "additionalProperties",
    "readOnly",
    "writeOnly",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "deprecated",
    "const",
    "examples",
];

fn rewrite_ref_siblings(object: &mut Map<String, Value>) {
    let Some(Value::String(reference)) = object.get("$ref") else {
        return;
    };
    if object.len() == 1 {
        return;
    }
    let is_schema_ref = reference.contains("/schemas/")
        || object.keys().any(|k| SCHEMA_KEYWORDS.contains(&k.as_str()));
    if !is_schema_ref {
        return;
    }
    let reference = object.remove("$ref").expect("checked above");
    let mut target = Map::new();
    target.insert("$ref".to_string(), reference);
    let mut all_of = vec![Value::Object(target)];
    if let Some(Value::Array(existing)) = object.remove("allOf") {
        all_of.extend(existing);
    }
    object.insert("allOf".to_string(), Value::Array(all_of));
}

fn rewrite_3_1_schema(object: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = object.get("type") {
        let mut nullable = false;
        let mut others: Vec<Value> = Vec::new();
        for t in types {
            if t == "null" {
                nullable = true;
            } else {
                others.push(t.clone());
            }
        }
        object.remove("type");
        match others.len() {
            0 => {}
            1 => {
                object.insert("type".into(), others.pop().expect("one type"));
            }
            _ => {
                let branches = others
                    .into_iter()
                    .map(|t| Value::Object(Map::from_iter([("type".to_string(), t)])))
                    .collect();
                object.insert("anyOf".into(), Value::Array(branches));
            }
        }
        if nullable {
            object.insert("nullable".into(), Value::Bool(true));
        }
    }
    if let Some(constant) = object.remove("const") {
        object.insert("enum".into(), Value::Array(vec![constant]));
    }
    if let Some(Value::Array(examples)) = object.get("examples") {
        let first = examples.first().cloned();
        object.remove("examples");
        if let (Some(first), false) = (first, object.contains_key("example")) {
            object.insert("example".into(), first);
        }
    }
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(bound) = object.get(exclusive).filter(|v| v.is_number()).cloned() {
            object.insert(inclusive.into(), bound);
            object.insert(exclusive.into(), Value::Bool(true));
        }
    }
    // 3.1 allows a schema of `true`/`false` for items and additionalProperties; 3.0 tools
    // understand `{}` for "anything" and `additionalProperties: false` already.
    if object.get("items").is_some_and(Value::is_boolean) {
        object.insert("items".into(), Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn normalized(mut doc: Value) -> Value {
        normalize(&mut doc);
        doc
    }

    #[test]
    fn type_arrays_with_null_become_nullable() {
        let doc = normalized(json!({"openapi": "3.1.0", "s": {"type": ["string", "null"]}}));
        assert_eq!(doc["s"], json!({"type": "string", "nullable": true}));
    }

    #[test]
    fn several_types_become_any_of() {
        let doc = normalized(json!({"openapi": "3.1.0", "s": {"type": ["string", "integer"]}}));
        assert_eq!(
            doc["s"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn const_examples_and_exclusive_bounds() {
        let doc = normalized(json!({"openapi": "3.1.0", "s": {
            "const": "x", "examples": ["a", "b"], "exclusiveMinimum": 0, "exclusiveMaximum": 10
        }}));
        assert_eq!(
            doc["s"],
            json!({
                "enum": ["x"], "example": "a", "minimum": 0, "exclusiveMinimum": true,
                "maximum": 10, "exclusiveMaximum": true
            })
        );
    }

    #[test]
    fn map_valued_examples_of_media_types_are_kept() {
        let doc = normalized(json!({"openapi": "3.1.0", "m": {"examples": {"one": {"value": 1}}}}));
        assert_eq!(doc["m"]["examples"]["one"]["value"], 1);
    }

    #[test]
    fn ref_siblings_keep_their_meaning_in_3_0_too() {
        let doc = normalized(json!({"openapi": "3.0.3", "s": {
            "$ref": "#/components/schemas/A", "nullable": true
        }}));
        assert_eq!(
            doc["s"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/A"}]})
        );
    }

    #[test]
    fn plain_refs_and_parameter_refs_are_left_alone() {
        let doc = normalized(json!({"openapi": "3.0.3",
            "a": {"$ref": "#/components/schemas/A"},
            "p": {"$ref": "#/components/parameters/P", "description": "x"}}));
        assert_eq!(doc["a"], json!({"$ref": "#/components/schemas/A"}));
        assert_eq!(doc["p"]["$ref"], "#/components/parameters/P");
    }

    #[test]
    fn webhooks_are_dropped() {
        let doc = normalized(json!({"openapi": "3.1.0", "webhooks": {"x": {}}}));
        assert!(doc.get("webhooks").is_none());
    }
}
