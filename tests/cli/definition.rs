//! `--definition` with the fixture specs: every parameter style, $ref'd parameters and bodies,
//! multipart and urlencoded forms, 3.1 documents, operations without operationId, overrides.

use crate::server::Server;
use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

fn petstore(sandbox: &Sandbox, server: &Server) -> assert_cmd::Command {
    let mut cmd = sandbox.epilot();
    cmd.args([
        "--definition",
        &fixture("petstore-3.0.json"),
        "-s",
        &server.url,
        "pets",
    ]);
    cmd
}

#[test]
fn query_header_and_cookie_styles_reach_the_server() {
    let server = Server::json(200, "[]");
    let sandbox = Sandbox::new();
    petstore(&sandbox, &server)
        .args([
            "listPets",
            "-p",
            "limit=5",
            "-p",
            "tags=a b,c",
            "-p",
            "ids=1",
            "-p",
            "ids=2",
        ])
        .args([
            "-p",
            r#"filter={"kind":"cat","age":3}"#,
            "-p",
            "X-Request-Id=r-1",
            "-p",
            "session=s1",
        ])
        .assert()
        .success();
    let got = server.single();
    assert_eq!(
        got.url,
        "/pets?limit=5&tags=a%20b,c&ids=1&ids=2&filter%5Bkind%5D=cat&filter%5Bage%5D=3"
    );
    assert_eq!(got.header("x-request-id"), Some("r-1"));
    assert_eq!(got.header("cookie"), Some("session=s1"));
}

#[test]
fn matrix_and_label_path_styles_and_ref_parameters() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    petstore(&sandbox, &server)
        .args(["petColors", "p/1", "red,green", "x,y"])
        .assert()
        .success();
    assert_eq!(
        server.single().url,
        "/pets/p%2F1/colors;colors=red;colors=green/.x,y"
    );
}

#[test]
fn space_and_pipe_delimited_queries() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    petstore(&sandbox, &server)
        .args([
            "search",
            "-p",
            "words=big,red",
            "-p",
            "codes=a,b",
            "-p",
            "exact=false",
        ])
        .assert()
        .success();
    assert_eq!(
        server.single().url,
        "/search?words=big%20red&codes=a%7Cb&exact=false"
    );
}

#[test]
fn referenced_request_body_and_recursive_schema() {
    let server = Server::json(201, r#"{"id":1,"name":"Rex"}"#);
    let sandbox = Sandbox::new();
    let body = r#"{"name":"Rex","children":[{"name":"Pup","children":[]}]}"#;
    petstore(&sandbox, &server)
        .args(["createPet", "-d", body])
        .assert()
        .success();
    let got = server.single();
    assert_eq!(got.method, "POST");
    assert_eq!(
        got.json(),
        serde_json::from_str::<serde_json::Value>(body).unwrap()
    );
}

#[test]
fn multipart_upload_with_a_file_and_a_text_field() {
    let server = Server::json(204, "");
    let sandbox = Sandbox::new();
    let photo = sandbox.write("photo.bin", "\u{1}PNGDATA");
    petstore(&sandbox, &server)
        .args(["uploadPhoto", "42", "-F", "caption=Rex at the beach"])
        .arg("-F")
        .arg(format!("file=@{}", photo.display()))
        .assert()
        .success();
    let got = server.single();
    assert_eq!(got.url, "/pets/42/photo");
    let content_type = got.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect(content_type);
    let body = String::from_utf8(got.body.clone()).unwrap();
    assert!(
        body.contains(
            "Content-Disposition: form-data; name=\"caption\"\r\n\r\nRex at the beach\r\n"
        ),
        "{body}"
    );
    assert!(body.contains("name=\"file\"; filename=\"photo.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\u{1}PNGDATA\r\n"), "{body}");
    assert!(body.ends_with(&format!("--{boundary}--\r\n")));
}

#[test]
fn urlencoded_form_and_plain_text_bodies() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    petstore(&sandbox, &server)
        .args(["login", "-F", "user=a b", "-F", "pass=x&y"])
        .assert()
        .success();
    petstore(&sandbox, &server)
        .args(["addNote", "-d", "not { json"])
        .assert()
        .success();
    let requests = server.requests();
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(requests[0].body, b"user=a%20b&pass=x%26y");
    assert_eq!(requests[1].header("content-type"), Some("text/plain"));
    assert_eq!(requests[1].body, b"not { json");
}

#[test]
fn operation_without_operation_id_gets_a_stable_name() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["pets", "--definition", &fixture("petstore-3.0.json")])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        stdout_of(&output).contains("  get-health "),
        "{}",
        stdout_of(&output)
    );
    let server = Server::json(200, "{}");
    petstore(&sandbox, &server)
        .arg("get-health")
        .assert()
        .success();
    assert_eq!(server.single().url, "/health");
}

