//! Who gets a secret is decided on the URL actually sent (issue #13): recording servers on
//! 127.0.0.1 play the attacker, and must see nothing secret, whatever the document's paths,
//! servers or overrides say. Also a `--server` with its own query (issue #16).

use std::process::Output;

use serde_json::json;

use crate::server::{Recorded, Server};
use crate::util::{stderr_of, stdout_of, Sandbox};

const STORED: &str = "stored-SECRET-default";
const PROFILE_TOKEN: &str = "stored-SECRET-profile";
const ENV_TOKEN: &str = "env-SECRET-token";
const API_KEY: &str = "key-SECRET-header";
const ORG: &str = "org-SECRET-42";
/// What no server but a chosen one may receive.
const SECRETS: [&str; 5] = [STORED, PROFILE_TOKEN, ENV_TOKEN, API_KEY, ORG];
/// What is never printed (an organisation id is shown, as `profile show` does).
const CREDENTIALS: [&str; 4] = [STORED, PROFILE_TOKEN, ENV_TOKEN, API_KEY];

/// A sandbox whose file store holds a default token, and a profile `dev` (active) with a
/// token, an organisation and an API key header, but no server of its own.
fn sandbox_with_secrets() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.run(&["auth", "token", STORED]).success();
    sandbox
        .run(&[
            "profile",
            "create",
            "dev",
            "--org-id",
            ORG,
            "-H",
            &format!("X-Api-Key: {API_KEY}"),
            "--token",
            PROFILE_TOKEN,
        ])
        .success();
    sandbox
}

/// A document whose one operation `op` (bearer-secured, GET `path`) lives on `server`.
fn spec(sandbox: &Sandbox, server: &str, path: &str) -> String {
    let document = json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": server}],
        "security": [{"b": []}],
        "components": {"securitySchemes": {"b": {"type": "http", "scheme": "bearer"}}},
        "paths": {path: {"get": {"operationId": "op", "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
        ], "responses": {"200": {"description": "ok"}}}}}
    });
    let file = sandbox.write("spec.json", &document.to_string());
    file.to_str().unwrap().to_string()
}

fn port(server: &Server) -> &str {
    server.url.rsplit(':').next().unwrap()
}

/// Nothing secret in anything `server` received.
fn assert_saw_no_secret(server: &Server) {
    for request in server.requests() {
        let Recorded {
            url, headers, body, ..
        } = &request;
        let seen = format!("{url} {headers:?} {}", String::from_utf8_lossy(body));
        for secret in SECRETS {
            assert!(
                !seen.contains(secret),
                "{secret} reached the server: {seen}"
            );
        }
    }
}

/// Nothing secret printed, whatever happened.
fn assert_prints_no_secret(output: &Output) {
    let printed = format!("{}{}", stdout_of(output), stderr_of(output));
    for secret in CREDENTIALS {
        assert!(!printed.contains(secret), "{secret} printed: {printed}");
    }
}

#[test]
fn a_path_template_that_moves_the_request_to_another_server_is_an_error_in_the_document() {
    let sandbox = sandbox_with_secrets();
    let (api, thief) = (Server::json(200, "{}"), Server::json(200, "{}"));
    let at_thief = format!("@127.0.0.1:{}/steal/{{id}}", port(&thief));
    let from_localhost = format!(":{}/steal/{{id}}", port(&thief));
    for (base, path) in [
        (api.url.as_str(), at_thief.as_str()),
        ("http://localhost", from_localhost.as_str()),
        ("https://user.sls.epilot.io", ".evil.example/{id}"),
        ("https://user.sls.epilot.io", "\\\\evil.example/{id}"),
    ] {
        let definition = spec(&sandbox, base, path);
        // The base is chosen on this line and a token is typed: the most trusting setup.
        let output = sandbox
            .epilot()
            .args(["t", "op", "1", "--definition", &definition, "-s", base])
            .args(["--token", "typed-SECRET", "-H", "X-Typed: typed-SECRET"])
            .env("EPILOT_TOKEN", ENV_TOKEN)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(4),
            "{path}: {}",
            stderr_of(&output)
        );
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&format!("error: the path `{path}` of `op`")),
            "{stderr}"
        );
        assert!(
            stderr.contains("help: a path must start with `/`"),
            "{stderr}"
        );
        assert_prints_no_secret(&output);
    }
    api.assert_untouched();
    thief.assert_untouched();
}

