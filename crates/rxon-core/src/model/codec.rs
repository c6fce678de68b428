//! Decoding and encoding of models: the building blocks every model uses, public so that
//! applications can define their own message types the same way.
//!
//! Decoding follows the 1.0b17 reference's typed rules (spec §3.5) with two deliberate
//! tolerances: integer fields accept integral floats (`2.0` → `2`), and `TaskPayload.deadline`
//! accepts any number (spec §18.B.1). Unknown members are ignored, absent optional members take
//! their defaults, an explicit `null` is refused for a non-optional field with a default (as the
//! reference does), and any other mismatch is a [`DecodeError`] naming the field by JSON path.
//!
//! Encoding writes members in declaration order; the version's normalization
//! ([`crate::normalize`]) is applied afterwards by [`Model::to_value`].
//!
//! The crate's own models also take two shortcuts with the same results: [`Model::from_json`]
//! first tries a pull decoder that reads the bytes straight into the fields (falling back to
//! parsing a [`Value`] and decoding it whenever anything is unusual, so results and errors are
//! those of the general path), and [`Model::write_json`] writes the members straight into the
//! output in their final order (1.0b17: keys sorted, an order computed at compile time).

use crate::error::{DecodeError, DecodeErrorKind};
use crate::normalize::{EncodeError, normalize_owned, write_at};
use crate::value::{Map, Number, Value};
use crate::wire::ProtocolVersion;
use std::cell::RefCell;
use std::fmt;

/// Where a value sits inside the decoded message (`$`, `$.devices[0]`, `$.tracing_context[...]`).
#[derive(Clone, Copy, Debug)]
pub enum Path<'a> {
    /// The message itself.
    Root,
    /// Member `key` of the object at the parent path.
    Key(&'a Path<'a>, &'a str),
    /// Item `index` of the array at the parent path.
    Index(&'a Path<'a>, usize),
    /// Any value of the map at the parent path.
    MapValue(&'a Path<'a>),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("$"),
            Self::Key(p, k) => write!(f, "{p}.{k}"),
            Self::Index(p, i) => write!(f, "{p}[{i}]"),
            Self::MapValue(p) => write!(f, "{p}[...]"),
        }
    }
}

/// Decoding context: the top-level model's name and the current path.
#[derive(Clone, Copy, Debug)]
pub struct Cx<'a> {
    /// Name of the top-level model being decoded (used in error messages).
    pub model: &'static str,
    /// Path of the value being decoded.
    pub path: Path<'a>,
}

impl Cx<'_> {
    /// A wrong-type error at this path.
    #[must_use]
    pub fn wrong_type(&self, expected: &'static str, got: &Value) -> DecodeError {
        DecodeError {
            model: self.model,
            path: self.path.to_string(),
            kind: DecodeErrorKind::WrongType {
                expected,
                got: got.type_name(),
            },
        }
    }
}

/// A type that can be a model field: how it decodes from and encodes to JSON.
pub trait FieldValue: Sized {
    /// The declared type's name in error messages (`str`, `int`, `object`, ...).
    const EXPECTED: &'static str;
    /// The same for the optional form (`str | null`, ...).
    const EXPECTED_OPT: &'static str;
    /// Decodes a non-null value (null handling belongs to the caller).
    ///
    /// # Errors
    /// A [`DecodeError`] at `cx.path` when the value does not fit.
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError>;
    /// Decodes a non-null value it owns, moving strings, arrays and objects out of it instead
    /// of copying them. Same result and errors as [`FieldValue::decode_field`] (which it calls
    /// unless overridden).
    ///
    /// # Errors
    /// As [`FieldValue::decode_field`].
    fn decode_field_owned(
        v: Value,
        cx: Cx<'_>,
        expected: &'static str,
    ) -> Result<Self, DecodeError> {
        Self::decode_field(&v, cx, expected)
    }
    /// Encodes the value (not yet normalized).
    fn encode_field(&self, version: ProtocolVersion) -> Value;
    /// Appends the value's JSON text as `version`'s encoder writes it (normalized), the value
    /// sitting at nesting `depth` of the message; returns whether it is null once normalized
    /// (a member the encoder drops). The same bytes as normalizing
    /// [`FieldValue::encode_field`] and writing it (which it does unless overridden).
    ///
    /// # Errors
    /// As [`crate::normalize::normalize`].
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        write_at(out, &self.encode_field(version), version, depth)
    }
}

