//! Prints the commands an orchestrator sends to a worker over the command WebSocket.
//!
//! ```sh
//! cargo run -p rxon-transport-ws --example commands -- http://127.0.0.1:8080 worker-1 my-token
//! ```
//!
//! Arguments (all optional): the orchestrator's base URL (`http(s)://` or `ws(s)://`), the
//! worker id and the token; `RXON_TOKEN` may carry the token instead. Stop with Ctrl-C.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rxon_core::CommandChannel;
use rxon_transport_ws::{WsConfig, connect_command_channel};

#[tokio::main]
async fn main() -> rxon_core::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .init();
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let worker_id = args.next().unwrap_or_else(|| "worker-1".to_owned());
    let token = args
        .next()
        .or_else(|| std::env::var("RXON_TOKEN").ok())
        .unwrap_or_default();

    let channel = connect_command_channel(&url, &worker_id, &token, WsConfig::default())?;
    println!("listening for commands on {}", channel.url());
    loop {
        tokio::select! {
            cmd = channel.next_command() => match cmd? {
                Some(cmd) => println!(
                    "{}: task {} job {} params {}",
                    cmd.command,
                    cmd.task_id.as_deref().unwrap_or("-"),
                    cmd.job_id.as_deref().unwrap_or("-"),
                    cmd.params.map(|p| rxon_core::Value::Object(p).to_json()).unwrap_or_default(),
                ),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                channel.close();
            }
        }
    }
    println!("closed after {} connection(s)", channel.connect_count());
    Ok(())
}
