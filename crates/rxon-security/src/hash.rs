//! Hashes of the reference (spec §10.5).

use crate::hex;
use ring::digest::{SHA256, digest};
use rxon_core::canonical::write_canonical;
use rxon_core::normalize::normalize;
use rxon_core::{EncodeError, ProtocolVersion, Value};

/// `calculate_dict_hash`: lowercase hex SHA-256 of the sorted compact JSON of the **normalized**
/// value, without removing any key (`security` stays). Differs between versions whenever their
/// normalization does (e.g. `{"a":1.0}`).
///
/// # Errors
/// 1.0b17 only: the encoder's depth and range limits.
pub fn calculate_dict_hash(value: &Value, version: ProtocolVersion) -> Result<String, EncodeError> {
    let text = write_canonical(&normalize(value, version)?, version);
    Ok(hex::encode(digest(&SHA256, text.as_bytes()).as_ref()))
}

/// `calculate_config_hash`: `None` if any argument is empty, otherwise the first 16 hex
/// characters of SHA-256 of `endpoint|access_key|bucket` (used as
/// `WorkerCapabilities.s3_config_hash`).
#[must_use]
pub fn calculate_config_hash(endpoint: &str, access_key: &str, bucket: &str) -> Option<String> {
    if endpoint.is_empty() || access_key.is_empty() || bucket.is_empty() {
        return None;
    }
    let text = format!("{endpoint}|{access_key}|{bucket}");
    let mut h = hex::encode(digest(&SHA256, text.as_bytes()).as_ref());
    h.truncate(16);
    Some(h)
}
