//! A small worker runtime over any [`Transport`] + [`CommandChannel`]: registration with
//! backoff, a heartbeat loop, the long-poll loop with a concurrency limit, skills as async
//! closures, progress events, cancellation (commands and `cancel_task_ids`), and a graceful
//! drain on shutdown.
//!
//! ```no_run
//! use rxon_transport_http::worker::{Worker, WorkerOptions, shutdown_signal};
//! use rxon_transport_http::{HttpTransport, HttpTransportConfig};
//! # async fn demo() -> rxon_core::Result<()> {
//! let transport = HttpTransport::new(HttpTransportConfig::new("http://127.0.0.1:8080", "worker-1", "token"))?;
//! let worker = Worker::new(transport, WorkerOptions::new("worker-1")).skill("echo", |task, _ctx| async move {
//!     let mut data = rxon_core::Map::new();
//!     data.insert("echo", rxon_core::Value::Object(task.params.unwrap_or_default()));
//!     Ok(data)
//! });
//! worker.run(shutdown_signal()).await
//! # }
//! ```

use crate::transport::new_event_id;
use rxon_core::value::Map;
use rxon_core::wire::{self, ErrorCode};
use rxon_core::{
    BoxFuture, CommandChannel, Error, Heartbeat, PollOptions, Result, SkillInfo, TaskError,
    TaskPayload, TaskResult, Transport, Value, WorkerEventPayload, WorkerRegistration,
};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

/// The Tokio runtime this crate runs on (for `#[tokio::main(crate = "…")]` in binaries that
/// do not depend on Tokio themselves).
pub use tokio;

/// What a skill returns: the result `data`, or an error reported as a `failure` result.
pub type SkillResult = std::result::Result<Map, TaskError>;

type SkillFn =
    Arc<dyn Fn(TaskPayload, TaskContext) -> BoxFuture<'static, SkillResult> + Send + Sync>;

type DynT = dyn rxon_core::DynTransport;

/// Settings of a [`Worker`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// The worker id.
    pub worker_id: String,
    /// The registration sent at start (its `worker_id` is set, and `supported_skills` filled
    /// from the registered skills when empty).
    pub registration: WorkerRegistration,
    /// Tasks run at once (default 1).
    pub max_concurrent: usize,
    /// Time between heartbeats (default 15 s, below the live orchestrator's 120 s TTL).
    pub heartbeat_interval: Duration,
    /// Long-poll timeout (default 30 s).
    pub poll_timeout: Duration,
    /// How long shutdown waits for running tasks before cancelling them (default 30 s).
    pub drain_timeout: Duration,
    /// First delay after a failed call (doubled up to `max_backoff`; default 1 s).
    pub initial_backoff: Duration,
    /// Largest delay after failed calls (default 60 s).
    pub max_backoff: Duration,
}

impl WorkerOptions {
    /// Defaults for a worker id.
    #[must_use]
    pub fn new(worker_id: impl Into<String>) -> Self {
        let worker_id = worker_id.into();
        Self {
            registration: WorkerRegistration::new(worker_id.clone()),
            worker_id,
            max_concurrent: 1,
            heartbeat_interval: Duration::from_secs(15),
            poll_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }

    /// Sets the registration template.
    #[must_use]
    pub fn registration(mut self, registration: WorkerRegistration) -> Self {
        self.registration = registration;
        self
    }

    /// Sets the concurrency limit (at least 1).
    #[must_use]
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n.max(1);
        self
    }

    /// Sets the heartbeat interval.
    #[must_use]
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.heartbeat_interval = d;
        self
    }

    /// Sets the long-poll timeout.
    #[must_use]
    pub fn poll_timeout(mut self, d: Duration) -> Self {
        self.poll_timeout = d;
        self
    }

    /// Sets the drain timeout.
    #[must_use]
    pub fn drain_timeout(mut self, d: Duration) -> Self {
        self.drain_timeout = d;
        self
    }

    /// Sets the backoff range.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }
}

