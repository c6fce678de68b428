//! The HTTP worker transport against a Rust orchestrator stub: headers, signed bodies as the
//! live orchestrator verifies them, replay-safe stamps, prompt close, and the facade's
//! `create_transport`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod worker_support;

use rxon::security::{HmacSigner, HmacVerifier, verify_value};
use rxon::transport::http::{HttpTransport, HttpTransportConfig, new_event_id};
use rxon::{
    AnyTransport, Error, Heartbeat, Map, PollOptions, ProtocolVersion, TaskResult, Transport,
    TransportOptions, Value, WorkerEventPayload, WorkerRegistration, create_transport,
};
use std::sync::Arc;
use std::time::Duration;
use worker_support::{PollMode, Stub, StubState};

const SECRET: &str = "worker-secret";

fn signed(url: &str) -> HttpTransport {
    let config = HttpTransportConfig::new(url, "w-1", "tok")
        .with_signer(Arc::new(HmacSigner::new(SECRET).unwrap()));
    HttpTransport::new(config).unwrap()
}

fn progress_event() -> WorkerEventPayload {
    let mut payload = Map::new();
    payload.insert("progress", Value::from(0.5));
    WorkerEventPayload {
        event_id: new_event_id(),
        worker_id: "w-1".into(),
        origin_worker_id: "w-1".into(),
        event_type: "progress".into(),
        payload,
        bubbling_chain: Some(vec![]),
        ..WorkerEventPayload::default()
    }
}

