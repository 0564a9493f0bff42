//! `epilot auth login|token|status|logout`: the tokens epilot sends, per profile.
//! One module per subcommand, each with its `cli()` and `exec()`.

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::registry::{Builtin, Exec};
use crate::env::{places, write_out, Env};
use crate::error::{Error, Result};
use crate::state::profiles::Profiles;

pub(super) const BUILTIN: Builtin = Builtin {
    name: "auth",
    synopsis: "auth login|token|status|logout",
    cli,
    exec: Exec::Group(&[
        login::BUILTIN,
        token::BUILTIN,
        status::BUILTIN,
        logout::BUILTIN,
    ]),
    values: None,
};

fn cli() -> Command {
    // Global, so `--profile` may stand anywhere on the line, as it may for an API call.
    Command::new("auth")
        .about("Log in, inspect and remove the token for requests; one per profile")
        .arg(profile_arg().global(true))
        .after_help(
            "Examples:\n  epilot auth login\n  printf %s \"$TOKEN\" | epilot auth token --profile staging",
        )
}

/// The credential store, saying where tokens go when it falls back to a file.
pub(super) fn store(env: &mut Env<'_>) -> Result<Box<dyn crate::auth::credentials::Store>> {
    let settings = crate::auth::credentials::Settings::from_env(env.var)?;
    let places = places(env)?;
    let stderr = &mut *env.stderr;
    crate::auth::credentials::open(&places, settings, &mut |notice| {
        let _ = writeln!(stderr, "note: {notice}");
    })
}

/// Refuses what cannot be a token before anything is stored.
pub(super) fn check_token(value: &str) -> Result<()> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(Error::usage(
            "that is not a token: it is empty or contains spaces",
        ));
    }
    Ok(())
}

fn profile_arg() -> Arg {
    Arg::new("profile")
        .long("profile")
        .value_name("NAME")
        .help("The profile whose token this is [default: EPILOT_PROFILE, then the active one]")
}

/// Whose token a command works on: the profile named by --profile / EPILOT_PROFILE / the
/// active one, or the default credentials.
struct Whose {
    profile: Option<String>,
}

impl Whose {
    fn from_matches(m: &ArgMatches, env: &Env<'_>) -> Result<Whose> {
        let profiles = Profiles::load(&places(env)?)?;
        let from_env = (env.var)("EPILOT_PROFILE");
        let flag = m.get_one::<String>("profile").map(String::as_str);
        let profile = profiles
            .select(flag, from_env.as_deref())?
            .map(|(name, _)| name.to_string());
        Ok(Whose { profile })
    }

    fn account(&self) -> String {
        crate::auth::credentials::account(self.profile.as_deref())
    }

    fn describe(&self) -> String {
        self.profile
            .as_ref()
            .map_or("the default credentials".to_string(), |p| {
                format!("profile `{p}`")
            })
    }

    /// Runs `change` on the credential store; for a profile, under the profiles lock and only
    /// while the profile exists, so a racing `profile delete` cannot leave an orphan token.
    fn locked<T>(
        &self,
        env: &mut Env<'_>,
        change: impl FnOnce(&dyn crate::auth::credentials::Store) -> Result<T>,
    ) -> Result<T> {
        super::check_stdout(env)?;
        let Some(name) = &self.profile else {
            return change(store(env)?.as_ref());
        };
        Profiles::update(&places(env)?, |profiles| {
            profiles.get(name)?;
            change(store(env)?.as_ref())
        })
    }

    /// Stores `value` and says where it went and when it expires.
    fn store_token(&self, env: &mut Env<'_>, value: &str) -> Result<String> {
        let value = value.trim();
        check_token(value)?;
        let account = self.account();
        let place = self.locked(env, |store| {
            store.set(&account, value)?;
            Ok(store.describe())
        })?;
        let expiry = crate::auth::expiry(value)
            .map(|exp| format!("; it expires {}", crate::auth::iso8601(exp)))
            .unwrap_or_default();
        Ok(format!(
            "stored the token for {} in {place}{expiry}\n",
            self.describe()
        ))
    }
}

mod token {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "token",
        synopsis: "token [<token>]",
        cli,
        exec: Exec::Run(exec),
        values: None,
    };

    fn cli() -> Command {
        Command::new("token")
            .about("Store a token (read from stdin when not given)")
            .arg(
                Arg::new("value")
                    .value_name("TOKEN")
                    .help("The token; prefer stdin, which keeps it out of the shell history"),
            )
            .after_help(
                "Examples:\n  printf %s \"$TOKEN\" | epilot auth token\n  epilot auth token \"$TOKEN\" --profile staging",
            )
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let whose = Whose::from_matches(m, env)?;
        let value = match m.get_one::<String>("value") {
            Some(value) => value.clone(),
            None => read_stdin(env)?,
        };
        let message = whose.store_token(env, &value)?;
        write_out(message.as_bytes(), env)
    }

    fn read_stdin(env: &mut Env<'_>) -> Result<String> {
        if env.terminal.stdin {
            return Err(Error::usage("no token given").with_help(
                "pass it as an argument, or pipe it: `printf %s \"$TOKEN\" | epilot auth token`",
            ));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(env.stdin, &mut text)
            .map_err(|e| Error::usage(format!("cannot read the token from stdin: {e}")))?;
        Ok(text)
    }
}

