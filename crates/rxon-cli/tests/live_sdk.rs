//! The live worker SDK (`avtomatika-worker` 1.0b20 from PyPI) against `rxon serve`: an `echo`
//! worker written as the SDK's README shows (`tests/interop/sdk_echo_worker.py`) completes jobs
//! submitted with `rxon submit`, with task signatures and worker signatures required, over
//! HTTP only and with the SDK's command WebSocket; progress events, cancellation of a running
//! task (by WebSocket command, or through the heartbeat answer without a socket) and a clean
//! SIGTERM shutdown (`offline` heartbeat) are checked too.
//!
//! Needs the SDK venv: `RXON_AVT_WORKER_PYTHON`, else `$HOME/.cache/rxon-rs/avtomatika-worker`
//! (both set up by `cargo xtask setup`); skipped when missing, unless `CI` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod live_support;

use live_support::{http_json, interop_script, python, scratch};
use rxon::{Value, json};
use rxon_testing::process::{ChildGuard, wait_until};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const WORKER_TOKEN: &str = "live-sdk-worker-token";
const CLIENT_TOKEN: &str = "live-sdk-client-token";
const TASK_KEY: &str = "live-sdk-task-signing-key";

fn sdk_python() -> Option<PathBuf> {
    python(
        "RXON_AVT_WORKER_PYTHON",
        "avtomatika-worker",
        "avtomatika-worker",
    )
}

/// `rxon serve` on a loopback port it picks itself; returns the process and its address.
/// `credential` is `TOKEN` (any worker id) or `ID=TOKEN`.
fn serve(dir: &Path, credential: &str) -> (ChildGuard, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rxon"));
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--worker-token",
        credential,
        "--client-token",
        CLIENT_TOKEN,
        "--task-signing-key",
        TASK_KEY,
        "--require-signatures",
    ])
    .env("RUST_LOG", "info");
    let mut p = ChildGuard::spawn_logged("rxon-serve", dir, &mut cmd);
    let out = p.wait_for_log("listening on http://", Duration::from_secs(30));
    let addr = out
        .split("listening on http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    (p, addr)
}

/// The SDK echo worker, configured through the SDK's environment variables only.
fn sdk_worker(
    py: &Path,
    dir: &Path,
    addr: &str,
    worker_id: &str,
    task_key: &str,
    websockets: bool,
) -> ChildGuard {
    let mut cmd = Command::new(py);
    cmd.arg(interop_script("sdk_echo_worker.py"))
        .current_dir(dir)
        .env_remove("ORCHESTRATORS_CONFIG")
        .env_remove("WORKER_INDIVIDUAL_TOKEN")
        .env_remove("SECRET_KEY")
        .env("PYTHONUNBUFFERED", "1")
        .env("LOG_LEVEL", "INFO")
        .env("ORCHESTRATOR_URL", format!("http://{addr}"))
        .env("WORKER_ID", worker_id)
        .env("WORKER_TOKEN", WORKER_TOKEN)
        .env("ORCHESTRATOR_SECRET_KEY", task_key)
        .env(
            "WORKER_ENABLE_WEBSOCKETS",
            if websockets { "true" } else { "false" },
        )
        .env("HEARTBEAT_INTERVAL", "1")
        .env("TASK_FILES_DIR", dir.join("payloads"))
        .env("WORKER_BLOB_CACHE_DIR", dir.join("blob-cache"));
    ChildGuard::spawn_logged(&format!("sdk-worker-{worker_id}"), dir, &mut cmd)
}

/// Waits until `rxon serve` lists the worker as registered.
fn wait_registered(addr: &str, worker: &mut ChildGuard, worker_id: &str) {
    wait_until(
        &format!("{worker_id} to register"),
        Duration::from_secs(30),
        || {
            worker.assert_running();
            let v = http_json(
                addr,
                "GET",
                "/api/workers",
                &[("X-Client-Token", CLIENT_TOKEN)],
                None,
                200,
            );
            let listed = v
                .get("workers")
                .and_then(Value::as_array)
                .is_some_and(|ws| {
                    ws.iter()
                        .any(|w| w.get("worker_id").and_then(Value::as_str) == Some(worker_id))
                });
            listed.then_some(())
        },
    );
}

/// Submits `count` echo jobs with `rxon submit --json` and checks every one finished with
/// its params echoed back as the result data.
fn submit_and_check(addr: &str, worker: &ChildGuard, count: usize) {
    let params =
        r#"{"text":"héllo, RXON","n":42,"x":1.5,"list":[1,"two",null],"nested":{"ok":true}}"#;
    let out = Command::new(env!("CARGO_BIN_EXE_rxon"))
        .args([
            "submit",
            "--url",
            &format!("http://{addr}"),
            "--client-token",
            CLIENT_TOKEN,
            "--type",
            "echo",
            "--params",
            params,
            "--count",
            &count.to_string(),
            "--json",
            "--timeout",
            "60",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rxon submit failed ({}): {stdout}{}\nworker log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        worker.output()
    );
    let want = json::from_str(params).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), count, "{stdout}");
    for line in lines {
        let job = json::from_str(line).unwrap();
        assert_eq!(
            job.get("status").and_then(Value::as_str),
            Some("finished"),
            "{line}"
        );
        assert_eq!(job.get("data"), Some(&want), "{line}");
    }
}

