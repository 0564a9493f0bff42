//! What the terminal situation is, decided once and passed down.

use std::io::IsTerminal;

use crate::cli::ColorWhen;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminal {
    pub fn detect() -> Terminal {
        Terminal {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// Colour on stdout: `always`, `never`, or (auto) when stdout is a terminal and `NO_COLOR` is
/// unset or empty (<https://no-color.org>).
pub fn use_colour(when: ColorWhen, stdout_is_terminal: bool, no_color: Option<&str>) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_rules() {
        assert!(use_colour(ColorWhen::Auto, true, None));
        assert!(use_colour(ColorWhen::Auto, true, Some("")));
        assert!(!use_colour(ColorWhen::Auto, true, Some("1")));
        assert!(!use_colour(ColorWhen::Auto, false, None));
        assert!(use_colour(ColorWhen::Always, false, Some("1")));
        assert!(!use_colour(ColorWhen::Never, true, None));
    }
}
