//! [`Client`]: a small HTTP/1.1 client for one origin, with a pool of keep-alive
//! connections.
//!
//! A worker's loop is sequential, so one connection is the common case; a long poll, a result
//! and a heartbeat may however run at once, so idle connections are kept on a stack and
//! another connection is opened when all are busy. A request takes a connection out of the
//! pool and gives it back only after the whole response was read without error and the
//! response allows reuse; a request future that is dropped midway drops its connection with
//! it, so a half-used connection never returns to the pool. Idle connections are closed after
//! the idle timeout.
//!
//! An exchange is one write of the request (head and body together when small) and reads
//! into a buffer the connection keeps, framed by `Content-Length`, chunked transfer coding,
//! or the end of the connection (RFC 9112); no task, channel or allocation per exchange
//! beyond the response itself.
//!
//! A pooled connection that the server closed meanwhile is noticed before the request is
//! written (a read that does not wait finds the end of the stream) and replaced; a request
//! that may have reached the server is never sent twice here.

use crate::connector::{Connector, MaybeTls};
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode, Uri};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio_util::sync::CancellationToken;

/// A boxed error with its cause chain.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// At most this many idle connections are kept.
const MAX_IDLE: usize = 16;
/// The read buffer's usual size (kept between exchanges).
const READ_BUF: usize = 16 * 1024;
/// The largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Bodies up to this size are written together with the head.
const JOIN_BODY: usize = 64 * 1024;

/// A request: method, origin-form target (`/path?query`), headers (with `Host`; the client
/// adds `Content-Length`) and body.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'a Method,
    pub(crate) target: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// A whole response, borrowed from the connection's buffer while it is handled: status,
/// header lines (validated, looked up by name) and the body read to its end.
pub(crate) struct Response<'a> {
    pub(crate) status: StatusCode,
    /// The head: status line and header lines.
    head: &'a [u8],
    /// Where the values of [`KNOWN`] headers are in the head.
    known: [Option<(usize, usize)>; KNOWN.len()],
    pub(crate) body: &'a [u8],
}

/// Headers whose first value is located while the head is validated (the ones the
/// transport reads on every answer).
pub(crate) const KNOWN: [&str; 3] = ["content-type", "x-rxon-version", "retry-after"];

impl<'a> Response<'a> {
    /// The first value of the header `name` (ASCII case-insensitive), without surrounding
    /// whitespace.
    pub(crate) fn header(&self, name: &str) -> Option<&'a [u8]> {
        let head = self.head;
        if let Some(i) = KNOWN.iter().position(|k| k.eq_ignore_ascii_case(name)) {
            let (a, b) = self.known.get(i).copied().flatten()?;
            return head.get(a..b);
        }
        let fields_at = head
            .iter()
            .position(|&b| b == b'\n')
            .map_or(head.len(), |i| i + 1);
        fields(head.get(fields_at..).unwrap_or_default())
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The first value of the header `name` as text (`None` when absent or not visible
    /// ASCII).
    pub(crate) fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name)
            .filter(|v| v.iter().all(|&b| b == b'\t' || (b' '..0x7f).contains(&b)))
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// The `(name, value)` pairs of validated header lines.
fn fields(lines: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    lines
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            let (name, value) = l.split_at(colon);
            Some((name, value.get(1..).unwrap_or_default().trim_ascii()))
        })
}

/// Byte classes of header lines: [`TCHAR`] may appear in a name (an RFC 9110 token),
/// [`FIELD`] in a value (visible ASCII, obs-text, space and tab).
static CLASS: [u8; 256] = classes();
const TCHAR: u8 = 1;
const FIELD: u8 = 2;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            )
        {
            c |= TCHAR;
        }
        if (b >= 0x20 && b != 0x7f) || b == b'\t' {
            c |= FIELD;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Whether `b` is of class `class`.
fn is(b: u8, class: u8) -> bool {
    CLASS.get(usize::from(b)).is_some_and(|c| c & class != 0)
}

/// The HTTP/1.1 client of one origin (scheme, host and port). Cheap to clone: clones share
/// the pool.
#[derive(Clone)]
pub(crate) struct Client {
    shared: Arc<Shared>,
}

struct Shared {
    connector: Connector,
    /// `scheme://authority` of the origin, what the connector dials.
    origin: Uri,
    idle_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
    closed: AtomicBool,
    /// Whether a task pruning idle connections is running.
    reaper: AtomicBool,
    /// Cancelled when the pool is closed or dropped: ends the pruning task at once.
    stop: CancellationToken,
    /// Pooled connections found closed and replaced.
    #[cfg(test)]
    replaced: std::sync::atomic::AtomicUsize,
}

struct Idle {
    conn: Box<Conn>,
    since: Instant,
}

/// One connection and its buffers (boxed where it is held, so that futures stay small).
struct Conn {
    io: MaybeTls,
    /// Bytes read and not consumed yet.
    rbuf: Vec<u8>,
    /// The request being written.
    wbuf: Vec<u8>,
}

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    /// Until the server closes the connection.
    Eof,
}

