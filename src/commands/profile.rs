//! `epilot profile ...`: named sets of settings (organisation, hosts) with their own token.
//! One module per subcommand, each with its `cli()` and `exec()`.

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::auth::store;
use super::registry::{Builtin, Exec};
use crate::env::{places, write_out, Env};
use crate::error::{Error, Result};
use crate::state::paths::Places;
use crate::state::profiles::{Profile, Profiles};

pub(super) const BUILTIN: Builtin = Builtin {
    name: "profile",
    synopsis: "profile create|use|list|show|...",
    cli,
    exec: Exec::Group(&[
        create::BUILTIN,
        update::BUILTIN,
        use_::BUILTIN,
        list::BUILTIN,
        show::BUILTIN,
        delete::BUILTIN,
    ]),
    values: None,
};

fn cli() -> Command {
    Command::new("profile")
        .about("Settings for several environments: server, organisation, headers, token")
        .after_help(
            "Examples:\n  epilot profile create staging --server https://staging.example --org-id 123\n  \
             epilot profile use staging",
        )
}

/// The names of the saved profiles, for completion.
pub(crate) fn names(places: &Places) -> Vec<String> {
    Profiles::load(places)
        .map(|p| p.profiles.into_keys().collect())
        .unwrap_or_default()
}

fn name_arg() -> Arg {
    Arg::new("name")
        .value_name("NAME")
        .required(true)
        .help("The profile's name (letters, digits, `-`, `_`, `.`)")
}

fn name_of(m: &ArgMatches) -> String {
    m.get_one::<String>("name").cloned().unwrap_or_default()
}

/// The settings `create` and `update` take.
fn with_settings(command: Command) -> Command {
    command
        .arg(name_arg())
        .arg(
            Arg::new("server")
                .short('s')
                .long("server")
                .value_name("URL")
                .help("Base URL of the API server for this profile"),
        )
        .arg(
            Arg::new("org-id")
                .long("org-id")
                .value_name("ID")
                .help("Organisation, sent as x-epilot-org-id"),
        )
        .arg(
            Arg::new("header")
                .short('H')
                .long("header")
                .value_name("KEY: VALUE")
                .action(ArgAction::Append)
                .help("A header sent with every request (repeatable)"),
        )
        .arg(
            Arg::new("token")
                .short('t')
                .long("token")
                .value_name("TOKEN")
                .help("Store this token for the profile"),
        )
}

/// What `create` or `update` changes, read from the command line and checked before any
/// file is touched.
struct Settings {
    server: Option<String>,
    org_id: Option<String>,
    headers: Vec<String>,
    token: Option<String>,
}

impl Settings {
    fn from_matches(m: &ArgMatches) -> Result<Settings> {
        let settings = Settings {
            server: m.get_one::<String>("server").cloned(),
            org_id: m.get_one::<String>("org-id").cloned(),
            headers: m
                .get_many::<String>("header")
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
            token: m.get_one::<String>("token").map(|t| t.trim().to_string()),
        };
        if let Some(server) = &settings.server {
            crate::request::base_url(
                &[],
                Some(server),
                &crate::spec::Origin::Bundled(String::new()),
            )?;
        }
        for header in &settings.headers {
            crate::request::parse_header(header)?;
        }
        if let Some(token) = &settings.token {
            super::auth::check_token(token)?;
        }
        Ok(settings)
    }

    fn apply(&self, profile: &mut Profile) {
        if self.server.is_some() {
            profile.server = self.server.clone();
        }
        if self.org_id.is_some() {
            profile.org_id = self.org_id.clone();
        }
        profile.headers.extend(self.headers.iter().cloned());
    }
}

/// Creates or changes profile `name` under the profiles lock. The token is stored first,
/// under the same lock, so a profile never exists without the token it was given and no
/// `profile delete` can slip in between; a new profile given no token has none, so it can
/// never inherit one left behind by an earlier profile of that name.
fn save(m: &ArgMatches, env: &mut Env<'_>, creating: bool) -> Result<String> {
    let name = name_of(m);
    crate::state::paths::check_name("profile", &name)?;
    let settings = Settings::from_matches(m)?;
    let places = places(env)?;
    super::check_stdout(env)?;
    Profiles::update(&places, |profiles| {
        match (creating, profiles.profiles.contains_key(&name)) {
            (true, true) => {
                return Err(Error::usage(format!("profile `{name}` exists"))
                    .with_help(format!("change it with `epilot profile update {name} ...`")))
            }
            (false, false) => return Err(profiles.get(&name).unwrap_err()),
            _ => {}
        }
        let account = crate::auth::credentials::account(Some(&name));
        match &settings.token {
            Some(token) => store(env)?.set(&account, token)?,
            // A new profile starts without a token, whatever an earlier one of that name left.
            None if creating => {
                store(env)?.delete(&account)?;
            }
            None => {}
        }
        settings.apply(profiles.profiles.entry(name.clone()).or_default());
        if profiles.active.is_none() {
            profiles.active = Some(name.clone());
        }
        Ok(())
    })?;
    let done = if creating { "created" } else { "updated" };
    Ok(format!("{done} profile `{name}`\n"))
}

