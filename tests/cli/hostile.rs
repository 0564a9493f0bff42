//! Hostile input ends fast and small (issue #13): specs built to hang or flood the sample
//! generator, deep or exploding YAML, a login callback server under a slow or huge request,
//! and absurd numbers on the command line. Every run has a deadline, so a regression fails
//! instead of blocking the suite.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::Server;
use crate::util::{stderr_of, stdout_of, Sandbox};

/// Far above what any of these takes when it works; hitting it means a hang.
const DEADLINE: Duration = Duration::from_secs(10);
/// Generous for any command here: samples are capped at 64 KB each.
const MAX_OUTPUT: usize = 4 * 1024 * 1024;

/// A one-operation spec whose JSON body and 200 answer are `schema`, with `components`.
fn spec_with(schema: Value, components: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Hostile", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {"/things": {"post": {
            "operationId": "makeThing",
            "parameters": [{"name": "q", "in": "query", "schema": schema.clone()}],
            "requestBody": {"content": {"application/json": {"schema": schema.clone()}}},
            "responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": schema}}}}
        }}},
        "components": {"schemas": components}
    })
}

/// Runs `epilot <args> --definition <spec>` with the deadline; returns the output after
/// checking it ended in time, without a panic, with bounded output.
fn run(sandbox: &Sandbox, spec: &std::path::Path, args: &[&str]) -> std::process::Output {
    run_within(DEADLINE, sandbox, spec, args)
}