/// A parsed response head.
#[derive(Debug)]
struct Head {
    status: StatusCode,
    /// Where the values of [`KNOWN`] headers are.
    known: [Option<(usize, usize)>; KNOWN.len()],
    framing: Framing,
    keep_alive: bool,
}

fn invalid(what: impl Into<String>) -> BoxError {
    format!("invalid HTTP response: {}", what.into()).into()
}

fn closed_early() -> BoxError {
    "connection closed before message completed".into()
}

/// The end of the head in `buf` (just past the empty line), tolerating bare `\n` line ends.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = buf.get(from..)?.iter().position(|&b| b == b'\n') {
        let nl = from + i;
        match buf.get(nl + 1..)? {
            [b'\n', ..] => return Some(nl + 2),
            [b'\r', b'\n', ..] => return Some(nl + 3),
            _ => from = nl + 1,
        }
    }
    None
}

/// Whether the comma-separated list `value` holds `token` (case-insensitive).
fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Parses a response head (without its final empty line's bytes mattering) for a request
/// with `method`.
fn parse_head(head: &[u8], method: &Method) -> Result<Head, BoxError> {
    let nl = head
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| invalid("bad status line"))?;
    let status_line = head.get(..nl).unwrap_or_default();
    let status_line = status_line.strip_suffix(b"\r").unwrap_or(status_line);
    let (version, rest) = match status_line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', v, b' ', rest @ ..] => (*v, rest),
        _ => return Err(invalid("bad status line")),
    };
    let http11 = match version {
        b'1' => true,
        b'0' => false,
        _ => return Err(invalid("unsupported HTTP version")),
    };
    let code = rest.get(..3).ok_or_else(|| invalid("bad status code"))?;
    if rest.get(3).is_some_and(|&b| b != b' ') {
        return Err(invalid("bad status code"));
    }
    let status = StatusCode::from_bytes(code).map_err(|_| invalid("bad status code"))?;
    let mut te = None;
    let mut length = None;
    let (mut close, mut keep) = (false, false);
    let mut known = [None; KNOWN.len()];
    let mut pos = nl + 1;
    loop {
        let at = |i: usize| head.get(i).copied();
        match at(pos) {
            None | Some(b'\n') => break,
            Some(b'\r') if at(pos + 1) == Some(b'\n') => break,
            Some(b' ' | b'\t') => return Err(invalid("folded header line")),
            _ => {}
        }
        let mut i = pos;
        while at(i).is_some_and(|b| is(b, TCHAR)) {
            i += 1;
        }
        match at(i) {
            Some(b':') if i > pos => {}
            None | Some(b'\r' | b'\n') => return Err(invalid("header line without a colon")),
            _ => return Err(invalid("bad header name")),
        }
        let name = head.get(pos..i).unwrap_or_default();
        i += 1;
        while matches!(at(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let value_at = i;
        while at(i).is_some_and(|b| is(b, FIELD)) {
            i += 1;
        }
        let mut value_end = i;
        pos = match at(i) {
            Some(b'\r') if at(i + 1) == Some(b'\n') => i + 2,
            Some(b'\n') => i + 1,
            None => i,
            _ => return Err(invalid("bad header value")),
        };
        while value_end > value_at && matches!(at(value_end - 1), Some(b' ' | b'\t')) {
            value_end -= 1;
        }
        let value = head.get(value_at..value_end).unwrap_or_default();
        if let Some(k) = KNOWN
            .iter()
            .position(|k| name.eq_ignore_ascii_case(k.as_bytes()))
        {
            if let Some(slot @ None) = known.get_mut(k) {
                *slot = Some((value_at, value_end));
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= has_token(value, "close");
            keep |= has_token(value, "keep-alive");
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // The final coding decides.
            te = Some(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            for part in value.split(|&b| b == b',') {
                let n: usize = std::str::from_utf8(part.trim_ascii())
                    .ok()
                    .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| invalid("bad Content-Length"))?;
                if length.is_some_and(|l| l != n) {
                    return Err(invalid("conflicting Content-Length values"));
                }
                length = Some(n);
            }
        }
    }
    let s = status.as_u16();
    let framing = if method == Method::HEAD || s == 204 || s == 304 || (100..200).contains(&s) {
        Framing::Empty
    } else if let Some(te) = te {
        // Anything but a final `chunked` is delimited by the close.
        let last = te.rsplit(|&b| b == b',').next().unwrap_or_default();
        if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::Eof
        }
    } else {
        length.map_or(Framing::Eof, Framing::Length)
    };
    // A length next to a transfer coding may hide a second message: not reused
    // (RFC 9112 §6.3).
    let keep_alive = framing != Framing::Eof
        && !(te.is_some() && length.is_some())
        && if http11 { !close } else { keep };
    Ok(Head {
        status,
        known,
        framing,
        keep_alive,
    })
}

/// One chunk-size line (`hex[;extensions]`).
fn chunk_size(line: &[u8]) -> Result<usize, BoxError> {
    let hex = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if hex.is_empty() || hex.len() > 15 {
        return Err(invalid("bad chunk size"));
    }
    hex.iter().try_fold(0usize, |n, &b| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| n.checked_mul(16)?.checked_add(usize::try_from(d).ok()?))
            .ok_or_else(|| invalid("bad chunk size"))
    })
}

