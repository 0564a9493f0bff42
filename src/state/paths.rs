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

/// The longest API, definition or profile name.
pub const MAX_NAME_LEN: usize = 64;

/// The one rule for every name that becomes part of a path (API, definition, profile): 1 to 64
/// letters, digits, `-`, `_` or `.`, not starting with `.` or `-`, without `..`. Checked where a
/// path is built from a name, so no caller can forget it; `kind` ("API", "profile") names the
/// thing in the message.
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let fits = (1..=MAX_NAME_LEN).contains(&name.len())
        && !name.starts_with(['.', '-'])
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fits {
        return Ok(());
    }
    Err(Error::usage(format!(
        "`{}` is not a valid {kind} name",
        escape_controls(name)
    ))
    .with_help(format!(
        "{kind} names have 1 to {MAX_NAME_LEN} letters, digits, `-`, `_` or `.`, do not start \
         with `.` or `-` and have no `..` (so they never reach outside epilot's folders)"
    )))
}

/// `text` with control characters written as escapes (`\u{1b}`, `\n`), so a name or path
/// from a file or an argument cannot rewrite the terminal when it is shown.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The permissions a file written by [`write_atomically_as`] gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// What a new file gets (0666 less the umask).
    Default,
    /// Readable and writable by the owner only (0600).
    Private,
    /// Exactly these permission bits, umask or not: to keep those of a file being replaced.
    Exactly(u32),
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

/// Makes sure `dir`, a folder epilot keeps for itself, is a folder of this user's: created
/// (0700) when missing, its parents as needed. A link in its place is followed only to a folder
/// this user owns that nobody else may write to (what a dotfile manager sets up); a link to
/// anything else, or a file, is refused, so no write or chmod meant for it lands in someone
/// else's folder. `private` also makes the folder 0700; the check and the chmod are made on one
/// open handle, so a link swapped in between is not followed to another folder.
pub fn own_folder(dir: &Path, private: bool) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::usage(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::usage(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        }
    }
    let not_a_folder = |what: &str| {
        Error::usage(format!(
            "{} is {what}, not a folder: epilot keeps its own files there and will not write through it",
            dir.display()
        ))
        .with_help(format!(
            "move it away (`{}`), or point epilot at a real folder \
             (EPILOT_CONFIG_DIR, EPILOT_CACHE_DIR)",
            crate::text::move_away_command(dir)
        ))
    };
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", dir.display())))?;
    let is_link = meta.file_type().is_symlink();
    if !is_link && !meta.is_dir() {
        return Err(not_a_folder("a file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
        let handle = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(dir)
            .map_err(|_| not_a_folder(if is_link { "a link" } else { "a file" }))?;
        let opened = handle
            .metadata()
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", dir.display())))?;
        // SAFETY: getuid has no preconditions and cannot fail.
        let me = unsafe { libc::getuid() };
        if is_link && (opened.uid() != me || opened.mode() & 0o022 != 0) {
            return Err(not_a_folder("a link to a folder that is not yours alone"));
        }
        if private {
            handle
                .set_permissions(std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::usage(format!("cannot protect {}: {e}", dir.display())))?;
        }
    }
    #[cfg(not(unix))]
    if is_link {
        return Err(not_a_folder("a link"));
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// crash never leaves a half-written file; `private` makes the file readable by its owner only.
pub fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    write_atomically_as(
        path,
        bytes,
        if private {
            Mode::Private
        } else {
            Mode::Default
        },
    )
}

/// [`write_atomically`] with the permissions of the new file spelled out.
///
/// The temporary file has an unpredictable name and is created with `O_CREAT|O_EXCL` (and
/// `O_NOFOLLOW`), so a file or symlink planted in the folder beforehand makes the write fail
/// instead of redirecting it. A symlink at `path` itself is replaced by the rename, not
/// followed: callers that mean to edit the file behind a link resolve it first.
pub fn write_atomically_as(path: &Path, bytes: &[u8], mode: Mode) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::usage(format!("cannot create {}: {e}", dir.display())))?;
    let cannot_write =
        |e: std::io::Error| Error::usage(format!("cannot write {}: {e}", path.display()));
    remove_stale_temporaries(path);
    let temporary = temporary_name(path)?;
    let (mut file, _pending) = Pending::create(&temporary, mode).map_err(cannot_write)?;
    let result = (|| -> std::io::Result<()> {
        #[cfg(unix)]
        if let Mode::Exactly(bits) = mode {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(bits & 0o7777))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(cannot_write(e));
    }
    sync_dir(dir);
    Ok(())
}

/// Temporary files being written now: the interrupt handler (`env::term`) removes them, since
/// it exits without running destructors; a SIGKILL leaves them to [`remove_stale_temporaries`].
static PENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The temporary files a write has under way.
pub fn pending_temporaries() -> Vec<PathBuf> {
    pending().clone()
}

/// For the interrupt handler, which exits right after: removes the temporary files under way
/// and keeps the list locked, so no write creates another before the process ends.
pub fn remove_pending_temporaries() -> impl Sized {
    let held = pending();
    for path in held.iter() {
        let _ = std::fs::remove_file(path);
    }
    held
}

/// Keeps a temporary file on the pending list while it lives.
struct Pending(PathBuf);

impl Pending {
    /// Creates the file and lists it in one step under the list's lock: an interrupt sees
    /// either neither or both, never a file it does not know of.
    fn create(path: &Path, mode: Mode) -> std::io::Result<(std::fs::File, Pending)> {
        let mut list = pending();
        let file = create_new(path, mode)?;
        list.push(path.to_path_buf());
        Ok((file, Pending(path.to_path_buf())))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        pending().retain(|p| p != &self.0);
    }
}

/// How old a left-over temporary file must be before a later write removes it: a write takes
/// milliseconds, so an older one belongs to a process that was killed.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes `.<name>.<hex>.tmp` files beside `path` that a killed write left behind (the ones
/// of the credential store hold tokens). Callers write under the file's lock, so no live
/// write of the same file is under way.
fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(std::io::Result::ok) {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let is_ours = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        let stale = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if is_ours && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `<dir>/.<name>.<32 random hex digits>.tmp`: nobody can guess it to plant a link there.
fn temporary_name(path: &Path) -> Result<PathBuf> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| Error::usage(format!("no randomness for a temporary file name: {e}")))?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    Ok(path.with_file_name(format!(".{name}.{hex}.tmp")))
}

