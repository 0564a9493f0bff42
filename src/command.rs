//! Model → clap command tree. Only the operation being run gets its own subcommand with
//! positional path slots; listing needs no tree at all, which keeps start-up cheap.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::cli;
use crate::input::params::type_label;
use crate::spec::{Api, Operation};

/// `epilot <api> [<op>]` as a clap tree, the root carrying the shared flags.
pub fn tree(api: &Api, op: Option<&Operation>, api_help: Option<String>) -> Command {
    let mut api_command = Command::new(api.name.clone())
        .about(api.title.clone())
        .disable_help_subcommand(true)
        .override_usage(format!(
            "epilot {} <operation> [path values...] [flags]",
            api.name
        ));
    if let Some(listing) = api_help {
        api_command = api_command.after_help(listing);
    }
    if let Some(op) = op {
        api_command = api_command.subcommand(operation_command(&api.name, op));
    }
    cli::root_command().subcommand(api_command)
}

fn slot_id(name: &str) -> String {
    format!("path:{name}")
}

fn operation_command(api: &str, op: &Operation) -> Command {
    let slots = op.path_params_in_order();
    let usage_slots: String = slots.iter().map(|p| format!(" [{}]", p.name)).collect();
    let mut command = Command::new(op.entry.name.clone())
        .about(op.entry.summary.clone().unwrap_or_default())
        .override_usage(format!(
            "epilot {api} {}{usage_slots} [flags]",
            op.entry.name
        ))
        .after_help(parameter_table(op));
    if let Some(description) = &op.description {
        command = command.long_about(format!(
            "{}\n\n{description}",
            op.entry.summary.clone().unwrap_or_default()
        ));
    }
    for param in slots {
        command = command.arg(
            Arg::new(slot_id(&param.name))
                .value_name(param.name.clone())
                .action(ArgAction::Set)
                .help(
                    param
                        .description
                        .clone()
                        .unwrap_or_else(|| format!("path parameter `{}`", param.name)),
                ),
        );
    }
    command
}

/// Values given in the positional slots, in URL order.
pub fn positional_values(op: &Operation, matches: &ArgMatches) -> Vec<String> {
    op.path_params_in_order()
        .iter()
        .map_while(|p| {
            matches
                .try_get_one::<String>(&slot_id(&p.name))
                .ok()
                .flatten()
                .cloned()
        })
        .collect()
}

fn parameter_table(op: &Operation) -> String {
    let mut text = format!("{} {}\n", op.entry.method.as_str(), op.entry.path);
    if !op.params.is_empty() {
        text.push_str("\nParameters:\n");
        let width = op.params.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &op.params {
            text.push_str(&format!(
                "  {:<width$}  {:<6}  {:<9}  {:<8}  {}\n",
                p.name,
                p.location.as_str(),
                type_label(p),
                if p.required { "required" } else { "optional" },
                p.description
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or(""),
            ));
        }
    }
    if let Some(body) = &op.body {
        text.push_str(&format!(
            "\nRequest body ({}): {}; pass it with -d '<json>', -d @file, or on stdin\n",
            if body.required {
                "required"
            } else {
                "optional"
            },
            body.content_type
        ));
    }
    text
}
