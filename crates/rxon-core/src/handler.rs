//! The orchestrator side's trait: [`Handler`], called by a listener for every inbound worker
//! message (spec §9), with the [`RequestContext`] of the request.
//!
//! Messages arrive typed ([`Incoming::message`]) and exactly as received ([`Incoming::raw`]);
//! verify signatures over `raw`, never over a re-encoded model (spec §10.6). Replies are JSON
//! values: a falsy reply is replaced by the route's default (`{"status":"registered"}`, ...).
//! Errors map to HTTP statuses through [`crate::Error::http_status`].

use crate::error::{Error, Result};
use crate::model::{
    Heartbeat, TaskPayload, TaskResult, TokenResponse, WorkerEventPayload, WorkerRegistration,
};
use crate::value::Value;
use crate::wire::ProtocolVersion;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How a request reached the listener.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// An HTTP request.
    #[default]
    Http,
    /// A frame on the command WebSocket.
    WebSocket,
}

/// What the listener knows about a request (spec §5.2).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RequestContext {
    /// `X-Worker-Token`, if sent.
    pub token: Option<String>,
    /// `X-RXON-Version`, if sent.
    pub protocol_version: Option<String>,
    /// Common Name of the verified client certificate (mTLS), if any.
    pub cert_identity: Option<String>,
    /// Worker id hint: the path's `{worker_id}` on poll, heartbeat and WebSocket, otherwise
    /// `X-Worker-ID`.
    pub worker_id_hint: Option<String>,
    /// Poll only: the requested hold time (`None` when absent or unparsable: use the default).
    pub poll_timeout: Option<Duration>,
    /// Poll only: `available_skills`, when the query key was present.
    pub available_skills: Option<Vec<String>>,
    /// Poll only: `hot_skills`, when the query key was present.
    pub hot_skills: Option<Vec<String>>,
    /// HTTP or WebSocket.
    pub transport: TransportKind,
    /// The listener's protocol profile.
    pub profile: ProtocolVersion,
}

impl RequestContext {
    /// A context with a token and worker id hint (handy in tests).
    #[must_use]
    pub fn new(token: Option<String>, worker_id_hint: Option<String>) -> Self {
        Self {
            token,
            worker_id_hint,
            ..Self::default()
        }
    }
}

/// An inbound message: decoded, and as received.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Incoming<T> {
    /// The decoded model.
    pub message: T,
    /// The JSON object exactly as parsed from the wire.
    pub raw: Value,
}

impl<T> Incoming<T> {
    /// Pairs a model with its raw JSON.
    pub fn new(message: T, raw: Value) -> Self {
        Self { message, raw }
    }
}

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Error::Unsupported {
        what: what.to_owned(),
    })
}

