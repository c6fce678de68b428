//! Hostile and broken requests against the listener (serving the in-memory orchestrator):
//! each gets the right status and a JSON error, nothing panics, and the server keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon::listener::memory::{MemoryConfig, MemoryOrchestrator, WorkerToken};
use rxon::listener::{ListenerConfig, ServeConfig};
use rxon::{Map, Value};
use rxon_tests::LoopbackServer;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "bad-input-token";

struct Server {
    addr: SocketAddr,
    orch: MemoryOrchestrator,
    server: LoopbackServer,
}

impl Server {
    async fn shutdown(self) {
        self.server.shutdown_within(Duration::from_secs(10)).await;
    }
}

async fn start() -> Server {
    let listener = ListenerConfig {
        body_limit: 64 * 1024,
        body_timeout: Duration::from_millis(500),
        default_poll_timeout: Duration::from_secs(2),
        max_poll_timeout: Duration::from_secs(5),
        ..ListenerConfig::default()
    };
    let orch = MemoryOrchestrator::new(MemoryConfig {
        worker_tokens: vec![WorkerToken::parse(TOKEN)],
        client_token: Some("client".to_owned()),
        listener,
        ..MemoryConfig::default()
    });
    let serve = ServeConfig {
        header_read_timeout: Duration::from_millis(500),
        ..ServeConfig::default()
    };
    let router = orch.app();
    let server = LoopbackServer::start(|tcp, stop| {
        rxon::listener::serve_with(tcp, router, None, serve, async move {
            let _ = stop.await;
        })
    })
    .await;
    Server {
        addr: server.addr,
        orch,
        server,
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        rxon::json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    fn error(&self) -> String {
        self.json()
            .get("error")
            .and_then(Value::as_str)
            .expect("an error message")
            .to_owned()
    }
    fn has_header(&self, name: &str) -> bool {
        self.head.lines().any(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
    }
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Sends raw bytes (the request must say `Connection: close`) and reads the whole answer.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    parse(&out)
}

async fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Reply {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Worker-Token: {TOKEN}\r\nX-Worker-ID: w-1\r\nX-RXON-Version: 1.0b17\r\n"
    );
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    raw(addr, req.as_bytes()).await
}

async fn register(addr: SocketAddr) -> Reply {
    request(
        addr,
        "POST",
        "/_worker/workers/register",
        Some(r#"{"worker_id":"w-1","supported_skills":[{"name":"echo"}]}"#),
    )
    .await
}

/// The server still answers normally.
async fn alive(addr: SocketAddr) {
    let r = register(addr).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json().get("status").and_then(Value::as_str),
        Some("registered")
    );
}

fn assert_contract(r: &Reply, status: u16, mentions: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert!(r.head.contains("X-RXON-Version: 1.0b17"), "{r:?}");
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{r:?}"
    );
    let v = r.json();
    assert_eq!(
        v.get("code").and_then(Value::as_str),
        Some("CONTRACT_VIOLATION_ERROR"),
        "{r:?}"
    );
    assert!(r.error().contains(mentions), "{r:?}");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = start().await;
    // Declared too large: refused before reading.
    let head = format!(
        "POST /_worker/workers/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Worker-Token: {TOKEN}\r\nContent-Length: {}\r\n\r\n{{",
        10 * 1024 * 1024
    );
    let r = raw(s.addr, head.as_bytes()).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(
        r.error()
            .contains("Maximum request body size 65536 exceeded"),
        "{r:?}"
    );
    // Chunked, no length: refused once the limit is crossed.
    let chunk = "a".repeat(32 * 1024);
    let mut req = format!(
        "POST /_worker/tasks/result HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Worker-Token: {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for _ in 0..3 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    let r = raw(s.addr, req.as_bytes()).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.has_header("X-RXON-Version"));
    alive(s.addr).await;
    s.shutdown().await;
}

#[tokio::test]
async fn broken_json_and_models_get_400_naming_the_problem() {
    let s = start().await;
    let a = s.addr;
    assert_contract(
        &request(
            a,
            "POST",
            "/_worker/workers/register",
            Some(r#"{"worker_id": "w"#),
        )
        .await,
        400,
        "",
    );
    assert_contract(
        &request(a, "POST", "/_worker/workers/register", Some("")).await,
        400,
        "",
    );
    assert_contract(
        &request(a, "POST", "/_worker/workers/register", Some("[1]")).await,
        400,
        "object",
    );
    assert_contract(
        &request(
            a,
            "POST",
            "/_worker/workers/register",
            Some(r#"{"worker_id": 5}"#),
        )
        .await,
        400,
        "worker_id",
    );
    assert_contract(
        &request(
            a,
            "POST",
            "/_worker/tasks/result",
            Some(r#"{"job_id": "j"}"#),
        )
        .await,
        400,
        "task_id",
    );
    assert_contract(
        &request(
            a,
            "POST",
            "/_worker/tasks/result",
            Some(r#"{"job_id":"j","task_id":"t","data":[1]}"#),
        )
        .await,
        400,
        "data",
    );
    assert_contract(
        &request(a, "POST", "/_worker/events", Some(r#"{"event_id":"e"}"#)).await,
        400,
        "worker_id",
    );
    assert_contract(
        &request(
            a,
            "PATCH",
            "/_worker/workers/w-1",
            Some(r#"{"worker_id":"w-1","status":3}"#),
        )
        .await,
        400,
        "status",
    );
    assert_contract(
        &request(a, "POST", "/_worker/auth/token/refresh", Some("{}")).await,
        400,
        "refresh_token",
    );
    assert_contract(
        &request(
            a,
            "POST",
            "/_worker/auth/token/refresh",
            Some(r#"{"refresh_token":1}"#),
        )
        .await,
        400,
        "refresh_token",
    );
    // Trailing garbage after a valid document is not JSON either.
    assert_contract(
        &request(
            a,
            "POST",
            "/_worker/workers/register",
            Some(r#"{"worker_id":"w-1"} x"#),
        )
        .await,
        400,
        "",
    );
    alive(a).await;
    s.shutdown().await;
}

#[tokio::test]
async fn invalid_ids_unknown_paths_and_methods() {
    let s = start().await;
    let a = s.addr;
    for path in [
        "/_worker/workers/bad%20id/tasks/next",
        "/_worker/workers/%C3%A9/tasks/next",
        "/_worker/workers/a%0A/tasks/next",
    ] {
        let r = request(a, "GET", path, None).await;
        assert_eq!(r.status, 400, "{path}: {r:?}");
        assert!(r.error().contains("worker_id"), "{r:?}");
        assert!(r.has_header("X-RXON-Version"));
    }
    let long = "a".repeat(129);
    let r = request(a, "PATCH", &format!("/_worker/workers/{long}"), None).await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = request(a, "GET", "/_worker/ws/bad%20id", None).await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = request(a, "GET", "/_worker/ws/w-1", None).await; // no Upgrade header
    assert_eq!(r.status, 400, "{r:?}");
    assert!(!r.error().is_empty());

    let r = request(a, "GET", "/_worker/nope", None).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.error(), "Not Found");
    assert!(r.has_header("X-RXON-Version"));
    let r = request(a, "DELETE", "/_worker/workers/register", None).await;
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.error(), "Method Not Allowed");
    assert!(r.has_header("X-RXON-Version"));
    let r = request(
        a,
        "GET",
        &format!("/_worker/workers/w-1/tasks/next?x={}", "a".repeat(9000)),
        None,
    )
    .await;
    assert_eq!(r.status, 414, "{r:?}");
    alive(a).await;
    s.shutdown().await;
}

#[tokio::test]
async fn auth_errors_are_403_and_unknown_workers_404() {
    let s = start().await;
    let a = s.addr;
    let r = raw(a, b"POST /_worker/workers/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Worker-Token: nope\r\nContent-Length: 17\r\n\r\n{\"worker_id\":\"w\"}").await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.error().starts_with("Unauthorized"), "{r:?}");
    // A heartbeat without a body from a worker nobody knows: told to register again.
    let r = request(a, "PATCH", "/_worker/workers/w-1", None).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.error().contains("not found"), "{r:?}");
    alive(a).await;
    let r = request(a, "PATCH", "/_worker/workers/w-1", None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, r#"{"status":"ttl_refreshed"}"#);
    s.shutdown().await;
}

#[tokio::test]
async fn slow_clients_time_out() {
    let s = start().await;
    // Partial body, then silence: 408 once the body timeout passes.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /_worker/workers/register HTTP/1.1\r\nHost: x\r\nX-Worker-Token: {TOKEN}\r\nContent-Length: 100\r\n\r\n{{\"worker_id\""
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut out))
        .await
        .expect("the server must give up")
        .unwrap();
    let r = parse(&out);
    assert_eq!(r.status, 408, "{r:?}");
    assert!(r.error().contains("in time"), "{r:?}");
    // Partial head, then silence: the connection is dropped.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /_worker/workers/w-1/tasks/next HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut out))
        .await
        .expect("the server must give up");
    assert!(
        read.is_err() || !out.starts_with(b"HTTP/1.1 200"),
        "{out:?}"
    );
    alive(s.addr).await;
    s.shutdown().await;
}

#[tokio::test]
async fn long_poll_holds_answers_and_survives_disconnects() {
    let s = start().await;
    let a = s.addr;
    alive(a).await;
    // Nothing queued: held, then 204.
    let r = request(
        a,
        "GET",
        "/_worker/workers/w-1/tasks/next?timeout=0.3",
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{r:?}");
    assert!(r.has_header("X-RXON-Version"));
    // A poller that goes away before a task exists must not swallow the task.
    let mut gone = TcpStream::connect(a).await.unwrap();
    gone.write_all(format!("GET /_worker/workers/w-1/tasks/next?timeout=5 HTTP/1.1\r\nHost: x\r\nX-Worker-Token: {TOKEN}\r\n\r\n").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(gone);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut params = Map::new();
    params.insert("text", Value::String("hi".to_owned()));
    let job = s.orch.submit("echo", params);
    let r = request(a, "GET", "/_worker/workers/w-1/tasks/next?timeout=2", None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json().get("job_id").and_then(Value::as_str),
        Some(job.as_str())
    );
    // A task for a skill the worker lacks is not handed out.
    s.orch.submit("resize", Map::new());
    let r = request(
        a,
        "GET",
        "/_worker/workers/w-1/tasks/next?timeout=0.2",
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn header_names_are_spelled_like_the_reference_whatever_the_client_sent() {
    let s = start().await;
    // Lower-case request headers: the answer still says `X-RXON-Version` and `Content-Type`
    // exactly, as strict clients look them up by spelling.
    let body = r#"{"worker_id":"w-1","supported_skills":[{"name":"echo"}]}"#;
    let req = format!(
        "POST /_worker/workers/register HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-worker-token: {TOKEN}\r\nx-rxon-version: 1.0b17\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = raw(s.addr, req.as_bytes()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.head.contains("\r\nX-RXON-Version: 1.0b17\r\n"), "{r:?}");
    assert!(
        r.head.contains("\r\nContent-Type: application/json"),
        "{r:?}"
    );
    // Without any version header from the client, and on an error answer.
    let r = raw(
        s.addr,
        b"GET /_worker/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.head.contains("\r\nX-RXON-Version: 1.0b17\r\n"), "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn too_many_headers_get_431_and_the_server_keeps_serving() {
    let s = start().await;
    let mut req = String::from(
        "GET /_worker/workers/w-1/tasks/next?timeout=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
    );
    for i in 0..120 {
        req.push_str(&format!("X-Extra-{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let r = raw(s.addr, req.as_bytes()).await;
    assert_eq!(r.status, 431, "{r:?}");
    alive(s.addr).await;
    s.shutdown().await;
}
