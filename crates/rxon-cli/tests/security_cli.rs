//! `rxon sign`, `verify`, `canonical` and `keygen` run as a user would (spec §10).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_arguments
)]

use rxon_testing::process::run_with_input;
use std::process::{Command, Output};

fn rxon(args: &[&str], stdin: &str) -> Output {
    // The command may exit before reading (e.g. a usage error).
    run_with_input(
        Command::new(env!("CARGO_BIN_EXE_rxon")).args(args),
        stdin.as_bytes(),
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A vector of the reference kit (tests/fixtures/signing.json of rxon-security):
/// `typical_task_result` under both versions.
const DOC: &str = r#"{"job_id":"job-1","task_id":"task-1","worker_id":"worker-1","status":"success","data":{"uri":"s3://b/out.png","score":0.98,"count":3},"timestamp":1767225601,"security":{"signature":"x","signer_id":"worker-1"}}"#;
const SECRET: &str = "rxon-conformance-secret";

#[test]
fn canonical_matches_the_reference() {
    let o = rxon(&["canonical"], DOC);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        "{\"data\":{\"count\":3,\"score\":0.98,\"uri\":\"s3://b/out.png\"},\"job_id\":\"job-1\",\"status\":\"success\",\"task_id\":\"task-1\",\"timestamp\":1767225601,\"worker_id\":\"worker-1\"}\n"
    );
    let o = rxon(
        &[
            "canonical",
            "--profile",
            "1.0b9",
            "--ignore-field",
            "data",
            "--ignore-field",
            "status",
        ],
        r#"{"a":1.0,"l":[null,1],"data":1,"status":2}"#,
    );
    assert_eq!(stdout(&o), "{\"a\":1.0,\"l\":[1]}\n");
    let o = rxon(&["canonical"], r#"{"a":1.0,"l":[null,1]}"#);
    assert_eq!(stdout(&o), "{\"a\":1,\"l\":[null,1]}\n");
    let o = rxon(&["canonical", "--profile", "2.0"], "{}");
    assert!(!o.status.success());
}

#[test]
fn hmac_sign_and_verify() {
    let o = rxon(&["sign", "--hmac-secret", SECRET], DOC);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sig = stdout(&o).trim().to_owned();
    assert_eq!(sig.len(), 64);

    let o = rxon(
        &["verify", "--hmac-secret", SECRET, "--signature", &sig],
        DOC,
    );
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "valid\n"));
    let o = rxon(
        &["verify", "--hmac-secret", "wrong", "--signature", &sig],
        DOC,
    );
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(1), "invalid\n")
    );
    // From the document's own security.signature.
    let signed = DOC.replace(r#""signature":"x""#, &format!(r#""signature":"{sig}""#));
    let o = rxon(&["verify", "--hmac-secret", SECRET], &signed);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "valid\n"));
    // Unparsable input: an error, exit status 2.
    let o = rxon(&["verify", "--hmac-secret", SECRET], "{not json");
    assert_eq!(o.status.code(), Some(2));
    // A key option is required.
    assert!(!rxon(&["sign"], DOC).status.success());
}

