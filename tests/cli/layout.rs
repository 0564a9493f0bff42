//! The source tree keeps its one-way data flow: each part of `src/` names (`crate::<part>`)
//! only the parts after it in `LAYERS`, the order of the README's "How it is built" table.
//! Unit tests (`mod tests`) and comments may name anything.

use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &[
    "app",
    "commands",
    "output",
    "interactive",
    "transport",
    "auth",
    "request",
    "validate",
    "input",
    "env",
    "cli",
    "spec",
    "state",
    "error",
    "text",
];

/// Not parts of the flow: the crate root, the binary, the fuzzers' entry points.
const OUTSIDE: &[&str] = &["lib", "main", "fuzzing"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `src/commands/auth.rs` → `commands`, `src/app.rs` → `app`.
fn part_of(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The parts a file's code names as `crate::<part>`, leaving out comments and unit tests.
fn named_parts(code: &str) -> Vec<String> {
    let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or(code);
    let mut parts = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (_, rest) in line
            .match_indices("crate::")
            .map(|(i, _)| line.split_at(i + 7))
        {
            let part: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            parts.push(part);
        }
    }
    parts
}

#[test]
fn each_part_of_src_imports_only_the_parts_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rank = |part: &str| LAYERS.iter().position(|l| *l == part);
    let mut wrong = Vec::new();
    for file in &files {
        let own = part_of(&src, file);
        if OUTSIDE.contains(&own.as_str()) {
            continue;
        }
        let own_rank = rank(&own)
            .unwrap_or_else(|| panic!("{own} (src/{own}) is missing from LAYERS in this test"));
        let code = std::fs::read_to_string(file).unwrap();
        for named in named_parts(&code) {
            if named != own && rank(&named).is_none_or(|r| r < own_rank) {
                let shown = file.strip_prefix(&src).unwrap().display().to_string();
                wrong.push(format!("src/{shown} names crate::{named}"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports against the flow (see README \"How it is built\"):\n{}",
        wrong.join("\n")
    );
}
