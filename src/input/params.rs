//! Turns positional values and `-p key=value` pairs into typed parameter values.
//!
//! Text stays text unless the schema says otherwise: an id `00123` stays `"00123"`, an integer
//! parameter becomes a number, and a malformed value is an error naming the parameter, the
//! type it expects and how to pass it.

use serde_json::{Number, Value};

use crate::error::{did_you_mean, Error, Result};
use crate::input::violation::Violation;
use crate::spec::{Location, Operation, Param, Scalar, Shape};
use crate::text::shell_quote;

/// One value per parameter of the operation, in the operation's parameter order; `None` for
/// parameters the user did not give (only what the user set is sent).
pub type ParamValues = Vec<Option<Value>>;

/// The values, and the problems found while reading them (reported together with any other
/// problems of the input, so the user sees everything at once).
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    pub values: ParamValues,
    pub problems: Vec<Violation>,
}

/// Reads positional values and `-p` pairs. Structural mistakes (an unknown name, a value
/// given twice) are errors at once; a value of the wrong type is a [`Violation`], or with
/// `lenient` (`--no-validate`) is sent as the text it was.
pub fn collect(
    op: &Operation,
    positionals: &[String],
    pairs: &[String],
    lenient: bool,
) -> Result<Collected> {
    let mut texts: Vec<Vec<String>> = vec![Vec::new(); op.params.len()];
    let mut from_positional: Vec<bool> = vec![false; op.params.len()];

    let slots = op.path_params_in_order();
    if positionals.len() > slots.len() {
        let extra = &positionals[slots.len()];
        let message = if slots.is_empty() {
            format!(
                "`{}` takes no positional values, but `{extra}` was given",
                op.entry.name
            )
        } else {
            format!(
                "`{}` takes {} positional value(s), but `{extra}` was one too many",
                op.entry.name,
                slots.len()
            )
        };
        return Err(Error::usage(message).with_help("pass other parameters as -p name=value"));
    }
    for (slot, text) in slots.iter().zip(positionals) {
        let index = index_of(op, slot);
        texts[index].push(text.clone());
        from_positional[index] = true;
    }

    for pair in pairs {
        let Some((name, text)) = pair.split_once('=') else {
            return Err(Error::usage(format!("`-p {pair}` has no value"))
                .with_help(format!("write it as -p {pair}=VALUE")));
        };
        let index = find_param(op, name)?;
        if from_positional[index] {
            return Err(Error::usage(format!(
                "parameter `{name}` was given twice: as a positional value and as -p {name}=..."
            ))
            .with_help("give it once"));
        }
        texts[index].push(text.to_string());
    }

    let mut problems = Vec::new();
    let mut values = Vec::with_capacity(op.params.len());
    for (param, texts) in op.params.iter().zip(texts) {
        if texts.is_empty() {
            values.push(None);
            continue;
        }
        match read_value(param, &texts) {
            Ok(value) => values.push(Some(value)),
            Err(_) if lenient => values.push(Some(as_text(&texts))),
            Err(problem) => {
                problems.push(problem);
                values.push(None);
            }
        }
    }
    Ok(Collected { values, problems })
}

fn as_text(texts: &[String]) -> Value {
    match texts {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    }
}

pub fn label(param: &Param) -> String {
    format!(
        "parameter `{}` ({} {})",
        param.name,
        param.location.as_str(),
        type_label(param)
    )
}

fn index_of(op: &Operation, param: &Param) -> usize {
    op.params
        .iter()
        .position(|p| std::ptr::eq(p, param))
        .expect("param belongs to op")
}

/// The parameter a `-p` name refers to; path beats query beats header beats cookie when one
/// name is used in several places.
fn find_param(op: &Operation, name: &str) -> Result<usize> {
    let order = [
        Location::Path,
        Location::Query,
        Location::Header,
        Location::Cookie,
    ];
    order
        .iter()
        .find_map(|location| {
            op.params
                .iter()
                .position(|p| p.name == name && p.location == *location)
        })
        .ok_or_else(|| {
            let names: Vec<&str> = op.params.iter().map(|p| p.name.as_str()).collect();
            let known = if names.is_empty() {
                format!("`{}` has no parameters", op.entry.name)
            } else {
                format!("its parameters are: {}", names.join(", "))
            };
            let hint = did_you_mean(name, names.iter().copied())
                .map(|h| format!("{h} "))
                .unwrap_or_default();
            Error::usage(format!("`{}` has no parameter `{name}`", op.entry.name))
                .with_help(format!("{hint}{known}"))
        })
}