/// What a running skill can use: its cancellation signal and progress events.
#[derive(Clone)]
pub struct TaskContext {
    worker_id: Arc<str>,
    job_id: Arc<str>,
    task_id: Arc<str>,
    cancel: CancellationToken,
    transport: Arc<DynT>,
}

impl fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext")
            .field("worker_id", &self.worker_id)
            .field("job_id", &self.job_id)
            .field("task_id", &self.task_id)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish()
    }
}

impl TaskContext {
    /// The task id.
    #[must_use]
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The job id.
    #[must_use]
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The worker id.
    #[must_use]
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Whether the task was cancelled (by a command, a heartbeat answer or shutdown).
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the task is cancelled.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Emits a `progress` event `{"progress": p, "message": m}` about this task.
    ///
    /// # Errors
    /// The transport's error.
    pub async fn progress(&self, progress: f64, message: impl Into<String>) -> Result<()> {
        let mut payload = Map::new();
        payload.insert("progress", Value::from(progress));
        payload.insert("message", Value::from(message.into()));
        self.emit(wire::EVENT_TYPE_PROGRESS, payload).await
    }

    /// Emits an event of any type about this task.
    ///
    /// # Errors
    /// The transport's error.
    pub async fn emit(&self, event_type: &str, payload: Map) -> Result<()> {
        let event = WorkerEventPayload {
            event_id: new_event_id(),
            worker_id: self.worker_id.to_string(),
            origin_worker_id: self.worker_id.to_string(),
            event_type: event_type.to_owned(),
            payload,
            target_job_id: Some(self.job_id.to_string()),
            target_task_id: Some(self.task_id.to_string()),
            origin_task_id: Some(self.task_id.to_string()),
            ..WorkerEventPayload::default()
        };
        self.transport.emit_event_dyn(&event).await
    }
}

/// Running tasks by id, with their cancellation tokens.
type Running = Arc<Mutex<HashMap<String, CancellationToken>>>;

