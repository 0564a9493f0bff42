//! Transport against servers on 127.0.0.1 that redirect, reset, stall, proxy, speak TLS with
//! a self-signed certificate, or send too much: what reaches each server (method, body,
//! headers), the exit code, the message, and that `--timeout` bounds the whole command.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::{Recorded, Reply, Server};
use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

const SPEC: &str = r#"
openapi: 3.0.0
info: {title: Things, version: "1"}
paths:
  /things:
    post:
      operationId: createThing
      parameters:
        - {name: X-Trace, in: header, schema: {type: string}}
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {"200": {description: ok}}
    put:
      operationId: replaceThing
      parameters:
        - {name: X-Trace, in: header, schema: {type: string}}
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {"200": {description: ok}}
"#;

/// `epilot things <operation> -d '{"n":1}'` against `server_url`, with a token and a header.
fn things(sandbox: &Sandbox, server_url: &str, operation: &str) -> assert_cmd::Command {
    let spec = sandbox.write("things.yaml", SPEC);
    let mut cmd = sandbox.epilot();
    cmd.args(["things", operation, "-d", r#"{"n":1}"#, "-s", server_url])
        .args(["--definition", spec.to_str().unwrap()])
        .args([
            "--token",
            "sekrit-token",
            "-H",
            "X-Custom: mine",
            "-H",
            "Cookie: c=1",
        ])
        .args(["-p", "X-Trace=t-1", "-v"]);
    cmd
}

/// Answers `/things` with `status` and `Location: location`, anything else with 200.
fn redirecting(status: u16, location: String) -> Server {
    Server::start(move |request| {
        if request.url == "/things" {
            let mut reply = Reply::json(status, "{}");
            reply.headers.push(("Location".into(), location.clone()));
            reply
        } else {
            Reply::json(200, r#"{"landed":true}"#)
        }
    })
}

fn landed(server: &Server) -> Recorded {
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    requests[1].clone()
}

#[test]
fn redirects_keep_or_change_method_and_body_as_the_status_says() {
    let sandbox = Sandbox::new();
    for (status, operation, method, body) in [
        (301, "createThing", "GET", ""),
        (302, "createThing", "GET", ""),
        (303, "createThing", "GET", ""),
        (307, "createThing", "POST", r#"{"n":1}"#),
        (308, "createThing", "POST", r#"{"n":1}"#),
        (301, "replaceThing", "PUT", r#"{"n":1}"#),
        (302, "replaceThing", "PUT", r#"{"n":1}"#),
        (303, "replaceThing", "GET", ""),
        (307, "replaceThing", "PUT", r#"{"n":1}"#),
        (308, "replaceThing", "PUT", r#"{"n":1}"#),
    ] {
        let server = redirecting(status, "/landed".into());
        let output = things(&sandbox, &server.url, operation).output().unwrap();
        let case = format!("{status} {operation}: {}", stderr_of(&output));
        assert_eq!(output.status.code(), Some(0), "{case}");
        assert_eq!(stdout_of(&output), "{\n  \"landed\": true\n}\n", "{case}");
        let got = landed(&server);
        assert_eq!(got.url, "/landed", "{case}");
        assert_eq!(got.method, method, "{case}");
        assert_eq!(String::from_utf8_lossy(&got.body), body, "{case}");
        assert_eq!(
            got.header("content-type").is_some(),
            !body.is_empty(),
            "{case}"
        );
        // Same origin: what the user chose still goes along.
        assert_eq!(
            got.header("authorization"),
            Some("Bearer sekrit-token"),
            "{case}"
        );
        assert_eq!(got.header("x-custom"), Some("mine"), "{case}");
        let err = stderr_of(&output);
        assert!(
            err.contains(&format!(
                "* {status}: following the redirect to {}/landed",
                server.url
            )),
            "{case}"
        );
        assert_eq!(
            err.contains("following with GET, without the body"),
            method == "GET",
            "{case}"
        );
    }
}

#[test]
fn a_redirect_to_another_origin_carries_only_what_epilot_generates() {
    let other = Server::json(200, r#"{"elsewhere":true}"#);
    let sandbox = Sandbox::new();
    for status in [307, 302] {
        // Another port on the same host is another origin.
        let server = redirecting(status, format!("{}/moved?x=1", other.url));
        let output = things(&sandbox, &server.url, "replaceThing")
            .output()
            .unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(0), "{err}");
        let first = &server.requests()[0];
        assert_eq!(first.header("authorization"), Some("Bearer sekrit-token"));
        assert!(
            err.contains("* another origin: not sending X-Trace, Authorization, X-Custom, Cookie"),
            "{err}"
        );
        assert!(!err.contains("sekrit-token"), "{err}");
    }
    let requests = other.requests();
    assert_eq!(requests.len(), 2);
    for got in requests {
        assert_eq!(
            (got.method.as_str(), got.url.as_str()),
            ("PUT", "/moved?x=1")
        );
        assert_eq!(got.body, br#"{"n":1}"#);
        for gone in ["authorization", "cookie", "x-custom", "x-trace"] {
            assert_eq!(got.header(gone), None, "{gone} reached the other origin");
        }
        assert_eq!(got.header("content-type"), Some("application/json"));
        assert!(got.header("user-agent").unwrap().starts_with("epilot/"));
    }
}

#[test]
fn a_3xx_without_location_is_the_answer() {
    let server = Server::start(|_| Reply::json(302, r#"{"why":"no location"}"#));
    let sandbox = Sandbox::new();
    let output = things(&sandbox, &server.url, "replaceThing")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "{\n  \"why\": \"no location\"\n}\n");
    assert!(stderr_of(&output).contains("< HTTP/1.1 302 Found"));
    server.single();
}

#[test]
fn a_redirect_loop_stops_after_ten_hops() {
    let server = Server::start(|_| {
        let mut reply = Reply::json(307, "{}");
        reply.headers.push(("Location".into(), "/things".into()));
        reply
    });
    let sandbox = Sandbox::new();
    let output = things(&sandbox, &server.url, "replaceThing")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr_of(&output).contains("redirected more than 10 times"));
    assert_eq!(server.requests().len(), 11);
}

/// Accepts connections: the first is read and closed after `first_after`, the rest are read
/// and left hanging. Counts the connections.
fn resetting_then_stalling(first_after: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut hanging = Vec::new();
        for stream in listener.incoming().take(5) {
            let Ok(stream) = stream else { continue };
            read_head(&stream);
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                std::thread::sleep(first_after);
                drop(stream);
            } else {
                hanging.push(stream);
            }
        }
    });
    (url, seen)
}

fn read_head(stream: &TcpStream) -> Vec<String> {
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
        lines.push(line.trim_end().to_string());
        line.clear();
    }
    lines
}

#[test]
fn timeout_is_a_deadline_for_the_whole_command_retries_included() {
    // Per attempt, this took 3 s + backoff + 5 s; one deadline ends it at 5 s.
    let (url, seen) = resetting_then_stalling(Duration::from_secs(3));
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "-s",
            &url,
            "--timeout",
            "5",
            "-v",
        ])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("* attempt 1 failed"), "{err}");
    assert!(
        err.contains("the 5s limit for the whole exchange ran out"),
        "{err}"
    );
    assert!(elapsed < Duration::from_millis(7500), "took {elapsed:?}");
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[test]
fn the_deadline_also_bounds_reading_the_body() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        read_head(&stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npartial",
        );
        std::thread::sleep(Duration::from_secs(20));
    });
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &url, "--timeout", "2"])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the 2s limit for the whole exchange (--timeout) ran out"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));
}

