//! The built-in commands beside the API calls: `docs`, `definitions`, `completion` (and the
//! completion engine the shell scripts call back), `auth` and `profile`.

pub mod completion;
pub mod definitions;
pub mod list;

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
        &places(env)?,
        &transport::fetch_text,
    )?;
    crate::app::print_notes(&loaded, env);
    write_out(
        crate::output::docs::markdown(&loaded.api, &loaded.document).as_bytes(),
        env,
    )
}

/// `epilot definitions list|pull|add|remove|allow|revoke`.
pub fn definitions(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    use clap::{Arg, ArgAction, Command};
    let command = cli::root_command().subcommand(
        Command::new("definitions")
            .about("Manage API definitions: list, pull from the catalog, add your own, remove, allow overrides")
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
            )
            .subcommand(
                Command::new("allow")
                    .about("Let override files in ./.epilot/overrides take effect (all when none is named)")
                    .disable_help_flag(true)
                    .arg(Arg::new("target").value_name("API|FILE"))
                    .arg(
                        Arg::new("list")
                            .long("list")
                            .action(ArgAction::SetTrue)
                            .conflicts_with("target")
                            .help("Show the allowed override files"),
                    ),
            )
            .subcommand(
                Command::new("revoke")
                    .about("Stop override files from taking effect (all here when none is named)")
                    .disable_help_flag(true)
                    .arg(Arg::new("target").value_name("API|FILE")),
            ),
    );
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    let places = places(env)?;
    let Some((_, definitions)) = matches.subcommand() else {
        return Ok(exit::USAGE);
    };
    let text =
        |m: &clap::ArgMatches, id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
    match definitions.subcommand() {
        Some(("list", _)) => write_out(crate::commands::definitions::list(&places).as_bytes(), env),
        Some(("pull", m)) => {
            let names: Vec<String> = m
                .get_many::<String>("apis")
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            let catalog_url = (env.var)("EPILOT_CATALOG_URL")
                .unwrap_or_else(|| crate::spec::catalog::DEFAULT_CATALOG_URL.into());
            let (report, all_ok) = crate::commands::definitions::pull(
                &places,
                &names,
                m.get_flag("all"),
                &catalog_url,
            )?;
            write_out(report.as_bytes(), env)?;
            Ok(if all_ok { exit::OK } else { exit::SPEC })
        }
        Some(("add", m)) => {
            let message =
                crate::commands::definitions::add(&places, &text(m, "name"), &text(m, "location"))?;
            write_out(format!("{message}\n").as_bytes(), env)
        }
        Some(("remove", m)) => {
            let message = crate::commands::definitions::remove(&places, &text(m, "name"))?;
            write_out(format!("{message}\n").as_bytes(), env)
        }
        Some(("allow", m)) if m.get_flag("list") => write_out(
            crate::commands::definitions::allowed_list(&places)?.as_bytes(),
            env,
        ),
        Some(("allow", m)) => {
            let target = m.get_one::<String>("target").map(String::as_str);
            write_out(
                crate::commands::definitions::allow(&places, target)?.as_bytes(),
                env,
            )
        }
        Some(("revoke", m)) => {
            let target = m.get_one::<String>("target").map(String::as_str);
            write_out(
                crate::commands::definitions::revoke(&places, target)?.as_bytes(),
                env,
            )
        }
        _ => Ok(exit::USAGE),
    }
}

/// `epilot completion [<shell>] [--install]`.
pub fn completion(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    use crate::commands::completion::scripts;
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

/// The credential store, saying where tokens go when it falls back to a file.
fn store(env: &mut Env<'_>) -> Result<Box<dyn crate::auth::credentials::Store>> {
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
pub fn auth(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
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

/// `epilot profile create|update|use|list|show|delete`.
pub fn profile(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
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
                    crate::auth::secret::mask(&t)
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
                        crate::auth::secret::mask(h.value.expose())
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
