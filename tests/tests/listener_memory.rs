//! The in-memory orchestrator end to end: dispatch by skill, results and their `ignored`
//! answers, heartbeats, cancellation pushed over the command WebSocket (received by our
//! worker-side command channel), task signatures and worker-signature checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon::listener::memory::{MemoryConfig, MemoryOrchestrator, WorkerToken};
use rxon::security::{sign_payload, verify_signature};
use rxon::transport::ws::{WsConfig, connect_command_channel};
use rxon::{CommandChannel, Model, TaskPayload, Value, json};
use rxon_tests::LoopbackServer;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(config: MemoryConfig) -> (LoopbackServer, MemoryOrchestrator) {
    let orch = MemoryOrchestrator::new(MemoryConfig {
        client_token: Some("client".to_owned()),
        ..config
    });
    let (router, hub) = (orch.app(), orch.hub());
    let server = LoopbackServer::start(|tcp, stop| {
        rxon::listener::serve(tcp, router, async move {
            let _ = stop.await;
            hub.close_all();
        })
    })
    .await;
    (server, orch)
}

/// One request with `Connection: close`; returns status and parsed JSON body (Null if empty).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    match body {
        Some(b) => req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        )),
        None => req.push_str("\r\n"),
    }
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let v = if body.is_empty() {
        Value::Null
    } else {
        json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
    };
    (status, v)
}

fn worker(token: &str, id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Worker-Token", token.to_owned()),
        ("X-Worker-ID", id.to_owned()),
        ("X-RXON-Version", "1.0b17".to_owned()),
    ]
}

async fn wcall(
    addr: SocketAddr,
    token: &str,
    id: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let h = worker(token, id);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    call(addr, method, path, &h, body).await
}

async fn client(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    call(addr, method, path, &[("X-Client-Token", "client")], body).await
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {k} in {}", v.to_json()))
}

