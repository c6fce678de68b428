//! Backend-independent checks of [`BlobStore`], run against every backend (S3 through a
//! local S3 API server, the local file system, memory) — and usable against any other
//! configuration with the `conformance` feature.
//!
//! Each check panics with a message on failure (they are test helpers). `bucket` must exist
//! and may be shared: every check uses its own key prefix under `scratch_prefix`.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use crate::BlobStore;
use rxon_core::{BlobProvider as _, Error, FileMetadata};
use std::path::Path;

fn uri(bucket: &str, prefix: &str, key: &str) -> String {
    format!("s3://{bucket}/{prefix}/{key}")
}

fn write_file(path: &Path, len: usize, seed: u8) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    std::fs::write(path, data).unwrap();
}

/// Runs every check.
pub async fn run_all(store: &BlobStore, bucket: &str, scratch_prefix: &str, dir: &Path) {
    put_get_roundtrip(store, bucket, &format!("{scratch_prefix}/roundtrip"), dir).await;
    metadata_and_missing(store, bucket, &format!("{scratch_prefix}/meta"), dir).await;
    delete_semantics(store, bucket, &format!("{scratch_prefix}/delete"), dir).await;
    delete_prefix(store, bucket, &format!("{scratch_prefix}/prefix"), dir).await;
    multipart_roundtrip(store, bucket, &format!("{scratch_prefix}/multipart"), dir).await;
    verified_download(store, bucket, &format!("{scratch_prefix}/verified"), dir).await;
    relative_paths(store, bucket, &format!("{scratch_prefix}/relative"), dir).await;
    task_roundtrip(store, bucket, &format!("{scratch_prefix}/task"), dir).await;
}

/// Upload returns the canonical URI, size and ETag; download reproduces the bytes.
pub async fn put_get_roundtrip(store: &BlobStore, bucket: &str, prefix: &str, dir: &Path) {
    let src = dir.join("rt-src.bin");
    write_file(&src, 100_000, 1);
    let target = uri(bucket, prefix, "a/file.bin");
    let meta = store.upload(&src, &target).await.unwrap();
    assert_eq!(meta.uri, target);
    assert_eq!(meta.size, Some(100_000));
    assert!(
        meta.etag
            .as_deref()
            .is_some_and(|e| !e.is_empty() && !e.contains('"')),
        "etag: {:?}",
        meta.etag
    );

    let dst = dir.join("rt-out/nested/file.bin");
    let got = store.download(&target, &dst).await.unwrap();
    assert_eq!(got.size, 100_000);
    assert_eq!(std::fs::read(&dst).unwrap(), std::fs::read(&src).unwrap());
    assert_eq!(got.etag, meta.etag);
    no_partial_files(dst.parent().unwrap());

    // Empty files are fine too.
    let empty = dir.join("rt-empty");
    std::fs::write(&empty, b"").unwrap();
    let m = store
        .upload(&empty, &uri(bucket, prefix, "empty"))
        .await
        .unwrap();
    assert_eq!(m.size, Some(0));
    let out = dir.join("rt-empty-out");
    store
        .download(&uri(bucket, prefix, "empty"), &out)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"");
}

