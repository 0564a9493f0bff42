//! `epilot auth login`: the browser flow of the official CLI. A callback server on
//! 127.0.0.1 waits for the portal to send the token back, with a random `state` that must
//! match; meanwhile a masked prompt accepts a pasted token. Whichever comes first is stored.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
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

fn answer(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!("{PAGE}<h1>{text}</h1></body>");
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Handles one connection: the login when it is a callback with the right state.
fn handle(mut stream: TcpStream, state: &str) -> Option<Login> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
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
    if get("state").as_deref() != Some(state) {
        answer(
            &mut stream,
            "403 Forbidden",
            "This login link is not the one the CLI started. Nothing was stored.",
        );
        return None;
    }
    let Some(token) = get("token") else {
        answer(&mut stream, "400 Bad Request", "The portal sent no token.");
        return None;
    };
    answer(
        &mut stream,
        "200 OK",
        "You are logged in. You can close this tab and go back to the terminal.",
    );
    Some(Login {
        token,
        org_id: get("org_id"),
        user_id: get("user_id"),
        name: get("name"),
    })
}

/// Waits for the callback (or a pasted token, when `paste` is given) until `limit` passes.
pub fn wait(flow: Flow, limit: Duration, paste: bool) -> Result<Login> {
    let (sender, receiver) = mpsc::channel::<Login>();
    let state = flow.state.clone();
    let listener = flow.listener;
    let callback = sender.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(login) = handle(stream, &state) {
                let _ = callback.send(login);
                return;
            }
        }
    });
    crate::term::exit_on_interrupt();
    let terminal = paste.then(crate::term::settings::save);
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
        crate::term::settings::restore(&saved);
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
}
