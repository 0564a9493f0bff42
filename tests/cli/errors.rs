//! Exit codes and messages for bad input, broken specs and network failures: each names the
//! problem and the fix, and nothing is sent.

use crate::server::Server;
use crate::util::{fixture, Sandbox};

#[test]
fn unknown_operation_suggests_the_closest_names() {
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["user", "getUsr"]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(
        err.contains("error: the user API has no operation `getUsr`"),
        "{err}"
    );
    assert!(err.contains("help: did you mean `getUser`"), "{err}");
}

#[test]
fn unknown_api_suggests_and_lists() {
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["usr"]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown API `usr`") && err.contains("did you mean `user`?"),
        "{err}"
    );
}

#[test]
fn invalid_json_body_is_caught_with_line_and_column_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&[
            "user",
            "createGroup",
            "-d",
            "{\"name\": 'Finance'}",
            "-s",
            &server.url,
        ]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(
        err.contains("the request body is not valid JSON") && err.contains("line 1 column 10"),
        "{err}"
    );
    server.assert_untouched();
}

#[test]
fn missing_path_parameter_is_listed_with_how_to_pass_it() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["user", "getUserV2", "-s", &server.url]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(
        err.contains("parameter `id` (path string): is required: pass it as positional value #1 or -p id=..."),
        "{err}"
    );
    server.assert_untouched();
}

#[test]
fn wrongly_typed_and_unknown_parameters_are_usage_errors() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&[
            "user",
            "getGroups",
            "-p",
            "hydrate=maybe",
            "-s",
            &server.url,
        ]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "parameter `hydrate` (query boolean): expects a boolean (true or false), got `maybe`"
        ),
        "{err}"
    );
    let (code, err) = {
        let run = sandbox.run(&["user", "getGroups", "-p", "limt=3", "-s", &server.url]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `limit`?"), "{err}");
    server.assert_untouched();
}

#[test]
fn unknown_flags_are_usage_errors() {
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["user", "getMeV2", "--frobnicate"]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn broken_json_spec_names_the_file_line_and_column() {
    let sandbox = Sandbox::new();
    let spec = fixture("broken.json");
    let (code, err) = {
        let run = sandbox.run(&["x", "--definition", &spec]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 4);
    assert!(
        err.contains("broken.json is not valid JSON") && err.contains("line 5 column"),
        "{err}"
    );
}

#[test]
fn broken_yaml_spec_names_the_line() {
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["x", "--definition", &fixture("broken.yaml")]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 4);
    assert!(
        err.contains("broken.yaml is not valid YAML or JSON") && err.contains("line 8"),
        "{err}"
    );
}

#[test]
fn a_missing_spec_file_is_exit_4() {
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["x", "--definition", "does-not-exist.yaml"]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 4);
    assert!(
        err.contains("cannot read the OpenAPI document does-not-exist.yaml"),
        "{err}"
    );
}

#[test]
fn a_refused_connection_is_exit_3_naming_the_host() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = Sandbox::new();
    let (code, err) = {
        let run = sandbox.run(&["user", "getMeV2", "-s", &format!("http://127.0.0.1:{port}")]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 3);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("refused"),
        "{err}"
    );
}

#[test]
fn a_stalled_server_times_out_with_exit_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new();
    let started = std::time::Instant::now();
    let (code, err) = {
        let run = sandbox.run(&["user", "getMeV2", "-s", &url, "--timeout", "0.5"]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 3);
    assert!(err.contains("timed out"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(listener);
}

#[test]
fn a_spec_without_servers_asks_for_server() {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("s.yaml", "openapi: 3.0.0\ninfo: {title: S}\npaths:\n  /a:\n    get: {operationId: a, responses: {}}\n");
    let (code, err) = {
        let run = sandbox.run(&["s", "a", "--definition", spec.to_str().unwrap()]);
        (run.code(), run.stderr())
    };
    assert_eq!(code, 2);
    assert!(
        err.contains("names no server") && err.contains("--server"),
        "{err}"
    );
}

#[test]
fn root_help_lists_apis_and_flags() {
    let sandbox = Sandbox::new();
    let output = sandbox.epilot().arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("user") && text.contains("User API (bundled)"),
        "{text}"
    );
    assert!(
        text.contains("--definition") && text.contains("--jsonata"),
        "{text}"
    );
}

#[test]
fn operation_help_lists_parameters() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["user", "getGroup", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("GET /v1/groups/{id}")
            && text.contains("hydrate")
            && text.contains("Group id"),
        "{text}"
    );
}
