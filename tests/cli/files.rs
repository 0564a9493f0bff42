//! Files epilot reads and writes on the user's behalf: names that become paths stay inside
//! epilot's folders, override files take effect only once allowed (like direnv's `.envrc`),
//! and `completion --install` edits the start-up file where it really lives, keeping its mode.

use std::path::Path;

use crate::server::{Reply, Server};
use crate::util::{fixture, stderr_of, stdout_of, Sandbox};

const NOT_ALLOWED: &str = "note: ./.epilot/overrides/user.yaml is not allowed; run `epilot definitions allow user` to use it\n";
const IN_FORCE: &str = "note: using the override ./.epilot/overrides/user.yaml\n";

fn override_spec(server: &str, operation: &str) -> String {
    format!(
        "openapi: 3.0.0\ninfo: {{title: Overridden users}}\nservers: [{{url: '{server}'}}]\npaths:\n  /only:\n    get: {{operationId: {operation}, responses: {{'200': {{description: ok}}}}}}\n"
    )
}

fn assert_bad_name(output: &std::process::Output, name: &str) {
    let stderr = stderr_of(output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("`{name}` is not a valid")) && stderr.contains("1 to 64 letters"),
        "{stderr}"
    );
}

// ---- names ----

#[test]
fn definitions_remove_cannot_delete_files_outside_the_cache() {
    let sandbox = Sandbox::new();
    let spec = sandbox.write("x/important.spec", "keep me");
    let meta = sandbox.write("x/important.meta.json", "keep me too");
    let output = sandbox.run(&["definitions", "remove", "../../../x/important"]);
    assert_bad_name(&output, "../../../x/important");
    assert_eq!(std::fs::read_to_string(spec).unwrap(), "keep me");
    assert_eq!(std::fs::read_to_string(meta).unwrap(), "keep me too");
}

#[test]
fn an_api_name_cannot_read_a_document_outside_the_cache() {
    let sandbox = Sandbox::new();
    // Where `<cache>/definitions/../../x.spec` leads.
    sandbox.write(
        "cache/x.spec",
        &override_spec("http://127.0.0.1:9", "outsideOperation"),
    );
    for args in [
        &["../../x"][..],
        &["../../x", "outsideOperation"],
        &["docs", "../../x"],
    ] {
        let output = sandbox.run(args);
        assert_bad_name(&output, "../../x");
        assert!(stdout_of(&output).is_empty(), "{args:?}");
    }
}

#[test]
fn every_name_that_becomes_a_path_follows_one_rule() {
    let server = Server::start(|_| Reply::raw(200, "text/plain", b"openapi: 3.0.0"));
    let sandbox = Sandbox::new();
    let spec = fixture("petstore-3.0.json");
    let long = "a".repeat(65);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["definitions", "add", "../x", &spec], "../x"),
        (vec!["definitions", "add", ".hidden", &spec], ".hidden"),
        (vec!["definitions", "add", &long, &spec], &long),
        (vec!["definitions", "pull", "entity", "../x"], "../x"),
        (vec!["definitions", "allow", "a..b"], "a..b"),
        (vec!["definitions", "revoke", ".hidden"], ".hidden"),
        (vec!["profile", "create", "../x"], "../x"),
        (vec!["profile", "create", "a..b"], "a..b"),
        (vec!["a\tb"], "a\\tb"),
        (vec!["x/y", "--definition", &spec], "x/y"),
    ];
    for (args, shown) in cases {
        let output = sandbox
            .epilot()
            .args(&args)
            .env("EPILOT_CATALOG_URL", &server.url)
            .output()
            .unwrap();
        assert_bad_name(&output, shown);
    }
    assert!(server.requests().is_empty(), "nothing was downloaded");
    assert!(
        !sandbox.path().join("config").exists(),
        "nothing was written"
    );
    assert!(
        !sandbox.path().join("cache").exists(),
        "nothing was written"
    );
}

// ---- overrides need allowing ----

