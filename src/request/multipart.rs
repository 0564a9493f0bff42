//! `multipart/form-data` encoding (RFC 7578) for `-F` fields.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::input::body::{FormField, FormValue};

/// A boundary that is vanishingly unlikely to occur in the parts.
pub fn boundary() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let a = hasher.finish();
    hasher.write_u64(a);
    format!("epilot-{a:016x}{:016x}", hasher.finish())
}

/// A name or file name inside `"..."`, escaped as browsers (WHATWG) and curl do, so that
/// `--dry-run`'s curl line sends the same part headers.
fn quote(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn encode(fields: &[FormField], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match &field.value {
            FormValue::Text(text) => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                        quote(&field.name)
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(text.as_bytes());
            }
            FormValue::File {
                file_name,
                contents,
                ..
            } => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                        quote(&field.name),
                        quote(file_name)
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(contents);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_text_and_file_parts() {
        let fields = vec![
            FormField {
                name: "title".into(),
                value: FormValue::Text("Hi".into()),
            },
            FormField {
                name: "file".into(),
                value: FormValue::File {
                    path: "/tmp/a.bin".into(),
                    file_name: "a.bin".into(),
                    contents: vec![0, 1],
                },
            },
        ];
        let body = encode(&fields, "B");
        let mut expected = b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
        expected.extend_from_slice(&[0, 1]);
        expected.extend_from_slice(b"\r\n--B--\r\n");
        assert_eq!(body, expected);
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(boundary(), boundary());
    }
}
