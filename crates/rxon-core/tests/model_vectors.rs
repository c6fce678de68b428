//! Every model vector of the reference (tests/fixtures/models.json): encoding of constructed
//! models and decode → re-encode round trips, for 1.0b9 and 1.0b17.
//!
//! Where our typed decoding deliberately differs from the reference (docs/COMPATIBILITY.md),
//! the difference must fall into one of the documented categories of [`deliberate`], each
//! checked precisely; any other difference fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::json;
use rxon_core::model::Model;
use rxon_core::{ProtocolVersion, Value};

const FIXTURE: &str = include_str!("fixtures/models.json");

/// Why a difference is deliberate, or `None` when it is a bug.
fn deliberate(
    id: &str,
    label: &str,
    want: &Outcome,
    got: &Outcome,
    b17_want: &Outcome,
) -> Option<&'static str> {
    match (label, want, got) {
        // 1.0b9 decodes without any type check (spec §3.4): wrong types pass through verbatim.
        // We decode with types; the strict 1.0b17 reference rejects the same input.
        ("b9", Outcome::Ok { .. }, Outcome::Error) if *b17_want == Outcome::Error => {
            Some("1.0b9 accepts ill-typed fields verbatim; we reject them like 1.0b17")
        }
        // 1.0b9 keeps the JSON number kind of a float field (`24` stays `24`); our float
        // fields are `f64`, so they re-encode as `24.0`. Numerically the same value.
        ("b9", Outcome::Ok { json: w, .. }, Outcome::Ok { json: g, .. }) if loose_eq(w, g) => {
            Some("number kind of a float/int field differs, value equal")
        }
        // We accept integral floats in integer fields, and any number as a deadline
        // (spec §18.A.8, §18.B.1); 1.0b17 rejects them.
        ("b17", Outcome::Error, Outcome::Ok { .. })
            if id.ends_with("/integral_float_for_int") || id == "TaskPayload/encode:full_b9" =>
        {
            Some("integral floats accepted in integer fields; any number accepted as deadline")
        }
        _ => None,
    }
}

fn loose_eq(a: &str, b: &str) -> bool {
    fn eq(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.numeric_eq(y),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && eq(v1, v2))
            }
            _ => a == b,
        }
    }
    eq(&json::from_str(a).unwrap(), &json::from_str(b).unwrap())
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok {
        json: String,
        canonical: Option<String>,
    },
    Error,
    /// The field does not exist in that version's model.
    NotApplicable,
}

fn run<M: Model + PartialEq + std::fmt::Debug>(
    input: &Value,
    version: ProtocolVersion,
    canonical: bool,
) -> Outcome {
    let decoded = M::from_value(input);
    // Decoding an owned value (moving instead of copying) gives the same model or error.
    let owned = M::from_value_owned(input.clone());
    match (&decoded, &owned) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{}: owned decoding differs", M::NAME),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", M::NAME),
        _ => panic!("{}: owned decoding {owned:?} vs {decoded:?}", M::NAME),
    }
    match decoded {
        Err(_) => Outcome::Error,
        Ok(m) => match m.to_value(version) {
            // The text written straight from the model is the value path's text.
            r if r.as_ref().map(Value::to_json).map_err(Clone::clone) != m.to_json(version) => {
                panic!("{}: to_json differs from to_value: {r:?}", M::NAME)
            }
            Err(_) => Outcome::Error,
            Ok(v) => Outcome::Ok {
                json: v.to_json(),
                canonical: canonical.then(|| json::to_string_sorted(&v)),
            },
        },
    }
}

macro_rules! dispatch {
    ($name:expr, $input:expr, $version:expr, $canonical:expr; $($m:ident),*) => {
        match $name {
            $( stringify!($m) => run::<rxon_core::$m>($input, $version, $canonical), )*
            other => panic!("unknown model {other}"),
        }
    };
}

fn ours(model: &str, input: &Value, version: ProtocolVersion, canonical: bool) -> Outcome {
    dispatch!(model, input, version, canonical;
        HardwareDevice, DeviceUsage, ResourcesUsage, Resources, InstalledArtifact, SkillInfo,
        SecurityContext, WorkerCapabilities, FileMetadata, WorkerRegistration, TokenResponse,
        WorkerEventPayload, WorkerCommand, TaskPayload, TaskError, TaskResult, Heartbeat)
}

