//! The reference encoders' normalization (spec §3.2, §3.3), applied to every outgoing message
//! and to the input of hashing and signing.
//!
//! * 1.0b9: null object members and null array items are dropped at every depth; numbers keep
//!   their kind (`1.0` stays a float); member order is kept.
//! * 1.0b17: keys are sorted at every depth, null object members are dropped but null array
//!   items kept, integral floats become integers (`1.0` → `1`, `-0.0` → `0`), NaN/±∞ vanish as
//!   object members and become `null` in arrays; nesting deeper than 30 levels and integral
//!   floats outside the 64-bit range are errors, as in the reference.

use crate::value::{Number, Value};
use crate::wire::ProtocolVersion;
use std::fmt;

/// Deepest value the 1.0b17 encoder accepts (root = depth 0).
pub const B17_MAX_DEPTH: usize = 30;

/// Why a value cannot be encoded under the chosen protocol version.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// Nesting deeper than [`B17_MAX_DEPTH`] (1.0b17 only).
    TooDeep,
    /// An integral float outside `[-2^63, 2^64-1]` (1.0b17 only).
    IntegerOutOfRange,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooDeep => write!(
                f,
                "Maximum recursion depth ({B17_MAX_DEPTH}) exceeded in to_dict"
            ),
            Self::IntegerOutOfRange => f.write_str("Integer exceeds 64-bit range"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Normalizes `v` as the given version's encoder does.
///
/// # Errors
/// 1.0b17 only: [`EncodeError::TooDeep`] and [`EncodeError::IntegerOutOfRange`].
pub fn normalize(v: &Value, version: ProtocolVersion) -> Result<Value, EncodeError> {
    match version {
        ProtocolVersion::V1_0b9 => Ok(b9(v)),
        ProtocolVersion::V1_0b17 => {
            check_depth(v, 0)?;
            b17(v)
        }
    }
}

/// Normalizes a value we own in place (same rules as [`normalize`]).
///
/// # Errors
/// As [`normalize`].
pub fn normalize_owned(mut v: Value, version: ProtocolVersion) -> Result<Value, EncodeError> {
    // In place: no copy of the tree (the hot path of every outgoing message).
    match version {
        ProtocolVersion::V1_0b9 => b9_in_place(&mut v),
        ProtocolVersion::V1_0b17 => {
            check_depth(&v, 0)?;
            b17_in_place(&mut v)?;
        }
    }
    Ok(v)
}

fn b9_in_place(v: &mut Value) {
    match v {
        Value::Array(a) => {
            a.retain(|x| !x.is_null());
            a.iter_mut().for_each(b9_in_place);
        }
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.iter_mut().for_each(|(_, x)| b9_in_place(x));
        }
        _ => {}
    }
}

fn b17_in_place(v: &mut Value) -> Result<(), EncodeError> {
    match v {
        Value::Number(n) => *v = b17_number(*n)?,
        Value::Array(a) => a.iter_mut().try_for_each(b17_in_place)?,
        Value::Object(m) => {
            m.iter_mut().try_for_each(|(_, x)| b17_in_place(x))?;
            m.retain(|_, x| !x.is_null());
            m.sort_keys();
        }
        _ => {}
    }
    Ok(())
}

fn b9(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().filter(|x| !x.is_null()).map(b9).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), b9(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn check_depth(v: &Value, depth: usize) -> Result<(), EncodeError> {
    if depth > B17_MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    match v {
        Value::Array(a) => a.iter().try_for_each(|x| check_depth(x, depth + 1)),
        Value::Object(m) => m.values().try_for_each(|x| check_depth(x, depth + 1)),
        _ => Ok(()),
    }
}

fn b17_number(n: Number) -> Result<Value, EncodeError> {
    match n.as_float() {
        None => Ok(Value::Number(n)),
        Some(f) if !f.is_finite() => Ok(Value::Null),
        Some(f) if f.fract() == 0.0 => n
            .to_integer()
            .map(Value::Number)
            .ok_or(EncodeError::IntegerOutOfRange),
        Some(_) => Ok(Value::Number(n)),
    }
}

fn b17(v: &Value) -> Result<Value, EncodeError> {
    Ok(match v {
        Value::Number(n) => b17_number(*n)?,
        Value::Array(a) => Value::Array(a.iter().map(b17).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            let mut out = crate::Map::with_capacity(m.len());
            for (k, x) in m {
                let x = b17(x)?;
                if !x.is_null() {
                    out.insert(k.clone(), x);
                }
            }
            out.sort_keys();
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn versions_differ_as_the_spec_says() {
        let v =
            json::from_str(r#"{"b":1.0,"a":[1,null,2.5,-0.0],"n":null,"z":{"x":null}}"#).unwrap();
        assert_eq!(
            normalize(&v, ProtocolVersion::V1_0b9).unwrap().to_json(),
            r#"{"b":1.0,"a":[1,2.5,-0.0],"z":{}}"#
        );
        assert_eq!(
            normalize(&v, ProtocolVersion::V1_0b17).unwrap().to_json(),
            r#"{"a":[1,null,2.5,0],"b":1,"z":{}}"#
        );
    }

    #[test]
    fn owned_form_matches_the_borrowed_one() {
        let v = json::from_str(
            r#"{"z":{"b":[1.0,null,{"y":null,"x":2.50}],"a":-0.0},"n":null,"a":[[null,1e300]],"f":1e16}"#,
        )
        .unwrap();
        for version in [ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b17] {
            assert_eq!(
                normalize_owned(v.clone(), version),
                normalize(&v, version),
                "{version}"
            );
        }
        let ok = json::from_str(r#"{"z":{"b":[1.0,null,{"y":null,"x":2.50}],"a":-0.0},"n":null}"#)
            .unwrap();
        assert_eq!(
            normalize_owned(ok, ProtocolVersion::V1_0b17)
                .unwrap()
                .to_json(),
            r#"{"z":{"a":0,"b":[1,null,{"x":2.5}]}}"#
        );
    }

    #[test]
    fn b17_limits() {
        let big = json::from_str(r#"{"x":1e300}"#).unwrap();
        assert_eq!(
            normalize(&big, ProtocolVersion::V1_0b17),
            Err(EncodeError::IntegerOutOfRange)
        );
        assert!(normalize(&big, ProtocolVersion::V1_0b9).is_ok());
        let mut deep = Value::from(1);
        for _ in 0..B17_MAX_DEPTH {
            deep = Value::Array(vec![deep]);
        }
        assert!(normalize(&deep, ProtocolVersion::V1_0b17).is_ok());
        let deeper = Value::Array(vec![deep]);
        assert_eq!(
            normalize(&deeper, ProtocolVersion::V1_0b17),
            Err(EncodeError::TooDeep)
        );
    }
}
