//! The orchestrator goes away while a result is being sent: the HTTP transport retries network
//! errors with backoff and delivers the result once the orchestrator is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod worker_support;

use rxon::transport::http::{HttpTransport, HttpTransportConfig};
use rxon::{Error, ResultReply, TaskResult, Transport};
use std::sync::Arc;
use std::time::{Duration, Instant};
use worker_support::{Stub, StubState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_is_delivered_after_the_orchestrator_restarts() {
    let state = Arc::new(StubState::default());
    let mut stub = Stub::start(Arc::clone(&state)).await;
    let addr = stub.addr;
    // Backoff 0.2, 0.4, 0.8, 1.6, 3.2 s: about 6 s of retries in all.
    let config = HttpTransportConfig::new(stub.url(), "restart-worker", "token")
        .with_result_retries(6, Duration::from_millis(200))
        .with_connect_timeout(Duration::from_secs(1));
    let t = HttpTransport::new(config).unwrap();

    // A first exchange opens a pooled keep-alive connection...
    assert!(
        t.send_result(&TaskResult::new("job-0", "task-0"))
            .await
            .unwrap()
            .is_accepted()
    );
    // ...which breaks when the orchestrator goes away.
    stub.stop().await;

    let sender = {
        let t = t.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            let r = t.send_result(&TaskResult::new("job-1", "task-1")).await;
            (r, start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !sender.is_finished(),
        "the result must still be retrying while the orchestrator is away"
    );
    let _back = Stub::start_on(Arc::clone(&state), addr).await;

    let (reply, took) = sender.await.unwrap();
    assert!(matches!(reply, Ok(ResultReply::Accepted(_))), "{reply:?}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    let results = state.bodies("/tasks/result");
    assert_eq!(
        results
            .iter()
            .filter(|b| b.get("task_id").and_then(|v| v.as_str()) == Some("task-1"))
            .count(),
        1
    );
    t.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_give_up_with_a_network_error() {
    let state = Arc::new(StubState::default());
    let mut stub = Stub::start(state).await;
    let url = stub.url();
    stub.stop().await;
    let config = HttpTransportConfig::new(url, "restart-worker", "token")
        .with_result_retries(3, Duration::from_millis(20))
        .with_connect_timeout(Duration::from_secs(1));
    let t = HttpTransport::new(config).unwrap();
    let e = t
        .send_result(&TaskResult::new("job-1", "task-1"))
        .await
        .unwrap_err();
    let Error::Network { message, .. } = &e else {
        panic!("expected a network error, got {e:?}")
    };
    assert!(
        message.starts_with("Network error during POST /_worker/tasks/result: "),
        "{message}"
    );
}
