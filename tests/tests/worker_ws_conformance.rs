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
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::time::{sleep, timeout};

const WORKER_ID: &str = "conformance-worker-1";
const TOKEN: &str = "rxon-conformance-token";

/// The shared kit, a sibling of the repository.
fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
}

/// The reference interpreter for `b9`/`b17`: the `RXON_B*_PYTHON` variable, else what the
/// kit's `setup.sh` prints; `None` (skip) when neither works, unless `CI` is set.
fn python(version: &str) -> Option<PathBuf> {
    let var = format!("RXON_{}_PYTHON", version.to_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        return Some(PathBuf::from(p));
    }
    let setup = shared_dir().join("conformance").join("setup.sh");
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
            "the reference interpreter is missing ({var}; {})",
            setup.display()
        );
        println!(
            "skipped: no reference interpreter ({var} unset and {} failed)",
            setup.display()
        );
    }
    found
}

struct Peer {
    child: Child,
    report: PathBuf,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_peer(version: &str) -> Option<Peer> {
    let py = python(version)?;
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("port");
    let report = dir.path().join("report.json");
    let script = shared_dir()
        .join("conformance")
        .join("peer_orchestrator.py");
    let child = Command::new(py)
        .arg(script)
        .args([
            "--version",
            version,
            "--scenario",
            "websocket",
            "--port",
            "0",
            "--timeout",
            "30",
        ])
        .arg("--ready-file")
        .arg(&ready)
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the orchestrator peer");
    let mut peer = Peer {
        child,
        report,
        url: String::new(),
        _dir: dir,
    };
    let start = Instant::now();
    loop {
        if let Ok(port) = std::fs::read_to_string(&ready)
            && let Ok(port) = port.trim().parse::<u16>()
        {
            peer.url = format!("http://127.0.0.1:{port}");
            return Some(peer);
        }
        if let Ok(Some(status)) = peer.child.try_wait() {
            panic!("the peer exited early with {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the peer did not become ready"
        );
        sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the peer to finish and asserts it passed.
async fn finish(mut peer: Peer) {
    let start = Instant::now();
    let status = loop {
        if let Some(s) = peer.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the peer did not exit"
        );
        sleep(Duration::from_millis(20)).await;
    };
    let report = std::fs::read_to_string(&peer.report).unwrap_or_default();
    println!("{report}");
    assert!(
        status.success(),
        "peer failed with {status}; report:\n{report}"
    );
    assert!(report.contains("\"ok\": true"), "report:\n{report}");
}

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

async fn websocket_scenario(peer_version: &str, worker_version: ProtocolVersion) {
    let Some(peer) = start_peer(peer_version).await else {
        return;
    };
    let http = HttpTransport::new(
        HttpTransportConfig::new(&peer.url, WORKER_ID, TOKEN).with_version(worker_version),
    )
    .unwrap();
    let ws_url = peer.url.replacen("http", "ws", 1);
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
    finish(peer).await;
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
    websocket_scenario("b17", ProtocolVersion::V1_0b17).await;
}

#[tokio::test]
async fn websocket_b9() {
    websocket_scenario("b9", ProtocolVersion::V1_0b9).await;
}

#[tokio::test]
async fn websocket_b17_worker_against_b9_peer() {
    websocket_scenario("b9", ProtocolVersion::V1_0b17).await;
}
