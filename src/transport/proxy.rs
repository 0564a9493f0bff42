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
    /// The proxy runs on this machine.
    pub loopback: bool,
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

/// Whether `host` matches the comma-separated `no_proxy` list as curl reads it: `*`; for an IP
/// address, the same address or a CIDR range holding it (never a suffix: `.1` is not
/// `127.0.0.1`); for a name, the name or a domain (with or without a leading dot) it is in.
/// An entry with a port matches nothing, as in curl.
pub fn is_exempt(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ip = host.parse::<std::net::IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| match ip {
            _ if entry == "*" => true,
            Some(ip) => ip_matches(ip, entry),
            None => name_matches(&host, &entry.to_ascii_lowercase()),
        })
}

fn name_matches(host: &str, entry: &str) -> bool {
    let entry = entry.trim_end_matches('.');
    let entry = entry
        .strip_prefix("*.")
        .or_else(|| entry.strip_prefix('.'))
        .unwrap_or(entry);
    !entry.is_empty()
        && (host == entry
            || host
                .strip_suffix(entry)
                .is_some_and(|rest| rest.ends_with('.')))
}

/// `entry` is an address or `address/bits`; IPv6 may be bracketed.
fn ip_matches(ip: std::net::IpAddr, entry: &str) -> bool {
    use std::net::IpAddr;
    let (address, bits) = match entry.split_once('/') {
        Some((address, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (address, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let address = address.trim_start_matches('[').trim_end_matches(']');
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    let (ip, address, width) = match (ip, address) {
        (IpAddr::V4(ip), IpAddr::V4(address)) => (
            u128::from(u32::from(ip)),
            u128::from(u32::from(address)),
            32,
        ),
        (IpAddr::V6(ip), IpAddr::V6(address)) => (u128::from(ip), u128::from(address), 128),
        _ => return false,
    };
    // As curl: no bits (or 0) means the whole address.
    let bits = bits.filter(|b| *b != 0).unwrap_or(width);
    if bits > width {
        return false;
    }
    let shift = width - bits;
    let (ip, address) = if shift >= 128 {
        (0, 0)
    } else {
        (ip >> shift, address >> shift)
    };
    ip == address
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
    let rest = &with_scheme[scheme.len() + 3..];
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (userinfo, authority) = match rest.rsplit_once('@') {
        Some((userinfo, authority)) => (Some(userinfo), authority),
        None => (None, rest),
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = host_and_port(authority, default_port)
        .ok_or_else(|| unusable("expected scheme://host:port, with a port from 1 to 65535"))?;
    // Rebuilt with an explicit port, so ureq cannot read the port another way than we did.
    let userinfo = userinfo.map_or_else(String::new, |u| format!("{u}@"));
    let proxy = ureq::Proxy::new(&format!("{scheme}://{userinfo}{host}:{port}"))
        .map_err(|_| unusable("it is not a URL"))?;
    if proxy.port() != port
        || !proxy
            .host()
            .trim_matches(['[', ']'])
            .eq_ignore_ascii_case(host.trim_matches(['[', ']']))
    {
        return Err(unusable("expected scheme://host:port"));
    }
    let shown = format!("{scheme}://{host}:{port} (from {variable})");
    Ok(Chosen {
        proxy,
        shown,
        loopback: is_loopback(&host),
    })
}

/// `host[:port]` read strictly: a name of letters, digits, `.`, `-`, `_`, or a bracketed IPv6
/// address, and a port of digits only from 1 to 65535 (no silent fallback to the default).
fn host_and_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (address, after) = inner.split_once(']')?;
        address.parse::<std::net::Ipv6Addr>().ok()?;
        (format!("[{address}]"), after)
    } else {
        let end = authority.find(':').unwrap_or(authority.len());
        let (host, after) = authority.split_at(end);
        let name_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !name_ok {
            return None;
        }
        (host.to_string(), after)
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => default_port,
        None => return None,
        Some(digits) => {
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            digits.parse::<u16>().ok().filter(|p| *p != 0)?
        }
    };
    Some((host, port))
}

/// Whether traffic to `host` stays on this machine (a proxy there sees nothing new).
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
        assert!(
            !is_exempt("example.com:8080", "api.example.com"),
            "a port: no match, as curl"
        );
        assert!(!is_exempt("example.com", "badexample.com"));
        assert!(is_exempt("*", "anything"));
        assert!(is_exempt("127.0.0.1", "127.0.0.1"));
        assert!(is_exempt("[::1]", "[::1]"));
        assert!(is_exempt("::1", "[::1]"));
        for entry in ["0.1", ".1", "127.0.0.1:9999", "127.0.0.2", "::1"] {
            assert!(!is_exempt(entry, "127.0.0.1"), "{entry}");
        }
        assert!(is_exempt("10.0.0.0/8, 127.0.0.0/8", "127.9.9.9"));
        assert!(!is_exempt("127.0.0.0/8", "128.0.0.1"));
        assert!(is_exempt("fd00::/8", "[fd12::1]"));
        assert!(!is_exempt("127.0.0.0/99", "127.0.0.1"));
        let proxied = env(&[("HTTP_PROXY", "socks5://p"), ("NO_PROXY", "a.test")]);
        assert_eq!(shown(&proxied, "http://a.test/"), None);
    }

    #[test]
    fn unusable_settings_name_the_variable_and_hide_credentials() {
        for (value, why) in [
            ("socks5://p:1080", "SOCKS"),
            ("ftp://p:21", "`ftp` is not a proxy scheme"),
            ("not a proxy", "expected scheme://host:port"),
            ("http://", "not"),
            ("http://p:3128/path?x", "expected scheme://host:port"),
            ("http://127.0.0.1:99999", "port from 1 to 65535"),
            ("http://127.0.0.1:65536", "port from 1 to 65535"),
            ("http://127.0.0.1:-1", "port from 1 to 65535"),
            ("http://127.0.0.1:abc", "port from 1 to 65535"),
            ("http://127.0.0.1:18020x", "port from 1 to 65535"),
            ("127.0.0.1:0", "port from 1 to 65535"),
            ("http://127.0.0.1:", "port from 1 to 65535"),
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
