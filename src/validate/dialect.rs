//! OpenAPI 3.0 schema dialect → JSON Schema 2020-12, so a standard validator (the `jsonschema`
//! crate) checks it. Documents arrive already normalised (3.1 constructs became 3.0 shapes),
//! so this one translation serves both versions.
//!
//! * `nullable: true` admits `null` (in `type`, in `enum`, or as an `anyOf` branch).
//! * Boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 keywords.
//! * In requests, `readOnly` properties are not required; in responses, `writeOnly` ones.
//! * `$ref`s keep pointing into the document: [`sparse_document`] copies just the referenced
//!   nodes (converted too), so a validator is built only for what the operation uses.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::spec::index::deref;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

const MAX_DEPTH: usize = 200;

/// Converts one schema. `document` is used to look through `$ref`s for `readOnly`/`writeOnly`.
pub fn convert(document: &Value, schema: &Value, direction: Direction) -> Value {
    convert_at(document, schema, direction, 0)
}

fn convert_at(document: &Value, schema: &Value, direction: Direction, depth: usize) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    if depth > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    let recurse = |v: &Value| convert_at(document, v, direction, depth + 1);
    let mut out = Map::with_capacity(object.len());
    for (key, value) in object {
        let converted = match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                match value {
                    Value::Object(map) => {
                        Value::Object(map.iter().map(|(k, v)| (k.clone(), recurse(v))).collect())
                    }
                    other => other.clone(),
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "additionalItems" => recurse(value),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => match value {
                Value::Array(items) => Value::Array(items.iter().map(recurse).collect()),
                other => other.clone(),
            },
            // Annotations and OpenAPI-only keywords a validator has no use for.
            "nullable" | "discriminator" | "xml" | "externalDocs" | "example" | "examples" => {
                continue
            }
            "exclusiveMinimum" | "exclusiveMaximum" if value.is_boolean() => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if object.get(exclusive) == Some(&Value::Bool(true)) {
            if let Some(bound) = out.remove(inclusive) {
                out.insert(exclusive.to_string(), bound);
            }
        }
    }
    drop_one_sided_required(document, &mut out, direction);
    if object.get("nullable") == Some(&Value::Bool(true)) {
        return admit_null(out);
    }
    Value::Object(out)
}

fn drop_one_sided_required(
    document: &Value,
    schema: &mut Map<String, Value>,
    direction: Direction,
) {
    let flag = match direction {
        Direction::Request => "readOnly",
        Direction::Response => "writeOnly",
    };
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return;
    };
    let one_sided: HashSet<String> = properties
        .iter()
        .filter(|(_, property)| {
            deref(document, property, "")
                .map(|(p, _)| p.get(flag) == Some(&Value::Bool(true)))
                .unwrap_or(false)
                || property.get(flag) == Some(&Value::Bool(true))
        })
        .map(|(name, _)| name.clone())
        .collect();
    if one_sided.is_empty() {
        return;
    }
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|name| name.as_str().is_none_or(|n| !one_sided.contains(n)));
    }
}

fn admit_null(mut schema: Map<String, Value>) -> Value {
    if let Some(Value::Array(options)) = schema.get_mut("enum") {
        if !options.contains(&Value::Null) {
            options.push(Value::Null);
        }
    }
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema.insert(
                "type".into(),
                Value::Array(vec![Value::String(t), Value::String("null".into())]),
            );
            Value::Object(schema)
        }
        Some(Value::Array(mut types)) => {
            if !types.contains(&Value::String("null".into())) {
                types.push(Value::String("null".into()));
            }
            schema.insert("type".into(), Value::Array(types));
            Value::Object(schema)
        }
        _ => {
            let null = Value::Object(Map::from_iter([(
                "type".to_string(),
                Value::String("null".into()),
            )]));
            Value::Object(Map::from_iter([(
                "anyOf".to_string(),
                Value::Array(vec![Value::Object(schema), null]),
            )]))
        }
    }
}

/// A copy of `document` holding only the nodes `schema` references (transitively), each
/// converted, at their original pointers; the `$ref`s in `schema` resolve against it.
pub fn sparse_document(
    document: &Value,
    schema: &Value,
    direction: Direction,
) -> Map<String, Value> {
    copy_referenced(document, &[schema], |node| {
        convert(document, node, direction)
    })
}

/// The nodes `roots` reference (transitively), unchanged, at their original pointers.
pub fn referenced_nodes(document: &Value, roots: &[&Value]) -> Map<String, Value> {
    copy_referenced(document, roots, Value::clone)
}

