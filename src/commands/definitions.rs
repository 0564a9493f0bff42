//! `epilot definitions list|pull|add|remove`: which API definitions this machine has, and
//! getting more of them without a new release. A pulled or registered document is checked
//! before it is kept, and a broken one never affects other APIs: documents are read only when
//! their API is used.

use clap::{Arg, ArgAction, ArgMatches, Command};

use std::fmt::Write as _;
use std::path::Path;

use super::registry::{Builtin, Exec};
use crate::env::{places, write_out, Env};
use crate::error::{exit, Error, Result};
use crate::spec::catalog::{self, Availability, CacheMeta, Registry};
use crate::spec::overrides::{self, Found};
use crate::spec::{self, source, Origin};
use crate::state::paths::{check_name, write_atomically, Places};
use crate::transport::{self, Fetched};

/// `definitions list`: every known API and where its document comes from.
pub fn list(places: &Places) -> String {
    let registry = Registry::load(places);
    let names = catalog::all_names(&registry);
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let mut out = String::new();
    for name in &names {
        let availability = catalog::availability(places, &registry, name);
        let detail = match &availability {
            Availability::Override(path)
            | Availability::Registered(path)
            | Availability::Cached(path) => {
                format!("  {}", path.display())
            }
            Availability::Bundled | Availability::NotYetAvailable => String::new(),
        };
        let _ = writeln!(out, "{name:<width$}  {}{detail}", availability.label());
    }
    let missing = names
        .iter()
        .filter(|n| !catalog::availability(places, &registry, n).is_available())
        .count();
    if missing > 0 {
        let _ = writeln!(out, "\n{missing} not yet available: `epilot definitions pull <api>` or `--all` downloads them.");
    }
    for name in overrides::names_here() {
        match override_note(places, &name) {
            Ok(None) => {}
            Ok(Some(note)) => {
                let _ = writeln!(out, "{note}");
            }
            Err(error) => {
                let _ = writeln!(out, "note: {}", error.message);
            }
        }
    }
    if let Err(error) = Registry::read(places) {
        let _ = writeln!(out, "note: {}", error.message);
    }
    out
}

/// What to say about the override of `name` here when it is not in force.
fn override_note(places: &Places, name: &str) -> Result<Option<String>> {
    let Some(found) = overrides::find(name)? else {
        return Ok(None);
    };
    Ok(match overrides::standing(places, &found)? {
        overrides::Standing::Allowed => None,
        standing => Some(overrides::ignored_note(name, &found, standing)),
    })
}

/// Checks that `text` is an OpenAPI document the CLI can list.
fn check(name: &str, text: &str, origin: &Origin) -> Result<usize> {
    let mut document = source::parse_document(text, origin)?;
    spec::normalize::normalize(&mut document);
    let api = spec::index::index(name, &document);
    Ok(api.operations.len())
}

/// Downloads `url` into the cache as `name`, revalidating with the stored ETag/Last-Modified.
/// Returns a line saying what happened.
fn download(places: &Places, name: &str, url: &str) -> Result<String> {
    let meta_path = catalog::cached_meta(places, name)?;
    let spec_path = catalog::cached_spec(places, name)?;
    let known: CacheMeta = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|m: &CacheMeta| m.url == url && spec_path.is_file())
        .unwrap_or_default();
    match transport::fetch_revalidating(url, known.etag.as_deref(), known.last_modified.as_deref())?
    {
        Fetched::NotModified => Ok(format!("{name}: unchanged (kept the cached copy)")),
        Fetched::Fresh {
            text,
            etag,
            last_modified,
        } => {
            let operations = check(name, &text, &Origin::Url(url.to_string())).map_err(|e| {
                e.context(format!("{name}: the downloaded definition was not kept"))
            })?;
            crate::state::paths::own_folder(&places.cache_dir, false)?;
            crate::state::paths::own_folder(&places.definitions_cache(), false)?;
            write_atomically(&spec_path, text.as_bytes(), false)?;
            let meta = CacheMeta {
                url: url.to_string(),
                etag,
                last_modified,
            };
            write_atomically(
                &meta_path,
                &serde_json::to_vec_pretty(&meta).expect("serialises"),
                false,
            )?;
            Ok(format!("{name}: downloaded ({operations} operations)"))
        }
    }
}

