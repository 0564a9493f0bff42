//! The request as printed: the `--dry-run` curl line, pasted into a real shell, sends what
//! epilot itself sends (compared on the wire, byte for byte where it matters); hostile names
//! in a definition never reach a shell; control characters from definitions and servers are
//! shown escaped on the terminal while a response body stays byte-exact.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::server::Server;
use crate::util::{stderr_of, stdout_of, Sandbox};

/// One request as it arrived, before any parsing a framework would do.
#[derive(Debug, Clone, Default)]
struct Wire {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Wire {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A bare HTTP/1.1 server on 127.0.0.1 that keeps header values as raw bytes (UTF-8 shown
/// lossily) and answers every request with `200 {}` and `Connection: close`.
struct RawServer {
    url: String,
    seen: Arc<Mutex<Vec<Wire>>>,
}

impl RawServer {
    fn start() -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        // The thread ends with the test binary; every test gets its own port.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Ok(mut writer) = stream.try_clone() else {
                    continue;
                };
                if let Some(wire) = read_request(stream) {
                    // Recorded before the answer, so a client that has its answer has been seen.
                    record.lock().unwrap().push(wire);
                    let _ = writer.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                    );
                }
            }
        });
        RawServer { url, seen }
    }

    fn take(&self) -> Vec<Wire> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn read_request(stream: TcpStream) -> Option<Wire> {
    let mut writer = stream.try_clone().ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).ok()?;
    let start = String::from_utf8_lossy(&line).trim_end().to_string();
    let mut words = start.split(' ');
    let mut wire = Wire {
        method: words.next()?.to_string(),
        target: words.next()?.to_string(),
        ..Wire::default()
    };
    loop {
        line.clear();
        reader.read_until(b'\n', &mut line).ok()?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':')?;
        wire.headers
            .push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    if wire
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    if wire
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            line.clear();
            reader.read_until(b'\n', &mut line).ok()?;
            let size = usize::from_str_radix(String::from_utf8_lossy(&line).trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            wire.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = wire.header("content-length") {
        let mut body = vec![0; length.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        wire.body = body;
    }
    Some(wire)
}

const SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "Tricky", "version": "1"},
 "servers": [{"url": "https://unused.invalid"}],
 "paths": {
  "/items/{id}": {
   "get": {"operationId": "getItem", "parameters": [
     {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
     {"name": "q", "in": "query", "schema": {"type": "string"}},
     {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
     {"name": "X-Note", "in": "header", "schema": {"type": "string"}},
     {"name": "session", "in": "cookie", "schema": {"type": "string"}}
   ], "responses": {"200": {"description": "ok"}}},
   "head": {"operationId": "headItem", "parameters": [
     {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
   ], "responses": {"200": {"description": "ok"}}},
   "put": {"operationId": "putText", "parameters": [
     {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
   ], "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}},
   "responses": {"200": {"description": "ok"}}},
   "post": {"operationId": "postJson", "parameters": [
     {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
   ], "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
   "responses": {"200": {"description": "ok"}}},
   "patch": {"operationId": "patchBinary", "parameters": [
     {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
   ], "requestBody": {"content": {"application/octet-stream": {}}},
   "responses": {"200": {"description": "ok"}}}
  },
  "/upload": {"post": {"operationId": "upload",
   "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
   "responses": {"200": {"description": "ok"}}}},
  "/form": {"post": {"operationId": "form",
   "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
   "responses": {"200": {"description": "ok"}}}}
 }}"#;

const HOSTILE: &str = "x$(touch pwned)`touch pwned2`'\"; touch pwned3";

/// Requests whose every part holds something a shell, curl or a URL parser would read as
/// syntax.
fn tricky_requests() -> Vec<Vec<String>> {
    let note = format!("X-Note={HOSTILE} Grüße 🎉");
    let extra = format!("X-Extra: {HOSTILE}");
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "getItem",
            "a/b c",
            "-p",
            "q=a&b=c#frag %20 ü+;,",
            "-p",
            "tag=x y",
            "-p",
            "tag=1&2",
        ],
        vec!["getItem", "..", "-p", &note],
        vec!["getItem", ".", "-p", "session=it's; admin=1", "-H", &extra],
        vec!["getItem", "50%", "-p", "q=[a]{b,c}*?", "-H", "X-Empty:"],
        vec![
            "getItem",
            "%2e%2E",
            "-H",
            "X-Api-Key: k$(touch pwned)",
            "--token",
            "tok'$en",
        ],
        vec!["headItem", "h"],
        vec![
            "putText",
            "x",
            "-d",
            "it's\nline 2\n\ttab $(touch pwned) `x` \\ \u{1b}[31mred\r\n",
        ],
        vec![
            "postJson",
            "x",
            "-d",
            r#"{"a": "it's \"q\"\n", "b": "$(touch pwned)", "c": "\u001b"}"#,
        ],
        vec!["postJson", "x", "-d", "@body.json"],
        // Over the kernel's limit for one argument (128 KiB) once quoted.
        vec!["postJson", "x", "-d", "@big.json"],
        vec!["patchBinary", "x", "-d", "@binary.dat"],
        vec![
            "upload",
            "-F",
            "note=<not-a-file",
            "-F",
            "semi=a;type=text/html;filename=x",
            "-F",
            "quote=\"q\" \\ $(touch pwned)",
            "-F",
            "file=@data.bin",
            "-F",
            "odd=@we\"ird;name,x.bin",
        ],
        vec!["form", "-F", "a=1&b=2", "-F", "c=ü =+%", "-F", "d=<x;y"],
    ];
    cases
        .into_iter()
        .map(|c| c.into_iter().map(str::to_string).collect())
        .collect()
}

fn sandbox_with_files() -> (Sandbox, String) {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("tricky.json", SPEC).display().to_string();
    sandbox.write("body.json", "{\"k\": \"it's\\n\", \"n\": [1, 2]}\n");
    let big = serde_json::json!({ "text": "it's 100% \\ $(touch pwned) ".repeat(8 * 1024) });
    sandbox.write("big.json", &big.to_string());
    std::fs::write(
        sandbox.path().join("binary.dat"),
        [0u8, 1, 2, 0xff, b'\'', 0, b'%'],
    )
    .unwrap();
    std::fs::write(sandbox.path().join("data.bin"), [0u8, 0x80, b'\n', b'"']).unwrap();
    std::fs::write(sandbox.path().join("we\"ird;name,x.bin"), b"odd").unwrap();
    (sandbox, spec)
}

fn curl_available() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The headers epilot chose (not those its HTTP client or curl add on their own).
fn chosen_headers(wire: &Wire) -> Vec<(String, String)> {
    let transport = [
        "host",
        "accept",
        "accept-encoding",
        "content-length",
        "connection",
        "expect",
    ];
    let mut headers: Vec<(String, String)> = wire
        .headers
        .iter()
        .filter(|(n, _)| !transport.contains(&n.as_str()))
        .map(|(n, v)| {
            // The multipart boundary is chosen anew by each sender.
            if n == "content-type" && v.starts_with("multipart/form-data") {
                (n.clone(), "multipart/form-data".to_string())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect();
    headers.sort();
    headers
}

/// A multipart body's parts (their header lines and content), boundary taken out.
fn parts(wire: &Wire) -> Vec<Vec<u8>> {
    let content_type = wire.header("content-type").unwrap_or_default();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("multipart boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &wire.body;
    let mut found = Vec::new();
    let mut rest: &[u8] = body;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        let after = &rest[at + delimiter.len()..];
        if after.starts_with(b"--") {
            break;
        }
        let after = after
            .strip_prefix(b"\r\n")
            .expect("CRLF after the boundary");
        let end = find(after, format!("\r\n{delimiter}").as_bytes()).expect("closing boundary");
        found.push(after[..end].to_vec());
        rest = &after[end + 2..];
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn curl_line(dry_run_stdout: &str) -> String {
    dry_run_stdout
        .split_once("# the same request with curl:\n")
        .expect("a curl line")
        .1
        .to_string()
}

#[test]
fn the_dry_run_curl_line_sends_exactly_what_epilot_sends() {
    if !curl_available() {
        eprintln!("SKIPPED: curl is not installed (Debian/Ubuntu: apt-get install curl)");
        return;
    }
    let (sandbox, spec) = sandbox_with_files();
    let server = RawServer::start();
    for case in tricky_requests() {
        let mut args = vec!["tricky".to_string()];
        args.extend(case.iter().cloned());
        args.extend([
            "--definition".into(),
            spec.clone(),
            "--server".into(),
            server.url.clone(),
        ]);

        let sent = sandbox.epilot().args(&args).output().unwrap();
        assert!(sent.status.success(), "{case:?}: {}", stderr_of(&sent));
        let dry = sandbox
            .epilot()
            .args(&args)
            .arg("--dry-run")
            .output()
            .unwrap();
        assert!(dry.status.success(), "{case:?}: {}", stderr_of(&dry));
        let Ok([by_epilot]) = <[Wire; 1]>::try_from(server.take()) else {
            panic!("{case:?}: epilot should send once, the dry run never");
        };

        let line = curl_line(&stdout_of(&dry));
        assert!(!line.contains('\u{1b}') && !line.contains('\r'), "{line}");
        // From a file, as a terminal hands a pasted line to the shell: `sh -c` would make the
        // whole line one argument of `sh`, which the kernel caps.
        sandbox.write(
            "pasted.sh",
            &format!(
                "{} --silent --show-error --output /dev/null\n",
                line.trim_end()
            ),
        );
        let pasted = Command::new("sh")
            .arg("pasted.sh")
            .current_dir(sandbox.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // A typed token is not the ambient one: pasted, the line must not send this.
            .env("EPILOT_TOKEN", "ambient")
            .env("EPILOT_HEADER_AUTHORIZATION", "Bearer tok'$en")
            .env("EPILOT_HEADER_X_API_KEY", "k$(touch pwned)")
            // Masked headers are read from the environment, as a user would set them.
            .env(
                "EPILOT_HEADER_COOKIE",
                by_epilot.header("cookie").unwrap_or_default(),
            )
            .output()
            .unwrap();
        assert!(
            pasted.status.success(),
            "{case:?}\n{line}\n{}",
            stderr_of(&pasted)
        );
        let Ok([by_curl]) = <[Wire; 1]>::try_from(server.take()) else {
            panic!("{case:?}: the curl line should send once\n{line}");
        };

        let context = format!("{case:?}\n{line}");
        assert_eq!(by_curl.method, by_epilot.method, "{context}");
        assert_eq!(by_curl.target, by_epilot.target, "{context}");
        assert_eq!(
            chosen_headers(&by_curl),
            chosen_headers(&by_epilot),
            "{context}"
        );
        if by_epilot
            .header("content-type")
            .is_some_and(|t| t.starts_with("multipart/"))
        {
            assert_eq!(parts(&by_curl), parts(&by_epilot), "{context}");
            assert_eq!(parts(&by_epilot).len(), 5, "{context}");
        } else {
            assert_eq!(by_curl.body, by_epilot.body, "{context}");
        }
    }
    let created: Vec<_> = std::fs::read_dir(sandbox.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("pwned"))
        .collect();
    assert!(created.is_empty(), "pasting ran a command: {created:?}");
}

#[test]
fn dot_segment_values_arrive_encoded_and_are_not_removed() {
    let (sandbox, spec) = sandbox_with_files();
    let server = RawServer::start();
    for (value, expected) in [
        ("..", "/items/%2E%2E"),
        (".", "/items/%2E"),
        ("...", "/items/..."),
    ] {
        sandbox
            .epilot()
            .args([
                "tricky",
                "getItem",
                value,
                "--definition",
                &spec,
                "--server",
                &server.url,
            ])
            .assert()
            .success();
        let got = server.take();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].target, expected);
    }
}

const HOSTILE_SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "H", "version": "1"},
 "paths": {"/x": {"get": {"operationId": "getX", "parameters": [
   {"name": "X-Api-Key$(touch x)", "in": "header", "required": true, "schema": {"type": "string"}}
 ], "responses": {"200": {"description": "ok"}}}}}}"#;

#[test]
fn a_header_name_that_is_not_a_token_is_refused_and_nothing_runs_or_is_sent() {
    let sandbox = Sandbox::new();
    let spec = sandbox
        .write("hostile.json", HOSTILE_SPEC)
        .display()
        .to_string();
    let server = Server::json(200, "{}");
    for extra in [&["--dry-run"][..], &[]] {
        let output = sandbox
            .epilot()
            .args([
                "h",
                "getX",
                "-p",
                "X-Api-Key$(touch x)=v",
                "--definition",
                &spec,
            ])
            .args(["--server", &server.url])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
        assert!(stdout_of(&output).is_empty(), "{}", stdout_of(&output));
        let err = stderr_of(&output);
        assert!(
            err.contains("header parameter `X-Api-Key$(touch x)` of `getX`"),
            "{err}"
        );
    }
    server.assert_untouched();
    assert!(!sandbox.path().join("x").exists());
}

#[test]
fn header_names_and_values_from_the_command_line_are_checked_before_dry_run_and_send() {
    let (sandbox, spec) = sandbox_with_files();
    let server = Server::json(200, "{}");
    let cases: [&[&str]; 4] = [
        &["-H", "X-Bad Name: v"],
        &["-H", "X-A$(id): v"],
        &["-p", "X-Note=a\r\nInjected: yes"],
        &["-H", "X-A: a\u{1b}[2Jb"],
    ];
    for args in cases {
        for dry in [true, false] {
            let output = sandbox
                .epilot()
                .args([
                    "tricky",
                    "getItem",
                    "1",
                    "--definition",
                    &spec,
                    "--server",
                    &server.url,
                ])
                .args(args)
                .args(dry.then_some("--dry-run"))
                .output()
                .unwrap();
            assert_eq!(
                output.status.code(),
                Some(2),
                "{args:?}: {}",
                stderr_of(&output)
            );
            assert!(stdout_of(&output).is_empty());
            assert!(!output.stderr.contains(&0x1b), "{args:?}");
        }
    }
    server.assert_untouched();
}

const CONTROL_SPEC: &str = "{\"openapi\": \"3.0.0\",
 \"info\": {\"title\": \"T\\u001b]0;pwned\\u0007itle\", \"version\": \"1\", \"description\": \"d\\u001b[31m\"},
 \"tags\": [{\"name\": \"t\\u001b[1m\"}],
 \"paths\": {\"/x\": {\"get\": {\"operationId\": \"get\\u001b[31mX\\u202e\",
   \"summary\": \"red \\u001b[31mtext\\r hidden\", \"description\": \"line 1\\n\\u001b[2Jline 2\\u202e\",
   \"tags\": [\"t\\u001b[1m\"],
   \"parameters\": [{\"name\": \"status\", \"in\": \"query\", \"description\": \"s\\u009b1m\",
     \"schema\": {\"type\": \"string\", \"enum\": [\"on\\u001b[31m\", \"off\\r\", \"$(touch pwned)\"]}}],
   \"responses\": {\"200\": {\"description\": \"ok\", \"content\": {\"application/json\": {
     \"example\": {\"a\": \"\\u009b31m\"}}}}}}}}}";

#[test]
fn control_characters_from_a_definition_are_shown_escaped_in_listing_help_docs_and_completion() {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("c.json", CONTROL_SPEC).display().to_string();
    let name = "get\u{1b}[31mX\u{202e}";
    let runs: [Vec<&str>; 6] = [
        vec!["c", "--definition", &spec],
        vec!["c", name, "--help", "--definition", &spec],
        vec!["c", "getNothing", "--definition", &spec],
        vec![
            "c",
            name,
            "-p",
            "status=bad",
            "--definition",
            &spec,
            "--dry-run",
        ],
        vec!["docs", "c", "--definition", &spec],
        vec!["c", name, "--bogus", "--definition", &spec],
    ];
    for args in &runs {
        let output = sandbox.epilot().args(args).output().unwrap();
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains(['\u{1b}', '\r', '\u{9b}', '\u{7}', '\u{202e}']),
                "{args:?}: {text:?}"
            );
        }
    }
    let listing = stdout_of(&sandbox.epilot().args(&runs[0]).output().unwrap());
    assert!(listing.contains("get\\u{1b}[31mX\\u{202e}"), "{listing}");
    assert!(
        listing.contains("red \\u{1b}[31mtext\\r hidden"),
        "{listing}"
    );
    let help = stdout_of(&sandbox.epilot().args(&runs[1]).output().unwrap());
    assert!(
        help.contains("on\\u{1b}[31m|off\\r|$(touch pwned)"),
        "{help}"
    );
    assert!(help.contains("line 1\n\\u{1b}[2Jline 2\\u{202e}"), "{help}");
    let usage = sandbox.epilot().args(&runs[5]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        // One quoted word, as every printed command writes it: pasted, it names the operation.
        stderr_of(&usage).contains("[31mX'\"$(printf '\\342\\200\\256')\" [flags]"),
        "{}",
        stderr_of(&usage)
    );
    let rejected = sandbox.epilot().args(&runs[3]).output().unwrap();
    assert_eq!(rejected.status.code(), Some(2));
    assert!(
        stderr_of(&rejected).contains("\\u{1b}"),
        "{}",
        stderr_of(&rejected)
    );

    let line = format!("epilot c '{name}' --definition {spec} -p status=");
    for (shell, expected) in [
        (
            "bash",
            vec![
                "status=\\$\\(touch\\ pwned\\)",
                "status=off$'\\x0d'",
                "status=on$'\\x1b'\\[31m",
            ],
        ),
        ("fish", vec!["status=$(touch pwned)"]),
    ] {
        let output = sandbox
            .epilot()
            .args(["__complete", "--shell", shell, "--line", &line])
            .output()
            .unwrap();
        assert!(!output.stdout.contains(&0x1b) && !output.stdout.contains(&b'\r'));
        assert_eq!(
            stdout_of(&output).lines().collect::<Vec<_>>(),
            expected,
            "{shell}"
        );
    }
    assert!(!sandbox.path().join("pwned").exists());
}

#[test]
fn a_server_message_with_escapes_is_shown_escaped_while_the_body_stays_byte_exact() {
    let body = "{\"message\": \"denied \\u001b[31mred\\u001b]0;title\\u0007 \\r done\"}";
    let raw = b"raw \x1b[31m bytes \r\n\x00\xff";
    let (sandbox, spec) = sandbox_with_files();
    let failing = Server::start(move |_| crate::server::Reply::json(403, body));
    let output = sandbox
        .epilot()
        .args([
            "tricky",
            "getItem",
            "1",
            "--definition",
            &spec,
            "--server",
            &failing.url,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr_of(&output);
    assert!(
        !output.stderr.contains(&0x1b) && !output.stderr.contains(&b'\r'),
        "{err:?}"
    );
    assert!(
        err.contains("denied \\u{1b}[31mred\\u{1b}]0;title\\u{7} \\r done"),
        "{err}"
    );

    let ok =
        Server::start(move |_| crate::server::Reply::raw(200, "application/octet-stream", raw));
    let output = sandbox
        .epilot()
        .args([
            "tricky",
            "getItem",
            "1",
            "--definition",
            &spec,
            "--server",
            &ok.url,
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, raw);
}

#[test]
fn bash_completion_inserts_values_from_a_definition_as_quoted_words() {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("c.json", CONTROL_SPEC).display().to_string();
    let script = stdout_of(
        &sandbox
            .epilot()
            .args(["completion", "bash"])
            .output()
            .unwrap(),
    );
    let script_path = sandbox.write("epilot.bash", &script);
    let binary = assert_cmd::cargo::cargo_bin("epilot");
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // What bash sets for `epilot c <name> --definition c.json -p status=<TAB>` (here with `=`
    // not a word break), then each candidate read back as bash reads a command line.
    let program = r#"
        source "$SCRIPT"
        COMP_LINE="epilot c $(printf 'get\033[31mX\342\200\256') --definition $SPEC -p status="
        COMP_POINT=${#COMP_LINE}
        COMP_WORDS=(epilot c x --definition "$SPEC" -p status=)
        COMP_CWORD=6
        _epilot
        for word in "${COMPREPLY[@]}"; do eval "printf '%s|' $word"; done
    "#;
    let output = Command::new("bash")
        .arg("-c")
        .arg(program)
        .current_dir(sandbox.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", sandbox.path())
        .env("XDG_CONFIG_HOME", sandbox.path().join("config"))
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .env("SCRIPT", &script_path)
        .env("SPEC", &spec)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let mut values: Vec<&str> = std::str::from_utf8(&output.stdout)
        .unwrap()
        .split_terminator('|')
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            "status=$(touch pwned)",
            "status=off\r",
            "status=on\u{1b}[31m"
        ]
    );
    assert!(!sandbox.path().join("pwned").exists());
}

#[test]
fn a_typed_authorization_header_is_not_read_from_epilot_token_in_the_curl_line() {
    let sandbox = Sandbox::new();
    let dry = sandbox
        .epilot()
        .env("EPILOT_TOKEN", "ambient")
        .args([
            "user",
            "getMeV2",
            "--dry-run",
            "-H",
            "Authorization: Basic dXNlcjpwdw==",
        ])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    let line = curl_line(&stdout_of(&dry));
    assert!(
        !line.contains("EPILOT_TOKEN") && !line.contains("dXNlcjpwdw"),
        "pasted, it must not send the ambient token: {line}"
    );
    assert!(
        line.contains(r#"-H 'Authorization: '"$EPILOT_HEADER_AUTHORIZATION""#),
        "{line}"
    );
    assert!(
        line.starts_with("# set EPILOT_HEADER_AUTHORIZATION in the environment first\n"),
        "{line}"
    );

    // A token read from EPILOT_TOKEN is read from there again.
    let dry = sandbox
        .epilot()
        .env("EPILOT_TOKEN", "ambient")
        .args(["user", "getMeV2", "--dry-run"])
        .output()
        .unwrap();
    let line = curl_line(&stdout_of(&dry));
    assert!(
        line.contains(r#"-H "Authorization: Bearer $EPILOT_TOKEN""#)
            && line.starts_with("# set EPILOT_TOKEN in the environment first\n"),
        "{line}"
    );
}

#[test]
fn a_typed_token_is_not_read_from_epilot_token_in_the_curl_line() {
    let sandbox = Sandbox::new();
    let dry = sandbox
        .epilot()
        .env("EPILOT_TOKEN", "ambient")
        .args(["user", "getMeV2", "--dry-run", "--token", "typed"])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    let line = curl_line(&stdout_of(&dry));
    assert!(
        !line.contains("EPILOT_TOKEN") && !line.contains("typed"),
        "pasted, it must not send the ambient token: {line}"
    );
    assert!(
        line.starts_with("# set EPILOT_HEADER_AUTHORIZATION in the environment first\n")
            && line.contains(r#"-H 'Authorization: '"$EPILOT_HEADER_AUTHORIZATION""#),
        "{line}"
    );
}

#[test]
fn masked_header_parameters_never_read_another_programs_variable() {
    if !curl_available() {
        eprintln!("SKIPPED: curl is not installed (Debian/Ubuntu: apt-get install curl)");
        return;
    }
    let sandbox = Sandbox::new();
    let server = RawServer::start();
    let names = ["GitHub-Token", "AWS-Secret-Access-Key", "Epilot-Token"];
    let parameters: Vec<_> = names
        .iter()
        .map(|name| serde_json::json!({"name": name, "in": "header", "schema": {"type": "string"}}))
        .collect();
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": server.url}],
        "paths": {"/x": {"get": {
            "operationId": "op",
            "parameters": parameters,
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    let definition = sandbox.write("t.json", &spec.to_string());
    let dry = sandbox
        .epilot()
        .args(["t", "op", "--dry-run", "--definition"])
        .arg(&definition)
        .args([
            "-p",
            "GitHub-Token=a",
            "-p",
            "AWS-Secret-Access-Key=b",
            "-p",
            "Epilot-Token=c",
        ])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    let line = curl_line(&stdout_of(&dry));
    assert!(
        line.starts_with("# set EPILOT_HEADER_GITHUB_TOKEN, EPILOT_HEADER_AWS_SECRET_ACCESS_KEY and EPILOT_HEADER_EPILOT_TOKEN in the environment first\n"),
        "{line}"
    );
    let pasted = Command::new("sh")
        .arg("-c")
        .arg(format!("{} --silent --output /dev/null", line.trim_end()))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_TOKEN", "ghp-users-own")
        .env("AWS_SECRET_ACCESS_KEY", "aws-users-own")
        .env("EPILOT_TOKEN", "epilot-users-own")
        .output()
        .unwrap();
    assert!(pasted.status.success(), "{}", stderr_of(&pasted));
    let Ok([wire]) = <[Wire; 1]>::try_from(server.take()) else {
        panic!("the curl line should send once\n{line}");
    };
    for name in names {
        assert_eq!(wire.header(name), None, "{name} sent: {wire:?}\n{line}");
    }
}

#[test]
fn the_suggested_server_in_the_withheld_token_note_is_one_quoted_word() {
    let sandbox = Sandbox::new();
    let server = "http://127.0.0.1:9/a$(touch;pwned)";
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": server}],
        "paths": {"/x": {"get": {
            "operationId": "op",
            "security": [{"b": []}],
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {"securitySchemes": {"b": {"type": "http", "scheme": "bearer"}}}
    });
    let definition = sandbox.write("t.json", &spec.to_string());
    let output = sandbox
        .epilot()
        .env("EPILOT_TOKEN", "ambient")
        .args(["t", "op", "--dry-run", "--definition"])
        .arg(&definition)
        .output()
        .unwrap();
    let err = stderr_of(&output);
    let word = err
        .split_once("pass --server ")
        .and_then(|(_, rest)| rest.split_once(" (or give"))
        .map(|(word, _)| word)
        .unwrap_or_else(|| panic!("a suggested --server in {err}"));
    let pasted = Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s {word}"))
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    assert_eq!(stdout_of(&pasted), server, "{err}");
    assert!(!sandbox.path().join("pwned").exists(), "{err}");
}

#[test]
fn an_operation_name_in_a_suggested_command_is_one_quoted_word() {
    let sandbox = Sandbox::new();
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {"/x": {"post": {
            "operationId": "make;touch pwned",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    let definition = sandbox.write("t.json", &spec.to_string());
    let output = sandbox
        .epilot()
        .args(["t", "make;touch pwned", "--no-interactive", "--definition"])
        .arg(&definition)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    assert!(
        err.contains("(cat body.json | epilot t --definition "),
        "{err}"
    );
    assert!(err.contains(" 'make;touch pwned')"), "{err}");
}

/// Every hint that names a command keeps `--definition`: pasted without it, the command would
/// reach the bundled API of that name (its server, with the stored token).
#[test]
fn hints_about_an_api_from_a_definition_keep_the_definition_when_pasted() {
    let sandbox = Sandbox::new();
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {"/x": {"post": {
            "operationId": "createThing",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    sandbox.write("my user.json", &spec.to_string());
    let run = |args: &[&str]| {
        let output = sandbox
            .epilot()
            .args(args)
            .args(["--definition", "my user.json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
        stderr_of(&output)
    };
    let between = |text: &str, start: &str, end: &str| {
        let from = text.find(start).unwrap_or_else(|| panic!("{text}")) + start.len();
        text[from..][..text[from..].find(end).unwrap()].to_owned()
    };

    let err = run(&["user", "createThing", "--no-interactive"]);
    let body_hint = between(&err, "(cat body.json | ", ")");
    assert_eq!(
        body_hint,
        "epilot user --definition 'my user.json' createThing"
    );
    let sent = paste(&sandbox, &body_hint, "-d '{}' --dry-run");
    assert!(
        stdout_of(&sent).contains("http://127.0.0.1:9/x"),
        "{}{}",
        stdout_of(&sent),
        stderr_of(&sent)
    );

    let err = run(&["user", "getMe"]);
    let list_hint = between(&err, "run `", "`");
    assert_eq!(list_hint, "epilot user --definition 'my user.json'");
    assert!(stdout_of(&paste(&sandbox, &list_hint, "")).contains("createThing"));

    let err = run(&["user", "createThing", "--guided"]);
    let help_hint = between(&err, "flags; `", "`");
    assert_eq!(
        help_hint,
        "epilot user --definition 'my user.json' createThing --help"
    );
    let help = paste(&sandbox, &help_hint, "");
    assert!(help.status.success(), "{}", stderr_of(&help));
    assert!(stdout_of(&help).contains("createThing"));

    let err = run(&["user", "createThing", "--bogus"]);
    assert!(
        err.contains("Usage: epilot user --definition 'my user.json' createThing [flags]"),
        "{err}"
    );
}

/// A printed command line run by `sh` in the sandbox, with this build's `epilot` on PATH and
/// `extra` appended (`--dry-run`, `--help`), as a user who pasted it would run it.
fn paste(sandbox: &Sandbox, line: &str, extra: &str) -> std::process::Output {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_epilot"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(format!("{line} {extra}"))
        .env_clear()
        .envs(sandbox.environment())
        .env("PATH", path)
        .current_dir(sandbox.path())
        .output()
        .unwrap()
}

fn created_files(sandbox: &Sandbox) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(sandbox.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("PWNED"))
        .collect()
}

#[test]
fn every_command_the_listing_help_and_docs_print_runs_as_printed_when_pasted() {
    let sandbox = Sandbox::new();
    let name = "list$(touch PWNED)";
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {"/x": {"post": {
            "operationId": name,
            "parameters": [{"name": "q;touch PWNED2", "in": "query",
                            "schema": {"type": "string", "default": "$(touch PWNED3)"}}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    // Only the listing's own file holds this API: a command without it fails when pasted.
    sandbox.write("my api $(touch PWNED4).json", &spec.to_string());
    let definition = "my api $(touch PWNED4).json";
    let run = |args: &[&str]| {
        let output = sandbox
            .epilot()
            .args(args)
            .args(["--definition", definition])
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
        stdout_of(&output)
    };

    let listing = run(&["t"]);
    let suggested = listing
        .split_once("Run `")
        .and_then(|(_, rest)| rest.split_once("` for"))
        .map(|(command, _)| command.to_string())
        .unwrap_or_else(|| panic!("a suggested command in {listing}"));
    let help_command = suggested.replace("<operation>", &format!("'{name}'"));
    let help = paste(&sandbox, &help_command, "");
    assert!(help.status.success(), "{suggested}: {}", stderr_of(&help));
    let help = stdout_of(&help);

    let docs = run(&["docs", "t"]);
    let usage = help.lines().next().unwrap().to_string();
    let mut lines = vec![(usage.clone(), "--help")];
    lines.extend(
        help.lines()
            .chain(docs.lines())
            .map(str::trim)
            .filter(|l| l.starts_with("epilot ") && !l.contains("<operation>"))
            .map(|l| (l.to_string(), "--dry-run")),
    );
    assert!(lines.len() >= 8, "{lines:?}");
    for (line, extra) in &lines {
        assert!(
            line.contains("--definition 'my api $(touch PWNED4).json'"),
            "{line}"
        );
        let pasted = paste(&sandbox, line, extra);
        assert!(pasted.status.success(), "{line}: {}", stderr_of(&pasted));
    }
    let pasted_usage = stdout_of(&paste(&sandbox, &usage, "--help"));
    assert_eq!(pasted_usage, help, "{usage}");
    assert!(
        created_files(&sandbox).is_empty(),
        "pasting ran a command: {:?}",
        created_files(&sandbox)
    );
}

#[test]
fn names_and_values_of_65536_characters_are_cut_in_listing_and_help_not_a_panic() {
    let sandbox = Sandbox::new();
    let long = |c: &str| c.repeat(65_536);
    let name = long("o");
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {
            format!("/{}", long("p")): {"get": {
                "operationId": name,
                "parameters": [
                    {"name": long("n"), "in": "query", "schema": {"type": "string"}},
                    {"name": "e", "in": "query",
                     "schema": {"type": "string", "enum": [long("v")], "default": long("d")}}
                ],
                "responses": {"200": {"description": "ok"}}
            }},
            "/short": {"get": {"operationId": "short", "responses": {"200": {"description": "ok"}}}}
        }
    });
    let definition = sandbox.write("long.json", &spec.to_string());
    for args in [vec!["t"], vec!["t", &name, "--help"]] {
        let output = sandbox
            .epilot()
            .args(&args)
            .arg("--definition")
            .arg(&definition)
            .output()
            .unwrap();
        let what = args
            .iter()
            .map(|a| a.get(..20).unwrap_or(a))
            .collect::<Vec<_>>();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{what:?}: {}",
            stderr_of(&output)
        );
        let out = stdout_of(&output);
        let cut = |c: &str| format!("{}…", c.repeat(79));
        // The help page's commands hold the whole name (cut, they would not run); its table
        // and the listing cut it.
        if args.len() > 1 {
            for c in ["n", "v", "d"] {
                assert!(out.contains(&cut(c)), "{what:?}: {c}");
            }
        } else {
            assert!(out.contains(&cut("o")), "{what:?}");
            assert!(
                out.contains(&format!("  short{}  GET", " ".repeat(75))),
                "{what:?}"
            );
        }
    }
}

#[test]
fn hints_quote_the_paths_they_name_and_listings_mask_a_servers_user_info() {
    let sandbox = Sandbox::new();
    let config = sandbox.path().join("my config;touch PWNED");
    std::fs::create_dir_all(&config).unwrap();
    let profiles = config.join("profiles.json");
    std::fs::write(&profiles, "{").unwrap();
    let output = sandbox
        .epilot()
        .env("EPILOT_CONFIG_DIR", &config)
        .args(["profile", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    let mv = err
        .split_once("(`mv ")
        .and_then(|(_, rest)| rest.split_once("`)"))
        .map(|(args, _)| format!("mv {args}"))
        .unwrap_or_else(|| panic!("a mv hint in {err}"));
    let pasted = paste(&sandbox, &mv, "");
    assert!(pasted.status.success(), "{mv}: {}", stderr_of(&pasted));
    assert!(
        config.join("profiles.json.bak").exists() && !profiles.exists(),
        "{mv}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let credentials = config.join("credentials.json");
        std::fs::write(&credentials, "{}").unwrap();
        std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o644)).unwrap();
        let output = sandbox
            .epilot()
            .env("EPILOT_CONFIG_DIR", &config)
            .args(["user", "getMeV2", "--dry-run"])
            .output()
            .unwrap();
        let err = stderr_of(&output);
        let chmod = err
            .split_once("run `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(command, _)| command.to_string())
            .unwrap_or_else(|| panic!("a chmod hint in {err}"));
        assert!(chmod.starts_with("chmod 600 "), "{err}");
        let pasted = paste(&sandbox, &chmod, "");
        assert!(pasted.status.success(), "{chmod}: {}", stderr_of(&pasted));
        let mode = std::fs::metadata(&credentials)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{chmod}");
    }
    assert!(created_files(&sandbox).is_empty(), "a hint ran a command");

    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://{cred}127.0.0.1:9", "variables": {"cred": {"default": "u:SVPASS@"}}}],
        "paths": {"/x": {"get": {"operationId": "op", "responses": {"200": {"description": "ok"}}}}}
    });
    let definition = sandbox.write("t.json", &spec.to_string());
    for args in [
        vec!["t"],
        vec!["t", "--help", "--json"],
        vec!["t", "op", "--help", "--json"],
        vec!["docs", "t"],
    ] {
        let output = sandbox
            .epilot()
            .args(&args)
            .arg("--definition")
            .arg(&definition)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
        let out = stdout_of(&output);
        assert!(
            !out.contains("SVPASS") && out.contains("***@127.0.0.1:9"),
            "{args:?}: {out}"
        );
    }
}

/// `-v`'s transport lines carry a server's `Location`: its control characters (a C1 CSI,
/// a right-to-left override) are shown escaped, never written to the terminal.
#[test]
fn a_redirect_location_is_shown_escaped_by_verbose() {
    // Raw bytes: tiny_http refuses a header value that is not ASCII.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Ok(mut writer) = stream.try_clone() else {
                continue;
            };
            let Some(wire) = read_request(stream) else {
                continue;
            };
            let answer: &[u8] = if wire.target == "/x" {
                "HTTP/1.1 302 Found\r\nLocation: /l\u{9b}31m\u{202e}txt\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".as_bytes()
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            };
            let _ = writer.write_all(answer);
        }
    });
    let sandbox = Sandbox::new();
    let spec = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": url}],
        "paths": {"/x": {"get": {"operationId": "op", "responses": {"200": {"description": "ok"}}}}}
    });
    let definition = sandbox.write("t.json", &spec.to_string());
    let output = sandbox
        .epilot()
        .args(["t", "op", "-v", "--definition"])
        .arg(&definition)
        .output()
        .unwrap();
    let err = stderr_of(&output);
    let line = err
        .lines()
        .find(|l| l.contains("following the redirect"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(!line.contains(['\u{9b}', '\u{202e}']), "{line:?}");
    assert!(
        line.contains("\\u{9b}") || line.contains("%C2%9B"),
        "{line:?}"
    );
}

/// A profile's `Cookie` and a typed `-H Cookie` are two values: the curl line reads them from
/// two variables, and pasted with both set it sends what epilot sends.
#[test]
fn two_masked_headers_of_one_name_read_two_variables_in_the_curl_line() {
    let (sandbox, spec) = sandbox_with_files();
    let server = RawServer::start();
    sandbox
        .run(&[
            "profile",
            "create",
            "p",
            "--server",
            &server.url,
            "-H",
            "Cookie: from=profile",
        ])
        .success();
    let args = [
        "tricky",
        "getItem",
        "1",
        "-H",
        "Cookie: typed=yes",
        "--definition",
        &spec,
    ];
    sandbox.run(&args).success();
    let Ok([by_epilot]) = <[Wire; 1]>::try_from(server.take()) else {
        panic!("epilot should send once");
    };
    let dry = sandbox
        .epilot()
        .args(args)
        .arg("--dry-run")
        .output()
        .unwrap();
    let line = curl_line(&stdout_of(&dry));
    assert!(
        line.starts_with(
            "# set EPILOT_HEADER_COOKIE and EPILOT_HEADER_COOKIE_2 in the environment first\n"
        ),
        "{line}"
    );
    assert!(
        !line.contains("from=profile") && !line.contains("typed=yes"),
        "{line}"
    );
    if !curl_available() {
        eprintln!("SKIPPED the paste: curl is not installed");
        return;
    }
    let pasted = Command::new("sh")
        .arg("-c")
        .arg(format!("{} --silent --output /dev/null", line.trim_end()))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EPILOT_HEADER_COOKIE", "from=profile")
        .env("EPILOT_HEADER_COOKIE_2", "typed=yes")
        .output()
        .unwrap();
    assert!(pasted.status.success(), "{}", stderr_of(&pasted));
    let Ok([by_curl]) = <[Wire; 1]>::try_from(server.take()) else {
        panic!("the curl line should send once\n{line}");
    };
    let cookies = |wire: &Wire| -> Vec<String> {
        wire.headers
            .iter()
            .filter(|(n, _)| n == "cookie")
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(cookies(&by_epilot), ["from=profile", "typed=yes"]);
    assert_eq!(cookies(&by_curl), cookies(&by_epilot), "{line}");
}

/// A typed multipart Content-Type would carry a boundary the parts are not written with:
/// refused (exit 2) before anything is sent or printed.
#[test]
fn a_typed_content_type_on_a_multipart_body_is_refused() {
    let (sandbox, spec) = sandbox_with_files();
    let server = RawServer::start();
    for extra in [None, Some("--dry-run")] {
        let output = sandbox
            .epilot()
            .args(["tricky", "upload", "-F", "a=1", "-F", "file=@data.bin"])
            .args(["-H", "Content-Type: multipart/form-data; boundary=XYZ"])
            .args(["--definition", &spec, "--server", &server.url])
            .args(extra)
            .output()
            .unwrap();
        let err = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(err.contains("epilot sets it"), "{err}");
        assert_eq!(stdout_of(&output), "");
    }
    assert!(server.take().is_empty());
}
