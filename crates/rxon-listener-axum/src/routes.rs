//! The worker routes (spec §5.5) and the plumbing shared by them: body reading with limits,
//! JSON decoding, default replies, the version header and JSON 404/405/414 answers.

#![allow(
    clippy::result_large_err,
    reason = "early returns carry a ready axum response"
)]

use crate::config::ListenerConfig;
use crate::context::{self, RequestHead};
use crate::hub::CommandHub;
use crate::layer::ProtocolLayer;
use crate::reply;
use crate::serve::direct::{Answer, DirectRequest, Endpoints, Limits, Route};
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::routing::{get, patch, post};
use bytes::Bytes;
use http::{StatusCode, header};
use http_body_util::BodyExt;
use rxon_core::wire;
use rxon_core::{
    DecodeError, DecodeErrorKind, Error, Handler, Heartbeat, Incoming, Model, ProtocolVersion,
    RequestContext, TaskPayload, TaskResult, Value, WorkerEventPayload, WorkerRegistration, json,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Everything a route needs.
#[derive(Debug)]
pub(crate) struct Shared<H> {
    pub(crate) handler: H,
    pub(crate) config: ListenerConfig,
    pub(crate) hub: CommandHub,
}

impl<H> Shared<H> {
    pub(crate) fn profile(&self) -> ProtocolVersion {
        self.config.profile
    }
}

type S<H> = State<Arc<Shared<H>>>;

pub(crate) fn router<H: Handler>(shared: Arc<Shared<H>>) -> Router {
    let profile = shared.profile();
    let layer = ProtocolLayer {
        profile,
        max_uri: shared.config.max_uri_len,
    };
    let mut r = Router::new()
        .route(wire::ENDPOINT_WORKER_REGISTER, post(register::<H>))
        .route(wire::ENDPOINT_TASK_NEXT, get(poll::<H>))
        .route(wire::ENDPOINT_TASK_RESULT, post(result::<H>))
        .route(wire::ENDPOINT_WORKER_HEARTBEAT, patch(heartbeat::<H>))
        .route(wire::ENDPOINT_WORKER_EVENTS, post(event::<H>))
        .route(wire::STS_TOKEN_ENDPOINT, post(sts_token::<H>))
        .route("/_worker/ws/{worker_id}", get(crate::ws::upgrade::<H>));
    if profile == ProtocolVersion::V1_0b17 {
        r = r.route(wire::STS_REFRESH_ENDPOINT, post(sts_refresh::<H>));
    }
    r.fallback(move || async move {
        reply::error_body(StatusCode::NOT_FOUND, None, "Not Found", profile)
    })
    .method_not_allowed_fallback(move || async move {
        reply::error_body(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "Method Not Allowed",
            profile,
        )
    })
    .with_state(shared)
    .layer(layer)
}

/// A path `{worker_id}`, checked as an identifier (400 otherwise).
pub(crate) fn path_id(
    path: Result<Path<String>, PathRejection>,
    profile: ProtocolVersion,
) -> Result<String, Response> {
    match path {
        Ok(Path(id)) => check_id(id, profile),
        Err(e) => Err(reply::error_body(
            StatusCode::BAD_REQUEST,
            None,
            &e.body_text(),
            profile,
        )),
    }
}

/// A worker id taken from a path, checked as an identifier (400 otherwise).
pub(crate) fn check_id(id: String, profile: ProtocolVersion) -> Result<String, Response> {
    if id.is_empty() {
        return Err(reply::error_body(
            StatusCode::BAD_REQUEST,
            None,
            "worker_id required",
            profile,
        ));
    }
    match rxon_core::ident::validate_identifier_strict(&id, "worker_id", profile) {
        Ok(()) => Ok(id),
        Err(e) => Err(reply::error_body(
            StatusCode::BAD_REQUEST,
            None,
            &e.to_string(),
            profile,
        )),
    }
}

/// Why a body could not be read.
pub(crate) enum BodyError {
    TooLarge,
    Broken(axum::Error),
}

/// Collects a body of at most `limit` bytes. A body that arrives in one chunk (the common case)
/// is returned as that chunk, without copying.
pub(crate) async fn collect(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<bytes::BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(BodyError::Broken)?.into_data() else {
            continue; // trailers carry nothing we read
        };
        len = len.saturating_add(data.len());
        if len > limit {
            return Err(BodyError::TooLarge);
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let mut buf = bytes::BytesMut::with_capacity(len);
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match (rest, first) {
        (Some(buf), _) => buf.freeze(),
        (None, Some(head)) => head,
        (None, None) => Bytes::new(),
    })
}

/// Reads a body within the size limit and time limit (413 / 408 / 400 as JSON errors).
async fn read_body(body: Body, config: &ListenerConfig) -> Result<Bytes, Response> {
    let profile = config.profile;
    let too_large = || {
        reply::error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            &format!("Maximum request body size {} exceeded.", config.body_limit),
            profile,
        )
    };
    if body.size_hint().lower() > config.body_limit as u64 {
        return Err(too_large());
    }
    match tokio::time::timeout(config.body_timeout, collect(body, config.body_limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BodyError::TooLarge)) => Err(too_large()),
        Ok(Err(BodyError::Broken(e))) => {
            tracing::debug!(error = %e, "failed to read a request body");
            Err(reply::error_body(
                StatusCode::BAD_REQUEST,
                None,
                "Failed to read the request body",
                profile,
            ))
        }
        Err(_) => Err(body_timeout(profile)),
    }
}

