//! The epilot platform's public APIs and where each comes from on this machine: bundled into
//! the binary, an override file, registered with `definitions add`, pulled into the cache, or
//! not yet available. Knowing the names costs nothing; documents are read only when used.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spec::overrides;
use crate::spec::source;
use crate::state::paths::{check_name, Places};

/// The public epilot APIs (each publishes `https://docs.api.epilot.io/<name>.yaml`).
pub const KNOWN_APIS: &[&str] = &[
    "access-token",
    "address",
    "address-suggestions",
    "ai-agents",
    "app",
    "audit-logs",
    "automation",
    "billing",
    "blueprint-manifest",
    "calendar",
    "configuration-hub",
    "consent",
    "customer-portal",
    "dashboard",
    "data-governance",
    "deduplication",
    "design",
    "document",
    "email-settings",
    "email-template",
    "entity",
    "entity-mapping",
    "environments",
    "erp-integration",
    "event-catalog",
    "file",
    "iban",
    "integration-toolkit",
    "journey",
    "kanban",
    "message",
    "metering",
    "notes",
    "notification",
    "organization",
    "partner-directory",
    "permissions",
    "pricing",
    "pricing-tier",
    "purpose",
    "query",
    "sandbox",
    "sharing",
    "snapshot",
    "submission",
    "target",
    "targeting",
    "template-variables",
    "user",
    "validation-rules",
    "webhooks",
    "workflow",
    "workflow-definition",
];

pub const DEFAULT_CATALOG_URL: &str = "https://docs.api.epilot.io";

/// Where the definition of `<name>.yaml` is published; `EPILOT_CATALOG_URL` replaces the host.
pub fn published_url(base: &str, name: &str) -> String {
    format!("{}/{name}.yaml", base.trim_end_matches('/'))
}

/// Where an API's document comes from, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Override(PathBuf),
    /// Registered with a file: read from there each time, so edits show at once.
    Registered(PathBuf),
    /// Pulled from the catalog, or registered with a URL and downloaded then.
    Cached(PathBuf),
    Bundled,
    NotYetAvailable,
}

impl Availability {
    pub fn label(&self) -> &'static str {
        match self {
            Availability::Override(_) => "override",
            Availability::Registered(_) => "registered",
            Availability::Cached(_) => "cached",
            Availability::Bundled => "bundled",
            Availability::NotYetAvailable => "not yet available",
        }
    }

    pub fn is_available(&self) -> bool {
        !matches!(self, Availability::NotYetAvailable)
    }
}

/// A registered definition: its name and where it lives (absolute path or URL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub definitions: BTreeMap<String, String>,
    /// Fields a newer epilot (or a person) wrote: kept as they are on rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Registry {
    /// For looking only (finding a document, listing, completion): a registry that cannot be
    /// read counts as empty here, since nothing is written from it. Changes go through
    /// [`Registry::update`], which refuses such a file.
    pub fn load(places: &Places) -> Registry {
        Registry::read(places).unwrap_or_default()
    }

    /// The registry; empty when the file does not exist, an error naming the file when it
    /// cannot be read or parsed.
    pub fn read(places: &Places) -> Result<Registry> {
        Ok(crate::state::lock::read_json(&places.registry_file())?.unwrap_or_default())
    }

    /// The only way to change the registry: under an exclusive lock, reads it, applies
    /// `change` and saves the result if it differs, so parallel `definitions add` commands
    /// all land. Nothing is written when `change` fails or the file cannot be read.
    pub fn update<T>(
        places: &Places,
        change: impl FnOnce(&mut Registry) -> Result<T>,
    ) -> Result<T> {
        let file = places.registry_file();
        crate::state::paths::own_folder(&places.config_dir, true)?;
        let _lock = crate::state::lock::exclusive(&file)?;
        let before = Registry::read(places)?;
        let mut registry = before.clone();
        let outcome = change(&mut registry)?;
        if registry != before {
            let text = serde_json::to_vec_pretty(&registry).expect("a registry serialises");
            // Private like the other state files: it names the user's own documents.
            crate::state::paths::write_atomically(&file, &text, true)?;
        }
        Ok(outcome)
    }
}

/// Metadata of a pulled definition, for revalidation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheMeta {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The cached document of `name`; the name is checked first, so it stays in the cache folder.
pub fn cached_spec(places: &Places, name: &str) -> Result<PathBuf> {
    check_name("API", name)?;
    Ok(places.definitions_cache().join(format!("{name}.spec")))
}

pub fn cached_meta(places: &Places, name: &str) -> Result<PathBuf> {
    check_name("API", name)?;
    Ok(places.definitions_cache().join(format!("{name}.meta.json")))
}