fn run_within(
    deadline: Duration,
    sandbox: &Sandbox,
    spec: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let started = Instant::now();
    let output = sandbox
        .epilot()
        .args(args)
        .arg("--definition")
        .arg(spec)
        .timeout(deadline)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(
        output.status.code().is_some(),
        "{args:?} did not end within {deadline:?} (took {:?}); stderr: {stderr}",
        started.elapsed()
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(
        output.stdout.len() + output.stderr.len() < MAX_OUTPUT,
        "{args:?} printed {} bytes",
        output.stdout.len() + output.stderr.len()
    );
    output
}

/// Listing, operation help, `--mock` and `docs` all end, in time and small, on `spec`;
/// returns the `--mock` answer.
fn every_command_ends(name: &str, spec: Value) -> std::process::Output {
    let sandbox = Sandbox::new();
    let path = sandbox.write(&format!("{name}.json"), &spec.to_string());
    let listing = run(&sandbox, &path, &["hostile"]);
    assert!(
        stdout_of(&listing).contains("makeThing"),
        "{name}: {}",
        stderr_of(&listing)
    );
    let help = run(&sandbox, &path, &["hostile", "makeThing", "--help"]);
    assert!(help.status.success(), "{name}: {}", stderr_of(&help));
    let docs = run(&sandbox, &path, &["docs", "hostile"]);
    assert!(docs.status.success(), "{name}: {}", stderr_of(&docs));
    let mock = run(
        &sandbox,
        &path,
        &[
            "hostile",
            "makeThing",
            "--mock",
            "--no-validate",
            "-d",
            "{}",
        ],
    );
    assert!(mock.status.success(), "{name}: {}", stderr_of(&mock));
    mock
}

#[test]
fn a_billion_character_min_length_gives_a_capped_marked_string() {
    let mock = every_command_ends(
        "min-length",
        spec_with(
            json!({"type": "string", "minLength": 1_000_000_000u64}),
            json!({}),
        ),
    );
    let answer: Value = serde_json::from_slice(&mock.stdout).unwrap();
    let text = answer.as_str().expect("a string answer");
    assert!(text.ends_with('…'), "the cut is marked");
    assert!(
        text.chars().count() <= 1024,
        "{} chars",
        text.chars().count()
    );
    assert!(
        stderr_of(&mock).contains("cut short"),
        "{}",
        stderr_of(&mock)
    );
}

#[test]
fn huge_min_items_min_properties_and_required_lists_stay_small() {
    let required: Vec<String> = (0..50_000).map(|i| format!("field{i}")).collect();
    every_command_ends(
        "sizes",
        spec_with(
            json!({"type": "object", "minProperties": 1_000_000_000u64, "required": required,
                "properties": {"list": {"type": "array", "minItems": 1_000_000_000u64,
                    "items": {"type": "string", "minLength": 100_000}}}}),
            json!({}),
        ),
    );
}

#[test]
fn a_huge_enum_and_a_huge_example_stay_small() {
    let values: Vec<String> = (0..100_000).map(|i| format!("value-{i}")).collect();
    let example: Vec<String> = (0..100_000).map(|i| format!("item-{i}")).collect();
    every_command_ends(
        "enum",
        spec_with(
            json!({"type": "object", "properties": {
                "choice": {"type": "string", "enum": values},
                "list": {"type": "array", "items": {"type": "string"}, "example": example}}}),
            json!({}),
        ),
    );
}

#[test]
fn ref_chains_self_references_and_all_of_fan_out_end() {
    let mut components = serde_json::Map::new();
    // A 50-deep chain of refs.
    for i in 0..50 {
        components.insert(
            format!("Chain{i}"),
            json!({"$ref": format!("#/components/schemas/Chain{}", i + 1)}),
        );
    }
    components.insert("Chain50".into(), json!({"type": "string"}));
    // An allOf that includes itself.
    components.insert(
        "Itself".into(),
        json!({"allOf": [{"$ref": "#/components/schemas/Itself"},
            {"type": "object", "properties": {"me": {"$ref": "#/components/schemas/Itself"}}}]}),
    );
    // Ten levels of ten-way fan-out through allOf and oneOf: 10^10 paths if walked naively.
    for level in 0..10 {
        let next = format!("#/components/schemas/Fan{}", level + 1);
        let branches: Vec<Value> = (0..10).map(|_| json!({"$ref": next})).collect();
        let combinator = if level % 2 == 0 { "allOf" } else { "oneOf" };
        components.insert(format!("Fan{level}"), json!({ combinator: branches }));
    }
    components.insert(
        "Fan10".into(),
        json!({"type": "object", "properties": {"leaf": {"type": "integer"}}}),
    );
    every_command_ends(
        "refs",
        spec_with(
            json!({"type": "object", "properties": {
                "chain": {"$ref": "#/components/schemas/Chain0"},
                "itself": {"$ref": "#/components/schemas/Itself"},
                "fan": {"$ref": "#/components/schemas/Fan0"}}}),
            Value::Object(components),
        ),
    );
}

#[test]
fn catastrophic_patterns_and_extreme_numbers_end() {
    every_command_ends(
        "patterns",
        spec_with(
            json!({"type": "object", "required": ["a", "b", "c", "d"], "properties": {
                "a": {"type": "string", "pattern": "^(x+x+)+y$", "minLength": 40},
                "b": {"type": "string", "pattern": "^(\\w+\\s?)*$(?<=z)", "minLength": 40},
                "c": {"type": "integer", "multipleOf": 1e-300, "minimum": -1e308, "maximum": 1e308},
                "d": {"type": "number", "multipleOf": 7, "minimum": 1e300, "exclusiveMinimum": true}}}),
            json!({}),
        ),
    );
}

#[test]
fn ten_thousand_operations_list_and_document_in_time() {
    let mut paths = serde_json::Map::new();
    for i in 0..10_000 {
        paths.insert(
            format!("/things/{i}"),
            json!({"get": {"operationId": format!("op{i}"), "responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "object",
                    "properties": {"id": {"type": "string"}}}}}}}}}),
        );
    }
    paths.insert(
        "/things".into(),
        json!({"post": {"operationId": "makeThing", "responses": {"204": {"description": "ok"}}}}),
    );
    let spec = json!({"openapi": "3.0.3", "info": {"title": "Many", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}], "paths": paths});
    let sandbox = Sandbox::new();
    let path = sandbox.write("many.json", &spec.to_string());
    let listing = run(&sandbox, &path, &["many"]);
    assert!(stdout_of(&listing).contains("op9999"));
    let help = run(&sandbox, &path, &["many", "op9999", "--help"]);
    assert!(help.status.success(), "{}", stderr_of(&help));
    let mock = run(&sandbox, &path, &["many", "op9999", "--mock"]);
    assert_eq!(stdout_of(&mock).trim(), "{\n  \"id\": \"string\"\n}");
    // Documenting 10,000 operations is real work (2.5 MB of Markdown, a sample and its check
    // per operation): linear, ~1 ms per operation in a debug build, so it gets more time.
    let docs = run_within(Duration::from_secs(60), &sandbox, &path, &["docs", "many"]);
    assert!(docs.status.success(), "{}", stderr_of(&docs));
    assert!(stdout_of(&docs).contains("## op9999"));
}

