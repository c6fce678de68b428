#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use rxon_core::*;

mod create;
#[allow(unused_imports)]
pub use create::*;

/// Worker transports.
#[cfg(feature = "http")]
pub mod transport {
    /// The HTTP/HTTPS transport (rxon-transport-http).
    pub use rxon_transport_http as http;
    /// The WebSocket command channel (rxon-transport-ws).
    #[cfg(feature = "ws")]
    pub use rxon_transport_ws as ws;
}

#[cfg(feature = "http")]
pub mod worker;

/// Canonical JSON, signatures, TLS (rxon-security).
#[cfg(feature = "security")]
pub use rxon_security as security;

/// The orchestrator side (rxon-listener-axum).
#[cfg(feature = "listener")]
pub use rxon_listener_axum as listener;

/// Blob storage (rxon-blob).
#[cfg(feature = "blob")]
pub use rxon_blob as blob;

/// JSON Schema validation (rxon-schema).
#[cfg(feature = "schema")]
pub use rxon_schema as schema;

/// Mocks and test helpers (rxon-testing).
#[cfg(feature = "testing")]
pub use rxon_testing as testing;
