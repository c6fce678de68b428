//! Canonical JSON, the "signing form" (spec §10.1).
//!
//! The canonical form of a payload is what the reference signs and hashes:
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
//! Everything works on a [`Value`] as received, so a verifier never has to decode the message
//! into a model and re-encode it (§10.6, §18): it canonicalizes exactly what it got.

use crate::error::SecurityError;
use rxon_core::normalize::normalize;
use rxon_core::{EncodeError, Model, ProtocolVersion, Signer, Value, Verifier, json};

/// The normalized value with the top-level signature fields and `ignore_fields` removed
/// (steps 1 and 2 of §10.1).
///
/// # Errors
/// 1.0b17 only: nesting deeper than 30 levels, or an integral float outside the 64-bit range.
pub fn canonical_value(
    payload: &Value,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<Value, EncodeError> {
    let mut v = normalize(payload, version)?;
    strip(&mut v, version, ignore_fields);
    Ok(v)
}

/// Removes the top-level keys §10.1 step 2 names (objects only).
fn strip(v: &mut Value, version: ProtocolVersion, ignore_fields: &[&str]) {
    if let Value::Object(m) = v {
        m.remove("security");
        if !version.is_b9() {
            m.remove("_signature");
        }
        for f in ignore_fields {
            m.remove(f);
        }
    }
}

/// The canonical text of `payload` (§10.1): the exact message the reference signs.
///
/// # Errors
/// As [`canonical_value`].
pub fn canonical_string(
    payload: &Value,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<String, EncodeError> {
    canonical_value(payload, version, ignore_fields).map(|v| write(&v, version))
}

/// Writes a normalized value with sorted keys. The 1.0b17 normalizer already sorted every
/// object by code point, so only 1.0b9 needs the sorting writer.
fn write(v: &Value, version: ProtocolVersion) -> String {
    if version.is_b9() {
        json::to_string_sorted(v)
    } else {
        json::to_string(v)
    }
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
    strip(&mut v, version, ignore_fields);
    Ok(write(&v, version))
}

/// Signs the canonical form of `payload` with any [`Signer`] (HMAC §10.2 or Ed25519 §10.3).
///
/// # Errors
/// [`SecurityError::Encode`] when the payload cannot be encoded; the signer's own error
/// otherwise.
pub fn sign_canonical(
    payload: &Value,
    signer: &dyn Signer,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> rxon_core::Result<String> {
    let message =
        canonical_string(payload, version, ignore_fields).map_err(SecurityError::Encode)?;
    signer.sign(message.as_bytes())
}

/// Checks a signature over the canonical form of `payload` with any [`Verifier`].
/// A payload that cannot be encoded is simply not validly signed.
#[must_use]
pub fn verify_canonical(
    payload: &Value,
    signature: &str,
    verifier: &dyn Verifier,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> bool {
    if signature.is_empty() {
        return false;
    }
    canonical_string(payload, version, ignore_fields)
        .is_ok_and(|m| verifier.verify(m.as_bytes(), signature))
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
    }
}