#[test]
fn an_override_is_ignored_until_allowed_then_used_with_a_note_on_every_call() {
    let server = Server::start(|_| Reply::json(200, r#"{"ok":true}"#));
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/user.yaml",
        &override_spec(&server.url, "onlyOne"),
    );

    let ignored = sandbox.run(&["user"]);
    assert!(ignored.status.success());
    assert_eq!(stderr_of(&ignored), NOT_ALLOWED);
    assert!(stdout_of(&ignored).contains("getUserV2"), "the bundled API");
    let refused = sandbox.run(&["user", "onlyOne"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr_of(&refused).starts_with(NOT_ALLOWED));
    assert!(server.requests().is_empty());

    let allowed = sandbox.run(&["definitions", "allow", "user"]);
    assert!(allowed.status.success(), "{}", stderr_of(&allowed));
    assert!(
        stdout_of(&allowed).starts_with("allowed ./.epilot/overrides/user.yaml (sha256 "),
        "{}",
        stdout_of(&allowed)
    );
    for _ in 0..2 {
        let output = sandbox.run(&["user", "onlyOne"]);
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert_eq!(stderr_of(&output), IN_FORCE);
        assert_eq!(stdout_of(&output), "{\n  \"ok\": true\n}\n");
    }
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.requests()[0].url, "/only");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let record = sandbox.path().join("config/epilot/allowed-overrides.json");
        let mode = std::fs::metadata(&record).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_changed_override_needs_allowing_again() {
    let sandbox = Sandbox::new();
    let path = sandbox.write(
        ".epilot/overrides/user.yaml",
        &override_spec("http://127.0.0.1:9", "first"),
    );
    assert!(sandbox
        .run(&["definitions", "allow", "user"])
        .status
        .success());
    assert!(stdout_of(&sandbox.run(&["user"])).contains("first"));

    std::fs::write(&path, override_spec("http://127.0.0.1:9", "second")).unwrap();
    let changed = sandbox.run(&["user"]);
    assert_eq!(
        stderr_of(&changed),
        "note: ./.epilot/overrides/user.yaml changed since it was allowed; run `epilot definitions allow user` to use it\n"
    );
    let listing = stdout_of(&changed);
    assert!(listing.contains("getUserV2") && !listing.contains("second"));

    assert!(sandbox
        .run(&["definitions", "allow", "user"])
        .status
        .success());
    let again = sandbox.run(&["user"]);
    assert_eq!(stderr_of(&again), IN_FORCE);
    assert!(stdout_of(&again).contains("second"));
}

#[cfg(unix)]
#[test]
fn an_override_that_is_a_link_is_bound_to_the_file_it_leads_to() {
    let sandbox = Sandbox::new();
    let spec = override_spec("http://127.0.0.1:9", "viaLinkA");
    let first = sandbox.write("elsewhere/a.yaml", &spec);
    let same_content = sandbox.write("elsewhere/copy.yaml", &spec);
    let other_content = sandbox.write(
        "elsewhere/b.yaml",
        &override_spec("http://127.0.0.1:9", "viaLinkB"),
    );
    std::fs::create_dir_all(sandbox.path().join(".epilot/overrides")).unwrap();
    let link = sandbox.path().join(".epilot/overrides/user.yaml");
    let point_at = |target: &Path| {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).unwrap();
    };
    point_at(&first);
    assert_eq!(stderr_of(&sandbox.run(&["user"])), NOT_ALLOWED);
    assert!(sandbox
        .run(&["definitions", "allow", "user"])
        .status
        .success());
    let used = sandbox.run(&["user"]);
    assert_eq!(stderr_of(&used), IN_FORCE);
    assert!(stdout_of(&used).contains("viaLinkA"));
    let list = stdout_of(&sandbox.run(&["definitions", "allow", "--list"]));
    let real = std::fs::canonicalize(&first).unwrap();
    assert!(
        list.starts_with(&format!("{}  sha256 ", real.display())),
        "the file's real location is recorded: {list}"
    );

    // The same content in another file is another file: it needs allowing again.
    point_at(&same_content);
    let relinked = sandbox.run(&["user"]);
    assert_eq!(stderr_of(&relinked), NOT_ALLOWED);
    assert!(!stdout_of(&relinked).contains("viaLinkA"));
    point_at(&other_content);
    let relinked = sandbox.run(&["user"]);
    assert_eq!(stderr_of(&relinked), NOT_ALLOWED);
    assert!(!stdout_of(&relinked).contains("viaLinkB"));
    point_at(&first);
    assert_eq!(stderr_of(&sandbox.run(&["user"])), IN_FORCE);
}

#[test]
fn an_override_that_is_a_folder_is_no_override() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join(".epilot/overrides/user.yaml")).unwrap();
    let output = sandbox.run(&["user"]);
    assert!(output.status.success());
    assert_eq!(stderr_of(&output), "");
    assert!(stdout_of(&output).contains("getUserV2"));
    let allow = sandbox.run(&["definitions", "allow", "user"]);
    assert_eq!(allow.status.code(), Some(2));
    assert!(stderr_of(&allow).contains("there is no override for `user`"));
}

