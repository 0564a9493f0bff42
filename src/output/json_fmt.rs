//! Re-indents JSON text token by token, without building a tree: numbers, escapes and key
//! order come out exactly as the server sent them, and it costs one pass over the bytes.
//! The caller checks validity first ([`Checker`]); the formatter assumes well-formed input.
//! Neither recurses, so an answer nested 100,000 deep costs no stack, and past
//! [`MAX_INDENTED_DEPTH`] the formatter stops indenting, so the output stays near the input's size.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Pretty,
    Compact,
}

/// ANSI colours for the token kinds (the jq palette people know).
struct Palette {
    key: &'static str,
    string: &'static str,
    number: &'static str,
    literal: &'static str,
    null: &'static str,
    reset: &'static str,
}

const COLOURS: Palette = Palette {
    key: "\x1b[34;1m",
    string: "\x1b[32m",
    number: "\x1b[36m",
    literal: "\x1b[33m",
    null: "\x1b[90m",
    reset: "\x1b[0m",
};

const PLAIN: Palette = Palette {
    key: "",
    string: "",
    number: "",
    literal: "",
    null: "",
    reset: "",
};

/// Containers nested deeper than this print on one line: indentation grows with depth, so a
/// deeply nested answer would otherwise print quadratically more bytes than it has (2 KB of
/// spaces a line at depth 1,000). 256 levels stay readable and cost at most 64 K spaces.
pub const MAX_INDENTED_DEPTH: usize = 256;

/// Whether `bytes` is one complete JSON text (no depth limit, no recursion).
pub fn is_json(bytes: &[u8]) -> bool {
    let mut checker = Checker::default();
    checker.feed(bytes) && checker.finish()
}

/// Formats valid JSON `input`; ends with a newline.
pub fn format(input: &[u8], layout: Layout, colour: bool) -> Vec<u8> {
    let mut formatter = Formatter::new(layout, colour);
    let mut out = Vec::with_capacity(input.len() + input.len() / 4);
    formatter.feed(input, &mut out);
    formatter.finish(&mut out);
    out
}

/// A re-indenting JSON formatter fed in chunks of any size, so an answer of any length
/// streams through in constant memory. Input that is not JSON comes out re-spaced but whole.
pub struct Formatter {
    layout: Layout,
    palette: &'static Palette,
    depth: usize,
    /// For each open container: is it an object (whose strings alternate key, value)?
    containers: Vec<bool>,
    expect_key: bool,
    /// `{` or `[` seen, waiting for the next token to tell `{}` from `{ ...`.
    pending_open: Option<u8>,
    in_string: bool,
    escaped: bool,
    in_scalar: bool,
}

impl Formatter {
    pub fn new(layout: Layout, colour: bool) -> Formatter {
        Formatter {
            layout,
            palette: if colour { &COLOURS } else { &PLAIN },
            depth: 0,
            containers: Vec::new(),
            expect_key: false,
            pending_open: None,
            in_string: false,
            escaped: false,
            in_scalar: false,
        }
    }

