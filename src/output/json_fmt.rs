//! Re-indents JSON text token by token, without building a tree: numbers, escapes and key
//! order come out exactly as the server sent them, and it costs one pass over the bytes.
//! The caller checks validity first; this assumes well-formed input.

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

pub fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
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

    fn newline(&self, out: &mut Vec<u8>) {
        if self.layout == Layout::Pretty {
            out.push(b'\n');
            out.resize(out.len() + self.depth * 2, b' ');
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
                self.newline(out);
            }
            match b {
                b'{' | b'[' => self.pending_open = Some(b),
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.containers.pop();
                    self.newline(out);
                    out.push(b);
                    self.expect_key = false;
                }
                b',' => {
                    out.push(b',');
                    self.newline(out);
                    self.expect_key = self.containers.last().copied().unwrap_or(false);
                }
                b':' => {
                    out.push(b':');
                    if self.layout == Layout::Pretty {
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
}
