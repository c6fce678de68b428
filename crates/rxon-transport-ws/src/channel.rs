//! [`WsCommandChannel`]: the reconnecting command socket (spec §7) and its background task.

use crate::config::{FAR_FUTURE, WsConfig, deadline_after, jittered};
use crate::sign::{fill_timestamp, sign_event};
use crate::url::command_url;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use rxon_core::wire::{AUTH_HEADER_WORKER, AUTH_HEADER_WORKER_ID, PROTOCOL_VERSION_HEADER};
use rxon_core::{CommandChannel, Error, Model, Result, WorkerCommand, WorkerEventPayload, json};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream, client_async_tls_with_config};
use tokio_util::sync::{CancellationToken, DropGuard};

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;
type WsSink = SplitSink<WsStream, Message>;
type WsRead = SplitStream<WsStream>;

/// The open socket's write half and the token that ends its read loop.
struct Open {
    sink: WsSink,
    conn: CancellationToken,
}

/// State shared between the handle and the background connection task.
struct Shared {
    url: String,
    tls: bool,
    worker_id: String,
    token: StdMutex<String>,
    config: WsConfig,
    tls_config: Option<Arc<rustls::ClientConfig>>,
    open: Mutex<Option<Open>>,
    connected: watch::Sender<bool>,
    connects: AtomicU64,
    version_warned: AtomicBool,
    cancel: CancellationToken,
}

