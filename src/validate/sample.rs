//! Sample values generated from schemas, for help, docs, `--mock` and templates.
//!
//! Precedence for a value: `example` > `default` > the first `enum` value > a placeholder
//! that fits the `format` > one that fits the type and bounds. `allOf` branches are merged,
//! the first non-null `oneOf`/`anyOf` branch is used, and `readOnly` fields are left out of
//! request samples (`writeOnly` ones out of responses).
//!
//! A spec is untrusted input: `minLength: 1000000000`, a million-entry `required`, an `allOf`
//! that fans out through refs or a megabyte example must not hang help, docs or `--mock`. So
//! every sample is made within a budget (depth, values visited, items per array, characters per
//! string and bytes in all); what the budget cuts is left out, and a string cut short ends in
//! `…`, so a capped sample still renders and says it is incomplete.

use std::collections::HashSet;

use serde_json::{Map, Number, Value};

use crate::spec::index::deref;
use crate::validate::Direction;

/// Beyond this depth only required properties are filled in, and arrays stay empty.
const FULL_DEPTH: usize = 6;
/// Hard stop, whatever is required.
const MAX_DEPTH: usize = 12;
/// At most this many values in one sample.
const MAX_NODES: usize = 400;
/// At most this many items in one array (`minItems` beyond it is cut).
const MAX_ITEMS: usize = 3;
/// At most this many characters in one string (`minLength` beyond it is cut).
pub const MAX_STRING_CHARS: usize = 1024;
/// At most about this many bytes of JSON in one sample.
pub const MAX_SAMPLE_BYTES: usize = 64 * 1024;
/// Ends a string cut by the budget.
pub const CUT_MARK: char = '…';

pub fn sample(document: &Value, schema: &Value, direction: Direction) -> Value {
    generate(document, schema, direction, true, false).0
}

/// A sample the validator accepts: documents' examples are sometimes wrong for their own
/// schema (a value outside an `enum`, an example matching two `oneOf` branches), so when the
/// sample with examples fails, one built from the schema alone is tried.
/// Overlapping `oneOf` branches (an object branch next to an "any value" branch) are tried
/// from the other end too.
pub fn valid_sample(document: &Value, schema: &Value, direction: Direction) -> Value {
    valid_sample_within_budget(document, schema, direction).0
}

/// How far a sample from [`valid_sample_within_budget`] can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    /// It passes its schema (or the schema does not compile, so nothing can be said).
    Valid,
    /// The budget cut it; it is not checked.
    Cut,
    /// No sample tried passes the schema (a `pattern` no placeholder matches): the first way
    /// this one fails.
    Invalid(String),
}

/// [`valid_sample`], and whether it is whole and valid. A cut sample is not checked against
/// the schema: it cannot be whole, and a schema big enough to exhaust the budget is the one
/// whose validation could take long.
pub fn valid_sample_within_budget(
    document: &Value,
    schema: &Value,
    direction: Direction,
) -> (Value, Fit) {
    let (first, cut) = generate(document, schema, direction, true, false);
    if cut {
        return (first, Fit::Cut);
    }
    let Ok(compiled) = crate::validate::Schema::compile(document, schema, direction, "sample")
    else {
        return (first, Fit::Valid);
    };
    let violations = compiled.check_value(&first, "");
    let Some(why) = violations.first() else {
        return (first, Fit::Valid);
    };
    let why = why.to_string().trim().to_string();
    let fallback = [(false, false), (true, true), (false, true)]
        .into_iter()
        .map(|(use_examples, last_branch)| {
            generate(document, schema, direction, use_examples, last_branch).0
        })
        .find(|candidate| compiled.check_value(candidate, "").is_empty());
    match fallback {
        Some(valid) => (valid, Fit::Valid),
        None => (first, Fit::Invalid(why)),
    }
}

fn generate(
    document: &Value,
    schema: &Value,
    direction: Direction,
    use_examples: bool,
    last_branch: bool,
) -> (Value, bool) {
    let mut generator = Generator {
        document,
        direction,
        use_examples,
        last_branch,
        described: Vec::new(),
        nodes: 0,
        bytes: 0,
        cut: false,
        refs: Vec::new(),
    };
    let value = generator.value(schema, 0).unwrap_or(Value::Null);
    (value, generator.cut)
}

