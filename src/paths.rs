//! Where epilot keeps files: configuration (registered definitions; later profiles) and the
//! cache (pulled definitions). Overridable for tests and unusual setups:
//! `EPILOT_CONFIG_DIR` > `$XDG_CONFIG_HOME/epilot` > `~/.config/epilot`, and
//! `EPILOT_CACHE_DIR` > `$XDG_CACHE_HOME/epilot` > `~/.cache/epilot`, where `~` is `HOME`,
//! else the account's home folder; never the working directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub config_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Places {
    /// The folders from the environment, the home folder found the way the platform does
    /// (`HOME`, else the account database on Unix; `USERPROFILE` on Windows). Relative
    /// `HOME` and `XDG_*` values are ignored (the XDG spec calls them invalid), and with no home
    /// folder this is an error: state never lands in whatever the working directory is.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Places> {
        Places::resolve(var, &account_home)
    }

    fn resolve(
        var: &dyn Fn(&str) -> Option<String>,
        account_home: &dyn Fn() -> Option<PathBuf>,
    ) -> Result<Places> {
        let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let absolute = |name: &str| non_empty(name).filter(|p| p.is_absolute());
        let home = || {
            absolute("HOME")
                .or_else(|| if cfg!(windows) { absolute("USERPROFILE") } else { None })
                .or_else(account_home)
                .filter(|p| p.is_absolute())
                .ok_or_else(|| {
                    Error::usage("cannot find your home folder: HOME is not set and your account has none")
                        .with_help("set HOME (or EPILOT_CONFIG_DIR and EPILOT_CACHE_DIR) to the folder epilot may keep its files in")
                })
        };
        let config_dir = match non_empty("EPILOT_CONFIG_DIR")
            .or_else(|| absolute("XDG_CONFIG_HOME").map(|d| d.join("epilot")))
        {
            Some(dir) => dir,
            None => home()?.join(".config").join("epilot"),
        };
        let cache_dir = match non_empty("EPILOT_CACHE_DIR")
            .or_else(|| absolute("XDG_CACHE_HOME").map(|d| d.join("epilot")))
        {
            Some(dir) => dir,
            None => home()?.join(".cache").join("epilot"),
        };
        Ok(Places {
            config_dir,
            cache_dir,
        })
    }

    /// Pulled definitions: `<name>.spec` (the document as served) and `<name>.meta.json`.
    pub fn definitions_cache(&self) -> PathBuf {
        self.cache_dir.join("definitions")
    }

    /// Definitions registered with `epilot definitions add`.
    pub fn registry_file(&self) -> PathBuf {
        self.config_dir.join("definitions.json")
    }
}

/// The home folder in the account database (the passwd entry), for when `HOME` is not set.
#[cfg(unix)]
fn account_home() -> Option<PathBuf> {
    use std::ffi::{CStr, OsStr};
    use std::os::unix::ffi::OsStrExt;

    let mut buffer = vec![0u8; 1024];
    loop {
        // SAFETY: `entry` and `found` are written by getpwuid_r, whose strings point into
        // `buffer`, which outlives their use below; its length is passed with it.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let status = unsafe {
            libc::getpwuid_r(
                libc::getuid(),
                &mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut found,
            )
        };
        if status == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if status != 0 || found.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: pw_dir is a NUL-terminated string inside `buffer` (checked non-null above).
        let dir = unsafe { CStr::from_ptr(entry.pw_dir) };
        return Some(PathBuf::from(OsStr::from_bytes(dir.to_bytes())));
    }
}

#[cfg(not(unix))]
fn account_home() -> Option<PathBuf> {
    None
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// crash never leaves a half-written file; `private` makes the file readable by its owner only.
pub fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::usage(format!("cannot create {}: {e}", dir.display())))?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::usage(format!("cannot write {}: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_win_over_xdg_and_home() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let none = || None;
        let places = Places::resolve(&vars(&[("HOME", "/h")]), &none).unwrap();
        assert_eq!(places.config_dir, PathBuf::from("/h/.config/epilot"));
        assert_eq!(places.cache_dir, PathBuf::from("/h/.cache/epilot"));
        let places = Places::resolve(
            &vars(&[
                ("HOME", "/h"),
                ("XDG_CONFIG_HOME", "/x"),
                ("EPILOT_CACHE_DIR", "/c"),
            ]),
            &none,
        )
        .unwrap();
        assert_eq!(places.config_dir, PathBuf::from("/x/epilot"));
        assert_eq!(places.cache_dir, PathBuf::from("/c"));
        let places =
            Places::resolve(&vars(&[("HOME", "/h"), ("EPILOT_CONFIG_DIR", "/e")]), &none).unwrap();
        assert_eq!(places.config_dir, PathBuf::from("/e"));
    }

    #[test]
    fn without_home_the_account_database_decides_and_never_the_working_directory() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let account = || Some(PathBuf::from("/home/ada"));
        let none = || None;
        for env in [
            &[][..],
            &[("HOME", "")],
            &[("HOME", "rel"), ("XDG_CONFIG_HOME", "x")],
        ] {
            let places = Places::resolve(&vars(env), &account).unwrap();
            assert_eq!(places.config_dir, PathBuf::from("/home/ada/.config/epilot"));
            assert_eq!(places.cache_dir, PathBuf::from("/home/ada/.cache/epilot"));
            let error = Places::resolve(&vars(env), &none).unwrap_err();
            assert!(
                error.message.starts_with("cannot find your home folder"),
                "{error}"
            );
            assert!(error.help.unwrap().contains("set HOME"));
        }
        let places = Places::resolve(
            &vars(&[("XDG_CONFIG_HOME", "/x"), ("XDG_CACHE_HOME", "/y")]),
            &none,
        )
        .unwrap();
        assert_eq!(places.config_dir, PathBuf::from("/x/epilot"));
        assert_eq!(places.cache_dir, PathBuf::from("/y/epilot"));
    }

    #[cfg(unix)]
    #[test]
    fn the_account_database_knows_the_home_of_whoever_runs_the_tests() {
        let home = account_home().expect("the test user has a passwd entry");
        assert!(home.is_absolute(), "{}", home.display());
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.json");
        write_atomically(&path, b"one", true).unwrap();
        write_atomically(&path, b"two", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
