//! Event signing (spec §10.1, §10.6, §16.7): the canonical form and `security.signature`.

use rxon_core::canonical::{canonical_string, set_signature};
use rxon_core::{Error, Model, ProtocolVersion, Result, Signer, Value, WorkerEventPayload};
use std::time::{SystemTime, UNIX_EPOCH};

/// Top-level members left out of an event's signature, so that hops can extend the chain.
pub const EVENT_IGNORE_FIELDS: &[&str] = &["bubbling_chain"];

/// The canonical signing form of `value` (spec §10.1, computed by
/// [`rxon_core::canonical::canonical_string`]): normalized for `version`, without the
/// top-level `security` (and, in 1.0b17, `_signature`) and `ignore_fields`, written compactly
/// with sorted keys.
///
/// ```
/// use rxon_core::{json, ProtocolVersion};
/// use rxon_transport_ws::canonical_json;
/// let v = json!({"b": 1.0, "a": [1], "security": {"signature": "x"}, "bubbling_chain": ["w"]});
/// let c = canonical_json(&v, ProtocolVersion::V1_0b17, &["bubbling_chain"]).unwrap();
/// assert_eq!(c, r#"{"a":[1],"b":1}"#);
/// ```
///
/// # Errors
/// [`Error::Encode`] when the value cannot be encoded under `version`.
pub fn canonical_json(
    value: &Value,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<String> {
    Ok(canonical_string(value, version, ignore_fields)?)
}

/// Signs a JSON object in place: `security.signature` (over [`canonical_json`]) and
/// `security.signer_id` are set; other members of an existing `security` object are kept.
/// This is the hook any transport can apply to a body just before sending it.
///
/// # Errors
/// [`Error::Encode`] for values that cannot be encoded, [`Error::Security`] when the signer
/// fails, [`Error::Internal`] when `value` is not an object.
pub fn sign_value(
    value: &mut Value,
    signer: &dyn Signer,
    signer_id: &str,
    version: ProtocolVersion,
    ignore_fields: &[&str],
) -> Result<()> {
    let signature = signer.sign(canonical_json(value, version, ignore_fields)?.as_bytes())?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| Error::internal("only a JSON object can be signed"))?;
    set_signature(obj, signature, Some(signer_id));
    if !version.is_b9()
        && let Some(Value::Object(security)) = obj.get_mut("security")
    {
        security.sort_keys();
    }
    Ok(())
}

/// Prepares an event for sending: sets `timestamp` to the current Unix second when it is
/// missing or 0 (orchestrators refuse events without one, spec §15.3), then signs the event's
/// wire form without `bubbling_chain` and stores the signature in `event.security`.
///
/// ```
/// # use rxon_core::{ProtocolVersion, Signer, SignatureAlgorithm, WorkerEventPayload};
/// # #[derive(Debug)] struct Fixed;
/// # impl Signer for Fixed {
/// #     fn algorithm(&self) -> SignatureAlgorithm { SignatureAlgorithm::HmacSha256 }
/// #     fn sign(&self, m: &[u8]) -> rxon_core::Result<String> { Ok(format!("{}", m.len())) }
/// # }
/// let mut e = WorkerEventPayload { event_id: "e".into(), worker_id: "w".into(), origin_worker_id: "w".into(),
///     event_type: "progress".into(), ..Default::default() };
/// rxon_transport_ws::sign_event(&mut e, &Fixed, "w", ProtocolVersion::V1_0b17).unwrap();
/// assert!(e.timestamp.is_some());
/// assert_eq!(e.security.unwrap().signer_id.as_deref(), Some("w"));
/// ```
///
/// # Errors
/// As [`sign_value`].
pub fn sign_event(
    event: &mut WorkerEventPayload,
    signer: &dyn Signer,
    signer_id: &str,
    version: ProtocolVersion,
) -> Result<()> {
    fill_timestamp(event);
    let wire = event.to_value(version)?;
    let signature = signer.sign(canonical_json(&wire, version, EVENT_IGNORE_FIELDS)?.as_bytes())?;
    let mut security = event.security.take().unwrap_or_default();
    security.signature = Some(signature);
    security.signer_id = Some(signer_id.to_owned());
    event.security = Some(security);
    Ok(())
}

/// Sets `timestamp` to the current Unix second when it is missing or 0.
pub(crate) fn fill_timestamp(event: &mut WorkerEventPayload) {
    if event.timestamp.is_none_or(|t| t == 0) {
        event.timestamp = Some(unix_now());
    }
}

