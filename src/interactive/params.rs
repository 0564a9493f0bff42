//! Asking for one parameter, in the form its schema suggests: a list for an `enum`, yes/no for a
//! boolean, several picks for an array of an `enum`, and typed text (with the type, bounds and
//! format said) for the rest. Typed text goes through the same reading and validation as
//! `-p name=value`, and is asked again until it passes.

use std::rc::Rc;

use serde_json::Value;

use crate::error::Result;
use crate::input::params::{label, read_value};
use crate::interactive::prompt::{Ask, Check, Prompter};
use crate::spec::index::{deref, find_through};
use crate::spec::{Param, Scalar, Shape};
use crate::validate::{constrains_beyond_type, Direction, Schema};

/// How a parameter is asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    /// One of the schema's `enum` values.
    Choose(Vec<Value>),
    /// A required boolean: yes or no.
    YesNo,
    /// Any of the `enum` values of an array's items.
    ChooseMany(Vec<Value>),
    /// Text, with what is expected of it.
    Type { hint: String },
}

/// What to skip an optional question with.
pub const SKIP: &str = "(skip)";

pub fn form_of(document: &Value, param: &Param, required: bool) -> Form {
    let schema = param.schema.as_ref();
    let enum_of = |schema: &Value| {
        find_through(document, schema, &["allOf"], |s| {
            s.get("enum").and_then(Value::as_array).cloned()
        })
    };
    match param.shape {
        Shape::Scalar(Scalar::Boolean) if required => Form::YesNo,
        // An optional boolean has three answers: yes, no and not at all.
        Shape::Scalar(Scalar::Boolean) => Form::Choose(vec![true.into(), false.into()]),
        Shape::Scalar(_) => match schema.and_then(enum_of) {
            Some(values) => Form::Choose(values),
            None => Form::Type {
                hint: hint(document, param),
            },
        },
        Shape::Array(_) => {
            let items = schema.and_then(|s| {
                find_through(document, s, &["allOf"], |s| s.get("items"))
                    .and_then(|items| deref(document, items, "").ok())
                    .map(|(items, _)| items)
            });
            match items.and_then(enum_of) {
                Some(values) => Form::ChooseMany(values),
                None => Form::Type {
                    hint: hint(document, param),
                },
            }
        }
        Shape::Object => Form::Type {
            hint: "a JSON object, e.g. {\"key\":\"value\"}".to_string(),
        },
    }
}

/// The expected type in words: "integer from 1 to 100", "string (uuid)", "comma-separated
/// integers".
pub fn hint(document: &Value, param: &Param) -> String {
    let schema = param
        .schema
        .as_ref()
        .and_then(|s| deref(document, s, "").ok())
        .map(|(s, _)| s);
    match param.shape {
        Shape::Scalar(scalar) => scalar_hint(scalar, schema),
        Shape::Array(scalar) => {
            let items = schema
                .and_then(|s| s.get("items"))
                .and_then(|s| deref(document, s, "").ok())
                .map(|(s, _)| s);
            match scalar_hint(scalar, items) {
                each if each.is_empty() => "comma-separated values".to_string(),
                each => format!("comma-separated values, each {each}"),
            }
        }
        Shape::Object => "a JSON object".to_string(),
    }
}

