//! The reference's identifier, blob URI and constants vectors (`fixtures/blob_ids.json`,
//! `fixtures/constants.json`) in both protocol versions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::ident::{is_valid_identifier, validate_identifier};
use rxon_core::wire::{self, TERMINAL_STATES};
use rxon_core::{BlobUri, ProtocolVersion, Value};
use std::collections::BTreeSet;

const VERSIONS: [(ProtocolVersion, &str); 2] = [
    (ProtocolVersion::V1_0b9, "b9"),
    (ProtocolVersion::V1_0b17, "b17"),
];

fn fixture(text: &[u8]) -> Value {
    rxon_core::json::from_slice(text).unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn identifiers() {
    let doc = fixture(include_bytes!("fixtures/blob_ids.json"));
    let cases = doc.get("identifiers").and_then(Value::as_array).unwrap();
    assert!(cases.len() >= 30);
    let mut strings = 0;
    for case in cases {
        let id = str_of(case, "id");
        for (version, label) in VERSIONS {
            let want = case.get("expected").and_then(|e| e.get(label)).unwrap();
            let valid = want.get("is_valid").and_then(Value::as_bool).unwrap();
            let Some(value) = case.get("value").and_then(Value::as_str) else {
                // Non-strings (null, numbers, lists): our API takes `&str`, so such a value
                // cannot be an identifier at all; the reference refuses them too.
                assert!(!valid, "{id}: a non-string identifier is invalid");
                continue;
            };
            assert_eq!(is_valid_identifier(value, version), valid, "{id} {label}");
            match (
                validate_identifier(value, "worker_id", version),
                want.get("validate_error"),
            ) {
                (Ok(()), Some(Value::Null)) => {}
                (Err(e), Some(Value::String(text))) => {
                    assert_eq!(format!("ValueError: {e}"), *text, "{id} {label}");
                }
                (got, want) => panic!("{id} {label}: got {got:?}, expected {want:?}"),
            }
        }
        strings += 1;
    }
    assert!(strings >= 25);
}

#[test]
fn parse_uri() {
    let doc = fixture(include_bytes!("fixtures/blob_ids.json"));
    let cases = doc.get("parse_uri").and_then(Value::as_array).unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let id = str_of(case, "id");
        let uri = str_of(case, "uri");
        let bucket = case.get("default_bucket").and_then(Value::as_str);
        let prefix = case.get("prefix").and_then(Value::as_str).unwrap_or("");
        let got = BlobUri::parse(uri, bucket, prefix);
        for (_, label) in VERSIONS {
            let want = case.get("expected").and_then(|e| e.get(label)).unwrap();
            match (str_of(want, "outcome"), &got) {
                ("ok", Ok(parsed)) => {
                    assert_eq!(parsed.bucket, str_of(want, "bucket"), "{id} {label}");
                    assert_eq!(parsed.key, str_of(want, "key"), "{id} {label}");
                    let dir = want.get("is_directory").and_then(Value::as_bool).unwrap();
                    assert_eq!(parsed.is_directory, dir, "{id} {label}");
                }
                ("error", Err(e)) => assert_eq!(
                    format!("ValueError: {e}"),
                    str_of(want, "error"),
                    "{id} {label}"
                ),
                (outcome, got) => panic!("{id} {label}: expected {outcome}, got {got:?}"),
            }
        }
    }
}

#[test]
fn constants() {
    let doc = fixture(include_bytes!("fixtures/constants.json"));
    let ours: std::collections::BTreeMap<&str, &str> = wire::ALL.iter().copied().collect();
    for (version, label) in VERSIONS {
        let theirs = doc
            .get("constants")
            .and_then(|c| c.get(label))
            .and_then(Value::as_object)
            .unwrap();
        assert!(theirs.len() > 40, "{label}");
        for (name, value) in theirs {
            match (name.as_str(), value) {
                // The version string is per version; `ALL` holds the 1.0b17 one.
                ("PROTOCOL_VERSION", Value::String(v)) => {
                    assert_eq!(version.as_str(), v, "{label}")
                }
                ("TERMINAL_STATES", Value::Array(items)) => {
                    let theirs: BTreeSet<&str> = items.iter().filter_map(Value::as_str).collect();
                    let ours: BTreeSet<&str> = TERMINAL_STATES.iter().copied().collect();
                    assert_eq!(
                        theirs.len(),
                        items.len(),
                        "{label}: TERMINAL_STATES are strings"
                    );
                    assert_eq!(ours, theirs, "{label}: TERMINAL_STATES");
                }
                (name, Value::String(v)) => {
                    assert_eq!(
                        ours.get(name).copied(),
                        Some(v.as_str()),
                        "{label}: constant {name}"
                    );
                }
                (name, other) => panic!("{label}: constant {name} has an unexpected type: {other}"),
            }
        }
    }
}

/// Further answers of the reference's URL parser (checked against 1.0b17 on CPython 3.11).
#[test]
fn parse_uri_url_parser_quirks() {
    let ok = [
        ("s3://[v1.x]/k", "[v1.x]", "k", false),
        ("s3://b/k\n", "b", "k", false),
        ("s3://b/k\t/x", "b", "k/x", false),
        ("s3://[::1%eth0]/k", "[::1%eth0]", "k", false),
        ("s3://x[::1]y/k", "x[::1]y", "k", false),
        ("s3://b?x/k", "b", "", false),
        ("s3://b#f/k", "b", "", false),
        ("s3://b\n/k/", "b", "k/", true),
        ("s3://b/k;p", "b", "k;p", false),
        ("s3://[::1]:80/k", "[::1]:80", "k", false),
    ];
    for (uri, bucket, key, dir) in ok {
        let p = BlobUri::parse(uri, None, "").unwrap();
        assert_eq!(
            (p.bucket.as_str(), p.key.as_str(), p.is_directory),
            (bucket, key, dir),
            "{uri:?}"
        );
    }
    let errors = [
        (
            "s3://[zzz]/k",
            "'zzz' does not appear to be an IPv4 or IPv6 address",
        ),
        ("s3://[1.2.3.4]/k", "An IPv4 address cannot be in brackets"),
        ("s3://[vz]/k", "IPvFuture address is invalid"),
        ("s3://a]b/k", "Invalid IPv6 URL"),
        ("s3://[::1/k]", "Invalid IPv6 URL"),
    ];
    for (uri, text) in errors {
        assert_eq!(
            BlobUri::parse(uri, None, "").unwrap_err().to_string(),
            text,
            "{uri:?}"
        );
    }
}
