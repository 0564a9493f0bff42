//! Everything the user sees of a request and its answer: the dry-run and verbose views of the
//! request (credentials masked), the response body formatted for a terminal or a pipe,
//! `--jsonata` results, `-o` files (all or nothing), and the status line for `-i`.
//!
//! Memory stays bounded whatever the server sends: bodies stream, error answers keep only a
//! prefix for their summary line, and the steps that need a whole answer (`--jsonata`,
//! `--validate-response`) read at most `--max-answer-size` bytes.

pub(crate) mod docs;
pub mod help;
pub(crate) mod json_fmt;
pub mod jsonata;
pub(crate) mod pager;

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use json_fmt::Layout;

use crate::error::{io_error, Error, Result};
use crate::request::secret::mask;
use crate::request::{is_sensitive, PreparedRequest};
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
    /// The most that `--jsonata` reads into memory (`--max-answer-size`).
    pub max_answer_size: u64,
    /// How long a `--jsonata` evaluation may run: [`JSONATA_TIME_LIMIT`], or `--timeout`
    /// when that is shorter.
    pub jsonata_time_limit: Duration,
}

/// How long a `--jsonata` evaluation may run unless `--timeout` is shorter.
pub const JSONATA_TIME_LIMIT: Duration = Duration::from_secs(10);

fn shown_header_value(masked: bool, value: &str) -> String {
    if masked {
        mask(value)
    } else {
        value.to_string()
    }
}

/// How much of a request body `-v` shows: a 200 MB upload is not dumped on stderr.
const TRACE_BODY_LIMIT: usize = 4 * 1024;

/// The body as text, cut after `limit` bytes (at a character boundary) with a note of how
/// much more there was.
fn body_preview(body: &[u8], limit: Option<usize>) -> String {
    let head = &body[..limit.unwrap_or(usize::MAX).min(body.len())];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // A character cut at the limit is not binary data.
        Err(e) if e.error_len().is_none() && head.len() < body.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return format!("({} bytes of binary data)", body.len()),
    };
    match body.len() - text.len() {
        0 => text.to_string(),
        more => format!("{text}\n… ({more} more bytes)"),
    }
}

/// The request line, headers (credentials masked) and body (its first `body_limit` bytes),
/// each line behind `prefix`. Values and the body may come from files and definitions: their
/// control characters are shown as escapes (`\u{1b}`), not handed to the terminal.
fn write_request(
    out: &mut dyn Write,
    request: &PreparedRequest,
    prefix: &str,
    body_limit: Option<usize>,
) -> io::Result<()> {
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
            escape_controls(&shown_header_value(header.masked, header.value.expose()))
        )?;
    }
    if let Some(body) = &request.body {
        writeln!(out, "{}", prefix.trim_end())?;
        // Line by line, so a CRLF line end (multipart) stays a line end.
        for line in body_preview(body, body_limit).lines() {
            writeln!(out, "{prefix}{}", escape_controls_keep_lines(line))?;
        }
    }
    writeln!(out)
}

/// `--dry-run`: the request as it would be sent, then a curl command that sends it.
/// `token` is the token epilot decided to send: the one header the curl line reads from
/// `$EPILOT_TOKEN`.
pub fn write_dry_run(
    out: &mut dyn Write,
    request: &PreparedRequest,
    token: Option<&crate::request::Token>,
) -> io::Result<()> {
    write_request(out, request, "", None)?;
    writeln!(out, "# the same request with curl:")?;
    writeln!(out, "{}", crate::request::curl::command(request, token))
}

/// The request as `--dry-run` shows it, without the curl command: `--guided`'s last look
/// before sending.
pub fn write_preview(out: &mut dyn Write, request: &PreparedRequest) -> io::Result<()> {
    write_request(out, request, "", None)
}

/// `-v`: the request on stderr, `>`-prefixed like curl.
pub fn write_request_trace(err: &mut dyn Write, request: &PreparedRequest) -> io::Result<()> {
    write_request(err, request, "> ", Some(TRACE_BODY_LIMIT))
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
            escape_controls(&shown_header_value(is_sensitive(name), value))
        )?;
    }
    writeln!(err)
}

