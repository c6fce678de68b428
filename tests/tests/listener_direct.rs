//! The connection's direct answers (an `App` served) against the router's (a `Router` served):
//! the same requests get the same status, headers and body, on fresh and on reused
//! connections, pipelined or not, and a connection moves to the router mid-stream when a
//! request needs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon::listener::memory::{MemoryConfig, MemoryOrchestrator, WorkerToken};
use rxon::listener::{App, ListenerConfig};
use rxon_tests::LoopbackServer;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "direct-token";

async fn start(app: impl Into<App> + Send + 'static) -> LoopbackServer {
    LoopbackServer::start(|tcp, stop| {
        rxon::listener::serve(tcp, app, async move {
            let _ = stop.await;
        })
    })
    .await
}

fn orchestrator() -> MemoryOrchestrator {
    MemoryOrchestrator::new(MemoryConfig {
        worker_tokens: vec![WorkerToken::parse(TOKEN)],
        listener: ListenerConfig {
            body_limit: 4096,
            default_poll_timeout: Duration::from_millis(100),
            ..ListenerConfig::default()
        },
        ..MemoryConfig::default()
    })
}

fn request(method: &str, path: &str, headers: &str, body: Option<&str>) -> String {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}");
    if let Some(b) = body {
        r.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    r.push_str("\r\n");
    r.push_str(body.unwrap_or(""));
    r
}

fn worker(method: &str, path: &str, body: Option<&str>) -> String {
    request(
        method,
        path,
        &format!("X-Worker-Token: {TOKEN}\r\nX-RXON-Version: 1.0b17\r\n"),
        body,
    )
}

const REGISTER: &str = r#"{"worker_id":"w-1","supported_skills":[{"name":"echo"}]}"#;

/// A response, with its header lines sorted and `Date` left out (it is the only line that
/// may differ between two servers answering alike).
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status_line: String,
    headers: Vec<String>,
    body: String,
}

/// Reads one response (framed by `Content-Length`, or none for 204) from `s`.
async fn read_answer(s: &mut TcpStream, pending: &mut Vec<u8>) -> Answer {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(pending[..end].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap().to_owned();
            let mut headers: Vec<String> = lines
                .filter(|l| !l.starts_with("Date: ") && !l.starts_with("date: "))
                .map(str::to_owned)
                .collect();
            headers.sort();
            let len: usize = headers
                .iter()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.parse().unwrap());
            while pending.len() < end + 4 + len {
                read_more(s, pending).await;
            }
            let body = String::from_utf8(pending[end + 4..end + 4 + len].to_vec()).unwrap();
            pending.drain(..end + 4 + len);
            return Answer {
                status_line,
                headers,
                body,
            };
        }
        read_more(s, pending).await;
    }
}

async fn read_more(s: &mut TcpStream, pending: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
        .await
        .expect("an answer in time")
        .unwrap();
    assert!(n > 0, "the connection closed early: {pending:?}");
    pending.extend_from_slice(&chunk[..n]);
}

/// Sends `requests` on one connection (all in one write when `pipelined`) and reads as many
/// answers.
async fn exchange(addr: SocketAddr, requests: &[String], pipelined: bool) -> Vec<Answer> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut pending = Vec::new();
    let mut answers = Vec::new();
    if pipelined {
        s.write_all(requests.concat().as_bytes()).await.unwrap();
        for _ in requests {
            answers.push(read_answer(&mut s, &mut pending).await);
        }
    } else {
        for r in requests {
            s.write_all(r.as_bytes()).await.unwrap();
            answers.push(read_answer(&mut s, &mut pending).await);
        }
    }
    answers
}

