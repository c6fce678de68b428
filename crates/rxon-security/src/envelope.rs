//! Signing a message into its `security` field and verifying an incoming body (spec §4.7,
//! §10.6).
//!
//! The signer canonicalizes the message it is about to send (without `security`), puts the hex
//! signature into `security.signature` (with `signer_id` and, if already present, the
//! `identity_chain`), and sends it. The verifier canonicalizes the **parsed body as received**
//! (minus `security`, `_signature` in 1.0b17 and the ignore fields, e.g. `["bubbling_chain"]`
//! for events) and checks the signature against it — it never decodes into a model and
//! re-encodes, which would drop unknown keys and defaulted fields (§3.3, §18).

use crate::canonical::{canonical_string, verify_canonical};
use crate::error::SecurityError;
use rxon_core::canonical::set_signature;
use rxon_core::{Model, ProtocolVersion, Signer, Value, Verifier};
use std::fmt;

/// Signs `message` (an object) in place: computes the signature over its canonical form and
/// sets `security.signature` and `security.signer_id` (when given). Other members of an
/// existing `security` object (`identity_chain`, `metadata`) are kept; they are not signed.
/// Returns the signature.
///
/// # Errors
/// [`SecurityError::NotAnObject`] for a non-object, [`SecurityError::Encode`] when the
/// message cannot be encoded, or the signer's error.
pub fn sign_value(
    message: &mut Value,
    signer: &dyn Signer,
    signer_id: Option<&str>,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> rxon_core::Result<String> {
    if !matches!(message, Value::Object(_)) {
        return Err(SecurityError::NotAnObject.into());
    }
    let canonical =
        canonical_string(message, version, ignore_fields).map_err(SecurityError::Encode)?;
    let signature = signer.sign(canonical.as_bytes())?;
    let Value::Object(obj) = message else {
        return Err(SecurityError::NotAnObject.into());
    };
    set_signature(obj, signature.clone(), signer_id);
    Ok(signature)
}

/// As [`sign_value`], and also sets `security.identity_chain` (the hops the message passed
/// through, spec §4.7); the chain is carried, not signed.
///
/// # Errors
/// As [`sign_value`].
pub fn sign_value_with_identity_chain(
    message: &mut Value,
    signer: &dyn Signer,
    signer_id: Option<&str>,
    identity_chain: &[String],
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> rxon_core::Result<String> {
    let signature = sign_value(message, signer, signer_id, version, ignore_fields)?;
    if let Some(Value::Object(security)) =
        message.as_object_mut().and_then(|m| m.get_mut("security"))
    {
        security.insert(
            "identity_chain",
            Value::Array(
                identity_chain
                    .iter()
                    .map(|s| Value::String(s.clone()))
                    .collect(),
            ),
        );
    }
    Ok(signature)
}

/// Encodes a model as the version's encoder does (§3.2/§3.3) and signs it into its `security`
/// field; the result is the body to send.
///
/// # Errors
/// As [`sign_value`].
pub fn sign_model<M: Model>(
    model: &M,
    signer: &dyn Signer,
    signer_id: Option<&str>,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> rxon_core::Result<Value> {
    let mut v = model.to_value(version)?;
    sign_value(&mut v, signer, signer_id, version, ignore_fields)?;
    Ok(v)
}

/// A body whose signature checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// `security.signer_id`, when the body names one (not authenticated by the signature).
    pub signer_id: Option<String>,
}

/// Why an incoming body's signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The body has no `security` object.
    MissingSecurity,
    /// `security.signature` is absent, empty or not a string.
    MissingSignature,
    /// The signature does not match the canonical form (or the body cannot be encoded).
    Invalid,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingSecurity => "message has no security field",
            Self::MissingSignature => "message has no signature",
            Self::Invalid => "invalid signature",
        })
    }
}

impl std::error::Error for VerifyError {}

impl From<VerifyError> for rxon_core::Error {
    fn from(e: VerifyError) -> Self {
        Self::Security {
            message: e.to_string(),
        }
    }
}