/// Checks the 1.0b17 depth limit for a value at `depth`.
fn check_depth(version: ProtocolVersion, depth: usize) -> Result<(), EncodeError> {
    if version == ProtocolVersion::V1_0b17 && depth > crate::normalize::B17_MAX_DEPTH {
        Err(EncodeError::TooDeep)
    } else {
        Ok(())
    }
}

impl FieldValue for String {
    const EXPECTED: &'static str = "str";
    const EXPECTED_OPT: &'static str = "str | null";
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| cx.wrong_type(expected, v))
    }
    fn decode_field_owned(
        v: Value,
        cx: Cx<'_>,
        expected: &'static str,
    ) -> Result<Self, DecodeError> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(cx.wrong_type(expected, &other)),
        }
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        Value::String(self.clone())
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        check_depth(version, depth)?;
        crate::json::write_str(out, self);
        Ok(false)
    }
}

impl FieldValue for i64 {
    const EXPECTED: &'static str = "int";
    const EXPECTED_OPT: &'static str = "int | null";
    /// Integers, and integral floats (a deliberate tolerance beyond 1.0b17).
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        v.as_number()
            .and_then(Number::to_integer)
            .and_then(|n| n.as_i64())
            .ok_or_else(|| cx.wrong_type(expected, v))
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        Value::from(*self)
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        check_depth(version, depth)?;
        crate::json::write_number(out, Number::from_i64(*self));
        Ok(false)
    }
}

impl FieldValue for f64 {
    const EXPECTED: &'static str = "float";
    const EXPECTED_OPT: &'static str = "float | null";
    /// Any number (not a bool).
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        v.as_f64().ok_or_else(|| cx.wrong_type(expected, v))
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        Value::from(*self)
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        crate::normalize::write_number_at(out, Number::from_f64(*self), version, depth)
    }
}

impl FieldValue for Number {
    const EXPECTED: &'static str = "float";
    const EXPECTED_OPT: &'static str = "float | null";
    /// Any number, kept with its kind.
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        v.as_number()
            .copied()
            .ok_or_else(|| cx.wrong_type(expected, v))
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        Value::Number(*self)
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        crate::normalize::write_number_at(out, *self, version, depth)
    }
}

impl FieldValue for Value {
    const EXPECTED: &'static str = "any";
    const EXPECTED_OPT: &'static str = "any";
    fn decode_field(v: &Value, _: Cx<'_>, _: &'static str) -> Result<Self, DecodeError> {
        Ok(v.clone())
    }
    fn decode_field_owned(v: Value, _: Cx<'_>, _: &'static str) -> Result<Self, DecodeError> {
        Ok(v)
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        self.clone()
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        crate::normalize::write_at_inline(out, self, version, depth)
    }
}

