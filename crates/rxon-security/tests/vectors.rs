//! Every case of the reference's signing vectors (`tests/fixtures/signing.json`, spec §10).
//!
//! The test collects every mismatch and fails unless the set equals [`KNOWN_DIFFERENCES`]
//! exactly (so an unlisted mismatch fails, and so does a listed one that no longer occurs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_arguments
)]

use rxon_core::normalize::normalize;
use rxon_core::{
    Heartbeat, Model, Number, ProtocolVersion, TaskPayload, TaskResult, Value, WorkerEventPayload,
    WorkerRegistration, json,
};
use rxon_security::*;
use std::collections::BTreeSet;

/// Cases we cannot match, with the reason.
///
/// * `special_bigint_*`: the reference builds a Python `int` beyond 64 bits and its encoder
///   refuses it. Such an integer cannot be a [`Number`]; the closest is the `f64` of that value
///   (what the reference's own JSON parser produces for it). As a float, 2^64 is still out of
///   range under 1.0b17 (same outcome), but 1.0b9 writes floats as they are
///   (`1.8446744073709552e+19`), and −2^63−1 rounds to −2^63, which 1.0b17 accepts. Only a
///   program that builds such integers itself can hit this; received JSON cannot.
/// * `TaskPayload/b17_defaults` under 1.0b9: the 1.0b9 `TaskPayload` has no `depth`/`step`, so
///   the reference refuses to construct it. Our models are one type for both versions and
///   accept the fields.
const KNOWN_DIFFERENCES: &[&str] = &[
    "payloads/special_bigint_2p64/b9: outcome",
    "payloads/special_bigint_neg/b9: outcome",
    "payloads/special_bigint_neg/b17: outcome",
    "models/TaskPayload/b17_defaults/b9: outcome",
];

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/signing.json");
    json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string {k}"))
}

fn versions() -> [(ProtocolVersion, &'static str); 2] {
    [
        (ProtocolVersion::V1_0b9, "b9"),
        (ProtocolVersion::V1_0b17, "b17"),
    ]
}

/// Replaces the kit's `{"$float": ...}` / `{"$bigint": ...}` markers.
fn unspecial(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("$float") => {
            let f = match m.get("$float").and_then(Value::as_str).unwrap() {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => other.parse().unwrap(),
            };
            Value::Number(Number::from_f64(f))
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("$bigint") => {
            let text = m.get("$bigint").and_then(Value::as_str).unwrap();
            Value::Number(Number::from_f64(text.parse::<f64>().unwrap()))
        }
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), unspecial(x))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(unspecial).collect()),
        other => other.clone(),
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

struct Keys {
    secret: String,
    secret_unicode: String,
    private_pem: String,
    public_pem: String,
}

/// The reference's error text without its exception class (`TypeError: ...`).
fn ref_message(e: &str) -> &str {
    e.split_once(": ").map_or(e, |(_, m)| m)
}

#[derive(Default)]
struct Report(BTreeSet<String>, usize);

impl Report {
    fn check(&mut self, ok: bool, what: String) {
        self.1 += 1;
        if !ok {
            self.0.insert(what);
        }
    }
}