/// `definitions pull <api>...|--all`: one line per API; failures are collected so one bad
/// download does not stop the others.
pub fn pull(
    places: &Places,
    names: &[String],
    all: bool,
    catalog_url: &str,
) -> Result<(String, bool)> {
    let registry = Registry::load(places);
    let wanted: Vec<String> = if all {
        catalog::all_names(&registry)
            .into_iter()
            .filter(|n| {
                catalog::KNOWN_APIS.contains(&n.as_str())
                    || registry
                        .definitions
                        .get(n)
                        .is_some_and(|l| source::is_url(l))
            })
            .collect()
    } else {
        for name in names {
            check_name("API", name)?;
        }
        names.to_vec()
    };
    if wanted.is_empty() {
        return Err(Error::usage("name the APIs to pull, or pass --all")
            .with_help("e.g. epilot definitions pull entity"));
    }
    let mut report = String::new();
    let mut all_ok = true;
    for name in &wanted {
        let url = match registry.definitions.get(name) {
            Some(location) if source::is_url(location) => location.clone(),
            Some(location) => {
                let _ = writeln!(
                    report,
                    "{name}: registered from the file {location}; nothing to pull"
                );
                continue;
            }
            None if catalog::KNOWN_APIS.contains(&name.as_str()) => {
                catalog::published_url(catalog_url, name)
            }
            None => {
                all_ok = false;
                let hint = crate::error::did_you_mean(name, catalog::KNOWN_APIS.iter().copied())
                    .unwrap_or_default();
                let _ = writeln!(report, "{name}: not a known API {hint}");
                continue;
            }
        };
        match download(places, name, &url) {
            Ok(line) => {
                let _ = writeln!(report, "{line}");
            }
            Err(error) => {
                all_ok = false;
                let _ = writeln!(report, "{name}: failed: {}", error.message);
            }
        }
    }
    Ok((report, all_ok))
}

/// `definitions add <name> <file|url>`.
pub fn add(places: &Places, name: &str, location: &str) -> Result<String> {
    check_name("API", name)?;
    if super::registry::is_taken(name) {
        return Err(
            Error::usage(format!("`{name}` is a built-in command, not an API name"))
                .with_help("choose another name"),
        );
    }
    // Checked before downloading, so a registry that cannot be changed costs no download.
    Registry::read(places)?;
    let (stored, message) = if source::is_url(location) {
        let line = download(places, name, location)?;
        (
            location.to_string(),
            format!("registered `{name}` from {location}; {line}"),
        )
    } else {
        let path = std::fs::canonicalize(Path::new(location))
            .map_err(|e| Error::usage(format!("cannot read {location}: {e}")))?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::usage(format!("cannot read {location}: {e}")))?;
        let operations = check(name, &text, &Origin::File(path.clone()))?;
        (
            path.display().to_string(),
            format!(
                "registered `{name}` from {} ({operations} operations)",
                path.display()
            ),
        )
    };
    Registry::update(places, |registry| {
        registry.definitions.insert(name.to_string(), stored);
        Ok(())
    })?;
    Ok(format!("{message}\nuse it with: epilot {name}"))
}

/// `definitions remove <name>`: forgets a registered or pulled definition.
pub fn remove(places: &Places, name: &str) -> Result<String> {
    check_name("API", name)?;
    let registered = Registry::update(places, |registry| {
        Ok(registry.definitions.remove(name).is_some())
    })?;
    let mut removed_cache = false;
    for path in [
        catalog::cached_spec(places, name)?,
        catalog::cached_meta(places, name)?,
    ] {
        removed_cache |= std::fs::remove_file(path).is_ok();
    }
    match (registered, removed_cache) {
        (false, false) => Err(
            Error::usage(format!("`{name}` is neither registered nor pulled"))
                .with_help("`epilot definitions list` shows where each API comes from"),
        ),
        _ => Ok(format!(
            "removed `{name}`{}{}",
            if registered {
                " from the registered definitions"
            } else {
                ""
            },
            if removed_cache {
                " and its cached copy"
            } else {
                ""
            }
        )),
    }
}

