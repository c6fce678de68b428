//! An in-memory orchestrator: the worker API (register, long-poll, results, heartbeats,
//! events, WebSocket commands) and a small client API to submit jobs, on one port.
//!
//! ```sh
//! cargo run -p rxon-listener-axum --example orchestrator -- --port 8080 --worker-token secret
//! # submit a job, then read it back:
//! curl -s -H 'X-Client-Token: client-token' -d '{"type":"echo","params":{"x":1}}' http://127.0.0.1:8080/api/jobs
//! curl -s -H 'X-Client-Token: client-token' http://127.0.0.1:8080/api/jobs/<job_id>
//! ```
//!
//! Any worker with the token `secret` (and the skill `echo`) picks the job up. Jobs can be
//! cancelled with `POST /api/jobs/<job_id>/cancel`; a running one gets a `cancel_task`
//! command over its worker's WebSocket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_listener_axum::memory::{MemoryConfig, MemoryOrchestrator, WorkerToken};

#[tokio::main]
async fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .try_init();
    let mut port: u16 = 8080;
    let mut tokens = Vec::new();
    let mut client_token = "client-token".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--port" => port = value().parse().expect("--port takes a number"),
            "--worker-token" => tokens.push(WorkerToken::parse(&value())),
            "--client-token" => client_token = value(),
            other => panic!("unknown argument {other:?}"),
        }
    }
    if tokens.is_empty() {
        tokens.push(WorkerToken::parse("secret"));
    }
    let orch = MemoryOrchestrator::new(MemoryConfig {
        worker_tokens: tokens,
        client_token: Some(client_token),
        ..MemoryConfig::default()
    });
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!(
        "orchestrator listening on http://{}",
        tcp.local_addr().unwrap()
    );
    let hub = orch.hub();
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        hub.close_all();
    };
    rxon_listener_axum::serve(tcp, orch.app(), shutdown)
        .await
        .unwrap();
}
