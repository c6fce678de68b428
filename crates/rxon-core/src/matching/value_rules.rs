//! The property-map rule (spec §11.1) and the reference language's value semantics it rests
//! on: booleans are numbers, `1 == 1.0 == true`, exact integer/float ordering, and set
//! building that refuses arrays and objects.

use super::MatchError;
use crate::value::{Map, Number, TWO_127, Value, cmp_int_float};
use crate::wire::ProtocolVersion;
use std::cmp::Ordering;

/// A number as the reference language sees it: booleans are the integers 0 and 1.
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i128),
    Float(f64),
}

fn num_of(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => Some(num_of_number(n)),
        _ => None,
    }
}

fn num_of_number(n: &Number) -> Num {
    if let Some(f) = n.as_float() {
        Num::Float(f)
    } else if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64())
    }
}

fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
    }
}

/// Equality as the reference language defines it: numbers and booleans compare by value
/// across kinds, arrays element-wise in order, objects member-wise regardless of order.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (num_of(a), num_of(b)) {
        return cmp_num(x, y) == Some(Ordering::Equal);
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
        _ => false,
    }
}

/// Refuses a value that the reference cannot put in a set (arrays and objects).
fn hashable(v: &Value) -> Result<(), MatchError> {
    match v {
        Value::Array(_) => Err(MatchError::Unhashable { type_name: "list" }),
        Value::Object(_) => Err(MatchError::Unhashable { type_name: "dict" }),
        _ => Ok(()),
    }
}

/// The items of an array used as a set: every item must be hashable.
fn as_set(items: &[Value]) -> Result<&[Value], MatchError> {
    items.iter().try_for_each(hashable)?;
    Ok(items)
}

/// Set membership (`x in set(items)`): `x` must be hashable too.
fn member(x: &Value, set: &[Value]) -> Result<bool, MatchError> {
    hashable(x)?;
    Ok(set.iter().any(|y| py_eq(x, y)))
}

/// A hashable value reduced so that values equal in the reference language have equal keys
/// (`1`, `1.0` and `true` all become `Int(1)`).
#[derive(PartialEq, Eq, Hash)]
enum SetKey<'a> {
    Null,
    Int(i128),
    Float(u64),
    Str(&'a str),
}

#[allow(clippy::cast_possible_truncation)]
fn set_key(v: &Value) -> Option<SetKey<'_>> {
    Some(match v {
        Value::Null => SetKey::Null,
        Value::String(s) => SetKey::Str(s),
        _ => match num_of(v)? {
            Num::Int(i) => SetKey::Int(i),
            // NaN equals nothing; leave it out.
            Num::Float(f) if f.is_nan() => return None,
            Num::Float(f) if f.fract() == 0.0 && f.abs() < TWO_127 => SetKey::Int(f as i128),
            Num::Float(f) => SetKey::Float(f.to_bits()),
        },
    })
}

/// Whether two sets of hashable items share an item. Small sets are compared pairwise; large
/// ones through a hash set, so two long lists cannot make matching quadratic.
fn intersects(a: &[Value], b: &[Value]) -> bool {
    if a.len().saturating_mul(b.len()) <= 1024 {
        return a.iter().any(|x| b.iter().any(|y| py_eq(x, y)));
    }
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let keys: std::collections::HashSet<SetKey<'_>> = small.iter().filter_map(set_key).collect();
    large.iter().filter_map(set_key).any(|k| keys.contains(&k))
}

/// Compares one property: does the worker's value `have` satisfy the requirement's `req`?
pub(crate) fn property_ok(
    have: Option<&Value>,
    req: &Value,
    version: ProtocolVersion,
) -> Result<bool, MatchError> {
    let have = match have {
        None | Some(Value::Null) => return Ok(false),
        Some(h) => h,
    };
    if let (Some(r), Some(h)) = (num_of(req), num_of(have)) {
        // `have < req` fails; an unordered pair (NaN) passes, as in the reference.
        return Ok(cmp_num(h, r) != Some(Ordering::Less));
    }
    if version == ProtocolVersion::V1_0b17 {
        if let Value::Array(req_items) = req {
            let req_set = as_set(req_items)?;
            return match have {
                Value::Array(have_items) => {
                    let have_set = as_set(have_items)?;
                    Ok(intersects(have_set, req_set))
                }
                _ => member(have, req_set),
            };
        }
        if let Value::Array(have_items) = have {
            let have_set = as_set(have_items)?;
            return member(req, have_set);
        }
    }
    Ok(py_eq(have, req))
}

