//! Holds many idle worker command sockets on one listener and pushes one command to all of
//! them: the listener's memory per idle connection and the time for a broadcast to reach
//! every worker.
//!
//! ```sh
//! ulimit -n 20000
//! cargo run --release -p rxon-listener-axum --example ws_fanout -- 10000
//! ```
//!
//! The process is the listener (an in-memory orchestrator on 127.0.0.1); it starts itself a
//! second time as the client side, so the memory it reports is the listener's alone. The
//! client side opens the sockets (64 handshakes at a time), then records when the pushed
//! command arrives on each; the time reported is from the broadcast call to the last arrival.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use futures_util::StreamExt;
use rxon_core::{Map, Value, WorkerCommand};
use rxon_listener_axum::memory::{MemoryConfig, MemoryOrchestrator, WorkerToken};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const TOKEN: &str = "fanout-token";

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn micros_now() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros(),
    )
    .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--clients") {
        let port: u16 = args[2].parse().unwrap();
        let n: usize = args[3].parse().unwrap();
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(clients(port, n));
        return;
    }
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(server(n));
}

async fn server(n: usize) {
    let orch = MemoryOrchestrator::new(MemoryConfig {
        worker_tokens: vec![WorkerToken::parse(TOKEN)],
        ..MemoryConfig::default()
    });
    let hub = orch.hub();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rxon_listener_axum::serve(tcp, orch.app(), async {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--clients", &port.to_string(), &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child_in = child.stdin.take().unwrap();
    let (line_tx, mut line_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    let opened = line_rx.recv().await.unwrap();
    let open_s: f64 = opened.strip_prefix("OPEN ").unwrap().parse().unwrap();
    // Let every socket register with the hub and the allocator settle.
    let deadline = Instant::now() + Duration::from_secs(30);
    while hub.len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = rss_kib();
    let registered = hub.len();

    let mut params = Map::new();
    let start = micros_now();
    params.insert("sent_at_us", Value::from(start));
    let cmd = WorkerCommand {
        command: "broadcast_probe".into(),
        params: Some(params),
        ..WorkerCommand::default()
    };
    let t = Instant::now();
    let queued = hub.broadcast(&cmd);
    let call_us = t.elapsed().as_micros();
    writeln!(child_in, "PUSHED {start}").unwrap();
    let received = line_rx.recv().await.unwrap();

    let per_conn = (held.saturating_sub(before)) as f64 / registered.max(1) as f64;
    println!(
        "RXON_WS_FANOUT connections={n} registered={registered} open_s={open_s:.2} rss_before_kib={before} rss_held_kib={held} per_conn_kib={per_conn:.2} broadcast_call_us={call_us} queued={queued} {received}"
    );
    drop(child_in);
    let _ = child.wait();
    hub.close_all();
    let _ = stop_tx.send(());
    let _ = server.await;
}

async fn clients(port: u16, n: usize) {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20));
    let t = Instant::now();
    let opened = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let url = format!("ws://127.0.0.1:{port}/_worker/ws/fanout-{i}");
            let mut req = url.into_client_request().unwrap();
            req.headers_mut()
                .insert("X-Worker-Token", TOKEN.parse().unwrap());
            req.headers_mut()
                .insert("X-Worker-ID", format!("fanout-{i}").parse().unwrap());
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let (ws, _) = tokio_tungstenite::client_async_with_config(req, tcp, Some(config))
                .await
                .unwrap();
            ws
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    println!("OPEN {:.2}", t.elapsed().as_secs_f64());
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    for ws in opened {
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let (_sink, mut stream) = ws.split();
            while let Some(Ok(msg)) = stream.next().await {
                if msg.is_text() {
                    let _ = done_tx.send(micros_now());
                }
            }
        });
    }
    drop(done_tx);
    let mut line = String::new();
    let mut stdin = BufReader::new(std::io::stdin());
    stdin.read_line(&mut line).unwrap();
    let start: u64 = line
        .trim()
        .strip_prefix("PUSHED ")
        .unwrap()
        .parse()
        .unwrap();
    let mut last = start;
    let mut got = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while got < n {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(at)) => {
                got += 1;
                last = last.max(at);
            }
            _ => break,
        }
    }
    println!(
        "received={got} all_received_ms={:.1}",
        (last.saturating_sub(start)) as f64 / 1000.0
    );
    std::io::stdout().flush().unwrap();
}
