//! `rxon demo`: an orchestrator and workers exchanging tasks on loopback, with no external
//! service — the quickest way to see RXON work end to end.
//!
//! It starts the in-memory orchestrator of `rxon serve` on an ephemeral 127.0.0.1 port (task
//! signatures on, worker signatures required), starts N workers in this process on the real
//! transport (`ws://`: HTTP for register, poll, results and heartbeats, a WebSocket for
//! commands and events), cancels a long task through the command hub, runs M echo tasks,
//! checks every echoed result, and prints a summary with the throughput.

use super::CmdError;
use super::worker::with_builtin_skills;
use rxon::listener::memory::{JobState, MemoryConfig, MemoryOrchestrator, WorkerToken};
use rxon::security::HmacSigner;
use rxon::worker::{Worker, WorkerOptions};
use rxon::{
    Map, ProtocolVersion, SkillInfo, TransportOptions, Value, WorkerRegistration, create_transport,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Arguments of `rxon demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Workers to start.
    #[arg(long, default_value_t = 4, value_name = "N")]
    workers: usize,
    /// Echo tasks to run.
    #[arg(long, default_value_t = 200, value_name = "M")]
    tasks: usize,
    /// Tasks each worker runs at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    max_concurrent: usize,
    /// Protocol profile: 1.0b17 or 1.0b9.
    #[arg(long, default_value = "1.0b17", value_name = "VERSION")]
    profile: ProtocolVersion,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    timeout: u64,
}

const TOKEN: &str = "demo-worker-token";
const TASK_KEY: &str = "demo-task-signing-key";

/// Polls `check` every few milliseconds until it is true or `deadline` passes.
async fn wait_for(deadline: Instant, mut check: impl FnMut() -> bool) -> bool {
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    check()
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CmdError> {
    if args.workers == 0 || args.workers > 1000 {
        return Err("--workers must be between 1 and 1000".into());
    }
    if args.max_concurrent == 0 {
        return Err("--max-concurrent must be at least 1".into());
    }
    super::init_logging("warn");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(demo(args))
}

async fn demo(args: &Args) -> Result<ExitCode, CmdError> {
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let orch = MemoryOrchestrator::new(MemoryConfig {
        profile: args.profile,
        worker_tokens: vec![WorkerToken::parse(TOKEN)],
        client_token: Some("demo-client-token".to_owned()),
        task_signing_key: Some(TASK_KEY.to_owned()),
        require_signatures: true,
        // Every job (the echo tasks and the sleeper) stays queryable until it is checked.
        max_finished_jobs: args.tasks.saturating_add(1),
        ..MemoryConfig::default()
    });
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = tcp.local_addr()?;
    // Workers stop first (they drain and report `offline`), then the orchestrator.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (server_stop_tx, server_stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let server = tokio::spawn(rxon::listener::serve(
        tcp,
        orch.app(),
        stopped(server_stop_rx),
    ));
    println!(
        "orchestrator: http://{addr} (protocol {}, task signatures on, worker signatures required)",
        args.profile
    );

    let url = format!("ws://{addr}");
    let skills = vec!["echo".to_owned(), "sleep".to_owned()];
    let mut workers = Vec::with_capacity(args.workers);
    for i in 0..args.workers {
        let worker_id = format!("demo-worker-{i}");
        let options = TransportOptions::new()
            .version(args.profile)
            .signer(Arc::new(HmacSigner::new(TOKEN)?));
        let transport = create_transport(&url, &worker_id, TOKEN, options)?;
        let registration = WorkerRegistration {
            supported_skills: Some(skills.iter().map(SkillInfo::new).collect()),
            ..WorkerRegistration::new(worker_id.clone())
        };
        let worker_options = WorkerOptions::new(worker_id)
            .registration(registration)
            .max_concurrent(args.max_concurrent)
            .heartbeat_interval(Duration::from_secs(5))
            .poll_timeout(Duration::from_secs(5))
            .drain_timeout(Duration::from_secs(5));
        let worker = with_builtin_skills(Worker::new(transport, worker_options), &skills);
        workers.push(tokio::spawn(worker.run(stopped(stop_rx.clone()))));
    }
    let registered = wait_for(deadline, || orch.workers().len() == args.workers).await;
    println!(
        "workers:      {} registered over {url}",
        orch.workers().len()
    );
    let hub = orch.hub();
    let connected = wait_for(deadline, || {
        orch.workers().iter().all(|w| hub.is_connected(w))
    })
    .await;

    // A long task, cancelled through the hub while it runs.
    let mut sleep_params = Map::new();
    sleep_params.insert("seconds", Value::from(60.0));
    let sleeper = orch.submit("sleep", sleep_params);
    let running = wait_for(deadline, || {
        orch.job(&sleeper)
            .is_some_and(|j| j.state == JobState::Running)
    })
    .await;
    let sleeper_worker = orch.job(&sleeper).and_then(|j| j.worker_id);
    let pushed = sleeper_worker
        .as_deref()
        .is_some_and(|w| hub.is_connected(w))
        && orch.cancel(&sleeper);
    let cancelled = orch
        .job(&sleeper)
        .is_some_and(|j| j.state == JobState::Cancelled);

    // The echo tasks.
    let started = Instant::now();
    let mut jobs = Vec::with_capacity(args.tasks);
    for n in 0..args.tasks {
        let mut params = Map::new();
        params.insert("n", Value::from(n as u64));
        params.insert("text", Value::from("héllo, RXON ✓"));
        jobs.push((orch.submit("echo", params.clone()), params));
    }
    let all_done = wait_for(deadline, || {
        jobs.iter()
            .all(|(id, _)| orch.job(id).is_some_and(|j| j.state.is_terminal()))
    })
    .await;
    let elapsed = started.elapsed();
    let (mut finished, mut echoed) = (0usize, 0usize);
    for (id, params) in &jobs {
        let Some(job) = orch.job(id) else { continue };
        if job.state == JobState::Finished {
            finished += 1;
        }
        let data = job.result.as_ref().and_then(|r| r.get("data"));
        if data.and_then(|d| d.get("echo")) == Some(&Value::Object(params.clone())) {
            echoed += 1;
        }
    }

    let _ = stop_tx.send(true);
    for w in workers {
        match w.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("rxon demo: a worker stopped with an error: {e}"),
            Err(e) => eprintln!("rxon demo: a worker task failed: {e}"),
        }
    }
    hub.close_all();
    let _ = server_stop_tx.send(true);
    let _ = server.await;

    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        finished as f64 / secs
    } else {
        0.0
    };
    println!(
        "cancel:       sleep job {sleeper} on {} — {}",
        sleeper_worker.as_deref().unwrap_or("no worker"),
        if pushed && cancelled {
            "cancel_task pushed over the WebSocket"
        } else {
            "NOT cancelled"
        }
    );
    println!(
        "echo tasks:   {finished}/{} finished, {echoed} echoed back exactly, in {secs:.3} s ({rate:.0} tasks/s)",
        args.tasks
    );
    let ok = registered
        && connected
        && running
        && pushed
        && cancelled
        && all_done
        && finished == args.tasks
        && echoed == args.tasks;
    println!("result:       {}", if ok { "ok" } else { "FAILED" });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
