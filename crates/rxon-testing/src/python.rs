//! The Python reference implementations (`rxon` 1.0b9 and 1.0b17) and the conformance kit's
//! peer programs, for differential and interoperability tests.
//!
//! The kit lives next to the repository, as `<repo>/../shared/conformance` (in CI a sibling
//! of the checkout). Its `setup.sh` creates one virtual environment per reference version and
//! prints `RXON_B9_PYTHON=...` / `RXON_B17_PYTHON=...`; the same variables, when set, name the
//! interpreters directly. A test without an interpreter is skipped, except under CI
//! ([`is_ci`](crate::process::is_ci)), where it fails.
//!
//! ```no_run
//! use rxon_core::ProtocolVersion;
//! use rxon_testing::python::{reference_python, spawn_peer_orchestrator};
//!
//! let version = ProtocolVersion::V1_0b17;
//! let Some(python) = reference_python(version) else { return }; // skipped
//! let peer = spawn_peer_orchestrator(&python, version, "basic");
//! // (or both at once: `PeerOrchestrator::start(version, "basic")`)
//! // ... drive a worker transport against `peer.url()` ...
//! let report = peer.finish(); // panics unless the peer passed
//! # let _ = report;
//! ```
// A panic is how a test helper reports a failure.
#![allow(clippy::panic, clippy::expect_used)]

use crate::process::{ChildGuard, ScratchDir, run_with_input, skip, wait_for_file};
use rxon_core::ProtocolVersion;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// How long a peer may run: passed as its `--timeout` (seconds), after which it gives up.
const PEER_TIMEOUT_SECS: u64 = 30;
/// How long a peer may take to announce its port.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for a peer's exit: its own timeout plus a margin.
const EXIT_TIMEOUT: Duration = Duration::from_secs(PEER_TIMEOUT_SECS + 30);

/// The kit's label of a reference version: `b9` or `b17` (`--version` of the peers, and the
/// `B9`/`B17` of `RXON_B9_PYTHON`/`RXON_B17_PYTHON`).
#[must_use]
pub fn tag(version: ProtocolVersion) -> &'static str {
    let name = version.as_str();
    name.strip_prefix("1.0").unwrap_or(name)
}

/// The root of the repository: the nearest ancestor of the package under test (runtime
/// `CARGO_MANIFEST_DIR`, else this crate's) whose `Cargo.toml` declares `[workspace]`.
fn repo_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map_or(start.clone(), Path::to_path_buf)
}

/// The conformance kit: `<repo>/../shared/conformance` (it may be missing).
#[must_use]
pub fn conformance_kit_dir() -> PathBuf {
    repo_root().join("..").join("shared").join("conformance")
}

/// The reference interpreter of `version`: `RXON_B9_PYTHON` / `RXON_B17_PYTHON` when set,
/// else the path the kit's `setup.sh` prints (it is idempotent). `Err` says why there is
/// none; see [`reference_python`] for the skip rule.
pub fn find_reference_python(version: ProtocolVersion) -> Result<PathBuf, String> {
    let var = format!("RXON_{}_PYTHON", tag(version).to_uppercase());
    if let Some(p) = std::env::var_os(&var).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let setup = conformance_kit_dir().join("setup.sh");
    if !setup.is_file() {
        return Err(format!(
            "no reference interpreter ({var} unset and no conformance kit at {})",
            setup.display()
        ));
    }
    let out = Command::new("bash")
        .arg(&setup)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("no reference interpreter ({var} unset, cannot run bash: {e})"))?;
    if !out.status.success() {
        return Err(format!(
            "no reference interpreter ({var} unset and {} failed with {})",
            setup.display(),
            out.status
        ));
    }
    let prefix = format!("{var}=");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(PathBuf::from))
        .ok_or_else(|| {
            format!(
                "no reference interpreter ({var} unset and {} did not print it)",
                setup.display()
            )
        })
}

/// [`find_reference_python`], or `None` after printing `skipped: <why>`; under CI
/// ([`is_ci`](crate::process::is_ci)) a missing interpreter is a failure.
///
/// # Panics
///
/// Under CI, when there is no interpreter.
#[must_use]
pub fn reference_python(version: ProtocolVersion) -> Option<PathBuf> {
    match find_reference_python(version) {
        Ok(p) => Some(p),
        Err(why) => skip(&why),
    }
}

