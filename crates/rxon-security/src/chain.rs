//! Bubbling-chain signatures (spec §10.4, 1.0b17).
//!
//! The message is the compact JSON array of the chain's strings in the given order (no
//! normalization, no sorting of items), e.g. `["w3","w1","w2"]`; an empty chain is `[]`. None of
//! the reference's peers use these; events are signed with `ignore_fields = ["bubbling_chain"]`
//! so relays can append to the chain without breaking the payload signature.

use crate::ed25519::{Ed25519Signer, Ed25519Verifier};
use crate::error::SecurityError;
use crate::hmac::{HmacSigner, HmacVerifier};
use rxon_core::{Signer, Verifier, json};

/// The signed message of a chain: its compact JSON array text.
#[must_use]
pub fn bubbling_chain_message<S: AsRef<str>>(chain: &[S]) -> String {
    let mut out = String::from("[");
    for (i, item) in chain.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_str(&mut out, item.as_ref());
    }
    out.push(']');
    out
}

/// Signs a chain with any [`Signer`].
///
/// # Errors
/// The signer's error.
pub fn sign_bubbling_chain<S: AsRef<str>>(
    chain: &[S],
    signer: &dyn Signer,
) -> rxon_core::Result<String> {
    signer.sign(bubbling_chain_message(chain).as_bytes())
}

/// Checks a chain signature with any [`Verifier`] (`false` for an empty signature).
#[must_use]
pub fn verify_bubbling_chain<S: AsRef<str>>(
    chain: &[S],
    signature: &str,
    verifier: &dyn Verifier,
) -> bool {
    !signature.is_empty() && verifier.verify(bubbling_chain_message(chain).as_bytes(), signature)
}

/// `sign_bubbling_chain` of the reference: Ed25519 with a PKCS#8 PEM private key.
///
/// # Errors
/// [`SecurityError::EmptyChainPrivateKey`] for an empty key, otherwise the key errors of
/// [`Ed25519Signer::from_pkcs8_pem`].
pub fn sign_bubbling_chain_ed25519<S: AsRef<str>>(
    chain: &[S],
    private_key_pem: &str,
) -> Result<String, SecurityError> {
    if private_key_pem.is_empty() {
        return Err(SecurityError::EmptyChainPrivateKey);
    }
    let signer = Ed25519Signer::from_pkcs8_pem(private_key_pem)?;
    Ok(signer.sign_bytes(bubbling_chain_message(chain).as_bytes()))
}

/// `verify_bubbling_chain_signature` of the reference: never an error, `false` on any problem.
#[must_use]
pub fn verify_bubbling_chain_signature<S: AsRef<str>>(
    chain: &[S],
    signature_hex: &str,
    public_key_pem: &str,
) -> bool {
    if signature_hex.is_empty() || public_key_pem.is_empty() {
        return false;
    }
    Ed25519Verifier::from_public_pem(public_key_pem)
        .is_ok_and(|v| verify_bubbling_chain(chain, signature_hex, &v))
}

/// `sign_bubbling_chain_hmac` of the reference.
///
/// # Errors
/// [`SecurityError::EmptyChainSecret`] for an empty secret.
pub fn sign_bubbling_chain_hmac<S: AsRef<str>>(
    chain: &[S],
    secret: &str,
) -> Result<String, SecurityError> {
    let signer = HmacSigner::new(secret).map_err(|_| SecurityError::EmptyChainSecret)?;
    Ok(signer.sign_bytes(bubbling_chain_message(chain).as_bytes()))
}

/// `verify_bubbling_chain_hmac` of the reference: `false` on empty inputs, else a constant-time
/// comparison.
#[must_use]
pub fn verify_bubbling_chain_hmac<S: AsRef<str>>(
    chain: &[S],
    signature: &str,
    secret: &str,
) -> bool {
    verify_bubbling_chain(chain, signature, &HmacVerifier::new(secret))
}
