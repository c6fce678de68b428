//! HMAC-SHA256 over the canonical JSON form (spec §10.1, §10.2), for task `sig` and worker
//! message verification: the [`Signer`]/[`Verifier`] implementations used by
//! [`MemoryOrchestrator`](crate::memory::MemoryOrchestrator).

use rxon_core::normalize::normalize;
use rxon_core::{ProtocolVersion, Result, SignatureAlgorithm, Signer, Value, Verifier, json};
use std::fmt;

/// The canonical bytes signed for `v` (1.0b17 rules): the top-level `security`, `_signature`
/// and `ignore` members removed, normalized (nulls dropped, integral floats as integers), keys
/// sorted, compact.
///
/// # Errors
/// [`rxon_core::Error::Encode`] for values 1.0b17 cannot encode.
pub fn canonical(v: &Value, ignore: &[&str]) -> Result<String> {
    let stripped = match v {
        Value::Object(m) => {
            let mut m = m.clone();
            m.retain(|k, _| k != "security" && k != "_signature" && !ignore.contains(&k));
            Value::Object(m)
        }
        other => other.clone(),
    };
    Ok(json::to_string_sorted(&normalize(
        &stripped,
        ProtocolVersion::V1_0b17,
    )?))
}

/// HMAC-SHA256 with a shared secret (the worker's token, or the orchestrator's task key).
#[derive(Clone)]
pub struct Hmac {
    key: ring::hmac::Key,
}

impl fmt::Debug for Hmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hmac(..)")
    }
}

impl Hmac {
    /// A signer/verifier with a UTF-8 secret.
    #[must_use]
    pub fn new(secret: &str) -> Self {
        Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes()),
        }
    }

    /// Signs the canonical form of `v` (see [`canonical`]).
    ///
    /// # Errors
    /// As [`canonical`].
    pub fn sign_value(&self, v: &Value, ignore: &[&str]) -> Result<String> {
        self.sign(canonical(v, ignore)?.as_bytes())
    }

    /// Verifies a hex signature over the canonical form of `v`.
    #[must_use]
    pub fn verify_value(&self, v: &Value, ignore: &[&str], signature_hex: &str) -> bool {
        canonical(v, ignore).is_ok_and(|c| self.verify(c.as_bytes(), signature_hex))
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(*p.first()?)? * 16 + digit(*p.get(1)?)?))
        .collect()
}

impl Signer for Hmac {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::HmacSha256
    }

    fn sign(&self, message: &[u8]) -> Result<String> {
        Ok(to_hex(ring::hmac::sign(&self.key, message).as_ref()))
    }
}

impl Verifier for Hmac {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::HmacSha256
    }

    fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        from_hex(signature_hex)
            .is_some_and(|sig| ring::hmac::verify(&self.key, message, &sig).is_ok())
    }
}

/// Constant-time string equality (for tokens).
#[must_use]
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_signature_vector() {
        let v = json::from_str(r#"{"job_id":"job-1","task_id":"task-1","type":"echo","params":{"x":1.0,"y":[null,"é"]},"priority":0.0,"timestamp":1700000000,"tracing_context":{},"security":{"signature":"zz"}}"#).unwrap();
        let ignore = ["sig", "orchestrator_signature"];
        assert_eq!(
            canonical(&v, &ignore).unwrap(),
            r#"{"job_id":"job-1","params":{"x":1,"y":[null,"é"]},"priority":0,"task_id":"task-1","timestamp":1700000000,"tracing_context":{},"type":"echo"}"#
        );
        let h = Hmac::new("orch-secret");
        let sig = h.sign_value(&v, &ignore).unwrap();
        assert_eq!(
            sig,
            "ecc29889a830fbd7439c3c1a8062e6e42a74a7c3ec1dd2c2fda91294e323f4b2"
        );
        assert!(h.verify_value(&v, &ignore, &sig));
        assert!(!h.verify_value(&v, &ignore, &sig.to_uppercase()));
        assert!(!h.verify_value(&v, &ignore, "zz"));
        assert!(!Hmac::new("other").verify_value(&v, &ignore, &sig));
    }

    #[test]
    fn event_signature_vector() {
        let v = json::from_str(r#"{"event_id":"e-1","worker_id":"w-1","origin_worker_id":"w-1","event_type":"progress","payload":{"progress":0.5,"message":""},"bubbling_chain":["w-0"],"timestamp":1700000000,"priority":0.0}"#).unwrap();
        let sig = "ed7e3b56f2175b8f795cfd316ecb7dcdb084dac0edcb4f06b57d209753a2dad9";
        assert!(Hmac::new("worker-token").verify_value(&v, &["bubbling_chain"], sig));
        assert!(!Hmac::new("worker-token").verify_value(&v, &[], sig));
        assert!(
            constant_time_eq("abc", "abc")
                && !constant_time_eq("abc", "abd")
                && !constant_time_eq("abc", "ab")
        );
    }
}