/// The override files `target` names: an API name (its override in the working directory), a
/// path to an override file, or, when absent, every override in the working directory.
fn overrides_named(target: Option<&str>) -> Result<Vec<(String, Found)>> {
    let not_found = |what: String| {
        Error::usage(format!("there is no override {what}")).with_help(format!(
            "an override is a file `{}/<api>.json` (or `.yaml`, `.yml`) in the current folder",
            overrides::folder().display()
        ))
    };
    let every = |names: Vec<String>| -> Result<Vec<(String, Found)>> {
        let mut all = Vec::new();
        for name in names {
            for path in overrides::candidates(&name)? {
                all.push((name.clone(), overrides::read(&path)?));
            }
        }
        Ok(all)
    };
    let Some(target) = target else {
        let all = every(overrides::names_here())?;
        if all.is_empty() {
            return Err(not_found("in this folder".into()));
        }
        return Ok(all);
    };
    let path = Path::new(target);
    let names_a_file = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| overrides::EXTENSIONS.contains(&e))
        && path.is_file();
    if target.contains(['/', '\\']) || names_a_file {
        let api = overrides::api_of(path).ok_or_else(|| {
            Error::usage(format!(
                "{} is not an override file",
                overrides::shown(path)
            ))
            .with_help("name the API (`epilot definitions allow user`) or a file `.epilot/overrides/<api>.json|yaml|yml`")
        })?;
        if !path.is_file() {
            return Err(not_found(overrides::shown(path)));
        }
        return Ok(vec![(api, overrides::read(path)?)]);
    }
    check_name("API", target)?;
    match every(vec![target.to_string()])? {
        all if !all.is_empty() => Ok(all),
        _ => Err(not_found(format!(
            "for `{target}` in this folder ({}/{target}.json|yaml|yml)",
            overrides::folder().display()
        ))),
    }
}

/// `definitions allow [<api>|<file>]`: lets override files take effect, as they are now. Each
/// must be an OpenAPI document the CLI can read, and the only override of its API here (else
/// nothing is allowed).
pub fn allow(places: &Places, target: Option<&str>) -> Result<String> {
    let named = overrides_named(target)?;
    for (api, _) in &named {
        overrides::find(api)?;
    }
    let mut report = String::new();
    for (api, found) in named {
        let not_allowed =
            |why: String| Error::spec(format!("{} was not allowed: {why}", found.shown()));
        let text = std::str::from_utf8(&found.bytes)
            .map_err(|e| not_allowed(format!("it is not UTF-8 text ({e})")))?;
        let operations = check(&api, text, &Origin::File(found.path.clone()))
            .map_err(|e| e.context(format!("{} was not allowed", found.shown())))?;
        overrides::allow(places, &found)?;
        let _ = writeln!(
            report,
            "allowed {} (sha256 {}, {operations} operations): `epilot {api}` uses it in this folder until the file changes",
            found.shown(),
            &found.sha256()[..16]
        );
    }
    Ok(report)
}

/// `definitions revoke [<api>|<file>]`: the overrides stop taking effect (every file of an
/// API named, several or not).
pub fn revoke(places: &Places, target: Option<&str>) -> Result<String> {
    let mut report = String::new();
    for (_, found) in overrides_named(target)? {
        let verb = if overrides::revoke(places, &found)? {
            "revoked"
        } else {
            "was not allowed:"
        };
        let _ = writeln!(report, "{verb} {}", found.shown());
    }
    Ok(report)
}

/// `definitions allow --list`: every allowed override file, wherever it is.
pub fn allowed_list(places: &Places) -> Result<String> {
    let records = overrides::list(places)?;
    if records.is_empty() {
        return Ok("no override is allowed\n".to_string());
    }
    Ok(records
        .iter()
        .map(|r| {
            format!(
                "{}  sha256 {}\n",
                overrides::shown(Path::new(&r.path)),
                r.sha256.get(..16).unwrap_or(&r.sha256)
            )
        })
        .collect())
}

pub(super) const BUILTIN: Builtin = Builtin {
    name: "definitions",
    synopsis: "definitions list|pull|add|remove",
    cli,
    exec: Exec::Group(&[
        sub::LIST,
        sub::PULL,
        sub::ADD,
        sub::REMOVE,
        sub::ALLOW,
        sub::REVOKE,
    ]),
    values: None,
};

fn cli() -> Command {
    Command::new("definitions")
        .about("Manage API definitions (catalog, your own specs); allow overrides")
        .after_help(
            "Examples:\n  epilot definitions pull entity\n  epilot definitions add pets ./petstore.yaml",
        )
}

fn text(m: &ArgMatches, id: &str) -> String {
    m.get_one::<String>(id).cloned().unwrap_or_default()
}

/// Writes a changing command's report; stdout is checked before the change.
fn changed(env: &mut Env<'_>, change: impl FnOnce(&Places) -> Result<String>) -> Result<u8> {
    super::check_stdout(env)?;
    let message = change(&places(env)?)?;
    let newline = if message.ends_with('\n') { "" } else { "\n" };
    write_out(format!("{message}{newline}").as_bytes(), env)
}

/// One module-level item per subcommand: its `cli()` and `exec()` side by side.
mod sub {
    use super::*;

    fn known_apis(_: &Places) -> Vec<String> {
        catalog::KNOWN_APIS.iter().map(|s| s.to_string()).collect()
    }

    fn registered(places: &Places) -> Vec<String> {
        Registry::load(places).definitions.into_keys().collect()
    }

    fn overrides_here(_: &Places) -> Vec<String> {
        overrides::names_here()
    }

