//! Tokens and profiles: precedence, storage (the private-file fallback, as CI has no keychain
//! session), profiles reaching requests, and the rules on where a stored token may go.

use crate::server::Server;
use crate::util::{stderr_of, stdout_of, Sandbox, Screen, CTRL_C};

/// A JWT for jane@example.com that expires in 2100 (signature not checked by the CLI).
const LIVE: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiamFuZUBleGFtcGxlLmNvbSJ9.sig";
/// The same, expired in 2023.
const EXPIRED: &str = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDAsImVtYWlsIjoiYUBiLmMifQ.sig";

fn sent_token(server: &Server) -> Option<String> {
    server
        .requests()
        .last()
        .and_then(|r| r.header("authorization").map(str::to_string))
}

#[test]
fn token_precedence_flag_env_profile_default() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    sandbox.run(&["auth", "token", "default-token"]).success();
    sandbox
        .run(&["profile", "create", "dev", "--token", "profile-token"])
        .success();
    let call = |extra: &[&str], env: Option<&str>| {
        let mut cmd = sandbox.epilot();
        cmd.args(["user", "getMeV2", "-s", &server.url]).args(extra);
        if let Some(token) = env {
            cmd.env("EPILOT_TOKEN", token);
        }
        assert!(cmd.output().unwrap().status.success());
        sent_token(&server)
    };
    assert_eq!(
        call(&["--token", "flag-token"], Some("env-token")).as_deref(),
        Some("Bearer flag-token")
    );
    assert_eq!(
        call(&[], Some("env-token")).as_deref(),
        Some("Bearer env-token")
    );
    assert_eq!(
        call(&[], None).as_deref(),
        Some("Bearer profile-token"),
        "dev became the active profile"
    );
    sandbox.run(&["profile", "create", "empty"]).success();
    assert_eq!(
        call(&["--profile", "empty"], None).as_deref(),
        Some("Bearer default-token")
    );
}

#[test]
fn profiles_are_created_listed_shown_used_and_deleted_in_a_private_file() {
    let sandbox = Sandbox::new();
    assert!(sandbox
        .run(&["profile", "list"])
        .success()
        .stdout()
        .contains("no profiles yet"));
    sandbox
        .run(&[
            "profile",
            "create",
            "dev",
            "--server",
            "https://dev.example.com",
            "--org-id",
            "42",
            "-H",
            "X-Team: core",
            "--token",
            LIVE,
        ])
        .success();
    sandbox
        .run(&[
            "profile",
            "create",
            "prod",
            "--server",
            "https://prod.example.com",
        ])
        .success();
    assert_eq!(
        sandbox.run(&["profile", "list"]).success().stdout(),
        "* dev  https://dev.example.com\n  prod  https://prod.example.com\n"
    );
    sandbox.run(&["profile", "use", "prod"]).success();
    assert!(sandbox
        .run(&["profile", "list"])
        .success()
        .stdout()
        .starts_with("  dev"));
    let shown = sandbox.run(&["profile", "show", "dev"]).success().stdout();
    assert!(
        // A profile's headers are secrets whatever their names: shown masked.
        shown.contains("organisation: 42") && shown.contains("header: X-Team: ***"),
        "{shown}"
    );
    assert!(
        shown.contains("token: ***") && !shown.contains(LIVE) && !shown.contains("eyJleHAi"),
        "{shown}"
    );
    sandbox
        .run(&["profile", "update", "prod", "--org-id", "7"])
        .success();
    assert!(sandbox
        .run(&["profile", "show", "prod"])
        .success()
        .stdout()
        .contains("organisation: 7"));

    let dir = sandbox.path().join("config/epilot");
    use std::os::unix::fs::PermissionsExt;
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("profiles.json"), 0o600);
    assert_eq!(mode("credentials.json"), 0o600);
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "atomic writes leave no temporary files"
    );

    sandbox.run(&["profile", "delete", "dev"]).success();
    let missing = sandbox
        .epilot()
        .args(["profile", "show", "dev"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        !std::fs::read_to_string(dir.join("credentials.json"))
            .unwrap()
            .contains(LIVE),
        "its token went too"
    );
    let create_twice = sandbox
        .epilot()
        .args(["profile", "create", "prod"])
        .output()
        .unwrap();
    assert_eq!(create_twice.status.code(), Some(2));
}

