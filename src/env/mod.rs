//! The process's surroundings: streams, terminal, environment variables.

pub mod term;