/// A CONNECT proxy that records the targets asked for; it answers each CONNECT with `status`
/// and, on 200, pipes bytes both ways.
fn connect_proxy(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&targets);
    std::thread::spawn(move || {
        for client in listener.incoming().take(4) {
            let Ok(mut client) = client else { continue };
            let head = read_head(&client);
            let request_line = head.first().cloned().unwrap_or_default();
            seen.lock().unwrap().push(request_line.clone());
            let target = request_line.split_whitespace().nth(1).unwrap_or_default();
            if status != 200 {
                let _ = write!(
                    client,
                    "HTTP/1.1 {status} Nope\r\nContent-Length: 0\r\n\r\n"
                );
                continue;
            }
            let Ok(upstream) = TcpStream::connect(target) else {
                continue;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
            let (mut client_read, mut client_write) = (client.try_clone().unwrap(), client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut up_write);
            });
            let _ = std::io::copy(&mut up_read, &mut client_write);
        }
    });
    (url, targets)
}

#[test]
fn each_proxy_variable_applies_to_its_own_scheme() {
    let server = Server::json(200, "{}");
    let (proxy, targets) = connect_proxy(200);
    let sandbox = Sandbox::new();
    let direct = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
        .env("HTTPS_PROXY", &proxy)
        .output()
        .unwrap();
    assert!(direct.status.success(), "{}", stderr_of(&direct));
    assert!(
        targets.lock().unwrap().is_empty(),
        "HTTPS_PROXY caught an http URL"
    );
    let proxied = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
        .env("http_proxy", &proxy)
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(
        proxied.status.success(),
        "lowercase wins: {}",
        stderr_of(&proxied)
    );
    assert_eq!(targets.lock().unwrap().len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn an_unusable_proxy_setting_is_an_error_naming_the_variable() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    for (variable, value) in [
        ("HTTP_PROXY", "socks5://127.0.0.1:1080"),
        ("http_proxy", "ftp://127.0.0.1:21"),
        ("ALL_PROXY", "not a proxy at all"),
    ] {
        let output = sandbox
            .epilot()
            .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
            .env(variable, value)
            .output()
            .unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("error: the proxy setting {variable}=")),
            "{err}"
        );
        assert!(err.contains("help: set"), "{err}");
    }
    server.assert_untouched();
}

