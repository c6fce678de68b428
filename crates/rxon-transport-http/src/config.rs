//! [`HttpTransportConfig`]: everything an [`crate::HttpTransport`] is built from.

use rxon_core::{ProtocolVersion, Signer};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Configuration of an [`crate::HttpTransport`]. Build it with [`HttpTransportConfig::new`] and
/// the `with_*` methods; every field has the reference's default.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpTransportConfig {
    /// Orchestrator base URL, `http://host:port[/prefix]` or `https://…` (a trailing `/` is
    /// ignored).
    pub base_url: String,
    /// This worker's id (sent in `X-Worker-ID` under 1.0b17 and used in paths).
    pub worker_id: String,
    /// The initial credential (`X-Worker-Token`); replaced by STS access tokens.
    pub token: String,
    /// Protocol profile: the `X-RXON-Version` value, body encoding and header set (default 1.0b17).
    pub version: ProtocolVersion,
    /// TLS client configuration for `https://` (custom roots, client certificate for mTLS).
    /// `None`: the Mozilla roots from `webpki-roots`, no client certificate.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Signs register, heartbeat (with a body), result and event bodies (spec §15.3): each gets
    /// an integer `timestamp` and `security: {signature, signer_id}`. `None`: bodies are sent as
    /// given.
    pub signer: Option<Arc<dyn Signer>>,
    /// Attempts of `send_result` on network errors (default 3; at least one attempt is made).
    pub result_retries: u32,
    /// First delay between result attempts, doubled each time (default 100 ms).
    pub result_retry_delay: Duration,
    /// Total timeout of every request except polls (default 30 s).
    pub request_timeout: Duration,
    /// Added to a poll's `timeout` to get the poll request's total timeout (default 5 s).
    pub poll_grace: Duration,
    /// TCP connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Largest response body accepted (default 16 MiB).
    pub max_response_bytes: usize,
}

impl HttpTransportConfig {
    /// A configuration with the reference's defaults.
    #[must_use]
    pub fn new(
        base_url: impl Into<String>,
        worker_id: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            worker_id: worker_id.into(),
            token: token.into(),
            version: ProtocolVersion::V1_0b17,
            tls: None,
            signer: None,
            result_retries: 3,
            result_retry_delay: Duration::from_millis(100),
            request_timeout: Duration::from_secs(30),
            poll_grace: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            max_response_bytes: 16 * 1024 * 1024,
        }
    }

    /// Sets the protocol profile.
    #[must_use]
    pub fn with_version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the TLS client configuration (e.g. from `rxon-security`'s builders).
    #[must_use]
    pub fn with_tls(mut self, tls: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the message signer.
    #[must_use]
    pub fn with_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Sets the result retry policy.
    #[must_use]
    pub fn with_result_retries(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.result_retries = attempts;
        self.result_retry_delay = first_delay;
        self
    }

    /// Sets the timeout of non-poll requests.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the grace added to poll timeouts.
    #[must_use]
    pub fn with_poll_grace(mut self, grace: Duration) -> Self {
        self.poll_grace = grace;
        self
    }

    /// Sets the TCP connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

impl fmt::Debug for HttpTransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransportConfig")
            .field("base_url", &self.base_url)
            .field("worker_id", &self.worker_id)
            .field("token", &"<redacted>")
            .field("version", &self.version)
            .field("tls", &self.tls.is_some())
            .field("signer", &self.signer.as_ref().map(|s| s.algorithm()))
            .field("result_retries", &self.result_retries)
            .field("result_retry_delay", &self.result_retry_delay)
            .field("request_timeout", &self.request_timeout)
            .field("poll_grace", &self.poll_grace)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}
