//! Our HTTP worker transport against the reference orchestrator peer
//! (`../shared/conformance/peer_orchestrator.py`), scenario by scenario, in both protocol
//! versions. Each test spawns the peer on an ephemeral loopback port, drives the transport
//! through the scenario's steps and asserts that the peer exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon::transport::http::{HttpTransport, HttpTransportConfig};
use rxon::{
    Error, Heartbeat, Map, PollOptions, ProtocolVersion, ResultReply, SkillInfo, TaskPayload,
    TaskResult, Transport, Value, WorkerRegistration,
};
use rxon_testing::python::PeerOrchestrator;
use std::time::{Duration, Instant};

const WORKER_ID: &str = "conformance-worker-1";
const TOKEN: &str = "rxon-conformance-token";

fn transport(url: &str, token: &str) -> HttpTransport {
    HttpTransport::new(HttpTransportConfig::new(url, WORKER_ID, token)).unwrap()
}

fn registration() -> WorkerRegistration {
    WorkerRegistration {
        supported_skills: Some(vec![SkillInfo::new("echo")]),
        available_skills: Some(vec!["echo".to_owned()]),
        ..WorkerRegistration::new(WORKER_ID)
    }
}

fn echo_result(task: &TaskPayload) -> TaskResult {
    let mut data = Map::new();
    data.insert(
        "echo",
        Value::Object(task.params.clone().unwrap_or_default()),
    );
    TaskResult {
        worker_id: Some(WORKER_ID.to_owned()),
        data: Some(data),
        ..TaskResult::new(&task.job_id, &task.task_id)
    }
}

fn poll(timeout: Duration) -> PollOptions {
    PollOptions::with_timeout(timeout)
        .available_skills(["echo"])
        .hot_skills(Vec::<String>::new())
}

fn heartbeat() -> Heartbeat {
    Heartbeat {
        current_tasks: Some(vec![]),
        ..Heartbeat::new(WORKER_ID, "idle")
    }
}

