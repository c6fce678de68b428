//! Serving a router over TCP or TLS (with client-certificate identity), with header limits,
//! a header read timeout and graceful shutdown.

use crate::App;
use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

pub(crate) mod direct;
mod prefixed;
mod spelling;

use prefixed::Prefixed;

/// Common Name of the verified client certificate of the connection (mTLS), put into every
/// request's extensions by [`serve_tls`]; listeners expose it as `RequestContext::cert_identity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity(pub String);

/// hyper's default header limit for HTTP/1 requests.
const HYPER_MAX_HEADERS: usize = 100;

/// Connection-level limits of [`serve_with`].
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Time allowed for a client to send the request head. Default 10 s.
    pub header_read_timeout: Duration,
    /// Most request headers accepted (more → 431). Default 100, hyper's own limit, which it
    /// checks without setting up a header table per request; any other value costs that
    /// set-up on every request.
    pub max_headers: usize,
    /// Read buffer limit, which bounds the request head size. Default 64 KiB.
    pub max_buf_size: usize,
    /// Time allowed for a TLS handshake. Default 10 s.
    pub tls_handshake_timeout: Duration,
    /// After the shutdown signal, how long in-flight requests may run. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_headers: HYPER_MAX_HEADERS,
            max_buf_size: 64 * 1024,
            tls_handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` (plain HTTP/1.1) until `shutdown` completes, then lets
/// in-flight requests finish. `app` is a [`Router`], or better an [`App`] from
/// [`Listener::app`](crate::Listener::app), whose endpoints answer workers' plain requests
/// directly.
///
/// # Errors
/// Never in practice (accept errors are logged and retried); the `Result` is for future use.
pub async fn serve(
    listener: TcpListener,
    app: impl Into<App>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_with(listener, app, None, ServeConfig::default(), shutdown).await
}

/// Serves `app` over TLS. When the server config verifies client certificates, the CN of
/// the client's certificate is put into each request as a [`ClientIdentity`].
///
/// # Errors
/// As [`serve`].
pub async fn serve_tls(
    listener: TcpListener,
    app: impl Into<App>,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_with(listener, app, Some(tls), ServeConfig::default(), shutdown).await
}

/// Serves `app` with explicit limits and optional TLS.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with(
    listener: TcpListener,
    app: impl Into<App>,
    tls: Option<Arc<rustls::ServerConfig>>,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        // Header names go out in title case (`Content-Type`, `Retry-After`), and
        // `X-RXON-Version` spelled so (see `spelling`): some reference clients compare names
        // exactly.
        .title_case_headers(true)
        .max_buf_size(config.max_buf_size.max(8192));
    if config.max_headers != HYPER_MAX_HEADERS {
        builder.max_headers(config.max_headers);
    }
    let conn = Arc::new(Conn {
        builder,
        spelling: spelling::template().await,
        app: app.into(),
        limits: direct::ConnLimits {
            header_read_timeout: config.header_read_timeout,
            max_buf_size: config.max_buf_size.max(8192),
            max_headers: config.max_headers,
        },
    });
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    // Each connection holds a clone of `done_tx`; `done_rx` closes when all have ended.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            res = listener.accept() => match res {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = conn.clone();
        let stop = stop_rx.clone();
        let done = done_tx.clone();
        match &acceptor {
            None => {
                tokio::spawn(async move {
                    conn.serve(stream, None, stop, peer).await;
                    drop(done);
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let handshake = config.tls_handshake_timeout;
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            return tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        }
                        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                    };
                    let identity = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| common_name(c));
                    conn.serve(tls, identity.map(ClientIdentity), stop, peer)
                        .await;
                    drop(done);
                });
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_tx);
    if tokio::time::timeout(config.shutdown_grace, done_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!("graceful shutdown timed out; dropping remaining connections");
    }
    Ok(())
}

/// What every connection of a server shares.
struct Conn {
    builder: hyper::server::conn::http1::Builder,
    spelling: http::Extensions,
    app: App,
    limits: direct::ConnLimits,
}

impl Conn {
    /// Serves a connection: directly while it can (see `direct`), then through hyper.
    async fn serve<IO>(
        self: Arc<Self>,
        io: IO,
        identity: Option<ClientIdentity>,
        mut stop: tokio::sync::watch::Receiver<bool>,
        peer: std::net::SocketAddr,
    ) where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let io = match &self.app.endpoints {
            Some(endpoints) => {
                let id = identity.as_ref().map(|c| c.0.as_str());
                // Boxed: its state is freed when the connection moves to hyper, so a held
                // WebSocket does not carry it.
                let direct = direct::serve(io, endpoints.as_ref(), id, self.limits, &mut stop);
                match Box::pin(direct).await {
                    direct::Ended::Closed => return,
                    direct::Ended::HandOff(io) => io,
                }
            }
            None => Prefixed::new(bytes::Bytes::new(), io),
        };
        let svc = service(self.app.router.clone(), identity, self.clone());
        let conn = self
            .builder
            .serve_connection(TokioIo::new(io), svc)
            .with_upgrades();
        run_conn(conn, stop, peer).await;
    }
}

/// Drives a connection; on the stop signal, lets its in-flight request finish and closes it.
async fn run_conn<I, S>(
    conn: hyper::server::conn::http1::UpgradeableConnection<I, S>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming> + Send,
    S::Future: Send,
    <S::ResBody as http_body::Body>::Data: Send,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: http_body::Body + Send + 'static,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut conn = std::pin::pin!(conn);
    let res = tokio::select! {
        res = conn.as_mut() => res,
        _ = async { let _ = stop.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = res {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

fn service(
    router: Router,
    identity: Option<ClientIdentity>,
    conn: Arc<Conn>,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let mut req = req.map(Body::new);
        if let Some(id) = &identity {
            req.extensions_mut().insert(id.clone());
        }
        let call = router.clone().oneshot(req);
        let conn = conn.clone();
        async move {
            let mut resp = call.await?;
            resp.extensions_mut().extend(conn.spelling.clone());
            Ok(resp)
        }
    })
}

/// The first Common Name of a DER certificate's subject.
#[must_use]
pub(crate) fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}
