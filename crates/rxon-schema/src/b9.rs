//! The 1.0b9 reference's hand-written validator (spec §12.1 \[b9\]), reproduced exactly,
//! including its quirks: `{"type": "null"}` accepts anything non-null, `properties` and
//! `items` are only checked under `"type": "object"` / `"array"`, unsupported keywords are
//! ignored, booleans are not numbers and `1.0` is not an integer.

use crate::pyrepr::py_str;
use rxon_core::{Map, Value};

/// Validates `data` against `schema` the 1.0b9 way; `Err` carries the reference's message.
///
/// # Errors
/// The first violation, worded as the reference words it.
pub fn validate(data: &Value, schema: &Map) -> Result<(), String> {
    if schema.is_empty() {
        return Ok(());
    }
    if let Some(any_of) = schema.get("anyOf") {
        let mut errors = Vec::new();
        if let Value::Array(subs) = any_of {
            for sub in subs {
                match validate_sub(data, sub) {
                    Ok(()) => return Ok(()),
                    Err(e) => errors.push(e),
                }
            }
        }
        let joined: Vec<&str> = errors
            .iter()
            .map(String::as_str)
            .filter(|e| !e.is_empty())
            .collect();
        return Err(format!(
            "Value does not match any schemas: {}",
            joined.join("; ")
        ));
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.iter().any(|o| py_eq(data, o))
    {
        return Err(format!(
            "Value '{}' is not allowed. Must be one of: {}",
            py_str(data),
            py_str(&Value::Array(options.clone()))
        ));
    }
    let schema_type = schema.get("type");
    if data.is_null() {
        return match schema_type {
            Some(Value::String(t)) if t == "null" => Ok(()),
            Some(t) => Err(format!("Expected {}, got null", py_str(t))),
            None => Err("Expected None, got null".to_owned()),
        };
    }
    let Some(Value::String(t)) = schema_type else {
        return Ok(());
    };
    match t.as_str() {
        "object" => {
            let Value::Object(obj) = data else {
                return Err(format!("Expected object, got {}", type_name(data)));
            };
            if let Some(Value::Array(required)) = schema.get("required") {
                for field in required {
                    let present = match field {
                        Value::String(f) => obj.contains_key(f),
                        _ => false,
                    };
                    if !present {
                        return Err(format!("Missing required field: '{}'", py_str(field)));
                    }
                }
            }
            let properties = match schema.get("properties") {
                Some(Value::Object(p)) => Some(p),
                _ => None,
            };
            let strict = matches!(schema.get("additionalProperties"), Some(Value::Bool(false)));
            for (key, value) in obj.iter() {
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    if let Err(e) = validate_sub(value, sub) {
                        return Err(format!("Field '{key}': {e}"));
                    }
                } else if strict {
                    return Err(format!("Unexpected field: '{key}'"));
                }
            }
            Ok(())
        }
        "array" => {
            let Value::Array(items) = data else {
                return Err(format!("Expected array, got {}", type_name(data)));
            };
            if let Some(sub) = schema.get("items").filter(|s| !s.is_falsy()) {
                for (i, item) in items.iter().enumerate() {
                    if let Err(e) = validate_sub(item, sub) {
                        return Err(format!("Item at index {i}: {e}"));
                    }
                }
            }
            Ok(())
        }
        "string" if !matches!(data, Value::String(_)) => {
            Err(format!("Expected string, got {}", type_name(data)))
        }
        "integer" if !matches!(data, Value::Number(n) if !n.is_float()) => {
            Err(format!("Expected integer, got {}", type_name(data)))
        }
        "number" if !matches!(data, Value::Number(_)) => {
            Err(format!("Expected number, got {}", type_name(data)))
        }
        "boolean" if !matches!(data, Value::Bool(_)) => {
            Err(format!("Expected boolean, got {}", type_name(data)))
        }
        _ => Ok(()),
    }
}

/// A sub-schema: objects are validated, anything else (which the reference never expects)
/// accepts every value.
fn validate_sub(data: &Value, schema: &Value) -> Result<(), String> {
    match schema {
        Value::Object(m) => validate(data, m),
        _ => Ok(()),
    }
}

/// `type(data).__name__` in the reference.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_float() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
        _ => "NoneType",
    }
}

/// Equality as the reference language has it: `True == 1 == 1.0`, containers element-wise.
#[must_use]
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    fn as_num(v: &Value) -> Option<rxon_core::Number> {
        match v {
            Value::Number(n) => Some(*n),
            Value::Bool(b) => Some(rxon_core::Number::from_i64(i64::from(*b))),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (as_num(a), as_num(b)) {
            (Some(x), Some(y)) => x.numeric_eq(&y),
            _ => false,
        },
    }
}
