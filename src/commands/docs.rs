//! `epilot docs`: the Markdown reference of an API on stdout.

use std::ffi::OsString;

use super::{clap_outcome, print_notes};
use crate::cli;
use crate::env::{places, write_out, Env};
use crate::error::Result;
use crate::spec;
use crate::transport;

/// `epilot docs <api> [--definition ...]`: the Markdown reference on stdout.
pub fn run(args: &[OsString], invocation: &cli::Invocation, env: &mut Env<'_>) -> Result<u8> {
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
    print_notes(&loaded, env);
    write_out(
        crate::output::docs::markdown(&loaded.api, &loaded.document).as_bytes(),
        env,
    )
}
