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
    let palette = if colour { &COLOURS } else { &PLAIN };
    let mut out = Vec::with_capacity(input.len() + input.len() / 4);
    let mut depth = 0usize;
    // For each open container: is the next string a key?
    let mut in_object: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        if layout == Layout::Pretty {
            out.push(b'\n');
            out.resize(out.len() + depth * 2, b' ');
        }
    };
    while i < input.len() {
        let b = input[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                let next = next_significant(input, i + 1);
                if next == Some(close) {
                    out.extend_from_slice(&[b, close]);
                    i = skip_to(input, i + 1, close) + 1;
                    continue;
                }
                out.push(b);
                depth += 1;
                in_object.push(b == b'{');
                expect_key = b == b'{';
                newline(&mut out, depth);
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                in_object.pop();
                newline(&mut out, depth);
                out.push(b);
                expect_key = false;
                i += 1;
            }
            b',' => {
                out.push(b',');
                newline(&mut out, depth);
                expect_key = in_object.last().copied().unwrap_or(false);
                i += 1;
            }
            b':' => {
                out.push(b':');
                if layout == Layout::Pretty {
                    out.push(b' ');
                }
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let end = string_end(input, i);
                out.extend_from_slice(
                    if expect_key {
                        palette.key
                    } else {
                        palette.string
                    }
                    .as_bytes(),
                );
                out.extend_from_slice(&input[i..end]);
                out.extend_from_slice(palette.reset.as_bytes());
                i = end;
            }
            _ => {
                let end = input[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(input.len(), |p| i + p);
                let token = &input[i..end];
                let colour = match token[0] {
                    b't' | b'f' => palette.literal,
                    b'n' => palette.null,
                    _ => palette.number,
                };
                out.extend_from_slice(colour.as_bytes());
                out.extend_from_slice(token);
                out.extend_from_slice(palette.reset.as_bytes());
                i = end;
            }
        }
    }
    out.push(b'\n');
    out
}

fn next_significant(input: &[u8], from: usize) -> Option<u8> {
    input[from..]
        .iter()
        .copied()
        .find(|c| !c.is_ascii_whitespace())
}

fn skip_to(input: &[u8], from: usize, target: u8) -> usize {
    input[from..]
        .iter()
        .position(|c| *c == target)
        .map_or(input.len(), |p| from + p)
}

/// The index just past the closing quote of the string starting at `start`.
fn string_end(input: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < input.len() {
        match input[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    input.len()
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
    fn validity_check() {
        assert!(is_json(b" {\"a\":1} "));
        assert!(!is_json(b"<html>"));
    }
}