#[test]
fn server_variables_take_their_defaults() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "pets",
            "showPetById",
            "7",
            "--dry-run",
            "--definition",
            &fixture("petstore-3.0.json"),
        ])
        .output()
        .unwrap();
    assert!(
        stdout_of(&output).starts_with("GET https://petstore.example.com/v1/pets/7\n"),
        "{}",
        stdout_of(&output)
    );
}

#[test]
fn openapi_3_1_yaml_loads_lists_and_calls() {
    let sandbox = Sandbox::new();
    let listing = sandbox
        .epilot()
        .args(["tree", "--definition", &fixture("tree-3.1.yaml")])
        .output()
        .unwrap();
    assert!(listing.status.success(), "{}", stderr_of(&listing));
    let text = stdout_of(&listing);
    assert!(text.starts_with("Tree API\n"), "{text}");
    for op in ["listNodes", "createNode", "get-nodes-id"] {
        assert!(text.contains(op), "{op} missing: {text}");
    }
    assert!(!text.contains("nodeCreated"), "webhooks are not operations");

    let server = Server::json(200, "[]");
    let tree = |args: &[&str]| {
        sandbox
            .epilot()
            .args([
                "tree",
                "--definition",
                &fixture("tree-3.1.yaml"),
                "-s",
                &server.url,
            ])
            .args(args)
            .assert()
            .success();
    };
    tree(&["listNodes", "-p", "depth=2", "-p", "kind=leaf"]);
    tree(&[
        "createNode",
        "-d",
        r#"{"name":"root","children":[{"name":"leaf"}]}"#,
    ]);
    tree(&["get-nodes-id", "n 1"]);
    let urls: Vec<String> = server.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(urls, ["/nodes?depth=2&kind=leaf", "/nodes", "/nodes/n%201"]);
}

#[test]
fn the_3_1_integer_or_null_parameter_is_read_as_an_integer() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "tree",
            "listNodes",
            "-p",
            "depth=deep",
            "--dry-run",
            "--definition",
            &fixture("tree-3.1.yaml"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output)
        .contains("parameter `depth` (query integer): expects an integer, got `deep`"));
}

#[test]
fn definition_from_a_url_with_a_relative_server() {
    let spec = r#"{"openapi":"3.0.0","info":{"title":"Remote"},"servers":[{"url":"/api"}],
        "paths":{"/ping":{"get":{"operationId":"ping","responses":{"200":{"description":"ok"}}}}}}"#;
    let server = Server::start(move |request| {
        if request.url == "/specs/remote.json" {
            crate::server::Reply::json(200, spec)
        } else {
            crate::server::Reply::json(200, r#"{"pong":true}"#)
        }
    });
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "remote",
            "ping",
            "--definition",
            &format!("{}/specs/remote.json", server.url),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "{\n  \"pong\": true\n}\n");
    assert_eq!(server.requests()[1].url, "/api/ping");
}

#[test]
fn an_override_file_replaces_the_bundled_spec() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/user.yaml",
        "openapi: 3.0.0\ninfo: {title: Overridden users}\nservers: [{url: 'https://override.example.com'}]\npaths:\n  /only:\n    get: {operationId: onlyOne, responses: {'200': {description: ok}}}\n",
    );
    sandbox
        .epilot()
        .args(["definitions", "allow", "user"])
        .assert()
        .success();
    let output = sandbox.epilot().arg("user").output().unwrap();
    let text = stdout_of(&output);
    assert!(
        text.starts_with("Overridden users\n")
            && text.contains("onlyOne")
            && !text.contains("getUserV2"),
        "{text}"
    );
}

#[test]
fn one_broken_operation_does_not_break_the_others() {
    let sandbox = Sandbox::new();
    let spec = fixture("one-bad-operation.yaml");
    let listing = sandbox
        .epilot()
        .args(["p", "--definition", &spec])
        .output()
        .unwrap();
    assert!(listing.status.success());
    assert!(stdout_of(&listing).contains("good") && stdout_of(&listing).contains("bad"));
    sandbox
        .epilot()
        .args(["p", "good", "--dry-run", "--definition", &spec])
        .assert()
        .success();
    let bad = sandbox
        .epilot()
        .args(["p", "bad", "--dry-run", "--definition", &spec])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(4));
    let message = stderr_of(&bad);
    assert!(
        message.contains("operation `bad` cannot be used")
            && message.contains("/paths/~1bad/get/parameters/0"),
        "{message}"
    );
}
