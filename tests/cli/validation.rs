//! Input validation: a matrix of bad inputs over the user API and a fixture, each reported
//! with the right location and nothing sent; valid input passes; --no-validate and
//! --validate-response.

use crate::server::Server;
use crate::util::{fixture, stderr_of, Sandbox};

const ID: &str = "123e4567-e89b-12d3-a456-426614174000";
const GOOD_ITEM: &str = r#"{"name":"Lamp","owner":{"email":"o@example.com"}}"#;

/// Runs `args` against a fresh recording server; asserts exit 2, that every `expected`
/// fragment is in stderr, and that the server received nothing.
fn rejected(args: &[&str], expected: &[&str]) {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(args)
        .args(["-s", &server.url, "-t", "tok"])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains("was not sent"), "{args:?}: {err}");
    for fragment in expected {
        assert!(
            err.contains(fragment),
            "{args:?}: expected `{fragment}` in:\n{err}"
        );
    }
    server.assert_untouched();
}

fn item(args: &[&str], body: &str, expected: &[&str]) {
    let spec = fixture("validation-3.0.yaml");
    let mut all = vec![
        "v",
        "putItem",
        "--definition",
        &spec,
        "-p",
        "required_flag=true",
        "-d",
        body,
    ];
    all.extend_from_slice(args);
    let mut with_id = vec![ID];
    if !args.iter().any(|a| a.starts_with("id=")) {
        all.splice(2..2, with_id.drain(..));
    }
    rejected(&all, expected);
}