#[test]
fn absurd_numbers_are_usage_errors_and_nothing_is_sent() {
    let server = Server::json(200, "{}");
    let sandbox = Sandbox::new();
    let cases: &[(&[&str], &str)] = &[
        (&["--timeout", "1e20"], "at most 86400"),
        (&["--timeout", "nan"], "at most 86400"),
        (&["--timeout", "inf"], "at most 86400"),
        (&["--timeout", "-1"], "at most 86400"),
        (&["--timeout=-1"], "at most 86400"),
        (&["--timeout", "0"], "at most 86400"),
        (&["--retries", "99999999999999999999"], "from 0 to 10"),
        (&["--retries", "-1"], "from 0 to 10"),
        (&["--retries", "11"], "from 0 to 10"),
    ];
    for (flag, range) in cases {
        let output = sandbox
            .epilot()
            .args(["user", "getMeV2", "-s", &server.url, "--token", "t-1"])
            .args(*flag)
            .timeout(DEADLINE)
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{flag:?}: {stderr}");
        let name = flag[0].split('=').next().unwrap();
        assert!(
            stderr.contains(name) && stderr.contains(range),
            "{flag:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{flag:?}: {stderr}");
    }
    server.assert_untouched();
    // The largest allowed values are accepted and used.
    let output = sandbox
        .epilot()
        .args(["user", "getMeV2", "-s", &server.url, "--token", "t-1"])
        .args(["--timeout", "86400", "--retries", "10"])
        .timeout(DEADLINE)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(server.single().url, "/v2/users/me");
}

