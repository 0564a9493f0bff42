//! serde_yaml 0.9 (as epilot uses it: flow-depth pre-scan, `serde_yaml::Value`, conversion)
//! against serde-saphyr (as epilot would use it: budgets, straight into `serde_json::Value`).
//!
//!     yaml-parsers gen <json-dir> <out-dir>          corpus as YAML, via serde_yaml's serializer
//!     yaml-parsers corpus <yaml-dir> <json-dir> <passes>   time both, check equality with the JSON
//!     yaml-parsers mem <old|new> <yaml-dir>           parse every file once (run under GNU time)
//!     yaml-parsers hostile <old|new> [case]           each hostile input: outcome and time
//!     yaml-parsers edges                              how both read YAML's edge cases
//!     yaml-parsers same <file.yaml>                   whether both read it to the same value
//!     yaml-parsers stats <yaml-dir>                   depth, nodes, aliases of each document

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

mod new;
mod old;

const WHICH: [&str; 2] = ["old", "new"];

type Parse = fn(&str) -> Result<Value, String>;

fn parser(name: &str) -> Parse {
    match name {
        "old" => old::parse,
        "new" => new::parse,
        _ => panic!("parser is `old` or `new`"),
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["gen", json, out] => gen(Path::new(json), Path::new(out)),
        ["corpus", yaml, json, passes] => {
            corpus(Path::new(yaml), Path::new(json), passes.parse().unwrap())
        }
        ["mem", which, yaml] => {
            let parse = parser(which);
            for path in files(Path::new(yaml), "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
        ["hostile", which] => hostile(parser(which), None),
        ["hostile", which, case] => hostile(parser(which), Some(case)),
        ["edges"] => edges(),
        ["same", file] => {
            let text = std::fs::read_to_string(file).unwrap();
            let (old, new) = (old::parse(&text).unwrap(), new::parse(&text).unwrap());
            println!(
                "{file}: {}",
                if old == new {
                    "the same value"
                } else {
                    "DIFFERENT values"
                }
            );
        }
        ["stats", yaml] => {
            for path in files(Path::new(yaml), "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                println!("{}: {}", path.display(), new::report(&text));
            }
        }
        _ => panic!("see the module documentation for usage"),
    }
}

fn gen(json: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    for path in files(json, "json") {
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let target = out.join(path.file_name().unwrap()).with_extension("yaml");
        std::fs::write(target, serde_yaml::to_string(&value).unwrap()).unwrap();
    }
}

fn corpus(yaml: &Path, json: &Path, passes: usize) {
    let mut docs = Vec::new();
    for path in files(yaml, "yaml") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let original: Value = serde_json::from_str(
            &std::fs::read_to_string(json.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        docs.push((name, text, original));
    }
    let bytes: usize = docs.iter().map(|(_, t, _)| t.len()).sum();
    println!(
        "{} documents, {:.2} MB of YAML",
        docs.len(),
        bytes as f64 / 1e6
    );
    for which in WHICH {
        let parse = parser(which);
        let (mut equal, mut errors) = (0, 0);
        for (name, text, original) in &docs {
            match parse(text) {
                Ok(v) if &v == original => equal += 1,
                Ok(_) => println!("  {which}: {name} parses to a different value"),
                Err(e) => {
                    errors += 1;
                    println!("  {which}: {name}: {e}")
                }
            }
        }
        println!("{which}: {equal} equal to the JSON, {errors} errors");
    }
    let mut totals = [Vec::new(), Vec::new()];
    for _ in 0..passes {
        for (i, which) in WHICH.into_iter().enumerate() {
            let parse = parser(which);
            let started = Instant::now();
            for (_, text, _) in &docs {
                std::hint::black_box(parse(text).unwrap());
            }
            totals[i].push(started.elapsed());
        }
    }
    for (i, which) in WHICH.into_iter().enumerate() {
        let t = &mut totals[i];
        t.sort();
        println!(
            "{which}: min {:.1} ms, median {:.1} ms, max {:.1} ms over {passes} passes",
            ms(t[0]),
            ms(t[t.len() / 2]),
            ms(t[t.len() - 1])
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn hostile_cases() -> Vec<(&'static str, String)> {
    let head = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n";
    let laughs = {
        let mut s = format!("{head}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            s.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                [prev.as_str(); 10].join(", ")
            ));
        }
        s
    };
    let many_aliases = {
        let mut s = format!("{head}base: &b {{a: 1}}\nx:\n");
        for _ in 0..100_000 {
            s.push_str("  - *b\n");
        }
        s
    };
    vec![
        (
            "flow [[[ 200 KB",
            format!("{head}x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "flow {a: 50k",
            format!(
                "{head}x: {}1{}\n",
                "{a: ".repeat(50_000),
                "}".repeat(50_000)
            ),
        ),
        (
            "flow [[[ unclosed 200 KB",
            format!("{head}x: {}\n", "[".repeat(200_000)),
        ),
        (
            "block a: 50k levels (1.25 GB)",
            format!(
                "{head}{}",
                (0..50_000)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        (
            "block a: 5k levels (12.5 MB)",
            format!(
                "{head}{}",
                (0..5_000)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        (
            "block a: 2k levels (2 MB)",
            format!(
                "{head}{}",
                (0..2_000)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        (
            "explicit keys ? ? ? 50k",
            format!("{head}x:\n{}1\n", "? ".repeat(50_000)),
        ),
        (
            "- a: nesting 50k",
            format!("{head}x:\n{}1\n", "- a: ".repeat(50_000)),
        ),
        (
            "block - - - 50k",
            format!("{head}x:\n{}1\n", "- ".repeat(50_000)),
        ),
        (
            "block 600 levels (test)",
            format!(
                "{head}{}",
                (0..600)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        ("billion laughs", laughs),
        ("100k aliases of one anchor", many_aliases),
        (
            "10 MB scalar",
            format!("{head}x: {}\n", "a".repeat(10_000_000)),
        ),
        (
            "10 MB key",
            format!("{head}{}: 1\n", "a".repeat(10_000_000)),
        ),
        ("duplicate keys", format!("{head}x: 1\nx: 2\n")),
        (
            "tags",
            format!("{head}x: !custom {{a: !!str 1, b: !foo [1]}}\n"),
        ),
        (
            "non-string keys",
            format!("{head}x: {{200: a, true: b, 1.5: c, ~: d}}\n"),
        ),
        (
            "collection key",
            format!("{head}x: {{? [{}] : a}}\n", "1, ".repeat(100_000)),
        ),
        ("1e400", format!("{head}x: 1e400\n")),
        ("0x1F", format!("{head}x: 0x1F\n")),
        (".inf", format!("{head}x: .inf\n")),
        ("yes/on", format!("{head}x: [yes, on, no, off, y, n]\n")),
        (
            "merge keys",
            format!("{head}base: &b {{a: 1}}\nx:\n  <<: *b\n  c: 2\n"),
        ),
        (
            "1M-element flow list (3 MB)",
            format!("{head}x: [{}]\n", "1, ".repeat(1_000_000)),
        ),
        ("unknown anchor", format!("{head}x: *nope\n")),
        ("two documents", format!("{head}---\n{head}")),
        ("broken indentation", format!("{head}x:\n  - a\n  b: c\n")),
    ]
}

fn hostile(parse: Parse, only: Option<&str>) {
    for (name, text) in hostile_cases() {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let started = Instant::now();
        let outcome = parse(&text);
        let took = started.elapsed();
        let shown = match outcome {
            Ok(v) => {
                let mut s = v.get("x").map_or("(no x)".to_string(), |x| x.to_string());
                if s.len() > 100 {
                    s = format!("{}… ({} bytes)", &s[..100], s.len());
                }
                format!("ok: x = {s}")
            }
            Err(e) => format!("error: {}", if e.len() > 200 { &e[..200] } else { &e }),
        };
        println!("| {name} | {:.3} s | {shown} |", took.as_secs_f64());
    }
}

fn edges() {
    let cases = [
        "big: 1e400",
        "hex: 0x1F",
        "oct: 0o17",
        "lead: 017",
        "inf: .inf",
        "nan: .nan",
        "yes: yes",
        "on: on",
        "n: ~",
        "t: !custom {a: 1}",
        "t2: !custom 5",
        "t3: !!str 5",
        "dup: 1\ndup: 2",
        "200: ok",
        "true: x",
        "~: x",
        "1.5: x",
        "1e3: x",
        "? [1, 2]\n: a",
        "? {a: 1}\n: a",
        "big: 123456789012345678901234",
        "u: 18446744073709551615",
        "f: 1.0",
        "u1: 1_000",
        "base: &b {a: 1}\nx:\n  <<: *b\n  c: 2",
        "ts: 2001-12-14",
        "bin: !!binary aGVsbG8=",
        "plus: +12",
        "ver: 3.0.0",
        "y: Y",
        "bT: True",
        "e:",
        "esc: \"\\e[31m\"",
        "",
        "# only a comment",
        "x: \"\\u001b]0;t\\u0007\"\n\"\\e]0;k\": 1\n\"\\e]0;k\": 2",
    ];
    for c in cases {
        println!(
            "{c:?}\n  old: {:?}\n  new: {:?}",
            old::parse(c),
            new::parse(c)
        );
    }
}