impl Shared {
    fn token(&self) -> String {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A worker's command WebSocket to `<base>/_worker/ws/<worker_id>` (spec §7).
///
/// A background task keeps the socket open: it pings every
/// [`ping_interval`](WsConfig::ping_interval), replaces a socket that stays silent for
/// [`pong_timeout`](WsConfig::pong_timeout) after a ping, and reconnects with exponential
/// backoff and jitter (1 s doubling to 60 s by default, back to 1 s after every successful
/// connection) until [`close`](Self::close) — handshake refusals (403, 500) included.
/// Commands arrive through [`CommandChannel::next_command`]; text frames that are not a
/// command object are logged and skipped, binary frames ignored. Events can be sent with
/// [`send_event`](Self::send_event) while the socket is open.
///
/// Both protocol versions reconnect (the 1.0b9 reference gave up after the first
/// connection ended; reconnecting is invisible to either orchestrator). An event sent while
/// the socket is down is not queued: [`send_event`](Self::send_event) fails, and
/// [`WsTransport`](crate::WsTransport) then posts it through its inner transport.
///
/// Dropping the channel stops the background task.
pub struct WsCommandChannel {
    shared: Arc<Shared>,
    commands: Mutex<mpsc::Receiver<Box<WorkerCommand>>>,
    pending_start: StdMutex<Option<mpsc::Sender<Box<WorkerCommand>>>>,
    _guard: DropGuard,
}

impl fmt::Debug for WsCommandChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsCommandChannel")
            .field("url", &self.shared.url)
            .field("worker_id", &self.shared.worker_id)
            .field("connected", &self.is_connected())
            .field("closed", &self.shared.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// Opens a worker's command channel and starts connecting in the background (the call does
/// not wait for the socket). Must be called inside a Tokio runtime.
///
/// `base_url` is the orchestrator's `http(s)://` or `ws(s)://` URL (see
/// [`command_url`](crate::command_url)).
///
/// # Errors
/// [`Error::Unsupported`] for an unknown URL scheme, [`Error::Internal`] outside a Tokio
/// runtime or when the default TLS configuration cannot be built.
pub fn connect_command_channel(
    base_url: &str,
    worker_id: &str,
    token: &str,
    config: WsConfig,
) -> Result<WsCommandChannel> {
    let channel = WsCommandChannel::new(base_url, worker_id, token, config)?;
    channel.start()?;
    Ok(channel)
}

impl WsCommandChannel {
    /// A channel that is not connected yet: it starts with [`start`](Self::start) or the first
    /// [`next_command`](CommandChannel::next_command).
    ///
    /// # Errors
    /// As [`connect_command_channel`], except the runtime check.
    pub fn new(base_url: &str, worker_id: &str, token: &str, config: WsConfig) -> Result<Self> {
        let url = command_url(base_url, worker_id)?;
        let tls = url.starts_with("wss://");
        let tls_config = match (&config.tls, tls) {
            (Some(c), true) => Some(Arc::clone(c)),
            (None, true) => Some(default_tls_config()?),
            (_, false) => None,
        };
        let (tx, rx) = mpsc::channel(config.command_buffer.max(1));
        let cancel = CancellationToken::new();
        let shared = Arc::new(Shared {
            url,
            tls,
            worker_id: worker_id.to_owned(),
            token: StdMutex::new(token.to_owned()),
            config,
            tls_config,
            open: Mutex::new(None),
            connected: watch::Sender::new(false),
            connects: AtomicU64::new(0),
            version_warned: AtomicBool::new(false),
            cancel: cancel.clone(),
        });
        Ok(Self {
            shared,
            commands: Mutex::new(rx),
            pending_start: StdMutex::new(Some(tx)),
            _guard: cancel.drop_guard(),
        })
    }

    /// Starts the background connection task (idempotent; nothing happens after
    /// [`close`](Self::close)).
    ///
    /// # Errors
    /// [`Error::Internal`] outside a Tokio runtime.
    pub fn start(&self) -> Result<()> {
        let mut pending = self
            .pending_start
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if pending.is_none() || self.shared.cancel.is_cancelled() {
            return Ok(());
        }
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("the WebSocket command channel needs a Tokio runtime"))?;
        if let Some(tx) = pending.take() {
            handle.spawn(run(Arc::clone(&self.shared), tx));
        }
        Ok(())
    }

    /// The socket's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The protocol version of the handshake headers and event encoding.
    #[must_use]
    pub fn version(&self) -> rxon_core::ProtocolVersion {
        self.shared.config.version
    }

    /// Whether the socket is open right now.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        *self.shared.connected.borrow()
    }

    /// A receiver that sees every change of [`is_connected`](Self::is_connected).
    #[must_use]
    pub fn watch_connected(&self) -> watch::Receiver<bool> {
        self.shared.connected.subscribe()
    }

    /// How many times the socket has been opened so far.
    #[must_use]
    pub fn connect_count(&self) -> u64 {
        self.shared.connects.load(Ordering::Relaxed)
    }

    /// Replaces the credential sent in the next handshakes (e.g. after a token refresh).
    pub fn set_token(&self, token: &str) {
        let mut held = self
            .shared
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *held != token {
            token.clone_into(&mut held);
        }
    }

    /// The credential the next handshake will send.
    #[must_use]
    pub fn token(&self) -> String {
        self.shared.token()
    }

    /// Whether [`close`](Self::close) was called (or the channel dropped).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    /// Closes the channel: the socket is closed (code 1000), reconnecting stops, waiting
    /// [`next_command`](CommandChannel::next_command) calls return `Ok(None)` and in-flight
    /// event sends fail with [`Error::Closed`].
    pub fn close(&self) {
        self.shared.cancel.cancel();
    }

    /// Sends an event frame over the open socket: compact JSON of the configured version, with
    /// a `timestamp` (the current second when missing), signed when the configuration has a
    /// signer (see [`sign_event`](crate::sign_event)). No acknowledgement exists (spec §7.2).
    ///
    /// # Errors
    /// [`Error::Network`] when the socket is not open or the send fails or times out,
    /// [`Error::Closed`] after [`close`](Self::close), and the signing errors.
    pub async fn send_event(&self, event: &WorkerEventPayload) -> Result<()> {
        let event = self.prepare_event(event)?;
        self.send_prepared(&event).await
    }

    /// The event as it is sent: with a `timestamp` (the current second when missing or 0,
    /// as orchestrators require one) and signed when a signer is configured.
    pub(crate) fn prepare_event(&self, event: &WorkerEventPayload) -> Result<WorkerEventPayload> {
        let mut event = event.clone();
        fill_timestamp(&mut event);
        if let Some(signer) = &self.shared.config.signer {
            let signer_id = self
                .shared
                .config
                .signer_id
                .as_deref()
                .unwrap_or(&self.shared.worker_id);
            sign_event(
                &mut event,
                signer.as_ref(),
                signer_id,
                self.shared.config.version,
            )?;
        }
        Ok(event)
    }

    /// Sends an already prepared event over the socket.
    pub(crate) async fn send_prepared(&self, event: &WorkerEventPayload) -> Result<()> {
        let text = event.to_json(self.shared.config.version)?;
        self.send_text(text).await
    }

    async fn send_text(&self, text: String) -> Result<()> {
        let cancel = &self.shared.cancel;
        let mut open = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(Error::Closed),
            guard = self.shared.open.lock() => guard,
        };
        let Some(current) = open.as_mut() else {
            return Err(Error::network(
                "the command WebSocket is not connected",
                None,
            ));
        };
        let sent = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(Error::Closed),
            r = timeout(self.shared.config.send_timeout, current.sink.send(Message::text(text))) => r,
        };
        let failure = match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => Error::network(
                format!("WebSocket send failed: {e}"),
                Some(Box::new(e) as _),
            ),
            Err(_) => Error::network("WebSocket send timed out", None),
        };
        // The socket is broken: stop using it and let the task reconnect.
        if let Some(broken) = open.take() {
            broken.conn.cancel();
        }
        Err(failure)
    }
}

