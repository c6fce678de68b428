//! `WsTransport<HttpTransport>` against the reference orchestrator peer
//! (`../shared/conformance/peer_orchestrator.py`), scenario `websocket`: register over HTTP,
//! a garbage frame and a `cancel_task` command over the socket, an event over the socket, the
//! orchestrator closes it, an event over the HTTP fallback. Each test asserts the peer exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon::transport::http::{HttpTransport, HttpTransportConfig};
use rxon::transport::ws::{WsConfig, WsTransport};
use rxon::{
    CommandChannel, ProtocolVersion, Transport, WorkerCommand, WorkerEventPayload,
    WorkerRegistration,
};
use rxon_testing::python::PeerOrchestrator;
use std::time::Duration;
use tokio::time::timeout;

const WORKER_ID: &str = "conformance-worker-1";
const TOKEN: &str = "rxon-conformance-token";

fn event(id: &str, progress: f64, message: &str) -> WorkerEventPayload {
    WorkerEventPayload {
        event_id: id.into(),
        worker_id: WORKER_ID.into(),
        origin_worker_id: WORKER_ID.into(),
        event_type: "progress".into(),
        payload: rxon::json!({"progress": progress, "message": message})
            .as_object()
            .cloned()
            .unwrap(),
        target_job_id: Some("job-ws-1".into()),
        target_task_id: Some("task-ws-1".into()),
        ..Default::default()
    }
}

async fn websocket_scenario(peer_version: ProtocolVersion, worker_version: ProtocolVersion) {
    let Some(peer) = PeerOrchestrator::start(peer_version, "websocket") else {
        return;
    };
    let http = HttpTransport::new(
        HttpTransportConfig::new(peer.url(), WORKER_ID, TOKEN).with_version(worker_version),
    )
    .unwrap();
    let ws_url = peer.url().replacen("http", "ws", 1);
    let transport = WsTransport::new(
        http,
        &ws_url,
        WORKER_ID,
        TOKEN,
        WsConfig::default().version(worker_version),
    )
    .unwrap();

    // 1. register over HTTP (the socket is not opened before).
    transport
        .register(&WorkerRegistration::new(WORKER_ID))
        .await
        .unwrap();

    // 2. the socket: the garbage frame is skipped, exactly one command surfaces.
    let cmd = timeout(Duration::from_secs(10), transport.next_command())
        .await
        .expect("no command")
        .unwrap()
        .unwrap();
    assert_eq!(
        cmd,
        WorkerCommand::cancel_task("task-ws-1", Some("job-ws-1".into()))
    );

    // 3. an event over the socket; the orchestrator then closes it.
    assert!(transport.channel().is_connected());
    let mut connected = transport.channel().watch_connected();
    transport
        .emit_event(&event("evt-ws-1", 0.5, "cancel received for task-ws-1"))
        .await
        .unwrap();
    timeout(Duration::from_secs(10), connected.wait_for(|c| !*c))
        .await
        .expect("the socket was not closed")
        .unwrap();

    // 4. the socket is down, so the next event takes the HTTP fallback.
    transport
        .emit_event(&event("evt-http-1", 0.75, "sent over the HTTP fallback"))
        .await
        .unwrap();

    // No further command: the reconnect (if any) is held idle.
    assert!(
        timeout(Duration::from_millis(300), transport.next_command())
            .await
            .is_err()
    );
    tokio::task::spawn_blocking(move || peer.finish())
        .await
        .unwrap();
    transport.close().await;
    assert!(
        timeout(Duration::from_secs(1), transport.next_command())
            .await
            .unwrap()
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn websocket_b17() {
    websocket_scenario(ProtocolVersion::V1_0b17, ProtocolVersion::V1_0b17).await;
}

#[tokio::test]
async fn websocket_b9() {
    websocket_scenario(ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b9).await;
}

#[tokio::test]
async fn websocket_b17_worker_against_b9_peer() {
    websocket_scenario(ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b17).await;
}
