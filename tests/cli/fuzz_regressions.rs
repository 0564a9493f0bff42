//! Replays every input the fuzzers found (and the hostile specs written by hand) in
//! tests/fixtures/fuzz/<target>/ through the same entry points, each within a time limit:
//! none may panic, hang or exhaust memory.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            run(&data);
            let _ = done.send(());
        });
        match finished.recv_timeout(Duration::from_secs(20)) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{} took longer than 20 s", input.display())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{} panicked", input.display()),
        }
    }
}

#[test]
fn spec_loading_inputs() {
    replay("spec_load", epilot::fuzzing::load_spec_and_render);
}

#[test]
fn parameter_inputs() {
    replay("params", epilot::fuzzing::parameters_to_request);
}

#[test]
fn body_validation_inputs() {
    replay("body_validation", epilot::fuzzing::validate_body);
}

#[test]
fn hostile_specs_fail_fast_through_the_binary() {
    let sandbox = crate::util::Sandbox::new();
    let spec = |name: &str| crate::util::fixture(&format!("fuzz/spec_load/{name}"));
    let started = std::time::Instant::now();
    let laughs = sandbox
        .epilot()
        .args(["x", "--definition", &spec("billion-laughs.yaml")])
        .output()
        .unwrap();
    assert_eq!(laughs.status.code(), Some(4));
    assert!(crate::util::stderr_of(&laughs).contains("repetition limit exceeded"));
    let deep = sandbox
        .epilot()
        .args(["x", "--definition", &spec("deep.json")])
        .output()
        .unwrap();
    assert!(crate::util::stderr_of(&deep).contains("recursion limit exceeded at line 1"));
    let cyclic = sandbox
        .epilot()
        .args(["x", "b", "-d", "{}", "--definition", &spec("cyclic.json")])
        .output()
        .unwrap();
    assert_eq!(cyclic.status.code(), Some(4));
    assert!(
        crate::util::stderr_of(&cyclic).contains("refers back to itself"),
        "{}",
        crate::util::stderr_of(&cyclic)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn url_build_inputs() {
    replay("url_build", epilot::fuzzing::url_from_template);
}
