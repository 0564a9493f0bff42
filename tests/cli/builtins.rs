//! Built-in commands are real commands (issue #15): `--help`, `-h` and `epilot help ...` show
//! their help and change nothing; they take only their own flags. And the state files they
//! write survive hand edits, races, kills and planted links (issue #14).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

fn run(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox
        .epilot()
        .env("EPILOT_CREDENTIAL_STORE", "file")
        .args(args)
        .output()
        .unwrap()
}

fn succeeds(sandbox: &Sandbox, args: &[&str]) -> Output {
    let output = run(sandbox, args);
    assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
    output
}

fn config(sandbox: &Sandbox, name: &str) -> PathBuf {
    sandbox.path().join("config/epilot").join(name)
}

/// Every file under `dir` with its bytes, and every folder, so any change shows.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.map(Result::unwrap) {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                found.insert(path.clone(), None);
                pending.push(path);
            } else {
                found.insert(path.clone(), Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

/// A sandbox with something to lose: an active profile with a token, a registered
/// definition, a default token.
fn lived_in() -> Sandbox {
    let sandbox = Sandbox::new();
    succeeds(
        &sandbox,
        &[
            "profile",
            "create",
            "p1",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "tok-p1",
        ],
    );
    succeeds(
        &sandbox,
        &["auth", "token", "tok-default", "--profile", "p1"],
    );
    succeeds(
        &sandbox,
        &["definitions", "add", "pets", &fixture("petstore-3.0.json")],
    );
    sandbox
}

#[test]
fn help_on_every_builtin_command_line_shows_it_and_changes_nothing() {
    let sandbox = lived_in();
    let before = snapshot(sandbox.path());
    let lines = epilot::commands::registry::command_lines();
    assert!(lines.len() > 15, "{lines:?}");
    for line in &lines {
        let usage = format!("Usage: epilot {}", line.join(" "));
        let asked: [Vec<&str>; 3] = [
            [line.as_slice(), &["--help"]].concat(),
            [line.as_slice(), &["-h"]].concat(),
            [&["help"], line.as_slice()].concat(),
        ];
        let mut shown = Vec::new();
        for args in asked {
            let output = run(&sandbox, &args);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{args:?}: {}",
                stderr_of(&output)
            );
            assert!(
                stdout_of(&output).contains(&usage),
                "{args:?}: {}",
                stdout_of(&output)
            );
            assert!(
                stderr_of(&output).is_empty(),
                "{args:?}: {}",
                stderr_of(&output)
            );
            shown.push(output.stdout);
        }
        assert_eq!(shown[0], shown[2], "{line:?}: `help` differs from `--help`");
    }
    // The lines of the issue, with the arguments that used to make them act.
    for args in [
        &["profile", "delete", "p1", "--help"][..],
        &["profile", "create", "x", "--help"],
        &["profile", "update", "p1", "--org-id", "9", "-h"],
        &["profile", "use", "p1", "--help"],
        &["auth", "logout", "--help"],
        &["auth", "logout", "--profile", "p1", "--help"],
        &["auth", "token", "SECRET", "--help"],
        &["definitions", "remove", "pets", "--help"],
        &["completion", "--help"],
        &["completion", "--install", "-h"],
    ] {
        let output = run(&sandbox, args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr_of(&output)
        );
        assert!(stdout_of(&output).contains("Usage: epilot"), "{args:?}");
    }
    assert_eq!(snapshot(sandbox.path()), before, "a --help changed a file");
}

#[test]
fn a_commands_help_documents_its_flags_and_examples() {
    let sandbox = Sandbox::new();
    let help = stdout_of(&succeeds(&sandbox, &["profile", "create", "--help"]));
    for expected in [
        "--server <URL>",
        "--org-id <ID>",
        "--header",
        "--token",
        "Example",
    ] {
        assert!(help.contains(expected), "{expected}: {help}");
    }
    let completion = stdout_of(&succeeds(&sandbox, &["completion", "--help"]));
    assert!(
        !completion.contains("complete -"),
        "the bash script: {completion}"
    );
}

#[test]
fn builtins_refuse_flags_that_mean_nothing_to_them() {
    let sandbox = Sandbox::new();
    for args in [
        &["profile", "list", "--jsonata", "x"][..],
        &["definitions", "list", "--dry-run"],
        &["auth", "status", "--data", "{}"],
        &["docs", "user", "--mock"],
    ] {
        let output = run(&sandbox, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr_of(&output).contains("unexpected argument"),
            "{args:?}: {}",
            stderr_of(&output)
        );
    }
}

#[test]
fn help_names_an_api_or_an_operation_as_well() {
    let sandbox = Sandbox::new();
    let listing = succeeds(&sandbox, &["user", "--help"]);
    assert_eq!(succeeds(&sandbox, &["help", "user"]).stdout, listing.stdout);
    let operation = succeeds(&sandbox, &["user", "getUserV2", "--help"]);
    let via_help = succeeds(&sandbox, &["help", "user", "getUserV2"]);
    assert_eq!(via_help.stdout, operation.stdout);
    let overview = stdout_of(&succeeds(&sandbox, &["help"]));
    for name in epilot::commands::registry::BUILTINS.iter().map(|b| b.name) {
        assert!(
            overview.contains(&format!("\n  {name}")),
            "{name}: {overview}"
        );
    }
}

#[test]
fn a_token_for_a_missing_profile_is_refused_and_not_stored() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["auth", "token", "SECRET", "--profile", "ghost"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("no profile `ghost`"),
        "{}",
        stderr_of(&output)
    );
    let stored = std::fs::read_to_string(config(&sandbox, "credentials.json")).unwrap_or_default();
    assert!(!stored.contains("SECRET"), "{stored}");
}

