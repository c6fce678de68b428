//! [`HttpTransport`]: the request procedure of spec §6.2 and the operations of §6.3.

use crate::client::{Client, Outgoing, Response};
use crate::config::HttpTransportConfig;
use crate::connector::{Connector, default_tls_config};
use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Uri};
use rxon_core::canonical::{canonical_string, set_signature};
use rxon_core::model::Model;
use rxon_core::normalize::normalize_owned;
use rxon_core::value::{Map, Value};
use rxon_core::wire::{self, ProtocolVersion};
use rxon_core::{
    CommandChannel, Error, Heartbeat, HeartbeatReply, PollOptions, Result, ResultReply, Signer,
    TaskPayload, TaskResult, TokenResponse, Transport, WorkerCommand, WorkerEventPayload,
    WorkerRegistration,
};
use std::fmt;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

const H_TOKEN: HeaderName = HeaderName::from_static("x-worker-token");
const H_VERSION: HeaderName = HeaderName::from_static("x-rxon-version");
const H_WORKER_ID: HeaderName = HeaderName::from_static("x-worker-id");
const H_RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");

/// Top-level keys left out of an event's signature (spec §10.4, §15.3).
const EVENT_IGNORE_FIELDS: &[&str] = &["bubbling_chain"];

/// The worker transport over HTTP/1.1 and HTTPS (spec §6).
///
/// One pooled keep-alive client serves every call; the transport is cheap to clone (clones
/// share the client, the credential and the closed state) and all methods take `&self`, so a
/// worker's poll loop, heartbeat loop and result senders can run at once.
///
/// Behaviour, following the reference (spec §6.2, §6.3):
/// * headers `X-Worker-Token`, `X-RXON-Version`, `X-Worker-ID` (1.0b17 profile),
///   `Content-Type: application/json` with a body, and `Accept-Encoding: identity` (so that
///   orchestrators that compress large answers keep their version header, spec §15.9);
/// * a peer version different from ours is logged once;
/// * `204` is "nothing"; `401` renews the credential once ([`Transport::refresh_token`]) and
///   retries, then fails with [`Error::Auth`]; `403` is [`Error::Auth`] too (the live
///   orchestrator answers every authentication failure with 403); `429` is
///   [`Error::RateLimited`] with `Retry-After` (seconds or HTTP-date) and the body's `code`;
///   other statuses ≥ 400 are [`Error::Protocol`] with the status;
/// * transport failures and timeouts are [`Error::Network`]
///   (`Network error during METHOD path: detail`);
/// * after [`Transport::close`] every in-flight call ends promptly and later calls fail with
///   [`Error::Closed`].
///
/// Plain HTTP has no command channel: the [`CommandChannel`] implementation never yields a
/// command — `next_command` only waits until the transport is closed and then returns
/// `Ok(None)`. Orchestrator commands need the WebSocket channel (`rxon-transport-ws`).
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    worker_id: String,
    version: ProtocolVersion,
    version_header: HeaderValue,
    worker_id_header: Option<HeaderValue>,
    tls: Option<Arc<rustls::ClientConfig>>,
    signer: Option<Arc<dyn Signer>>,
    result_retries: u32,
    result_retry_delay: Duration,
    request_timeout: Duration,
    poll_grace: Duration,
    max_response_bytes: usize,
    /// The pooled client of the base URL's origin (`None` when the base URL does not parse
    /// as a URI: every request then reports that).
    client: Option<Client>,
    /// The base URL's path (a prefix such as `/api`, or empty), for origin-form targets.
    base_path: String,
    /// `Host` from the base URL: the host, and the port unless it is the scheme's default.
    host_header: Option<HeaderValue>,
    /// The heartbeat path (`/_worker/workers/{id}`).
    heartbeat_path: String,
    /// The poll path (`/_worker/workers/{id}/tasks/next`).
    poll_path: String,
    /// The last poll target (origin-form URI) built, for the options it was built for.
    poll_uri: Mutex<Option<(PollOptions, Uri)>>,
    /// The result target (origin-form URI), parsed once (`None` when the base URL does not
    /// parse as a URI).
    result_uri: Option<Uri>,
    creds: Mutex<Arc<Creds>>,
    refresh_lock: tokio::sync::Mutex<()>,
    cancel: CancellationToken,
    mismatch_logged: AtomicBool,
    last_stamp: AtomicI64,
    /// The length of the last result body, to size the next one's buffer.
    result_len_hint: AtomicUsize,
}

struct Creds {
    token: Arc<str>,
    token_header: HeaderValue,
    refresh_token: Option<String>,
    /// Every header of a request without a body, built once per credential.
    headers: HeaderMap,
    /// The same with `Content-Type: application/json`.
    headers_json: HeaderMap,
}