fn expected(e: &Value, canonical: bool) -> Outcome {
    match e.get("outcome").and_then(Value::as_str) {
        Some("ok") => Outcome::Ok {
            json: e.get("json").and_then(Value::as_str).unwrap().to_owned(),
            canonical: canonical.then(|| {
                e.get("canonical")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned()
            }),
        },
        Some("error") if e.get("stage").and_then(Value::as_str) == Some("construct") => {
            Outcome::NotApplicable
        }
        Some("error" | "passthrough") => Outcome::Error,
        other => panic!("unknown outcome {other:?}"),
    }
}

#[test]
fn every_model_vector_matches_the_reference() {
    let doc = json::from_str(FIXTURE).unwrap();
    let mut unexplained = Vec::new();
    let mut explained: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut checked = 0;
    for (section, canonical) in [("encode", true), ("decode", false)] {
        for case in doc.get(section).and_then(Value::as_array).unwrap() {
            let id = case.get("id").and_then(Value::as_str).unwrap();
            let model = case.get("model").and_then(Value::as_str).unwrap();
            let input = match case.get("fields") {
                Some(f) => f.clone(),
                None => {
                    match json::from_str(case.get("input_json").and_then(Value::as_str).unwrap()) {
                        Ok(v) => v,
                        // Unparsable text: the reference fails at the parse stage, and so does our parser.
                        Err(_) => Value::Null,
                    }
                }
            };
            let b17_want = expected(
                case.get("expected").and_then(|e| e.get("b17")).unwrap(),
                canonical,
            );
            for (label, version) in [
                ("b9", ProtocolVersion::V1_0b9),
                ("b17", ProtocolVersion::V1_0b17),
            ] {
                let want = expected(
                    case.get("expected").and_then(|e| e.get(label)).unwrap(),
                    canonical,
                );
                if want == Outcome::NotApplicable {
                    continue;
                }
                checked += 1;
                let got = ours(model, &input, version, canonical);
                if got != want {
                    match deliberate(id, label, &want, &got, &b17_want) {
                        Some(reason) => *explained.entry(reason).or_default() += 1,
                        None => unexplained.push(format!(
                            "{section} {id} [{label}]\n   want {want:?}\n   got  {got:?}"
                        )),
                    }
                }
            }
        }
    }
    println!("checked {checked} cases; deliberate differences: {explained:#?}");
    assert!(checked > 600, "only {checked} checks ran");
    assert!(
        unexplained.is_empty(),
        "{} differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}

fn decode_error<M: Model>(input: &Value) -> Option<String> {
    let owned = M::from_value_owned(input.clone())
        .err()
        .map(|e| e.to_string());
    let borrowed = M::from_value(input).err().map(|e| e.to_string());
    assert_eq!(
        owned,
        borrowed,
        "{}: owned decoding errs differently",
        M::NAME
    );
    borrowed
}

/// Our contract-violation messages use the 1.0b17 reference's wording, field path included.
#[test]
fn decode_errors_name_the_field_like_the_reference() {
    let doc = json::from_str(FIXTURE).unwrap();
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for case in doc.get("decode").and_then(Value::as_array).unwrap() {
        let e = case.get("expected").and_then(|e| e.get("b17")).unwrap();
        if e.get("stage").and_then(Value::as_str) != Some("from_dict") {
            continue;
        }
        let want = e
            .get("error")
            .and_then(Value::as_str)
            .unwrap()
            .trim_start_matches("ValueError: ");
        let Ok(input) = json::from_str(case.get("input_json").and_then(Value::as_str).unwrap())
        else {
            continue;
        };
        let model = case.get("model").and_then(Value::as_str).unwrap();
        macro_rules! err { ($($m:ident),*) => { match model { $( stringify!($m) => decode_error::<rxon_core::$m>(&input), )* _ => unreachable!() } } }
        let got = err!(
            HardwareDevice,
            DeviceUsage,
            ResourcesUsage,
            Resources,
            InstalledArtifact,
            SkillInfo,
            SecurityContext,
            WorkerCapabilities,
            FileMetadata,
            WorkerRegistration,
            TokenResponse,
            WorkerEventPayload,
            WorkerCommand,
            TaskPayload,
            TaskError,
            TaskResult,
            Heartbeat
        );
        // Cases we accept on purpose (integral floats, deadlines) have no error to compare.
        let Some(got) = got else { continue };
        compared += 1;
        if got != want {
            mismatches.push(format!(
                "{}\n   want {want}\n   got  {got}",
                case.get("id").and_then(Value::as_str).unwrap()
            ));
        }
    }
    assert!(compared > 100, "only {compared} compared");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
