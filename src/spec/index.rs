//! From a (normalised) OpenAPI document to the model: the operation list, built straight from
//! the JSON value because listing must be fast, and one operation fully resolved on demand,
//! typed with openapiv3. A broken node only fails the operation that uses it.

use std::collections::HashSet;

use openapiv3::{ParameterSchemaOrContent, PathStyle, QueryStyle};
use serde_json::{Map, Value};

use super::model::*;
use crate::error::{Error, Result};

/// How many `$ref` hops are followed before a chain is called a loop.
const MAX_REF_HOPS: usize = 64;

/// Builds the operation list of `document` under the API name `name`.
pub fn index(name: &str, document: &Value) -> Api {
    let info = document.get("info");
    let text = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut tags: Vec<String> = document
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(|t| text(Some(t), "name")).collect())
        .unwrap_or_default();

    let mut operations = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            // The path item's own key order, so operations list as the document wrote them.
            for (key, op) in item {
                let Some(method) = Method::ALL.into_iter().find(|m| m.key() == key) else {
                    continue;
                };
                let Some(op) = op.as_object() else { continue };
                let op_tags: Vec<String> = op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(|t| t.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                for tag in &op_tags {
                    if !tags.contains(tag) {
                        tags.push(tag.clone());
                    }
                }
                let base_name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| command_name_for(method, path));
                let name = unique_name(base_name, &mut taken);
                operations.push(OperationEntry {
                    name,
                    method,
                    path: path.clone(),
                    summary: op
                        .get("summary")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    tags: op_tags,
                    deprecated: op
                        .get("deprecated")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    pointer: format!("/paths/{}/{}", escape_pointer(path), method.key()),
                });
            }
        }
    }
    Api {
        name: name.to_string(),
        title: text(info, "title").unwrap_or_else(|| name.to_string()),
        description: text(info, "description"),
        version: text(info, "version"),
        servers: servers_of(document.get("servers")),
        tags,
        operations,
    }
}

/// A stable command name for an operation without operationId: `get /v1/users/{id}` becomes
/// `get-v1-users-id`.
pub fn command_name_for(method: Method, path: &str) -> String {
    let mut name = String::from(method.key());
    for segment in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !segment.is_empty() {
            name.push('-');
            name.push_str(&segment.to_ascii_lowercase());
        }
    }
    name
}

fn unique_name(base: String, taken: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

fn servers_of(servers: Option<&Value>) -> Vec<Server> {
    let Some(servers) = servers.and_then(Value::as_array) else {
        return Vec::new();
    };
    servers
        .iter()
        .filter_map(|server| {
            let mut url = server.get("url")?.as_str()?.to_string();
            // Server variables take their defaults; `--server` overrides the whole URL.
            if let Some(vars) = server.get("variables").and_then(Value::as_object) {
                for (var, spec) in vars {
                    if let Some(default) = spec.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{var}}}"), default);
                    }
                }
            }
            Some(Server {
                url,
                description: server
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        })
        .collect()
}

pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/components/...`) to its target, with the target's pointer.
pub fn lookup_ref<'a>(document: &'a Value, reference: &str) -> Result<(&'a Value, String)> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(Error::spec(format!(
            "the reference `{reference}` points outside the document; only local references \
             (`#/...`) are supported"
        ))
        .with_help(
            "bundle the definition into one file first (for example with `redocly bundle`)",
        ));
    };
    let pointer = percent_encoding::percent_decode_str(fragment)
        .decode_utf8_lossy()
        .into_owned();
    document
        .pointer(&pointer)
        .map(|target| (target, pointer.clone()))
        .ok_or_else(|| Error::spec(format!("the reference `{reference}` points to nothing")))
}

/// Resolves `value` while it is a `$ref`, returning the final node and its pointer.
pub fn deref<'a>(
    document: &'a Value,
    value: &'a Value,
    pointer: &str,
) -> Result<(&'a Value, String)> {
    let mut current = value;
    let mut at = pointer.to_string();
    for _ in 0..MAX_REF_HOPS {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let (target, target_pointer) = lookup_ref(document, reference)
                    .map_err(|e| Error::spec(format!("{} (at {at})", e.message)))?;
                current = target;
                at = target_pointer;
            }
            None => return Ok((current, at)),
        }
    }
    Err(Error::spec(format!(
        "the reference at {pointer} loops or nests deeper than {MAX_REF_HOPS} hops"
    )))
}