/// The parsing a response goes through, on arbitrary bytes, with the invariants that must hold
/// for every input (for `crate::fuzzing`).
pub(crate) fn fuzz_response(data: &[u8]) {
    let end = head_end(data);
    if let Some(end) = end {
        assert!(end <= data.len(), "the head ends inside the input");
    }
    let head = data.get(..end.unwrap_or(data.len())).unwrap_or_default();
    for method in [Method::GET, Method::POST, Method::HEAD] {
        let Ok(h) = parse_head(head, &method) else {
            continue;
        };
        if method == Method::HEAD {
            assert!(h.framing == Framing::Empty, "a HEAD answer has no body");
        }
        if h.framing == Framing::Eof {
            assert!(!h.keep_alive, "a close-delimited body ends the connection");
        }
        let r = Response {
            status: h.status,
            head,
            known: h.known,
            body: data.get(head.len()..).unwrap_or_default(),
        };
        for name in KNOWN.iter().copied().chain(["content-length", "x-other"]) {
            if let Some(v) = r.header(name) {
                assert!(
                    head.windows(v.len().max(1)).any(|w| w == v) || v.is_empty(),
                    "a header value is part of the head"
                );
            }
            let _ = r.header_str(name);
        }
    }
    for line in data.split(|&b| b == b'\n') {
        if let Ok(n) = chunk_size(line.strip_suffix(b"\r").unwrap_or(line)) {
            assert!(n < 1 << 60, "chunk sizes have at most 15 hex digits");
        }
    }
}

impl Conn {
    fn new(io: MaybeTls) -> Self {
        Self {
            io,
            rbuf: Vec::with_capacity(READ_BUF),
            wbuf: Vec::with_capacity(1024),
        }
    }

    /// Whether the idle connection still looks usable: a read that does not wait finds
    /// neither the end of the stream, nor an error, nor unexpected bytes.
    fn poll_alive(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        if !self.rbuf.is_empty() {
            return false;
        }
        let mut one = [0u8; 1];
        let mut probe = ReadBuf::new(&mut one);
        Pin::new(&mut self.io)
            .poll_read(cx, &mut probe)
            .is_pending()
    }

    /// Reads more bytes into the buffer; `false` at the end of the stream.
    async fn read_more(&mut self) -> Result<bool, BoxError> {
        if self.rbuf.capacity() - self.rbuf.len() < 4096 {
            self.rbuf.reserve(READ_BUF);
        }
        Ok(self.io.read_buf(&mut self.rbuf).await? > 0)
    }

    /// Reads more bytes into the buffer; an error at the end of the stream.
    async fn fill(&mut self) -> Result<(), BoxError> {
        if self.read_more().await? {
            Ok(())
        } else {
            Err(closed_early())
        }
    }

