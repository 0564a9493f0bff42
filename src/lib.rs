//! epilot: a spec-driven command-line client for the epilot APIs.
//!
//! Data flows one way: [`spec`] (source → normalise → index → model) → [`command`] (clap tree)
//! → [`input`] (parameters and body) → [`request`] (a plain request, no I/O) → [`transport`]
//! (the only HTTP code) → [`output`]. [`app`] wires the steps together; on a terminal,
//! [`interactive`] fills in what the command line left out through a [`prompt::Prompter`].

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
