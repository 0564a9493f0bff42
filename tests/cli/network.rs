//! Network behaviour against misbehaving servers on 127.0.0.1: retries with backoff and
//! Retry-After, what is never retried, dropped connections, a CONNECT proxy, streaming a
//! 200 MB answer in flat memory, and Ctrl-C. Every wait is bounded and short.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::{Reply, Server};
use crate::util::{stderr_of, stdout_of, Sandbox};

/// A server that answers each request with the next status of `script` (the last repeats).
fn scripted(script: &'static [(u16, Option<&'static str>)]) -> Server {
    let count = AtomicUsize::new(0);
    Server::start(move |_| {
        let attempt = count.fetch_add(1, Ordering::SeqCst);
        let (status, retry_after) = script[attempt.min(script.len() - 1)];
        let mut reply = Reply::json(status, &format!("{{\"attempt\":{}}}", attempt + 1));
        if let Some(seconds) = retry_after {
            reply.headers.push(("Retry-After".into(), seconds.into()));
        }
        reply
    })
}

#[test]
fn a_503_with_retry_after_is_retried_after_that_long() {
    let server = scripted(&[(503, Some("1")), (200, None)]);
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-v", "-s", &server.url])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "{\n  \"attempt\": 2\n}\n");
    assert_eq!(server.requests().len(), 2);
    assert!(
        elapsed >= Duration::from_millis(950) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert!(
        stderr_of(&output)
            .contains("* attempt 1 failed (the server answered 503); retrying in 1.0s"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_429_backs_off_exponentially_and_gives_up_after_the_retries() {
    let server = scripted(&[(429, None)]);
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "the last answer stands");
    assert_eq!(server.requests().len(), 3, "one try and two retries");
    // Backoff 0.5 s then 1 s, each with jitter down to half.
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(stdout_of(&output), "{\n  \"attempt\": 3\n}\n");
}

#[test]
fn post_is_not_retried_unless_asked_and_retries_can_be_turned_off() {
    let sandbox = Sandbox::new();
    let server = scripted(&[(503, Some("0")), (200, None)]);
    let post = sandbox
        .epilot()
        .args([
            "user",
            "createGroup",
            "-d",
            r#"{"name":"F"}"#,
            "-t",
            "t",
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert_eq!(post.status.code(), Some(1));
    assert_eq!(server.requests().len(), 1, "POST may not be idempotent");

    let server = scripted(&[(503, Some("0")), (200, None)]);
    let unsafe_retry = sandbox
        .epilot()
        .args([
            "user",
            "createGroup",
            "-d",
            r#"{"name":"F"}"#,
            "--retry-unsafe",
            "-t",
            "t",
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert!(unsafe_retry.status.success());
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        server.requests()[1].json(),
        serde_json::json!({"name": "F"}),
        "the body is sent again"
    );

    let server = scripted(&[(503, Some("0")), (200, None)]);
    let off = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "--retries",
            "0",
            "-t",
            "t",
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert_eq!(off.status.code(), Some(1));
    assert_eq!(server.requests().len(), 1);
}

/// Accepts connections; drops the first `drops` without answering, answers the rest with 200.
fn dropping_server(drops: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(drops + 3) {
            let Ok(mut stream) = stream else { continue };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            if n < drops {
                drop(stream);
                continue;
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}");
        }
    });
    (url, seen)
}

#[test]
fn a_dropped_connection_is_retried_for_get() {
    let (url, seen) = dropping_server(1);
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &url])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "{\n  \"ok\": true\n}\n");
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

/// A CONNECT proxy that records the targets it was asked for and pipes bytes both ways.
fn connect_proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let targets = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&targets);
    std::thread::spawn(move || {
        for client in listener.incoming().take(4) {
            let Ok(mut client) = client else { continue };
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            seen.lock().unwrap().push(request_line.trim().to_string());
            let Ok(upstream) = TcpStream::connect(&target) else {
                continue;
            };
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
            let mut client_write = client.try_clone().unwrap();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut reader, &mut up_write);
            });
            let _ = std::io::copy(&mut up_read, &mut client_write);
        }
    });
    (url, targets)
}

#[test]
fn requests_go_through_the_proxy_unless_no_proxy_says_otherwise() {
    let server = Server::json(200, r#"{"via":"proxy"}"#);
    let (proxy, targets) = connect_proxy();
    let sandbox = Sandbox::new();
    let host = server.url.trim_start_matches("http://").to_string();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
        .env("HTTP_PROXY", &proxy)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        targets.lock().unwrap().as_slice(),
        [format!("CONNECT {host} HTTP/1.1")]
    );
    assert_eq!(server.single().url, "/v2/users/me");

    let direct = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "t", "-s", &server.url])
        .env("HTTP_PROXY", &proxy)
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    assert!(direct.status.success());
    assert_eq!(
        targets.lock().unwrap().len(),
        1,
        "NO_PROXY bypasses the proxy"
    );
    assert_eq!(server.requests().len(), 2);
}

