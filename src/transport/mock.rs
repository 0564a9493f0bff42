//! `--mock`: the operation's documented answer, made up offline. It runs after all input
//! handling, so a mock call checks the input exactly as a real one would, and its answer
//! goes through the same output path (`--jsonata`, `-i`, `--json`).

use std::io::Write;

use serde_json::Value;

use crate::spec::Operation;
use crate::transport::Response;
use crate::validate::sample::{valid_sample_within_budget, Fit, MAX_SAMPLE_BYTES};
use crate::validate::Direction;

/// The status a response key stands for: `201` → 201, `2XX` and `default` → 200.
pub fn status_of(key: &str) -> u16 {
    key.parse()
        .ok()
        .filter(|s| (100..600).contains(s))
        .unwrap_or(200)
}

/// The answer `--mock` gives; when the sample budget cut the generated sample (a hostile or
/// huge schema), `notes` (stderr) says so, as the answer itself must stay a plain sample.
pub fn response(document: &Value, op: &Operation, notes: &mut dyn Write) -> Response {
    let documented = op.success_response();
    let status = documented.map_or(200, |r| status_of(&r.status));
    let sample = documented.and_then(|r| match (&r.example, &r.schema) {
        (Some(example), _) => Some(example.clone()),
        (None, Some(schema)) => {
            let (sample, fit) = valid_sample_within_budget(document, schema, Direction::Response);
            match fit {
                Fit::Valid => {}
                Fit::Cut => {
                    let _ = writeln!(
                        notes,
                        "note: the mock answer was cut short to fit the sample limits (about {} KB; strings cut end in …)",
                        MAX_SAMPLE_BYTES / 1024
                    );
                }
                Fit::Invalid(why) => {
                    let _ = writeln!(notes, "note: the mock answer is not valid for its own schema, which no placeholder meets: {why}");
                }
            }
            Some(sample)
        }
        (None, None) => None,
    });
    let (content_type, body) = match sample {
        Some(sample) => (
            documented
                .and_then(|r| r.content_type.clone())
                .unwrap_or_else(|| "application/json".into()),
            serde_json::to_vec(&sample).unwrap_or_default(),
        ),
        None => (String::new(), Vec::new()),
    };
    let mut headers = vec![("x-epilot-mock".to_string(), "true".to_string())];
    if !content_type.is_empty() {
        headers.insert(0, ("content-type".to_string(), content_type));
    }
    Response {
        status,
        reason: ureq::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_string(),
        version: "HTTP/1.1".to_string(),
        headers,
        body: Box::new(std::io::Cursor::new(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys() {
        assert_eq!(status_of("201"), 201);
        assert_eq!(status_of("2XX"), 200);
        assert_eq!(status_of("default"), 200);
    }
}