impl CommandChannel for WsCommandChannel {
    async fn next_command(&self) -> Result<Option<WorkerCommand>> {
        self.start()?;
        let cancel = &self.shared.cancel;
        let mut rx = tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(self.closed_with(None)),
            guard = self.commands.lock() => guard,
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => Ok(self.closed_with(Some(&rx))),
            cmd = rx.recv() => Ok(cmd.map(|c| *c)),
        }
    }
}

impl WsCommandChannel {
    /// Notes commands that were received but will never be taken.
    fn closed_with(
        &self,
        rx: Option<&mpsc::Receiver<Box<WorkerCommand>>>,
    ) -> Option<WorkerCommand> {
        if let Some(n) = rx.map(mpsc::Receiver::len).filter(|n| *n > 0) {
            tracing::warn!(worker_id = %self.shared.worker_id, undelivered = n, "command channel closed with undelivered commands");
        }
        None
    }
}

/// Why a connection ended.
enum Ended {
    Closed,
    ReceiverGone,
    Broken(String),
}

/// The background task: connect, read, reconnect with backoff, until cancelled.
async fn run(shared: Arc<Shared>, tx: mpsc::Sender<Box<WorkerCommand>>) {
    let cfg = &shared.config;
    let mut delay = cfg.initial_backoff;
    loop {
        let attempt = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => break,
            // Boxed: the handshake's state is large and only needed while connecting.
            r = timeout(cfg.connect_timeout, Box::pin(connect(&shared))) => r,
        };
        let mut wait = jittered(delay);
        match attempt {
            Ok(Ok(ws)) => {
                delay = cfg.initial_backoff;
                shared.connects.fetch_add(1, Ordering::Relaxed);
                let (sink, stream) = ws.split();
                let conn = shared.cancel.child_token();
                *shared.open.lock().await = Some(Open {
                    sink,
                    conn: conn.clone(),
                });
                shared.connected.send_replace(true);
                tracing::info!(url = %shared.url, "command WebSocket connected");
                let ended = read_loop(&shared, stream, &tx, &conn).await;
                shared.connected.send_replace(false);
                let open = shared.open.lock().await.take();
                match ended {
                    Ended::Closed => {
                        if let Some(open) = open {
                            close_politely(open.sink).await;
                        }
                        break;
                    }
                    Ended::ReceiverGone => break,
                    Ended::Broken(why) => {
                        wait = jittered(delay);
                        tracing::warn!(url = %shared.url, "command WebSocket lost: {why}; reconnecting in {wait:?}");
                    }
                }
            }
            Ok(Err(e)) => {
                tracing::error!(url = %shared.url, "WebSocket connection error: {e}. Retrying in {wait:?}...");
            }
            Err(_) => {
                tracing::error!(url = %shared.url, "WebSocket connection error: timed out after {:?}. Retrying in {wait:?}...", cfg.connect_timeout);
            }
        }
        tokio::select! {
            biased;
            () = shared.cancel.cancelled() => break,
            () = sleep(wait) => {}
        }
        delay = cfg.next_backoff(delay);
    }
    shared.connected.send_replace(false);
    tracing::debug!(url = %shared.url, "command WebSocket task stopped");
}

