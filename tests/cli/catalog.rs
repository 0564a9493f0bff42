//! Shell completion (scripts and the engine) and the API catalog: pull with revalidation,
//! add, remove, list, and a broken definition kept away from the others.

use std::process::Command;

use crate::server::{Reply, Server};
use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

fn complete(sandbox: &Sandbox, line: &str) -> Vec<String> {
    let output = sandbox
        .epilot()
        .args(["__complete", "--line", line])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    stdout_of(&output).lines().map(str::to_string).collect()
}

#[test]
fn engine_completes_apis_operations_parameters_and_enum_values() {
    let sandbox = Sandbox::new();
    assert!(complete(&sandbox, "epilot us").contains(&"user".to_string()));
    assert!(
        complete(&sandbox, "epilot ").contains(&"customer-portal".to_string()),
        "catalog APIs too"
    );
    assert!(
        complete(&sandbox, "epilot d").contains(&"definitions".to_string()),
        "built-in commands"
    );
    assert_eq!(complete(&sandbox, "epilot user getUserV"), ["getUserV2"]);
    assert_eq!(
        complete(&sandbox, "epilot user getGroups -p "),
        ["hydrate=", "limit=", "offset=", "query="]
    );
    assert_eq!(
        complete(&sandbox, "epilot user getGroups -p hydrate="),
        ["hydrate=false", "hydrate=true"]
    );
    assert_eq!(
        complete(&sandbox, "epilot user getMe --jso"),
        ["--json", "--jsonata"]
    );
    assert_eq!(
        complete(&sandbox, "epilot user getMe --color a"),
        ["always", "auto"]
    );
    assert_eq!(complete(&sandbox, "epilot completion z"), ["zsh"]);
}

#[test]
fn engine_reads_the_spec_in_force_on_the_same_line() {
    let sandbox = Sandbox::new();
    let spec = fixture("validation-3.0.yaml");
    assert_eq!(
        complete(&sandbox, &format!("epilot v --definition {spec} put")),
        ["putItem"]
    );
    assert_eq!(
        complete(
            &sandbox,
            &format!("epilot v putItem --definition {spec} -p sort=")
        ),
        ["sort=asc", "sort=desc"]
    );
    sandbox.write(
        ".epilot/overrides/user.yaml",
        "openapi: 3.0.0\ninfo: {title: O}\npaths:\n  /x:\n    get: {operationId: overriddenOp, responses: {}}\n",
    );
    assert!(
        complete(&sandbox, "epilot user over").is_empty(),
        "not allowed yet"
    );
    sandbox
        .epilot()
        .args(["definitions", "allow", "user"])
        .assert()
        .success();
    assert_eq!(complete(&sandbox, "epilot user over"), ["overriddenOp"]);
    assert!(
        complete(
            &sandbox,
            "epilot x --definition https://example.invalid/spec.yaml "
        )
        .is_empty(),
        "no network"
    );
}

#[test]
fn engine_completes_file_paths() {
    let sandbox = Sandbox::new();
    sandbox.write("specs/pets.yaml", "x");
    sandbox.write("body.json", "{}");
    assert_eq!(
        complete(&sandbox, "epilot pets --definition sp"),
        ["specs/"]
    );
    assert_eq!(
        complete(&sandbox, "epilot pets --definition specs/"),
        ["specs/pets.yaml"]
    );
    assert_eq!(
        complete(&sandbox, "epilot user createGroup -d @bo"),
        ["@body.json"]
    );
}

#[test]
fn scripts_for_every_shell() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout_of(
            &sandbox
                .epilot()
                .args(["completion", shell])
                .output()
                .unwrap(),
        );
        assert!(
            script.contains("epilot __complete --line"),
            "{shell}: {script}"
        );
    }
    let bash = stdout_of(
        &sandbox
            .epilot()
            .args(["completion", "bash"])
            .output()
            .unwrap(),
    );
    let check = Command::new("bash")
        .arg("-n")
        .arg(sandbox.write("c.bash", &bash))
        .status()
        .unwrap();
    assert!(check.success(), "the bash script parses");
}

#[test]
fn bash_completes_through_the_script_including_words_split_at_equals() {
    let sandbox = Sandbox::new();
    let script = stdout_of(
        &sandbox
            .epilot()
            .args(["completion", "bash"])
            .output()
            .unwrap(),
    );
    let script_path = sandbox.write("epilot.bash", &script);
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_epilot"))
        .parent()
        .unwrap()
        .to_path_buf();
    let run = |line: &str, words: &[&str]| {
        let words_array: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{}'; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; COMP_WORDS=({}); COMP_CWORD={}; _epilot; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script_path.display(),
            words_array.join(" "),
            words.len() - 1
        );
        let output = Command::new("bash")
            .args(["-c", &program])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", sandbox.path())
            .current_dir(sandbox.path())
            .output()
            .unwrap();
        stdout_of(&output)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run("epilot user getGr", &["epilot", "user", "getGr"]),
        ["getGroup", "getGroups", "getGroupsForUser"]
    );
    // bash breaks `hydrate=t` into `hydrate`, `=`, `t`: the reply must replace only `t`.
    assert_eq!(
        run(
            "epilot user getGroups -p hydrate=t",
            &["epilot", "user", "getGroups", "-p", "hydrate", "=", "t"]
        ),
        ["true"]
    );
}

