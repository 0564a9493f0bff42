//! epilot: a spec-driven command-line client for the epilot APIs.
//!
//! Data flows one way: `app` takes the command line (`cli`: a first pass, then the clap
//! tree of the operation) to a built-in command in `commands` or to an API call: `spec`
//! (source → normalise → index → model) → `input` (parameters and body, checked by
//! `validate`) → `request` (a plain request, no I/O) → `transport` (the only HTTP code)
//! → `output`. On a terminal, `interactive` fills in what the command line left out.
//! `auth` picks the token, `state` keeps the files, `env` carries the process's
//! surroundings; `error` and `text` are leaves. Each module imports only from those after
//! it in the README's "How it is built" table, which `tests/cli/layout.rs` checks.

pub mod app;
pub(crate) mod auth;
pub(crate) mod cli;
pub mod commands;
pub mod env;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub(crate) mod input;
pub(crate) mod interactive;
pub mod output;
pub(crate) mod request;
pub mod spec;
pub mod state;
pub(crate) mod text;
pub(crate) mod transport;
pub mod validate;
