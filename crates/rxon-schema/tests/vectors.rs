//! Every `validate` case of the reference's schema vectors gives the same `(valid, message)`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! for each version; every `extract` case expressible in Rust matches `schema_for`.

use rxon_core::{ProtocolVersion, Value, json};
use rxon_schema::validate_data;
use std::collections::BTreeMap;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema.json");
    json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Cases the implementation knowingly answers differently, with the reason (kept in sync
/// with COMPATIBILITY.md). Each entry is `(version, case id)`.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

#[test]
fn validate_cases_match_the_reference() {
    let v = fixture();
    let cases = v.get("validate").and_then(Value::as_array).unwrap();
    assert!(cases.len() > 100);
    let mut mismatches = BTreeMap::new();
    let mut checked = 0;
    for case in cases {
        let id = case.get("id").and_then(Value::as_str).unwrap();
        let data = case.get("data").unwrap();
        let schema = case.get("schema").and_then(Value::as_object);
        for (tag, version) in [
            ("b9", ProtocolVersion::V1_0b9),
            ("b17", ProtocolVersion::V1_0b17),
        ] {
            let expected = case.get("expected").and_then(|e| e.get(tag)).unwrap();
            let valid = expected.get("valid").and_then(Value::as_bool).unwrap();
            let error = expected.get("error").and_then(Value::as_str);
            let got = validate_data(data, schema, version);
            let got_pair = (got.is_ok(), got.err());
            let want_pair = (valid, error.map(str::to_owned));
            checked += 1;
            if got_pair != want_pair {
                mismatches.insert((tag, id), format!("want {want_pair:?}, got {got_pair:?}"));
            }
        }
    }
    let unlisted: Vec<_> = mismatches
        .iter()
        .filter(|((tag, id), _)| !KNOWN_DIFFERENCES.contains(&(*tag, *id)))
        .map(|((tag, id), m)| format!("[{tag}] {id}: {m}"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "{} of {checked} checks differ:\n{}",
        unlisted.len(),
        unlisted.join("\n")
    );
    for known in KNOWN_DIFFERENCES {
        assert!(
            mismatches.contains_key(known),
            "{known:?} is listed as a known difference but now matches"
        );
    }
}
