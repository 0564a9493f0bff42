//! Where tokens are kept: the operating system's keychain (Secret Service on Linux, the macOS
//! keychain, the Windows credential manager) under the service `epilot`, one entry per
//! profile, each call within a time limit; or, where no keychain answers, a file readable by its
//! owner only, changed under a lock. The store is chosen once and passed down, never set
//! process-wide, so tests cannot race.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::state::paths::{create_private_dir, Places};

pub const SERVICE: &str = "epilot";

/// The account name of a profile's token; `None` is the default credentials.
pub fn account(profile: Option<&str>) -> String {
    match profile {
        Some(name) => format!("profile:{name}"),
        None => "default".to_string(),
    }
}

pub trait Store {
    fn get(&self, account: &str) -> Result<Option<String>>;
    fn set(&self, account: &str, token: &str) -> Result<()>;
    /// Whether there was something to delete.
    fn delete(&self, account: &str) -> Result<bool>;
    fn describe(&self) -> String;
}

/// The OS keychain. Each call is bounded by `timeout`: a keychain daemon that does not answer
/// makes an error that says so, not a command that hangs.
pub struct KeyringStore {
    pub timeout: Duration,
}

/// How long a keychain call may take unless `EPILOT_KEYRING_TIMEOUT_MS` says otherwise.
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

fn entry(account: &str) -> keyring::Result<keyring::Entry> {
    #[cfg(target_os = "linux")]
    {
        let credential =
            keyring::secret_service::SsCredential::new_with_target(None, SERVICE, account)?;
        Ok(keyring::Entry::new_with_credential(Box::new(credential)))
    }
    #[cfg(not(target_os = "linux"))]
    {
        keyring::Entry::new(SERVICE, account)
    }
}

fn keyring_error(error: keyring::Error) -> Error {
    Error::usage(format!("the system keychain failed: {error}"))
        .with_help("set EPILOT_CREDENTIAL_STORE=file to keep tokens in a private file instead")
}

/// Runs `call` on a thread of its own and waits at most `timeout` for its answer. A call that
/// does not return in time is left behind: the keychain libraries offer no way to cancel it,
/// and it ends with the process.
fn within<T: Send + 'static>(
    timeout: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (answer, answered) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("keychain".into())
        .spawn(move || {
            let _ = answer.send(call());
        })
        .map_err(|e| Error::usage(format!("cannot ask the system keychain: {e}")))?;
    answered.recv_timeout(timeout).map_err(|e| match e {
        RecvTimeoutError::Timeout => Error::usage(format!(
            "the system keychain did not answer within {}",
            spoken(timeout)
        ))
        .with_help(
            "set EPILOT_CREDENTIAL_STORE=file to keep tokens in a private file instead, \
             or EPILOT_KEYRING_TIMEOUT_MS to wait longer",
        ),
        RecvTimeoutError::Disconnected => Error::usage(
            "the system keychain failed without an answer",
        )
        .with_help("set EPILOT_CREDENTIAL_STORE=file to keep tokens in a private file instead"),
    })
}

/// `10 s` or `250 ms`.
fn spoken(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

impl KeyringStore {
    /// `op` on the entry of `account`, within the time limit.
    fn call<T: Send + 'static>(
        &self,
        account: &str,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>> {
        let account = account.to_string();
        within(self.timeout, move || entry(&account).and_then(|e| op(&e)))
    }
}

impl Store for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        match self.call(account, |e| e.get_password())? {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keyring_error(error)),
        }
    }

    fn set(&self, account: &str, token: &str) -> Result<()> {
        let token = token.to_string();
        self.call(account, move |e| e.set_password(&token))?
            .map_err(keyring_error)
    }

    fn delete(&self, account: &str) -> Result<bool> {
        match self.call(account, |e| e.delete_credential())? {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(keyring_error(error)),
        }
    }

    fn describe(&self) -> String {
        "the system keychain".to_string()
    }
}

/// A JSON file of tokens, mode 0600 in a 0700 folder, written atomically.
pub struct FileStore {
    pub path: PathBuf,
}

impl FileStore {
    /// The tokens in the file; none when it does not exist. Refused when others can read it,
    /// and an error (never "no tokens") when it cannot be read or parsed.
    fn read(&self) -> Result<BTreeMap<String, String>> {
        #[cfg(unix)]
        if let Ok(metadata) = std::fs::metadata(&self.path) {
            use std::os::unix::fs::PermissionsExt;
            if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
                return Err(Error::usage(format!(
                    "refusing to read {}: other users can read it, so the tokens in it may have leaked",
                    self.path.display()
                ))
                .with_help(format!(
                    "run `chmod 600 {}` and consider replacing the tokens",
                    crate::text::shell_quote(&self.path.display().to_string())
                )));
            }
        }
        Ok(crate::state::lock::read_json(&self.path)?.unwrap_or_default())
    }

    /// Changes the tokens under an exclusive lock (read, change, write), so parallel commands
    /// never lose each other's tokens; writes only when something changed.
    fn update<T>(&self, change: impl FnOnce(&mut BTreeMap<String, String>) -> T) -> Result<T> {
        if let Some(dir) = self.path.parent() {
            create_private_dir(dir)?;
        }
        let _lock = crate::state::lock::exclusive(&self.path)?;
        let before = self.read()?;
        let mut tokens = before.clone();
        let outcome = change(&mut tokens);
        if tokens != before {
            let bytes = serde_json::to_vec_pretty(&tokens).expect("tokens serialise");
            crate::state::paths::write_atomically(&self.path, &bytes, true)?;
        }
        Ok(outcome)
    }
}

