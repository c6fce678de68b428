//! Signing traits (spec §10): implemented with `ring` by `rxon-security`; transports and
//! listeners take `Arc<dyn Signer>` / `Arc<dyn Verifier>` and never build keys themselves.

use crate::error::Result;
use std::fmt;

/// A signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// HMAC-SHA256 with a shared secret (lowercase hex, 64 characters).
    HmacSha256,
    /// Ed25519 (lowercase hex, 128 characters).
    Ed25519,
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::Ed25519 => "ed25519",
        })
    }
}

/// Signs message bytes (already in canonical form) into a lowercase hex signature.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The algorithm.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signs `message`.
    ///
    /// # Errors
    /// [`crate::Error::Security`] when the key cannot sign.
    fn sign(&self, message: &[u8]) -> Result<String>;
}

/// Checks a hex signature over message bytes.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// The algorithm.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Whether `signature_hex` is a valid signature of `message`. Never panics; malformed
    /// input is simply invalid.
    fn verify(&self, message: &[u8], signature_hex: &str) -> bool;
}

impl<T: Signer + ?Sized> Signer for std::sync::Arc<T> {
    fn algorithm(&self) -> SignatureAlgorithm {
        (**self).algorithm()
    }
    fn sign(&self, message: &[u8]) -> Result<String> {
        (**self).sign(message)
    }
}

impl<T: Verifier + ?Sized> Verifier for std::sync::Arc<T> {
    fn algorithm(&self) -> SignatureAlgorithm {
        (**self).algorithm()
    }
    fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        (**self).verify(message, signature_hex)
    }
}
