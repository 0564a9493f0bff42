//! Checks every input against the operation's schemas before anything is sent, and reports
//! every problem at once, each with where it is (`body /user_detail/email`) and what was
//! expected. Validators are built only for the operation in use.

pub(crate) mod dialect;
mod email;
pub(crate) mod instance;
pub mod sample;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

pub use dialect::Direction;
pub use instance::Instance;

use crate::error::{Error, Result};
use crate::input::body::{expects_json, syntax_error, BodyInput};
use crate::input::violation::Violation;

/// A compiled schema of one parameter, body or response.
pub struct Schema {
    validator: Validator<instance::Parsed>,
}

impl Schema {
    /// Compiles `schema` (an OpenAPI schema from `document`) with just the parts of the document
    /// it references.
    pub fn compile(
        document: &Value,
        schema: &Value,
        direction: Direction,
        what: &str,
    ) -> Result<Schema> {
        if let Some(reference) = dialect::unproductive_cycle(document, schema) {
            return Err(Error::spec(format!(
                "the schema of {what} cannot be used for validation: `{reference}` refers back to itself \
                 through allOf/anyOf/oneOf with nothing in between"
            ))
            .with_help("fix the definition, or pass --no-validate to send without checking"));
        }
        let mut root = match dialect::convert(document, schema, direction) {
            Value::Object(map) => map,
            Value::Bool(true) => serde_json::Map::new(),
            other => {
                return Err(Error::spec(format!(
                    "the schema of {what} is not an object: {other}"
                )))
            }
        };
        for (key, value) in dialect::sparse_document(document, schema, direction) {
            root.entry(key).or_insert(value);
        }
        let validator = build_with_deadline(Value::Object(root)).map_err(|reason| {
            Error::spec(format!(
                "the schema of {what} cannot be used for validation: {reason}"
            ))
            .with_help("pass --no-validate to send without checking")
        })?;
        Ok(Schema { validator })
    }

    /// Every way `value` departs from the schema; `label` starts each location ("body").
    pub fn check_value(&self, value: &Value, label: &str) -> Vec<Violation> {
        self.check(&Instance::borrowing(value), label)
    }

    /// Every way `instance` departs from the schema; `label` starts each location ("body").
    pub fn check(&self, instance: &Instance<'_>, label: &str) -> Vec<Violation> {
        // The yes/no check is several times cheaper than collecting errors; most input is valid.
        if self.validator.is_valid(instance) {
            return Vec::new();
        }
        self.validator
            .iter_errors(instance)
            .map(|error| describe(&error, label))
            .collect()
    }
}

/// How long building one validator may take. Some shapes of schema make the validator crate's
/// compilation explode; a CLI must answer rather than hang, so past this the check is given up.
const COMPILE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// `pattern` runs on fancy-regex, which hands plain patterns to the linear-time `regex`
/// engine but backtracks for lookaround and backreferences; a spec's `(\w+\s?)*$(?<=z)` could
/// then spin. Past this many steps a match counts as failed (the value is reported, and
/// `--no-validate` sends it anyway), instead of the library's default of a million per value.
const PATTERN_BACKTRACK_LIMIT: usize = 20_000;

fn build_with_deadline(root: Value) -> std::result::Result<Validator<instance::Parsed>, String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let built = jsonschema::options_for::<instance::Parsed>()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("email", email::is_email)
            .with_pattern_options(
                jsonschema::PatternOptions::fancy_regex().backtrack_limit(PATTERN_BACKTRACK_LIMIT),
            )
            .build(&root)
            .map_err(|e| e.to_string());
        let _ = sender.send(built);
    });
    match receiver.recv_timeout(COMPILE_DEADLINE) {
        Ok(built) => {
            // Finished: let it end cleanly (its thread-locals freed) before going on.
            let _ = worker.join();
            built
        }
        Err(_) => Err(format!(
            "building its validator took longer than {}s",
            COMPILE_DEADLINE.as_secs()
        )),
    }
}

fn at(label: &str, pointer: &str) -> String {
    if pointer.is_empty() {
        label.to_string()
    } else {
        format!("{label} {pointer}")
    }
}

/// The instance as shown in a message: short values whole, long ones cut.
fn shown(instance: &Value) -> String {
    let text = instance.to_string();
    if text.chars().count() <= 60 {
        text
    } else {
        format!("{}…", text.chars().take(57).collect::<String>())
    }
}

fn describe(error: &ValidationError<'_>, label: &str) -> Violation {
    let location = at(label, error.instance_path().as_str());
    let message = match error.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let keyword = if matches!(error.kind(), ValidationErrorKind::AnyOf { .. }) {
                "anyOf"
            } else {
                "oneOf"
            };
            // Fewest errors wins; on a tie, the branch whose errors lie deeper got further.
            let closeness = |errors: &Vec<ValidationError<'_>>| {
                let depth = errors
                    .iter()
                    .map(|e| e.instance_path().as_str().matches('/').count())
                    .max()
                    .unwrap_or(0);
                (errors.len(), std::cmp::Reverse(depth))
            };
            match context
                .iter()
                .enumerate()
                .min_by_key(|(_, errors)| closeness(errors))
            {
                Some((branch, errors)) if !errors.is_empty() => {
                    let first = describe(&errors[0], label);
                    format!(
                        "{} matches none of the {} {keyword} alternatives; the closest (#{}) fails with {}: {}",
                        shown(error.instance()),
                        context.len(),
                        branch + 1,
                        first.at,
                        first.message
                    )
                }
                _ => format!(
                    "{} matches none of the {keyword} alternatives",
                    shown(error.instance())
                ),
            }
        }
        ValidationErrorKind::OneOfMultipleValid { context } => {
            let matching: Vec<String> = context
                .iter()
                .enumerate()
                .filter(|(_, errors)| errors.is_empty())
                .map(|(i, _)| format!("#{}", i + 1))
                .collect();
            format!(
                "{} matches more than one oneOf alternative ({}); it must match exactly one",
                shown(error.instance()),
                matching.join(", ")
            )
        }
        _ => error.masked_with(shown(error.instance())).to_string(),
    };
    Violation {
        at: location,
        message,
    }
}