/// A parameter's value read from its text(s) by the schema's type, as `-p` reads it.
pub fn read_value(param: &Param, texts: &[String]) -> Result<Value, Violation> {
    if param.content_type.is_some() {
        let text = single(param, texts)?;
        return Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())));
    }
    match param.shape {
        Shape::Scalar(scalar) => scalar_value(param, scalar, single(param, texts)?),
        Shape::Array(scalar) => {
            let mut items = Vec::new();
            for text in texts {
                if text.trim_start().starts_with('[') {
                    match serde_json::from_str::<Value>(text) {
                        Ok(Value::Array(values)) => {
                            items.extend(values);
                            continue;
                        }
                        _ => {
                            return Err(bad_value(
                                param,
                                text,
                                "a JSON array or comma-separated values",
                            ))
                        }
                    }
                }
                for piece in text.split(',') {
                    items.push(scalar_value(param, scalar, piece)?);
                }
            }
            Ok(Value::Array(items))
        }
        Shape::Object => {
            let text = single(param, texts)?;
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(Value::Object(map)),
                _ => Err(bad_value(
                    param,
                    text,
                    &format!(
                        "a JSON object, e.g. -p '{}={{\"key\":\"value\"}}'",
                        param.name
                    ),
                )),
            }
        }
    }
}

fn single<'a>(param: &Param, texts: &'a [String]) -> Result<&'a str, Violation> {
    match texts {
        [one] => Ok(one),
        _ => Err(Violation::new(
            label(param),
            format!(
                "takes one value but was given {} (only array parameters can be repeated)",
                texts.len()
            ),
        )),
    }
}

fn scalar_value(param: &Param, scalar: Scalar, text: &str) -> Result<Value, Violation> {
    read_scalar(scalar, text).map_err(|expected| bad_value(param, text, expected))
}

/// Text read as a value of `scalar`'s type; `Err` says what was expected instead.
pub fn read_scalar(scalar: Scalar, text: &str) -> Result<Value, &'static str> {
    match scalar {
        Scalar::String => Ok(Value::String(text.to_string())),
        Scalar::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.trim().parse::<u64>().map(Value::from))
            .map_err(|_| "an integer"),
        Scalar::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| {
                // Keep integers integral so `10` is sent as `10`, not `10.0`.
                if n.fract() == 0.0 && n.abs() < 9e15 {
                    Value::from(n as i64)
                } else {
                    Number::from_f64(n).map_or(Value::Null, Value::Number)
                }
            })
            .ok_or("a number"),
        Scalar::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("a boolean (true or false)"),
        },
    }
}

fn bad_value(param: &Param, text: &str, expected: &str) -> Violation {
    Violation::new(label(param), format!("expects {expected}, got `{text}`"))
}

pub fn type_label(param: &Param) -> String {
    match param.shape {
        Shape::Scalar(s) => s.as_str().to_string(),
        Shape::Array(s) => format!("{}[]", s.as_str()),
        Shape::Object => "object".to_string(),
    }
}

/// Required parameters without a value, each with how to pass it.
pub fn missing_required(op: &Operation, values: &ParamValues) -> Vec<Violation> {
    missing_where(op, values, |_| true)
}

/// Path values the URL cannot be built without: missing ones and empty ones. Refused even
/// with `--no-validate`, which is for values the schema would refuse, not for half a URL.
pub fn unbuildable_path(op: &Operation, values: &ParamValues) -> Vec<Violation> {
    let mut found = missing_where(op, values, |p| p.location == Location::Path);
    found.extend(empty_path_values(op, values));
    found
}

fn missing_where(
    op: &Operation,
    values: &ParamValues,
    keep: impl Fn(&Param) -> bool,
) -> Vec<Violation> {
    let slots = op.path_params_in_order();
    op.params
        .iter()
        .zip(values)
        .filter(|(p, v)| p.required && v.is_none() && keep(p))
        .map(|(p, _)| {
            let how = match slots.iter().position(|s| std::ptr::eq(*s, p)) {
                Some(slot) => format!(
                    "positional value #{} or -p {}",
                    slot + 1,
                    shell_quote(&format!("{}=...", p.name))
                ),
                None => format!("-p {}", shell_quote(&format!("{}=...", p.name))),
            };
            Violation::new(label(p), format!("is required: pass it as {how}"))
        })
        .collect()
}