#[test]
fn a_failing_proxy_is_named_not_the_server() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let (refusing, _) = connect_proxy(403);
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
        .env("HTTP_PROXY", &refusing)
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "error: the proxy {refusing} (from HTTP_PROXY) would not connect to {} (it answered 403)",
            server.url.trim_start_matches("http://")
        )),
        "{err}"
    );
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let output = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "-s",
            &server.url,
            "--retries",
            "0",
        ])
        .env("HTTP_PROXY", &closed)
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "error: the proxy {closed} (from HTTP_PROXY) refused the connection"
        )),
        "{err}"
    );
    server.assert_untouched();
}

/// An https server on 127.0.0.1 with the fixture certificate `name` (test-only keys, made
/// once with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
/// -days 36500 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1`, so
/// CA:TRUE as openssl sets it); each connection gets
/// `respond(path)` as raw bytes after the head. Records the request lines.
fn tls_server(
    name: &str,
    respond: impl Fn(&str) -> String + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let pem = std::fs::read(fixture(&format!("tls/{name}.pem"))).unwrap();
    let key = std::fs::read(fixture(&format!("tls/{name}.key"))).unwrap();
    let certificate = match ureq::tls::parse_pem(&pem).next().unwrap().unwrap() {
        ureq::tls::PemItem::Certificate(c) => {
            rustls::pki_types::CertificateDer::from(c.der().to_vec())
        }
        _ => panic!("no certificate"),
    };
    let key = match ureq::tls::parse_pem(&key).next().unwrap().unwrap() {
        ureq::tls::PemItem::PrivateKey(k) => {
            rustls::pki_types::PrivateKeyDer::Pkcs8(k.der().to_vec().into())
        }
        _ => panic!("no key"),
    };
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certificate], key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    std::thread::spawn(move || {
        for socket in listener.incoming().take(8) {
            let Ok(socket) = socket else { continue };
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut stream = rustls::StreamOwned::new(connection, socket);
            let mut reader = BufReader::new(&mut stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue; // the client refused the certificate
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            seen.lock()
                .unwrap()
                .push(request_line.trim_end().to_string());
            let _ = stream.write_all(respond(&path).as_bytes());
            let _ = stream.flush();
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
    });
    (url, lines)
}

fn ok_json(_: &str) -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{\"tls\":true}"
        .to_string()
}

#[test]
fn a_self_signed_certificate_in_cacert_is_trusted() {
    let (url, lines) = tls_server("self-signed", ok_json);
    let sandbox = Sandbox::new();
    for host in [url.clone(), url.replace("127.0.0.1", "localhost")] {
        let output = sandbox
            .epilot()
            .args(["user", "getMeV2", "-t", "t", "-s", &host])
            .args(["--cacert", &fixture("tls/self-signed.pem")])
            .output()
            .unwrap();
        assert!(output.status.success(), "{host}: {}", stderr_of(&output));
        assert_eq!(stdout_of(&output), "{\n  \"tls\": true\n}\n");
    }
    assert_eq!(lines.lock().unwrap().len(), 2);
}

#[test]
fn https_goes_through_https_proxy_with_cacert_trust() {
    let (url, lines) = tls_server("self-signed", ok_json);
    let (proxy, targets) = connect_proxy(200);
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &url])
        .args(["--cacert", &fixture("tls/self-signed.pem")])
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", "socks5://not-for-https:1080")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "{\n  \"tls\": true\n}\n");
    let host = url.trim_start_matches("https://");
    assert_eq!(
        targets.lock().unwrap().as_slice(),
        [format!("CONNECT {host} HTTP/1.1")]
    );
    assert_eq!(lines.lock().unwrap().len(), 1);
}