/// How much of an answer is looked at before deciding how to print it, and the size of the
/// pieces it is read in.
const SNIFF: usize = 64 * 1024;

/// How much of an answer labelled JSON is held back until its end shows whether it is JSON:
/// held answers that are not are printed exactly as received. Larger ones are formatted as
/// they stream (memory stays flat), and a fault found later is reported after the fact.
const HOLD: usize = 4 * 1024 * 1024;

/// The formatter's input is fed in pieces this small, so that deep indentation (up to 512
/// spaces a line) cannot make one piece's output large.
const FORMAT_PIECE: usize = 1024;

/// How much of an error answer is kept for its summary line.
pub const SUMMARY_PREFIX: usize = 64 * 1024;

/// The default of `--max-answer-size`. Reading an answer whole costs a multiple of its size:
/// measured on a 10 MB answer, about 10× for records of strings (`--jsonata` 116 MB,
/// `--validate-response` 154 MB) and up to 60× for an array of small numbers (`$sort($)`
/// 619 MB, validation 552 MB), so 16 MB keeps the worst case near 1 GB.
pub const DEFAULT_MAX_ANSWER_SIZE: u64 = 16_000_000;

/// Writes the response body to `out` (stdout, or the `-o` file), streaming it: only
/// `--jsonata` needs the whole document in memory, and it reads at most
/// `settings.max_answer_size` bytes. A JSONata failure comes back as an error for the exit
/// code; a broken connection is a network error, never blamed on the output.
pub fn write_body(
    out: &mut dyn Write,
    err: &mut dyn Write,
    response: &Response,
    body: &mut dyn Read,
    settings: &Settings,
) -> Result<()> {
    let write_error = |e: io::Error| match &settings.output_file {
        Some(path) => file_error(path, &e),
        None => io_error(e),
    };
    let success = (200..300).contains(&response.status);
    if let (Some(expression), true) = (&settings.jsonata, success) {
        let bytes = match query(expression, response, body, settings)? {
            Some(bytes) => bytes,
            None => return Ok(()),
        };
        return out.write_all(&bytes).map_err(write_error);
    }
    if settings.output_file.is_some() {
        return copy(body, out, &[], &write_error).map(drop);
    }

    let mut first = Vec::with_capacity(SNIFF);
    if read_piece(body, &mut first)? == 0 {
        return Ok(());
    }
    let json_type = response
        .header("content-type")
        .is_some_and(crate::spec::is_json_media_type);
    let starts_like_json = matches!(
        first.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    );
    if json_type && first.len() < SNIFF && first.iter().all(u8::is_ascii_whitespace) {
        let _ = writeln!(
            err,
            "warning: the answer is labelled JSON but holds only whitespace, which is not JSON; it is printed as received"
        );
    }
    if starts_like_json && (json_type || json_fmt::is_json(&first)) {
        return write_json(first, body, out, err, settings, json_type, &write_error);
    }
    // A multi-byte character cut at the sniff boundary is not binary.
    let valid_up_to = match std::str::from_utf8(&first) {
        Ok(_) => first.len(),
        Err(e) if e.error_len().is_none() => first.len(),
        Err(e) => e.valid_up_to(),
    };
    let binary = valid_up_to < first.len() || first.contains(&0);
    if binary && settings.stdout_is_terminal {
        let _ = writeln!(
            err,
            "note: the body is binary data; not shown on a terminal"
        )
        .and_then(|_| writeln!(err, "help: save it with -o FILE, or pipe it to a program"));
        return Ok(());
    }
    let last = copy(body, out, &first, &write_error)?;
    if !binary && last != Some(b'\n') && settings.stdout_is_terminal {
        out.write_all(b"\n").map_err(write_error)?;
    }
    Ok(())
}

