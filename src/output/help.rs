//! What the CLI says about an operation: its help page, the examples shared with `docs`, and
//! the machine-readable model for `--help --json`. Pure text building; the caller prints.

use serde_json::{json, Value};

use crate::input::params::type_label;
use crate::request::style::plain_text;
use crate::request::url::redacted;
use crate::spec::{Api, Location, Operation, Param};
use crate::text::{cell, pad, shell_quote};
use crate::text::{escape_controls as shown, escape_controls_keep_lines as shown_lines};
use crate::validate::sample::valid_sample;
use crate::validate::Direction;

/// Ready-to-paste command lines for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examples {
    /// Required parameters as `-p name=value`.
    pub with_params: String,
    /// Path values as positionals, when the operation has path parameters.
    pub positional: Option<String>,
    /// Some optional parameters too, when the operation has any.
    pub with_optional: Option<String>,
    /// With the sample body as `-d`, when the operation takes a JSON body.
    pub with_body: Option<String>,
    /// The body piped on stdin.
    pub with_stdin: Option<String>,
    pub jsonata_expression: String,
    pub with_jsonata: String,
    pub with_json: String,
}

fn sample_text(document: &Value, param: &Param) -> String {
    let value = param
        .schema
        .as_ref()
        .map(|s| valid_sample(document, s, Direction::Request))
        .unwrap_or(Value::Null);
    match value {
        Value::Array(items) => items.iter().map(plain_text).collect::<Vec<_>>().join(","),
        Value::Null => "value".to_string(),
        other => plain_text(&other),
    }
}

/// The request body sample (valid for its schema), when the operation takes a JSON body.
pub fn body_sample(document: &Value, op: &Operation) -> Option<Value> {
    let body = op.body.as_ref().filter(|b| b.is_json())?;
    Some(match &body.schema {
        Some(schema) => valid_sample(document, schema, Direction::Request),
        None => json!({}),
    })
}

/// The sample answer: the documented example of the first 2xx response, else one generated
/// from its schema.
pub fn response_sample(document: &Value, op: &Operation) -> Option<(String, Value)> {
    let response = op.success_response()?;
    let value = match (&response.example, &response.schema) {
        (Some(example), _) => example.clone(),
        (None, Some(schema)) => valid_sample(document, schema, Direction::Response),
        (None, None) => return None,
    };
    Some((response.status.clone(), value))
}

/// A useful `--jsonata` expression for the answer: `id` when there is one, else the first
/// list's first item, else the first field; `$` for anything else.
pub fn jsonata_for(document: &Value, op: &Operation) -> String {
    let Some(schema) = op.success_response().and_then(|r| r.schema.as_ref()) else {
        return "$".into();
    };
    let sample = valid_sample(document, schema, Direction::Response);
    let Value::Object(fields) = sample else {
        return "$".into();
    };
    if fields.contains_key("id") {
        return "id".into();
    }
    let simple = |name: &str| {
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty()
    };
    if let Some((name, _)) = fields.iter().find(|(name, v)| v.is_array() && simple(name)) {
        return format!("{name}[0]");
    }
    fields
        .keys()
        .find(|name| simple(name))
        .cloned()
        .unwrap_or_else(|| "$".into())
}

/// The words every printed command for `api` starts with, each one quoted: a name comes from
/// a definition or a command line, and a pasted command must neither run part of it nor load
/// another document than the one the help was made from (`--definition`).
pub fn invocation(api: &str, definition: Option<&str>) -> String {
    match definition {
        Some(source) => format!(
            "epilot {} --definition {}",
            shell_quote(api),
            shell_quote(source)
        ),
        None => format!("epilot {}", shell_quote(api)),
    }
}

