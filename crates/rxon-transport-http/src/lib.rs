//! The RXON worker transport over HTTP/1.1 and HTTPS: [`HttpTransport`] implements
//! [`rxon_core::Transport`] with a small HTTP/1.1 client and pooled keep-alive connections.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod config;
mod connector;
#[doc(hidden)]
pub mod fuzzing;
mod transport;
pub mod worker;

pub use config::HttpTransportConfig;
pub use transport::{HttpTransport, new_event_id};

/// The rustls version the TLS configuration must come from.
pub use rustls;