#[test]
fn an_allowance_belongs_to_one_folder() {
    let sandbox = Sandbox::new();
    let spec = override_spec("http://127.0.0.1:9", "fromA");
    sandbox.write("a/.epilot/overrides/user.yaml", &spec);
    sandbox.write("b/.epilot/overrides/user.yaml", &spec);
    let in_dir = |dir: &str, args: &[&str]| {
        sandbox
            .epilot()
            .current_dir(sandbox.path().join(dir))
            .args(args)
            .output()
            .unwrap()
    };
    assert!(in_dir("a", &["definitions", "allow"]).status.success());
    assert_eq!(stderr_of(&in_dir("a", &["user"])), IN_FORCE);
    let other = in_dir("b", &["user"]);
    assert_eq!(
        stderr_of(&other),
        NOT_ALLOWED,
        "same content, another folder"
    );
    assert!(!stdout_of(&other).contains("fromA"));
}

#[test]
fn allow_takes_a_file_lists_and_revokes() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/user.yaml",
        &override_spec("http://127.0.0.1:9", "onlyOne"),
    );
    let allow = sandbox.run(&["definitions", "allow", "./.epilot/overrides/user.yaml"]);
    assert!(allow.status.success(), "{}", stderr_of(&allow));
    let list = stdout_of(&sandbox.run(&["definitions", "allow", "--list"]));
    let real = std::fs::canonicalize(sandbox.path()).unwrap();
    assert!(
        list.starts_with(&format!(
            "{}  sha256 ",
            real.join(".epilot/overrides/user.yaml").display()
        )),
        "{list}"
    );
    sandbox.write("user", "a stray file named like the API");
    let revoke = sandbox.run(&["definitions", "revoke", "user"]);
    assert_eq!(
        stdout_of(&revoke),
        "revoked ./.epilot/overrides/user.yaml\n"
    );
    assert_eq!(stderr_of(&sandbox.run(&["user"])), NOT_ALLOWED);
    assert_eq!(
        stdout_of(&sandbox.run(&["definitions", "allow", "--list"])),
        "no override is allowed\n"
    );
    let listing = stdout_of(&sandbox.run(&["definitions", "list"]));
    assert!(listing.ends_with(NOT_ALLOWED), "{listing}");

    let not_an_override = sandbox.write("spec\u{1b}[2J.yaml", "openapi: 3.0.0\n");
    let refused = sandbox
        .epilot()
        .args(["definitions", "allow"])
        .arg(&not_an_override)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = stderr_of(&refused);
    assert!(
        stderr.contains("is not an override file") && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
}

#[test]
fn allow_refuses_a_document_it_cannot_read() {
    let sandbox = Sandbox::new();
    sandbox.write(".epilot/overrides/user.yaml", "not: openapi\n");
    let output = sandbox.run(&["definitions", "allow", "user"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(stderr_of(&output).contains("./.epilot/overrides/user.yaml was not allowed"));
    assert!(!sandbox
        .path()
        .join("config/epilot/allowed-overrides.json")
        .exists());
}

#[test]
fn a_damaged_allowance_file_is_an_error_naming_it_and_never_written_over() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/user.yaml",
        &override_spec("http://127.0.0.1:9", "onlyOne"),
    );
    let record = sandbox.write("config/epilot/allowed-overrides.json", "{garbage");
    for args in [
        &["definitions", "allow", "user"][..],
        &["definitions", "allow"],
        &["definitions", "revoke", "user"],
        &["definitions", "allow", "--list"],
        &["user"],
    ] {
        let output = sandbox.run(args);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("allowed-overrides.json is damaged") && stderr.contains(".bak"),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&record).unwrap(), "{garbage");
    }
    let listing = stdout_of(&sandbox.run(&["definitions", "list"]));
    assert!(
        listing.contains("note: ") && listing.contains("allowed-overrides.json is damaged"),
        "{listing}"
    );
}

