//! The benchmark's limit server: a bare axum server with the worker routes and the token check
//! of the benchmark listener, which reads request bodies without parsing them and answers the
//! fixed bytes of the reference. No listener can be cheaper than this; it is the baseline the
//! listener's CPU per request is compared with. `--current-thread` serves on one thread.
//!
//! ```sh
//! cargo build --release -p rxon-listener-axum --example limit_server
//! target/release/examples/limit_server --port 8081   # prints READY pid=<pid> port=<port>
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/bench_common.rs"]
mod common;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::Message;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::serve::ListenerExt;

const TOKEN: &str = "bench-token";
const POLL: &[u8] = include_bytes!("data/poll_response.json");
const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const VERSION: HeaderValue = HeaderValue::from_static("1.0b17");

fn answer(headers: &HeaderMap, body: &'static [u8]) -> Response {
    let (status, body): (_, &'static [u8]) =
        if headers.get("x-worker-token").map(HeaderValue::as_bytes) == Some(TOKEN.as_bytes()) {
            (StatusCode::OK, body)
        } else {
            (
                StatusCode::FORBIDDEN,
                br#"{"error":"Invalid worker token"}"#,
            )
        };
    let mut r = Response::new(Body::from(Bytes::from_static(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, JSON);
    r.headers_mut().insert("x-rxon-version", VERSION);
    r
}

async fn poll(headers: HeaderMap) -> Response {
    answer(&headers, POLL)
}

async fn result(headers: HeaderMap, _body: Bytes) -> Response {
    answer(&headers, br#"{"status":"ok"}"#)
}

async fn heartbeat(headers: HeaderMap, _body: Bytes) -> Response {
    answer(&headers, b"{}")
}

async fn register(headers: HeaderMap, _body: Bytes) -> Response {
    answer(&headers, br#"{"status":"registered"}"#)
}

async fn ws(headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    if headers.get("x-worker-token").map(HeaderValue::as_bytes) != Some(TOKEN.as_bytes()) {
        return answer(&headers, b"");
    }
    upgrade
        .read_buffer_size(4096)
        .on_upgrade(|mut socket| async move {
            while let Some(Ok(m)) = socket.recv().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .into_response()
}

fn main() {
    let (port, [current_thread]) = common::parse_args(
        8081,
        ["--current-thread"],
        "limit_server --port P [--current-thread]",
    );
    // A multi-thread runtime by default (pinned to one CPU it runs one worker thread).
    common::runtime(!current_thread).block_on(run(port));
}

async fn run(port: u16) {
    let router = Router::new()
        .route("/_worker/workers/register", post(register))
        .route("/_worker/workers/{id}/tasks/next", get(poll))
        .route("/_worker/tasks/result", post(result))
        .route("/_worker/workers/{id}", patch(heartbeat))
        .route("/_worker/ws/{id}", get(ws));
    let tcp = common::bind(port).await.tap_io(|s| {
        let _ = s.set_nodelay(true);
    });
    axum::serve(tcp, router)
        .with_graceful_shutdown(common::ctrl_c())
        .await
        .unwrap();
}
