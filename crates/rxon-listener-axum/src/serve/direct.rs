//! Direct answers: a connection first runs this loop, which reads plain HTTP/1.1 requests
//! for the worker endpoints (register, poll, result, heartbeat, events) and answers them
//! with the listener's endpoint code, without building an `http::Request`, routing it or
//! going through hyper's dispatcher. Those requests are nearly all of a listener's traffic,
//! and their HTTP handling costs about 9k instructions here against 20-25k through hyper and
//! axum (see ARCHITECTURE.md).
//!
//! The first request it does not take (WebSocket upgrade, token, unknown path, chunked or
//! oversized body, HTTP/1.0, a malformed or oversized head, ...) is handed to hyper with
//! everything read so far, and hyper and the router keep the connection from then on. So
//! every unusual case is answered by the one general path, and the two paths only share
//! requests whose meaning is plain.
//!
//! Behaviour matches the hyper path: keep-alive and pipelining, `Connection: close`, the
//! header read timeout (idle time included), the body timeout (408), a client that goes
//! away cancels the request (a long-poll gives its task back), graceful shutdown lets the
//! request in flight end, and the response is spelled the same.

mod parse;
mod write;

use super::prefixed::Prefixed;
use crate::context::RequestHead;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use rxon_core::ProtocolVersion;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

/// A worker endpoint the direct path answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /_worker/workers/register`.
    Register,
    /// `GET /_worker/workers/{worker_id}/tasks/next`.
    Poll,
    /// `POST /_worker/tasks/result`.
    Result,
    /// `PATCH /_worker/workers/{worker_id}`.
    Heartbeat,
    /// `POST /_worker/events`.
    Event,
}

/// A request read by the direct path.
#[derive(Debug)]
pub(crate) struct DirectRequest<'a> {
    pub(crate) route: Route,
    /// The `{worker_id}` path segment, as sent (not yet checked); empty when none.
    pub(crate) worker_id: &'a str,
    pub(crate) head: RequestHead<'a>,
    pub(crate) body: &'a [u8],
}

/// The listener settings the direct path applies before calling an endpoint.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) profile: ProtocolVersion,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) max_uri: usize,
}

/// A boxed endpoint answer.
pub(crate) type Answer<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// The endpoints of a listener, as the direct path calls them.
pub(crate) trait Endpoints: Send + Sync + 'static {
    /// The limits to apply.
    fn limits(&self) -> Limits;
    /// Answers a request.
    fn call<'a>(&'a self, req: DirectRequest<'a>) -> Answer<'a>;
    /// The answer when the body does not arrive within `Limits::body_timeout`.
    fn body_timeout(&self) -> Response;
}

/// Connection settings of the direct path (from `ServeConfig`).
#[derive(Clone, Copy, Debug)]
pub(super) struct ConnLimits {
    pub(super) header_read_timeout: Duration,
    pub(super) max_buf_size: usize,
    pub(super) max_headers: usize,
}

/// How the direct path left a connection.
pub(super) enum Ended<IO> {
    /// Closed (by either side, by a timeout or by the shutdown).
    Closed,
    /// A request for hyper: serve the rest of the connection there.
    HandOff(Prefixed<IO>),
}

const READ_CHUNK: usize = 4096;

