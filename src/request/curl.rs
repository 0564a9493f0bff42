//! A ready-to-paste `curl` command for `--dry-run` that sends what epilot sends. Every word
//! goes through [`shell_quote`], so nothing from a definition or the command line can run
//! when the line is pasted. Credentials are never printed: the command reads them from the
//! environment: `$EPILOT_TOKEN` for a token epilot itself read from there or from the
//! credential store, `$EPILOT_HEADER_<NAME>` for every other masked header.

use std::fmt::Write;

use super::{Header, PreparedRequest, Token};
use crate::input::body::{FormField, FormValue};
use crate::spec::Method;
use crate::text::shell_quote;

/// The name of the environment variable a masked header's value is read from. The header
/// name comes from a definition, so the variable is in epilot's own namespace: named after
/// the header alone (`$GITHUB_TOKEN` for `GitHub-Token`), the pasted line would send a
/// secret the user keeps for another program to the definition's host.
fn variable_for(header: &str) -> String {
    let name: String = header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("EPILOT_HEADER_{name}")
}

/// Whether `header` is the one epilot built from a token it read from `$EPILOT_TOKEN` or the
/// credential store: only that one reads `$EPILOT_TOKEN`. A typed `--token` or
/// `-H 'Authorization: ...'` is another secret, and the ambient token must not go where
/// epilot itself would not send it.
fn carries_ambient_token(header: &Header, token: Option<&Token>) -> bool {
    token.is_some_and(|token| {
        !token.explicit
            && header.name.eq_ignore_ascii_case("authorization")
            && header.value.expose().strip_prefix("Bearer ") == Some(token.value.expose())
    })
}

/// The variable for a masked header: [`variable_for`] its name, numbered (`_2`, `_3`) when
/// another masked header already reads that one (a profile's `Cookie` and a typed one carry
/// two values; `X-Key` and `X_Key` map to one name).
fn unused_variable(header: &str, taken: &[String]) -> String {
    let base = variable_for(header);
    std::iter::once(base.clone())
        .chain((2..).map(|n| format!("{base}_{n}")))
        .find(|v| !taken.contains(v))
        .unwrap_or(base)
}

/// The `-H` argument for one header, and the variable it reads, if any (`taken`: those read
/// already). curl drops a header given as `Name:` with nothing after it, so an empty value
/// is written `Name;`, curl's way of sending it empty.
fn header_argument(
    header: &Header,
    token: Option<&Token>,
    taken: &[String],
) -> (String, Option<String>) {
    let (name, value) = (header.name.as_str(), header.value.expose());
    if carries_ambient_token(header, token) {
        let argument = "\"Authorization: Bearer $EPILOT_TOKEN\"".to_string();
        return (argument, Some("EPILOT_TOKEN".into()));
    }
    if header.masked {
        let variable = unused_variable(name, taken);
        let argument = format!("{}\"${variable}\"", shell_quote(&format!("{name}: ")));
        return (argument, Some(variable));
    }
    if value.is_empty() {
        return (shell_quote(&format!("{name};")), None);
    }
    (shell_quote(&format!("{name}: {value}")), None)
}

/// The comment line that names the variables the command reads.
fn variables_comment(variables: &[String]) -> String {
    match variables {
        [] => String::new(),
        [one] => format!("# set {one} in the environment first\n"),
        [first @ .., last] => format!(
            "# set {} and {last} in the environment first\n",
            first.join(", ")
        ),
    }
}

/// Text inside a double-quoted word of curl's `-F` syntax.
fn form_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One multipart field. Text goes with `--form-string`, which takes the value literally
/// (with `-F`, a leading `@` or `<` reads a file and `;type=` sets the part's type). A file
/// names its part's file name and type, as epilot sends them, instead of letting curl guess.
fn form_argument(field: &FormField) -> String {
    match &field.value {
        FormValue::Text(text) => {
            format!(
                "--form-string {}",
                shell_quote(&format!("{}={text}", field.name))
            )
        }
        FormValue::File {
            path, file_name, ..
        } => format!(
            "-F {}",
            shell_quote(&format!(
                "{}=@{};filename={};type=application/octet-stream",
                field.name,
                form_quoted(path),
                form_quoted(file_name)
            ))
        ),
    }
}

