//! Differential test: the inputs of `fixtures/extra_cases.json` (keywords, drafts, nesting,
//! renderings beyond the kit's vectors) are evaluated by the reference packages themselves
//! (1.0b9 and 1.0b17 interpreters) and must give the same `(valid, message)` here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::{ProtocolVersion, Value, json};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const SCRIPT: &str = r#"
import json, sys
from rxon.schema import validate_data
out = []
for case in json.load(sys.stdin):
    ok, msg = validate_data(case["data"], case["schema"])
    out.append([ok, msg])
print(json.dumps(out))
"#;

/// The reference interpreter for `tag` (`b9`/`b17`): `RXON_<TAG>_PYTHON`, else what the
/// kit's setup script prints; `None` (after printing why) when unavailable outside CI.
fn interpreter(tag: &str) -> Option<PathBuf> {
    let var = format!("RXON_{}_PYTHON", tag.to_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        return Some(PathBuf::from(p));
    }
    let setup =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/setup.sh");
    let found = Command::new("bash")
        .arg(&setup)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{var}=")).map(PathBuf::from))
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{var} unset and {} failed",
            setup.display()
        );
        println!(
            "skipped: no reference interpreter ({var} unset, {} failed)",
            setup.display()
        );
    }
    found
}

fn reference_answers(python: &PathBuf, cases: &str) -> Vec<(bool, Option<String>)> {
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "reference interpreter failed");
    let v = json::from_slice(&out.stdout).unwrap();
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
    for (tag, version) in [
        ("b9", ProtocolVersion::V1_0b9),
        ("b17", ProtocolVersion::V1_0b17),
    ] {
        let Some(python) = interpreter(tag) else {
            return;
        };
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