fn copy_referenced(
    document: &Value,
    roots: &[&Value],
    transform: impl Fn(&Value) -> Value,
) -> Map<String, Value> {
    let mut sparse = Map::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut pending: Vec<String> = Vec::new();
    for root in roots {
        collect_refs(root, &mut pending);
    }
    while let Some(pointer) = pending.pop() {
        if !seen.insert(pointer.clone()) {
            continue;
        }
        let Some(target) = document.pointer(&pointer) else {
            continue;
        };
        let copied = transform(target);
        collect_refs(&copied, &mut pending);
        insert_at(&mut sparse, &pointer, copied);
    }
    sparse
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                if let Some(fragment) = reference.strip_prefix('#') {
                    out.push(
                        percent_encoding::percent_decode_str(fragment)
                            .decode_utf8_lossy()
                            .into_owned(),
                    );
                }
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn insert_at(root: &mut Map<String, Value>, pointer: &str, value: Value) {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = root;
    for segment in parents {
        let entry = current
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            return;
        }
        current = entry.as_object_mut().expect("checked above");
    }
    current.entry(last.clone()).or_insert(value);
}

/// A `$ref` that reaches itself through `allOf`/`anyOf`/`oneOf`/`not` alone, with no property
/// or item in between. Such a schema never bottoms out: validating against it recurses
/// forever, and compiling it explodes. Each reference is explored once, so this is linear.
pub fn unproductive_cycle(document: &Value, schema: &Value) -> Option<String> {
    fn visit(
        document: &Value,
        node: &Value,
        stack: &mut Vec<String>,
        done: &mut HashSet<String>,
    ) -> Option<String> {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            if stack.iter().any(|r| r == reference) {
                return Some(reference.to_string());
            }
            if done.contains(reference) || stack.len() > 256 {
                return None;
            }
            let target = crate::spec::index::lookup_ref(document, reference).ok()?.0;
            stack.push(reference.to_string());
            let found = visit(document, target, stack, done);
            stack.pop();
            done.insert(reference.to_string());
            if found.is_some() {
                return found;
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            for branch in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(found) = visit(document, branch, stack, done) {
                    return Some(found);
                }
            }
        }
        node.get("not")
            .and_then(|not| visit(document, not, stack, done))
    }
    visit(document, schema, &mut Vec::new(), &mut HashSet::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_admits_null_in_type_enum_or_any_of() {
        let doc = json!({});
        assert_eq!(
            convert(
                &doc,
                &json!({"type": "string", "nullable": true}),
                Direction::Request
            ),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            convert(
                &doc,
                &json!({"type": "string", "enum": ["a"], "nullable": true}),
                Direction::Request
            ),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            convert(
                &doc,
                &json!({"allOf": [{"$ref": "#/x"}], "nullable": true}),
                Direction::Request
            ),
            json!({"anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn boolean_exclusive_bounds_become_numeric() {
        let converted = convert(
            &json!({}),
            &json!({"minimum": 1, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": false}),
            Direction::Request,
        );
        assert_eq!(converted, json!({"exclusiveMinimum": 1, "maximum": 9}));
    }

    #[test]
    fn read_only_is_not_required_in_requests_and_write_only_not_in_responses() {
        let doc = json!({"components": {"schemas": {"Id": {"type": "string", "readOnly": true}}}});
        let schema = json!({"type": "object", "required": ["id", "name", "secret"], "properties": {
            "id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string"},
            "secret": {"type": "string", "writeOnly": true}}});
        assert_eq!(
            convert(&doc, &schema, Direction::Request)["required"],
            json!(["name", "secret"])
        );
        assert_eq!(
            convert(&doc, &schema, Direction::Response)["required"],
            json!(["id", "name"])
        );
    }

    #[test]
    fn unproductive_cycles_are_found_and_productive_recursion_is_not() {
        let doc = json!({"components": {"schemas": {
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}]},
            "B": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/A"}]},
            "Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}
        }}});
        assert_eq!(
            unproductive_cycle(&doc, &json!({"$ref": "#/components/schemas/A"})).as_deref(),
            Some("#/components/schemas/A")
        );
        assert_eq!(
            unproductive_cycle(&doc, &json!({"$ref": "#/components/schemas/Tree"})),
            None
        );
    }

    #[test]
    fn sparse_document_copies_referenced_nodes_transitively_without_looping() {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}, "leaf": {"$ref": "#/components/schemas/Leaf"}}},
            "Leaf": {"type": "string", "nullable": true},
            "Unused": {"type": "integer"}}}});
        let sparse = sparse_document(
            &doc,
            &json!({"$ref": "#/components/schemas/Node"}),
            Direction::Request,
        );
        let schemas = &sparse["components"]["schemas"];
        assert!(schemas.get("Node").is_some() && schemas.get("Unused").is_none());
        assert_eq!(schemas["Leaf"], json!({"type": ["string", "null"]}));
    }
}
