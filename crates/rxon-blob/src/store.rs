//! [`BlobStore`]: the core's [`BlobProvider`] over `object_store`, streaming both ways with
//! bounded memory.

use crate::config::{BlobConfig, StoreConfig};
use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use md5::Digest as _;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, GetOptions, ObjectStore, ObjectStoreExt as _, PutMultipartOptions,
    PutOptions, PutPayload, WriteMultipart,
};
use rxon_core::{BlobMetadata, BlobProvider, BlobUri, Error, FileMetadata, Result};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Default size of one multipart-upload part (S3 needs at least 5 MiB).
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// Default number of parts uploaded concurrently.
pub const DEFAULT_CONCURRENCY: usize = 2;
const READ_BUFFER: usize = 256 * 1024;

/// Installs the ring TLS crypto provider as the process default, unless one is installed
/// already. The HTTP client used for cloud stores needs one; [`BlobStore::new`] calls this,
/// so callers never have to.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A blob store addressed by `s3://bucket/key` URIs, over S3 (and S3-compatible services),
/// Google Cloud Storage, Azure, a local directory or memory.
///
/// Uploads stream the file in parts (multipart upload above one part size) with a bounded
/// number of parts in flight; downloads stream into a temporary file next to the target,
/// which is synced and renamed only when complete (and verified, see
/// [`BlobStore::download_verified`]), so a partial file is never left behind.
pub struct BlobStore {
    config: BlobConfig,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    part_size: usize,
    concurrency: usize,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("config", &self.config)
            .field("part_size", &self.part_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl BlobStore {
    /// A store for a configuration. Backends are built lazily, one per bucket.
    #[must_use]
    pub fn new(config: BlobConfig) -> Self {
        install_crypto_provider();
        Self {
            config,
            stores: Mutex::new(HashMap::new()),
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Sets the multipart part size (at least 5 MiB for S3) — also the largest file uploaded
    /// in a single request. Memory held by an upload is about `part_size × (concurrency + 1)`.
    #[must_use]
    pub fn with_part_size(mut self, part_size: usize) -> Self {
        self.part_size = part_size.max(1);
        self
    }

    /// Sets how many parts are uploaded at once.
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Whether the backend keeps a content type with each object (the local file system
    /// does not).
    #[must_use]
    pub fn supports_content_type(&self) -> bool {
        !matches!(self.config.store, StoreConfig::Local { .. })
    }

    /// Attributes stored with a new object: its content type where the backend keeps one.
    fn attributes_for(&self, key: &str) -> Attributes {
        if self.supports_content_type() {
            content_type_of(key)
        } else {
            Attributes::new()
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &BlobConfig {
        &self.config
    }

    /// Parses a URI or a relative path with this store's default bucket and prefix
    /// (spec §14.2).
    ///
    /// # Errors
    /// [`Error::Validation`] for a relative path without a default bucket.
    pub fn parse(&self, uri: &str) -> Result<BlobUri> {
        BlobUri::parse(
            uri,
            self.config.default_bucket.as_deref(),
            &self.config.prefix,
        )
        .map_err(|e| Error::Validation {
            message: e.to_string(),
        })
    }

    /// The backend holding `bucket`, built on first use.
    ///
    /// # Errors
    /// [`Error::Validation`] for a bucket name the backend rejects, [`Error::Internal`] when
    /// the backend cannot be built.
    pub fn backend(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        if let Some(s) = self
            .stores
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(bucket)
        {
            return Ok(Arc::clone(s));
        }
        let built = self.build_backend(bucket)?;
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Arc::clone(stores.entry(bucket.to_owned()).or_insert(built)))
    }

    fn build_backend(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        if bucket.is_empty() {
            return Err(Error::Validation {
                message: "blob URI without a bucket".to_owned(),
            });
        }
        let built: Arc<dyn ObjectStore> = match &self.config.store {
            StoreConfig::S3(c) => {
                let mut b = if c.access_key.is_some() {
                    object_store::aws::AmazonS3Builder::new()
                } else {
                    object_store::aws::AmazonS3Builder::from_env()
                };
                b = b
                    .with_bucket_name(bucket)
                    .with_region(c.region.clone().unwrap_or_else(|| "us-east-1".to_owned()))
                    .with_virtual_hosted_style_request(c.virtual_hosted_style);
                if let Some(e) = &c.endpoint {
                    b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
                }
                if let Some(k) = &c.access_key {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = &c.secret_key {
                    b = b.with_secret_access_key(s);
                }
                if let Some(t) = &c.session_token {
                    b = b.with_token(t);
                }
                Arc::new(b.build().map_err(|e| backend_error(&e))?)
            }
            StoreConfig::Gcs {
                service_account_path,
            } => {
                let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket);
                if let Some(p) = service_account_path {
                    b = b.with_service_account_path(p);
                }
                Arc::new(b.build().map_err(|e| backend_error(&e))?)
            }
            StoreConfig::Azure {
                account,
                access_key,
            } => {
                let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_account(account)
                    .with_container_name(bucket);
                if let Some(k) = access_key {
                    b = b.with_access_key(k);
                }
                Arc::new(b.build().map_err(|e| backend_error(&e))?)
            }
            StoreConfig::Local { root } => {
                if bucket == "." || bucket == ".." || bucket.contains(['/', '\\']) {
                    return Err(Error::Validation {
                        message: format!("invalid bucket name for a local store: {bucket:?}"),
                    });
                }
                let dir = root.join(bucket);
                std::fs::create_dir_all(&dir).map_err(|e| Error::Internal {
                    message: format!("cannot create {}", dir.display()),
                    source: Some(Box::new(e)),
                })?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| backend_error(&e))?;
                Arc::new(fs.with_automatic_cleanup(true))
            }
            StoreConfig::Memory => Arc::new(object_store::memory::InMemory::new()),
        };
        Ok(built)
    }

    /// The backend and object path of a URI naming one object.
    fn object(&self, uri: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath, BlobUri)> {
        let parsed = self.parse(uri)?;
        if parsed.key.is_empty() || parsed.is_directory {
            return Err(Error::Validation {
                message: format!("not an object URI: {uri}"),
            });
        }
        let path = ObjectPath::parse(&parsed.key).map_err(|e| Error::Validation {
            message: format!("invalid object key {:?}: {e}", parsed.key),
        })?;
        Ok((self.backend(&parsed.bucket)?, path, parsed))
    }

    /// Downloads an object and checks it against the metadata it was published with: the
    /// size (when given) and the ETag (when given: an MD5 hex ETag — what S3 gives a
    /// single-part upload — is compared with the MD5 of the bytes received; any other ETag
    /// with the object's current ETag). On a mismatch nothing is written at `local_path`.
    ///
    /// # Errors
    /// [`Error::Integrity`] (wire code `INTEGRITY_MISMATCH_ERROR`) on a mismatch; the errors
    /// of [`BlobProvider::download`] otherwise.
    pub async fn download_verified(
        &self,
        uri: &str,
        local_path: &Path,
        expected: &FileMetadata,
    ) -> Result<BlobMetadata> {
        self.download_inner(uri, local_path, Some(expected)).await
    }

    async fn download_inner(
        &self,
        uri: &str,
        local_path: &Path,
        expected: Option<&FileMetadata>,
    ) -> Result<BlobMetadata> {
        let (store, path, _) = self.object(uri)?;
        let expected_etag = expected
            .and_then(|m| m.etag.as_deref())
            .map(|e| e.trim_matches('"').to_ascii_lowercase());
        let want_md5 = expected_etag
            .as_deref()
            .filter(|e| is_md5_hex(e))
            .map(str::to_owned);

        let dir = match local_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error(&dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".rxon-partial-")
            .tempfile_in(&dir)
            .map_err(|e| io_error(&dir, e))?;
        let std_file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| io_error(tmp.path(), e))?;
        let mut file = tokio::fs::File::from_std(std_file);

        let result = store.get(&path).await.map_err(|e| store_error(&e, uri))?;
        let mut meta = BlobMetadata::new(
            result.meta.size,
            result.meta.e_tag.as_deref().map(clean_etag),
        );
        meta.content_type = result
            .attributes
            .get(&Attribute::ContentType)
            .map(|v| v.to_string());
        let mut md5 = want_md5.as_ref().map(|_| md5::Md5::new());
        let mut written: u64 = 0;
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| store_error(&e, uri))?;
            // A store that sends more than it announced is refused at once, before it fills
            // the disk (the size check below would refuse it at the end anyway).
            if written.saturating_add(chunk.len() as u64) > meta.size {
                return Err(Error::Integrity {
                    message: format!(
                        "{uri}: received more than the {} bytes the store announced",
                        meta.size
                    ),
                });
            }
            if let Some(h) = md5.as_mut() {
                h.update(&chunk);
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| io_error(tmp.path(), e))?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(|e| io_error(tmp.path(), e))?;
        file.sync_all().await.map_err(|e| io_error(tmp.path(), e))?;
        drop(file);

        if written != meta.size {
            return Err(Error::Integrity {
                message: format!(
                    "{uri}: received {written} bytes, the store announced {}",
                    meta.size
                ),
            });
        }
        if let Some(expected) = expected {
            if let Some(size) = expected.size
                && u64::try_from(size).ok() != Some(written)
            {
                return Err(Error::Integrity {
                    message: format!("{uri}: size {written}, expected {size}"),
                });
            }
            if let (Some(want), Some(h)) = (want_md5, md5) {
                let got = hex(&h.finalize());
                if got != want {
                    return Err(Error::Integrity {
                        message: format!("{uri}: MD5 {got}, expected ETag {want}"),
                    });
                }
            } else if let Some(want) = expected_etag {
                let current = meta.etag.as_deref().map(str::to_ascii_lowercase);
                if current.as_deref() != Some(want.as_str()) {
                    return Err(Error::Integrity {
                        message: format!(
                            "{uri}: ETag {}, expected {want}",
                            current.unwrap_or_default()
                        ),
                    });
                }
            }
        }
        tmp.persist(local_path)
            .map_err(|e| io_error(local_path, e.error))?;
        Ok(meta)
    }

    /// Stores bytes at a URI in one request.
    ///
    /// # Errors
    /// As [`BlobProvider::upload`].
    pub async fn put_bytes(&self, uri: &str, bytes: Bytes) -> Result<FileMetadata> {
        let (store, path, parsed) = self.object(uri)?;
        let size = bytes.len();
        let opts = PutOptions {
            attributes: self.attributes_for(&parsed.key),
            ..PutOptions::default()
        };
        let put = store
            .put_opts(&path, PutPayload::from(bytes), opts)
            .await
            .map_err(|e| store_error(&e, uri))?;
        Ok(file_metadata(&parsed, size as u64, put.e_tag.as_deref()))
    }

    /// The objects under a prefix URI (`s3://bucket/dir/`), as `(uri, size)`.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self, uri: &str) -> Result<Vec<(String, u64)>> {
        let parsed = self.parse(uri)?;
        let store = self.backend(&parsed.bucket)?;
        let prefix = prefix_path(&parsed.key)?;
        let metas: Vec<_> = store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| store_error(&e, uri))?;
        Ok(metas
            .into_iter()
            .map(|m| (format!("s3://{}/{}", parsed.bucket, m.location), m.size))
            .collect())
    }
}

fn prefix_path(key: &str) -> Result<Option<ObjectPath>> {
    let trimmed = key.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    ObjectPath::parse(trimmed)
        .map(Some)
        .map_err(|e| Error::Validation {
            message: format!("invalid prefix {key:?}: {e}"),
        })
}

impl BlobProvider for BlobStore {
    async fn upload(&self, local_path: &Path, uri: &str) -> Result<FileMetadata> {
        let (store, path, parsed) = self.object(uri)?;
        let mut file = tokio::fs::File::open(local_path)
            .await
            .map_err(|e| io_error(local_path, e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| io_error(local_path, e))?
            .len();
        if len <= self.part_size as u64 {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            file.read_to_end(&mut buf)
                .await
                .map_err(|e| io_error(local_path, e))?;
            let size = buf.len() as u64;
            let opts = PutOptions {
                attributes: self.attributes_for(&parsed.key),
                ..PutOptions::default()
            };
            let put = store
                .put_opts(&path, PutPayload::from(buf), opts)
                .await
                .map_err(|e| store_error(&e, uri))?;
            return Ok(file_metadata(&parsed, size, put.e_tag.as_deref()));
        }
        let opts = PutMultipartOptions {
            attributes: self.attributes_for(&parsed.key),
            ..PutMultipartOptions::default()
        };
        let upload = store
            .put_multipart_opts(&path, opts)
            .await
            .map_err(|e| store_error(&e, uri))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut buf = vec![0_u8; READ_BUFFER];
        let mut size: u64 = 0;
        let outcome: Result<()> = async {
            loop {
                writer
                    .wait_for_capacity(self.concurrency)
                    .await
                    .map_err(|e| store_error(&e, uri))?;
                let n = file
                    .read(&mut buf)
                    .await
                    .map_err(|e| io_error(local_path, e))?;
                if n == 0 {
                    return Ok(());
                }
                writer.write(buf.get(..n).unwrap_or_default());
                size += n as u64;
            }
        }
        .await;
        if let Err(e) = outcome {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(uri, error = %abort, "aborting a failed multipart upload failed");
            }
            return Err(e);
        }
        let put = writer.finish().await.map_err(|e| store_error(&e, uri))?;
        Ok(file_metadata(&parsed, size, put.e_tag.as_deref()))
    }

