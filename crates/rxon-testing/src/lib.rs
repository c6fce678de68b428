//! Test helpers for RXON: [`MockTransport`], an in-memory worker transport.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod mock;

pub use mock::{MockTransport, REFRESHED_TOKEN};
