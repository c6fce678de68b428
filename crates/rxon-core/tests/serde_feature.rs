//! The `serde` feature: `Value` and models go through any serde format without losing the
//! integer/float distinction, and models serialize as their 1.0b17 wire form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "serde")]

use rxon_core::{Model, ProtocolVersion, TaskPayload, Value, json};

#[test]
fn value_round_trips_through_serde_json() {
    let text =
        r#"{"big":18446744073709551615,"neg":-3,"f":24.0,"s":"é","a":[null,true,{"k":1.5}]}"#;
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(v, json::from_str(text).unwrap());
    let back = serde_json::to_string(&v).unwrap();
    assert_eq!(json::from_str(&back).unwrap(), v);
}

#[test]
fn models_use_the_wire_form() {
    let text =
        r#"{"type":"echo","task_id":"t","job_id":"j","step":0,"priority":1.0,"deadline":1.5}"#;
    let task: TaskPayload = serde_json::from_str(text).unwrap();
    assert_eq!(task, TaskPayload::from_json(text.as_bytes()).unwrap());
    let wire = serde_json::to_string(&task).unwrap();
    assert_eq!(wire, task.to_json(ProtocolVersion::V1_0b17).unwrap());
    let err = serde_json::from_str::<TaskPayload>(r#"{"job_id":"j","task_id":"t"}"#).unwrap_err();
    assert!(
        err.to_string().contains("missing required field `type`"),
        "{err}"
    );
}
