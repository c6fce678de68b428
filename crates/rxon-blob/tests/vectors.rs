//! Blob URI parsing and the configuration hash against the reference's vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_blob::{
    BlobConfig, BlobUri, ConfigCheck, S3Config, StoreConfig, calculate_config_hash,
    check_config_hash,
};
use rxon_core::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn parse_uri_cases() {
    let v = fixture("blob_ids.json");
    let cases = v.get("parse_uri").and_then(Value::as_array).unwrap();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for case in cases {
        let id = case.get("id").and_then(Value::as_str).unwrap();
        let uri = case.get("uri").and_then(Value::as_str).unwrap();
        let default_bucket = case.get("default_bucket").and_then(Value::as_str);
        let prefix = case.get("prefix").and_then(Value::as_str).unwrap_or("");
        for tag in ["b9", "b17"] {
            let want = case.get("expected").and_then(|e| e.get(tag)).unwrap();
            let got = BlobUri::parse(uri, default_bucket, prefix);
            let ok = match (want.get("outcome").and_then(Value::as_str), &got) {
                (Some("ok"), Ok(p)) => {
                    Some(p.bucket.as_str()) == want.get("bucket").and_then(Value::as_str)
                        && Some(p.key.as_str()) == want.get("key").and_then(Value::as_str)
                        && Some(p.is_directory) == want.get("is_directory").and_then(Value::as_bool)
                }
                (Some("error"), Err(e)) => {
                    want.get("error").and_then(Value::as_str)
                        == Some(format!("ValueError: {e}").as_str())
                }
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "[{tag}] {id}: want {}, got {got:?}",
                    json::to_string(want)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn config_hash_cases() {
    let v = fixture("config_hash.json");
    let cases = v.get("config_hash").and_then(Value::as_array).unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let id = case.get("id").and_then(Value::as_str).unwrap();
        let args: Vec<&str> = case
            .get("args")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap_or(""))
            .collect();
        let got = calculate_config_hash(args[0], args[1], args[2]);
        for tag in ["b9", "b17"] {
            let want = case
                .get("expected")
                .and_then(|e| e.get(tag))
                .and_then(Value::as_str);
            assert_eq!(got.as_deref(), want, "{id} [{tag}]");
        }
    }
}

#[test]
fn config_hash_of_a_store_and_mismatch_check() {
    let mut cfg = BlobConfig::new(StoreConfig::S3(S3Config::new(
        "http://minio:9000",
        "AKIAEXAMPLE",
        "secret",
    )));
    assert_eq!(cfg.config_hash(), None, "no bucket, no hash");
    cfg = cfg.with_default_bucket("rxon-bucket");
    let ours = cfg.config_hash();
    assert_eq!(ours.as_deref(), Some("d4facdf1501de8ea"));
    assert_eq!(
        BlobConfig::new(StoreConfig::Memory)
            .with_default_bucket("b")
            .config_hash(),
        None
    );

    assert_eq!(
        check_config_hash(ours.as_deref(), ours.as_deref()),
        ConfigCheck::Match
    );
    assert_eq!(
        check_config_hash(None, ours.as_deref()),
        ConfigCheck::Unknown
    );
    let mismatch = check_config_hash(Some("0000000000000000"), ours.as_deref());
    assert!(matches!(mismatch, ConfigCheck::Mismatch { .. }));
    let err = mismatch.into_result().unwrap_err();
    assert!(matches!(err, rxon_core::Error::ConfigMismatch { .. }));
    assert_eq!(err.code(), rxon_core::ErrorCode::IntegrityMismatch);
    assert!(ConfigCheck::Unknown.into_result().is_ok());
}