/// Expands one operation of the index into everything needed to call it.
pub fn resolve_operation(document: &Value, entry: &OperationEntry) -> Result<Operation> {
    let op = document.pointer(&entry.pointer).ok_or_else(|| {
        Error::spec(format!(
            "operation `{}` vanished from the document",
            entry.name
        ))
    })?;
    let item_pointer = entry
        .pointer
        .rsplit_once('/')
        .map(|(item, _)| item)
        .unwrap_or("");
    let item = document.pointer(item_pointer).unwrap_or(&Value::Null);

    let mut params: Vec<Param> = Vec::new();
    // Path-item parameters first; the operation's own replace those with the same name and place.
    for (source, base) in [
        (item, item_pointer.to_string()),
        (op, entry.pointer.clone()),
    ] {
        let Some(list) = source.get("parameters").and_then(Value::as_array) else {
            continue;
        };
        for (i, raw) in list.iter().enumerate() {
            let param = resolve_param(document, raw, &format!("{base}/parameters/{i}"), entry)?;
            params.retain(|p| !(p.name == param.name && p.location == param.location));
            params.push(param);
        }
    }

    let body = match op.get("requestBody") {
        Some(raw) => Some(resolve_body(
            document,
            raw,
            &format!("{}/requestBody", entry.pointer),
            entry,
        )?),
        None => None,
    };

    let servers = [
        op.get("servers"),
        item.get("servers"),
        document.get("servers"),
    ]
    .into_iter()
    .map(servers_of)
    .find(|s| !s.is_empty())
    .unwrap_or_default();

    Ok(Operation {
        entry: entry.clone(),
        description: op
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        params,
        body,
        servers,
        auth: auth_of(document, op),
        responses: responses_of(document, op),
    })
}

fn broken(
    entry: &OperationEntry,
    pointer: &str,
    what: &str,
    error: impl std::fmt::Display,
) -> Error {
    Error::spec(format!(
        "operation `{}` cannot be used: its {what} at {pointer} is invalid: {error}",
        entry.name
    ))
    .with_help("fix the definition, or call another operation: the rest of the API still works")
}

fn resolve_param(
    document: &Value,
    raw: &Value,
    pointer: &str,
    entry: &OperationEntry,
) -> Result<Param> {
    let (node, at) = deref(document, raw, pointer)?;
    let typed: openapiv3::Parameter =
        serde_json::from_value(node.clone()).map_err(|e| broken(entry, &at, "parameter", e))?;
    let (location, style, default_explode) = match &typed {
        openapiv3::Parameter::Query { style, .. } => {
            let style = match style {
                QueryStyle::Form => Style::Form,
                QueryStyle::SpaceDelimited => Style::SpaceDelimited,
                QueryStyle::PipeDelimited => Style::PipeDelimited,
                QueryStyle::DeepObject => Style::DeepObject,
            };
            (Location::Query, style, style == Style::Form)
        }
        openapiv3::Parameter::Path { style, .. } => {
            let style = match style {
                PathStyle::Simple => Style::Simple,
                PathStyle::Label => Style::Label,
                PathStyle::Matrix => Style::Matrix,
            };
            (Location::Path, style, false)
        }
        openapiv3::Parameter::Header { .. } => (Location::Header, Style::Simple, false),
        openapiv3::Parameter::Cookie { .. } => (Location::Cookie, Style::Form, true),
    };
    let allow_reserved = matches!(
        &typed,
        openapiv3::Parameter::Query {
            allow_reserved: true,
            ..
        }
    );
    let data = typed.parameter_data();
    let (schema, content_type) = match &data.format {
        ParameterSchemaOrContent::Schema(_) => {
            let raw_schema = node.get("schema").unwrap_or(&Value::Null);
            let (schema, _) = deref(document, raw_schema, &format!("{at}/schema"))?;
            (Some(schema.clone()), None)
        }
        ParameterSchemaOrContent::Content(content) => {
            let media_type = content.keys().next().cloned();
            let schema = node
                .get("content")
                .and_then(|c| c.as_object())
                .and_then(|c| c.values().next())
                .and_then(|m| m.get("schema"))
                .map(|s| deref(document, s, &at).map(|(s, _)| s.clone()))
                .transpose()?;
            (schema, media_type)
        }
    };
    let shape = match (&schema, &content_type) {
        (_, Some(_)) => Shape::Scalar(Scalar::String),
        (Some(schema), None) => shape_of(document, schema),
        (None, None) => Shape::Scalar(Scalar::String),
    };
    Ok(Param {
        name: data.name.clone(),
        location,
        // Path parameters are always required, whatever the document says.
        required: data.required || location == Location::Path,
        description: data.description.clone(),
        deprecated: data.deprecated.unwrap_or(false),
        style,
        explode: data.explode.unwrap_or(default_explode),
        allow_reserved,
        shape,
        schema,
        content_type,
    })
}

