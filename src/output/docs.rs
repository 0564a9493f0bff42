//! `epilot docs <api>`: a Markdown reference of an API in the layout of the epilot API
//! reference: title and base URL, quick start, common flags, operations by tag, then one
//! section per operation with parameters, body, sample calls and a sample response.

use std::fmt::Write;

use serde_json::Value;

use crate::output::help::{self, examples, invocation, response_sample};
use crate::request::url::redacted;
use crate::spec::{index, Api};
use crate::text::shell_quote;

/// The reference, with the definition's control characters shown as escapes (`\u{1b}`): the
/// text is read on terminals and rendered by Markdown viewers, neither of which should obey
/// an ESC sequence from a summary. `definition` is the `--definition` the API came from, for
/// the commands the reference prints.
pub fn markdown(api: &Api, document: &Value, definition: Option<&str>) -> String {
    let invocation = invocation(&api.name, definition);
    crate::text::escape_controls_keep_lines(&reference(api, document, &invocation)).into_owned()
}

fn reference(api: &Api, document: &Value, invocation: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", api.title);
    if let Some(server) = api.servers.first() {
        let _ = writeln!(out, "- Base URL: `{}`", redacted(&server.url));
    }
    if let Some(version) = &api.version {
        let _ = writeln!(out, "- Version: {version}");
    }
    if let Some(description) = &api.description {
        let _ = writeln!(out, "\n{}", description.trim_end());
    }
    let first = api
        .operations
        .first()
        .map_or("<operation>".to_string(), |o| shell_quote(&o.name));
    let _ = writeln!(
        out,
        "\n## Quick Start\n\n```sh\n# List available operations\n{invocation}\n# Call an operation\n{invocation} {first}\n```\n",
    );
    out.push_str("## Common Flags\n\n| Flag | Description |\n|---|---|\n");
    for (spec, text) in help::flag_rows() {
        let _ = writeln!(
            out,
            "| `{}` | {} |",
            spec.trim().replace('|', "\\|"),
            text.replace('|', "\\|")
        );
    }

    out.push_str("\n## Operations\n");
    let mut tags = api.tags.clone();
    if api.operations.iter().any(|o| o.tags.is_empty()) {
        tags.push(String::new());
    }
    for tag in &tags {
        let ops: Vec<_> = api
            .operations
            .iter()
            .filter(|o| o.tags.first().map_or(tag.is_empty(), |t| t == tag))
            .collect();
        if ops.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n### {}\n",
            if tag.is_empty() {
                "Other operations"
            } else {
                tag
            }
        );
        for op in ops {
            let summary = op
                .summary
                .as_deref()
                .map(|s| format!(" — {s}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- [`{}`](#{}) `{} {}`{summary}",
                op.name,
                anchor(&op.name),
                op.method.as_str(),
                op.path
            );
        }
    }

    for entry in &api.operations {
        let _ = writeln!(out, "\n## {}\n", entry.name);
        let op = match index::resolve_operation(document, entry) {
            Ok(op) => op,
            Err(error) => {
                let _ = writeln!(out, "> This operation cannot be used: {}", error.message);
                continue;
            }
        };
        if let Some(summary) = &entry.summary {
            let _ = writeln!(out, "{summary}\n");
        }
        if let Some(description) = op
            .description
            .as_deref()
            .filter(|d| Some(*d) != entry.summary.as_deref())
        {
            let _ = writeln!(out, "{}\n", description.trim_end());
        }
        let _ = writeln!(out, "`{} {}`", entry.method.as_str(), entry.path);
        if !op.params.is_empty() {
            out.push_str("\n### Parameters\n\n| Name | In | Type | Required | Description |\n|---|---|---|---|---|\n");
            for p in &op.params {
                let description = p
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .replace('\n', " ")
                    .replace('|', "\\|");
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    p.name,
                    p.location.as_str(),
                    help::type_with_format(p),
                    if p.required { "Yes" } else { "No" },
                    description.trim()
                );
            }
        }
        if let Some(body) = &op.body {
            let _ = writeln!(
                out,
                "\n### Request Body\n\n{} `{}`",
                if body.required {
                    "Required,"
                } else {
                    "Optional,"
                },
                body.content_types.join("`, `")
            );
            if let Some(sample) = help::body_sample(document, &op) {
                let _ = writeln!(
                    out,
                    "\n```json\n{}\n```",
                    serde_json::to_string_pretty(&sample).unwrap_or_default()
                );
            }
        }
        let examples = examples(invocation, document, &op);
        let _ = writeln!(
            out,
            "\n### Sample Call\n\n```sh\n{}\n```",
            examples.with_params
        );
        if let Some(line) = &examples.with_body {
            let _ = writeln!(out, "\nWith request body:\n\n```sh\n{line}\n```");
        }
        if let Some(line) = &examples.positional {
            let _ = writeln!(
                out,
                "\nUsing positional args for path parameters:\n\n```sh\n{line}\n```"
            );
        }
        if let Some(line) = &examples.with_optional {
            let _ = writeln!(out, "\nWith optional parameters:\n\n```sh\n{line}\n```");
        }
        if let Some(line) = &examples.with_stdin {
            let _ = writeln!(out, "\nUsing stdin pipe:\n\n```sh\n{line}\n```");
        }
        let _ = writeln!(
            out,
            "\nWith JSONata filter:\n\n```sh\n{}\n```",
            examples.with_jsonata
        );
        if let Some((status, sample)) = response_sample(document, &op) {
            let _ = writeln!(
                out,
                "\n### Sample Response ({status})\n\n```json\n{}\n```",
                serde_json::to_string_pretty(&sample).unwrap_or_default()
            );
        }
    }
    out
}

/// GitHub-style heading anchor.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}
