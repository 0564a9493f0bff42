//! Filling in an operation with a person at a terminal: picking the operation, asking for the
//! parameters that are missing (with `--guided`, for all of them), building the body, and
//! confirming a request that changes something before it is sent. Only asked when stdin and
//! stdout are terminals and `--no-interactive` is not given; scripts never wait for input.

pub mod body;
pub mod params;
pub mod prompt;

use serde_json::Value;

use crate::error::Result;
use crate::input::body::BodyInput;
use crate::input::params::{label, Collected};
use crate::interactive::prompt::{cancelled, Ask, Prompter};
use crate::spec::{Api, Method, Operation};
use crate::state::paths::Places;

/// Lets the person choose an operation of `api`: each row shows its name, method, path and
/// summary, and typing filters on all of them. Returns the operation's name.
pub fn pick_operation(prompter: &mut dyn Prompter, api: &Api) -> Result<String> {
    let width = |column: fn(&crate::spec::OperationEntry) -> &str| {
        api.operations
            .iter()
            .map(|o| column(o).chars().count())
            .max()
            .unwrap_or(0)
    };
    // Very long names would push every row's method and path off the screen.
    let names = width(|o| &o.name).min(24);
    let rows: Vec<String> = api
        .operations
        .iter()
        .map(|o| {
            let summary = o.summary.as_deref().unwrap_or_default();
            format!(
                "{:<names$}  {:<6} {}  {summary}",
                o.name,
                o.method.as_str(),
                o.path
            )
            .trim_end()
            .to_string()
        })
        .collect();
    let ask = Ask::new(format!("Which operation of the {} API?", api.name)).with_help(Some(
        "type to filter (name, path, summary) · ↑↓ move · enter choose · esc leave".to_string(),
    ));
    let picked = prompter.select(&ask, &rows, 0)?;
    Ok(api.operations[picked].name.clone())
}

/// What the person is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only what is required and missing.
    Missing,
    /// `--guided`: every parameter (optional ones skippable), then the body.
    Everything,
}

pub struct Fill<'a> {
    pub document: &'a Value,
    pub api: &'a str,
    pub op: &'a Operation,
    pub places: &'a Places,
    pub scope: Scope,
}

/// Asks for what the command line left out, in the operation's order: path parameters first
/// (they are the positional slots), then the rest. Values given on the command line are kept;
/// ones that failed to read are asked again, with the problem said.
pub fn fill_in(
    prompter: &mut dyn Prompter,
    fill: &Fill<'_>,
    collected: &mut Collected,
    body: &mut Option<BodyInput>,
) -> Result<()> {
    let op = fill.op;
    let slots = op.path_params_in_order();
    let mut order: Vec<usize> = slots
        .iter()
        .filter_map(|slot| op.params.iter().position(|p| std::ptr::eq(p, *slot)))
        .collect();
    let rest: Vec<usize> = (0..op.params.len())
        .filter(|i| !order.contains(i))
        .collect();
    order.extend(rest);
    for index in order {
        let param = &op.params[index];
        if collected.values[index].is_some() {
            continue;
        }
        let at = label(param);
        let problems: Vec<String> = collected
            .problems
            .iter()
            .filter(|p| p.at == at)
            .map(ToString::to_string)
            .collect();
        let asked = param.required || fill.scope == Scope::Everything || !problems.is_empty();
        if !asked {
            continue;
        }
        for problem in &problems {
            prompter.say(problem);
        }
        collected.problems.retain(|p| p.at != at);
        collected.values[index] = params::ask(prompter, fill.document, param, param.required)?;
    }
    let Some(spec) = &op.body else {
        return Ok(());
    };
    if body.is_some() {
        return Ok(());
    }
    if !spec.is_json() {
        if fill.scope == Scope::Everything && spec.is_form() {
            prompter.say("This operation takes form fields: pass each with -F name=value (or -F name=@file).");
        }
        return Ok(());
    }
    if !(spec.required || fill.scope == Scope::Everything) {
        return Ok(());
    }
    let last_file = body::last_body_file(fill.places, fill.api, &op.entry.name);
    let context = body::BodyContext {
        document: fill.document,
        schema: spec.schema.as_ref(),
        required: spec.required,
        last: std::fs::read_to_string(last_file).ok(),
    };
    if let Some(text) = body::ask_body(prompter, &context)? {
        if let Err(error) = body::remember(fill.places, fill.api, &op.entry.name, &text) {
            prompter.say(&format!(
                "note: the body was not kept for next time: {}",
                error.message
            ));
        }
        *body = Some(BodyInput::Raw(text.into_bytes()));
    }
    Ok(())
}

