//! epilot: a spec-driven command-line client for the epilot APIs.
//!
//! Data flows one way: [`spec`] (source → normalise → index → model) → [`command`] (clap tree)
//! → [`input`] (parameters and body) → [`request`] (a plain request, no I/O) → [`transport`]
//! (the only HTTP code) → [`output`]. [`app`] wires the steps together; on a terminal,
//! [`interactive`] fills in what the command line left out through a [`prompt::Prompter`].

pub mod app;
pub mod auth;
pub mod builtin;
pub mod catalog;
pub mod cli;
pub mod command;
pub mod completion;
pub mod credentials;
pub mod definitions;
pub mod docs;
pub mod error;
pub mod fuzzing;
pub mod help;
pub mod input;
pub mod interactive;
pub mod listing;
pub mod lock;
pub mod login;
pub mod mock;
pub mod output;
pub mod overrides;
pub mod paths;
pub mod profiles;
pub mod prompt;
pub mod request;
pub mod sample;
pub mod secret;
pub mod spec;
pub mod term;
pub mod text;
pub mod transport;
pub mod validate;
