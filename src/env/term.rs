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

/// From now on, Ctrl-C (or SIGTERM, SIGHUP) ends the run with exit code 130 and nothing more
/// printed, after putting the terminal back as it is now (a masked prompt may have turned echo
/// off) and removing the half-written `-o` file, if any.
pub fn exit_on_interrupt() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let saved = settings::save();
        let _ = ctrlc::set_handler(move || {
            if let Some(saved) = &saved {
                settings::restore(saved);
            }
            if let Some(path) = partial_file().take() {
                let _ = std::fs::remove_file(path);
            }
            // Held until the process ends, so no state write starts another temporary file.
            let _held = crate::state::paths::remove_pending_temporaries();
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\ninterrupted");
            std::process::exit(i32::from(crate::error::exit::INTERRUPTED));
        });
    });
}

/// The temporary file an answer is being written to: the interrupt handler exits without
/// running destructors, so it removes the file itself.
fn partial_file() -> std::sync::MutexGuard<'static, Option<std::path::PathBuf>> {
    static PARTIAL: std::sync::Mutex<Option<std::path::PathBuf>> = std::sync::Mutex::new(None);
    PARTIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Names the file to remove on an interrupt (`None`: nothing to remove any more).
pub fn remove_on_interrupt(path: Option<std::path::PathBuf>) {
    *partial_file() = path;
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called before `main` (see `src/main.rs`): notes whether the process started with stdout
/// closed (`>&-`). The Rust runtime then quietly opens /dev/null in its place, so later writes
/// would "succeed" and the answer would vanish without a word.
pub extern "C" fn note_closed_stdout() {
    #[cfg(unix)]
    {
        // SAFETY: F_GETFD only asks whether descriptor 1 is open; it changes nothing.
        let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
        STDOUT_CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether stdout was closed when the process started.
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
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
