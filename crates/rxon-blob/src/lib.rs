#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod store;
pub mod task;

#[cfg(any(test, feature = "conformance"))]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

#[cfg(test)]
mod tests;

pub use config::{
    BlobConfig, ConfigCheck, S3Config, StoreConfig, calculate_config_hash, check_config_hash,
};
pub use rxon_core::{BlobMetadata, BlobProvider, BlobUri};
pub use store::{BlobStore, DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, install_crypto_provider};