fn spawn(sandbox: &Sandbox, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_epilot"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.path())
        .env("XDG_CONFIG_HOME", sandbox.path().join("config"))
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .env("EPILOT_CREDENTIAL_STORE", "file")
        .current_dir(sandbox.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn deleting_a_profile_while_its_token_is_stored_leaves_no_orphan_token() {
    let sandbox = Sandbox::new();
    for round in 0..8 {
        succeeds(&sandbox, &["profile", "create", "x"]);
        let secret = format!("SECRET-{round}");
        let delete = spawn(&sandbox, &["profile", "delete", "x"]);
        let token = spawn(&sandbox, &["auth", "token", &secret, "--profile", "x"]);
        delete.wait_with_output().unwrap();
        token.wait_with_output().unwrap();
        let profiles = std::fs::read_to_string(config(&sandbox, "profiles.json")).unwrap();
        let tokens =
            std::fs::read_to_string(config(&sandbox, "credentials.json")).unwrap_or_default();
        if !profiles.contains("\"x\"") {
            assert!(
                !tokens.contains("profile:x"),
                "round {round}: orphan token: {tokens}"
            );
        } else {
            succeeds(&sandbox, &["profile", "delete", "x"]);
        }
    }
}

#[test]
fn a_profiles_file_that_is_not_an_object_is_refused_and_kept() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(config(&sandbox, "")).unwrap();
    std::fs::write(config(&sandbox, "profiles.json"), "[]").unwrap();
    let output = run(&sandbox, &["profile", "create", "a"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("profiles.json is damaged"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        std::fs::read_to_string(config(&sandbox, "profiles.json")).unwrap(),
        "[]"
    );
}

#[test]
fn fields_a_newer_epilot_wrote_survive_a_rewrite() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(config(&sandbox, "")).unwrap();
    std::fs::write(
        config(&sandbox, "profiles.json"),
        r#"{"future": "keepme", "profiles": {"old": {"version": 7}}}"#,
    )
    .unwrap();
    std::fs::write(
        config(&sandbox, "definitions.json"),
        r#"{"definitions": {}, "future": "keepme too"}"#,
    )
    .unwrap();
    succeeds(&sandbox, &["profile", "create", "new"]);
    succeeds(
        &sandbox,
        &["definitions", "add", "pets", &fixture("petstore-3.0.json")],
    );
    let profiles: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config(&sandbox, "profiles.json")).unwrap()).unwrap();
    assert_eq!(profiles["future"], "keepme");
    assert_eq!(profiles["profiles"]["old"]["version"], 7);
    assert!(profiles["profiles"]["new"].is_object());
    let registry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config(&sandbox, "definitions.json")).unwrap())
            .unwrap();
    assert_eq!(registry["future"], "keepme too");
    assert!(registry["definitions"]["pets"].is_string());
}

