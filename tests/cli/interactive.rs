//! The interactive flows end to end: the real binary on a pseudo-terminal (expectrl), keys sent
//! as a person would type them, and the screen read through a terminal emulator (vt100), since
//! the prompts redraw only what changed. Requests go to the recording server on 127.0.0.1.

use std::process::Command;

use crate::util::CTRL_C;
pub(crate) use crate::util::{Screen, DOWN, ENTER};

use crate::server::Server;
use crate::util::{fixture, Sandbox};

const BACKSPACE: &str = "\x7f";
const ESC: &str = "\x1b";

impl Screen {
    /// `epilot pets <args> --definition <fixture> -s <server>` on a fresh terminal.
    fn start(sandbox: &Sandbox, server: &Server, args: &[&str]) -> Screen {
        Screen::start_with(sandbox, server, args, &[])
    }

    pub(crate) fn start_with(
        sandbox: &Sandbox,
        server: &Server,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Screen {
        let mut command = Command::new(env!("CARGO_BIN_EXE_epilot"));
        command
            .arg("pets")
            .args(args)
            .args(["--definition", &fixture("interactive-3.0.yaml")])
            .args(["-s", &server.url]);
        Screen::spawn(sandbox, command, env)
    }
}

#[test]
fn the_picker_filters_as_you_type_and_continues_with_the_choice() {
    let sandbox = Sandbox::new();
    let server = Server::json(204, "");
    let mut screen = Screen::start(&sandbox, &server, &[]);
    let first = screen.wait_for_all(&["Which operation of the pets API?", "findPets", "createPet"]);
    assert!(
        first.contains("findPets") && first.contains("createPet"),
        "{first}"
    );
    screen.keys("remove");
    let filtered = screen.wait_until("filtered the list by summary", |screen| {
        !screen.contains("findPets") && !screen.contains("createPet")
    });
    assert!(filtered.contains("deletePet"), "{filtered}");
    screen.keys(ENTER);
    screen.wait_for("id (path)");
    screen.type_line("p-1");
    assert_eq!(screen.exit_code(), 0);
    let request = server.single();
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        ("DELETE", "/pets/p-1")
    );
}

#[test]
fn missing_required_values_are_asked_with_a_list_for_an_enum_and_yes_no_for_a_boolean() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "[]");
    let mut screen = Screen::start(&sandbox, &server, &["findPets"]);
    let shown = screen.wait_for_all(&["status (query)", "Which pets to find", "available", "sold"]);
    assert!(
        shown.contains("Which pets to find"),
        "the description helps: {shown}"
    );
    assert!(
        shown.contains("available") && shown.contains("sold"),
        "{shown}"
    );
    screen.keys(DOWN);
    screen.keys(ENTER);
    screen.wait_for("archived (query)");
    screen.type_line("y");
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(server.single().url, "/pets?status=pending&archived=true");
}

#[test]
fn an_invalid_value_is_refused_and_asked_again() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    let mut screen = Screen::start(&sandbox, &server, &["getPet"]);
    screen.wait_for("id (path)");
    screen.type_line("nope");
    let refused = screen.wait_for_all(&["is not a \"uuid\"", "id (path)"]);
    assert!(
        refused.contains("id (path)"),
        "still at the prompt: {refused}"
    );
    for _ in 0.."nope".len() {
        screen.keys(BACKSPACE);
    }
    screen.type_line("123e4567-e89b-12d3-a456-426614174000");
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(
        server.single().url,
        "/pets/123e4567-e89b-12d3-a456-426614174000"
    );
}

#[test]
fn guided_asks_for_every_parameter_and_optional_ones_can_be_skipped() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "[]");
    let mut screen = Screen::start(
        &sandbox,
        &server,
        &["findPets", "-p", "status=sold", "--guided"],
    );
    screen.wait_for("archived (query)");
    screen.type_line("n");
    let optional = screen.wait_for_all(&["limit (query, optional)", "Enter to skip"]);
    assert!(optional.contains("Enter to skip"), "{optional}");
    screen.keys(ENTER);
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(
        server.single().url,
        "/pets?status=sold&archived=false",
        "the given value is kept and the skipped one not sent"
    );
}