#[test]
fn a_refused_certificate_says_what_to_try_without_debug_text() {
    let (url, lines) = tls_server("self-signed", ok_json);
    let sandbox = Sandbox::new();
    for extra in [
        vec!["--cacert".to_string(), fixture("tls/other.pem")],
        vec![],
    ] {
        let output = sandbox
            .epilot()
            .args(["user", "getMeV2", "-t", "t", "-s", &url, "--retries", "0"])
            .args(&extra)
            .output()
            .unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(3), "{err}");
        assert!(
            err.contains("error: the certificate of 127.0.0.1:")
                && err.contains("is self-signed or an authority's own, and not in"),
            "{err}"
        );
        assert!(
            err.contains("help:") && err.contains("--cacert") && err.contains("--insecure"),
            "{err}"
        );
        assert!(
            !err.contains("Other(") && !err.contains("CaUsedAsEndEntity"),
            "{err}"
        );
    }
    assert!(lines.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn https_is_never_redirected_to_plain_http() {
    let plain = Server::json(200, "{}");
    let target = format!("{}/v2/users/me", plain.url);
    let location = target.clone();
    let (url, _) = tls_server("self-signed", move |_| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &url])
        .args(["--cacert", &fixture("tls/self-signed.pem")])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("{url}/v2/users/me redirected (302) to {target}")),
        "{err}"
    );
    assert!(err.contains("does not follow https to plain http"), "{err}");
    plain.assert_untouched();
}

