//! Storage configuration: which backend, its credentials, the default bucket, and the
//! configuration hash workers advertise (`WorkerCapabilities.s3_config_hash`, spec §14.3).

use rxon_core::Error;
use std::fmt;
use std::path::PathBuf;

/// S3 or an S3-compatible service (MinIO, Ceph, moto, ...).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Config {
    /// Endpoint URL (`http://minio:9000`); `None` for AWS itself.
    pub endpoint: Option<String>,
    /// Region (default `us-east-1`).
    pub region: Option<String>,
    /// Access key id.
    pub access_key: Option<String>,
    /// Secret access key.
    pub secret_key: Option<String>,
    /// Session token, for temporary credentials.
    pub session_token: Option<String>,
    /// Use virtual-hosted-style URLs (`bucket.host`) instead of path style (`host/bucket`).
    /// Path style is the default, as S3-compatible services expect.
    pub virtual_hosted_style: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .finish()
    }
}

impl S3Config {
    /// A configuration for an endpoint with static credentials.
    #[must_use]
    pub fn new(
        endpoint: impl Into<String>,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: Some(endpoint.into()),
            access_key: Some(access_key.into()),
            secret_key: Some(secret_key.into()),
            ..Self::default()
        }
    }
}

/// Which storage backend holds the blobs. `s3://bucket/key` URIs address all of them: the
/// bucket is the S3/GCS bucket, the Azure container, a directory under the local root, or a
/// separate in-memory store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreConfig {
    /// S3 or an S3-compatible endpoint.
    S3(S3Config),
    /// Google Cloud Storage; credentials from a service-account file, or the environment.
    Gcs {
        /// Path of a service-account JSON file (`None`: from the environment).
        service_account_path: Option<String>,
    },
    /// Azure Blob Storage; the bucket of a URI is the container.
    Azure {
        /// Storage account name.
        account: String,
        /// Account access key (`None`: from the environment).
        access_key: Option<String>,
    },
    /// A directory of the local file system; each bucket is a sub-directory.
    Local {
        /// The root directory.
        root: PathBuf,
    },
    /// In-process memory (tests, single-process pipelines).
    Memory,
}

/// A storage configuration plus the rules for relative paths (spec §14.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobConfig {
    /// The backend.
    pub store: StoreConfig,
    /// Bucket for relative paths (and for results offloaded by a worker).
    pub default_bucket: Option<String>,
    /// Prefix put before relative paths (verbatim, no separator added).
    pub prefix: String,
}

impl BlobConfig {
    /// A configuration for a backend.
    #[must_use]
    pub fn new(store: StoreConfig) -> Self {
        Self {
            store,
            default_bucket: None,
            prefix: String::new(),
        }
    }

    /// Sets the default bucket.
    #[must_use]
    pub fn with_default_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.default_bucket = Some(bucket.into());
        self
    }

    /// Parses a store location: `memory://`, `file:///srv/blobs` (or a plain path), or an
    /// S3 endpoint `http(s)://host:port` (credentials from [`S3Config`] fields set later or
    /// from the environment, see [`BlobConfig::from_env`]).
    ///
    /// # Errors
    /// [`Error::Validation`] for an unknown scheme.
    pub fn parse_location(location: &str) -> Result<Self, Error> {
        if location == "memory://" || location == "memory" {
            return Ok(Self::new(StoreConfig::Memory));
        }
        if let Some(path) = location.strip_prefix("file://") {
            return Ok(Self::new(StoreConfig::Local {
                root: PathBuf::from(path),
            }));
        }
        if location.starts_with("http://") || location.starts_with("https://") {
            return Ok(Self::new(StoreConfig::S3(S3Config {
                endpoint: Some(location.to_owned()),
                ..S3Config::default()
            })));
        }
        if location.starts_with('/') || location.starts_with('.') {
            return Ok(Self::new(StoreConfig::Local {
                root: PathBuf::from(location),
            }));
        }
        Err(Error::Validation {
            message: format!("unknown blob store location: {location}"),
        })
    }

    /// S3 settings from the environment the worker SDK uses: `S3_ENDPOINT_URL`,
    /// `S3_ACCESS_KEY`, `S3_SECRET_KEY`, `S3_REGION`, `S3_DEFAULT_BUCKET`; `None` when no
    /// endpoint or bucket is configured.
    #[must_use]
    pub fn from_env() -> Option<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = var("S3_ENDPOINT_URL")?;
        let s3 = S3Config {
            endpoint: Some(endpoint),
            region: var("S3_REGION"),
            access_key: var("S3_ACCESS_KEY"),
            secret_key: var("S3_SECRET_KEY"),
            ..S3Config::default()
        };
        Some(Self {
            store: StoreConfig::S3(s3),
            default_bucket: var("S3_DEFAULT_BUCKET"),
            prefix: String::new(),
        })
    }

    /// The configuration hash (spec §10.5/§14.3): for S3, the first 16 hex characters of
    /// SHA-256 of `endpoint|access_key|default_bucket`; `None` when any is missing or the
    /// store is not S3.
    #[must_use]
    pub fn config_hash(&self) -> Option<String> {
        match &self.store {
            StoreConfig::S3(s3) => calculate_config_hash(
                s3.endpoint.as_deref().unwrap_or(""),
                s3.access_key.as_deref().unwrap_or(""),
                self.default_bucket.as_deref().unwrap_or(""),
            ),
            _ => None,
        }
    }
}