/// Visits `schema` and, depth-first in document order, the schemas it combines with the
/// `through` keywords, following each `$ref` once, until `found` returns something. Used to
/// look inside `allOf`/`oneOf`/`anyOf` without looping on (or exploding over) recursion.
pub fn find_through<'a, T>(
    document: &'a Value,
    schema: &'a Value,
    through: &[&str],
    mut found: impl FnMut(&'a Value) -> Option<T>,
) -> Option<T> {
    let mut seen: Vec<&str> = Vec::new();
    let mut pending: Vec<&Value> = vec![schema];
    while let Some(schema) = pending.pop() {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if seen.contains(&reference) || seen.len() > 64 {
                continue;
            }
            seen.push(reference);
        }
        let Ok((schema, _)) = deref(document, schema, "") else {
            continue;
        };
        if let Some(answer) = found(schema) {
            return Some(answer);
        }
        for key in through.iter().rev() {
            if let Some(branches) = schema.get(*key).and_then(Value::as_array) {
                pending.extend(branches.iter().rev());
            }
        }
    }
    None
}

const COMBINATORS: &[&str] = &["allOf", "oneOf", "anyOf"];

/// The JSON type named by a schema, looking through `$ref`, `allOf` and the branches of
/// `oneOf`/`anyOf` when the schema itself names none.
pub fn type_of<'a>(document: &'a Value, schema: &'a Value) -> Option<&'a str> {
    find_through(document, schema, COMBINATORS, |s| {
        s.get("type")
            .and_then(Value::as_str)
            .or_else(|| s.get("properties").map(|_| "object"))
    })
}

fn scalar_of(type_name: Option<&str>) -> Scalar {
    match type_name {
        Some("integer") => Scalar::Integer,
        Some("number") => Scalar::Number,
        Some("boolean") => Scalar::Boolean,
        _ => Scalar::String,
    }
}

fn shape_of(document: &Value, schema: &Value) -> Shape {
    match type_of(document, schema) {
        Some("array") => {
            let items = deref(document, schema, "")
                .ok()
                .and_then(|(s, _)| items_of(document, s))
                .and_then(|items| type_of(document, items));
            Shape::Array(scalar_of(items))
        }
        Some("object") => Shape::Object,
        other => Shape::Scalar(scalar_of(other)),
    }
}

fn items_of<'a>(document: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    find_through(document, schema, COMBINATORS, |s| s.get("items"))
}

fn resolve_body(
    document: &Value,
    raw: &Value,
    pointer: &str,
    entry: &OperationEntry,
) -> Result<Body> {
    let (node, at) = deref(document, raw, pointer)?;
    let typed: openapiv3::RequestBody =
        serde_json::from_value(node.clone()).map_err(|e| broken(entry, &at, "request body", e))?;
    let content_types: Vec<String> = typed.content.keys().cloned().collect();
    let content_type = content_types
        .iter()
        .find(|t| is_json_media_type(t))
        .or_else(|| content_types.first())
        .cloned()
        .unwrap_or_else(|| "application/json".to_string());
    let schema = node
        .get("content")
        .and_then(|c| c.get(&content_type))
        .and_then(|m| m.get("schema"))
        .map(|s| deref(document, s, &at).map(|(s, _)| s.clone()))
        .transpose()?;
    Ok(Body {
        required: typed.required,
        content_type,
        content_types,
        schema,
        description: typed.description,
    })
}

