//! JSON input read strictly: a key repeated in one object is refused at any depth.
//!
//! `serde_json::from_str` keeps the last of two equal keys silently, so
//! `{"threat_level": 5, "threat_level": 0}` would read as 0. Here the document is
//! built by a visitor over serde_json's own parser that refuses the second one
//! (keys compare after unescaping: `"a"` and `"\u0061"` are the same key).

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a JSON text was refused.
#[derive(Debug)]
pub(crate) enum StrictError {
    /// An object repeats a key: the key, and where serde_json found the repeat.
    DuplicateKey(serde_json::Error),
    /// Not JSON (syntax, nesting deeper than 128, trailing text).
    Syntax(serde_json::Error),
}

/// Parses `text` as one JSON value, refusing repeated keys in any object.
pub(crate) fn parse_strict(text: &str) -> Result<Value, StrictError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let classify = |e: serde_json::Error| {
        // The visitor accepts every JSON type, so the only data error is its own.
        if e.classify() == serde_json::error::Category::Data {
            StrictError::DuplicateKey(e)
        } else {
            StrictError::Syntax(e)
        }
    };
    let StrictValue(value) = StrictValue::deserialize(&mut de).map_err(classify)?;
    de.end().map_err(classify)?;
    Ok(value)
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                // `{:?}` escapes control characters: the key comes from the input.
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

    use super::*;

    fn dup(text: &str) -> String {
        match parse_strict(text) {
            Err(StrictError::DuplicateKey(e)) => e.to_string(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_every_depth() {
        assert_eq!(
            dup(r#"{"threat_level":5,"threat_level":0}"#),
            "duplicate key \"threat_level\" at line 1 column 32"
        );
        assert_eq!(
            dup(r#"{"context":{"threat_level":5,"threat_level":0}}"#),
            "duplicate key \"threat_level\" at line 1 column 43"
        );
        assert_eq!(
            dup(r#"[{"a":[{"b":1,"b":1}]}]"#),
            "duplicate key \"b\" at line 1 column 17"
        );
        // Equal after unescaping.
        assert_eq!(dup(r#"{"a":1,"\u0061":2}"#), "duplicate key \"a\" at line 1 column 15");
        // Control characters in a key are escaped in the message.
        assert_eq!(
            dup("{\"\\u001b\":1,\"\\u001b\":2}"),
            "duplicate key \"\\u{1b}\" at line 1 column 20"
        );
    }

    #[test]
    fn other_json_is_read_as_serde_json_reads_it() {
        let text = r#"{"a": [1, -2, 1.5, "x", true, null, {"b": {}}], "c": {"a": 1}}"#;
        assert_eq!(
            parse_strict(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert!(matches!(parse_strict("{} x"), Err(StrictError::Syntax(_))));
        assert!(matches!(parse_strict(r#"{"a":1,}"#), Err(StrictError::Syntax(_))));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(parse_strict(&deep), Err(StrictError::Syntax(_))));
    }
}