/// Runs `python -c <script>` with `stdin` as its standard input and returns its standard
/// output.
///
/// # Panics
///
/// When it cannot run or exits unsuccessfully (quoting its standard error).
#[must_use]
pub fn run_script(python: &Path, script: &str, stdin: &[u8]) -> Vec<u8> {
    let out = run_with_input(Command::new(python).args(["-c", script]), stdin);
    assert!(
        out.status.success(),
        "the reference script failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A finished peer: its exit status and JSON report.
#[derive(Debug)]
pub struct PeerOutcome {
    /// The exit status (0 = every check passed, 1 = a check failed, 2 = it gave up).
    pub status: ExitStatus,
    /// The JSON report (empty when the peer wrote none).
    pub report: String,
}

impl PeerOutcome {
    /// Whether the peer exited 0 and its report says `"ok": true`.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.status.success()
            && (self.report.contains("\"ok\": true") || self.report.contains("\"ok\":true"))
    }

    /// Panics, quoting the report, unless the peer [`passed`](Self::passed).
    ///
    /// # Panics
    ///
    /// When it did not.
    pub fn assert_passed(&self, what: &str) {
        assert!(
            self.passed(),
            "{what}: the peer failed with {}; report:\n{}",
            self.status,
            self.report
        );
    }
}

/// The kit's reference orchestrator (`peer_orchestrator.py`) playing one scenario on an
/// ephemeral loopback port; killed when dropped.
#[derive(Debug)]
pub struct PeerOrchestrator {
    child: ChildGuard,
    url: String,
    report: PathBuf,
    what: String,
    _dir: ScratchDir,
}

/// Starts `peer_orchestrator.py --version <tag> --scenario <scenario> --port 0` under
/// `python` and waits until it announces its port (`--ready-file`).
///
/// # Panics
///
/// When it cannot start, exits early or is not ready within 30 s.
#[must_use]
pub fn spawn_peer_orchestrator(
    python: &Path,
    version: ProtocolVersion,
    scenario: &str,
) -> PeerOrchestrator {
    let dir = ScratchDir::new("rxon-peer-orchestrator");
    let ready = dir.path().join("port");
    let report = dir.path().join("report.json");
    let what = format!("peer_orchestrator {} {scenario}", tag(version));
    let mut child = ChildGuard::spawn(
        &what,
        Command::new(python)
            .arg(conformance_kit_dir().join("peer_orchestrator.py"))
            .args(["--version", tag(version), "--scenario", scenario])
            .args(["--port", "0", "--timeout", &PEER_TIMEOUT_SECS.to_string()])
            .arg("--ready-file")
            .arg(&ready)
            .arg("--report")
            .arg(&report)
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    let port = wait_for_file(&ready, READY_TIMEOUT, Some(&mut child));
    let port: u16 = port
        .parse()
        .unwrap_or_else(|_| panic!("{what}: bad ready file {port:?}"));
    PeerOrchestrator {
        child,
        url: format!("http://127.0.0.1:{port}"),
        report,
        what,
        _dir: dir,
    }
}

impl PeerOrchestrator {
    /// [`reference_python`] and [`spawn_peer_orchestrator`] in one: `None` (skip) without an
    /// interpreter.
    ///
    /// # Panics
    ///
    /// As those two do.
    #[must_use]
    pub fn start(version: ProtocolVersion, scenario: &str) -> Option<Self> {
        let python = reference_python(version)?;
        Some(spawn_peer_orchestrator(&python, version, scenario))
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits (blocking, bounded) for the peer to exit and returns its outcome.
    ///
    /// # Panics
    ///
    /// When it does not exit in time.
    #[must_use]
    pub fn outcome(mut self) -> PeerOutcome {
        let status = self.child.wait_timeout(EXIT_TIMEOUT);
        PeerOutcome {
            status,
            report: std::fs::read_to_string(&self.report).unwrap_or_default(),
        }
    }

    /// Waits (blocking, bounded) for the peer to exit, asserts that it passed and returns its
    /// report. From async code, call it through `spawn_blocking`.
    ///
    /// # Panics
    ///
    /// When it does not exit in time or did not pass (quoting the report).
    pub fn finish(self) -> String {
        let what = self.what.clone();
        let outcome = self.outcome();
        outcome.assert_passed(&what);
        outcome.report
    }
}

/// Runs the kit's reference worker (`peer_worker.py --url <url> --scenario <scenario>`) under
/// `python` to its end (blocking, bounded) and returns its outcome. From async code, call it
/// through `spawn_blocking`.
///
/// # Panics
///
/// When it cannot start or does not exit in time.
#[must_use]
pub fn run_peer_worker(python: &Path, url: &str, scenario: &str) -> PeerOutcome {
    let dir = ScratchDir::new("rxon-peer-worker");
    let report = dir.path().join("report.json");
    let mut child = ChildGuard::spawn(
        &format!("peer_worker {scenario}"),
        Command::new(python)
            .arg(conformance_kit_dir().join("peer_worker.py"))
            .args(["--url", url, "--scenario", scenario])
            .args(["--timeout", &PEER_TIMEOUT_SECS.to_string()])
            .arg("--report")
            .arg(&report)
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    let status = child.wait_timeout(EXIT_TIMEOUT);
    PeerOutcome {
        status,
        report: std::fs::read_to_string(&report).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_the_reference_versions() {
        assert_eq!(tag(ProtocolVersion::V1_0b9), "b9");
        assert_eq!(tag(ProtocolVersion::V1_0b17), "b17");
    }

    #[test]
    fn the_kit_is_a_sibling_of_the_repository() {
        let kit = conformance_kit_dir();
        assert!(kit.ends_with("shared/conformance"), "{}", kit.display());
        let root = repo_root();
        assert!(root.join("crates").is_dir(), "{}", root.display());
    }

    #[test]
    fn a_peer_worker_without_a_listener_does_not_pass() {
        let Some(python) = reference_python(ProtocolVersion::V1_0b17) else {
            return;
        };
        let port = crate::process::free_port();
        let outcome = run_peer_worker(&python, &format!("http://127.0.0.1:{port}"), "basic");
        assert!(!outcome.passed(), "{outcome:?}");
        assert!(
            outcome.report.contains("\"failures\""),
            "{}",
            outcome.report
        );
    }

    #[test]
    fn the_b17_reference_runs_a_script() {
        let Some(python) = reference_python(ProtocolVersion::V1_0b17) else {
            return;
        };
        let out = run_script(
            &python,
            "import sys, rxon; sys.stdout.write(sys.stdin.read().upper())",
            b"ok",
        );
        assert_eq!(out, b"OK");
    }
}
