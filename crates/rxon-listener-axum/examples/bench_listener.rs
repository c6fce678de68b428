//! The benchmark listener: the same fixed handler as the reference benchmark listener, on
//! our listener. Every action checks the token `bench-token` (else 403); `poll` answers a fixed
//! task at once (decoded from `data/poll_response.json`, re-encoded per request); `result`,
//! `heartbeat` and `register` bodies are fully decoded into their models; WebSockets are held
//! until the worker closes them. The handler never reads the raw messages, so the listener is
//! told not to keep them (`ListenerConfig::keep_raw`); `--keep-raw` keeps them anyway.
//!
//! ```sh
//! cargo build --release -p rxon-listener-axum --example bench_listener
//! target/release/examples/bench_listener --port 8080   # prints READY pid=<pid> port=<port>
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/bench_common.rs"]
mod common;

use rxon_core::{
    Error, Handler, Heartbeat, Incoming, Model, RequestContext, TaskPayload, TaskResult, Value,
    WorkerRegistration, json,
};
use rxon_listener_axum::{Listener, ListenerConfig};
use std::sync::Arc;

/// The allocator a deployment would pick for a request-heavy server: the listener makes many
/// small short-lived allocations (parsed strings, maps) that mimalloc serves far cheaper than
/// glibc's allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "bench-token";

#[derive(Debug)]
struct Bench {
    task: Arc<TaskPayload>,
}

fn check(cx: &RequestContext) -> rxon_core::Result<()> {
    if cx.token.as_deref() == Some(TOKEN) {
        Ok(())
    } else {
        Err(Error::Auth {
            message: "Invalid worker token".to_owned(),
            status: Some(403),
        })
    }
}

impl Handler for Bench {
    async fn register(
        &self,
        cx: &RequestContext,
        _msg: Incoming<WorkerRegistration>,
    ) -> rxon_core::Result<Value> {
        check(cx)?;
        Ok(json!({"status": "registered"}))
    }

    async fn poll(
        &self,
        cx: &RequestContext,
        _worker_id: &str,
    ) -> rxon_core::Result<Option<Arc<TaskPayload>>> {
        check(cx)?;
        Ok(Some(Arc::clone(&self.task)))
    }

    async fn result(
        &self,
        cx: &RequestContext,
        _msg: Incoming<TaskResult>,
    ) -> rxon_core::Result<Value> {
        check(cx)?;
        Ok(json!({"status": "ok"}))
    }

    async fn heartbeat(
        &self,
        cx: &RequestContext,
        _msg: Option<Incoming<Heartbeat>>,
    ) -> rxon_core::Result<Value> {
        check(cx)?;
        Ok(Value::Object(rxon_core::Map::new()))
    }

    async fn websocket_auth(&self, cx: &RequestContext, _worker_id: &str) -> rxon_core::Result<()> {
        check(cx)
    }
}

fn main() {
    let (port, [keep_raw, multi_thread]) = common::parse_args(
        8080,
        ["--keep-raw", "--multi-thread"],
        "bench_listener --port P [--keep-raw] [--multi-thread]",
    );
    // The harness pins the listener to one CPU: one thread serves everything, without the
    // multi-thread scheduler's cross-thread bookkeeping (`--multi-thread` to compare).
    common::runtime(multi_thread).block_on(run(port, keep_raw));
}

async fn run(port: u16, keep_raw: bool) {
    let task = TaskPayload::from_json(include_bytes!("data/poll_response.json"))
        .map(Arc::new)
        .expect("the fixed task decodes");
    let config = ListenerConfig {
        keep_raw,
        ..ListenerConfig::default()
    };
    let app = Listener::new(Bench { task }).with_config(config).app();
    let tcp = common::bind(port).await;
    rxon_listener_axum::serve(tcp, app, common::ctrl_c())
        .await
        .unwrap();
}
