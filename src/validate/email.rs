//! `format: email`, answered quickly for the plain addresses nearly everyone writes.
//!
//! The validator crate's own check parses every address as if it might carry display text,
//! quoting or a literal domain: about 4,000 instructions an address, the larger part of
//! validating a body full of contacts. An address made of the common characters only is
//! accepted here without that; anything else (quoted parts, `[ip]` domains, punycode, odd
//! lengths) still goes to the crate's check, so the answer is always the crate's.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::{json, Value};

pub fn is_email(text: &str) -> bool {
    is_plain_address(text) || crate_says_email(text)
}

/// `local@domain`: a dot-atom local part of at most 64 characters, and a domain of at least two
/// letter-digit-hyphen labels whose last is letters only. Every such address is valid by
/// RFC 5321 and by the crate's check (a subset, so `false` here decides nothing).
fn is_plain_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(atext));
    if !local_ok || domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
            // `xn--…` and other `??--` labels need the crate's IDNA rules.
            && !label.contains("--")
    };
    labels.len() >= 2
        && labels.iter().all(|label| label_ok(label))
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

fn crate_says_email(text: &str) -> bool {
    static CHECK: OnceLock<Option<Validator>> = OnceLock::new();
    CHECK
        .get_or_init(|| {
            jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&json!({"format": "email"}))
                .ok()
        })
        .as_ref()
        .is_some_and(|check| check.is_valid(&Value::String(text.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_take_the_fast_path() {
        for address in [
            "ada@example.com",
            "first.last+tag@mail.example.co.uk",
            "o'brien@x-y.org",
            "a_b-c@sub.domain.io",
        ] {
            assert!(is_plain_address(address), "{address}");
            assert!(is_email(address), "{address}");
        }
    }

    #[test]
    fn everything_else_gets_the_crates_answer() {
        for (address, valid) in [
            ("bob", false),
            ("@example.com", false),
            ("a..b@example.com", false),
            (".a@example.com", false),
            ("a@-example.com", false),
            ("a@example", true),
            ("\"quoted local\"@example.com", true),
            ("a@[127.0.0.1]", true),
            ("a@[IPv6:::1]", true),
            ("a@b@example.com", false),
            ("a @example.com", false),
        ] {
            assert!(!is_plain_address(address) || valid, "{address}");
            assert_eq!(is_email(address), valid, "{address}");
        }
    }

    /// The fast path must never accept what the crate rejects: compare over many generated
    /// strings built from the characters that matter.
    #[test]
    fn the_fast_path_never_accepts_what_the_crate_rejects() {
        let alphabet = [
            "a", "Z", "0", ".", "-", "@", "+", "_", "\"", "[", "]", "xn--", " ", "é",
        ];
        let mut state = 0x2545_f491_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for _ in 0..20_000 {
            let length = 3 + next() % 14;
            let mut text: String = (0..length)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if next() % 2 == 0 {
                text.push_str("@example.com");
            }
            if is_plain_address(&text) {
                checked += 1;
                assert!(
                    crate_says_email(&text),
                    "{text:?} passed the fast path only"
                );
            }
        }
        assert!(
            checked > 100,
            "only {checked} generated addresses took the fast path"
        );
    }
}
