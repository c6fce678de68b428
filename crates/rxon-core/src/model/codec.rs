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

use crate::error::{DecodeError, DecodeErrorKind};
use crate::normalize::{EncodeError, normalize_owned};
use crate::value::{Map, Number, Value};
use crate::wire::ProtocolVersion;
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
    /// Encodes the value (not yet normalized).
    fn encode_field(&self, version: ProtocolVersion) -> Value;
}

impl FieldValue for String {
    const EXPECTED: &'static str = "str";
    const EXPECTED_OPT: &'static str = "str | null";
    fn decode_field(v: &Value, cx: Cx<'_>, expected: &'static str) -> Result<Self, DecodeError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| cx.wrong_type(expected, v))
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        Value::String(self.clone())
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
}

impl FieldValue for Value {
    const EXPECTED: &'static str = "any";
    const EXPECTED_OPT: &'static str = "any";
    fn decode_field(v: &Value, _: Cx<'_>, _: &'static str) -> Result<Self, DecodeError> {
        Ok(v.clone())
    }
    fn encode_field(&self, _: ProtocolVersion) -> Value {
        self.clone()
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
    fn encode_field(&self, version: ProtocolVersion) -> Value {
        Value::Array(self.iter().map(|x| x.encode_field(version)).collect())
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
    fn encode_field(&self, version: ProtocolVersion) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, x)| (k.clone(), x.encode_field(version)))
                .collect(),
        )
    }
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

    /// Parses JSON text and decodes it.
    ///
    /// # Errors
    /// A [`DecodeError`] for invalid JSON or a contract violation.
    fn from_json(text: &[u8]) -> Result<Self, DecodeError> {
        let v = crate::json::from_slice(text).map_err(DecodeError::invalid_json)?;
        Self::from_value(&v)
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
        };
        self.encode_fields(&mut e);
        Value::Object(e.map)
    }

    /// Compact JSON text as the version's encoder writes it.
    ///
    /// # Errors
    /// As [`Model::to_value`].
    fn to_json(&self, version: ProtocolVersion) -> Result<String, EncodeError> {
        self.to_value(version).map(|v| v.to_json())
    }
}

pub(crate) fn decode_at<M: Model>(
    v: &Value,
    cx: Cx<'_>,
    expected: &'static str,
) -> Result<M, DecodeError> {
    let obj = v.as_object().ok_or_else(|| cx.wrong_type(expected, v))?;
    M::decode_fields(&Fields { obj, cx })
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
            fn encode_field(&self, version: $crate::wire::ProtocolVersion) -> $crate::value::Value {
                $crate::model::codec::Model::to_raw_value(self, version)
            }
        }
    )*};
}
pub(crate) use model_field;

/// Read access to the members of an object being decoded into a model.
#[derive(Debug)]
pub struct Fields<'a> {
    obj: &'a Map,
    cx: Cx<'a>,
}

impl Fields<'_> {
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
        match self.obj.get(key) {
            None => Err(DecodeError {
                model: self.cx.model,
                path: self.cx.path.to_string(),
                kind: DecodeErrorKind::MissingField(key),
            }),
            Some(v) if v.is_null() && T::EXPECTED != "any" => {
                Err(self.child(key).wrong_type(T::EXPECTED, v))
            }
            Some(v) => T::decode_field(v, self.child(key), T::EXPECTED),
        }
    }

    /// An optional field: missing or `null` → `None`.
    ///
    /// # Errors
    /// A [`DecodeError`] when present with the wrong type.
    pub fn opt<T: FieldValue>(&self, key: &'static str) -> Result<Option<T>, DecodeError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::decode_field(v, self.child(key), T::EXPECTED_OPT).map(Some),
        }
    }

    /// A non-optional field with a default: missing → `None` (the default applies);
    /// an explicit `null` is refused, as the reference does.
    ///
    /// # Errors
    /// A [`DecodeError`] for `null` or the wrong type.
    pub fn defaulted<T: FieldValue>(&self, key: &'static str) -> Result<Option<T>, DecodeError> {
        match self.obj.get(key) {
            None => Ok(None),
            Some(v) if v.is_null() => Err(self.child(key).wrong_type(T::EXPECTED, v)),
            Some(v) => T::decode_field(v, self.child(key), T::EXPECTED).map(Some),
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
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::decode_field(v, self.child(key), expected).map(Some),
        }
    }
}

/// Collects a model's members for encoding.
#[derive(Debug)]
pub struct Encoder {
    version: ProtocolVersion,
    map: Map,
}

impl Encoder {
    /// The protocol version being encoded for.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// A field that is always written.
    pub fn req<T: FieldValue>(&mut self, key: &'static str, v: &T) {
        let v = v.encode_field(self.version);
        self.map.insert(key, v);
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
