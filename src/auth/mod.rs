//! Which token a request carries, and where it may go. Precedence: `--token` >
//! `EPILOT_TOKEN` > the selected profile's stored token > the default stored token. Where it
//! may go is decided on the origin (scheme, host, port) of the URL actually sent: a token not
//! typed on this command line only travels to origins the user chose (the epilot hosts, the
//! profile's server, a `--server` typed on this line), and the same rule covers a profile's
//! headers; no token travels over plain http to another machine unless `--insecure-http`; an
//! expired token is not sent at all.

pub mod credentials;
pub mod login;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::request::secret::Secret;
use crate::request::url::{Origin, Scheme, Url};
use crate::request::Token;
use credentials::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    /// Typed at the prompt on a terminal.
    Prompt,
    Environment,
    Profile(String),
    Default,
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Flag => "--token".into(),
            Source::Prompt => "the typed token".into(),
            Source::Environment => "EPILOT_TOKEN".into(),
            Source::Profile(name) => format!("the stored token of profile `{name}`"),
            Source::Default => "the stored default token".into(),
        }
    }

    /// Not given for this request: read from the environment or the credential store.
    pub fn is_ambient(&self) -> bool {
        matches!(
            self,
            Source::Environment | Source::Profile(_) | Source::Default
        )
    }
}

/// The token in force and where it came from; `store` is opened only when it is needed.
pub fn resolve(
    flag: Option<&str>,
    environment: Option<&str>,
    profile: Option<&str>,
    store: &mut dyn FnMut() -> Result<Box<dyn Store>>,
) -> Result<Option<(Token, Source)>> {
    let token = |value: &str, explicit: bool| Token {
        value: Secret::from(value.trim().to_string()),
        explicit,
    };
    if let Some(value) = flag.filter(|v| !v.trim().is_empty()) {
        return Ok(Some((token(value, true), Source::Flag)));
    }
    if let Some(value) = environment.filter(|v| !v.trim().is_empty()) {
        return Ok(Some((token(value, false), Source::Environment)));
    }
    let store = store()?;
    if let Some(name) = profile {
        if let Some(value) = store.get(&credentials::account(Some(name)))? {
            return Ok(Some((
                token(&value, false),
                Source::Profile(name.to_string()),
            )));
        }
    }
    Ok(store
        .get(&credentials::account(None))?
        .map(|value| (token(&value, false), Source::Default)))
}

/// The claims of a JWT, read without verifying it (only to show and check the expiry).
pub fn claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn expiry(token: &str) -> Option<i64> {
    claims(token)?.get("exp")?.as_f64().map(|e| e as i64)
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `2026-11-27T12:00:00Z` for seconds since 1970 (proleptic Gregorian, UTC).
pub fn iso8601(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// An expired token is an error that says how to get a new one.
pub fn check_not_expired(token: &Token, source: &Source) -> Result<()> {
    match expiry(token.value.expose()) {
        Some(exp) if exp <= now() => Err(Error::usage(format!(
            "{} expired at {}; it was not sent",
            source.describe(),
            iso8601(exp)
        ))
        .with_help("log in again with `epilot auth login` (or store a fresh token with `epilot auth token <token>`)")),
        _ => Ok(()),
    }
}

/// What to do with a token for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Keep it back; the text names what was kept (for one note about everything withheld).
    Withhold(String),
}

/// Whether secrets the user did not give on this command line (stored tokens, `EPILOT_TOKEN`,
/// a profile's organisation and headers) may go to `origin`: an epilot host, or a server the
/// user chose (`chosen`: the selected profile's server, a `--server` typed on this line).
/// A document, an override file or a path template choose nothing.
pub fn may_receive_ambient(origin: &Origin, chosen: &[Origin]) -> bool {
    origin.is_epilot() || chosen.contains(origin)
}

/// Where a request goes, and what the user chose on this command line.
pub struct Destination<'a> {
    /// The URL actually sent.
    pub url: &'a Url,
    /// The selected profile's server and a `--server` on this command line.
    pub chosen: &'a [Origin],
    pub insecure_http: bool,
}

/// Whether a token from `source` may go to `to`. What was typed on this command line goes to
/// the request's own origin; an ambient token only where [`may_receive_ambient`] allows; no
/// token over plain http to another machine unless `--insecure-http`.
pub fn destination(to: &Destination<'_>, source: &Source) -> Result<Decision> {
    let origin = to.url.origin();
    if source.is_ambient() && !may_receive_ambient(origin, to.chosen) {
        return Ok(Decision::Withhold(source.describe()));
    }
    if origin.scheme == Scheme::Http && !origin.is_loopback() && !to.insecure_http {
        return Err(Error::usage(format!(
            "refusing to send {} over plain http to {}: anyone on the way could read it",
            source.describe(),
            origin.host_and_port()
        ))
        .with_help("use an https:// server, or pass --insecure-http if you really mean it"));
    }
    Ok(Decision::Send)
}

