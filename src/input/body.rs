//! Where the request body comes from: `-d` text, `-d @file`, `-d @-`, piped stdin, or `-F`
//! form fields. JSON syntax is checked with the schemas (`validate`), which parse the body
//! once for both.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::spec::{is_json_media_type, Operation};

/// A body as the user supplied it, before it is encoded for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyInput {
    /// Raw bytes (JSON text, or any other content type, sent as given).
    Raw(Vec<u8>),
    /// Fields for multipart or urlencoded bodies.
    Form(Vec<FormField>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub name: String,
    pub value: FormValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    Text(String),
    File {
        path: String,
        file_name: String,
        contents: Vec<u8>,
    },
}

/// Standard input as the body source: whether it is a terminal, and how to read it.
pub struct Stdin<'a> {
    pub is_terminal: bool,
    pub reader: &'a mut dyn Read,
}

pub fn collect(
    op: &Operation,
    data: Option<&str>,
    form: &[String],
    stdin: Stdin<'_>,
) -> Result<Option<BodyInput>> {
    // -d with -F is refused by the parser (`cli::CONTRADICTIONS`).
    if !form.is_empty() {
        refuse_form_unless_accepted(op)?;
        return form_fields(form).map(|fields| Some(BodyInput::Form(fields)));
    }
    let bytes = match data {
        Some("@-") => Some(read_stdin(stdin.reader)?),
        Some(data) if data.starts_with('@') => Some(read_file(&data[1..])?),
        Some(data) => Some(data.as_bytes().to_vec()),
        // Piped input is the body, but only for operations that take one; never wait on a terminal.
        None if op.body.is_some() && !stdin.is_terminal => {
            Some(read_stdin(stdin.reader)?).filter(|b| !b.iter().all(u8::is_ascii_whitespace))
        }
        None => None,
    };
    Ok(bytes.map(BodyInput::Raw))
}

/// `-F` builds a multipart or urlencoded body; an operation whose body takes neither (only
/// JSON, say) would get a body it never asked for, so nothing is sent. An operation that
/// declares no body is warned about later, as with `-d`.
fn refuse_form_unless_accepted(op: &Operation) -> Result<()> {
    let Some(declared) = &op.body else {
        return Ok(());
    };
    if declared.content_types.iter().any(|t| accepts_form(t)) {
        return Ok(());
    }
    let how = if declared.is_json() {
        "pass the body as JSON with -d '{...}', -d @file or on stdin"
    } else {
        "pass the body with -d @file, -d '...' or on stdin"
    };
    Err(Error::usage(format!(
        "`{}` takes its body as {}, not as form fields (-F)",
        op.entry.name,
        declared.content_types.join(" or ")
    ))
    .with_help(format!("nothing was sent; {how}")))
}

fn accepts_form(media_type: &str) -> bool {
    let essence = essence(media_type);
    essence == "*/*" || essence.starts_with("multipart/") || essence == URLENCODED
}

const URLENCODED: &str = "application/x-www-form-urlencoded";

fn essence(media_type: &str) -> String {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    essence.to_ascii_lowercase()
}

/// Whether `-F` fields go urlencoded rather than as multipart: when the first form media type
/// the operation lists is urlencoded (also when it prefers JSON for `-d`).
pub fn form_is_urlencoded(op: &Operation) -> bool {
    op.body.as_ref().is_some_and(|b| {
        b.content_types
            .iter()
            .map(|t| essence(t))
            .find(|t| t.starts_with("multipart/") || t == URLENCODED)
            .is_some_and(|t| t == URLENCODED)
    })
}

/// Whether a raw body for `op` is meant to be JSON (also when the operation declares no body).
pub fn expects_json(op: &Operation) -> bool {
    op.body
        .as_ref()
        .is_none_or(|b| is_json_media_type(&b.content_type))
}

/// The largest request body (or `-F` file) epilot reads into memory. A body comes whole into
/// memory, where it is validated and sent; without a limit `-d @/dev/zero` or an endless pipe
/// would take all of it.
pub const MAX_BODY_INPUT: u64 = 256 * 1024 * 1024;

