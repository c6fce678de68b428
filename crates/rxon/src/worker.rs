//! A ready-made worker runtime over any transport (registration, heartbeats, long-polling,
//! skills, progress events, cancellation and a graceful drain); see [`Worker`].
//!
//! ```no_run
//! use rxon::worker::{Worker, WorkerOptions, shutdown_signal};
//! # async fn demo() -> rxon::Result<()> {
//! let transport = rxon::create_transport("http://127.0.0.1:8080", "worker-1", "token", Default::default())?;
//! Worker::new(transport, WorkerOptions::new("worker-1"))
//!     .skill("echo", |task, _ctx| async move {
//!         let mut data = rxon::Map::new();
//!         data.insert("echo", rxon::Value::Object(task.params.unwrap_or_default()));
//!         Ok(data)
//!     })
//!     .run(shutdown_signal())
//!     .await
//! # }
//! ```

pub use rxon_transport_http::worker::*;