#[test]
fn completion_install_writes_the_script_where_the_shell_looks() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["completion", "--install"])
        .env("SHELL", "/bin/bash")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let target = sandbox
        .path()
        .join(".local/share/bash-completion/completions/epilot");
    assert!(
        stdout_of(&output).contains(&target.display().to_string()),
        "{}",
        stdout_of(&output)
    );
    assert!(std::fs::read_to_string(target).unwrap().contains("_epilot"));
    let fish = sandbox
        .epilot()
        .args(["completion", "fish", "--install"])
        .output()
        .unwrap();
    assert!(
        sandbox
            .path()
            .join("config/fish/completions/epilot.fish")
            .is_file(),
        "{}",
        stdout_of(&fish)
    );
}

const SPEC: &str = "openapi: 3.0.0\ninfo: {title: Entity API}\nservers: [{url: 'https://entity.sls.epilot.io'}]\npaths:\n  /v1/entity:\n    get: {operationId: searchEntities, responses: {'200': {description: ok}}}\n";

#[test]
fn pull_downloads_validates_and_revalidates_with_etags() {
    let server = Server::start(|request| {
        if request.url != "/entity.yaml" {
            return Reply::raw(404, "text/plain", b"no");
        }
        if request.header("if-none-match") == Some("\"v1\"") {
            return Reply::raw(304, "application/yaml", b"");
        }
        let mut reply = Reply::raw(200, "application/yaml", SPEC.as_bytes());
        reply.headers.push(("ETag".into(), "\"v1\"".into()));
        reply
    });
    let sandbox = Sandbox::new();
    let pull = || {
        sandbox
            .epilot()
            .args(["definitions", "pull", "entity"])
            .env("EPILOT_CATALOG_URL", &server.url)
            .output()
            .unwrap()
    };

    let not_yet = sandbox.epilot().arg("entity").output().unwrap();
    assert_eq!(not_yet.status.code(), Some(2));
    assert!(
        stderr_of(&not_yet).contains("epilot definitions pull entity"),
        "{}",
        stderr_of(&not_yet)
    );

    let first = pull();
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert_eq!(stdout_of(&first), "entity: downloaded (1 operations)\n");
    let cached = sandbox.path().join("cache/epilot/definitions/entity.spec");
    assert_eq!(std::fs::read_to_string(&cached).unwrap(), SPEC);

    let second = pull();
    assert_eq!(
        stdout_of(&second),
        "entity: unchanged (kept the cached copy)\n"
    );
    assert_eq!(server.requests()[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        std::fs::read_to_string(&cached).unwrap(),
        SPEC,
        "a 304 keeps the cache"
    );

    drop(server);
    let listing = sandbox.epilot().arg("entity").output().unwrap();
    assert!(
        stdout_of(&listing).contains("searchEntities"),
        "works offline once pulled"
    );
    let list = stdout_of(
        &sandbox
            .epilot()
            .args(["definitions", "list"])
            .output()
            .unwrap(),
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("entity ") && l.contains("cached")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("user ") && l.contains("bundled")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("webhooks ") && l.contains("not yet available")),
        "{list}"
    );
}

#[test]
fn a_broken_download_is_not_kept() {
    let server = Server::start(|_| Reply::raw(200, "application/yaml", b"openapi: [unclosed"));
    let sandbox = Sandbox::new();
    let output = sandbox
        .epilot()
        .args(["definitions", "pull", "entity"])
        .env("EPILOT_CATALOG_URL", &server.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert!(
        stdout_of(&output)
            .contains("entity: failed: entity: the downloaded definition was not kept"),
        "{}",
        stdout_of(&output)
    );
    assert!(!sandbox
        .path()
        .join("cache/epilot/definitions/entity.spec")
        .exists());
}

#[test]
fn add_list_remove_and_a_broken_registered_spec_stays_isolated() {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("mine.yaml", SPEC);
    let added = sandbox
        .epilot()
        .args(["definitions", "add", "mine"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr_of(&added));
    assert!(stdout_of(&added).contains("registered `mine`"));
    assert!(stdout_of(&sandbox.epilot().arg("mine").output().unwrap()).contains("searchEntities"));
    assert!(
        stdout_of(&sandbox.epilot().arg("--help").output().unwrap()).contains("mine"),
        "root help lists it"
    );

    std::fs::write(&spec, "openapi: 3.0.0\npaths: [broken").unwrap();
    let broken = sandbox.epilot().arg("mine").output().unwrap();
    assert_eq!(
        broken.status.code(),
        Some(4),
        "its error shows when it is used"
    );
    assert!(stderr_of(&broken).contains("mine.yaml"));
    for args in [vec!["user"], vec!["--help"], vec!["definitions", "list"]] {
        let output = sandbox.epilot().args(&args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?} still works: {}",
            stderr_of(&output)
        );
    }

    let removed = sandbox
        .epilot()
        .args(["definitions", "remove", "mine"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&removed),
        "removed `mine` from the registered definitions\n"
    );
    assert_eq!(
        sandbox.epilot().arg("mine").output().unwrap().status.code(),
        Some(2)
    );
    let again = sandbox
        .epilot()
        .args(["definitions", "remove", "mine"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn add_refuses_bad_names_and_invalid_documents() {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("bad.yaml", "not: openapi\n");
    let output = sandbox
        .epilot()
        .args(["definitions", "add", "ok-name"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let output = sandbox
        .epilot()
        .args(["definitions", "add", "../x"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!sandbox
        .path()
        .join("config/epilot/definitions.json")
        .exists());
}
