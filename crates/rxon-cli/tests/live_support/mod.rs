//! Shared helpers of the live-ecosystem tests: locating the Python venvs, child processes
//! killed on drop, a tiny HTTP/1.1 client and bounded waits.
#![allow(dead_code)]

use rxon::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The interpreter of a live-package venv: `$env_key`, else `$HOME/.cache/rxon-rs/<venv>/bin/python`
/// (where `cargo xtask setup` installs it). `None` means "skip" (a panic when `CI` is set).
pub(crate) fn python(env_key: &str, venv: &str, package: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os(env_key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                PathBuf::from(h)
                    .join(".cache/rxon-rs")
                    .join(venv)
                    .join("bin/python")
            })
        });
    match candidate {
        Some(p) if p.is_file() => Some(p),
        other => {
            let msg = format!(
                "no Python with {package}: {} is not a file (set {env_key} or run `cargo xtask setup`)",
                other.map_or_else(
                    || "$HOME/.cache/rxon-rs".to_owned(),
                    |p| p.display().to_string()
                )
            );
            assert!(std::env::var_os("CI").is_none(), "{msg}");
            println!("skipped: {msg}");
            None
        }
    }
}

/// `<repo>/tests/interop/<name>`.
pub(crate) fn interop_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/interop")
        .join(name)
}

/// A fresh scratch directory for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let p =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[derive(Debug)]
/// A child process whose stdout and stderr go to a log file; killed (and reaped) on drop.
pub(crate) struct Proc {
    /// Name used in messages.
    pub(crate) name: String,
    /// The combined stdout/stderr log.
    pub(crate) log: PathBuf,
    child: Child,
}

impl Proc {
    /// Spawns `cmd` with its output in `<dir>/<name>.log`.
    pub(crate) fn spawn(name: &str, dir: &Path, mut cmd: Command) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            name: name.to_owned(),
            log,
            child,
        }
    }

    /// The log so far.
    pub(crate) fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics (with the log) if the process has exited.
    pub(crate) fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); its log:\n{}",
                self.name,
                self.output()
            );
        }
    }

    /// Waits until the log contains `needle`; panics with the log after `timeout`.
    pub(crate) fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let out = self.output();
            if out.contains(needle) {
                return out;
            }
            self.assert_running();
            assert!(
                start.elapsed() < timeout,
                "{} did not log {needle:?} within {timeout:?}; its log:\n{out}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Proc {
    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub(crate) fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {} failed", self.name);
        wait_until(
            &format!("{} to exit after SIGTERM", self.name),
            timeout,
            || self.child.try_wait().unwrap(),
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago (for programs that cannot report the port
/// they bound).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request (`Connection: close`) to `addr`; returns the status and the body.
/// `Err` on connection errors (e.g. the server is not up yet).
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("malformed response: {text:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("malformed status line: {head:?}")))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Ok((
        status,
        if chunked {
            dechunk(rest)
        } else {
            rest.to_owned()
        },
    ))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// [`http`] expecting a JSON body with status `want`.
pub(crate) fn http_json(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    want: u16,
) -> Value {
    let (status, text) = http(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path} failed: {e}"));
    assert_eq!(status, want, "{method} {path} answered {status}: {text}");
    json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
}

/// Polls `f` every 100 ms until it returns `Some`; panics with `what` after `timeout`.
pub(crate) fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