pub fn scalar_hint(scalar: Scalar, schema: Option<&Value>) -> String {
    let get = |key: &str| schema.and_then(|s| s.get(key));
    let mut hint = match scalar {
        Scalar::Integer => "an integer".to_string(),
        Scalar::Number => "a number".to_string(),
        Scalar::Boolean => "true or false".to_string(),
        Scalar::String => String::new(),
    };
    let (low, high) = (get("minimum"), get("maximum"));
    match (low, high) {
        (Some(low), Some(high)) => hint.push_str(&format!(" from {low} to {high}")),
        (Some(low), None) => hint.push_str(&format!(", at least {low}")),
        (None, Some(high)) => hint.push_str(&format!(", at most {high}")),
        (None, None) => {}
    }
    if let Some(format) = get("format").and_then(Value::as_str) {
        let example = match format {
            "uuid" => " like 123e4567-e89b-12d3-a456-426614174000",
            "email" => " like ada@example.com",
            "date" => " like 2024-05-01",
            "date-time" => " like 2024-05-01T12:00:00Z",
            "uri" | "url" => " like https://example.com/a",
            _ => "",
        };
        if hint.is_empty() {
            hint = format!("{format}{example}");
        } else {
            hint.push_str(&format!(" ({format}{example})"));
        }
    }
    match (get("minLength"), get("maxLength")) {
        (Some(low), Some(high)) => hint.push_str(&format!(", {low} to {high} characters")),
        (Some(low), None) => hint.push_str(&format!(", at least {low} characters")),
        (None, Some(high)) => hint.push_str(&format!(", at most {high} characters")),
        (None, None) => {}
    }
    if let Some(pattern) = get("pattern").and_then(Value::as_str) {
        hint.push_str(&format!(", matching {pattern}"));
    }
    // A string says nothing more than "text": leave it out.
    hint.trim_start_matches(", ").to_string()
}

/// Asks for `param`; `None` when an optional one is skipped.
pub fn ask(
    prompter: &mut dyn Prompter,
    document: &Value,
    param: &Param,
    required: bool,
) -> Result<Option<Value>> {
    let form = form_of(document, param, required);
    let default = param.schema.as_ref().and_then(|s| s.get("default"));
    let mut help: Vec<String> = Vec::new();
    if let Some(description) = &param.description {
        help.push(first_sentence(description));
    }
    match &form {
        Form::Type { hint } if !hint.is_empty() => help.push(hint.clone()),
        _ => {}
    }
    if !required {
        help.push(match default {
            Some(default) => format!("optional, Enter to skip (the server's default: {default})"),
            None => "optional, Enter to skip".to_string(),
        });
    }
    let ask = Ask::new(format!(
        "{} ({}{})",
        param.name,
        param.location.as_str(),
        if required { "" } else { ", optional" }
    ))
    .with_help(Some(help.join(" · ")));

    match form {
        Form::YesNo => {
            let default = default.and_then(Value::as_bool).unwrap_or(false);
            prompter.confirm(&ask, default).map(|b| Some(b.into()))
        }
        Form::Choose(values) => {
            let mut choices: Vec<String> = values.iter().map(shown).collect();
            if !required {
                choices.insert(0, SKIP.to_string());
            }
            let start = default
                .and_then(|d| choices.iter().position(|c| *c == shown(d)))
                .filter(|_| required)
                .unwrap_or(0);
            let picked = prompter.select(&ask, &choices, start)?;
            let offset = usize::from(!required);
            Ok(picked.checked_sub(offset).map(|i| values[i].clone()))
        }
        Form::ChooseMany(values) => {
            let choices: Vec<String> = values.iter().map(shown).collect();
            loop {
                let picked = prompter.multi_select(&ask, &choices)?;
                if picked.is_empty() && !required {
                    return Ok(None);
                }
                let value = Value::Array(picked.iter().map(|&i| values[i].clone()).collect());
                match problems(document, param, &value) {
                    None => return Ok(Some(value)),
                    Some(message) => prompter.say(&message),
                }
            }
        }
        Form::Type { .. } => {
            let prefill = default.filter(|_| required).map(|d| match d {
                Value::String(s) => s.clone(),
                Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(","),
                other => other.to_string(),
            });
            let check = text_check(document, param, required);
            let text = prompter.text(&ask, prefill.as_deref(), check)?;
            if text.is_empty() {
                return Ok(None);
            }
            let value = read_value(param, &[text])
                .map_err(|v| crate::error::Error::usage(v.to_string()))?;
            Ok(Some(value))
        }
    }
}