    /// A line break before content at `inner` depth, indented to `indent`; nothing inside a
    /// container nested past [`MAX_INDENTED_DEPTH`].
    fn newline(&self, out: &mut Vec<u8>, inner: usize, indent: usize) {
        if self.layout == Layout::Pretty && inner <= MAX_INDENTED_DEPTH {
            out.push(b'\n');
            out.resize(out.len() + indent * 2, b' ');
        }
    }

    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            if self.in_string {
                // Copy the run up to the next quote or backslash at once.
                let run = chunk[i..]
                    .iter()
                    .position(|c| *c == b'"' || *c == b'\\')
                    .unwrap_or(chunk.len() - i);
                if self.escaped && run == 0 {
                    out.push(b);
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                if run > 0 {
                    out.extend_from_slice(&chunk[i..i + run]);
                    self.escaped = false;
                    i += run;
                    continue;
                }
                out.push(b);
                if b == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    out.extend_from_slice(self.palette.reset.as_bytes());
                }
                i += 1;
                continue;
            }
            if self.in_scalar {
                if matches!(b, b',' | b'}' | b']' | b':' | b' ' | b'\t' | b'\n' | b'\r') {
                    self.in_scalar = false;
                    out.extend_from_slice(self.palette.reset.as_bytes());
                } else {
                    out.push(b);
                    i += 1;
                    continue;
                }
            }
            i += 1;
            if b.is_ascii_whitespace() {
                continue;
            }
            if let Some(open) = self.pending_open.take() {
                let close = if open == b'{' { b'}' } else { b']' };
                if b == close {
                    out.extend_from_slice(&[open, close]);
                    continue;
                }
                out.push(open);
                self.depth += 1;
                self.containers.push(open == b'{');
                self.expect_key = open == b'{';
                self.newline(out, self.depth, self.depth);
            }
            match b {
                b'{' | b'[' => self.pending_open = Some(b),
                b'}' | b']' => {
                    let inner = self.depth;
                    self.depth = self.depth.saturating_sub(1);
                    self.containers.pop();
                    self.newline(out, inner, self.depth);
                    out.push(b);
                    self.expect_key = false;
                }
                b',' => {
                    out.push(b',');
                    self.newline(out, self.depth, self.depth);
                    self.expect_key = self.containers.last().copied().unwrap_or(false);
                }
                b':' => {
                    out.push(b':');
                    if self.layout == Layout::Pretty && self.depth <= MAX_INDENTED_DEPTH {
                        out.push(b' ');
                    }
                    self.expect_key = false;
                }
                b'"' => {
                    let colour = if self.expect_key {
                        self.palette.key
                    } else {
                        self.palette.string
                    };
                    out.extend_from_slice(colour.as_bytes());
                    out.push(b'"');
                    self.in_string = true;
                }
                _ => {
                    let colour = match b {
                        b't' | b'f' => self.palette.literal,
                        b'n' => self.palette.null,
                        _ => self.palette.number,
                    };
                    out.extend_from_slice(colour.as_bytes());
                    out.push(b);
                    self.in_scalar = true;
                }
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.in_scalar || self.in_string {
            out.extend_from_slice(self.palette.reset.as_bytes());
        }
        if let Some(open) = self.pending_open.take() {
            out.push(open);
        }
        out.push(b'\n');
    }
}

/// A JSON syntax check fed in chunks of any size: one state and one bit per open container,
/// no recursion, so it answers for answers of any size and depth. It does not check UTF-8
/// (the formatter copies string bytes as they are).
#[derive(Debug, Default)]
pub struct Checker {
    /// For each open container: is it an object?
    containers: Vec<bool>,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// A value must come: at the start, after `:`, after `,` in an array.
    #[default]
    Value,
    /// Just after `[`: a value or `]`.
    ValueOrClose,
    /// Just after `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    Colon,
    /// After a value: `,`, a closing bracket, or the end at the top level.
    After,
    String {
        key: bool,
        escape: Escape,
    },
    Number(Number),
    /// Inside `true`, `false` or `null`: the bytes still to come.
    Literal(&'static [u8]),
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    /// Inside `\uXXXX`: hex digits still to come.
    Hex(u8),
}

/// Where a number is in `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Minus,
    Zero,
    Integer,
    Dot,
    Fraction,
    E,
    ESign,
    Exponent,
}

impl Number {
    fn next(self, b: u8) -> Option<Number> {
        use Number::*;
        match (self, b) {
            (Minus, b'0') => Some(Zero),
            (Minus, b'1'..=b'9') | (Integer, b'0'..=b'9') => Some(Integer),
            (Zero | Integer, b'.') => Some(Dot),
            (Dot | Fraction, b'0'..=b'9') => Some(Fraction),
            (Zero | Integer | Fraction, b'e' | b'E') => Some(E),
            (E, b'+' | b'-') => Some(ESign),
            (E | ESign | Exponent, b'0'..=b'9') => Some(Exponent),
            _ => None,
        }
    }

    fn complete(self) -> bool {
        matches!(
            self,
            Number::Zero | Number::Integer | Number::Fraction | Number::Exponent
        )
    }
}

