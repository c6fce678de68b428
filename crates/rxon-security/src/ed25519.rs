//! Ed25519 payload signatures (spec §10.3, 1.0b17), with `ring`.
//!
//! Private keys are unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, v1 seed-only or v2
//! with the public key), public keys SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`);
//! signatures are the 64 bytes as lowercase hex. Verification accepts what Python's
//! `bytes.fromhex` accepts (either case, whitespace between byte pairs). A password-protected,
//! malformed or non-Ed25519 key is a typed [`SecurityError`], never a panic.

use crate::canonical::canonical_string;
use crate::error::SecurityError;
use crate::hex;
use crate::pkcs8::{
    ED25519_PKCS8_V1_PREFIX, ED25519_SPKI_PREFIX, KeyAlgorithm, pkcs8_algorithm, spki_ed25519,
};
use ring::rand::SecureRandom as _;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::{PemObject as _, SectionKind};
use rxon_core::{ProtocolVersion, SignatureAlgorithm, Signer, Value, Verifier};
use std::fmt;

/// Signs with an Ed25519 private key. The key never appears in `Debug` output (only the public
/// key does).
pub struct Ed25519Signer {
    pair: Ed25519KeyPair,
}

impl Ed25519Signer {
    /// Loads an unencrypted PKCS#8 PEM private key.
    ///
    /// # Errors
    /// [`SecurityError::EmptyPrivateKey`], [`SecurityError::EncryptedKey`],
    /// [`SecurityError::InvalidPrivateKey`] or [`SecurityError::NotEd25519PrivateKey`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, SecurityError> {
        if pem.is_empty() {
            return Err(SecurityError::EmptyPrivateKey);
        }
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(SecurityError::EncryptedKey);
        }
        match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
            Ok(PrivateKeyDer::Pkcs8(der)) => Self::from_pkcs8_der(der.secret_pkcs8_der()),
            Ok(_) => Err(SecurityError::NotEd25519PrivateKey),
            Err(rustls_pki_types::pem::Error::NoItemsFound) => {
                let reason = if pem.contains("-----BEGIN PUBLIC KEY-----")
                    || pem.contains("-----BEGIN CERTIFICATE-----")
                {
                    "no private key in this PEM (it holds a public key or certificate)"
                } else {
                    "no PRIVATE KEY section found"
                };
                Err(SecurityError::InvalidPrivateKey {
                    reason: reason.into(),
                })
            }
            Err(e) => Err(SecurityError::InvalidPrivateKey {
                reason: format!("malformed PEM: {e}"),
            }),
        }
    }

    /// Loads a DER PKCS#8 private key (v1 or v2).
    ///
    /// # Errors
    /// [`SecurityError::InvalidPrivateKey`] or [`SecurityError::NotEd25519PrivateKey`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SecurityError> {
        match pkcs8_algorithm(der) {
            None => Err(SecurityError::InvalidPrivateKey {
                reason: "malformed PKCS#8 structure".into(),
            }),
            Some(KeyAlgorithm::Other) => Err(SecurityError::NotEd25519PrivateKey),
            Some(KeyAlgorithm::Ed25519) => Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map(|pair| Self { pair })
                .map_err(|e| SecurityError::InvalidPrivateKey {
                    reason: e.to_string(),
                }),
        }
    }

    /// A signer from the 32-byte seed (the RFC 8032 private key).
    ///
    /// # Errors
    /// [`SecurityError::InvalidPrivateKey`] if `ring` rejects the seed.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, SecurityError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|pair| Self { pair })
            .map_err(|e| SecurityError::InvalidPrivateKey {
                reason: e.to_string(),
            })
    }

    /// The raw 32-byte public key.
    #[must_use]
    pub fn public_key_raw(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        out
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    #[must_use]
    pub fn public_key_pem(&self) -> String {
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.public_key_raw());
        pem_encode("PUBLIC KEY", &der)
    }

    /// A verifier for this key's public half.
    #[must_use]
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier {
            public: self.public_key_raw(),
        }
    }

    /// The lowercase hex signature of `message`.
    #[must_use]
    pub fn sign_bytes(&self, message: &[u8]) -> String {
        hex::encode(self.pair.sign(message).as_ref())
    }
}

