//! Which proxy a URL goes through, read from the environment as curl reads it: `https_proxy`
//! for https URLs, `http_proxy` for http ones (lowercase first), `all_proxy` for both, and
//! `no_proxy` for exemptions. A setting epilot cannot use is an error naming the variable,
//! never a silent direct connection.

use crate::error::{Error, Result};

/// A snapshot of the proxy variables, taken once per command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    vars: Vec<(&'static str, String)>,
}

const NAMES: [&str; 8] = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// The proxy chosen for one URL.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub proxy: ureq::Proxy,
    /// `scheme://host:port (from VARIABLE)`, without credentials: safe to print.
    pub shown: String,
}

impl ProxyEnv {
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> ProxyEnv {
        let vars = NAMES
            .iter()
            .filter_map(|&name| {
                let value = var(name)?;
                (!value.trim().is_empty()).then(|| (name, value.trim().to_string()))
            })
            .collect();
        ProxyEnv { vars }
    }

    pub fn from_process() -> ProxyEnv {
        ProxyEnv::from_vars(&|name| std::env::var(name).ok())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The proxy for `url`, or none (no variable, or `no_proxy` exempts its host).
    pub fn for_url(&self, url: &str) -> Result<Option<Chosen>> {
        let Ok(uri) = url.parse::<ureq::http::Uri>() else {
            return Ok(None);
        };
        let candidates: [&str; 4] = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => {
                ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            }
            _ => ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
        };
        let Some((variable, value)) = candidates
            .iter()
            .find_map(|&name| self.get(name).map(|value| (name, value)))
        else {
            return Ok(None);
        };
        let host = uri.host().unwrap_or_default();
        let exemptions = self.get("no_proxy").or_else(|| self.get("NO_PROXY"));
        if exemptions.is_some_and(|list| is_exempt(list, host)) {
            return Ok(None);
        }
        parse(variable, value).map(Some)
    }
}

/// Whether `host` matches the comma-separated `no_proxy` list: `*`, a host, or a domain
/// (with or without a leading dot) that the host is in.
pub fn is_exempt(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',').map(str::trim).any(|entry| {
        let entry = entry.to_ascii_lowercase();
        if entry == "*" {
            return true;
        }
        let entry = strip_port(entry.trim_start_matches("*.").trim_start_matches('.'));
        !entry.is_empty()
            && (host == entry
                || host
                    .strip_suffix(entry)
                    .is_some_and(|rest| rest.ends_with('.')))
    })
}

fn strip_port(entry: &str) -> &str {
    if let Some(inner) = entry.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            host
        }
        _ => entry,
    }
}

fn parse(variable: &str, value: &str) -> Result<Chosen> {
    let unusable = |why: &str| {
        Error::usage(format!(
            "the proxy setting {variable}={} is not usable: {why}",
            without_credentials(value)
        ))
        .with_help(format!(
            "set {variable} to http://HOST:PORT (or https://), or unset it to connect directly"
        ))
    };
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let scheme = with_scheme
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    match scheme.as_str() {
        "http" | "https" => {}
        s if s.starts_with("socks") => {
            return Err(unusable(
                "SOCKS proxies are not supported, only http and https ones",
            ))
        }
        other => return Err(unusable(&format!("`{other}` is not a proxy scheme"))),
    }
    let uri: ureq::http::Uri = with_scheme
        .parse()
        .map_err(|_| unusable("it is not a URL"))?;
    let host = uri.host().unwrap_or_default();
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    if !host_ok || !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(unusable("expected scheme://host:port"));
    }
    let proxy = ureq::Proxy::new(&with_scheme).map_err(|_| unusable("it is not a URL"))?;
    let shown = format!(
        "{scheme}://{}:{} (from {variable})",
        proxy.host(),
        proxy.port()
    );
    Ok(Chosen { proxy, shown })
}

/// The value with any `user:password@` replaced, for messages.
fn without_credentials(value: &str) -> String {
    let (scheme, rest) = value.split_once("://").unwrap_or(("", value));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let prefix = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    format!("{prefix}{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyEnv::from_vars(&|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    fn shown(env: &ProxyEnv, url: &str) -> Option<String> {
        env.for_url(url).unwrap().map(|c| c.shown)
    }

    #[test]
    fn each_scheme_reads_its_own_variable_lowercase_first() {
        let only_https = env(&[("HTTPS_PROXY", "http://p:3128")]);
        assert_eq!(shown(&only_https, "http://a.test/"), None);
        assert_eq!(
            shown(&only_https, "https://a.test/").unwrap(),
            "http://p:3128 (from HTTPS_PROXY)"
        );
        let both = env(&[("http_proxy", "lower:1"), ("HTTP_PROXY", "upper:2")]);
        assert_eq!(
            shown(&both, "http://a.test/").unwrap(),
            "http://lower:1 (from http_proxy)"
        );
        let all = env(&[("ALL_PROXY", "http://p")]);
        assert_eq!(
            shown(&all, "https://a.test/").unwrap(),
            "http://p:80 (from ALL_PROXY)"
        );
        assert_eq!(shown(&env(&[("HTTP_PROXY", " ")]), "http://a.test/"), None);
    }

    #[test]
    fn no_proxy_exempts_hosts_and_domains() {
        assert!(is_exempt("localhost, .example.com", "api.example.com"));
        assert!(is_exempt("example.com", "example.com"));
        assert!(is_exempt("example.com:8080", "api.example.com"));
        assert!(!is_exempt("example.com", "badexample.com"));
        assert!(is_exempt("*", "anything"));
        assert!(is_exempt("127.0.0.1", "127.0.0.1"));
        assert!(is_exempt("[::1]", "[::1]"));
        let proxied = env(&[("HTTP_PROXY", "socks5://p"), ("NO_PROXY", "a.test")]);
        assert_eq!(shown(&proxied, "http://a.test/"), None);
    }

    #[test]
    fn unusable_settings_name_the_variable_and_hide_credentials() {
        for (value, why) in [
            ("socks5://p:1080", "SOCKS"),
            ("ftp://p:21", "`ftp` is not a proxy scheme"),
            ("not a proxy", "not a URL"),
            ("http://", "not"),
            ("http://p:3128/path?x", "expected scheme://host:port"),
        ] {
            let error = env(&[("HTTPS_PROXY", value)])
                .for_url("https://a.test/")
                .unwrap_err();
            assert!(error.message.contains("HTTPS_PROXY="), "{}", error.message);
            assert!(error.message.contains(why), "{value}: {}", error.message);
            assert_eq!(error.kind, crate::error::ErrorKind::Usage);
        }
        let error = env(&[("http_proxy", "ftp://user:hunter2@p")])
            .for_url("http://a.test/")
            .unwrap_err();
        assert!(!error.message.contains("hunter2"), "{}", error.message);
        let chosen = env(&[("http_proxy", "http://user:hunter2@p:8")])
            .for_url("http://a.test/")
            .unwrap()
            .unwrap();
        assert!(!chosen.shown.contains("hunter2"));
    }
}