/// The property-map rule over whole maps: every requirement member must be satisfied, in
/// order; the first failure decides (so an error in a later member is not reached).
pub(crate) fn properties_ok(
    have: Option<&Map>,
    req: Option<&Map>,
    version: ProtocolVersion,
) -> Result<bool, MatchError> {
    let Some(req) = req.filter(|m| !m.is_empty()) else {
        return Ok(true);
    };
    for (k, req_v) in req {
        if !property_ok(have.and_then(|m| m.get(k)), req_v, version)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const B17: ProtocolVersion = ProtocolVersion::V1_0b17;
    const B9: ProtocolVersion = ProtocolVersion::V1_0b9;

    fn ok(have: Value, req: Value, v: ProtocolVersion) -> Result<bool, MatchError> {
        property_ok(Some(&have), &req, v)
    }

    #[test]
    fn numbers_and_bools_compare_ge() {
        assert_eq!(ok(json!(1), json!(true), B17), Ok(true));
        assert_eq!(ok(json!(true), json!(2), B17), Ok(false));
        assert_eq!(ok(json!(true), json!(false), B17), Ok(true));
        assert_eq!(ok(json!(2), json!(1.5), B9), Ok(true));
        assert_eq!(ok(json!(u64::MAX), json!(i64::MAX), B17), Ok(true));
        // 2^53 + 1 against the float 2^53: exact, not through f64.
        assert_eq!(
            ok(
                json!(9_007_199_254_740_993_i64),
                json!(9_007_199_254_740_992.0),
                B17
            ),
            Ok(true)
        );
        assert_eq!(
            ok(
                json!(9_007_199_254_740_992.0),
                json!(9_007_199_254_740_993_i64),
                B17
            ),
            Ok(false)
        );
        assert_eq!(ok(json!(i64::MAX), json!(1e300), B17), Ok(false));
    }

    #[test]
    fn equality_crosses_number_kinds() {
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(py_eq(
            &json!({"a": [1, {"b": true}]}),
            &json!({"a": [1.0, {"b": 1}]})
        ));
        assert!(!py_eq(&json!("5"), &json!(5)));
        assert!(!py_eq(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn lists_in_b17_and_b9() {
        assert_eq!(ok(json!(["a", "x"]), json!(["a", "b"]), B17), Ok(true));
        assert_eq!(ok(json!(["a", "x"]), json!(["a", "b"]), B9), Ok(false));
        assert_eq!(ok(json!([7, 9]), json!(8), B17), Ok(false));
        assert_eq!(ok(json!([]), json!([]), B17), Ok(false));
        assert_eq!(ok(json!([]), json!([]), B9), Ok(true));
        assert_eq!(
            ok(json!([[1]]), json!([[1]]), B17),
            Err(MatchError::Unhashable { type_name: "list" })
        );
        assert_eq!(
            ok(json!({"a": 1}), json!([]), B17),
            Err(MatchError::Unhashable { type_name: "dict" })
        );
    }

    #[test]
    fn large_lists_intersect_through_hashing() {
        let have: Vec<Value> = (0..5000).map(|i| Value::from(format!("t{i}"))).collect();
        let mut req: Vec<Value> = (5000..10_000).map(Value::from).collect();
        assert_eq!(
            ok(Value::Array(have.clone()), Value::Array(req.clone()), B17),
            Ok(false)
        );
        req.push(json!("t4999"));
        assert_eq!(
            ok(Value::Array(have), Value::Array(req.clone()), B17),
            Ok(true)
        );
        // Numbers of any kind meet their equals: 7.0 and true in a long list.
        let nums: Vec<Value> = (10..3000)
            .map(Value::from)
            .chain([json!(7.0), json!(true)])
            .collect();
        assert_eq!(ok(Value::Array(nums.clone()), json!([7]), B17), Ok(true));
        assert_eq!(
            ok(
                Value::Array(nums.clone()),
                Value::Array(vec![json!(1); 2000]),
                B17
            ),
            Ok(true)
        );
        assert_eq!(
            ok(
                Value::Array(nums),
                Value::Array(vec![json!(0.5); 2000]),
                B17
            ),
            Ok(false)
        );
    }

    #[test]
    fn missing_or_null_fails() {
        assert_eq!(property_ok(None, &json!(0), B17), Ok(false));
        assert_eq!(ok(Value::Null, Value::Null, B17), Ok(false));
    }
}
