//! The [`Prompter`] for a person at a terminal, drawn with `inquire` on stderr (stdout stays
//! the answer's). The editor is run here too: `$VISUAL`, else `$EDITOR`, else `vi`
//! (`notepad` on Windows), split into words as a shell would (`EDITOR="code --wait"`).

use std::io::Write;
use std::path::PathBuf;

use inquire::error::InquireError;
use inquire::validator::Validation;

use super::{cancelled, Ask, Check, Prompter};
use crate::error::{Error, Result};
use crate::text::{escape_controls, escape_controls_keep_lines};

pub struct Terminal {
    editor: Vec<String>,
}

impl Terminal {
    /// `var` reads the environment (for the editor).
    pub fn new(var: &dyn Fn(&str) -> Option<String>) -> Terminal {
        let chosen = ["VISUAL", "EDITOR"]
            .into_iter()
            .filter_map(var)
            .find(|v| !v.trim().is_empty());
        Terminal {
            editor: editor_command(chosen.as_deref()),
        }
    }
}

/// The editor's program and arguments.
pub fn editor_command(setting: Option<&str>) -> Vec<String> {
    let fallback = if cfg!(windows) { "notepad" } else { "vi" };
    setting
        .and_then(shlex::split)
        .filter(|words| !words.is_empty())
        .unwrap_or_else(|| vec![fallback.to_string()])
}

fn failed(error: InquireError) -> Error {
    match error {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => cancelled(),
        InquireError::NotTTY => Error::usage("there is no terminal to ask on")
            .with_help("pass the values as flags, or run it in a terminal"),
        other => Error::usage(format!("cannot ask at the terminal: {other}")),
    }
}

impl Prompter for Terminal {
    fn select(&mut self, ask: &Ask, choices: &[String], start: usize) -> Result<usize> {
        let ask = &shown(ask);
        let fitted: Vec<String> = choices.iter().map(|c| fit(c, columns())).collect();
        // Typing filters on the whole row, also the part cut off to fit.
        let whole_row = |typed: &str, _: &String, _: &str, index: usize| {
            let row = choices[index].to_lowercase();
            row.contains(&typed.to_lowercase()).then_some(0)
        };
        let mut prompt = inquire::Select::new(&ask.message, fitted)
            .with_starting_cursor(start.min(choices.len().saturating_sub(1)))
            .with_formatter(&|picked| first_column(picked.value).to_string())
            .with_scorer(&whole_row)
            .with_page_size(12);
        if let Some(help) = &ask.help {
            prompt = prompt.with_help_message(help);
        }
        prompt
            .raw_prompt()
            .map(|picked| picked.index)
            .map_err(failed)
    }

    fn multi_select(&mut self, ask: &Ask, choices: &[String]) -> Result<Vec<usize>> {
        let ask = &shown(ask);
        let help = ask.help.as_deref().map_or_else(
            || "space to pick, enter when done".to_string(),
            |h| format!("{h} · space to pick, enter when done"),
        );
        let fitted: Vec<String> = choices.iter().map(|c| fit(c, columns())).collect();
        inquire::MultiSelect::new(&ask.message, fitted)
            .with_help_message(&help)
            .with_page_size(12)
            .raw_prompt()
            .map(|picked| picked.into_iter().map(|p| p.index).collect())
            .map_err(failed)
    }

    fn confirm(&mut self, ask: &Ask, default: bool) -> Result<bool> {
        let ask = &shown(ask);
        let mut prompt = inquire::Confirm::new(&ask.message).with_default(default);
        if let Some(help) = &ask.help {
            prompt = prompt.with_help_message(help);
        }
        prompt.prompt().map_err(failed)
    }

    fn text(&mut self, ask: &Ask, default: Option<&str>, check: Check) -> Result<String> {
        let ask = &shown(ask);
        let mut prompt = inquire::Text::new(&ask.message).with_validator(move |text: &str| {
            Ok(match check(text) {
                Ok(()) => Validation::Valid,
                Err(message) => Validation::Invalid(message.into()),
            })
        });
        if let Some(default) = default {
            prompt = prompt.with_initial_value(default);
        }
        if let Some(help) = &ask.help {
            prompt = prompt.with_help_message(help);
        }
        prompt.prompt().map_err(failed)
    }

    fn secret(&mut self, ask: &Ask) -> Result<String> {
        // rpassword reads a pasted token whole (inquire's raw mode would see a paste's line
        // break as Ctrl-J); Ctrl-C here is the process-wide handler's: exit 130, echo restored.
        crate::env::term::exit_on_interrupt();
        rpassword::prompt_password(format!("{} ", ask.message))
            .map(|typed| typed.trim().to_string())
            .map_err(|e| match e.kind() {
                // rpassword raises SIGINT itself and returns this at once: the handler's exit
                // may not have won the race, and 130 is the answer either way.
                std::io::ErrorKind::Interrupted => Error::new(
                    crate::error::ErrorKind::Interrupted,
                    "interrupted; nothing was sent",
                ),
                _ => Error::usage(format!("cannot read from the terminal: {e}")),
            })
    }

