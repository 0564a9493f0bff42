//! `epilot auth login|token|status|logout`: the tokens epilot sends, per profile.

use std::ffi::OsString;

use super::clap_outcome;
use crate::cli;
use crate::env::{places, write_out, Env};
use crate::error::{exit, Result};

/// The credential store, saying where tokens go when it falls back to a file.
pub(super) fn store(env: &mut Env<'_>) -> Result<Box<dyn crate::auth::credentials::Store>> {
    let settings = crate::auth::credentials::Settings::from_env(env.var)?;
    let places = places(env)?;
    let stderr = &mut *env.stderr;
    crate::auth::credentials::open(&places, settings, &mut |notice| {
        let _ = writeln!(stderr, "note: {notice}");
    })
}

/// The profile named by --profile / EPILOT_PROFILE / the active one, if any.
fn selected_profile(profile_flag: Option<&str>, env: &Env<'_>) -> Result<Option<String>> {
    let profiles = crate::state::profiles::Profiles::load(&places(env)?)?;
    let from_env = (env.var)("EPILOT_PROFILE");
    Ok(profiles
        .select(profile_flag, from_env.as_deref())?
        .map(|(name, _)| name.to_string()))
}

/// Stores `value` as the token of `account` and says where it went and when it expires.
fn store_token(env: &mut Env<'_>, account: &str, whose: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(crate::error::Error::usage(
            "that is not a token: it is empty or contains spaces",
        ));
    }
    let store = store(env)?;
    store.set(account, value)?;
    let expiry = crate::auth::expiry(value)
        .map(|exp| format!("; it expires {}", crate::auth::iso8601(exp)))
        .unwrap_or_default();
    Ok(format!(
        "stored the token for {whose} in {}{expiry}\n",
        store.describe()
    ))
}

