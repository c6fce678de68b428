//! Blob storage (spec §14): the [`BlobProvider`] trait and `s3://` URI parsing.

use crate::error::Result;
use crate::model::FileMetadata;
use std::fmt;
use std::future::Future;
use std::path::Path;

/// Metadata of a stored object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobMetadata {
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes, where the store defines one.
    pub etag: Option<String>,
    /// Content type, where known.
    pub content_type: Option<String>,
}

impl BlobMetadata {
    /// Metadata with a size and ETag.
    #[must_use]
    pub fn new(size: u64, etag: Option<String>) -> Self {
        Self {
            size,
            etag,
            content_type: None,
        }
    }
}

/// Pluggable storage for heavy task data (params and results), addressed by `s3://` URIs.
pub trait BlobProvider: Send + Sync {
    /// Uploads a local file (streaming) and describes what was stored.
    fn upload(
        &self,
        local_path: &Path,
        uri: &str,
    ) -> impl Future<Output = Result<FileMetadata>> + Send;
    /// Downloads an object to a local file (streaming); a partial file is never left behind.
    fn download(
        &self,
        uri: &str,
        local_path: &Path,
    ) -> impl Future<Output = Result<BlobMetadata>> + Send;
    /// Metadata of an object; `None` when it does not exist.
    fn metadata(&self, uri: &str) -> impl Future<Output = Result<Option<BlobMetadata>>> + Send;
    /// Deletes an object; `false` when it did not exist.
    fn delete(&self, uri: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Deletes every object under a prefix; returns how many were deleted.
    fn delete_prefix(&self, uri: &str) -> impl Future<Output = Result<u64>> + Send;
}

/// A parsed blob address: bucket, key, and whether it names a directory (spec §14.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobUri {
    /// Bucket (the URI's authority, verbatim).
    pub bucket: String,
    /// Key, without leading slashes.
    pub key: String,
    /// Whether the input ended with `/`.
    pub is_directory: bool,
}

/// Why a blob address could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobUriError {
    /// A relative path (the value) given without a default bucket.
    RelativeWithoutBucket(String),
    /// An `s3://` URI whose bucket is not a valid bracketed host (`s3://bad[/key`).
    InvalidHost {
        /// The URI.
        uri: String,
        /// The reference's message (`Invalid IPv6 URL`, ...).
        reason: String,
    },
}

impl fmt::Display for BlobUriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RelativeWithoutBucket(path) => {
                write!(
                    f,
                    "Cannot parse relative path '{path}' without a default bucket."
                )
            }
            Self::InvalidHost { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for BlobUriError {}

impl BlobUri {
    /// Parses `uri` with the reference's rules: only a lowercase `s3://` prefix makes a URI
    /// (bucket = authority verbatim, key = path without leading slashes, query and fragment
    /// dropped, tab/CR/LF removed, `prefix` not applied); anything else is a key in
    /// `default_bucket`, after `prefix` (plain concatenation). `is_directory` says whether the
    /// input as given ends with `/`.
    ///
    /// A bracketed bucket (`[::1]`) must be an IPv6 address (with an optional zone) or an
    /// `IPvFuture` literal, as the reference's URL parser requires. (Its Unicode NFKC check of
    /// non-ASCII authorities is not reproduced.)
    ///
    /// # Errors
    /// [`BlobUriError::RelativeWithoutBucket`] for a relative path when `default_bucket` is
    /// empty; [`BlobUriError::InvalidHost`] for an unbalanced or invalid bracketed host.
    pub fn parse(
        uri: &str,
        default_bucket: Option<&str>,
        prefix: &str,
    ) -> Result<Self, BlobUriError> {
        let is_directory = uri.ends_with('/');
        if let Some(rest) = uri.strip_prefix("s3://") {
            let cleaned: String;
            let rest = if rest.contains(['\t', '\r', '\n']) {
                cleaned = rest
                    .chars()
                    .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
                    .collect();
                cleaned.as_str()
            } else {
                rest
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (bucket, tail) = rest.split_at(end);
            check_host(bucket).map_err(|reason| BlobUriError::InvalidHost {
                uri: uri.to_owned(),
                reason,
            })?;
            let path = tail.split(['?', '#']).next().unwrap_or_default();
            return Ok(Self {
                bucket: bucket.to_owned(),
                key: path.trim_start_matches('/').to_owned(),
                is_directory,
            });
        }
        match default_bucket {
            Some(b) if !b.is_empty() => Ok(Self {
                bucket: b.to_owned(),
                key: format!("{prefix}{}", uri.trim_start_matches('/')),
                is_directory,
            }),
            _ => Err(BlobUriError::RelativeWithoutBucket(uri.to_owned())),
        }
    }
}

/// The reference URL parser's checks of an authority with brackets.
fn check_host(netloc: &str) -> Result<(), String> {
    let (open, close) = (netloc.contains('['), netloc.contains(']'));
    if open != close {
        return Err("Invalid IPv6 URL".to_owned());
    }
    if !open {
        return Ok(());
    }
    let host = netloc.split_once('[').map_or("", |(_, r)| r);
    let host = host.split_once(']').map_or(host, |(h, _)| h);
    if let Some(future) = host.strip_prefix('v') {
        // `v<hex>+.<anything>+`
        let ok = future.split_once('.').is_some_and(|(hex, tail)| {
            !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
                && !tail.is_empty()
                && !tail.contains('\n')
        });
        return if ok {
            Ok(())
        } else {
            Err("IPvFuture address is invalid".to_owned())
        };
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("An IPv4 address cannot be in brackets".to_owned());
    }
    let (addr, zone) = host
        .split_once('%')
        .map_or((host, None), |(a, z)| (a, Some(z)));
    if zone != Some("") && addr.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(());
    }
    Err(format!(
        "'{host}' does not appear to be an IPv4 or IPv6 address"
    ))
}

impl fmt::Display for BlobUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}