/// The answer to a body that did not arrive in time (408).
pub(crate) fn body_timeout(profile: ProtocolVersion) -> Response {
    reply::error_body(
        StatusCode::REQUEST_TIMEOUT,
        None,
        "Request body not received in time",
        profile,
    )
}

/// Parses a JSON body and decodes the model (400 with `CONTRACT_VIOLATION_ERROR` otherwise).
/// Without `keep_raw` the model is decoded straight from the bytes and `raw` is null.
fn decode<M: Model>(bytes: &[u8], keep_raw: bool) -> Result<Incoming<M>, Error> {
    if keep_raw {
        let raw = json::from_slice(bytes)?;
        let message = M::from_value(&raw)?;
        Ok(Incoming::new(message, raw))
    } else {
        Ok(Incoming::new(M::from_json(bytes)?, Value::Null))
    }
}

/// Runs a handler call under the request timeout and turns its reply into a response.
async fn call<F>(shared: &ListenerConfig, fut: F, default: Option<&'static str>) -> Response
where
    F: Future<Output = rxon_core::Result<Value>>,
{
    let profile = shared.profile;
    match tokio::time::timeout(shared.request_timeout, fut).await {
        Ok(Ok(v)) => match default {
            Some(status) if v.is_falsy() => {
                let mut m = rxon_core::Map::new();
                m.insert("status", Value::String(status.to_owned()));
                reply::json_value(&Value::Object(m), profile)
            }
            _ => reply::json_value(&v, profile),
        },
        Ok(Err(e)) => reply::error(&e, profile),
        Err(_) => {
            tracing::warn!("handler call timed out");
            reply::error_body(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "Request timed out",
                profile,
            )
        }
    }
}

macro_rules! try_resp {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

macro_rules! try_decode {
    ($e:expr, $profile:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return reply::error(&e, $profile),
        }
    };
}

async fn register<H: Handler>(State(s): S<H>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = try_resp!(read_body(body, &s.config).await);
    s.register(&RequestHead::from_parts(&parts), &bytes).await
}

async fn result<H: Handler>(State(s): S<H>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = try_resp!(read_body(body, &s.config).await);
    s.result(&RequestHead::from_parts(&parts), &bytes).await
}

async fn event<H: Handler>(State(s): S<H>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = try_resp!(read_body(body, &s.config).await);
    s.event(&RequestHead::from_parts(&parts), &bytes).await
}

async fn heartbeat<H: Handler>(
    State(s): S<H>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let worker_id = try_resp!(path_id(path, s.profile()));
    let (parts, body) = req.into_parts();
    let bytes = try_resp!(read_body(body, &s.config).await);
    s.heartbeat(&worker_id, &RequestHead::from_parts(&parts), &bytes)
        .await
}

async fn poll<H: Handler>(
    State(s): S<H>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let worker_id = try_resp!(path_id(path, s.profile()));
    let (parts, _body) = req.into_parts();
    Shared::poll(&s, worker_id, &RequestHead::from_parts(&parts)).await
}

/// The endpoints, once the request is read: shared by the router and by the connection's
/// direct answers (see `serve::direct`), so both answer alike.
impl<H: Handler> Shared<H> {
    /// `POST /_worker/workers/register`.
    pub(crate) async fn register(&self, head: &RequestHead<'_>, body: &[u8]) -> Response {
        let cx = context::build(head, self.profile(), None, false);
        let msg = try_decode!(
            decode::<WorkerRegistration>(body, self.config.keep_raw),
            self.profile()
        );
        call(
            &self.config,
            self.handler.register(&cx, msg),
            Some("registered"),
        )
        .await
    }

    /// `POST /_worker/tasks/result`.
    pub(crate) async fn result(&self, head: &RequestHead<'_>, body: &[u8]) -> Response {
        let cx = context::build(head, self.profile(), None, false);
        let msg = try_decode!(
            decode::<TaskResult>(body, self.config.keep_raw),
            self.profile()
        );
        call(&self.config, self.handler.result(&cx, msg), Some("ok")).await
    }

    /// `POST /_worker/events`.
    pub(crate) async fn event(&self, head: &RequestHead<'_>, body: &[u8]) -> Response {
        let cx = context::build(head, self.profile(), None, false);
        let msg = try_decode!(
            decode::<WorkerEventPayload>(body, self.config.keep_raw),
            self.profile()
        );
        call(
            &self.config,
            self.handler.event(&cx, msg),
            Some("event_accepted"),
        )
        .await
    }

    /// `PATCH /_worker/workers/{worker_id}`, the id already checked.
    pub(crate) async fn heartbeat(
        &self,
        worker_id: &str,
        head: &RequestHead<'_>,
        body: &[u8],
    ) -> Response {
        let cx = context::build(head, self.profile(), Some(worker_id), false);
        let msg = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(try_decode!(
                decode::<Heartbeat>(body, self.config.keep_raw),
                self.profile()
            ))
        };
        call(&self.config, self.handler.heartbeat(&cx, msg), None).await
    }

    /// `GET /_worker/workers/{worker_id}/tasks/next`, the id already checked: the long-poll.
    pub(crate) async fn poll(
        this: &Arc<Self>,
        worker_id: String,
        head: &RequestHead<'_>,
    ) -> Response {
        let profile = this.profile();
        let mut cx: RequestContext = context::build(head, profile, Some(&worker_id), true);
        let hold = this.config.poll_hold(cx.poll_timeout);
        cx.poll_timeout = Some(hold);
        let task = match tokio::time::timeout(hold, this.handler.poll(&cx, &worker_id)).await {
            Err(_) | Ok(Ok(None)) => return no_content(),
            Ok(Err(e)) => return reply::error(&e, profile),
            Ok(Ok(Some(task))) => task,
        };
        let mut guard = Undelivered {
            shared: Some(this.clone()),
            worker_id,
            task: None,
        };
        // Sized for a typical task, so the text is not regrown several times.
        let mut text = String::with_capacity(2048);
        match task.write_json(&mut text, profile) {
            Ok(()) => {
                guard.task = Some(task);
                let mut r = Response::new(Body::new(DeliveryBody {
                    data: Some(Bytes::from(text)),
                    guard,
                }));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, reply::JSON_CONTENT_TYPE);
                r
            }
            Err(e) => {
                guard.task = Some(task);
                drop(guard);
                reply::error(&Error::from(e), profile)
            }
        }
    }
}