struct Generator<'a> {
    document: &'a Value,
    direction: Direction,
    use_examples: bool,
    /// Take the last usable `oneOf`/`anyOf` branch instead of the first.
    last_branch: bool,
    /// Property names described by the `allOf` branches being merged.
    described: Vec<String>,
    nodes: usize,
    /// Roughly the JSON size of what has been generated so far.
    bytes: usize,
    /// Whether the budget left something out.
    cut: bool,
    /// `$ref` pointers being expanded, to cut recursion.
    refs: Vec<String>,
}

impl Generator<'_> {
    /// True once the sample may grow no more; notes that something was left out.
    fn exhausted(&mut self) -> bool {
        let over = self.nodes >= MAX_NODES || self.bytes >= MAX_SAMPLE_BYTES;
        self.cut |= over;
        over
    }

    /// True once the byte budget is spent: loops over a schema's fields stop here (the node
    /// budget only stops descending, so required fields still get their smallest value).
    fn out_of_bytes(&mut self) -> bool {
        let over = self.bytes >= MAX_SAMPLE_BYTES;
        self.cut |= over;
        over
    }

    /// Takes `cost` bytes from the budget.
    fn spend(&mut self, cost: usize) {
        self.bytes = self.bytes.saturating_add(cost);
    }

    /// Takes a documented value (example, default, enum entry) when it fits what is left of
    /// the budget; a bigger one is passed over.
    fn afford(&mut self, value: &Value) -> bool {
        let left = MAX_SAMPLE_BYTES.saturating_sub(self.bytes);
        let size = json_size_within(value, left);
        self.spend(size.unwrap_or(0));
        size.is_some()
    }

    fn value(&mut self, schema: &Value, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        if self.exhausted() {
            return None;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if self.refs.iter().any(|r| r == reference) {
                return None;
            }
            let (target, _) = deref(self.document, schema, "").ok()?;
            self.refs.push(reference.to_string());
            let result = self.value(target, depth);
            self.refs.pop();
            return result;
        }
        self.nodes += 1;
        let object = schema.as_object()?;
        // Documents' own examples are used when they plausibly fit; some do not (a number
        // example on a string field), and a sample must be valid for its schema.
        let keys: &[&str] = if self.use_examples {
            &["example", "default"]
        } else {
            &["default"]
        };
        for key in keys {
            // Size first: `plausible` walks the whole value.
            if let Some(given) = object
                .get(*key)
                .filter(|v| self.afford(v) && plausible(self.document, v, object, 0))
            {
                return Some(given.clone());
            }
        }
        if let Some(chosen) = object
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|values| self.enum_value(values))
        {
            return Some(chosen);
        }
        if let Some(branches) = object.get("allOf").and_then(Value::as_array) {
            return self.all_of(object, branches, depth);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = object.get(key).and_then(Value::as_array) {
                let usable = |b: &&Value| b.get("type").and_then(Value::as_str) != Some("null");
                let chosen = if self.last_branch {
                    branches.iter().rposition(|b| usable(&b))?
                } else {
                    branches.iter().position(|b| usable(&b))?
                };
                if object.contains_key("properties") {
                    return Some(self.object_with_choice(object, branches, chosen, depth));
                }
                if object.contains_key("type") {
                    // `{type: string, anyOf: [{format: date}, …]}`: the branch narrows the parent.
                    let branch = deref(self.document, &branches[chosen], "")
                        .map_or(&branches[chosen], |(b, _)| b);
                    let mut merged = object.clone();
                    merged.remove(key);
                    if let Some(narrowing) = branch.as_object() {
                        merged.extend(narrowing.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    return self.value(&Value::Object(merged), depth);
                }
                return self.value(&branches[chosen], depth);
            }
        }
        let kind = object.get("type").and_then(Value::as_str).or_else(|| {
            if object.contains_key("properties") || object.contains_key("additionalProperties") {
                Some("object")
            } else if object.contains_key("items") {
                Some("array")
            } else {
                None
            }
        });
        self.spend(8);
        Some(match kind {
            Some("object") | None => self.object(object, depth),
            Some("array") => self.array(object, depth),
            Some("string") => self.string(object),
            Some("integer") => number(object, true),
            Some("number") => number(object, false),
            Some("boolean") => Value::Bool(true),
            Some(_) => Value::Null,
        })
    }

    /// The first non-null `enum` value; when it does not fit the budget, the smallest one that
    /// does, so the sample stays in the enum; when none fits, the shortest string cut and
    /// marked (the sample says it is cut). `None` when the enum has no non-null value.
    fn enum_value(&mut self, values: &[Value]) -> Option<Value> {
        let first = values.iter().find(|v| !v.is_null())?;
        if self.afford(first) {
            return Some(first.clone());
        }
        let left = MAX_SAMPLE_BYTES.saturating_sub(self.bytes);
        if let Some((size, smallest)) = values
            .iter()
            .filter(|v| !v.is_null())
            .filter_map(|v| json_size_within(v, left).map(|size| (size, v)))
            .min_by_key(|(size, _)| *size)
        {
            self.spend(size);
            return Some(smallest.clone());
        }
        self.cut = true;
        let Some(shortest) = values
            .iter()
            .filter_map(Value::as_str)
            .min_by_key(|s| s.len())
        else {
            return Some(Value::Null);
        };
        let mut text: String = shortest
            .chars()
            .take(MAX_STRING_CHARS.saturating_sub(1).min(left))
            .collect();
        text.push(CUT_MARK);
        self.spend(text.len());
        Some(Value::String(text))
    }

    fn string(&mut self, object: &Map<String, Value>) -> Value {
        let (text, cut) = string(object);
        self.cut |= cut;
        self.spend(text.len());
        Value::String(text)
    }

    fn all_of(
        &mut self,
        object: &Map<String, Value>,
        branches: &[Value],
        depth: usize,
    ) -> Option<Value> {
        // A branch may require a field that a sibling branch describes: that one fills it.
        let described_before = self.described.len();
        for branch in branches {
            let names = property_names(self.document, branch);
            self.described.extend(names);
        }
        let result = self.merge_all_of(object, branches, depth);
        self.described.truncate(described_before);
        result
    }

    fn merge_all_of(
        &mut self,
        object: &Map<String, Value>,
        branches: &[Value],
        depth: usize,
    ) -> Option<Value> {
        let mut merged = Map::new();
        let mut last_scalar = None;
        for branch in branches {
            if self.exhausted() {
                break;
            }
            match self.value(branch, depth) {
                Some(Value::Object(fields)) => deep_merge(&mut merged, fields),
                Some(other) => last_scalar = Some(other),
                None => {}
            }
        }
        if object.contains_key("properties") {
            if let Value::Object(own) = self.object(object, depth) {
                deep_merge(&mut merged, own);
            }
        }
        match (merged.is_empty(), last_scalar) {
            (true, Some(scalar)) => Some(scalar),
            _ => Some(Value::Object(merged)),
        }
    }

    /// Properties plus a `oneOf` that picks which of them are required (`{required: [a]}` or
    /// `{required: [b]}`): fill the chosen branch's, and leave out fields that only the other
    /// branches require, so exactly one branch matches.
    fn object_with_choice(
        &mut self,
        object: &Map<String, Value>,
        branches: &[Value],
        chosen: usize,
        depth: usize,
    ) -> Value {
        let required_of = |branch: &Value| -> Vec<String> {
            let branch = deref(self.document, branch, "")
                .map(|(b, _)| b)
                .unwrap_or(branch);
            branch
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let wanted = required_of(&branches[chosen]);
        let others: Vec<String> = branches
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != chosen)
            .flat_map(|(_, b)| required_of(b))
            .filter(|name| !wanted.contains(name))
            .collect();
        let mut narrowed = object.clone();
        let mut required: Vec<Value> = object
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        required.extend(wanted.iter().map(|n| Value::String(n.clone())));
        narrowed.insert("required".into(), Value::Array(required));
        if let Some(Value::Object(properties)) = narrowed.get_mut("properties") {
            properties.retain(|name, _| !others.contains(name));
        }
        let mut out = self.object(&narrowed, depth);
        if let (Value::Object(fields), Some(Value::Object(extra))) =
            (&mut out, self.value(&branches[chosen], depth))
        {
            for (k, v) in extra {
                fields.entry(k).or_insert(v);
            }
        }
        out
    }

    fn skipped(&self, property: &Value) -> bool {
        let flag = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let resolved = deref(self.document, property, "")
            .map(|(p, _)| p)
            .unwrap_or(property);
        resolved.get(flag) == Some(&Value::Bool(true))
            || property.get(flag) == Some(&Value::Bool(true))
    }

    fn object(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let required_set: HashSet<&str> = required.iter().copied().collect();
        let mut out = Map::new();
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if self.out_of_bytes() {
                    break;
                }
                let is_required = required_set.contains(name.as_str());
                if !is_required && (depth >= FULL_DEPTH || self.exhausted()) {
                    continue;
                }
                if self.skipped(property) {
                    continue;
                }
                self.spend(name.len() + 4);
                if let Some(value) = self.value(property, depth + 1) {
                    out.insert(name.clone(), value);
                } else if is_required {
                    // A required field cut by recursion or the budget still gets the smallest
                    // fitting value.
                    self.spend(8);
                    out.insert(name.clone(), minimal(self.document, property));
                }
            }
        }
        // Some documents require a field they never describe; any value satisfies it.
        let undescribed: Vec<&str> = {
            let elsewhere: HashSet<&str> = self.described.iter().map(String::as_str).collect();
            let properties = object.get("properties");
            required
                .iter()
                .copied()
                .filter(|name| {
                    !out.contains_key(*name)
                        && properties.is_none_or(|p| p.get(*name).is_none())
                        && !elsewhere.contains(name)
                })
                .collect()
        };
        for name in undescribed {
            if self.out_of_bytes() {
                break;
            }
            self.spend(name.len() + 12);
            out.insert(name.to_string(), Value::String("string".into()));
        }
        if out.is_empty() && depth < FULL_DEPTH {
            if let Some(extra) = object.get("additionalProperties").filter(|a| a.is_object()) {
                if let Some(value) = self.value(extra, depth + 1) {
                    out.insert("key".to_string(), value);
                }
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        let min_items = object
            .get("minItems")
            .and_then(Value::as_u64)
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let unique = object.get("uniqueItems") == Some(&Value::Bool(true));
        self.cut |= min_items > MAX_ITEMS;
        let wanted = if depth >= FULL_DEPTH {
            min_items
        } else {
            min_items.max(1)
        }
        .min(MAX_ITEMS);
        let Some(items) = object.get("items") else {
            return Value::Array(Vec::new());
        };
        let mut out: Vec<Value> = Vec::new();
        for i in 0..wanted {
            let Some(mut item) = self.value(items, depth + 1) else {
                break;
            };
            if unique && out.contains(&item) {
                // Make repeated placeholders distinct so `uniqueItems` holds.
                item = match item {
                    Value::String(s) => Value::String(format!("{s}{}", i + 1)),
                    Value::Number(n) => Value::from(n.as_f64().unwrap_or(0.0) as i64 + i as i64),
                    other => other,
                };
            }
            out.push(item);
        }
        Value::Array(out)
    }
}

