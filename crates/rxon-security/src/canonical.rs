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

//!
//! The text itself is computed by [`rxon_core::canonical`] (it needs no cryptography); this
//! module re-exports it and adds signing and verification over it.

use crate::error::SecurityError;
pub use rxon_core::canonical::{
    canonical_bytes, canonical_model, canonical_string, canonical_value,
};
use rxon_core::{ProtocolVersion, Signer, Value, Verifier};

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
    use crate::hmac::HmacSigner;
    use rxon_core::json;

    #[test]
    fn sign_and_verify_over_the_canonical_form() {
        let signer = HmacSigner::new("k").unwrap();
        let v = json::from_str(r#"{"b":1.0,"a":2,"security":{"signature":"x"}}"#).unwrap();
        let sig = sign_canonical(&v, &signer, ProtocolVersion::V1_0b17, &[]).unwrap();
        assert_eq!(sig, signer.sign_bytes(br#"{"a":2,"b":1}"#));
        let verifier = signer.verifier();
        assert!(verify_canonical(
            &v,
            &sig,
            &verifier,
            ProtocolVersion::V1_0b17,
            &[]
        ));
        assert!(!verify_canonical(
            &v,
            "",
            &verifier,
            ProtocolVersion::V1_0b17,
            &[]
        ));
        assert!(!verify_canonical(
            &v,
            &sig,
            &verifier,
            ProtocolVersion::V1_0b9,
            &[]
        ));
    }
}
