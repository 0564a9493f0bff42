//! One integration-test binary: the real `epilot` executable against a recording HTTP server
//! on 127.0.0.1, in an isolated environment.

mod auth;
mod builtins;
mod catalog;
mod corpus;
mod definition;
mod errors;
mod files;
mod fuzz_regressions;
mod help;
mod hostile;
mod interactive;
mod jsonata_suite;
mod layout;
mod network;
mod options;
mod output;
mod output_faults;
mod printing;
mod secrets;
mod server;
mod state;
mod transport;
mod user_api;
mod util;
mod validation;
