//! Flags that contradict each other are refused by the parser, and exit 2 means nothing was
//! sent: what can be checked before sending (an empty path value, form fields for a JSON-only
//! operation) is checked, and the recording server stays untouched (issue #15).

use crate::server::Server;
use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

/// Runs `args` against `server` with a token, returning the exit code and stderr.
fn run(sandbox: &Sandbox, server: &Server, args: &[&str]) -> (i32, String) {
    let output = sandbox
        .epilot()
        .args(args)
        .args(["-s", &server.url, "-t", "tok"])
        .output()
        .unwrap();
    (output.status.code().unwrap(), stderr_of(&output))
}

#[test]
fn contradictory_flags_are_refused_naming_both_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let pem = sandbox.write("ca.pem", "not used");
    let pem = pem.to_str().unwrap();
    let body = r#"{"name":"Finance"}"#;
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["user", "getMeV2", "--dry-run", "--mock"],
            "--dry-run",
            "--mock",
        ),
        // One flag before the API name, the other after the operation.
        (
            &["--mock", "user", "getMeV2", "--dry-run"],
            "--dry-run",
            "--mock",
        ),
        (
            &["user", "getMeV2", "--guided", "--no-interactive"],
            "--guided",
            "--no-interactive",
        ),
        (
            &["--no-interactive", "user", "getMeV2", "--guided"],
            "--guided",
            "--no-interactive",
        ),
        (
            &["user", "createGroup", "-d", body, "-F", "name=x"],
            "--data",
            "--form",
        ),
        (
            &["-F", "name=x", "user", "createGroup", "-d", body],
            "--data",
            "--form",
        ),
        (
            &["user", "getMeV2", "--cacert", pem, "--insecure"],
            "--cacert",
            "--insecure",
        ),
        (
            &["--insecure", "user", "getMeV2", "--cacert", pem],
            "--cacert",
            "--insecure",
        ),
        (
            &[
                "user",
                "createGroup",
                "-d",
                body,
                "--retries",
                "0",
                "--retry-unsafe",
            ],
            "--retry-unsafe",
            "--retries 0",
        ),
    ];
    for (args, first, second) in cases {
        let (code, err) = run(&sandbox, &server, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("cannot be used with") && err.contains(first) && err.contains(second),
            "{args:?}: {err}"
        );
        assert!(err.contains("Usage: epilot "), "{args:?}: {err}");
    }
    server.assert_untouched();
}

#[test]
fn flags_that_only_shape_the_answer_stay_allowed_with_dry_run_and_mock() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let (code, err) = run(
        &sandbox,
        &server,
        &[
            "user",
            "getMeV2",
            "--dry-run",
            "-o",
            "answer.json",
            "--jsonata",
            "email",
            "--json",
            "-i",
            "-v",
            "--timeout",
            "5",
            "--retries",
            "3",
            "--retry-unsafe",
            "--validate-response",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !sandbox.path().join("answer.json").exists(),
        "a dry run writes no answer"
    );
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "--mock", "--retries", "0", "--insecure"])
        .args(["--insecure-http", "--timeout", "1", "--jsonata", "email"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "user@example.com\n");
    server.assert_untouched();
}

#[test]
fn an_empty_path_value_is_refused_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    for args in [
        &["user", "deleteGroup", ""][..],
        &["user", "deleteGroup", "-p", "id="],
        &["user", "deleteGroup", "", "--no-validate"],
        &["user", "deleteGroup", "-p", "id=", "--no-validate"],
    ] {
        let (code, err) = run(&sandbox, &server, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("`deleteGroup` was not sent")
                && err.contains("parameter `id` (path string): is empty"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("help: give every path value") && !err.contains("pass --no-validate"),
            "--no-validate is no way out here: {args:?}: {err}"
        );
    }
    server.assert_untouched();
    // A value, however short, is sent.
    let (code, err) = run(&sandbox, &server, &["user", "deleteGroup", "0"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.single().url, "/v1/groups/0");
}

#[test]
fn form_fields_for_a_json_only_operation_are_refused_with_a_hint_to_use_d() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let (code, err) = run(&sandbox, &server, &["user", "createGroup", "-F", "name=x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`createGroup` takes its body as application/json, not as form fields (-F)"),
        "{err}"
    );
    assert!(
        err.contains("help: nothing was sent; pass the body as JSON with -d"),
        "{err}"
    );
    server.assert_untouched();
}

#[test]
fn form_fields_still_go_to_an_operation_that_takes_multipart() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["pets", "uploadPhoto", "1", "-F", "caption=hi"])
        .args([
            "--definition",
            &fixture("petstore-3.0.json"),
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let sent = server.single();
    assert!(
        sent.header("content-type")
            .is_some_and(|t| t.starts_with("multipart/form-data")),
        "{sent:?}"
    );
}

#[test]
fn an_error_given_context_keeps_its_help_line() {
    let sandbox = Sandbox::new();
    sandbox.write(".epilot/overrides/user.json", r#"{"swagger": "2.0"}"#);
    let output = sandbox
        .epilot()
        .args(["definitions", "allow", "user"])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains("was not allowed: "), "{err}");
    assert!(
        err.contains("help: convert it to OpenAPI 3 first"),
        "the cause's fix is kept: {err}"
    );
}

#[test]
fn form_fields_go_urlencoded_to_an_operation_that_prefers_json_but_takes_urlencoded() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let spec = sandbox.write(
        "forms.json",
        r#"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "paths": {"/notes": {"post": {"operationId": "addNote",
              "requestBody": {"content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
              "responses": {"200": {"description": "ok"}}}}}}"#,
    );
    let output = sandbox
        .epilot()
        .args(["forms", "addNote", "-F", "text=a b&c", "-s", &server.url])
        .args(["--definition", spec.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let sent = server.single();
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(String::from_utf8_lossy(&sent.body), "text=a%20b%26c");
}
