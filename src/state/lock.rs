//! Exclusive locks for the read-modify-write of state files (profiles, credentials, the
//! registry), so that epilot processes started at once take turns instead of each writing back
//! what it read and losing the others' changes.
//!
//! The lock is taken on a separate `<file>.lock` beside the data file: the data file is replaced
//! by an atomic rename, and a lock held on the replaced file would no longer guard the new one.
//! Lock files are never deleted, for the same reason.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// How long to wait for another epilot process to finish its change. A change takes
/// milliseconds; waiting this long means a process holding the lock is stopped or stuck.
const PATIENCE: Duration = Duration::from_secs(30);

/// Held while a state file is changed; dropping it (closing the file) releases the lock.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// The lock file guarding `data`: `<data>.lock` in the same folder.
pub fn lock_path(data: &Path) -> PathBuf {
    let mut name = data.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    data.with_file_name(name)
}

/// Waits (up to [`PATIENCE`]) for the exclusive lock on `data` and returns it. The folder must
/// exist: callers create it with the permissions the data needs.
pub fn exclusive(data: &Path) -> Result<Lock> {
    exclusive_within(data, PATIENCE)
}

fn exclusive_within(data: &Path, patience: Duration) -> Result<Lock> {
    let path = lock_path(data);
    let file = open(&path).map_err(|e| {
        Error::usage(format!("cannot open the lock file {}: {e}", path.display())).with_help(
            "it must be a plain file epilot can write; remove it if it is a link or a folder",
        )
    })?;
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Lock { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::usage(format!(
                    "{} stays locked: another epilot process is changing it and has not finished in {} s",
                    data.display(),
                    patience.as_secs()
                ))
                .with_help("let the other epilot command finish (or stop it) and try again"))
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::usage(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )))
            }
        }
    }
}

/// Reads the JSON state in `path`; `None` only when the file does not exist. Any other failure
/// (no permission, a folder in its place, damaged JSON) is an error naming the file, so that
/// nothing is written over state that could not be read.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let bytes =
        match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::usage(format!("cannot read {}: {e}", path.display()))
                .with_help(
                    "check that it is a file you can read; epilot will not write over it meanwhile",
                )),
        };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::usage(format!("{} is damaged: {e}", path.display())).with_help(format!(
            "repair it, or move it away (`{}`) to start afresh; epilot will not write over it",
            crate::text::move_away_command(path)
        ))
    })
}

fn open(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A lock file planted as a symlink would make epilot create or lock whatever it
        // points to: a link is refused (ELOOP), never followed.
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_file_reads_as_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(read_json::<Vec<u8>>(&path).unwrap(), None);
        std::fs::write(&path, "[1, 2").unwrap();
        let damaged = read_json::<Vec<u8>>(&path).unwrap_err();
        assert!(
            damaged.message.contains("state.json is damaged"),
            "{damaged}"
        );
        assert!(damaged.help.unwrap().contains(".bak"));
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let folder = read_json::<Vec<u8>>(&path).unwrap_err();
        assert!(folder.message.starts_with("cannot read "), "{folder}");
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_lock_link_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("definitions.json");
        let target = dir.path().join("created");
        std::os::unix::fs::symlink(&target, lock_path(&data)).unwrap();
        let error = exclusive(&data).unwrap_err();
        assert!(
            error.message.contains("cannot open the lock file"),
            "{error}"
        );
        assert!(!target.exists(), "the link was followed");
    }

    #[test]
    fn the_lock_file_sits_beside_the_data() {
        assert_eq!(
            lock_path(Path::new("/c/epilot/profiles.json")),
            Path::new("/c/epilot/profiles.json.lock")
        );
    }

    #[test]
    fn a_second_holder_waits_and_then_gives_up_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("profiles.json");
        let held = exclusive(&data).unwrap();
        let error = exclusive_within(&data, Duration::ZERO).unwrap_err();
        assert!(
            error.message.contains("profiles.json stays locked"),
            "{error}"
        );
        drop(held);
        exclusive_within(&data, Duration::ZERO).expect("free once the holder is gone");
    }
}
