#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod channel;
mod config;
mod sign;
mod transport;
mod url;

pub use channel::{WsCommandChannel, connect_command_channel};
pub use config::WsConfig;
pub use sign::{EVENT_IGNORE_FIELDS, canonical_json, sign_event, sign_value};
pub use transport::WsTransport;
pub use url::command_url;

/// The WebSocket library this crate is built on, re-exported so versions match.
pub use tokio_tungstenite::tungstenite;