/// A worker: skills plus the loops that drive a transport. See the module docs.
pub struct Worker<T> {
    transport: Arc<T>,
    options: WorkerOptions,
    skills: HashMap<String, SkillFn>,
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("options", &self.options)
            .field("skills", &self.skills.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn backoff_next(cur: Duration, max: Duration) -> Duration {
    cur.saturating_mul(2).min(max)
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl<T: Transport + CommandChannel + 'static> Worker<T> {
    /// A worker over a transport.
    pub fn new(transport: T, options: WorkerOptions) -> Self {
        Self {
            transport: Arc::new(transport),
            options,
            skills: HashMap::new(),
        }
    }

    /// Adds a skill: `handler(task, ctx)` returns the result data or a [`TaskError`].
    #[must_use]
    pub fn skill<F, Fut>(mut self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TaskPayload, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = SkillResult> + Send + 'static,
    {
        let f: SkillFn = Arc::new(move |task, ctx| Box::pin(handler(task, ctx)));
        self.skills.insert(name.into(), f);
        self
    }

    /// The transport.
    #[must_use]
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn skill_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.skills.keys().cloned().collect();
        names.sort();
        names
    }

    /// Runs until `shutdown` completes, then drains: stops polling, lets running tasks finish
    /// (up to the drain timeout, then cancels them), sends their results, reports `offline`
    /// and closes the transport.
    ///
    /// # Errors
    /// Only when registration fails for a reason other than network trouble or rate limits
    /// (e.g. the credential is refused); everything later is logged and retried.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let stop = CancellationToken::new();
        let stop_on_signal = stop.clone();
        let outcome = tokio::select! {
            r = self.run_until(stop.clone()) => r,
            () = async move { shutdown.await; stop_on_signal.cancel(); std::future::pending::<()>().await } => Ok(()),
        };
        outcome
    }

    async fn run_until(&self, stop: CancellationToken) -> Result<()> {
        let span = info_span!("rxon.worker", worker_id = %self.options.worker_id);
        async {
            if !self.register_with_backoff(&stop).await? {
                self.transport.close().await;
                return Ok(());
            }
            let running: Running = Arc::default();
            let slots = Arc::new(Semaphore::new(self.options.max_concurrent));
            let loops_stop = CancellationToken::new();
            let heartbeat =
                self.heartbeat_loop(Arc::clone(&running), Arc::clone(&slots), loops_stop.clone());
            let commands = self.command_loop(Arc::clone(&running), loops_stop.clone());
            let mut tasks = JoinSet::new();
            tokio::join!(heartbeat, commands, async {
                self.poll_loop(&running, &slots, &mut tasks, &stop).await;
                self.drain(&mut tasks, &running).await;
                loops_stop.cancel();
            });
            self.final_heartbeat().await;
            self.transport.close().await;
            info!("worker stopped");
            Ok(())
        }
        .instrument(span)
        .await
    }

    fn registration(&self) -> WorkerRegistration {
        let mut reg = self.options.registration.clone();
        reg.worker_id.clone_from(&self.options.worker_id);
        if reg.supported_skills.as_ref().is_none_or(Vec::is_empty) {
            reg.supported_skills =
                Some(self.skill_names().into_iter().map(SkillInfo::new).collect());
        }
        if reg.available_skills.is_none() {
            reg.available_skills = Some(self.skill_names());
        }
        reg
    }

    async fn register_with_backoff(&self, stop: &CancellationToken) -> Result<bool> {
        let reg = self.registration();
        let mut delay = self
            .options
            .initial_backoff
            .max(Duration::from_millis(100))
            .saturating_mul(2);
        loop {
            match self.transport.register(&reg).await {
                Ok(_) => {
                    info!("registered");
                    return Ok(true);
                }
                Err(e @ (Error::Network { .. } | Error::RateLimited { .. })) => {
                    let wait = e.retry_after().unwrap_or(delay).max(delay);
                    warn!("registration failed, retrying in {wait:?}: {e}");
                    tokio::select! {
                        () = stop.cancelled() => return Ok(false),
                        () = tokio::time::sleep(wait) => {}
                    }
                    delay = backoff_next(delay, self.options.max_backoff);
                }
                Err(Error::Closed) => return Ok(false),
                Err(e) => {
                    error!("registration refused: {e}");
                    return Err(e);
                }
            }
        }
    }

    async fn heartbeat_loop(
        &self,
        running: Running,
        slots: Arc<Semaphore>,
        stop: CancellationToken,
    ) {
        let mut delay = self.options.heartbeat_interval;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            let current: Vec<String> = running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .keys()
                .cloned()
                .collect();
            let status = if slots.available_permits() > 0 {
                wire::WORKER_STATUS_IDLE
            } else {
                wire::WORKER_STATUS_BUSY
            };
            let hb = Heartbeat {
                current_tasks: Some(current),
                available_skills: Some(if status == wire::WORKER_STATUS_IDLE {
                    self.skill_names()
                } else {
                    vec![]
                }),
                ..Heartbeat::new(self.options.worker_id.clone(), status)
            };
            let sent = tokio::select! {
                () = stop.cancelled() => return,
                r = self.transport.send_heartbeat(Some(&hb)) => r,
            };
            delay = match sent {
                Ok(reply) => {
                    for id in &reply.cancel_task_ids {
                        cancel_task(&running, id, "heartbeat answer");
                    }
                    let jitter = reply
                        .next_heartbeat_jitter_ms
                        .filter(|j| j.is_finite() && *j > 0.0)
                        .map_or(Duration::ZERO, |j| {
                            Duration::try_from_secs_f64(j / 1000.0).unwrap_or(Duration::MAX)
                        });
                    self.options.heartbeat_interval + jitter.min(self.options.heartbeat_interval)
                }
                Err(Error::Closed) => return,
                Err(e) => {
                    // The orchestrator forgot us (expired registration) or refuses the
                    // credential: register again, as the reference worker SDK does.
                    let text = e.to_string().to_lowercase();
                    if text.contains("not found") || text.contains("unauthorized") {
                        match self.transport.register(&self.registration()).await {
                            Ok(_) => info!("registered again after: {e}"),
                            Err(e2) => warn!("registering again failed: {e2}"),
                        }
                    }
                    e.retry_after()
                        .unwrap_or(self.options.heartbeat_interval)
                        .max(self.options.initial_backoff)
                }
            };
        }
    }