impl<T: FieldValue> FieldValue for Vec<T> {
    const EXPECTED: &'static str = "array";
    const EXPECTED_OPT: &'static str = "array | null";
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        let items = v.as_array().ok_or_else(|| cx.wrong_type(expected, v))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let cx = Cx {
                    model: cx.model,
                    path: Path::Index(&cx.path, i),
                };
                if item.is_null() {
                    return Err(cx.wrong_type(T::EXPECTED, item));
                }
                T::decode_field(item, cx, T::EXPECTED)
            })
            .collect()
    }
    fn decode_field_owned(
        v: Value,
        cx: Cx<'_>,
        expected: &'static str,
    ) -> Result<Self, DecodeError> {
        let Value::Array(items) = v else {
            return Err(cx.wrong_type(expected, &v));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let cx = Cx {
                    model: cx.model,
                    path: Path::Index(&cx.path, i),
                };
                if item.is_null() {
                    return Err(cx.wrong_type(T::EXPECTED, &item));
                }
                T::decode_field_owned(item, cx, T::EXPECTED)
            })
            .collect()
    }
    fn encode_field(&self, version: ProtocolVersion) -> Value {
        Value::Array(self.iter().map(|x| x.encode_field(version)).collect())
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        check_depth(version, depth)?;
        out.push('[');
        let mut first = true;
        for x in self {
            let mark = out.len();
            if !first {
                out.push(',');
            }
            // 1.0b9 drops null items; 1.0b17 keeps them as `null`.
            if x.write_field(out, version, depth + 1)? && version == ProtocolVersion::V1_0b9 {
                out.truncate(mark);
            } else {
                first = false;
            }
        }
        out.push(']');
        Ok(false)
    }
}

impl<T: FieldValue> FieldValue for Map<T> {
    const EXPECTED: &'static str = "object";
    const EXPECTED_OPT: &'static str = "object | null";
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        let obj = v.as_object().ok_or_else(|| cx.wrong_type(expected, v))?;
        let mut out = Map::with_capacity(obj.len());
        for (k, item) in obj {
            let inner = Cx {
                model: cx.model,
                path: Path::MapValue(&cx.path),
            };
            // Free-form maps (`Map<Value>`) keep nulls; typed maps refuse them.
            if item.is_null() && T::EXPECTED != "any" {
                return Err(inner.wrong_type(T::EXPECTED, item));
            }
            out.insert(k.clone(), T::decode_field(item, inner, T::EXPECTED)?);
        }
        Ok(out)
    }
    fn decode_field_owned(
        v: Value,
        cx: Cx<'_>,
        expected: &'static str,
    ) -> Result<Self, DecodeError> {
        let Value::Object(obj) = v else {
            return Err(cx.wrong_type(expected, &v));
        };
        let mut entries = Vec::with_capacity(obj.len());
        for (k, item) in obj {
            let inner = Cx {
                model: cx.model,
                path: Path::MapValue(&cx.path),
            };
            if item.is_null() && T::EXPECTED != "any" {
                return Err(inner.wrong_type(T::EXPECTED, &item));
            }
            entries.push((k, T::decode_field_owned(item, inner, T::EXPECTED)?));
        }
        // The keys come from a map, so they are distinct.
        Ok(Map::from_entries(entries))
    }
    fn encode_field(&self, version: ProtocolVersion) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, x)| (k.clone(), x.encode_field(version)))
                .collect(),
        )
    }
    fn write_field(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<bool, EncodeError> {
        check_depth(version, depth)?;
        out.push('{');
        if version == ProtocolVersion::V1_0b17 && !crate::json::keys_sorted(self.keys()) {
            let mut members: Vec<(&String, &T)> = self.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            write_field_members(out, members.into_iter(), version, depth)?;
        } else {
            write_field_members(out, self.iter(), version, depth)?;
        }
        out.push('}');
        Ok(false)
    }
}

/// Writes object members, dropping those that are null once normalized.
fn write_field_members<'a, T: FieldValue + 'a>(
    out: &mut String,
    members: impl Iterator<Item = (&'a String, &'a T)>,
    version: ProtocolVersion,
    depth: usize,
) -> Result<(), EncodeError> {
    let mut first = true;
    for (k, x) in members {
        let mark = out.len();
        if !first {
            out.push(',');
        }
        crate::json::write_key(out, k);
        if x.write_field(out, version, depth + 1)? {
            out.truncate(mark);
        } else {
            first = false;
        }
    }
    Ok(())
}

/// A protocol message type (spec §4): decoded from and encoded to JSON objects.
pub trait Model: Sized {
    /// The reference's class name (`TaskPayload`, ...), used in error messages.
    const NAME: &'static str;

