//! Profiles, tokens and the registry are never lost (issue #14): parallel writers all land,
//! a state file that cannot be read is an error and is never overwritten, a keychain that does
//! not answer is an error rather than a hang, and without HOME nothing is written into the
//! working directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

/// The binary as a plain process (assert_cmd cannot spawn), in the sandbox's environment, with
/// tokens in the private file as on CI.
fn spawn(sandbox: &Sandbox, args: &[&str]) -> Child {
    sandbox
        .process()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn config(sandbox: &Sandbox, name: &str) -> PathBuf {
    sandbox.path().join("config/epilot").join(name)
}

fn stored_tokens(sandbox: &Sandbox) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(config(sandbox, "credentials.json")).unwrap()).unwrap()
}

/// Starts every command at once and waits for all; each must succeed.
fn all_at_once(sandbox: &Sandbox, commands: &[Vec<String>]) {
    let children: Vec<Child> = commands
        .iter()
        .map(|args| {
            spawn(
                sandbox,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        })
        .collect();
    for (args, child) in commands.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
    }
}

#[test]
fn twenty_parallel_profile_creates_keep_twenty_profiles_and_tokens() {
    let sandbox = Sandbox::new();
    let commands: Vec<Vec<String>> = (0..20)
        .map(|n| {
            [
                "profile",
                "create",
                &format!("p{n}"),
                "--token",
                &format!("t{n}"),
            ]
            .map(String::from)
            .to_vec()
        })
        .collect();
    all_at_once(&sandbox, &commands);

    let listed = stdout_of(&sandbox.run(&["profile", "list"]));
    assert_eq!(listed.lines().count(), 20, "{listed}");
    let tokens = stored_tokens(&sandbox);
    for n in 0..20 {
        assert!(listed.contains(&format!(" p{n} ")), "p{n} in {listed}");
        assert_eq!(tokens[format!("profile:p{n}")], format!("t{n}"), "{tokens}");
    }
    assert_eq!(
        listed.lines().filter(|l| l.starts_with('*')).count(),
        1,
        "exactly one became active: {listed}"
    );
}

#[test]
fn parallel_token_stores_and_deletes_keep_each_others_changes() {
    let sandbox = Sandbox::new();
    for n in 0..10 {
        let created = sandbox.run(&["profile", "create", &format!("d{n}"), "--token", "x"]);
        assert!(created.status.success(), "{}", stderr_of(&created));
    }
    // Ten deletes race ten token stores on the same credentials file.
    let commands: Vec<Vec<String>> = (0..10)
        .flat_map(|n| {
            [
                ["profile", "delete", &format!("d{n}")]
                    .map(String::from)
                    .to_vec(),
                [
                    "profile",
                    "create",
                    &format!("k{n}"),
                    "--token",
                    &format!("k{n}"),
                ]
                .map(String::from)
                .to_vec(),
            ]
        })
        .collect();
    all_at_once(&sandbox, &commands);

    let tokens = stored_tokens(&sandbox);
    let expected: serde_json::Map<String, serde_json::Value> = (0..10)
        .map(|n| (format!("profile:k{n}"), format!("k{n}").into()))
        .collect();
    assert_eq!(tokens, serde_json::Value::Object(expected));
    let listed = stdout_of(&sandbox.run(&["profile", "list"]));
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l[2..].split_whitespace().next())
        .collect();
    assert_eq!(names, (0..10).map(|n| format!("k{n}")).collect::<Vec<_>>());
}

#[test]
fn twenty_parallel_definitions_adds_keep_twenty_registrations() {
    let sandbox = Sandbox::new();
    let spec = fixture("petstore-3.0.json");
    let commands: Vec<Vec<String>> = (0..20)
        .map(|n| {
            ["definitions", "add", &format!("api{n}"), &spec]
                .map(String::from)
                .to_vec()
        })
        .collect();
    all_at_once(&sandbox, &commands);

    let registry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config(&sandbox, "definitions.json")).unwrap())
            .unwrap();
    let names: Vec<&String> = registry["definitions"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names.len(), 20, "{registry}");
    let listed = stdout_of(&sandbox.run(&["definitions", "list"]));
    assert!(
        (0..20).all(|n| listed.contains(&format!("api{n} "))),
        "{listed}"
    );
}