async fn register(addr: SocketAddr, token: &str, id: &str, skills: &[&str]) {
    let skills: Vec<String> = skills
        .iter()
        .map(|s| format!(r#"{{"name":"{s}"}}"#))
        .collect();
    let body = format!(
        r#"{{"worker_id":"{id}","supported_skills":[{}]}}"#,
        skills.join(",")
    );
    let (st, v) = wcall(
        addr,
        token,
        id,
        "POST",
        "/_worker/workers/register",
        Some(&body),
    )
    .await;
    assert_eq!(st, 200, "{}", v.to_json());
    assert_eq!(s(&v, "status"), "registered");
}

async fn submit(addr: SocketAddr, body: &str) -> Vec<String> {
    let (st, v) = client(addr, "POST", "/api/jobs", Some(body)).await;
    assert_eq!(st, 200, "{}", v.to_json());
    v.get("jobs")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|j| s(j, "job_id").to_owned())
        .collect()
}

async fn poll(addr: SocketAddr, token: &str, id: &str, timeout: &str) -> (u16, Value) {
    wcall(
        addr,
        token,
        id,
        "GET",
        &format!("/_worker/workers/{id}/tasks/next?timeout={timeout}"),
        None,
    )
    .await
}

fn result_body(task: &Value, worker: &str, status: &str) -> String {
    format!(
        r#"{{"job_id":"{}","task_id":"{}","worker_id":"{worker}","status":"{status}","data":{{"ok":true}}}}"#,
        s(task, "job_id"),
        s(task, "task_id")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_results_and_ignored_answers() {
    let config = MemoryConfig {
        worker_tokens: vec![
            WorkerToken::parse("shared"),
            WorkerToken::parse("w-2=only-w2"),
        ],
        task_signing_key: Some("orch-secret".to_owned()),
        ..MemoryConfig::default()
    };
    let (srv, _orch) = start(config).await;
    let a = srv.addr;
    // Client API auth.
    assert_eq!(
        call(
            a,
            "POST",
            "/api/jobs",
            &[("X-Client-Token", "nope")],
            Some("{}")
        )
        .await
        .0,
        401
    );
    assert_eq!(
        client(a, "POST", "/api/jobs", Some(r#"{"params":{}}"#))
            .await
            .0,
        400
    );
    // Tokens: bare for any id, ID=TOKEN for that worker only.
    register(a, "shared", "w-1", &["echo"]).await;
    register(a, "only-w2", "w-2", &["resize"]).await;
    let (st, _) = wcall(
        a,
        "only-w2",
        "w-1",
        "POST",
        "/_worker/workers/register",
        Some(r#"{"worker_id":"w-1"}"#),
    )
    .await;
    assert_eq!(st, 403);

    let jobs = submit(a, r#"{"type":"echo","params":{"text":"hi"},"count":2}"#).await;
    assert_eq!(jobs.len(), 2);
    // w-2 lacks the skill: nothing for it.
    assert_eq!(poll(a, "only-w2", "w-2", "0.2").await.0, 204);
    let (st, t1) = poll(a, "shared", "w-1", "1").await;
    assert_eq!(st, 200);
    assert_eq!(s(&t1, "type"), "echo");
    // The task signature is HMAC over the task's 1.0b17 canonical form.
    let sig = s(&t1, "sig").to_owned();
    let task = TaskPayload::from_value(&t1).unwrap();
    let view = task.to_value(rxon::ProtocolVersion::V1_0b17).unwrap();
    assert!(verify_signature(
        &view,
        &sig,
        "orch-secret",
        rxon::ProtocolVersion::V1_0b17,
        &["sig", "orchestrator_signature"]
    ));
    let (_, job) = client(a, "GET", &format!("/api/jobs/{}", s(&t1, "job_id")), None).await;
    assert_eq!(s(&job, "status"), "running");
    assert_eq!(s(&job, "worker_id"), "w-1");

    // Someone else's result is ignored; so is an unknown job.
    let (st, v) = wcall(
        a,
        "only-w2",
        "w-2",
        "POST",
        "/_worker/tasks/result",
        Some(&result_body(&t1, "w-2", "success")),
    )
    .await;
    assert_eq!(
        (st, s(&v, "reason")),
        (200, "worker_mismatch"),
        "{}",
        v.to_json()
    );
    let (_, v) = wcall(
        a,
        "shared",
        "w-1",
        "POST",
        "/_worker/tasks/result",
        Some(r#"{"job_id":"nope","task_id":"nope"}"#),
    )
    .await;
    assert_eq!(s(&v, "reason"), "job_not_found");
    // Claiming to be another worker is refused.
    let (st, _) = wcall(
        a,
        "shared",
        "w-1",
        "POST",
        "/_worker/tasks/result",
        Some(&result_body(&t1, "w-3", "success")),
    )
    .await;
    assert_eq!(st, 403);

    let (_, v) = wcall(
        a,
        "shared",
        "w-1",
        "POST",
        "/_worker/tasks/result",
        Some(&result_body(&t1, "w-1", "success")),
    )
    .await;
    assert_eq!(
        v.to_json(),
        r#"{"status":"accepted","transition":"success_transition"}"#
    );
    let (_, job) = client(a, "GET", &format!("/api/jobs/{}", s(&t1, "job_id")), None).await;
    assert_eq!(s(&job, "status"), "finished");
    assert_eq!(
        job.get("result")
            .and_then(|r| r.get("data"))
            .unwrap()
            .to_json(),
        r#"{"ok":true}"#
    );
    // A second result for a finished job is ignored.
    let (_, v) = wcall(
        a,
        "shared",
        "w-1",
        "POST",
        "/_worker/tasks/result",
        Some(&result_body(&t1, "w-1", "success")),
    )
    .await;
    assert_eq!(s(&v, "reason"), "job_already_terminated");

    let (_, t2) = poll(a, "shared", "w-1", "1").await;
    let (_, v) = wcall(
        a,
        "shared",
        "w-1",
        "POST",
        "/_worker/tasks/result",
        Some(&result_body(&t2, "w-1", "failure")),
    )
    .await;
    assert_eq!(s(&v, "transition"), "failure_handled");
    let (_, job) = client(a, "GET", &format!("/api/jobs/{}", s(&t2, "job_id")), None).await;
    assert_eq!(s(&job, "status"), "failed");
    assert_eq!(client(a, "GET", "/api/jobs/nope", None).await.0, 404);
    let (_, ws) = client(a, "GET", "/api/workers", None).await;
    assert_eq!(
        ws.get("workers").and_then(Value::as_array).map(Vec::len),
        Some(2)
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_reaches_the_worker_over_the_websocket() {
    let config = MemoryConfig {
        worker_tokens: vec![WorkerToken::parse("shared")],
        ..MemoryConfig::default()
    };
    let (srv, orch) = start(config).await;
    let a = srv.addr;
    register(a, "shared", "w-1", &["echo"]).await;
    // A wrong token cannot open the command socket.
    let (st, _) = wcall(a, "wrong", "w-1", "GET", "/_worker/ws/w-1", None).await;
    assert!(st == 400 || st == 403, "{st}");
    let channel =
        connect_command_channel(&format!("http://{a}"), "w-1", "shared", WsConfig::default())
            .unwrap();
    let mut connected = channel.watch_connected();
    tokio::time::timeout(Duration::from_secs(10), connected.wait_for(|c| *c))
        .await
        .unwrap()
        .unwrap();
    let mut seen = false;
    for _ in 0..100 {
        if orch.hub().is_connected("w-1") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(seen, "the socket must be registered");

    let job = submit(a, r#"{"type":"echo"}"#).await.remove(0);
    let (_, task) = poll(a, "shared", "w-1", "1").await;
    assert_eq!(s(&task, "job_id"), job);
    let (st, v) = client(a, "POST", &format!("/api/jobs/{job}/cancel"), None).await;
    assert_eq!((st, s(&v, "status")), (200, "cancelled"));
    let cmd = tokio::time::timeout(Duration::from_secs(10), channel.next_command())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(cmd.command, "cancel_task");
    assert_eq!(cmd.task_id.as_deref(), Some(s(&task, "task_id")));
    assert_eq!(cmd.job_id.as_deref(), Some(job.as_str()));
    // The heartbeat repeats it; a late result is ignored; a second cancel is refused.
    let hb = format!(
        r#"{{"worker_id":"w-1","status":"busy","current_tasks":["{}"]}}"#,
        s(&task, "task_id")
    );
    let (_, v) = wcall(
        a,
        "shared",
        "w-1",
        "PATCH",
        "/_worker/workers/w-1",
        Some(&hb),
    )
    .await;
    assert_eq!(
        v.get("cancel_task_ids").unwrap().to_json(),
        format!(r#"["{}"]"#, s(&task, "task_id"))
    );
    let (_, v) = wcall(
        a,
        "shared",
        "w-1",
        "POST",
        "/_worker/tasks/result",
        Some(&result_body(&task, "w-1", "success")),
    )
    .await;
    assert_eq!(s(&v, "reason"), "job_cancelled");
    assert_eq!(
        client(a, "POST", &format!("/api/jobs/{job}/cancel"), None)
            .await
            .0,
        409
    );
    // A pending job cancelled never reaches a worker.
    let pending = submit(a, r#"{"type":"echo"}"#).await.remove(0);
    assert!(orch.cancel(&pending));
    assert_eq!(poll(a, "shared", "w-1", "0.2").await.0, 204);
    // Progress events over the socket land on the job.
    let job2 = submit(a, r#"{"type":"echo"}"#).await.remove(0);
    let (_, t2) = poll(a, "shared", "w-1", "1").await;
    let ev = rxon::WorkerEventPayload {
        target_task_id: Some(s(&t2, "task_id").to_owned()),
        ..rxon::WorkerEventPayload::from_value(&json!({
            "event_id": "e-1", "worker_id": "w-1", "origin_worker_id": "w-1", "event_type": "progress",
            "payload": {"progress": 0.5, "message": "half"}
        }))
        .unwrap()
    };
    channel.send_event(&ev).await.unwrap();
    let mut progress = Value::Null;
    for _ in 0..100 {
        let (_, j) = client(a, "GET", &format!("/api/jobs/{job2}"), None).await;
        if let Some(p) = j.get("progress") {
            progress = p.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(progress.to_json(), r#"{"message":"half","progress":0.5}"#);
    channel.close();
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_signatures_are_checked() {
    let config = MemoryConfig {
        worker_tokens: vec![WorkerToken::parse("w-1=tok-1")],
        require_signatures: true,
        ..MemoryConfig::default()
    };
    let (srv, _orch) = start(config).await;
    let a = srv.addr;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = |mut v: Value, key: &str| {
        let sig = sign_payload(&v, key, rxon::ProtocolVersion::V1_0b17, &[]).unwrap();
        v.as_object_mut()
            .unwrap()
            .insert("security", json!({"signature": sig, "signer_id": "w-1"}));
        v.to_json()
    };
    let reg = json!({"worker_id": "w-1", "supported_skills": [{"name": "echo"}], "timestamp": now});
    let reg_path = "/_worker/workers/register";
    // Unsigned, badly signed, stale: 403.
    assert_eq!(
        wcall(a, "tok-1", "w-1", "POST", reg_path, Some(&reg.to_json()))
            .await
            .0,
        403
    );
    assert_eq!(
        wcall(
            a,
            "tok-1",
            "w-1",
            "POST",
            reg_path,
            Some(&signed(reg.clone(), "other"))
        )
        .await
        .0,
        403
    );
    let stale = json!({"worker_id": "w-1", "timestamp": (now - 3600)});
    assert_eq!(
        wcall(
            a,
            "tok-1",
            "w-1",
            "POST",
            reg_path,
            Some(&signed(stale, "tok-1"))
        )
        .await
        .0,
        403
    );
    // Signed with the worker's token: accepted once, a replay is refused.
    let body = signed(reg, "tok-1");
    assert_eq!(
        wcall(a, "tok-1", "w-1", "POST", reg_path, Some(&body))
            .await
            .0,
        200
    );
    let (st, v) = wcall(a, "tok-1", "w-1", "POST", reg_path, Some(&body)).await;
    assert_eq!(st, 403);
    assert!(s(&v, "error").contains("Duplicate"), "{}", v.to_json());
    srv.shutdown().await;
}

/// Opens a command socket with the synchronous client (in a blocking thread).
fn ws_connect(
    addr: SocketAddr,
    worker: &str,
    token: &str,
) -> rxon::transport::ws::tungstenite::WebSocket<std::net::TcpStream> {
    use rxon::transport::ws::tungstenite::{self, client::IntoClientRequest};
    let mut req = format!("ws://{addr}/_worker/ws/{worker}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("X-Worker-Token", token.parse().unwrap());
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (ws, resp) = tungstenite::client(req, stream).unwrap();
    assert_eq!(resp.status(), 101);
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_socket_replaces_the_old_one_and_keeps_receiving() {
    use rxon::transport::ws::tungstenite::Message;
    let config = MemoryConfig {
        worker_tokens: vec![WorkerToken::parse("shared")],
        ..MemoryConfig::default()
    };
    let (srv, orch) = start(config).await;
    let a = srv.addr;
    register(a, "shared", "w-1", &["echo"]).await;
    let hub = orch.hub();
    let (old_closed, new_got) = tokio::task::spawn_blocking(move || {
        let mut old = ws_connect(a, "w-1", "shared");
        // The 101 goes out before the socket is registered: wait for it.
        while !hub.is_connected("w-1") {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut new = ws_connect(a, "w-1", "shared");
        // The old socket is closed with 1008 ...
        let old_closed = loop {
            match old.read() {
                Ok(Message::Close(Some(f))) => break u16::from(f.code),
                Ok(_) => {}
                Err(e) => panic!("old socket: {e}"),
            }
        };
        // ... and its cleanup must not unregister the new one (wait until it is gone).
        let _ = old.read();
        std::thread::sleep(Duration::from_millis(200));
        let cmd = rxon::WorkerCommand::cancel_task("t-1", None);
        hub.send("w-1", &cmd).unwrap();
        let got = loop {
            match new.read() {
                Ok(Message::Text(t)) => break t.to_string(),
                Ok(_) => {}
                Err(e) => panic!("new socket: {e}"),
            }
        };
        assert_eq!(
            hub.broadcast(&rxon::WorkerCommand::cancel_task("t-2", None)),
            1
        );
        (old_closed, got)
    })
    .await
    .unwrap();
    assert_eq!(old_closed, 1008);
    assert_eq!(new_got, r#"{"command":"cancel_task","task_id":"t-1"}"#);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_held_poll_finish() {
    let config = MemoryConfig {
        worker_tokens: vec![WorkerToken::parse("shared")],
        ..MemoryConfig::default()
    };
    let (srv, _orch) = start(config).await;
    let a = srv.addr;
    register(a, "shared", "w-1", &["echo"]).await;
    let held = tokio::spawn(async move { poll(a, "shared", "w-1", "1").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    srv.shutdown().await;
    let (status, _) = held.await.unwrap();
    assert_eq!(status, 204);
    assert!(
        TcpStream::connect(a).await.is_err(),
        "the listener must be closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_are_pinged_then_reaped() {
    let listener = rxon::listener::ListenerConfig {
        ws_ping_interval: Duration::from_millis(150),
        ..rxon::listener::ListenerConfig::default()
    };
    let config = MemoryConfig {
        worker_tokens: vec![WorkerToken::parse("shared")],
        listener,
        ..MemoryConfig::default()
    };
    let (srv, orch) = start(config).await;
    let a = srv.addr;
    register(a, "shared", "w-1", &["echo"]).await;
    // Never reads, so never answers the server's pings.
    let ws = tokio::task::spawn_blocking(move || ws_connect(a, "w-1", "shared"))
        .await
        .unwrap();
    let mut seen = false;
    for _ in 0..100 {
        if orch.hub().is_connected("w-1") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(seen, "the socket must be registered");
    let mut gone = false;
    for _ in 0..100 {
        if !orch.hub().is_connected("w-1") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        gone,
        "a socket silent for two ping intervals must be closed"
    );
    drop(ws);
    srv.shutdown().await;
}