    /// Reads the fields from a decoder over the message's object.
    ///
    /// # Errors
    /// A [`DecodeError`] for a missing required field or a value of the wrong type.
    fn decode_fields(d: &Fields<'_>) -> Result<Self, DecodeError>;

    /// Writes the fields, in declaration order, into an encoder.
    fn encode_fields(&self, e: &mut Encoder);

    /// Decodes a model from a JSON value (which must be an object).
    ///
    /// # Errors
    /// A [`DecodeError`] naming the offending field; a non-object is a wrong-type error at `$`.
    fn from_value(v: &Value) -> Result<Self, DecodeError> {
        decode_at(
            v,
            Cx {
                model: Self::NAME,
                path: Path::Root,
            },
            "object",
        )
    }

    /// Decodes a model from a JSON value it owns, moving strings, arrays and objects into the
    /// model instead of copying them (cheaper than [`Model::from_value`] when the value is not
    /// needed afterwards). Same result and errors as [`Model::from_value`].
    ///
    /// # Errors
    /// As [`Model::from_value`].
    fn from_value_owned(v: Value) -> Result<Self, DecodeError> {
        decode_at_owned(
            v,
            Cx {
                model: Self::NAME,
                path: Path::Root,
            },
            "object",
        )
    }

    /// Parses JSON text and decodes it.
    ///
    /// # Errors
    /// A [`DecodeError`] for invalid JSON or a contract violation.
    fn from_json(text: &[u8]) -> Result<Self, DecodeError> {
        from_json_via_value(text)
    }

    /// The model as the version's encoder puts it on the wire (normalized: 1.0b17 sorted, with
    /// integral floats as integers; 1.0b9 in declaration order with defaults).
    ///
    /// # Errors
    /// [`EncodeError`] under 1.0b17 for values the reference cannot encode.
    fn to_value(&self, version: ProtocolVersion) -> Result<Value, EncodeError> {
        normalize_owned(self.to_raw_value(version), version)
    }

    /// The model's members in declaration order, before normalization.
    fn to_raw_value(&self, version: ProtocolVersion) -> Value {
        let mut e = Encoder {
            version,
            map: Map::new(),
            mode: Mode::Value,
        };
        self.encode_fields(&mut e);
        Value::Object(e.map)
    }

    /// Appends the model as a normalized JSON object found at nesting `depth` of a message
    /// (the message itself is at 0): the bytes [`Model::write_json`] writes for it.
    ///
    /// The default collects the members [`Model::encode_fields`] writes and orders them; the
    /// crate's own models write their members straight in their final order.
    ///
    /// # Errors
    /// An [`EncodeError`] met on the way (the text appended so far is then meaningless).
    fn write_object(
        &self,
        out: &mut String,
        version: ProtocolVersion,
        depth: usize,
    ) -> Result<(), EncodeError> {
        write_model_collected(self, out, version, depth)
    }

    /// Compact JSON text as the version's encoder writes it.
    ///
    /// # Errors
    /// As [`Model::to_value`].
    fn to_json(&self, version: ProtocolVersion) -> Result<String, EncodeError> {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out, version)?;
        Ok(out)
    }

    /// Appends the compact JSON text of [`Model::to_json`] to `out`, written straight from the
    /// model's fields (no value tree is built).
    ///
    /// # Errors
    /// As [`Model::to_value`] (nothing is appended then).
    fn write_json(&self, out: &mut String, version: ProtocolVersion) -> Result<(), EncodeError> {
        let start = out.len();
        if self.write_object(out, version, 0).is_err() {
            // Report exactly the error of the value path (it checks the depth first).
            out.truncate(start);
            let v = self.to_value(version)?;
            crate::json::write_value(out, &v, false);
        }
        Ok(())
    }
}

/// The slow, general decoding: the text parsed into a [`Value`], then decoded into the model.
/// It defines the results and errors every faster path must reproduce.
///
/// # Errors
/// As [`Model::from_json`].
pub(crate) fn from_json_via_value<M: Model>(text: &[u8]) -> Result<M, DecodeError> {
    let v = crate::json::from_slice(text).map_err(DecodeError::invalid_json)?;
    M::from_value_owned(v)
}

