//! Differential test: the inputs of `fixtures/extra_cases.json` (keywords, drafts, nesting,
//! renderings beyond the kit's vectors) are evaluated by the reference packages themselves
//! (1.0b9 and 1.0b17 interpreters) and must give the same `(valid, message)` here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::{ProtocolVersion, Value, json};
use rxon_testing::python::{reference_python, run_script, tag};
use std::path::Path;

const SCRIPT: &str = r#"
import json, sys
from rxon.schema import validate_data
out = []
for case in json.load(sys.stdin):
    ok, msg = validate_data(case["data"], case["schema"])
    out.append([ok, msg])
print(json.dumps(out))
"#;

fn reference_answers(python: &Path, cases: &str) -> Vec<(bool, Option<String>)> {
    let out = run_script(python, SCRIPT, cases.as_bytes());
    let v = json::from_slice(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let pair = pair.as_array().unwrap();
            (
                pair[0].as_bool().unwrap(),
                pair[1].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn extra_cases_match_the_reference_interpreters() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extra_cases.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let cases = json::from_str(&text).unwrap();
    let cases = cases.as_array().unwrap();
    for version in [ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b17] {
        let Some(python) = reference_python(version) else {
            return;
        };
        let tag = tag(version);
        let want = reference_answers(&python, &text);
        assert_eq!(want.len(), cases.len());
        let mut failures = Vec::new();
        for (case, want) in cases.iter().zip(want) {
            let schema = case.get("schema").and_then(Value::as_object);
            let got = rxon_schema::validate_data(case.get("data").unwrap(), schema, version);
            let got = (got.is_ok(), got.err());
            if got != want {
                failures.push(format!(
                    "[{tag}] {}: want {want:?}, got {got:?}",
                    case.get("id").and_then(Value::as_str).unwrap()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