/// A body that a shell word cannot hold (a NUL byte, or not UTF-8) goes through `printf`,
/// whose format string turns `\ooo` back into the same bytes.
fn printf_format(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len() * 2);
    for &b in body {
        match b {
            b'\\' | b'%' => {
                let _ = write!(out, "\\{b:03o}");
            }
            b'\'' => out.push_str("'\\''"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    format!("'{out}'")
}

/// The longest body written as one `--data-raw` word. Linux refuses to start a program with
/// one argument over 128 KiB (`MAX_ARG_STRLEN`), and quoting can make the word longer than
/// the body; a larger body goes through the shell's own `printf`, which no such limit binds.
const LONGEST_WORD: usize = 64 * 1024;

/// The curl command for `request`; `token` is the token epilot decided to send, if any.
pub fn command(request: &PreparedRequest, token: Option<&Token>) -> String {
    let multipart = request.form.as_ref().filter(|_| {
        request
            .header("content-type")
            .is_some_and(|t| t.starts_with("multipart/form-data"))
    });
    let mut prefix = String::new();
    let mut parts: Vec<String> = vec!["curl".into()];
    match request.method {
        Method::Get if request.body.is_none() => {}
        // With `-X HEAD` curl would wait for a body that never comes.
        Method::Head if request.body.is_none() => parts.push("--head".into()),
        method => parts.push(format!("-X {}", method.as_str())),
    }
    parts.push(shell_quote(&request.url));
    // curl reads `[]{}` in a URL as a glob and removes dot segments; epilot sends the URL
    // as it is.
    if request.url.contains(['[', ']', '{', '}']) {
        parts.push("--globoff".into());
    }
    let path = request.url.split(['?', '#']).next().unwrap_or_default();
    if path.split('/').skip(3).any(|s| s == "." || s == "..") {
        parts.push("--path-as-is".into());
    }
    let mut variables: Vec<String> = Vec::new();
    for header in &request.headers {
        // curl writes the multipart type itself, with its own boundary.
        if multipart.is_some() && header.name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let (argument, variable) = header_argument(header, token, &variables);
        parts.push(format!("-H {argument}"));
        variables.extend(variable.filter(|v| !variables.contains(v)));
    }
    match (multipart, &request.body) {
        (Some(fields), _) => parts.extend(fields.iter().map(form_argument)),
        (None, Some(body)) => match std::str::from_utf8(body) {
            Ok(text) if !text.contains('\0') && text.len() <= LONGEST_WORD => {
                parts.push(format!("--data-raw {}", shell_quote(text)))
            }
            _ => {
                prefix = format!("printf {} | ", printf_format(body));
                parts.push("--data-binary @-".into());
            }
        },
        (None, None) => {}
    }
    format!(
        "{}{prefix}{}",
        variables_comment(&variables),
        parts.join(" \\\n  ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::secret::Secret;
    fn header(name: &str, value: &str) -> Header {
        Header::new(name, value)
    }

    fn request(method: Method, headers: Vec<Header>, body: Option<&[u8]>) -> PreparedRequest {
        PreparedRequest {
            method,
            url: "https://a.io/x".into(),
            headers,
            body: body.map(<[u8]>::to_vec),
            form: None,
        }
    }

    fn command_of(request: &PreparedRequest) -> String {
        command(request, None)
    }

    /// What `sh -c 'printf %s <word>'` makes of a quoted word.
    #[cfg(unix)]
    fn through_sh(word: &str) -> Vec<u8> {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {word}"))
            .output()
            .expect("sh runs");
        assert!(output.status.success(), "{word}: {output:?}");
        output.stdout
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("https://a.io/x?y=1"), "'https://a.io/x?y=1'");
        assert_eq!(shell_quote("plain-word"), "plain-word");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("=ls"), "'=ls'");
        assert_eq!(
            shell_quote("a\u{1b}[31mb"),
            "'a'\"$(printf '\\033')\"'[31mb'"
        );
    }

    #[cfg(unix)]
    #[test]
    fn quoted_words_survive_a_real_shell_unchanged() {
        let cases = [
            "",
            "plain",
            "it's",
            "''",
            "$(touch pwned)",
            "`touch pwned`",
            "a b\tc\nd",
            "\\ \\\\ \" ! * ? [a] {b,c} ~ # & ; | < > ( )",
            "$HOME ${HOME} $'x'",
            "=ls -x",
            "Grüße 日本 🎉",
            "\u{1b}[31mred\u{1b}[0m\r",
            "x\u{202e}y\u{7f}\u{85}",
            "\u{1b}",
            "end\n",
            "%s %% \\n",
        ];
        for text in cases {
            let word = shell_quote(text);
            assert!(!word.contains(['\u{1b}', '\r', '\u{202e}']), "{word}");
            assert_eq!(through_sh(&word), text.as_bytes(), "{text:?} as {word}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn binary_bodies_go_through_printf_byte_for_byte() {
        let body: Vec<u8> = (0..=255).collect();
        let format = printf_format(&body);
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf {format}"))
            .output()
            .unwrap();
        assert_eq!(output.stdout, body);
        let curl = command_of(&request(Method::Post, vec![], Some(b"a\0b")));
        assert!(curl.starts_with("printf 'a\\000b' | curl"), "{curl}");
        assert!(curl.ends_with("--data-binary @-"), "{curl}");
    }

    #[test]
    fn a_variable_already_read_is_numbered() {
        let taken = vec!["EPILOT_HEADER_X_KEY".to_string()];
        assert_eq!(unused_variable("Cookie", &taken), "EPILOT_HEADER_COOKIE");
        assert_eq!(unused_variable("X_Key", &taken), "EPILOT_HEADER_X_KEY_2");
        let taken = [taken, vec!["EPILOT_HEADER_X_KEY_2".to_string()]].concat();
        assert_eq!(unused_variable("x-key", &taken), "EPILOT_HEADER_X_KEY_3");
    }

    #[test]
    fn a_large_body_goes_through_printf() {
        let body = "'".repeat(LONGEST_WORD + 1);
        let request = request(Method::Post, vec![], Some(body.as_bytes()));
        let curl = command(&request, None);
        assert!(curl.starts_with("printf '"), "{}", &curl[..40]);
        assert!(curl.ends_with("--data-binary @-"));
    }

    #[test]
    fn only_an_ambient_token_is_read_from_epilot_token() {
        let request = request(
            Method::Post,
            vec![
                header("Authorization", "Bearer s3cret"),
                header("Content-Type", "application/json"),
            ],
            Some(b"{\"a\":\"b c\"}"),
        );
        let ambient = Token {
            value: Secret::from("s3cret".to_string()),
            explicit: false,
        };
        let curl = command(&request, Some(&ambient));
        assert!(!curl.contains("s3cret"));
        assert_eq!(
            curl,
            "# set EPILOT_TOKEN in the environment first\ncurl \\\n  -X POST \\\n  https://a.io/x \\\n  -H \"Authorization: Bearer $EPILOT_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{\"a\":\"b c\"}'"
        );
        let typed = Token {
            explicit: true,
            ..ambient
        };
        let curl = command(&request, Some(&typed));
        assert!(
            !curl.contains("s3cret") && !curl.contains("EPILOT_TOKEN"),
            "{curl}"
        );
        assert!(
            curl.starts_with("# set EPILOT_HEADER_AUTHORIZATION in the environment first\n")
                && curl.contains("-H 'Authorization: '\"$EPILOT_HEADER_AUTHORIZATION\""),
            "{curl}"
        );
    }

    #[test]
    fn masked_headers_read_a_variable_in_epilots_namespace() {
        let curl = command_of(&request(
            Method::Get,
            vec![
                header("X-Api-Key$x`y`", "k"),
                header("1-Token", "t"),
                header("Authorization", "Basic abc"),
                header("X-Empty", ""),
            ],
            None,
        ));
        assert!(
            curl.contains("-H 'X-Api-Key$x`y`: '\"$EPILOT_HEADER_X_API_KEY_X_Y_\""),
            "{curl}"
        );
        assert!(
            curl.contains("-H '1-Token: '\"$EPILOT_HEADER_1_TOKEN\""),
            "{curl}"
        );
        assert!(
            curl.contains("-H 'Authorization: '\"$EPILOT_HEADER_AUTHORIZATION\""),
            "{curl}"
        );
        assert!(curl.contains("-H 'X-Empty;'"), "{curl}");
        assert!(!curl.contains("abc"), "{curl}");
        assert!(
            curl.starts_with(
                "# set EPILOT_HEADER_X_API_KEY_X_Y_, EPILOT_HEADER_1_TOKEN and EPILOT_HEADER_AUTHORIZATION in the environment first\n"
            ),
            "{curl}"
        );
        // A bearer value that is not the token epilot chose is not the token either.
        let typed = command_of(&request(
            Method::Get,
            vec![header("Authorization", "Bearer typed")],
            None,
        ));
        assert!(
            typed.contains("-H 'Authorization: '\"$EPILOT_HEADER_AUTHORIZATION\"")
                && !typed.contains("EPILOT_TOKEN"),
            "{typed}"
        );
    }

    #[test]
    fn form_text_is_literal_and_files_keep_their_name_and_type() {
        let mut request = request(
            Method::Post,
            vec![header("Content-Type", "multipart/form-data; boundary=B")],
            Some(b"..."),
        );
        request.form = Some(vec![
            FormField {
                name: "note".into(),
                value: FormValue::Text("@/etc/passwd;type=text/html".into()),
            },
            FormField {
                name: "file".into(),
                value: FormValue::File {
                    path: "dir/a \"b\".bin".into(),
                    file_name: "a \"b\".bin".into(),
                    contents: vec![1],
                },
            },
        ]);
        let curl = command_of(&request);
        assert!(!curl.contains("Content-Type"), "{curl}");
        assert!(
            curl.contains("--form-string 'note=@/etc/passwd;type=text/html'"),
            "{curl}"
        );
        assert!(
            curl.contains(
                r#"-F 'file=@"dir/a \"b\".bin";filename="a \"b\".bin";type=application/octet-stream'"#
            ),
            "{curl}"
        );
    }

    #[test]
    fn urls_that_curl_would_change_get_the_flags_that_stop_it() {
        let mut r = request(Method::Head, vec![], None);
        r.url = "http://[::1]:8080/a/../b".into();
        let curl = command_of(&r);
        assert!(curl.contains("--head"), "{curl}");
        assert!(curl.contains("--globoff"), "{curl}");
        assert!(curl.contains("--path-as-is"), "{curl}");
        let plain = command_of(&request(Method::Get, vec![], None));
        assert_eq!(plain, "curl \\\n  https://a.io/x");
    }
}
