//! A ready-to-paste `curl` command for `--dry-run`. The token is never printed: the command
//! reads it from `$EPILOT_TOKEN` instead.

use super::{is_sensitive, PreparedRequest};
use crate::input::body::FormValue;
use crate::spec::Method;

/// Single-quotes `text` for POSIX shells.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

pub fn command(request: &PreparedRequest) -> String {
    let mut parts: Vec<String> = vec!["curl".into()];
    if request.method != Method::Get || request.body.is_some() && request.method == Method::Get {
        parts.push(format!("-X {}", request.method.as_str()));
    }
    parts.push(shell_quote(&request.url));
    for header in &request.headers {
        let lower = header.name.to_ascii_lowercase();
        if lower == "user-agent" || (request.form.is_some() && lower == "content-type") {
            continue;
        }
        let value = if lower == "authorization" {
            "\"Authorization: Bearer $EPILOT_TOKEN\"".to_string()
        } else if is_sensitive(&header.name) {
            format!(
                "\"{}: ${}\"",
                header.name,
                header.name.to_ascii_uppercase().replace('-', "_")
            )
        } else {
            shell_quote(&format!("{}: {}", header.name, header.value.expose()))
        };
        parts.push(format!("-H {value}"));
    }
    match (&request.form, &request.body) {
        (Some(fields), _) => {
            for field in fields {
                let value = match &field.value {
                    FormValue::Text(text) => format!("{}={text}", field.name),
                    FormValue::File { path, .. } => format!("{}=@{path}", field.name),
                };
                parts.push(format!("-F {}", shell_quote(&value)));
            }
        }
        (None, Some(body)) => match std::str::from_utf8(body) {
            Ok(text) => parts.push(format!("--data-raw {}", shell_quote(text))),
            Err(_) => parts.push("--data-binary @BODY_FILE".into()),
        },
        (None, None) => {}
    }
    parts.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Header;
    use crate::secret::Secret;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("https://a.io/x?y=1"), "'https://a.io/x?y=1'");
        assert_eq!(shell_quote("plain-word"), "plain-word");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn token_is_replaced_by_the_environment_variable() {
        let request = PreparedRequest {
            method: Method::Post,
            url: "https://a.io/x".into(),
            headers: vec![
                Header {
                    name: "Authorization".into(),
                    value: Secret::from("Bearer s3cret".to_string()),
                },
                Header {
                    name: "Content-Type".into(),
                    value: Secret::from("application/json".to_string()),
                },
            ],
            body: Some(b"{\"a\":\"b c\"}".to_vec()),
            form: None,
        };
        let curl = command(&request);
        assert!(!curl.contains("s3cret"));
        assert_eq!(
            curl,
            "curl \\\n  -X POST \\\n  https://a.io/x \\\n  -H \"Authorization: Bearer $EPILOT_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{\"a\":\"b c\"}'"
        );
    }
}
