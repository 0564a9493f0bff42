//! `epilot profile ...`: named sets of settings (organisation, hosts) with their own token.

use std::ffi::OsString;

use super::auth::store;
use super::clap_outcome;
use crate::cli;
use crate::env::{places, write_out, Env};
use crate::error::{exit, Result};

/// `epilot profile create|update|use|list|show|delete`.
pub fn run(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    use crate::error::Error;
    use crate::state::profiles::{Profile, Profiles};
    use clap::{Arg, Command};
    let named = |name: &'static str, about: &'static str| {
        Command::new(name)
            .about(about)
            .disable_help_flag(true)
            .arg(Arg::new("name").required(true))
    };
    let with_settings = |command: Command| {
        command.arg(
            Arg::new("org-id")
                .long("org-id")
                .value_name("ID")
                .help("Organisation, sent as x-epilot-org-id"),
        )
    };
    let command = cli::root_command().subcommand(
        Command::new("profile")
            .about("Named settings for several environments: server, organisation, headers, token")
            .disable_help_flag(true)
            .subcommand_required(true)
            .subcommand(with_settings(named("create", "Create a profile")))
            .subcommand(with_settings(named("update", "Change a profile")))
            .subcommand(named("use", "Make a profile the active one"))
            .subcommand(
                Command::new("list")
                    .about("List the profiles")
                    .disable_help_flag(true),
            )
            .subcommand(named("show", "Show a profile (its token masked)"))
            .subcommand(named("delete", "Delete a profile and its stored token")),
    );
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    let places = places(env)?;
    let Some((_, profile_matches)) = matches.subcommand() else {
        return Ok(exit::USAGE);
    };
    let Some((action, m)) = profile_matches.subcommand() else {
        return Ok(exit::USAGE);
    };
    let options = cli::Options::from_matches(m);
    let name = m
        .try_get_one::<String>("name")
        .ok()
        .flatten()
        .cloned()
        .unwrap_or_default();
    let message = match action {
        "create" | "update" => {
            crate::state::paths::check_name("profile", &name)?;
            // Checked and changed under the lock, so parallel creates all land.
            Profiles::update(&places, |profiles| {
                match (action, profiles.profiles.contains_key(&name)) {
                    ("create", true) => {
                        return Err(Error::usage(format!("profile `{name}` exists")).with_help(
                            format!("change it with `epilot profile update {name} ...`"),
                        ))
                    }
                    ("update", false) => return Err(profiles.get(&name).unwrap_err()),
                    _ => {}
                }
                if let Some(server) = &options.server {
                    crate::request::base_url(
                        &[],
                        Some(server),
                        &crate::spec::Origin::Bundled(String::new()),
                    )?;
                }
                for header in &options.headers {
                    crate::request::parse_header(header)?;
                }
                let entry = profiles
                    .profiles
                    .entry(name.clone())
                    .or_insert_with(Profile::default);
                if options.server.is_some() {
                    entry.server = options.server.clone();
                }
                if let Some(org) = m.get_one::<String>("org-id") {
                    entry.org_id = Some(org.clone());
                }
                entry.headers.extend(options.headers.iter().cloned());
                if profiles.active.is_none() {
                    profiles.active = Some(name.clone());
                }
                Ok(())
            })?;
            if let Some(token) = &options.token {
                store(env)?.set(
                    &crate::auth::credentials::account(Some(&name)),
                    token.trim(),
                )?;
            }
            format!(
                "{} profile `{name}`",
                if action == "create" {
                    "created"
                } else {
                    "updated"
                }
            )
        }
        "use" => {
            Profiles::update(&places, |profiles| {
                profiles.get(&name)?;
                profiles.active = Some(name.clone());
                Ok(())
            })?;
            format!("profile `{name}` is now active")
        }
        "list" => {
            let profiles = Profiles::load(&places)?;
            if profiles.profiles.is_empty() {
                "no profiles yet: `epilot profile create <name> --server URL`".to_string()
            } else {
                profiles
                    .profiles
                    .iter()
                    .map(|(n, p)| {
                        let mark = if profiles.active.as_deref() == Some(n) {
                            "*"
                        } else {
                            " "
                        };
                        format!(
                            "{mark} {n}  {}",
                            p.server.as_deref().unwrap_or("(the document's server)")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
        "show" => {
            let profiles = Profiles::load(&places)?;
            let (_, p) = profiles.get(&name)?;
            let token = store(env)?
                .get(&crate::auth::credentials::account(Some(&name)))?
                .map_or("(none stored)".to_string(), |t| {
                    crate::request::secret::mask(&t)
                });
            let mut lines = vec![
                format!(
                    "profile: {name}{}",
                    if profiles.active.as_deref() == Some(&name) {
                        " (active)"
                    } else {
                        ""
                    }
                ),
                format!(
                    "server: {}",
                    p.server.as_deref().unwrap_or("(the document's server)")
                ),
                format!("organisation: {}", p.org_id.as_deref().unwrap_or("(none)")),
                format!("token: {token}"),
            ];
            lines.extend(p.headers.iter().map(|h| {
                let header = crate::request::parse_header(h);
                match header {
                    Ok(h) if crate::request::is_sensitive(&h.name) => format!(
                        "header: {}: {}",
                        h.name,
                        crate::request::secret::mask(h.value.expose())
                    ),
                    _ => format!("header: {h}"),
                }
            }));
            lines.join("\n")
        }
        "delete" => {
            Profiles::update(&places, |profiles| {
                profiles.get(&name)?;
                profiles.profiles.remove(&name);
                if profiles.active.as_deref() == Some(&name) {
                    profiles.active = None;
                }
                Ok(())
            })?;
            let _ = store(env)?.delete(&crate::auth::credentials::account(Some(&name)));
            format!("deleted profile `{name}` and its stored token")
        }
        _ => return Ok(exit::USAGE),
    };
    write_out(format!("{message}\n").as_bytes(), env)
}