mod login {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "login",
        synopsis: "login",
        cli,
        exec: Exec::Run(exec),
        values: None,
    };

    fn cli() -> Command {
        let switch = |id: &'static str, help: &'static str| {
            Arg::new(id).long(id).action(ArgAction::SetTrue).help(help)
        };
        Command::new("login")
            .about("Log in through the epilot portal in the browser (or store --token)")
            .arg(switch("readonly", "Ask for a read-only token"))
            .arg(switch("anonymize", "Ask for an anonymised session"))
            .arg(
                Arg::new("token")
                    .short('t')
                    .long("token")
                    .value_name("TOKEN")
                    .help("Store this token instead of opening the browser"),
            )
            .arg(
                Arg::new("timeout")
                    .long("timeout")
                    .value_name("SECONDS")
                    .value_parser(clap::value_parser!(u32).range(1..=86_400))
                    .help("How long to wait for the browser login (default 300)"),
            )
            .after_help(
                "Examples:\n  epilot auth login\n  epilot auth login --profile staging --readonly",
            )
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let whose = Whose::from_matches(m, env)?;
        if let Some(token) = m.get_one::<String>("token") {
            let message = whose.store_token(env, token)?;
            return write_out(message.as_bytes(), env);
        }
        if !(env.terminal.stdin && env.terminal.stdout) {
            return Err(Error::usage("`auth login` needs a terminal: it opens a browser and waits for you")
                .with_help("store a token instead: `epilot auth token <token>`, or `printf %s \"$TOKEN\" | epilot auth token`"));
        }
        let login = browser_login(m, env)?;
        let mut message = whose.store_token(env, &login.token)?;
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

    fn browser_login(m: &ArgMatches, env: &mut Env<'_>) -> Result<crate::auth::login::Login> {
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
        let seconds = m.get_one::<u32>("timeout").copied().unwrap_or(300);
        crate::auth::login::wait(flow, std::time::Duration::from_secs(seconds.into()), true)
    }
}

mod status {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "status",
        synopsis: "status",
        cli,
        exec: Exec::Run(exec),
        values: None,
    };

    fn cli() -> Command {
        Command::new("status")
            .about("Show which token is in force and whose it is, never the token")
            .arg(
                Arg::new("token")
                    .short('t')
                    .long("token")
                    .value_name("TOKEN")
                    .help("Describe this token instead of the stored one"),
            )
            .after_help("Example:\n  epilot auth status --profile staging")
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let whose = Whose::from_matches(m, env)?;
        let mut lines = vec![format!(
            "profile: {}",
            whose.profile.as_deref().unwrap_or("(none)")
        )];
        let resolved = crate::auth::resolve(
            m.get_one::<String>("token").map(String::as_str),
            (env.var)("EPILOT_TOKEN").as_deref(),
            whose.profile.as_deref(),
            &mut || store(env),
        )?;
        match resolved {
            None => lines.push("token: none (store one with `epilot auth token <token>`)".into()),
            Some((token, source)) => {
                lines.push(format!("token: from {}", source.describe()));
                lines.extend(describe(token.value.expose()));
            }
        }
        write_out(format!("{}\n", lines.join("\n")).as_bytes(), env)
    }

    /// Organisation, user and expiry, as far as the token says.
    fn describe(token: &str) -> Vec<String> {
        let claims = crate::auth::claims(token).unwrap_or_default();
        let claim = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| claims.get(*k).and_then(|v| v.as_str().map(str::to_string)))
        };
        let mut lines = Vec::new();
        let org_keys = [
            "org_id",
            "organization_id",
            "custom:ivy_org_id",
            "custom:organization_id",
        ];
        if let Some(org) = claim(&org_keys) {
            lines.push(format!("organisation: {org}"));
        }
        if let Some(user) = claim(&["email", "username", "cognito:username", "sub"]) {
            lines.push(format!("user: {user}"));
        }
        lines.push(match crate::auth::expiry(token) {
            Some(exp) if exp <= crate::auth::now() => {
                format!("expiry: expired {}", crate::auth::iso8601(exp))
            }
            Some(exp) => format!("expiry: {}", crate::auth::iso8601(exp)),
            None => "expiry: unknown (not a JWT with `exp`)".into(),
        });
        lines
    }
}

mod logout {
    use super::*;

    pub(super) const BUILTIN: Builtin = Builtin {
        name: "logout",
        synopsis: "logout",
        cli,
        exec: Exec::Run(exec),
        values: None,
    };

    fn cli() -> Command {
        Command::new("logout")
            .about("Remove the stored token")
            .after_help("Examples:\n  epilot auth logout\n  epilot auth logout --profile staging")
    }

    fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let whose = Whose::from_matches(m, env)?;
        let account = whose.account();
        let removed = whose.locked(env, |store| store.delete(&account))?;
        let message = if removed {
            format!("removed the stored token of {}\n", whose.describe())
        } else {
            format!("{} had no stored token\n", whose.describe())
        };
        write_out(message.as_bytes(), env)
    }
}
