//! Text for `epilot <api>` (operations grouped by tag) and `epilot --help` (the APIs).

use std::fmt::Write;

use crate::output::help::invocation;
use crate::request::url::redacted;
use crate::spec::{source, Api, OperationEntry};
use crate::text::{cell, escape_controls as shown, pad};

/// Operations grouped by tag, in the document's tag order; each operation appears once, under
/// its first tag. `definition` is the `--definition` the API came from, for the command the
/// listing suggests.
pub fn operations(api: &Api, definition: Option<&str>) -> String {
    let mut out = String::new();
    // Every text here comes from the definition: its control characters are shown, not obeyed.
    let _ = write!(out, "{}", shown(&api.title));
    if let Some(description) = api.description.as_deref().and_then(|d| d.lines().next()) {
        if !description.trim().is_empty() {
            let _ = write!(out, " — {}", shown(description.trim()));
        }
    }
    out.push('\n');
    if let Some(server) = api.servers.first() {
        let _ = writeln!(out, "Server: {}", shown(&redacted(&server.url)));
    }
    let name_width = api
        .operations
        .iter()
        .map(|o| cell(&shown(&o.name)).chars().count())
        .max()
        .unwrap_or(0);
    let path_width = api
        .operations
        .iter()
        .map(|o| cell(&shown(&o.path)).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    let mut groups: Vec<(&str, Vec<&OperationEntry>)> =
        api.tags.iter().map(|t| (t.as_str(), Vec::new())).collect();
    let mut untagged = Vec::new();
    for op in &api.operations {
        match op
            .tags
            .first()
            .and_then(|t| groups.iter_mut().find(|(name, _)| name == t))
        {
            Some((_, list)) => list.push(op),
            None => untagged.push(op),
        }
    }
    if !untagged.is_empty() {
        groups.push(("Other operations", untagged));
    }
    for (tag, ops) in groups.iter().filter(|(_, ops)| !ops.is_empty()) {
        let _ = writeln!(out, "\n{}", shown(tag));
        for op in ops {
            let summary = op
                .summary
                .as_deref()
                .and_then(|s| s.lines().next())
                .unwrap_or("");
            let summary = shown(summary);
            let deprecated = if op.deprecated { " (deprecated)" } else { "" };
            let mut line = String::from("  ");
            pad(&mut line, &cell(&shown(&op.name)), name_width);
            line.push_str("  ");
            pad(&mut line, op.method.as_str(), 7);
            line.push(' ');
            pad(&mut line, &cell(&shown(&op.path)), path_width);
            let _ = write!(line, "  {summary}{deprecated}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    if api.operations.is_empty() {
        out.push_str("\nThis definition has no operations.\n");
    }
    let _ = writeln!(
        out,
        "\nRun `{} <operation> --help` for an operation's parameters.",
        invocation(&api.name, definition)
    );
    out
}

/// The API list for `epilot --help`: every known API, marked by whether it works offline.
pub fn apis(places: &crate::state::paths::Places) -> String {
    use crate::spec::catalog::{self, Availability, Registry};
    let registry = Registry::load(places);
    let mut available = String::new();
    let mut missing: Vec<String> = Vec::new();
    for name in catalog::all_names(&registry) {
        match catalog::availability(places, &registry, &name) {
            Availability::NotYetAvailable => missing.push(name),
            Availability::Bundled => {
                let title = source::bundled_text(&name)
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                    .and_then(|doc| {
                        doc.pointer("/info/title")
                            .and_then(|t| t.as_str())
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                let _ = writeln!(available, "  {name:<22} {title} (bundled)");
            }
            other => {
                let _ = writeln!(available, "  {name:<22} ({})", other.label());
            }
        }
    }
    let mut out = format!("APIs available offline:\n{available}");
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "\nMore epilot APIs, one `epilot definitions pull <api>` away:"
        );
        let mut line = String::from(" ");
        for name in missing {
            if line.len() + name.len() > 92 {
                let _ = writeln!(out, "{line}");
                line = String::from(" ");
            }
            line.push(' ');
            line.push_str(&name);
        }
        let _ = writeln!(out, "{line}");
    }
    out.push_str("\nCommands:\n");
    out.push_str(&super::registry::overview());
    out.push_str(
        "  help [<command>...]                show this overview, or a command's help\n\
         \nAny other OpenAPI 3 document works too:\n  epilot <name> <operation> --definition <file|url>\n\
         \nExamples:\n  epilot user                              list the user API's operations\n  \
         epilot user getUserV2 <id> --dry-run     show the request without sending it\n  \
         epilot user getMeV2 --jsonata 'email'    transform the answer with JSONata\n",
    );
    out
}