#[test]
fn sign_matches_reference_vector() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rxon-security/tests/fixtures/signing.json"
    );
    let fixture = rxon::json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let case = fixture
        .get("payloads")
        .and_then(rxon::Value::as_array)
        .unwrap()
        .iter()
        .find(|c| c.get("id").and_then(rxon::Value::as_str) == Some("typical_task_result"))
        .unwrap();
    assert_eq!(
        case.get("payload_json").and_then(rxon::Value::as_str),
        Some(DOC)
    );
    for profile in ["b9", "b17"] {
        let exp = case.get("expected").and_then(|e| e.get(profile)).unwrap();
        let want = exp
            .get("hmac_sha256")
            .and_then(rxon::Value::as_str)
            .unwrap();
        let o = rxon(
            &["sign", "--hmac-secret", SECRET, "--profile", profile],
            DOC,
        );
        assert_eq!(stdout(&o).trim(), want);
        if let Some(ed) = exp.get("ed25519").and_then(rxon::Value::as_str) {
            let keys = fixture
                .get("ed25519_keys")
                .and_then(|k| k.get("primary"))
                .unwrap();
            let dir = TempDir::new();
            let private = dir.path().join("k.pem");
            let public = dir.path().join("p.pem");
            std::fs::write(
                &private,
                keys.get("private_pem")
                    .and_then(rxon::Value::as_str)
                    .unwrap(),
            )
            .unwrap();
            std::fs::write(
                &public,
                keys.get("public_pem")
                    .and_then(rxon::Value::as_str)
                    .unwrap(),
            )
            .unwrap();
            let o = rxon(
                &[
                    "sign",
                    "--ed25519-key",
                    private.to_str().unwrap(),
                    "--profile",
                    profile,
                ],
                DOC,
            );
            assert_eq!(stdout(&o).trim(), ed);
            let o = rxon(
                &[
                    "verify",
                    "--ed25519-key",
                    public.to_str().unwrap(),
                    "--signature",
                    ed,
                ],
                DOC,
            );
            assert_eq!(stdout(&o), "valid\n");
        }
        let o = rxon(&["canonical", "--profile", profile], DOC);
        assert_eq!(
            stdout(&o).trim_end_matches('\n'),
            exp.get("canonical_text")
                .and_then(rxon::Value::as_str)
                .unwrap()
        );
    }
}

/// A fresh empty directory under the system temp dir, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("rxon-cli-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn lines_mode_goes_on_after_a_bad_line() {
    let input = format!("{DOC}\nnot json\n[1,2]\n{{\"v\":1e300}}\n");
    let o = rxon(&["sign", "--hmac-secret", SECRET, "--lines"], &input);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0].len(), 64);
    assert!(lines[1].starts_with("error: invalid JSON"), "{out}");
    assert_eq!(lines[2].len(), 64);
    assert_eq!(lines[3], "error: Integer exceeds 64-bit range");
    assert_eq!(o.status.code(), Some(1));

    let sig = lines[0];
    let verify_input = format!("{DOC}\n{{\"broken\"\n{}\n", DOC.replace("0.98", "0.99"));
    let o = rxon(
        &[
            "verify",
            "--hmac-secret",
            SECRET,
            "--signature",
            sig,
            "--lines",
        ],
        &verify_input,
    );
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "valid");
    assert!(lines[1].starts_with("error: "), "{out}");
    assert_eq!(lines[2], "invalid");
    assert_eq!(o.status.code(), Some(1));

    let o = rxon(&["canonical", "--lines"], "{\"b\":1,\"a\":2}\n\n[1.0]\n");
    assert_eq!(
        stdout(&o),
        "{\"a\":2,\"b\":1}\nerror: invalid JSON: empty document at byte 0\n[1]\n"
    );
}

#[test]
fn keygen_then_ed25519_sign_and_verify() {
    let dir = TempDir::new();
    let o = rxon(&["keygen", "--out-dir", dir.path().to_str().unwrap()], "");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let private = dir.path().join("ed25519_private.pem");
    let public = dir.path().join("ed25519_public.pem");
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Never overwrites.
    assert_eq!(
        rxon(&["keygen", "--out-dir", dir.path().to_str().unwrap()], "")
            .status
            .code(),
        Some(2)
    );

    let o = rxon(&["sign", "--ed25519-key", private.to_str().unwrap()], DOC);
    let sig = stdout(&o).trim().to_owned();
    assert_eq!(sig.len(), 128);
    let o = rxon(
        &[
            "verify",
            "--ed25519-key",
            public.to_str().unwrap(),
            "--signature",
            &sig.to_uppercase(),
        ],
        DOC,
    );
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "valid\n"));
    let o = rxon(
        &[
            "verify",
            "--ed25519-key",
            public.to_str().unwrap(),
            "--signature",
            &sig,
            "--profile",
            "1.0b17",
            "--ignore-field",
            "status",
        ],
        DOC,
    );
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(1), "invalid\n")
    );
    // A public key where a private key is expected: a clear error.
    let o = rxon(&["sign", "--ed25519-key", public.to_str().unwrap()], DOC);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Invalid private key"));

    let a = dir.path().join("a.pem");
    let b = dir.path().join("b.pem");
    let o = rxon(
        &[
            "keygen",
            "--private",
            a.to_str().unwrap(),
            "--public",
            b.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success());
    assert!(a.is_file() && b.is_file());
}
