//! The dynamic JSON value used for free-form protocol fields (`params`, `metadata`,
//! `properties`, ...) and for messages exactly as received.
//!
//! Numbers keep the distinction the reference keeps: integers (up to the 64-bit range, signed
//! and unsigned) and floats are different kinds, so `24` and `24.0` survive a round trip and
//! `9007199254740993` is never squeezed through an `f64`.

use std::collections::HashMap;
use std::fmt;

/// A JSON value.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a float.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, keeping its members in insertion order.
    Object(Map),
}

/// A JSON number: an integer in the 64-bit range (signed or unsigned) or a float.
#[derive(Clone, Copy, Debug)]
pub struct Number(N);

#[derive(Clone, Copy, Debug)]
enum N {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

impl Number {
    /// An integer.
    #[must_use]
    pub fn from_i64(i: i64) -> Self {
        if i >= 0 {
            Self(N::PosInt(i.unsigned_abs()))
        } else {
            Self(N::NegInt(i))
        }
    }

    /// An unsigned integer.
    #[must_use]
    pub fn from_u64(u: u64) -> Self {
        Self(N::PosInt(u))
    }

    /// A float (NaN and infinities are allowed here; writers emit them as `null`).
    #[must_use]
    pub fn from_f64(f: f64) -> Self {
        Self(N::Float(f))
    }

    /// Whether this number was written or built as a float.
    #[must_use]
    pub fn is_float(&self) -> bool {
        matches!(self.0, N::Float(_))
    }

    /// The value as `i64`, if it is an integer in range.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::PosInt(u) => i64::try_from(u).ok(),
            N::NegInt(i) => Some(i),
            N::Float(_) => None,
        }
    }

    /// The value as `u64`, if it is a non-negative integer.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::PosInt(u) => Some(u),
            N::NegInt(_) | N::Float(_) => None,
        }
    }

    /// The value as `f64` (integers are converted, possibly losing precision).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(&self) -> f64 {
        match self.0 {
            N::PosInt(u) => u as f64,
            N::NegInt(i) => i as f64,
            N::Float(f) => f,
        }
    }

    /// The float, if this number is a float.
    #[must_use]
    pub fn as_float(&self) -> Option<f64> {
        match self.0 {
            N::Float(f) => Some(f),
            _ => None,
        }
    }

    /// An integral, in-range float as the equivalent integer (`2.0` → `2`, `-0.0` → `0`).
    ///
    /// Integers are returned unchanged; non-integral or out-of-range floats give `None`.
    #[must_use]
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn to_integer(&self) -> Option<Self> {
        match self.0 {
            N::PosInt(_) | N::NegInt(_) => Some(*self),
            N::Float(f) => {
                if !f.is_finite() || f.fract() != 0.0 {
                    return None;
                }
                // 2^63 and 2^64 are exact in f64.
                if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                    Some(Self::from_i64(f as i64))
                } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) || f == 0.0 {
                    Some(Self::from_u64(f as u64))
                } else {
                    None
                }
            }
        }
    }

    /// Numeric equality across kinds, as the reference language compares numbers (`1 == 1.0`).
    #[must_use]
    pub fn numeric_eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (N::Float(a), N::Float(b)) => a == b,
            (N::Float(f), _) => other.to_exact_f64_eq(f),
            (_, N::Float(f)) => self.to_exact_f64_eq(f),
            _ => self.as_i128() == other.as_i128(),
        }
    }

    /// Numeric ordering across kinds (`None` when a NaN is involved), exact as the reference
    /// language compares an integer with a float (`18446744073709551615 < 2.0**64`).
    #[must_use]
    pub fn numeric_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match (self.0, other.0) {
            (N::Float(a), N::Float(b)) => a.partial_cmp(&b),
            (N::Float(f), _) => cmp_int_float(other.as_i128()?, f).map(std::cmp::Ordering::reverse),
            (_, N::Float(f)) => cmp_int_float(self.as_i128()?, f),
            _ => Some(self.as_i128()?.cmp(&other.as_i128()?)),
        }
    }

    fn as_i128(&self) -> Option<i128> {
        match self.0 {
            N::PosInt(u) => Some(i128::from(u)),
            N::NegInt(i) => Some(i128::from(i)),
            N::Float(_) => None,
        }
    }

    fn to_exact_f64_eq(self, f: f64) -> bool {
        match Self::from_f64(f).to_integer() {
            Some(n) => n.as_i128() == self.as_i128(),
            None => false,
        }
    }
}

