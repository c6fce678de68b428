//! `ListenerConfig::keep_raw`: handlers get the message as received when it is on (the
//! default), and the same decoded model with a null `raw` when it is off; bad bodies are
//! refused the same way either way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http_body_util::BodyExt;
use rxon_core::{
    Handler, Heartbeat, Incoming, Model, RequestContext, TaskPayload, TaskResult, Value,
    WorkerRegistration, json,
};
use rxon_listener_axum::{Listener, ListenerConfig};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const RESULT: &[u8] = include_bytes!("../benches/data/task_result.json");
const HEARTBEAT: &[u8] = include_bytes!("../benches/data/heartbeat.json");

#[derive(Default)]
struct Seen {
    results: Vec<Incoming<TaskResult>>,
    heartbeats: Vec<Incoming<Heartbeat>>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

impl Handler for Recorder {
    async fn register(
        &self,
        _cx: &RequestContext,
        _msg: Incoming<WorkerRegistration>,
    ) -> rxon_core::Result<Value> {
        Ok(Value::Null)
    }

    async fn poll(
        &self,
        _cx: &RequestContext,
        _worker_id: &str,
    ) -> rxon_core::Result<Option<Arc<TaskPayload>>> {
        Ok(None)
    }

    async fn result(
        &self,
        _cx: &RequestContext,
        msg: Incoming<TaskResult>,
    ) -> rxon_core::Result<Value> {
        self.0.lock().unwrap().results.push(msg);
        Ok(Value::Null)
    }

    async fn heartbeat(
        &self,
        _cx: &RequestContext,
        msg: Option<Incoming<Heartbeat>>,
    ) -> rxon_core::Result<Value> {
        self.0.lock().unwrap().heartbeats.extend(msg);
        Ok(json!({}))
    }
}

async fn send(router: &axum::Router, method: &str, uri: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_vec()))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

#[tokio::test]
async fn raw_is_kept_by_default_and_dropped_on_request_with_the_same_models() {
    let mut seen = Vec::new();
    let mut seen_refusals = Vec::new();
    for keep_raw in [true, false] {
        let handler = Recorder::default();
        let config = ListenerConfig {
            keep_raw,
            ..ListenerConfig::default()
        };
        let router = Listener::new(handler.clone()).with_config(config).router();
        let (status, body) = send(&router, "POST", "/_worker/tasks/result", RESULT).await;
        assert_eq!((status, body.as_slice()), (200, &br#"{"status":"ok"}"#[..]));
        let (status, body) = send(&router, "PATCH", "/_worker/workers/w-1", HEARTBEAT).await;
        assert_eq!((status, body.as_slice()), (200, &b"{}"[..]));
        // Contract violations are refused alike with or without the raw message.
        let mut refusals = Vec::new();
        for bad in [
            &br#"{"job_id":1}"#[..],
            br#"{"job_id":"j","task_id":"t","worker_id":"w","status":"success","data":[]}"#,
            br#"{"job_id":"j","#,
            b"[]",
            b"",
        ] {
            let (status, body) = send(&router, "POST", "/_worker/tasks/result", bad).await;
            assert_eq!(status, 400);
            let body = String::from_utf8(body).unwrap();
            assert!(body.contains("CONTRACT_VIOLATION_ERROR"), "{body}");
            refusals.push(body);
        }
        seen_refusals.push(refusals);

        let seen_now = std::mem::take(&mut *handler.0.lock().unwrap());
        let [result] = <[_; 1]>::try_from(seen_now.results).ok().unwrap();
        let [heartbeat] = <[_; 1]>::try_from(seen_now.heartbeats).ok().unwrap();
        if keep_raw {
            assert_eq!(result.raw, json::from_slice(RESULT).unwrap());
            assert_eq!(heartbeat.raw, json::from_slice(HEARTBEAT).unwrap());
        } else {
            assert_eq!(result.raw, Value::Null);
            assert_eq!(heartbeat.raw, Value::Null);
        }
        assert_eq!(result.message, TaskResult::from_json(RESULT).unwrap());
        seen.push((result.message, heartbeat.message));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen_refusals[0], seen_refusals[1]);
}
