//! Text from outside (a definition, a server, a file) on its way to a terminal. A terminal
//! obeys control characters: an ESC sequence from a spec's summary could recolour, retitle or
//! rewrite the screen, a `\r` could hide what was printed before it, and a bidirectional
//! override could make a command read differently from what it does. Such characters are
//! shown as visible escapes instead; everything else is left as it is. A word pasted into a
//! shell (a suggested command, the curl line) is quoted by [`shell_quote`].

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that change how a terminal shows text rather than being shown: C0 and C1
/// controls, DEL, and the bidirectional formatting characters (Unicode "Trojan Source").
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// One-line text (a name, a summary, a server's message): every hazard, line breaks and tabs
/// included, becomes a visible escape such as `\u{1b}`.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Multi-line text (a description, an error with several lines, a body preview): line breaks
/// and tabs stay, every other hazard becomes a visible escape.
pub fn escape_controls_keep_lines(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_hazard(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !is_hazard(c) || keep(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// The widest cell a table shows: a longer one is cut with `…`. `format!` panics on a width
/// over 65,535, and a definition's name can be longer than that.
pub const CELL_MAX: usize = 80;

/// `text` cut to [`CELL_MAX`] characters, the last one `…` when something was cut.
pub fn cell(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(CELL_MAX - 1) {
        Some((end, _)) if text.chars().count() > CELL_MAX => {
            Cow::Owned(format!("{}…", &text[..end]))
        }
        _ => Cow::Borrowed(text),
    }
}

/// `text` then spaces up to `width` characters, without a `format!` width.
pub fn pad(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let used = text.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
}

/// `mv <path> <path>.bak` with both paths quoted, for hints about a file in the way.
pub fn move_away_command(path: &std::path::Path) -> String {
    let path = path.display().to_string();
    format!(
        "mv {} {}",
        shell_quote(&path),
        shell_quote(&format!("{path}.bak"))
    )
}

/// One shell word for POSIX shells (sh, dash, bash, zsh) that stands for exactly `text`.
/// Plain words stay bare; the rest is single-quoted, where nothing is special but `'`.
/// Characters a terminal would obey (ESC, `\r`, bidi overrides) are not printed raw: they are
/// spliced in as `"$(printf '\033')"`, which POSIX `printf` turns back into the same bytes.
/// Line breaks and tabs stay literal inside the quotes (`$(...)` would drop a final one).
pub fn shell_quote(text: &str) -> String {
    let bare = |b: u8| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b);
    // zsh expands a word that starts with `=` (`=ls` is the path of ls).
    if text.is_empty() {
        return "''".to_string();
    }
    if text.bytes().all(bare) && !text.starts_with('=') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    let mut quoted = false;
    let mut hazards = String::new();
    for c in text.chars() {
        if is_hazard(c) && c != '\n' && c != '\t' {
            if quoted {
                out.push('\'');
                quoted = false;
            }
            let mut bytes = [0; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                let _ = write!(hazards, "\\{b:03o}");
            }
            continue;
        }
        if !hazards.is_empty() {
            let _ = write!(out, "\"$(printf '{}')\"", std::mem::take(&mut hazards));
        }
        if !quoted {
            out.push('\'');
            quoted = true;
        }
        match c {
            '\'' => out.push_str("'\\''"),
            c => out.push(c),
        }
    }
    if !hazards.is_empty() {
        let _ = write!(out, "\"$(printf '{hazards}')\"");
    }
    if quoted {
        out.push('\'');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "getUser — Grüße, 日本 \"quoted\" \\ back";
        assert!(matches!(escape_controls(text), Cow::Borrowed(t) if t == text));
        assert!(matches!(
            escape_controls_keep_lines("a\n\tb"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn controls_become_visible() {
        assert_eq!(escape_controls("\u{1b}[31mred\r\n"), "\\u{1b}[31mred\\r\\n");
        assert_eq!(
            escape_controls("a\u{0}b\u{7f}c\u{9b}d"),
            "a\\u{0}b\\u{7f}c\\u{9b}d"
        );
        assert_eq!(
            escape_controls("x\u{202e}y\u{2066}z"),
            "x\\u{202e}y\\u{2066}z"
        );
        assert_eq!(escape_controls("a\tb"), "a\\tb");
    }

    #[test]
    fn long_cells_are_cut_and_padding_needs_no_format_width() {
        let long = "é".repeat(70_000);
        let cut = cell(&long);
        assert_eq!(cut.chars().count(), CELL_MAX);
        assert!(cut.ends_with('…'));
        let fits = "x".repeat(CELL_MAX);
        assert!(matches!(cell(&fits), Cow::Borrowed(_)));
        let mut out = String::new();
        pad(&mut out, "ab", 70_000);
        assert_eq!(out.len(), 70_000);
        pad(&mut out, "too long", 2);
        assert!(out.ends_with("too long"));
    }

    #[test]
    fn multi_line_text_keeps_its_lines() {
        assert_eq!(
            escape_controls_keep_lines("line 1\n\tline 2\r\n\u{1b}]0;title\u{7}"),
            "line 1\n\tline 2\\r\n\\u{1b}]0;title\\u{7}"
        );
    }
}