/// Serves an endless chunked body (or one that declares `declared` bytes) and counts what
/// it managed to write before the client hung up.
fn endless_document(declared: Option<u64>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/huge.yaml", listener.local_addr().unwrap());
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        read_head(&stream);
        let head = match declared {
            Some(length) => format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n"),
            None => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
        };
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = vec![b'#'; 64 * 1024];
        let framed = [
            format!("{:x}\r\n", chunk.len()).into_bytes(),
            chunk.clone(),
            b"\r\n".to_vec(),
        ]
        .concat();
        let piece = if declared.is_some() { &chunk } else { &framed };
        while stream.write_all(piece).is_ok() {
            counter.fetch_add(chunk.len(), Ordering::SeqCst);
            if counter.load(Ordering::SeqCst) > 200 << 20 {
                break;
            }
        }
    });
    (url, written)
}

#[test]
fn a_definition_past_the_size_cap_is_refused_while_reading() {
    let (url, written) = endless_document(None);
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["huge", "--definition", &url])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!("the definition at {url} is larger than 50 MB")),
        "{err}"
    );
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < (50 << 20) + (16 << 20),
        "the server wrote {sent} bytes"
    );

    let (url, written) = endless_document(Some(1 << 40));
    let output = sandbox
        .epilot()
        .args(["definitions", "add", "huge", &url])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_ne!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("is larger than 50 MB"), "{err}");
    assert!(
        written.load(Ordering::SeqCst) < 16 << 20,
        "refused by its Content-Length"
    );
}

#[test]
fn a_proxy_port_that_is_not_a_port_is_refused_before_anything_is_sent() {
    // Each of these was read as port 80, and that proxy got the token.
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    for port in ["99999", "65536", "-1", "abc", "18020x", "0"] {
        let output = sandbox
            .epilot()
            .args(["user", "getMeV2", "-t", "sekrit", "-s", &server.url])
            .env("HTTP_PROXY", format!("http://127.0.0.1:{port}"))
            .output()
            .unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{port}: {err}");
        assert!(
            err.contains(&format!(
                "error: the proxy setting HTTP_PROXY=http://127.0.0.1:{port} is not usable"
            )),
            "{err}"
        );
        assert!(err.contains("port from 1 to 65535"), "{err}");
    }
    server.assert_untouched();
}

