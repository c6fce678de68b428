#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod canonical;
pub mod chain;
pub mod ed25519;
pub mod envelope;
pub mod error;
pub mod hash;
mod hex;
pub mod hmac;
mod pkcs8;
pub mod replay;
pub mod tls;

pub use canonical::{
    canonical_bytes, canonical_model, canonical_string, canonical_value, sign_canonical,
    verify_canonical,
};
pub use chain::{
    bubbling_chain_message, sign_bubbling_chain, sign_bubbling_chain_ed25519,
    sign_bubbling_chain_hmac, verify_bubbling_chain, verify_bubbling_chain_hmac,
    verify_bubbling_chain_signature,
};
pub use ed25519::{
    Ed25519KeyPairPem, Ed25519Signer, Ed25519Verifier, sign_payload_ed25519,
    verify_signature_ed25519,
};
pub use envelope::{
    Verified, VerifyError, sign_model, sign_value, sign_value_with_identity_chain, verify_value,
};
pub use error::SecurityError;
pub use hash::{calculate_config_hash, calculate_dict_hash};
pub use hmac::{HmacSigner, HmacVerifier, sign_payload, verify_signature};
pub use replay::{ReplayConfig, ReplayError, ReplayGuard};
pub use rxon_core::{ProtocolVersion, SignatureAlgorithm, Signer, Verifier};
pub use tls::{ClientAuth, TlsError};
