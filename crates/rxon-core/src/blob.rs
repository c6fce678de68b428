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

/// A relative path given without a default bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobUriError(pub String);

impl fmt::Display for BlobUriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Cannot parse relative path '{}' without a default bucket.",
            self.0
        )
    }
}

impl std::error::Error for BlobUriError {}

impl BlobUri {
    /// Parses `uri` with the reference's rules: only a lowercase `s3://` prefix makes a URI
    /// (bucket = authority verbatim, key = path without leading slashes, query and fragment
    /// dropped, `prefix` not applied); anything else is a key in `default_bucket`, after
    /// `prefix` (plain concatenation).
    ///
    /// # Errors
    /// [`BlobUriError`] for a relative path when `default_bucket` is empty.
    pub fn parse(
        uri: &str,
        default_bucket: Option<&str>,
        prefix: &str,
    ) -> Result<Self, BlobUriError> {
        let is_directory = uri.ends_with('/');
        if let Some(rest) = uri.strip_prefix("s3://") {
            let rest = rest.split(['?', '#']).next().unwrap_or_default();
            let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
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
            _ => Err(BlobUriError(uri.to_owned())),
        }
    }
}

impl fmt::Display for BlobUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}
