//! `rxon serve`: an in-memory orchestrator — the RXON worker API plus a small client API to
//! submit jobs (`POST /api/jobs`, `GET /api/jobs/{id}`; see `docs/CLIENT_API.md`). Stops on Ctrl-C / SIGTERM, letting in-flight requests finish.

use rxon::ProtocolVersion;
use rxon::listener::memory::{MemoryConfig, MemoryOrchestrator, WorkerToken};
use rxon::worker::shutdown_signal;
use std::process::ExitCode;

/// Arguments of `rxon serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// A worker credential: `TOKEN` (any worker id) or `ID=TOKEN` (that worker only).
    /// Repeatable.
    #[arg(long = "worker-token", value_name = "TOKEN|ID=TOKEN", required = true)]
    worker_tokens: Vec<String>,
    /// The token of the client API (`X-Client-Token`).
    #[arg(long)]
    client_token: String,
    /// Sign tasks (`sig`, HMAC-SHA256 over the task's canonical form) with this key.
    #[arg(long)]
    task_signing_key: Option<String>,
    /// Require worker HMAC signatures (keyed by the worker's token) and fresh timestamps on
    /// register, result, heartbeat and event, and unique nonces on all but heartbeats.
    #[arg(long)]
    require_signatures: bool,
    /// Protocol profile: 1.0b17 (default) or 1.0b9.
    #[arg(long, default_value = "1.0b17")]
    protocol: ProtocolVersion,
    /// Finished jobs kept queryable; the oldest finished job is forgotten beyond this.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    max_finished_jobs: usize,
    /// Most registered workers; beyond it, workers silent for 120 s make room, else a new
    /// registration gets 503.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    max_workers: usize,
    /// Most jobs waiting or running; a submission beyond it gets 503.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    max_active_jobs: usize,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let profile = args.protocol;
    super::init_logging("info");
    let config = MemoryConfig {
        profile,
        worker_tokens: args
            .worker_tokens
            .iter()
            .map(|t| WorkerToken::parse(t))
            .collect(),
        client_token: Some(args.client_token.clone()),
        task_signing_key: args.task_signing_key.clone(),
        require_signatures: args.require_signatures,
        max_finished_jobs: args.max_finished_jobs,
        max_workers: args.max_workers,
        max_active_jobs: args.max_active_jobs,
        ..MemoryConfig::default()
    };
    let orch = MemoryOrchestrator::new(config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let tcp = tokio::net::TcpListener::bind(&args.bind).await?;
        let addr = tcp.local_addr()?;
        eprintln!(
            "rxon serve: listening on http://{addr} (protocol {})",
            profile.as_str()
        );
        let hub = orch.hub();
        let shutdown = async move {
            shutdown_signal().await;
            eprintln!("rxon serve: shutting down");
            hub.close_all();
        };
        rxon::listener::serve(tcp, orch.app(), shutdown).await?;
        Ok::<_, super::CmdError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
