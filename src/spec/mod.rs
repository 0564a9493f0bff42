//! The OpenAPI side: where a document comes from, how it is normalised, and the model built
//! from it.

pub(crate) mod catalog;
pub mod index;
pub(crate) mod model;
pub(crate) mod normalize;
pub(crate) mod overrides;
pub mod source;

use serde_json::Value;

use std::path::PathBuf;

use crate::error::{Error, Result};
pub use model::*;
pub use source::Origin;

/// A loaded, normalised document with its operation index.
pub struct LoadedApi {
    pub api: Api,
    pub document: Value,
    pub origin: Origin,
    /// Lines for stderr about how the document was chosen (an override in force or ignored).
    pub notes: Vec<String>,
    /// The `--definition` it was loaded from, as typed: every command printed for this API
    /// repeats it, so a pasted hint does not fall back to the bundled API (and its server).
    pub definition: Option<String>,
}

/// Loads the document for `api` (see `find_document`), normalises and indexes it.
pub fn load(
    api: &str,
    definition: Option<&str>,
    places: &crate::state::paths::Places,
    fetch: &dyn Fn(&str) -> Result<String>,
) -> Result<LoadedApi> {
    let Loaded {
        mut document,
        origin,
        notes,
    } = find_document(api, definition, places, fetch)?;
    normalize::normalize(&mut document);
    let index = index::index(api, &document);
    Ok(LoadedApi {
        api: index,
        document,
        origin,
        notes,
        definition: definition.map(str::to_owned),
    })
}

/// A parsed document, where it came from, and notes for the user about how it was chosen
/// (an override in force or ignored), to be shown on stderr.
#[derive(Debug)]
struct Loaded {
    document: Value,
    origin: Origin,
    notes: Vec<String>,
}

/// Finds the document for `api`, reads it and parses it: `--definition`, else what the
/// catalog finds on this machine (allowed override, registered, pulled), else the bundled one.
/// `fetch` is how URLs are read, so this module stays free of network code.
fn find_document(
    api: &str,
    definition: Option<&str>,
    places: &crate::state::paths::Places,
    fetch: &dyn Fn(&str) -> Result<String>,
) -> Result<Loaded> {
    crate::state::paths::check_name("API", api)?;
    let mut notes = Vec::new();
    let (text, origin) = match definition {
        Some(location) if source::is_url(location) => {
            (fetch(location)?, Origin::Url(location.to_string()))
        }
        Some(location) => {
            let path = PathBuf::from(location);
            (source::read_file(&path)?, Origin::File(path))
        }
        None => {
            let located = crate::spec::catalog::locate(places, api)?;
            notes = located.notes;
            match located.source {
                catalog::Source::Override(found) => {
                    let origin = Origin::File(found.path.clone());
                    (source::utf8(found.bytes, &found.path)?, origin)
                }
                catalog::Source::File(path) => (source::read_file(&path)?, Origin::File(path)),
                catalog::Source::Bundled => {
                    let json = source::bundled_text(api)
                        .ok_or_else(|| Error::usage(format!("unknown API `{api}`")))?;
                    let document = serde_json::from_str(json).map_err(|e| {
                        Error::spec(format!("the bundled `{api}` definition is broken: {e}"))
                    })?;
                    return Ok(Loaded {
                        document,
                        origin: Origin::Bundled(api.to_string()),
                        notes,
                    });
                }
            }
        }
    };
    let document = source::parse_document(&text, &origin)?;
    Ok(Loaded {
        document,
        origin,
        notes,
    })
}
