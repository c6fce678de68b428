//! Errors of key handling and signing (spec §10.2–§10.4).
//!
//! The messages of the "empty" variants are the reference's, word for word, so a caller that
//! reports them produces the same text as the reference. Keys and secrets never appear in any
//! message.

use rxon_core::EncodeError;
use std::fmt;

/// Why a signature could not be made, or a key could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityError {
    /// The HMAC secret for a payload signature is empty (§10.2).
    EmptySecret,
    /// The HMAC secret for a bubbling-chain signature is empty (§10.4).
    EmptyChainSecret,
    /// The Ed25519 private key for a payload signature is empty (§10.3).
    EmptyPrivateKey,
    /// The Ed25519 private key for a bubbling-chain signature is empty (§10.4).
    EmptyChainPrivateKey,
    /// The private key is password-protected (`ENCRYPTED PRIVATE KEY`), which is not supported.
    EncryptedKey,
    /// The private key cannot be parsed.
    InvalidPrivateKey {
        /// Why (never contains key material).
        reason: String,
    },
    /// The private key is well formed but not an Ed25519 key.
    NotEd25519PrivateKey,
    /// The public key cannot be parsed.
    InvalidPublicKey {
        /// Why (never contains key material).
        reason: String,
    },
    /// The public key is well formed but not an Ed25519 key.
    NotEd25519PublicKey,
    /// The payload cannot be encoded under the chosen protocol version (§3.3 limits).
    Encode(EncodeError),
    /// A `security` field can only be added to a JSON object.
    NotAnObject,
    /// Key generation failed (the system random source is unavailable).
    KeyGeneration,
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("Secret key for signing cannot be empty."),
            Self::EmptyChainSecret => f.write_str("Secret cannot be empty."),
            Self::EmptyPrivateKey => f.write_str("Private key for signing cannot be empty."),
            Self::EmptyChainPrivateKey => f.write_str("Private key cannot be empty."),
            Self::EncryptedKey => f.write_str(
                "Failed to load Ed25519 private key (password-protected keys are not supported)",
            ),
            Self::InvalidPrivateKey { reason } => write!(f, "Invalid private key: {reason}"),
            Self::NotEd25519PrivateKey => f.write_str("Key is not an Ed25519 private key."),
            Self::InvalidPublicKey { reason } => write!(f, "Invalid public key: {reason}"),
            Self::NotEd25519PublicKey => f.write_str("Key is not an Ed25519 public key."),
            Self::Encode(e) => e.fmt(f),
            Self::NotAnObject => f.write_str("only a JSON object can carry a security field"),
            Self::KeyGeneration => f.write_str("the system random source failed"),
        }
    }
}

impl std::error::Error for SecurityError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<EncodeError> for SecurityError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<SecurityError> for rxon_core::Error {
    fn from(e: SecurityError) -> Self {
        match e {
            SecurityError::Encode(e) => Self::Encode(e),
            other => Self::Security {
                message: other.to_string(),
            },
        }
    }
}