/// Requests whose answers do not depend on ids a server makes up.
fn script() -> Vec<String> {
    let wrong = request(
        "POST",
        "/_worker/workers/register",
        "X-Worker-Token: nope\r\n",
        Some(REGISTER),
    );
    vec![
        worker("PATCH", "/_worker/workers/w-1", None), // unknown worker: 404
        wrong,                                         // 403
        worker("POST", "/_worker/workers/register", Some(REGISTER)),
        worker("PATCH", "/_worker/workers/w-1", None),
        worker(
            "PATCH",
            "/_worker/workers/w-1",
            Some(r#"{"worker_id":"w-1","status":"idle","current_tasks":[]}"#),
        ),
        worker(
            "PATCH",
            "/_worker/workers/w-1",
            Some(r#"{"worker_id":"w-1","status":3}"#),
        ),
        worker("PATCH", "/_worker/workers/bad%20id", None),
        worker("PATCH", "/_worker/workers/a%2Fb", None),
        worker("GET", "/_worker/workers/w-1/tasks/next?timeout=0.05", None),
        worker(
            "GET",
            "/_worker/workers/w-1/tasks/next?timeout=0.05&available_skills=echo",
            None,
        ),
        worker(
            "POST",
            "/_worker/tasks/result",
            Some(r#"{"job_id":"j","task_id":"t","status":"success"}"#),
        ),
        worker("POST", "/_worker/tasks/result", Some(r#"{"job_id":"j"}"#)),
        worker("POST", "/_worker/tasks/result", Some(r#"{"job_id": "j"#)),
        worker("POST", "/_worker/tasks/result", Some("")),
        worker(
            "POST",
            "/_worker/events",
            Some(
                r#"{"event_id":"e-1","worker_id":"w-1","event_type":"progress","payload":{"p":1}}"#,
            ),
        ),
        worker("POST", "/_worker/events", Some(r#"{"event_id":"e"}"#)),
        worker("GET", "/_worker/nowhere", None),
        worker("DELETE", "/_worker/workers/register", None),
        worker("POST", "/_worker/workers/register", Some(&"x".repeat(5000))), // 413
        worker("GET", "/_worker/ws/w-1", None),                               // 400, no upgrade
        request(
            "PATCH",
            "/_worker/workers/w-1",
            "x-worker-token: direct-token\r\nx-rxon-version: 1.0b17\r\n",
            None,
        ),
    ]
}

#[tokio::test]
async fn direct_answers_are_the_routers_answers() {
    let (by_router, by_app) = (orchestrator(), orchestrator());
    let router = start(by_router.router()).await;
    let app = start(by_app.app()).await;
    let script = script();
    // One request per connection.
    for r in &script {
        let expected = exchange(router.addr, std::slice::from_ref(r), false).await;
        let got = exchange(app.addr, std::slice::from_ref(r), false).await;
        assert_eq!(got, expected, "request: {r:?}");
    }
    // All on one connection, one by one; then all at once (pipelined). A request the direct
    // path leaves to the router moves the connection there, and later requests are still
    // answered in order.
    for pipelined in [false, true] {
        let expected = exchange(router.addr, &script, pipelined).await;
        let got = exchange(app.addr, &script, pipelined).await;
        assert_eq!(got.len(), script.len());
        for ((g, e), r) in got.iter().zip(&expected).zip(&script) {
            assert_eq!(g, e, "pipelined {pipelined}, request: {r:?}");
        }
    }
    router.shutdown().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_task_is_delivered_alike_and_not_lost_when_the_poller_leaves() {
    let orch = orchestrator();
    let server = start(orch.app()).await;
    let a = server.addr;
    let r = exchange(
        a,
        &[worker("POST", "/_worker/workers/register", Some(REGISTER))],
        false,
    )
    .await;
    assert_eq!(r[0].status_line, "HTTP/1.1 200 OK");
    // A poller that leaves while held: its poll is cancelled, the task waits for the next.
    let mut gone = TcpStream::connect(a).await.unwrap();
    gone.write_all(worker("GET", "/_worker/workers/w-1/tasks/next?timeout=5", None).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(gone);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let job = orch.submit("echo", rxon::Map::new());
    let r = exchange(
        a,
        &[worker(
            "GET",
            "/_worker/workers/w-1/tasks/next?timeout=2",
            None,
        )],
        false,
    )
    .await;
    assert_eq!(r[0].status_line, "HTTP/1.1 200 OK", "{r:?}");
    let task = rxon::json::from_str(&r[0].body).unwrap();
    assert_eq!(
        task.get("job_id").and_then(rxon::Value::as_str),
        Some(job.as_str())
    );
    assert!(
        r[0].headers.contains(&"X-RXON-Version: 1.0b17".to_owned()),
        "{r:?}"
    );
    assert!(
        r[0].headers
            .contains(&"Content-Type: application/json; charset=utf-8".to_owned()),
        "{r:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connection_close_is_honoured_and_shutdown_ends_idle_connections() {
    let orch = orchestrator();
    let server = start(orch.app()).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let req = request(
        "POST",
        "/_worker/workers/register",
        &format!("X-Worker-Token: {TOKEN}\r\nConnection: close\r\n"),
        Some(REGISTER),
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("closed after the answer")
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    // An idle keep-alive connection is closed by the graceful shutdown.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let r = exchange(
        server.addr,
        &[worker("PATCH", "/_worker/workers/w-1", None)],
        false,
    )
    .await;
    assert_eq!(r[0].status_line, "HTTP/1.1 200 OK");
    idle.write_all(worker("PATCH", "/_worker/workers/w-1", None).as_bytes())
        .await
        .unwrap();
    let mut pending = Vec::new();
    assert_eq!(
        read_answer(&mut idle, &mut pending).await.status_line,
        "HTTP/1.1 200 OK"
    );
    server.shutdown_within(Duration::from_secs(5)).await;
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest))
        .await
        .expect("closed by the shutdown")
        .unwrap_or(0);
    assert_eq!(n, 0, "{rest:?}");
}

#[tokio::test]
async fn a_request_sent_byte_by_byte_is_answered() {
    let orch = orchestrator();
    let server = start(orch.app()).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let req = worker("POST", "/_worker/workers/register", Some(REGISTER));
    for b in req.as_bytes() {
        s.write_all(std::slice::from_ref(b)).await.unwrap();
        s.flush().await.unwrap();
    }
    let mut pending = Vec::new();
    let r = read_answer(&mut s, &mut pending).await;
    assert_eq!(r.status_line, "HTTP/1.1 200 OK", "{r:?}");
    let reply = rxon::json::from_str(&r.body).unwrap();
    assert_eq!(
        reply.get("status").and_then(rxon::Value::as_str),
        Some("registered")
    );
    server.shutdown().await;
}
