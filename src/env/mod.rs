//! The process's surroundings (streams, terminal, environment variables), passed down so the
//! pipeline can be driven without a real terminal, and the few helpers every command uses.

pub mod term;

use std::io::{Read, Write};

use crate::error::{exit, io_error, Result};
use crate::state::paths::Places;
use term::Terminal;

/// The process's surroundings, so the pipeline can be driven without a real terminal.
pub struct Env<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdin: &'a mut dyn Read,
    pub terminal: Terminal,
    pub var: &'a dyn Fn(&str) -> Option<String>,
}

pub(crate) fn places(env: &Env<'_>) -> Result<Places> {
    Places::from_env(env.var)
}

pub(crate) fn write_out(bytes: &[u8], env: &mut Env<'_>) -> Result<u8> {
    env.stdout.write_all(bytes).map_err(io_error)?;
    Ok(exit::OK)
}