impl Checker {
    /// Checks the next bytes; false once the text cannot be JSON whatever follows.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        let mut i = 0;
        while i < chunk.len() && self.state != State::Failed {
            if let State::String {
                escape: Escape::None,
                ..
            } = self.state
            {
                // Copy-free skip over the plain run of a string.
                i += chunk[i..]
                    .iter()
                    .position(|c| matches!(c, b'"' | b'\\' | 0..=0x1f))
                    .unwrap_or(chunk.len() - i);
                if i == chunk.len() {
                    break;
                }
            }
            if self.step(chunk[i]) {
                i += 1;
            }
        }
        self.state != State::Failed
    }

    /// Whether everything fed is one complete JSON text.
    pub fn finish(&self) -> bool {
        self.containers.is_empty()
            && match self.state {
                State::After => true,
                State::Number(n) => n.complete(),
                _ => false,
            }
    }

    fn after_value(&mut self) {
        self.state = State::After;
    }

    /// Takes one byte; false when the byte ends a number and must be looked at again.
    fn step(&mut self, b: u8) -> bool {
        let whitespace = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        self.state = match self.state {
            State::Failed => State::Failed,
            State::String { key, escape } => match (escape, b) {
                (Escape::None, b'"') if key => State::Colon,
                (Escape::None, b'"') => {
                    self.after_value();
                    return true;
                }
                (Escape::None, b'\\') => State::String {
                    key,
                    escape: Escape::Backslash,
                },
                (Escape::None, 0..=0x1f) => State::Failed,
                (Escape::None, _) => State::String { key, escape },
                (Escape::Backslash, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                    State::String {
                        key,
                        escape: Escape::None,
                    }
                }
                (Escape::Backslash, b'u') => State::String {
                    key,
                    escape: Escape::Hex(4),
                },
                (Escape::Hex(left), _) if b.is_ascii_hexdigit() => State::String {
                    key,
                    escape: if left == 1 {
                        Escape::None
                    } else {
                        Escape::Hex(left - 1)
                    },
                },
                _ => State::Failed,
            },
            State::Number(n) => match n.next(b) {
                Some(next) => State::Number(next),
                None if n.complete() => {
                    self.after_value();
                    return false;
                }
                None => State::Failed,
            },
            State::Literal(rest) => match rest.split_first() {
                Some((&expected, [])) if b == expected => {
                    self.after_value();
                    return true;
                }
                Some((&expected, tail)) if b == expected => State::Literal(tail),
                _ => State::Failed,
            },
            _ if whitespace => self.state,
            State::Value | State::ValueOrClose => match b {
                b']' if self.state == State::ValueOrClose => return self.close(false),
                b'{' => {
                    self.containers.push(true);
                    State::KeyOrClose
                }
                b'[' => {
                    self.containers.push(false);
                    State::ValueOrClose
                }
                b'"' => State::String {
                    key: false,
                    escape: Escape::None,
                },
                b'-' => State::Number(Number::Minus),
                b'0' => State::Number(Number::Zero),
                b'1'..=b'9' => State::Number(Number::Integer),
                b't' => State::Literal(b"rue"),
                b'f' => State::Literal(b"alse"),
                b'n' => State::Literal(b"ull"),
                _ => State::Failed,
            },
            State::KeyOrClose | State::Key => match b {
                b'}' if self.state == State::KeyOrClose => return self.close(true),
                b'"' => State::String {
                    key: true,
                    escape: Escape::None,
                },
                _ => State::Failed,
            },
            State::Colon => match b {
                b':' => State::Value,
                _ => State::Failed,
            },
            State::After => match (b, self.containers.last()) {
                (b',', Some(true)) => State::Key,
                (b',', Some(false)) => State::Value,
                (b'}', Some(true)) => return self.close(true),
                (b']', Some(false)) => return self.close(false),
                _ => State::Failed,
            },
        };
        true
    }

    fn close(&mut self, object: bool) -> bool {
        if self.containers.pop() == Some(object) {
            self.after_value();
        } else {
            self.state = State::Failed;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(text: &str) -> String {
        String::from_utf8(format(text.as_bytes(), Layout::Pretty, false)).unwrap()
    }

    #[test]
    fn pretty_matches_the_usual_two_space_layout() {
        let text = r#"{"b":1,"a":[true,null,{"x":"y"}],"e":{},"f":[]}"#;
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            pretty(text),
            serde_json::to_string_pretty(&value).unwrap() + "\n"
        );
    }

    #[test]
    fn numbers_and_escapes_are_kept_verbatim() {
        assert_eq!(pretty(r#"{"n":1.0e+400,"big":12345678901234567890123,"s":"a\"b\\"}"#),
            "{\n  \"n\": 1.0e+400,\n  \"big\": 12345678901234567890123,\n  \"s\": \"a\\\"b\\\\\"\n}\n");
    }

    #[test]
    fn compact_removes_whitespace_outside_strings() {
        let out = format(b"{ \"a b\" : [ 1 , 2 ] }", Layout::Compact, false);
        assert_eq!(out, b"{\"a b\":[1,2]}\n");
    }

    #[test]
    fn colour_marks_keys_and_values_differently() {
        let out = String::from_utf8(format(
            br#"{"k":"v","n":1,"t":true,"z":null}"#,
            Layout::Compact,
            true,
        ))
        .unwrap();
        assert!(out.contains("\x1b[34;1m\"k\"\x1b[0m"));
        assert!(out.contains("\x1b[32m\"v\"\x1b[0m"));
        assert!(out.contains("\x1b[36m1\x1b[0m"));
        assert!(out.contains("\x1b[33mtrue\x1b[0m"));
        assert!(out.contains("\x1b[90mnull\x1b[0m"));
    }

    #[test]
    fn chunk_boundaries_anywhere_give_the_same_output() {
        let text =
            br#"{"a b":"x\"y","n":-1.5e3,"t":[true,false,null],"e":{},"o":{"k":[1,{"z":[]}]}}"#;
        let whole = format(text, Layout::Pretty, true);
        for size in 1..8 {
            let mut formatter = Formatter::new(Layout::Pretty, true);
            let mut out = Vec::new();
            for chunk in text.chunks(size) {
                formatter.feed(chunk, &mut out);
            }
            formatter.finish(&mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(whole.clone()).unwrap(),
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn validity_check() {
        assert!(is_json(b" {\"a\":1} "));
        assert!(!is_json(b"<html>"));
    }

    #[test]
    fn the_checker_agrees_with_serde_json() {
        let cases: &[&[u8]] = &[
            b"{}",
            b"[]",
            b"0",
            b"-0.5e+3",
            b"\"a\\u00e9\\n\"",
            b"true",
            b"null",
            b" [1, {\"a\": [false]}] ",
            b"",
            b"{",
            b"[1,]",
            b"[1 2]",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{1:2}",
            b"01",
            b"1.",
            b"1e",
            b"-",
            b"tru",
            b"nul",
            b"\"a",
            b"\"\\x\"",
            b"\"\\u12g4\"",
            b"\"\t\"",
            b"[1]]",
            b"[}",
            b"{]",
            b"{\"a\":1,}",
            b"1 2",
            b"[1] x",
            b"{\"a\":1}{",
            b"[-]",
            b"[.5]",
            b"[1.5E-2]",
            b",",
        ];
        for case in cases {
            let expected = serde_json::from_slice::<serde::de::IgnoredAny>(case).is_ok();
            assert_eq!(is_json(case), expected, "{}", String::from_utf8_lossy(case));
            // Fed one byte at a time, the answer is the same.
            let mut checker = Checker::default();
            let fed = case.iter().all(|b| checker.feed(&[*b]));
            assert_eq!(
                fed && checker.finish(),
                expected,
                "bytewise {}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn deep_nesting_is_checked_and_printed_without_recursion() {
        let depth = 100_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(is_json(text.as_bytes()));
        assert!(!is_json(&text.as_bytes()[1..]));
        let out = format(text.as_bytes(), Layout::Pretty, false);
        let indented: usize = (1..=MAX_INDENTED_DEPTH).map(|d| 2 * d).sum();
        assert!(
            out.len() < text.len() + 2 * indented + 4 * MAX_INDENTED_DEPTH,
            "{}",
            out.len()
        );
        assert!(
            out.windows(4).any(|w| w == b"[[[["),
            "the deep part is compact"
        );
    }

    #[test]
    fn past_the_depth_limit_a_subtree_prints_on_one_line() {
        let deep = MAX_INDENTED_DEPTH;
        let text = format!("{}[1,2]{}", "[".repeat(deep), "]".repeat(deep));
        let out = String::from_utf8(format(text.as_bytes(), Layout::Pretty, false)).unwrap();
        let pad = " ".repeat(2 * deep);
        assert!(out.contains(&format!("\n{pad}[1,2]\n")), "{out:?}");
    }
}
