//! Help pages, the API listing, `docs`, `--mock` and machine-readable help. Help pages are
//! snapshot-tested (tests/cli/snapshots/), so any change to what users read shows in review.

use serde_json::Value;

use crate::server::Server;
use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

macro_rules! snapshot {
    ($name:expr, $args:expr) => {
        insta::assert_snapshot!($name, Sandbox::new().run($args).success().stdout())
    };
}

#[test]
fn help_of_user_operations() {
    snapshot!("user_getUserV2", &["user", "getUserV2", "--help"]);
    snapshot!("user_createGroup", &["user", "createGroup", "--help"]);
    snapshot!("user_listUsers", &["user", "listUsers", "--help"]);
    snapshot!(
        "user_verifyEmailWithToken",
        &["user", "-h", "verifyEmailWithToken"]
    );
}

/// An operation's help page for a fixture named by a path relative to the fixtures folder, so
/// the `--definition` its commands print is the same on every machine.
fn fixture_help(file: &str, args: &[&str]) -> String {
    let path = std::path::PathBuf::from(fixture(file));
    let output = Sandbox::new()
        .epilot()
        .current_dir(path.parent().unwrap())
        .args(args)
        .args(["--help", "--definition", file])
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
    stdout_of(&output)
}

#[test]
fn help_of_fixture_operations() {
    let pets = "petstore-3.0.json";
    let checks = "validation-3.0.yaml";
    let tree = "tree-3.1.yaml";
    for (name, file, args) in [
        ("pets_listPets", pets, ["pets", "listPets"]),
        ("pets_uploadPhoto_multipart", pets, ["pets", "uploadPhoto"]),
        ("pets_createPet_recursive", pets, ["pets", "createPet"]),
        ("pets_get-health_no_body", pets, ["pets", "get-health"]),
        (
            "checks_putItem_enums_and_required_body",
            checks,
            ["v", "putItem"],
        ),
        ("tree_createNode_3_1", tree, ["tree", "createNode"]),
    ] {
        insta::assert_snapshot!(name, fixture_help(file, &args));
    }
}

#[test]
fn listing_and_root_help() {
    snapshot!("user_listing", &["user"]);
    snapshot!("root_help", &["--help"]);
    assert_eq!(
        Sandbox::new().run(&["user", "--help"]).success().stdout(),
        Sandbox::new().run(&["user"]).success().stdout(),
        "`epilot user --help` is the listing"
    );
}