/// 2^127 as `f64` (exact).
pub(crate) const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

/// Exact ordering of an integer against a float, as the reference language compares them (no
/// rounding of the integer; `None` when the float is NaN).
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn cmp_int_float(i: i128, f: f64) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    if f.is_nan() {
        return None;
    }
    if f >= TWO_127 {
        return Some(Ordering::Less);
    }
    if f < -TWO_127 {
        return Some(Ordering::Greater);
    }
    // |f| < 2^127, so its integral part fits an i128 exactly.
    let t = f.trunc();
    match i.cmp(&(t as i128)) {
        Ordering::Equal => (f - t).partial_cmp(&0.0).map(Ordering::reverse),
        o => Some(o),
    }
}

impl PartialEq for Number {
    /// Structural equality: an integer never equals a float (use [`Number::numeric_eq`]).
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (N::Float(a), N::Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (N::Float(_), _) | (_, N::Float(_)) => false,
            _ => self.as_i128() == other.as_i128(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        crate::json::write_number(&mut s, *self);
        f.write_str(&s)
    }
}

impl PartialEq for Value {
    /// Structural equality; object member order does not matter, number kinds do.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Null, Self::Null) => true,
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::Number(a), Self::Number(b)) => a == b,
            (Self::String(a), Self::String(b)) => a == b,
            (Self::Array(a), Self::Array(b)) => a == b,
            (Self::Object(a), Self::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// The JSON type name of this value as the reference's decoder reports it
    /// (`null`, `bool`, `int`, `float`, `str`, `array`, `object`).
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "bool",
            Self::Number(n) if n.is_float() => "float",
            Self::Number(_) => "int",
            Self::String(_) => "str",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }

    /// Whether this is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The string, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a bool.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a number.
    #[must_use]
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Self::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `f64`, if this is a number.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// The number as `i64`, if this is an integer in range.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The array, if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Self::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The object, mutably, if this is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Self::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Member `key` of an object (`None` for a missing key or a non-object).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// Whether the reference language would treat this value as false
    /// (`null`, `false`, `0`, `0.0`, `""`, `[]`, `{}`).
    #[must_use]
    pub fn is_falsy(&self) -> bool {
        match self {
            Self::Null => true,
            Self::Bool(b) => !b,
            Self::Number(n) => n.as_f64() == 0.0,
            Self::String(s) => s.is_empty(),
            Self::Array(a) => a.is_empty(),
            Self::Object(m) => m.is_empty(),
        }
    }

    /// Parses JSON text (see [`crate::json::from_slice`]).
    ///
    /// # Errors
    /// A [`crate::json::ParseError`] saying where the text stops being valid JSON.
    pub fn from_json(text: &[u8]) -> Result<Self, crate::json::ParseError> {
        crate::json::from_slice(text)
    }

    /// Compact JSON text, members in their current order.
    #[must_use]
    pub fn to_json(&self) -> String {
        crate::json::to_string(self)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

macro_rules! value_from {
    ($($t:ty => $e:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                ($e)(v)
            }
        }
    )*};
}

value_from! {
    bool => Value::Bool,
    i64 => |v| Value::Number(Number::from_i64(v)),
    i32 => |v: i32| Value::Number(Number::from_i64(i64::from(v))),
    u32 => |v: u32| Value::Number(Number::from_u64(u64::from(v))),
    u64 => |v| Value::Number(Number::from_u64(v)),
    f64 => |v| Value::Number(Number::from_f64(v)),
    Number => Value::Number,
    String => Value::String,
    &str => |v: &str| Value::String(v.to_owned()),
    Vec<Value> => Value::Array,
    Map => Value::Object,
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Members kept in a plain vector up to this size; larger maps also keep a hash index so that
/// a hostile message with many keys cannot make lookups quadratic.
const INDEX_THRESHOLD: usize = 16;

/// Whether the keys are all different (and few enough for a map without an index). A set of
/// 64 bits indexed by a summary of each key (length, first and last byte) settles the common
/// case where no two summaries meet; otherwise keys are compared pairwise.
fn distinct_keys<V>(entries: &[(String, V)]) -> bool {
    if entries.len() > INDEX_THRESHOLD {
        return false;
    }
    let mut seen = 0u64;
    let mut clash = false;
    for (k, _) in entries {
        let bit = key_bit(k);
        clash |= seen & bit != 0;
        seen |= bit;
    }
    !clash || distinct_keys_pairwise(entries)
}

/// The bit of a key in the 64-bit set of [`distinct_keys`]: a summary of its length, first
/// and last byte (equal keys have the same bit).
#[inline(always)]
pub(crate) fn key_bit(k: &str) -> u64 {
    let b = k.as_bytes();
    let (first, last) = match b {
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
        [] => (0, 0),
    };
    #[allow(
        clippy::cast_possible_truncation,
        reason = "only the low bits are used"
    )]
    let h = (b.len() as u32)
        .wrapping_add(u32::from(first).wrapping_mul(7))
        .wrapping_add(u32::from(last).wrapping_mul(13));
    1u64 << (h & 63)
}