async fn sts_token<H: Handler>(State(s): S<H>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let cx = context::build(&RequestHead::from_parts(&parts), s.profile(), None, false);
    let profile = s.profile();
    let fut = async {
        s.handler
            .sts_token(&cx)
            .await
            .and_then(|t| Ok(t.to_value(profile)?))
    };
    call(&s.config, fut, None).await
}

async fn sts_refresh<H: Handler>(State(s): S<H>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let cx = context::build(&RequestHead::from_parts(&parts), s.profile(), None, false);
    let profile = s.profile();
    let bytes = try_resp!(read_body(body, &s.config).await);
    let raw = try_decode!(json::from_slice(&bytes).map_err(Error::from), profile);
    let token = match raw.get("refresh_token") {
        Some(Value::String(t)) => t.clone(),
        Some(other) => {
            let kind = DecodeErrorKind::WrongType {
                expected: "str",
                got: other.type_name(),
            };
            return reply::error(
                &Error::Contract(refresh_error("$.refresh_token", kind)),
                profile,
            );
        }
        None if raw.as_object().is_none() => {
            let kind = DecodeErrorKind::WrongType {
                expected: "object",
                got: raw.type_name(),
            };
            return reply::error(&Error::Contract(refresh_error("$", kind)), profile);
        }
        None => {
            return reply::error(
                &Error::Contract(refresh_error(
                    "$",
                    DecodeErrorKind::MissingField("refresh_token"),
                )),
                profile,
            );
        }
    };
    let fut = async {
        s.handler
            .sts_refresh(&cx, &token)
            .await
            .and_then(|t| Ok(t.to_value(profile)?))
    };
    call(&s.config, fut, None).await
}