    fn target_arg() -> Arg {
        Arg::new("target")
            .value_name("API|FILE")
            .help("An API name or an override file (all when none is named)")
    }

    pub(super) const LIST: Builtin = Builtin {
        name: "list",
        synopsis: "list",
        cli: || {
            Command::new("list")
                .about("Show each API and where its definition comes from")
                .after_help("Example:\n  epilot definitions list")
        },
        exec: Exec::Run(|_, env| write_out(list(&places(env)?).as_bytes(), env)),
        values: None,
    };

    pub(super) const PULL: Builtin = Builtin {
        name: "pull",
        synopsis: "pull <api>...",
        cli: || {
            Command::new("pull")
                .about("Download definitions from the catalog into the cache")
                .arg(
                    Arg::new("apis")
                        .value_name("API")
                        .num_args(0..)
                        .help("The APIs to download"),
                )
                .arg(
                    Arg::new("all")
                        .long("all")
                        .action(ArgAction::SetTrue)
                        // Names with --all would be silently ignored: one or the other.
                        .conflicts_with("apis")
                        .help("Pull every catalog API"),
                )
                .after_help(
                    "Examples:\n  epilot definitions pull entity\n  epilot definitions pull --all",
                )
        },
        exec: Exec::Run(exec_pull),
        values: Some(known_apis),
    };

    fn exec_pull(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        let names: Vec<String> = m
            .get_many::<String>("apis")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        let catalog_url = (env.var)("EPILOT_CATALOG_URL")
            .unwrap_or_else(|| crate::spec::catalog::DEFAULT_CATALOG_URL.into());
        super::super::check_stdout(env)?;
        let (report, all_ok) = pull(&places(env)?, &names, m.get_flag("all"), &catalog_url)?;
        write_out(report.as_bytes(), env)?;
        Ok(if all_ok { exit::OK } else { exit::SPEC })
    }

    pub(super) const ADD: Builtin = Builtin {
        name: "add",
        synopsis: "add <name> <file|url>",
        cli: || {
            Command::new("add")
                .about("Register a definition under a name")
                .arg(
                    Arg::new("name")
                        .value_name("NAME")
                        .required(true)
                        .help("The name to call it by: `epilot <name> ...`"),
                )
                .arg(
                    Arg::new("location")
                        .value_name("FILE|URL")
                        .required(true)
                        .help("The OpenAPI 3 document (JSON or YAML)"),
                )
                .after_help("Example:\n  epilot definitions add pets ./petstore.yaml")
        },
        exec: Exec::Run(|m, env| {
            changed(env, |places| {
                add(places, &text(m, "name"), &text(m, "location"))
            })
        }),
        values: None,
    };

    pub(super) const REMOVE: Builtin = Builtin {
        name: "remove",
        synopsis: "remove <name>",
        cli: || {
            Command::new("remove")
                .about("Forget a registered or pulled definition")
                .arg(
                    Arg::new("name")
                        .value_name("NAME")
                        .required(true)
                        .help("The API to forget"),
                )
                .after_help("Example:\n  epilot definitions remove pets")
        },
        exec: Exec::Run(|m, env| changed(env, |places| remove(places, &text(m, "name")))),
        values: Some(registered),
    };

    pub(super) const ALLOW: Builtin = Builtin {
        name: "allow",
        synopsis: "allow [<api|file>]",
        cli: || {
            Command::new("allow")
                .about("Let override files in ./.epilot/overrides take effect (all when none is named)")
                .arg(target_arg())
                .arg(
                    Arg::new("list")
                        .long("list")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("target")
                        .help("Show the allowed override files"),
                )
                .after_help("Examples:\n  epilot definitions allow user\n  epilot definitions allow --list")
        },
        exec: Exec::Run(exec_allow),
        values: Some(overrides_here),
    };

    fn exec_allow(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
        if m.get_flag("list") {
            return write_out(allowed_list(&places(env)?)?.as_bytes(), env);
        }
        let target = m.get_one::<String>("target").map(String::as_str);
        changed(env, |places| allow(places, target))
    }

    pub(super) const REVOKE: Builtin = Builtin {
        name: "revoke",
        synopsis: "revoke [<api|file>]",
        cli: || {
            Command::new("revoke")
                .about("Stop override files from taking effect (all here when none is named)")
                .arg(target_arg())
                .after_help("Example:\n  epilot definitions revoke user")
        },
        exec: Exec::Run(|m, env| {
            let target = m.get_one::<String>("target").map(String::as_str);
            changed(env, |places| revoke(places, target))
        }),
        values: Some(overrides_here),
    };
}
