//! Tab completion. The shell scripts (`scripts.rs`) call the binary back as
//! `epilot __complete --line '<the line up to the cursor>'`, and this engine answers with the
//! candidates for the word under the cursor, one per line, read from the spec in force
//! (`--definition` and overrides on the same line included). It never touches the network.

pub(crate) mod scripts;

use std::ffi::OsString;
use std::path::Path;

use serde_json::Value;

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::registry::{self as builtins, Builtin, Exec};
use crate::cli;
use crate::env::{places, write_out, Env};
use crate::error::Result;
use crate::spec::catalog::{self, Registry};
use crate::spec::{self, source};
use crate::state::paths::Places;

/// The hidden command the shell scripts call.
pub const ENGINE_COMMAND: &str = "__complete";

/// Splits a command line like a POSIX shell would (quotes and backslashes); the last word is
/// the one being completed, empty when the line ends in a space.
pub fn split_line(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'') | (None, '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '\\') | (Some('"'), '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            (_, c) => current.push(c),
        }
    }
    words.push(current);
    words
}

/// One candidate as the shell that reads it must get it: the scripts insert candidates into
/// the command line as they are, so a value from a definition such as `$(touch x)` or
/// `a b` must arrive quoted, and one with control characters must not reach the terminal raw.
/// bash and zsh (and any shell not named) get backslashes, and `$'\xHH'` for control
/// characters; fish quotes what it inserts itself; PowerShell gets single quotes. Where a
/// shell has no safe way to show a control character, the candidate is left out.
pub fn quote_for(shell: Option<&str>, candidate: &str) -> Option<String> {
    let has_hazard = candidate.chars().any(crate::text::is_hazard);
    match shell {
        Some("fish") => (!has_hazard).then(|| candidate.to_string()),
        Some("powershell" | "pwsh") => (!has_hazard).then(|| powershell_quote(candidate)),
        _ => Some(posix_escape(candidate)),
    }
}

