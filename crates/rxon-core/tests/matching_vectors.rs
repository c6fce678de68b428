//! Every case of the reference's matching vectors (`fixtures/matching.json`), in both protocol
//! versions: `from_value(worker).try_matches(from_value(requirement))` must give the
//! reference's answer, except for the cases listed in [`B9_DIFFERENCES`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::matching::{MatchError, MatchKind, MatchOptions, match_values};
use rxon_core::{DeviceAssignment, ProtocolVersion, Value};
use std::collections::BTreeSet;

/// Cases where our 1.0b9 answer deliberately differs from the 1.0b9 reference, with the
/// reason. The 1.0b9 reference decodes models without type checks; our models are typed, so
/// a value of the wrong type is refused at decoding (`error`) where 1.0b9 went on comparing.
const B9_DIFFERENCES: &[(&str, &str)] = &[
    // `version: null` on an artifact: the typed field has a default and refuses null (as
    // 1.0b17 does); 1.0b9 kept None and compared it (`None != "3.0"` → false).
    (
        "artifact/version/req_null",
        "null for a defaulted string field is refused at decoding",
    ),
    // `ram_gb: true`: a bool is not a float for our decoder; 1.0b9 compared `32 < True`.
    (
        "resources/b9_fields/ram_bool_req",
        "bool in the float field ram_gb is refused at decoding",
    ),
];

/// No deliberate difference under 1.0b17.
const B17_DIFFERENCES: &[(&str, &str)] = &[];

#[derive(Debug, PartialEq)]
enum Outcome {
    Bool(bool),
    Error,
    NotAvailable,
}

fn expected(v: Option<&Value>) -> Outcome {
    match v {
        Some(Value::Bool(b)) => Outcome::Bool(*b),
        Some(Value::String(s)) if s == "error" => Outcome::Error,
        Some(Value::Null) | None => Outcome::NotAvailable,
        Some(other) => panic!("unexpected expected value {other}"),
    }
}

fn ours(kind: MatchKind, worker: &Value, req: &Value, opts: &MatchOptions) -> Outcome {
    match match_values(kind, worker, req, opts) {
        Ok(b) => Outcome::Bool(b),
        Err(MatchError::NotAvailable { .. }) => Outcome::NotAvailable,
        Err(_) => Outcome::Error,
    }
}

fn cases() -> Vec<Value> {
    let text = include_bytes!("fixtures/matching.json");
    let doc = rxon_core::json::from_slice(text).unwrap();
    doc.get("cases").and_then(Value::as_array).unwrap().clone()
}

fn check(version: ProtocolVersion, label: &str, allowed: &[(&str, &str)]) {
    let allowed: BTreeSet<&str> = allowed.iter().map(|(id, _)| *id).collect();
    let opts = MatchOptions::new(version);
    let exact = opts.with_assignment(DeviceAssignment::Exact);
    let mut unexpected = Vec::new();
    let mut listed_but_equal = Vec::new();
    let mut seen_listed = BTreeSet::new();
    let all = cases();
    assert!(all.len() > 4000, "the fixture has every case");
    for case in &all {
        let id = case.get("id").and_then(Value::as_str).unwrap();
        let kind: MatchKind = case
            .get("kind")
            .and_then(Value::as_str)
            .unwrap()
            .parse()
            .unwrap();
        let worker = case.get("worker").unwrap();
        let req = case.get("requirement").unwrap();
        let want = expected(case.get("expected").and_then(|e| e.get(label)));
        let got = ours(kind, worker, req, &opts);
        if allowed.contains(id) {
            seen_listed.insert(id);
            if got == want {
                listed_but_equal.push(id.to_owned());
            }
        } else if got != want {
            unexpected.push(format!("{id}: expected {want:?}, got {got:?}"));
        }
        // Exact assignment accepts everything greedy accepts; it differs only by matching
        // more device lists (never for other kinds).
        let got_exact = ours(kind, worker, req, &exact);
        match (&got, &got_exact) {
            (Outcome::Bool(true), g) => assert_eq!(
                g,
                &Outcome::Bool(true),
                "{id}: exact refused what greedy accepts"
            ),
            (g, e) if kind != MatchKind::Resources => {
                assert_eq!(g, e, "{id}: exact differs outside resources")
            }
            _ => {}
        }
    }
    let missing: Vec<_> = allowed.difference(&seen_listed).collect();
    assert!(
        missing.is_empty(),
        "{label}: listed differences that are not cases: {missing:?}"
    );
    assert!(
        listed_but_equal.is_empty(),
        "{label}: listed differences now agree, unlist them: {listed_but_equal:?}"
    );
    assert!(
        unexpected.is_empty(),
        "{label}: {} unexpected differences:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

#[test]
fn every_case_1_0b17() {
    check(ProtocolVersion::V1_0b17, "b17", B17_DIFFERENCES);
}

#[test]
fn every_case_1_0b9() {
    check(ProtocolVersion::V1_0b9, "b9", B9_DIFFERENCES);
}

#[test]
fn greedy_caveat_is_reproduced_and_exact_fixes_it() {
    let case = cases()
        .into_iter()
        .find(|c| {
            c.get("id").and_then(Value::as_str)
                == Some("resources/devices/greedy_first_match_fails")
        })
        .unwrap();
    let (w, r) = (
        case.get("worker").unwrap(),
        case.get("requirement").unwrap(),
    );
    let greedy = MatchOptions::default();
    assert_eq!(match_values(MatchKind::Resources, w, r, &greedy), Ok(false));
    let exact = greedy.with_assignment(DeviceAssignment::Exact);
    assert_eq!(match_values(MatchKind::Resources, w, r, &exact), Ok(true));
}
