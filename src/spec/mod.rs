//! The OpenAPI side: where a document comes from, how it is normalised, and the model built
//! from it.

pub mod catalog;
pub mod index;
pub mod model;
pub mod normalize;
pub mod overrides;
pub mod sample;
pub mod source;

use serde_json::Value;

use crate::error::Result;
pub use model::*;
pub use source::Origin;

/// A loaded, normalised document with its operation index.
pub struct LoadedApi {
    pub api: Api,
    pub document: Value,
    pub origin: Origin,
    /// Lines for stderr about how the document was chosen (an override in force or ignored).
    pub notes: Vec<String>,
}

/// Loads the document for `api` (see [`source::load`]), normalises and indexes it.
pub fn load(
    api: &str,
    definition: Option<&str>,
    places: &crate::state::paths::Places,
    fetch: &dyn Fn(&str) -> Result<String>,
) -> Result<LoadedApi> {
    let source::Loaded {
        mut document,
        origin,
        notes,
    } = source::load(api, definition, places, fetch)?;
    normalize::normalize(&mut document);
    let index = index::index(api, &document);
    Ok(LoadedApi {
        api: index,
        document,
        origin,
        notes,
    })
}
