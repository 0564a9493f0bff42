//! The candidate: serde-saphyr with explicit budgets, straight into `serde_json::Value`,
//! written to move into src/spec/source.rs (replacing the pre-scan and `yaml_to_json`) if
//! serde-saphyr gets as fast as serde_yaml (issue #13).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy};
use serde_saphyr::{Localizer, Location, MessageFormatter, UserMessageFormatter};

const MAX_DEPTH: usize = 128;
const MAX_NODES: usize = 2_000_000;
const MAX_ALIASES: usize = 10_000;
const MAX_REPLAYED: usize = 250_000;
const MAX_SCALAR_BYTES: usize = 64 << 20;

pub fn parse(text: &str) -> Result<Value, String> {
    parse_with(text, options())
}

/// The largest nesting, node count and alias use of a document, to size the budgets.
pub fn report(text: &str) -> String {
    let seen = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let out = seen.clone();
    let options = options().with_budget_report(move |r: serde_saphyr::budget::BudgetReport| {
        *out.borrow_mut() = format!(
            "depth {}, nodes {}, events {}, aliases {}, scalar bytes {}",
            r.max_depth, r.nodes, r.events, r.aliases, r.total_scalar_bytes
        );
    });
    parse_with(text, options).unwrap();
    let report = seen.borrow().clone();
    report
}

fn parse_with(text: &str, options: serde_saphyr::Options) -> Result<Value, String> {
    serde_saphyr::from_str_with_options::<Json>(text, options)
        .map(|json| json.0)
        .map_err(|e| {
            e.render_with_options(serde_saphyr::render_options! {
                formatter: &Messages,
                snippets: serde_saphyr::SnippetMode::Off,
            })
        })
}

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_events = 2 * MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_merge_keys = MAX_ALIASES;
    // Bounds the work aliases cause; a ratio of aliases to anchors would refuse a spec that
    // reuses one `&error` response a hundred times.
    budget.enforce_alias_anchor_ratio = false;
    budget.max_recorded_anchor_events = MAX_REPLAYED;
    budget.max_total_scalar_bytes = MAX_SCALAR_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_REPLAYED;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.merge_keys = MergeKeyPolicy::Merge;
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.non_finite_float_policy = NonFiniteFloatPolicy::Reject;
    options.ignore_binary_tag_for_string = true;
    options.with_snippet = false;
    options
}

struct Json(Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(Json)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(Key(key)) = map.next_key()? {
            let Json(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// YAML allows non-string keys (`200:` is an integer); JSON Schema and OpenAPI want strings.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor).map(Key)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_bool<E>(self, b: bool) -> Result<String, E> {
        Ok(b.to_string())
    }
    fn visit_i64<E>(self, n: i64) -> Result<String, E> {
        Ok(n.to_string())
    }
    fn visit_u64<E>(self, n: u64) -> Result<String, E> {
        Ok(n.to_string())
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<String, E> {
        JsonVisitor.visit_f64(n).map(|v| v.to_string())
    }
    fn visit_str<E>(self, s: &str) -> Result<String, E> {
        Ok(s.to_owned())
    }
    fn visit_string<E>(self, s: String) -> Result<String, E> {
        Ok(s)
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }
    fn visit_none<E>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }
    // Named by kind only: printing it could mean megabytes of a hostile key.
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom(
            "a sequence is used as a mapping key; OpenAPI keys are text",
        ))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom(
            "a mapping is used as a mapping key; OpenAPI keys are text",
        ))
    }
}

/// saphyr's user-facing wording, budgets named by what the user wrote, and positions written
/// as the JSON errors write them.
struct Messages;

impl MessageFormatter for Messages {
    fn localizer(&self) -> &dyn Localizer {
        &Positions
    }

    fn format_message<'a>(&self, err: &'a serde_saphyr::Error) -> Cow<'a, str> {
        use serde_saphyr::Error as E;
        let limit = match err {
            E::Budget { breach, .. } => breach_message(breach),
            E::AliasReplayLimitExceeded { .. } | E::AliasExpansionLimitExceeded { .. } => {
                format!("aliases expand to more than {MAX_REPLAYED} values")
            }
            E::AliasReplayStackDepthExceeded { .. } => "aliases nested too deep".to_owned(),
            _ => return UserMessageFormatter.format_message(err),
        };
        Cow::Owned(limit)
    }
}

fn breach_message(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => format!("nested deeper than {MAX_DEPTH} levels"),
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
            format!("more than {MAX_NODES} values")
        }
        BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. } => {
            format!("more than {MAX_ALIASES} aliases (`*name`) or anchors (`&name`)")
        }
        BudgetBreach::RecordedAnchorEvents { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            format!("aliases expand to more than {MAX_REPLAYED} values")
        }
        BudgetBreach::ScalarBytes { .. } => {
            format!("more than {} MiB of text", MAX_SCALAR_BYTES >> 20)
        }
        other => format!("too large or too complex ({other:?})"),
    }
}

struct Positions;

impl Localizer for Positions {
    fn attach_location<'a>(&self, base: Cow<'a, str>, at: Location) -> Cow<'a, str> {
        if at == Location::UNKNOWN {
            return base;
        }
        Cow::Owned(format!(
            "{base} at line {} column {}",
            at.line(),
            at.column()
        ))
    }
}
