//! `epilot docs`: the Markdown reference of an API on stdout.

use clap::{Arg, ArgMatches, Command};

use super::print_notes;
use super::registry::{Builtin, Exec};
use crate::env::{places, write_out, Env};
use crate::error::Result;
use crate::spec;
use crate::spec::catalog::{self, Registry};
use crate::state::paths::Places;
use crate::transport;

pub(super) const BUILTIN: Builtin = Builtin {
    name: "docs",
    synopsis: "docs <api>",
    cli,
    exec: Exec::Run(exec),
    values: Some(api_names),
};

fn api_names(places: &Places) -> Vec<String> {
    catalog::all_names(&Registry::load(places))
}

fn cli() -> Command {
    Command::new("docs")
        .about("Write a Markdown reference of an API to stdout")
        .arg(
            Arg::new("api")
                .value_name("API")
                .required(true)
                .help("The API: a bundled, pulled or added name (see `epilot help`)"),
        )
        .arg(
            Arg::new("definition")
                .long("definition")
                .value_name("FILE|URL")
                .help("Use this OpenAPI document (JSON or YAML) instead of the bundled one"),
        )
        .after_help(
            "Examples:\n  epilot docs user > user.md\n  epilot docs pets --definition ./petstore.yaml",
        )
}

/// `epilot docs <api> [--definition ...]`: the Markdown reference on stdout.
fn exec(m: &ArgMatches, env: &mut Env<'_>) -> Result<u8> {
    let api = m.get_one::<String>("api").cloned().unwrap_or_default();
    let definition = m.get_one::<String>("definition").map(String::as_str);
    let loaded = spec::load(&api, definition, &places(env)?, &transport::fetch_text)?;
    print_notes(&loaded, env);
    write_out(
        crate::output::docs::markdown(&loaded.api, &loaded.document, definition).as_bytes(),
        env,
    )
}
