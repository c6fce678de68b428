//! [`App`]: what [`serve`](crate::serve) serves.

use crate::serve::direct::Endpoints;
use axum::Router;
use std::fmt;
use std::sync::Arc;

/// What [`serve`](crate::serve) and its variants serve: a router and, when it comes from a
/// [`Listener`](crate::Listener), the listener's endpoints themselves.
///
/// With the endpoints at hand, the connection answers the worker requests that make up
/// nearly all of the traffic (register, poll, result, heartbeat, events, in their plain
/// HTTP/1.1 form) on its own, without building an `http::Request` or routing it, with the
/// same endpoint code and the same answers as the router. Any other request (WebSocket, token,
/// unknown paths, chunked or oversized bodies, malformed heads) goes to the router through
/// hyper, which then keeps the connection. A bare [`Router`] converts into an `App` that
/// routes everything.
///
/// ```no_run
/// # async fn doc<H: rxon_core::Handler>(handler: H, mine: axum::Router) -> std::io::Result<()> {
/// use rxon_listener_axum::Listener;
/// let app = Listener::new(handler).app().merge(mine);
/// let tcp = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// rxon_listener_axum::serve(tcp, app, std::future::pending()).await
/// # }
/// ```
#[derive(Clone)]
pub struct App {
    pub(crate) router: Router,
    pub(crate) endpoints: Option<Arc<dyn Endpoints>>,
}

impl App {
    pub(crate) fn new(router: Router, endpoints: Arc<dyn Endpoints>) -> Self {
        Self {
            router,
            endpoints: Some(endpoints),
        }
    }

    /// Adds the routes of `other` (e.g. an orchestrator's own API) to the router; see
    /// [`Router::merge`].
    pub fn merge(mut self, other: Router) -> Self {
        self.router = self.router.merge(other);
        self
    }

    /// The router, which serves every request (for mounting into another axum app).
    pub fn into_router(self) -> Router {
        self.router
    }
}

impl From<Router> for App {
    fn from(router: Router) -> Self {
        Self {
            router,
            endpoints: None,
        }
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("direct_endpoints", &self.endpoints.is_some())
            .finish_non_exhaustive()
    }
}
