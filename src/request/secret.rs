//! A string whose `Debug` never shows its contents, so requests and options can be logged
//! without leaking tokens. Code that really needs the value calls [`Secret::expose`].

use std::fmt;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// How a credential is shown to people: the scheme word stays, the rest becomes `***` with at
/// most the last 4 characters when the secret is long enough that they reveal nothing useful.
pub fn mask(value: &str) -> String {
    let (scheme, secret) = match value.split_once(' ') {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("basic") =>
        {
            (format!("{scheme} "), rest)
        }
        _ => (String::new(), value),
    };
    let tail: String = if secret.chars().count() >= 24 {
        secret
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    } else {
        String::new()
    };
    format!("{scheme}***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::from("abc".to_string());
        assert_eq!(format!("{s:?}"), "Secret(redacted)");
        assert_eq!(s.expose(), "abc");
    }

    #[test]
    fn mask_keeps_scheme_and_hides_short_secrets_entirely() {
        assert_eq!(mask("Bearer abc"), "Bearer ***");
        assert_eq!(
            mask("Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig1234"),
            "Bearer ***1234"
        );
        assert_eq!(mask("session=xyz"), "***");
    }
}
