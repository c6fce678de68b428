//! `rxon worker` against the live orchestrator (`avtomatika` 1.0b30 from PyPI), set up as a new
//! user would: the library quick start with in-memory storage and a blueprint that dispatches
//! task type `echo` (`tests/interop/avt_orchestrator.py`), jobs submitted through its client
//! API (`X-Client-Token`), results read back from the job status.
//!
//! Needs the orchestrator venv: `RXON_AVT_PYTHON`, else `$HOME/.cache/rxon-rs/avtomatika`
//! (both set up by `cargo xtask setup`); skipped when missing, unless `CI` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod live_support;

use live_support::{http, http_json, interop_script, python, scratch};
use rxon::{Value, json};
use rxon_testing::process::{ChildGuard, free_port, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const WORKER_TOKEN: &str = "live-avt-worker-token";
const CLIENT_TOKEN: &str = "live-avt-client-token";
const TASK_KEY: &str = "live-avt-task-signing-key";

/// The orchestrator on a free loopback port, up and answering `/_public/status`.
fn orchestrator(dir: &Path) -> Option<(ChildGuard, String)> {
    let py = python("RXON_AVT_PYTHON", "avtomatika", "avtomatika")?;
    let port = free_port();
    let mut cmd = Command::new(py);
    cmd.arg(interop_script("avt_orchestrator.py"))
        .current_dir(dir);
    // Only the configuration below: no Redis, no config files, development mode.
    for var in [
        "REDIS_HOST",
        "ENVIRONMENT",
        "ENV",
        "WORKERS_CONFIG_PATH",
        "CLIENTS_CONFIG_PATH",
        "SCHEDULES_CONFIG_PATH",
        "BLUEPRINTS_DIR",
        "HISTORY_DATABASE_URI",
        "S3_ENDPOINT_URL",
        "CLIENT_API_PREFIX",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("PYTHONUNBUFFERED", "1")
        .env("LOG_FORMAT", "text")
        .env("API_HOST", "127.0.0.1")
        .env("API_PORT", port.to_string())
        .env("CLIENT_TOKEN", CLIENT_TOKEN)
        .env("GLOBAL_WORKER_TOKEN", WORKER_TOKEN)
        .env("ORCHESTRATOR_SECRET_KEY", TASK_KEY)
        .env("DETAILED_API_RESPONSES", "true")
        .env("TASK_FILES_DIR", dir.join("payloads"));
    let mut p = ChildGuard::spawn_logged("avtomatika", dir, &mut cmd);
    let addr = format!("127.0.0.1:{port}");
    wait_until("the orchestrator to start", Duration::from_secs(60), || {
        p.assert_running();
        matches!(
            http(&addr, "GET", "/_public/status", &[], None),
            Ok((200, _))
        )
        .then_some(())
    });
    Some((p, addr))
}

fn client_headers() -> [(&'static str, &'static str); 1] {
    [("X-Client-Token", CLIENT_TOKEN)]
}

/// Runs `rxon worker` (URL scheme `scheme`) against a fresh orchestrator, submits echo jobs
/// through the client API and checks their results, the heartbeats and a clean SIGTERM exit.
fn run_echo(scheme: &str, name: &str) {
    let dir = scratch(name);
    let Some((mut avt, addr)) = orchestrator(&dir) else {
        return;
    };
    let worker_id = format!("rxon-echo-{scheme}");
    let worker_id = worker_id.as_str();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rxon"));
    cmd.args([
        "worker",
        "--url",
        &format!("{scheme}://{addr}"),
        "--worker-id",
        worker_id,
        "--token",
        WORKER_TOKEN,
        "--skill",
        "echo",
        "--max-concurrent",
        "4",
        "--heartbeat-interval",
        "2",
    ])
    .env("RUST_LOG", "info")
    .env("NO_COLOR", "1");
    let mut worker = ChildGuard::spawn_logged("rxon-worker", &dir, &mut cmd);

    // avtomatika fails a job at once when no registered worker offers its task type, so wait
    // for the registration first.
    wait_until(
        "rxon worker to register with the orchestrator",
        Duration::from_secs(30),
        || {
            worker.assert_running();
            avt.assert_running();
            let v = http_json(
                &addr,
                "GET",
                "/api/v1/workers",
                &client_headers(),
                None,
                200,
            );
            v.as_array()
                .is_some_and(|ws| {
                    ws.iter()
                        .any(|w| w.get("worker_id").and_then(Value::as_str) == Some(worker_id))
                })
                .then_some(())
        },
    );
    if scheme == "ws" {
        worker.wait_for_log("command WebSocket connected", Duration::from_secs(15));
    }

    let jobs: Vec<(String, Value)> = (0..12)
        .map(|i| {
            let params = json::from_str(&format!(
                r#"{{"text":"héllo {i}","seq":{i},"x":0.25,"list":[1,"two",null],"nested":{{"ok":true}}}}"#
            ))
            .unwrap();
            // Every other job has a result timeout: avtomatika then sends the task's
            // `deadline` as a fractional Unix time (spec §18.B.1), which must not stall us.
            let timeouts = if i % 2 == 0 {
                r#","dispatch_timeout":30,"result_timeout":120"#
            } else {
                ""
            };
            let body = format!(r#"{{"initial_data":{}{timeouts}}}"#, params.to_json());
            let v = http_json(
                &addr,
                "POST",
                "/api/v1/jobs/echo",
                &client_headers(),
                Some(&body),
                202,
            );
            let id = v.get("job_id").and_then(Value::as_str).unwrap().to_owned();
            (id, params)
        })
        .collect();

    for (job_id, params) in &jobs {
        let job = wait_until(
            &format!("job {job_id} to end"),
            Duration::from_secs(60),
            || {
                let v = http_json(
                    &addr,
                    "GET",
                    &format!("/api/v1/jobs/{job_id}"),
                    &client_headers(),
                    None,
                    200,
                );
                let status = v.get("status").and_then(Value::as_str).unwrap_or("");
                matches!(
                    status,
                    "finished" | "failed" | "error" | "quarantined" | "cancelled"
                )
                .then_some(v)
            },
        );
        let ctx = format!("job {}\nworker log:\n{}", job.to_json(), worker.output());
        assert_eq!(
            job.get("status").and_then(Value::as_str),
            Some("finished"),
            "{ctx}"
        );
        assert_eq!(
            job.get("assigned_worker_id").and_then(Value::as_str),
            Some(worker_id),
            "{ctx}"
        );
        // `rxon worker`'s echo answers {"echo": params}; avtomatika merges the result data
        // into the job's state history.
        assert_eq!(
            job.get("state_history").and_then(|h| h.get("echo")),
            Some(params),
            "{ctx}"
        );
    }

    // Signed heartbeats pass avtomatika's zero-trust checks (signature, timestamp, nonce).
    let heartbeat_ok = format!("\"PATCH /_worker/workers/{worker_id} HTTP/1.1\" 200");
    wait_until("three accepted heartbeats", Duration::from_secs(20), || {
        (avt.output().matches(&heartbeat_ok).count() >= 3).then_some(())
    });

    // SIGTERM drains the worker, which reports `offline` and exits 0.
    let status = worker.terminate(Duration::from_secs(45));
    let log = worker.output();
    assert!(status.success(), "rxon worker exited {status}:\n{log}");
    assert!(log.contains("worker stopped"), "{log}");
    assert!(!log.contains("WARN") && !log.contains("ERROR"), "{log}");
    let avt_log = avt.output();
    assert!(
        !avt_log.contains("HTTP/1.1\" 4") && !avt_log.contains("HTTP/1.1\" 5"),
        "the orchestrator refused a request:\n{avt_log}"
    );
}

#[test]
fn rxon_worker_completes_echo_jobs_of_the_live_orchestrator_over_http() {
    run_echo("http", "avt-http");
}

#[test]
fn rxon_worker_completes_echo_jobs_of_the_live_orchestrator_with_websocket() {
    run_echo("ws", "avt-ws");
}