#[tokio::test]
async fn every_signed_body_verifies_as_received() {
    let stub = Stub::start(Arc::new(StubState::default())).await;
    let t = signed(&stub.url());
    t.register(&WorkerRegistration::new("w-1")).await.unwrap();
    let hb = Heartbeat::new("w-1", "idle");
    t.send_heartbeat(Some(&hb)).await.unwrap();
    t.send_heartbeat(Some(&hb)).await.unwrap();
    t.send_heartbeat(None).await.unwrap();
    let mut data = Map::new();
    data.insert("ratio", Value::from(1.0));
    t.send_result(&TaskResult {
        data: Some(data),
        ..TaskResult::new("j", "t")
    })
    .await
    .unwrap();
    t.emit_event(&progress_event()).await.unwrap();

    let verifier = HmacVerifier::new(SECRET);
    let seen = stub.state.seen();
    assert_eq!(seen.len(), 6);
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    for s in &seen {
        assert_eq!(s.header("x-worker-token"), Some("tok"));
        assert_eq!(s.header("x-worker-id"), Some("w-1"));
        assert_eq!(s.header("x-rxon-version"), Some("1.0b17"));
        assert_eq!(s.header("accept-encoding"), Some("identity"));
        let Some(body) = &s.body else {
            assert_eq!(s.method, "PATCH", "only the empty heartbeat has no body");
            assert_eq!(s.header("content-type"), None);
            continue;
        };
        assert_eq!(s.header("content-type"), Some("application/json"));
        let ignore: &[&str] = if s.path == "/_worker/events" {
            &["bubbling_chain"]
        } else {
            &[]
        };
        verify_value(body, &verifier, ProtocolVersion::V1_0b17, ignore)
            .unwrap_or_else(|e| panic!("{} {}: {e:?}: {body}", s.method, s.path));
        assert_eq!(
            body.get("security")
                .and_then(|s| s.get("signer_id"))
                .and_then(Value::as_str),
            Some("w-1")
        );
        let ts = body
            .get("timestamp")
            .and_then(Value::as_i64)
            .expect("an integer timestamp");
        assert!((ts - now).abs() <= 5, "{ts} vs {now}");
    }
    // Two identical heartbeats never share a signature (the live orchestrator's replay nonce).
    let sigs: Vec<String> = stub
        .state
        .bodies("/workers/w-1")
        .iter()
        .map(|b| {
            b.get("security")
                .and_then(|s| s.get("signature"))
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_ne!(sigs[0], sigs[1]);
}

#[tokio::test]
async fn unsigned_bodies_are_sent_as_given() {
    let stub = Stub::start(Arc::new(StubState::default())).await;
    let t = HttpTransport::new(
        HttpTransportConfig::new(stub.url(), "w-1", "tok").with_version(ProtocolVersion::V1_0b9),
    )
    .unwrap();
    t.send_result(&TaskResult::new("j", "t")).await.unwrap();
    let s = &stub.state.seen()[0];
    assert_eq!(
        s.header("x-worker-id"),
        None,
        "1.0b9 does not send X-Worker-ID"
    );
    assert_eq!(s.header("x-rxon-version"), Some("1.0b9"));
    let body = s.body.as_ref().unwrap();
    assert!(
        body.get("security").is_none() && body.get("timestamp").is_none(),
        "{body}"
    );
    assert_eq!(
        body.get("status").and_then(Value::as_str),
        Some("success"),
        "1.0b9 emits defaults"
    );
}

#[tokio::test]
async fn poll_sends_the_query_and_close_ends_it_promptly() {
    let state = Arc::new(StubState::default());
    *state.poll.lock().unwrap() = PollMode::Stall;
    let stub = Stub::start(Arc::clone(&state)).await;
    let t = HttpTransport::new(HttpTransportConfig::new(stub.url(), "w-1", "tok")).unwrap();
    let poller = {
        let t = t.clone();
        tokio::spawn(async move {
            let o = PollOptions::with_timeout(Duration::from_secs(30))
                .available_skills(["a", "b"])
                .hot_skills(Vec::<String>::new());
            t.poll_task(&o).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        state.seen()[0].query,
        "timeout=30.0&available_skills=a,b&hot_skills="
    );
    t.close().await;
    let r = tokio::time::timeout(Duration::from_secs(2), poller)
        .await
        .expect("close ends the poll")
        .unwrap();
    assert!(matches!(r, Err(Error::Closed)), "{r:?}");
    assert!(matches!(t.send_heartbeat(None).await, Err(Error::Closed)));
}

#[tokio::test]
async fn poll_decodes_the_task_and_tolerates_fractional_deadlines() {
    let state = Arc::new(StubState::default());
    *state.poll.lock().unwrap() = PollMode::Task(
        r#"{"job_id":"j","task_id":"t","type":"echo","deadline":1767225600.75,"priority":1.0}"#
            .into(),
    );
    let stub = Stub::start(Arc::clone(&state)).await;
    let t = HttpTransport::new(HttpTransportConfig::new(stub.url(), "w-1", "tok")).unwrap();
    let task = t
        .poll_task(&PollOptions::with_timeout(Duration::from_secs(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.deadline_secs(), Some(1_767_225_600));
    assert_eq!(state.seen()[0].query, "timeout=1.0");
}

#[tokio::test]
async fn create_transport_picks_by_scheme() {
    let stub = Stub::start(Arc::new(StubState::default())).await;
    let t = create_transport(&stub.url(), "w-1", "tok", TransportOptions::new()).unwrap();
    assert!(matches!(t, AnyTransport::Http(_)));
    assert!(
        t.send_result(&TaskResult::new("j", "t"))
            .await
            .unwrap()
            .is_accepted()
    );

    let ws_url = stub.url().replacen("http", "ws", 1);
    let t = create_transport(&ws_url, "w-1", "tok", TransportOptions::new()).unwrap();
    assert!(matches!(t, AnyTransport::Ws(_)));
    assert!(
        t.send_result(&TaskResult::new("j", "t2"))
            .await
            .unwrap()
            .is_accepted(),
        "requests go over HTTP"
    );
    t.close().await;

    let m = create_transport("mock://local", "w-1", "tok", TransportOptions::new()).unwrap();
    let AnyTransport::Mock(mock) = &m else {
        panic!("expected the mock")
    };
    m.send_result(&TaskResult::new("j", "t")).await.unwrap();
    assert_eq!(mock.results().len(), 1);

    for bad in ["ftp://x", "HTTP://x", "wsx://x", "localhost:8080"] {
        let e = create_transport(bad, "w-1", "tok", TransportOptions::new()).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{bad}: {e:?}");
        assert!(
            e.to_string()
                .contains(&format!("Unsupported transport scheme in URL: {bad}")),
            "{e}"
        );
    }
}

#[tokio::test]
async fn connection_refused_is_a_network_error_naming_the_request() {
    let mut stub = Stub::start(Arc::new(StubState::default())).await;
    let url = stub.url();
    stub.stop().await;
    let t = HttpTransport::new(HttpTransportConfig::new(url, "w-1", "tok")).unwrap();
    let e = t
        .register(&WorkerRegistration::new("w-1"))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Network error during POST /_worker/workers/register: "),
        "{e}"
    );
    assert!(e.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_transport_leaks_no_task() {
    let stub = Stub::start(Arc::new(StubState::default())).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let t = HttpTransport::new(HttpTransportConfig::new(stub.url(), "w-1", "tok")).unwrap();
    t.send_heartbeat(None).await.unwrap();
    assert!(
        metrics.num_alive_tasks() > baseline,
        "a pooled connection task is alive"
    );
    drop(t);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while metrics.num_alive_tasks() > baseline && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        baseline,
        "connection tasks end with the transport"
    );
}

#[tokio::test]
async fn a_token_in_the_register_answer_is_adopted_under_b17_only() {
    let state = Arc::new(StubState::default());
    *state.register_reply.lock().unwrap() = Some(
        r#"{"access_token":"new-tok","expires_in":3600,"refresh_token":"r-1","worker_id":"w-1"}"#
            .into(),
    );
    let stub = Stub::start(Arc::clone(&state)).await;
    let t = HttpTransport::new(HttpTransportConfig::new(stub.url(), "w-1", "tok")).unwrap();
    t.register(&WorkerRegistration::new("w-1")).await.unwrap();
    assert_eq!(t.current_token(), "new-tok");
    // What a companion command socket reads to follow the credential.
    assert_eq!(Transport::current_token(&t).as_deref(), Some("new-tok"));
    assert_eq!(t.refresh_token_held().as_deref(), Some("r-1"));
    t.send_heartbeat(None).await.unwrap();
    assert_eq!(
        state.seen().last().unwrap().header("x-worker-token"),
        Some("new-tok")
    );

    let b9 = HttpTransport::new(
        HttpTransportConfig::new(stub.url(), "w-1", "tok").with_version(ProtocolVersion::V1_0b9),
    )
    .unwrap();
    b9.register(&WorkerRegistration::new("w-1")).await.unwrap();
    assert_eq!(b9.current_token(), "tok");
}

#[tokio::test]
async fn error_statuses_map_to_typed_errors() {
    let state = Arc::new(StubState::default());
    let stub = Stub::start(Arc::clone(&state)).await;
    let t = HttpTransport::new(HttpTransportConfig::new(stub.url(), "w-1", "tok")).unwrap();
    let set = |status: u16, ctype: &'static str, body: &str| {
        *state.fixed.lock().unwrap() = Some((status, ctype, body.to_owned()));
    };

    set(
        403,
        "application/json",
        r#"{"error":"Unauthorized: Invalid token"}"#,
    );
    let e = t.send_heartbeat(None).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Auth {
                status: Some(403),
                ..
            }
        ),
        "{e:?}"
    );

    set(500, "application/json", r#"{"error":"boom"}"#);
    let e = t.send_result(&TaskResult::new("j", "t")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol {
                status: Some(500),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), r#"HTTP 500: {"error":"boom"}"#);
    assert_eq!(
        state.bodies("/tasks/result").len(),
        1,
        "only network errors are retried"
    );

    set(
        429,
        "application/json",
        r#"{"error":"{\"error\": \"Too Many Requests\"}"}"#,
    );
    let e = t
        .poll_task(&PollOptions::with_timeout(Duration::from_secs(1)))
        .await
        .unwrap_err();
    let Error::RateLimited {
        retry_after,
        code,
        message,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (*retry_after, code.as_str()),
        (None, "LIMIT_EXCEEDED_ERROR")
    );
    assert_eq!(message, r#"{"error": "Too Many Requests"}"#);

    set(200, "text/plain", "hello");
    let e = t.send_heartbeat(None).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol {
                status: Some(200),
                ..
            }
        ),
        "{e:?}"
    );

    set(200, "application/json", "null");
    let hb = t.send_heartbeat(None).await.unwrap();
    assert!(hb.raw.is_null() && hb.cancel_task_ids.is_empty());

    set(200, "application/json", r#"{"job_id":"j"}"#);
    let e = t
        .poll_task(&PollOptions::with_timeout(Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Contract(_)),
        "a task without task_id is a contract violation: {e:?}"
    );
}