/// Serves `megabytes` of a JSON array as one chunked answer, generated on the fly.
fn streaming_server(megabytes: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
            line.clear();
        }
        let item = br#"{"id":"123e4567-e89b-12d3-a456-426614174000","n":12345,"ok":true},"#;
        let chunk: Vec<u8> = item
            .iter()
            .copied()
            .cycle()
            .take(item.len() * 1024)
            .collect();
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        let mut send = |bytes: &[u8]| {
            stream
                .write_all(format!("{:x}\r\n", bytes.len()).as_bytes())
                .and_then(|_| stream.write_all(bytes))
                .and_then(|_| stream.write_all(b"\r\n"))
        };
        let _ = send(b"[");
        for _ in 0..(megabytes * 1024 * 1024 / chunk.len()) {
            if send(&chunk).is_err() {
                return;
            }
        }
        let _ = send(b"0]");
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    url
}

/// The peak resident memory of a running process, in KB (Linux `VmHWM`, which exec resets,
/// unlike rusage totals that include the test process copied at fork).
fn peak_memory_kb(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs epilot against a streaming server and returns (bytes on stdout, last bytes, its peak
/// memory in KB as sampled while it ran).
fn stream_through(extra: &[&str], megabytes: usize, sandbox: &Sandbox) -> (u64, Vec<u8>, i64) {
    let url = streaming_server(megabytes);
    let mut child = sandbox
        .process()
        .args(["user", "getMeV2", "-t", "t", "-s", &url])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Some(now) = peak_memory_kb(pid) {
            peak = peak.max(now);
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let mut stdout = child.stdout.take().unwrap();
    let (mut total, mut buffer, mut tail) = (0u64, vec![0u8; 1 << 16], Vec::new());
    loop {
        let read = stdout.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        total += read as u64;
        tail.extend_from_slice(&buffer[..read]);
        let excess = tail.len().saturating_sub(16);
        tail.drain(..excess);
    }
    assert!(child.wait().unwrap().success());
    (total, tail, sampler.join().unwrap())
}

#[test]
fn a_200_mb_answer_streams_to_a_file_and_stdout_in_flat_memory() {
    let sandbox = Sandbox::new();
    let (printed, _, peak) = stream_through(&["-o", "big.json"], 200, &sandbox);
    assert_eq!(printed, 0);
    assert!(
        peak < 30 * 1024,
        "peak memory {peak} KB for a 200 MB download: it was held in memory"
    );
    let file = sandbox.path().join("big.json");
    assert!(
        std::fs::metadata(&file).unwrap().len() > 199 * 1024 * 1024,
        "all of it arrived"
    );
    let mut end = Vec::new();
    let mut handle = std::fs::File::open(&file).unwrap();
    std::io::Seek::seek(&mut handle, std::io::SeekFrom::End(-4)).unwrap();
    handle.read_to_end(&mut end).unwrap();
    assert_eq!(end, b"},0]", "and ends as sent");
    std::fs::remove_file(&file).unwrap();

    // Reformatting on the way to stdout streams too (smaller: the test binary is unoptimised).
    let (printed, tail, peak) = stream_through(&["--json"], 24, &sandbox);
    assert!(printed > 23 * 1024 * 1024);
    assert!(
        tail.ends_with(b"},0]\n"),
        "{:?}",
        String::from_utf8_lossy(&tail)
    );
    assert!(
        peak < 30 * 1024,
        "peak memory {peak} KB for 24 MB reformatted: it was held in memory"
    );
    assert!(
        peak < 40 * 1024,
        "peak memory {peak} KB: an answer was held in memory"
    );
}

#[test]
fn ctrl_c_during_a_request_exits_130_with_no_output() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new();
    let child = sandbox
        .process()
        .args(["user", "getMeV2", "-t", "t", "-s", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the request has reached the (silent) server, then interrupt.
    let (_connection, _) = listener.accept().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert_eq!(stdout_of(&output), "");
    assert!(stderr_of(&output).contains("interrupted"));
}

#[test]
fn tls_options_are_checked_and_insecure_warns() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let missing = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "--cacert",
            "nope.pem",
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr_of(&missing).contains("cannot read --cacert nope.pem"));
    let insecure = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "--insecure",
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert!(insecure.status.success());
    assert!(stderr_of(&insecure).contains("warning: --insecure"));
}