#[test]
fn a_damaged_registry_is_refused_by_add_and_named_by_list() {
    let sandbox = Sandbox::new();
    let registry = sandbox.write("config/epilot/definitions.json", "{garbage");
    let added = sandbox.run(&["definitions", "add", "pets", &fixture("petstore-3.0.json")]);
    assert_eq!(added.status.code(), Some(2));
    assert!(stderr_of(&added).contains("definitions.json is damaged"));
    assert_eq!(std::fs::read_to_string(&registry).unwrap(), "{garbage");
    let listing = sandbox.run(&["definitions", "list"]);
    assert!(
        stdout_of(&listing).contains("note: ")
            && stdout_of(&listing).contains("definitions.json is damaged"),
        "{}",
        stdout_of(&listing)
    );
}

#[test]
fn several_override_files_for_one_api_are_refused_not_ranked() {
    let server = Server::start(|_| Reply::json(200, r#"{"ok":true}"#));
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/user.json",
        &override_spec(&server.url, "fromJson"),
    );
    assert!(sandbox
        .run(&["definitions", "allow", "user"])
        .status
        .success());
    // Another file for the same API arrives (a `git pull`): neither is used any more.
    sandbox.write(
        ".epilot/overrides/user.yaml",
        &override_spec(&server.url, "fromYaml"),
    );
    let both = "./.epilot/overrides/user.json, ./.epilot/overrides/user.yaml";
    let several = format!("several override files for `user`: {both}; epilot uses none of them");
    for args in [
        &["user", "fromJson"][..],
        &["user", "fromYaml"],
        &["definitions", "allow", "./.epilot/overrides/user.yaml"],
        &["definitions", "allow", "user"],
        &["definitions", "allow"],
    ] {
        let output = sandbox.run(args);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&several), "{args:?}: {stderr}");
        assert!(stdout_of(&output).is_empty(), "{args:?}");
    }
    assert!(server.requests().is_empty());
    let list = stdout_of(&sandbox.run(&["definitions", "allow", "--list"]));
    assert_eq!(
        list.lines().count(),
        1,
        "the yaml was never allowed: {list}"
    );
    let listing = stdout_of(&sandbox.run(&["definitions", "list"]));
    assert!(listing.contains(&several), "{listing}");

    let revoked = sandbox.run(&["definitions", "revoke", "user"]);
    assert_eq!(
        stdout_of(&revoked),
        "revoked ./.epilot/overrides/user.json\nwas not allowed: ./.epilot/overrides/user.yaml\n"
    );
    std::fs::remove_file(sandbox.path().join(".epilot/overrides/user.json")).unwrap();
    let allowed = sandbox.run(&["definitions", "allow", "user"]);
    assert!(allowed.status.success(), "{}", stderr_of(&allowed));
    let used = sandbox.run(&["user", "fromYaml"]);
    assert!(used.status.success(), "{}", stderr_of(&used));
    assert_eq!(server.requests().len(), 1);
}

#[cfg(unix)]
#[test]
fn a_linked_config_folder_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/user.yaml",
        &override_spec("http://127.0.0.1:9", "onlyOne"),
    );
    let victim = foreign_folder(&sandbox.path().join("victim"));
    std::fs::create_dir(sandbox.path().join("config")).unwrap();
    let link = sandbox.path().join("config/epilot");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let spec = fixture("petstore-3.0.json");
    for args in [
        &["definitions", "allow", "user"][..],
        &["definitions", "add", "pets", &spec],
        &["profile", "create", "work"],
    ] {
        let output = sandbox.run(args);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{} is a link to a folder that is not yours alone, not a folder",
                link.display()
            )),
            "{args:?}: {stderr}"
        );
    }
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "no chmod through the link");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn a_pulled_definition_is_never_written_through_a_linked_cache_folder() {
    let spec = override_spec("http://127.0.0.1:9", "pulledOp");
    let server = Server::start(move |_| Reply::raw(200, "application/yaml", spec.as_bytes()));
    let sandbox = Sandbox::new();
    let victim = foreign_folder(&sandbox.path().join("victim"));
    std::fs::create_dir_all(sandbox.path().join("cache/epilot")).unwrap();
    let link = sandbox.path().join("cache/epilot/definitions");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let output = sandbox
        .epilot()
        .args(["definitions", "pull", "entity"])
        .env("EPILOT_CATALOG_URL", &server.url)
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    assert_ne!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{} is a link to a folder that is not yours alone, not a folder",
            link.display()
        )),
        "{stdout}{}",
        stderr_of(&output)
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
}