#[cfg(unix)]
#[test]
fn the_registry_is_private_like_the_other_state_files() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    succeeds(
        &sandbox,
        &["definitions", "add", "pets", &fixture("petstore-3.0.json")],
    );
    let mode = std::fs::metadata(config(&sandbox, "definitions.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_profile_name_that_breaks_the_rule_is_refused_when_read() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(config(&sandbox, "")).unwrap();
    let planted = r#"{"profiles": {"../x": {"server": "http://127.0.0.1:9"}}}"#;
    std::fs::write(config(&sandbox, "profiles.json"), planted).unwrap();
    for args in [&["profile", "list"][..], &["profile", "create", "ok"]] {
        let output = run(&sandbox, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr_of(&output);
        assert!(message.contains("bad profile name"), "{message}");
        assert!(message.contains("`../x`"), "{message}");
    }
    assert_eq!(
        std::fs::read_to_string(config(&sandbox, "profiles.json")).unwrap(),
        planted
    );
}

#[test]
fn temporary_files_a_killed_write_left_are_removed_by_the_next_write() {
    let sandbox = Sandbox::new();
    succeeds(&sandbox, &["profile", "create", "a", "--token", "tok-a"]);
    let dir = config(&sandbox, "");
    let stale = dir.join(".credentials.json.0123456789abcdef0123456789abcdef.tmp");
    let fresh = dir.join(".credentials.json.fedcba9876543210fedcba9876543210.tmp");
    let unrelated = dir.join(".credentials.json.not-ours.tmp");
    for path in [&stale, &fresh, &unrelated] {
        std::fs::write(path, "{\"profile:a\": \"tok-a\"}").unwrap();
    }
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for path in [&stale, &unrelated] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
    }
    succeeds(&sandbox, &["auth", "token", "tok-b", "--profile", "a"]);
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert!(
        fresh.exists(),
        "a write that may still be under way lost its file"
    );
    assert!(unrelated.exists(), "a file epilot did not name was removed");
}

#[cfg(unix)]
#[test]
fn a_planted_lock_link_is_refused_not_followed() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(config(&sandbox, "")).unwrap();
    let target = sandbox.path().join("created");
    std::os::unix::fs::symlink(&target, config(&sandbox, "definitions.json.lock")).unwrap();
    let output = run(
        &sandbox,
        &["definitions", "add", "pets", &fixture("petstore-3.0.json")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("definitions.json.lock"),
        "{}",
        stderr_of(&output)
    );
    assert!(!target.exists(), "the link was followed");
}

#[cfg(unix)]
#[test]
fn with_stdout_closed_nothing_is_changed() {
    let sandbox = Sandbox::new();
    let output = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" profile create z >&-")
        .arg(env!("CARGO_BIN_EXE_epilot"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.path())
        .env("XDG_CONFIG_HOME", sandbox.path().join("config"))
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .env("EPILOT_CREDENTIAL_STORE", "file")
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("stdout is closed"),
        "{}",
        stderr_of(&output)
    );
    assert!(!config(&sandbox, "profiles.json").exists());
}

fn complete(sandbox: &Sandbox, line: &str) -> Vec<String> {
    let output = succeeds(sandbox, &["__complete", "--line", line]);
    stdout_of(&output).lines().map(str::to_string).collect()
}

