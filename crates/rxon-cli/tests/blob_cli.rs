//! `rxon blob` end to end against a local-directory store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_testing::moto::MotoServer;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("blob-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn rxon(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rxon"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn put_stat_get_rm_with_a_local_store() {
    let dir = scratch("local");
    let store = format!("file://{}", dir.join("store").display());
    std::fs::create_dir_all(dir.join("store")).unwrap();
    let src = dir.join("in.txt");
    std::fs::write(&src, b"hello blob").unwrap();
    let s = store.as_str();

    let (code, out) = rxon(&[
        "blob",
        "--store",
        s,
        "put",
        src.to_str().unwrap(),
        "s3://b/dir/in.txt",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(r#"{"etag":""#)
            && out.contains(r#""size":10"#)
            && out.contains(r#""uri":"s3://b/dir/in.txt""#),
        "{out}"
    );

    let (code, out) = rxon(&["blob", "--store", s, "stat", "s3://b/dir/in.txt"]);
    assert_eq!(code, 0);
    assert!(out.starts_with(r#"{"size":10,"etag":""#), "{out}");

    let dst = dir.join("out/in.txt");
    let (code, _) = rxon(&[
        "blob",
        "--store",
        s,
        "get",
        "s3://b/dir/in.txt",
        dst.to_str().unwrap(),
        "--size",
        "10",
    ]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&dst).unwrap(), b"hello blob");

    let bad = dir.join("out/bad.txt");
    let (code, out) = rxon(&[
        "blob",
        "--store",
        s,
        "get",
        "s3://b/dir/in.txt",
        bad.to_str().unwrap(),
        "--size",
        "11",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(!bad.exists());

    assert_eq!(
        rxon(&["blob", "--store", s, "rm", "s3://b/dir/in.txt"]),
        (0, "deleted 1\n".to_owned())
    );
    assert_eq!(
        rxon(&["blob", "--store", s, "rm", "s3://b/dir/in.txt"]),
        (1, "deleted 0\n".to_owned())
    );
    assert_eq!(
        rxon(&["blob", "--store", s, "stat", "s3://b/dir/in.txt"]),
        (1, "not found\n".to_owned())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_hash_matches_the_reference() {
    let args = [
        "blob",
        "--endpoint",
        "http://minio:9000",
        "--access-key",
        "AKIAEXAMPLE",
        "--bucket",
        "rxon-bucket",
        "config-hash",
    ];
    assert_eq!(rxon(&args), (0, "d4facdf1501de8ea\n".to_owned()));
    let (code, out) = rxon(&[
        "blob",
        "--endpoint",
        "http://minio:9000",
        "--bucket",
        "b",
        "config-hash",
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
}

#[test]
fn put_get_against_an_s3_api() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    moto.create_bucket("cli");
    let dir = scratch("s3");
    let src = dir.join("in.bin");
    std::fs::write(&src, b"hello s3").unwrap();
    let endpoint = moto.endpoint();
    let s3 = [
        "blob",
        "--endpoint",
        &endpoint,
        "--access-key",
        "testing",
        "--secret-key",
        "testing",
        "--bucket",
        "cli",
    ];
    let with =
        |rest: &[&str]| -> Vec<String> { s3.iter().chain(rest).map(|s| (*s).to_owned()).collect() };
    let run = |args: Vec<String>| rxon(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let (code, out) = run(with(&["put", src.to_str().unwrap(), "rel/in.bin"]));
    assert_eq!(code, 0, "{out}");
    // Single-part S3 ETag = MD5 of the content.
    assert_eq!(
        out,
        "{\"etag\":\"b60d991fa6dbd33863c7cec70d15dbac\",\"size\":8,\"uri\":\"s3://cli/rel/in.bin\"}\n"
    );
    let dst = dir.join("out.bin");
    let (code, _) = run(with(&[
        "get",
        "s3://cli/rel/in.bin",
        dst.to_str().unwrap(),
        "--size",
        "8",
    ]));
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&dst).unwrap(), b"hello s3");
    assert_eq!(
        run(with(&["rm", "--recursive", "s3://cli/rel/"])),
        (0, "deleted 1\n".to_owned())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