/// Queues one echo job through the client API; returns its job and task ids.
fn create_job(addr: &str, params: &str) -> (String, String) {
    let created = http_json(
        addr,
        "POST",
        "/api/jobs",
        &[("X-Client-Token", CLIENT_TOKEN)],
        Some(&format!(r#"{{"type":"echo","params":{params}}}"#)),
        200,
    );
    let job = &created.get("jobs").and_then(Value::as_array).unwrap()[0];
    let id = |k: &str| job.get(k).and_then(Value::as_str).unwrap().to_owned();
    (id("job_id"), id("task_id"))
}

/// Polls a job until `done(status)`; returns the job.
fn wait_job(addr: &str, job_id: &str, done: impl Fn(&str) -> bool) -> Value {
    wait_until(&format!("job {job_id}"), Duration::from_secs(30), || {
        let v = http_json(
            addr,
            "GET",
            &format!("/api/jobs/{job_id}"),
            &[("X-Client-Token", CLIENT_TOKEN)],
            None,
            200,
        );
        let status = v.get("status").and_then(Value::as_str).unwrap_or("");
        done(status).then_some(v)
    })
}

fn run_echo(websockets: bool) {
    let Some(py) = sdk_python() else { return };
    let dir = scratch(if websockets { "sdk-ws" } else { "sdk-http" });
    let worker_id = if websockets {
        "sdk-echo-ws"
    } else {
        "sdk-echo-http"
    };
    // One run with the shared token, one with a token for this worker id only.
    let credential = if websockets {
        WORKER_TOKEN.to_owned()
    } else {
        format!("{worker_id}={WORKER_TOKEN}")
    };
    let (serve, addr) = serve(&dir, &credential);
    let mut worker = sdk_worker(&py, &dir, &addr, worker_id, TASK_KEY, websockets);
    wait_registered(&addr, &mut worker, worker_id);
    submit_and_check(&addr, &worker, 20);

    // Progress events (over the socket when it is open, else over HTTP) reach the job.
    let (job_id, _) = create_job(&addr, r#"{"progress_message":"half way","n":1}"#);
    let job = wait_job(&addr, &job_id, |s| s == "finished");
    assert_eq!(
        job.get("progress"),
        Some(&json::from_str(r#"{"message":"half way","progress":0.5}"#).unwrap()),
        "{}",
        job.to_json()
    );

    // A running task cancelled through the client API: with its socket the SDK gets a
    // `cancel_task` command, without it the task id comes back in `cancel_task_ids` of a
    // heartbeat answer. The SDK logs the two paths differently.
    let (job_id, task_id) = create_job(
        &addr,
        r#"{"delay_seconds":30,"progress_message":"sleeping"}"#,
    );
    let job_id = job_id.as_str();
    wait_until(
        "the slow task to report progress",
        Duration::from_secs(30),
        || {
            let v = wait_job(&addr, job_id, |_| true);
            v.get("progress").map(|_| ())
        },
    );
    // The SDK opens its socket right after registering; give it a moment on a slow machine.
    std::thread::sleep(Duration::from_millis(500));
    http_json(
        &addr,
        "POST",
        &format!("/api/jobs/{job_id}/cancel"),
        &[("X-Client-Token", CLIENT_TOKEN)],
        None,
        200,
    );
    let cancelled = if websockets {
        format!("Cancelled task {task_id} by command.")
    } else {
        format!("Task {task_id} marked for cancellation via heartbeat feedback loop.")
    };
    worker.wait_for_log(&cancelled, Duration::from_secs(15));
    worker.wait_for_log(
        &format!("Task {task_id} was cancelled."),
        Duration::from_secs(15),
    );
    if websockets {
        assert!(
            !serve.output().contains("cancel not pushed"),
            "{}",
            serve.output()
        );
    }
    // A few periodic signed heartbeats, then SIGTERM: the SDK drains and reports `offline`.
    std::thread::sleep(Duration::from_millis(2500));
    let status = worker.terminate(Duration::from_secs(45));
    let worker_log = worker.output();
    assert!(
        status.success(),
        "the SDK worker exited {status}:\n{worker_log}"
    );
    assert!(
        !worker_log.contains("Heartbeat failed") && !worker_log.contains("ERROR"),
        "{worker_log}"
    );
    let v = http_json(
        &addr,
        "GET",
        "/api/workers",
        &[("X-Client-Token", CLIENT_TOKEN)],
        None,
        200,
    );
    let status = v
        .get("workers")
        .and_then(Value::as_array)
        .and_then(|ws| {
            ws.iter()
                .find(|w| w.get("worker_id").and_then(Value::as_str) == Some(worker_id))
        })
        .and_then(|w| w.get("status"))
        .and_then(Value::as_str);
    assert_eq!(status, Some("offline"), "{}", v.to_json());
    let log = serve.output();
    assert!(!log.contains(" WARN ") && !log.contains("ERROR"), "{log}");
}

#[test]
fn sdk_worker_completes_signed_echo_jobs_over_http() {
    run_echo(false);
}

#[test]
fn sdk_worker_completes_signed_echo_jobs_with_websocket_and_gets_cancels() {
    run_echo(true);
}

/// The task signature is really checked: with the wrong key the SDK rejects the task.
#[test]
fn sdk_worker_rejects_tasks_signed_with_another_key() {
    let Some(py) = sdk_python() else { return };
    let dir = scratch("sdk-badkey");
    let (_serve, addr) = serve(&dir, WORKER_TOKEN);
    let worker_id = "sdk-echo-badkey";
    let mut worker = sdk_worker(&py, &dir, &addr, worker_id, "not-the-task-key", false);
    wait_registered(&addr, &mut worker, worker_id);
    http_json(
        &addr,
        "POST",
        "/api/jobs",
        &[("X-Client-Token", CLIENT_TOKEN)],
        Some(r#"{"type":"echo","params":{"n":1}}"#),
        200,
    );
    worker.wait_for_log(
        "orchestrator signature verification failed",
        Duration::from_secs(30),
    );
}
