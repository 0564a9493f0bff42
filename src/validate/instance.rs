//! The JSON that validation reads: a document parsed only to be checked, with strings borrowed
//! from the input bytes and objects kept as member lists.
//!
//! Why not `serde_json::Value`: jsonata-core turns on serde_json's `preserve_order`, which makes
//! every object an `IndexMap` hashed with SipHash, and every key and string its own allocation.
//! For a 500 KB body that parse cost more than the validation itself. Objects in request bodies
//! are small, so a list searched in order beats a hash, and nothing is copied unless it holds an
//! escape.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use jsonschema::JsonType;
use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// One parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Instance<'s> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'s, str>),
    Array(Vec<Instance<'s>>),
    /// Members in document order; a repeated name keeps its last value, as parsers do.
    Object(Vec<(Cow<'s, str>, Instance<'s>)>),
}

impl<'s> Instance<'s> {
    /// Parses `bytes`, borrowing every string that holds no escape.
    pub fn parse(bytes: &'s [u8]) -> serde_json::Result<Instance<'s>> {
        match std::str::from_utf8(bytes) {
            // UTF-8 checked once for the whole text is cheaper than string by string.
            Ok(text) => serde_json::from_str(text),
            // The byte-level parser says where the bad byte is.
            Err(_) => serde_json::from_slice(bytes),
        }
    }

    /// The same document over a `Value` (parameters, which are built as `Value`s).
    pub fn borrowing(value: &'s Value) -> Instance<'s> {
        match value {
            Value::Null => Instance::Null,
            Value::Bool(b) => Instance::Bool(*b),
            Value::Number(n) => Instance::Number(n.clone()),
            Value::String(s) => Instance::String(Cow::Borrowed(s)),
            Value::Array(items) => Instance::Array(items.iter().map(Instance::borrowing).collect()),
            Value::Object(members) => Instance::Object(
                members
                    .iter()
                    .map(|(name, value)| (Cow::Borrowed(name.as_str()), Instance::borrowing(value)))
                    .collect(),
            ),
        }
    }

    /// As a `Value`, for messages (a cold path).
    pub fn to_value(&self) -> Value {
        match self {
            Instance::Null => Value::Null,
            Instance::Bool(b) => Value::Bool(*b),
            Instance::Number(n) => Value::Number(n.clone()),
            Instance::String(s) => Value::String(s.to_string()),
            Instance::Array(items) => Value::Array(items.iter().map(Instance::to_value).collect()),
            Instance::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.to_value()))
                    .collect(),
            ),
        }
    }
}

/// Objects up to this size find a repeated name by scanning; larger ones keep an index.
const SCANNED_OBJECT: usize = 32;

impl<'de> Deserialize<'de> for Instance<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Seed(&mut Scratch::default()).deserialize(deserializer)
    }
}

/// The members and items of the containers being parsed, one stack for the whole document:
/// a finished container moves its part into a vector of exactly its size, so no vector grows.
#[derive(Default)]
struct Scratch<'de> {
    members: Vec<(Cow<'de, str>, Instance<'de>)>,
    items: Vec<Instance<'de>>,
}

struct Seed<'a, 'de>(&'a mut Scratch<'de>);