fn posix_escape(candidate: &str) -> String {
    let mut out = String::with_capacity(candidate.len());
    for (i, c) in candidate.char_indices() {
        let bare = c.is_ascii_alphanumeric()
            || (!c.is_ascii() && !crate::text::is_hazard(c))
            || ("-_./:@,+%".contains(c) || c == '=' && i > 0);
        if bare {
            out.push(c);
        } else if crate::text::is_hazard(c) {
            let mut bytes = [0; 4];
            out.push_str("$'");
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
            out.push('\'');
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// PowerShell reads `'...'` literally, with `'` (and its typographic forms) doubled.
fn powershell_quote(candidate: &str) -> String {
    let bare = |c: char| c.is_alphanumeric() || "-_./:=,+%".contains(c);
    if !candidate.is_empty() && candidate.chars().all(bare) {
        return candidate.to_string();
    }
    let mut out = String::from("'");
    for c in candidate.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The candidates for the last word of `line`.
pub fn candidates(line: &str, places: &Places) -> Vec<String> {
    let mut words = split_line(line);
    let current = words.pop().unwrap_or_default();
    let before: Vec<std::ffi::OsString> = words.iter().skip(1).map(Into::into).collect();
    let invocation = cli::prescan(&before);
    let previous = words.last().map(String::as_str).unwrap_or("");
    let flags = builtin_flags(&invocation).unwrap_or_else(cli::global_args);
    let flag_taking_value = flags.iter().find(|a| {
        a.get_action().takes_values()
            && (a.get_long().is_some_and(|l| previous == format!("--{l}"))
                || a.get_short().is_some_and(|s| previous == format!("-{s}")))
    });
    let mut found: Vec<String> = match flag_taking_value.map(|a| a.get_id().as_str()) {
        Some("definition") => files(&current, ""),
        Some("output") => files(&current, ""),
        Some("data") => current
            .strip_prefix('@')
            .map(|rest| files(rest, "@"))
            .unwrap_or_default(),
        Some("form") => match current.split_once("=@") {
            Some((name, rest)) => files(rest, &format!("{name}=@")),
            None => Vec::new(),
        },
        Some("param") => parameter_candidates(&invocation, &current, places),
        Some("profile") => profile_names(places),
        Some("color") => ["auto", "always", "never"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Some(_) => Vec::new(),
        None if current.starts_with('-') => flags
            .iter()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect(),
        None => positional_candidates(&invocation, &words, places),
    };
    found.retain(|c| c.starts_with(&current));
    found.sort();
    found.dedup();
    found
}

/// The flags of the built-in command the line names (its subcommand's, once named): a
/// built-in takes only its own.
fn builtin_flags(invocation: &cli::Invocation) -> Option<Vec<clap::Arg>> {
    let builtin = builtins::find(invocation.api.as_deref()?)?;
    let mut command = builtin.command();
    // Built, so flags a group shares with its subcommands (`global`) reach them.
    command.build();
    let command = invocation
        .operation
        .as_deref()
        .and_then(|name| command.find_subcommand(name))
        .unwrap_or(&command);
    Some(command.get_arguments().cloned().collect())
}

fn positional_candidates(
    invocation: &cli::Invocation,
    words: &[String],
    places: &Places,
) -> Vec<String> {
    let registry = Registry::load(places);
    let builtin = invocation.api.as_deref().and_then(builtins::find);
    match (
        invocation.api.as_deref(),
        builtin,
        invocation.operation.as_deref(),
    ) {
        (None, _, _) => {
            let mut names = catalog::all_names(&registry);
            names.extend(builtins::BUILTINS.iter().map(|b| b.name.to_string()));
            names.push("help".to_string());
            names
        }
        (_, Some(builtin), None) => match builtin.values {
            Some(values) => values(places),
            None => builtin.sub_names(),
        },
        (_, Some(builtin), Some(sub)) => builtin
            .sub(sub)
            .and_then(|s| s.values)
            .map(|values| values(places))
            .unwrap_or_default(),
        (Some(api), None, None) => offline_spec(api, invocation.definition.as_deref(), places)
            .map(|loaded| loaded.api.operation_names().map(str::to_string).collect())
            .unwrap_or_default(),
        _ => {
            let _ = words;
            Vec::new()
        }
    }
}

/// The spec in force, without the network: URLs are not fetched for completion.
fn offline_spec(api: &str, definition: Option<&str>, places: &Places) -> Option<spec::LoadedApi> {
    if definition.is_some_and(source::is_url) {
        return None;
    }
    spec::load(api, definition, places, &|_| {
        Err(crate::error::Error::network("offline"))
    })
    .ok()
}

/// `name=` for each parameter, or `name=value` for each enum value once `name=` is typed.
fn parameter_candidates(
    invocation: &cli::Invocation,
    current: &str,
    places: &Places,
) -> Vec<String> {
    let (Some(api), Some(operation)) = (invocation.api.as_deref(), invocation.operation.as_deref())
    else {
        return Vec::new();
    };
    let Some(loaded) = offline_spec(api, invocation.definition.as_deref(), places) else {
        return Vec::new();
    };
    let Some(entry) = loaded.api.find(operation) else {
        return Vec::new();
    };
    let Ok(op) = spec::index::resolve_operation(&loaded.document, entry) else {
        return Vec::new();
    };
    match current.split_once('=') {
        None => op.params.iter().map(|p| format!("{}=", p.name)).collect(),
        Some((name, _)) => {
            let Some(schema) = op.param(name).and_then(|p| p.schema.as_ref()) else {
                return Vec::new();
            };
            let options = schema
                .get("enum")
                .or_else(|| schema.get("items").and_then(|i| i.get("enum")));
            let mut values: Vec<String> = options
                .and_then(Value::as_array)
                .map(|v| v.iter().map(crate::request::style::plain_text).collect())
                .unwrap_or_default();
            if schema.get("type").and_then(Value::as_str) == Some("boolean") {
                values = vec!["true".into(), "false".into()];
            }
            values.into_iter().map(|v| format!("{name}={v}")).collect()
        }
    }
}

/// Profile names from `profiles.json` in the config folder.
fn profile_names(places: &Places) -> Vec<String> {
    crate::commands::profile::names(places)
}

/// Paths that start with `partial`, each behind `prefix`; folders end in `/`.
fn files(partial: &str, prefix: &str) -> Vec<String> {
    let (dir, stem) = match partial.rfind('/') {
        Some(at) => (&partial[..=at], &partial[at + 1..]),
        None => ("", partial),
    };
    let listing = if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir)
    };
    let Ok(entries) = std::fs::read_dir(listing) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                return None;
            }
            let slash = if entry.path().is_dir() { "/" } else { "" };
            Some(format!("{prefix}{dir}{name}{slash}"))
        })
        .collect()
}

