//! Behaviour of the models beyond the reference's vectors: defaults, tolerances, replies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::{
    DecodeErrorKind, Error, ErrorCode, HeartbeatReply, Model, ProtocolVersion, Resources,
    ResultReply, TaskPayload, TaskResult, Value, json,
};

const B9: ProtocolVersion = ProtocolVersion::V1_0b9;
const B17: ProtocolVersion = ProtocolVersion::V1_0b17;

#[test]
fn fractional_deadlines_and_integral_floats_decode() {
    // The live orchestrator sends fractional deadlines (spec §18.B.1); 1.0b17 itself rejects them.
    let t = TaskPayload::from_json(br#"{"job_id":"j","task_id":"t","type":"x","deadline":1767225660.75,"timestamp":1767225600.0,"step":2.0}"#).unwrap();
    assert_eq!(t.deadline_secs(), Some(1_767_225_660));
    assert_eq!(t.timestamp, Some(1_767_225_600));
    assert_eq!(t.step, Some(2));
    // A fractional value in an integer field is still a contract violation naming the field.
    let e = TaskPayload::from_json(br#"{"job_id":"j","task_id":"t","type":"x","timestamp":1.5}"#)
        .unwrap_err();
    assert_eq!(e.field(), "timestamp");
    assert!(matches!(
        e.kind,
        DecodeErrorKind::WrongType { got: "float", .. }
    ));
}

#[test]
fn defaults_are_omitted_by_b17_and_written_by_b9() {
    let r = TaskResult::new("j", "t");
    assert_eq!(r.status(), "success");
    assert!(r.is_success());
    assert_eq!(r.to_json(B17).unwrap(), r#"{"job_id":"j","task_id":"t"}"#);
    assert_eq!(
        r.to_json(B9).unwrap(),
        r#"{"job_id":"j","task_id":"t","status":"success"}"#
    );
    // A received default is kept, as the reference keeps decoded strings.
    let r = TaskResult::from_json(br#"{"job_id":"j","task_id":"t","status":"success"}"#).unwrap();
    assert_eq!(
        r.to_json(B17).unwrap(),
        r#"{"job_id":"j","status":"success","task_id":"t"}"#
    );
    // Small integer defaults vanish under 1.0b17 even when sent (identity rule, spec §3.3).
    let t =
        TaskPayload::from_json(br#"{"job_id":"j","task_id":"t","type":"x","step":0,"depth":3}"#)
            .unwrap();
    assert_eq!(
        t.to_json(B17).unwrap(),
        r#"{"depth":3,"job_id":"j","task_id":"t","type":"x"}"#
    );
}

#[test]
fn b9_only_resource_fields_are_decoded_but_not_sent_to_b17_peers() {
    let r =
        Resources::from_json(br#"{"cpu_cores":8,"ram_gb":32,"max_concurrent_tasks":2}"#).unwrap();
    assert_eq!(r.cpu_cores, Some(8));
    assert_eq!(r.to_json(B17).unwrap(), "{}");
    assert_eq!(
        r.to_json(B9).unwrap(),
        r#"{"max_concurrent_tasks":2,"cpu_cores":8,"ram_gb":32.0}"#
    );
}

#[test]
fn non_objects_are_rejected_not_passed_through() {
    for text in ["[1]", "null", "\"task\"", "5"] {
        let e = TaskPayload::from_json(text.as_bytes()).unwrap_err();
        assert!(
            matches!(
                e.kind,
                DecodeErrorKind::WrongType {
                    expected: "object",
                    ..
                }
            ),
            "{text}: {e}"
        );
    }
    let e = TaskPayload::from_json(b"{\"job_id\":").unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::InvalidJson(_)));
    let err: Error = e.into();
    assert_eq!(err.code(), ErrorCode::ContractViolation);
    assert_eq!(err.http_status(), 400);
}

#[test]
fn heartbeat_and_result_replies_are_read_leniently() {
    let r = HeartbeatReply::from_value(
        json!({"status": "ok", "cancel_task_ids": ["a", 5, "b"], "require_full_sync": true, "next_heartbeat_jitter_ms": "250"}),
    );
    assert_eq!(r.cancel_task_ids, ["a", "b"]);
    assert!(r.require_full_sync);
    assert_eq!(r.next_heartbeat_jitter_ms, Some(250.0));
    let empty = HeartbeatReply::from_value(Value::Null);
    assert!(!empty.require_full_sync && empty.cancel_task_ids.is_empty());

    let ignored = ResultReply::from_value(
        json!({"status": "ignored", "reason": "job_cancelled", "message": "late"}),
    );
    assert_eq!(
        ignored,
        ResultReply::Ignored {
            reason: "job_cancelled".into(),
            message: Some("late".into())
        }
    );
    assert!(ResultReply::from_value(json!({"status": "accepted"})).is_accepted());
}

#[test]
fn errors_map_to_wire_codes_and_statuses() {
    let rl = Error::RateLimited {
        message: "slow down".into(),
        retry_after: Some(std::time::Duration::from_secs(2)),
        code: "LIMIT_EXCEEDED_ERROR".into(),
    };
    assert_eq!(rl.http_status(), 429);
    assert_eq!(rl.code(), ErrorCode::LimitExceeded);
    assert!(rl.is_retryable());
    assert_eq!(
        Error::Auth {
            message: "no".into(),
            status: None
        }
        .http_status(),
        403
    );
    assert_eq!(Error::internal("boom").http_status(), 500);
    assert_eq!(
        "INTEGRITY_MISMATCH_ERROR".parse::<ErrorCode>().unwrap(),
        ErrorCode::IntegrityMismatch
    );
}

#[test]
fn map_keeps_order_and_replaces_in_place_at_any_size() {
    let mut m = rxon_core::Map::new();
    for i in 0..100 {
        m.insert(format!("k{i}"), Value::from(i));
    }
    m.insert("k3", Value::from("x"));
    assert_eq!(m.len(), 100);
    assert_eq!(m.keys().nth(3).map(String::as_str), Some("k3"));
    assert_eq!(m.get("k3"), Some(&Value::from("x")));
    assert_eq!(m.remove("k50"), Some(Value::from(50)));
    assert_eq!(m.get("k51"), Some(&Value::from(51)));
    assert_eq!(m.len(), 99);
}