fn refresh_error(path: &str, kind: DecodeErrorKind) -> DecodeError {
    DecodeError {
        model: "TokenRefresh",
        path: path.to_owned(),
        kind,
    }
}

/// The listener's endpoints for the connection's direct path (`serve::direct`).
pub(crate) struct DirectEndpoints<H>(pub(crate) Arc<Shared<H>>);

impl<H: Handler> Endpoints for DirectEndpoints<H> {
    fn limits(&self) -> Limits {
        let c = &self.0.config;
        Limits {
            profile: c.profile,
            body_limit: c.body_limit,
            body_timeout: c.body_timeout,
            max_uri: c.max_uri_len,
        }
    }

    fn call<'a>(&'a self, req: DirectRequest<'a>) -> Answer<'a> {
        let s = &self.0;
        let head = req.head;
        let checked = |id: &str| check_id(id.to_owned(), s.profile());
        match req.route {
            Route::Register => Box::pin(async move { s.register(&head, req.body).await }),
            Route::Result => Box::pin(async move { s.result(&head, req.body).await }),
            Route::Event => Box::pin(async move { s.event(&head, req.body).await }),
            Route::Heartbeat => Box::pin(async move {
                match checked(req.worker_id) {
                    Ok(id) => s.heartbeat(&id, &head, req.body).await,
                    Err(r) => r,
                }
            }),
            Route::Poll => Box::pin(async move {
                match checked(req.worker_id) {
                    Ok(id) => Shared::poll(s, id, &head).await,
                    Err(r) => r,
                }
            }),
        }
    }

    fn body_timeout(&self) -> Response {
        body_timeout(self.0.profile())
    }
}

fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// Holds a polled task until its bytes are handed to the connection; dropped earlier (client
/// gone, response discarded), it gives the task back through `Handler::task_undelivered`.
struct Undelivered<H: Handler> {
    shared: Option<Arc<Shared<H>>>,
    worker_id: String,
    task: Option<Arc<TaskPayload>>,
}

impl<H: Handler> Drop for Undelivered<H> {
    fn drop(&mut self) {
        let (Some(task), Some(shared)) = (self.task.take(), self.shared.take()) else {
            return;
        };
        let worker_id = std::mem::take(&mut self.worker_id);
        tracing::info!(
            worker_id,
            task_id = task.task_id,
            "polled task not delivered; returning it"
        );
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { shared.handler.task_undelivered(&worker_id, task).await });
            }
            Err(_) => tracing::error!(worker_id, "no runtime to return an undelivered task"),
        }
    }
}

/// A one-chunk body that marks its task delivered when the chunk is taken.
struct DeliveryBody<H: Handler> {
    data: Option<Bytes>,
    guard: Undelivered<H>,
}

impl<H: Handler> HttpBody for DeliveryBody<H> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match this.data.take() {
            Some(d) => {
                this.guard.task = None;
                Poll::Ready(Some(Ok(http_body::Frame::data(d))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn chunked(chunks: &[&'static [u8]]) -> Body {
        let items: Vec<Result<Bytes, std::io::Error>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        Body::from_stream(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn bodies_are_collected_whole_and_limited() {
        let one = collect(Body::from(&b"{\"a\":1}"[..]), 16).await;
        assert_eq!(one.ok().unwrap(), &b"{\"a\":1}"[..]);
        let many = collect(chunked(&[b"{\"a\"", b":", b"12}"]), 16).await;
        assert_eq!(many.ok().unwrap(), &b"{\"a\":12}"[..]);
        let empty = collect(Body::empty(), 16).await;
        assert!(empty.ok().unwrap().is_empty());
        let exact = collect(chunked(&[b"12345678", b"12345678"]), 16).await;
        assert_eq!(exact.ok().unwrap().len(), 16);
        match collect(chunked(&[b"12345678", b"12345678", b"9"]), 16).await {
            Err(BodyError::TooLarge) => {}
            _ => panic!("a body over the limit must be refused"),
        }
    }
}
