//! `epilot auth login`: the browser flow of the official CLI. A callback server on
//! 127.0.0.1 waits for the portal to send the token back, with a random `state` that must
//! match; meanwhile a masked prompt accepts a pasted token. Whichever comes first is stored.

use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

pub const PORTAL: &str = "https://portal.epilot.cloud/login";

/// What the portal sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub token: String,
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    pub name: Option<String>,
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|e| Error::usage(format!("no randomness for the login state: {e}")))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

pub struct Flow {
    listener: TcpListener,
    pub state: String,
    pub code: String,
    pub url: String,
}

/// Opens the callback server and makes the portal URL.
pub fn start(readonly: bool, anonymize: bool) -> Result<Flow> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::network(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::network(e.to_string()))?
        .port();
    let state = random_hex(32)?;
    let code = random_hex(3)?;
    let mut url =
        format!("{PORTAL}?cli_callback=http://localhost:{port}/callback&state={state}&code={code}");
    if readonly {
        url.push_str("&readonly=true");
    }
    if anonymize {
        url.push_str("&anonymize=true");
    }
    Ok(Flow {
        listener,
        state,
        code,
        url,
    })
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .map(|(k, v)| {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

const PAGE: &str = "<!doctype html><meta charset=utf-8><title>epilot CLI</title><body style=\"font-family:sans-serif;margin:4em\">";

/// How long one connection may take to send its request. The server is on 127.0.0.1 but any
/// local program (or a page in the browser) can connect: one that sends nothing, or a byte a
/// second, must not hold up the portal's callback, so each connection has its own thread and
/// this deadline for the whole request head.
const READ_DEADLINE: Duration = Duration::from_secs(2);
/// The most a request line and headers may take; the portal's callback is well under 4 KB.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Connections served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 32;
/// The longest name, organisation or user id shown from the callback.
const MAX_SHOWN_CHARS: usize = 200;

/// `text` safe to put in the page.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value from the callback made safe for the terminal: control characters (an escape
/// sequence could rewrite the screen or the title) are shown escaped, and its length capped.
fn terminal_safe(text: String) -> String {
    if !text.chars().any(char::is_control) && text.chars().count() <= MAX_SHOWN_CHARS {
        return text;
    }
    text.chars()
        .take(MAX_SHOWN_CHARS)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Compares the callback's `state` with ours without stopping at the first difference, so the
/// time taken tells nothing about how much of a guess was right.
fn same_state(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

fn answer(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!("{PAGE}<h1>{}</h1></body>", html_escape(text));
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Why a request head could not be read.
enum Refusal {
    TooSlow,
    TooLarge,
    Gone,
}

/// Reads the request line and headers within [`READ_DEADLINE`] and [`MAX_REQUEST_HEAD`];
/// returns the request line.
fn read_request_line(stream: &mut TcpStream) -> std::result::Result<String, Refusal> {
    let started = Instant::now();
    let mut head: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = READ_DEADLINE
            .checked_sub(started.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or(Refusal::TooSlow)?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| Refusal::Gone)?;
        let read = match stream.read(&mut chunk) {
            Ok(0) => return Err(Refusal::Gone),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), IoErrorKind::WouldBlock | IoErrorKind::TimedOut) => {
                return Err(Refusal::TooSlow)
            }
            Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
            Err(_) => return Err(Refusal::Gone),
        };
        head.extend_from_slice(&chunk[..read]);
        let end = head
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .or_else(|| head.windows(2).position(|w| w == b"\n\n"));
        if end.is_some() {
            let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
            return Ok(String::from_utf8_lossy(line).trim_end().to_string());
        }
        if head.len() > MAX_REQUEST_HEAD {
            return Err(Refusal::TooLarge);
        }
    }
}

/// Handles one connection: the login when it is a callback with the right state.
fn handle(mut stream: TcpStream, state: &str) -> Option<Login> {
    let request_line = match read_request_line(&mut stream) {
        Ok(line) => line,
        Err(Refusal::TooSlow) => {
            answer(
                &mut stream,
                "408 Request Timeout",
                "The request took too long.",
            );
            return None;
        }
        Err(Refusal::TooLarge) => {
            answer(
                &mut stream,
                "431 Request Header Fields Too Large",
                "The request is too large.",
            );
            return None;
        }
        Err(Refusal::Gone) => return None,
    };
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/callback" {
        answer(&mut stream, "404 Not Found", "Nothing here.");
        return None;
    }
    let pairs = query_pairs(query);
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    if !get("state").is_some_and(|given| same_state(&given, state)) {
        answer(
            &mut stream,
            "403 Forbidden",
            "This login link is not the one the CLI started. Nothing was stored.",
        );
        return None;
    }
    // A token goes into an Authorization header: whitespace or control characters in it
    // could only break that header.
    let Some(token) =
        get("token").filter(|t| !t.chars().any(|c| c.is_whitespace() || c.is_control()))
    else {
        answer(
            &mut stream,
            "400 Bad Request",
            "The portal sent no usable token.",
        );
        return None;
    };
    answer(
        &mut stream,
        "200 OK",
        "You are logged in. You can close this tab and go back to the terminal.",
    );
    Some(Login {
        token,
        org_id: get("org_id").map(terminal_safe),
        user_id: get("user_id").map(terminal_safe),
        name: get("name").map(terminal_safe),
    })
}

/// Serves the callback server: each connection on its own thread (at most
/// [`MAX_CONNECTIONS`] at once), so a slow or huge request cannot hold up the real callback.
/// The first login with the right state is sent on `found`.
fn serve(listener: TcpListener, state: String, found: mpsc::Sender<Login>) {
    let state = std::sync::Arc::new(state);
    let active = std::sync::Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming().flatten() {
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let (state, active, found) = (state.clone(), active.clone(), found.clone());
        std::thread::spawn(move || {
            if let Some(login) = handle(stream, &state) {
                let _ = found.send(login);
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Waits for the callback (or a pasted token, when `paste` is given) until `limit` passes.
pub fn wait(flow: Flow, limit: Duration, paste: bool) -> Result<Login> {
    let (sender, receiver) = mpsc::channel::<Login>();
    let state = flow.state.clone();
    let listener = flow.listener;
    let callback = sender.clone();
    std::thread::spawn(move || serve(listener, state, callback));
    crate::env::term::exit_on_interrupt();
    let terminal = paste.then(crate::env::term::settings::save);
    if paste {
        std::thread::spawn(move || {
            if let Ok(text) = rpassword::prompt_password("…or paste a token here and press Enter: ")
            {
                let token = text.trim().to_string();
                if !token.is_empty() {
                    let _ = sender.send(Login {
                        token,
                        org_id: None,
                        user_id: None,
                        name: None,
                    });
                }
            }
        });
    }
    let started = Instant::now();
    let outcome = receiver.recv_timeout(limit.saturating_sub(started.elapsed()));
    // The prompt may still be waiting with echo off: give the terminal back as it was.
    if let Some(saved) = terminal.flatten() {
        crate::env::term::settings::restore(&saved);
    }
    outcome.map_err(|_| {
        Error::new(
            ErrorKind::Network,
            format!("no login arrived within {} s", limit.as_secs()),
        )
        .with_help(
            "run `epilot auth login` again, or store a token with `epilot auth token <token>`",
        )
    })
}

/// Opens `url` in the browser: `$BROWSER`, else the platform's opener. False when none ran.
pub fn open_browser(url: &str, browser: Option<&str>) -> bool {
    let command: Vec<String> = match browser.map(str::trim).filter(|b| !b.is_empty()) {
        Some(browser) => browser.split_whitespace().map(str::to_string).collect(),
        None if cfg!(target_os = "macos") => vec!["open".into()],
        None if cfg!(windows) => vec!["cmd".into(), "/c".into(), "start".into(), String::new()],
        None => vec!["xdg-open".into()],
    };
    let Some((program, args)) = command.split_first() else {
        return false;
    };
    std::process::Command::new(program)
        .args(args)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_callback_state_code_and_options() {
        let flow = start(true, true).unwrap();
        assert!(flow
            .url
            .starts_with("https://portal.epilot.cloud/login?cli_callback=http://localhost:"));
        assert!(flow
            .url
            .contains(&format!("&state={}&code={}", flow.state, flow.code)));
        assert!(flow.url.ends_with("&readonly=true&anonymize=true"));
        assert_eq!(flow.state.len(), 64);
        assert_eq!(flow.code.len(), 6);
        assert_ne!(start(false, false).unwrap().state, flow.state);
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_pairs("name=Jane+Doe&x=a%26b"),
            [
                ("name".to_string(), "Jane Doe".to_string()),
                ("x".into(), "a&b".into())
            ]
        );
    }

    #[test]
    fn state_comparison_needs_every_byte() {
        let state = "ab".repeat(32);
        assert!(same_state(&state, &state));
        assert!(!same_state(&format!("{}x", &state[..63]), &state));
        assert!(!same_state(&format!("x{}", &state[1..]), &state));
        assert!(!same_state(&state[..63], &state));
        assert!(!same_state("", &state));
    }

    #[test]
    fn echoed_text_is_escaped_for_page_and_terminal() {
        assert_eq!(
            html_escape("<script>&'\""),
            "&lt;script&gt;&amp;&#39;&quot;"
        );
        assert_eq!(terminal_safe("Jane Doe".into()), "Jane Doe");
        assert_eq!(
            terminal_safe("a\u{1b}]0;pwned\u{7}b\n".into()),
            "a\\u{1b}]0;pwned\\u{7}b\\n"
        );
        assert_eq!(terminal_safe("x".repeat(5000)).len(), MAX_SHOWN_CHARS);
    }
}
