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

/// Appends the compact JSON text of `v` as normalized for `version`: the same bytes as
/// writing [`normalize`]'s result with [`crate::json::write_value`], without building the
/// normalized copy.
///
/// # Errors
/// As [`normalize`] (nothing is appended then).
pub fn write_normalized(
    out: &mut String,
    v: &Value,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    let start = out.len();
    if write_at(out, v, version, 0).is_err() {
        // Report exactly the error `normalize` reports (it checks the depth first).
        out.truncate(start);
        let n = normalize(v, version)?;
        crate::json::write_value(out, &n, false);
    }
    Ok(())
}

/// Writes `v`, found at nesting `depth`, normalized for `version`; returns whether it is null
/// once normalized (an object member the encoder drops, or a 1.0b9 array item it drops).
pub(crate) fn write_at(
    out: &mut String,
    v: &Value,
    version: ProtocolVersion,
    depth: usize,
) -> Result<bool, EncodeError> {
    match version {
        ProtocolVersion::V1_0b17 => write_b17(out, v, depth),
        ProtocolVersion::V1_0b9 => Ok(write_b9(out, v)),
    }
}

/// [`write_at`] for 1.0b9: null members and items dropped at every depth, numbers and member
/// order kept, no limits.
fn write_b9(out: &mut String, v: &Value) -> bool {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => crate::json::write_number(out, *n),
        Value::String(s) => crate::json::write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().filter(|x| !x.is_null()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_b9(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().filter(|(_, x)| !x.is_null()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::json::write_key(out, k);
                write_b9(out, x);
            }
            out.push('}');
        }
    }
    v.is_null()
}

/// [`write_at`] for 1.0b17 (the hot path of every outgoing message): the same bytes and
/// errors, with the version's branches taken once.
fn write_b17(out: &mut String, v: &Value, depth: usize) -> Result<bool, EncodeError> {
    if depth > B17_MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    match v {
        Value::String(s) => crate::json::write_str(out, s),
        Value::Number(n) => return write_b17_number(out, *n),
        Value::Object(m) => {
            out.push('{');
            if crate::json::keys_sorted(m.keys()) {
                write_b17_members(out, m.iter(), depth)?;
            } else {
                let mut members: Vec<(&String, &Value)> = m.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                write_b17_members(out, members.into_iter(), depth)?;
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            let mut first = true;
            for x in a {
                if !first {
                    out.push(',');
                }
                write_b17(out, x, depth + 1)?;
                first = false;
            }
            out.push(']');
        }
        Value::Null => {
            out.push_str("null");
            return Ok(true);
        }
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
    }
    Ok(false)
}

/// [`write_at`] with the common scalars of 1.0b17 written in place (no call).
#[inline]
pub(crate) fn write_at_inline(
    out: &mut String,
    v: &Value,
    version: ProtocolVersion,
    depth: usize,
) -> Result<bool, EncodeError> {
    if version == ProtocolVersion::V1_0b17 && depth <= B17_MAX_DEPTH {
        match v {
            Value::String(s) => {
                crate::json::write_str(out, s);
                return Ok(false);
            }
            Value::Number(n) => return write_b17_number(out, *n),
            _ => {}
        }
    }
    write_at(out, v, version, depth)
}

/// A number at `depth` as `version` writes it; returns whether it is null once normalized.
pub(crate) fn write_number_at(
    out: &mut String,
    n: Number,
    version: ProtocolVersion,
    depth: usize,
) -> Result<bool, EncodeError> {
    if version == ProtocolVersion::V1_0b9 {
        crate::json::write_number(out, n);
        return Ok(false);
    }
    if depth > B17_MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    write_b17_number(out, n)
}

/// A number as 1.0b17 writes it (see `b17_number`); returns whether it is null once
/// normalized.
#[inline]
fn write_b17_number(out: &mut String, n: Number) -> Result<bool, EncodeError> {
    match n.as_float() {
        None => crate::json::write_number(out, n),
        Some(f) if !f.is_finite() => {
            out.push_str("null");
            return Ok(true);
        }
        Some(f) if f.fract() == 0.0 => {
            crate::json::write_number(out, n.to_integer().ok_or(EncodeError::IntegerOutOfRange)?)
        }
        Some(f) => crate::json::write_f64(out, f),
    }
    Ok(false)
}

/// The members of an object at `depth`, in the given order, for 1.0b17.
fn write_b17_members<'a>(
    out: &mut String,
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    depth: usize,
) -> Result<(), EncodeError> {
    let mut first = true;
    // Members are at `depth + 1`; scalars there are written in place when that is allowed.
    let inline_scalars = depth < B17_MAX_DEPTH;
    for (k, x) in members {
        let mark = out.len();
        if !first {
            out.push(',');
        }
        crate::json::write_key(out, k);
        let null = match x {
            Value::String(s) if inline_scalars => {
                crate::json::write_str(out, s);
                false
            }
            Value::Number(n) if inline_scalars => write_b17_number(out, *n)?,
            _ => write_b17(out, x, depth + 1)?,
        };
        if null {
            out.truncate(mark);
        } else {
            first = false;
        }
    }
    Ok(())
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
    fn writing_normalized_matches_normalizing_then_writing() {
        let texts = [
            r#"{"z":{"b":[1.0,null,{"y":null,"x":2.50}],"a":-0.0},"n":null,"a":[[null,1e300]],"f":1e16}"#,
            r#"{"z":{"b":[1.0,null,{"y":null,"x":2.50}],"a":-0.0},"n":null,"m":[null],"s":"\u0001é"}"#,
            r#"[null,{"b":null},{"a":1e400}]"#,
            r#"{"x":{"y":null},"w":[],"v":{}}"#,
            "null",
            "1.0",
        ];
        for text in texts {
            let v = json::from_str(text).unwrap_or(Value::Null);
            for version in [ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b17] {
                let mut out = String::from("prefix");
                let res = write_normalized(&mut out, &v, version);
                match normalize(&v, version) {
                    Ok(n) => {
                        assert_eq!(res, Ok(()));
                        assert_eq!(out, format!("prefix{}", n.to_json()), "{text} {version}");
                    }
                    Err(e) => {
                        assert_eq!(res, Err(e));
                        assert_eq!(out, "prefix");
                    }
                }
            }
        }
        let mut deep = Value::from(1.5e300);
        for _ in 0..=B17_MAX_DEPTH {
            deep = Value::Array(vec![deep]);
        }
        let mut out = String::new();
        // Too deep wins over the out-of-range integral float, as in `normalize`.
        assert_eq!(
            write_normalized(&mut out, &deep, ProtocolVersion::V1_0b17),
            Err(EncodeError::TooDeep)
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