impl fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("public_key", &hex::encode(&self.public_key_raw()))
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl Signer for Ed25519Signer {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Ed25519
    }

    fn sign(&self, message: &[u8]) -> rxon_core::Result<String> {
        Ok(self.sign_bytes(message))
    }
}

/// Checks Ed25519 signatures against one public key.
#[derive(Clone, PartialEq, Eq)]
pub struct Ed25519Verifier {
    public: [u8; 32],
}

impl Ed25519Verifier {
    /// Loads a SubjectPublicKeyInfo PEM public key.
    ///
    /// # Errors
    /// [`SecurityError::InvalidPublicKey`] or [`SecurityError::NotEd25519PublicKey`].
    pub fn from_public_pem(pem: &str) -> Result<Self, SecurityError> {
        let mut found = None;
        for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem.as_bytes()) {
            match item {
                Ok((SectionKind::PublicKey, der)) => {
                    found = Some(der);
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(SecurityError::InvalidPublicKey {
                        reason: format!("malformed PEM: {e}"),
                    });
                }
            }
        }
        let der = found.ok_or_else(|| SecurityError::InvalidPublicKey {
            reason: "no PUBLIC KEY section found".into(),
        })?;
        Self::from_spki_der(&der)
    }

    /// Loads a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// [`SecurityError::InvalidPublicKey`] or [`SecurityError::NotEd25519PublicKey`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SecurityError> {
        match spki_ed25519(der) {
            Ok(public) => Ok(Self { public }),
            Err(Some(_)) => Err(SecurityError::NotEd25519PublicKey),
            Err(None) => Err(SecurityError::InvalidPublicKey {
                reason: "malformed SubjectPublicKeyInfo".into(),
            }),
        }
    }

    /// A verifier for a raw 32-byte public key.
    #[must_use]
    pub fn from_raw(public: [u8; 32]) -> Self {
        Self { public }
    }

    /// The raw public key.
    #[must_use]
    pub fn public_key_raw(&self) -> [u8; 32] {
        self.public
    }
}

impl fmt::Debug for Ed25519Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Verifier")
            .field("public_key", &hex::encode(&self.public))
            .finish()
    }
}

impl Verifier for Ed25519Verifier {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Ed25519
    }

    fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Some(sig) = hex::decode_lenient(signature_hex) else {
            return false;
        };
        sig.len() == 64
            && UnparsedPublicKey::new(&ED25519, &self.public)
                .verify(message, &sig)
                .is_ok()
    }
}

/// A freshly generated Ed25519 key pair as PEM text (PKCS#8 v1 private key, the form the
/// reference's `cryptography` writes, and SubjectPublicKeyInfo public key).
#[derive(Clone)]
pub struct Ed25519KeyPairPem {
    /// `-----BEGIN PRIVATE KEY-----` … (secret: store with mode 0600).
    pub private_pem: String,
    /// `-----BEGIN PUBLIC KEY-----` …
    pub public_pem: String,
}

impl fmt::Debug for Ed25519KeyPairPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519KeyPairPem")
            .field("private_pem", &"<redacted>")
            .field("public_pem", &self.public_pem)
            .finish()
    }
}

impl Ed25519KeyPairPem {
    /// Generates a key pair from the system random source.
    ///
    /// # Errors
    /// [`SecurityError::KeyGeneration`] if the random source fails.
    pub fn generate() -> Result<Self, SecurityError> {
        let mut seed = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| SecurityError::KeyGeneration)?;
        let signer = Ed25519Signer::from_seed(&seed)?;
        let mut der = ED25519_PKCS8_V1_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        seed.fill(0);
        let private_pem = pem_encode("PRIVATE KEY", &der);
        der.fill(0);
        Ok(Self {
            private_pem,
            public_pem: signer.public_key_pem(),
        })
    }
}

