//! [`WsConfig`]: keep-alive, reconnect, buffer and signing settings of the command socket.

use rxon_core::{ProtocolVersion, Signer};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Settings of a worker's command WebSocket.
///
/// Defaults: protocol 1.0b17, a ping every 20 s and a dead socket when no frame answers it
/// within 10 s, reconnect backoff from 1 s doubling to 60 s with ±20 % jitter, a 10 s connect
/// (TCP + TLS + handshake) timeout, a 4 KiB read buffer, no write buffer, messages and frames
/// up to 1 MiB, room for 64 undelivered commands, and no event signing.
///
/// ```
/// use rxon_transport_ws::WsConfig;
/// use std::time::Duration;
/// let config = WsConfig::default().ping_interval(Duration::from_secs(5)).max_backoff(Duration::from_secs(10));
/// assert_eq!(config.ping_interval, Duration::from_secs(5));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WsConfig {
    /// Which reference version's headers and encoding to use.
    pub version: ProtocolVersion,
    /// How often to send a WebSocket ping on an open socket (zero: never).
    pub ping_interval: Duration,
    /// How long after a ping a frame (the pong or anything else) must arrive before the socket
    /// is considered dead and replaced.
    pub pong_timeout: Duration,
    /// Limit on TCP connect, TLS and the upgrade handshake together.
    pub connect_timeout: Duration,
    /// Limit on sending one event frame; after it the event goes over the inner transport.
    pub send_timeout: Duration,
    /// First reconnect delay, also used again after every successful connection.
    pub initial_backoff: Duration,
    /// Largest reconnect delay.
    pub max_backoff: Duration,
    /// How many received commands may wait for [`next_command`](rxon_core::CommandChannel::next_command);
    /// when full, the socket is not read until the worker catches up.
    pub command_buffer: usize,
    /// Bytes of tungstenite's read buffer (its default is 128 KiB; an idle worker needs little).
    pub read_buffer_size: usize,
    /// Largest accepted message and frame, in bytes; a larger one closes the socket.
    pub max_message_size: usize,
    /// TLS settings for `wss://` (e.g. with a client certificate). `None`: the Mozilla roots
    /// with the ring provider.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Signs event frames (spec §10.6) when set.
    pub signer: Option<Arc<dyn Signer>>,
    /// `security.signer_id` of signed events (`None`: the worker id).
    pub signer_id: Option<String>,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            version: ProtocolVersion::default(),
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            command_buffer: 64,
            read_buffer_size: 4 * 1024,
            max_message_size: 1024 * 1024,
            tls: None,
            signer: None,
            signer_id: None,
        }
    }
}

impl fmt::Debug for WsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConfig")
            .field("version", &self.version)
            .field("ping_interval", &self.ping_interval)
            .field("pong_timeout", &self.pong_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("command_buffer", &self.command_buffer)
            .field("read_buffer_size", &self.read_buffer_size)
            .field("max_message_size", &self.max_message_size)
            .field("tls", &self.tls.as_ref().map(|_| "custom"))
            .field("signer", &self.signer.as_ref().map(|s| s.algorithm()))
            .field("signer_id", &self.signer_id)
            .finish()
    }
}

impl WsConfig {
    /// Sets the protocol version.
    #[must_use]
    pub fn version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the ping interval.
    #[must_use]
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.ping_interval = d;
        self
    }

    /// Sets the pong timeout.
    #[must_use]
    pub fn pong_timeout(mut self, d: Duration) -> Self {
        self.pong_timeout = d;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets the event send timeout.
    #[must_use]
    pub fn send_timeout(mut self, d: Duration) -> Self {
        self.send_timeout = d;
        self
    }

    /// Sets the first reconnect delay.
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Sets the largest reconnect delay.
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Sets how many commands may wait to be taken.
    #[must_use]
    pub fn command_buffer(mut self, n: usize) -> Self {
        self.command_buffer = n;
        self
    }

    /// Sets the read buffer size in bytes.
    #[must_use]
    pub fn read_buffer_size(mut self, n: usize) -> Self {
        self.read_buffer_size = n;
        self
    }

    /// Sets the largest accepted message and frame in bytes.
    #[must_use]
    pub fn max_message_size(mut self, n: usize) -> Self {
        self.max_message_size = n;
        self
    }

    /// Sets the TLS client configuration for `wss://`.
    #[must_use]
    pub fn tls(mut self, tls: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Signs event frames with `signer`; `signer_id` defaults to the worker id.
    #[must_use]
    pub fn signer(mut self, signer: Arc<dyn Signer>, signer_id: Option<String>) -> Self {
        self.signer = Some(signer);
        self.signer_id = signer_id;
        self
    }

    /// tungstenite's settings derived from this configuration: the read buffer as set, no
    /// write buffer (every frame is written at once), and the message limits.
    #[must_use]
    pub fn websocket_config(&self) -> WebSocketConfig {
        let max = self.max_message_size.max(1024);
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size.max(256))
            .write_buffer_size(0)
            // Must exceed `write_buffer_size`; one whole frame may sit there while the peer is slow.
            .max_write_buffer_size(max.saturating_add(64 * 1024))
            .max_message_size(Some(max))
            .max_frame_size(Some(max))
    }

    /// The reconnect delay that follows `current`: doubled, at most `max_backoff`.
    pub(crate) fn next_backoff(&self, current: Duration) -> Duration {
        current
            .saturating_mul(2)
            .min(self.max_backoff.max(self.initial_backoff))
    }
}

/// `delay` with ±20 % jitter, so that many workers do not reconnect in step (a delay too
/// large to scale is kept as it is).
pub(crate) fn jittered(delay: Duration) -> Duration {
    Duration::try_from_secs_f64(delay.as_secs_f64() * (0.8 + 0.4 * fastrand::f64()))
        .unwrap_or(delay)
}

/// About thirty years: the longest wait used with timers (longer ones overflow `Instant`).
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + d`, or [`FAR_FUTURE`] from now when that overflows `Instant`.
pub(crate) fn deadline_after(now: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    now.checked_add(d).unwrap_or_else(|| now + FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        let c = WsConfig::default();
        let mut d = c.initial_backoff;
        let mut seen = vec![d];
        for _ in 0..8 {
            d = c.next_backoff(d);
            seen.push(d);
        }
        let secs: Vec<u64> = seen.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let j = jittered(Duration::from_secs(10));
            assert!(
                j >= Duration::from_secs(8) && j <= Duration::from_secs(12),
                "{j:?}"
            );
        }
    }

    #[test]
    fn huge_durations_do_not_panic() {
        for _ in 0..100 {
            assert!(jittered(Duration::MAX) >= Duration::from_secs(u64::MAX / 2));
        }
        assert!(jittered(Duration::ZERO).is_zero());
        let c = WsConfig::default().max_backoff(Duration::MAX);
        assert_eq!(c.next_backoff(Duration::MAX), Duration::MAX);
        let now = tokio::time::Instant::now();
        assert!(deadline_after(now, Duration::MAX) > now);
        assert_eq!(
            deadline_after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }

    #[test]
    fn websocket_config_is_small_and_bounded() {
        let w = WsConfig::default().websocket_config();
        assert_eq!(w.read_buffer_size, 4096);
        assert_eq!(w.write_buffer_size, 0);
        assert!(w.max_write_buffer_size > w.write_buffer_size);
        assert_eq!(w.max_message_size, Some(1024 * 1024));
        assert_eq!(w.max_frame_size, Some(1024 * 1024));
    }
}
