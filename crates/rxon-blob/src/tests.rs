//! The conformance checks against every backend: memory, the local file system, and S3
//! through a local S3 API server (moto).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conformance;
use crate::{BlobConfig, BlobStore, S3Config, StoreConfig};
use rxon_testing::moto::MotoServer;
use std::io::Write as _;

/// The S3 configuration of `moto` for `bucket`.
fn moto_config(moto: &MotoServer, bucket: &str) -> BlobConfig {
    let s3 = S3Config {
        region: Some("us-east-1".into()),
        ..S3Config::new(moto.endpoint(), "testing", "testing")
    };
    BlobConfig::new(StoreConfig::S3(s3)).with_default_bucket(bucket)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn conformance_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::new(BlobConfig::new(StoreConfig::Memory));
    runtime().block_on(conformance::run_all(&store, "bucket", "c", dir.path()));
}

#[test]
fn conformance_local_fs() {
    let root = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::new(BlobConfig::new(StoreConfig::Local {
        root: root.path().to_path_buf(),
    }));
    runtime().block_on(conformance::run_all(&store, "bucket", "c", dir.path()));
    // Buckets are directories under the root, and cannot escape it.
    assert!(root.path().join("bucket").is_dir());
    let err = runtime()
        .block_on(rxon_core::BlobProvider::metadata(&store, "s3://../x"))
        .unwrap_err();
    assert!(
        matches!(err, rxon_core::Error::Validation { .. }),
        "{err:?}"
    );
}

#[test]
fn conformance_s3_moto() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    moto.create_bucket("rxon-test");
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::new(moto_config(&moto, "rxon-test"));
    runtime().block_on(async {
        conformance::run_all(&store, "rxon-test", "c", dir.path()).await;
        // A single-part S3 ETag is the MD5 of the content.
        let meta = store
            .put_bytes("s3://rxon-test/md5", bytes::Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert_eq!(
            meta.etag.as_deref(),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
        // A bucket that does not exist.
        let err = rxon_core::BlobProvider::download(
            &store,
            "s3://no-such-bucket/k",
            &dir.path().join("nb"),
        )
        .await
        .unwrap_err();
        assert!(!dir.path().join("nb").exists(), "{err:?}");
    });
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Uploads and downloads a 200 MB file and reports the peak resident memory of the process
/// while doing so (the peak is reset first through `/proc/self/clear_refs`).
#[test]
#[ignore = "measures the whole process peak RSS and writes 200 MB: run alone with cargo test -p rxon-blob -- --ignored --test-threads=1 --nocapture"]
fn large_file_memory_stays_bounded() {
    const LEN: usize = 200 * 1024 * 1024;
    const LIMIT_KIB: u64 = 64 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&src).unwrap());
        let block: Vec<u8> = (0..1024 * 1024).map(|i: usize| (i % 251) as u8).collect();
        for _ in 0..LEN / block.len() {
            f.write_all(&block).unwrap();
        }
    }
    let root = tempfile::tempdir().unwrap();
    let moto = MotoServer::start();
    let mut backends = vec![(
        "local",
        BlobStore::new(BlobConfig::new(StoreConfig::Local {
            root: root.path().to_path_buf(),
        })),
    )];
    if let Some(m) = &moto {
        m.create_bucket("big");
        backends.push(("s3", BlobStore::new(moto_config(m, "big"))));
    }
    let rt = runtime();
    for (name, store) in backends {
        std::fs::write("/proc/self/clear_refs", "5").unwrap();
        let before = status_kib("VmRSS:");
        let out = dir.path().join(format!("out-{name}.bin"));
        let meta = rt
            .block_on(rxon_core::BlobProvider::upload(
                &store,
                &src,
                "s3://big/big.bin",
            ))
            .unwrap();
        rt.block_on(store.download_verified("s3://big/big.bin", &out, &meta))
            .unwrap();
        let peak = status_kib("VmHWM:");
        println!("{name}: 200 MB up and down, VmRSS before {before} KiB, peak VmHWM {peak} KiB");
        assert_eq!(std::fs::metadata(&out).unwrap().len(), LEN as u64);
        assert!(peak < LIMIT_KIB, "{name}: peak RSS {peak} KiB");
        std::fs::remove_file(&out).unwrap();
    }
}

#[test]
fn cloud_backends_build_without_network() {
    let azure = StoreConfig::Azure {
        account: "devstoreaccount1".into(),
        access_key: Some(
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==".into(),
        ),
    };
    let store = BlobStore::new(BlobConfig::new(azure));
    assert!(store.backend("container").is_ok());
    let s3 = BlobStore::new(BlobConfig::new(StoreConfig::S3(S3Config::new(
        "https://s3.example.org",
        "k",
        "s",
    ))));
    assert!(s3.backend("bucket").is_ok());
    assert!(matches!(
        s3.backend(""),
        Err(rxon_core::Error::Validation { .. })
    ));
}
