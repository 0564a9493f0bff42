//! Output under faults (issues #14, #15): `-o` is all or nothing, memory stays bounded
//! whatever the answer's size or depth, and the exit code keeps its word when the reader of
//! stdout goes away or stdout is closed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use crate::server::{Reply, Server};
use crate::util::{stderr_of, stdout_of, Sandbox};

/// A one-connection server that reads the request, reports it, then plays `answer` on the
/// raw socket: half a body then a reset, a stall, or bytes no well-behaved server sends.
struct RawServer {
    url: String,
    seen: mpsc::Receiver<Vec<u8>>,
}

impl RawServer {
    fn start(answer: impl FnOnce(TcpStream) + Send + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tell, seen) = mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let request = read_request(&mut stream);
            let _ = tell.send(request);
            answer(stream);
        });
        RawServer { url, seen }
    }

    /// Waits until the request has arrived (the client is past every check before sending).
    fn wait_for_request(&self) -> Vec<u8> {
        self.seen
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the request arrived")
    }
}

fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return request,
        }
    }
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body);
    request.extend(body);
    request
}

const HALF: &[u8] = br#"{"items":[1,2,3,"#;

/// Headers promising 1000 bytes, then 16 of them.
fn send_half(stream: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(HALF).unwrap();
    stream.flush().unwrap();
}

/// Closes with a TCP reset (SO_LINGER 0) instead of an orderly end.
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: sets an option on a socket we own, from a properly sized struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

/// Holds the connection open until the client goes away.
fn stall(mut stream: TcpStream) {
    let _ = stream.read(&mut [0u8; 1]);
}

fn get_me(sandbox: &Sandbox, url: &str) -> assert_cmd::Command {
    let mut cmd = sandbox.epilot();
    cmd.args(["user", "getMeV2", "-s", url, "-t", "tok"]);
    cmd
}