#[test]
fn a_profiles_server_and_headers_reach_the_server() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    sandbox
        .run(&[
            "profile",
            "create",
            "local",
            "--server",
            &server.url,
            "--org-id",
            "42",
            "-H",
            "X-Team: core",
            "--token",
            "local-token",
        ])
        .success();
    sandbox.run(&["user", "getMeV2"]).success();
    let got = server.single();
    assert_eq!(got.url, "/v2/users/me");
    assert_eq!(got.header("x-epilot-org-id"), Some("42"));
    assert_eq!(got.header("x-team"), Some("core"));
    assert_eq!(
        got.header("authorization"),
        Some("Bearer local-token"),
        "the profile's own server may get its token"
    );
}

#[test]
fn a_stored_token_is_withheld_from_a_host_the_user_did_not_choose() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    sandbox.run(&["auth", "token", "stored-token"]).success();
    let spec = sandbox.write(
        "foreign.yaml",
        &format!("openapi: 3.0.0\ninfo: {{title: F}}\nservers: [{{url: '{}'}}]\nsecurity: [{{b: []}}]\ncomponents: {{securitySchemes: {{b: {{type: http, scheme: bearer}}}}}}\npaths:\n  /x:\n    get: {{operationId: x, responses: {{'200': {{description: ok}}}}}}\n", server.url),
    );
    let spec = spec.to_str().unwrap();
    let withheld = sandbox
        .epilot()
        .args(["f", "x", "--definition", spec])
        .output()
        .unwrap();
    assert!(withheld.status.success());
    assert_eq!(sent_token(&server), None);
    assert!(
        stderr_of(&withheld).contains("was not sent to 127.0.0.1"),
        "{}",
        stderr_of(&withheld)
    );
    sandbox
        .run(&["f", "x", "--definition", spec, "--server", &server.url])
        .success();
    assert_eq!(
        sent_token(&server).as_deref(),
        Some("Bearer stored-token"),
        "a --server typed here is chosen"
    );
    sandbox
        .run(&["f", "x", "--definition", spec, "--token", "given"])
        .success();
    assert_eq!(sent_token(&server).as_deref(), Some("Bearer given"));
}

#[test]
fn no_token_over_plain_http_to_another_machine() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "-t",
            "t",
            "-s",
            "http://api.example.invalid",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output)
        .contains("refusing to send --token over plain http to api.example.invalid"));
}

#[test]
fn an_expired_token_is_reported_and_not_sent() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    sandbox.run(&["auth", "token", EXPIRED]).success();
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-s", &server.url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("the stored default token expired at 2023-11-14T22:13:20Z"),
        "{}",
        stderr_of(&output)
    );
    assert!(stderr_of(&output).contains("epilot auth token"));
    server.assert_untouched();
}

#[test]
fn status_shows_source_user_and_expiry_but_never_the_token() {
    let sandbox = Sandbox::new();
    let piped = sandbox
        .epilot()
        .args(["auth", "token"])
        .write_stdin(format!("{LIVE}\n"))
        .output()
        .unwrap();
    assert!(
        stdout_of(&piped).contains("expires 2100-01-01T00:00:00Z"),
        "{}",
        stdout_of(&piped)
    );
    let status = sandbox.run(&["auth", "status"]).success().stdout();
    assert_eq!(status, "profile: (none)\ntoken: from the stored default token\nuser: jane@example.com\nexpiry: 2100-01-01T00:00:00Z\n");
    let with_flag = sandbox
        .run(&["auth", "status", "--token", LIVE])
        .success()
        .stdout();
    assert!(
        with_flag.contains("token: from --token")
            && !with_flag.contains(LIVE)
            && !with_flag.contains("sig")
    );
    assert_eq!(
        sandbox.run(&["auth", "logout"]).success().stdout(),
        "removed the stored token of the default credentials\n"
    );
    assert!(sandbox
        .run(&["auth", "status"])
        .success()
        .stdout()
        .contains("token: none"));
}