/// Merges `extra` into `into` as `allOf` demands both: objects key by key, arrays item by
/// item; otherwise the later branch (usually the narrower one) wins, unless all it offers is
/// an empty object from an untyped schema.
fn deep_merge(into: &mut Map<String, Value>, extra: Map<String, Value>) {
    for (key, value) in extra {
        match (into.get_mut(&key), value) {
            (None, value) => {
                into.insert(key, value);
            }
            (Some(Value::Object(existing)), Value::Object(more)) => deep_merge(existing, more),
            (Some(Value::Array(existing)), Value::Array(more)) => {
                for (i, item) in more.into_iter().enumerate() {
                    match (existing.get_mut(i), item) {
                        (Some(Value::Object(a)), Value::Object(b)) => deep_merge(a, b),
                        (None, item) => existing.push(item),
                        (Some(slot), item) => *slot = item,
                    }
                }
            }
            (Some(_), Value::Object(more)) if more.is_empty() => {}
            (Some(slot), value) => *slot = value,
        }
    }
}

/// The property names a schema describes, through `$ref` and `allOf`; each referenced schema
/// is visited once, so self-referencing `allOf`s stay linear.
fn property_names(document: &Value, schema: &Value) -> Vec<String> {
    let mut names = Vec::new();
    crate::spec::index::find_through(document, schema, &["allOf"], |s| {
        names.extend(
            s.get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|p| p.keys().cloned()),
        );
        None::<()>
    });
    names
}

