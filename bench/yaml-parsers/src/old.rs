//! epilot's YAML reading today (src/spec/source.rs at 4625a40), frozen here.

use serde_json::Value;

pub fn parse(trimmed: &str) -> Result<Value, String> {
    if let Err((line, column)) = flow_depth_within(trimmed, MAX_FLOW_DEPTH) {
        return Err(format!(
            "`[`/`{{` nested deeper than {MAX_FLOW_DEPTH} levels at line {line} column {column}"
        ));
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(trimmed).map_err(|e| e.to_string())?;
    yaml_to_json(yaml, 0)
}

const MAX_YAML_DEPTH: usize = 256;

/// serde_yaml stops at 128 levels, but only after its scanner has read ahead: on flow
/// collections (`[[[…` or `{a: {a: …`) that read-ahead is quadratic, and 200 KB of them took
/// 97 s to refuse. This pre-scan refuses them in linear time. Block nesting (`a:\n a:\n …`,
/// `- - - …`) needs no scan: serde_yaml refuses it in milliseconds.
const MAX_FLOW_DEPTH: usize = 128;

/// Checks that `[`/`{` flow collections nest at most `limit` deep; otherwise the 1-based line
/// and column of the first opener past it. A light YAML scanner: it knows quoted scalars,
/// comments and block scalars (`|`, `>`), where brackets are text. Where it cannot tell, it
/// counts: a stray `[` at the start of a plain line costs a level, never a missed attack.
fn flow_depth_within(text: &str, limit: usize) -> std::result::Result<(), (usize, usize)> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut depth = 0usize;
    let mut quote = Quote::None;
    // The indentation of the line that opened a block scalar; deeper lines are its text.
    let mut block_scalar: Option<usize> = None;
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        // A token may start here: a quote opens a quoted scalar, `[`/`{` a flow collection.
        let mut token_start = true;
        let mut escaped = false;
        let mut previous = ' ';
        let mut chars = line.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let next = chars.peek().map_or(' ', |(_, n)| *n);
            match quote {
                Quote::Single => {
                    if c == '\'' {
                        if next == '\'' {
                            chars.next();
                        } else {
                            quote = Quote::None;
                        }
                    }
                }
                Quote::Double => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        quote = Quote::None;
                    }
                }
                Quote::None => match c {
                    '#' if previous.is_whitespace() => break,
                    '\'' if token_start => quote = Quote::Single,
                    '"' if token_start => quote = Quote::Double,
                    '[' | '{' if token_start || depth > 0 => {
                        depth += 1;
                        if depth > limit {
                            return Err((number + 1, line[..at].chars().count() + 1));
                        }
                        token_start = true;
                    }
                    ']' | '}' if depth > 0 => {
                        depth -= 1;
                        token_start = false;
                    }
                    '|' | '>' if token_start && depth == 0 => {
                        block_scalar = Some(indent);
                        break;
                    }
                    // An anchor or tag leaves the node to come: skip its name.
                    '&' | '!' if token_start => {
                        let in_name = |(_, n): &(usize, char)| {
                            !n.is_whitespace() && !matches!(n, ',' | '[' | ']' | '{' | '}')
                        };
                        while chars.next_if(in_name).is_some() {}
                    }
                    ',' if depth > 0 => token_start = true,
                    '-' | '?' | ':' if next.is_whitespace() => token_start = true,
                    ':' if depth > 0 && matches!(next, ',' | '[' | ']' | '{' | '}') => {
                        token_start = true
                    }
                    c if c.is_whitespace() => {}
                    _ => token_start = false,
                },
            }
            previous = c;
        }
    }
    Ok(())
}

/// YAML allows non-string keys (`200:` is an integer); JSON Schema and OpenAPI want strings.
fn yaml_to_json(value: serde_yaml::Value, depth: usize) -> std::result::Result<Value, String> {
    use serde_yaml::Value as Y;
    if depth > MAX_YAML_DEPTH {
        return Err(format!("nesting deeper than {MAX_YAML_DEPTH} levels"));
    }
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|v| yaml_to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut object = serde_json::Map::with_capacity(map.len());
            for (key, v) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    // Named by kind only: printing it could mean megabytes of a hostile key.
                    Y::Sequence(_) | Y::Mapping(_) | Y::Tagged(_) => {
                        return Err(format!(
                            "a {} is used as a mapping key; OpenAPI keys are text",
                            yaml_kind(&key)
                        ))
                    }
                };
                object.insert(key, yaml_to_json(v, depth + 1)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value, depth + 1)?,
    })
}

fn yaml_kind(value: &serde_yaml::Value) -> &'static str {
    match value {
        serde_yaml::Value::Sequence(_) => "sequence",
        serde_yaml::Value::Mapping(_) => "mapping",
        serde_yaml::Value::Tagged(_) => "tagged value",
        _ => "scalar",
    }
}