/// A model's field table, for writing its members straight in their final order: each entry
/// is the member's key as written (`"key":`, the key needing no escape) and a function that
/// hands the member (if any, under that key) to an [`Encoder`].
pub(crate) type FieldTable<M> = [(&'static str, fn(&M, &mut Encoder))];

/// The order in which 1.0b17 writes the members of a field table: indices into `keys`, sorted
/// by key (the reference sorts every object's keys). Evaluated at compile time by the model
/// definitions; the keys must be distinct.
#[must_use]
#[allow(
    clippy::indexing_slicing,
    reason = "const evaluation: indices are in range by construction"
)]
pub(crate) const fn sorted_order<const N: usize>(keys: [&str; N]) -> [usize; N] {
    let mut order = [0usize; N];
    let mut i = 0;
    while i < N {
        order[i] = i;
        i += 1;
    }
    // Insertion sort (N is at most a few dozen, and this runs at compile time).
    let mut i = 1;
    while i < N {
        let mut j = i;
        while j > 0 && key_less(keys[order[j]], keys[order[j - 1]]) {
            let t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
            j -= 1;
        }
        i += 1;
    }
    let mut i = 1;
    while i < N {
        assert!(
            key_less(keys[order[i - 1]], keys[order[i]]),
            "a model's keys must be distinct"
        );
        i += 1;
    }
    let mut i = 0;
    while i < N {
        let k = keys[i].as_bytes();
        let mut j = 0;
        while j < k.len() {
            assert!(
                k[j] >= 0x20 && k[j] != b'"' && k[j] != b'\\',
                "a model's keys must need no escape"
            );
            j += 1;
        }
        i += 1;
    }
    order
}

/// `a < b` by bytes (which for UTF-8 is the order of code points).
#[allow(
    clippy::indexing_slicing,
    reason = "const evaluation: indices are checked"
)]
const fn key_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// Writes a model found at nesting `depth` from its field table, members straight into `out`
/// in their final order (1.0b17: `order`, the keys sorted; 1.0b9: declaration order). The same
/// bytes as collecting the members and ordering them, since every key occurs once.
///
/// # Errors
/// As [`Model::write_object`].
pub(crate) fn write_with_table<M>(
    m: &M,
    table: &FieldTable<M>,
    order: &[usize],
    out: &mut String,
    version: ProtocolVersion,
    depth: usize,
) -> Result<(), EncodeError> {
    check_depth(version, depth)?;
    out.push('{');
    let mut e = Encoder {
        version,
        map: Map::new(),
        mode: Mode::Direct(Direct {
            // Borrowed for the duration (an `Encoder` has no lifetime), put back below.
            out: std::mem::take(out),
            first: true,
            member: "",
            depth,
            err: None,
        }),
    };
    let member = |e: &mut Encoder, f: &(&'static str, fn(&M, &mut Encoder))| {
        if let Mode::Direct(d) = &mut e.mode {
            d.member = f.0;
        }
        (f.1)(m, e);
    };
    if version == ProtocolVersion::V1_0b17 {
        for f in order.iter().filter_map(|&i| table.get(i)) {
            member(&mut e, f);
        }
    } else {
        for f in table {
            member(&mut e, f);
        }
    }
    let Mode::Direct(d) = e.mode else {
        return Ok(());
    };
    *out = d.out;
    out.push('}');
    d.err.map_or(Ok(()), Err)
}

/// [`write_model_collected`], for comparing the field-table writer against it in tests.
#[cfg(test)]
pub(crate) fn write_model_collected_for_tests<M: Model>(
    m: &M,
    out: &mut String,
    version: ProtocolVersion,
    depth: usize,
) -> Result<(), EncodeError> {
    write_model_collected(m, out, version, depth)
}

