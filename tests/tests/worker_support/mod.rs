//! A scriptable orchestrator stub on loopback for the worker-side tests: records every request
//! and answers per route (register, poll, result, heartbeat, events), or stalls on demand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rxon::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// One request the stub saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the stub does with a poll.
#[derive(Clone, Debug, Default)]
pub enum PollMode {
    /// `204` at once.
    #[default]
    Empty,
    /// Never answers.
    Stall,
    /// Always this task (JSON text).
    Task(String),
}

#[derive(Default)]
pub struct StubState {
    pub seen: Mutex<Vec<Seen>>,
    pub poll: Mutex<PollMode>,
    /// Answer to registrations (JSON text) instead of `{"status":"registered"}`.
    pub register_reply: Mutex<Option<String>>,
    /// Answer every request with this status, content type and body.
    pub fixed: Mutex<Option<(u16, &'static str, String)>>,
}

impl StubState {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn bodies(&self, path_part: &str) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.contains(path_part))
            .filter_map(|s| s.body)
            .collect()
    }
}

/// A running stub; stops (closing every connection) when dropped or [`Stub::stop`]ped.
pub struct Stub {
    pub addr: SocketAddr,
    pub state: Arc<StubState>,
    task: Option<JoinHandle<()>>,
}

impl Stub {
    pub async fn start(state: Arc<StubState>) -> Self {
        Self::start_on(state, "127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(state: Arc<StubState>, addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let st = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = Arc::clone(&st);
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| answer(Arc::clone(&st), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Self {
            addr,
            state,
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and drops every open connection.
    pub async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

fn json(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("X-RXON-Version", "1.0b17")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

async fn answer(
    state: Arc<StubState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let bytes = req.into_body().collect().await?.to_bytes();
    let body = if bytes.is_empty() {
        None
    } else {
        Some(rxon::json::from_slice(&bytes).unwrap())
    };
    state.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        query,
        headers,
        body,
    });
    if let Some((status, ctype, body)) = state.fixed.lock().unwrap().clone() {
        return Ok(Response::builder()
            .status(status)
            .header("Content-Type", ctype)
            .body(Full::new(Bytes::from(body)))
            .unwrap());
    }
    let register_reply = state.register_reply.lock().unwrap().clone();
    Ok(match (method.as_str(), path.as_str()) {
        ("POST", "/_worker/workers/register") => json(
            StatusCode::OK,
            register_reply
                .as_deref()
                .unwrap_or(r#"{"status":"registered"}"#),
        ),
        ("POST", "/_worker/tasks/result") => json(StatusCode::OK, r#"{"status":"accepted"}"#),
        ("POST", "/_worker/events") => json(StatusCode::OK, r#"{"status":"event_accepted"}"#),
        ("PATCH", _) => json(StatusCode::OK, r#"{"status":"ok"}"#),
        ("GET", p) if p.ends_with("/tasks/next") => {
            let mode = state.poll.lock().unwrap().clone();
            match mode {
                PollMode::Empty => Response::builder()
                    .status(204)
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
                PollMode::Stall => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Response::builder()
                        .status(204)
                        .body(Full::new(Bytes::new()))
                        .unwrap()
                }
                PollMode::Task(t) => json(StatusCode::OK, &t),
            }
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#),
    })
}