/// An orchestrator's answers to its workers. Only `register`, `poll` and `result` are required;
/// the others have defaults (heartbeats and events are acknowledged, STS is unsupported, every
/// WebSocket is accepted).
///
/// `poll` may wait (that is the long-poll); it must be cancel-safe, because the listener drops
/// the future when the client goes away: do not take a task out of a queue and then await.
pub trait Handler: Send + Sync + 'static {
    /// `POST register`. Reply: JSON (falsy → `{"status":"registered"}`).
    fn register(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerRegistration>,
    ) -> impl Future<Output = Result<Value>> + Send;

    /// `GET next`: the next task for `worker_id`, waiting up to `cx.poll_timeout` (clamped by
    /// the listener); `None` → 204.
    ///
    /// The task is shared, not copied: the listener only reads it to write the response, so a
    /// handler can hand out a task it also keeps (for retries, auditing, ...) without cloning it.
    /// `Arc::new(task)` wraps a task the handler does not keep.
    fn poll(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> impl Future<Output = Result<Option<Arc<TaskPayload>>>> + Send;

    /// `POST result`. Reply: JSON (falsy → `{"status":"ok"}`; `{"status":"ignored",...}` to
    /// discard it).
    fn result(
        &self,
        cx: &RequestContext,
        msg: Incoming<TaskResult>,
    ) -> impl Future<Output = Result<Value>> + Send;

    /// `PATCH heartbeat` (`None` for an empty body). Reply: JSON as is.
    fn heartbeat(
        &self,
        cx: &RequestContext,
        msg: Option<Incoming<Heartbeat>>,
    ) -> impl Future<Output = Result<Value>> + Send {
        let _ = (cx, msg);
        async { Ok(crate::json!({"status": "ok"})) }
    }

    /// `POST events` or a WebSocket event frame. Reply: JSON (falsy →
    /// `{"status":"event_accepted"}`; ignored for frames).
    fn event(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerEventPayload>,
    ) -> impl Future<Output = Result<Value>> + Send {
        let _ = (cx, msg);
        async { Ok(Value::Null) }
    }

    /// `POST auth/token`: issue an access token.
    fn sts_token(&self, cx: &RequestContext) -> impl Future<Output = Result<TokenResponse>> + Send {
        let _ = cx;
        async { unsupported("sts_token") }
    }

    /// `POST auth/token/refresh` (1.0b17) with the body's `refresh_token`.
    fn sts_refresh(
        &self,
        cx: &RequestContext,
        refresh_token: &str,
    ) -> impl Future<Output = Result<TokenResponse>> + Send {
        let _ = (cx, refresh_token);
        async { unsupported("sts_refresh") }
    }

    /// Before a WebSocket upgrade: an error refuses it (403 for auth/security errors).
    fn websocket_auth(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (cx, worker_id);
        async { Ok(()) }
    }

    /// A worker's command socket opened (after a successful `websocket_auth`).
    fn websocket_opened(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> impl Future<Output = ()> + Send {
        let _ = (cx, worker_id);
        async {}
    }

    /// A worker's command socket closed.
    fn websocket_closed(&self, worker_id: &str) -> impl Future<Output = ()> + Send {
        let _ = worker_id;
        async {}
    }

    /// A task returned by `poll` could not be delivered (the client went away): put it back
    /// (`Arc::unwrap_or_clone` gives the task itself when no one else holds it).
    fn task_undelivered(
        &self,
        worker_id: &str,
        task: Arc<TaskPayload>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (worker_id, task);
        async {}
    }
}

impl<H: Handler> Handler for Arc<H> {
    fn register(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerRegistration>,
    ) -> impl Future<Output = Result<Value>> + Send {
        (**self).register(cx, msg)
    }
    fn poll(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> impl Future<Output = Result<Option<Arc<TaskPayload>>>> + Send {
        (**self).poll(cx, worker_id)
    }
    fn result(
        &self,
        cx: &RequestContext,
        msg: Incoming<TaskResult>,
    ) -> impl Future<Output = Result<Value>> + Send {
        (**self).result(cx, msg)
    }
    fn heartbeat(
        &self,
        cx: &RequestContext,
        msg: Option<Incoming<Heartbeat>>,
    ) -> impl Future<Output = Result<Value>> + Send {
        (**self).heartbeat(cx, msg)
    }
    fn event(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerEventPayload>,
    ) -> impl Future<Output = Result<Value>> + Send {
        (**self).event(cx, msg)
    }
    fn sts_token(&self, cx: &RequestContext) -> impl Future<Output = Result<TokenResponse>> + Send {
        (**self).sts_token(cx)
    }
    fn sts_refresh(
        &self,
        cx: &RequestContext,
        refresh_token: &str,
    ) -> impl Future<Output = Result<TokenResponse>> + Send {
        (**self).sts_refresh(cx, refresh_token)
    }
    fn websocket_auth(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> impl Future<Output = Result<()>> + Send {
        (**self).websocket_auth(cx, worker_id)
    }
    fn websocket_opened(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> impl Future<Output = ()> + Send {
        (**self).websocket_opened(cx, worker_id)
    }
    fn websocket_closed(&self, worker_id: &str) -> impl Future<Output = ()> + Send {
        (**self).websocket_closed(worker_id)
    }
    fn task_undelivered(
        &self,
        worker_id: &str,
        task: Arc<TaskPayload>,
    ) -> impl Future<Output = ()> + Send {
        (**self).task_undelivered(worker_id, task)
    }
}