    /// Writes the request, reads the whole response and hands it to `handle`; `true` with
    /// its result when the connection can serve another request.
    async fn exchange<T>(
        &mut self,
        req: &Outgoing<'_>,
        max_body: usize,
        handle: impl FnOnce(&Response<'_>) -> T,
    ) -> Result<(T, bool), BoxError> {
        self.write_request(req).await?;
        self.rbuf.clear();
        // Informational answers (1xx) precede the final one.
        let (head, start) = loop {
            let end = loop {
                if let Some(end) = head_end(&self.rbuf) {
                    break end;
                }
                if self.rbuf.len() > MAX_HEAD {
                    return Err(invalid("response head too large"));
                }
                self.fill().await?;
            };
            let head = parse_head(self.rbuf.get(..end).unwrap_or_default(), req.method)?;
            let s = head.status.as_u16();
            if s == 101 {
                return Err(invalid("unexpected protocol switch"));
            }
            if (100..200).contains(&s) {
                self.rbuf.drain(..end);
                continue;
            }
            break (head, end);
        };
        let mut chunked = Vec::new();
        let (body_at, body_end, clean) = match head.framing {
            Framing::Empty => (start, start, self.rbuf.len() == start),
            Framing::Length(n) => {
                if n > max_body {
                    return Err(format!("response body over {max_body} bytes").into());
                }
                let want = start.saturating_add(n);
                if self.rbuf.capacity() < want {
                    self.rbuf.reserve(want - self.rbuf.len());
                }
                while self.rbuf.len() < want {
                    self.fill().await?;
                }
                (start, want, self.rbuf.len() == want)
            }
            Framing::Chunked => {
                let clean = self.read_chunked(start, max_body, &mut chunked).await?;
                (0, 0, clean)
            }
            Framing::Eof => {
                loop {
                    if self.rbuf.len() - start > max_body {
                        return Err(format!("response body over {max_body} bytes").into());
                    }
                    if !self.read_more().await? {
                        break;
                    }
                }
                if self.rbuf.len() - start > max_body {
                    return Err(format!("response body over {max_body} bytes").into());
                }
                (start, self.rbuf.len(), false)
            }
        };
        let out = {
            let body = if head.framing == Framing::Chunked {
                &chunked[..]
            } else {
                self.rbuf.get(body_at..body_end).unwrap_or_default()
            };
            handle(&Response {
                status: head.status,
                head: self.rbuf.get(..start).unwrap_or_default(),
                known: head.known,
                body,
            })
        };
        self.rbuf.clear();
        if self.rbuf.capacity() > 4 * READ_BUF {
            self.rbuf.shrink_to(READ_BUF);
        }
        Ok((out, head.keep_alive && clean))
    }

    async fn write_request(&mut self, req: &Outgoing<'_>) -> Result<(), BoxError> {
        let w = &mut self.wbuf;
        w.clear();
        w.extend_from_slice(req.method.as_str().as_bytes());
        w.push(b' ');
        w.extend_from_slice(req.target.as_bytes());
        w.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in req.headers {
            if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
                continue;
            }
            w.extend_from_slice(name.as_str().as_bytes());
            w.extend_from_slice(b": ");
            w.extend_from_slice(value.as_bytes());
            w.extend_from_slice(b"\r\n");
        }
        // A length for every body, and for methods that carry one even when empty
        // (RFC 9110 §8.6).
        let bodiless = matches!(*req.method, Method::GET | Method::HEAD | Method::DELETE);
        if !req.body.is_empty() || !bodiless {
            w.extend_from_slice(b"content-length: ");
            w.extend_from_slice(itoa(req.body.len(), &mut [0u8; 20]));
            w.extend_from_slice(b"\r\n");
        }
        w.extend_from_slice(b"\r\n");
        if req.body.len() <= JOIN_BODY {
            w.extend_from_slice(req.body);
            self.io.write_all(&self.wbuf).await?;
        } else {
            self.io.write_all(&self.wbuf).await?;
            self.io.write_all(req.body).await?;
        }
        self.io.flush().await?;
        if self.wbuf.capacity() > JOIN_BODY {
            self.wbuf = Vec::with_capacity(1024);
        }
        Ok(())
    }