/// `--guided`, before a request that changes something: shows it as `--dry-run` would and asks.
pub fn confirm_send(prompter: &mut dyn Prompter, method: Method, preview: &str) -> Result<()> {
    if matches!(
        method,
        Method::Get | Method::Head | Method::Options | Method::Trace
    ) {
        return Ok(());
    }
    prompter.say(preview);
    let ask = Ask::new(format!("Send this {} request?", method.as_str()));
    // Deleting is the one answer that cannot be taken back: it waits for an explicit yes.
    if prompter.confirm(&ask, method != Method::Delete)? {
        Ok(())
    } else {
        Err(cancelled())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interactive::prompt::scripted::{Answer, Scripted};
    use crate::spec::{index, OperationEntry};
    use serde_json::json;

    fn loaded() -> (Value, Api) {
        let document = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/groups/{id}": {
                    "get": {"operationId": "getGroup", "summary": "Get a group",
                        "parameters": [
                            {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
                        ]},
                    "delete": {"operationId": "deleteGroup", "summary": "Delete a group",
                        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]}
                },
                "/groups": {
                    "post": {"operationId": "createGroup", "summary": "Create a group",
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {
                            "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}
                        }}}}}
                }
            }
        });
        let api = index::index("groups", &document);
        (document, api)
    }

    fn operation(document: &Value, api: &Api, name: &str) -> Operation {
        let entry: &OperationEntry = api.find(name).unwrap();
        index::resolve_operation(document, entry).unwrap()
    }

    fn fill_for<'a>(document: &'a Value, op: &'a Operation, places: &'a Places) -> Fill<'a> {
        Fill {
            document,
            api: "groups",
            op,
            places,
            scope: Scope::Missing,
        }
    }

    fn places() -> (tempfile::TempDir, Places) {
        let dir = tempfile::tempdir().unwrap();
        let places = Places {
            config_dir: dir.path().join("config"),
            cache_dir: dir.path().join("cache"),
        };
        (dir, places)
    }

    #[test]
    fn the_picker_shows_method_path_and_summary() {
        let (_, api) = loaded();
        let mut script = Scripted::new([Answer::Pick("deleteGroup")]);
        assert_eq!(pick_operation(&mut script, &api).unwrap(), "deleteGroup");
        assert!(
            script.asked[0].contains("deleteGroup  DELETE /groups/{id}  Delete a group"),
            "{}",
            script.asked[0]
        );
    }

    #[test]
    fn only_missing_required_values_are_asked_unless_guided() {
        let (document, api) = loaded();
        let op = operation(&document, &api, "getGroup");
        let (_dir, places) = places();
        let mut fill = fill_for(&document, &op, &places);
        let mut collected = Collected {
            values: vec![None, None],
            problems: Vec::new(),
        };
        let mut script = Scripted::new([Answer::Type("g-1")]);
        fill_in(&mut script, &fill, &mut collected, &mut None).unwrap();
        assert_eq!(collected.values, vec![None, Some(json!("g-1"))]);
        assert_eq!(script.asked, ["id (path)"]);

        fill.scope = Scope::Everything;
        let mut collected = Collected {
            values: vec![None, None],
            problems: Vec::new(),
        };
        let mut script = Scripted::new([Answer::Type("g-2"), Answer::Pick("true")]);
        fill_in(&mut script, &fill, &mut collected, &mut None).unwrap();
        assert_eq!(
            collected.values,
            vec![Some(json!(true)), Some(json!("g-2"))]
        );
        assert_eq!(
            script.asked[0], "id (path)",
            "the positional slot comes first"
        );
    }

    #[test]
    fn a_value_that_failed_to_read_is_asked_again_with_its_problem() {
        let (document, api) = loaded();
        let op = operation(&document, &api, "getGroup");
        let (_dir, places) = places();
        let fill = fill_for(&document, &op, &places);
        let problem = crate::input::violation::Violation::new(
            label(&op.params[0]),
            "expects a boolean (true or false), got `maybe`",
        );
        let mut collected = Collected {
            values: vec![None, Some(json!("g-1"))],
            problems: vec![problem],
        };
        let mut script = Scripted::new([Answer::Pick("false")]);
        fill_in(&mut script, &fill, &mut collected, &mut None).unwrap();
        assert_eq!(
            collected.values,
            vec![Some(json!(false)), Some(json!("g-1"))]
        );
        assert!(collected.problems.is_empty());
        assert!(script.said[0].contains("got `maybe`"), "{:?}", script.said);
    }

    #[test]
    fn a_required_body_is_built_and_remembered() {
        let (document, api) = loaded();
        let op = operation(&document, &api, "createGroup");
        let (_dir, places) = places();
        let fill = fill_for(&document, &op, &places);
        let mut collected = Collected {
            values: vec![],
            problems: Vec::new(),
        };
        let mut body = None;
        let mut script = Scripted::new([
            Answer::Pick("Fill it in field by field"),
            Answer::Type("Finance"),
        ]);
        fill_in(&mut script, &fill, &mut collected, &mut body).unwrap();
        let Some(BodyInput::Raw(bytes)) = body else {
            panic!("no body")
        };
        assert_eq!(
            serde_json::from_slice::<Value>(&bytes).unwrap(),
            json!({"name": "Finance"})
        );
        let kept = std::fs::read(body::last_body_file(&places, "groups", "createGroup")).unwrap();
        assert_eq!(kept, bytes);
    }

    #[test]
    fn changes_are_confirmed_and_deletes_need_an_explicit_yes() {
        let mut script = Scripted::new([Answer::Type("")]);
        assert_eq!(
            confirm_send(&mut script, Method::Delete, "DELETE /groups/1")
                .unwrap_err()
                .kind
                .exit_code(),
            130
        );
        assert_eq!(script.said, ["DELETE /groups/1"]);
        let mut script = Scripted::new([Answer::Type("")]);
        confirm_send(&mut script, Method::Post, "POST /groups").unwrap();
        let mut script = Scripted::new([]);
        confirm_send(&mut script, Method::Get, "GET /groups").unwrap();
        assert!(script.asked.is_empty());
    }
}
