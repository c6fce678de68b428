//! [`WsTransport`]: an inner (HTTP) transport plus the command WebSocket.

use crate::channel::WsCommandChannel;
use crate::config::WsConfig;
use rxon_core::{
    CommandChannel, Error, Heartbeat, HeartbeatReply, Model, PollOptions, Result, ResultReply,
    TaskPayload, TaskResult, TokenResponse, Transport, Value, WorkerCommand, WorkerEventPayload,
    WorkerRegistration,
};

/// The full worker transport for `ws://` and `wss://` URLs: every request goes through the
/// inner transport (normally the HTTP one), commands come over the WebSocket, and events go
/// over the WebSocket while it is open, else through the inner transport (spec §6.3, §7).
///
/// The socket is opened lazily, on [`start_commands`](Self::start_commands) or the first
/// [`next_command`](CommandChannel::next_command) — as the reference opens it in
/// `listen_for_commands` — so a worker registers first. Credentials the inner transport
/// adopts (a 1.0b17 register answer with `access_token`, a refreshed token, a token it renewed
/// by itself after a 401, as reported by [`Transport::current_token`]) are used for the next
/// handshakes too.
///
/// ```no_run
/// # async fn demo<T: rxon_core::Transport>(http: T) -> rxon_core::Result<()> {
/// use rxon_core::CommandChannel;
/// use rxon_transport_ws::{WsConfig, WsTransport};
/// let transport = WsTransport::new(http, "ws://127.0.0.1:8080", "worker-1", "secret", WsConfig::default())?;
/// while let Some(cmd) = transport.next_command().await? {
///     println!("{} {:?}", cmd.command, cmd.task_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WsTransport<T> {
    inner: T,
    channel: WsCommandChannel,
}

impl<T: Transport> WsTransport<T> {
    /// Wraps `inner`; the socket goes to `<base_url>/_worker/ws/<worker_id>` with `token`.
    ///
    /// # Errors
    /// As [`WsCommandChannel::new`].
    pub fn new(
        inner: T,
        base_url: &str,
        worker_id: &str,
        token: &str,
        config: WsConfig,
    ) -> Result<Self> {
        Ok(Self {
            inner,
            channel: WsCommandChannel::new(base_url, worker_id, token, config)?,
        })
    }

    /// Combines an inner transport with an existing channel.
    pub fn from_parts(inner: T, channel: WsCommandChannel) -> Self {
        Self { inner, channel }
    }

    /// Starts connecting the command socket now.
    ///
    /// # Errors
    /// [`Error::Internal`] outside a Tokio runtime.
    pub fn start_commands(&self) -> Result<()> {
        self.channel.start()
    }

    /// The inner transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The command channel (connection state, token, direct event sends).
    pub fn channel(&self) -> &WsCommandChannel {
        &self.channel
    }

    /// Hands a credential the inner transport renewed by itself (after a 401) to the channel,
    /// for its next handshake.
    fn sync_token(&self) {
        if let Some(token) = self.inner.current_token() {
            self.channel.set_token(&token);
        }
    }
}

impl<T: Transport> Transport for WsTransport<T> {
    async fn register(&self, registration: &WorkerRegistration) -> Result<Value> {
        let answer = self.inner.register(registration).await?;
        if !self.channel.version().is_b9()
            && answer.get("access_token").and_then(Value::as_str).is_some()
            && let Ok(token) = TokenResponse::from_value(&answer)
        {
            self.channel.set_token(&token.access_token);
        }
        Ok(answer)
    }

    async fn poll_task(&self, options: &PollOptions) -> Result<Option<TaskPayload>> {
        let r = self.inner.poll_task(options).await;
        self.sync_token();
        r
    }

    async fn send_result(&self, result: &TaskResult) -> Result<ResultReply> {
        let r = self.inner.send_result(result).await;
        self.sync_token();
        r
    }

    async fn send_heartbeat(&self, heartbeat: Option<&Heartbeat>) -> Result<HeartbeatReply> {
        let r = self.inner.send_heartbeat(heartbeat).await;
        self.sync_token();
        r
    }

    async fn emit_event(&self, event: &WorkerEventPayload) -> Result<()> {
        let event = self.channel.prepare_event(event)?;
        if self.channel.is_connected() {
            match self.channel.send_prepared(&event).await {
                Ok(()) => return Ok(()),
                Err(Error::Closed) => return Err(Error::Closed),
                Err(e) => {
                    tracing::debug!("event not sent over the WebSocket ({e}); using the fallback")
                }
            }
        }
        let r = self.inner.emit_event(&event).await;
        self.sync_token();
        r
    }

    async fn refresh_token(&self) -> Result<Option<TokenResponse>> {
        let renewed = self.inner.refresh_token().await?;
        if let Some(token) = &renewed {
            self.channel.set_token(&token.access_token);
        }
        Ok(renewed)
    }

    async fn close(&self) {
        self.channel.close();
        self.inner.close().await;
    }

    fn current_token(&self) -> Option<String> {
        self.inner.current_token()
    }
}

impl<T: Transport> CommandChannel for WsTransport<T> {
    async fn next_command(&self) -> Result<Option<WorkerCommand>> {
        self.channel.next_command().await
    }
}
