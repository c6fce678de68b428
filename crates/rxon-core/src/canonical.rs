//! Canonical JSON, the "signing form" (spec §10.1), with no cryptography: what every signer,
//! verifier and hash of the protocol feeds to its digest.
//!
//! 1. normalize with the version's encoder (§3.2 for 1.0b9: nulls dropped from objects *and*
//!    arrays, floats as written; §3.3 for 1.0b17: nulls dropped from objects only, integral
//!    floats become integers, depth and range limits);
//! 2. if the result is an object, remove the **top-level** keys `security` (always),
//!    `_signature` (1.0b17 only) and every caller-chosen ignore field — nested keys of the same
//!    names stay;
//! 3. write compact JSON with keys sorted by code point, non-ASCII as raw UTF-8 and orjson's
//!    float layout (`1e-7`, `1e+16`).
//!
//! Everything works on a [`Value`] as received, so a verifier canonicalizes exactly what it got
//! instead of a re-encoded model (§10.6, §18).
//!
//! ```
//! use rxon_core::{canonical, json, ProtocolVersion};
//! let v = json!({"b": 1.0, "a": [1, null], "security": {"signature": "x"}, "chain": ["w"]});
//! assert_eq!(
//!     canonical::canonical_string(&v, ProtocolVersion::V1_0b17, &["chain"]).unwrap(),
//!     r#"{"a":[1,null],"b":1}"#
//! );
//! assert_eq!(
//!     canonical::canonical_string(&v, ProtocolVersion::V1_0b9, &[]).unwrap(),
//!     r#"{"a":[1],"b":1.0,"chain":["w"]}"#
//! );
//! ```

use crate::json;
use crate::model::Model;
use crate::normalize::{EncodeError, normalize};
use crate::value::{Map, Value};
use crate::wire::ProtocolVersion;

/// The normalized value with the top-level signature fields and `ignore_fields` removed
/// (steps 1 and 2 above).
///
/// # Errors
/// 1.0b17 only: nesting deeper than 30 levels, or an integral float outside the 64-bit range.
pub fn canonical_value(
    payload: &Value,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<Value, EncodeError> {
    let mut v = normalize(payload, version)?;
    strip_signature_fields(&mut v, version, ignore_fields);
    Ok(v)
}

/// Removes the top-level keys step 2 names (`security`, `_signature` in 1.0b17, and
/// `ignore_fields`) from an object; any other value is left alone.
pub fn strip_signature_fields(v: &mut Value, version: ProtocolVersion, ignore_fields: &[&str]) {
    if let Value::Object(m) = v {
        m.retain(|k, _| {
            k != "security" && (version.is_b9() || k != "_signature") && !ignore_fields.contains(&k)
        });
    }
}

/// Writes an already normalized value as canonical text (step 3): compact, keys sorted at
/// every depth. The 1.0b17 normalizer has sorted every object already, so only 1.0b9 needs
/// the sorting writer; the output is the same either way.
#[must_use]
pub fn write_canonical(normalized: &Value, version: ProtocolVersion) -> String {
    if version.is_b9() {
        json::to_string_sorted(normalized)
    } else {
        json::to_string(normalized)
    }
}

/// The canonical text of `payload`: the exact message the reference signs.
///
/// # Errors
/// As [`canonical_value`].
pub fn canonical_string(
    payload: &Value,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<String, EncodeError> {
    canonical_value(payload, version, ignore_fields).map(|v| write_canonical(&v, version))
}

/// The canonical bytes of `payload` (UTF-8 of [`canonical_string`]).
///
/// # Errors
/// As [`canonical_value`].
pub fn canonical_bytes(
    payload: &Value,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<Vec<u8>, EncodeError> {
    canonical_string(payload, version, ignore_fields).map(String::into_bytes)
}

/// The canonical text of a model as the version's encoder emits it (§3.2/§3.3, including the
/// omit-defaults rule of 1.0b17), minus the signature fields and `ignore_fields`.
///
/// # Errors
/// As [`canonical_value`].
pub fn canonical_model<M: Model>(
    model: &M,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<String, EncodeError> {
    let mut v = model.to_value(version)?;
    strip_signature_fields(&mut v, version, ignore_fields);
    Ok(write_canonical(&v, version))
}

/// Stores a computed signature in a message's `security` object: `signature` is set,
/// `signer_id` is set (or removed when `None`), and other members of an existing `security`
/// object (`identity_chain`, `metadata`) are kept; a `security` member that is not an object is
/// replaced. The `security` member moves to the end of the message.
pub fn set_signature(message: &mut Map, signature: String, signer_id: Option<&str>) {
    let mut security = match message.remove("security") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    security.insert("signature", Value::String(signature));
    match signer_id {
        Some(id) => {
            security.insert("signer_id", Value::String(id.to_owned()));
        }
        None => {
            security.remove("signer_id");
        }
    }
    message.insert("security", Value::Object(security));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_top_level() {
        let v = json::from_str(r#"{"security":{"signature":"x"},"_signature":"s","k":{"security":1},"e":[1,null,1.0]}"#).unwrap();
        assert_eq!(
            canonical_string(&v, ProtocolVersion::V1_0b17, &[]).unwrap(),
            r#"{"e":[1,null,1],"k":{"security":1}}"#
        );
        assert_eq!(
            canonical_string(&v, ProtocolVersion::V1_0b9, &["e"]).unwrap(),
            r#"{"_signature":"s","k":{"security":1}}"#
        );
        let arr = json::from_str(r#"[{"security":1}]"#).unwrap();
        assert_eq!(
            canonical_string(&arr, ProtocolVersion::V1_0b17, &[]).unwrap(),
            r#"[{"security":1}]"#
        );
        assert_eq!(
            canonical_bytes(&arr, ProtocolVersion::V1_0b9, &[]).unwrap(),
            br#"[{"security":1}]"#
        );
    }

    #[test]
    fn set_signature_keeps_other_security_members() {
        let mut v =
            json::from_str(r#"{"a":1,"security":{"identity_chain":["r"],"signer_id":"old"}}"#)
                .unwrap();
        set_signature(v.as_object_mut().unwrap(), "sig".into(), None);
        assert_eq!(
            v.to_json(),
            r#"{"a":1,"security":{"identity_chain":["r"],"signature":"sig"}}"#
        );
        let mut w = json::from_str(r#"{"security":5}"#).unwrap();
        set_signature(w.as_object_mut().unwrap(), "s".into(), Some("w1"));
        assert_eq!(
            w.to_json(),
            r#"{"security":{"signature":"s","signer_id":"w1"}}"#
        );
    }
}
