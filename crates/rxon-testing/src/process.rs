//! Child processes for tests: guards that kill and reap on drop, bounded waits, free loopback
//! ports, scratch directories and the "skip here, fail under CI" rule for missing tools.
//!
//! Everything here is test support: the functions panic (with a message saying what went
//! wrong) instead of returning errors, because a failure is a failing test.
// A panic is how a test helper reports a failure.
#![allow(clippy::panic, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How often the bounded waits of this module look again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Whether the tests run under CI: `CI` is set to a non-empty value other than `0` or `false`.
/// Under CI a missing tool is a failure, elsewhere a skip.
#[must_use]
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

/// Reports that something a test needs is unavailable: panics with `reason` under CI
/// ([`is_ci`]), else prints `skipped: <reason>` and returns `None`, so that a test can write
/// `let Some(x) = found.or_else(|| skip(..)) else { return };`.
///
/// # Panics
///
/// Under CI.
pub fn skip<T>(reason: &str) -> Option<T> {
    assert!(!is_ci(), "{reason}");
    println!("skipped: {reason}");
    None
}

/// A program installed for the tests: the path in `env_key` when set (and not empty), else
/// `$HOME/.cache/rxon-rs/<cache_path>` (where `cargo xtask setup` installs tools). `Err` says
/// why there is none (the candidate is not a file).
pub fn cached_tool(env_key: &str, cache_path: &str) -> Result<PathBuf, String> {
    let candidate = std::env::var_os(env_key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/rxon-rs").join(cache_path))
        });
    match candidate {
        Some(p) if p.is_file() => Ok(p),
        Some(p) => Err(format!(
            "{} is not a file (set {env_key} or run `cargo xtask setup`)",
            p.display()
        )),
        None => Err(format!("{env_key} and HOME are unset")),
    }
}

/// A loopback port that was free a moment ago, for programs that cannot report the port they
/// bound themselves.
///
/// # Panics
///
/// When no port can be bound on 127.0.0.1.
#[must_use]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}

/// Calls `f` every few milliseconds until it returns `Some`.
///
/// # Panics
///
/// After `timeout`, naming `what` was awaited.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Waits until `path` exists with non-blank content (a "ready file", written atomically by
/// the program that announces it is up) and returns the content, trimmed. When `child` is
/// given, its early exit fails the wait at once.
///
/// # Panics
///
/// When `child` exits first, or after `timeout`.
pub fn wait_for_file(path: &Path, timeout: Duration, mut child: Option<&mut ChildGuard>) -> String {
    wait_until(
        &format!("{} to be written", path.display()),
        timeout,
        || {
            if let Some(child) = child.as_deref_mut() {
                child.assert_running();
            }
            std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        },
    )
}

/// Runs `cmd` to its end with `input` as its standard input (written from another thread, so
/// that a large input and a large output cannot block each other) and returns its captured
/// standard output and error. A program that exits without reading all of its input is not an
/// error here: its exit status says what happened.
///
/// # Panics
///
/// When the program cannot be started or waited for.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {cmd:?}: {e}"));
    let _ = writer.join();
    out
}

/// A child process that is killed and reaped when the guard is dropped, so that a failing
/// test leaves nothing running. It may write its stdout and stderr to a log file
/// ([`spawn_logged`](Self::spawn_logged)), which failure messages then quote.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    log: Option<PathBuf>,
    child: Child,
}

impl ChildGuard {
    /// Guards an already spawned `child`; `name` is used in messages.
    #[must_use]
    pub fn new(name: &str, child: Child) -> Self {
        Self {
            name: name.to_owned(),
            log: None,
            child,
        }
    }

    /// Spawns `cmd` as it is configured.
    ///
    /// # Panics
    ///
    /// When the program cannot be started.
    pub fn spawn(name: &str, cmd: &mut Command) -> Self {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self::new(name, child)
    }