/// Sends a normal close frame, waiting at most a second.
async fn close_politely(mut sink: WsSink) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "worker closing".into(),
    };
    let _ = timeout(Duration::from_secs(1), async {
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    })
    .await;
}

/// Reads frames until the socket ends, the channel is closed or a ping goes unanswered.
async fn read_loop(
    shared: &Shared,
    mut stream: WsRead,
    tx: &mpsc::Sender<Box<WorkerCommand>>,
    conn: &CancellationToken,
) -> Ended {
    let cfg = &shared.config;
    // A zero period makes `interval_at` panic and a huge one overflows `Instant` on every
    // tick: zero means "no pings", and the period is capped.
    let pings = !cfg.ping_interval.is_zero();
    let period = cfg
        .ping_interval
        .clamp(Duration::from_millis(1), FAR_FUTURE);
    let mut ping = tokio::time::interval_at(deadline_after(Instant::now(), period), period);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pong_deadline: Option<Instant> = None;
    loop {
        let deadline = async {
            match pong_deadline {
                Some(d) => sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = shared.cancel.cancelled() => return Ended::Closed,
            () = conn.cancelled() => return Ended::Broken("a send failed".into()),
            () = deadline => return Ended::Broken(format!("no answer to a ping within {:?}", cfg.pong_timeout)),
            _ = ping.tick(), if pings => {
                if pong_deadline.is_none() {
                    pong_deadline = Some(deadline_after(Instant::now(), cfg.pong_timeout));
                }
                if let Err(why) = send_ping(shared).await {
                    return Ended::Broken(why);
                }
            }
            msg = stream.next() => {
                pong_deadline = None;
                match msg {
                    None => return Ended::Broken("connection closed".into()),
                    Some(Err(e)) => return Ended::Broken(e.to_string()),
                    Some(Ok(Message::Text(text))) => {
                        if let Some(cmd) = decode_command(text.as_bytes()) {
                            match deliver(shared, tx, cmd).await {
                                Delivered::Now => {}
                                Delivered::AfterWaiting => ping.reset(),
                                Delivered::Closed => return Ended::Closed,
                                Delivered::ReceiverGone => return Ended::ReceiverGone,
                            }
                        }
                    }
                    Some(Ok(Message::Binary(b))) => tracing::debug!(len = b.len(), "binary WebSocket frame ignored"),
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame.map_or_else(|| "closed by the orchestrator".to_owned(), |f| format!("closed by the orchestrator ({} {})", f.code, f.reason));
                        // Events take the fallback from now on; let tungstenite answer the
                        // close frame, briefly.
                        shared.connected.send_replace(false);
                        let _ = timeout(Duration::from_secs(1), stream.next()).await;
                        return Ended::Broken(why);
                    }
                    Some(Ok(_)) => {}
                }
            }
        }
    }
}

async fn send_ping(shared: &Shared) -> std::result::Result<(), String> {
    let mut open = shared.open.lock().await;
    let Some(current) = open.as_mut() else {
        return Err("the socket was dropped".into());
    };
    match timeout(
        shared.config.send_timeout,
        current.sink.send(Message::Ping(Default::default())),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("ping failed: {e}")),
        Err(_) => Err("ping send timed out".into()),
    }
}