/// The sample commands for `op`; `invocation` is what [`invocation`] gives for its API.
pub fn examples(invocation: &str, document: &Value, op: &Operation) -> Examples {
    let base = format!("{invocation} {}", shell_quote(&op.entry.name));
    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    let pairs: String = required
        .iter()
        .map(|p| {
            format!(
                " -p {}",
                shell_quote(&format!("{}={}", p.name, sample_text(document, p)))
            )
        })
        .collect();
    let with_params = format!("{base}{pairs}");
    let slots = op.path_params_in_order();
    let positional = (!slots.is_empty()).then(|| {
        let values: String = slots
            .iter()
            .map(|p| format!(" {}", shell_quote(&sample_text(document, p))))
            .collect();
        let others: String = required
            .iter()
            .filter(|p| p.location != Location::Path)
            .map(|p| {
                format!(
                    " -p {}",
                    shell_quote(&format!("{}={}", p.name, sample_text(document, p)))
                )
            })
            .collect();
        format!("{base}{values}{others}")
    });
    let optional: String = op
        .params
        .iter()
        .filter(|p| !p.required && p.location == Location::Query)
        .take(2)
        .map(|p| {
            format!(
                " -p {}",
                shell_quote(&format!("{}={}", p.name, sample_text(document, p)))
            )
        })
        .collect();
    let with_optional = (!optional.is_empty()).then(|| format!("{with_params}{optional}"));
    let body = body_sample(document, op);
    let with_body = match (&body, &op.body) {
        (Some(body), _) => {
            let compact = body.to_string();
            let shown = if compact.len() <= 80 {
                compact
            } else {
                serde_json::to_string_pretty(body).unwrap_or(compact)
            };
            Some(format!("{with_params} -d {}", shell_quote(&shown)))
        }
        (None, Some(spec)) if spec.is_form() => {
            Some(format!("{with_params}{}", form_fields(document, spec)))
        }
        (None, Some(spec)) => {
            let extension = if spec.content_type.starts_with("text/") {
                "txt"
            } else {
                "bin"
            };
            Some(format!("{with_params} -d @body.{extension}"))
        }
        (None, None) => None,
    };
    let with_stdin = body.map(|_| format!("cat body.json | {with_params}"));
    let short_form = positional.clone().unwrap_or_else(|| with_params.clone());
    let jsonata_expression = jsonata_for(document, op);
    Examples {
        with_jsonata: format!(
            "{short_form} --jsonata {}",
            shell_quote(&jsonata_expression)
        ),
        with_json: format!("{short_form} --json"),
        jsonata_expression,
        with_params,
        positional,
        with_optional,
        with_body,
        with_stdin,
    }
}

/// `-F name=value` for each field of a form body's sample; files as `-F name=@name.bin`.
fn form_fields(document: &Value, body: &crate::spec::Body) -> String {
    let Some(schema) = &body.schema else {
        return " -F name=value".to_string();
    };
    let sample = valid_sample(document, schema, Direction::Request);
    let properties = crate::spec::index::deref(document, schema, "")
        .ok()
        .and_then(|(s, _)| s.get("properties").cloned())
        .unwrap_or(Value::Null);
    let Value::Object(fields) = sample else {
        return " -F name=value".to_string();
    };
    fields
        .iter()
        .map(|(name, value)| {
            let is_file = properties
                .get(name)
                .and_then(|p| p.get("format"))
                .and_then(Value::as_str)
                .is_some_and(|f| f == "binary" || f == "byte");
            let field = if is_file {
                format!("{name}=@{name}.bin")
            } else {
                format!("{name}={}", plain_text(value))
            };
            format!(" -F {}", shell_quote(&field))
        })
        .collect()
}

pub fn type_with_format(param: &Param) -> String {
    let format = param
        .schema
        .as_ref()
        .and_then(|s| s.get("format"))
        .and_then(Value::as_str);
    match format {
        Some(format) => format!("{}/{format}", type_label(param)),
        None => type_label(param),
    }
}

fn enum_values(param: &Param) -> String {
    let schema = param.schema.as_ref();
    let values = schema
        .and_then(|s| {
            s.get("enum")
                .or_else(|| s.get("items").and_then(|i| i.get("enum")))
        })
        .and_then(Value::as_array);
    values
        .map(|v| v.iter().map(plain_text).collect::<Vec<_>>().join("|"))
        .unwrap_or_default()
}

fn default_of(param: &Param) -> String {
    param
        .schema
        .as_ref()
        .and_then(|s| s.get("default"))
        .map(plain_text)
        .unwrap_or_default()
}

