//! The RXON worker transport over HTTP/1.1 and HTTPS: [`HttpTransport`] implements
//! [`rxon_core::Transport`] with hyper and one pooled keep-alive connection per orchestrator.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod connector;
mod transport;
pub mod worker;

pub use config::HttpTransportConfig;
pub use transport::{HttpTransport, new_event_id};

/// The rustls version the TLS configuration must come from.
pub use rustls;