/// `--jsonata` on a successful answer: the bytes to print, or `None` for nothing (JSONata's
/// undefined, or an answer without a body such as a 204).
fn query(
    expression: &str,
    response: &Response,
    body: &mut dyn Read,
    settings: &Settings,
) -> Result<Option<Vec<u8>>> {
    let (bytes, complete) = read_up_to(response, body, settings.max_answer_size)?;
    if !complete {
        return Err(too_large(
            response,
            settings.max_answer_size,
            "--jsonata",
            settings.output_file.is_some(),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if nesting_depth(&bytes) > READ_DEPTH {
        return Err(Error::usage(too_deep("--jsonata"))
            .with_help("run without --jsonata to see it: printing reads any depth"));
    }
    let text = std::str::from_utf8(&bytes)
        .ok()
        .filter(|_| json_fmt::is_json(&bytes))
        .ok_or_else(|| {
            Error::usage(
                "--jsonata needs a JSON response, but the server answered with something else",
            )
            .with_help("run without --jsonata to see the response")
        })?;
    let outcome = jsonata::evaluate_bounded(expression, text.to_string(), jsonata_limits(settings))
        .map_err(|e| jsonata_error(expression, &e, true))?;
    Ok(match outcome {
        jsonata::Outcome::Nothing => None,
        jsonata::Outcome::Text(text) => Some(format!("{text}\n").into_bytes()),
        jsonata::Outcome::Json(json) => {
            let colour = settings.colour && settings.output_file.is_none();
            Some(json_fmt::format(json.as_bytes(), settings.layout, colour))
        }
    })
}

fn jsonata_limits(settings: &Settings) -> jsonata::Limits {
    jsonata::Limits {
        timeout_ms: settings
            .jsonata_time_limit
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX),
        // Reading an answer takes up to about 60 times its size (README "Output").
        max_resident: settings
            .max_answer_size
            .saturating_mul(64)
            .max(jsonata::MAX_RESIDENT),
        ..jsonata::Limits::default()
    }
}

/// A JSONata expression that does not parse or fails on the answer, as the user's error.
pub fn jsonata_error(expression: &str, e: &jsonata::JsonataError, sent: bool) -> Error {
    let help = if e.is_over_limit() {
        "narrow the expression or the answer (a smaller page, fewer fields)"
    } else {
        "see https://docs.jsonata.org for the syntax"
    };
    Error::usage(format!(
        "JSONata expression `{expression}` failed: {}",
        e.message
    ))
    .with_help(if sent {
        help.to_string()
    } else {
        format!("nothing was sent; {help}")
    })
}

/// Prints an answer that starts like JSON: re-indented when it is JSON, exactly as received
/// (with a warning when it claims to be JSON) when it is not.
fn write_json(
    mut held: Vec<u8>,
    body: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
    settings: &Settings,
    labelled: bool,
    write_error: &dyn Fn(io::Error) -> Error,
) -> Result<()> {
    let mut checker = json_fmt::Checker::default();
    let mut valid = checker.feed(&held);
    let mut ended = false;
    while valid && !ended && held.len() < HOLD {
        let before = held.len();
        ended = read_piece(body, &mut held)? == 0;
        valid = checker.feed(&held[before..]);
    }
    let warn = |err: &mut dyn Write, what: String| {
        if labelled {
            let _ = writeln!(err, "warning: the answer is labelled JSON but {what}");
        }
    };
    if !valid || (ended && !checker.finish()) {
        warn(err, "is not valid JSON; it is printed as received".into());
        return copy(body, out, &held, write_error).map(drop);
    }
    let mut formatter = json_fmt::Formatter::new(settings.layout, settings.colour);
    let mut buffer = Vec::new();
    let mut seen = held.len() as u64;
    format_into(&mut formatter, &held, &mut buffer, out, write_error)?;
    drop(held);
    let mut chunk = Vec::with_capacity(SNIFF);
    while !ended {
        chunk.clear();
        ended = read_piece(body, &mut chunk)? == 0;
        if !checker.feed(&chunk) {
            warn(
                err,
                format!(
                    "is not valid JSON past its first {seen} bytes (printed re-indented); the rest is printed as received"
                ),
            );
            out.write_all(b"\n").map_err(write_error)?;
            return copy(body, out, &chunk, write_error).map(drop);
        }
        seen += chunk.len() as u64;
        format_into(&mut formatter, &chunk, &mut buffer, out, write_error)?;
    }
    if !checker.finish() {
        warn(err, "ends before its JSON does (cut off?)".into());
    }
    buffer.clear();
    formatter.finish(&mut buffer);
    out.write_all(&buffer).map_err(write_error)
}

fn format_into(
    formatter: &mut json_fmt::Formatter,
    input: &[u8],
    buffer: &mut Vec<u8>,
    out: &mut dyn Write,
    write_error: &dyn Fn(io::Error) -> Error,
) -> Result<()> {
    for piece in input.chunks(FORMAT_PIECE) {
        buffer.clear();
        formatter.feed(piece, buffer);
        out.write_all(buffer).map_err(write_error)?;
    }
    Ok(())
}

/// Appends the next piece of the body (up to [`SNIFF`] bytes) to `into`; 0 at the end.
fn read_piece(body: &mut dyn Read, into: &mut Vec<u8>) -> Result<usize> {
    body.take(SNIFF as u64)
        .read_to_end(into)
        .map_err(read_error)
}

/// Writes `first`, then the rest of `body`, unchanged; returns the last byte written.
fn copy(
    body: &mut dyn Read,
    out: &mut dyn Write,
    first: &[u8],
    write_error: &dyn Fn(io::Error) -> Error,
) -> Result<Option<u8>> {
    out.write_all(first).map_err(write_error)?;
    let mut last = first.last().copied();
    let mut chunk = Vec::with_capacity(SNIFF);
    while read_piece(body, &mut chunk)? > 0 {
        out.write_all(&chunk).map_err(write_error)?;
        last = chunk.last().copied();
        chunk.clear();
    }
    Ok(last)
}

fn read_error(e: std::io::Error) -> Error {
    Error::network(format!(
        "the connection broke while reading the answer: {e}"
    ))
}

/// Reads the answer whole for a step that needs all of it, but never more than `cap` bytes:
/// the bytes, and whether that was all. An answer whose `Content-Length` is over the cap is
/// not read at all.
pub fn read_up_to(response: &Response, body: &mut dyn Read, cap: u64) -> Result<(Vec<u8>, bool)> {
    let declared = declared_length(response);
    if declared.is_some_and(|length| length > cap) {
        return Ok((Vec::new(), false));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(cap).min(HOLD as u64) as usize);
    body.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let complete = bytes.len() as u64 <= cap;
    Ok((bytes, complete))
}

fn declared_length(response: &Response) -> Option<u64> {
    response
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
}

/// How deeply nested an answer the steps that read it whole (`--jsonata`,
/// `--validate-response`) can take: serde_json's recursion limit, which both parsers keep.
pub const READ_DEPTH: usize = 127;

/// The deepest nesting of arrays and objects in a JSON text (strings skipped), found without
/// recursion, so it answers for any depth.
pub fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// What to say of an answer nested deeper than [`READ_DEPTH`]: it is JSON, just too deep.
pub fn too_deep(what: &str) -> String {
    format!("the answer is nested deeper than {READ_DEPTH} levels, which {what} cannot read")
}

/// The answer is too large for `what` to read into memory. `-o` is suggested only when it
/// was not given.
pub fn too_large(response: &Response, cap: u64, what: &str, output_given: bool) -> Error {
    let declared = declared_length(response);
    let suggested = declared
        .unwrap_or(0)
        .saturating_mul(2)
        .max(cap.saturating_mul(5));
    let size = match declared {
        Some(length) => format!("{} bytes", length),
        None => format!("more than {}", show_size(cap)),
    };
    Error::usage(format!(
        "the answer is {size}, over the {} that {what} reads into memory",
        show_size(cap)
    ))
    .with_help(format!(
        "{}ask the server for less (a filter or a smaller page), or raise the cap with --max-answer-size, e.g. --max-answer-size {}",
        if output_given {
            ""
        } else {
            "save it without --jsonata with -o FILE (written as it arrives), "
        },
        show_size(suggested).replace(' ', "")
    ))
}

/// `100 MB`, `1.5 GB`, or `123 bytes`.
pub fn show_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{} GB", trim_decimals(b as f64 / 1e9)),
        b if b >= 1_000_000 => format!("{} MB", trim_decimals(b as f64 / 1e6)),
        b if b >= 1_000 => format!("{} KB", trim_decimals(b as f64 / 1e3)),
        b => format!("{b} bytes"),
    }
}

