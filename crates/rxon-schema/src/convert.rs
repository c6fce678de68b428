//! Conversion between [`rxon_core::Value`] and [`serde_json::Value`].
//!
//! Integers stay integers and floats stay floats in both directions (`24` and `24.0` are
//! different values to a JSON Schema engine under draft-04). Non-finite floats, which JSON
//! cannot carry, become `null` on the way to `serde_json`.

use rxon_core::{Map, Number, Value};

/// Converts an RXON value into a `serde_json` value, keeping number kinds.
#[must_use]
pub fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => number_to_serde(*n),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Value::Object(m) => serde_json::Value::Object(map_to_serde(m)),
        _ => serde_json::Value::Null,
    }
}

/// Converts an RXON map into a `serde_json` object map.
#[must_use]
pub fn map_to_serde(m: &Map) -> serde_json::Map<String, serde_json::Value> {
    m.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect()
}

fn number_to_serde(n: Number) -> serde_json::Value {
    if let Some(f) = n.as_float() {
        return serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number);
    }
    if let Some(u) = n.as_u64() {
        return serde_json::Value::Number(u.into());
    }
    if let Some(i) = n.as_i64() {
        return serde_json::Value::Number(i.into());
    }
    serde_json::Value::Null
}

/// Converts a `serde_json` value into an RXON value, keeping number kinds.
#[must_use]
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Number(Number::from_u64(u))
            } else if let Some(i) = n.as_i64() {
                Value::Number(Number::from_i64(i))
            } else {
                Value::Number(Number::from_f64(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(m) => Value::Object(map_from_serde(m)),
    }
}

/// Converts a `serde_json` object map into an RXON map.
#[must_use]
pub fn map_from_serde(m: &serde_json::Map<String, serde_json::Value>) -> Map {
    let mut out = Map::with_capacity(m.len());
    for (k, v) in m {
        out.insert(k.clone(), from_serde(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_kind() {
        let v = rxon_core::json::from_str(
            r#"{"i":24,"f":24.0,"n":-3,"u":18446744073709551615,"x":[1.5,null,true,"s"]}"#,
        )
        .unwrap();
        let s = to_serde(&v);
        assert!(s["i"].is_u64());
        assert!(s["f"].is_f64());
        assert!(s["n"].is_i64());
        assert_eq!(s["u"].as_u64(), Some(u64::MAX));
        let back = from_serde(&s);
        assert_eq!(back, v);
        assert_eq!(
            rxon_core::json::to_string_sorted(&back),
            rxon_core::json::to_string_sorted(&v)
        );
    }

    #[test]
    fn non_finite_floats_become_null() {
        let v = Value::Number(Number::from_f64(f64::NAN));
        assert!(to_serde(&v).is_null());
    }
}
