//! The real epilot specs, when `EPILOT_SPEC_CORPUS` names their folder (ignored by a plain
//! `cargo test`; `.ci/run` includes them): every document loads,
//! lists every operation through the binary, and every operation resolves (or, for a broken
//! node, fails alone with a spec error naming where).

use std::path::PathBuf;

use serde_json::Value;

use crate::util::{stderr_of, stdout_of, Sandbox};

fn corpus() -> Vec<PathBuf> {
    let dir = std::env::var_os("EPILOT_SPEC_CORPUS")
        .expect("EPILOT_SPEC_CORPUS names the folder of the spec corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("EPILOT_SPEC_CORPUS is a folder")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        })
        .collect();
    files.sort();
    files
}

/// A corpus document through the CLI's own loading (never fetched: corpus entries are files).
fn load(name: &str, file: &std::path::Path) -> epilot::spec::LoadedApi {
    let places = epilot::state::paths::Places::from_env(&|_| None).expect("a home folder");
    epilot::spec::load(name, Some(file.to_str().unwrap()), &places, &|_| {
        unreachable!("no URLs")
    })
    .unwrap()
}

fn operation_count(document: &Value) -> usize {
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    document["paths"]
        .as_object()
        .map(|paths| {
            paths
                .values()
                .map(|item| methods.iter().filter(|m| item.get(**m).is_some()).count())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "needs the spec corpus: EPILOT_SPEC_CORPUS=<folder>; .ci/run sets it"]
fn every_corpus_spec_lists_every_operation() {
    let files = corpus();
    assert!(!files.is_empty());
    let sandbox = Sandbox::new();
    for file in &files {
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let output = sandbox
            .epilot()
            .arg(&name)
            .arg("--definition")
            .arg(file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr_of(&output));
        let listed = stdout_of(&output)
            .lines()
            .filter(|l| l.starts_with("  "))
            .count();
        assert_eq!(
            listed,
            operation_count(&document),
            "{name} lists every operation"
        );
    }
}

#[test]
#[ignore = "needs the spec corpus: EPILOT_SPEC_CORPUS=<folder>; .ci/run sets it"]
fn every_corpus_operation_resolves_or_fails_alone() {
    let files = corpus();
    let mut resolved = 0;
    let mut broken = Vec::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let loaded = load(&name, file);
        for entry in &loaded.api.operations {
            match epilot::spec::index::resolve_operation(&loaded.document, entry) {
                Ok(_) => resolved += 1,
                Err(e) => {
                    assert_eq!(e.kind, epilot::error::ErrorKind::Spec);
                    assert!(
                        e.message.contains(" at /"),
                        "the error names where: {}",
                        e.message
                    );
                    broken.push(format!("{name} {}: {}", entry.name, e.message));
                }
            }
        }
    }
    eprintln!(
        "corpus: {resolved} operations resolved, {} broken: {broken:#?}",
        broken.len()
    );
    assert!(
        broken.len() * 100 <= resolved,
        "more than 1% of corpus operations fail: {broken:#?}"
    );
}

#[test]
#[ignore = "needs the spec corpus: EPILOT_SPEC_CORPUS=<folder>; .ci/run sets it"]
fn every_generated_request_sample_passes_validation() {
    use epilot::validate::sample::valid_sample;
    use epilot::validate::{Direction, Schema};
    let files = corpus();
    let (mut checked, mut failures) = (0, Vec::new());
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let loaded = load(&name, file);
        for entry in &loaded.api.operations {
            let op = epilot::spec::index::resolve_operation(&loaded.document, entry).unwrap();
            let Some(schema) = op
                .body
                .as_ref()
                .filter(|b| b.is_json())
                .and_then(|b| b.schema.as_ref())
            else {
                continue;
            };
            let body = valid_sample(&loaded.document, schema, Direction::Request);
            let compiled =
                Schema::compile(&loaded.document, schema, Direction::Request, "body").unwrap();
            let problems = compiled.check_value(&body, "body");
            checked += 1;
            if !problems.is_empty() {
                failures.push(format!("{name} {}: {}", entry.name, problems[0]));
            }
        }
    }
    eprintln!(
        "corpus samples: {checked} bodies checked, {} invalid",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
#[ignore = "needs the spec corpus: EPILOT_SPEC_CORPUS=<folder>; .ci/run sets it"]
fn help_and_docs_render_for_every_corpus_operation() {
    let files = corpus();
    let sandbox = Sandbox::new();
    let mut rendered = 0;
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let loaded = load(&name, file);
        for entry in &loaded.api.operations {
            let op = epilot::spec::index::resolve_operation(&loaded.document, entry).unwrap();
            let text = epilot::output::help::operation_text(
                &name,
                None,
                &loaded.document,
                &op,
                &epilot::output::help::PLAIN,
            );
            assert!(
                text.contains(&format!("{} {}", entry.method.as_str(), entry.path)),
                "{name} {}",
                entry.name
            );
            let model = epilot::output::help::operation_json(&name, &loaded.document, &op);
            assert_eq!(model["name"], entry.name.as_str());
            rendered += 1;
        }
        // And through the binary, for the first operation and the whole docs page.
        if let Some(first) = loaded.api.operations.first() {
            let output = sandbox
                .epilot()
                .args([name.as_str(), first.name.as_str(), "--help", "--definition"])
                .arg(file)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{name} {}: {}",
                first.name,
                stderr_of(&output)
            );
        }
        let docs = sandbox
            .epilot()
            .args(["docs", name.as_str(), "--definition"])
            .arg(file)
            .output()
            .unwrap();
        assert!(docs.status.success(), "docs {name}: {}", stderr_of(&docs));
        assert_eq!(
            stdout_of(&docs).matches("\n### Sample Call\n").count(),
            loaded.api.operations.len(),
            "docs {name}"
        );
    }
    eprintln!("help rendered for {rendered} corpus operations");
}

#[test]
#[ignore = "needs the spec corpus: EPILOT_SPEC_CORPUS=<folder>; .ci/run sets it"]
fn every_corpus_operation_dry_runs_with_its_own_help_examples() {
    let files = corpus();
    let sandbox = Sandbox::new();
    let mut ran = 0;
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let loaded = load(&name, file);
        for entry in &loaded.api.operations {
            let op = epilot::spec::index::resolve_operation(&loaded.document, entry).unwrap();
            let examples = epilot::output::help::examples(
                &epilot::output::help::invocation(&name, None),
                &loaded.document,
                &op,
            );
            // The richest example the help page offers: with the body when there is one.
            let line = examples
                .with_body
                .clone()
                .unwrap_or_else(|| examples.with_params.clone());
            let mut words = epilot::commands::completion::split_line(&line);
            assert_eq!(words.remove(0), "epilot");
            // Files the example names (`-d @body.bin`, `-F file=@file.bin`) exist for the run.
            for word in &words {
                let named = word
                    .strip_prefix('@')
                    .or_else(|| word.split_once("=@").map(|(_, p)| p));
                if let Some(path) = named.filter(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                }) {
                    sandbox.write(path, "sample");
                }
            }
            let output = sandbox
                .epilot()
                .args(&words)
                .args([
                    "--dry-run",
                    "-s",
                    "https://api.example.test",
                    "-t",
                    "token",
                    "--definition",
                ])
                .arg(file)
                .output()
                .unwrap();
            assert!(output.status.success(), "{line}\n{}", stderr_of(&output));
            assert!(
                stdout_of(&output).contains(&format!(
                    "{} https://api.example.test",
                    entry.method.as_str()
                )),
                "{line}"
            );
            ran += 1;
        }
    }
    eprintln!("dry runs: {ran}");
}