/// The reference's `calculate_config_hash` (byte-identical).
#[must_use]
pub fn calculate_config_hash(endpoint: &str, access_key: &str, bucket: &str) -> Option<String> {
    rxon_security::calculate_config_hash(endpoint, access_key, bucket)
}

/// Compares a worker's advertised `s3_config_hash` with the orchestrator's own.
///
/// The reference orchestrator only logs a warning when both are present and differ; use
/// [`ConfigCheck::into_result`] to refuse instead.
#[must_use]
pub fn check_config_hash(worker: Option<&str>, ours: Option<&str>) -> ConfigCheck {
    match (worker, ours) {
        (Some(w), Some(o)) if w == o => ConfigCheck::Match,
        (Some(w), Some(o)) => ConfigCheck::Mismatch {
            worker: w.to_owned(),
            ours: o.to_owned(),
        },
        _ => ConfigCheck::Unknown,
    }
}

/// Outcome of [`check_config_hash`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigCheck {
    /// Both hashes are present and equal.
    Match,
    /// One side did not advertise a hash; nothing can be said.
    Unknown,
    /// Both are present and differ: the two sides talk to different storage.
    Mismatch {
        /// The worker's hash.
        worker: String,
        /// Ours.
        ours: String,
    },
}

impl ConfigCheck {
    /// `Err(Error::ConfigMismatch)` for a mismatch, `Ok` otherwise.
    ///
    /// # Errors
    /// [`Error::ConfigMismatch`] when the hashes differ.
    pub fn into_result(self) -> Result<(), Error> {
        match self {
            Self::Mismatch { worker, ours } => Err(Error::ConfigMismatch {
                message: format!(
                    "storage configuration mismatch: worker {worker}, orchestrator {ours}"
                ),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            BlobConfig::parse_location("memory://").unwrap().store,
            StoreConfig::Memory
        );
        assert_eq!(
            BlobConfig::parse_location("file:///var/blobs")
                .unwrap()
                .store,
            StoreConfig::Local {
                root: PathBuf::from("/var/blobs")
            }
        );
        assert_eq!(
            BlobConfig::parse_location("./blobs").unwrap().store,
            StoreConfig::Local {
                root: PathBuf::from("./blobs")
            }
        );
        match BlobConfig::parse_location("http://127.0.0.1:9000")
            .unwrap()
            .store
        {
            StoreConfig::S3(s3) => {
                assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            BlobConfig::parse_location("ftp://x"),
            Err(Error::Validation { .. })
        ));
    }

    #[test]
    fn secrets_are_not_printed() {
        let s3 = S3Config::new("http://e", "access", "very-secret");
        let shown = format!("{s3:?}");
        assert!(
            !shown.contains("very-secret") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
