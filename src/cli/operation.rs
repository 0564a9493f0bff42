//! Model → clap command tree. Only the operation being run gets its own subcommand with
//! positional path slots; listing needs no tree at all, which keeps start-up cheap. Help is
//! rendered by [`crate::output::help`] from the spec, so clap's own help flag is off.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::cli;
use crate::spec::{Api, Operation};

/// `epilot <api> [<op>]` as a clap tree, the root carrying the shared flags. `invocation`
/// (`epilot 'api' --definition 'FILE'`) starts the usage lines, so a usage printed with an
/// error keeps the `--definition` the API came from.
pub fn tree(api: &Api, op: Option<&Operation>, invocation: &str) -> Command {
    let mut api_command = Command::new(api.name.clone())
        .about(api.title.clone())
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .override_usage(format!("{invocation} <operation> [path values...] [flags]"));
    if let Some(op) = op {
        api_command = api_command.subcommand(operation_command(invocation, op));
    }
    cli::root_command().subcommand(api_command)
}

fn slot_id(name: &str) -> String {
    format!("path:{name}")
}

fn operation_command(invocation: &str, op: &Operation) -> Command {
    let slots = op.path_params_in_order();
    let usage_slots: String = slots.iter().map(|p| format!(" [{}]", p.name)).collect();
    let mut command = Command::new(op.entry.name.clone())
        .about(op.entry.summary.clone().unwrap_or_default())
        .disable_help_flag(true)
        .override_usage(format!(
            "{invocation} {}{usage_slots} [flags]",
            crate::text::shell_quote(&op.entry.name)
        ));
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
