//! Building a JSON request body with the person: field by field from the schema, or in their
//! editor starting from a template (a sample the validator accepts, or the body they last used
//! for this operation, kept in the cache folder so nothing typed is lost).

use std::rc::Rc;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::input::params::read_scalar;
use crate::input::violation::Violation;
use crate::interactive::params::{first_sentence, scalar_hint, shown, SKIP};
use crate::interactive::prompt::{Ask, Check, Prompter};
use crate::spec::index::deref;
use crate::spec::Scalar;
use crate::state::paths::{write_atomically, Places};
use crate::validate::{Direction, Instance, Schema};

/// Past this nesting, optional parts are left out and required ones are typed as JSON.
const MAX_DEPTH: usize = 8;

const BY_FIELD: &str = "Fill it in field by field";
const IN_EDITOR: &str = "Write it in your editor, from a template";
const LAST_EDITED: &str = "Edit the body you used last time";
const LAST_AS_IS: &str = "Send the body you used last time, unchanged";
const NO_BODY: &str = "Send no body";

/// Where the last body of each operation is kept.
pub fn last_body_file(places: &Places, api: &str, operation: &str) -> std::path::PathBuf {
    places
        .cache_dir
        .join("bodies")
        .join(safe_name(api))
        .join(format!("{}.json", safe_name(operation)))
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub struct BodyContext<'a> {
    pub document: &'a Value,
    pub schema: Option<&'a Value>,
    pub required: bool,
    /// The body last used for this operation, if any.
    pub last: Option<String>,
}

/// Asks how to make the body, then makes it. `None`: the person chose to send none.
pub fn ask_body(prompter: &mut dyn Prompter, context: &BodyContext<'_>) -> Result<Option<String>> {
    let mut choices = vec![BY_FIELD, IN_EDITOR];
    if context.schema.is_none() {
        choices.retain(|c| *c != BY_FIELD);
    }
    if context.last.is_some() {
        choices.splice(0..0, [LAST_EDITED, LAST_AS_IS]);
    }
    if !context.required {
        choices.push(NO_BODY);
    }
    let labels: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
    let ask = Ask::new("Request body").with_help(Some(if context.required {
        "the operation needs one".to_string()
    } else {
        "optional".to_string()
    }));
    let picked = choices[prompter.select(&ask, &labels, 0)?];
    match picked {
        BY_FIELD => {
            let schema = context.schema.expect("offered only with a schema");
            let mut filler = Filler {
                prompter,
                document: context.document,
            };
            let value = filler
                .value(schema, "body", true, 0)?
                .unwrap_or(Value::Object(Map::new()));
            Ok(Some(pretty(&value)))
        }
        IN_EDITOR => {
            let template = match context.schema {
                Some(schema) => pretty(&crate::validate::sample::valid_sample(
                    context.document,
                    schema,
                    Direction::Request,
                )),
                None => "{}\n".to_string(),
            };
            edit_until_valid(prompter, context, template).map(Some)
        }
        LAST_EDITED => {
            let last = context.last.clone().unwrap_or_default();
            edit_until_valid(prompter, context, last).map(Some)
        }
        LAST_AS_IS => Ok(context.last.clone()),
        _ => Ok(None),
    }
}

/// Saves the body so the next guided run can offer it; private, as bodies hold personal data.
/// Each folder on the way (the cache, `bodies`, the API's) must be a real folder: a link there
/// would carry the body to wherever it leads.
pub fn remember(places: &Places, api: &str, operation: &str, body: &str) -> Result<()> {
    let file = last_body_file(places, api, operation);
    let bodies = places.cache_dir.join("bodies");
    crate::state::paths::own_folder(&places.cache_dir, false)?;
    crate::state::paths::own_folder(&bodies, true)?;
    if let Some(folder) = file.parent() {
        crate::state::paths::own_folder(folder, true)?;
    }
    write_atomically(&file, body.as_bytes(), true)
}

fn pretty(value: &Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    )
}

