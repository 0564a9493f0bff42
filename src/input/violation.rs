//! A problem with one value of the input, and all of them as the error that stops the call.

use std::fmt;

use crate::error::Error;

/// One problem with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: "parameter `limit` (query integer)", "body /user_detail/email", "body".
    pub at: String,
    pub message: String,
}

impl Violation {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// All violations as one usage error (exit 2): nothing was sent.
pub fn rejection(operation: &str, violations: &[Violation]) -> Error {
    let count = violations.len();
    let lines: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
    Error::usage(format!(
        "`{operation}` was not sent: {count} problem{} with the input\n{}",
        if count == 1 { "" } else { "s" },
        lines.join("\n")
    ))
    .with_help("fix the values above and run again, or pass --no-validate to send anyway")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_lists_everything_and_offers_no_validate() {
        let err = rejection(
            "x",
            &[
                Violation::new("body /a", "bad"),
                Violation::new("parameter `b`", "worse"),
            ],
        );
        assert_eq!(
            err.message,
            "`x` was not sent: 2 problems with the input\n  body /a: bad\n  parameter `b`: worse"
        );
        assert!(err.help.unwrap().contains("--no-validate"));
    }
}