/// The automatic choice, with a session bus address where nothing listens: on Linux the
/// keychain is the Secret Service on that bus, so none answers and no real one is reached.
#[cfg(target_os = "linux")]
#[test]
fn without_a_keychain_tokens_fall_back_to_a_private_file_and_it_is_said_once() {
    let sandbox = Sandbox::new();
    let no_bus = format!("unix:path={}", sandbox.path().join("no-bus").display());
    let auto = |args: &[&str]| {
        let mut cmd = sandbox.epilot();
        cmd.env("EPILOT_CREDENTIAL_STORE", "auto")
            .env("DBUS_SESSION_BUS_ADDRESS", &no_bus)
            .args(args);
        cmd.output().unwrap()
    };
    let first = auto(&["auth", "token", "t1"]);
    assert!(
        stderr_of(&first).contains("no system keychain answers here"),
        "{}",
        stderr_of(&first)
    );
    let second = auto(&["auth", "token", "t2"]);
    assert_eq!(stderr_of(&second), "", "said once");
    let file = sandbox.path().join("config/epilot/credentials.json");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = auto(&["auth", "status"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr_of(&refused).contains("other users can read it"));
    let forced = sandbox
        .epilot()
        .args(["auth", "status"])
        .env("EPILOT_CREDENTIAL_STORE", "vault")
        .output()
        .unwrap();
    assert!(stderr_of(&forced).contains("EPILOT_CREDENTIAL_STORE is `vault`"));
}

/// Against the real Secret Service: `.ci/run` runs this under `dbus-run-session` with an
/// unlocked gnome-keyring and sets `EPILOT_KEYRING_TEST=1`. It writes to and deletes from
/// the keychain, so it refuses to run without that variable, which says the bus is a
/// throwaway one.
#[test]
#[ignore = "writes to the system keychain; .ci/run runs it in a throwaway dbus-run-session"]
fn tokens_round_trip_through_the_real_secret_service() {
    assert!(
        std::env::var_os("EPILOT_KEYRING_TEST").is_some(),
        "set EPILOT_KEYRING_TEST=1 only on a throwaway session bus (see .ci/run): this test \
         stores and removes epilot's default token in the keychain it finds"
    );
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("a session bus");
    let sandbox = Sandbox::new();
    let run = |args: &[&str]| {
        let output = sandbox
            .epilot()
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("EPILOT_CREDENTIAL_STORE", "keyring")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
        stdout_of(&output)
    };
    assert!(run(&["auth", "token", LIVE]).contains("in the system keychain"));
    // Another process reads it back.
    assert!(run(&["auth", "status"]).contains("user: jane@example.com"));
    assert!(run(&["user", "getMeV2", "--dry-run"]).contains("Authorization: Bearer ***"));
    assert!(run(&["auth", "logout"]).starts_with("removed"));
    assert!(run(&["auth", "status"]).contains("token: none"));
    assert!(
        !sandbox
            .path()
            .join("config/epilot/credentials.json")
            .exists(),
        "nothing went to the file store"
    );
}

/// Runs `epilot <args>` on a pseudo-terminal, with `BROWSER` set to a script that writes the
/// URL it was given to `url.txt` instead of opening anything.
pub(crate) fn login_on_a_terminal(sandbox: &Sandbox, args: &[&str]) -> Screen {
    let browser = sandbox.write(
        "browser.sh",
        &format!(
            "#!/bin/sh\nprintf %s \"$1\" > '{}'\n",
            sandbox.path().join("url.txt").display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    Screen::epilot(sandbox, args, &[("BROWSER", browser.to_str().unwrap())])
}

/// The portal's side: a GET to the CLI's callback; returns the status line.
pub(crate) fn callback(port: u16, query: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /callback?{query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_string()
}

pub(crate) fn wait_for_url(sandbox: &Sandbox) -> (u16, String) {
    let file = sandbox.path().join("url.txt");
    for _ in 0..200 {
        if let Ok(url) = std::fs::read_to_string(&file) {
            if !url.is_empty() {
                let port = url
                    .split("localhost:")
                    .nth(1)
                    .unwrap()
                    .split('/')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                let state = url
                    .split("state=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap()
                    .to_string();
                assert!(
                    url.starts_with(
                        "https://portal.epilot.cloud/login?cli_callback=http://localhost:"
                    ),
                    "{url}"
                );
                return (port, state);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the browser was never opened");
}

#[test]
fn login_stores_the_token_from_the_portal_only_with_the_right_state() {
    let sandbox = Sandbox::new();
    let mut screen = login_on_a_terminal(
        &sandbox,
        &["auth", "login", "--readonly", "--timeout", "20"],
    );
    let (port, state) = wait_for_url(&sandbox);
    assert!(std::fs::read_to_string(sandbox.path().join("url.txt"))
        .unwrap()
        .ends_with("&readonly=true"));
    assert_eq!(
        callback(port, "token=stolen&state=wrong"),
        "HTTP/1.1 403 Forbidden"
    );
    assert_eq!(
        callback(port, "token=stolen"),
        "HTTP/1.1 403 Forbidden",
        "a missing state is refused too"
    );
    assert_eq!(
        callback(
            port,
            &format!("token={LIVE}&state={state}&org_id=42&user_id=7&name=Jane+Doe")
        ),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(screen.exit_code(), 0, "{}", screen.text());
    let text = screen.text();
    assert!(
        text.contains("logged in as Jane Doe in organisation 42"),
        "{text}"
    );
    assert!(text.contains("Verification code: "), "{text}");
    let stored =
        std::fs::read_to_string(sandbox.path().join("config/epilot/credentials.json")).unwrap();
    assert!(stored.contains(LIVE) && !stored.contains("stolen"));
}

#[test]
fn login_gives_up_after_its_time_limit_and_needs_a_terminal() {
    let sandbox = Sandbox::new();
    let started = std::time::Instant::now();
    let mut screen = login_on_a_terminal(&sandbox, &["auth", "login", "--timeout", "1"]);
    assert_eq!(screen.exit_code(), 3, "{}", screen.text());
    assert!(
        screen.text().contains("no login arrived within 1 s"),
        "{}",
        screen.text()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!sandbox
        .path()
        .join("config/epilot/credentials.json")
        .exists());

    let piped = sandbox.run(&["auth", "login"]);
    assert_eq!(piped.code(), 2);
    assert!(
        piped.stderr().contains("needs a terminal") && piped.stderr().contains("epilot auth token")
    );
    let given = sandbox.run(&["auth", "login", "--token", "t-1"]);
    assert!(
        given.stdout().contains("stored the token"),
        "{}",
        given.stderr()
    );
}

/// `epilot user getMeV2` without a token, on a terminal: it asks for one, masked.
fn token_prompt(sandbox: &Sandbox, server: &Server) -> Screen {
    let mut screen = Screen::epilot(sandbox, &["user", "getMeV2", "-s", &server.url], &[]);
    screen.wait_for("Token for `getMeV2`");
    screen.wait_for_echo_off();
    screen
}

#[test]
fn on_a_terminal_a_missing_token_is_asked_for_and_not_saved() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    let mut screen = token_prompt(&sandbox, &server);
    screen.type_line("typed-token");
    assert_eq!(screen.exit_code(), 0, "{}", screen.text());
    assert!(
        !screen.transcript().contains("typed-token"),
        "the prompt is masked: {}",
        screen.transcript()
    );
    assert_eq!(
        server.single().header("authorization"),
        Some("Bearer typed-token")
    );
    assert!(
        !sandbox
            .path()
            .join("config/epilot/credentials.json")
            .exists(),
        "a typed token is not saved"
    );
}

#[test]
fn ctrl_c_at_the_token_prompt_exits_130_and_sends_nothing() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    let mut screen = token_prompt(&sandbox, &server);
    // ^C typed on the terminal: the line discipline turns it into SIGINT for epilot.
    screen.keys(CTRL_C);
    assert_eq!(screen.exit_code(), 130, "{}", screen.text());
    assert!(screen.text().contains("interrupted"), "{}", screen.text());
    server.assert_untouched();
}
