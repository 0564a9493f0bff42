//! Every operation of the bundled user API called as the API reference shows it, against the
//! recording server: method, path, query, auth and body as received.

use serde_json::{json, Value};

use crate::server::Server;
use crate::util::Sandbox;

const ID: &str = "123e4567-e89b-12d3-a456-426614174000";
const TOKEN: &str = "test-token-123";

#[derive(Clone, Copy)]
enum Body<'a> {
    None,
    /// `-d '<json>'`
    Inline(&'a str),
    /// `-d @file`
    File(&'a str),
    /// piped on stdin
    Stdin(&'a str),
}

struct Case<'a> {
    args: &'a [&'a str],
    body: Body<'a>,
    method: &'a str,
    url: String,
    /// Whether the operation is secured (public `/public/` routes are not).
    secured: bool,
}

fn case<'a>(
    args: &'a [&'a str],
    body: Body<'a>,
    method: &'a str,
    url: &str,
    secured: bool,
) -> Case<'a> {
    Case {
        args,
        body,
        method,
        url: url.to_string(),
        secured,
    }
}

const SIGNUP: &str = r#"{"organization_detail":{"type":"Vendor","name":"Epilot","pricing_tier":"professional","email":"string","phone":"string","website":"string","is_privacy_policy_checked":false,"is_terms_and_conditions_checked":false},"user_detail":{"full_name":"Example user","email":"user@example.com","password":"AKjhdakjsdh@!34"},"language":"en"}"#;
const USER: &str = r#"{"id":"string","display_name":"Example User","email":"user@example.com","phone":1234567890,"feature_preferences":{"feature_name":true}}"#;
const NAVIGATION: &str = r#"{"name":"Sales Team Navigation","configuration":{"customer_relations":[{"key":"dashboard"},{"key":"contact"}],"configurations":[{"name":"Product Catalog","subItems":[{"key":"product"},{"key":"price"}]},{"key":"journey"}]}}"#;

