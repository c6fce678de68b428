//! Reading a request head for the direct path: it takes only the plain form of the worker
//! requests and leaves everything else (`Other`) to hyper and the router.

use super::{Limits, Route};
use rxon_core::wire;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Most headers the direct path reads; a head with more (or more than the configured
/// limit) goes to hyper, which applies the limit.
const MAX_HEADERS: usize = 100;

/// The `{worker_id}` routes, split around the id.
const WORKERS_PREFIX: &str = "/_worker/workers/";
const TASK_NEXT_SUFFIX: &str = "/tasks/next";

/// A complete head the direct path answers.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Parsed {
    /// Length of the head, blank line included.
    pub(super) head_len: usize,
    /// Length of the body (`Content-Length`, 0 when absent).
    pub(super) body_len: usize,
    pub(super) route: Route,
    /// The `{worker_id}` path segment (empty range on routes without one).
    pub(super) id: Range<usize>,
    /// The query string, without `?`.
    pub(super) query: Range<usize>,
    /// `X-Worker-Token`, `X-RXON-Version` and `X-Worker-ID`: the first of each, when it is a
    /// valid header string.
    pub(super) token: Option<Range<usize>>,
    pub(super) version: Option<Range<usize>>,
    pub(super) worker_id: Option<Range<usize>>,
    /// `Connection: close`.
    pub(super) close: bool,
}

/// What a buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Head {
    Complete(Parsed),
    /// Not a whole head yet.
    Partial,
    /// A request for hyper and the router.
    Other,
}