/// A cheap check that a documented example fits its schema: type, enum, common formats and
/// required fields, down through properties and items.
fn plausible(document: &Value, value: &Value, schema: &Map<String, Value>, depth: usize) -> bool {
    if value.is_null() {
        return schema.get("nullable") == Some(&Value::Bool(true));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            return false;
        }
    }
    let type_fits = match schema.get("type").and_then(Value::as_str) {
        Some("string") => value.is_string(),
        Some("integer") => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    };
    let digits = |s: &str, at: &[usize]| {
        at.iter()
            .all(|i| s.as_bytes().get(*i).is_some_and(u8::is_ascii_digit))
    };
    let format_fits = match (schema.get("format").and_then(Value::as_str), value.as_str()) {
        (Some("date-time"), Some(s)) => {
            s.len() >= 20 && digits(s, &[0, 1, 2, 3, 5, 6, 8, 9]) && s.as_bytes()[10] == b'T'
        }
        (Some("date"), Some(s)) => s.len() == 10 && digits(s, &[0, 1, 2, 3, 5, 6, 8, 9]),
        (Some("email"), Some(s)) => s.contains('@'),
        (Some("uuid"), Some(s)) => s.len() == 36 && s.matches('-').count() == 4,
        _ => true,
    };
    let has_required = match (value, schema.get("required").and_then(Value::as_array)) {
        (Value::Object(fields), Some(required)) => required
            .iter()
            .filter_map(Value::as_str)
            .all(|r| fields.contains_key(r)),
        _ => true,
    };
    if !(type_fits && format_fits && has_required) {
        return false;
    }
    if depth >= 8 {
        return true;
    }
    let fits = |value: &Value, sub: &Value| match deref(document, sub, "")
        .ok()
        .and_then(|(s, _)| s.as_object())
    {
        Some(sub) => plausible(document, value, sub, depth + 1),
        None => true,
    };
    match value {
        Value::Object(fields) => match schema.get("properties").and_then(Value::as_object) {
            Some(properties) => fields
                .iter()
                .all(|(k, v)| properties.get(k).is_none_or(|p| fits(v, p))),
            None => true,
        },
        Value::Array(items) => schema
            .get("items")
            .is_none_or(|item_schema| items.iter().all(|i| fits(i, item_schema))),
        _ => true,
    }
}