#[test]
fn completion_offers_the_registry_and_each_commands_own_flags() {
    let sandbox = Sandbox::new();
    succeeds(&sandbox, &["profile", "create", "p1"]);
    let top = complete(&sandbox, "epilot ");
    for builtin in epilot::commands::registry::BUILTINS {
        assert!(
            top.contains(&builtin.name.to_string()),
            "{}: {top:?}",
            builtin.name
        );
    }
    assert_eq!(
        complete(&sandbox, "epilot auth "),
        ["login", "logout", "status", "token"]
    );
    assert_eq!(complete(&sandbox, "epilot profile show "), ["p1"]);
    let flags = complete(&sandbox, "epilot profile create x --");
    assert!(flags.contains(&"--org-id".to_string()), "{flags:?}");
    assert!(!flags.contains(&"--jsonata".to_string()), "{flags:?}");
    assert_eq!(complete(&sandbox, "epilot auth logout --profile "), ["p1"]);
}

#[test]
fn a_new_profile_never_inherits_a_token_left_under_its_name() {
    let sandbox = Sandbox::new();
    succeeds(
        &sandbox,
        &["profile", "create", "seed", "--token", "tok-seed"],
    );
    // As a crash or an older epilot could leave it: a token whose profile is gone.
    let tokens = config(&sandbox, "credentials.json");
    let mut stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&tokens).unwrap()).unwrap();
    stored["profile:x"] = "ORPHAN".into();
    std::fs::write(&tokens, stored.to_string()).unwrap();
    assert!(std::fs::read_to_string(&tokens).unwrap().contains("ORPHAN"));
    succeeds(&sandbox, &["profile", "create", "x"]);
    let shown = stdout_of(&succeeds(&sandbox, &["profile", "show", "x"]));
    assert!(shown.contains("token: (none stored)"), "{shown}");
}

#[test]
fn the_profile_flag_of_auth_may_stand_anywhere_on_the_line() {
    let sandbox = Sandbox::new();
    succeeds(&sandbox, &["profile", "create", "p1"]);
    succeeds(&sandbox, &["profile", "create", "p2"]);
    for args in [
        &["--profile", "p2", "auth", "token", "tok-2"][..],
        &["auth", "--profile", "p2", "token", "tok-2"],
        &["auth", "token", "tok-2", "--profile", "p2"],
    ] {
        let output = stdout_of(&succeeds(&sandbox, args));
        assert!(output.contains("profile `p2`"), "{args:?}: {output}");
    }
    let status = stdout_of(&succeeds(&sandbox, &["--profile", "p2", "auth", "status"]));
    assert!(status.contains("profile: p2"), "{status}");
}

#[test]
fn help_asked_of_help_shows_the_help_of_help() {
    let sandbox = Sandbox::new();
    for args in [&["help", "help"][..], &["help", "--help"], &["help", "-h"]] {
        let output = succeeds(&sandbox, args);
        let out = stdout_of(&output);
        assert!(
            out.contains("Usage: epilot help [<command>...]"),
            "{args:?}: {out}"
        );
        assert!(stderr_of(&output).is_empty(), "{args:?}");
    }
    // A help flag after the words it asks about means the same as without it.
    for (args, wanted) in [
        (&["help", "user", "--help"][..], "getMeV2"),
        (&["help", "user", "getMeV2", "-h"], "epilot user getMeV2"),
        (
            &["help", "definitions", "pull", "--help"],
            "epilot definitions pull",
        ),
    ] {
        let output = succeeds(&sandbox, args);
        assert!(stdout_of(&output).contains(wanted), "{args:?}");
    }
}

#[test]
fn pull_refuses_names_together_with_all_and_fetches_nothing() {
    let catalog = crate::server::Server::json(200, "{}");
    let sandbox = Sandbox::new();
    for args in [
        &["definitions", "pull", "user", "--all"][..],
        &["definitions", "pull", "--all", "user"],
    ] {
        let output = sandbox
            .epilot()
            .env("EPILOT_CATALOG_URL", &catalog.url)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr_of(&output).contains("cannot be used with"),
            "{args:?}"
        );
    }
    catalog.assert_untouched();
    assert!(!sandbox.path().join("cache").exists());
}