impl Creds {
    fn new(
        token: Arc<str>,
        token_header: HeaderValue,
        refresh_token: Option<String>,
        common: &Common<'_>,
    ) -> Self {
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(H_TOKEN, token_header.clone());
        headers.insert(H_VERSION, common.version.clone());
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        if let Some(id) = common.worker_id {
            headers.insert(H_WORKER_ID, id.clone());
        }
        let mut headers_json = headers.clone();
        headers_json.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(host) = common.host {
            headers.insert(HOST, host.clone());
            headers_json.insert(HOST, host.clone());
        }
        Self {
            token,
            token_header,
            refresh_token,
            headers,
            headers_json,
        }
    }
}

/// The headers that do not depend on the credential.
struct Common<'a> {
    version: &'a HeaderValue,
    worker_id: Option<&'a HeaderValue>,
    host: Option<&'a HeaderValue>,
}

/// `Host` as the HTTP client derives it from a URI: the host, and the port unless it is the
/// scheme's default.
fn host_header_for(uri: &Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let secure = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let port = match (uri.port_u16(), secure) {
        (Some(443), true) | (Some(80), false) | (None, _) => None,
        (Some(p), _) => Some(p),
    };
    match port {
        Some(p) => HeaderValue::from_str(&format!("{host}:{p}")).ok(),
        None => HeaderValue::from_str(host).ok(),
    }
}

/// A request body, built anew for every attempt (signed bodies are re-stamped).
enum Payload<'a> {
    Empty,
    Json(Bytes),
    Signed {
        value: Value,
        ignore: &'a [&'a str],
        stamp: Stamp,
    },
}

#[derive(Clone, Copy)]
enum Stamp {
    /// The current time.
    Now,
    /// Strictly increasing per transport, so that two identical messages never share a body
    /// (the live orchestrator uses the signature as a replay nonce).
    Monotonic,
}