/// The current Unix second.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxon_core::{SecurityContext, SignatureAlgorithm};

    /// HMAC-SHA256 with ring, as rxon-security does it.
    #[derive(Debug)]
    struct Hmac(&'static str);
    impl Signer for Hmac {
        fn algorithm(&self) -> SignatureAlgorithm {
            SignatureAlgorithm::HmacSha256
        }
        fn sign(&self, message: &[u8]) -> Result<String> {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.0.as_bytes());
            Ok(ring::hmac::sign(&key, message)
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect())
        }
    }

    const A3: &str = r#"{"event_id":"e-1","worker_id":"w-1","origin_worker_id":"w-1","event_type":"progress","payload":{"progress":0.5,"message":""},"bubbling_chain":["w-0"],"timestamp":1700000000,"priority":0.0}"#;

    #[test]
    fn vector_a3_canonical_and_hmac() {
        let v = Value::from_json(A3.as_bytes()).unwrap();
        let b17 = canonical_json(&v, ProtocolVersion::V1_0b17, EVENT_IGNORE_FIELDS).unwrap();
        assert_eq!(
            b17,
            r#"{"event_id":"e-1","event_type":"progress","origin_worker_id":"w-1","payload":{"message":"","progress":0.5},"priority":0,"timestamp":1700000000,"worker_id":"w-1"}"#
        );
        let b9 = canonical_json(&v, ProtocolVersion::V1_0b9, EVENT_IGNORE_FIELDS).unwrap();
        assert!(b9.contains(r#""priority":0.0"#), "{b9}");

        for (version, want) in [
            (
                ProtocolVersion::V1_0b17,
                "ed7e3b56f2175b8f795cfd316ecb7dcdb084dac0edcb4f06b57d209753a2dad9",
            ),
            (
                ProtocolVersion::V1_0b9,
                "84913a3d28971d952118b8d0f11f4302a38dcd8a12922e209f99c4c0502e72d7",
            ),
        ] {
            let mut e = WorkerEventPayload::from_json(A3.as_bytes()).unwrap();
            sign_event(&mut e, &Hmac("worker-token"), "w-1", version).unwrap();
            assert_eq!(
                e.timestamp,
                Some(1_700_000_000),
                "an existing timestamp is kept"
            );
            let sec = e.security.as_ref().unwrap();
            assert_eq!(sec.signature.as_deref(), Some(want), "{version}");
            assert_eq!(sec.signer_id.as_deref(), Some("w-1"));

            let mut raw = Value::from_json(A3.as_bytes()).unwrap();
            sign_value(
                &mut raw,
                &Hmac("worker-token"),
                "w-1",
                version,
                EVENT_IGNORE_FIELDS,
            )
            .unwrap();
            assert_eq!(
                raw.get("security")
                    .and_then(|s| s.get("signature"))
                    .and_then(Value::as_str),
                Some(want)
            );
        }
    }

    #[test]
    fn signature_ignores_the_chain_and_security() {
        let mut a = WorkerEventPayload::from_json(A3.as_bytes()).unwrap();
        let mut b = a.clone();
        b.bubbling_chain = Some(vec!["x".into(), "y".into()]);
        b.security = Some(SecurityContext {
            signature: Some("old".into()),
            ..Default::default()
        });
        sign_event(&mut a, &Hmac("k"), "w-1", ProtocolVersion::V1_0b17).unwrap();
        sign_event(&mut b, &Hmac("k"), "w-1", ProtocolVersion::V1_0b17).unwrap();
        assert_eq!(a.security.unwrap().signature, b.security.unwrap().signature);
    }

    #[test]
    fn missing_timestamp_is_filled() {
        let mut e = WorkerEventPayload::from_json(A3.as_bytes()).unwrap();
        e.timestamp = None;
        sign_event(&mut e, &Hmac("k"), "w-1", ProtocolVersion::V1_0b17).unwrap();
        assert!(e.timestamp.unwrap() > 1_700_000_000);
    }

    #[test]
    fn sign_value_refuses_non_objects() {
        let mut v = Value::from_json(b"[1]").unwrap();
        assert!(sign_value(&mut v, &Hmac("k"), "w", ProtocolVersion::V1_0b17, &[]).is_err());
    }
}