/// Writes a model found at nesting `depth` by collecting its members, then ordering them.
fn write_model_collected<M: Model>(
    m: &M,
    out: &mut String,
    version: ProtocolVersion,
    depth: usize,
) -> Result<(), EncodeError> {
    check_depth(version, depth)?;
    let mut e = Encoder {
        version,
        map: Map::new(),
        mode: Mode::Text(TextFields {
            buf: String::with_capacity(512),
            members: Vec::with_capacity(16),
            depth,
            err: None,
        }),
    };
    m.encode_fields(&mut e);
    let Mode::Text(t) = e.mode else {
        return Ok(());
    };
    if let Some(err) = t.err {
        return Err(err);
    }
    let mut members: Vec<(&'static str, &str)> = t
        .members
        .iter()
        .filter_map(|&(k, r)| r.and_then(|(a, b)| t.buf.get(a..b)).map(|text| (k, text)))
        .collect();
    if version == ProtocolVersion::V1_0b17 {
        members.sort_by(|a, b| a.0.cmp(b.0));
    }
    out.push('{');
    for (i, (k, text)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::json::write_str(out, k);
        out.push(':');
        out.push_str(text);
    }
    out.push('}');
    Ok(())
}

pub(crate) fn decode_at<M: Model>(
    v: &Value,
    cx: Cx<'_>,
    expected: &'static str,
) -> Result<M, DecodeError> {
    let obj = v.as_object().ok_or_else(|| cx.wrong_type(expected, v))?;
    M::decode_fields(&Fields {
        obj: Source::Borrowed(obj),
        cx,
    })
}

pub(crate) fn decode_at_owned<M: Model>(
    v: Value,
    cx: Cx<'_>,
    expected: &'static str,
) -> Result<M, DecodeError> {
    match v {
        Value::Object(obj) => M::decode_fields(&Fields {
            obj: Source::Owned(RefCell::new(obj)),
            cx,
        }),
        other => Err(cx.wrong_type(expected, &other)),
    }
}

/// Implements [`FieldValue`] for model types so they nest inside other models.
macro_rules! model_field {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::model::codec::FieldValue for $t {
            const EXPECTED: &'static str = "object";
            const EXPECTED_OPT: &'static str = "object | null";
            fn decode_field(
                v: &$crate::value::Value,
                cx: $crate::model::codec::Cx<'_>,
                expected: &'static str,
            ) -> Result<Self, $crate::error::DecodeError> {
                $crate::model::codec::decode_at(v, cx, expected)
            }
            fn decode_field_owned(
                v: $crate::value::Value,
                cx: $crate::model::codec::Cx<'_>,
                expected: &'static str,
            ) -> Result<Self, $crate::error::DecodeError> {
                $crate::model::codec::decode_at_owned(v, cx, expected)
            }
            fn encode_field(&self, version: $crate::wire::ProtocolVersion) -> $crate::value::Value {
                $crate::model::codec::Model::to_raw_value(self, version)
            }
            fn write_field(
                &self,
                out: &mut String,
                version: $crate::wire::ProtocolVersion,
                depth: usize,
            ) -> Result<bool, $crate::normalize::EncodeError> {
                $crate::model::codec::Model::write_object(self, out, version, depth).map(|()| false)
            }
        }
    )*};
}
pub(crate) use model_field;

/// Read access to the members of an object being decoded into a model.
#[derive(Debug)]
pub struct Fields<'a> {
    obj: Source<'a>,
    cx: Cx<'a>,
}

/// The object a [`Fields`] reads: borrowed (members are copied out) or owned (members are
/// moved out, each read at most once).
#[derive(Debug)]
enum Source<'a> {
    Borrowed(&'a Map),
    Owned(RefCell<Map>),
}

/// A member read from a [`Source`].
enum Member<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

impl Member<'_> {
    fn value(&self) -> &Value {
        match self {
            Self::Borrowed(v) => v,
            Self::Owned(v) => v,
        }
    }

    fn decode<T: FieldValue>(self, cx: Cx<'_>, expected: &'static str) -> Result<T, DecodeError> {
        match self {
            Self::Borrowed(v) => T::decode_field(v, cx, expected),
            Self::Owned(v) => T::decode_field_owned(v, cx, expected),
        }
    }
}

