//! epilot's YAML reading as it is today: the crate's own `parse_document`, not a copy.

use serde_json::Value;

pub fn parse(trimmed: &str) -> Result<Value, String> {
    let origin = epilot::spec::source::Origin::File("bench.yaml".into());
    epilot::spec::source::parse_document(trimmed, &origin).map_err(|e| e.message)
}