fn create_new(path: &Path, mode: Mode) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
        if mode != Mode::Default {
            // Never readable by others, not even between creation and the exact chmod.
            options.mode(0o600);
        }
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Makes the rename itself durable. Some file systems refuse to sync a folder; the data is
/// already written and renamed then, so that is not worth failing for.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Creates `dir` (and its parents) and makes it private to its owner; a link in its place is
/// refused rather than followed (see [`own_folder`]).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    own_folder(dir, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_file_is_pending_exactly_while_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".profiles.json.00.tmp");
        let (_file, pending) = Pending::create(&path, Mode::Private).unwrap();
        assert!(pending_temporaries().contains(&path));
        drop(pending);
        assert!(!pending_temporaries().contains(&path));
    }

    /// The variables a test sets, as `Places::resolve` reads them.
    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_overrides_win_over_xdg_and_home() {
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

    #[test]
    fn names_follow_one_rule() {
        for good in [
            "user",
            "customer-portal",
            "v2.api",
            "a_b",
            "x",
            &"a".repeat(64),
        ] {
            assert!(check_name("API", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            ".hidden",
            "-p",
            "a..b",
            "a\0b",
            "tab\there",
            "é",
            &"a".repeat(65),
        ] {
            let error = check_name("API", bad).unwrap_err();
            assert_eq!(error.kind, crate::error::ErrorKind::Usage, "{bad}");
            assert!(error.message.contains("is not a valid API name"), "{bad}");
            assert!(error.help.unwrap().contains("1 to 64 letters"));
        }
        let error = check_name("profile", "a\nb").unwrap_err();
        assert_eq!(error.message, "`a\\nb` is not a valid profile name");
    }

    #[test]
    fn temporary_names_are_unpredictable() {
        let path = Path::new("/some/dir/file.json");
        let first = temporary_name(path).unwrap();
        let second = temporary_name(path).unwrap();
        assert_ne!(first, second);
        for name in [&first, &second] {
            assert_eq!(name.parent(), Some(Path::new("/some/dir")));
            let file = name.file_name().unwrap().to_str().unwrap();
            let random = file
                .strip_prefix(".file.json.")
                .and_then(|r| r.strip_suffix(".tmp"))
                .unwrap();
            assert_eq!(random.len(), 32);
            assert!(random.chars().all(|c| c.is_ascii_hexdigit()));
        }
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_at_predictable_names_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "precious").unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        // The names the old code (and naive code) would have used.
        for planted in [
            format!(".target.json.{}.tmp", std::process::id()),
            "target.json.tmp".to_string(),
            ".target.json.tmp".to_string(),
        ] {
            std::os::unix::fs::symlink(&outside, shared.join(planted)).unwrap();
        }
        let target = shared.join("target.json");
        write_atomically(&target, b"new", false).unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(
            std::fs::read_dir(&shared).unwrap().count(),
            4,
            "no temporary left"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_the_temporary_name_stops_the_write() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "precious").unwrap();
        let temporary = dir.path().join(".t.tmp");
        std::os::unix::fs::symlink(&outside, &temporary).unwrap();
        assert!(create_new(&temporary, Mode::Default).is_err());
        assert!(create_new(&temporary, Mode::Private).is_err());
        assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "precious").unwrap();
        let target = dir.path().join("target");
        std::os::unix::fs::symlink(&outside, &target).unwrap();
        write_atomically(&target, b"new", true).unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn own_folders_are_real_folders_never_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = dir.path().join("a/b");
        own_folder(&fresh, false).unwrap();
        assert_eq!(mode(&fresh), 0o700, "created private");
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o755)).unwrap();
        own_folder(&fresh, false).unwrap();
        assert_eq!(mode(&fresh), 0o755, "left as it is");
        own_folder(&fresh, true).unwrap();
        assert_eq!(mode(&fresh), 0o700);

        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&mine, &link).unwrap();
        own_folder(&link, true).unwrap();
        assert_eq!(
            mode(&mine),
            0o700,
            "a link to a folder of one's own is followed"
        );

        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let link = dir.path().join("link-to-shared");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        let error = own_folder(&link, true).unwrap_err();
        assert!(error.message.contains("not yours alone"), "{error}");
        assert_eq!(mode(&shared), 0o777, "the link's target is untouched");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let error = own_folder(&file, false).unwrap_err();
        assert!(error.message.contains("is a file, not a folder"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn exact_modes_ignore_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rc");
        for bits in [0o600, 0o640, 0o755] {
            write_atomically_as(&path, b"x", Mode::Exactly(bits)).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, bits);
        }
    }
}
