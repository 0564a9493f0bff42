//! Override files: `./.epilot/overrides/<api>.json|yaml|yml` replaces an API's definition in
//! that folder. Such a file comes with any cloned repository, and the definition in force
//! decides where requests (and the user's token) go, so, like direnv's `.envrc`, an override
//! takes effect only once the user allows it: `epilot definitions allow` records the file's
//! real location and the SHA-256 of its content in `allowed-overrides.json` in the config
//! folder, and a changed file needs allowing again. The content is read once, from the file's
//! real location, hashed, and that same text is what gets used, so the file cannot change
//! between the check and the use. Several files for one API (`user.json` and `user.yaml`) are
//! refused rather than one silently winning.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::state::paths::{check_name, write_atomically, Places};

/// Where override files live, relative to the working directory.
pub fn folder() -> PathBuf {
    Path::new(".epilot").join("overrides")
}

/// The extensions an override may have.
pub const EXTENSIONS: &[&str] = &["json", "yaml", "yml"];

/// One allowed file: where it really is and what it contained when it was allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Allowed {
    #[serde(default)]
    overrides: Vec<Record>,
}

/// An override file, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// As found or given (`.epilot/overrides/user.yaml`): for messages and the document origin.
    pub path: PathBuf,
    /// The file's real location, every link (the file's own included) resolved: what an
    /// allowance is bound to and where the bytes were read from.
    pub location: PathBuf,
    pub bytes: Vec<u8>,
}

impl Found {
    pub fn sha256(&self) -> String {
        Sha256::digest(&self.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn record(&self) -> Record {
        Record {
            path: self.location.display().to_string(),
            sha256: self.sha256(),
        }
    }

    /// The path as the user would type it, control characters escaped.
    pub fn shown(&self) -> String {
        shown(&self.path)
    }
}

/// Whether the user allowed an override file as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Allowed,
    /// Allowed once, with other content.
    Changed,
    NotAllowed,
}

/// The override files for `api` in the working directory: each of `<api>.json`, `.yaml`,
/// `.yml` that is a file, through a link or not.
pub fn candidates(api: &str) -> Result<Vec<PathBuf>> {
    check_name("API", api)?;
    let dir = folder();
    Ok(EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{api}.{ext}")))
        .filter(|path| path.is_file())
        .collect())
}

/// The override for `api` in the working directory, if there is one, read. Several files for
/// one API are an error naming them all: which one was meant is the user's to say.
pub fn find(api: &str) -> Result<Option<Found>> {
    let mut found = candidates(api)?;
    match found.len() {
        0 => Ok(None),
        1 => read(&found.remove(0)).map(Some),
        _ => Err(several(api, &found)),
    }
}

fn several(api: &str, paths: &[PathBuf]) -> Error {
    let names: Vec<String> = paths.iter().map(|p| shown(p)).collect();
    Error::usage(format!(
        "several override files for `{api}`: {}; epilot uses none of them",
        names.join(", ")
    ))
    .with_help(format!(
        "keep one and remove or rename the others (`{api}.json`, `.yaml` and `.yml` are the same override)"
    ))
}

/// Reads the override file at `path`, from where it really is.
pub fn read(path: &Path) -> Result<Found> {
    let cannot = |e: std::io::Error| {
        Error::spec(format!("cannot read the override {}: {e}", shown(path)))
            .with_help("remove it or fix its permissions")
    };
    let location = std::fs::canonicalize(path).map_err(cannot)?;
    let bytes = std::fs::read(&location).map_err(cannot)?;
    Ok(Found {
        path: path.to_path_buf(),
        location,
        bytes,
    })
}

/// `./.epilot/overrides/user.yaml`, with control characters escaped so a file name cannot
/// rewrite the terminal.
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    let text = if path.is_relative() && !text.starts_with("./") && !text.starts_with("../") {
        format!("./{text}")
    } else {
        text
    };
    crate::state::paths::escape_controls(&text)
}

fn allowed_file(places: &Places) -> PathBuf {
    places.config_dir.join("allowed-overrides.json")
}

/// The allowances; none when the file does not exist, an error naming it when it cannot be
/// read or parsed (never "nothing allowed", which the next `allow` would write back).
fn load(places: &Places) -> Result<Allowed> {
    Ok(crate::state::lock::read_json(&allowed_file(places))?.unwrap_or_default())
}

/// The only way to change the allowances: under an exclusive lock, reads them, applies
/// `change` and saves the result if it differs, so parallel commands never lose each other's
/// allowances and a damaged file is never written over.
fn update<T>(places: &Places, change: impl FnOnce(&mut Allowed) -> T) -> Result<T> {
    crate::state::paths::own_folder(&places.config_dir, true)?;
    let file = allowed_file(places);
    let _lock = crate::state::lock::exclusive(&file)?;
    let before = load(places)?;
    let mut allowed = before.clone();
    let outcome = change(&mut allowed);
    if allowed != before {
        let bytes = serde_json::to_vec_pretty(&allowed).expect("records serialise");
        write_atomically(&file, &bytes, true)?;
    }
    Ok(outcome)
}