pub(super) const BUILTIN: Builtin = Builtin {
    name: "completion",
    synopsis: "completion [<shell>] [--install]",
    cli,
    exec: Exec::Run(exec),
    values: Some(|_| scripts::SHELLS.iter().map(|s| s.to_string()).collect()),
};

fn cli() -> Command {
    Command::new("completion")
        .about("Shell completion for bash, zsh, fish, PowerShell: print or install the script")
        .arg(
            Arg::new("shell")
                .value_parser(["bash", "zsh", "fish", "powershell", "pwsh"])
                .help("The shell [default: the one $SHELL names]"),
        )
        .arg(
            Arg::new("install")
                .long("install")
                .action(ArgAction::SetTrue)
                .help("Install it where the shell looks"),
        )
        .after_help(
            "Examples:\n  epilot completion bash > ~/.epilot.bash\n  epilot completion --install",
        )
}

/// `epilot completion [<shell>] [--install]`.
fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
    let named = m.get_one::<String>("shell").map(String::as_str);
    if m.get_flag("install") {
        crate::commands::check_stdout(env)?;
        let shell = scripts::detect(named, (env.var)("SHELL").as_deref())?;
        let home = std::path::PathBuf::from((env.var)("HOME").unwrap_or_else(|| ".".into()));
        let dir = |name: &str| {
            (env.var)(name)
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
        };
        let report = scripts::install(
            &shell,
            &home,
            dir("XDG_DATA_HOME").as_deref(),
            dir("XDG_CONFIG_HOME").as_deref(),
        )?;
        return write_out(report.as_bytes(), env);
    }
    let shell = scripts::detect(named, (env.var)("SHELL").as_deref())?;
    write_out(scripts::script(&shell)?.as_bytes(), env)
}

/// The completion engine the scripts call: `epilot __complete --line '<line>'`.
pub fn complete(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    let line = args
        .iter()
        .skip_while(|a| *a != "--line")
        .nth(1)
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let shell = args
        .iter()
        .skip_while(|a| *a != "--shell")
        .nth(1)
        .map(|a| a.to_string_lossy().into_owned());
    let mut out = String::new();
    for candidate in crate::commands::completion::candidates(&line, &places(env)?) {
        if let Some(quoted) = crate::commands::completion::quote_for(shell.as_deref(), &candidate) {
            out.push_str(&quoted);
            out.push('\n');
        }
    }
    write_out(out.as_bytes(), env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_a_shell() {
        assert_eq!(split_line("epilot user "), ["epilot", "user", ""]);
        assert_eq!(
            split_line("epilot 'a b' \"c\\\"d\" e\\ f g"),
            ["epilot", "a b", "c\"d", "e f", "g"]
        );
        assert_eq!(split_line("epilot -p lim"), ["epilot", "-p", "lim"]);
    }

    #[test]
    fn candidates_are_quoted_for_the_shell_that_reads_them() {
        let posix = |c| quote_for(Some("bash"), c).unwrap();
        assert_eq!(posix("status=active"), "status=active");
        assert_eq!(posix("status=$(touch x)"), "status=\\$\\(touch\\ x\\)");
        assert_eq!(posix("=x~`y`"), "\\=x\\~\\`y\\`");
        assert_eq!(posix("a\u{1b}[31m\nb"), "a$'\\x1b'\\[31m$'\\x0a'b");
        assert_eq!(quote_for(Some("zsh"), "Grüße"), Some("Grüße".into()));
        assert_eq!(quote_for(None, "a b"), Some("a\\ b".into()));
        assert_eq!(quote_for(Some("fish"), "a b"), Some("a b".into()));
        assert_eq!(quote_for(Some("fish"), "a\u{1b}b"), None);
        assert_eq!(
            quote_for(Some("powershell"), "s=it's $x"),
            Some("'s=it''s $x'".into())
        );
        assert_eq!(quote_for(Some("powershell"), "s=on"), Some("s=on".into()));
        assert_eq!(quote_for(Some("pwsh"), "a\rb"), None);
    }

    #[cfg(unix)]
    #[test]
    fn escaped_candidates_read_back_as_themselves_in_bash() {
        for candidate in [
            "st=$(touch x)",
            "a b'c\"d\\",
            "=x;y&z|w",
            "e\u{1b}[0m\r\n",
            "ü #!*?",
        ] {
            let word = quote_for(Some("bash"), candidate).unwrap();
            let output = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {word}"))
                .output()
                .unwrap();
            assert_eq!(output.stdout, candidate.as_bytes(), "{word}");
        }
    }
}