/// Answers one request with a close-delimited body (no length, no chunks), then ends the
/// connection with a reset (`reset`) or a clean close.
fn close_delimited(body: &'static [u8], reset: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        read_head(&stream);
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
        let _ = stream.flush();
        if reset {
            // SO_LINGER 0: close() sends RST instead of FIN.
            use std::os::fd::AsRawFd;
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid socket and a correctly sized option value.
            unsafe {
                libc::setsockopt(
                    stream.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    std::ptr::addr_of!(linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
        } else {
            let _ = stream.shutdown(std::net::Shutdown::Write);
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    url
}

#[test]
fn a_reset_is_not_the_end_of_a_close_delimited_body() {
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("answer.txt");
    std::fs::write(&file, "the previous answer").unwrap();
    let url = close_delimited(b"the first half of the answ", true);
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &url, "-o"])
        .arg(&file)
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("reset the connection"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "the previous answer",
        "a cut answer replaced the file"
    );

    // A clean close is how such a body ends: success, as curl.
    let url = close_delimited(b"the whole answer", false);
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &url, "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "the whole answer");
}

/// `hello, gzip`, gzip-compressed.
const GZIPPED: [u8; 31] = [
    0x1f, 0x8b, 0x8, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2, 0x3, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51,
    0x48, 0xaf, 0xca, 0x2c, 0x0, 0x0, 0x4a, 0x9b, 0xb1, 0x5c, 0xb, 0x0, 0x0, 0x0,
];

#[test]
fn no_compression_is_asked_for_or_undone_as_with_curl() {
    // The printed curl line is the request: no hidden Accept-Encoding, and a compressed
    // answer is passed on as sent (nothing inflates a gzip bomb within --timeout).
    let server = Server::start(|_| {
        let mut reply = Reply::raw(200, "application/octet-stream", &GZIPPED);
        reply
            .headers
            .push(("Content-Encoding".into(), "gzip".into()));
        reply
    });
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("answer.gz");
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url, "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(server.single().header("accept-encoding"), None);
    assert_eq!(std::fs::read(&file).unwrap(), GZIPPED);
}

#[test]
fn a_redirect_carrying_credentials_is_refused_and_masked() {
    let landing = Server::json(200, "{}");
    let port = landing.url.rsplit(':').next().unwrap().to_string();
    let server = redirecting(302, format!("http://u:hunter2@127.0.0.1:{port}/ui"));
    let sandbox = Sandbox::new();
    let output = things(&sandbox, &server.url, "replaceThing")
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("carries a user name or password"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    landing.assert_untouched();
}

#[test]
fn a_redirect_to_another_scheme_is_a_network_error() {
    // Something was sent already: exit 3, as for file:, not a usage error.
    let server = redirecting(302, "ftp://127.0.0.1:21/x".into());
    let sandbox = Sandbox::new();
    let output = things(&sandbox, &server.url, "replaceThing")
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("which is not an http(s) URL"), "{err}");
}

#[test]
fn a_token_http_cannot_carry_is_refused_before_sending() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    for dry_run in [false, true] {
        let mut cmd = sandbox.epilot();
        cmd.args(["user", "getMeV2", "-t", "SECRET\u{e9}", "-s", &server.url]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let output = cmd.output().unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(err.contains("--token"), "{err}");
        assert!(err.contains("non-ASCII"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
    }
    server.assert_untouched();
}

#[test]
fn timeout_bounds_the_definition_download_too() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/stalls.yaml", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        read_head(&stream);
        std::thread::sleep(Duration::from_secs(40));
    });
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .epilot()
        .args(["stalls", "--definition", &url, "--timeout", "2"])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot download the definition"), "{err}");
    assert!(err.contains("the 2s limit"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15), "{err}");
}

#[test]
fn no_proxy_matches_addresses_whole_or_by_cidr_as_curl() {
    let server = Server::json(200, "{}");
    // A proxy address where nothing listens: going through it fails, naming it.
    let proxy = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let sandbox = Sandbox::new();
    let run = |no_proxy: &str| {
        sandbox
            .epilot()
            .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
            .args(["--retries", "0"])
            .env("HTTP_PROXY", &proxy)
            .env("NO_PROXY", no_proxy)
            .output()
            .unwrap()
    };
    for direct in ["127.0.0.0/8", "127.0.0.1", "10.0.0.0/8, 127.0.0.1/32"] {
        let output = run(direct);
        assert!(output.status.success(), "{direct}: {}", stderr_of(&output));
    }
    assert_eq!(server.requests().len(), 3);
    for proxied in [".1", "0.1", "127.0.0.1:9999"] {
        let output = run(proxied);
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(3), "{proxied}: {err}");
        assert!(err.contains("(from HTTP_PROXY)"), "{proxied}: {err}");
    }
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn an_unasked_switch_of_protocols_is_a_network_error_and_the_file_stays() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        read_head(&stream);
        let head =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n";
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(b"GARBAGE");
        std::thread::sleep(Duration::from_millis(300));
    });
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("answer.json");
    std::fs::write(&file, "the last good answer").unwrap();
    let output = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "--retries",
            "0",
            "-s",
            &url,
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("101 Switching Protocols"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "the last good answer"
    );
}

#[test]
fn an_endless_body_source_is_refused_at_the_cap_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    for source in ["@/dev/zero", "@-"] {
        // Stdin is /dev/zero itself, never read by the test: an endless source.
        let output = sandbox
            .process()
            .args([
                "user",
                "createGroup",
                "-t",
                "t",
                "-s",
                &server.url,
                "-d",
                source,
            ])
            .stdin(std::fs::File::open("/dev/zero").unwrap())
            .output()
            .unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{source}: {err}");
        assert!(err.contains("larger than 256 MB"), "{source}: {err}");
    }
    assert!(server.requests().is_empty(), "nothing may be sent");
}