fn trim_decimals(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").unwrap_or(&text).to_string()
}

/// A body passed through while its first bytes are kept, for the summary line of an error
/// answer: the answer itself streams, only this prefix sits in memory.
pub struct KeepPrefix<R> {
    inner: R,
    pub kept: Vec<u8>,
    limit: usize,
}

impl<R: Read> KeepPrefix<R> {
    pub fn new(inner: R, limit: usize) -> KeepPrefix<R> {
        KeepPrefix {
            inner,
            kept: Vec::new(),
            limit,
        }
    }
}

impl<R: Read> Read for KeepPrefix<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = self.limit.saturating_sub(self.kept.len()).min(n);
        self.kept.extend_from_slice(&buf[..room]);
        Ok(n)
    }
}

/// `-o FILE`, all or nothing. Created before the request is sent, so a missing folder, a
/// read-only place or a FILE that could not be replaced fails with nothing sent; the answer
/// goes to `.epilot-<random>.part` beside FILE (a name of fixed length, so any FILE name that
/// fits fits), and only [`OutputFile::commit`] (the whole answer arrived) renames it over
/// FILE. Dropped uncommitted (a broken connection, a timeout, a full disk, an error answer),
/// the temporary file is removed and FILE is as it was; on Ctrl-C or SIGTERM the interrupt
/// handler removes it. A FILE that exists and is not a regular file (`/dev/null`, a FIFO) is
/// written in place. A symbolic link is followed to the path it names, dangling or not, so the
/// link stays a link and its target is written (created when missing), as `>` does.
pub struct OutputFile {
    target: PathBuf,
    /// The file being written, while it is not yet FILE; `None` when writing in place.
    temp: Option<PathBuf>,
    file: File,
}

