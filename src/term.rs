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

/// From now on, Ctrl-C ends the run with exit code 130 and nothing more printed, after putting
/// the terminal back as it is now (a masked prompt may have turned echo off).
pub fn exit_on_interrupt() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let saved = settings::save();
        let _ = ctrlc::set_handler(move || {
            if let Some(saved) = &saved {
                settings::restore(saved);
            }
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\ninterrupted");
            std::process::exit(i32::from(crate::error::exit::INTERRUPTED));
        });
    });
}

/// Saving and restoring the terminal's settings (echo, line mode).
pub mod settings {
    #[cfg(unix)]
    pub type Saved = libc::termios;
    #[cfg(not(unix))]
    pub type Saved = ();

    #[cfg(unix)]
    pub fn save() -> Option<Saved> {
        // SAFETY: tcgetattr only writes into the struct we own; when fd 0 is not a terminal it
        // fails and nothing is saved.
        unsafe {
            let mut settings: libc::termios = std::mem::zeroed();
            (libc::tcgetattr(0, &mut settings) == 0).then_some(settings)
        }
    }

    #[cfg(unix)]
    pub fn restore(settings: &Saved) {
        // SAFETY: puts back settings read from the same descriptor.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, settings);
        }
    }

    #[cfg(not(unix))]
    pub fn save() -> Option<Saved> {
        None
    }

    #[cfg(not(unix))]
    pub fn restore(_: &Saved) {}
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