fn first_line(text: Option<&str>) -> String {
    text.and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A left-aligned table; the last column is not padded, the others are cut at
/// [`crate::text::CELL_MAX`] characters.
pub fn table(header: &[&str], rows: &[Vec<String>], indent: &str) -> String {
    let columns = header.len();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, text)| match i + 1 == columns {
                    true => text.clone(),
                    false => cell(text).into_owned(),
                })
                .collect()
        })
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::from(indent);
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == columns {
                out.push_str(cell);
            } else {
                pad(&mut out, cell, widths[i]);
                out.push_str("  ");
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// The flags every operation takes, as `-p, --param <KEY=VALUE>  help`.
pub fn flag_rows() -> Vec<(String, String)> {
    crate::cli::global_args()
        .iter()
        .filter(|a| !a.is_hide_set())
        .map(|a| {
            // Long-only flags line up with the long names of the others.
            let mut spec = match (a.get_short(), a.get_long()) {
                (Some(short), Some(long)) => format!("-{short}, --{long}"),
                (Some(short), None) => format!("-{short}"),
                (None, Some(long)) => format!("    --{long}"),
                (None, None) => String::new(),
            };
            if a.get_action().takes_values() {
                let value = a
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                spec.push_str(&format!(" <{value}>"));
            }
            (
                spec,
                a.get_help().map(|h| h.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

pub struct Style {
    pub bold: &'static str,
    pub reset: &'static str,
}

pub const PLAIN: Style = Style {
    bold: "",
    reset: "",
};
pub const BOLD: Style = Style {
    bold: "\x1b[1m",
    reset: "\x1b[0m",
};

/// The help page of one operation. Every text from the definition goes through `shown` (one
/// line) or `shown_lines`, so its control characters are displayed, not obeyed; the only raw
/// escapes on the page are the style's own.
/// `definition` is the `--definition` the API came from, for the commands the page prints.
pub fn operation_text(
    api: &str,
    definition: Option<&str>,
    document: &Value,
    op: &Operation,
    style: &Style,
) -> String {
    let heading = |title: &str| format!("\n{}{title}{}\n", style.bold, style.reset);
    let invocation = invocation(api, definition);
    let mut out = format!(
        "{}{invocation} {}{}",
        style.bold,
        shell_quote(&op.entry.name),
        style.reset
    );
    if let Some(summary) = &op.entry.summary {
        out.push_str(&format!(" — {}", shown(summary)));
    }
    out.push('\n');
    if op.entry.deprecated {
        out.push_str("(deprecated)\n");
    }
    if let Some(description) = op
        .description
        .as_deref()
        .filter(|d| Some(*d) != op.entry.summary.as_deref())
    {
        out.push('\n');
        out.push_str(&shown_lines(description.trim_end()));
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} {}\n",
        op.entry.method.as_str(),
        shown(&op.entry.path)
    ));

    if !op.params.is_empty() {
        out.push_str(&heading("PARAMETERS"));
        let rows: Vec<Vec<String>> = op
            .params
            .iter()
            .map(|p| {
                vec![
                    shown(&p.name).into_owned(),
                    p.location.as_str().to_string(),
                    shown(&type_with_format(p)).into_owned(),
                    if p.required { "required" } else { "optional" }.to_string(),
                    shown(&default_of(p)).into_owned(),
                    shown(&enum_values(p)).into_owned(),
                    shown(&first_line(p.description.as_deref())).into_owned(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "NAME",
                "IN",
                "TYPE",
                "REQUIRED",
                "DEFAULT",
                "VALUES",
                "DESCRIPTION",
            ],
            &rows,
            "  ",
        ));
    }

    if let Some(body) = &op.body {
        out.push_str(&heading("REQUEST BODY"));
        out.push_str(&format!(
            "  {}, {}\n",
            if body.required {
                "required"
            } else {
                "optional"
            },
            shown(&body.content_types.join(" | "))
        ));
        if let Some(description) = body.description.as_deref() {
            out.push_str(&format!("  {}\n", shown(&first_line(Some(description)))));
        }
        if let Some(sample) = body_sample(document, op) {
            // JSON escapes C0 controls in strings, but not DEL, C1 or bidi overrides.
            out.push_str(&shown_lines(&indent(
                &capped(
                    &serde_json::to_string_pretty(&sample).unwrap_or_default(),
                    op,
                ),
                "  ",
            )));
        } else if body.is_form() {
            out.push_str("  pass fields with -F name=value, files with -F name=@path\n");
        }
    }

    out.push_str(&heading("FLAGS"));
    let flags: Vec<Vec<String>> = flag_rows()
        .into_iter()
        .map(|(spec, help)| vec![spec, help])
        .collect();
    let flags_table = table(&["", ""], &flags, "  ");
    out.push_str(flags_table.split_once('\n').map_or("", |(_, rest)| rest));

    let examples = examples(&invocation, document, op);
    let mut lines = String::new();
    lines.push_str(&format!("  {}\n", examples.with_params));
    for line in [&examples.positional, &examples.with_optional]
        .into_iter()
        .flatten()
    {
        lines.push_str(&format!("  {line}\n"));
    }
    if let Some(line) = &examples.with_body {
        lines.push_str(&indent(line, "  "));
    }
    if let Some(line) = &examples.with_stdin {
        lines.push_str(&format!("  {line}\n"));
    }
    lines.push_str(&format!(
        "  {}\n  {}\n",
        examples.with_jsonata, examples.with_json
    ));
    out.push_str(&heading("EXAMPLES"));
    out.push_str(&shown_lines(&lines));

    if let Some((status, sample)) = response_sample(document, op) {
        out.push_str(&heading(&format!("SAMPLE RESPONSE ({})", shown(&status))));
        out.push_str(&shown_lines(&indent(
            &capped(
                &serde_json::to_string_pretty(&sample).unwrap_or_default(),
                op,
            ),
            "  ",
        )));
    }
    out
}

/// Help shows at most this many lines of a sample; `--mock` prints it whole.
const SAMPLE_LINES: usize = 60;

fn capped(text: &str, op: &Operation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= SAMPLE_LINES {
        return text.to_string();
    }
    format!(
        "{}\n… {} more lines: see the whole sample with `--mock`, e.g. epilot … {} --mock",
        lines[..SAMPLE_LINES].join("\n"),
        lines.len() - SAMPLE_LINES,
        shell_quote(&op.entry.name)
    )
}

/// The operation's model for scripts and agents (`--help --json`).
pub fn operation_json(api: &str, document: &Value, op: &Operation) -> Value {
    let mut roots: Vec<&Value> = op.params.iter().filter_map(|p| p.schema.as_ref()).collect();
    roots.extend(op.body.as_ref().and_then(|b| b.schema.as_ref()));
    roots.extend(op.responses.iter().filter_map(|r| r.schema.as_ref()));
    json!({
        "api": api,
        "name": op.entry.name,
        "method": op.entry.method.as_str(),
        "path": op.entry.path,
        "summary": op.entry.summary,
        "description": op.description,
        "tags": op.entry.tags,
        "deprecated": op.entry.deprecated,
        "servers": op.servers.iter().map(|s| redacted(&s.url)).collect::<Vec<_>>(),
        "auth": match op.auth { crate::spec::Auth::Bearer => "bearer", crate::spec::Auth::None => "none" },
        "parameters": op.params.iter().map(|p| json!({
            "name": p.name,
            "in": p.location.as_str(),
            "required": p.required,
            "type": type_label(p),
            "style": format!("{:?}", p.style).to_lowercase(),
            "explode": p.explode,
            "description": p.description,
            "schema": p.schema,
        })).collect::<Vec<_>>(),
        "requestBody": op.body.as_ref().map(|b| json!({
            "required": b.required,
            "contentType": b.content_type,
            "contentTypes": b.content_types,
            "description": b.description,
            "schema": b.schema,
            "sample": body_sample(document, op),
        })),
        "responses": op.responses.iter().map(|r| json!({
            "status": r.status,
            "description": r.description,
            "contentType": r.content_type,
            "schema": r.schema,
        })).collect::<Vec<_>>(),
        "components": crate::validate::dialect::referenced_nodes(document, &roots),
    })
}

/// The API's model for `epilot <api> --help --json`.
pub fn api_json(api: &Api) -> Value {
    json!({
        "name": api.name,
        "title": api.title,
        "description": api.description,
        "version": api.version,
        "servers": api.servers.iter().map(|s| redacted(&s.url)).collect::<Vec<_>>(),
        "tags": api.tags,
        "operations": api.operations.iter().map(|o| json!({
            "name": o.name,
            "method": o.method.as_str(),
            "path": o.path,
            "summary": o.summary,
            "tags": o.tags,
            "deprecated": o.deprecated,
        })).collect::<Vec<_>>(),
    })
}