/// A FILE that is no regular file (a device, a pipe) is written in place. A pipe is opened
/// without waiting for a reader: with none, the open would block before anything is sent,
/// past any deadline, so it is refused instead.
fn open_special(path: &Path, meta: &std::fs::Metadata) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        if meta.file_type().is_fifo() {
            options.custom_flags(libc::O_NONBLOCK);
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let file = options.open(path).map_err(|e| {
        if is_pipe_without_reader(&e) {
            Error::usage(format!(
                "cannot write the response to {}: it is a pipe that nobody reads",
                path.display()
            ))
            .with_help("nothing was sent; start the reader first, or give -o a file")
        } else {
            file_error(path, &e).with_help("nothing was sent")
        }
    })?;
    #[cfg(unix)]
    {
        // Blocking again, so the answer is written whole however slowly the reader reads.
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor this function owns, with flags it just read.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(file)
}

#[cfg(unix)]
fn is_pipe_without_reader(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ENXIO)
}

#[cfg(not(unix))]
fn is_pipe_without_reader(_: &io::Error) -> bool {
    false
}

impl OutputFile {
    pub fn create(path: &Path) -> Result<OutputFile> {
        let existing = std::fs::metadata(path).ok();
        if let Some(meta) = existing.as_ref().filter(|m| !m.is_file()) {
            if meta.is_dir() {
                return Err(Error::usage(format!(
                    "cannot write the response to {}: it is a folder",
                    path.display()
                ))
                .with_help("nothing was sent; give -o a file name"));
            }
            let file = open_special(path, meta)?;
            return Ok(OutputFile {
                target: path.to_path_buf(),
                temp: None,
                file,
            });
        }
        // An existing file is found by the kernel's own lookup (`/proc/self/fd/N` included); a
        // dangling link is followed by hand to the path it names.
        let target = match existing {
            Some(_) => std::fs::canonicalize(path),
            None => follow_links(path),
        }
        .map_err(|e| {
            file_error(path, &e).with_help("nothing was sent; pick another place for -o")
        })?;
        if target.file_name().is_none() {
            return Err(Error::usage(format!(
                "cannot write the response to {}: it names no file",
                path.display()
            ))
            .with_help("nothing was sent; give -o a file name"));
        }
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if let Some(meta) = &existing {
            check_replaceable(path, &target, meta, folder)?;
        }
        let temp = folder.join(format!(".epilot-{}.part", random_suffix()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let file = options
            .open(&temp)
            .map_err(|e| folder_error(path, folder, &e))?;
        if let Some(meta) = &existing {
            keep_owners_and_mode(&file, meta);
        }
        crate::env::term::remove_on_interrupt(Some(temp.clone()));
        Ok(OutputFile {
            target,
            temp: Some(temp),
            file,
        })
    }

    /// The whole answer is in: puts it in place of FILE.
    pub fn commit(mut self) -> Result<()> {
        let Some(temp) = &self.temp else {
            return Ok(());
        };
        self.file
            .sync_all()
            .and_then(|()| std::fs::rename(temp, &self.target))
            .map_err(|e| file_error(&self.target, &e))?;
        self.temp = None;
        crate::env::term::remove_on_interrupt(None);
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
            crate::env::term::remove_on_interrupt(None);
        }
    }
}

/// The new FILE keeps the old one's owner, group and permissions where this user may give
/// them (root may; a user may keep a group they belong to). A group that cannot be kept loses
/// the group's permissions: the new group is this user's, whose members the old ones never
/// let in. Owners go first: a change of owner clears the set-id bits.
#[cfg(unix)]
fn keep_owners_and_mode(file: &File, old: &std::fs::Metadata) {
    use std::os::unix::fs::{fchown, MetadataExt, PermissionsExt};
    let mut mode = old.mode() & 0o7777;
    let Ok(new) = file.metadata() else {
        return;
    };
    if new.uid() != old.uid() && fchown(file, Some(old.uid()), None).is_err() {
        mode &= !0o4000;
    }
    if new.gid() != old.gid() && fchown(file, None, Some(old.gid())).is_err() {
        mode &= !0o2070;
    }
    let _ = file.set_permissions(std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn keep_owners_and_mode(file: &File, old: &std::fs::Metadata) {
    let _ = file.set_permissions(old.permissions());
}

/// The path a chain of symbolic links at `path` ends at (the target of a dangling link
/// included); `path` itself when it is no link.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // As the kernel's own limit on links followed in one lookup.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Why an existing FILE could not be replaced, decided before anything is sent: shell `>`
/// refuses a read-only file, and in a sticky folder (`/tmp`) only the owner of a file or of
/// the folder may rename over it; without this check the answer would arrive and then be lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    ReadOnly,
    OthersInStickyFolder,
}

/// The owners and permissions that decide whether FILE can be replaced.
#[derive(Debug, Clone, Copy)]
struct Replacing {
    writable: bool,
    file_owner: u32,
    folder_owner: u32,
    folder_sticky: bool,
    user: u32,
}

fn refusal(r: Replacing) -> Option<Refusal> {
    if !r.writable {
        return Some(Refusal::ReadOnly);
    }
    // Refused for root too: with fs.protected_regular the kernel refuses root there as well.
    let owned = r.file_owner == r.user || r.folder_owner == r.user;
    (r.folder_sticky && !owned).then_some(Refusal::OthersInStickyFolder)
}

#[cfg(unix)]
fn check_replaceable(
    path: &Path,
    target: &Path,
    meta: &std::fs::Metadata,
    folder: &Path,
) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let Ok(folder_meta) = std::fs::metadata(folder) else {
        return Ok(());
    };
    let writable = std::ffi::CString::new(target.as_os_str().as_bytes())
        // SAFETY: access(2) reads a NUL-terminated path we own for the length of the call.
        .map(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
        .unwrap_or(true);
    let facts = Replacing {
        writable,
        file_owner: meta.uid(),
        folder_owner: folder_meta.uid(),
        // S_ISVTX, the sticky bit.
        folder_sticky: folder_meta.mode() & 0o1000 != 0,
        // SAFETY: geteuid cannot fail and touches no memory.
        user: unsafe { libc::geteuid() },
    };
    let (why, help) = match refusal(facts) {
        None => return Ok(()),
        Some(Refusal::ReadOnly) => (
            "the file is read-only".to_string(),
            format!(
                "nothing was sent; make it writable (chmod u+w {}) or pick another place for -o",
                crate::text::shell_quote(&path.display().to_string())
            ),
        ),
        Some(Refusal::OthersInStickyFolder) => (
            format!(
                "it belongs to another user, in {}, a folder where only a file's owner may replace it",
                folder.display()
            ),
            "nothing was sent; pick another name for -o".to_string(),
        ),
    };
    Err(Error::usage(format!(
        "cannot write the response to {}: {why}",
        path.display()
    ))
    .with_help(help))
}

#[cfg(not(unix))]
fn check_replaceable(_: &Path, _: &Path, _: &std::fs::Metadata, _: &Path) -> Result<()> {
    Ok(())
}

/// Why the temporary file could not be made in `folder`, said truly: a folder that does not
/// exist is not one that refuses files.
fn folder_error(path: &Path, folder: &Path, e: &io::Error) -> Error {
    let (reason, help) = match std::fs::metadata(folder) {
        Err(missing) if missing.kind() == io::ErrorKind::NotFound => (
            format!("the folder {} does not exist", folder.display()),
            "nothing was sent; create the folder or pick another place for -o",
        ),
        Ok(meta) if !meta.is_dir() => (
            format!("{} is not a folder", folder.display()),
            "nothing was sent; pick another place for -o",
        ),
        _ => (
            format!("cannot create a file in {}: {e}", folder.display()),
            "nothing was sent; pick another place for -o",
        ),
    };
    Error::usage(format!(
        "cannot write the response to {}: {reason}",
        path.display()
    ))
    .with_help(help)
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    if getrandom::fill(&mut bytes).is_err() {
        // create_new still refuses to reuse a name; the process id keeps runs apart.
        return format!("{}", std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_error(path: &Path, e: &io::Error) -> Error {
    Error::usage(format!(
        "cannot write the response to {}: {e}",
        path.display()
    ))
}

/// Stands in for a stdout that was closed when the process started (`epilot ... >&-`):
/// writing to it fails instead of vanishing into the /dev/null the runtime put there.
pub struct ClosedStdout;

impl Write for ClosedStdout {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("stdout is closed"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The one-line summary of an error answer for stderr: "the server answered 404 Not Found:
/// <message from the body>". `body` is the answer's start ([`SUMMARY_PREFIX`] bytes at most).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn sizes_shown_with_units() {
        assert_eq!(show_size(DEFAULT_MAX_ANSWER_SIZE), "16 MB");
        assert_eq!(show_size(1_500_000_000), "1.5 GB");
        assert_eq!(show_size(12), "12 bytes");
    }

    #[test]
    fn the_verbose_body_is_cut_after_the_limit() {
        let body = "é".repeat(3000);
        let shown = body_preview(body.as_bytes(), Some(TRACE_BODY_LIMIT));
        let (text, note) = shown.split_once('\n').unwrap();
        assert_eq!(text, "é".repeat(2048));
        assert_eq!(note, "… (1904 more bytes)");
        assert_eq!(body_preview(b"{}", Some(TRACE_BODY_LIMIT)), "{}");
        assert_eq!(body_preview(b"\xff\x00", None), "(2 bytes of binary data)");
    }

    fn print(body: Vec<u8>) -> (Vec<u8>, String) {
        let response = Response {
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Box::new(io::empty()),
        };
        let settings = Settings {
            layout: Layout::Compact,
            colour: false,
            jsonata: None,
            output_file: None,
            stdout_is_terminal: false,
            max_answer_size: DEFAULT_MAX_ANSWER_SIZE,
            jsonata_time_limit: JSONATA_TIME_LIMIT,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        write_body(
            &mut out,
            &mut err,
            &response,
            &mut body.as_slice(),
            &settings,
        )
        .unwrap();
        (out, String::from_utf8(err).unwrap())
    }

    /// A JSON array larger than [`HOLD`], with spaces for the compact layout to remove.
    fn big_array() -> Vec<u8> {
        format!("[{}1]", "1, ".repeat(HOLD / 2)).into_bytes()
    }

    #[test]
    fn a_large_answer_is_formatted_as_it_streams() {
        let (out, err) = print(big_array());
        assert_eq!(err, "");
        assert_eq!(out, format!("[{}1]\n", "1,".repeat(HOLD / 2)).into_bytes());
    }

    #[test]
    fn a_large_answer_that_breaks_off_or_turns_to_garbage_is_reported() {
        let mut cut = big_array();
        cut.pop();
        let (out, err) = print(cut);
        assert!(err.contains("ends before its JSON does"), "{err}");
        assert!(out.ends_with(b",1\n"));

        let mut garbage = big_array();
        garbage.extend_from_slice(b" <html>");
        let (out, err) = print(garbage);
        assert!(err.contains("is not valid JSON past its first"), "{err}");
        assert!(out.ends_with(b"1] <html>"), "the rest as received");
    }

    fn names(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_output_file_appears_only_on_commit_and_vanishes_when_dropped() {
        let folder = tempfile::tempdir().unwrap();
        let target = folder.path().join("answer.json");
        let mut file = OutputFile::create(&target).unwrap();
        file.write_all(b"half").unwrap();
        let listed = names(folder.path());
        assert!(
            listed.len() == 1 && listed[0].starts_with(".epilot-") && listed[0].ends_with(".part"),
            "{listed:?}"
        );
        drop(file);
        assert!(names(folder.path()).is_empty(), "dropped: nothing left");

        let mut file = OutputFile::create(&target).unwrap();
        file.write_all(b"whole").unwrap();
        file.commit().unwrap();
        assert_eq!(names(folder.path()), ["answer.json"]);
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
    }

    #[cfg(unix)]
    #[test]
    fn an_output_file_follows_a_link_and_keeps_the_old_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let real = folder.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = folder.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut file = OutputFile::create(&link).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_file_that_cannot_be_replaced_is_refused_before_sending() {
        let ours = Replacing {
            writable: true,
            file_owner: 1000,
            folder_owner: 0,
            folder_sticky: true,
            user: 1000,
        };
        assert_eq!(refusal(ours), None, "our own file in /tmp");
        let theirs = Replacing {
            file_owner: 1001,
            ..ours
        };
        assert_eq!(refusal(theirs), Some(Refusal::OthersInStickyFolder));
        let our_folder = Replacing {
            folder_owner: 1000,
            ..theirs
        };
        assert_eq!(refusal(our_folder), None, "the folder's owner may");
        let plain_folder = Replacing {
            folder_sticky: false,
            ..theirs
        };
        assert_eq!(refusal(plain_folder), None);
        let read_only = Replacing {
            writable: false,
            ..ours
        };
        assert_eq!(refusal(read_only), Some(Refusal::ReadOnly));
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_followed_to_the_file_it_names() {
        let folder = tempfile::tempdir().unwrap();
        let link = folder.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        let mut file = OutputFile::create(&link).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read(folder.path().join("real.json")).unwrap(),
            b"new"
        );
    }

    #[test]
    fn nesting_depth_skips_strings_and_needs_no_recursion() {
        assert_eq!(nesting_depth(b"1"), 0);
        assert_eq!(nesting_depth(br#"{"a":[1,{"b":"[[[\"{"}]}"#), 3);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(nesting_depth(deep.as_bytes()), 100_000);
        let edge = format!("{}{}", "[".repeat(READ_DEPTH), "]".repeat(READ_DEPTH));
        assert!(crate::validate::Instance::parse(edge.as_bytes()).is_ok());
        let options = HashMap::new();
        let limits = jsonata::Limits::default();
        assert!(jsonata::evaluate("$", Some(&edge), &options, limits).is_ok());
        let over = format!("[{edge}]");
        assert!(crate::validate::Instance::parse(over.as_bytes()).is_err());
        assert!(jsonata::evaluate("$", Some(&over), &options, limits).is_err());
    }

    #[test]
    fn a_kept_prefix_stops_at_its_limit_and_passes_everything_through() {
        let mut reader = KeepPrefix::new(&b"0123456789"[..], 4);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"0123456789");
        assert_eq!(reader.kept, b"0123");
    }
}
