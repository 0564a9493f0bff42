//! A [`Prompter`] that answers from a script, for unit tests of the interactive flows. It
//! records every question and checks each scripted text the way the terminal would, taking the
//! next answer when one is refused (as a person would retype it).

use std::collections::VecDeque;

use super::{cancelled, Ask, Check, Prompter};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The choice shown with this label (select), or these labels (multi-select).
    Pick(&'static str),
    Picks(&'static [&'static str]),
    Yes,
    No,
    /// Typed text; an empty string is Enter (the default, or skipping).
    Type(&'static str),
    /// What the editor leaves in the file.
    Edit(&'static str),
    /// Esc.
    Cancel,
}

#[derive(Default)]
pub struct Scripted {
    answers: VecDeque<Answer>,
    /// Every question asked, in order (with its choices, for selects).
    pub asked: Vec<String>,
    /// Messages a check refused, and what was said.
    pub refused: Vec<String>,
    pub said: Vec<String>,
    /// The template handed to the editor.
    pub templates: Vec<String>,
}

impl Scripted {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Scripted {
        Scripted {
            answers: answers.into_iter().collect(),
            ..Scripted::default()
        }
    }

    pub fn finished(&self) -> bool {
        self.answers.is_empty()
    }

    fn next(&mut self, ask: &Ask) -> Result<Answer> {
        match self.answers.pop_front() {
            Some(Answer::Cancel) => Err(cancelled()),
            Some(answer) => Ok(answer),
            None => panic!("no scripted answer left for {:?}", ask.message),
        }
    }
}

impl Prompter for Scripted {
    fn select(&mut self, ask: &Ask, choices: &[String], _start: usize) -> Result<usize> {
        self.asked
            .push(format!("{} [{}]", ask.message, choices.join(" | ")));
        match self.next(ask)? {
            Answer::Pick(label) => Ok(choices
                .iter()
                .position(|c| c == label || c.starts_with(&format!("{label} ")))
                .unwrap_or_else(|| panic!("{label:?} is not among {choices:?}"))),
            other => panic!("select {:?} got {other:?}", ask.message),
        }
    }

    fn multi_select(&mut self, ask: &Ask, choices: &[String]) -> Result<Vec<usize>> {
        self.asked
            .push(format!("{} [{}]", ask.message, choices.join(" | ")));
        match self.next(ask)? {
            Answer::Picks(labels) => Ok(labels
                .iter()
                .map(|label| choices.iter().position(|c| c == label).unwrap())
                .collect()),
            other => panic!("multi-select {:?} got {other:?}", ask.message),
        }
    }

    fn confirm(&mut self, ask: &Ask, default: bool) -> Result<bool> {
        self.asked.push(ask.message.clone());
        match self.next(ask)? {
            Answer::Yes => Ok(true),
            Answer::No => Ok(false),
            Answer::Type("") => Ok(default),
            other => panic!("confirm {:?} got {other:?}", ask.message),
        }
    }

    fn text(&mut self, ask: &Ask, default: Option<&str>, check: Check) -> Result<String> {
        self.asked.push(ask.message.clone());
        loop {
            let typed = match self.next(ask)? {
                Answer::Type(text) => text,
                other => panic!("text {:?} got {other:?}", ask.message),
            };
            let text = match (typed, default) {
                ("", Some(default)) => default.to_string(),
                _ => typed.to_string(),
            };
            match check(&text) {
                Ok(()) => return Ok(text),
                Err(message) => self.refused.push(message),
            }
        }
    }

    fn secret(&mut self, ask: &Ask) -> Result<String> {
        self.asked.push(ask.message.clone());
        match self.next(ask)? {
            Answer::Type(text) => Ok(text.to_string()),
            other => panic!("secret {:?} got {other:?}", ask.message),
        }
    }

    fn edit(&mut self, ask: &Ask, template: &str) -> Result<String> {
        self.asked.push(ask.message.clone());
        self.templates.push(template.to_string());
        match self.next(ask)? {
            Answer::Edit(text) => Ok(text.to_string()),
            other => panic!("edit {:?} got {other:?}", ask.message),
        }
    }

    fn say(&mut self, text: &str) {
        self.said.push(text.to_string());
    }
}
