//! A complete RXON worker: registers with its resources and skills, heartbeats, long-polls,
//! runs an `echo` skill that reports progress, honours cancellation (WebSocket commands for
//! `ws://`/`wss://` URLs, and the heartbeat's `cancel_task_ids`), and drains on Ctrl-C/SIGTERM.
//!
//! ```sh
//! RXON_URL=http://127.0.0.1:8080 RXON_WORKER_ID=worker-1 RXON_TOKEN=secret \
//!     cargo run -p rxon --example worker
//! ```
//!
//! Messages are signed with HMAC-SHA256 keyed by the token (as the live orchestrator expects)
//! unless `RXON_NO_SIGN=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rxon::security::HmacSigner;
use rxon::worker::{Worker, WorkerOptions, shutdown_signal};
use rxon::{
    Map, Resources, SkillInfo, TransportOptions, Value, WorkerRegistration, create_transport,
};
use std::sync::Arc;
use std::time::Duration;

#[rxon::worker::tokio::main(crate = "rxon::worker::tokio")]
async fn main() -> rxon::Result<()> {
    let url = std::env::var("RXON_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let worker_id =
        std::env::var("RXON_WORKER_ID").unwrap_or_else(|_| "example-worker-1".to_owned());
    let token = std::env::var("RXON_TOKEN").unwrap_or_else(|_| "secure-worker-token".to_owned());

    let mut options = TransportOptions::new();
    if std::env::var_os("RXON_NO_SIGN").is_none() {
        options = options.signer(Arc::new(
            HmacSigner::new(&token).expect("a non-empty token"),
        ));
    }
    let transport = create_transport(&url, &worker_id, &token, options)?;

    let mut properties = Map::new();
    properties.insert(
        "cpu_cores",
        Value::from(
            i64::try_from(std::thread::available_parallelism().map_or(1, usize::from)).unwrap_or(1),
        ),
    );
    let registration = WorkerRegistration {
        worker_type: Some("example".to_owned()),
        supported_skills: Some(vec![SkillInfo {
            description: Some("Returns its params".to_owned()),
            ..SkillInfo::new("echo")
        }]),
        resources: Some(Resources {
            properties: Some(properties),
            ..Resources::default()
        }),
        ..WorkerRegistration::new(worker_id.clone())
    };
    let options = WorkerOptions::new(worker_id)
        .registration(registration)
        .max_concurrent(4)
        .heartbeat_interval(Duration::from_secs(15));

    println!("worker starting against {url}; Ctrl-C to stop");
    Worker::new(transport, options)
        .skill("echo", |task, ctx| async move {
            println!("task {} of job {}", ctx.task_id(), ctx.job_id());
            // Progress events are best effort: a failure to report does not fail the task.
            let _ = ctx.progress(0.5, "echoing").await;
            if ctx.is_cancelled() {
                println!("task {} cancelled", ctx.task_id());
            }
            let mut data = Map::new();
            data.insert("echo", Value::Object(task.params.unwrap_or_default()));
            Ok(data)
        })
        .run(shutdown_signal())
        .await
}