    /// Spawns `cmd` with no stdin and its stdout and stderr in `<dir>/<name>.log`.
    ///
    /// # Panics
    ///
    /// When the log cannot be created or the program cannot be started.
    pub fn spawn_logged(name: &str, dir: &Path, cmd: &mut Command) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone a file handle");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let mut guard = Self::spawn(name, cmd);
        guard.log = Some(log);
        guard
    }

    /// The name used in messages.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The guarded process.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The log file of [`spawn_logged`](Self::spawn_logged).
    #[must_use]
    pub fn log_path(&self) -> Option<&Path> {
        self.log.as_deref()
    }

    /// The log so far (empty without a log file).
    #[must_use]
    pub fn output(&self) -> String {
        self.log
            .as_ref()
            .and_then(|l| std::fs::read_to_string(l).ok())
            .unwrap_or_default()
    }

    /// The exit status, if the process has exited.
    ///
    /// # Panics
    ///
    /// When the status cannot be queried.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .try_wait()
            .unwrap_or_else(|e| panic!("cannot query {}: {e}", self.name))
    }

    /// Panics (quoting the log) if the process has exited.
    ///
    /// # Panics
    ///
    /// When it has.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.try_wait() {
            panic!(
                "{} exited early ({status}); its log:\n{}",
                self.name,
                self.output()
            );
        }
    }

    /// Waits until the log contains `needle` and returns the log.
    ///
    /// # Panics
    ///
    /// When the process exits first, or after `timeout` (quoting the log).
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> String {
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
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits (bounded) for the process to exit and returns its status.
    ///
    /// # Panics
    ///
    /// After `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> ExitStatus {
        let what = format!("{} to exit", self.name);
        wait_until(&what, timeout, || self.try_wait())
    }

    /// Sends SIGTERM (through `kill -TERM`) and waits (bounded) for the exit status.
    ///
    /// # Panics
    ///
    /// When `kill` fails, or after `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(status.success(), "kill -TERM {} failed", self.name);
        self.wait_timeout(timeout)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system temporary directory, removed (with its content) when
/// dropped.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/<prefix>-<pid>-<n>`, unique within the process.
    ///
    /// # Panics
    ///
    /// When the directory cannot be created.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self { path }
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_for_file_returns_the_trimmed_content() {
        let dir = ScratchDir::new("rxon-testing-ready");
        let ready = dir.path().join("port");
        std::fs::write(&ready, "4242\n").unwrap();
        assert_eq!(wait_for_file(&ready, Duration::from_secs(1), None), "4242");
    }

    #[test]
    #[should_panic(expected = "timed out")]
    fn wait_for_file_gives_up() {
        let dir = ScratchDir::new("rxon-testing-missing");
        let _ = wait_for_file(&dir.path().join("never"), Duration::from_millis(50), None);
    }

    #[test]
    fn scratch_dirs_are_distinct_and_removed() {
        let a = ScratchDir::new("rxon-testing-scratch");
        let b = ScratchDir::new("rxon-testing-scratch");
        assert_ne!(a.path(), b.path());
        let path = a.path().to_path_buf();
        assert!(path.is_dir());
        drop(a);
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_guarded_child_is_killed_on_drop() {
        let mut guard = ChildGuard::spawn("sleep", Command::new("sleep").arg("30"));
        guard.assert_running();
        let pid = guard.id();
        drop(guard);
        // Reaped: no process with that id is left (or it is another, unrelated one).
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(!alive, "pid {pid} is still running");
    }

    #[cfg(unix)]
    #[test]
    fn logged_output_and_exit_status() {
        let dir = ScratchDir::new("rxon-testing-log");
        let mut guard = ChildGuard::spawn_logged(
            "echo",
            dir.path(),
            Command::new("sh").args(["-c", "echo ready; exit 3"]),
        );
        let status = guard.wait_timeout(Duration::from_secs(10));
        assert_eq!(status.code(), Some(3));
        assert_eq!(guard.output(), "ready\n");
    }

    #[cfg(unix)]
    #[test]
    fn input_goes_in_and_output_comes_back() {
        // More than a pipe buffer both ways.
        let input = vec![b'x'; 1 << 20];
        let out = run_with_input(&mut Command::new("cat"), &input);
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), input.len());
    }

    #[test]
    fn cached_tool_reports_a_missing_file() {
        let err = cached_tool("RXON_TESTING_SURELY_UNSET_VAR", "no/such/tool").unwrap_err();
        assert!(err.contains("no/such/tool"), "{err}");
    }
}