/// Reads at most [`MAX_BODY_INPUT`] bytes of `source`, or says which input was too large.
fn read_capped(source: &mut dyn Read, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    source
        .take(MAX_BODY_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::usage(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_BODY_INPUT {
        return Err(Error::usage(format!(
            "{what} is larger than {} MB, the most epilot reads into memory; nothing was sent",
            MAX_BODY_INPUT / (1024 * 1024)
        ))
        .with_help("send such a file with curl --data-binary @FILE, or split it"));
    }
    Ok(bytes)
}

fn read_stdin(reader: &mut dyn Read) -> Result<Vec<u8>> {
    read_capped(reader, "the request body from stdin")
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    let help = "-d @FILE reads a file; -d @- reads stdin; -d '{...}' is the body itself";
    let what = format!("the request body from `{path}`");
    let mut file = std::fs::File::open(Path::new(path))
        .map_err(|e| Error::usage(format!("cannot read {what}: {e}")).with_help(help))?;
    read_capped(&mut file, &what)
}

/// A JSON syntax check that reports where the text broke.
pub fn check_json(bytes: &[u8]) -> Result<()> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(drop)
        .map_err(syntax_error)
}

/// Where and why a JSON body broke, as the user's error.
pub fn syntax_error(e: serde_json::Error) -> Error {
    let message = e.to_string();
    let reason = message
        .find(" at line ")
        .map_or(message.as_str(), |at| &message[..at]);
    Error::usage(format!(
        "the request body is not valid JSON: {reason} at line {} column {}",
        e.line(),
        e.column()
    ))
    .with_help("nothing was sent; fix the JSON (strings need double quotes) and try again")
}

fn form_fields(form: &[String]) -> Result<Vec<FormField>> {
    form.iter()
        .map(|field| {
            let Some((name, value)) = field.split_once('=') else {
                return Err(
                    Error::usage(format!("`-F {field}` has no value")).with_help(format!(
                        "write -F {field}=VALUE, or -F {field}=@FILE to upload a file"
                    )),
                );
            };
            let value = match value.strip_prefix('@') {
                Some(path) => FormValue::File {
                    path: path.to_string(),
                    file_name: Path::new(path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.to_string()),
                    contents: {
                        let what = format!("`{path}` for -F {name}");
                        let mut file = std::fs::File::open(path)
                            .map_err(|e| Error::usage(format!("cannot read {what}: {e}")))?;
                        read_capped(&mut file, &what)?
                    },
                },
                None => FormValue::Text(value.to_string()),
            };
            Ok(FormField {
                name: name.to_string(),
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::index;
    use serde_json::json;

    fn op(content_type: Option<&str>) -> Operation {
        let mut operation = json!({"operationId": "x", "responses": {}});
        if let Some(ct) = content_type {
            operation["requestBody"] = json!({"content": {ct: {"schema": {"type": "object"}}}});
        }
        let doc = json!({"openapi": "3.0.0", "paths": {"/x": {"post": operation}}});
        let api = index::index("t", &doc);
        index::resolve_operation(&doc, &api.operations[0]).unwrap()
    }

    fn run(
        op: &Operation,
        data: Option<&str>,
        stdin: &str,
        is_terminal: bool,
    ) -> Result<Option<BodyInput>> {
        let mut reader = stdin.as_bytes();
        collect(
            op,
            data,
            &[],
            Stdin {
                is_terminal,
                reader: &mut reader,
            },
        )
    }

    #[test]
    fn form_fields_need_an_operation_that_takes_a_form() {
        let form = ["name=x".to_string()];
        let with = |op: &Operation| {
            let mut reader = "".as_bytes();
            collect(
                op,
                None,
                &form,
                Stdin {
                    is_terminal: true,
                    reader: &mut reader,
                },
            )
        };
        let err = with(&op(Some("application/json"))).unwrap_err();
        assert_eq!(
            err.message,
            "`x` takes its body as application/json, not as form fields (-F)"
        );
        assert!(err.help.unwrap().contains("-d '{...}'"));
        for accepted in [
            Some("multipart/form-data"),
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            Some("*/*"),
            None,
        ] {
            assert!(
                matches!(with(&op(accepted)), Ok(Some(BodyInput::Form(_)))),
                "{accepted:?}"
            );
        }
    }

    #[test]
    fn data_flag_wins_over_stdin() {
        let op = op(Some("application/json"));
        assert_eq!(
            run(&op, Some(r#"{"a":1}"#), "[2]", false).unwrap(),
            Some(BodyInput::Raw(br#"{"a":1}"#.to_vec()))
        );
    }

    #[test]
    fn a_syntax_error_says_where_the_json_broke() {
        let err = check_json(b"{\"a\":\n 1,}").unwrap_err();
        assert!(err.message.contains("line 2 column 4"), "{}", err.message);
        // The validator's own parse reports the same place, also past a bad UTF-8 byte.
        let err = syntax_error(crate::validate::Instance::parse(b"{\"a\":\n 1,}").unwrap_err());
        assert!(err.message.contains("line 2 column 4"), "{}", err.message);
        let err = syntax_error(crate::validate::Instance::parse(b"[\n\"\xff\"]").unwrap_err());
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn piped_stdin_is_the_body_only_when_the_operation_takes_one() {
        assert_eq!(
            run(&op(Some("application/json")), None, "[1]", false).unwrap(),
            Some(BodyInput::Raw(b"[1]".to_vec()))
        );
        assert_eq!(run(&op(None), None, "[1]", false).unwrap(), None);
        assert_eq!(
            run(&op(Some("application/json")), None, "[1]", true).unwrap(),
            None,
            "a terminal is never read"
        );
        assert_eq!(
            run(&op(Some("application/json")), None, " \n", false).unwrap(),
            None
        );
    }

    #[test]
    fn non_json_content_is_sent_as_given() {
        let op = op(Some("text/plain"));
        assert_eq!(
            run(&op, Some("not json"), "", false).unwrap(),
            Some(BodyInput::Raw(b"not json".to_vec()))
        );
    }

    #[test]
    fn at_minus_reads_stdin_and_missing_files_are_explained() {
        let op = op(Some("application/json"));
        assert_eq!(
            run(&op, Some("@-"), "{}", true).unwrap(),
            Some(BodyInput::Raw(b"{}".to_vec()))
        );
        let err = run(&op, Some("@/nonexistent/body.json"), "", false).unwrap_err();
        assert!(err.message.contains("/nonexistent/body.json"));
    }
}