impl Fields<'_> {
    fn member(&self, key: &str) -> Option<Member<'_>> {
        match &self.obj {
            Source::Borrowed(m) => m.get(key).map(Member::Borrowed),
            Source::Owned(m) => m.borrow_mut().take(key).map(Member::Owned),
        }
    }

    fn child<'b>(&'b self, key: &'b str) -> Cx<'b> {
        Cx {
            model: self.cx.model,
            path: Path::Key(&self.cx.path, key),
        }
    }

    /// A required field: missing → error; `null` → wrong-type error.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the field.
    pub fn req<T: FieldValue>(&self, key: &'static str) -> Result<T, DecodeError> {
        match self.member(key) {
            None => Err(DecodeError {
                model: self.cx.model,
                path: self.cx.path.to_string(),
                kind: DecodeErrorKind::MissingField(key),
            }),
            Some(v) if v.value().is_null() && T::EXPECTED != "any" => {
                Err(self.child(key).wrong_type(T::EXPECTED, v.value()))
            }
            Some(v) => v.decode(self.child(key), T::EXPECTED),
        }
    }

    /// An optional field: missing or `null` → `None`.
    ///
    /// # Errors
    /// A [`DecodeError`] when present with the wrong type.
    pub fn opt<T: FieldValue>(&self, key: &'static str) -> Result<Option<T>, DecodeError> {
        match self.member(key) {
            None => Ok(None),
            Some(v) if v.value().is_null() => Ok(None),
            Some(v) => v.decode(self.child(key), T::EXPECTED_OPT).map(Some),
        }
    }

    /// A non-optional field with a default: missing → `None` (the default applies);
    /// an explicit `null` is refused, as the reference does.
    ///
    /// # Errors
    /// A [`DecodeError`] for `null` or the wrong type.
    pub fn defaulted<T: FieldValue>(&self, key: &'static str) -> Result<Option<T>, DecodeError> {
        match self.member(key) {
            None => Ok(None),
            Some(v) if v.value().is_null() => {
                Err(self.child(key).wrong_type(T::EXPECTED, v.value()))
            }
            Some(v) => v.decode(self.child(key), T::EXPECTED).map(Some),
        }
    }

    /// An optional field decoded with a custom expected-type name (for fields whose declared
    /// type differs between versions, such as `deadline`).
    ///
    /// # Errors
    /// A [`DecodeError`] when present with the wrong type.
    pub fn opt_as<T: FieldValue>(
        &self,
        key: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, DecodeError> {
        match self.member(key) {
            None => Ok(None),
            Some(v) if v.value().is_null() => Ok(None),
            Some(v) => v.decode(self.child(key), expected).map(Some),
        }
    }
}

/// Collects a model's members for encoding.
#[derive(Debug)]
pub struct Encoder {
    version: ProtocolVersion,
    map: Map,
    /// Where the members go.
    mode: Mode,
}

/// Where an [`Encoder`] puts the members.
#[derive(Debug)]
enum Mode {
    /// Collected in `map` as values.
    Value,
    /// Written as normalized text, to be ordered afterwards.
    Text(TextFields),
    /// Written as normalized text straight into the output, already in their final order.
    Direct(Direct),
}

/// A model's members written straight into the output.
#[derive(Debug)]
struct Direct {
    /// The output (after the model's `{`).
    out: String,
    /// Whether no member has been written yet.
    first: bool,
    /// The field table's text for the next member's key (`"key":`), or empty.
    member: &'static str,
    /// Nesting depth of the model.
    depth: usize,
    /// The first error met.
    err: Option<EncodeError>,
}