fn cases() -> Vec<Case<'static>> {
    let id = |path: &str| path.replace("ID", ID);
    vec![
        case(
            &["signUpUser"],
            Body::Inline(SIGNUP),
            "POST",
            "/v2/users/public/signup",
            false,
        ),
        case(&["getMeV2"], Body::None, "GET", "/v2/users/me", true),
        case(
            &[
                "listUsersV2",
                "-p",
                "query=jane doe",
                "-p",
                "limit=10",
                "-p",
                "offset=20",
            ],
            Body::None,
            "GET",
            "/v2/users?query=jane%20doe&limit=10&offset=20",
            true,
        ),
        case(
            &["getUserV2", ID],
            Body::None,
            "GET",
            &id("/v2/users/ID"),
            true,
        ),
        case(
            &[
                "updateUserV2",
                "-p",
                "id=123e4567-e89b-12d3-a456-426614174000",
            ],
            Body::File(USER),
            "PATCH",
            &id("/v2/users/ID"),
            true,
        ),
        case(
            &[
                "deleteUserV2",
                "-p",
                "id=123e4567-e89b-12d3-a456-426614174000",
            ],
            Body::None,
            "DELETE",
            &id("/v2/users/ID"),
            true,
        ),
        case(
            &["inviteUser"],
            Body::Inline(r#"{"email":"test@example.com","language":"en","roles":["123:owner"]}"#),
            "POST",
            "/v2/users/invite",
            true,
        ),
        case(
            &["resendUserInvitation"],
            Body::Stdin(r#"{"email":"test@example.com","language":"en"}"#),
            "POST",
            "/v2/users/invite:resendEmail",
            true,
        ),
        case(
            &["getGroupsForUser", ID],
            Body::None,
            "GET",
            &id("/v2/users/ID/groups"),
            true,
        ),
        case(
            &["verifyEmailWithToken", "-p", "token=example"],
            Body::Inline(r#"{"password":"AKjhdakjsdh@!34"}"#),
            "POST",
            "/v2/users/public/verifyEmail?token=example",
            false,
        ),
        case(
            &["checkInviteToken", "-p", "token=example"],
            Body::None,
            "GET",
            "/v2/users/public/checkToken?token=example",
            false,
        ),
        case(
            &["activateUser", "-p", "token=example"],
            Body::Stdin(r#"{"display_name":"Example User","password":"AKjhdakjsdh@!34"}"#),
            "POST",
            "/v2/users/public/activate?token=example",
            false,
        ),
        case(
            &["rejectInvite", "-p", "token=example"],
            Body::None,
            "DELETE",
            "/v2/users/public/reject?token=example",
            false,
        ),
        case(
            &["getUserLoginParametersV2", "example"],
            Body::None,
            "GET",
            "/v2/users/public/username/example:getLoginParameters",
            false,
        ),
        case(
            &["beginPasskeyAuthentication"],
            Body::Inline(r#"{"email":"user@example.com"}"#),
            "POST",
            "/v2/users/public/passkeys:authenticateBegin",
            false,
        ),
        case(
            &["beginDiscoverablePasskeyAuthentication"],
            Body::None,
            "POST",
            "/v2/users/public/passkeys:authenticateBeginDiscoverable",
            false,
        ),
        case(
            &["resolveDiscoverableCredential"],
            Body::Inline(r#"{"challenge_token":"string","assertion_response":{}}"#),
            "POST",
            "/v2/users/public/passkeys:resolveCredential",
            false,
        ),
        case(
            &["beginPasskeyRegistration"],
            Body::Inline(r#"{"friendly_name":"My Laptop"}"#),
            "POST",
            "/v2/users/me/passkeys:registerBegin",
            true,
        ),
        case(
            &["completePasskeyRegistration"],
            Body::Inline(
                r#"{"challenge_token":"string","registration_response":{},"friendly_name":"My Laptop"}"#,
            ),
            "POST",
            "/v2/users/me/passkeys:registerComplete",
            true,
        ),
        case(
            &["listPasskeys"],
            Body::None,
            "GET",
            "/v2/users/me/passkeys",
            true,
        ),
        case(
            &["deletePasskey", ID],
            Body::None,
            "DELETE",
            &id("/v2/users/me/passkeys/ID"),
            true,
        ),
        case(
            &["switchOrganization"],
            Body::Inline(r#"{"org_id":"string"}"#),
            "POST",
            "/v2/users/switchOrganization",
            true,
        ),
        case(
            &["getGroups", "-p", "query=Fin", "-p", "hydrate=true"],
            Body::None,
            "GET",
            "/v1/groups?query=Fin&hydrate=true",
            true,
        ),
        case(
            &["createGroup"],
            Body::Inline(r#"{"name":"Finance","user_ids":["123","456"]}"#),
            "POST",
            "/v1/groups",
            true,
        ),
        case(
            &["getGroup", ID, "-p", "hydrate=false"],
            Body::None,
            "GET",
            &id("/v1/groups/ID?hydrate=false"),
            true,
        ),
        case(
            &[
                "updateGroup",
                "-p",
                "id=123e4567-e89b-12d3-a456-426614174000",
            ],
            Body::Inline(r#"{"name":"Finance","user_ids":["123","456"]}"#),
            "PATCH",
            &id("/v1/groups/ID"),
            true,
        ),
        case(
            &["deleteGroup", ID],
            Body::None,
            "DELETE",
            &id("/v1/groups/ID"),
            true,
        ),
        case(
            &["advanceUserAssignment", ID],
            Body::None,
            "POST",
            &id("/v1/groups/ID/user:next"),
            true,
        ),
        case(
            &["createNavigation"],
            Body::File(NAVIGATION),
            "POST",
            "/v2/user/navigations",
            true,
        ),
        case(
            &["getNavigation", "5gbe4nkp6jsfq"],
            Body::None,
            "GET",
            "/v2/user/navigations/5gbe4nkp6jsfq",
            true,
        ),
        case(&["getMe"], Body::None, "GET", "/v1/users/me", true),
        case(
            &["listUsers", "-p", "org_ids=1,2", "-p", "limit=5"],
            Body::None,
            "GET",
            "/v1/users?org_ids=1,2&limit=5",
            true,
        ),
        case(
            &["getUser", ID],
            Body::None,
            "GET",
            &id("/v1/users/ID"),
            true,
        ),
        case(
            &["getUserLoginParameters", "example"],
            Body::None,
            "GET",
            "/v1/users/username/example:getLoginParameters",
            false,
        ),
    ]
}

#[test]
fn all_34_operations_reach_the_server_as_the_reference_shows_them() {
    let cases = cases();
    let names: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.args[0]).collect();
    assert_eq!(
        names.len(),
        34,
        "every operation of the reference is covered once"
    );

    let server = Server::json(200, r#"{"ok":true}"#);
    for (n, case) in cases.iter().enumerate() {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.epilot();
        cmd.env("EPILOT_TOKEN", TOKEN)
            .arg("user")
            .args(case.args)
            .args(["--server", &server.url]);
        match case.body {
            Body::None => {}
            Body::Inline(json) => {
                cmd.args(["-d", json]);
            }
            Body::File(json) => {
                let path = sandbox.write("body.json", json);
                cmd.arg("-d").arg(format!("@{}", path.display()));
            }
            Body::Stdin(json) => {
                cmd.write_stdin(json);
            }
        }
        let output = cmd.output().unwrap();
        assert!(
            output.status.success(),
            "{:?} failed: {}",
            case.args,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "{\n  \"ok\": true\n}\n",
            "{:?}",
            case.args
        );

        let received = &server.requests()[n];
        assert_eq!(received.method, case.method, "{:?}", case.args);
        assert_eq!(received.url, case.url, "{:?}", case.args);
        let expected_auth = case.secured.then(|| format!("Bearer {TOKEN}"));
        assert_eq!(
            received.header("authorization"),
            expected_auth.as_deref(),
            "{:?}",
            case.args
        );
        assert!(received
            .header("user-agent")
            .unwrap()
            .starts_with("epilot/"));
        match case.body {
            Body::None => assert!(received.body.is_empty(), "{:?} sent a body", case.args),
            Body::Inline(json) | Body::File(json) | Body::Stdin(json) => {
                assert_eq!(
                    received.header("content-type"),
                    Some("application/json"),
                    "{:?}",
                    case.args
                );
                assert_eq!(
                    received.json(),
                    serde_json::from_str::<Value>(json).unwrap(),
                    "{:?}",
                    case.args
                );
            }
        }
    }
    assert_eq!(server.requests().len(), 34);
}

#[test]
fn an_explicit_token_is_sent_even_to_public_operations() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    sandbox
        .epilot()
        .args([
            "user",
            "checkInviteToken",
            "-p",
            "token=abc",
            "-t",
            "explicit",
            "-s",
            &server.url,
        ])
        .assert()
        .success();
    assert_eq!(
        server.single().header("authorization"),
        Some("Bearer explicit")
    );
}

#[test]
fn listing_groups_operations_by_tag_in_the_reference_order() {
    let sandbox = Sandbox::new();
    let output = sandbox.epilot().arg("user").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing from:\n{text}"))
    };
    assert!(
        at("User V2") < at("\nGroup\n")
            && at("\nGroup\n") < at("Navigation")
            && at("Navigation") < at("User V1")
    );
    assert!(at("getUserV2") < at("updateUserV2") && at("updateUserV2") < at("deleteUserV2"));
    for line in [
        "getMeV2",
        "GET",
        "/v2/users/me",
        "Get currently logged in user",
        "Server: https://user.sls.epilot.io",
    ] {
        at(line);
    }
    let operations = text.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(operations, 34);
}

#[test]
fn dry_run_of_get_user_v2_works_offline_from_any_directory() {
    let (_sandbox, mut cmd) = crate::util::epilot();
    let output = cmd
        .args(["user", "getUserV2", ID, "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with(&format!("GET https://user.sls.epilot.io/v2/users/{ID}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "curl \\\n  https://user.sls.epilot.io/v2/users/{ID}"
        )),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("expects a bearer token"));
}

#[test]
fn dry_run_masks_the_token_and_the_curl_command_reads_it_from_the_environment() {
    let (_sandbox, mut cmd) = crate::util::epilot();
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.signature-9f3a";
    let output = cmd
        .env("EPILOT_TOKEN", token)
        .args([
            "user",
            "createGroup",
            "-d",
            r#"{"name":"Finance"}"#,
            "--dry-run",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        !text.contains(token) && !text.contains("eyJzdWIiOiIxIn0"),
        "{text}"
    );
    assert!(text.contains("Authorization: Bearer ***9f3a"), "{text}");
    assert!(
        text.contains(r#"-H "Authorization: Bearer $EPILOT_TOKEN""#),
        "{text}"
    );
    assert!(
        text.contains(r#"--data-raw '{"name":"Finance"}'"#),
        "{text}"
    );
    assert_eq!(
        json!(text.lines().next()),
        json!("POST https://user.sls.epilot.io/v1/groups")
    );
}

#[test]
fn flags_work_before_and_after_the_api_and_operation_names() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    sandbox
        .epilot()
        .args([
            "-p",
            "hydrate=true",
            "-s",
            &server.url,
            "user",
            "-t",
            "early",
            "getGroup",
            ID,
            "--json",
        ])
        .assert()
        .success();
    let got = server.single();
    assert_eq!(got.url, format!("/v1/groups/{ID}?hydrate=true"));
    assert_eq!(got.header("authorization"), Some("Bearer early"));
}
