//! Everything the user sees of a request and its answer: the dry-run and verbose views of the
//! request (credentials masked), the response body formatted for a terminal or a pipe,
//! `--jsonata` results, `-o` files, and the status line for `-i`.

pub mod json_fmt;
pub mod jsonata;
pub mod pager;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use json_fmt::Layout;

use crate::error::{Error, Result};
use crate::request::{is_sensitive, PreparedRequest};
use crate::secret::mask;
use crate::text::{escape_controls, escape_controls_keep_lines};
use crate::transport::Response;

/// How the answer is shown; derived once from the flags and the terminal.
#[derive(Debug, Clone)]
pub struct Settings {
    pub layout: Layout,
    pub colour: bool,
    pub jsonata: Option<String>,
    pub output_file: Option<PathBuf>,
    pub stdout_is_terminal: bool,
}

fn shown_header_value(name: &str, value: &str) -> String {
    if is_sensitive(name) {
        mask(value)
    } else {
        value.to_string()
    }
}

fn body_preview(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) => text.to_string(),
        Err(_) => format!("({} bytes of binary data)", body.len()),
    }
}

/// The request line, headers (credentials masked) and body, each line behind `prefix`.
/// Values and the body may come from files and definitions: their control characters are
/// shown as escapes (`\u{1b}`), not handed to the terminal.
fn write_request(out: &mut dyn Write, request: &PreparedRequest, prefix: &str) -> io::Result<()> {
    writeln!(
        out,
        "{prefix}{} {}",
        request.method.as_str(),
        escape_controls(&request.url)
    )?;
    for header in &request.headers {
        writeln!(
            out,
            "{prefix}{}: {}",
            escape_controls(&header.name),
            escape_controls(&shown_header_value(&header.name, header.value.expose()))
        )?;
    }
    if let Some(body) = &request.body {
        writeln!(out, "{}", prefix.trim_end())?;
        // Line by line, so a CRLF line end (multipart) stays a line end.
        for line in body_preview(body).lines() {
            writeln!(out, "{prefix}{}", escape_controls_keep_lines(line))?;
        }
    }
    writeln!(out)
}

/// `--dry-run`: the request as it would be sent, then a curl command that sends it.
pub fn write_dry_run(out: &mut dyn Write, request: &PreparedRequest) -> io::Result<()> {
    write_request(out, request, "")?;
    writeln!(out, "# the same request with curl:")?;
    writeln!(out, "{}", crate::request::curl::command(request))
}

/// The request as `--dry-run` shows it, without the curl command: `--guided`'s last look
/// before sending.
pub fn write_preview(out: &mut dyn Write, request: &PreparedRequest) -> io::Result<()> {
    write_request(out, request, "")
}

/// `-v`: the request on stderr, `>`-prefixed like curl.
pub fn write_request_trace(err: &mut dyn Write, request: &PreparedRequest) -> io::Result<()> {
    write_request(err, request, "> ")
}

/// `-i`/`-v`: the status line and response headers on stderr.
pub fn write_response_head(err: &mut dyn Write, response: &Response) -> io::Result<()> {
    writeln!(
        err,
        "< {} {} {}",
        response.version, response.status, response.reason
    )?;
    for (name, value) in &response.headers {
        writeln!(
            err,
            "< {name}: {}",
            escape_controls(&shown_header_value(name, value))
        )?;
    }
    writeln!(err)
}

/// How much of an answer is looked at before deciding how to print it.
const SNIFF: usize = 64 * 1024;

