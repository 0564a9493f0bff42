//! The one list of built-in commands. Dispatch, the overview, completion and the tests all
//! read [`BUILTINS`]; no other place names a built-in. Each command declares itself with a
//! `cli()` (its clap command: arguments, flags, help and examples) and runs with an `exec()`,
//! or lists its subcommands, which do the same.

use std::ffi::OsString;

use clap::{ArgMatches, Command};

use super::clap_outcome;
use crate::env::Env;
use crate::error::{exit, Result};
use crate::state::paths::Places;

/// What a command does once its line parsed.
pub enum Exec {
    /// A leaf: runs with its own matches.
    Run(fn(&ArgMatches, &mut Env<'_>) -> Result<u8>),
    /// A group: one of these subcommands is required.
    Group(&'static [Builtin]),
}

/// One built-in command or subcommand.
pub struct Builtin {
    pub name: &'static str,
    /// The command line shown in the overview, e.g. `docs <api>`.
    pub synopsis: &'static str,
    pub cli: fn() -> Command,
    pub exec: Exec,
    /// Completion candidates for its first positional argument, if it takes a known kind.
    pub values: Option<fn(&Places) -> Vec<String>>,
}

/// Every top-level built-in, in the order the overview shows them.
pub static BUILTINS: &[Builtin] = &[
    super::docs::BUILTIN,
    super::definitions::BUILTIN,
    super::completion::BUILTIN,
    super::auth::BUILTIN,
    super::profile::BUILTIN,
];

/// Words the command line takes beside the built-ins (handled by `app`): never API names.
pub const OTHER_WORDS: &[&str] = &["help", super::completion::ENGINE_COMMAND];

/// Whether `name` is taken by a built-in or another command word, so no API may use it.
pub fn is_taken(name: &str) -> bool {
    find(name).is_some() || OTHER_WORDS.contains(&name)
}

/// The built-in called `name`, at the top level.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Builtin {
    /// The subcommand called `name`, if this is a group.
    pub fn sub(&self, name: &str) -> Option<&'static Builtin> {
        match self.exec {
            Exec::Group(subs) => subs.iter().find(|b| b.name == name),
            Exec::Run(_) => None,
        }
    }

    /// The names of its subcommands (none for a leaf).
    pub fn sub_names(&self) -> Vec<String> {
        match self.exec {
            Exec::Group(subs) => subs.iter().map(|b| b.name.to_string()).collect(),
            Exec::Run(_) => Vec::new(),
        }
    }

    /// Its clap command with every subcommand attached, `-h`/`--help` on each.
    pub fn command(&self) -> Command {
        let command = (self.cli)().name(self.name);
        match self.exec {
            Exec::Run(_) => command,
            Exec::Group(subs) => subs
                .iter()
                .fold(command, |c, sub| c.subcommand(sub.command()))
                .subcommand_required(true)
                .disable_help_subcommand(true),
        }
    }

    fn exec(&self, matches: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        match self.exec {
            Exec::Run(run) => run(matches, env),
            Exec::Group(_) => match matches.subcommand() {
                Some((name, sub_matches)) => match self.sub(name) {
                    Some(sub) => sub.exec(sub_matches, env),
                    None => Ok(exit::USAGE),
                },
                None => Ok(exit::USAGE),
            },
        }
    }
}

/// The root a built-in is parsed under, so usage lines read `epilot profile create ...`.
/// Its own `--help` is never reached: [`run`] puts the built-in's name first.
fn root(builtin: &Builtin) -> Command {
    Command::new("epilot")
        .disable_help_subcommand(true)
        .subcommand_required(true)
        .subcommand(builtin.command())
}

/// Parses `args` (program name first) as `builtin` and runs it. `--help` anywhere shows the
/// help of the innermost command named and does nothing else.
pub fn run(builtin: &Builtin, args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    // Flags written before the name (`epilot -h auth`) belong to the built-in, not the root.
    let mut args = args.to_vec();
    if let Some(at) = args.iter().skip(1).position(|a| a == builtin.name) {
        let name = args.remove(at + 1);
        args.insert(1.min(args.len()), name);
    }
    let matches = match root(builtin).try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    match matches.subcommand() {
        Some((_, sub_matches)) => builtin.exec(sub_matches, env),
        None => Ok(exit::USAGE),
    }
}

/// The help of the built-in command named by `words` (e.g. `["profile", "create"]`), as
/// `epilot help profile create` shows it; `None` when the words name no built-in.
pub fn help_for(words: &[String]) -> Option<String> {
    let first = find(words.first()?)?;
    let mut command = root(first);
    // Built, so usage lines carry the full `epilot profile create` path.
    command.build();
    let mut current = &mut command;
    for word in words {
        current = current.find_subcommand_mut(word)?;
    }
    Some(current.render_help().to_string())
}

/// Every command line that names a built-in (`["auth"]`, `["auth", "login"]`, ...).
pub fn command_lines() -> Vec<Vec<&'static str>> {
    fn walk(builtin: &Builtin, prefix: &[&'static str], out: &mut Vec<Vec<&'static str>>) {
        let mut line = prefix.to_vec();
        line.push(builtin.name);
        out.push(line.clone());
        if let Exec::Group(subs) = builtin.exec {
            for sub in subs {
                walk(sub, &line, out);
            }
        }
    }
    let mut out = Vec::new();
    for builtin in BUILTINS {
        walk(builtin, &[], &mut out);
    }
    out
}

/// The "Commands:" part of the overview.
pub fn overview() -> String {
    let mut out = String::new();
    for builtin in BUILTINS {
        let about = builtin
            .command()
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default();
        // The first clause: the overview has one short line per command.
        let about = about.split([';', ':']).next().unwrap_or_default();
        let about = about
            .get(..1)
            .map_or(String::new(), |c| c.to_lowercase() + &about[1..]);
        out.push_str(&format!("  {:<34} {about}\n", builtin.synopsis));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_declares_itself_consistently() {
        for line in command_lines() {
            let help = help_for(&line.iter().map(|w| w.to_string()).collect::<Vec<_>>())
                .unwrap_or_else(|| panic!("{line:?} has no help"));
            assert!(
                help.contains(&format!("epilot {}", line.join(" "))),
                "{line:?}: {help}"
            );
        }
        for builtin in BUILTINS {
            builtin.command().debug_assert();
        }
    }

    #[test]
    fn help_for_refuses_what_is_not_a_builtin() {
        assert!(help_for(&["user".to_string()]).is_none());
        assert!(help_for(&["profile".to_string(), "nope".to_string()]).is_none());
        assert!(help_for(&[]).is_none());
    }
}
