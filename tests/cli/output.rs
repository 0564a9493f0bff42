//! Output modes: pretty, --json, colour, -i, -v with masking, --jsonata, -o, non-JSON bodies,
//! error statuses and closed pipes.

use std::process::Stdio;

use crate::server::{Reply, Server};
use crate::util::{stderr_of, stdout_of, Sandbox};

const ME: &str = r#"{"id":"u1","email":"jane@example.com","phone":49123123123,"score":2.5e-10,"roles":["Owner"]}"#;

fn get_me(sandbox: &Sandbox, server: &Server) -> assert_cmd::Command {
    let mut cmd = sandbox.epilot();
    cmd.args([
        "user",
        "getMeV2",
        "-s",
        &server.url,
        "-t",
        "tok-secret-value",
    ]);
    cmd
}

#[test]
fn pretty_when_piped_and_numbers_kept_exactly() {
    let server = Server::json(200, ME);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server).output().unwrap();
    assert_eq!(
        stdout_of(&output),
        "{\n  \"id\": \"u1\",\n  \"email\": \"jane@example.com\",\n  \"phone\": 49123123123,\n  \"score\": 2.5e-10,\n  \"roles\": [\n    \"Owner\"\n  ]\n}\n"
    );
    assert!(
        !stdout_of(&output).contains('\u{1b}'),
        "no colour codes in a pipe"
    );
}

#[test]
fn json_flag_prints_one_compact_line() {
    let server = Server::json(200, "{ \"a\" : [1, 2],\n \"b\": {} }");
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server).arg("--json").output().unwrap();
    assert_eq!(stdout_of(&output), "{\"a\":[1,2],\"b\":{}}\n");
}

#[test]
fn colour_always_and_no_color() {
    let server = Server::json(200, r#"{"a":1}"#);
    let sandbox = Sandbox::new();
    let coloured = get_me(&sandbox, &server)
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert!(stdout_of(&coloured).contains("\u{1b}[34;1m\"a\"\u{1b}[0m"));
    let plain = get_me(&sandbox, &server)
        .args(["--color", "auto"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout_of(&plain).contains('\u{1b}'));
}

#[test]
fn jsonata_transforms_and_prints_strings_raw() {
    let server = Server::json(200, ME);
    let sandbox = Sandbox::new();
    let email = get_me(&sandbox, &server)
        .args(["--jsonata", "email"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&email), "jane@example.com\n");
    let object = get_me(&sandbox, &server)
        .args(["--jsonata", "{'p': phone, 's': score}", "--json"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&object), "{\"p\":49123123123,\"s\":2.5e-10}\n");
}

#[test]
fn a_bad_jsonata_expression_is_exit_2_with_code_and_expression() {
    let server = Server::json(200, ME);
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server)
        .args(["--jsonata", "'a' + 1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr_of(&output);
    assert!(
        err.contains("JSONata expression `'a' + 1` failed: T2001"),
        "{err}"
    );
}

#[test]
fn format_integer_of_infinity_fails_cleanly_instead_of_aborting() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server)
        .args(["--jsonata", "$formatInteger(1/0, 'w')"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("D1001"));
}

#[test]
fn include_shows_status_and_headers_on_stderr_only() {
    let server = Server::start(|_| {
        let mut reply = Reply::json(200, r#"{"a":1}"#);
        reply.headers.push(("X-Trace".into(), "t-9".into()));
        reply
    });
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server).arg("-i").output().unwrap();
    assert_eq!(stdout_of(&output), "{\n  \"a\": 1\n}\n");
    let err = stderr_of(&output);
    assert!(
        err.contains("200 OK") && err.contains("x-trace: t-9"),
        "{err}"
    );
}

#[test]
fn verbose_shows_the_request_with_the_token_masked() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "user",
            "createGroup",
            "-d",
            r#"{"name":"F"}"#,
            "-v",
            "-s",
            &server.url,
            "-t",
            "tok-secret-value",
        ])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert!(
        err.contains(&format!("> POST {}/v1/groups", server.url)),
        "{err}"
    );
    assert!(
        err.contains("> Authorization: Bearer ***") && err.contains(r#"> {"name":"F"}"#),
        "{err}"
    );
    assert!(!err.contains("tok-secret-value") && !stdout_of(&output).contains("tok-secret-value"));
    assert_eq!(
        server.single().header("authorization"),
        Some("Bearer tok-secret-value")
    );
}

#[test]
fn output_file_gets_the_body_exactly() {
    let server = Server::json(200, ME);
    let sandbox = Sandbox::new();
    let target = sandbox.path().join("me.json");
    let output = get_me(&sandbox, &server)
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(stdout_of(&output), "");
    assert_eq!(std::fs::read_to_string(target).unwrap(), ME);
}

#[test]
fn non_json_bodies_print_as_they_came() {
    let server = Server::start(|_| Reply::raw(200, "text/csv", b"id,name\n1,Jane\n"));
    let sandbox = Sandbox::new();
    let output = get_me(&sandbox, &server).output().unwrap();
    assert_eq!(stdout_of(&output), "id,name\n1,Jane\n");
}

#[test]
fn error_status_prints_the_body_and_exits_1() {
    let server = Server::json(404, r#"{"message":"User not found"}"#);
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["user", "getUserV2", "nobody", "-s", &server.url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout_of(&output),
        "{\n  \"message\": \"User not found\"\n}\n"
    );
    assert!(stderr_of(&output).contains("error: the server answered 404 Not Found: User not found"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let big: String = format!("[{}1]", "1,".repeat(400_000));
    let body: &'static str = Box::leak(big.into_boxed_str());
    let server = Server::json(200, body);
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .process()
        .args(["user", "getMeV2", "-s", &server.url, "-t", "tok"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one chunk, then close our end of the pipe, as `| head -c` would.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        stderr_of(&output),
        "",
        "a closed pipe is not an error worth a message"
    );
}