/// Writes the response body to stdout (or `-o`), streaming it: only `--jsonata` needs the
/// whole document in memory. A JSONata failure comes back as an error for the exit code.
pub fn write_body(
    out: &mut dyn Write,
    err: &mut dyn Write,
    response: &mut Response,
    settings: &Settings,
) -> Result<()> {
    let success = (200..300).contains(&response.status);
    let json_type = response
        .header("content-type")
        .is_some_and(crate::spec::is_json_media_type);

    if let (Some(expression), true) = (&settings.jsonata, success) {
        let body = response.read_all()?;
        let text = std::str::from_utf8(&body)
            .ok()
            .filter(|_| json_fmt::is_json(&body))
            .ok_or_else(|| {
                Error::usage(
                    "--jsonata needs a JSON response, but the server answered with something else",
                )
                .with_help("run without --jsonata to see the response")
            })?;
        let outcome = jsonata::evaluate(
            expression,
            Some(text),
            &HashMap::new(),
            jsonata::Limits::default(),
        )
        .map_err(|e| {
            Error::usage(format!(
                "JSONata expression `{expression}` failed: {}",
                e.message
            ))
            .with_help("see https://docs.jsonata.org for the syntax")
        })?;
        let bytes = match outcome {
            jsonata::Outcome::Nothing => return Ok(()),
            jsonata::Outcome::Text(text) => format!("{text}\n").into_bytes(),
            jsonata::Outcome::Json(json) => {
                let colour = settings.colour && settings.output_file.is_none();
                json_fmt::format(json.as_bytes(), settings.layout, colour)
            }
        };
        return match &settings.output_file {
            Some(path) => write_file(path, &mut bytes.as_slice()),
            None => out.write_all(&bytes).map_err(io_error),
        };
    }

    if let Some(path) = &settings.output_file {
        return write_file(path, &mut response.body);
    }

    let mut first = Vec::with_capacity(SNIFF);
    (&mut response.body)
        .take(SNIFF as u64)
        .read_to_end(&mut first)
        .map_err(read_error)?;
    if first.is_empty() {
        return Ok(());
    }
    let starts_like_json = matches!(
        first.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    );
    if starts_like_json && (json_type || json_fmt::is_json(&first)) {
        let mut formatter = json_fmt::Formatter::new(settings.layout, settings.colour);
        let mut buffer = Vec::with_capacity(SNIFF * 2);
        let mut chunk = first;
        loop {
            formatter.feed(&chunk, &mut buffer);
            out.write_all(&buffer).map_err(io_error)?;
            buffer.clear();
            chunk.clear();
            if (&mut response.body)
                .take(SNIFF as u64)
                .read_to_end(&mut chunk)
                .map_err(read_error)?
                == 0
            {
                break;
            }
        }
        formatter.finish(&mut buffer);
        return out.write_all(&buffer).map_err(io_error);
    }
    // A multi-byte character cut at the sniff boundary is not binary.
    let valid_up_to = match std::str::from_utf8(&first) {
        Ok(_) => first.len(),
        Err(e) if e.error_len().is_none() => first.len(),
        Err(e) => e.valid_up_to(),
    };
    let binary = valid_up_to < first.len() || first.contains(&0);
    if binary && settings.stdout_is_terminal {
        writeln!(
            err,
            "note: the body is binary data; not shown on a terminal"
        )
        .and_then(|_| writeln!(err, "help: save it with -o FILE, or pipe it to a program"))
        .map_err(io_error)?;
        return Ok(());
    }
    out.write_all(&first).map_err(io_error)?;
    let mut last = first.last().copied();
    let mut chunk = Vec::with_capacity(SNIFF);
    while (&mut response.body)
        .take(SNIFF as u64)
        .read_to_end(&mut chunk)
        .map_err(read_error)?
        > 0
    {
        out.write_all(&chunk).map_err(io_error)?;
        last = chunk.last().copied();
        chunk.clear();
    }
    if !binary && last != Some(b'\n') && settings.stdout_is_terminal {
        out.write_all(b"\n").map_err(io_error)?;
    }
    Ok(())
}

fn read_error(e: std::io::Error) -> Error {
    Error::network(format!(
        "the connection broke while reading the answer: {e}"
    ))
}

/// Streams `body` into `path`.
fn write_file(path: &PathBuf, body: &mut dyn Read) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| {
        Error::usage(format!(
            "cannot write the response to {}: {e}",
            path.display()
        ))
    })?;
    std::io::copy(body, &mut file).map_err(|e| {
        Error::usage(format!(
            "cannot write the response to {}: {e}",
            path.display()
        ))
    })?;
    Ok(())
}

/// Output errors: a closed pipe is not a failure worth a message (the caller exits 0).
pub fn io_error(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Error::new(crate::error::ErrorKind::Usage, BROKEN_PIPE)
    } else {
        Error::usage(format!("cannot write output: {e}"))
    }
}

pub const BROKEN_PIPE: &str = "broken pipe";

/// The one-line summary of an error answer for stderr: "the server answered 404 Not Found:
/// <message from the body>".
pub fn status_summary(response: &Response, body: &[u8]) -> String {
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            ["message", "error", "detail", "title"]
                .iter()
                .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_string))
        });
    let mut line = format!(
        "the server answered {} {}",
        response.status, response.reason
    );
    if let Some(detail) = detail {
        line.push_str(": ");
        line.push_str(&detail);
    }
    line.trim_end().to_string()
}