/// One line about every secret kept back from `origin`, and how to send them on purpose.
pub fn withheld_note(withheld: &[String], origin: &Origin, base: &Url) -> String {
    let (verb, pronoun) = if withheld.len() == 1 {
        ("was", "it")
    } else {
        ("were", "them")
    };
    format!(
        "note: {} {verb} not sent to {} ({}), which is not an epilot host, the profile's server \
         nor a --server on this command line; to send {pronoun} there on purpose, pass \
         --server {} (or give the token with --token and headers with -H)",
        withheld.join(", "),
        origin.host_and_port(),
        origin.scheme.as_str(),
        // The document's URL, pasted: one shell word, nothing in it runs.
        crate::text::shell_quote(&base.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    struct Memory(RefCell<HashMap<String, String>>);

    impl Store for Memory {
        fn get(&self, account: &str) -> Result<Option<String>> {
            Ok(self.0.borrow().get(account).cloned())
        }
        fn set(&self, account: &str, token: &str) -> Result<()> {
            self.0.borrow_mut().insert(account.into(), token.into());
            Ok(())
        }
        fn delete(&self, account: &str) -> Result<bool> {
            Ok(self.0.borrow_mut().remove(account).is_some())
        }
        fn describe(&self) -> String {
            "memory".into()
        }
    }

    fn store<'a>(entries: &'a [(&'a str, &'a str)]) -> impl FnMut() -> Result<Box<dyn Store>> + 'a {
        move || {
            let map = entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Ok(Box::new(Memory(RefCell::new(map))) as Box<dyn Store>)
        }
    }

    #[test]
    fn precedence_flag_env_profile_default() {
        let entries = [("profile:dev", "p"), ("default", "d")];
        let pick = |flag, env, profile| {
            resolve(flag, env, profile, &mut store(&entries))
                .unwrap()
                .map(|(t, s)| (t.value.expose().to_string(), s))
        };
        assert_eq!(
            pick(Some("f"), Some("e"), Some("dev")),
            Some(("f".into(), Source::Flag))
        );
        assert_eq!(
            pick(None, Some("e"), Some("dev")),
            Some(("e".into(), Source::Environment))
        );
        assert_eq!(
            pick(None, None, Some("dev")),
            Some(("p".into(), Source::Profile("dev".into())))
        );
        assert_eq!(
            pick(None, None, Some("other")),
            Some(("d".into(), Source::Default))
        );
        assert_eq!(pick(None, None, None), Some(("d".into(), Source::Default)));
        assert_eq!(
            resolve(None, Some(" "), None, &mut store(&[])).unwrap(),
            None
        );
        let mut opened = false;
        let _ = resolve(Some("f"), None, None, &mut || {
            opened = true;
            store(&[])()
        });
        assert!(!opened, "the store is not opened when a token was given");
    }

    #[test]
    fn jwt_claims_and_expiry() {
        // {"exp":1700000000,"email":"a@b.c"}
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDAsImVtYWlsIjoiYUBiLmMifQ.sig";
        assert_eq!(expiry(token), Some(1_700_000_000));
        assert_eq!(claims(token).unwrap()["email"], "a@b.c");
        assert_eq!(claims("not-a-jwt"), None);
        let expired = Token {
            value: Secret::from(token.to_string()),
            explicit: true,
        };
        let err = check_not_expired(&expired, &Source::Flag).unwrap_err();
        assert!(
            err.message.contains("expired at 2023-11-14T22:13:20Z"),
            "{}",
            err.message
        );
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    fn decide(url: &str, source: &Source, chosen: &[&str], insecure: bool) -> Result<Decision> {
        let chosen: Vec<Origin> = chosen
            .iter()
            .map(|c| Url::parse(c).unwrap().origin().clone())
            .collect();
        let url = Url::parse(url).unwrap();
        let to = Destination {
            url: &url,
            chosen: &chosen,
            insecure_http: insecure,
        };
        destination(&to, source)
    }

    #[test]
    fn ambient_tokens_go_only_where_the_user_chose() {
        for ambient in [
            Source::Default,
            Source::Profile("p".into()),
            Source::Environment,
        ] {
            let send = |url: &str, chosen: &[&str]| {
                decide(url, &ambient, chosen, false).unwrap() == Decision::Send
            };
            assert!(send("https://user.sls.epilot.io/v2", &[]));
            assert!(send("https://portal.epilot.cloud/x", &[]));
            assert!(!send("https://evil.example/x", &[]));
            assert!(!send("https://epilot.io.evil.example/", &[]));
            assert!(send(
                "https://my.example:8443/x",
                &["https://my.example:8443"]
            ));
            assert!(
                !send("https://my.example:9443/x", &["https://my.example:8443"]),
                "another port is another origin"
            );
            assert!(
                !send("http://127.0.0.1:9/x", &["http://127.0.0.1:8/"]),
                "another port on this machine too"
            );
            assert!(send("http://127.0.0.1:9/x", &["http://127.0.0.1:9/api"]));
        }
        assert_eq!(
            decide("https://evil.example/x", &Source::Default, &[], false).unwrap(),
            Decision::Withhold("the stored default token".into())
        );
    }

    #[test]
    fn typed_tokens_go_to_the_requests_own_origin_but_not_over_plain_http() {
        assert_eq!(
            decide("https://evil.example/x", &Source::Flag, &[], false).unwrap(),
            Decision::Send
        );
        assert_eq!(
            decide("http://127.0.0.1:9/x", &Source::Flag, &[], false).unwrap(),
            Decision::Send
        );
        assert_eq!(
            decide("http://[::1]:9/x", &Source::Prompt, &[], false).unwrap(),
            Decision::Send
        );
        assert!(
            decide("http://user.sls.epilot.io/x", &Source::Flag, &[], false).is_err(),
            "plain http leaves the machine"
        );
        let lookalike = decide("http://127.evil.example/x", &Source::Flag, &[], false);
        assert!(lookalike.unwrap_err().message.contains("127.evil.example"));
        assert_eq!(
            decide("http://user.sls.epilot.io/x", &Source::Flag, &[], true).unwrap(),
            Decision::Send
        );
    }
}
