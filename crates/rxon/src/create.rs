//! [`create_transport`]: one transport type, [`AnyTransport`], for every URL scheme (spec §6.4).

use rxon_core::{
    CommandChannel, DynTransport, Heartbeat, HeartbeatReply, PollOptions, ProtocolVersion, Result,
    ResultReply, Signer, TaskPayload, TaskResult, TokenResponse, Transport, Value, WorkerCommand,
    WorkerEventPayload, WorkerRegistration,
};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Options of [`create_transport`]; every field has a sensible default.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TransportOptions {
    /// Protocol profile (default 1.0b17).
    pub version: ProtocolVersion,
    /// Signs register, heartbeat, result and event bodies (and WebSocket events).
    pub signer: Option<Arc<dyn Signer>>,
    /// TLS client configuration for `https://` and `wss://` (custom roots, mTLS).
    #[cfg(feature = "http")]
    pub tls: Option<Arc<rxon_transport_http::rustls::ClientConfig>>,
    /// Result attempts on network errors (default 3).
    pub result_retries: Option<u32>,
    /// First delay between result attempts (default 100 ms, doubled each time).
    pub result_retry_delay: Option<Duration>,
    /// Timeout of non-poll requests (default 30 s).
    pub request_timeout: Option<Duration>,
    /// Added to a poll's timeout for the request's own timeout (default 5 s).
    pub poll_grace: Option<Duration>,
}

impl TransportOptions {
    /// Default options.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the protocol profile.
    #[must_use]
    pub fn version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the message signer.
    #[must_use]
    pub fn signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Sets the TLS client configuration.
    #[cfg(feature = "http")]
    #[must_use]
    pub fn tls(mut self, tls: Arc<rxon_transport_http::rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the result retry policy.
    #[must_use]
    pub fn result_retries(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.result_retries = Some(attempts);
        self.result_retry_delay = Some(first_delay);
        self
    }

    /// Sets the timeout of non-poll requests.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    #[cfg(feature = "http")]
    fn http_config(
        &self,
        base_url: &str,
        worker_id: &str,
        token: &str,
    ) -> rxon_transport_http::HttpTransportConfig {
        let mut c = rxon_transport_http::HttpTransportConfig::new(base_url, worker_id, token)
            .with_version(self.version);
        c.tls.clone_from(&self.tls);
        c.signer.clone_from(&self.signer);
        if let Some(n) = self.result_retries {
            c.result_retries = n;
        }
        if let Some(d) = self.result_retry_delay {
            c.result_retry_delay = d;
        }
        if let Some(d) = self.request_timeout {
            c.request_timeout = d;
        }
        if let Some(d) = self.poll_grace {
            c.poll_grace = d;
        }
        c
    }
}

/// A worker transport chosen at run time by [`create_transport`]. It implements
/// [`Transport`] and [`CommandChannel`] by delegating to the variant.
#[non_exhaustive]
pub enum AnyTransport {
    /// `http://` and `https://` (and `ws://`/`wss://` without the `ws` feature): requests only;
    /// `next_command` waits until the transport is closed.
    #[cfg(feature = "http")]
    Http(rxon_transport_http::HttpTransport),
    /// `ws://` and `wss://`: the HTTP transport plus the command WebSocket.
    #[cfg(feature = "ws")]
    Ws(rxon_transport_ws::WsTransport<rxon_transport_http::HttpTransport>),
    /// `mock://`: the in-memory mock.
    #[cfg(feature = "testing")]
    Mock(rxon_testing::MockTransport),
    /// Any other implementation.
    Custom(Arc<dyn DynTransport>),
}

impl fmt::Debug for AnyTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "http")]
            Self::Http(t) => f.debug_tuple("Http").field(t).finish(),
            #[cfg(feature = "ws")]
            Self::Ws(t) => f.debug_tuple("Ws").field(t).finish(),
            #[cfg(feature = "testing")]
            Self::Mock(t) => f.debug_tuple("Mock").field(t).finish(),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Creates the transport for an orchestrator URL (spec §6.4):
