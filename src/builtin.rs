//! The built-in commands beside the API calls: `docs`, `definitions`, `completion` and the
//! completion engine the shell scripts call back.

use std::ffi::OsString;

use crate::app::{clap_outcome, places, write_out, Env};
use crate::cli;
use crate::error::{exit, Result};
use crate::spec;
use crate::transport;

/// `epilot docs <api> [--definition ...]`: the Markdown reference on stdout.
pub fn docs(args: &[OsString], invocation: &cli::Invocation, env: &mut Env<'_>) -> Result<u8> {
    let command = cli::root_command().subcommand(
        clap::Command::new("docs")
            .about("Write a Markdown reference of an API to stdout")
            .disable_help_flag(true)
            .arg(clap::Arg::new("api").value_name("API").required(true)),
    );
    if let Err(clap_error) = command.try_get_matches_from(args) {
        return clap_outcome(clap_error, env);
    }
    let api = invocation.operation.as_deref().unwrap_or_default();
    let loaded = spec::load(
        api,
        invocation.definition.as_deref(),
        &places(env),
        &transport::fetch_text,
    )?;
    write_out(
        crate::docs::markdown(&loaded.api, &loaded.document).as_bytes(),
        env,
    )
}

/// `epilot definitions list|pull|add|remove`.
pub fn definitions(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    use clap::{Arg, ArgAction, Command};
    let command = cli::root_command().subcommand(
        Command::new("definitions")
            .about("Manage API definitions: list, pull from the catalog, add your own, remove")
            .disable_help_flag(true)
            .subcommand_required(true)
            .subcommand(
                Command::new("list")
                    .about("Show each API and where its definition comes from")
                    .disable_help_flag(true),
            )
            .subcommand(
                Command::new("pull")
                    .about("Download definitions from the catalog into the cache")
                    .disable_help_flag(true)
                    .arg(Arg::new("apis").value_name("API").num_args(0..))
                    .arg(
                        Arg::new("all")
                            .long("all")
                            .action(ArgAction::SetTrue)
                            .help("Pull every catalog API"),
                    ),
            )
            .subcommand(
                Command::new("add")
                    .about("Register a definition under a name")
                    .disable_help_flag(true)
                    .arg(Arg::new("name").required(true))
                    .arg(Arg::new("location").value_name("FILE|URL").required(true)),
            )
            .subcommand(
                Command::new("remove")
                    .about("Forget a registered or pulled definition")
                    .disable_help_flag(true)
                    .arg(Arg::new("name").required(true)),
            ),
    );
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    let places = places(env);
    let Some((_, definitions)) = matches.subcommand() else {
        return Ok(exit::USAGE);
    };
    let text =
        |m: &clap::ArgMatches, id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
    match definitions.subcommand() {
        Some(("list", _)) => write_out(crate::definitions::list(&places).as_bytes(), env),
        Some(("pull", m)) => {
            let names: Vec<String> = m
                .get_many::<String>("apis")
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            let catalog_url = (env.var)("EPILOT_CATALOG_URL")
                .unwrap_or_else(|| crate::catalog::DEFAULT_CATALOG_URL.into());
            let (report, all_ok) =
                crate::definitions::pull(&places, &names, m.get_flag("all"), &catalog_url)?;
            write_out(report.as_bytes(), env)?;
            Ok(if all_ok { exit::OK } else { exit::SPEC })
        }
        Some(("add", m)) => {
            let message = crate::definitions::add(&places, &text(m, "name"), &text(m, "location"))?;
            write_out(format!("{message}\n").as_bytes(), env)
        }
        Some(("remove", m)) => {
            let message = crate::definitions::remove(&places, &text(m, "name"))?;
            write_out(format!("{message}\n").as_bytes(), env)
        }
        _ => Ok(exit::USAGE),
    }
}

/// `epilot completion [<shell>] [--install]`.
pub fn completion(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    use crate::completion::scripts;
    use clap::{Arg, ArgAction, Command};
    let command = cli::root_command().subcommand(
        Command::new("completion")
            .about("Print or install the shell completion script")
            .disable_help_flag(true)
            .arg(Arg::new("shell").value_parser(["bash", "zsh", "fish", "powershell", "pwsh"]))
            .arg(
                Arg::new("install")
                    .long("install")
                    .action(ArgAction::SetTrue)
                    .help("Install it where the shell looks"),
            ),
    );
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    let Some((_, m)) = matches.subcommand() else {
        return Ok(exit::USAGE);
    };
    let named = m.get_one::<String>("shell").map(String::as_str);
    if m.get_flag("install") {
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
    let mut out = String::new();
    for candidate in crate::completion::candidates(&line, &places(env)) {
        out.push_str(&candidate);
        out.push('\n');
    }
    write_out(out.as_bytes(), env)
}
