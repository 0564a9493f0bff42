//! The built-in commands beside the API calls: `docs`, `definitions`, `completion` (and the
//! completion engine the shell scripts call back), `auth`, `profile`, each declaring itself
//! (`cli()`) and running (`exec()`), listed once in `registry`; and the listings of APIs and
//! operations.

pub(crate) mod auth;
pub mod completion;
pub(crate) mod definitions;
pub(crate) mod docs;
pub(crate) mod list;
pub(crate) mod profile;
pub mod registry;

use crate::env::Env;
use crate::error::{exit, io_error, Error, Result};
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

/// Called before a command changes a file. Refuses to start a change whose report could not
/// be written: with stdout closed (`>&-`) the change would happen and the command still fail,
/// so the caller could not tell. And from here on an interrupt (Ctrl-C, SIGTERM) removes the
/// temporary file of a write under way instead of leaving it behind.
pub(crate) fn check_stdout(_env: &Env<'_>) -> Result<()> {
    if crate::env::term::stdout_was_closed() {
        return Err(Error::usage("stdout is closed: nothing was changed")
            .with_help("run it again with stdout open, e.g. `>/dev/null` to discard the report"));
    }
    crate::env::term::exit_on_interrupt();
    Ok(())
}