/// Serves `io` directly until it closes or a request needs hyper.
pub(super) async fn serve<IO>(
    mut io: IO,
    endpoints: &dyn Endpoints,
    identity: Option<&str>,
    conn: ConnLimits,
    stop: &mut watch::Receiver<bool>,
) -> Ended<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let limits = endpoints.limits();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut date = write::DateCache::default();
    loop {
        // The head; hyper also counts idle keep-alive time against the header timeout.
        let deadline = Instant::now() + conn.header_read_timeout;
        // How much of `buf` is known to hold no complete head: a head ends with a line feed,
        // so it is parsed again only when one arrived, and a head trickling in byte by byte
        // costs a parse per line (at most `max_headers` + 1 of them), not per read.
        let mut scanned = 0;
        let parsed = loop {
            if buf.get(scanned..).is_some_and(|new| new.contains(&b'\n')) {
                match parse::head(&buf, &limits, conn.max_headers) {
                    parse::Head::Complete(p) => break p,
                    parse::Head::Partial => scanned = buf.len(),
                    parse::Head::Other => {
                        return Ended::HandOff(Prefixed::new(buf.freeze(), io));
                    }
                }
            }
            if buf.len() >= conn.max_buf_size {
                return Ended::HandOff(Prefixed::new(buf.freeze(), io));
            }
            let idle = buf.is_empty();
            if idle && *stop.borrow() {
                return Ended::Closed;
            }
            buf.reserve(READ_CHUNK);
            let read = tokio::select! {
                r = timeout_at(deadline, io.read_buf(&mut buf)) => r,
                _ = stop.changed(), if idle => return Ended::Closed,
            };
            if !matches!(read, Ok(Ok(n)) if n > 0) {
                return Ended::Closed;
            }
        };

        // The body.
        let total = parsed.head_len + parsed.body_len;
        if buf.len() < total {
            buf.reserve(total - buf.len());
            let deadline = Instant::now() + limits.body_timeout;
            while buf.len() < total {
                match timeout_at(deadline, io.read_buf(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {}
                    Ok(_) => return Ended::Closed,
                    Err(_) => {
                        let r = endpoints.body_timeout();
                        let _ =
                            respond(&mut io, &mut out, r, limits.profile, true, &mut date).await;
                        return Ended::Closed;
                    }
                }
            }
        }
        let request = buf.split_to(total).freeze();

        // The answer; the client's going away (end of stream) cancels it.
        let response = {
            let mut answer = endpoints.call(direct_request(&request, &parsed, identity));
            loop {
                tokio::select! {
                    biased;
                    r = &mut answer => break r,
                    read = io.read_buf(&mut buf), if buf.len() < conn.max_buf_size => {
                        if !matches!(read, Ok(n) if n > 0) {
                            return Ended::Closed;
                        }
                    }
                }
            }
        };
        drop(request);
        let close = parsed.close || *stop.borrow();
        let sent = respond(
            &mut io,
            &mut out,
            response,
            limits.profile,
            close,
            &mut date,
        )
        .await;
        if sent.is_err() || close {
            let _ = io.shutdown().await;
            return Ended::Closed;
        }
    }
}

fn direct_request<'a>(
    request: &'a Bytes,
    p: &parse::Parsed,
    identity: Option<&'a str>,
) -> DirectRequest<'a> {
    let text = |r: &Range<usize>| {
        request
            .get(r.clone())
            .and_then(|b| std::str::from_utf8(b).ok())
    };
    DirectRequest {
        route: p.route,
        worker_id: text(&p.id).unwrap_or(""),
        head: RequestHead {
            token: p.token.as_ref().and_then(text),
            version: p.version.as_ref().and_then(text),
            worker_id: p.worker_id.as_ref().and_then(text),
            query: text(&p.query).unwrap_or(""),
            identity,
        },
        body: request.get(p.head_len..).unwrap_or_default(),
    }
}

/// Writes `response` (its body collected first) in one write.
async fn respond<IO>(
    io: &mut IO,
    out: &mut Vec<u8>,
    response: Response,
    profile: ProtocolVersion,
    close: bool,
    date: &mut write::DateCache,
) -> std::io::Result<()>
where
    IO: AsyncWrite + Unpin,
{
    let (parts, body) = response.into_parts();
    let body = crate::routes::collect(body, usize::MAX)
        .await
        .map_err(|_| std::io::Error::other("the response body failed"))?;
    out.clear();
    write::head(
        out,
        parts.status,
        &parts.headers,
        profile,
        body.len(),
        close,
        date,
    );
    out.extend_from_slice(&body);
    io.write_all(out).await?;
    io.flush().await
}

/// The invariants `fuzzing::request_head` checks.
pub(crate) fn fuzz_head(data: &[u8]) {
    let limits = Limits {
        profile: ProtocolVersion::V1_0b17,
        body_limit: 1024,
        body_timeout: Duration::from_secs(1),
        max_uri: 256,
    };
    for max_headers in [0, 3, 100] {
        let parse::Head::Complete(p) = parse::head(data, &limits, max_headers) else {
            continue;
        };
        assert!(p.head_len <= data.len());
        let mut slots = [httparse::EMPTY_HEADER; 100];
        let mut again = httparse::Request::new(&mut slots);
        assert_eq!(
            again.parse(data.get(..p.head_len).unwrap_or_default()).ok(),
            Some(httparse::Status::Complete(p.head_len))
        );
        assert!(p.body_len <= limits.body_limit);
        assert!(p.route != Route::Poll || p.body_len == 0);
        let ranges = [Some(&p.id), Some(&p.query)].into_iter().chain([
            p.token.as_ref(),
            p.version.as_ref(),
            p.worker_id.as_ref(),
        ]);
        for r in ranges.flatten() {
            assert!(r.end <= p.head_len);
            let part = data.get(r.clone()).unwrap_or_default();
            assert!(std::str::from_utf8(part).is_ok());
        }
        let bytes = Bytes::copy_from_slice(data.get(..p.head_len).unwrap_or_default());
        let req = direct_request(&bytes, &p, None);
        assert_eq!(req.route, p.route);
        assert!(req.body.is_empty());
        if matches!(p.route, Route::Poll | Route::Heartbeat) {
            assert!(!req.worker_id.is_empty());
        }
    }
}