/// Checks parameter values and the body of one request against the operation's schemas.
pub fn check_request(
    document: &Value,
    op: &crate::spec::Operation,
    values: &crate::input::params::ParamValues,
    body: Option<&BodyInput>,
) -> Result<Vec<Violation>> {
    let mut found = Vec::new();
    for (param, value) in op.params.iter().zip(values) {
        let (Some(value), Some(schema)) = (value, &param.schema) else {
            continue;
        };
        if !constrains_beyond_type(schema) {
            // Reading the text by the schema's type already checked everything it says.
            continue;
        }
        let label = crate::input::params::label(param);
        let compiled = Schema::compile(document, schema, Direction::Request, &label)?;
        found.extend(
            compiled
                .check_value(value, &label)
                .into_iter()
                .map(|mut v| {
                    // The parameter's own value has no inner pointer worth showing as "…/".
                    v.at =
                        v.at.replacen(&format!("{label} "), &format!("{label} at "), 1);
                    v
                }),
        );
    }
    if let Some(BodyInput::Raw(bytes)) = body.filter(|_| expects_json(op)) {
        // The one parse of the body: its syntax check and the instance validated.
        let instance = Instance::parse(bytes).map_err(syntax_error)?;
        if let Some(schema) = op.body.as_ref().and_then(|b| b.schema.as_ref()) {
            let compiled =
                Schema::compile(document, schema, Direction::Request, "the request body")?;
            found.extend(compiled.check(&instance, "body"));
        }
    }
    Ok(found)
}

/// Keywords that describe rather than constrain a value.
const ANNOTATIONS: &[&str] = &[
    "type",
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "nullable",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
];

/// Whether a parameter schema says more than its type, so a validator (whose set-up costs
/// about a millisecond) is worth building. Arrays are judged by their items.
pub fn constrains_beyond_type(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else {
        return true;
    };
    object.iter().any(|(key, value)| match key.as_str() {
        "items" => constrains_beyond_type(value),
        key => !ANNOTATIONS.contains(&key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(schema: Value, instance: Value) -> Vec<String> {
        let doc = json!({"components": {"schemas": {
            "Cat": {"type": "object", "required": ["meow"], "properties": {"meow": {"type": "boolean"}}},
            "Dog": {"type": "object", "required": ["bark"], "properties": {"bark": {"type": "boolean"}}}
        }}});
        Schema::compile(&doc, &schema, Direction::Request, "body")
            .unwrap()
            .check_value(&instance, "body")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_violation_is_reported_with_its_pointer() {
        let schema = json!({"type": "object", "required": ["name"], "properties": {
            "user_detail": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
            "age": {"type": "integer", "minimum": 0}}});
        let found = violations(schema, json!({"user_detail": {"email": "bob"}, "age": -1}));
        assert!(
            found.contains(&r#"body /user_detail/email: "bob" is not a "email""#.to_string()),
            "{found:?}"
        );
        assert!(
            found.contains(&"body /age: -1 is less than the minimum of 0".to_string()),
            "{found:?}"
        );
        assert!(
            found.contains(&r#"body: "name" is a required property"#.to_string()),
            "{found:?}"
        );
    }

    #[test]
    fn one_of_failures_name_the_closest_branch() {
        let schema = json!({"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]});
        let found = violations(schema.clone(), json!({"bark": "loud"}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains(
                "matches none of the 2 oneOf alternatives; the closest (#2) fails with body /bark"
            ),
            "{found:?}"
        );
        let both = violations(schema, json!({"bark": true, "meow": true}));
        assert!(
            both[0].contains("matches more than one oneOf alternative (#1, #2)"),
            "{both:?}"
        );
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let found = violations(json!({"type": "string"}), json!({"a": "x".repeat(200)}));
        assert!(found[0].len() < 120 && found[0].contains('…'), "{found:?}");
    }

    #[test]
    fn only_constraining_parameter_schemas_need_a_validator() {
        assert!(!constrains_beyond_type(
            &json!({"type": "string", "description": "id", "example": "x"})
        ));
        assert!(!constrains_beyond_type(
            &json!({"type": "array", "items": {"type": "integer"}})
        ));
        assert!(constrains_beyond_type(
            &json!({"type": "string", "format": "uuid"})
        ));
        assert!(constrains_beyond_type(
            &json!({"type": "array", "items": {"type": "string", "enum": ["a"]}})
        ));
        assert!(constrains_beyond_type(
            &json!({"$ref": "#/components/schemas/X"})
        ));
    }
}