/// Whether the keys are all different, comparing them pairwise.
fn distinct_keys_pairwise<V>(entries: &[(String, V)]) -> bool {
    let mut rest = entries;
    while let Some(((k, _), later)) = rest.split_first() {
        if later.iter().any(|(b, _)| b == k) {
            return false;
        }
        rest = later;
    }
    true
}

/// An ordered map from string keys to `V` (by default [`Value`]): members keep insertion
/// order, and inserting an existing key replaces its value in place (the reference's
/// "last value wins" for duplicate keys).
#[derive(Clone)]
pub struct Map<V = Value> {
    entries: Vec<(String, V)>,
    // Boxed: most maps have none, and this keeps `Value` small (cheaper to move and store).
    #[allow(
        clippy::box_collection,
        reason = "a pointer-sized field keeps `Value` small"
    )]
    index: Option<Box<HashMap<String, usize>>>,
}

impl<V> Default for Map<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            index: None,
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for Map<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<V: PartialEq> PartialEq for Map<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<V> Map<V> {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` members.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
            index: None,
        }
    }

    /// Number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// The value for `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&V> {
        self.position(key)
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    /// The value for `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let i = self.position(key)?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Inserts or replaces (in place) the value for `key`; returns the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: V) -> Option<V> {
        let key = key.into();
        if let Some(slot) = self.position(&key).and_then(|i| self.entries.get_mut(i)) {
            return Some(std::mem::replace(&mut slot.1, value));
        }
        if let Some(ix) = &mut self.index {
            ix.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() > INDEX_THRESHOLD {
            self.rebuild_index();
        }
        None
    }

    /// Removes `key`, keeping the order of the other members; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.position(key)?;
        let (k, v) = self.entries.remove(i);
        if let Some(ix) = &mut self.index {
            if self.entries.len() > INDEX_THRESHOLD {
                // Shift the positions after the removed member instead of rehashing every key.
                ix.remove(&k);
                ix.values_mut().filter(|p| **p > i).for_each(|p| *p -= 1);
            } else {
                self.index = None;
            }
        }
        Some(v)
    }

    fn rebuild_index(&mut self) {
        if self.entries.len() > INDEX_THRESHOLD {
            self.index = Some(Box::new(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            ));
        } else {
            self.index = None;
        }
    }

    /// Members in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Members in order, values mutable.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&String, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Sorts members by key, by Unicode code point (the canonical order).
    pub fn sort_keys(&mut self) {
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        if self.index.is_some() {
            self.rebuild_index();
        }
    }

    /// Keeps only the members for which `f` returns true.
    pub fn retain(&mut self, mut f: impl FnMut(&str, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| f(k, v));
        if self.index.is_some() {
            self.rebuild_index();
        }
    }

    /// A map from members in order, with [`Map::insert`]'s rules for repeated keys (the first
    /// position, the last value). Cheaper than inserting one by one when keys are distinct.
    #[inline]
    pub(crate) fn from_entries(entries: Vec<(String, V)>) -> Self {
        if distinct_keys(&entries) {
            return Self {
                entries,
                index: None,
            };
        }
        Self::from_entries_inserted(entries)
    }

    /// [`Self::from_entries`] for members whose keys the caller has summarized: `clash` tells
    /// whether two of their [`key_bit`]s were the same (otherwise the keys are distinct).
    #[inline]
    pub(crate) fn from_entries_summarized(entries: Vec<(String, V)>, clash: bool) -> Self {
        if !clash && entries.len() <= INDEX_THRESHOLD {
            return Self {
                entries,
                index: None,
            };
        }
        Self::from_entries(entries)
    }

    /// [`Self::from_entries`] for repeated or many keys.
    #[inline(never)]
    fn from_entries_inserted(entries: Vec<(String, V)>) -> Self {
        let mut m = Self::with_capacity(entries.len());
        for (k, v) in entries {
            m.insert(k, v);
        }
        m
    }

    /// Takes the value of `key` out, leaving `V::default()` in its place (order and index
    /// unchanged): for decoders that move values out of a map they own.
    pub(crate) fn take(&mut self, key: &str) -> Option<V>
    where
        V: Default,
    {
        let i = self.position(key)?;
        self.entries.get_mut(i).map(|(_, v)| std::mem::take(v))
    }

    /// Maps every value, keeping keys and order.
    pub fn map_values<W>(self, mut f: impl FnMut(V) -> W) -> Map<W> {
        Map {
            entries: self.entries.into_iter().map(|(k, v)| (k, f(v))).collect(),
            index: self.index,
        }
    }
}