#[test]
fn machine_readable_help() {
    let op: Value = serde_json::from_str(
        &Sandbox::new()
            .run(&["user", "getGroup", "--help", "--json"])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(op["name"], "getGroup");
    assert_eq!(op["method"], "GET");
    assert_eq!(op["path"], "/v1/groups/{id}");
    assert_eq!(op["parameters"][0]["name"], "id");
    assert_eq!(op["parameters"][0]["in"], "path");
    assert_eq!(op["parameters"][1]["name"], "hydrate");
    assert_eq!(op["responses"][0]["status"], "200");
    assert!(
        op["components"]["components"]["schemas"]["UserV2"].is_object(),
        "referenced schemas come along"
    );

    let create: Value = serde_json::from_str(
        &Sandbox::new()
            .run(&["user", "createGroup", "--help", "--json"])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(create["requestBody"]["required"], true);
    assert_eq!(create["requestBody"]["sample"]["name"], "Finance");

    let api: Value = serde_json::from_str(
        &Sandbox::new()
            .run(&["user", "--help", "--json"])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(api["title"], "User API");
    assert_eq!(api["operations"].as_array().unwrap().len(), 34);
    assert_eq!(
        api["tags"],
        serde_json::json!(["User V2", "Group", "Navigation", "User V1"])
    );
}

/// The operations and parameters of the API reference.
const REFERENCE: &[(&str, &[&str])] = &[
    ("signUpUser", &["token"]),
    ("getMeV2", &[]),
    ("listUsersV2", &["query", "limit", "offset"]),
    ("getUserV2", &["id"]),
    ("updateUserV2", &["id"]),
    ("deleteUserV2", &["id"]),
    ("inviteUser", &[]),
    ("resendUserInvitation", &[]),
    ("getGroupsForUser", &["id"]),
    ("verifyEmailWithToken", &["token"]),
    ("checkInviteToken", &["token"]),
    ("activateUser", &["token"]),
    ("rejectInvite", &["token"]),
    ("getUserLoginParametersV2", &["username"]),
    ("beginPasskeyAuthentication", &[]),
    ("beginDiscoverablePasskeyAuthentication", &[]),
    ("resolveDiscoverableCredential", &[]),
    ("beginPasskeyRegistration", &[]),
    ("completePasskeyRegistration", &[]),
    ("listPasskeys", &[]),
    ("deletePasskey", &["credentialId"]),
    ("switchOrganization", &[]),
    ("getGroups", &["query", "limit", "offset", "hydrate"]),
    ("createGroup", &[]),
    ("getGroup", &["id", "hydrate"]),
    ("updateGroup", &["id"]),
    ("deleteGroup", &["id"]),
    ("advanceUserAssignment", &["id"]),
    ("createNavigation", &[]),
    ("getNavigation", &["id"]),
    ("getMe", &[]),
    ("listUsers", &["org_ids", "query", "limit", "offset"]),
    ("getUser", &["id"]),
    ("getUserLoginParameters", &["username"]),
];

#[test]
fn docs_cover_every_operation_and_parameter_of_the_reference() {
    let markdown = Sandbox::new().run(&["docs", "user"]).success().stdout();
    assert_eq!(REFERENCE.len(), 34);
    assert!(
        markdown.starts_with("# User API\n\n- Base URL: `https://user.sls.epilot.io`"),
        "{}",
        &markdown[..200]
    );
    for heading in [
        "## Quick Start",
        "## Common Flags",
        "## Operations",
        "### User V2",
        "### Group",
        "### Navigation",
        "### User V1",
    ] {
        assert!(markdown.contains(heading), "{heading}");
    }
    for (operation, params) in REFERENCE {
        let start = markdown
            .find(&format!("\n## {operation}\n"))
            .unwrap_or_else(|| panic!("no section for {operation}"));
        let section = &markdown[start..];
        let section = &section[..section[4..]
            .find("\n## ")
            .map_or(section.len(), |end| end + 4)];
        for param in *params {
            assert!(
                section.contains(&format!("| `{param}` |")),
                "{operation} documents `{param}`"
            );
        }
        assert!(
            section.contains("### Sample Call") && section.contains("--jsonata"),
            "{operation}"
        );
    }
    let get_user = &markdown[markdown.find("\n## getUserV2\n").unwrap()..];
    assert!(
        get_user.contains("epilot user getUserV2 123e4567-e89b-12d3-a456-426614174000"),
        "positional form"
    );
    let create = &markdown[markdown.find("\n## createGroup\n").unwrap()..];
    assert!(
        create.contains(r#"-d '{"name":"Finance","user_ids":["123","456"]}'"#),
        "body form"
    );
    assert!(
        create.contains("cat body.json | epilot user createGroup"),
        "stdin form"
    );
}

#[test]
fn docs_work_for_any_definition() {
    let markdown = Sandbox::new()
        .run(&["docs", "tree", "--definition", &fixture("tree-3.1.yaml")])
        .success()
        .stdout();
    assert!(markdown.starts_with("# Tree API\n"));
    assert!(markdown.contains("\n## get-nodes-id\n") && markdown.contains("\n## createNode\n"));
}

#[test]
fn mock_answers_offline_with_the_sample_and_sends_nothing() {
    let server = Server::json(500, "{}");
    let sandbox = Sandbox::new();
    let mock = |args: &[&str]| {
        sandbox
            .epilot()
            .args(args)
            .args(["--mock", "-s", &server.url])
            .output()
            .unwrap()
    };

    let me = mock(&["user", "getMe", "--jsonata", "email"]);
    assert_eq!(stdout_of(&me), "user@example.com\n");
    assert_eq!(stderr_of(&me), "", "no token warning for mock calls");

    let rejected = mock(&["user", "rejectInvite", "-p", "token=t", "--json"]);
    assert_eq!(stdout_of(&rejected), "{\"success\":true}\n");

    let navigation = mock(&["user", "getNavigation", "5gbe4nkp6jsfq", "-i"]);
    let body: Value = serde_json::from_str(&stdout_of(&navigation)).unwrap();
    assert_eq!(
        body["configuration"]["configurations"][0]["subItems"][1]["key"],
        "price"
    );
    assert!(
        stderr_of(&navigation).contains("< HTTP/1.1 200 OK"),
        "{}",
        stderr_of(&navigation)
    );

    let tree = mock(&[
        "tree",
        "createNode",
        "-d",
        r#"{"name":"a"}"#,
        "--definition",
        &fixture("tree-3.1.yaml"),
    ]);
    assert!(tree.status.success());
    assert_eq!(stdout_of(&tree), "", "a 201 without content has no body");

    let invalid = mock(&["user", "createGroup", "-d", "{}"]);
    assert_eq!(
        invalid.status.code(),
        Some(2),
        "mock calls check input like real ones"
    );
    server.assert_untouched();
}

#[test]
fn the_pager_is_never_used_when_stdout_is_not_a_terminal() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("pager-ran");
    let pager = sandbox.write(
        "pager.sh",
        &format!("#!/bin/sh\ntouch '{}'\ncat >/dev/null\n", marker.display()),
    );
    std::fs::set_permissions(&pager, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = sandbox
        .epilot()
        .args(["user", "createGroup", "--help"])
        .env("PAGER", &pager)
        .output()
        .unwrap();
    assert!(stdout_of(&output).contains("SAMPLE RESPONSE"));
    assert!(
        !stdout_of(&output).contains('\u{1b}'),
        "no colour codes when piped"
    );
    assert!(!marker.exists(), "the pager ran although stdout was a pipe");
}
