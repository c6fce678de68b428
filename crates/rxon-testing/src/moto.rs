//! [`MotoServer`]: a local S3 API server (moto) for blob-storage tests.
//!
//! The program is `RXON_MOTO_SERVER`, else `$HOME/.cache/rxon-rs/moto/bin/moto_server` (where
//! `cargo xtask setup` installs it). Without it a test is skipped, except under CI
//! ([`is_ci`](crate::process::is_ci)), where it fails.
// A panic is how a test helper reports a failure.
#![allow(clippy::panic)]

use crate::process::{ChildGuard, cached_tool, free_port, skip, wait_until};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A moto S3 server on 127.0.0.1 and a free port; killed when dropped. Its credentials are
/// anything (tests use `testing`/`testing`), its region `us-east-1`.
#[derive(Debug)]
pub struct MotoServer {
    _child: ChildGuard,
    port: u16,
}

impl MotoServer {
    /// Starts moto and waits (up to 60 s) until it answers; `None` (after printing
    /// `skipped: ...`) when it is not installed.
    ///
    /// # Panics
    ///
    /// When it is not installed under CI, cannot start or does not answer.
    #[must_use]
    pub fn start() -> Option<Self> {
        let bin = match cached_tool("RXON_MOTO_SERVER", "moto/bin/moto_server") {
            Ok(bin) => bin,
            Err(why) => return skip(&format!("moto_server not found: {why}")),
        };
        let port = free_port();
        let mut child = ChildGuard::spawn(
            "moto_server",
            Command::new(bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_until("moto_server to answer", Duration::from_secs(60), || {
            child.assert_running();
            request(
                port,
                "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            )
            .filter(|r| r.starts_with("HTTP/1."))
        });
        Some(Self {
            _child: child,
            port,
        })
    }

    /// Its port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its endpoint URL, `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates `bucket`.
    ///
    /// # Panics
    ///
    /// When moto does not answer 200.
    pub fn create_bucket(&self, bucket: &str) {
        let r = request(
            self.port,
            &format!(
                "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ),
        )
        .unwrap_or_default();
        assert!(
            r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"),
            "create bucket {bucket}: {r}"
        );
    }
}

/// One raw HTTP/1.x exchange with `127.0.0.1:<port>`; `None` when it cannot connect.
fn request(port: u16, request: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    Some(out)
}