/// Checks one `sign_all` result of the kit: `canonical` is our canonical text or error.
fn check_sign_all(
    r: &mut Report,
    tag: &str,
    exp: &Value,
    canonical: Result<String, String>,
    payload: &dyn Fn(ProtocolVersion) -> Value,
    version: ProtocolVersion,
    ignore: &[&str],
    k: &Keys,
) {
    match (s(exp, "outcome"), canonical) {
        ("ok", Ok(text)) => {
            r.check(
                text == s(exp, "canonical_text"),
                format!("{tag}: canonical_text"),
            );
            r.check(
                sha256_hex(text.as_bytes()) == s(exp, "canonical_sha256"),
                format!("{tag}: canonical_sha256"),
            );
            let p = payload(version);
            let sig = sign_payload(&p, &k.secret, version, ignore).unwrap();
            r.check(sig == s(exp, "hmac_sha256"), format!("{tag}: hmac_sha256"));
            let sig_u = sign_payload(&p, &k.secret_unicode, version, ignore).unwrap();
            r.check(
                sig_u == s(exp, "hmac_sha256_unicode_secret"),
                format!("{tag}: hmac unicode secret"),
            );
            let ok = verify_signature(&p, s(exp, "hmac_sha256"), &k.secret, version, ignore);
            r.check(
                Some(ok) == exp.get("verify_hmac").and_then(Value::as_bool),
                format!("{tag}: verify_hmac"),
            );
            if let Some(ed) = exp.get("ed25519") {
                let ours = sign_payload_ed25519(&p, &k.private_pem, version, ignore).unwrap();
                r.check(
                    Some(ours.as_str()) == ed.as_str(),
                    format!("{tag}: ed25519"),
                );
                let ok = verify_signature_ed25519(
                    &p,
                    ed.as_str().unwrap(),
                    &k.public_pem,
                    version,
                    ignore,
                );
                r.check(
                    Some(ok) == exp.get("verify_ed25519").and_then(Value::as_bool),
                    format!("{tag}: verify_ed25519"),
                );
            }
            if let Some(h) = exp.get("dict_hash") {
                let ours = calculate_dict_hash(&p, version).ok();
                r.check(ours.as_deref() == h.as_str(), format!("{tag}: dict_hash"));
            }
        }
        ("error", Err(ours)) => {
            r.check(
                ours == ref_message(s(exp, "error")),
                format!("{tag}: error text"),
            );
            let p = payload(version);
            r.check(
                sign_payload(&p, &k.secret, version, ignore).is_err(),
                format!("{tag}: sign error"),
            );
        }
        _ => r.check(false, format!("{tag}: outcome")),
    }
}

