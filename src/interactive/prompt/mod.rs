//! Questions asked of a person at a terminal, behind a small trait: the interactive flows
//! (`interactive/`) decide what to ask, a [`Prompter`] asks it. [`terminal::Terminal`] is the
//! only code that touches the terminal; tests drive the flows with scripted answers.

pub mod terminal;

#[cfg(test)]
pub mod scripted;

use std::rc::Rc;

use crate::error::{Error, ErrorKind};

/// The question and what helps answer it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ask {
    pub message: String,
    /// Shown under the prompt: the description, the expected type, how to skip.
    pub help: Option<String>,
}

impl Ask {
    pub fn new(message: impl Into<String>) -> Ask {
        Ask {
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Ask {
        self.help = help.filter(|h| !h.is_empty());
        self
    }
}

/// Checks typed text before it is accepted; `Err` holds what to tell the person, who is asked
/// again.
pub type Check = Rc<dyn Fn(&str) -> Result<(), String>>;

/// Asks questions. Every method returns [`cancelled`] when the person presses Esc or Ctrl-C.
pub trait Prompter {
    /// One of `choices` (type to filter); returns its index.
    fn select(
        &mut self,
        ask: &Ask,
        choices: &[String],
        start: usize,
    ) -> crate::error::Result<usize>;
    /// Any number of `choices`; returns their indices.
    fn multi_select(&mut self, ask: &Ask, choices: &[String]) -> crate::error::Result<Vec<usize>>;
    fn confirm(&mut self, ask: &Ask, default: bool) -> crate::error::Result<bool>;
    /// A line of text, pre-filled with `default`, re-asked until `check` accepts it.
    fn text(
        &mut self,
        ask: &Ask,
        default: Option<&str>,
        check: Check,
    ) -> crate::error::Result<String>;
    /// A secret, typed without echo; empty when nothing was typed.
    fn secret(&mut self, ask: &Ask) -> crate::error::Result<String>;
    /// Text edited in the user's editor, starting from `template`.
    fn edit(&mut self, ask: &Ask, template: &str) -> crate::error::Result<String>;
    /// A note for the person (problems found, the request about to be sent).
    fn say(&mut self, text: &str);
}

/// Esc or Ctrl-C at a prompt: nothing is sent, exit code 130.
pub fn cancelled() -> Error {
    Error::new(ErrorKind::Interrupted, "cancelled; nothing was sent")
}