/// Reads the head at the start of `buf`, taking at most `max_headers` headers.
pub(super) fn head(buf: &[u8], limits: &Limits, max_headers: usize) -> Head {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let slots = slots
        .get_mut(..max_headers.min(MAX_HEADERS))
        .unwrap_or_default();
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(buf, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Other,
    };
    let (Some(method), Some(target), Some(1)) = (req.method, req.path, req.version) else {
        return Head::Other;
    };
    if target.len() > limits.max_uri {
        return Head::Other;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if !path.bytes().all(path_byte) || !query.bytes().all(query_byte) {
        return Head::Other;
    }
    let Some((route, id)) = route(method, path) else {
        return Head::Other;
    };
    let mut parsed = Parsed {
        head_len,
        body_len: 0,
        route,
        id: span(buf, id.as_bytes()),
        query: span(buf, query.as_bytes()),
        token: None,
        version: None,
        worker_id: None,
        close: false,
    };
    let mut length: Option<usize> = None;
    let (mut token, mut version, mut worker_id) = (false, false, false);
    for h in req.headers.iter() {
        let name = h.name;
        let first = |seen: &mut bool| !std::mem::replace(seen, true);
        if name.eq_ignore_ascii_case("x-worker-token") {
            if first(&mut token) {
                parsed.token = text(buf, h.value);
            }
        } else if name.eq_ignore_ascii_case("x-rxon-version") {
            if first(&mut version) {
                parsed.version = text(buf, h.value);
            }
        } else if name.eq_ignore_ascii_case("x-worker-id") {
            if first(&mut worker_id) {
                parsed.worker_id = text(buf, h.value);
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            match (length, decimal(h.value)) {
                (None, Some(n)) => length = Some(n),
                _ => return Head::Other,
            }
        } else if name.eq_ignore_ascii_case("connection") {
            match connection_close(h.value) {
                Some(close) => parsed.close |= close,
                None => return Head::Other,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("expect")
            || name.eq_ignore_ascii_case("upgrade")
        {
            return Head::Other;
        }
    }
    parsed.body_len = length.unwrap_or(0);
    if parsed.body_len > limits.body_limit || (route == Route::Poll && parsed.body_len > 0) {
        return Head::Other;
    }
    Head::Complete(parsed)
}

/// The route of a request and its `{worker_id}` segment (empty when none).
fn route<'p>(method: &str, path: &'p str) -> Option<(Route, &'p str)> {
    let fixed = match (method, path) {
        ("POST", wire::ENDPOINT_WORKER_REGISTER) => Some(Route::Register),
        ("POST", wire::ENDPOINT_TASK_RESULT) => Some(Route::Result),
        ("POST", wire::ENDPOINT_WORKER_EVENTS) => Some(Route::Event),
        _ => None,
    };
    if let Some(r) = fixed {
        return Some((r, &path[path.len()..]));
    }
    let rest = path.strip_prefix(WORKERS_PREFIX)?;
    let (route, id) = match method {
        "GET" => (Route::Poll, rest.strip_suffix(TASK_NEXT_SUFFIX)?),
        "PATCH" => (Route::Heartbeat, rest),
        _ => return None,
    };
    // `register` is a route of its own; ids with escapes are decoded by the router.
    let plain = !id.is_empty() && id != "register" && !id.contains(['/', '%']);
    plain.then_some((route, id))
}

/// The position of `part` (a slice of `buf`) in `buf`.
fn span(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
    start..start + part.len()
}

/// A header value as `HeaderValue::to_str` accepts it (visible ASCII, spaces and tabs).
fn text(buf: &[u8], value: &[u8]) -> Option<Range<usize>> {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| span(buf, value))
}

/// A `Content-Length` value: digits only.
fn decimal(v: &[u8]) -> Option<usize> {
    if v.is_empty() || v.len() > 15 {
        return None;
    }
    v.iter().try_fold(0usize, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0'))
    })
}

/// `Some(true)` for a `Connection` header asking to close, `Some(false)` for keep-alive,
/// `None` for anything else (e.g. an upgrade).
fn connection_close(v: &[u8]) -> Option<bool> {
    let mut close = false;
    for token in v.split(|&b| b == b',') {
        let token = token.trim_ascii();
        if token.eq_ignore_ascii_case(b"close") {
            close = true;
        } else if !token.eq_ignore_ascii_case(b"keep-alive") {
            return None;
        }
    }
    Some(close)
}

/// RFC 3986 `pchar` and `/`, without `%` (escaped paths go to the router, which decodes them).
fn path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

/// RFC 3986 query characters.
fn query_byte(b: u8) -> bool {
    path_byte(b) || b == b'?' || b == b'%'
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use rxon_core::ProtocolVersion;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits {
            profile: ProtocolVersion::V1_0b17,
            body_limit: 1000,
            body_timeout: Duration::from_secs(1),
            max_uri: 200,
        }
    }

    fn parsed(raw: &str) -> Parsed {
        match head(raw.as_bytes(), &limits(), MAX_HEADERS) {
            Head::Complete(p) => p,
            other => panic!("{raw:?}: {other:?}"),
        }
    }

    fn at<'a>(raw: &'a str, r: &Range<usize>) -> &'a str {
        &raw[r.clone()]
    }

    #[test]
    fn the_worker_routes_are_read() {
        let raw = "GET /_worker/workers/w-1/tasks/next?timeout=30&hot_skills=a,b HTTP/1.1\r\nHost: x\r\nx-worker-token: T\r\nX-Worker-Token: second\r\nX-RXON-Version: 1.0b17\r\nConnection: keep-alive\r\n\r\nPOST";
        let p = parsed(raw);
        assert_eq!(p.route, Route::Poll);
        assert_eq!(at(raw, &p.id), "w-1");
        assert_eq!(at(raw, &p.query), "timeout=30&hot_skills=a,b");
        assert_eq!(at(raw, p.token.as_ref().unwrap()), "T");
        assert_eq!(at(raw, p.version.as_ref().unwrap()), "1.0b17");
        assert_eq!(p.worker_id, None);
        assert!(!p.close);
        assert_eq!(p.head_len, raw.len() - 4);
        assert_eq!(p.body_len, 0);

        let raw = "PATCH /_worker/workers/w-2 HTTP/1.1\r\nContent-Length: 12\r\nConnection: close\r\nX-Worker-ID: w-2\r\n\r\n";
        let p = parsed(raw);
        assert_eq!(
            (p.route, at(raw, &p.id), p.body_len, p.close),
            (Route::Heartbeat, "w-2", 12, true)
        );
        assert_eq!(at(raw, p.worker_id.as_ref().unwrap()), "w-2");
        for (path, route) in [
            (wire::ENDPOINT_WORKER_REGISTER, Route::Register),
            (wire::ENDPOINT_TASK_RESULT, Route::Result),
            (wire::ENDPOINT_WORKER_EVENTS, Route::Event),
        ] {
            let p = parsed(&format!(
                "POST {path} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}"
            ));
            assert_eq!((p.route, p.body_len, p.id.len()), (route, 2, 0));
        }
    }

    #[test]
    fn the_split_routes_are_the_wire_routes() {
        assert_eq!(
            wire::ENDPOINT_TASK_NEXT,
            format!("{WORKERS_PREFIX}{{worker_id}}{TASK_NEXT_SUFFIX}")
        );
        assert_eq!(
            wire::ENDPOINT_WORKER_HEARTBEAT,
            format!("{WORKERS_PREFIX}{{worker_id}}")
        );
    }

    #[test]
    fn anything_else_goes_to_the_router() {
        let long = format!(
            "GET /_worker/workers/w/tasks/next?x={} HTTP/1.1\r\n\r\n",
            "a".repeat(300)
        );
        for raw in [
            "GET /_worker/workers/w-1/tasks/next HTTP/1.0\r\n\r\n",
            "GET /_worker/ws/w-1 HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "GET /_worker/workers/w-1/tasks/next HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
            "POST /_worker/auth/token HTTP/1.1\r\n\r\n",
            "GET /_worker/workers/register HTTP/1.1\r\n\r\n",
            "PATCH /_worker/workers/register HTTP/1.1\r\n\r\n",
            "GET /_worker/workers/register/tasks/next HTTP/1.1\r\n\r\n",
            "GET /_worker/workers/bad%20id/tasks/next HTTP/1.1\r\n\r\n",
            "GET /_worker/workers//tasks/next HTTP/1.1\r\n\r\n",
            "PATCH /_worker/workers/a/b HTTP/1.1\r\n\r\n",
            "PATCH /_worker/workers/a{b HTTP/1.1\r\n\r\n",
            "DELETE /_worker/workers/register HTTP/1.1\r\n\r\n",
            "POST /_worker/tasks/result/ HTTP/1.1\r\n\r\n",
            "POST /_worker/tasks/result HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /_worker/tasks/result HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
            "POST /_worker/tasks/result HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
            "POST /_worker/tasks/result HTTP/1.1\r\nContent-Length: +2\r\n\r\n",
            "POST /_worker/tasks/result HTTP/1.1\r\nContent-Length: 1001\r\n\r\n",
            "GET /_worker/workers/w/tasks/next HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
            "GARBAGE\r\n\r\n",
            long.as_str(),
        ] {
            assert_eq!(
                head(raw.as_bytes(), &limits(), MAX_HEADERS),
                Head::Other,
                "{raw:?}"
            );
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let raw = format!("POST /_worker/tasks/result HTTP/1.1\r\n{many}\r\n");
        assert_eq!(head(raw.as_bytes(), &limits(), MAX_HEADERS), Head::Other);
        let three = "POST /_worker/tasks/result HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(
            head(three.as_bytes(), &limits(), 2),
            Head::Other,
            "the configured limit holds"
        );
        assert!(matches!(
            head(three.as_bytes(), &limits(), 3),
            Head::Complete(_)
        ));
    }

    #[test]
    fn partial_heads_wait_and_odd_values_are_dropped() {
        assert_eq!(
            head(b"GET /_worker/workers/w-1/tas", &limits(), MAX_HEADERS),
            Head::Partial
        );
        assert_eq!(
            head(
                b"POST /_worker/tasks/result HTTP/1.1\r\nContent-Le",
                &limits(),
                MAX_HEADERS
            ),
            Head::Partial
        );
        let raw = "POST /_worker/tasks/result HTTP/1.1\r\nX-Worker-Token: caf\u{e9}\r\nX-Worker-Token: ok\r\n\r\n";
        assert_eq!(
            parsed(raw).token,
            None,
            "the first value counts, as with HeaderMap::get"
        );
    }
}