#[test]
fn signing_vectors() {
    let fx = fixture();
    let primary = fx
        .get("ed25519_keys")
        .and_then(|k| k.get("primary"))
        .unwrap();
    let other = fx.get("ed25519_keys").and_then(|k| k.get("other")).unwrap();
    let k = Keys {
        secret: s(fx.get("secrets").unwrap(), "hmac").to_owned(),
        secret_unicode: s(fx.get("secrets").unwrap(), "hmac_unicode").to_owned(),
        private_pem: s(primary, "private_pem").to_owned(),
        public_pem: s(primary, "public_pem").to_owned(),
    };
    let mut r = Report::default();

    // The seed in the kit gives the same public key through our loader.
    let signer = Ed25519Signer::from_pkcs8_pem(&k.private_pem).unwrap();
    r.check(
        signer
            .public_key_raw()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            == s(primary, "public_raw_hex"),
        "keys: public_raw_hex".into(),
    );

    // ---- payloads
    for case in fx.get("payloads").and_then(Value::as_array).unwrap() {
        let id = s(case, "id");
        let mut p = json::from_slice(s(case, "payload_json").as_bytes()).unwrap();
        if case.get("special").and_then(Value::as_bool) == Some(true) {
            p = unspecial(&p);
        }
        let ignore_owned = strs(case.get("ignore_fields"));
        let ignore: Vec<&str> = ignore_owned.iter().map(String::as_str).collect();
        for (version, vname) in versions() {
            let Some(exp) = case
                .get("expected")
                .and_then(|e| e.get(vname))
                .filter(|e| !e.is_null())
            else {
                continue;
            };
            let canonical = canonical_string(&p, version, &ignore).map_err(|e| e.to_string());
            check_sign_all(
                &mut r,
                &format!("payloads/{id}/{vname}"),
                exp,
                canonical,
                &|_| p.clone(),
                version,
                &ignore,
                &k,
            );
        }
    }

    // ---- models
    for case in fx.get("models").and_then(Value::as_array).unwrap() {
        let id = s(case, "id");
        let fields = case.get("fields").unwrap();
        let ignore_owned = strs(case.get("ignore_fields"));
        let ignore: Vec<&str> = ignore_owned.iter().map(String::as_str).collect();
        for (version, vname) in versions() {
            let Some(exp) = case
                .get("expected")
                .and_then(|e| e.get(vname))
                .filter(|e| !e.is_null())
            else {
                continue;
            };
            let as_value = |version: ProtocolVersion| -> Value {
                match s(case, "model") {
                    "TaskResult" => TaskResult::from_value(fields)
                        .unwrap()
                        .to_value(version)
                        .unwrap(),
                    "Heartbeat" => Heartbeat::from_value(fields)
                        .unwrap()
                        .to_value(version)
                        .unwrap(),
                    "WorkerEventPayload" => WorkerEventPayload::from_value(fields)
                        .unwrap()
                        .to_value(version)
                        .unwrap(),
                    "WorkerRegistration" => WorkerRegistration::from_value(fields)
                        .unwrap()
                        .to_value(version)
                        .unwrap(),
                    "TaskPayload" => TaskPayload::from_value(fields)
                        .unwrap()
                        .to_value(version)
                        .unwrap(),
                    other => panic!("unknown model {other}"),
                }
            };
            let canonical = match s(case, "model") {
                "TaskResult" => {
                    canonical_model(&TaskResult::from_value(fields).unwrap(), version, &ignore)
                }
                "Heartbeat" => {
                    canonical_model(&Heartbeat::from_value(fields).unwrap(), version, &ignore)
                }
                "WorkerEventPayload" => canonical_model(
                    &WorkerEventPayload::from_value(fields).unwrap(),
                    version,
                    &ignore,
                ),
                "WorkerRegistration" => canonical_model(
                    &WorkerRegistration::from_value(fields).unwrap(),
                    version,
                    &ignore,
                ),
                "TaskPayload" => {
                    canonical_model(&TaskPayload::from_value(fields).unwrap(), version, &ignore)
                }
                other => panic!("unknown model {other}"),
            }
            .map_err(|e| e.to_string());
            check_sign_all(
                &mut r,
                &format!("models/{id}/{vname}"),
                exp,
                canonical,
                &as_value,
                version,
                &ignore,
                &k,
            );
        }
    }

    // ---- errors
    let a1 = json::from_str(r#"{"a":1}"#).unwrap();
    for (vname, cases) in fx.get("errors").and_then(Value::as_object).unwrap().iter() {
        let version = if vname == "b9" {
            ProtocolVersion::V1_0b9
        } else {
            ProtocolVersion::V1_0b17
        };
        for (name, exp) in cases.as_object().unwrap().iter() {
            let ours: Result<String, SecurityError> = match name.as_str() {
                "sign_payload_empty_secret" | "sign_payload_none_secret" => {
                    sign_payload(&a1, "", version, &[])
                }
                "sign_ed25519_empty_key" => sign_payload_ed25519(&a1, "", version, &[]),
                "sign_ed25519_garbage_key" => sign_payload_ed25519(
                    &a1,
                    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                    version,
                    &[],
                ),
                "sign_ed25519_public_key_given" => {
                    sign_payload_ed25519(&a1, &k.public_pem, version, &[])
                }
                "sign_bubbling_chain_hmac_empty_secret" => sign_bubbling_chain_hmac(&["a"], ""),
                "sign_bubbling_chain_empty_key" => sign_bubbling_chain_ed25519(&["a"], ""),
                other => panic!("unknown error case {other}"),
            };
            let tag = format!("errors/{vname}/{name}");
            let want = ref_message(s(exp, "error"));
            match ours {
                // Parser details differ (cryptography vs ring); the kind and prefix must match.
                Err(e @ SecurityError::InvalidPrivateKey { .. }) => {
                    r.check(
                        want.starts_with("Invalid private key: ")
                            && e.to_string().starts_with("Invalid private key: "),
                        tag,
                    );
                }
                Err(e) => r.check(e.to_string() == want, tag),
                Ok(_) => r.check(false, tag),
            }
        }
    }

    // ---- verify
    for (vname, cases) in fx.get("verify").and_then(Value::as_object).unwrap().iter() {
        let version = if vname == "b9" {
            ProtocolVersion::V1_0b9
        } else {
            ProtocolVersion::V1_0b17
        };
        for (name, c) in cases.as_object().unwrap().iter() {
            let payload = c.get("payload").unwrap();
            let ignore_owned = strs(c.get("ignore_fields"));
            let ignore: Vec<&str> = ignore_owned.iter().map(String::as_str).collect();
            let sig = s(c, "signature");
            let got = if name.starts_with("hmac/") {
                verify_signature(payload, sig, s(c, "secret"), version, &ignore)
            } else {
                verify_signature_ed25519(payload, sig, s(c, "public_key_pem"), version, &ignore)
            };
            r.check(
                Some(got) == c.get("result").and_then(Value::as_bool),
                format!("verify/{vname}/{name}"),
            );
        }
    }

    // ---- bubbling chains
    let other_pub = s(other, "public_pem");
    for case in fx.get("bubbling_chains").and_then(Value::as_array).unwrap() {
        let id = s(case, "id");
        let chain = strs(case.get("chain"));
        let Some(exp) = case
            .get("expected")
            .and_then(|e| e.get("b17"))
            .filter(|e| !e.is_null())
        else {
            continue;
        };
        let tag = format!("bubbling/{id}");
        r.check(
            bubbling_chain_message(&chain) == s(exp, "canonical_text"),
            format!("{tag}: canonical"),
        );
        let h = sign_bubbling_chain_hmac(&chain, &k.secret).unwrap();
        r.check(h == s(exp, "hmac_sha256"), format!("{tag}: hmac"));
        let e = sign_bubbling_chain_ed25519(&chain, &k.private_pem).unwrap();
        r.check(e == s(exp, "ed25519"), format!("{tag}: ed25519"));
        let b = |key: &str| exp.get(key).and_then(Value::as_bool);
        r.check(
            Some(verify_bubbling_chain_hmac(&chain, &h, &k.secret)) == b("verify_hmac"),
            format!("{tag}: verify_hmac"),
        );
        let mut appended = chain.clone();
        appended.push("intruder".into());
        r.check(
            Some(verify_bubbling_chain_hmac(&appended, &h, &k.secret)) == b("verify_hmac_appended"),
            format!("{tag}: appended"),
        );
        if let Some(want) = b("verify_hmac_reversed") {
            let rev: Vec<String> = chain.iter().rev().cloned().collect();
            r.check(
                verify_bubbling_chain_hmac(&rev, &h, &k.secret) == want,
                format!("{tag}: reversed"),
            );
        }
        r.check(
            Some(verify_bubbling_chain_signature(&chain, &e, &k.public_pem)) == b("verify_ed25519"),
            format!("{tag}: verify_ed"),
        );
        r.check(
            Some(verify_bubbling_chain_signature(&chain, &e, other_pub))
                == b("verify_ed25519_wrong_key"),
            format!("{tag}: wrong key"),
        );
        r.check(
            Some(verify_bubbling_chain_signature(
                &appended,
                &e,
                &k.public_pem,
            )) == b("verify_ed25519_appended"),
            format!("{tag}: ed appended"),
        );
        // The generic form with trait objects agrees.
        let signer = HmacSigner::new(&k.secret).unwrap();
        r.check(
            sign_bubbling_chain(&chain, &signer).unwrap() == h
                && verify_bubbling_chain(&chain, &h, &signer.verifier()),
            format!("{tag}: dyn"),
        );
    }

    // ---- dict hash
    for case in fx.get("dict_hash").and_then(Value::as_array).unwrap() {
        let id = s(case, "id");
        let p = json::from_slice(s(case, "payload_json").as_bytes()).unwrap();
        for (version, vname) in versions() {
            let Some(exp) = case
                .get("expected")
                .and_then(|e| e.get(vname))
                .filter(|e| !e.is_null())
            else {
                continue;
            };
            let tag = format!("dict_hash/{id}/{vname}");
            match (s(exp, "outcome"), calculate_dict_hash(&p, version)) {
                ("ok", Ok(h)) => {
                    r.check(h == s(exp, "hash"), format!("{tag}: hash"));
                    let text = json::to_string_sorted(&normalize(&p, version).unwrap());
                    r.check(text == s(exp, "hashed_text"), format!("{tag}: text"));
                }
                ("error", Err(_)) => r.check(true, tag),
                _ => r.check(false, format!("{tag}: outcome")),
            }
        }
    }

    // ---- config hash
    for case in fx.get("config_hash").and_then(Value::as_array).unwrap() {
        let id = s(case, "id");
        let args: Vec<&str> = case
            .get("args")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap_or(""))
            .collect();
        let ours = calculate_config_hash(args[0], args[1], args[2]);
        for (_, vname) in versions() {
            let want = case
                .get("expected")
                .and_then(|e| e.get(vname))
                .and_then(Value::as_str);
            r.check(ours.as_deref() == want, format!("config_hash/{id}/{vname}"));
        }
    }

    let known: BTreeSet<String> = KNOWN_DIFFERENCES.iter().map(|s| (*s).to_owned()).collect();
    let unexpected: Vec<_> = r.0.difference(&known).collect();
    let vanished: Vec<_> = known.difference(&r.0).collect();
    assert!(
        unexpected.is_empty(),
        "unlisted mismatches: {unexpected:#?}"
    );
    assert!(
        vanished.is_empty(),
        "listed differences that no longer occur (update KNOWN_DIFFERENCES): {vanished:#?}"
    );
    assert!(r.1 > 1300, "only {} checks ran", r.1);
    eprintln!("{} checks, {} known differences", r.1, known.len());
}
