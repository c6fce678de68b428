//! Cross-crate and cross-language tests live in `tests/`; this library holds what several of
//! them share: [`LoopbackServer`], a server task on a loopback port with graceful shutdown.
// A panic is how a test helper reports a failure.
#![allow(clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server task on `127.0.0.1` and an ephemeral port, stopped gracefully by
/// [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct LoopbackServer {
    /// The bound address.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl LoopbackServer {
    /// Binds `127.0.0.1:0` and spawns `serve(listener, stop)`; `stop` resolves when
    /// [`shutdown`](Self::shutdown) is called (e.g. `rxon::listener::serve(tcp, router,
    /// async move { let _ = stop.await; })`).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start<F>(serve: impl FnOnce(TcpListener, oneshot::Receiver<()>) -> F) -> Self
    where
        F: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let tcp = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = tcp.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(tcp, stopped));
        Self { addr, stop, task }
    }

    /// Triggers the graceful shutdown and waits (up to 15 s) for the server to finish.
    ///
    /// # Panics
    ///
    /// When it does not finish in time, panicked or returned an error.
    pub async fn shutdown(self) {
        self.shutdown_within(Duration::from_secs(15)).await;
    }

    /// [`shutdown`](Self::shutdown) with another time limit.
    ///
    /// # Panics
    ///
    /// When it does not finish within `timeout`, panicked or returned an error.
    pub async fn shutdown_within(self, timeout: Duration) {
        let _ = self.stop.send(());
        match tokio::time::timeout(timeout, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the server failed: {e}"),
            Ok(Err(e)) => panic!("the server task failed: {e}"),
            Err(_) => panic!("no graceful shutdown within {timeout:?}"),
        }
    }
}
