//! Long help goes through a pager, but only on a terminal: `$PAGER`, else `less -R -F -X`
//! (which exits at once when the text fits on one screen). Piped output is never paged.

use std::io::Write;
use std::process::{Command, Stdio};

/// The pager command line to use, if any: `$PAGER` split on spaces, or less. An empty
/// `PAGER` or `cat` means no pager.
pub fn command_line(pager_var: Option<&str>) -> Option<Vec<String>> {
    match pager_var.map(str::trim) {
        Some("") | Some("cat") => None,
        Some(pager) => Some(pager.split_whitespace().map(str::to_string).collect()),
        None => Some(vec!["less".into(), "-R".into(), "-F".into(), "-X".into()]),
    }
}

/// Shows `text` through the pager. Returns false when no pager could run, so the caller
/// prints the text itself.
pub fn page(text: &str, pager: &[String]) -> bool {
    let Some((program, args)) = pager.split_first() else {
        return false;
    };
    let Ok(mut child) = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit early (`q`) closes the pipe; that is not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    child.wait().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_choice() {
        assert_eq!(command_line(None).unwrap(), ["less", "-R", "-F", "-X"]);
        assert_eq!(command_line(Some("most -s")).unwrap(), ["most", "-s"]);
        assert_eq!(command_line(Some("")), None);
        assert_eq!(command_line(Some("cat")), None);
    }
}