#[test]
fn user_api_bad_inputs() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["user", "getGroups", "-p", "hydrate=yes"], &["parameter `hydrate` (query boolean): expects a boolean"]),
        (&["user", "listUsersV2", "-p", "limit=ten"], &["parameter `limit` (query number): expects a number, got `ten`"]),
        (&["user", "getUserV2"], &["parameter `id` (path string): is required"]),
        (&["user", "checkInviteToken"], &["parameter `token` (query string): is required: pass it as -p token=..."]),
        (&["user", "inviteUser", "-d", r#"{"language":"en"}"#], &[r#"body: "email" is a required property"#]),
        (&["user", "inviteUser", "-d", r#"{"email":"bob"}"#], &[r#"body /email: "bob" is not a "email""#]),
        (&["user", "inviteUser", "-d", r#"{"email":"a@b.co","roles":"admin"}"#], &[r#"body /roles: "admin" is not of type "array""#]),
        (&["user", "createGroup", "-d", r#"{"name":5}"#], &[r#"body /name: 5 is not of type "string""#]),
        (&["user", "createGroup", "-d", r#"{"user_ids":[1]}"#], &[r#"body: "name" is a required property"#, "body /user_ids/0: 1 is not of type \"string\""]),
        (&["user", "createGroup"], &["body: is required: pass it with -d '<json>', -d @file, or on stdin (cat body.json | epilot user createGroup)"]),
        (&["user", "updateUserV2", ID, "-d", r#"{"phone":"12"}"#], &[r#"body /phone: "12" is not of type "number""#]),
        (&["user", "updateUserV2", ID, "-d", r#"{"mfa_enabled":"yes"}"#], &[r#"body /mfa_enabled: "yes" is not of type "boolean""#]),
        (&["user", "updateUserV2", ID, "-d", r#"{"created_at":"yesterday"}"#], &[r#"body /created_at: "yesterday" is not a "date-time""#]),
        (&["user", "updateUserV2", ID, "-d", r#"{"feature_preferences":{"x":"on"}}"#], &[r#"body /feature_preferences/x: "on" is not of type "boolean""#]),
        (&["user", "updateUserV2", ID, "-d", r#"{"properties":[{"name":"a"}]}"#], &[r#"body /properties/0: "value" is a required property"#]),
        (&["user", "createNavigation", "-d", r#"{"name":"N","configuration":{"configurations":[{"key":"a","subItems":[{"key":7}]}]}}"#], &[r#"body /configuration/configurations/0/subItems/0/key: 7 is not of type "string""#]),
        (&["user", "createNavigation", "-d", r#"{"name":"N"}"#], &[r#"body: "configuration" is a required property"#]),
        (&["user", "switchOrganization", "-d", "[]"], &[r#"body: [] is not of type "object""#]),
        (&["user", "beginPasskeyAuthentication", "-d", "{}"], &[r#"body: "email" is a required property"#]),
        (&["user", "completePasskeyRegistration", "-d", r#"{"challenge_token":"t","registration_response":"x"}"#], &[r#"body /registration_response: "x" is not of type "object""#]),
    ];
    for (args, expected) in cases {
        rejected(args, expected);
    }
}

#[test]
fn fixture_parameter_bad_inputs() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["-p", "count=0"],
            &["parameter `count` (query integer): 0 is less than the minimum of 1"],
        ),
        (
            &["-p", "count=11"],
            &["11 is greater than the maximum of 10"],
        ),
        (
            &["-p", "count=1.5"],
            &["parameter `count` (query integer): expects an integer, got `1.5`"],
        ),
        (
            &["-p", "ratio=1"],
            &["1 is greater than or equal to the maximum of 1"],
        ),
        (
            &["-p", "sort=up"],
            &[r#""up" is not one of "asc" or "desc""#],
        ),
        (
            &["-p", "code=ab1"],
            &[r#""ab1" does not match "^[A-Z]{3}$""#],
        ),
        (
            &["-p", "code=ABCD"],
            &[r#""ABCD" is longer than 3 characters"#],
        ),
        (
            &["-p", "since=2024-13-01"],
            &[r#""2024-13-01" is not a "date""#],
        ),
        (&["-p", "tags=a,a"], &["has non-unique elements"]),
        (&["-p", "tags=a,b,c,d"], &["has more than 3 items"]),
        (
            &["-p", "X-Host=bad host!"],
            &[r#""bad host!" is not a "hostname""#],
        ),
        (
            &["-p", "id=not-a-uuid"],
            &[r#""not-a-uuid" is not a "uuid""#],
        ),
        (&["-p", "nope=1"], &["has no parameter `nope`"]),
    ];
    for (args, expected) in cases {
        if args.contains(&"nope=1") {
            // Unknown names are refused before anything else, with suggestions.
            let server = Server::json(200, "{}");
            let sandbox = Sandbox::new();
            let spec = fixture("validation-3.0.yaml");
            let output = sandbox
                .epilot()
                .args(["v", "putItem", ID, "--definition", &spec, "-s", &server.url])
                .args(*args)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(2));
            assert!(stderr_of(&output).contains(expected[0]));
            server.assert_untouched();
            continue;
        }
        item(args, GOOD_ITEM, expected);
    }
}

#[test]
fn fixture_body_bad_inputs() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"{"name":"L"}"#,
            &[r#"body: "owner" is a required property"#],
        ),
        (
            r#"{"name":"L","owner":{}}"#,
            &[r#"body /owner: "email" is a required property"#],
        ),
        (
            r#"{"name":"","owner":{"email":"o@example.com"}}"#,
            &[r#"body /name: "" is shorter than 1 character"#],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"extra":1}"#,
            &["body: Additional properties are not allowed ('extra' was unexpected)"],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"note":5}"#,
            &[r#"body /note: 5 is not of types "null", "string""#],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"status":null}"#,
            &["body /status: null is not"],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"price":-1}"#,
            &["body /price: -1 is less than the minimum of 0"],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"ip":"999.1.1.1"}"#,
            &[r#"body /ip: "999.1.1.1" is not a "ipv4""#],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"ip6":"::g"}"#,
            &[r#"body /ip6: "::g" is not a "ipv6""#],
        ),
        (
            r#"{"name":"L","owner":{"email":"o@example.com"},"website":"not a uri"}"#,
            &[r#"body /website: "not a uri" is not a "uri""#],
        ),
        (
            r#"{"name":7,"owner":{"email":"nope"},"status":"gone"}"#,
            &[
                "body /name: 7",
                "body /owner/email: \"nope\"",
                "body /status: \"gone\"",
            ],
        ),
    ];
    for (body, expected) in cases {
        item(&[], body, expected);
    }
}

#[test]
fn one_of_and_recursive_bad_inputs() {
    let spec = fixture("validation-3.0.yaml");
    let run = |op: &str, body: &str, expected: &[&str]| {
        rejected(&["v", op, "--definition", &spec, "-d", body], expected)
    };
    run("addShape", r#"{"side":-1}"#, &["body: {\"side\":-1} matches none of the 3 oneOf alternatives; the closest (#2) fails with body /side: -1 is less than the minimum of 0"]);
    run(
        "addShape",
        r#"{"radius":1}"#,
        &["matches more than one oneOf alternative (#1, #3)"],
    );
    run(
        "addShape",
        "42",
        &["matches none of the 3 oneOf alternatives"],
    );
    run(
        "addTree",
        r#"{"label":"a","children":[{"label":"b","children":[{"label":"c","children":[{"label":5}]}]}]}"#,
        &[r#"body /children/0/children/0/children/0/label: 5 is not of type "string""#],
    );
    run(
        "addTree",
        r#"{"label":"a","children":[{"children":[]}]}"#,
        &[r#"body /children/0: "label" is a required property"#],
    );
}

#[test]
fn read_only_fields_are_not_required_and_valid_input_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let spec = fixture("validation-3.0.yaml");
    let output = sandbox
        .epilot()
        .args(["v", "putItem", ID, "--definition", &spec, "-s", &server.url])
        .args(["-p", "required_flag=false", "-p", "count=3", "-p", "tags=a,b", "-p", "since=2024-02-29", "-p", "sort=asc"])
        .args(["-d", r#"{"name":"Lamp","owner":{"email":"o@example.com"},"note":null,"created":"2024-02-08T04:44:32.246Z"}"#])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        server.single().url,
        format!("/items/{ID}?count=3&sort=asc&since=2024-02-29&tags=a&tags=b&required_flag=false")
    );
}

#[test]
fn no_validate_sends_anyway_with_a_warning() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "user",
            "listUsersV2",
            "-p",
            "limit=lots",
            "--no-validate",
            "-s",
            &server.url,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("warning: --no-validate"));
    assert_eq!(server.single().url, "/v2/users?limit=lots");
}

#[test]
fn no_validate_still_refuses_a_half_built_url() {
    rejected(
        &["user", "getUserV2", "--no-validate"],
        &["parameter `id` (path string): is required"],
    );
}

#[test]
fn validate_response_warns_without_changing_the_exit_code() {
    let server = Server::json(200, r#"{"id":"1","email":"not-an-email","phone":"12"}"#);
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args([
            "user",
            "getMeV2",
            "--validate-response",
            "-s",
            &server.url,
            "-t",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let err = stderr_of(&output);
    assert!(
        err.contains(r#"warning: response /email: "not-an-email" is not a "email""#),
        "{err}"
    );
    assert!(
        err.contains(r#"warning: response /phone: "12" is not of type "number""#),
        "{err}"
    );
}

#[test]
fn generated_samples_of_every_user_operation_pass_validation() {
    use epilot::validate::{Direction, Schema};
    let loaded = epilot::spec::load(
        "user",
        None,
        &epilot::state::paths::Places::from_env(&|_| None).expect("a home folder"),
        &|_| unreachable!("bundled"),
    )
    .unwrap();
    let mut checked = 0;
    for entry in &loaded.api.operations {
        let op = epilot::spec::index::resolve_operation(&loaded.document, entry).unwrap();
        for (schema, direction) in op
            .body
            .iter()
            .filter_map(|b| b.schema.as_ref().map(|s| (s, Direction::Request)))
            .chain(
                op.success_response()
                    .and_then(|r| r.schema.as_ref())
                    .map(|s| (s, Direction::Response)),
            )
        {
            let sample =
                epilot::validate::sample::valid_sample(&loaded.document, schema, direction);
            let problems = Schema::compile(&loaded.document, schema, direction, "x")
                .unwrap()
                .check_value(&sample, "sample");
            assert!(problems.is_empty(), "{}: {problems:?}", entry.name);
            checked += 1;
        }
    }
    assert!(
        checked >= 40,
        "request and response samples checked: {checked}"
    );
}