    /// Reads a chunked body starting at `start` into `body` (RFC 9112 §7.1); trailers are
    /// read and dropped. `true` when nothing follows.
    async fn read_chunked(
        &mut self,
        start: usize,
        max_body: usize,
        body: &mut Vec<u8>,
    ) -> Result<bool, BoxError> {
        let mut pos = start;
        loop {
            let line_end = loop {
                if let Some(i) = self
                    .rbuf
                    .get(pos..)
                    .and_then(|r| r.iter().position(|&b| b == b'\n'))
                {
                    break pos + i;
                }
                if self.rbuf.len() - pos > 1024 {
                    return Err(invalid("bad chunk size line"));
                }
                self.fill().await?;
            };
            let line = self.rbuf.get(pos..line_end).unwrap_or_default();
            let size = chunk_size(line.strip_suffix(b"\r").unwrap_or(line))?;
            pos = line_end + 1;
            if size == 0 {
                break;
            }
            if body.len().saturating_add(size) > max_body {
                return Err(format!("response body over {max_body} bytes").into());
            }
            // The data and its CRLF.
            let want = pos.saturating_add(size).saturating_add(2);
            while self.rbuf.len() < want {
                self.fill().await?;
            }
            body.extend_from_slice(self.rbuf.get(pos..pos + size).unwrap_or_default());
            if self.rbuf.get(pos + size..want) != Some(b"\r\n".as_slice()) {
                return Err(invalid("chunk not followed by CRLF"));
            }
            pos = want;
            // Drop the framing read so far (the head stays), so that many small chunks
            // cannot grow the buffer past the body.
            if pos - start > READ_BUF {
                self.rbuf.drain(start..pos);
                pos = start;
            }
        }
        // Trailer fields, up to the empty line: at most `MAX_HEAD` bytes of them in all, so
        // an endless trailer section cannot grow the buffer.
        let trailers_at = pos;
        loop {
            let line_end = loop {
                if let Some(i) = self
                    .rbuf
                    .get(pos..)
                    .and_then(|r| r.iter().position(|&b| b == b'\n'))
                {
                    break pos + i;
                }
                if self.rbuf.len() - trailers_at > MAX_HEAD {
                    return Err(invalid("trailers too large"));
                }
                self.fill().await?;
            };
            if line_end - trailers_at > MAX_HEAD {
                return Err(invalid("trailers too large"));
            }
            let line = self.rbuf.get(pos..line_end).unwrap_or_default();
            pos = line_end + 1;
            if line.is_empty() || line == b"\r" {
                break;
            }
        }
        Ok(self.rbuf.len() == pos)
    }
}