pub fn is_valid_name(name: &str) -> bool {
    check_name("API", name).is_ok()
}

/// Where `name` comes from, without parsing any document (an override is read and hashed to
/// know whether it is allowed; one that is not allowed does not count).
pub fn availability(places: &Places, registry: &Registry, name: &str) -> Availability {
    if let Ok(Some(found)) = overrides::find(name) {
        if overrides::standing(places, &found).ok() == Some(overrides::Standing::Allowed) {
            return Availability::Override(found.path);
        }
    }
    beyond_overrides(places, registry, name)
}

fn beyond_overrides(places: &Places, registry: &Registry, name: &str) -> Availability {
    if !is_valid_name(name) {
        return Availability::NotYetAvailable;
    }
    if let Some(location) = registry.definitions.get(name) {
        if !source::is_url(location) {
            return Availability::Registered(PathBuf::from(location));
        }
    }
    if let Ok(cached) = cached_spec(places, name) {
        if cached.is_file() {
            return Availability::Cached(cached);
        }
    }
    if source::bundled_text(name).is_some() {
        return Availability::Bundled;
    }
    Availability::NotYetAvailable
}

/// Every API name this machine knows: the catalog, bundled ones and registered ones.
pub fn all_names(registry: &Registry) -> Vec<String> {
    let mut names: Vec<String> = KNOWN_APIS.iter().map(|n| n.to_string()).collect();
    names.extend(source::bundled_names().map(str::to_string));
    names.extend(registry.definitions.keys().cloned());
    names.sort();
    names.dedup();
    names
}

/// What to read for an API when no `--definition` is given.
#[derive(Debug)]
pub enum Source {
    /// An allowed override, already read: that text is what was checked.
    Override(overrides::Found),
    File(PathBuf),
    Bundled,
}

/// A [`Source`] and the notes the user should see about it (an override in force or ignored).
#[derive(Debug)]
pub struct Located {
    pub source: Source,
    pub notes: Vec<String>,
}

/// The document to read for `name` (when no `--definition` is given), or why there is none.
pub fn locate(places: &Places, name: &str) -> Result<Located> {
    check_name("API", name)?;
    let mut notes = Vec::new();
    if let Some(found) = overrides::find(name)? {
        match overrides::standing(places, &found)? {
            overrides::Standing::Allowed => {
                notes.push(overrides::in_force_note(&found));
                return Ok(Located {
                    source: Source::Override(found),
                    notes,
                });
            }
            standing => notes.push(overrides::ignored_note(name, &found, standing)),
        }
    }
    let registry = Registry::load(places);
    let source = match beyond_overrides(places, &registry, name) {
        Availability::Registered(path) | Availability::Cached(path) => Source::File(path),
        Availability::Bundled => Source::Bundled,
        Availability::Override(_) | Availability::NotYetAvailable => {
            let error = not_available(&registry, name);
            return Err(match notes.first() {
                Some(note) => {
                    let help = error.help.clone().unwrap_or_default();
                    error.with_help(format!("{help}\n{note}"))
                }
                None => error,
            });
        }
    };
    Ok(Located { source, notes })
}

fn not_available(registry: &Registry, name: &str) -> Error {
    if KNOWN_APIS.contains(&name) || registry.definitions.contains_key(name) {
        return Error::usage(format!("the `{name}` API is not available offline yet")).with_help(
            format!("download its definition once with `epilot definitions pull {name}`"),
        );
    }
    let names = all_names(registry);
    let hint = crate::error::did_you_mean(name, names.iter().map(String::as_str))
        .map(|h| format!("{h} "))
        .unwrap_or_default();
    Error::usage(format!("unknown API `{name}`")).with_help(format!(
        "{hint}run `epilot definitions list` for the known APIs; any other works with `--definition <file|url>` \
         or `epilot definitions add {name} <file|url>`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(is_valid_name("customer-portal") && is_valid_name("v2.api"));
        assert!(
            !is_valid_name("../x")
                && !is_valid_name("-p")
                && !is_valid_name("a/b")
                && !is_valid_name("")
                && !is_valid_name("a..b")
        );
    }

    #[test]
    fn the_catalog_knows_the_platform_apis() {
        assert_eq!(KNOWN_APIS.len(), 53);
        assert!(KNOWN_APIS.iter().all(|n| is_valid_name(n)));
        assert!(
            KNOWN_APIS.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert_eq!(
            published_url("https://docs.api.epilot.io/", "entity"),
            "https://docs.api.epilot.io/entity.yaml"
        );
    }
}