/// The binary as a child process with our own pipes, in the sandbox's environment.
fn spawn(sandbox: &Sandbox, args: &[&str]) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("epilot"))
        .args(args)
        .current_dir(sandbox.path())
        .env_clear()
        .env("HOME", sandbox.path())
        .env("XDG_CONFIG_HOME", sandbox.path().join("config"))
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The names in `folder`, sorted.
fn listing(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A folder holding only `old.json`, with known content.
fn folder_with_old_file(sandbox: &Sandbox) -> std::path::PathBuf {
    let old = sandbox.write("out/old.json", "previous answer\n");
    assert_eq!(listing(old.parent().unwrap()), ["old.json"]);
    old
}

fn assert_old_file_untouched(old: &Path) {
    assert_eq!(
        std::fs::read_to_string(old).unwrap(),
        "previous answer\n",
        "the old file keeps its content"
    );
    assert_eq!(
        listing(old.parent().unwrap()),
        ["old.json"],
        "no partial file is left behind"
    );
}

#[test]
fn o_into_a_missing_folder_is_exit_2_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["-o", "no/such/folder/me.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr_of(&output);
    assert!(
        err.contains("cannot write the response to no/such/folder/me.json: the folder no/such/folder does not exist")
            && err.contains("nothing was sent"),
        "{err}"
    );
    server.assert_untouched();
}

#[test]
fn o_below_a_plain_file_is_exit_2_and_nothing_is_sent() {
    // As root, a read-only folder is still writable; a path through a file is refused by anyone.
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    sandbox.write("plain", "x");
    let output = get_me(&sandbox, &server.url)
        .args(["-o", "plain/me.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("cannot write the response to plain/me.json"));
    server.assert_untouched();
}

#[test]
fn o_replaces_the_file_only_with_a_whole_answer() {
    let server = Server::json(200, r#"{"new":true}"#);
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let output = get_me(&sandbox, &server.url)
        .arg("-o")
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(std::fs::read_to_string(&old).unwrap(), r#"{"new":true}"#);
    assert_eq!(listing(old.parent().unwrap()), ["old.json"]);
}

#[test]
fn a_reset_mid_answer_is_exit_3_and_the_old_file_stays() {
    let server = RawServer::start(|mut stream| {
        send_half(&mut stream);
        reset(stream);
    });
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let output = get_me(&sandbox, &server.url)
        .arg("-o")
        .arg(&old)
        .output()
        .unwrap();
    server.wait_for_request();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    assert!(
        err.contains("the connection broke while reading the answer"),
        "{err}"
    );
    assert!(
        !err.contains("old.json"),
        "a network fault is not blamed on the file: {err}"
    );
    assert_old_file_untouched(&old);
}

#[test]
fn a_stall_past_the_timeout_is_exit_3_and_the_old_file_stays() {
    let server = RawServer::start(|mut stream| {
        send_half(&mut stream);
        stall(stream);
    });
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let started = std::time::Instant::now();
    let output = get_me(&sandbox, &server.url)
        .args(["--timeout", "2", "-o"])
        .arg(&old)
        .output()
        .unwrap();
    assert!(
        started.elapsed().as_secs() < 20,
        "the timeout ends the read"
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(!stderr_of(&output).contains("old.json"));
    assert_old_file_untouched(&old);
}

#[test]
fn sigterm_during_a_stalled_answer_leaves_no_partial_file() {
    let server = RawServer::start(|mut stream| {
        send_half(&mut stream);
        stall(stream);
    });
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let target = old.display().to_string();
    let child = spawn(
        &sandbox,
        &[
            "user",
            "getMeV2",
            "-s",
            &server.url,
            "-t",
            "tok",
            "-o",
            &target,
        ],
    );
    server.wait_for_request();
    // The temporary file exists from before the request was sent.
    assert_eq!(
        listing(old.parent().unwrap()).len(),
        2,
        "a .part file is being written"
    );
    // SAFETY: signals our own child process, by its id.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
    assert_old_file_untouched(&old);
}

#[test]
fn a_full_device_is_a_write_error_and_special_files_are_written_in_place() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    // No unprivileged way to make a small full filesystem here; /dev/full fails every write.
    let full = get_me(&sandbox, &server.url)
        .args(["-o", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2));
    assert!(
        stderr_of(&full)
            .contains("cannot write the response to /dev/full: No space left on device"),
        "{}",
        stderr_of(&full)
    );
    let null = get_me(&sandbox, &server.url)
        .args(["-o", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(null.status.code(), Some(0), "{}", stderr_of(&null));
    use std::os::unix::fs::FileTypeExt;
    for device in ["/dev/full", "/dev/null"] {
        assert!(
            std::fs::metadata(device)
                .unwrap()
                .file_type()
                .is_char_device(),
            "{device} is never replaced by a file"
        );
    }
}

#[test]
fn an_error_answer_streams_whole_and_its_summary_comes_from_the_start() {
    let big = format!(
        r#"{{"message":"Boom","trace":"{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let body: &'static str = Box::leak(big.clone().into_boxed_str());
    let server = Server::json(500, body);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_of(&output), format!("{big}\n"));
    // The summary parses only the first 64 KB, too little of this answer for its message.
    assert!(
        stderr_of(&output).contains("error: the server answered 500 Internal Server Error"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn an_http_error_still_exits_1_when_the_reader_has_gone() {
    let server = Server::json(500, r#"{"message":"Boom"}"#);
    let sandbox = Sandbox::new();
    let mut child = spawn(
        &sandbox,
        &["user", "getMeV2", "-s", &server.url, "-t", "tok"],
    );
    // As `| true` does: the reader is gone before the answer is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("the server answered 500"));
    server.single();
}

#[test]
fn a_closed_stdout_is_an_error_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" user getMeV2 -s "$1" -t tok >&-"#)
        .arg(assert_cmd::cargo::cargo_bin("epilot"))
        .arg(&server.url)
        .env_clear()
        .env("HOME", sandbox.path())
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("cannot write output: stdout is closed"),
        "{}",
        stderr_of(&output)
    );
    server.assert_untouched();
}

#[test]
fn an_answer_nested_100000_deep_prints_small_and_exits_0() {
    let depth = 100_000;
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let body: &'static str = Box::leak(body.into_boxed_str());
    let server = Server::json(200, body);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        output.stdout.len() < 1_000_000,
        "{} bytes",
        output.stdout.len()
    );
    let brackets = output.stdout.iter().filter(|b| **b == b'[').count();
    assert_eq!(brackets, depth, "every level is printed");
    assert!(stderr_of(&output).is_empty(), "{}", stderr_of(&output));
}

#[test]
fn jsonata_refuses_an_answer_over_the_cap_before_reading_it() {
    let big: &'static str = Box::leak(format!("[{}1]", "1,".repeat(5000)).into_boxed_str());
    let server = Server::json(200, big);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "$count($)", "--max-answer-size", "1KB"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr_of(&output);
    assert!(
        err.contains("the answer is 10003 bytes, over the 1 KB that --jsonata reads into memory")
            && err.contains("-o FILE")
            && err.contains("--max-answer-size 20KB"),
        "{err}"
    );
    // Raised, the same answer is queried.
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "$count($)", "--max-answer-size", "20KB"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&output), "5001\n", "{}", stderr_of(&output));
}

#[test]
fn jsonata_stops_reading_an_answer_of_unknown_length_at_the_cap() {
    let server = RawServer::start(|mut stream| {
        // No Content-Length: the answer ends when the connection does.
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
        stream.write_all(head.as_bytes()).unwrap();
        let chunk = "1,".repeat(1000);
        // Far more than the cap; the client stops reading and goes away.
        for _ in 0..1000 {
            if stream.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"1]");
    });
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "$count($)", "--max-answer-size", "10KB"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("the answer is more than 10 KB, over the 10 KB"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn jsonata_on_an_answer_without_body_exits_0() {
    let server = Server::start(|_| Reply::raw(204, "application/json", b""));
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "id"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "");
}

#[test]
fn a_bad_jsonata_expression_is_refused_before_sending() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "items[", "-o", "never.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr_of(&output);
    assert!(
        err.contains("JSONata expression `items[` failed") && err.contains("nothing was sent"),
        "{err}"
    );
    server.assert_untouched();
    assert!(!sandbox.path().join("never.json").exists());
}

#[test]
fn verbose_shows_a_few_kb_of_a_large_upload() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let name = "n".repeat(200_000);
    let body = format!(r#"{{"name":"{name}"}}"#);
    let file = sandbox.write("group.json", &body);
    let output = sandbox
        .epilot()
        .args([
            "user",
            "createGroup",
            "-v",
            "--no-validate",
            "-s",
            &server.url,
            "-t",
            "tok",
        ])
        .arg("-d")
        .arg(format!("@{}", file.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    let more = body.len() - 4096;
    assert!(err.contains(&format!("> … ({more} more bytes)")), "{err}");
    assert!(err.len() < 8 * 1024, "stderr holds {} bytes", err.len());
    assert_eq!(
        server.single().body,
        body.as_bytes(),
        "the whole body was sent"
    );
}

#[test]
fn an_answer_labelled_json_that_is_not_is_printed_exactly_with_a_warning() {
    for body in [
        &br#"{"a": [1, 2"#[..],
        &br#"{"a": 1} trailing"#[..],
        &b"[1, 2,, 3]"[..],
    ] {
        let server = Server::start(move |_| Reply::raw(200, "application/json", body));
        let sandbox = Sandbox::new();
        let output = get_me(&sandbox, &server.url).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(output.stdout, body, "printed byte for byte");
        assert!(
            stderr_of(&output)
                .contains("warning: the answer is labelled JSON but is not valid JSON"),
            "{}",
            stderr_of(&output)
        );
    }
}

#[test]
fn validate_response_skips_an_answer_over_the_cap_and_still_prints_it() {
    let big: &'static str =
        Box::leak(format!(r#"{{"id":"{}"}}"#, "u".repeat(4000)).into_boxed_str());
    let server = Server::json(200, big);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--validate-response", "--json", "--max-answer-size", "1KB"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), format!("{big}\n"));
    assert!(
        stderr_of(&output)
            .contains("not checked, the answer is larger than --max-answer-size (1 KB)"),
        "{}",
        stderr_of(&output)
    );
}

/// The binary with stdout and stderr on one pipe (as `2>&1 | ...`), whose reader is given
/// to `read`; the reader is gone once `read` returns.
fn both_streams_into(
    sandbox: &Sandbox,
    args: &[&str],
    read: impl FnOnce(std::io::PipeReader),
) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("epilot"))
        .args(args)
        .current_dir(sandbox.path())
        .env_clear()
        .env("HOME", sandbox.path())
        .env("XDG_CONFIG_HOME", sandbox.path().join("config"))
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone().unwrap()))
        .stderr(Stdio::from(writer))
        .spawn()
        .unwrap();
    read(reader);
    child.wait().unwrap()
}

#[test]
fn verbose_into_a_gone_reader_still_sends_and_an_http_error_still_exits_1() {
    let server = Server::json(500, r#"{"message":"Boom"}"#);
    let sandbox = Sandbox::new();
    let args = [
        "user",
        "getMeV2",
        "-s",
        &server.url,
        "-t",
        "tok",
        "--retries",
        "0",
        "-v",
    ];
    // `2>&1 | true`: nobody reads anything.
    let status = both_streams_into(&sandbox, &args, drop);
    assert_eq!(status.code(), Some(1), "a 500 is not a success");
    server.single();
}

#[test]
fn verbose_into_head_still_exits_1_on_an_http_error() {
    let server = Server::json(500, r#"{"message":"Boom"}"#);
    let sandbox = Sandbox::new();
    let args = [
        "user",
        "getMeV2",
        "-s",
        &server.url,
        "-t",
        "tok",
        "--retries",
        "0",
        "-v",
    ];
    // `2>&1 | head -n 2`: two lines of the trace, then the reader goes.
    let status = both_streams_into(&sandbox, &args, |reader| {
        let mut lines = std::io::BufReader::new(reader);
        for _ in 0..2 {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut lines, &mut line).unwrap();
        }
    });
    assert_eq!(status.code(), Some(1));
    server.single();
}

#[test]
fn verbose_into_a_gone_reader_still_sends_a_post() {
    let server = Server::json(201, r#"{"id":"g1"}"#);
    let sandbox = Sandbox::new();
    let args = [
        "user",
        "createGroup",
        "-s",
        &server.url,
        "-t",
        "tok",
        "-v",
        "-d",
        r#"{"name":"Finance","user_ids":["123"]}"#,
    ];
    let status = both_streams_into(&sandbox, &args, drop);
    assert_eq!(status.code(), Some(0), "a success whose reader has gone");
    assert_eq!(server.single().method, "POST", "the POST was sent");
}

#[test]
fn o_keeps_the_file_on_an_http_error_and_shows_the_error_body_on_stdout() {
    let server = Server::json(503, r#"{"message":"try later"}"#);
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let output = get_me(&sandbox, &server.url)
        .args(["--retries", "0", "--json", "-o"])
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert_old_file_untouched(&old);
    assert_eq!(stdout_of(&output), "{\"message\":\"try later\"}\n");
    let err = stderr_of(&output);
    assert!(
        err.contains(&format!("note: {} was left as it was", old.display()))
            && err.contains("error: the server answered 503 Service Unavailable: try later"),
        "{err}"
    );
}

#[test]
fn o_dash_is_stdout() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--json", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "{\"a\":1}\n");
    assert!(!sandbox.path().join("-").exists(), "no file named -");
}

#[test]
fn o_takes_any_file_name_that_fits_the_folder() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    // 250 bytes: within the usual 255, whatever the temporary file is called.
    let name = format!("{}.json", "n".repeat(245));
    let output = get_me(&sandbox, &server.url)
        .args(["-o", &name])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(sandbox.path().join(&name).is_file());
    assert_eq!(listing(sandbox.path()), [name]);
}

#[test]
fn o_in_a_folder_that_refuses_files_does_not_say_it_is_missing() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["-o", "/proc/x.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    assert!(
        err.contains("cannot write the response to /proc/x.json: cannot create a file in /proc")
            && !err.contains("does not exist")
            && !err.contains("create the folder")
            && err.contains("nothing was sent"),
        "{err}"
    );
    server.assert_untouched();
}

#[test]
fn o_through_a_dangling_link_creates_the_file_it_names() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path().join("data")).unwrap();
    std::os::unix::fs::symlink("data/real.json", sandbox.path().join("latest.json")).unwrap();
    let output = get_me(&sandbox, &server.url)
        .args(["--json", "-o", "latest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let link = std::fs::symlink_metadata(sandbox.path().join("latest.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("data/real.json")).unwrap(),
        "{\"a\":1}"
    );
}

/// Whether this process may hand files to other users (root, in CI).
fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
}

#[test]
fn o_on_someone_elses_file_in_a_sticky_folder_is_refused_before_sending() {
    if !is_root() {
        eprintln!("SKIPPED: needs root to give files to another user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let server = Server::json(200, r#"{"new":true}"#);
    let sandbox = Sandbox::new();
    // As /tmp: a sticky folder that is not ours, holding a file that is not ours either.
    let old = folder_with_old_file(&sandbox);
    let folder = old.parent().unwrap();
    chown(folder, 65534);
    chown(&old, 65534);
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let output = get_me(&sandbox, &server.url)
        .arg("-o")
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    assert!(
        err.contains("it belongs to another user") && err.contains("nothing was sent"),
        "{err}"
    );
    server.assert_untouched();
    assert_old_file_untouched(&old);
}

#[test]
fn o_on_a_read_only_file_is_refused_before_sending_as_a_user() {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root() || !setpriv.exists() {
        eprintln!("SKIPPED: needs root and setpriv to run as another user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let server = Server::json(200, r#"{"new":true}"#);
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let folder = old.parent().unwrap();
    std::fs::set_permissions(sandbox.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    chown(folder, 65534);
    chown(&old, 65534);
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o444)).unwrap();
    let output = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("epilot"))
        .args(["user", "getMeV2", "-s", &server.url, "-t", "tok", "-o"])
        .arg(&old)
        .current_dir(folder)
        .env_clear()
        .env("HOME", folder)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    assert!(
        err.contains("the file is read-only") && err.contains("nothing was sent"),
        "{err}"
    );
    server.assert_untouched();
    assert_old_file_untouched(&old);
}

#[test]
fn an_answer_too_deep_for_jsonata_and_validation_is_called_too_deep_not_non_json() {
    let depth = 100_000;
    let body: &'static str =
        Box::leak(format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_boxed_str());
    let server = Server::json(200, body);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "$count($)"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr_of(&output);
    assert!(
        err.contains("the answer is nested deeper than 127 levels, which --jsonata cannot read")
            && !err.contains("not JSON"),
        "{err}"
    );

    let output = get_me(&sandbox, &server.url)
        .args(["--validate-response", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(output.stdout.len(), 2 * depth + 1, "still printed whole");
    let err = stderr_of(&output);
    assert!(
        err.contains(
            "warning: response: not checked, the answer is nested deeper than 127 levels, which --validate-response cannot read"
        ) && !err.contains("not JSON"),
        "{err}"
    );
}

#[test]
fn a_whitespace_answer_labelled_json_gets_a_warning() {
    let server = Server::start(|_| Reply::raw(200, "application/json", b" \n\t\n"));
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output.stdout, b" \n\t\n", "printed as received");
    assert!(
        stderr_of(&output)
            .contains("warning: the answer is labelled JSON but holds only whitespace"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn the_over_cap_help_suggests_o_only_when_it_was_not_given() {
    let big: &'static str = Box::leak(format!("[{}1]", "1,".repeat(5000)).into_boxed_str());
    let server = Server::json(200, big);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args([
            "--jsonata",
            "$",
            "--max-answer-size",
            "1KB",
            "-o",
            "out.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr_of(&output);
    assert!(
        err.contains("over the 1 KB that --jsonata reads") && !err.contains("-o FILE"),
        "{err}"
    );
}

#[test]
fn the_default_cap_keeps_jsonata_from_reading_a_20_mb_answer() {
    let big: &'static str = Box::leak(format!("[{}1]", "1,".repeat(10_000_000)).into_boxed_str());
    let server = Server::json(200, big);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["--jsonata", "$count($)"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("over the 16 MB that --jsonata reads into memory"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn an_http_error_with_o_and_a_closed_stdout_still_exits_1() {
    let server = Server::json(503, r#"{"message":"try later"}"#);
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" user getMeV2 -s "$1" -t tok --retries 0 -o "$2" >&-"#)
        .arg(assert_cmd::cargo::cargo_bin("epilot"))
        .arg(&server.url)
        .arg(&old)
        .env_clear()
        .env("HOME", sandbox.path())
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("was left as it was"));
    assert_old_file_untouched(&old);
}

#[test]
fn o_dev_stdout_into_a_pipe_is_written_in_place() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server.url)
        .args(["-o", "/dev/stdout"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), r#"{"a":1}"#);
}

#[test]
fn jsonata_refuses_to_build_a_gigabyte_string() {
    let sandbox = Sandbox::new();
    let started = std::time::Instant::now();
    let run = sandbox.run(&[
        "user",
        "getMeV2",
        "--mock",
        "--jsonata",
        r#"$length($eval("$pa" & "d('', 1000000000)"))"#,
    ]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("$pad width 1000000000 is over 10000000 characters, the limit for --jsonata"),
        "{}",
        run.stderr()
    );
    assert!(run.stdout().is_empty());
    // Unguarded, this call alone takes 13 s and 3 GB.
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}

#[test]
fn a_jsonata_expression_past_its_time_limit_ends_the_command() {
    let sandbox = Sandbox::new();
    let started = std::time::Instant::now();
    let run = sandbox.run(&[
        "user",
        "getMeV2",
        "--mock",
        "--timeout",
        "1",
        "--jsonata",
        "$count([1..9000000].($string($)))",
    ]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("it ran longer than 1 s, the limit for --jsonata"),
        "{}",
        run.stderr()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}

/// Owner, group and mode of `path`.
fn owners_and_mode(path: &Path) -> (u32, u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).unwrap();
    (meta.uid(), meta.gid(), meta.mode() & 0o7777)
}

#[test]
fn o_keeps_the_owner_group_and_mode_of_the_file_it_replaces() {
    if !is_root() {
        eprintln!("SKIPPED: needs root to give files to another group");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let server = Server::json(200, r#"{"new":true}"#);
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    // As a log or data file shared with a service: root:daemon 0640, and one of nobody's.
    std::os::unix::fs::chown(&old, Some(0), Some(1)).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
    let theirs = sandbox.write("out/theirs.json", "previous\n");
    std::os::unix::fs::chown(&theirs, Some(65534), Some(1)).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o660)).unwrap();
    for (file, expected) in [(&old, (0, 1, 0o640)), (&theirs, (65534, 1, 0o660))] {
        let output = get_me(&sandbox, &server.url)
            .arg("-o")
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        assert_eq!(std::fs::read_to_string(file).unwrap(), r#"{"new":true}"#);
        assert_eq!(owners_and_mode(file), expected, "{}", file.display());
    }
}

#[test]
fn o_clears_the_group_bits_when_it_cannot_keep_the_group() {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root() || !setpriv.exists() {
        eprintln!("SKIPPED: needs root and setpriv to run as another user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let server = Server::json(200, r#"{"new":true}"#);
    let sandbox = Sandbox::new();
    let old = folder_with_old_file(&sandbox);
    let folder = old.parent().unwrap();
    std::fs::set_permissions(sandbox.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    chown(folder, 65534);
    // nobody's file in group daemon, which nobody is not a member of.
    std::os::unix::fs::chown(&old, Some(65534), Some(1)).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o664)).unwrap();
    let output = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("epilot"))
        .args(["user", "getMeV2", "-s", &server.url, "-t", "tok", "-o"])
        .arg(&old)
        .current_dir(folder)
        .env_clear()
        .env("HOME", folder)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(std::fs::read_to_string(&old).unwrap(), r#"{"new":true}"#);
    // Group nobody must not get what group daemon had.
    assert_eq!(owners_and_mode(&old), (65534, 65534, 0o604));
}

#[test]
fn a_header_given_twice_is_sent_twice_in_order_and_the_curl_line_shows_both() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let headers = ["-H", "X-A: one", "-H", "x-a: two", "-H", "User-Agent: mine"];
    let output = get_me(&sandbox, &server.url)
        .args(headers)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let request = server.single();
    let sent: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-a") || n.eq_ignore_ascii_case("user-agent"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(
        sent,
        [
            pair("x-a", "one"),
            pair("x-a", "two"),
            pair("user-agent", "mine")
        ]
    );

    let dry = get_me(&sandbox, &server.url)
        .args(headers)
        .arg("--dry-run")
        .output()
        .unwrap();
    let shown = format!("{}{}", stdout_of(&dry), stderr_of(&dry));
    let curl = &shown[shown.find("curl").expect("a curl line")..];
    let one = curl.find("-H 'X-A: one'").expect(curl);
    let two = curl.find("-H 'x-a: two'").expect(curl);
    assert!(one < two, "{curl}");
}

/// A definition whose response schemas the sample placeholders have trouble with: an enum of
/// values over the sample budget, and a pattern no placeholder matches.
fn awkward_definition(sandbox: &Sandbox) -> std::path::PathBuf {
    let long = |c: &str, n: usize| serde_json::Value::String(c.repeat(n));
    let object_of = |name: &str, schema: serde_json::Value| serde_json::json!({"type": "object", "required": [name], "properties": {name: schema}});
    let operation = |id: &str, schema: serde_json::Value| {
        serde_json::json!({"get": {"operationId": id, "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": schema}}}}}})
    };
    let document = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "awkward", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {
            "/kind": operation("getKind", object_of("kind", serde_json::json!(
                {"type": "string", "enum": [long("B", 90_000), long("x", 1000), long("A", 70_000)]}))),
            "/huge": operation("getHuge", serde_json::json!(
                {"type": "string", "enum": [long("B", 90_000), long("A", 70_000)]})),
            "/code": operation("getCode", object_of("code", serde_json::json!(
                {"type": "string", "pattern": "^(a+)+$"}))),
        }
    });
    sandbox.write("awkward.json", &document.to_string())
}

fn mock(sandbox: &Sandbox, spec: &Path, operation: &str) -> (serde_json::Value, String) {
    let output = sandbox
        .epilot()
        .args(["awkward", operation, "--mock", "--definition"])
        .arg(spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let body = serde_json::from_str(&stdout_of(&output)).expect("a JSON mock answer");
    (body, stderr_of(&output))
}

#[test]
fn a_mock_enum_over_the_budget_takes_a_value_that_fits_or_a_cut_one_it_owns_up_to() {
    let sandbox = Sandbox::new();
    let spec = awkward_definition(&sandbox);
    // The first value is over the budget, the second fits: still a value of the enum.
    let (body, notes) = mock(&sandbox, &spec, "getKind");
    assert_eq!(body["kind"], "x".repeat(1000));
    assert!(notes.is_empty(), "{notes}");
    // None fits: the shortest, cut, and stderr says so.
    let (body, notes) = mock(&sandbox, &spec, "getHuge");
    let text = body.as_str().expect("a string, not null");
    assert!(text.starts_with("AAAA") && text.ends_with('…'), "{text}");
    assert!(notes.contains("cut short"), "{notes}");
}

#[test]
fn a_mock_answer_that_cannot_meet_its_pattern_says_so() {
    let sandbox = Sandbox::new();
    let spec = awkward_definition(&sandbox);
    let (_, notes) = mock(&sandbox, &spec, "getCode");
    assert!(
        notes.contains("not valid for its own schema") && notes.contains("^(a+)+$"),
        "{notes}"
    );
}

#[test]
fn o_onto_a_pipe_nobody_reads_is_refused_before_sending_and_a_read_pipe_gets_the_answer() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    let fifo = sandbox.path().join("answers");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let output = get_me(&sandbox, &server.url)
        .arg("-o")
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("a pipe that nobody reads"), "{err}");
    assert!(server.requests().is_empty(), "nothing may be sent");

    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read_to_string(reader_path).unwrap());
    // The reader opens the pipe; epilot then finds it read.
    let mut answered = None;
    for _ in 0..100 {
        let output = get_me(&sandbox, &server.url)
            .arg("-o")
            .arg(&fifo)
            .output()
            .unwrap();
        if output.status.code() == Some(0) {
            answered = Some(output);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(answered.is_some(), "a read pipe takes the answer");
    assert_eq!(reader.join().unwrap(), r#"{"a":1}"#);
}