    async fn download(&self, uri: &str, local_path: &Path) -> Result<BlobMetadata> {
        self.download_inner(uri, local_path, None).await
    }

    async fn metadata(&self, uri: &str) -> Result<Option<BlobMetadata>> {
        let (store, path, _) = self.object(uri)?;
        match store
            .get_opts(&path, GetOptions::default().with_head(true))
            .await
        {
            Ok(r) => {
                let mut meta =
                    BlobMetadata::new(r.meta.size, r.meta.e_tag.as_deref().map(clean_etag));
                meta.content_type = r
                    .attributes
                    .get(&Attribute::ContentType)
                    .map(|v| v.to_string());
                Ok(Some(meta))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error(&e, uri)),
        }
    }

    async fn delete(&self, uri: &str) -> Result<bool> {
        let (store, path, _) = self.object(uri)?;
        match store.head(&path).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(store_error(&e, uri)),
        }
        match store.delete(&path).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(&e, uri)),
        }
    }

    async fn delete_prefix(&self, uri: &str) -> Result<u64> {
        let parsed = self.parse(uri)?;
        let store = self.backend(&parsed.bucket)?;
        let prefix = prefix_path(&parsed.key)?;
        let locations = store.list(prefix.as_ref()).map_ok(|m| m.location).boxed();
        let mut deleted = store.delete_stream(locations);
        let mut count = 0;
        while let Some(r) = deleted.next().await {
            match r {
                Ok(_) => count += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_error(&e, uri)),
            }
        }
        Ok(count)
    }
}