/// Runs `args` against state that cannot be read: it must fail naming `file`, exit 2.
fn refused(sandbox: &Sandbox, args: &[&str], file: &str, why: &str) {
    let output = sandbox.run(args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(file) && stderr.contains(why),
        "{args:?}: {stderr}"
    );
}

#[test]
fn a_profiles_file_that_cannot_be_read_is_an_error_and_is_never_overwritten() {
    let sandbox = Sandbox::new();
    let file = config(&sandbox, "profiles.json");
    // A folder in its place: unreadable for every user, root included (CI runs as root).
    std::fs::create_dir_all(file.join("kept")).unwrap();
    for args in [
        &["profile", "list"][..],
        &["profile", "create", "dev", "--token", "t"],
        &["profile", "use", "dev"],
        &["profile", "delete", "dev"],
    ] {
        refused(&sandbox, args, &file.display().to_string(), "cannot read");
    }
    assert!(file.join("kept").is_dir(), "left as it was");
    assert!(
        !config(&sandbox, "credentials.json").exists(),
        "a failed create stores no token"
    );
}

#[test]
fn a_damaged_profiles_file_is_an_error_and_is_kept_byte_for_byte() {
    let sandbox = Sandbox::new();
    let file = config(&sandbox, "profiles.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let damaged = b"{\"profiles\": {\"prod\": {\"server\": \"https://prod.example\"}";
    std::fs::write(&file, damaged).unwrap();
    let output = sandbox.run(&["profile", "create", "dev"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("profiles.json is damaged"), "{stderr}");
    assert!(
        stderr.contains("help:") && stderr.contains(".bak"),
        "{stderr}"
    );
    refused(
        &sandbox,
        &["profile", "list"],
        "profiles.json",
        "is damaged",
    );
    assert_eq!(std::fs::read(&file).unwrap(), damaged);
}

#[cfg(unix)]
#[test]
fn a_profiles_file_without_read_permission_is_an_error_for_a_normal_user() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: root reads files whatever their mode (the folder case covers root)");
        return;
    }
    let sandbox = Sandbox::new();
    let created = sandbox.run(&["profile", "create", "prod", "--server", "https://p.example"]);
    assert!(created.status.success(), "{}", stderr_of(&created));
    let file = config(&sandbox, "profiles.json");
    let before = std::fs::read(&file).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    refused(
        &sandbox,
        &["profile", "list"],
        "profiles.json",
        "Permission denied",
    );
    refused(
        &sandbox,
        &["profile", "create", "dev"],
        "profiles.json",
        "Permission denied",
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn a_credentials_file_that_cannot_be_read_is_an_error_and_is_never_overwritten() {
    let sandbox = Sandbox::new();
    let file = config(&sandbox, "credentials.json");
    std::fs::create_dir_all(file.join("kept")).unwrap();
    refused(
        &sandbox,
        &["auth", "token", "new-token"],
        "credentials.json",
        "cannot read",
    );
    assert!(file.join("kept").is_dir());

    std::fs::remove_dir_all(&file).unwrap();
    let damaged = b"{\"default\": \"old-tok";
    std::fs::write(&file, damaged).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    refused(
        &sandbox,
        &["auth", "token", "new-token"],
        "credentials.json",
        "is damaged",
    );
    refused(
        &sandbox,
        &["auth", "logout"],
        "credentials.json",
        "is damaged",
    );
    assert_eq!(std::fs::read(&file).unwrap(), damaged);
}

#[test]
fn a_damaged_registry_refuses_changes_and_is_kept_byte_for_byte() {
    let sandbox = Sandbox::new();
    let file = config(&sandbox, "definitions.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let damaged = b"{\"definitions\": {\"mine\": \"/somewhere/mine.yaml\"";
    std::fs::write(&file, damaged).unwrap();
    let spec = fixture("petstore-3.0.json");
    refused(
        &sandbox,
        &["definitions", "add", "pets", &spec],
        "definitions.json",
        "is damaged",
    );
    refused(
        &sandbox,
        &["definitions", "remove", "mine"],
        "definitions.json",
        "is damaged",
    );
    assert_eq!(std::fs::read(&file).unwrap(), damaged);
}

/// A fake Secret Service: a D-Bus socket that takes connections and never answers, as a
/// stuck keychain daemon would.
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_that_does_not_answer_is_an_error_within_the_time_limit() {
    let sandbox = Sandbox::new();
    let socket = sandbox.path().join("bus");
    let bus = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    bus.set_nonblocking(true).unwrap();
    let started = std::time::Instant::now();
    let output = sandbox
        .epilot()
        .env("EPILOT_CREDENTIAL_STORE", "keyring")
        .env("EPILOT_KEYRING_TIMEOUT_MS", "300")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        )
        .args(["auth", "token", "tok-123"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the system keychain did not answer within 300 ms"),
        "{stderr}"
    );
    assert!(stderr.contains("EPILOT_CREDENTIAL_STORE=file"), "{stderr}");
    assert!(
        bus.accept().is_ok(),
        "the keychain client reached the silent daemon"
    );
    // libdbus itself would wait 25 s for the silent daemon; the limit ended it well before.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(!stderr.contains("tok-123") && !stdout_of(&output).contains("tok-123"));
}

/// The working directory of a run without HOME: a folder of its own, to check it stays empty.
fn working_dir(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn without_home_state_goes_to_xdg_folders_and_never_into_the_working_directory() {
    let sandbox = Sandbox::new();
    let work = working_dir(&sandbox);
    let output = sandbox
        .epilot()
        .env_remove("HOME")
        .env("EPILOT_CREDENTIAL_STORE", "file")
        .current_dir(&work)
        .args(["profile", "create", "dev", "--token", "t"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(config(&sandbox, "profiles.json").is_file());
    assert!(config(&sandbox, "credentials.json").is_file());
    assert_eq!(entries(&work), Vec::<String>::new());
}

#[test]
fn without_home_the_account_home_is_read_never_the_working_directory() {
    let sandbox = Sandbox::new();
    let work = working_dir(&sandbox);
    // What the old fallback to `.` read: a profile planted in the working directory.
    std::fs::create_dir_all(work.join(".config/epilot")).unwrap();
    std::fs::write(
        work.join(".config/epilot/profiles.json"),
        r#"{"profiles": {"planted": {"server": "https://planted.example"}}}"#,
    )
    .unwrap();
    // Reading only: with HOME and XDG unset, the account's real home is used.
    let output = sandbox
        .epilot()
        .env_remove("HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .current_dir(&work)
        .args(["profile", "list"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        !stdout_of(&output).contains("planted"),
        "{}",
        stdout_of(&output)
    );
    assert_eq!(entries(&work), [".config"]);
}

/// Run as a user with no passwd entry (possible when the tests run as root, as on CI): with no
/// HOME either, there is no home folder, and epilot refuses instead of using the working
/// directory.
#[cfg(unix)]
#[test]
fn without_any_home_folder_epilot_refuses_and_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root can run a command as a user without a passwd entry");
        return;
    }
    // SAFETY: getpwuid returns null or a pointer into static storage, used only for the check.
    let unknown = (54_321..60_000)
        .find(|&uid| unsafe { libc::getpwuid(uid) }.is_null())
        .expect("a uid without a passwd entry");
    let sandbox = Sandbox::new();
    let work = working_dir(&sandbox);
    for dir in [sandbox.path(), work.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_epilot"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EPILOT_CREDENTIAL_STORE", "file")
        .current_dir(&work)
        .uid(unknown)
        .args(["profile", "create", "dev", "--token", "t"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot find your home folder"), "{stderr}");
    assert!(stderr.contains("help: set HOME"), "{stderr}");
    assert_eq!(entries(&work), Vec::<String>::new());
}