impl Store for FileStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        Ok(self.read()?.remove(account))
    }

    fn set(&self, account: &str, token: &str) -> Result<()> {
        self.update(|tokens| {
            tokens.insert(account.to_string(), token.to_string());
        })
    }

    fn delete(&self, account: &str) -> Result<bool> {
        self.update(|tokens| tokens.remove(account).is_some())
    }

    fn describe(&self) -> String {
        format!("the file {}", self.path.display())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Keyring,
    File,
}

impl Choice {
    /// From `EPILOT_CREDENTIAL_STORE` (auto when unset).
    pub fn from_env(value: Option<&str>) -> Result<Choice> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("auto") => Ok(Choice::Auto),
            Some("keyring") => Ok(Choice::Keyring),
            Some("file") => Ok(Choice::File),
            Some(other) => Err(
                Error::usage(format!("EPILOT_CREDENTIAL_STORE is `{other}`"))
                    .with_help("use auto, keyring or file"),
            ),
        }
    }
}

/// How tokens are stored, from the environment: `EPILOT_CREDENTIAL_STORE` and
/// `EPILOT_KEYRING_TIMEOUT_MS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub choice: Choice,
    pub keyring_timeout: Duration,
}

impl Settings {
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
        let choice = Choice::from_env(var("EPILOT_CREDENTIAL_STORE").as_deref())?;
        let keyring_timeout = match var("EPILOT_KEYRING_TIMEOUT_MS")
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => KEYRING_TIMEOUT,
            Some(text) => match text.parse::<u64>() {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => {
                    return Err(
                        Error::usage(format!("EPILOT_KEYRING_TIMEOUT_MS is `{text}`"))
                            .with_help("give a number of milliseconds above 0, such as 10000"),
                    )
                }
            },
        };
        Ok(Settings {
            choice,
            keyring_timeout,
        })
    }
}

/// Opens the store: the keychain when it answers (or is demanded), else the file, saying so
/// once (a marker in the config folder remembers that it was said). A keychain that is there
/// but does not answer in time is an error, not a reason to move tokens into a file.
pub fn open(
    places: &Places,
    settings: Settings,
    notice: &mut dyn FnMut(&str),
) -> Result<Box<dyn Store>> {
    let file = FileStore {
        path: places.config_dir.join("credentials.json"),
    };
    let keychain = KeyringStore {
        timeout: settings.keyring_timeout,
    };
    match settings.choice {
        Choice::File => Ok(Box::new(file)),
        Choice::Keyring => Ok(Box::new(keychain)),
        Choice::Auto => match keychain.call("probe", |e| e.get_password())? {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(Box::new(keychain)),
            Err(_) => {
                let marker = places.config_dir.join(".file-store-notice");
                if !marker.exists() {
                    notice(&format!(
                        "no system keychain answers here; tokens are kept in {} (readable by you only)",
                        file.path.display()
                    ));
                    let _ = create_private_dir(&places.config_dir).and_then(|_| {
                        std::fs::write(&marker, b"").map_err(|e| Error::usage(e.to_string()))
                    });
                }
                Ok(Box::new(file))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trip_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore {
            path: dir.path().join("cfg/credentials.json"),
        };
        assert_eq!(store.get("default").unwrap(), None);
        store.set("default", "t1").unwrap();
        store.set("profile:dev", "t2").unwrap();
        assert_eq!(store.get("profile:dev").unwrap().as_deref(), Some("t2"));
        assert!(store.delete("default").unwrap());
        assert!(!store.delete("default").unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&store.path), 0o600);
            assert_eq!(mode(store.path.parent().unwrap()), 0o700);
            std::fs::set_permissions(&store.path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(store
                .get("profile:dev")
                .unwrap_err()
                .message
                .contains("other users can read it"));
        }
    }

    #[test]
    fn a_keychain_call_that_does_not_answer_is_an_error_not_a_hang() {
        // A fake keychain that never answers: it waits on a channel nobody sends on until the
        // test ends, as a stuck keychain daemon would.
        let (_keep_waiting, never) = std::sync::mpsc::channel::<()>();
        let error = within(Duration::from_millis(20), move || never.recv().is_ok()).unwrap_err();
        assert_eq!(
            error.message,
            "the system keychain did not answer within 20 ms"
        );
        assert!(error.help.unwrap().contains("EPILOT_CREDENTIAL_STORE=file"));
        assert_eq!(within(Duration::from_secs(60), || 7).unwrap(), 7);
        assert_eq!(spoken(KEYRING_TIMEOUT), "10 s");
    }

    #[test]
    fn the_keychain_time_limit_comes_from_the_environment() {
        let settings = |value: Option<&'static str>| {
            Settings::from_env(&move |name| {
                (name == "EPILOT_KEYRING_TIMEOUT_MS")
                    .then_some(value)
                    .flatten()
                    .map(str::to_string)
            })
        };
        assert_eq!(settings(None).unwrap().keyring_timeout, KEYRING_TIMEOUT);
        assert_eq!(
            settings(Some("250")).unwrap().keyring_timeout,
            Duration::from_millis(250)
        );
        for bad in ["0", "soon", "-5"] {
            assert!(settings(Some(bad))
                .unwrap_err()
                .message
                .contains("EPILOT_KEYRING_TIMEOUT_MS"));
        }
    }

    #[test]
    fn choice_comes_from_the_environment() {
        assert_eq!(Choice::from_env(None).unwrap(), Choice::Auto);
        assert_eq!(Choice::from_env(Some("file")).unwrap(), Choice::File);
        assert!(Choice::from_env(Some("vault")).is_err());
    }
}