enum Delivered {
    Now,
    AfterWaiting,
    Closed,
    ReceiverGone,
}

/// Hands a command to the consumer, waiting (without reading the socket) while the buffer is full.
async fn deliver(
    shared: &Shared,
    tx: &mpsc::Sender<Box<WorkerCommand>>,
    cmd: WorkerCommand,
) -> Delivered {
    // Boxed so that the idle channel's buffer block stays small.
    let cmd = Box::new(cmd);
    match tx.try_send(cmd) {
        Ok(()) => Delivered::Now,
        Err(mpsc::error::TrySendError::Closed(_)) => Delivered::ReceiverGone,
        Err(mpsc::error::TrySendError::Full(cmd)) => {
            tracing::debug!("command buffer full; waiting for the worker");
            tokio::select! {
                biased;
                () = shared.cancel.cancelled() => {
                    tracing::warn!(command = %cmd.command, "command dropped: the channel was closed while it waited");
                    Delivered::Closed
                }
                permit = tx.reserve() => match permit {
                    Ok(permit) => {
                        permit.send(cmd);
                        Delivered::AfterWaiting
                    }
                    Err(_) => Delivered::ReceiverGone,
                },
            }
        }
    }
}

/// Decodes a text frame into a command; anything else is logged and skipped (spec §7.3, §18.B.3).
pub(crate) fn decode_command(text: &[u8]) -> Option<WorkerCommand> {
    let value = match json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(len = text.len(), "Failed to parse WebSocket command: {e}");
            return None;
        }
    };
    if value.as_object().is_none() {
        tracing::error!(
            "Failed to parse WebSocket command: expected a JSON object, got {}",
            value.type_name()
        );
        return None;
    }
    match WorkerCommand::from_value(&value) {
        Ok(cmd) => Some(cmd),
        Err(e) => {
            tracing::error!("Failed to parse WebSocket command: {e}");
            None
        }
    }
}

/// Why a connection attempt failed.
#[derive(Debug)]
enum ConnectError {
    Io(std::io::Error),
    Ws(tungstenite::Error),
    Refused { status: u16, body: String },
    Config(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Ws(e) => write!(f, "{e}"),
            Self::Refused { status, body } if body.is_empty() => {
                write!(f, "handshake refused with HTTP {status}")
            }
            Self::Refused { status, body } => {
                write!(f, "handshake refused with HTTP {status}: {body}")
            }
            Self::Config(e) => f.write_str(e),
        }
    }
}

impl From<tungstenite::Error> for ConnectError {
    fn from(e: tungstenite::Error) -> Self {
        match e {
            tungstenite::Error::Http(resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                let body: String = body.chars().take(200).collect();
                Self::Refused { status, body }
            }
            other => Self::Ws(other),
        }
    }
}

/// One connection attempt: TCP, TLS for `wss://`, and the upgrade with the worker headers.
async fn connect(shared: &Shared) -> std::result::Result<WsStream, ConnectError> {
    let mut request = shared.url.as_str().into_client_request()?;
    let header = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| ConnectError::Config("a header value has invalid characters".into()))
    };
    let version = shared.config.version;
    let headers = request.headers_mut();
    headers.insert(AUTH_HEADER_WORKER, header(&shared.token())?);
    headers.insert(PROTOCOL_VERSION_HEADER, header(version.as_str())?);
    if !version.is_b9() {
        headers.insert(AUTH_HEADER_WORKER_ID, header(&shared.worker_id)?);
    }
    let uri = request.uri();
    let host = uri
        .host()
        .ok_or_else(|| ConnectError::Config(format!("no host in {}", shared.url)))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if shared.tls { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(ConnectError::Io)?;
    let _ = tcp.set_nodelay(true);
    let connector = match &shared.tls_config {
        Some(c) if shared.tls => Connector::Rustls(Arc::clone(c)),
        _ => Connector::Plain,
    };
    let (ws, response) = client_async_tls_with_config(
        request,
        tcp,
        Some(shared.config.websocket_config()),
        Some(connector),
    )
    .await?;
    if let Some(theirs) = response
        .headers()
        .get(PROTOCOL_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        && theirs != version.as_str()
        && !shared.version_warned.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            "RXON Protocol Version Mismatch! Orchestrator: {theirs}, Worker: {}",
            version.as_str()
        );
    }
    Ok(ws)
}