/// PEM armour with 64-character base64 lines (RFC 7468).
fn pem_encode(label: &str, der: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(B64[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `sign_payload_ed25519` of the reference: Ed25519 over the canonical form of `payload`.
///
/// # Errors
/// The key errors of [`Ed25519Signer::from_pkcs8_pem`]; [`SecurityError::Encode`] when the
/// payload cannot be encoded under `version`.
pub fn sign_payload_ed25519(
    payload: &Value,
    private_key_pem: &str,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<String, SecurityError> {
    if private_key_pem.is_empty() {
        return Err(SecurityError::EmptyPrivateKey);
    }
    let message = canonical_string(payload, version, ignore_fields)?;
    let signer = Ed25519Signer::from_pkcs8_pem(private_key_pem)?;
    Ok(signer.sign_bytes(message.as_bytes()))
}

/// `verify_signature_ed25519` of the reference: `false` (never an error) for an empty
/// signature or key, a key that is not an Ed25519 public key, malformed hex or a wrong
/// signature.
#[must_use]
pub fn verify_signature_ed25519(
    payload: &Value,
    signature_hex: &str,
    public_key_pem: &str,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> bool {
    if signature_hex.is_empty() || public_key_pem.is_empty() {
        return false;
    }
    Ed25519Verifier::from_public_pem(public_key_pem).is_ok_and(|v| {
        crate::canonical::verify_canonical(payload, signature_hex, &v, version, ignore_fields)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pair_round_trips() {
        let pair = Ed25519KeyPairPem::generate().unwrap();
        assert!(
            pair.private_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(!format!("{pair:?}").contains(&pair.private_pem));
        let s = Ed25519Signer::from_pkcs8_pem(&pair.private_pem).unwrap();
        let v = Ed25519Verifier::from_public_pem(&pair.public_pem).unwrap();
        assert_eq!(v, s.verifier());
        let sig = s.sign_bytes(b"hello");
        assert!(v.verify(b"hello", &sig));
        assert!(v.verify(b"hello", &sig.to_uppercase()));
        assert!(!v.verify(b"hellO", &sig));
        assert!(!v.verify(b"hello", &sig[..126]));
        assert!(!format!("{s:?}").contains(&pair.private_pem));
    }

    #[test]
    fn loads_pkcs8_v2_from_ring() {
        let doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let s = Ed25519Signer::from_pkcs8_der(doc.as_ref()).unwrap();
        assert!(s.verifier().verify(b"x", &s.sign_bytes(b"x")));
    }

    #[test]
    fn garbage_never_panics() {
        // A small deterministic generator over bytes that matter to the parsers.
        let alphabet: Vec<char> =
            "-BEGINPUBLICKEYRVATE \n0123456789abcdefABCDEF=+/MCowBQYDK2Vw\u{e9}\u{1F600}\t"
                .chars()
                .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let verifier = Ed25519Signer::from_seed(&[1; 32]).unwrap().verifier();
        for len in 0..400 {
            let text: String = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            assert!(!verifier.verify(b"m", &text));
            let _ = Ed25519Verifier::from_public_pem(&text);
            let _ = Ed25519Signer::from_pkcs8_pem(&text);
            let _ = Ed25519Verifier::from_spki_der(text.as_bytes());
            let _ = Ed25519Signer::from_pkcs8_der(text.as_bytes());
            let armoured =
                format!("-----BEGIN PRIVATE KEY-----\n{text}\n-----END PRIVATE KEY-----\n");
            assert!(Ed25519Signer::from_pkcs8_pem(&armoured).is_err());
        }
    }

    #[test]
    fn typed_key_errors() {
        assert_eq!(
            Ed25519Signer::from_pkcs8_pem("").unwrap_err(),
            SecurityError::EmptyPrivateKey
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(
            Ed25519Signer::from_pkcs8_pem(enc).unwrap_err(),
            SecurityError::EncryptedKey
        );
        let ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(
            Ed25519Signer::from_pkcs8_pem(ec).unwrap_err(),
            SecurityError::NotEd25519PrivateKey
        );
        assert!(matches!(
            Ed25519Verifier::from_public_pem("nothing"),
            Err(SecurityError::InvalidPublicKey { .. })
        ));
    }
}
