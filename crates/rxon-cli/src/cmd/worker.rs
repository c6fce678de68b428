//! `rxon worker`: a ready-to-run worker with built-in skills, for trying an orchestrator out
//! and for load tests.
//!
//! Skills: `echo` answers `{"echo": <params>}`; `sleep` waits `params.seconds` (default 1),
//! reporting progress, and stops early when cancelled. Messages are signed with HMAC-SHA256
//! keyed by the token, as the live orchestrator expects, unless `--hmac-secret` names another
//! key or `--no-sign` is given. SIGINT/SIGTERM drain the worker: it stops polling, finishes
//! the running tasks, sends their results, reports `offline` and exits 0.

use super::CmdError;
use rxon::security::HmacSigner;
use rxon::worker::{Worker, WorkerOptions, shutdown_signal};
use rxon::{
    Map, ProtocolVersion, SkillInfo, TransportOptions, Value, WorkerRegistration, create_transport,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Skills this command offers.
pub(crate) const SKILLS: &[&str] = &["echo", "sleep"];

/// Adds the built-in skills named in `skills` (`echo`, `sleep`) to a worker.
pub(crate) fn with_builtin_skills<T>(mut worker: Worker<T>, skills: &[String]) -> Worker<T>
where
    T: rxon::Transport + rxon::CommandChannel + 'static,
{
    for skill in skills {
        worker = match skill.as_str() {
            "sleep" => worker.skill("sleep", |task, ctx| async move {
                let seconds = task
                    .params
                    .as_ref()
                    .and_then(|p| p.get("seconds"))
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0);
                let total = Duration::from_secs_f64(if seconds.is_finite() {
                    seconds.clamp(0.0, 3600.0)
                } else {
                    1.0
                });
                let _ = ctx.progress(0.0, "sleeping").await;
                tokio::select! {
                    () = tokio::time::sleep(total) => {}
                    () = ctx.cancelled() => {}
                }
                let mut data = Map::new();
                data.insert("slept", Value::from(total.as_secs_f64()));
                Ok(data)
            }),
            _ => worker.skill("echo", |task, _ctx| async move {
                let mut data = Map::new();
                data.insert("echo", Value::Object(task.params.unwrap_or_default()));
                Ok(data)
            }),
        };
    }
    worker
}

/// Arguments of `rxon worker`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Orchestrator URL (`http://`, `https://`, `ws://`, `wss://`).
    #[arg(long, value_name = "URL")]
    url: String,
    /// This worker's id.
    #[arg(long, value_name = "ID")]
    worker_id: String,
    /// The worker token (`X-Worker-Token`); default: the `RXON_WORKER_TOKEN` environment
    /// variable, which keeps it out of the process list.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// A skill to offer (repeatable): echo, sleep. Default: echo.
    #[arg(long = "skill", value_name = "NAME")]
    skills: Vec<String>,
    /// HMAC key for message signatures (default: the token).
    #[arg(long, value_name = "SECRET", conflicts_with = "no_sign")]
    hmac_secret: Option<String>,
    /// Send messages unsigned.
    #[arg(long)]
    no_sign: bool,
    /// Tasks run at once.
    #[arg(long, default_value_t = 1, value_name = "N")]
    max_concurrent: usize,
    /// Seconds between heartbeats (below the orchestrator's worker TTL, 120 s for the live one).
    #[arg(long, default_value_t = 15.0, value_name = "SECS")]
    heartbeat_interval: f64,
    /// Long-poll timeout in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    poll_timeout: f64,
    /// Seconds shutdown waits for running tasks before cancelling them.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    drain_timeout: f64,
    /// Protocol profile: 1.0b17 or 1.0b9.
    #[arg(long, default_value = "1.0b17", value_name = "VERSION")]
    profile: ProtocolVersion,
}

fn secs(name: &str, v: f64) -> Result<Duration, CmdError> {
    if v.is_finite() && v > 0.0 && v < 86_400.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("--{name} must be a positive number of seconds, got {v}").into())
    }
}

/// Runs the worker until SIGINT/SIGTERM.
pub(crate) fn run(args: &Args) -> Result<ExitCode, CmdError> {
    let token = match &args.token {
        Some(t) => t.clone(),
        None => std::env::var("RXON_WORKER_TOKEN")
            .map_err(|_| "a token is needed: --token or the RXON_WORKER_TOKEN variable")?,
    };
    let skills: Vec<String> = if args.skills.is_empty() {
        vec!["echo".to_owned()]
    } else {
        args.skills.clone()
    };
    if let Some(bad) = skills.iter().find(|s| !SKILLS.contains(&s.as_str())) {
        return Err(format!("unknown skill {bad:?} (available: {})", SKILLS.join(", ")).into());
    }
    let heartbeat_interval = secs("heartbeat-interval", args.heartbeat_interval)?;
    if heartbeat_interval >= Duration::from_secs(120) {
        return Err(
            "--heartbeat-interval must stay below the orchestrator's 120 s worker TTL".into(),
        );
    }
    rxon::validate_identifier(&args.worker_id, "worker_id", args.profile)
        .map_err(|e| format!("--worker-id: {e}"))?;
    super::init_logging("info");

    let mut options = TransportOptions::new().version(args.profile);
    if !args.no_sign {
        let key = args.hmac_secret.as_deref().unwrap_or(&token);
        let signer =
            HmacSigner::new(key).map_err(|e| format!("cannot sign with an empty key: {e}"))?;
        options = options.signer(Arc::new(signer));
    }
    let transport = create_transport(&args.url, &args.worker_id, &token, options)?;
    let registration = WorkerRegistration {
        supported_skills: Some(skills.iter().map(SkillInfo::new).collect()),
        ..WorkerRegistration::new(args.worker_id.clone())
    };
    let worker_options = WorkerOptions::new(args.worker_id.clone())
        .registration(registration)
        .max_concurrent(args.max_concurrent)
        .heartbeat_interval(heartbeat_interval)
        .poll_timeout(secs("poll-timeout", args.poll_timeout)?)
        .drain_timeout(secs("drain-timeout", args.drain_timeout)?);
    let worker = with_builtin_skills(Worker::new(transport, worker_options), &skills);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(worker.run(shutdown_signal()))?;
    Ok(ExitCode::SUCCESS)
}
