//! HMAC-SHA256 payload signatures (spec §10.2), with `ring`.
//!
//! The key is the UTF-8 bytes of the shared secret, the message the canonical form (§10.1), the
//! signature the lowercase hex digest (64 characters). Verification is constant-time and, like
//! the reference's string comparison, case-sensitive: uppercase hex, surrounding whitespace or a
//! non-ASCII signature are simply invalid (the reference throws on non-ASCII; we return `false`).

use crate::canonical::verify_canonical;
use crate::error::SecurityError;
use crate::hex;
use ring::hmac;
use rxon_core::{ProtocolVersion, SignatureAlgorithm, Signer, Value, Verifier};
use std::fmt;

/// Signs with HMAC-SHA256 and a shared secret. The secret never appears in `Debug` output.
#[derive(Clone)]
pub struct HmacSigner {
    key: hmac::Key,
}

impl HmacSigner {
    /// A signer for `secret` (its UTF-8 bytes are the key).
    ///
    /// # Errors
    /// [`SecurityError::EmptySecret`] for an empty secret, as the reference.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, SecurityError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(SecurityError::EmptySecret);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        })
    }

    /// The lowercase hex HMAC-SHA256 of `message`.
    #[must_use]
    pub fn sign_bytes(&self, message: &[u8]) -> String {
        hex::encode(hmac::sign(&self.key, message).as_ref())
    }

    /// A verifier with the same secret.
    #[must_use]
    pub fn verifier(&self) -> HmacVerifier {
        HmacVerifier {
            key: Some(self.key.clone()),
        }
    }
}

impl fmt::Debug for HmacSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSigner")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Signer for HmacSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::HmacSha256
    }

    fn sign(&self, message: &[u8]) -> rxon_core::Result<String> {
        Ok(self.sign_bytes(message))
    }
}

/// Checks HMAC-SHA256 signatures. Built from an empty secret it rejects everything, as the
/// reference's `verify_signature` does. The secret never appears in `Debug` output.
#[derive(Clone)]
pub struct HmacVerifier {
    key: Option<hmac::Key>,
}

impl HmacVerifier {
    /// A verifier for `secret`; an empty secret makes every signature invalid.
    #[must_use]
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref();
        Self {
            key: (!secret.is_empty()).then(|| hmac::Key::new(hmac::HMAC_SHA256, secret)),
        }
    }
}

impl fmt::Debug for HmacVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacVerifier")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Verifier for HmacVerifier {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::HmacSha256
    }

    fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Some(key) = &self.key else { return false };
        // Only the exact lowercase digest matches a case-sensitive comparison; anything else
        // fails before the constant-time check.
        hex::decode_lower::<32>(signature_hex)
            .is_some_and(|tag| hmac::verify(key, message, &tag).is_ok())
    }
}

/// `sign_payload` of the reference: HMAC-SHA256 of the canonical form of `payload`.
///
/// # Errors
/// [`SecurityError::EmptySecret`] for an empty secret; [`SecurityError::Encode`] when the
/// payload cannot be encoded under `version`.
pub fn sign_payload(
    payload: &Value,
    secret: &str,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<String, SecurityError> {
    let signer = HmacSigner::new(secret)?;
    let message = crate::canonical::canonical_string(payload, version, ignore_fields)?;
    Ok(signer.sign_bytes(message.as_bytes()))
}

/// `verify_signature` of the reference: `false` for an empty signature or secret, otherwise a
/// constant-time comparison with the expected digest.
#[must_use]
pub fn verify_signature(
    payload: &Value,
    signature: &str,
    secret: &str,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> bool {
    verify_canonical(
        payload,
        signature,
        &HmacVerifier::new(secret),
        version,
        ignore_fields,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_and_strict() {
        let s = HmacSigner::new("top-secret").unwrap();
        assert!(!format!("{s:?}{:?}", s.verifier()).contains("top-secret"));
        let sig = s.sign_bytes(b"m");
        assert_eq!(sig.len(), 64);
        let v = s.verifier();
        assert!(v.verify(b"m", &sig));
        assert!(!v.verify(b"m", &sig.to_uppercase()));
        assert!(!v.verify(b"n", &sig));
        assert!(!v.verify(b"m", "\u{e9}"));
        assert!(!HmacVerifier::new("").verify(b"m", &sig));
        assert_eq!(HmacSigner::new("").unwrap_err(), SecurityError::EmptySecret);
    }
}