/// Hostile YAML through the binary: each is refused (exit 4, with its position where the
/// parser knows one) or loaded, well within the deadline.
#[test]
fn hostile_yaml_ends_fast() {
    let sandbox = Sandbox::new();
    let flow = format!(
        "openapi: 3.0.0\nx: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mapping = format!(
        "openapi: 3.0.0\nx: {}1{}\n",
        "{a: ".repeat(50_000),
        "}".repeat(50_000)
    );
    let block: String = (0..600).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    let dashes = format!("openapi: 3.0.0\nx:\n{}1\n", "- ".repeat(100_000));
    // Ten levels of ten aliases each: 10^10 values if expanded.
    let laughs: String = (1..10).fold("openapi: 3.0.0\na0: &a0 [lol]\n".to_string(), |text, i| {
        let aliases = vec![format!("*a{}", i - 1); 10].join(", ");
        format!("{text}a{i}: &a{i} [{aliases}]\n")
    });
    for (name, text, expected) in [
        (
            "flow.yaml",
            flow,
            "nested deeper than 128 levels at line 2 column 132",
        ),
        (
            "mapping.yaml",
            mapping,
            "nested deeper than 128 levels at line 2",
        ),
        (
            "block.yaml",
            format!("openapi: 3.0.0\n{block}"),
            "recursion limit exceeded at line",
        ),
        ("dashes.yaml", dashes, "recursion limit exceeded at line 3"),
        (
            "laughs.yaml",
            laughs,
            "is not valid YAML or JSON: repetition limit exceeded",
        ),
    ] {
        let path = sandbox.write(name, &text);
        let output = run(&sandbox, &path, &["x"]);
        assert_eq!(
            output.status.code(),
            Some(4),
            "{name}: {}",
            stderr_of(&output)
        );
        assert!(
            stderr_of(&output).contains(expected),
            "{name}: {}",
            stderr_of(&output)
        );
    }
    let long = format!(
        "openapi: 3.0.0\ninfo: {{title: Long, version: '1'}}\npaths: {{}}\nx: {}\n",
        "a".repeat(10_000_000)
    );
    let path = sandbox.write("long.yaml", &long);
    let output = run(&sandbox, &path, &["x"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
}

/// With `EPILOT_SPEC_CORPUS`, every JSON spec there, written as YAML (under target/, never
/// committed), parses to the very value serde_json reads from the original.
#[test]
#[ignore = "needs the spec corpus: EPILOT_SPEC_CORPUS=<folder>; .ci/run sets it"]
fn the_corpus_as_yaml_parses_to_the_same_documents() {
    let dir = std::env::var_os("EPILOT_SPEC_CORPUS")
        .expect("EPILOT_SPEC_CORPUS names the folder of the spec corpus");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("yaml-corpus");
    std::fs::create_dir_all(&out).unwrap();
    let (mut count, mut bytes, mut spent) = (0, 0, Duration::ZERO);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let yaml = serde_yaml::to_string(&json).unwrap();
        let copy = out.join(path.file_name().unwrap()).with_extension("yaml");
        std::fs::write(&copy, &yaml).unwrap();
        let started = Instant::now();
        let parsed =
            epilot::spec::source::parse_document(&yaml, &epilot::spec::Origin::File(copy.clone()))
                .unwrap_or_else(|e| panic!("{}: {}", copy.display(), e.message));
        spent += started.elapsed();
        assert!(parsed == json, "{} parses differently", copy.display());
        count += 1;
        bytes += yaml.len();
    }
    assert!(count > 0, "no JSON specs in EPILOT_SPEC_CORPUS");
    eprintln!(
        "{count} specs, {:.1} MB of YAML parsed in {spent:?}",
        bytes as f64 / 1e6
    );
}

/// The login callback server: a client that connects first and sends nothing, and one that
/// sends a 10 MB request line, do not hold up the portal's callback; what the callback
/// carries is escaped before it reaches the terminal.
#[test]
fn login_callback_survives_slow_and_huge_clients() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let sandbox = Sandbox::new();
    let mut screen =
        crate::auth::login_on_a_terminal(&sandbox, &["auth", "login", "--timeout", "30"]);
    let (port, state) = crate::auth::wait_for_url(&sandbox);
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Connected before the callback: connecting in the thread raced the login's end, and a
    // refused connection failed the test under load.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let huge = std::thread::spawn(move || {
        let mut sent = 0usize;
        let _ = stream.write_all(b"GET /");
        let chunk = vec![b'a'; 64 * 1024];
        while sent < 10 * 1024 * 1024 {
            match stream.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        (sent, answer)
    });
    let started = Instant::now();
    let status = crate::auth::callback(
        port,
        &format!("token=tok-hostile-1&state={state}&org_id=42&name=Eve%1B%5D0%3Bpwned%07%3Cb%3E"),
    );
    let took = started.elapsed();
    assert_eq!(status, "HTTP/1.1 200 OK");
    // The old server served connections one by one, each allowed 5 s: the silent client
    // alone held the callback up that long.
    assert!(
        took < Duration::from_secs(4),
        "the callback waited {took:?}"
    );
    let (sent, answer) = huge.join().unwrap();
    assert!(
        sent < 10 * 1024 * 1024 || answer.starts_with("HTTP/1.1 431"),
        "the 10 MB request was read whole: {answer:?}"
    );
    drop(silent);
    assert_eq!(screen.exit_code(), 0, "{}", screen.text());
    // What the program wrote, escapes included: the terminal would act on an escape.
    let text = screen.transcript();
    assert!(
        text.contains("logged in as Eve\\u{1b}]0;pwned\\u{7}<b> in organisation 42"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text}");
}
