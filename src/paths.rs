//! Where epilot keeps files: configuration (registered definitions; later profiles) and the
//! cache (pulled definitions). Overridable for tests and unusual setups:
//! `EPILOT_CONFIG_DIR` > `$XDG_CONFIG_HOME/epilot` > `~/.config/epilot`, and
//! `EPILOT_CACHE_DIR` > `$XDG_CACHE_HOME/epilot` > `~/.cache/epilot`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub config_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Places {
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Places {
        let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = non_empty("HOME")
            .or_else(|| non_empty("USERPROFILE"))
            .unwrap_or_else(|| PathBuf::from("."));
        let config_dir = non_empty("EPILOT_CONFIG_DIR")
            .or_else(|| non_empty("XDG_CONFIG_HOME").map(|d| d.join("epilot")))
            .unwrap_or_else(|| home.join(".config").join("epilot"));
        let cache_dir = non_empty("EPILOT_CACHE_DIR")
            .or_else(|| non_empty("XDG_CACHE_HOME").map(|d| d.join("epilot")))
            .unwrap_or_else(|| home.join(".cache").join("epilot"));
        Places {
            config_dir,
            cache_dir,
        }
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
        let places = Places::from_env(&vars(&[("HOME", "/h")]));
        assert_eq!(places.config_dir, PathBuf::from("/h/.config/epilot"));
        assert_eq!(places.cache_dir, PathBuf::from("/h/.cache/epilot"));
        let places = Places::from_env(&vars(&[
            ("HOME", "/h"),
            ("XDG_CONFIG_HOME", "/x"),
            ("EPILOT_CACHE_DIR", "/c"),
        ]));
        assert_eq!(places.config_dir, PathBuf::from("/x/epilot"));
        assert_eq!(places.cache_dir, PathBuf::from("/c"));
        let places = Places::from_env(&vars(&[("HOME", "/h"), ("EPILOT_CONFIG_DIR", "/e")]));
        assert_eq!(places.config_dir, PathBuf::from("/e"));
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