/// Opens the editor until the text is JSON the schema accepts, or the person stops trying (the
/// text is then kept, and the usual check reports its problems).
fn edit_until_valid(
    prompter: &mut dyn Prompter,
    context: &BodyContext<'_>,
    mut text: String,
) -> Result<String> {
    let compiled = context
        .schema
        .and_then(|s| Schema::compile(context.document, s, Direction::Request, "the body").ok());
    loop {
        text = prompter.edit(&Ask::new("Edit the request body"), &text)?;
        let problems: Vec<String> = match Instance::parse(text.as_bytes()) {
            Err(e) => vec![crate::input::body::syntax_error(e).message],
            Ok(instance) => compiled
                .as_ref()
                .map(|c| c.check(&instance, "body"))
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        if problems.is_empty() {
            return Ok(text);
        }
        prompter.say(&format!(
            "The body has {} problem{}:\n  {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        ));
        if !prompter.confirm(&Ask::new("Edit it again?"), true)? {
            prompter.say("The body is kept and offered first next time.");
            return Ok(text);
        }
    }
}

/// Walks a schema asking for each part.
struct Filler<'p, 'd> {
    prompter: &'p mut dyn Prompter,
    document: &'d Value,
}

/// What a schema is, once `$ref` and `allOf` are looked through.
struct Node {
    schema: Map<String, Value>,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Value> {
        self.schema.get(key)
    }

    fn kind(&self) -> &str {
        match self.get("type") {
            Some(Value::String(t)) => t,
            // ["string", "null"]: the first type that is not null.
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if self.get("properties").is_some() => "object",
            _ if self.get("items").is_some() => "array",
            _ => "",
        }
    }
}

impl Filler<'_, '_> {
    /// The schema with `$ref`s followed and `allOf` branches merged into one object.
    fn node(&self, schema: &Value, depth: usize) -> Node {
        let mut merged = Map::new();
        self.merge_into(&mut merged, schema, depth);
        Node { schema: merged }
    }

    fn merge_into(&self, into: &mut Map<String, Value>, schema: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Ok((schema, _)) = deref(self.document, schema, "") else {
            return;
        };
        let Some(object) = schema.as_object() else {
            return;
        };
        for (key, value) in object {
            match key.as_str() {
                "allOf" => {
                    for branch in value.as_array().into_iter().flatten() {
                        self.merge_into(into, branch, depth + 1);
                    }
                }
                "properties" => {
                    let properties = into
                        .entry("properties")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let (Some(into), Some(more)) =
                        (properties.as_object_mut(), value.as_object())
                    {
                        for (name, schema) in more {
                            into.entry(name.clone()).or_insert_with(|| schema.clone());
                        }
                    }
                }
                "required" => {
                    let required = into
                        .entry("required")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let (Some(into), Some(more)) = (required.as_array_mut(), value.as_array()) {
                        for name in more {
                            if !into.contains(name) {
                                into.push(name.clone());
                            }
                        }
                    }
                }
                _ => {
                    into.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }

    /// Asks for the value at `path`; `None` when an optional part is skipped.
    fn value(
        &mut self,
        schema: &Value,
        path: &str,
        required: bool,
        depth: usize,
    ) -> Result<Option<Value>> {
        let node = self.node(schema, depth);
        if depth >= MAX_DEPTH {
            return if required {
                self.json_text(schema, path, required, &node)
            } else {
                Ok(None)
            };
        }
        if let Some(branches) = node
            .get("oneOf")
            .or_else(|| node.get("anyOf"))
            .and_then(Value::as_array)
        {
            return self.branch(branches, path, required, depth);
        }
        if let Some(values) = node.get("enum").and_then(Value::as_array) {
            return self.choose(values, path, required, &node);
        }
        match node.kind() {
            "object" => self.object(&node, path, required, depth),
            "array" => self.array(&node, path, required, depth),
            "boolean" => self.boolean(path, required, &node),
            "string" | "integer" | "number" => self.scalar(schema, path, required, &node),
            _ => self.json_text(schema, path, required, &node),
        }
    }

    fn ask(&self, path: &str, required: bool, node: &Node, hint: Option<String>) -> Ask {
        let mut help: Vec<String> = Vec::new();
        if let Some(text) = node.get("description").and_then(Value::as_str) {
            help.push(first_sentence(text));
        }
        help.extend(hint.filter(|h| !h.is_empty()));
        if !required {
            help.push("optional, Enter to skip".to_string());
        }
        Ask::new(format!(
            "{path}{}",
            if required { "" } else { " (optional)" }
        ))
        .with_help(Some(help.join(" · ")))
    }

    /// Whether to fill in an optional object or array at all.
    fn wanted(&mut self, path: &str, required: bool, node: &Node) -> Result<bool> {
        if required {
            return Ok(true);
        }
        let mut ask = self.ask(path, required, node, None);
        ask.message = format!("Fill in {path}? (optional)");
        self.prompter.confirm(&ask, false)
    }

    fn object(
        &mut self,
        node: &Node,
        path: &str,
        required: bool,
        depth: usize,
    ) -> Result<Option<Value>> {
        let properties = node.get("properties").and_then(Value::as_object);
        let Some(properties) = properties.filter(|p| !p.is_empty()) else {
            // A map with no named fields: typed as JSON.
            return self.json_text(&Value::Object(node.schema.clone()), path, required, node);
        };
        if !self.wanted(path, required, node)? {
            return Ok(None);
        }
        let required_names: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // Required fields first, each group in the document's order; read-only ones are the
        // server's to fill.
        let mut order: Vec<(&String, &Value, bool)> = properties
            .iter()
            .filter(|(_, schema)| !self.read_only(schema))
            .map(|(name, schema)| (name, schema, required_names.contains(&name.as_str())))
            .collect();
        order.sort_by_key(|(_, _, required)| !required);
        let mut object = Map::new();
        for (name, schema, required) in order {
            let child = if path == "body" {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            if let Some(value) = self.value(schema, &child, required, depth + 1)? {
                object.insert(name.clone(), value);
            }
        }
        Ok(Some(Value::Object(object)))
    }

    fn read_only(&self, schema: &Value) -> bool {
        deref(self.document, schema, "")
            .ok()
            .and_then(|(s, _)| s.get("readOnly"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn array(
        &mut self,
        node: &Node,
        path: &str,
        required: bool,
        depth: usize,
    ) -> Result<Option<Value>> {
        let empty = Value::Object(Map::new());
        let items = node.get("items").unwrap_or(&empty).clone();
        let items_node = self.node(&items, depth + 1);
        let minimum = node.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        if let Some(values) = items_node.get("enum").and_then(Value::as_array) {
            let choices: Vec<String> = values.iter().map(shown).collect();
            let ask = self.ask(path, required, node, None);
            loop {
                let picked = self.prompter.multi_select(&ask, &choices)?;
                if picked.is_empty() && !required {
                    return Ok(None);
                }
                if picked.len() >= minimum {
                    return Ok(Some(Value::Array(
                        picked.into_iter().map(|i| values[i].clone()).collect(),
                    )));
                }
                self.prompter
                    .say(&format!("{path} needs at least {minimum} item(s)"));
            }
        }
        let scalar_items = matches!(items_node.kind(), "string" | "integer" | "number");
        let mut list = Vec::new();
        loop {
            let item_path = format!("{path}[{}]", list.len());
            if scalar_items {
                // Repeated entry: Enter on an empty line ends the list.
                let ends = list.len() >= minimum;
                match self.value(&items, &item_path, !ends, depth + 1)? {
                    Some(value) => list.push(value),
                    None => break,
                }
                continue;
            }
            if list.len() >= minimum {
                let (question, default) = if list.is_empty() {
                    let optional = if required { "" } else { " (optional)" };
                    (format!("Add an item to {path}?{optional}"), required)
                } else {
                    (format!("Add another item to {path}?"), false)
                };
                if !self.prompter.confirm(&Ask::new(question), default)? {
                    break;
                }
            }
            match self.value(&items, &item_path, true, depth + 1)? {
                Some(value) => list.push(value),
                None => break,
            }
        }
        if list.is_empty() && !required {
            return Ok(None);
        }
        Ok(Some(Value::Array(list)))
    }

    fn branch(
        &mut self,
        branches: &[Value],
        path: &str,
        required: bool,
        depth: usize,
    ) -> Result<Option<Value>> {
        let usable: Vec<&Value> = branches
            .iter()
            .filter(|b| self.node(b, depth + 1).kind() != "null")
            .collect();
        if let [only] = usable[..] {
            // `anyOf: [X, null]` is how 3.1 says "X or null": nothing to choose.
            return self.value(only, path, required, depth + 1);
        }
        let mut labels: Vec<String> = usable
            .iter()
            .enumerate()
            .map(|(i, b)| self.branch_label(b, i, depth))
            .collect();
        if !required {
            labels.insert(0, SKIP.to_string());
        }
        let ask = Ask::new(format!("{path}: which kind?"))
            .with_help(Some("the schema allows several shapes here".to_string()));
        let picked = self.prompter.select(&ask, &labels, 0)?;
        let Some(index) = picked.checked_sub(usize::from(!required)) else {
            return Ok(None);
        };
        self.value(usable[index], path, true, depth + 1)
    }

    fn branch_label(&self, branch: &Value, index: usize, depth: usize) -> String {
        let node = self.node(branch, depth + 1);
        let name = node
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                branch
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.rsplit('/').next())
                    .map(str::to_string)
            });
        match (name, node.kind()) {
            (Some(name), _) => name,
            (None, "") => format!("option {}", index + 1),
            (None, kind) => format!("option {} ({kind})", index + 1),
        }
    }

    fn choose(
        &mut self,
        values: &[Value],
        path: &str,
        required: bool,
        node: &Node,
    ) -> Result<Option<Value>> {
        let mut labels: Vec<String> = values.iter().map(shown).collect();
        if !required {
            labels.insert(0, SKIP.to_string());
        }
        let start = node
            .get("default")
            .and_then(|d| labels.iter().position(|l| *l == shown(d)))
            .unwrap_or(0);
        let ask = self.ask(path, required, node, None);
        let picked = self.prompter.select(&ask, &labels, start)?;
        Ok(picked
            .checked_sub(usize::from(!required))
            .map(|i| values[i].clone()))
    }

    fn boolean(&mut self, path: &str, required: bool, node: &Node) -> Result<Option<Value>> {
        let ask = self.ask(path, required, node, None);
        if required {
            let default = node
                .get("default")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            return self.prompter.confirm(&ask, default).map(|b| Some(b.into()));
        }
        let labels = [SKIP.to_string(), "true".to_string(), "false".to_string()];
        Ok(match self.prompter.select(&ask, &labels, 0)? {
            1 => Some(true.into()),
            2 => Some(false.into()),
            _ => None,
        })
    }

    fn scalar(
        &mut self,
        schema: &Value,
        path: &str,
        required: bool,
        node: &Node,
    ) -> Result<Option<Value>> {
        let scalar = match node.kind() {
            "integer" => Scalar::Integer,
            "number" => Scalar::Number,
            _ => Scalar::String,
        };
        let hint = scalar_hint(scalar, Some(&Value::Object(node.schema.clone())));
        let ask = self.ask(path, required, node, Some(hint));
        let check = self.leaf_check(schema, path, required, move |text| {
            read_scalar(scalar, text)
                .map_err(|expected| format!("expects {expected}, got `{text}`"))
        });
        let default = node.get("default").filter(|_| required).map(shown);
        let text = self.prompter.text(&ask, default.as_deref(), check)?;
        if text.is_empty() {
            return Ok(None);
        }
        read_scalar(scalar, &text)
            .map(Some)
            .map_err(|expected| crate::error::Error::usage(format!("{path}: expects {expected}")))
    }

    fn json_text(
        &mut self,
        schema: &Value,
        path: &str,
        required: bool,
        node: &Node,
    ) -> Result<Option<Value>> {
        let ask = self.ask(path, required, node, Some("JSON".to_string()));
        let check = self.leaf_check(schema, path, required, |text| {
            serde_json::from_str::<Value>(text).map_err(|e| format!("not JSON: {e}"))
        });
        let text = self.prompter.text(&ask, None, check)?;
        if text.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| crate::error::Error::usage(format!("{path}: not JSON: {e}")))
    }

    /// Reads typed text with `read`, then checks it against the part's schema.
    fn leaf_check(
        &self,
        schema: &Value,
        path: &str,
        required: bool,
        read: impl Fn(&str) -> std::result::Result<Value, String> + 'static,
    ) -> Check {
        let compiled = Schema::compile(self.document, schema, Direction::Request, path).ok();
        let path = path.to_string();
        Rc::new(move |text: &str| {
            if text.is_empty() {
                return if required {
                    Err(format!("{path} is required"))
                } else {
                    Ok(())
                };
            }
            let value = read(text)?;
            let found: Vec<Violation> = compiled
                .as_ref()
                .map(|c| c.check_value(&value, ""))
                .unwrap_or_default();
            match found.first() {
                None => Ok(()),
                Some(first) => Err(first.message.clone()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interactive::prompt::scripted::{Answer, Scripted};
    use serde_json::json;

    fn document() -> Value {
        json!({"components": {"schemas": {
            "Address": {
                "type": "object",
                "required": ["city"],
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string", "minLength": 2}
                }
            },
            "Person": {
                "type": "object",
                "required": ["name", "role", "address"],
                "properties": {
                    "id": {"type": "string", "readOnly": true},
                    "nickname": {"type": "string"},
                    "name": {"type": "string"},
                    "age": {"type": "integer", "minimum": 0},
                    "role": {"type": "string", "enum": ["admin", "member"]},
                    "active": {"type": "boolean"},
                    "address": {"$ref": "#/components/schemas/Address"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "phones": {"type": "array", "items": {
                        "type": "object", "required": ["number"],
                        "properties": {"number": {"type": "string"}}
                    }}
                }
            }
        }}})
    }

    /// Runs the body flow on `context` with scripted answers, all of which must be used.
    fn run(context: &BodyContext<'_>, answers: Vec<Answer>) -> (Option<String>, Scripted) {
        let mut script = Scripted::new(answers);
        let body = ask_body(&mut script, context).unwrap();
        assert!(script.finished(), "answers left over");
        (body, script)
    }

    fn required(document: &Value, schema: &Value, answers: Vec<Answer>) -> (Value, Scripted) {
        let context = BodyContext {
            document,
            schema: Some(schema),
            required: true,
            last: None,
        };
        let (body, script) = run(&context, answers);
        (
            serde_json::from_str(&body.expect("a body")).unwrap(),
            script,
        )
    }

    fn fill(answers: Vec<Answer>) -> (Value, Scripted) {
        let schema = json!({"$ref": "#/components/schemas/Person"});
        required(&document(), &schema, answers)
    }

    #[test]
    fn field_by_field_asks_required_first_and_builds_nested_objects_and_arrays() {
        let (body, script) = fill(vec![
            Answer::Pick(BY_FIELD),
            Answer::Type("Ada"),         // name
            Answer::Pick("member"),      // role
            Answer::Type("x"),           // address.city: too short
            Answer::Type("Berlin"),      // address.city
            Answer::Type(""),            // address.street skipped
            Answer::Type("Lovelace"),    // nickname
            Answer::Type("-3"),          // age: below minimum
            Answer::Type("36"),          // age
            Answer::Pick(SKIP),          // active
            Answer::Type("math"),        // tags[0]
            Answer::Type("poetry"),      // tags[1]
            Answer::Type(""),            // end of tags
            Answer::Yes,                 // fill in phones?
            Answer::Type("+49 30 1234"), // phones[0].number
            Answer::No,                  // another phone?
        ]);
        assert_eq!(
            body,
            json!({
                "name": "Ada", "role": "member", "address": {"city": "Berlin"},
                "nickname": "Lovelace", "age": 36, "tags": ["math", "poetry"],
                "phones": [{"number": "+49 30 1234"}]
            })
        );
        assert!(
            !script.asked.iter().any(|q| q.starts_with("id")),
            "read-only fields are not asked"
        );
        assert_eq!(script.asked[1], "name");
        assert_eq!(script.asked[3], "address.city");
        assert_eq!(script.refused.len(), 2, "{:?}", script.refused);
    }

    #[test]
    fn one_of_asks_which_branch() {
        let document = json!({"components": {"schemas": {
            "Card": {"title": "card", "type": "object", "required": ["number"], "properties": {"number": {"type": "string"}}},
            "Iban": {"type": "object", "required": ["iban"], "properties": {"iban": {"type": "string"}}}
        }}});
        let schema = json!({"oneOf": [
            {"$ref": "#/components/schemas/Card"},
            {"$ref": "#/components/schemas/Iban"}
        ]});
        let (body, script) = required(
            &document,
            &schema,
            vec![
                Answer::Pick(BY_FIELD),
                Answer::Pick("Iban"),
                Answer::Type("DE02120300000000202051"),
            ],
        );
        assert_eq!(body, json!({"iban": "DE02120300000000202051"}));
        assert_eq!(script.asked[1], "body: which kind? [card | Iban]");
    }

    #[test]
    fn a_single_shape_besides_null_is_not_a_choice() {
        let document = json!({});
        let schema = json!({"type": "object", "required": ["note"], "properties": {
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}
        }});
        let (body, script) = required(
            &document,
            &schema,
            vec![Answer::Pick(BY_FIELD), Answer::Type("hello")],
        );
        assert_eq!(body, json!({"note": "hello"}));
        assert_eq!(script.asked[1], "note");
    }

    #[test]
    fn the_editor_starts_from_a_valid_template_and_reopens_on_problems() {
        let (body, script) = fill(vec![
            Answer::Pick(IN_EDITOR),
            Answer::Edit("{\"name\": \"Ada\"}"),
            Answer::Yes,
            Answer::Edit("{\"name\":\"Ada\",\"role\":\"admin\",\"address\":{\"city\":\"Rome\"}}"),
        ]);
        let template: Value = serde_json::from_str(&script.templates[0]).unwrap();
        assert!(template.get("name").is_some() && template.get("id").is_none());
        assert!(
            script.said[0].contains("body: \"role\" is a required property"),
            "{:?}",
            script.said
        );
        assert_eq!(
            script.templates[1], "{\"name\": \"Ada\"}",
            "the second edit starts from the first"
        );
        assert_eq!(body["address"]["city"], "Rome");
    }

    #[test]
    fn the_last_body_is_offered_first() {
        let document = document();
        let schema = json!({"$ref": "#/components/schemas/Person"});
        let context = BodyContext {
            document: &document,
            schema: Some(&schema),
            required: false,
            last: Some("{\"name\":\"kept\"}".into()),
        };
        let (body, script) = run(&context, vec![Answer::Pick(LAST_AS_IS)]);
        assert_eq!(body.as_deref(), Some("{\"name\":\"kept\"}"));
        assert!(script.asked[0].starts_with(&format!(
            "Request body [{LAST_EDITED} | {LAST_AS_IS} | {BY_FIELD}"
        )));
        assert!(script.asked[0].ends_with(&format!("{NO_BODY}]")));
    }

    #[test]
    fn last_bodies_are_kept_per_operation_in_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let places = Places {
            config_dir: dir.path().join("config"),
            cache_dir: dir.path().join("cache"),
        };
        remember(&places, "user", "createGroup", "{\"name\":\"x\"}").unwrap();
        let path = last_body_file(&places, "user", "createGroup");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"name\":\"x\"}");
        assert!(path.starts_with(dir.path().join("cache").join("bodies")));
        assert_eq!(
            last_body_file(&places, "../x", "a/b").file_name().unwrap(),
            "a_b.json"
        );
    }
}
