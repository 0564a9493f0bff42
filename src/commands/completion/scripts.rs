//! The completion scripts for each shell, and installing them where each shell looks. Every
//! script only hands the line to `epilot __complete`, so completions follow the spec in force.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const SHELLS: &[&str] = &["bash", "fish", "powershell", "zsh"];

const BASH: &str = r#"# epilot completion for bash
_epilot() {
    local line="${COMP_LINE:0:$COMP_POINT}"
    local cur="${COMP_WORDS[COMP_CWORD]}"
    # bash splits words at = : @, so the word it replaces may be only the end of ours.
    local word="${line##*[[:space:]]}"
    local keep="${word%"$cur"}"
    local IFS=$'\n'
    local candidate
    COMPREPLY=()
    for candidate in $(command epilot __complete --line "$line" --shell bash 2>/dev/null); do
        COMPREPLY+=("${candidate#"$keep"}")
    done
    if [[ ${#COMPREPLY[@]} -eq 1 && ( ${COMPREPLY[0]} == *= || ${COMPREPLY[0]} == */ ) ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -F _epilot epilot
"#;

const ZSH: &str = r#"#compdef epilot
# epilot completion for zsh
_epilot() {
    local line="${BUFFER[1,CURSOR]}"
    local -a candidates open closed
    candidates=("${(@f)$(command epilot __complete --line "$line" --shell zsh 2>/dev/null)}")
    local candidate
    for candidate in $candidates; do
        [[ -z $candidate ]] && continue
        if [[ $candidate == *= || $candidate == */ ]]; then open+=("$candidate"); else closed+=("$candidate"); fi
    done
    (( ${#open} )) && compadd -Q -S '' -- $open
    (( ${#closed} )) && compadd -Q -- $closed
}
compdef _epilot epilot
"#;

const FISH: &str = r#"# epilot completion for fish
function __epilot_complete
    command epilot __complete --line (commandline -cp) --shell fish 2>/dev/null
end
complete -c epilot -f -a '(__epilot_complete)'
"#;

const POWERSHELL: &str = r#"# epilot completion for PowerShell
Register-ArgumentCompleter -Native -CommandName epilot -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $line = $commandAst.ToString()
    $upTo = $cursorPosition - $commandAst.Extent.StartOffset
    if ($upTo -lt $line.Length) { $line = $line.Substring(0, $upTo) }
    elseif ($upTo -gt $line.Length) { $line = $line + ' ' }
    & epilot __complete --line $line --shell powershell 2>$null | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
"#;

pub fn script(shell: &str) -> Result<&'static str> {
    match shell {
        "bash" => Ok(BASH),
        "zsh" => Ok(ZSH),
        "fish" => Ok(FISH),
        "powershell" | "pwsh" => Ok(POWERSHELL),
        other => Err(
            Error::usage(format!("no completion for the shell `{other}`"))
                .with_help(format!("choose one of: {}", SHELLS.join(", "))),
        ),
    }
}

/// The shell to install for: the one named, else the one in `$SHELL`.
pub fn detect(named: Option<&str>, shell_var: Option<&str>) -> Result<String> {
    if let Some(shell) = named {
        return Ok(shell.to_string());
    }
    let from_env = shell_var
        .and_then(|s| {
            Path::new(s)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|s| script(s).is_ok());
    from_env.ok_or_else(|| {
        Error::usage("cannot tell which shell to install for").with_help(format!(
            "name it: epilot completion --install <{}>",
            SHELLS.join("|")
        ))
    })
}

/// `text` as one PowerShell single-quoted string: inside one, only a quote is special, and it
/// is written twice. PowerShell takes the typographic single quotes (U+2018 to U+201B) for
/// quotes too, so they are doubled as well.
fn powershell_quoted(text: &str) -> String {
    let mut quoted = String::from("'");
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2018}'..='\u{201b}') {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

/// A path as it may go into a start-up line: UTF-8 (the line is text) and on one line (the
/// line is recognised by comparing lines).
fn line_path(path: &Path) -> Result<&str> {
    path.to_str()
        .filter(|text| !text.chars().any(char::is_control))
        .ok_or_else(|| {
            Error::usage(format!(
                "cannot name {} in a start-up file: it is not UTF-8 or has control characters",
                crate::state::paths::escape_controls(&path.to_string_lossy())
            ))
            .with_help("print the script with `epilot completion <shell>` and load it from a path of your choice")
        })
}

/// Where each shell looks for the script, and the start-up file line, if one is needed. Every
/// path in a start-up line is quoted for its shell; zsh's names the folder as `~/.zfunc`,
/// which zsh expands without splitting or re-reading it, whatever the home folder's name.
fn target(
    shell: &str,
    home: &Path,
    xdg_data: Option<&Path>,
    xdg_config: Option<&Path>,
) -> Result<(PathBuf, Option<(PathBuf, String)>)> {
    let data = xdg_data
        .map(Path::to_path_buf)
        .unwrap_or_else(|| home.join(".local/share"));
    let config = xdg_config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| home.join(".config"));
    Ok(match shell {
        "bash" => (data.join("bash-completion/completions/epilot"), None),
        "zsh" => (
            home.join(".zfunc/_epilot"),
            Some((
                home.join(".zshrc"),
                "fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit".into(),
            )),
        ),
        "fish" => (config.join("fish/completions/epilot.fish"), None),
        _ => {
            let script = config.join("powershell/epilot-completion.ps1");
            let line = format!(". {}", powershell_quoted(line_path(&script)?));
            (
                script,
                Some((
                    config.join("powershell/Microsoft.PowerShell_profile.ps1"),
                    line,
                )),
            )
        }
    })
}

/// Writes the script where `shell` finds it (adding one line to the start-up file where the
/// shell needs it) and says what changed.
pub fn install(
    shell: &str,
    home: &Path,
    xdg_data: Option<&Path>,
    xdg_config: Option<&Path>,
) -> Result<String> {
    let text = script(shell)?;
    let shell = if shell == "pwsh" { "powershell" } else { shell };
    let (path, startup) = target(shell, home, xdg_data, xdg_config)?;
    // The script is epilot's own file: a link in its place is replaced, never written through.
    crate::state::paths::write_atomically_as(&path, text.as_bytes(), own_file_mode(&path)?)?;
    let mut report = format!(
        "wrote the {shell} completion script to {}\n",
        path.display()
    );
    if let Some((rc, line)) = startup {
        report.push_str(&add_line(&rc, &line)?);
    }
    report.push_str("open a new shell (or source the file) to use it\n");
    Ok(report)
}

/// Adds `line` to the start-up file `rc` unless it is there already. The file is edited where
/// it really lives (dotfile managers link `~/.zshrc` into a repository) and keeps its mode (a
/// 0600 file stays private); its other bytes are kept as they are, UTF-8 or not.
fn add_line(rc: &Path, line: &str) -> Result<String> {
    let real = real_path(rc)?;
    let existing = match std::fs::read(&real) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(Error::usage(format!("cannot read {}: {e}", real.display()))
                .with_help(format!("add this line to it yourself: {line}")))
        }
    };
    if String::from_utf8_lossy(&existing)
        .lines()
        .any(|l| l.trim() == line)
    {
        return Ok(format!("{} already loads it\n", rc.display()));
    }
    let eol = line_ending(&existing);
    let mut updated = existing;
    if !updated.is_empty() && !updated.ends_with(b"\n") {
        updated.extend_from_slice(eol.as_bytes());
    }
    updated.extend_from_slice(format!("# epilot completion{eol}{line}{eol}").as_bytes());
    crate::state::paths::write_atomically_as(&real, &updated, kept_mode(&real)?)?;
    Ok(format!("added to {}: {line}\n", rc.display()))
}

/// The line ending a file already uses: CRLF when its first line ends so, else LF.
fn line_ending(bytes: &[u8]) -> &'static str {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(at) if at > 0 && bytes[at - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The file a link at `path` leads to (so writing replaces the target, not the link); `path`
/// itself when it is no link or does not exist yet.
fn real_path(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|e| {
            Error::usage(format!("cannot follow the link {}: {e}", path.display()))
                .with_help("make sure the file it points to exists, then try again")
        }),
        _ => Ok(path.to_path_buf()),
    }
}

/// The permissions of the script about to be replaced when it is a file (a link is replaced
/// by a new file with the default permissions).
fn own_file_mode(path: &Path) -> Result<crate::state::paths::Mode> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Ok(crate::state::paths::Mode::Default),
        _ => kept_mode(path),
    }
}

/// The permissions of the file about to be replaced, so the new one has the same.
fn kept_mode(path: &Path) -> Result<crate::state::paths::Mode> {
    match std::fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            Ok(crate::state::paths::Mode::Exactly(
                meta.permissions().mode(),
            ))
        }
        #[cfg(not(unix))]
        Ok(_) => Ok(crate::state::paths::Mode::Default),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(crate::state::paths::Mode::Default)
        }
        Err(e) => Err(Error::usage(format!("cannot read {}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_calls_the_engine() {
        for shell in SHELLS {
            assert!(
                script(shell).unwrap().contains("epilot __complete --line"),
                "{shell}"
            );
        }
        assert!(script("tcsh").is_err());
        for shell in ["bash", "zsh", "fish", "powershell"] {
            assert!(script(shell)
                .unwrap()
                .contains(&format!(" --shell {shell} ")));
        }
    }

    #[test]
    fn the_shell_comes_from_the_argument_or_shell_variable() {
        assert_eq!(detect(Some("fish"), Some("/bin/zsh")).unwrap(), "fish");
        assert_eq!(detect(None, Some("/usr/bin/zsh")).unwrap(), "zsh");
        assert!(detect(None, Some("/bin/tcsh")).is_err());
        assert!(detect(None, None).is_err());
    }

    /// PowerShell's reading of a single-quoted string, to check the quoting against.
    fn powershell_unquoted(quoted: &str) -> Option<String> {
        let quote = |c: char| matches!(c, '\'' | '\u{2018}'..='\u{201b}');
        let mut chars = quoted.chars().peekable();
        if !chars.next().is_some_and(quote) {
            return None;
        }
        let mut text = String::new();
        while let Some(c) = chars.next() {
            if quote(c) {
                match chars.next() {
                    Some(next) if quote(next) => text.push(next),
                    None => return Some(text),
                    Some(_) => return None,
                }
            } else {
                text.push(c);
            }
        }
        None
    }

    #[test]
    fn powershell_quoting_survives_any_path() {
        for path in [
            "/home/ada/x.ps1",
            "/tmp/a'b/x.ps1",
            "/tmp/'; Remove-Item -Recurse ~; '/x.ps1",
            "/tmp/\u{2019}; calc; \u{2018}/x.ps1",
            "/tmp/$(calc) `n \"q\" /x.ps1",
            "''",
        ] {
            let quoted = powershell_quoted(path);
            assert_eq!(
                powershell_unquoted(&quoted).as_deref(),
                Some(path),
                "{quoted}"
            );
        }
        assert_eq!(powershell_quoted("/a'b"), "'/a''b'");
    }

    #[test]
    fn a_startup_file_keeps_its_line_ending() {
        assert_eq!(line_ending(b"a\r\nb\r\n"), "\r\n");
        assert_eq!(line_ending(b"a\nb\r\n"), "\n");
        assert_eq!(line_ending(b""), "\n");
        assert_eq!(line_ending(b"\n"), "\n");
    }

    #[test]
    fn install_writes_the_script_and_the_startup_line_once() {
        let home = tempfile::tempdir().unwrap();
        let first = install("zsh", home.path(), None, None).unwrap();
        assert!(
            first.contains(".zfunc/_epilot") && first.contains("added to"),
            "{first}"
        );
        let second = install("zsh", home.path(), None, None).unwrap();
        assert!(second.contains("already loads it"), "{second}");
        let rc = std::fs::read_to_string(home.path().join(".zshrc")).unwrap();
        assert_eq!(rc.matches("fpath=(~/.zfunc").count(), 1);
        let bash = install("bash", home.path(), None, None).unwrap();
        assert!(
            home.path()
                .join(".local/share/bash-completion/completions/epilot")
                .is_file(),
            "{bash}"
        );
    }
}