/// The smallest value of a schema's type, for required fields cut by recursion.
fn minimal(document: &Value, schema: &Value) -> Value {
    let resolved = deref(document, schema, "")
        .map(|(s, _)| s)
        .unwrap_or(schema);
    match resolved.get("type").and_then(Value::as_str) {
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::String(String::new()),
        Some("integer") | Some("number") => Value::from(0),
        Some("boolean") => Value::Bool(false),
        _ => Value::Object(Map::new()),
    }
}

/// A placeholder that fits the format and length bounds, and whether `minLength` was cut.
fn string(object: &Map<String, Value>) -> (String, bool) {
    let format = object.get("format").and_then(Value::as_str).unwrap_or("");
    let text = match format {
        "uuid" => "123e4567-e89b-12d3-a456-426614174000",
        "email" | "idn-email" => "user@example.com",
        "date" => "2024-01-01",
        "date-time" => "2024-01-01T00:00:00Z",
        "time" => "12:00:00Z",
        "uri" | "url" | "iri" => "https://example.com",
        "uri-reference" | "iri-reference" => "/example",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "byte" => "ZXhhbXBsZQ==",
        "password" => "********",
        "duration" => "P1D",
        "regex" => ".*",
        _ => "string",
    };
    let bound = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_u64)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    let min = bound("minLength").unwrap_or(0);
    let max = bound("maxLength").unwrap_or(usize::MAX);
    let mut text: String = text.chars().take(max).collect();
    let wanted = min.min(max);
    let have = text.chars().count();
    if wanted <= have {
        return (text, false);
    }
    if wanted <= MAX_STRING_CHARS {
        text.extend(std::iter::repeat_n('x', wanted - have));
        return (text, false);
    }
    text.extend(std::iter::repeat_n(
        'x',
        MAX_STRING_CHARS.saturating_sub(have + 1),
    ));
    text.push(CUT_MARK);
    (text, true)
}