fn auth_of(document: &Value, op: &Value) -> Auth {
    let requirements = op.get("security").or_else(|| document.get("security"));
    let Some(requirements) = requirements.and_then(Value::as_array) else {
        return Auth::None;
    };
    let schemes = document
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    let is_bearer = |name: &str| {
        let Some(scheme) = schemes.and_then(|s| s.get(name)) else {
            return false;
        };
        let Ok((scheme, _)) = deref(document, scheme, "") else {
            return false;
        };
        let field = |k: &str| {
            scheme
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        match field("type").as_str() {
            "http" => field("scheme") == "bearer",
            "apikey" => field("in") == "header" && field("name") == "authorization",
            "oauth2" | "openidconnect" => true,
            _ => false,
        }
    };
    let wants_bearer = requirements
        .iter()
        .filter_map(Value::as_object)
        .any(|requirement: &Map<String, Value>| requirement.keys().any(|name| is_bearer(name)));
    if wants_bearer {
        Auth::Bearer
    } else {
        Auth::None
    }
}

fn responses_of(document: &Value, op: &Value) -> Vec<ResponseSpec> {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return Vec::new();
    };
    responses
        .iter()
        .map(|(status, response)| {
            let response = deref(document, response, "")
                .map(|(r, _)| r)
                .unwrap_or(&Value::Null);
            let content = response.get("content").and_then(Value::as_object);
            let media = content.and_then(|content| {
                content
                    .iter()
                    .find(|(t, _)| is_json_media_type(t))
                    .or_else(|| content.iter().next())
            });
            let schema = media
                .and_then(|(_, m)| m.get("schema"))
                .and_then(|s| deref(document, s, "").ok())
                .map(|(s, _)| s.clone());
            let example = media.and_then(|(_, m)| {
                m.get("example").cloned().or_else(|| {
                    let first = m.get("examples")?.as_object()?.values().next()?;
                    deref(document, first, "").ok()?.0.get("value").cloned()
                })
            });
            ResponseSpec {
                status: status.clone(),
                description: response
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                content_type: media.map(|(t, _)| t.clone()),
                schema,
                example,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "Pets"},
            "tags": [{"name": "b"}, {"name": "a"}],
            "servers": [{"url": "https://{env}.example.com", "variables": {"env": {"default": "api"}}}],
            "security": [{"bearer": []}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}}
            },
            "paths": {
                "/pets/{id}": {
                    "parameters": [{"$ref": "#/components/parameters/Id"},
                                   {"name": "q", "in": "query", "schema": {"type": "string"}}],
                    "get": {"operationId": "getPet", "tags": ["a"],
                            "parameters": [{"name": "q", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}}],
                            "responses": {"200": {"description": "ok"}}},
                    "delete": {"tags": ["c"], "security": [], "responses": {}}
                },
                "/loop": {"get": {"operationId": "loop", "parameters": [{"$ref": "#/components/parameters/Loop"}], "responses": {}}}
            }
        })
    }

    #[test]
    fn index_lists_operations_with_tags_in_document_order() {
        let api = index("pets", &doc());
        assert_eq!(api.title, "Pets");
        assert_eq!(api.servers[0].url, "https://api.example.com");
        assert_eq!(api.tags, ["b", "a", "c"]);
        let names: Vec<&str> = api.operation_names().collect();
        assert_eq!(names, ["getPet", "delete-pets-id", "loop"]);
    }

    #[test]
    fn operation_params_merge_with_operation_level_winning() {
        let document = doc();
        let api = index("pets", &document);
        let op = resolve_operation(&document, api.find("getPet").unwrap()).unwrap();
        assert_eq!(op.params.len(), 2);
        assert_eq!(
            op.param("id").unwrap().shape,
            Shape::Scalar(Scalar::Integer)
        );
        assert_eq!(op.param("q").unwrap().shape, Shape::Array(Scalar::Integer));
        assert!(
            op.param("q").unwrap().explode,
            "form style explodes by default"
        );
        assert_eq!(op.auth, Auth::Bearer);
        let delete = resolve_operation(&document, api.find("delete-pets-id").unwrap()).unwrap();
        assert_eq!(
            delete.auth,
            Auth::None,
            "an empty security list turns auth off"
        );
    }

    #[test]
    fn a_dangling_reference_fails_only_its_operation() {
        let document = doc();
        let api = index("pets", &document);
        let err = resolve_operation(&document, api.find("loop").unwrap()).unwrap_err();
        assert!(
            err.message.contains("#/components/parameters/Loop"),
            "{}",
            err.message
        );
        assert!(resolve_operation(&document, api.find("getPet").unwrap()).is_ok());
    }

    #[test]
    fn reference_loops_are_reported_not_followed_forever() {
        let document = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}});
        let err = deref(&document, &document["a"], "/a").unwrap_err();
        assert!(err.message.contains("loops"));
    }

    #[test]
    fn generated_names_are_stable_and_unique() {
        assert_eq!(
            command_name_for(Method::Get, "/v1/users/{id}"),
            "get-v1-users-id"
        );
        let mut taken = HashSet::new();
        assert_eq!(unique_name("x".into(), &mut taken), "x");
        assert_eq!(unique_name("x".into(), &mut taken), "x-2");
    }
}