async fn basic(t: &HttpTransport) {
    let reg = t.register(&registration()).await.unwrap();
    assert_eq!(
        reg.get("status").and_then(Value::as_str),
        Some("registered")
    );
    let task = t
        .poll_task(&poll(Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("a task");
    assert_eq!(task.job_id, "job-basic-1");
    assert_eq!(
        task.traceparent(),
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    );
    let reply = t.send_result(&echo_result(&task)).await.unwrap();
    assert!(reply.is_accepted(), "{reply:?}");
    assert!(
        t.poll_task(&poll(Duration::from_secs(5)))
            .await
            .unwrap()
            .is_none()
    );
    let hb = t.send_heartbeat(Some(&heartbeat())).await.unwrap();
    assert_eq!(hb.cancel_task_ids, vec!["task-basic-zombie-1".to_owned()]);
}

async fn ignored(t: &HttpTransport) {
    t.register(&registration()).await.unwrap();
    let task = t
        .poll_task(&poll(Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("a task");
    assert_eq!(task.task_id, "task-ignored-1");
    match t.send_result(&echo_result(&task)).await.unwrap() {
        ResultReply::Ignored { reason, .. } => assert_eq!(reason, "job_cancelled"),
        other => panic!("expected an ignored result, got {other:?}"),
    }
    t.send_heartbeat(Some(&heartbeat())).await.unwrap();
}

async fn ratelimit(t: &HttpTransport) {
    t.register(&registration()).await.unwrap();
    let e = t
        .poll_task(&poll(Duration::from_secs(5)))
        .await
        .unwrap_err();
    let Error::RateLimited {
        retry_after: Some(wait),
        code,
        ..
    } = &e
    else {
        panic!("expected a 429, got {e:?}")
    };
    assert_eq!(*wait, Duration::from_secs(1));
    assert_eq!(code, "LIMIT_EXCEEDED_ERROR");
    tokio::time::sleep(*wait + Duration::from_millis(50)).await;
    let task = t
        .poll_task(&poll(Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("a task");
    assert!(
        t.send_result(&echo_result(&task))
            .await
            .unwrap()
            .is_accepted()
    );
    let e = t.send_heartbeat(Some(&heartbeat())).await.unwrap_err();
    let Some(wait) = e.retry_after() else {
        panic!("expected a 429 with Retry-After, got {e:?}")
    };
    assert!(wait <= Duration::from_secs(3), "{wait:?}");
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    t.send_heartbeat(Some(&heartbeat())).await.unwrap();
}

async fn longpoll(t: &HttpTransport) {
    t.register(&registration()).await.unwrap();
    let start = Instant::now();
    let task = t
        .poll_task(&poll(Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("a task");
    assert!(start.elapsed() >= Duration::from_millis(900));
    assert!(
        t.send_result(&echo_result(&task))
            .await
            .unwrap()
            .is_accepted()
    );
    assert!(
        t.poll_task(&poll(Duration::from_secs(1)))
            .await
            .unwrap()
            .is_none()
    );
}

async fn auth(t: &HttpTransport) {
    // 401 → token endpoint → retried with access token 1.
    t.register(&registration()).await.unwrap();
    assert_eq!(t.current_token(), "rxon-access-token-1");
    t.send_heartbeat(Some(&heartbeat())).await.unwrap();
    // 401 → refresh endpoint with refresh token 1 → retried with access token 2 → 204.
    assert!(
        t.poll_task(&poll(Duration::from_secs(1)))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(t.current_token(), "rxon-access-token-2");
    // 401 → refresh refused (403) → an auth error, nothing more sent.
    let e = t.send_heartbeat(Some(&heartbeat())).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Auth {
                status: Some(401),
                ..
            }
        ),
        "{e:?}"
    );
}

macro_rules! scenario_tests {
    ($($name:ident: $version:expr, $scenario:literal, $token:expr, $drive:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(peer) = PeerOrchestrator::start($version, $scenario) else { return };
            let t = transport(peer.url(), $token);
            $drive(&t).await;
            t.close().await;
            tokio::task::spawn_blocking(move || peer.finish())
        .await
        .unwrap();
        }
    )*};
}

scenario_tests! {
    b17_basic: ProtocolVersion::V1_0b17, "basic", TOKEN, basic;
    b17_auth: ProtocolVersion::V1_0b17, "auth", "rxon-initial-token", auth;
    b17_ignored: ProtocolVersion::V1_0b17, "ignored", TOKEN, ignored;
    b17_ratelimit: ProtocolVersion::V1_0b17, "ratelimit", TOKEN, ratelimit;
    b17_longpoll: ProtocolVersion::V1_0b17, "longpoll", TOKEN, longpoll;
    b9_basic: ProtocolVersion::V1_0b9, "basic", TOKEN, basic;
    b9_ignored: ProtocolVersion::V1_0b9, "ignored", TOKEN, ignored;
    b9_ratelimit: ProtocolVersion::V1_0b9, "ratelimit", TOKEN, ratelimit;
    b9_longpoll: ProtocolVersion::V1_0b9, "longpoll", TOKEN, longpoll;
}

/// The same scenarios through the facade's `create_transport`, with every body signed (the
/// peer accepts the extra `timestamp` and `security` members, as the live orchestrator needs
/// them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b17_basic_signed_through_the_facade() {
    let Some(peer) = PeerOrchestrator::start(ProtocolVersion::V1_0b17, "basic") else {
        return;
    };
    let signer = std::sync::Arc::new(rxon::security::HmacSigner::new(TOKEN).unwrap());
    let t = rxon::create_transport(
        peer.url(),
        WORKER_ID,
        TOKEN,
        rxon::TransportOptions::new().signer(signer),
    )
    .unwrap();
    let rxon::AnyTransport::Http(http) = &t else {
        panic!("expected the HTTP transport")
    };
    basic(http).await;
    t.close().await;
    tokio::task::spawn_blocking(move || peer.finish())
        .await
        .unwrap();
}