fn number(object: &Map<String, Value>, integer: bool) -> Value {
    let bound = |key: &str| object.get(key).and_then(Value::as_f64);
    let exclusive = |key: &str| object.get(key) == Some(&Value::Bool(true));
    let mut value = match (bound("minimum"), bound("maximum")) {
        (Some(min), _) => {
            if exclusive("exclusiveMinimum") {
                if integer {
                    min.floor() + 1.0
                } else {
                    min + 1.0
                }
            } else {
                min
            }
        }
        (None, Some(max)) if max < 0.0 => {
            if exclusive("exclusiveMaximum") {
                max - 1.0
            } else {
                max
            }
        }
        _ => 0.0,
    };
    if let Some(max) = bound("maximum") {
        if value > max || (value == max && exclusive("exclusiveMaximum")) {
            value = if integer {
                max.ceil() - 1.0
            } else {
                max - (max - bound("minimum").unwrap_or(max - 1.0)) / 2.0
            };
        }
    }
    // Arithmetic, not a walk from minimum to maximum, so extreme bounds cost nothing.
    if let Some(step) = bound("multipleOf").filter(|m| *m > 0.0 && m.is_finite()) {
        let stepped = (value / step).ceil() * step;
        if stepped.is_finite() && bound("maximum").is_none_or(|max| stepped <= max) {
            value = stepped;
        }
    }
    // Within ±2^53 an integral f64 is exactly an i64; beyond, it stays a float rather than
    // saturating to a wrong bound.
    if (integer || value.fract() == 0.0) && value.abs() < 9.0e15 {
        Value::from(value.trunc() as i64)
    } else {
        Number::from_f64(value).map_or(Value::from(0), Value::Number)
    }
}

