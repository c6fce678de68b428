#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use axum;

mod app;
mod config;
mod context;
pub mod fuzzing;
mod hub;
mod layer;
pub mod memory;
mod reply;
mod routes;
mod serve;
pub mod sign;
mod ws;

pub use app::App;
pub use config::ListenerConfig;
pub use hub::{CommandHub, HubError};
pub use serve::{ClientIdentity, ServeConfig, serve, serve_tls, serve_with};

use rxon_core::Handler;
use std::sync::Arc;

/// The orchestrator side of RXON: serves every worker endpoint (spec §2.2, §5) for a
/// [`Handler`], as an axum [`Router`](axum::Router).
///
/// ```no_run
/// # async fn doc<H: rxon_core::Handler>(handler: H) -> std::io::Result<()> {
/// use rxon_listener_axum::{Listener, ListenerConfig};
/// // `app()` for `serve` (the router plus direct answers); `router()` to mount elsewhere.
/// let app = Listener::new(handler).with_config(ListenerConfig::default()).app();
/// let tcp = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// rxon_listener_axum::serve(tcp, app, std::future::pending()).await
/// # }
/// ```
#[derive(Debug)]
pub struct Listener<H> {
    handler: H,
    config: ListenerConfig,
    hub: CommandHub,
    own_hub: bool,
}

impl<H: Handler> Listener<H> {
    /// A listener for `handler` with the default configuration (1.0b17 profile) and a fresh
    /// [`CommandHub`].
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            config: ListenerConfig::default(),
            hub: CommandHub::new(),
            own_hub: true,
        }
    }

    /// Replaces the configuration. The listener's own hub (when none was given with
    /// [`Listener::with_hub`]) is recreated for the new profile, so take [`Listener::hub`]
    /// afterwards.
    #[must_use]
    pub fn with_config(mut self, config: ListenerConfig) -> Self {
        if self.own_hub {
            self.hub = CommandHub::with_profile(config.profile);
        }
        self.config = config;
        self
    }

    /// Uses this hub for the WebSocket command channels (share it with the code that sends
    /// commands, e.g. the handler).
    #[must_use]
    pub fn with_hub(mut self, hub: CommandHub) -> Self {
        self.hub = hub;
        self.own_hub = false;
        self
    }

    /// The hub that holds the command channels of connected workers.
    #[must_use]
    pub fn hub(&self) -> CommandHub {
        self.hub.clone()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ListenerConfig {
        &self.config
    }

    /// Builds the router serving the worker API under `/_worker`, to serve or to mount in
    /// another axum app.
    pub fn router(self) -> axum::Router {
        routes::router(self.shared())
    }

    /// Builds what [`serve`] serves best: the router, plus the endpoints themselves, so that
    /// the connections answer workers' plain requests without routing them (see [`App`]).
    pub fn app(self) -> App {
        let shared = self.shared();
        App::new(
            routes::router(shared.clone()),
            Arc::new(routes::DirectEndpoints(shared)),
        )
    }

    fn shared(self) -> Arc<routes::Shared<H>> {
        Arc::new(routes::Shared {
            handler: self.handler,
            config: self.config,
            hub: self.hub,
        })
    }
}