impl Direct {
    fn field<T: FieldValue>(&mut self, key: &'static str, v: &T, version: ProtocolVersion) {
        if self.err.is_some() {
            return;
        }
        let mark = self.out.len();
        if !self.first {
            self.out.push(',');
        }
        // The table's text is for this key: each entry writes at most its own member.
        debug_assert!(self.member.is_empty() || self.member.get(1..=key.len()) == Some(key));
        if self.member.len() == key.len() + 3 {
            self.out.push_str(self.member);
        } else {
            crate::json::write_str(&mut self.out, key);
            self.out.push(':');
        }
        match v.write_field(&mut self.out, version, self.depth + 1) {
            Err(e) => self.err = Some(e),
            // Null once normalized: the encoder drops the member.
            Ok(true) => self.out.truncate(mark),
            Ok(false) => self.first = false,
        }
    }
}

/// A model's members as normalized JSON text, in the order first written.
#[derive(Debug)]
struct TextFields {
    /// The members' values, one after another.
    buf: String,
    /// Key and byte range in `buf` of each member (`None`: null once normalized, dropped).
    members: Vec<(&'static str, Option<(usize, usize)>)>,
    /// Nesting depth of the model.
    depth: usize,
    /// The first error met.
    err: Option<EncodeError>,
}

impl TextFields {
    fn field<T: FieldValue>(&mut self, key: &'static str, v: &T, version: ProtocolVersion) {
        if self.err.is_some() {
            return;
        }
        let start = self.buf.len();
        let range = match v.write_field(&mut self.buf, version, self.depth + 1) {
            Err(e) => {
                self.err = Some(e);
                return;
            }
            Ok(true) => {
                self.buf.truncate(start);
                None
            }
            Ok(false) => Some((start, self.buf.len())),
        };
        // As `Map::insert`: a repeated key keeps its first position and takes the new value.
        match self.members.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = range,
            None => self.members.push((key, range)),
        }
    }
}

impl Encoder {
    /// The protocol version being encoded for.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// A field that is always written.
    pub fn req<T: FieldValue>(&mut self, key: &'static str, v: &T) {
        match &mut self.mode {
            Mode::Direct(d) => d.field(key, v, self.version),
            Mode::Text(t) => t.field(key, v, self.version),
            Mode::Value => {
                let v = v.encode_field(self.version);
                self.map.insert(key, v);
            }
        }
    }

    /// An optional field: written when set.
    pub fn opt<T: FieldValue>(&mut self, key: &'static str, v: Option<&T>) {
        if let Some(v) = v {
            self.req(key, v);
        }
    }

    /// A field with a default: 1.0b9 always writes it (the default when unset); 1.0b17 writes
    /// it only when it was set (the reference omits never-set defaults).
    pub fn defaulted<T: FieldValue>(&mut self, key: &'static str, v: Option<&T>, default: &T) {
        match (v, self.version) {
            (Some(v), _) => self.req(key, v),
            (None, ProtocolVersion::V1_0b9) => self.req(key, default),
            (None, _) => {}
        }
    }

    /// An integer field with a default: as [`Encoder::defaulted`], except that under 1.0b17 a
    /// value equal to a small default (−5…256) is omitted even when set — the reference's
    /// identity-based omission always drops those (spec §3.3).
    pub fn defaulted_int(&mut self, key: &'static str, v: Option<i64>, default: i64) {
        let small = (-5..=256).contains(&default);
        if self.version == ProtocolVersion::V1_0b17 && small && v == Some(default) {
            return;
        }
        self.defaulted(key, v.as_ref(), &default);
    }

    /// A field that exists only in 1.0b17 (not written under 1.0b9).
    pub fn b17_opt<T: FieldValue>(&mut self, key: &'static str, v: Option<&T>) {
        if self.version == ProtocolVersion::V1_0b17 {
            self.opt(key, v);
        }
    }

    /// A field that exists only in 1.0b9 (not written under 1.0b17).
    pub fn b9_opt<T: FieldValue>(&mut self, key: &'static str, v: Option<&T>) {
        if self.version == ProtocolVersion::V1_0b9 {
            self.opt(key, v);
        }
    }
}