/// `epilot auth login|token|status|logout`.
pub fn run(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    use clap::{Arg, Command};
    let command = cli::root_command().subcommand(
        Command::new("auth")
            .about("Store, inspect and remove the token used for requests")
            .disable_help_flag(true)
            .subcommand_required(true)
            .subcommand(
                Command::new("token")
                    .about("Store a token (read from stdin when not given)")
                    .disable_help_flag(true)
                    .arg(Arg::new("value").value_name("TOKEN")),
            )
            .subcommand(
                Command::new("login")
                    .about("Log in through the epilot portal in the browser (or with --token)")
                    .disable_help_flag(true)
                    .arg(
                        Arg::new("readonly")
                            .long("readonly")
                            .action(clap::ArgAction::SetTrue)
                            .help("Ask for a read-only token"),
                    )
                    .arg(
                        Arg::new("anonymize")
                            .long("anonymize")
                            .action(clap::ArgAction::SetTrue)
                            .help("Ask for an anonymised session"),
                    ),
            )
            .subcommand(
                Command::new("status")
                    .about("Show which token is in force, never the token")
                    .disable_help_flag(true),
            )
            .subcommand(
                Command::new("logout")
                    .about("Remove the stored token")
                    .disable_help_flag(true),
            ),
    );
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    let options = cli::Options::from_matches(cli::innermost(&matches));
    let profile = selected_profile(options.profile.as_deref(), env)?;
    let account = crate::auth::credentials::account(profile.as_deref());
    let whose = profile
        .as_ref()
        .map_or("the default credentials".to_string(), |p| {
            format!("profile `{p}`")
        });
    let Some((_, auth)) = matches.subcommand() else {
        return Ok(exit::USAGE);
    };
    match auth.subcommand() {
        Some(("token", m)) => {
            let value = match m.get_one::<String>("value") {
                Some(value) => value.clone(),
                None if env.terminal.stdin => {
                    return Err(crate::error::Error::usage("no token given")
                        .with_help("pass it as an argument, or pipe it: `printf %s \"$TOKEN\" | epilot auth token`"))
                }
                None => {
                    let mut text = String::new();
                    std::io::Read::read_to_string(env.stdin, &mut text)
                        .map_err(|e| crate::error::Error::usage(format!("cannot read the token from stdin: {e}")))?;
                    text
                }
            };
            let message = store_token(env, &account, &whose, &value)?;
            write_out(message.as_bytes(), env)
        }
        Some(("login", m)) => {
            if let Some(token) = &options.token {
                let message = store_token(env, &account, &whose, token)?;
                return write_out(message.as_bytes(), env);
            }
            if !(env.terminal.stdin && env.terminal.stdout) {
                return Err(crate::error::Error::usage("`auth login` needs a terminal: it opens a browser and waits for you")
                    .with_help("store a token instead: `epilot auth token <token>`, or `printf %s \"$TOKEN\" | epilot auth token`"));
            }
            let flow = crate::auth::login::start(m.get_flag("readonly"), m.get_flag("anonymize"))?;
            let _ = writeln!(
                env.stderr,
                "Log in to epilot in your browser:\n  {}\nVerification code: {} (the portal shows the same)",
                flow.url, flow.code
            );
            if !crate::auth::login::open_browser(&flow.url, (env.var)("BROWSER").as_deref()) {
                let _ = writeln!(
                    env.stderr,
                    "(no browser could be opened: open the address above yourself)"
                );
            }
            let limit = options
                .timeout
                .map(std::time::Duration::from_secs_f64)
                .unwrap_or(std::time::Duration::from_secs(300));
            let login = crate::auth::login::wait(flow, limit, true)?;
            let mut message = store_token(env, &account, &whose, &login.token)?;
            if let Some(name) = &login.name {
                let org = login
                    .org_id
                    .as_deref()
                    .map(|o| format!(" in organisation {o}"))
                    .unwrap_or_default();
                message = format!("logged in as {name}{org}\n{message}");
            }
            write_out(message.as_bytes(), env)
        }
        Some(("status", _)) => {
            let mut lines = vec![format!(
                "profile: {}",
                profile.as_deref().unwrap_or("(none)")
            )];
            let resolved = crate::auth::resolve(
                options.token.as_deref(),
                (env.var)("EPILOT_TOKEN").as_deref(),
                profile.as_deref(),
                &mut || store(env),
            )?;
            match resolved {
                None => {
                    lines.push("token: none (store one with `epilot auth token <token>`)".into())
                }
                Some((token, source)) => {
                    lines.push(format!("token: from {}", source.describe()));
                    let claims = crate::auth::claims(token.value.expose()).unwrap_or_default();
                    let claim = |keys: &[&str]| {
                        keys.iter().find_map(|k| {
                            claims.get(*k).and_then(|v| v.as_str().map(str::to_string))
                        })
                    };
                    if let Some(org) = claim(&[
                        "org_id",
                        "organization_id",
                        "custom:ivy_org_id",
                        "custom:organization_id",
                    ]) {
                        lines.push(format!("organisation: {org}"));
                    }
                    if let Some(user) = claim(&["email", "username", "cognito:username", "sub"]) {
                        lines.push(format!("user: {user}"));
                    }
                    match crate::auth::expiry(token.value.expose()) {
                        Some(exp) if exp <= crate::auth::now() => {
                            lines.push(format!("expiry: expired {}", crate::auth::iso8601(exp)))
                        }
                        Some(exp) => lines.push(format!("expiry: {}", crate::auth::iso8601(exp))),
                        None => lines.push("expiry: unknown (not a JWT with `exp`)".into()),
                    }
                }
            }
            write_out(format!("{}\n", lines.join("\n")).as_bytes(), env)
        }
        Some(("logout", _)) => {
            let removed = store(env)?.delete(&account)?;
            let message = if removed {
                format!("removed the stored token of {whose}")
            } else {
                format!("{whose} had no stored token")
            };
            write_out(format!("{message}\n").as_bytes(), env)
        }
        _ => Ok(exit::USAGE),
    }
}