/// The Mozilla roots with the ring provider.
fn default_tls_config() -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::internal(format!("TLS configuration: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_that_are_not_commands_are_skipped() {
        assert!(decode_command(b"not json").is_none());
        assert!(decode_command(b"[1]").is_none());
        assert!(decode_command(b"null").is_none());
        assert!(
            decode_command(b"{\"task_id\":\"t\"}").is_none(),
            "command is required"
        );
        assert!(decode_command(b"{\"command\":5}").is_none());
        let cmd = decode_command(
            br#"{"command": "cancel_task", "task_id": "t-1", "job_id": "j-1", "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(cmd, WorkerCommand::cancel_task("t-1", Some("j-1".into())));
    }

    #[test]
    fn wss_gets_a_ring_tls_config() {
        let c = WsCommandChannel::new("https://example.invalid", "w", "t", WsConfig::default())
            .unwrap();
        assert!(c.shared.tls_config.is_some());
        assert_eq!(c.url(), "wss://example.invalid/_worker/ws/w");
        let c =
            WsCommandChannel::new("http://example.invalid", "w", "t", WsConfig::default()).unwrap();
        assert!(c.shared.tls_config.is_none());
    }

    #[tokio::test]
    async fn close_before_start_ends_commands() {
        let c = WsCommandChannel::new("http://127.0.0.1:9", "w", "t", WsConfig::default()).unwrap();
        c.close();
        assert!(c.next_command().await.unwrap().is_none());
        assert!(matches!(
            c.send_event(&WorkerEventPayload::default()).await,
            Err(Error::Closed)
        ));
    }

    /// A one-connection server that sends one command frame and then keeps the socket open.
    async fn serve_one_command() -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            ws.send(Message::text(
                r#"{"command":"cancel_task","task_id":"t-1"}"#,
            ))
            .await
            .unwrap();
            // Read until the client goes away.
            while let Some(Ok(_)) = ws.next().await {}
        });
        (base, server)
    }

    /// Zero and huge timer settings used to panic the background task (`interval_at` with a
    /// zero period, `Instant` overflow); now zero disables pings and huge values are capped.
    #[tokio::test]
    async fn extreme_ping_settings_do_not_kill_the_task() {
        for (interval, pong) in [
            (Duration::ZERO, Duration::from_secs(10)),
            (Duration::MAX, Duration::MAX),
            (Duration::from_millis(1), Duration::MAX),
        ] {
            let (base, server) = serve_one_command().await;
            let config = WsConfig::default()
                .ping_interval(interval)
                .pong_timeout(pong);
            let c = connect_command_channel(&base, "w", "t", config).unwrap();
            let cmd = timeout(Duration::from_secs(20), c.next_command())
                .await
                .expect("a command within 20 s")
                .unwrap();
            assert_eq!(
                cmd,
                Some(WorkerCommand::cancel_task("t-1", None)),
                "{interval:?}"
            );
            // Let a few 1 ms pings go out when they are on.
            sleep(Duration::from_millis(20)).await;
            assert!(c.is_connected(), "{interval:?}");
            c.close();
            let _ = timeout(Duration::from_secs(5), server).await;
        }
    }

    #[test]
    fn start_outside_a_runtime_is_an_error() {
        let c = WsCommandChannel::new("http://127.0.0.1:9", "w", "t", WsConfig::default()).unwrap();
        assert!(c.start().is_err());
    }
}
