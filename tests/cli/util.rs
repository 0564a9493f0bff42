//! Runs the real binary in an isolated environment: HOME, the config and cache folders and the
//! working directory inside a fresh temporary folder, no inherited variable but PATH, and
//! tokens in the private credentials file there, so a test never reads a real configuration
//! and never touches the developer's keychain.

use std::ffi::OsString;
use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::Expect;
use tempfile::TempDir;

pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// The whole environment of a sandboxed run. The file store is the default so that no
    /// test reaches a keychain: the one test that needs the real Secret Service sets
    /// `EPILOT_CREDENTIAL_STORE=keyring` on its command, which replaces this value.
    pub fn environment(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", self.path().into()),
            ("XDG_CONFIG_HOME", self.path().join("config").into()),
            ("XDG_CACHE_HOME", self.path().join("cache").into()),
            ("EPILOT_CREDENTIAL_STORE", "file".into()),
        ]
    }

    /// `epilot` as a plain process in the sandbox, for tests that spawn it with their own
    /// pipes, signals or a pseudo-terminal.
    pub fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_epilot"));
        cmd.env_clear()
            .envs(self.environment())
            .current_dir(self.path());
        cmd
    }

    /// `epilot` in the sandbox, to add arguments, variables or stdin before running it.
    pub fn epilot(&self) -> Command {
        Command::from_std(self.process())
    }

    /// Runs `epilot <args>` in the sandbox with stdin empty.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.epilot().args(args).output().expect("the binary runs");
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            output,
        }
    }
}

/// What a run left: its output (through `Deref`), and the arguments, to name the run when an
/// assertion on it fails.
pub struct Run {
    args: Vec<String>,
    output: Output,
}

impl Run {
    /// The exit code; a run ended by a signal fails the test.
    pub fn code(&self) -> i32 {
        self.output
            .status
            .code()
            .unwrap_or_else(|| panic!("{:?} ended without an exit code", self.args))
    }

    pub fn stdout(&self) -> String {
        stdout_of(&self.output)
    }

    pub fn stderr(&self) -> String {
        stderr_of(&self.output)
    }

    /// The run, after checking it exited 0 (else the test fails showing its stderr).
    pub fn success(self) -> Run {
        assert_eq!(self.code(), 0, "{:?}: {}", self.args, self.stderr());
        self
    }
}

impl Deref for Run {
    type Target = Output;

    fn deref(&self) -> &Output {
        &self.output
    }
}

/// A fresh sandbox's command, for tests that need nothing else.
pub fn epilot() -> (Sandbox, Command) {
    let sandbox = Sandbox::new();
    let cmd = sandbox.epilot();
    (sandbox, cmd)
}

pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A program on a fresh 80×24 pseudo-terminal (expectrl), its screen read through a terminal
/// emulator (vt100), since prompts redraw only what changed. Tests wait for what a person
/// would wait for (a prompt on the screen, echo switched off) instead of sleeping.
pub struct Screen {
    session: OsSession,
    terminal: vt100::Parser,
    transcript: Vec<u8>,
}

impl Screen {
    /// Starts `command` (epilot, or a shell around it) on a terminal, in the sandbox's
    /// environment plus `env`.
    pub fn spawn(
        sandbox: &Sandbox,
        mut command: std::process::Command,
        env: &[(&str, &str)],
    ) -> Screen {
        command
            .env_clear()
            .envs(sandbox.environment())
            .env("TERM", "xterm-256color")
            .current_dir(sandbox.path());
        for (name, value) in env {
            command.env(name, value);
        }
        let session = OsSession::spawn(command).expect("spawn on a pseudo-terminal");
        Screen {
            session,
            terminal: vt100::Parser::new(24, 80, 0),
            transcript: Vec::new(),
        }
    }

    /// `epilot <args>` on a terminal in the sandbox.
    pub fn epilot(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Screen {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_epilot"));
        command.args(args);
        Screen::spawn(sandbox, command, env)
    }

    /// Reads what is there without waiting; false once the program's side is closed.
    fn pump(&mut self) -> bool {
        let mut buffer = [0u8; 4096];
        match self.session.try_read(&mut buffer) {
            Ok(0) => false,
            Ok(n) => {
                self.terminal.process(&buffer[..n]);
                self.transcript.extend_from_slice(&buffer[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
                true
            }
            Err(_) => false,
        }
    }

    pub fn text(&self) -> String {
        self.terminal.screen().contents()
    }

    /// Every byte the program wrote to the terminal, escapes included.
    pub fn transcript(&self) -> String {
        String::from_utf8_lossy(&self.transcript).into_owned()
    }

    /// Waits until the screen shows `wanted`; fails with the screen as it is.
    pub fn wait_for(&mut self, wanted: &str) -> String {
        self.wait_until(&format!("showed {wanted:?}"), |screen| {
            screen.contains(wanted)
        })
    }

    /// Waits until the screen shows every one of `wanted` at once: a prompt is drawn in
    /// several writes, so its first line on the screen does not mean the rest is there.
    pub fn wait_for_all(&mut self, wanted: &[&str]) -> String {
        self.wait_until(&format!("showed all of {wanted:?}"), |screen| {
            wanted.iter().all(|w| screen.contains(w))
        })
    }

    pub fn wait_until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if done(&self.text()) {
                return self.text();
            }
            if !self.pump() {
                break;
            }
        }
        panic!("the screen never {what}; it shows:\n{}", self.text());
    }

    /// Waits until the program has switched the terminal's echo off, as a password prompt
    /// does only after printing its question.
    pub fn wait_for_echo_off(&mut self) {
        let deadline = Instant::now() + WAIT;
        while self
            .session
            .get_process()
            .get_echo()
            .expect("terminal settings")
        {
            assert!(
                Instant::now() < deadline && self.pump(),
                "echo was never switched off; the screen shows:\n{}",
                self.text()
            );
        }
    }

    pub fn keys(&mut self, keys: &str) {
        self.session.send(keys).expect("keys sent");
    }

    pub fn type_line(&mut self, text: &str) {
        self.keys(text);
        self.keys(ENTER);
    }

    /// Reads to the end and returns the exit code.
    pub fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline && self.pump() {}
        let mut rest = Vec::new();
        let _ = self.session.read_to_end(&mut rest);
        self.terminal.process(&rest);
        self.transcript.extend_from_slice(&rest);
        match self.session.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!(
                "the program did not exit normally: {other:?}\n{}",
                self.text()
            ),
        }
    }
}

/// How long a terminal test waits for the screen: generous, so a loaded machine is slow but
/// never fails; a test that is right ends long before.
const WAIT: Duration = Duration::from_secs(30);

pub const ENTER: &str = "\r";
pub const DOWN: &str = "\x1b[B";
pub const CTRL_C: &str = "\x03";