#[test]
fn odd_path_templates_and_path_values_stay_on_the_server() {
    let sandbox = sandbox_with_secrets();
    let api = Server::json(200, "{}");
    for (path, value, received) in [
        ("//evil.example/{id}", "1", "//evil.example/1"),
        ("/%2F%2Fevil.example/{id}", "1", "/%2F%2Fevil.example/1"),
        ("/a/{id}", "@evil.example", "/a/%40evil.example"),
        ("/a/{id}", "b/c?d=1#e", "/a/b%2Fc%3Fd%3D1%23e"),
        ("/a/{id}", "..", "/a/%2E%2E"),
        ("/a{id}", ":1/x", "/a%3A1%2Fx"),
    ] {
        let definition = spec(&sandbox, &api.url, path);
        sandbox
            .run(&[
                "t",
                "op",
                value,
                "--definition",
                &definition,
                "-s",
                &api.url,
            ])
            .success();
        let got = api.requests().pop().unwrap();
        assert_eq!(got.url, received, "{path} with {value}");
        assert_eq!(
            got.header("authorization"),
            Some(format!("Bearer {PROFILE_TOKEN}").as_str()),
            "the --server typed here is chosen"
        );
    }
}

#[test]
fn a_definitions_server_gets_no_ambient_secret_and_one_note_says_so() {
    let sandbox = sandbox_with_secrets();
    let thief = Server::json(200, "{}");
    let definition = spec(&sandbox, &format!("{}/api", thief.url), "/x/{id}");
    let output = sandbox
        .epilot()
        .args(["t", "op", "1", "--definition", &definition])
        .env("EPILOT_TOKEN", ENV_TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let got = thief.single();
    assert_eq!(got.url, "/api/x/1");
    assert_eq!(got.header("authorization"), None);
    assert_eq!(got.header("x-epilot-org-id"), None);
    assert_eq!(got.header("x-api-key"), None);
    assert_saw_no_secret(&thief);
    assert_prints_no_secret(&output);
    let stderr = stderr_of(&output);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    let origin = format!("127.0.0.1:{} (http)", port(&thief));
    for said in [
        "EPILOT_TOKEN, the headers of profile `dev` (x-epilot-org-id, X-Api-Key)",
        &format!("were not sent to {origin}"),
        &format!("pass --server {}/api", thief.url),
    ] {
        assert!(notes[0].contains(said), "{said} in {stderr}");
    }
    assert!(
        !stderr.contains("none was given"),
        "the note explains the missing token: {stderr}"
    );
}

#[test]
fn an_override_does_not_redirect_the_environment_token() {
    let sandbox = sandbox_with_secrets();
    let thief = Server::json(200, "{}");
    let override_spec = json!({
        "openapi": "3.0.0", "info": {"title": "user", "version": "1"},
        "servers": [{"url": thief.url}],
        "security": [{"b": []}],
        "components": {"securitySchemes": {"b": {"type": "http", "scheme": "bearer"}}},
        "paths": {"/v2/users/me": {"get": {"operationId": "getMeV2",
            "responses": {"200": {"description": "ok"}}}}}
    });
    sandbox.write(".epilot/overrides/user.json", &override_spec.to_string());
    // Even an override the user allowed does not carry the ambient secrets elsewhere.
    sandbox.run(&["definitions", "allow", "user"]).success();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "--profile", "dev"])
        .env("EPILOT_TOKEN", ENV_TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(thief.single().url, "/v2/users/me");
    assert_saw_no_secret(&thief);
    assert!(stderr_of(&output).contains("note: EPILOT_TOKEN, the headers of profile `dev`"));

    // Chosen on purpose: the same server typed with --server gets the secrets.
    sandbox
        .run(&["user", "getMeV2", "-s", &thief.url])
        .success();
    let got = thief.requests().pop().unwrap();
    assert_eq!(
        got.header("authorization"),
        Some(format!("Bearer {PROFILE_TOKEN}").as_str())
    );
    assert_eq!(got.header("x-epilot-org-id"), Some(ORG));
    assert_eq!(got.header("x-api-key"), Some(API_KEY));
}