#[test]
fn an_unknown_api_with_an_override_says_how_to_allow_it() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".epilot/overrides/mine.yml",
        &override_spec("http://127.0.0.1:9", "mineOp"),
    );
    let output = sandbox.run(&["mine"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("unknown API `mine`")
            && stderr.contains(
                "note: ./.epilot/overrides/mine.yml is not allowed; run `epilot definitions allow mine` to use it"
            ),
        "{stderr}"
    );
    assert!(sandbox
        .run(&["definitions", "allow", "mine"])
        .status
        .success());
    let used = sandbox.run(&["mine"]);
    assert!(stdout_of(&used).contains("mineOp"), "{}", stderr_of(&used));
}

// ---- completion --install ----

fn install(sandbox: &Sandbox, shell: &str) -> crate::util::Run {
    let output = sandbox.run(&["completion", shell, "--install"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    output
}

const ZSH_LINE: &str = "fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit";

#[cfg(unix)]
#[test]
fn completion_install_edits_a_linked_zshrc_where_it_lives() {
    let sandbox = Sandbox::new();
    let real = sandbox.write("dotfiles/zshrc", "export A=1");
    let link = sandbox.path().join(".zshrc");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    install(&sandbox, "zsh");
    let second = install(&sandbox, "zsh");
    assert!(stdout_of(&second).contains("already loads it"));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), real);
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        format!("export A=1\n# epilot completion\n{ZSH_LINE}\n")
    );
}

#[cfg(unix)]
#[test]
fn completion_install_keeps_the_mode_and_bytes_of_the_startup_file() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o600, 0o640] {
        let sandbox = Sandbox::new();
        let rc = sandbox.path().join(".zshrc");
        std::fs::write(&rc, b"alias x=\xff\n").unwrap();
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(mode)).unwrap();
        install(&sandbox, "zsh");
        install(&sandbox, "zsh");
        let kept = std::fs::metadata(&rc).unwrap().permissions().mode() & 0o777;
        assert_eq!(kept, mode);
        let mut expected = b"alias x=\xff\n".to_vec();
        expected.extend_from_slice(format!("# epilot completion\n{ZSH_LINE}\n").as_bytes());
        assert_eq!(
            std::fs::read(&rc).unwrap(),
            expected,
            "one line, bytes kept"
        );
    }
}

#[cfg(unix)]
#[test]
fn completion_install_writes_through_a_linked_script_and_profile() {
    let sandbox = Sandbox::new();
    let real_profile = sandbox.write("dotfiles/profile.ps1", "Set-Alias g git\n");
    let profile = sandbox
        .path()
        .join("config/powershell/Microsoft.PowerShell_profile.ps1");
    std::fs::create_dir_all(profile.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real_profile, &profile).unwrap();
    install(&sandbox, "powershell");
    install(&sandbox, "pwsh");
    assert!(std::fs::symlink_metadata(&profile).unwrap().is_symlink());
    let text = std::fs::read_to_string(&real_profile).unwrap();
    assert!(
        text.starts_with("Set-Alias g git\n# epilot completion\n. '"),
        "{text}"
    );
    assert_eq!(text.matches("epilot-completion.ps1").count(), 1, "{text}");
    assert!(Path::new(
        &sandbox
            .path()
            .join("config/powershell/epilot-completion.ps1")
    )
    .is_file());
}

#[test]
fn completion_offers_the_overrides_here_to_allow() {
    let sandbox = Sandbox::new();
    sandbox.write(".epilot/overrides/user.yaml", "x");
    sandbox.write(".epilot/overrides/entity.json", "x");
    sandbox.write(".epilot/overrides/notes.txt", "x");
    let output = sandbox.run(&["__complete", "--line", "epilot definitions allow "]);
    assert_eq!(stdout_of(&output), "entity\nuser\n");
    let output = sandbox.run(&["__complete", "--line", "epilot definitions re"]);
    assert_eq!(stdout_of(&output), "remove\nrevoke\n");
}

/// A home folder whose name a shell would take apart if it were not quoted.
const HOSTILE_HOME: &str = "home a'b\"c$HOME`id`;x";

