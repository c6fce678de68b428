//! [`ListenerConfig`]: limits, timeouts and the protocol profile of a listener.

use rxon_core::ProtocolVersion;
use std::time::Duration;

/// How a [`Listener`](crate::Listener) behaves. Build it with struct-update syntax:
/// `ListenerConfig { max_poll_timeout: Duration::from_secs(60), ..ListenerConfig::default() }`.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// Protocol profile: the version announced in `X-RXON-Version`, the response encoder and
    /// the context rules (spec §5.2). Default 1.0b17.
    pub profile: ProtocolVersion,
    /// Long-poll hold when the worker sends no `timeout` (or `0`). Default 30 s.
    pub default_poll_timeout: Duration,
    /// Longest long-poll hold; longer requested timeouts are clamped. Default 60 s.
    pub max_poll_timeout: Duration,
    /// Largest accepted request body in bytes (larger → 413). Default 1 MiB.
    pub body_limit: usize,
    /// Time allowed to receive a request body (slower → 408). Default 30 s.
    pub body_timeout: Duration,
    /// Time allowed for a handler call other than `poll` (longer → 503). Default 60 s.
    pub request_timeout: Duration,
    /// Longest accepted request target (path and query) in bytes (longer → 414). Default 8 KiB.
    pub max_uri_len: usize,
    /// Outbound frames queued per WebSocket before further commands are refused. Default 64.
    pub ws_queue_capacity: usize,
    /// Interval of server pings on idle WebSockets; a socket silent for two intervals is
    /// closed. Default 30 s.
    pub ws_ping_interval: Duration,
    /// Largest WebSocket message and frame accepted. Default 1 MiB.
    pub ws_max_message_size: usize,
    /// WebSocket read buffer size (memory per idle connection). Default 4 KiB.
    pub ws_read_buffer_size: usize,
    /// Whether handlers get each inbound message as received ([`Incoming::raw`]) besides the
    /// decoded model. Default `true`: signatures are verified over `raw`. A handler that never
    /// reads `raw` may turn it off: messages are then decoded by moving the parsed JSON into
    /// the model instead of copying it, and `raw` is `Value::Null`.
    ///
    /// [`Incoming::raw`]: rxon_core::Incoming::raw
    pub keep_raw: bool,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            profile: ProtocolVersion::V1_0b17,
            default_poll_timeout: Duration::from_secs(30),
            max_poll_timeout: Duration::from_secs(60),
            body_limit: 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_uri_len: 8 * 1024,
            ws_queue_capacity: 64,
            ws_ping_interval: Duration::from_secs(30),
            ws_max_message_size: 1024 * 1024,
            ws_read_buffer_size: 4096,
            keep_raw: true,
        }
    }
}

impl ListenerConfig {
    /// The long-poll hold for a requested timeout: absent/zero → the default, then clamped.
    #[must_use]
    pub fn poll_hold(&self, requested: Option<Duration>) -> Duration {
        requested
            .filter(|d| !d.is_zero())
            .unwrap_or(self.default_poll_timeout)
            .min(self.max_poll_timeout)
    }
}
