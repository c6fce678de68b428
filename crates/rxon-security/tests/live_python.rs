//! Live cross-check with the Python reference (spec §10.2, §10.3): payloads signed here verify
//! with the reference's `verify_signature` / `verify_signature_ed25519`, and payloads signed by
//! the reference's `sign_payload` / `sign_payload_ed25519` verify here.
//!
//! The interpreters come from `RXON_B9_PYTHON` / `RXON_B17_PYTHON`, else from the conformance
//! kit's `setup.sh` (found next to the repository as `../shared/conformance`). Without them the
//! test prints "skipped: ..." and passes, unless `CI` is set, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_arguments
)]

use rxon_core::{Model, ProtocolVersion, TaskResult, Value, json};
use rxon_security::*;
use rxon_testing::python::{reference_python, run_script};
use std::path::Path;

/// Reads a job from stdin, verifies our signatures and makes its own.
const SCRIPT: &str = r#"
import json, sys
import orjson
import rxon.security as S
job = json.loads(sys.stdin.read())
out = {}
for i, case in enumerate(job["cases"]):
    p = orjson.loads(case["payload"])
    ig = case["ignore"] or None
    r = {"verify_hmac": S.verify_signature(p, case["rust_hmac"], job["secret"], ignore_fields=ig),
         "hmac": S.sign_payload(p, job["secret"], ignore_fields=ig)}
    if job.get("private_pem"):
        r["verify_ed"] = S.verify_signature_ed25519(p, case["rust_ed"], job["public_pem"], ignore_fields=ig)
        r["ed"] = S.sign_payload_ed25519(p, job["private_pem"], ignore_fields=ig)
    out[str(i)] = r
print(json.dumps(out))
"#;

const PAYLOADS: &[(&str, &[&str])] = &[
    (
        r#"{"job_id":"j-1","task_id":"t-1","worker_id":"w-1","status":"success","data":{"score":0.98,"n":1.0,"big":1e16,"tiny":1e-7,"list":[1,null,2.5,-0.0],"s":"h\u00e9llo \ud83d\ude00 \u2028","ctl":"\u0001"},"metadata":null,"timestamp":1767225601,"security":{"signature":"stale","signer_id":"w-1"}}"#,
        &[],
    ),
    (
        r#"{"event_id":"e-1","worker_id":"w-1","event_type":"progress","payload":{"progress":0.5},"bubbling_chain":["relay-1","relay-2"],"priority":0.0,"timestamp":1767225600,"_signature":"x"}"#,
        &["bubbling_chain"],
    ),
    (r#"[3,1,{"b":1,"a":null,"c":[null]}]"#, &[]),
];

fn run_python(python: &Path, job: &Value) -> Value {
    let out = run_script(python, SCRIPT, json::to_string(job).as_bytes());
    json::from_slice(&out).unwrap()
}

fn cross_check(version: ProtocolVersion, with_ed25519: bool) {
    let Some(python) = reference_python(version) else {
        return;
    };
    let vname = version.as_str();
    let secret = "live-s\u{eb}cret";
    let pair = Ed25519KeyPairPem::generate().unwrap();
    let ed_signer = Ed25519Signer::from_pkcs8_pem(&pair.private_pem).unwrap();
    let ed_verifier = Ed25519Verifier::from_public_pem(&pair.public_pem).unwrap();
    let hmac = HmacSigner::new(secret).unwrap();

    // Our payloads, plus a model signed into its security field (the body a worker sends).
    let mut texts: Vec<(String, Vec<&str>)> = PAYLOADS
        .iter()
        .map(|(p, i)| ((*p).to_owned(), i.to_vec()))
        .collect();
    let model = TaskResult::from_json(
        br#"{"job_id":"j","task_id":"t","worker_id":"w","status":"success","data":{"x":2.0}}"#,
    )
    .unwrap();
    let body = sign_model(&model, &hmac, Some("w"), version, &[]).unwrap();
    texts.push((json::to_string(&body), vec![]));

    let mut cases = Vec::new();
    for (text, ignore) in &texts {
        let v = json::from_str(text).unwrap();
        let mut case = rxon_core::Map::new();
        case.insert("payload", Value::from(text.as_str()));
        case.insert(
            "ignore",
            Value::Array(ignore.iter().map(|s| Value::from(*s)).collect()),
        );
        case.insert(
            "rust_hmac",
            Value::from(sign_canonical(&v, &hmac, version, ignore).unwrap()),
        );
        case.insert(
            "rust_ed",
            Value::from(sign_canonical(&v, &ed_signer, version, ignore).unwrap()),
        );
        cases.push(Value::Object(case));
    }
    let mut job = rxon_core::Map::new();
    job.insert("secret", Value::from(secret));
    job.insert("cases", Value::Array(cases));
    if with_ed25519 {
        job.insert("private_pem", Value::from(pair.private_pem.as_str()));
        job.insert("public_pem", Value::from(pair.public_pem.as_str()));
    }
    let result = run_python(&python, &Value::Object(job));

    for (i, (text, ignore)) in texts.iter().enumerate() {
        let r = result.get(&i.to_string()).unwrap();
        let v = json::from_str(text).unwrap();
        assert_eq!(
            r.get("verify_hmac").and_then(Value::as_bool),
            Some(true),
            "{vname} case {i}: reference rejected our HMAC"
        );
        let theirs = r.get("hmac").and_then(Value::as_str).unwrap();
        assert!(
            verify_canonical(&v, theirs, &hmac.verifier(), version, ignore),
            "{vname} case {i}: reference HMAC rejected here"
        );
        assert!(verify_signature(&v, theirs, secret, version, ignore));
        if with_ed25519 {
            assert_eq!(
                r.get("verify_ed").and_then(Value::as_bool),
                Some(true),
                "{vname} case {i}: reference rejected our Ed25519"
            );
            let theirs = r.get("ed").and_then(Value::as_str).unwrap();
            assert!(
                verify_canonical(&v, theirs, &ed_verifier, version, ignore),
                "{vname} case {i}: reference Ed25519 rejected here"
            );
            // Ed25519 is deterministic: same key, same message, same signature.
            assert_eq!(
                theirs,
                sign_canonical(&v, &ed_signer, version, ignore).unwrap()
            );
        }
    }
    // The signed model also passes our own envelope check.
    assert!(verify_value(&body, &hmac.verifier(), version, &[]).is_ok());
}

#[test]
fn b9_hmac_both_ways() {
    cross_check(ProtocolVersion::V1_0b9, false);
}

#[test]
fn b17_hmac_and_ed25519_both_ways() {
    cross_check(ProtocolVersion::V1_0b17, true);
}