    async fn command_loop(&self, running: Running, stop: CancellationToken) {
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                r = self.transport.next_command() => r,
            };
            match next {
                Ok(Some(cmd)) if cmd.command == wire::COMMAND_CANCEL_TASK => match &cmd.task_id {
                    Some(id) => cancel_task(&running, id, "command"),
                    None => warn!("cancel_task command without a task_id"),
                },
                Ok(Some(cmd)) => warn!(command = %cmd.command, "unknown command ignored"),
                Ok(None) => return,
                Err(Error::Closed) => return,
                Err(e) => {
                    warn!("command channel failed, listening again in 5 s: {e}");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
            }
        }
    }

    async fn poll_loop(
        &self,
        running: &Running,
        slots: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        stop: &CancellationToken,
    ) {
        // Built once: the same options every poll (the transport caches the URI for them).
        let options = PollOptions::with_timeout(self.options.poll_timeout)
            .available_skills(self.skill_names())
            .hot_skills(Vec::<String>::new());
        let mut delay = self.options.initial_backoff;
        loop {
            // Reap finished tasks so the set does not grow.
            while tasks.try_join_next().is_some() {}
            let permit = tokio::select! {
                () = stop.cancelled() => return,
                p = Arc::clone(slots).acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let polled = tokio::select! {
                () = stop.cancelled() => return,
                r = self.transport.poll_task(&options) => r,
            };
            match polled {
                Ok(Some(task)) => {
                    delay = self.options.initial_backoff;
                    let cancel = CancellationToken::new();
                    running
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(task.task_id.clone(), cancel.clone());
                    let fut = self.execute(task, cancel, Arc::clone(running));
                    tasks.spawn(async move {
                        fut.await;
                        drop(permit);
                    });
                }
                Ok(None) => delay = self.options.initial_backoff,
                Err(Error::Closed) => return,
                Err(e) => {
                    let wait = match &e {
                        Error::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => delay,
                    };
                    warn!("poll failed, retrying in {wait:?}: {e}");
                    delay = backoff_next(delay, self.options.max_backoff);
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// The future that runs one task and sends its result ('static, for spawning).
    fn execute(
        &self,
        task: TaskPayload,
        cancel: CancellationToken,
        running: Running,
    ) -> BoxFuture<'static, ()> {
        let transport: Arc<T> = Arc::clone(&self.transport);
        let dyn_transport: Arc<DynT> = Arc::clone(&self.transport) as Arc<DynT>;
        let skill = self.skills.get(&task.r#type).cloned();
        let worker_id = self.options.worker_id.clone();
        let span = info_span!("rxon.task", worker_id = %worker_id, job_id = %task.job_id, task_id = %task.task_id,
            task_type = %task.r#type, traceparent = task.traceparent().unwrap_or(""));
        Box::pin(
            async move {
                let started = Instant::now();
                let ctx = TaskContext {
                    worker_id: worker_id.as_str().into(),
                    job_id: task.job_id.as_str().into(),
                    task_id: task.task_id.as_str().into(),
                    cancel: cancel.clone(),
                    transport: dyn_transport,
                };
                let mut result = TaskResult {
                    worker_id: Some(worker_id.clone()),
                    origin_worker_id: Some(worker_id.clone()),
                    ..TaskResult::new(task.job_id.clone(), task.task_id.clone())
                };
                let task_id = task.task_id.clone();
                let outcome = match skill {
                    None => Some(Err(TaskError::new(
                        ErrorCode::Permanent,
                        format!("Unknown skill: {}", task.r#type),
                    ))),
                    Some(skill) => tokio::select! {
                        biased;
                        () = cancel.cancelled() => None,
                        r = skill(task, ctx) => Some(r),
                    },
                };
                match outcome {
                    Some(Ok(data)) => result.data = Some(data),
                    Some(Err(e)) => {
                        result.status = Some(wire::TASK_STATUS_FAILURE.to_owned());
                        result.error = Some(e);
                    }
                    None => {
                        info!("task cancelled");
                        result.status = Some(wire::TASK_STATUS_CANCELLED.to_owned());
                    }
                }
                let mut costs = Map::new();
                costs.insert(
                    "execution_time_seconds",
                    Value::from((started.elapsed().as_secs_f64() * 1e4).round() / 1e4),
                );
                result.costs = Some(costs);
                send_result_patiently(&*transport, &result).await;
                running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&task_id);
            }
            .instrument(span),
        )
    }

    async fn drain(&self, tasks: &mut JoinSet<()>, running: &Running) {
        while tasks.try_join_next().is_some() {}
        if tasks.is_empty() {
            return;
        }
        let still_running = running.lock().unwrap_or_else(PoisonError::into_inner).len();
        info!(tasks = still_running, "draining running tasks");
        let now = tokio::time::Instant::now();
        // A drain timeout too large for `Instant` means "wait for every task".
        let deadline = now
            .checked_add(self.options.drain_timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30));
        loop {
            match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Ok(None) => return,
                Ok(Some(_)) => {}
                Err(_) => {
                    warn!("drain timeout: cancelling the remaining tasks");
                    for token in running
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .values()
                    {
                        token.cancel();
                    }
                    while tasks.join_next().await.is_some() {}
                    return;
                }
            }
        }
    }

    async fn final_heartbeat(&self) {
        let hb = Heartbeat {
            current_tasks: Some(vec![]),
            supported_skills: Some(vec![]),
            ..Heartbeat::new(self.options.worker_id.clone(), wire::WORKER_STATUS_OFFLINE)
        };
        match tokio::time::timeout(
            Duration::from_secs(10),
            self.transport.send_heartbeat(Some(&hb)),
        )
        .await
        {
            Ok(Ok(_)) => debug!("reported offline"),
            Ok(Err(e)) => warn!("could not report offline: {e}"),
            Err(_) => warn!("could not report offline: timed out"),
        }
    }
}

fn cancel_task(running: &Running, id: &str, why: &str) {
    if let Some(token) = running
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(id)
    {
        info!(task_id = id, "cancelling task ({why})");
        token.cancel();
    }
}

/// The longest single wait between result attempts, whatever `Retry-After` asks: the drain
/// waits for result senders, so an orchestrator must not be able to stall shutdown.
const MAX_RESULT_RETRY_WAIT: Duration = Duration::from_secs(60);

/// Sends a result; rate limits and network failures (after the transport's own retries) are
/// retried up to 5 times (1, 2, 4, 8 s, or the orchestrator's `Retry-After`, at most
/// [`MAX_RESULT_RETRY_WAIT`]).
async fn send_result_patiently<T: Transport + ?Sized>(transport: &T, result: &TaskResult) {
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=5 {
        match transport.send_result(result).await {
            Ok(_) => return,
            Err(e @ (Error::Network { .. } | Error::RateLimited { .. })) if attempt < 5 => {
                let wait = e
                    .retry_after()
                    .unwrap_or(delay)
                    .max(delay)
                    .min(MAX_RESULT_RETRY_WAIT);
                warn!(attempt, "result not delivered, retrying in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                delay = delay.saturating_mul(2);
            }
            Err(e) => {
                error!("result lost: {e}");
                return;
            }
        }
    }
}