#[cfg(unix)]
#[test]
fn completion_install_quotes_the_paths_it_writes_into_startup_files() {
    let sandbox = Sandbox::new();
    let home = sandbox.path().join(HOSTILE_HOME);
    std::fs::create_dir(&home).unwrap();
    for shell in ["powershell", "zsh", "bash", "fish"] {
        let output = sandbox
            .epilot()
            .args(["completion", shell, "--install"])
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}: {}", stderr_of(&output));
    }
    let script = home.join(".config/powershell/epilot-completion.ps1");
    assert!(script.is_file());
    let profile =
        std::fs::read_to_string(home.join(".config/powershell/Microsoft.PowerShell_profile.ps1"))
            .unwrap();
    let quoted = script.display().to_string().replace('\'', "''");
    assert_eq!(profile, format!("# epilot completion\n. '{quoted}'\n"));
    assert!(profile.contains("a''b\"c$HOME`id`;x"), "{profile}");
    // zsh's line names the folder through `~`, which zsh expands without re-reading it.
    assert_eq!(
        std::fs::read_to_string(home.join(".zshrc")).unwrap(),
        format!("# epilot completion\n{ZSH_LINE}\n")
    );
    assert!(home.join(".zfunc/_epilot").is_file());
    assert!(home
        .join(".local/share/bash-completion/completions/epilot")
        .is_file());
    assert!(home.join(".config/fish/completions/epilot.fish").is_file());
}

#[test]
fn completion_install_keeps_the_crlf_line_endings_of_a_startup_file() {
    let sandbox = Sandbox::new();
    let profile = sandbox.write(
        "config/powershell/Microsoft.PowerShell_profile.ps1",
        "Set-Alias g git\r\nSet-Alias k kubectl",
    );
    install(&sandbox, "powershell");
    install(&sandbox, "powershell");
    let text = std::fs::read_to_string(&profile).unwrap();
    let script = sandbox
        .path()
        .join("config/powershell/epilot-completion.ps1");
    assert_eq!(
        text,
        format!(
            "Set-Alias g git\r\nSet-Alias k kubectl\r\n# epilot completion\r\n. '{}'\r\n",
            script.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn completion_install_replaces_a_linked_script_instead_of_writing_through_it() {
    let sandbox = Sandbox::new();
    let victim = sandbox.write("victim", "precious");
    for (shell, script) in [
        ("zsh", ".zfunc/_epilot"),
        ("bash", ".local/share/bash-completion/completions/epilot"),
    ] {
        let path = sandbox.path().join(script);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        install(&sandbox, shell);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("epilot __complete"));
    }
}

#[cfg(unix)]
#[test]
fn a_saved_body_is_never_written_through_a_linked_folder() {
    use crate::interactive::{Screen, DOWN, ENTER};
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let server = crate::server::Server::json(201, "{}");
    let victim = foreign_folder(&sandbox.path().join("victim"));
    let bodies = sandbox.path().join("cache/epilot/bodies");
    std::fs::create_dir_all(&bodies).unwrap();
    std::os::unix::fs::symlink(&victim, bodies.join("pets")).unwrap();
    let editor = sandbox.write(
        "editor.sh",
        "#!/bin/sh\nprintf '%s' '{\"name\":\"Tom\",\"kind\":\"cat\",\"owner\":{\"name\":\"Bo\"}}' > \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let editor = editor.display().to_string();
    let mut screen = Screen::start_with(&sandbox, &server, &["createPet"], &[("EDITOR", &editor)]);
    screen.wait_for("Request body");
    screen.keys(DOWN);
    screen.keys(ENTER); // in the editor
    let shown = screen.wait_for("not kept for next time");
    assert!(
        shown.contains("is a link to a folder that is not yours alone, not a folder"),
        "{shown}"
    );
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(server.requests().len(), 1, "the request is still sent");
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "nothing lands where the link leads"
    );
}

/// A folder that is not this user's alone: another user's where the tests may give it away
/// (as root, in CI), else one anybody may write to. A link to it must never be followed.
fn foreign_folder(path: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::os::unix::fs::chown(path, Some(65534), Some(65534)).is_err() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    path.to_path_buf()
}

#[test]
fn a_linked_config_folder_of_ones_own_is_followed_as_dotfile_managers_set_it_up() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let real = sandbox.path().join("dotfiles/epilot");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(sandbox.path().join("config")).unwrap();
    std::os::unix::fs::symlink(&real, sandbox.path().join("config/epilot")).unwrap();
    let output = sandbox
        .epilot()
        .args(["profile", "create", "dev", "--server", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        real.join("profiles.json").is_file(),
        "written where the link leads"
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the user's own folder is made private");
}