/// `metadata` describes stored objects and is `None` for missing ones; downloading a missing
/// object fails and leaves nothing behind.
pub async fn metadata_and_missing(store: &BlobStore, bucket: &str, prefix: &str, dir: &Path) {
    let target = uri(bucket, prefix, "m.txt");
    let put = store
        .put_bytes(&target, bytes::Bytes::from_static(b"hello"))
        .await
        .unwrap();
    let meta = store.metadata(&target).await.unwrap().unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(meta.etag, put.etag);
    if store.supports_content_type() {
        assert_eq!(meta.content_type.as_deref(), Some("text/plain"));
    }
    assert_eq!(
        store
            .metadata(&uri(bucket, prefix, "absent"))
            .await
            .unwrap(),
        None
    );

    let out_dir = dir.join("missing-out");
    let err = store
        .download(&uri(bucket, prefix, "absent"), &out_dir.join("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                status: Some(404),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!out_dir.join("x").exists());
    no_partial_files(&out_dir);

    // Directory URIs and bucket-only URIs do not name objects.
    assert!(matches!(
        store.metadata(&format!("s3://{bucket}/{prefix}/")).await,
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        store.metadata(&format!("s3://{bucket}")).await,
        Err(Error::Validation { .. })
    ));
}

/// `delete` says whether something was deleted.
pub async fn delete_semantics(store: &BlobStore, bucket: &str, prefix: &str, _dir: &Path) {
    let target = uri(bucket, prefix, "d.txt");
    store
        .put_bytes(&target, bytes::Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert!(store.delete(&target).await.unwrap());
    assert_eq!(store.metadata(&target).await.unwrap(), None);
    assert!(!store.delete(&target).await.unwrap());
}

/// `delete_prefix` removes everything under a directory URI and nothing beside it.
pub async fn delete_prefix(store: &BlobStore, bucket: &str, prefix: &str, _dir: &Path) {
    for key in ["dir/a", "dir/b", "dir/sub/c", "dir_sibling/d", "other"] {
        store
            .put_bytes(&uri(bucket, prefix, key), bytes::Bytes::from_static(b"1"))
            .await
            .unwrap();
    }
    let listed = store.list(&uri(bucket, prefix, "dir/")).await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        store
            .delete_prefix(&uri(bucket, prefix, "dir/"))
            .await
            .unwrap(),
        3
    );
    assert!(
        store
            .list(&uri(bucket, prefix, "dir/"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .metadata(&uri(bucket, prefix, "dir_sibling/d"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .metadata(&uri(bucket, prefix, "other"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .delete_prefix(&uri(bucket, prefix, "dir/"))
            .await
            .unwrap(),
        0
    );
}

/// A file larger than one part goes up as a multipart upload and comes back intact.
pub async fn multipart_roundtrip(store: &BlobStore, bucket: &str, prefix: &str, dir: &Path) {
    let src = dir.join("mp-src.bin");
    let len = 12 * 1024 * 1024 + 12_345;
    write_file(&src, len, 7);
    let target = uri(bucket, prefix, "big.bin");
    let small_parts = BlobStore::new(store.config().clone()).with_part_size(5 * 1024 * 1024);
    let meta = small_parts.upload(&src, &target).await.unwrap();
    assert_eq!(meta.size, Some(len as i64));
    let dst = dir.join("mp-out.bin");
    let got = small_parts
        .download_verified(&target, &dst, &meta)
        .await
        .unwrap();
    assert_eq!(got.size, len as u64);
    assert!(
        std::fs::read(&dst).unwrap() == std::fs::read(&src).unwrap(),
        "multipart content differs"
    );
}

/// `download_verified` accepts matching metadata and refuses wrong sizes and ETags with an
/// integrity error, writing nothing.
pub async fn verified_download(store: &BlobStore, bucket: &str, prefix: &str, dir: &Path) {
    let src = dir.join("v-src.bin");
    write_file(&src, 4096, 3);
    let target = uri(bucket, prefix, "v.bin");
    let meta = store.upload(&src, &target).await.unwrap();
    let out_dir = dir.join("v-out");
    store
        .download_verified(&target, &out_dir.join("ok.bin"), &meta)
        .await
        .unwrap();
    assert_eq!(std::fs::read(out_dir.join("ok.bin")).unwrap().len(), 4096);

    let wrong_size = FileMetadata {
        size: Some(4095),
        ..meta.clone()
    };
    let err = store
        .download_verified(&target, &out_dir.join("size.bin"), &wrong_size)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert_eq!(err.code(), rxon_core::ErrorCode::IntegrityMismatch);
    assert!(!out_dir.join("size.bin").exists());

    for bad in ["0123456789abcdef0123456789abcdef", "not-the-etag"] {
        let wrong_etag = FileMetadata {
            etag: Some(bad.to_owned()),
            ..meta.clone()
        };
        let err = store
            .download_verified(&target, &out_dir.join("etag.bin"), &wrong_etag)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Integrity { .. }), "{bad}: {err:?}");
        assert!(!out_dir.join("etag.bin").exists());
    }
    // An existing file is not clobbered by a failed download.
    std::fs::write(out_dir.join("keep.bin"), b"old").unwrap();
    let _ = store
        .download_verified(&target, &out_dir.join("keep.bin"), &wrong_size)
        .await
        .unwrap_err();
    assert_eq!(std::fs::read(out_dir.join("keep.bin")).unwrap(), b"old");
    no_partial_files(&out_dir);
}

/// Relative paths use the default bucket and prefix; without a default bucket they fail.
pub async fn relative_paths(store: &BlobStore, bucket: &str, prefix: &str, _dir: &Path) {
    let mut config = store.config().clone();
    config.default_bucket = Some(bucket.to_owned());
    config.prefix = format!("{prefix}/");
    let rel = BlobStore::new(config.clone());
    let meta = rel
        .put_bytes("/r.txt", bytes::Bytes::from_static(b"rel"))
        .await
        .unwrap();
    assert_eq!(meta.uri, uri(bucket, prefix, "r.txt"));
    assert_eq!(
        rel.metadata(&meta.uri).await.unwrap().map(|m| m.size),
        Some(3)
    );
    assert_eq!(
        rel.metadata("r.txt").await.unwrap().map(|m| m.size),
        Some(3)
    );
    config.default_bucket = None;
    let err = BlobStore::new(config).metadata("r.txt").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot parse relative path 'r.txt' without a default bucket."
    );
}

fn no_partial_files(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(".rxon-partial-"),
                "partial file left behind: {name}"
            );
        }
    }
}

/// The large-data helpers: `s3://` params (a file, verified by `params_metadata`, and a
/// directory) land in the task directory; result files and directories under it are
/// offloaded to `s3://<bucket>/<job_id>/…`; the task directory is removed on drop.
pub async fn task_roundtrip(store: &BlobStore, bucket: &str, prefix: &str, dir: &Path) {
    use crate::task::{TaskDir, offload_results, resolve_params};
    use rxon_core::{Map, TaskPayload, Value};
    let input = |k: &str| uri(bucket, prefix, &format!("in/{k}"));
    let up = store
        .put_bytes(&input("photo.png"), bytes::Bytes::from_static(b"png"))
        .await
        .unwrap();
    store
        .put_bytes(&input("set/a.txt"), bytes::Bytes::from_static(b"a"))
        .await
        .unwrap();
    store
        .put_bytes(&input("set/sub/b.txt"), bytes::Bytes::from_static(b"bb"))
        .await
        .unwrap();
    let mut task = TaskPayload::new("j1", "t1", "skill");
    let mut params = Map::new();
    params.insert("image", Value::String(input("photo.png")));
    params.insert("batch", Value::Array(vec![Value::String(input("set/"))]));
    params.insert("n", Value::Number(rxon_core::Number::from_i64(3)));
    params.insert("text", Value::String("s3 is not a uri".into()));
    task.params = Some(params);
    let mut pm = Map::new();
    pm.insert("image", up.clone());
    task.params_metadata = Some(pm);

    let base = dir.join("tasks");
    let task_dir = TaskDir::create(&base, "t1").unwrap();
    let params = resolve_params(store, &task, &task_dir).await.unwrap();
    let image = params.get("image").and_then(Value::as_str).unwrap();
    assert_eq!(std::fs::read(image).unwrap(), b"png");
    let batch = params
        .get("batch")
        .and_then(Value::as_array)
        .and_then(|b| b.first())
        .and_then(Value::as_str)
        .unwrap();
    assert_eq!(
        std::fs::read(Path::new(batch).join("sub/b.txt")).unwrap(),
        b"bb"
    );
    assert_eq!(std::fs::read(Path::new(batch).join("a.txt")).unwrap(), b"a");
    assert_eq!(params.get("n"), task.params.as_ref().unwrap().get("n"));
    assert_eq!(
        params.get("text").and_then(Value::as_str),
        Some("s3 is not a uri")
    );

    // A wrong ETag in params_metadata is an integrity error.
    let mut bad = task.clone();
    let mut pm = Map::new();
    pm.insert(
        "image",
        FileMetadata {
            etag: Some("nope".into()),
            ..up
        },
    );
    bad.params_metadata = Some(pm);
    let dir2 = TaskDir::create(&base, "t2").unwrap();
    assert!(matches!(
        resolve_params(store, &bad, &dir2).await,
        Err(Error::Integrity { .. })
    ));

    // Results: files and directories under the task dir are offloaded.
    std::fs::write(task_dir.path().join("out.txt"), b"result").unwrap();
    std::fs::create_dir_all(task_dir.path().join("frames")).unwrap();
    std::fs::write(task_dir.path().join("frames/0.png"), b"f0").unwrap();
    let out = task_dir
        .path()
        .join("out.txt")
        .to_string_lossy()
        .into_owned();
    let frames = task_dir
        .path()
        .join("frames")
        .to_string_lossy()
        .into_owned();
    let mut data = Map::new();
    let mut output = Map::new();
    output.insert("file", Value::String(out));
    data.insert("output", Value::Object(output));
    data.insert("files", Value::Array(vec![Value::String(frames)]));
    data.insert("elsewhere", Value::String("/etc/hostname".into()));
    let job = format!("{}-job", prefix.replace('/', "-"));
    let meta = offload_results(store, &mut data, &task_dir, bucket, &job)
        .await
        .unwrap();
    let out_uri = format!("s3://{bucket}/{job}/out.txt");
    assert_eq!(
        meta.get("output.file").map(|m| m.uri.as_str()),
        Some(out_uri.as_str())
    );
    assert_eq!(meta.get("output.file").and_then(|m| m.size), Some(6));
    let frames_uri = format!("s3://{bucket}/{job}/frames/");
    assert_eq!(
        meta.get("files[0]").map(|m| m.uri.as_str()),
        Some(frames_uri.as_str())
    );
    assert_eq!(meta.len(), 2);
    assert_eq!(
        data.get("output")
            .and_then(|o| o.get("file"))
            .and_then(Value::as_str),
        Some(out_uri.as_str())
    );
    assert_eq!(
        data.get("elsewhere").and_then(Value::as_str),
        Some("/etc/hostname")
    );
    assert_eq!(
        store
            .metadata(&format!("{frames_uri}0.png"))
            .await
            .unwrap()
            .map(|m| m.size),
        Some(2)
    );

    let path = task_dir.path().to_path_buf();
    drop(task_dir);
    assert!(!path.exists(), "task dir removed on drop");
    assert!(TaskDir::create(&base, "../x").is_err());
}
