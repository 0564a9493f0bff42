//! Failure kinds and the exit codes they map to.
//!
//! Every failure the user can cause or meet is an [`Error`] with a kind (which decides the
//! exit code), a one-line message that names what is wrong, and an optional `help:` line that
//! says how to fix it. Nothing below `app` prints errors itself.

use std::fmt;

use crate::text::escape_controls_keep_lines;

/// What kind of failure happened; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad command line or input; nothing was sent.
    Usage,
    /// The connection, TLS handshake or a timeout failed.
    Network,
    /// The OpenAPI document could not be read or understood.
    Spec,
    /// The user interrupted a prompt or a request.
    Interrupted,
    /// The reader of stdout went away (`| head`): no message, and no failure on its own (as
    /// ripgrep and cat do); an HTTP error status still decides the exit code.
    BrokenPipe,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Network => exit::NETWORK,
            ErrorKind::Spec => exit::SPEC,
            ErrorKind::Interrupted => exit::INTERRUPTED,
            ErrorKind::BrokenPipe => exit::OK,
        }
    }
}

/// The exit codes, as documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    /// The server answered with a 4xx or 5xx status.
    pub const HTTP_ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NETWORK: u8 = 3;
    pub const SPEC: u8 = 4;
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub help: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            help: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, message)
    }

    pub fn spec(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Spec, message)
    }

    pub fn network(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Network, message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same error with `context` said first (`context: message`). Its kind and `help:`
    /// line stay: the fix for the cause is still the fix.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages quote names and text from definitions and servers: shown, never obeyed.
        write!(f, "error: {}", escape_controls_keep_lines(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {}", escape_controls_keep_lines(help))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The names among `candidates` closest to `wanted`, best first: for "did you mean" hints.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|candidate| {
            let lower = candidate.to_lowercase();
            let mut score = strsim::jaro_winkler(&wanted_lower, &lower);
            if !wanted_lower.is_empty() && lower.contains(&wanted_lower) {
                score = score.max(0.9);
            }
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// "did you mean `a`, `b`?" or nothing.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let names = closest(wanted, candidates);
    if names.is_empty() {
        return None;
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    Some(format!("did you mean {}?", quoted.join(", ")))
}

/// Output errors: a closed pipe is an error kind of its own, which ends the run quietly.
pub fn io_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Error::new(ErrorKind::BrokenPipe, "the reader of the output went away")
    } else {
        Error::usage(format!("cannot write output: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_case_slips() {
        let ops = ["getUserV2", "getUser", "listUsers", "createGroup"];
        assert_eq!(closest("getusr", ops)[0], "getUser");
        assert_eq!(closest("GETUSERV2", ops)[0], "getUserV2");
        assert!(closest("zzzz", ops).is_empty());
    }

    #[test]
    fn display_has_error_and_help_lines() {
        let e = Error::usage("bad thing").with_help("do this");
        assert_eq!(e.to_string(), "error: bad thing\nhelp: do this");
        assert_eq!(e.kind.exit_code(), 2);
    }

    #[test]
    fn context_keeps_the_kind_and_the_help_line() {
        let e = Error::spec("nesting too deep at line 3")
            .with_help("flatten the document")
            .context("user: the downloaded definition was not kept");
        assert_eq!(
            e.to_string(),
            "error: user: the downloaded definition was not kept: nesting too deep at line 3\nhelp: flatten the document"
        );
        assert_eq!(e.kind, ErrorKind::Spec);
    }

    #[test]
    fn display_shows_control_characters_from_outside_as_escapes() {
        let e = Error::usage("no operation `a\u{1b}[2Jb`\nsecond line").with_help("run `x\ry`");
        assert_eq!(
            e.to_string(),
            "error: no operation `a\\u{1b}[2Jb`\nsecond line\nhelp: run `x\\ry`"
        );
    }
}