/// Path values that are empty: sent, they would make an empty segment, and `DELETE
/// /v1/groups/{id}` with `id` empty would go to `/v1/groups/`, another resource. Refused even
/// with `--no-validate`, like a missing path value.
pub fn empty_path_values(op: &Operation, values: &ParamValues) -> Vec<Violation> {
    op.params
        .iter()
        .zip(values)
        .filter(|(p, v)| p.location == Location::Path && v.as_ref().is_some_and(is_empty))
        .map(|(p, _)| {
            Violation::new(
                label(p),
                format!(
                    "is empty, and a path value cannot be: the request would go to another address; give a value, e.g. -p {}",
                    shell_quote(&format!("{}=VALUE", p.name))
                ),
            )
        })
        .collect()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.iter().all(is_empty),
        Value::Object(members) => members.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{index, OperationEntry};
    use serde_json::json;

    fn op() -> Operation {
        let doc = json!({"openapi": "3.0.0", "paths": {"/orgs/{org}/users/{id}": {"get": {
            "operationId": "getUser",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "org", "in": "path", "required": true, "schema": {"type": "integer"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "ratio", "in": "query", "schema": {"type": "number"}},
                {"name": "hydrate", "in": "query", "schema": {"type": "boolean"}},
                {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "filter", "in": "query", "style": "deepObject", "schema": {"type": "object"}}
            ],
            "responses": {}}}}});
        let api = index::index("t", &doc);
        let entry: &OperationEntry = api.find("getUser").unwrap();
        index::resolve_operation(&doc, entry).unwrap()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn positionals_fill_path_params_in_url_order() {
        let op = op();
        let values = collect(&op, &strings(&["7", "00123"]), &[], false)
            .unwrap()
            .values;
        assert_eq!(
            values[1],
            Some(json!(7)),
            "org comes first in the URL and is an integer"
        );
        assert_eq!(
            values[0],
            Some(json!("00123")),
            "string ids keep their text"
        );
    }

    #[test]
    fn values_are_typed_by_schema() {
        let op = op();
        let pairs = strings(&[
            "limit=010",
            "ratio=0.5",
            "hydrate=TRUE",
            "tags=a,b",
            "tags=c",
            r#"filter={"a":1}"#,
        ]);
        let values = collect(&op, &[], &pairs, false).unwrap().values;
        assert_eq!(values[2], Some(json!(10)));
        assert_eq!(values[3], Some(json!(0.5)));
        assert_eq!(values[4], Some(json!(true)));
        assert_eq!(values[5], Some(json!(["a", "b", "c"])));
        assert_eq!(values[6], Some(json!({"a": 1})));
    }

    #[test]
    fn bad_values_are_all_reported_with_parameter_and_type() {
        let op = op();
        let found = collect(&op, &[], &strings(&["limit=ten", "hydrate=yes"]), false).unwrap();
        let problems: Vec<String> = found.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "parameter `limit` (query integer): expects an integer, got `ten`",
                "parameter `hydrate` (query boolean): expects a boolean (true or false), got `yes`",
            ]
        );
        let lenient = collect(&op, &[], &strings(&["limit=ten"]), true).unwrap();
        assert!(lenient.problems.is_empty());
        assert_eq!(
            lenient.values[2],
            Some(json!("ten")),
            "--no-validate sends the text"
        );
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        let err = collect(&op(), &[], &strings(&["limt=3"]), false).unwrap_err();
        assert_eq!(err.message, "`getUser` has no parameter `limt`");
        assert!(err.help.unwrap().starts_with("did you mean `limit`?"));
    }

    #[test]
    fn scalar_given_twice_and_positional_plus_flag_are_errors() {
        let op = op();
        assert_eq!(
            collect(&op, &[], &strings(&["limit=1", "limit=2"]), false)
                .unwrap()
                .problems
                .len(),
            1
        );
        assert!(
            collect(&op, &strings(&["1"]), &strings(&["org=2"]), false).is_err(),
            "org given twice"
        );
        assert!(collect(&op, &strings(&["a", "1", "x"]), &[], false).is_err());
        let no_value = collect(&op, &[], &strings(&["limit"]), false).unwrap_err();
        assert!(no_value.help.unwrap().contains("limit=VALUE"));
    }

    #[test]
    fn empty_path_values_are_named_and_other_empty_values_are_not() {
        let op = op();
        let found = collect(
            &op,
            &strings(&["7", ""]),
            &strings(&["tags=", "limit=1"]),
            true,
        )
        .unwrap();
        let empty: Vec<String> = empty_path_values(&op, &found.values)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(empty.len(), 1, "{empty:?}");
        assert!(
            empty[0].starts_with("parameter `id` (path string): is empty"),
            "{empty:?}"
        );
        assert!(is_empty(&json!([""])) && is_empty(&json!({})) && !is_empty(&json!(0)));
        let given = collect(&op, &strings(&["7", "x"]), &[], false).unwrap();
        assert!(empty_path_values(&op, &given.values).is_empty());
        let half = collect(&op, &[], &strings(&["id=", "limit=1"]), false).unwrap();
        let unbuildable: Vec<String> = unbuildable_path(&op, &half.values)
            .iter()
            .map(|v| v.at.clone())
            .collect();
        assert_eq!(
            unbuildable,
            [
                "parameter `org` (path integer)",
                "parameter `id` (path string)"
            ],
            "the missing one, then the empty one"
        );
    }

    #[test]
    fn missing_required_are_listed_with_how_to_pass_them() {
        let op = op();
        let values = collect(&op, &[], &[], false).unwrap().values;
        let missing: Vec<String> = missing_required(&op, &values)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            missing,
            [
                "parameter `id` (path string): is required: pass it as positional value #2 or -p id=...",
                "parameter `org` (path integer): is required: pass it as positional value #1 or -p org=...",
            ]
        );
    }
}