impl<'de> DeserializeSeed<'de> for Seed<'_, 'de> {
    type Value = Instance<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, 'de> {
    type Value = Instance<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Instance::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Instance::Bool(b))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Instance::Number(n.into()))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Instance::Number(n.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Number::from_f64(n)
            .map(Instance::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Instance::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Instance::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Instance::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let scratch = self.0;
        let first = scratch.items.len();
        while let Some(item) = seq.next_element_seed(Seed(scratch))? {
            scratch.items.push(item);
        }
        Ok(Instance::Array(scratch.items.drain(first..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let scratch = self.0;
        let first = scratch.members.len();
        let mut index: Option<HashMap<Cow<'de, str>, usize>> = None;
        while let Some(Name(name)) = map.next_key()? {
            let value = map.next_value_seed(Seed(scratch))?;
            let members = &mut scratch.members;
            let count = members.len() - first;
            let earlier = match &index {
                Some(index) => index.get(&name).map(|at| first + at),
                None => members[first..]
                    .iter()
                    .position(|(known, _)| *known == name)
                    .map(|at| first + at),
            };
            if let Some(at) = earlier {
                members[at].1 = value;
                continue;
            }
            if let Some(index) = &mut index {
                index.insert(name.clone(), count);
            } else if count == SCANNED_OBJECT {
                let mut built: HashMap<Cow<'de, str>, usize> = members[first..]
                    .iter()
                    .enumerate()
                    .map(|(at, (known, _))| (known.clone(), at))
                    .collect();
                built.insert(name.clone(), count);
                index = Some(built);
            }
            members.push((name, value));
        }
        Ok(Instance::Object(scratch.members.drain(first..).collect()))
    }
}

/// An object member's name, borrowed when it holds no escape.
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// The validator's view of [`Instance`].
pub struct Parsed;

impl Json for Parsed {
    type Node<'a> = &'a Instance<'a>;
    type PreparedKey = String;
    type StringBuffer = ();

    // A lookup scans the members, so a pass over them pays off as soon as it replaces two.
    const KEYS_PER_LOOKUP: usize = 64;
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>((): &mut (), string: &str, f: impl FnOnce(Self::Node<'_>) -> T) -> T {
        f(&Instance::String(Cow::Borrowed(string)))
    }
}

type Members<'a> = &'a [(Cow<'a, str>, Instance<'a>)];

impl<'a> Node<'a, Parsed> for &'a Instance<'a> {
    type Object = Members<'a>;
    type Array = &'a [Instance<'a>];
    type Number = &'a Number;

    fn as_object(&self) -> Option<Members<'a>> {
        match self {
            Instance::Object(members) => Some(members),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&'a [Instance<'a>]> {
        match self {
            Instance::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Instance::String(s) => Some(Cow::Borrowed(s.as_ref())),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Instance::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self {
            Instance::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Instance::Null)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Instance::Null => JsonType::Null,
            Instance::Bool(_) => JsonType::Boolean,
            Instance::Number(_) => JsonType::Number,
            Instance::String(_) => JsonType::String,
            Instance::Array(_) => JsonType::Array,
            Instance::Object(_) => JsonType::Object,
        }
    }

    fn string_length_within(&self, min: u64, max: u64) -> Option<bool> {
        let Instance::String(s) = self else {
            return None;
        };
        // A code point takes one to four bytes: the byte count often decides without counting.
        let bytes = s.len() as u64;
        if bytes < min || bytes.div_ceil(4) > max {
            return Some(false);
        }
        if min <= bytes.div_ceil(4) && bytes <= max {
            return Some(true);
        }
        Some((min..=max).contains(&(s.chars().count() as u64)))
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(Instance::to_value(self))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Instance<'a>>(*self) as usize
        ))
    }
}

impl<'a> Object<'a, Parsed> for Members<'a> {
    type Node = &'a Instance<'a>;
    type MemberName = &'a str;
    type MembersIter = MembersIter<'a>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn get(&self, key: &String) -> Option<&'a Instance<'a>> {
        self.iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    fn members(&self) -> MembersIter<'a> {
        MembersIter(self.iter())
    }
}

pub struct MembersIter<'a>(std::slice::Iter<'a, (Cow<'a, str>, Instance<'a>)>);

impl<'a> Iterator for MembersIter<'a> {
    type Item = (&'a str, &'a Instance<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(name, value)| (name.as_ref(), value))
    }
}

impl<'a> Array<'a, Parsed> for &'a [Instance<'a>] {
    type Node = &'a Instance<'a>;
    type ElementsIter = std::slice::Iter<'a, Instance<'a>>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn elements(&self) -> std::slice::Iter<'a, Instance<'a>> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_to_the_same_document_as_serde_json() {
        let text =
            r#"{"b":[1,-2,3.5,true,null],"a":{"x":"y\n","é":"plain"},"c":18446744073709551615}"#;
        let parsed = Instance::parse(text.as_bytes()).unwrap();
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.to_value(), expected);
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let parsed = Instance::parse(br#"{"name":"plain","other":"line\nbreak"}"#).unwrap();
        let Instance::Object(members) = parsed else {
            panic!("not an object")
        };
        assert!(matches!(members[0].0, Cow::Borrowed(_)));
        assert!(matches!(members[0].1, Instance::String(Cow::Borrowed(_))));
        assert!(matches!(members[1].1, Instance::String(Cow::Owned(_))));
    }

    #[test]
    fn a_repeated_name_keeps_its_last_value_in_small_and_large_objects() {
        for size in [3, SCANNED_OBJECT + 10] {
            let mut members: Vec<String> = (0..size).map(|i| format!("\"k{i}\":{i}")).collect();
            members.push("\"k1\":\"last\"".into());
            let text = format!("{{{}}}", members.join(","));
            let parsed = Instance::parse(text.as_bytes()).unwrap();
            let value = parsed.to_value();
            assert_eq!(value["k1"], json!("last"), "{size} members");
            assert_eq!(value.as_object().unwrap().len(), size, "{size} members");
        }
    }

    #[test]
    fn validates_like_the_serde_json_representation() {
        let schema = json!({
            "type": "object",
            "required": ["id", "tags"],
            "additionalProperties": false,
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string", "minLength": 2, "maxLength": 3},
                "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": true},
                "count": {"type": "integer", "minimum": 1}
            }
        });
        let ours = jsonschema::options_for::<Parsed>()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let theirs = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        for text in [
            r#"{"id":"123e4567-e89b-12d3-a456-426614174000","tags":["a"]}"#,
            r#"{"id":"nope","tags":["a","a","c"],"name":"ééé","count":1.5,"extra":1}"#,
            r#"{"id":"123e4567-e89b-12d3-a456-426614174000","tags":[],"name":"éééé"}"#,
            r#"[1,2]"#,
        ] {
            let instance = Instance::parse(text.as_bytes()).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            let mut ours: Vec<String> = ours
                .iter_errors(&instance)
                .map(|e| format!("{} {e}", e.instance_path()))
                .collect();
            let mut theirs: Vec<String> = theirs
                .iter_errors(&value)
                .map(|e| format!("{} {e}", e.instance_path()))
                .collect();
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