mod create {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "create",
        synopsis: "create <name>",
        cli,
        exec: Exec::Run(exec),
        values: None,
    };

    fn cli() -> Command {
        with_settings(Command::new("create").about("Create a profile (the first becomes active)"))
            .after_help(
                "Examples:\n  epilot profile create staging --server https://staging.example --org-id 123\n  \
                 epilot profile create prod --token \"$TOKEN\" -H 'x-team: billing'",
            )
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let message = save(m, env, true)?;
        write_out(message.as_bytes(), env)
    }
}

mod update {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "update",
        synopsis: "update <name>",
        cli,
        exec: Exec::Run(exec),
        values: Some(names),
    };

    fn cli() -> Command {
        with_settings(
            Command::new("update")
                .about("Change a profile: set its server, organisation or token, add headers"),
        )
        .after_help("Example:\n  epilot profile update staging --org-id 456")
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let message = save(m, env, false)?;
        write_out(message.as_bytes(), env)
    }
}

mod use_ {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "use",
        synopsis: "use <name>",
        cli,
        exec: Exec::Run(exec),
        values: Some(names),
    };

    fn cli() -> Command {
        Command::new("use")
            .about("Make a profile the active one")
            .arg(name_arg())
            .after_help("Example:\n  epilot profile use staging")
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let name = name_of(m);
        let places = places(env)?;
        super::super::check_stdout(env)?;
        Profiles::update(&places, |profiles| {
            profiles.get(&name)?;
            profiles.active = Some(name.clone());
            Ok(())
        })?;
        write_out(format!("profile `{name}` is now active\n").as_bytes(), env)
    }
}

mod list {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "list",
        synopsis: "list",
        cli,
        exec: Exec::Run(exec),
        values: None,
    };

    fn cli() -> Command {
        Command::new("list")
            .about("List the profiles, the active one marked with *")
            .after_help("Example:\n  epilot profile list")
    }

    fn exec(_: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let profiles = Profiles::load(&places(env)?)?;
        if profiles.profiles.is_empty() {
            return write_out(
                b"no profiles yet: `epilot profile create <name> --server URL`\n",
                env,
            );
        }
        let mut out = String::new();
        for (name, profile) in &profiles.profiles {
            let mark = if profiles.active.as_deref() == Some(name) {
                "*"
            } else {
                " "
            };
            let server = profile
                .server
                .as_deref()
                .unwrap_or("(the document's server)");
            out.push_str(&format!("{mark} {name}  {server}\n"));
        }
        write_out(out.as_bytes(), env)
    }
}

mod show {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "show",
        synopsis: "show <name>",
        cli,
        exec: Exec::Run(exec),
        values: Some(names),
    };

    fn cli() -> Command {
        Command::new("show")
            .about("Show a profile's settings (its token and secret headers masked)")
            .arg(name_arg())
            .after_help("Example:\n  epilot profile show staging")
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let name = name_of(m);
        let profiles = Profiles::load(&places(env)?)?;
        let (_, profile) = profiles.get(&name)?;
        let token = store(env)?
            .get(&crate::auth::credentials::account(Some(&name)))?
            .map_or("(none stored)".to_string(), |t| {
                crate::request::secret::mask(&t)
            });
        let active = if profiles.active.as_deref() == Some(&name) {
            " (active)"
        } else {
            ""
        };
        let mut lines = vec![
            format!("profile: {name}{active}"),
            format!(
                "server: {}",
                profile
                    .server
                    .as_deref()
                    .unwrap_or("(the document's server)")
            ),
            format!(
                "organisation: {}",
                profile.org_id.as_deref().unwrap_or("(none)")
            ),
            format!("token: {token}"),
        ];
        lines.extend(profile.headers.iter().map(|h| shown_header(h)));
        write_out(format!("{}\n", lines.join("\n")).as_bytes(), env)
    }

    /// A saved header as `profile show` prints it: the value masked, as every profile
    /// header is a secret whatever its name (README "Where a token may go").
    fn shown_header(text: &str) -> String {
        match crate::request::parse_header(text) {
            Ok(h) => format!(
                "header: {}: {}",
                h.name,
                crate::request::secret::mask(h.value.expose())
            ),
            // Hand-edited and unreadable: its value is still not shown.
            Err(_) => format!(
                "header: {}: *** (not a valid header)",
                crate::text::escape_controls(text.split(':').next().unwrap_or_default())
            ),
        }
    }
}

mod delete {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "delete",
        synopsis: "delete <name>",
        cli,
        exec: Exec::Run(exec),
        values: Some(names),
    };

    fn cli() -> Command {
        Command::new("delete")
            .about("Delete a profile and its stored token")
            .arg(name_arg())
            .after_help("Example:\n  epilot profile delete staging")
    }

    /// The token goes under the profiles lock, before the profile: an `auth token --profile`
    /// racing with this either lands before (and is deleted) or finds no profile.
    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let name = name_of(m);
        let places = places(env)?;
        super::super::check_stdout(env)?;
        Profiles::update(&places, |profiles| {
            profiles.get(&name)?;
            store(env)?.delete(&crate::auth::credentials::account(Some(&name)))?;
            profiles.profiles.remove(&name);
            if profiles.active.as_deref() == Some(&name) {
                profiles.active = None;
            }
            Ok(())
        })?;
        write_out(
            format!("deleted profile `{name}` and its stored token\n").as_bytes(),
            env,
        )
    }
}