///
/// | URL | Transport |
/// |---|---|
/// | `http://…`, `https://…` | [`AnyTransport::Http`] |
/// | `ws://…`, `wss://…` | [`AnyTransport::Ws`]: requests over `http(s)://…`, commands over the WebSocket (without the `ws` feature: [`AnyTransport::Http`], as the reference does) |
/// | `mock://…` | [`AnyTransport::Mock`] (feature `testing`) |
///
/// Schemes are matched case-sensitively, like the reference.
///
/// # Errors
/// [`rxon_core::Error::Unsupported`] `Unsupported transport scheme in URL: <url>` for any
/// other URL (or a scheme whose feature is off); the transport's own construction errors.
pub fn create_transport(
    url: &str,
    worker_id: &str,
    token: &str,
    options: TransportOptions,
) -> Result<AnyTransport> {
    let unsupported = || rxon_core::Error::Unsupported {
        what: format!("Unsupported transport scheme in URL: {url}"),
    };
    #[cfg(feature = "http")]
    {
        if url.starts_with("http://") || url.starts_with("https://") {
            let t = rxon_transport_http::HttpTransport::new(
                options.http_config(url, worker_id, token),
            )?;
            return Ok(AnyTransport::Http(t));
        }
        if let Some(rest) = url.strip_prefix("ws") {
            if !(rest.starts_with("://") || rest.starts_with("s://")) {
                return Err(unsupported());
            }
            let http_url = format!("http{rest}");
            let http = rxon_transport_http::HttpTransport::new(
                options.http_config(&http_url, worker_id, token),
            )?;
            #[cfg(feature = "ws")]
            {
                let mut ws = rxon_transport_ws::WsConfig::default().version(options.version);
                if let Some(tls) = &options.tls {
                    ws = ws.tls(Arc::clone(tls));
                }
                if let Some(s) = &options.signer {
                    ws = ws.signer(Arc::clone(s), None);
                }
                let t = rxon_transport_ws::WsTransport::new(http, url, worker_id, token, ws)?;
                return Ok(AnyTransport::Ws(t));
            }
            #[cfg(not(feature = "ws"))]
            return Ok(AnyTransport::Http(http));
        }
    }
    #[cfg(feature = "testing")]
    if url.starts_with("mock://") {
        let _ = &options;
        return Ok(AnyTransport::Mock(
            rxon_testing::MockTransport::with_identity(worker_id, token),
        ));
    }
    let _ = (worker_id, token, &options);
    Err(unsupported())
}

macro_rules! delegate {
    ($self:ident, $t:ident => $call:expr, $dyn_call:expr) => {
        match $self {
            #[cfg(feature = "http")]
            Self::Http($t) => $call,
            #[cfg(feature = "ws")]
            Self::Ws($t) => $call,
            #[cfg(feature = "testing")]
            Self::Mock($t) => $call,
            Self::Custom($t) => $dyn_call,
        }
    };
}

impl Transport for AnyTransport {
    async fn register(&self, registration: &WorkerRegistration) -> Result<Value> {
        delegate!(self, t => t.register(registration).await, t.register_dyn(registration).await)
    }

    async fn poll_task(&self, options: &PollOptions) -> Result<Option<TaskPayload>> {
        delegate!(self, t => t.poll_task(options).await, t.poll_task_dyn(options).await)
    }

    async fn send_result(&self, result: &TaskResult) -> Result<ResultReply> {
        delegate!(self, t => t.send_result(result).await, t.send_result_dyn(result).await)
    }

    async fn send_heartbeat(&self, heartbeat: Option<&Heartbeat>) -> Result<HeartbeatReply> {
        delegate!(self, t => t.send_heartbeat(heartbeat).await, t.send_heartbeat_dyn(heartbeat).await)
    }

    async fn emit_event(&self, event: &WorkerEventPayload) -> Result<()> {
        delegate!(self, t => t.emit_event(event).await, t.emit_event_dyn(event).await)
    }

    async fn refresh_token(&self) -> Result<Option<TokenResponse>> {
        delegate!(self, t => t.refresh_token().await, t.refresh_token_dyn().await)
    }

    async fn close(&self) {
        delegate!(self, t => t.close().await, t.close_dyn().await);
    }

    fn current_token(&self) -> Option<String> {
        delegate!(self, t => Transport::current_token(t), t.current_token_dyn())
    }
}

impl CommandChannel for AnyTransport {
    async fn next_command(&self) -> Result<Option<WorkerCommand>> {
        delegate!(self, t => t.next_command().await, t.next_command_dyn().await)
    }
}