/// A value as a choice is shown: strings bare, everything else as JSON.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first line of a description, cut to fit under a prompt.
pub fn first_sentence(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line = line.trim();
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(99).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The check typed text must pass: the reading `-p` does, then the schema.
fn text_check(document: &Value, param: &Param, required: bool) -> Check {
    let param = param.clone();
    let compiled = param
        .schema
        .as_ref()
        .filter(|s| constrains_beyond_type(s))
        .and_then(|s| Schema::compile(document, s, Direction::Request, &label(&param)).ok());
    Rc::new(move |text: &str| {
        if text.is_empty() {
            return if required {
                Err(format!("`{}` is required", param.name))
            } else {
                Ok(())
            };
        }
        let value = read_value(&param, &[text.to_string()]).map_err(|v| v.message)?;
        match &compiled {
            Some(schema) => {
                let found = schema.check_value(&value, "");
                if found.is_empty() {
                    Ok(())
                } else {
                    Err(messages(&found))
                }
            }
            None => Ok(()),
        }
    })
}

fn problems(document: &Value, param: &Param, value: &Value) -> Option<String> {
    let schema = param.schema.as_ref()?;
    let compiled = Schema::compile(document, schema, Direction::Request, &label(param)).ok()?;
    let found = compiled.check_value(value, "");
    (!found.is_empty()).then(|| messages(&found))
}

fn messages(found: &[crate::input::violation::Violation]) -> String {
    found
        .iter()
        .map(|v| {
            if v.at.is_empty() {
                v.message.clone()
            } else {
                format!("{}: {}", v.at.trim(), v.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interactive::prompt::scripted::{Answer, Scripted};
    use crate::spec::{Location, Style};
    use serde_json::json;

    fn param(name: &str, shape: Shape, schema: Value) -> Param {
        Param {
            name: name.into(),
            location: Location::Query,
            required: true,
            description: Some("What it is.\nMore detail.".into()),
            deprecated: false,
            style: Style::Form,
            explode: true,
            allow_reserved: false,
            shape,
            schema: Some(schema),
            content_type: None,
        }
    }

    fn doc() -> Value {
        json!({"components": {"schemas": {"Colour": {"type": "string", "enum": ["red", "green"]}}}})
    }

    #[test]
    fn the_schema_decides_the_form() {
        let d = doc();
        let colour = param(
            "c",
            Shape::Scalar(Scalar::String),
            json!({"$ref": "#/components/schemas/Colour"}),
        );
        assert_eq!(
            form_of(&d, &colour, true),
            Form::Choose(vec![json!("red"), json!("green")])
        );
        let flag = param(
            "f",
            Shape::Scalar(Scalar::Boolean),
            json!({"type": "boolean"}),
        );
        assert_eq!(form_of(&d, &flag, true), Form::YesNo);
        assert_eq!(
            form_of(&d, &flag, false),
            Form::Choose(vec![json!(true), json!(false)])
        );
        let colours = param(
            "cs",
            Shape::Array(Scalar::String),
            json!({"type": "array", "items": {"$ref": "#/components/schemas/Colour"}}),
        );
        assert_eq!(
            form_of(&d, &colours, true),
            Form::ChooseMany(vec![json!("red"), json!("green")])
        );
        let limit = param(
            "limit",
            Shape::Scalar(Scalar::Integer),
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
        );
        assert_eq!(
            form_of(&d, &limit, true),
            Form::Type {
                hint: "an integer from 1 to 100".into()
            }
        );
        let id = param(
            "id",
            Shape::Scalar(Scalar::String),
            json!({"type": "string", "format": "uuid"}),
        );
        assert!(
            matches!(form_of(&d, &id, true), Form::Type { hint } if hint.contains("uuid like 123e4567"))
        );
        let ids = param(
            "ids",
            Shape::Array(Scalar::Integer),
            json!({"type": "array", "items": {"type": "integer", "minimum": 0}}),
        );
        assert!(
            matches!(form_of(&d, &ids, true), Form::Type { hint } if hint == "comma-separated values, each an integer, at least 0")
        );
    }

    #[test]
    fn typed_text_is_read_by_type_and_asked_again_until_valid() {
        let d = doc();
        let limit = param(
            "limit",
            Shape::Scalar(Scalar::Integer),
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
        );
        let mut script = Scripted::new([
            Answer::Type(""),
            Answer::Type("ten"),
            Answer::Type("500"),
            Answer::Type("25"),
        ]);
        let value = ask(&mut script, &d, &limit, true).unwrap();
        assert_eq!(value, Some(json!(25)));
        assert_eq!(script.refused.len(), 3, "{:?}", script.refused);
        assert!(script.refused[0].contains("required"));
        assert!(script.refused[1].contains("expects an integer, got `ten`"));
        assert!(script.refused[2].contains("500") && script.refused[2].contains("100"));
    }

    #[test]
    fn formats_are_checked_and_optional_text_can_be_skipped() {
        let d = doc();
        let mut email = param(
            "email",
            Shape::Scalar(Scalar::String),
            json!({"type": "string", "format": "email"}),
        );
        let mut script = Scripted::new([Answer::Type("bob"), Answer::Type("bob@example.com")]);
        assert_eq!(
            ask(&mut script, &d, &email, true).unwrap(),
            Some(json!("bob@example.com"))
        );
        assert!(script.refused[0].contains("\"bob\" is not a \"email\""));
        email.required = false;
        let mut script = Scripted::new([Answer::Type("")]);
        assert_eq!(ask(&mut script, &d, &email, false).unwrap(), None);
        assert!(script.asked[0].contains("optional"));
    }

    #[test]
    fn enums_are_picked_and_optional_ones_skipped() {
        let d = doc();
        let colour = param(
            "c",
            Shape::Scalar(Scalar::String),
            json!({"$ref": "#/components/schemas/Colour"}),
        );
        let mut script = Scripted::new([Answer::Pick("green"), Answer::Pick(SKIP)]);
        assert_eq!(
            ask(&mut script, &d, &colour, true).unwrap(),
            Some(json!("green"))
        );
        assert_eq!(ask(&mut script, &d, &colour, false).unwrap(), None);
        assert_eq!(
            script.asked[1],
            "c (query, optional) [(skip) | red | green]"
        );
    }

    #[test]
    fn booleans_and_arrays() {
        let d = doc();
        let flag = param(
            "f",
            Shape::Scalar(Scalar::Boolean),
            json!({"type": "boolean"}),
        );
        let mut script = Scripted::new([Answer::Yes]);
        assert_eq!(
            ask(&mut script, &d, &flag, true).unwrap(),
            Some(json!(true))
        );
        let ids = param(
            "ids",
            Shape::Array(Scalar::Integer),
            json!({"type": "array", "items": {"type": "integer"}}),
        );
        let mut script = Scripted::new([Answer::Type("1, 2,3")]);
        assert_eq!(
            ask(&mut script, &d, &ids, true).unwrap(),
            Some(json!([1, 2, 3]))
        );
        let colours = param(
            "cs",
            Shape::Array(Scalar::String),
            json!({"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Colour"}}),
        );
        let mut script = Scripted::new([Answer::Picks(&[]), Answer::Picks(&["red"])]);
        assert_eq!(
            ask(&mut script, &d, &colours, true).unwrap(),
            Some(json!(["red"]))
        );
        assert_eq!(script.said.len(), 1, "an empty pick is refused by minItems");
    }

    #[test]
    fn escape_cancels() {
        let d = doc();
        let flag = param(
            "f",
            Shape::Scalar(Scalar::Boolean),
            json!({"type": "boolean"}),
        );
        let mut script = Scripted::new([Answer::Cancel]);
        let err = ask(&mut script, &d, &flag, true).unwrap_err();
        assert_eq!(err.kind.exit_code(), 130);
    }
}