#[test]
fn guided_builds_a_body_field_by_field_and_confirms_before_sending() {
    let sandbox = Sandbox::new();
    let server = Server::json(201, "{}");
    let mut screen = Screen::start(&sandbox, &server, &["createPet", "--guided"]);
    screen.wait_for("Request body");
    screen.keys(ENTER); // field by field
    screen.wait_for("name");
    screen.type_line("Rex");
    screen.wait_for("kind");
    screen.keys(DOWN);
    screen.keys(ENTER); // dog
    screen.wait_for("owner.name");
    screen.type_line("Ada");
    screen.wait_for("owner.email (optional)");
    screen.type_line("ada@example.com");
    screen.wait_for("tags[0] (optional)");
    screen.type_line("good");
    screen.wait_for("tags[1] (optional)");
    screen.keys(ENTER); // ends the list
    let preview = screen.wait_for_all(&["Send this POST request?", "POST http://127.0.0.1"]);
    assert!(preview.contains("POST http://127.0.0.1"), "{preview}");
    server.assert_untouched();
    screen.keys(ENTER);
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(
        server.single().json(),
        serde_json::json!({
            "name": "Rex", "kind": "dog",
            "owner": {"name": "Ada", "email": "ada@example.com"},
            "tags": ["good"]
        })
    );
}

#[test]
fn the_editor_path_sends_what_the_editor_wrote_and_the_body_is_offered_next_time() {
    let sandbox = Sandbox::new();
    let server = Server::json(201, "{}");
    let editor = sandbox.write(
        "editor.sh",
        "#!/bin/sh\n# $1 is --flag (split from EDITOR), $2 the file\nprintf '%s' '{\"name\":\"Tom\",\"kind\":\"cat\",\"owner\":{\"name\":\"Bo\"}}' > \"$2\"\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let editor_setting = format!("{} --flag", editor.display());
    let env = [("EDITOR", editor_setting.as_str())];

    let mut screen = Screen::start_with(&sandbox, &server, &["createPet"], &env);
    screen.wait_for("Request body");
    screen.keys(DOWN);
    screen.keys(ENTER); // in the editor
    assert_eq!(screen.exit_code(), 0);

    let mut screen = Screen::start_with(&sandbox, &server, &["createPet"], &[]);
    let offered = screen.wait_for_all(&[
        "used last time, unchanged",
        "Edit the body you used last time",
    ]);
    assert!(
        offered.contains("Edit the body you used last time"),
        "{offered}"
    );
    screen.keys(DOWN);
    screen.keys(ENTER); // unchanged
    assert_eq!(screen.exit_code(), 0);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let expected = serde_json::json!({"name": "Tom", "kind": "cat", "owner": {"name": "Bo"}});
    assert_eq!(requests[0].json(), expected);
    assert_eq!(requests[1].json(), expected);
}

#[test]
fn ctrl_c_or_esc_at_a_prompt_exits_130_sends_nothing_and_restores_the_terminal() {
    for key in [CTRL_C, ESC] {
        let sandbox = Sandbox::new();
        let server = Server::json(200, "{}");
        // The shell reports the exit code and whether the terminal's settings are as before.
        let script = format!(
            "before=$(stty -g); {} pets getPet --definition {} -s {}; echo \"exit=$?\"; \
             [ \"$(stty -g)\" = \"$before\" ] && echo terminal=restored || echo terminal=changed",
            env!("CARGO_BIN_EXE_epilot"),
            fixture("interactive-3.0.yaml"),
            server.url
        );
        let mut command = Command::new("sh");
        command.args(["-c", &script]);
        let mut screen = Screen::spawn(&sandbox, command, &[]);
        screen.wait_for("id (path)");
        screen.keys("half-typed");
        screen.wait_for("half-typed");
        screen.keys(key);
        let after = screen.wait_for("terminal=");
        assert!(after.contains("exit=130"), "{key:?}: {after}");
        assert!(after.contains("terminal=restored"), "{key:?}: {after}");
        assert_eq!(screen.exit_code(), 0);
        server.assert_untouched();
    }
}

#[test]
fn with_no_interactive_the_list_is_printed_and_missing_values_are_errors() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    let mut screen = Screen::start(&sandbox, &server, &["--no-interactive"]);
    let listed = screen.wait_for("Remove a pet");
    assert!(!listed.contains("Which operation"), "{listed}");
    assert_eq!(screen.exit_code(), 0);
    let mut screen = Screen::start(&sandbox, &server, &["getPet", "--no-interactive"]);
    screen.wait_for("parameter `id` (path string): is required");
    assert_eq!(screen.exit_code(), 2);
    server.assert_untouched();
}

#[test]
fn with_stdin_piped_nothing_is_asked_even_on_a_terminal() {
    let sandbox = Sandbox::new();
    let server = Server::json(200, "{}");
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!(
            "exec {} pets getPet --definition {} -s {} < /dev/null",
            env!("CARGO_BIN_EXE_epilot"),
            fixture("interactive-3.0.yaml"),
            server.url
        ),
    ]);
    let mut screen = Screen::spawn(&sandbox, command, &[]);
    let shown = screen.wait_for_all(&["is required", "positional value #1 or -p id=..."]);
    assert!(
        shown.contains("positional value #1 or -p id=..."),
        "{shown}"
    );
    assert_eq!(screen.exit_code(), 2);
    server.assert_untouched();
}
