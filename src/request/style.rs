//! Serialises parameter values by the OpenAPI `style`/`explode` rules, percent-encoding every
//! value so that user text can never change the structure of the URL (`a/b?c` stays one path
//! segment). Pure functions of the model and the values.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::spec::{Param, Style};

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `allowReserved` query values keep reserved characters that cannot break the query apart.
const RESERVED_ALLOWED: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// The text of one primitive value as it goes on the wire, before encoding.
pub fn plain_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        nested => nested.to_string(),
    }
}

/// Array items or object entries as text pairs; a primitive is one item.
enum Parts {
    Primitive(String),
    Items(Vec<String>),
    Entries(Vec<(String, String)>),
}

fn parts(value: &Value) -> Parts {
    match value {
        Value::Array(items) => Parts::Items(items.iter().map(plain_text).collect()),
        Value::Object(map) => Parts::Entries(
            map.iter()
                .map(|(k, v)| (k.clone(), plain_text(v)))
                .collect(),
        ),
        other => Parts::Primitive(plain_text(other)),
    }
}

/// `path` is `template` with the values filled in. A segment that became `.` or `..` from a
/// value is data, yet clients and servers remove such dot segments (RFC 3986 §5.2.4), so
/// `delete /files/{name}` with `..` would act on the parent. Encoded as `%2E` it stays one
/// segment that means the text. Values never contain `/` (it is encoded), so the segments of
/// `path` line up with those of `template`; dot segments written in the template stay.
pub fn protect_dot_segments(template: &str, path: &str) -> String {
    let literal: Vec<&str> = template.split('/').collect();
    path.split('/')
        .enumerate()
        .map(|(i, segment)| match segment {
            "." | ".." if literal.get(i) != Some(&segment) => segment.replace('.', "%2E"),
            _ => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The replacement for `{name}` in the path template (`simple`, `label` or `matrix` style).
pub fn path_segment(param: &Param, value: &Value) -> String {
    let name = &param.name;
    let join_entries = |entries: &[(String, String)], pair: &str, sep: &str| {
        entries
            .iter()
            .map(|(k, v)| format!("{}{pair}{}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let join_items = |items: &[String], sep: &str| {
        items
            .iter()
            .map(|i| encode(i))
            .collect::<Vec<_>>()
            .join(sep)
    };
    match (param.style, parts(value)) {
        (Style::Label, Parts::Primitive(v)) => format!(".{}", encode(&v)),
        (Style::Label, Parts::Items(items)) => {
            format!(
                ".{}",
                join_items(&items, if param.explode { "." } else { "," })
            )
        }
        (Style::Label, Parts::Entries(entries)) if param.explode => {
            format!(".{}", join_entries(&entries, "=", "."))
        }
        (Style::Label, Parts::Entries(entries)) => format!(".{}", join_entries(&entries, ",", ",")),
        (Style::Matrix, Parts::Primitive(v)) => format!(";{name}={}", encode(&v)),
        (Style::Matrix, Parts::Items(items)) if param.explode => items
            .iter()
            .map(|i| format!(";{name}={}", encode(i)))
            .collect(),
        (Style::Matrix, Parts::Items(items)) => format!(";{name}={}", join_items(&items, ",")),
        (Style::Matrix, Parts::Entries(entries)) if param.explode => {
            format!(";{}", join_entries(&entries, "=", ";"))
        }
        (Style::Matrix, Parts::Entries(entries)) => {
            format!(";{name}={}", join_entries(&entries, ",", ","))
        }
        (_, parts) => simple(parts, param.explode, encode),
    }
}

fn simple(parts: Parts, explode: bool, enc: impl Fn(&str) -> String) -> String {
    match parts {
        Parts::Primitive(v) => enc(&v),
        Parts::Items(items) => items.iter().map(|i| enc(i)).collect::<Vec<_>>().join(","),
        Parts::Entries(entries) => entries
            .iter()
            .map(|(k, v)| {
                if explode {
                    format!("{}={}", enc(k), enc(v))
                } else {
                    format!("{},{}", enc(k), enc(v))
                }
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// A header value (`simple` style, no percent-encoding: header values are not URLs).
pub fn header_value(param: &Param, value: &Value) -> String {
    simple(parts(value), param.explode, |s| s.to_string())
}

/// `name=value` pairs for a cookie header.
pub fn cookie_pairs(param: &Param, value: &Value) -> Vec<String> {
    let name = &param.name;
    match parts(value) {
        Parts::Primitive(v) => vec![format!("{name}={}", encode(&v))],
        Parts::Items(items) if param.explode => items
            .iter()
            .map(|i| format!("{name}={}", encode(i)))
            .collect(),
        Parts::Entries(entries) if param.explode => entries
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect(),
        other => vec![format!("{name}={}", simple(other, false, encode))],
    }
}

/// The query-string pairs (already encoded, joined by `=`) for one parameter.
pub fn query_pairs(param: &Param, value: &Value) -> Vec<String> {
    let enc = |s: &str| {
        if param.allow_reserved {
            utf8_percent_encode(s, RESERVED_ALLOWED).to_string()
        } else {
            encode(s)
        }
    };
    let name = encode(&param.name);
    let delimited = |items: &[String], sep: &str| {
        format!(
            "{name}={}",
            items.iter().map(|i| enc(i)).collect::<Vec<_>>().join(sep)
        )
    };
    match (param.style, parts(value)) {
        (_, Parts::Primitive(v)) => vec![format!("{name}={}", enc(&v))],
        (Style::SpaceDelimited, Parts::Items(items)) if !param.explode => {
            vec![delimited(&items, "%20")]
        }
        (Style::PipeDelimited, Parts::Items(items)) if !param.explode => {
            vec![delimited(&items, "%7C")]
        }
        (Style::Form, Parts::Items(items)) if !param.explode => vec![delimited(&items, ",")],
        (_, Parts::Items(items)) => items.iter().map(|i| format!("{name}={}", enc(i))).collect(),
        (Style::DeepObject, Parts::Entries(entries)) => entries
            .iter()
            .map(|(k, v)| format!("{name}%5B{}%5D={}", encode(k), enc(v)))
            .collect(),
        (_, Parts::Entries(entries)) if param.explode => entries
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), enc(v)))
            .collect(),
        (_, Parts::Entries(entries)) => vec![format!(
            "{name}={}",
            entries
                .iter()
                .map(|(k, v)| format!("{},{}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join(",")
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Location, Scalar, Shape};
    use serde_json::json;

    fn param(location: Location, style: Style, explode: bool) -> Param {
        Param {
            name: "color".into(),
            location,
            required: false,
            description: None,
            deprecated: false,
            style,
            explode,
            allow_reserved: false,
            shape: Shape::Scalar(Scalar::String),
            schema: None,
            content_type: None,
        }
    }

    // The cases below are the examples table of the OpenAPI 3.0 specification ("Style Examples").
    #[test]
    fn path_styles_follow_the_specification_table() {
        let arr = json!(["blue", "black", "brown"]);
        let obj = json!({"R": 100, "G": 200, "B": 150});
        let p = |style, explode| param(Location::Path, style, explode);
        assert_eq!(
            path_segment(&p(Style::Simple, false), &json!("blue")),
            "blue"
        );
        assert_eq!(
            path_segment(&p(Style::Simple, false), &arr),
            "blue,black,brown"
        );
        assert_eq!(
            path_segment(&p(Style::Simple, false), &obj),
            "R,100,G,200,B,150"
        );
        assert_eq!(
            path_segment(&p(Style::Simple, true), &obj),
            "R=100,G=200,B=150"
        );
        assert_eq!(
            path_segment(&p(Style::Label, false), &json!("blue")),
            ".blue"
        );
        assert_eq!(
            path_segment(&p(Style::Label, false), &arr),
            ".blue,black,brown"
        );
        assert_eq!(
            path_segment(&p(Style::Label, true), &arr),
            ".blue.black.brown"
        );
        assert_eq!(
            path_segment(&p(Style::Label, true), &obj),
            ".R=100.G=200.B=150"
        );
        assert_eq!(
            path_segment(&p(Style::Matrix, false), &json!("blue")),
            ";color=blue"
        );
        assert_eq!(
            path_segment(&p(Style::Matrix, false), &arr),
            ";color=blue,black,brown"
        );
        assert_eq!(
            path_segment(&p(Style::Matrix, true), &arr),
            ";color=blue;color=black;color=brown"
        );
        assert_eq!(
            path_segment(&p(Style::Matrix, false), &obj),
            ";color=R,100,G,200,B,150"
        );
        assert_eq!(
            path_segment(&p(Style::Matrix, true), &obj),
            ";R=100;G=200;B=150"
        );
    }

    #[test]
    fn query_styles_follow_the_specification_table() {
        let arr = json!(["blue", "black", "brown"]);
        let obj = json!({"R": 100, "G": 200, "B": 150});
        let q = |style, explode| param(Location::Query, style, explode);
        assert_eq!(
            query_pairs(&q(Style::Form, true), &json!("blue")),
            ["color=blue"]
        );
        assert_eq!(
            query_pairs(&q(Style::Form, false), &arr),
            ["color=blue,black,brown"]
        );
        assert_eq!(
            query_pairs(&q(Style::Form, true), &arr),
            ["color=blue", "color=black", "color=brown"]
        );
        assert_eq!(
            query_pairs(&q(Style::Form, false), &obj),
            ["color=R,100,G,200,B,150"]
        );
        assert_eq!(
            query_pairs(&q(Style::Form, true), &obj),
            ["R=100", "G=200", "B=150"]
        );
        assert_eq!(
            query_pairs(&q(Style::SpaceDelimited, false), &arr),
            ["color=blue%20black%20brown"]
        );
        assert_eq!(
            query_pairs(&q(Style::PipeDelimited, false), &arr),
            ["color=blue%7Cblack%7Cbrown"]
        );
        assert_eq!(
            query_pairs(&q(Style::DeepObject, true), &obj),
            ["color%5BR%5D=100", "color%5BG%5D=200", "color%5BB%5D=150"]
        );
    }

    #[test]
    fn user_text_cannot_change_the_url_structure() {
        let p = param(Location::Path, Style::Simple, false);
        assert_eq!(path_segment(&p, &json!("a/b?c#d")), "a%2Fb%3Fc%23d");
        let q = param(Location::Query, Style::Form, true);
        assert_eq!(
            query_pairs(&q, &json!("x&admin=true")),
            ["color=x%26admin%3Dtrue"]
        );
        assert_eq!(query_pairs(&q, &json!("a b+ü")), ["color=a%20b%2B%C3%BC"]);
    }

    #[test]
    fn dot_segments_from_values_are_encoded() {
        assert_eq!(
            protect_dot_segments("/items/{id}", "/items/.."),
            "/items/%2E%2E"
        );
        assert_eq!(
            protect_dot_segments("/items/{id}", "/items/."),
            "/items/%2E"
        );
        assert_eq!(
            protect_dot_segments("/a/{x}{y}/b", "/a/../b"),
            "/a/%2E%2E/b"
        );
        // Not a dot segment, or written so in the definition itself: left alone.
        assert_eq!(
            protect_dot_segments("/items/{id}", "/items/...%2F"),
            "/items/...%2F"
        );
        assert_eq!(protect_dot_segments("/v1/../{id}", "/v1/../x"), "/v1/../x");
        let p = param(Location::Path, Style::Simple, false);
        assert_eq!(path_segment(&p, &json!("a%2F..")), "a%252F..");
    }

    #[test]
    fn allow_reserved_keeps_reserved_characters() {
        let mut q = param(Location::Query, Style::Form, true);
        q.allow_reserved = true;
        assert_eq!(query_pairs(&q, &json!("/a:b")), ["color=/a:b"]);
    }

    #[test]
    fn headers_and_cookies() {
        let h = param(Location::Header, Style::Simple, false);
        assert_eq!(header_value(&h, &json!(["a", "b"])), "a,b");
        let c = param(Location::Cookie, Style::Form, true);
        assert_eq!(cookie_pairs(&c, &json!("blue")), ["color=blue"]);
        let c = param(Location::Cookie, Style::Form, false);
        assert_eq!(cookie_pairs(&c, &json!(["a", "b"])), ["color=a,b"]);
    }
}