/// Where a request goes: a prebuilt URI, or the base URL plus the path (and a query).
#[derive(Clone)]
enum Target<'a> {
    Uri(Uri),
    Query(&'a str),
    Path,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn header_value(what: &str, s: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(s)
        .map_err(|_| Error::internal(format!("{what} cannot be sent as an HTTP header")))
}

/// Percent-encodes a query value the way the reference does: commas stay literal, spaces
/// become `+`.
fn encode_query_value(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b',' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// Percent-encodes one path segment (identifiers pass unchanged).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// The poll query string (spec §5.5.2): `timeout` as a float in seconds, skills comma-joined.
/// The 1.0b17 profile sends empty skill lists as `available_skills=`; 1.0b9 omits them.
pub(crate) fn poll_query(options: &PollOptions, version: ProtocolVersion) -> String {
    let mut q = String::from("timeout=");
    rxon_core::json::write_f64(&mut q, options.timeout.as_secs_f64());
    for (key, list) in [
        ("available_skills", &options.available_skills),
        ("hot_skills", &options.hot_skills),
    ] {
        let Some(list) = list else { continue };
        if list.is_empty() && version.is_b9() {
            continue;
        }
        q.push('&');
        q.push_str(key);
        q.push('=');
        encode_query_value(&mut q, &list.join(","));
    }
    q
}

/// `Retry-After`: a number of seconds, or an HTTP-date (seconds until then), never negative.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        // `try_from_secs_f64` refuses NaN and values past `Duration::MAX`; a huge value
        // saturates instead of panicking.
        return secs
            .is_finite()
            .then(|| Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Builds the 429 error from the answer (spec §6.2).
fn rate_limited(resp: &Response<'_>) -> Error {
    let retry_after = resp
        .header_str(H_RETRY_AFTER.as_str())
        .and_then(parse_retry_after);
    let text = String::from_utf8_lossy(resp.body);
    let (message, code) = match rxon_core::json::from_slice(resp.body) {
        Ok(Value::Object(m)) => {
            let code = m.get("code").and_then(Value::as_str).map(str::to_owned);
            let msg = m
                .get("error")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("Rate limit exceeded");
            (msg.to_owned(), code)
        }
        Ok(_) => (text.into_owned(), None),
        Err(_) => (format!("Rate limit exceeded (429): {text}"), None),
    };
    Error::RateLimited {
        message,
        retry_after,
        code: code.unwrap_or_else(|| wire::ERROR_CODE_LIMIT_EXCEEDED.to_owned()),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        let text = src.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = src.source();
    }
    s
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A fresh event id (a random UUID version 4), for [`WorkerEventPayload::event_id`].
#[must_use]
pub fn new_event_id() -> String {
    let mut b = fastrand::u128(..).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

impl HttpTransport {
    /// Builds a transport. No connection is opened until the first call.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a URL that is not `http://` or `https://`;
    /// [`Error::Internal`] when the worker id or token cannot be sent as a header, or the
    /// default TLS configuration cannot be built.
    pub fn new(config: HttpTransportConfig) -> Result<Self> {
        let base = config.base_url.trim_end_matches('/').to_owned();
        let https = base.starts_with("https://");
        if !https && !base.starts_with("http://") {
            return Err(Error::Unsupported {
                what: format!("Unsupported transport scheme in URL: {}", config.base_url),
            });
        }
        let tls = match (config.tls, https) {
            (Some(t), _) => Some(t),
            (None, true) => {
                Some(Arc::new(default_tls_config().map_err(|e| {
                    Error::internal(format!("TLS configuration failed: {e}"))
                })?))
            }
            (None, false) => None,
        };
        let connector = Connector::new(tls.clone(), config.connect_timeout);
        let version_header = HeaderValue::from_static(config.version.as_str());
        let worker_id_header = if config.version.is_b9() {
            None
        } else {
            Some(header_value("the worker id", &config.worker_id)?)
        };
        let token_header = header_value("the token", &config.token)?;
        let base_uri = Uri::try_from(base.as_str()).ok();
        let host_header = base_uri.as_ref().and_then(host_header_for);
        let client = base_uri
            .as_ref()
            .and_then(|uri| Client::new(connector, uri, config.pool_idle_timeout).ok());
        let base_path = base_uri
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let result_uri = client
            .as_ref()
            .and_then(|_| Uri::try_from(format!("{base_path}{}", wire::ENDPOINT_TASK_RESULT)).ok());
        let heartbeat_path = format!(
            "{}/workers/{}",
            wire::WORKER_API_PREFIX,
            encode_segment(&config.worker_id)
        );
        let poll_path = format!("{heartbeat_path}/tasks/next");
        let creds = Creds::new(
            config.token.into(),
            token_header,
            None,
            &Common {
                version: &version_header,
                worker_id: worker_id_header.as_ref(),
                host: host_header.as_ref(),
            },
        );
        Ok(Self {
            inner: Arc::new(Inner {
                base,
                worker_id: config.worker_id,
                version: config.version,
                version_header,
                worker_id_header,
                tls,
                signer: config.signer,
                result_retries: config.result_retries.max(1),
                result_retry_delay: config.result_retry_delay,
                request_timeout: config.request_timeout,
                poll_grace: config.poll_grace,
                max_response_bytes: config.max_response_bytes,
                client,
                base_path,
                host_header,
                heartbeat_path,
                poll_path,
                poll_uri: Mutex::new(None),
                result_uri,
                creds: Mutex::new(Arc::new(creds)),
                refresh_lock: tokio::sync::Mutex::new(()),
                cancel: CancellationToken::new(),
                mismatch_logged: AtomicBool::new(false),
                last_stamp: AtomicI64::new(0),
                result_len_hint: AtomicUsize::new(256),
            }),
        })
    }

    /// The base URL (without a trailing `/`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The worker id.
    #[must_use]
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// The protocol profile.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// The credential currently sent in `X-Worker-Token`.
    #[must_use]
    pub fn current_token(&self) -> String {
        self.creds().token.to_string()
    }

    /// The refresh token held (1.0b17), if any.
    #[must_use]
    pub fn refresh_token_held(&self) -> Option<String> {
        self.creds().refresh_token.clone()
    }

    /// The TLS client configuration used for `https://` (and by a WebSocket channel for
    /// `wss://`).
    #[must_use]
    pub fn tls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.inner.tls.clone()
    }

    /// The headers every request carries (token, version, worker id under 1.0b17), e.g. for a
    /// WebSocket handshake.
    #[must_use]
    pub fn auth_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::with_capacity(3);
        h.insert(H_TOKEN, self.creds().token_header.clone());
        h.insert(H_VERSION, self.inner.version_header.clone());
        if let Some(id) = &self.inner.worker_id_header {
            h.insert(H_WORKER_ID, id.clone());
        }
        h
    }

    /// A token that is cancelled when the transport is closed.
    #[must_use]
    pub fn closed_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// Whether [`Transport::close`] was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// The JSON text of an event as it goes on the wire (stamped and signed when a signer is
    /// configured), e.g. for a WebSocket frame.
    ///
    /// # Errors
    /// [`Error::Encode`] or a signer error.
    pub fn event_body(&self, event: &WorkerEventPayload) -> Result<String> {
        let value = event.to_value(self.inner.version)?;
        if self.inner.signer.is_some() {
            let bytes = self.stamp_and_sign(value, EVENT_IGNORE_FIELDS, unix_now())?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            Ok(value.to_json())
        }
    }

    /// Posts an event over HTTP (`POST /_worker/events`).
    ///
    /// # Errors
    /// As [`Transport::emit_event`].
    pub async fn post_event(&self, event: &WorkerEventPayload) -> Result<()> {
        let span = info_span!("rxon.event", worker_id = %self.inner.worker_id, event_id = %event.event_id,
            event_type = %event.event_type);
        async {
            let payload = self.model_payload(event, EVENT_IGNORE_FIELDS, Stamp::Now)?;
            self.request(
                Method::POST,
                wire::ENDPOINT_WORKER_EVENTS,
                payload,
                self.inner.request_timeout,
            )
            .await?;
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Sends a result once per attempt up to `attempts` times, retrying network errors only
    /// with an exponential backoff starting at `delay` (spec §6.3).
    ///
    /// # Errors
    /// The last network error, or the first other error.
    pub async fn send_result_with(
        &self,
        result: &TaskResult,
        attempts: u32,
        delay: Duration,
    ) -> Result<ResultReply> {
        let span = info_span!("rxon.result", worker_id = %self.inner.worker_id, job_id = %result.job_id,
            task_id = %result.task_id, status = %result.status());
        async {
            let attempts = attempts.max(1);
            let mut first_stamp = None;
            let mut i = 0u32;
            loop {
                let payload = match &self.inner.signer {
                    Some(_) => {
                        // Re-stamp each attempt, so that a resent result never repeats a
                        // signature the orchestrator may already have seen.
                        let base = *first_stamp.get_or_insert_with(unix_now);
                        let value = result.to_value(self.inner.version)?;
                        Payload::Json(self.stamp_and_sign(
                            value,
                            &[],
                            unix_now().max(base + i64::from(i)),
                        )?)
                    }
                    None => Payload::Json(self.result_json(result)?),
                };
                let target = match &self.inner.result_uri {
                    Some(uri) => Target::Uri(uri.clone()),
                    None => Target::Path,
                };
                match self
                    .request_q(
                        Method::POST,
                        wire::ENDPOINT_TASK_RESULT,
                        target,
                        payload,
                        self.inner.request_timeout,
                    )
                    .await
                {
                    Ok(v) => {
                        let reply = ResultReply::from_value(v.unwrap_or(Value::Null));
                        if let ResultReply::Ignored { reason, .. } = &reply {
                            if reason == wire::IGNORED_REASON_LATE
                                || reason == wire::IGNORED_REASON_CANCELLED
                            {
                                info!("Result ignored. Reason: {reason}. Job: {}", result.job_id);
                            } else {
                                warn!("Result ignored. Reason: {reason}. Job: {}", result.job_id);
                            }
                        }
                        return Ok(reply);
                    }
                    Err(e @ Error::Network { .. }) if i + 1 < attempts => {
                        let wait = delay.saturating_mul(2u32.saturating_pow(i));
                        warn!(
                            attempt = i + 1,
                            "sending the result failed, retrying in {wait:?}: {e}"
                        );
                        tokio::select! {
                            biased;
                            () = self.inner.cancel.cancelled() => return Err(Error::Closed),
                            () = tokio::time::sleep(wait) => {}
                        }
                    }
                    Err(e) => return Err(e),
                }
                i += 1;
            }
        }
        .instrument(span)
        .await
    }

    fn creds(&self) -> Arc<Creds> {
        Arc::clone(
            &self
                .inner
                .creds
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn set_token(&self, token: &TokenResponse, keep_refresh: bool) -> Result<()> {
        let header = header_value("the access token", &token.access_token)?;
        let mut c = self
            .inner
            .creds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let refresh = if !keep_refresh && !self.inner.version.is_b9() {
            token.refresh_token.clone()
        } else {
            c.refresh_token.clone()
        };
        *c = Arc::new(Creds::new(
            token.access_token.as_str().into(),
            header,
            refresh,
            &Common {
                version: &self.inner.version_header,
                worker_id: self.inner.worker_id_header.as_ref(),
                host: self.inner.host_header.as_ref(),
            },
        ));
        Ok(())
    }

    /// The poll URI for `options`, built once per options shape (`None` when the base URL
    /// does not parse: the request then reports the error).
    fn poll_uri(&self, options: &PollOptions) -> Option<Uri> {
        let mut cache = self
            .inner
            .poll_uri
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((o, uri)) = &*cache
            && o == options
        {
            return Some(uri.clone());
        }
        self.inner.client.as_ref()?;
        let uri = Uri::try_from(format!(
            "{}{}?{}",
            self.inner.base_path,
            self.inner.poll_path,
            poll_query(options, self.inner.version)
        ))
        .ok()?;
        *cache = Some((options.clone(), uri.clone()));
        Some(uri)
    }

    fn model_payload<M: Model>(
        &self,
        model: &M,
        ignore: &'static [&'static str],
        stamp: Stamp,
    ) -> Result<Payload<'static>> {
        let value = model.to_value(self.inner.version)?;
        Ok(if self.inner.signer.is_some() {
            Payload::Signed {
                value,
                ignore,
                stamp,
            }
        } else {
            Payload::Json(Bytes::from(value.to_json()))
        })
    }

    /// The wire text of an unsigned result, in a buffer sized after the last one.
    fn result_json(&self, result: &TaskResult) -> Result<Bytes> {
        let hint = self.inner.result_len_hint.load(Ordering::Relaxed);
        let mut out = String::with_capacity(hint.clamp(256, 1 << 20));
        result.write_json(&mut out, self.inner.version)?;
        self.inner
            .result_len_hint
            .store(out.len().saturating_add(64), Ordering::Relaxed);
        Ok(Bytes::from(out))
    }

    /// The next timestamp for a monotonic stamp: now, or one more than the last one.
    fn monotonic_stamp(&self) -> i64 {
        let now = unix_now();
        let prev = self
            .inner
            .last_stamp
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(prev + 1)
    }

    /// Adds `timestamp` and `security: {signature, signer_id}` to a (normalized) message and
    /// returns the wire bytes. The signature covers exactly what is sent: the version's
    /// canonical form of the body without `security` (and, under 1.0b17, `_signature`) and
    /// the `ignore` fields (spec §10.1).
    fn stamp_and_sign(&self, mut value: Value, ignore: &[&str], timestamp: i64) -> Result<Bytes> {
        let Some(signer) = &self.inner.signer else {
            return Ok(Bytes::from(value.to_json()));
        };
        let obj = value
            .as_object_mut()
            .ok_or_else(|| Error::internal("a signed message must be an object"))?;
        obj.insert("timestamp", Value::from(timestamp));
        obj.remove("security");
        let canonical = canonical_string(&value, self.inner.version, ignore)?;
        let signature = signer.sign(canonical.as_bytes())?;
        if let Some(obj) = value.as_object_mut() {
            set_signature(obj, signature, Some(&self.inner.worker_id));
        }
        Ok(Bytes::from(
            normalize_owned(value, self.inner.version)?.to_json(),
        ))
    }

    fn body_for_attempt(
        &self,
        payload: &Payload<'_>,
        attempt: u32,
        first: &mut Option<i64>,
    ) -> Result<Option<Bytes>> {
        Ok(match payload {
            Payload::Empty => None,
            Payload::Json(b) => Some(b.clone()),
            Payload::Signed {
                value,
                ignore,
                stamp,
            } => {
                let ts = match (stamp, *first) {
                    (_, Some(base)) => unix_now().max(base + i64::from(attempt)),
                    (Stamp::Now, None) => unix_now(),
                    (Stamp::Monotonic, None) => self.monotonic_stamp(),
                };
                first.get_or_insert(ts);
                Some(self.stamp_and_sign(value.clone(), ignore, ts)?)
            }
        })
    }

    /// One HTTP exchange, raced against the timeout and [`Transport::close`]; the answer is
    /// handed to `handle` while it is still in the connection's buffer.
    #[allow(clippy::too_many_arguments)]
    async fn execute<T>(
        &self,
        method: &Method,
        path: &str,
        target: Target<'_>,
        body: Option<Bytes>,
        creds: &Creds,
        timeout: Duration,
        handle: impl FnOnce(&Response<'_>) -> T,
    ) -> Result<T> {
        if self.inner.cancel.is_cancelled() {
            return Err(Error::Closed);
        }
        let uri = match target {
            Target::Uri(uri) => uri,
            Target::Query(q) => self.build_uri(method, path, Some(q))?,
            Target::Path => self.build_uri(method, path, None)?,
        };
        let headers = if body.is_some() {
            &creds.headers_json
        } else {
            &creds.headers
        };
        let body = body.unwrap_or_default();
        let req = Outgoing {
            method,
            target: uri.path_and_query().map_or("/", |p| p.as_str()),
            headers,
            body: &body,
        };
        let net = |detail: String, source: Option<rxon_core::BoxError>| {
            Error::network(
                format!("Network error during {method} {path}: {detail}"),
                source,
            )
        };
        let Some(client) = &self.inner.client else {
            return Err(Error::internal(format!(
                "cannot build the request {method} {path}: invalid base URL {}",
                self.inner.base
            )));
        };
        let exchange = async {
            client
                .send(&req, self.inner.max_response_bytes, handle)
                .await
                .map_err(|e| net(error_chain(&*e), Some(e)))
        };
        tokio::select! {
            biased;
            () = self.inner.cancel.cancelled() => Err(Error::Closed),
            r = tokio::time::timeout(timeout, exchange) => match r {
                Ok(r) => r,
                Err(_) => Err(net(format!("request timed out after {:.1}s", timeout.as_secs_f64()), None)),
            },
        }
    }

    /// The origin-form target of `path` (and `query`) under the base URL.
    fn build_uri(&self, method: &Method, path: &str, query: Option<&str>) -> Result<Uri> {
        if self.inner.client.is_none() {
            return Err(Error::internal(format!(
                "cannot build the request {method} {path}: invalid base URL {}",
                self.inner.base
            )));
        }
        let uri = match query {
            Some(q) => format!("{}{path}?{q}", self.inner.base_path),
            None => format!("{}{path}", self.inner.base_path),
        };
        Uri::try_from(uri)
            .map_err(|e| Error::internal(format!("cannot build the request {method} {path}: {e}")))
    }

    fn check_version(&self, resp: &Response<'_>) {
        if let Some(theirs) = resp.header_str(H_VERSION.as_str())
            && theirs != self.inner.version.as_str()
            && !self.inner.mismatch_logged.swap(true, Ordering::Relaxed)
        {
            warn!(
                "RXON Protocol Version Mismatch! Orchestrator: {theirs}, Worker: {}",
                self.inner.version
            );
        }
    }

    /// The request procedure of spec §6.2; `Ok(None)` for 204 or an empty JSON body.
    async fn request(
        &self,
        method: Method,
        path: &str,
        payload: Payload<'_>,
        timeout: Duration,
    ) -> Result<Option<Value>> {
        self.request_q(method, path, Target::Path, payload, timeout)
            .await
    }

    async fn request_q(
        &self,
        method: Method,
        path: &str,
        target: Target<'_>,
        payload: Payload<'_>,
        timeout: Duration,
    ) -> Result<Option<Value>> {
        self.exchange(method, path, target, payload, timeout, |resp| {
            self.interpret(path, resp)
        })
        .await
    }

    /// Sends the request, renewing the credential once after a 401 (spec §6.2), and returns
    /// what `handle` makes of the final answer.
    async fn exchange<T>(
        &self,
        method: Method,
        path: &str,
        target: Target<'_>,
        payload: Payload<'_>,
        timeout: Duration,
        mut handle: impl FnMut(&Response<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut first_stamp = None;
        for attempt in 0..2u32 {
            let body = self.body_for_attempt(&payload, attempt, &mut first_stamp)?;
            let creds = self.creds();
            let handled = self
                .execute(
                    &method,
                    path,
                    target.clone(),
                    body,
                    &creds,
                    timeout,
                    |resp| {
                        self.check_version(resp);
                        if resp.status == StatusCode::UNAUTHORIZED && attempt == 0 {
                            None
                        } else {
                            Some(handle(resp))
                        }
                    },
                )
                .await?;
            let Some(out) = handled else {
                if self.renew_after_401(&creds.token).await? {
                    continue;
                }
                return Err(Error::Auth {
                    message: format!("Unauthorized (401) from {path}"),
                    status: Some(401),
                });
            };
            return out;
        }
        Err(Error::Auth {
            message: format!("Unauthorized (401) from {path}"),
            status: Some(401),
        })
    }

    /// Renews the credential after a 401 for a request sent with `used`; `true` when a new one
    /// is in place (possibly renewed meanwhile by a concurrent request).
    async fn renew_after_401(&self, used: &str) -> Result<bool> {
        let _guard = self.inner.refresh_lock.lock().await;
        if *self.creds().token != *used {
            return Ok(true);
        }
        match self.refresh_inner().await {
            Ok(Some(_)) => Ok(true),
            Ok(None) => Ok(false),
            Err(e @ (Error::Network { .. } | Error::Closed)) => Err(e),
            Err(e) => {
                warn!("Error refreshing token: {e}");
                Ok(false)
            }
        }
    }

    /// The answer as a JSON value; `None` for 204 or an empty JSON body.
    fn interpret(&self, path: &str, resp: &Response<'_>) -> Result<Option<Value>> {
        let Some(body) = self.json_body(path, resp)? else {
            return Ok(None);
        };
        rxon_core::json::from_slice(body).map(Some).map_err(|e| {
            Error::protocol(
                format!("Response is not a valid JSON: {e}"),
                resp.status.as_u16(),
            )
        })
    }

    /// The JSON text of a successful answer (`None` for 204 or a blank body), or the error
    /// its status says (spec §6.2).
    fn json_body<'r>(&self, path: &str, resp: &Response<'r>) -> Result<Option<&'r [u8]>> {
        let status = resp.status.as_u16();
        if status == 204 {
            return Ok(None);
        }
        let text = || String::from_utf8_lossy(truncate_bytes(resp.body, 2048)).into_owned();
        match status {
            401 => {
                return Err(Error::Auth {
                    message: format!("Unauthorized (401) from {path}"),
                    status: Some(401),
                });
            }
            403 => {
                return Err(Error::Auth {
                    message: format!("HTTP 403: {}", text()),
                    status: Some(403),
                });
            }
            429 => return Err(rate_limited(resp)),
            s if s >= 400 => return Err(Error::protocol(format!("HTTP {s}: {}", text()), s)),
            _ => {}
        }
        let ctype = resp.header_str(CONTENT_TYPE.as_str()).unwrap_or("");
        let is_json = ctype.is_empty() || ctype.contains("json");
        if !is_json {
            return Err(Error::protocol(
                format!(
                    "Response is not a valid JSON: {ctype}: {}",
                    truncate(&text(), 200)
                ),
                status,
            ));
        }
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        Ok(Some(resp.body))
    }

    async fn refresh_inner(&self) -> Result<Option<TokenResponse>> {
        let creds = self.creds();
        let (path, body) = match (&creds.refresh_token, self.inner.version.is_b9()) {
            (Some(rt), false) => {
                let mut m = Map::new();
                m.insert("refresh_token", Value::from(rt.clone()));
                (
                    wire::STS_REFRESH_ENDPOINT,
                    Some(Bytes::from(Value::Object(m).to_json())),
                )
            }
            _ => (wire::STS_TOKEN_ENDPOINT, None),
        };
        let token = self
            .execute(
                &Method::POST,
                path,
                Target::Path,
                body,
                &creds,
                self.inner.request_timeout,
                |resp| {
                    self.check_version(resp);
                    if resp.status != StatusCode::OK {
                        debug!(
                            status = resp.status.as_u16(),
                            "token renewal refused at {path}"
                        );
                        return Ok(None);
                    }
                    TokenResponse::from_json(resp.body).map(Some)
                },
            )
            .await??;
        let Some(token) = token else {
            return Ok(None);
        };
        self.set_token(&token, false)?;
        info!("Token refreshed. Expires in {}s", token.expires_in);
        Ok(Some(token))
    }
}

fn truncate_bytes(b: &[u8], max: usize) -> &[u8] {
    b.get(..max).unwrap_or(b)
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base_url", &self.inner.base)
            .field("worker_id", &self.inner.worker_id)
            .field("version", &self.inner.version)
            .field("signed", &self.inner.signer.is_some())
            .field("closed", &self.inner.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Transport for HttpTransport {
    async fn register(&self, registration: &WorkerRegistration) -> Result<Value> {
        let span = info_span!("rxon.register", worker_id = %self.inner.worker_id);
        async {
            let payload = self.model_payload(registration, &[], Stamp::Monotonic)?;
            let v = self
                .request(
                    Method::POST,
                    wire::ENDPOINT_WORKER_REGISTER,
                    payload,
                    self.inner.request_timeout,
                )
                .await?
                .unwrap_or(Value::Null);
            if !self.inner.version.is_b9() && v.get("access_token").is_some() {
                match TokenResponse::from_value(&v) {
                    Ok(t) => {
                        self.set_token(&t, false)?;
                        info!("Token updated from registration response");
                    }
                    Err(e) => warn!("Failed to parse token response from registration: {e}"),
                }
            }
            if let Some(w) = v.get("warning").and_then(Value::as_str) {
                warn!("orchestrator: {w}");
            }
            Ok(v)
        }
        .instrument(span)
        .await
    }

    async fn poll_task(&self, options: &PollOptions) -> Result<Option<TaskPayload>> {
        let span = info_span!("rxon.poll", worker_id = %self.inner.worker_id, job_id = tracing::field::Empty,
            task_id = tracing::field::Empty, traceparent = tracing::field::Empty);
        async {
            let path = &self.inner.poll_path;
            let query;
            let target = match self.poll_uri(options) {
                Some(uri) => Target::Uri(uri),
                None => {
                    query = poll_query(options, self.inner.version);
                    Target::Query(&query)
                }
            };
            let timeout = options.timeout.saturating_add(self.inner.poll_grace);
            let task = self
                .exchange(Method::GET, path, target, Payload::Empty, timeout, |resp| {
                    let Some(body) = self.json_body(path, resp)? else {
                        return Ok(None);
                    };
                    // A task decodes straight from the text; anything else (an empty
                    // object, a falsy value, a bad payload) takes the value path for the
                    // reference's verdict.
                    match TaskPayload::from_json(body) {
                        Ok(task) => Ok(Some(task)),
                        Err(_) => match self.interpret(path, resp)? {
                            Some(v) if !v.is_falsy() => Ok(Some(TaskPayload::from_value_owned(v)?)),
                            _ => Ok(None),
                        },
                    }
                })
                .await?;
            let Some(task) = task else {
                return Ok(None);
            };
            let span = tracing::Span::current();
            span.record("job_id", task.job_id.as_str());
            span.record("task_id", task.task_id.as_str());
            if let Some(tp) = task.traceparent() {
                span.record("traceparent", tp);
            }
            debug!(task_type = %task.r#type, "task received");
            Ok(Some(task))
        }
        .instrument(span)
        .await
    }

    async fn send_result(&self, result: &TaskResult) -> Result<ResultReply> {
        self.send_result_with(
            result,
            self.inner.result_retries,
            self.inner.result_retry_delay,
        )
        .await
    }

    async fn send_heartbeat(&self, heartbeat: Option<&Heartbeat>) -> Result<HeartbeatReply> {
        let span = info_span!("rxon.heartbeat", worker_id = %self.inner.worker_id,
            status = heartbeat.map_or("", |h| h.status.as_str()));
        async {
            let path = &self.inner.heartbeat_path;
            let payload = match heartbeat {
                Some(h) => self.model_payload(h, &[], Stamp::Monotonic)?,
                None => Payload::Empty,
            };
            match self
                .request(Method::PATCH, path, payload, self.inner.request_timeout)
                .await
            {
                Ok(v) => Ok(HeartbeatReply::from_value(v.unwrap_or(Value::Null))),
                Err(e) => {
                    if !matches!(e, Error::Closed) {
                        warn!("Heartbeat failed: {e}");
                    }
                    Err(e)
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn emit_event(&self, event: &WorkerEventPayload) -> Result<()> {
        self.post_event(event).await
    }

    async fn refresh_token(&self) -> Result<Option<TokenResponse>> {
        let _guard = self.inner.refresh_lock.lock().await;
        match self.refresh_inner().await {
            Err(e @ Error::Contract(_)) => {
                warn!("Error refreshing token: {e}");
                Err(e)
            }
            other => other,
        }
    }

    async fn close(&self) {
        self.inner.cancel.cancel();
        if let Some(client) = &self.inner.client {
            client.close();
        }
    }

    fn current_token(&self) -> Option<String> {
        Some(HttpTransport::current_token(self))
    }
}

/// Not a command channel: plain HTTP has none. `next_command` never yields a command; it
/// waits until the transport is closed and then returns `Ok(None)`. Use the WebSocket channel
/// (`rxon-transport-ws`) for commands.
impl CommandChannel for HttpTransport {
    async fn next_command(&self) -> Result<Option<WorkerCommand>> {
        self.inner.cancel.cancelled().await;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_query_formats_like_the_reference() {
        let o = PollOptions::with_timeout(Duration::from_secs(30));
        assert_eq!(poll_query(&o, ProtocolVersion::V1_0b17), "timeout=30.0");
        let o = PollOptions::with_timeout(Duration::from_millis(1500))
            .available_skills(["resize", "ocr x"])
            .hot_skills(Vec::<String>::new());
        assert_eq!(
            poll_query(&o, ProtocolVersion::V1_0b17),
            "timeout=1.5&available_skills=resize,ocr+x&hot_skills="
        );
        assert_eq!(
            poll_query(&o, ProtocolVersion::V1_0b9),
            "timeout=1.5&available_skills=resize,ocr+x"
        );
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 2.5 "),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(parse_retry_after("-3"), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(100));
        let d = parse_retry_after(&future).unwrap_or_default();
        assert!(
            d > Duration::from_secs(90) && d <= Duration::from_secs(100),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("1e300"), Some(Duration::MAX));
        assert_eq!(parse_retry_after("NaN"), None);
    }

    #[test]
    fn event_ids_are_uuid4() {
        let a = new_event_id();
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert_ne!(a, new_event_id());
    }

    #[test]
    fn rejects_other_schemes() {
        let e = HttpTransport::new(HttpTransportConfig::new("ftp://x", "w", "t")).unwrap_err();
        assert!(
            e.to_string()
                .contains("Unsupported transport scheme in URL: ftp://x"),
            "{e}"
        );
    }
}