/// Formats `n` in decimal into `buf`.
fn itoa(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            // `n % 10` is below 10.
            *d = b'0' + u8::try_from(n % 10).unwrap_or(0);
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

impl Client {
    /// A client for the origin of `base` (its scheme and authority; the path is ignored).
    pub(crate) fn new(
        connector: Connector,
        base: &Uri,
        idle_timeout: Duration,
    ) -> Result<Self, http::Error> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = base.scheme().cloned();
        parts.authority = base.authority().cloned();
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        let origin = Uri::from_parts(parts)?;
        Ok(Self {
            shared: Arc::new(Shared {
                connector,
                origin,
                idle_timeout,
                idle: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
                reaper: AtomicBool::new(false),
                stop: CancellationToken::new(),
                #[cfg(test)]
                replaced: std::sync::atomic::AtomicUsize::new(0),
            }),
        })
    }

    /// Drops every idle connection; later requests still work (the transport refuses them
    /// itself once closed) but their connections are not pooled.
    pub(crate) fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.stop.cancel();
        let idle = std::mem::take(&mut *self.shared.lock());
        drop(idle);
    }

    /// The number of idle pooled connections.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.shared.lock().len()
    }

    /// Sends `req`, reads the whole response (refusing bodies over `max_body` bytes) and
    /// returns what `handle` makes of it.
    pub(crate) async fn send<T>(
        &self,
        req: &Outgoing<'_>,
        max_body: usize,
        handle: impl FnOnce(&Response<'_>) -> T,
    ) -> Result<T, BoxError> {
        let mut conn = match self.checkout().await {
            Some(c) => c,
            None => self.connect().await?,
        };
        let (out, reusable) = conn.exchange(req, max_body, handle).await?;
        if reusable {
            self.checkin(conn);
        }
        Ok(out)
    }

    /// The most recently used idle connection that is still open.
    async fn checkout(&self) -> Option<Box<Conn>> {
        loop {
            let mut conn = {
                let mut idle = self.shared.lock();
                let now = Instant::now();
                loop {
                    let i = idle.pop()?;
                    if now.duration_since(i.since) < self.shared.idle_timeout {
                        break i.conn;
                    }
                }
            };
            if poll_fn(|cx| Poll::Ready(conn.poll_alive(cx))).await {
                return Some(conn);
            }
            #[cfg(test)]
            self.shared.replaced.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn checkin(&self, conn: Box<Conn>) {
        if self.shared.closed.load(Ordering::Acquire) {
            return;
        }
        let dropped = {
            let mut idle = self.shared.lock();
            let dropped = (idle.len() >= MAX_IDLE).then(|| idle.remove(0));
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
            dropped
        };
        drop(dropped);
        if !self.shared.reaper.swap(true, Ordering::AcqRel) {
            spawn_reaper(&self.shared);
        }
    }

    async fn connect(&self) -> Result<Box<Conn>, BoxError> {
        let io = self
            .shared
            .connector
            .connect(self.shared.origin.clone())
            .await?;
        Ok(Box::new(Conn::new(io)))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the idle connections past the idle timeout; `false` (and the reaper marked as
    /// stopped) when none is left.
    fn prune(&self) -> bool {
        let (expired, left) = {
            let mut idle = self.lock();
            let now = Instant::now();
            let (keep, expired): (Vec<Idle>, Vec<Idle>) = std::mem::take(&mut *idle)
                .into_iter()
                .partition(|i| now.duration_since(i.since) < self.idle_timeout);
            *idle = keep;
            let left = !idle.is_empty();
            if !left {
                // Cleared under the lock: a later check-in starts a new reaper.
                self.reaper.store(false, Ordering::Release);
            }
            (expired, left)
        };
        drop(expired);
        left
    }
}

/// Closes idle connections after the idle timeout, while the pool holds any (one task per
/// pool, ended when the pool is empty, closed or dropped).
fn spawn_reaper(shared: &Arc<Shared>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        shared.reaper.store(false, Ordering::Release);
        return;
    };
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let stop = shared.stop.clone();
    let period = (shared.idle_timeout / 2).max(Duration::from_millis(10));
    rt.spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let Some(shared) = weak.upgrade() else { return };
            if !shared.prune() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use bytes::Bytes;
    use http::HeaderValue;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use std::sync::atomic::AtomicUsize;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A hyper keep-alive server counting the connections it accepted; it echoes the body,
    /// `/slow` answers after the request `/release` arrived, `/chunked` streams its answer.
    async fn server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let release = release.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: http::Request<Incoming>| {
                        let release = release.clone();
                        async move {
                            match req.uri().path() {
                                "/slow" => release.notified().await,
                                "/release" => release.notify_one(),
                                _ => {}
                            }
                            let len = req.headers().get(CONTENT_LENGTH).cloned();
                            let mut body = req.into_body().collect().await.unwrap().to_bytes();
                            if let Some(len) = len {
                                body = Bytes::from(format!(
                                    "{}|{}",
                                    len.to_str().unwrap(),
                                    String::from_utf8_lossy(&body)
                                ));
                            }
                            Ok::<_, Infallible>(http::Response::new(Full::new(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        (url, accepted)
    }

    fn client(url: &str) -> Client {
        client_with(url, Duration::from_secs(60))
    }

    fn client_with(url: &str, idle: Duration) -> Client {
        let base: Uri = url.parse().unwrap();
        Client::new(Connector::new(None, Duration::from_secs(5)), &base, idle).unwrap()
    }

    fn headers(url: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let host = url.trim_start_matches("http://");
        h.insert(http::header::HOST, HeaderValue::from_str(host).unwrap());
        h
    }

    /// A response copied out of the connection's buffer.
    struct Got {
        status: StatusCode,
        version: Option<String>,
        body: Vec<u8>,
    }

    async fn call(
        c: &Client,
        url: &str,
        method: Method,
        path: &str,
        body: &str,
    ) -> Result<Got, BoxError> {
        let h = headers(url);
        let req = Outgoing {
            method: &method,
            target: path,
            headers: &h,
            body: body.as_bytes(),
        };
        c.send(&req, 1024, |r| Got {
            status: r.status,
            version: r.header_str("X-Rxon-Version").map(str::to_owned),
            body: r.body.to_vec(),
        })
        .await
    }

    async fn send(c: &Client, url: &str, path: &str, body: &str) -> String {
        match call(c, url, Method::POST, path, body).await {
            Ok(r) => String::from_utf8(r.body).unwrap(),
            Err(e) => panic!("request failed: {e}"),
        }
    }

    #[tokio::test]
    async fn sequential_requests_reuse_one_connection() {
        let (url, accepted) = server().await;
        let c = client(&url);
        for i in 0..5 {
            let body = if i % 2 == 0 { "even" } else { "odd" };
            assert_eq!(
                send(&c, &url, "/echo", body).await,
                format!("{}|{body}", body.len())
            );
        }
        let r = call(&c, &url, Method::GET, "/echo", "").await.unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, b"", "a GET without a body sends no length");
        assert_eq!(
            send(&c, &url, "/echo", "").await,
            "0|",
            "an empty POST says its length"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(c.idle_count(), 1);
    }

    #[tokio::test]
    async fn a_busy_connection_makes_the_pool_open_another() {
        let (url, accepted) = server().await;
        let c = client(&url);
        let slow = {
            let (c, url) = (c.clone(), url.clone());
            tokio::spawn(async move { send(&c, &url, "/slow", "slow").await })
        };
        // The slow request holds its connection until the release arrives on another one.
        while accepted.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        assert_eq!(send(&c, &url, "/release", "go").await, "2|go");
        assert_eq!(slow.await.unwrap(), "4|slow");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(c.idle_count(), 2);
        // Both are reused afterwards.
        send(&c, &url, "/echo", "a").await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_dropped_request_does_not_return_its_connection() {
        let (url, accepted) = server().await;
        let c = client(&url);
        let slow = send(&c, &url, "/slow", "x");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), slow)
                .await
                .is_err()
        );
        assert_eq!(c.idle_count(), 0);
        assert_eq!(send(&c, &url, "/echo", "next").await, "4|next");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    /// A server that answers each connection's requests with the given raw responses in
    /// turn (one per request), then closes the connection after `close_after` of them.
    async fn raw_server(
        answers: Vec<&'static [u8]>,
        close_after: usize,
    ) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    for (i, answer) in answers.iter().cycle().enumerate() {
                        if i == close_after {
                            // Close a little later, once the client has pooled the connection.
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            return;
                        }
                        let mut buf = vec![0u8; 4096];
                        while head_end(&seen).is_none() {
                            let n = stream.read(&mut buf).await.unwrap();
                            if n == 0 {
                                return;
                            }
                            seen.extend_from_slice(&buf[..n]);
                        }
                        seen.clear();
                        stream.write_all(answer).await.unwrap();
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced() {
        let (url, accepted) =
            raw_server(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"], 1).await;
        let c = client(&url);
        for _ in 0..3 {
            let r = call(&c, &url, Method::GET, "/x", "")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.body, b"ok");
            // Let the close reach us before the next request.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        assert_eq!(c.shared.replaced.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn chunked_and_informational_answers_are_read_and_the_connection_reused() {
        let (url, accepted) = raw_server(
            vec![
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-RXON-Version: 1.0b17\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n",
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
            ],
            usize::MAX,
        )
        .await;
        let c = client(&url);
        let r = call(&c, &url, Method::GET, "/", "").await.unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, b"{\"a\":1}");
        assert_eq!(r.version.as_deref(), Some("1.0b17"));
        let r = call(&c, &url, Method::PATCH, "/", "").await.unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_long_chunked_body_is_joined() {
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for i in 0..5000u32 {
            answer.extend_from_slice(format!("a\r\n{:010}\r\n", i).as_bytes());
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        let answer: &'static [u8] = Box::leak(answer.into_boxed_slice());
        let (url, accepted) = raw_server(vec![answer], usize::MAX).await;
        let c = client(&url);
        let h = headers(&url);
        for _ in 0..2 {
            let req = Outgoing {
                method: &Method::GET,
                target: "/",
                headers: &h,
                body: b"",
            };
            let body = c.send(&req, 1 << 20, |r| r.body.to_vec()).await.unwrap();
            assert_eq!(body.len(), 50_000);
            assert_eq!(&body[..20], b"00000000000000000001");
            assert_eq!(&body[49_990..], b"0000004999");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn answers_that_end_the_connection_are_not_pooled() {
        for answer in [
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".as_slice(),
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n\
              2\r\nok\r\n0\r\n\r\n",
        ] {
            let answer: &'static [u8] = answer;
            let (url, _) = raw_server(vec![answer], usize::MAX).await;
            let c = client(&url);
            let r = call(&c, &url, Method::GET, "/", "").await.unwrap();
            assert_eq!(r.body, b"ok");
            assert_eq!(c.idle_count(), 0);
        }
    }

    #[tokio::test]
    async fn a_body_delimited_by_the_close_is_read_to_the_end() {
        let (url, _) = raw_server(vec![b"HTTP/1.1 200 OK\r\n\r\nuntil the end"], 1).await;
        let c = client(&url);
        let r = call(&c, &url, Method::GET, "/", "").await.unwrap();
        assert_eq!(r.body, b"until the end");
        assert_eq!(c.idle_count(), 0);
    }

    #[tokio::test]
    async fn bad_or_truncated_answers_are_errors() {
        for (answer, what) in [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".as_slice(),
                "closed before message completed",
            ),
            (b"HTTP/2 200 OK\r\n\r\n", "bad status line"),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", "bad status code"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx",
                "conflicting Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "bad Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "bad chunk size",
            ),
            (b"HTTP/1.1 200 OK\r\nbadheader\r\n\r\n", "without a colon"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
                "over 1024 bytes",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n",
                "over 1024 bytes",
            ),
        ] {
            let (url, _) = raw_server(vec![answer], 1).await;
            let c = client(&url);
            match call(&c, &url, Method::GET, "/", "").await {
                Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(answer)),
                Err(e) => assert!(e.to_string().contains(what), "{e} (wanted {what})"),
            }
            assert_eq!(c.idle_count(), 0);
        }
    }

    #[tokio::test]
    async fn trailers_are_limited_in_all_not_only_per_line() {
        // Short trailer lines, more than 64 KiB of them in all.
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for i in 0..5000u32 {
            answer.extend_from_slice(format!("X-Trailer-{i:06}: 0123456789\r\n").as_bytes());
        }
        answer.extend_from_slice(b"\r\n");
        let answer: &'static [u8] = Box::leak(answer.into_boxed_slice());
        let (url, _) = raw_server(vec![answer], 1).await;
        let c = client(&url);
        match call(&c, &url, Method::GET, "/", "").await {
            Ok(_) => panic!("an endless trailer section was accepted"),
            Err(e) => assert!(e.to_string().contains("trailers too large"), "{e}"),
        }
    }

    #[test]
    fn headers_are_found_by_name() {
        let head: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\n\
            X-Other: a\r\nx-other: b\r\nX-RXON-Version: 1.0b9\r\nx-rxon-version: 2\r\n\
            Connection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n";
        let h = parse_head(head, &Method::GET).unwrap();
        let r = Response {
            status: h.status,
            head,
            known: h.known,
            body: b"",
        };
        assert_eq!(r.header_str("content-type"), Some("application/json"));
        assert_eq!(r.header_str("X-RXON-VERSION"), Some("1.0b9"));
        assert_eq!(r.header_str("x-other"), Some("a"));
        assert_eq!(r.header("retry-after"), None);
        assert_eq!(h.framing, Framing::Length(0));
        assert!(!h.keep_alive, "Connection: close ends the connection");
        for bad in [
            b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n".as_slice(),
            b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\x01c\r\n\r\n",
        ] {
            assert!(parse_head(bad, &Method::GET).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn heads_end_at_the_first_empty_line() {
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r\nbody"), Some(19));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\n\nbody"), Some(17));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n"), None);
        assert_eq!(itoa(0, &mut [0; 20]), b"0");
        assert_eq!(itoa(1234567, &mut [0; 20]), b"1234567");
        assert_eq!(chunk_size(b"1aF;x=y").unwrap(), 0x1af);
    }

    #[tokio::test]
    async fn close_drops_idle_connections() {
        let (url, _) = server().await;
        let c = client(&url);
        send(&c, &url, "/echo", "a").await;
        assert_eq!(c.idle_count(), 1);
        c.close();
        assert_eq!(c.idle_count(), 0);
        send(&c, &url, "/echo", "b").await;
        assert_eq!(c.idle_count(), 0);
    }

    #[tokio::test]
    async fn dropping_the_client_ends_its_pruning_task() {
        // The server runs on a runtime of its own, so that only the client's tasks count here.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let _ = tx.send(server().await.0);
                std::future::pending::<()>().await;
            });
        });
        let url = rx.await.unwrap();
        let metrics = tokio::runtime::Handle::current().metrics();
        let c = client(&url);
        send(&c, &url, "/echo", "a").await;
        let with_pool = metrics.num_alive_tasks();
        drop(c);
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while metrics.num_alive_tasks() >= with_pool {
                tokio::task::yield_now().await;
            }
        });
        assert!(ended.await.is_ok(), "the pruning task outlived the client");
    }

    #[tokio::test]
    async fn idle_connections_expire() {
        let (url, accepted) = server().await;
        let c = client_with(&url, Duration::from_millis(20));
        send(&c, &url, "/echo", "a").await;
        assert_eq!(c.idle_count(), 1);
        while c.idle_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        send(&c, &url, "/echo", "b").await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }
}