/// The size of `value` as compact JSON, when it is at most `limit` bytes; the walk stops as
/// soon as it is over, so a megabyte example costs no more than the limit.
fn json_size_within(value: &Value, limit: usize) -> Option<usize> {
    let mut size = 0usize;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        size += match value {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => 2 + items.len(),
            Value::Object(fields) => 2 + 5 * fields.len(),
        };
        if size > limit {
            return None;
        }
        match value {
            Value::Array(items) => pending.extend(items),
            Value::Object(fields) => {
                for (key, field) in fields {
                    size += key.len();
                    if size > limit {
                        return None;
                    }
                    pending.push(field);
                }
            }
            _ => {}
        }
    }
    Some(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(doc: &Value, schema: Value) -> Value {
        sample(doc, &schema, Direction::Request)
    }

    #[test]
    fn precedence_example_default_enum_format_type() {
        let doc = json!({});
        assert_eq!(
            request(
                &doc,
                json!({"type": "string", "example": "ex", "default": "d"})
            ),
            json!("ex")
        );
        assert_eq!(
            request(
                &doc,
                json!({"type": "string", "default": "d", "enum": ["e", "d"]})
            ),
            json!("d")
        );
        assert_eq!(
            request(&doc, json!({"type": "string", "example": 5})),
            json!("string"),
            "an example of the wrong type is not used"
        );
        assert_eq!(
            request(&doc, json!({"type": "string", "enum": ["e", "f"]})),
            json!("e")
        );
        assert_eq!(
            request(&doc, json!({"type": "string", "format": "uuid"})),
            json!("123e4567-e89b-12d3-a456-426614174000")
        );
        assert_eq!(
            request(&doc, json!({"type": "integer", "minimum": 5})),
            json!(5)
        );
        assert_eq!(
            request(
                &doc,
                json!({"type": "number", "minimum": 0, "exclusiveMinimum": true})
            ),
            json!(1)
        );
        assert_eq!(
            request(
                &doc,
                json!({"type": "integer", "maximum": 0, "exclusiveMaximum": true})
            ),
            json!(-1)
        );
        assert_eq!(
            request(&doc, json!({"type": "string", "minLength": 8})),
            json!("stringxx")
        );
    }

    #[test]
    fn all_of_merges_and_one_of_takes_the_first_non_null_branch() {
        let doc = json!({"components": {"schemas": {"Base": {"type": "object", "properties": {"id": {"type": "string"}}}}}});
        let merged = request(
            &doc,
            json!({"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {"n": {"type": "integer"}}}]}),
        );
        assert_eq!(merged, json!({"id": "string", "n": 0}));
        assert_eq!(
            request(
                &doc,
                json!({"oneOf": [{"type": "null"}, {"type": "boolean"}]})
            ),
            json!(true)
        );
    }

    #[test]
    fn a_branch_narrows_its_typed_parent() {
        let doc = json!({});
        let schema =
            json!({"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]});
        assert_eq!(request(&doc, schema), json!("2024-01-01"));
    }

    #[test]
    fn read_only_fields_are_left_out_of_requests_only() {
        let doc = json!({});
        let schema = json!({"type": "object", "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}}});
        assert_eq!(
            sample(&doc, &schema, Direction::Request),
            json!({"name": "string"})
        );
        assert_eq!(
            sample(&doc, &schema, Direction::Response),
            json!({"id": "string", "name": "string"})
        );
    }

    #[test]
    fn recursive_schemas_end() {
        let doc = json!({"components": {"schemas": {"Node": {"type": "object", "required": ["next"], "properties": {
            "label": {"type": "string"}, "next": {"$ref": "#/components/schemas/Node"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}}});
        let node = request(&doc, json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(node, json!({"label": "string", "next": {}, "children": []}));
    }

    #[test]
    fn unique_arrays_get_distinct_items() {
        let doc = json!({});
        let schema = json!({"type": "array", "minItems": 2, "uniqueItems": true, "items": {"type": "string"}});
        assert_eq!(request(&doc, schema), json!(["string", "string2"]));
    }

    #[test]
    fn huge_lengths_and_counts_are_cut_and_marked() {
        let doc = json!({});
        let schema = json!({"type": "string", "minLength": 1_000_000_000u64});
        let (text, cut) = valid_sample_within_budget(&doc, &schema, Direction::Request);
        let text = text.as_str().unwrap();
        assert_eq!(cut, Fit::Cut);
        assert_eq!(text.chars().count(), MAX_STRING_CHARS);
        assert!(text.ends_with(CUT_MARK));
        let schema = json!({"type": "array", "minItems": u64::MAX, "items": {"type": "integer"}});
        assert_eq!(
            valid_sample_within_budget(&doc, &schema, Direction::Request),
            (json!([0, 0, 0]), Fit::Cut)
        );
        let schema = json!({"type": "string", "minLength": 20, "maxLength": 10});
        assert_eq!(request(&doc, schema), json!("stringxxxx"), "max wins");
    }

    #[test]
    fn the_byte_budget_bounds_the_whole_sample() {
        let doc = json!({});
        let properties: Map<String, Value> = (0..2000)
            .map(|i| {
                (
                    format!("f{i}"),
                    json!({"type": "string", "minLength": 1000}),
                )
            })
            .collect();
        let schema = json!({"type": "object", "properties": properties});
        let (sample, cut) = valid_sample_within_budget(&doc, &schema, Direction::Request);
        assert_eq!(cut, Fit::Cut);
        let size = sample.to_string().len();
        assert!(size < MAX_SAMPLE_BYTES + 2 * MAX_STRING_CHARS, "{size}");
        let big: Vec<u32> = (0..100_000).collect();
        let schema = json!({"type": "array", "items": {"type": "integer"}, "example": big});
        assert_eq!(
            valid_sample_within_budget(&doc, &schema, Direction::Request),
            (json!([0]), Fit::Valid),
            "an example over the budget is passed over for a generated sample"
        );
    }

    #[test]
    fn past_the_node_budget_required_fields_still_get_their_smallest_value() {
        let doc = json!({});
        let names: Vec<String> = (0..1000).map(|i| format!("f{i}")).collect();
        let properties: Map<String, Value> = names
            .iter()
            .map(|n| (n.clone(), json!({"type": "integer", "minimum": 1})))
            .collect();
        let schema = json!({"type": "object", "required": names, "properties": properties});
        let (sample, cut) = valid_sample_within_budget(&doc, &schema, Direction::Request);
        assert_eq!(cut, Fit::Cut);
        assert_eq!(sample.as_object().unwrap().len(), 1000);
        assert_eq!(sample["f0"], json!(1));
        assert_eq!(sample["f999"], json!(0), "the smallest value of its type");
    }

    #[test]
    fn multiple_of_and_extreme_bounds_are_arithmetic() {
        let doc = json!({});
        let schema = json!({"type": "integer", "minimum": 10, "multipleOf": 7});
        assert_eq!(request(&doc, schema), json!(14));
        let schema = json!({"type": "number", "minimum": 1e300});
        assert_eq!(request(&doc, schema), json!(1e300));
        let schema =
            json!({"type": "integer", "minimum": -1e308, "maximum": 1e308, "multipleOf": 1e-300});
        assert_eq!(request(&doc, schema), json!(-1e308));
    }

    #[test]
    fn json_size_stops_at_the_limit() {
        assert_eq!(json_size_within(&json!("ab"), 10), Some(4));
        assert_eq!(
            json_size_within(&json!({"k": [1, 2]}), 100),
            Some(2 + 5 + 1 + 4 + 48)
        );
        assert_eq!(json_size_within(&Value::from(vec!["x"; 1000]), 100), None);
    }
}