impl<V> IntoIterator for Map<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a Map<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Into<String>, V> FromIterator<(K, V)> for Map<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Self::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K: Into<String>, V> Extend<(K, V)> for Map<V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// Builds a [`Value`] from JSON-like syntax: `json!({"a": 1, "b": [true, null]})`.
///
/// Keys must be string literals; values are nested `json!` syntax or Rust expressions
/// convertible with `Value::from`.
#[macro_export]
macro_rules! json {
    (null) => { $crate::Value::Null };
    ([ $($e:tt),* $(,)? ]) => { $crate::Value::Array(vec![ $( $crate::json!($e) ),* ]) };
    ({ $($k:literal : $v:tt),* $(,)? }) => {{
        #[allow(unused_mut)]
        let mut m = $crate::Map::new();
        $( m.insert($k, $crate::json!($v)); )*
        $crate::Value::Object(m)
    }};
    ($e:expr) => { $crate::Value::from($e) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    /// The distinct-keys test agrees with a pairwise comparison, on key sets built from a
    /// small alphabet (so that summaries and whole keys often meet).
    #[test]
    fn distinct_keys_matches_pairwise_comparison() {
        let mut next = crate::fuzzing::test_rng(0x9E37_79B9_7F4A_7C15);
        let alphabet = ["a", "b", "é", "ab", "ba", "", "_"];
        for _ in 0..20_000 {
            let n = usize::try_from(next() % 20).unwrap();
            let entries: Vec<(String, ())> = (0..n)
                .map(|_| {
                    let parts = next() % 4;
                    let key: String = (0..parts)
                        .map(|_| alphabet[usize::try_from(next() % 7).unwrap()])
                        .collect();
                    (key, ())
                })
                .collect();
            let want = n <= INDEX_THRESHOLD
                && entries
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| entries[..i].iter().all(|(b, _)| b != k));
            assert_eq!(distinct_keys(&entries), want, "{entries:?}");
        }
    }

    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;

    #[test]
    fn to_integer_covers_exactly_the_64_bit_range() {
        let int = |f: f64| Number::from_f64(f).to_integer();
        assert_eq!(int(-TWO_63), Some(Number::from_i64(i64::MIN)));
        assert_eq!(int(-TWO_63 - 2048.0), None, "next float below -2^63");
        assert_eq!(int(TWO_63), Some(Number::from_u64(1 << 63)));
        let below_2_64 = f64::from_bits(TWO_64.to_bits() - 1);
        assert_eq!(int(below_2_64), Some(Number::from_u64(u64::MAX - 2047)));
        assert_eq!(int(TWO_64), None);
        assert_eq!(int(-0.0), Some(Number::from_u64(0)));
        assert_eq!(int(0.5), None);
        assert_eq!(int(f64::INFINITY), None);
        assert_eq!(int(f64::NAN), None);
        assert_eq!(
            Number::from_i64(-3).to_integer(),
            Some(Number::from_i64(-3))
        );
    }

    #[test]
    fn numeric_cmp_is_exact_across_kinds() {
        let u = |x: u64| Number::from_u64(x);
        let i = |x: i64| Number::from_i64(x);
        let f = Number::from_f64;
        let cases = [
            // u64::MAX rounds to 2^64 as a float, but is smaller.
            (u(u64::MAX), f(TWO_64), Some(Less)),
            (u(u64::MAX), f(1e300), Some(Less)),
            (u(u64::MAX), f(f64::INFINITY), Some(Less)),
            (i(i64::MIN), f(-TWO_63), Some(Equal)),
            (i(i64::MIN), f(-TWO_63 - 2048.0), Some(Greater)),
            (i(i64::MIN), f(f64::NEG_INFINITY), Some(Greater)),
            (u(1 << 63), f(TWO_63), Some(Equal)),
            (u((1 << 53) + 1), f(9_007_199_254_740_992.0), Some(Greater)),
            (i(2), f(2.5), Some(Less)),
            (i(3), f(2.5), Some(Greater)),
            (i(-3), f(-2.5), Some(Less)),
            (i(-2), f(-2.5), Some(Greater)),
            (i(0), f(-0.0), Some(Equal)),
            (i(0), f(f64::NAN), None),
            (f(1.5), f(1.5), Some(Equal)),
            (i(-1), u(0), Some(Less)),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.numeric_cmp(&b), want, "{a:?} vs {b:?}");
            assert_eq!(
                b.numeric_cmp(&a),
                want.map(std::cmp::Ordering::reverse),
                "{b:?} vs {a:?}"
            );
            assert_eq!(a.numeric_eq(&b), want == Some(Equal), "{a:?} == {b:?}");
        }
    }

    /// A small deterministic PRNG (xorshift64*), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            crate::fuzzing::xorshift(&mut self.0)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Every operation of `Map` against a plain vector model, crossing the index threshold
    /// both ways many times.
    #[test]
    fn map_matches_a_vector_model() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..40 {
            let mut map: Map<u64> = Map::new();
            let mut model: Vec<(String, u64)> = Vec::new();
            let pool = 4 + rng.below(60);
            for step in 0..400 {
                let key = format!("k{}", rng.below(pool));
                match rng.below(10) {
                    0..=3 => {
                        let val = rng.next();
                        let prev = model
                            .iter_mut()
                            .find(|(k, _)| *k == key)
                            .map(|slot| std::mem::replace(&mut slot.1, val));
                        if prev.is_none() {
                            model.push((key.clone(), val));
                        }
                        assert_eq!(map.insert(key, val), prev);
                    }
                    4 | 5 => {
                        let pos = model.iter().position(|(k, _)| *k == key);
                        let want = pos.map(|p| model.remove(p).1);
                        assert_eq!(map.remove(&key), want);
                    }
                    6 => {
                        let m = 2 + rng.below(5);
                        model.retain(|(_, v)| v % m != 0);
                        map.retain(|_, v| *v % m != 0);
                    }
                    7 => {
                        model.sort_by(|a, b| a.0.cmp(&b.0));
                        map.sort_keys();
                    }
                    8 => {
                        if let Some(v) = map.get_mut(&key) {
                            *v = v.wrapping_add(1);
                        }
                        if let Some(slot) = model.iter_mut().find(|(k, _)| *k == key) {
                            slot.1 = slot.1.wrapping_add(1);
                        }
                    }
                    _ => {
                        map = map.map_values(|v| v ^ 1);
                        model.iter_mut().for_each(|(_, v)| *v ^= 1);
                    }
                }
                let ctx = format!("round {round} step {step}");
                assert_eq!(map.len(), model.len(), "{ctx}");
                let got: Vec<(String, u64)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
                assert_eq!(got, model, "{ctx}");
                for probe in 0..pool {
                    let k = format!("k{probe}");
                    let want = model.iter().find(|(mk, _)| *mk == k).map(|(_, v)| v);
                    assert_eq!(map.get(&k), want, "{ctx} get {k}");
                    assert_eq!(map.contains_key(&k), want.is_some(), "{ctx}");
                }
                // The index, when present, points every key at its own position.
                if let Some(ix) = &map.index {
                    assert!(map.len() > INDEX_THRESHOLD, "{ctx}");
                    assert_eq!(ix.len(), map.len(), "{ctx}");
                    for (i, (k, _)) in map.entries.iter().enumerate() {
                        assert_eq!(ix.get(k), Some(&i), "{ctx}");
                    }
                } else {
                    assert!(map.len() <= INDEX_THRESHOLD, "{ctx}");
                }
            }
        }
    }
}