/// Verifies an incoming body as received against `security.signature` (§10.6).
///
/// # Errors
/// [`VerifyError::MissingSecurity`], [`VerifyError::MissingSignature`] or
/// [`VerifyError::Invalid`].
pub fn verify_value(
    body: &Value,
    verifier: &dyn Verifier,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<Verified, VerifyError> {
    let security = body
        .get("security")
        .and_then(Value::as_object)
        .ok_or(VerifyError::MissingSecurity)?;
    let signature = security
        .get("signature")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    if verify_canonical(body, signature, verifier, version, ignore_fields) {
        Ok(Verified {
            signer_id: security
                .get("signer_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    } else {
        Err(VerifyError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hmac::HmacSigner;
    use rxon_core::json;

    #[test]
    fn sign_then_verify() {
        let signer = HmacSigner::new("s").unwrap();
        let verifier = signer.verifier();
        let mut v = json::from_str(r#"{"b":1.0,"security":{"identity_chain":["a"],"signature":"old"},"bubbling_chain":["x"]}"#).unwrap();
        let sig = sign_value(
            &mut v,
            &signer,
            Some("w1"),
            ProtocolVersion::V1_0b17,
            &["bubbling_chain"],
        )
        .unwrap();
        assert_eq!(
            v.get("security")
                .and_then(|s| s.get("signature"))
                .and_then(Value::as_str),
            Some(sig.as_str())
        );
        assert!(
            v.get("security")
                .and_then(|s| s.get("identity_chain"))
                .is_some()
        );
        let got =
            verify_value(&v, &verifier, ProtocolVersion::V1_0b17, &["bubbling_chain"]).unwrap();
        assert_eq!(got.signer_id.as_deref(), Some("w1"));
        // A relay appends to the ignored chain: still valid.
        if let Some(Value::Array(a)) = v.as_object_mut().and_then(|m| m.get_mut("bubbling_chain")) {
            a.push(Value::from("relay"));
        }
        assert!(verify_value(&v, &verifier, ProtocolVersion::V1_0b17, &["bubbling_chain"]).is_ok());
        assert_eq!(
            verify_value(&v, &verifier, ProtocolVersion::V1_0b17, &[]),
            Err(VerifyError::Invalid)
        );
        // 1.0b9 keeps 1.0 as written, so the 1.0b17 signature does not hold there.
        assert_eq!(
            verify_value(&v, &verifier, ProtocolVersion::V1_0b9, &["bubbling_chain"]),
            Err(VerifyError::Invalid)
        );
        let bare = json::from_str(r#"{"a":1}"#).unwrap();
        assert_eq!(
            verify_value(&bare, &verifier, ProtocolVersion::V1_0b17, &[]),
            Err(VerifyError::MissingSecurity)
        );
        let empty = json::from_str(r#"{"a":1,"security":{"signature":""}}"#).unwrap();
        assert_eq!(
            verify_value(&empty, &verifier, ProtocolVersion::V1_0b17, &[]),
            Err(VerifyError::MissingSignature)
        );
        let mut chained = json::from_str(r#"{"a":1}"#).unwrap();
        let chain = vec!["relay-1".to_owned()];
        sign_value_with_identity_chain(
            &mut chained,
            &signer,
            None,
            &chain,
            ProtocolVersion::V1_0b17,
            &[],
        )
        .unwrap();
        assert_eq!(
            chained
                .get("security")
                .and_then(|s| s.get("identity_chain"))
                .map(Value::to_json)
                .as_deref(),
            Some(r#"["relay-1"]"#)
        );
        assert_eq!(
            verify_value(&chained, &verifier, ProtocolVersion::V1_0b17, &[])
                .unwrap()
                .signer_id,
            None
        );
        let mut arr = Value::Array(vec![]);
        assert!(sign_value(&mut arr, &signer, None, ProtocolVersion::V1_0b17, &[]).is_err());
    }
}
