//! `rxon schema validate` end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_testing::process::run_with_input;
use std::process::Command;

fn run(schema: &str, data: &str, version: Option<&str>) -> (i32, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("schema-cli-{}-{n}.json", std::process::id()));
    std::fs::write(&path, schema).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rxon"));
    cmd.args(["schema", "validate", "--schema"]).arg(&path);
    if let Some(v) = version {
        cmd.args(["--version", v]);
    }
    let out = run_with_input(&mut cmd, data.as_bytes());
    std::fs::remove_file(&path).unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

const SCHEMA: &str = r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#;

#[test]
fn valid_prints_ok() {
    assert_eq!(run(SCHEMA, r#"{"a": 1}"#, None), (0, "ok\n".to_owned()));
}

#[test]
fn invalid_prints_the_message_per_version() {
    assert_eq!(
        run(SCHEMA, r#"{"a": "s"}"#, None),
        (1, "Field 'a': Expected integer\n".to_owned())
    );
    assert_eq!(
        run(SCHEMA, r#"{"a": "s"}"#, Some("1.0b9")),
        (1, "Field 'a': Expected integer, got str\n".to_owned())
    );
    assert_eq!(
        run(SCHEMA, "{}", Some("1.0b17")),
        (1, "Missing required field: 'a'\n".to_owned())
    );
}

#[test]
fn bad_input_is_exit_2() {
    assert_eq!(run(SCHEMA, "{not json", None).0, 2);
    assert_eq!(
        run(r#"{"type":"bogus"}"#, "5", None),
        (1, "Failed to compile schema\n".to_owned())
    );
}