    fn edit(&mut self, ask: &Ask, template: &str) -> Result<String> {
        let path = scratch_file()?;
        std::fs::write(&path, template)
            .map_err(|e| Error::usage(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("{} (opening {})", ask.message, self.editor.join(" "));
        let status = std::process::Command::new(&self.editor[0])
            .args(&self.editor[1..])
            .arg(&path)
            .status();
        let edited = std::fs::read_to_string(&path);
        let _ = std::fs::remove_file(&path);
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                return Err(Error::usage(format!(
                    "the editor `{}` ended with {status}; nothing was sent",
                    self.editor.join(" ")
                )))
            }
            Err(e) => {
                return Err(Error::usage(format!(
                    "cannot start the editor `{}`: {e}",
                    self.editor.join(" ")
                ))
                .with_help("set VISUAL or EDITOR to your editor, e.g. EDITOR=nano"))
            }
        }
        edited.map_err(|e| Error::usage(format!("cannot read back {}: {e}", path.display())))
    }

    fn say(&mut self, text: &str) {
        let mut stderr = std::io::stderr();
        let _ = writeln!(stderr, "{}", escape_controls_keep_lines(text.trim_end()));
    }
}

/// Questions, help and choices quote names, descriptions and enum values from the definition:
/// their control characters are shown as escapes, not handed to the terminal.
fn shown(ask: &Ask) -> Ask {
    Ask {
        message: escape_controls_keep_lines(&ask.message).into_owned(),
        help: ask
            .help
            .as_deref()
            .map(|h| escape_controls_keep_lines(h).into_owned()),
    }
}

/// A choice cut to the terminal's width (a wrapped row would break the list's redrawing).
fn fit(choice: &str, columns: usize) -> String {
    let choice = &*escape_controls(choice);
    // Room for the cursor and checkbox inquire draws before each row.
    let room = columns.saturating_sub(8).max(20);
    if choice.chars().count() <= room {
        choice.to_string()
    } else {
        let cut: String = choice.chars().take(room - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// What an answer is shown as once chosen: a row's first column (rows put details after two
/// spaces, like the operation picker's method, path and summary).
fn first_column(choice: &str) -> &str {
    choice.split("  ").next().unwrap_or(choice)
}

/// The terminal's width, from stderr (where the prompts are drawn); 80 when unknown.
fn columns() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: TIOCGWINSZ only writes into the struct we own; on failure it is ignored.
        unsafe {
            let mut size: libc::winsize = std::mem::zeroed();
            if libc::ioctl(2, libc::TIOCGWINSZ, &mut size) == 0 && size.ws_col > 0 {
                return usize::from(size.ws_col);
            }
        }
    }
    80
}

/// A new private file for the editor, named so editors highlight JSON.
fn scratch_file() -> Result<PathBuf> {
    let mut random = [0u8; 6];
    let _ = getrandom::fill(&mut random);
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let path = std::env::temp_dir().join(format!("epilot-body-{suffix}.json"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&path)
        .map_err(|e| Error::usage(format!("cannot create {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_and_choices_show_control_characters_as_escapes() {
        assert_eq!(fit("on\u{1b}[31m  red\r", 60), "on\\u{1b}[31m  red\\r");
        let ask =
            shown(&Ask::new("Value of `s\u{9b}1m`?").with_help(Some("line\n\u{202e}x".into())));
        assert_eq!(ask.message, "Value of `s\\u{9b}1m`?");
        assert_eq!(ask.help.as_deref(), Some("line\n\\u{202e}x"));
    }

    #[test]
    fn long_rows_are_cut_to_the_terminal_and_answers_show_their_first_column() {
        let row = format!(
            "getGroups  GET    /v1/groups  {}",
            "long summary ".repeat(10)
        );
        let fitted = fit(&row, 60);
        assert_eq!(fitted.chars().count(), 52);
        assert!(fitted.starts_with("getGroups  GET") && fitted.ends_with('…'));
        assert_eq!(fit("short", 60), "short");
        assert_eq!(first_column(&row), "getGroups");
        assert_eq!(
            first_column("Fill it in field by field"),
            "Fill it in field by field"
        );
    }

    #[test]
    fn the_editor_setting_is_split_like_a_shell_would() {
        assert_eq!(editor_command(Some("code --wait")), ["code", "--wait"]);
        assert_eq!(
            editor_command(Some("'/opt/my editor/bin/ed' -n")),
            ["/opt/my editor/bin/ed", "-n"]
        );
        let fallback = if cfg!(windows) { "notepad" } else { "vi" };
        assert_eq!(editor_command(None), [fallback]);
        assert_eq!(editor_command(Some("'unclosed")), [fallback]);
    }
}
