//! The built-in commands beside the API calls, one file each: `docs`, `definitions`,
//! `completion` (and the completion engine the shell scripts call back), `auth`, `profile`,
//! and the listings of APIs and operations.

pub(crate) mod auth;
pub mod completion;
pub(crate) mod definitions;
pub(crate) mod docs;
pub(crate) mod list;
pub(crate) mod profile;

use crate::env::Env;
use crate::error::{exit, io_error, Result};
use crate::spec::LoadedApi;

/// How the document was chosen, when the user should know (an override in force or ignored).
pub(crate) fn print_notes(loaded: &LoadedApi, env: &mut Env<'_>) {
    for note in &loaded.notes {
        let _ = writeln!(env.stderr, "{note}");
    }
}

pub(crate) fn clap_outcome(error: clap::Error, env: &mut Env<'_>) -> Result<u8> {
    use clap::error::ErrorKind as K;
    // The usage line names operations from the definition: shown, never obeyed.
    let rendered =
        crate::text::escape_controls_keep_lines(&error.render().to_string()).into_owned();
    match error.kind() {
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand => {
            env.stdout
                .write_all(rendered.as_bytes())
                .map_err(io_error)?;
            Ok(exit::OK)
        }
        _ => {
            env.stderr
                .write_all(rendered.as_bytes())
                .map_err(io_error)?;
            Ok(exit::USAGE)
        }
    }
}