fn file_metadata(parsed: &BlobUri, size: u64, etag: Option<&str>) -> FileMetadata {
    FileMetadata {
        size: Some(i64::try_from(size).unwrap_or(i64::MAX)),
        etag: etag.map(clean_etag),
        ..FileMetadata::new(format!("s3://{}/{}", parsed.bucket, parsed.key))
    }
}

/// The content type stored with an object, from its key's extension (none when unknown).
fn content_type_of(key: &str) -> Attributes {
    let mut attributes = Attributes::new();
    let ext = key
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let ct = match ext.as_str() {
        "json" => "application/json",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "parquet" => "application/vnd.apache.parquet",
        "bin" | "safetensors" | "onnx" | "pt" => "application/octet-stream",
        _ => return attributes,
    };
    attributes.insert(Attribute::ContentType, ct.into());
    attributes
}

fn clean_etag(e: &str) -> String {
    e.trim_matches('"').to_owned()
}

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Internal {
        message: format!("{}: {e}", path.display()),
        source: Some(Box::new(e)),
    }
}

fn backend_error(e: &object_store::Error) -> Error {
    Error::Internal {
        message: format!("cannot configure the blob store: {e}"),
        source: None,
    }
}

/// Maps a store error: missing objects are 404 protocol errors, refused credentials are auth
/// errors, anything else is a (retryable) network error.
fn store_error(e: &object_store::Error, uri: &str) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::protocol(format!("{uri}: not found"), 404),
        object_store::Error::PermissionDenied { .. } => Error::Auth {
            message: format!("{uri}: {e}"),
            status: Some(403),
        },
        object_store::Error::Unauthenticated { .. } => Error::Auth {
            message: format!("{uri}: {e}"),
            status: Some(401),
        },
        object_store::Error::InvalidPath { .. } => Error::Validation {
            message: format!("{uri}: {e}"),
        },
        _ => Error::network(format!("{uri}: {e}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_hex() {
        let mut h = md5::Md5::new();
        h.update(b"hello");
        assert_eq!(hex(&h.finalize()), "5d41402abc4b2a76b9719d911017c592");
        assert!(is_md5_hex("5d41402abc4b2a76b9719d911017c592"));
        assert!(!is_md5_hex("5d41402abc4b2a76b9719d911017c592-2"));
    }
}