pub fn standing(places: &Places, found: &Found) -> Result<Standing> {
    let wanted = found.record();
    let allowed = load(places)?;
    Ok(if allowed.overrides.contains(&wanted) {
        Standing::Allowed
    } else if allowed.overrides.iter().any(|r| r.path == wanted.path) {
        Standing::Changed
    } else {
        Standing::NotAllowed
    })
}

/// Records `found` as allowed, replacing what was allowed at the same place before.
pub fn allow(places: &Places, found: &Found) -> Result<()> {
    let record = found.record();
    update(places, |allowed| {
        allowed.overrides.retain(|r| r.path != record.path);
        allowed.overrides.push(record);
    })
}

/// Forgets the allowance for the file at `location`; whether there was one.
pub fn revoke(places: &Places, found: &Found) -> Result<bool> {
    let path = found.location.display().to_string();
    update(places, |allowed| {
        let before = allowed.overrides.len();
        allowed.overrides.retain(|r| r.path != path);
        allowed.overrides.len() != before
    })
}

pub fn list(places: &Places) -> Result<Vec<Record>> {
    Ok(load(places)?.overrides)
}

/// The line said on every call while an override is in force.
pub fn in_force_note(found: &Found) -> String {
    format!("note: using the override {}", found.shown())
}

/// The line said when an override is ignored, with how to allow it.
pub fn ignored_note(api: &str, found: &Found, standing: Standing) -> String {
    let why = if standing == Standing::Changed {
        "changed since it was allowed"
    } else {
        "is not allowed"
    };
    format!(
        "note: {} {why}; run `epilot definitions allow {api}` to use it",
        found.shown()
    )
}

/// The API names that have a file in the override folder of the working directory.
pub fn names_here() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let (stem, ext) = name.rsplit_once('.')?;
            (EXTENSIONS.contains(&ext) && check_name("API", stem).is_ok()).then(|| stem.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The API an override file at `path` would replace, if `path` is one
/// (`…/.epilot/overrides/<api>.<json|yaml|yml>`).
pub fn api_of(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let in_folder = dir.file_name()? == "overrides"
        && dir.parent().and_then(Path::file_name) == Some(".epilot".as_ref());
    let (stem, ext) = path.file_name()?.to_str()?.rsplit_once('.')?;
    (in_folder && EXTENSIONS.contains(&ext) && check_name("API", stem).is_ok())
        .then(|| stem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(location: &str, bytes: &[u8]) -> Found {
        Found {
            path: PathBuf::from(".epilot/overrides/user.yaml"),
            location: PathBuf::from(location),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn an_allowance_is_bound_to_place_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let places = Places {
            config_dir: dir.path().join("config"),
            cache_dir: dir.path().join("cache"),
        };
        let standing = |f: &Found| standing(&places, f).unwrap();
        let original = found("/p/.epilot/overrides/user.yaml", b"openapi: 3.0.0");
        assert_eq!(standing(&original), Standing::NotAllowed);
        allow(&places, &original).unwrap();
        assert_eq!(standing(&original), Standing::Allowed);
        let edited = found("/p/.epilot/overrides/user.yaml", b"openapi: 3.0.1");
        assert_eq!(standing(&edited), Standing::Changed);
        let elsewhere = found("/q/.epilot/overrides/user.yaml", b"openapi: 3.0.0");
        assert_eq!(standing(&elsewhere), Standing::NotAllowed);
        allow(&places, &edited).unwrap();
        assert_eq!(standing(&original), Standing::Changed);
        assert_eq!(list(&places).unwrap().len(), 1, "re-allowing replaces");
        assert!(revoke(&places, &edited).unwrap());
        assert!(!revoke(&places, &edited).unwrap());
        assert_eq!(standing(&edited), Standing::NotAllowed);
    }

    #[test]
    fn the_hash_is_sha256() {
        assert_eq!(
            found("/x", b"abc").sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn override_paths_are_recognised() {
        assert_eq!(
            api_of(Path::new("/p/.epilot/overrides/user.yaml")).as_deref(),
            Some("user")
        );
        assert_eq!(
            api_of(Path::new(".epilot/overrides/v2.api.json")).as_deref(),
            Some("v2.api")
        );
        assert_eq!(api_of(Path::new("/p/overrides/user.yaml")), None);
        assert_eq!(api_of(Path::new("/p/.epilot/overrides/user.txt")), None);
        assert_eq!(api_of(Path::new("/p/.epilot/overrides/.x.yaml")), None);
    }

    #[test]
    fn shown_paths_escape_controls() {
        assert_eq!(
            shown(Path::new(".epilot/overrides/user.yaml")),
            "./.epilot/overrides/user.yaml"
        );
        assert_eq!(shown(Path::new("/a/b\u{1b}[2J")), "/a/b\\u{1b}[2J");
    }
}
