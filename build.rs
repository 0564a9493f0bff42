//! Compiles the bundled definitions (`definitions/*.yaml|json`) into compact JSON text that the
//! binary embeds, so start-up parses JSON (fast) instead of YAML and the binary needs no files.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=definitions");
    let mut entries: Vec<(String, String)> = Vec::new();
    for dir_entry in fs::read_dir("definitions").expect("definitions/ exists") {
        let path = dir_entry.expect("readable definitions/").path();
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        let value: serde_json::Value =
            match ext {
                "json" => serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
                "yaml" | "yml" => serde_yaml::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
                _ => continue,
            };
        println!("cargo:rerun-if-changed={}", path.display());
        entries.push((name, serde_json::to_string(&value).unwrap()));
    }
    entries.sort();
    let mut out = String::from("/// (api name, OpenAPI document as compact JSON)\npub const BUNDLED: &[(&str, &str)] = &[\n");
    for (name, json) in &entries {
        out.push_str(&format!("    ({name:?}, {json:?}),\n"));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("bundled.rs"),
        out,
    )
    .unwrap();
}