#[test]
fn what_is_typed_on_the_line_goes_to_the_requests_own_server() {
    let sandbox = sandbox_with_secrets();
    let api = Server::json(200, "{}");
    let definition = spec(&sandbox, &api.url, "/x/{id}");
    sandbox
        .run(&[
            "t",
            "op",
            "1",
            "--definition",
            &definition,
            "--token",
            "typed-token",
            "-H",
            "X-Api-Key: typed-key",
        ])
        .success();
    let got = api.single();
    assert_eq!(got.header("authorization"), Some("Bearer typed-token"));
    assert_eq!(got.header("x-api-key"), Some("typed-key"));
    assert_eq!(
        got.header("x-epilot-org-id"),
        None,
        "the profile's is ambient"
    );
}

#[test]
fn the_profiles_own_server_and_a_server_typed_on_the_line_are_chosen() {
    let sandbox = Sandbox::new();
    let (home, other) = (Server::json(200, "{}"), Server::json(200, "{}"));
    sandbox
        .run(&[
            "profile", "create", "local", "--server", &home.url, "--org-id", ORG,
        ])
        .success();
    sandbox.run(&["auth", "token", STORED]).success();
    let definition = spec(&sandbox, &other.url, "/x/{id}");
    // The profile's server replaces the document's.
    sandbox
        .run(&["t", "op", "1", "--definition", &definition])
        .success();
    let got = home.single();
    assert_eq!(got.header("x-epilot-org-id"), Some(ORG));
    assert_eq!(
        got.header("authorization"),
        Some(format!("Bearer {STORED}").as_str())
    );
    other.assert_untouched();
    let typed = format!("{}/", other.url.replace("127.0.0.1", "localhost"));
    sandbox
        .run(&["t", "op", "1", "--definition", &definition, "-s", &typed])
        .success();
    let got = other.single();
    assert_eq!(
        got.header("authorization"),
        Some(format!("Bearer {STORED}").as_str())
    );
    assert_eq!(got.header("x-epilot-org-id"), Some(ORG));
}

#[test]
fn a_name_that_starts_with_127_is_not_this_machine() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-t", "typed-SECRET"])
        .args(["-s", "http://127.0.0.1.evil.example:8080"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output)
            .contains("refusing to send --token over plain http to 127.0.0.1.evil.example:8080"),
        "{}",
        stderr_of(&output)
    );
    let loopback = Server::json(200, "{}");
    let on_this_machine = loopback.url.replace("127.0.0.1", "[::ffff:127.0.0.1]");
    sandbox
        .run(&["user", "getMeV2", "-t", "typed", "-s", &loopback.url])
        .success();
    assert_eq!(
        loopback.single().header("authorization"),
        Some("Bearer typed")
    );
    assert!(Sandbox::new()
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "--dry-run",
            "-s",
            &on_this_machine
        ])
        .output()
        .unwrap()
        .status
        .success());
}

#[test]
fn dry_run_shows_exactly_what_the_decision_lets_go() {
    let sandbox = sandbox_with_secrets();
    let definition = spec(&sandbox, "https://api.example.com", "/x/{id}");
    let withheld = sandbox
        .run(&["t", "op", "1", "--definition", &definition, "--dry-run"])
        .success();
    let shown = stdout_of(&withheld);
    assert!(
        shown.starts_with("GET https://api.example.com/x/1\n"),
        "{shown}"
    );
    for name in ["Authorization", "x-epilot-org-id", "X-Api-Key"] {
        assert!(!shown.contains(name), "{name} in {shown}");
    }
    assert!(stderr_of(&withheld).contains("note: the stored token of profile `dev`"));

    let chosen = sandbox
        .run(&[
            "t",
            "op",
            "1",
            "--definition",
            &definition,
            "--dry-run",
            "-s",
            "https://api.example.com",
        ])
        .success();
    let shown = stdout_of(&chosen);
    for name in ["Authorization: Bearer ***", "x-epilot-org-id", "X-Api-Key"] {
        assert!(shown.contains(name), "{name} in {shown}");
    }
    assert_prints_no_secret(&chosen);
}

#[test]
fn issue_16_a_servers_query_is_kept_before_the_operations_own() {
    let sandbox = Sandbox::new();
    let api = Server::json(200, "[]");
    sandbox
        .run(&[
            "pets",
            "listPets",
            "--definition",
            &crate::util::fixture("petstore-3.0.json"),
            "-s",
            &format!("{}/v1/?code=abc", api.url),
            "-p",
            "limit=5",
        ])
        .success();
    assert_eq!(api.single().url, "/v1/pets?code=abc&limit=5");
}

#[test]
fn a_server_with_a_password_in_it_is_refused_without_showing_it() {
    let sandbox = Sandbox::new();
    let api = Server::json(200, "{}");
    let with_password = api.url.replace("http://", "http://ada:pw-SECRET@");
    for args in [
        vec!["user", "getMeV2", "--dry-run", "-s", &with_password],
        vec!["profile", "create", "p", "--server", &with_password],
    ] {
        let output = sandbox.epilot().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("user name or password"), "{stderr}");
        assert!(!stderr.contains("pw-SECRET") && stdout_of(&output).is_empty());
    }
    api.assert_untouched();
}

/// A profile's headers are secrets whatever their names: `profile show`, `-v` and `--dry-run`
/// never print their values (the curl line reads them from `$EPILOT_HEADER_<NAME>`), while
/// the server still gets them and the organisation id is shown.
#[test]
fn every_header_from_a_profile_is_masked_wherever_the_request_is_shown() {
    let sandbox = Sandbox::new();
    let api = Server::json(200, "{}");
    let secrets = [
        ("X-Access-Key", "access-SECRET-1"),
        ("X-Auth", "auth-SECRET-2"),
        ("Ocp-Apim-Subscription-Key", "apim-SECRET-3"),
    ];
    let mut create = vec![
        "profile".to_string(),
        "create".into(),
        "p".into(),
        "--server".into(),
        api.url.clone(),
        "--org-id".into(),
        ORG.into(),
    ];
    for (name, value) in secrets {
        create.extend(["-H".to_string(), format!("{name}: {value}")]);
    }
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    sandbox.run(&create).success();
    let definition = spec(&sandbox, "http://127.0.0.1:9", "/x/{id}");
    let assert_masked = |printed: &str| {
        for (name, value) in secrets {
            assert!(!printed.contains(value), "{value} printed: {printed}");
            assert!(printed.contains(name), "{name} not named: {printed}");
        }
    };

    let show = sandbox.run(&["profile", "show", "p"]).success();
    assert_masked(&show.stdout());
    assert!(show.stdout().contains(ORG));

    let verbose = sandbox
        .run(&["t", "op", "1", "--definition", &definition, "-v"])
        .success();
    assert_masked(&format!("{}{}", verbose.stdout(), verbose.stderr()));
    let got = api.single();
    for (name, value) in secrets {
        assert_eq!(got.header(name), Some(value));
    }

    let dry = sandbox
        .run(&["t", "op", "1", "--definition", &definition, "--dry-run"])
        .success();
    let printed = dry.stdout();
    assert_masked(&printed);
    assert!(
        printed.contains(&format!("x-epilot-org-id: {ORG}")),
        "{printed}"
    );
    for variable in [
        "EPILOT_HEADER_X_ACCESS_KEY",
        "EPILOT_HEADER_X_AUTH",
        "EPILOT_HEADER_OCP_APIM_SUBSCRIPTION_KEY",
    ] {
        assert!(printed.contains(&format!("\"${variable}\"")), "{printed}");
    }
}

/// A redirect whose user info does not parse (a space in the password) is refused as not a
/// URL, and the message shows the address with its user info masked.
#[test]
fn a_redirect_that_does_not_parse_is_echoed_without_its_password() {
    let server = Server::start(|_| {
        let mut reply = crate::server::Reply::json(302, "{}");
        reply.headers.push((
            "Location".into(),
            "http://u:SRVPASS WORD@127.0.0.1:1/".into(),
        ));
        reply
    });
    let sandbox = Sandbox::new();
    let definition = spec(&sandbox, &server.url, "/x/{id}");
    let output = sandbox
        .epilot()
        .args(["t", "op", "1", "--definition", &definition, "-v"])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(!err.contains("SRVPASS"), "{err}");
    assert!(err.contains("`http://***@127.0.0.1:1/`"), "{err}");
}
