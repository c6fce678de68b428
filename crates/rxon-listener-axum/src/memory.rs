//! [`MemoryOrchestrator`]: a complete in-memory orchestrator — a task queue with smart
//! dispatch, results, heartbeats, events, cancellation over the command hub, token
//! authentication, task signing and optional worker-signature checks — behind a
//! [`Handler`], plus a small client API to submit jobs (not part of RXON).
//!
//! It backs `rxon serve`, the `orchestrator` example and the tests. State lives in memory
//! only; nothing is persisted.

#![allow(
    clippy::result_large_err,
    reason = "early returns carry a ready axum response"
)]

use crate::sign::constant_time_eq;
use crate::{CommandHub, Listener, ListenerConfig, reply};
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use rxon_core::wire::{AUTH_HEADER_CLIENT, TASK_STATUS_CANCELLED, TASK_STATUS_SUCCESS};
use rxon_core::{
    Error, Handler, Heartbeat, Incoming, Map, Model, ProtocolVersion, RequestContext, Resources,
    TaskPayload, TaskResult, Value, WorkerCommand, WorkerEventPayload, WorkerRegistration, json,
};
use rxon_security::{HmacSigner, HmacVerifier, sign_canonical, verify_canonical};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// A worker credential: a bare token (any worker id) or a token for one worker id.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerToken {
    /// The only worker id this token is valid for; `None`: any.
    pub worker_id: Option<String>,
    /// The token (`X-Worker-Token`), also the worker's HMAC key.
    pub token: String,
}

impl std::fmt::Debug for WorkerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerToken")
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

impl WorkerToken {
    /// Parses `TOKEN` (any worker) or `ID=TOKEN` (worker `ID` only).
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s.split_once('=') {
            Some((id, token)) if !id.is_empty() => Self {
                worker_id: Some(id.to_owned()),
                token: token.to_owned(),
            },
            _ => Self {
                worker_id: None,
                token: s.to_owned(),
            },
        }
    }
}

/// Configuration of a [`MemoryOrchestrator`].
#[derive(Clone, Debug)]
pub struct MemoryConfig {
    /// Protocol profile of the listener and the encoders.
    pub profile: ProtocolVersion,
    /// Accepted worker credentials.
    pub worker_tokens: Vec<WorkerToken>,
    /// Token of the client API (`X-Client-Token`); `None` disables the client API checks'
    /// success path (every client request is refused).
    pub client_token: Option<String>,
    /// Adds the task signature `sig` (HMAC, spec §10.7) with this key.
    pub task_signing_key: Option<String>,
    /// Verifies worker HMAC signatures (keyed by the worker's token) and timestamps on
    /// register, result, heartbeat (with body) and event, and nonces on all but heartbeats
    /// (spec §15.3; see `check_signed`).
    pub require_signatures: bool,
    /// Accepted clock difference of message timestamps, and nonce memory. Default 60 s.
    pub signature_window: Duration,
    /// Listener limits and timeouts (its `profile` is overridden by `profile`).
    pub listener: ListenerConfig,
    /// How many finished (finished, failed or cancelled) jobs stay queryable; beyond it the
    /// oldest finished job is forgotten (its status becomes "not found", a late result for
    /// it is ignored as `job_not_found`). Bounds memory of a long-running orchestrator.
    /// Default 10 000.
    pub max_finished_jobs: usize,
    /// Most registered workers. A registration under a new id beyond it first forgets the
    /// workers silent for longer than `worker_ttl`, and is refused with 503 if none is.
    /// Bounds memory when a shared token lets anyone invent worker ids. Default 10 000.
    pub max_workers: usize,
    /// How long a worker may stay silent (no request) before it may be forgotten to make
    /// room; a forgotten worker gets 404 and registers again. Default 120 s (the live
    /// orchestrator forgets a worker after 120 s without a heartbeat).
    pub worker_ttl: Duration,
    /// Most jobs waiting or running at once; a client API submission that would exceed it is
    /// refused with 503. Default 100 000.
    pub max_active_jobs: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            profile: ProtocolVersion::V1_0b17,
            worker_tokens: Vec::new(),
            client_token: None,
            task_signing_key: None,
            require_signatures: false,
            signature_window: Duration::from_secs(60),
            listener: ListenerConfig::default(),
            max_finished_jobs: 10_000,
            max_workers: 10_000,
            worker_ttl: Duration::from_secs(120),
            max_active_jobs: 100_000,
        }
    }
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobState {
    /// Waiting for a worker.
    Pending,
    /// Handed to a worker.
    Running,
    /// Finished with a successful result.
    Finished,
    /// Finished with a failure (or a custom status).
    Failed,
    /// Cancelled.
    Cancelled,
}

impl JobState {
    /// The job status string (spec §2.5).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job is over.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Failed | Self::Cancelled)
    }
}

/// A job as the client API reports it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JobStatus {
    /// Job id.
    pub job_id: String,
    /// Its (single) task id.
    pub task_id: String,
    /// Task type.
    pub task_type: String,
    /// State.
    pub state: JobState,
    /// The worker that took it.
    pub worker_id: Option<String>,
    /// The result as the worker sent it.
    pub result: Option<Value>,
    /// The last progress event payload.
    pub progress: Option<Value>,
}

impl JobStatus {
    /// The client API's JSON view.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("job_id", Value::String(self.job_id.clone()));
        m.insert("task_id", Value::String(self.task_id.clone()));
        m.insert("type", Value::String(self.task_type.clone()));
        m.insert("status", Value::String(self.state.as_str().to_owned()));
        if let Some(w) = &self.worker_id {
            m.insert("worker_id", Value::String(w.clone()));
        }
        if let Some(r) = &self.result {
            m.insert("result", r.clone());
        }
        if let Some(p) = &self.progress {
            m.insert("progress", p.clone());
        }
        Value::Object(m)
    }
}

#[derive(Debug)]
struct TaskRecord {
    task: TaskPayload,
    requirements: Option<Resources>,
    state: JobState,
    worker: Option<String>,
    result: Option<Value>,
    progress: Option<Value>,
}

#[derive(Debug)]
struct WorkerRecord {
    registration: WorkerRegistration,
    status: String,
    last_seen: Instant,
}

#[derive(Debug, Default)]
struct StateInner {
    workers: HashMap<String, WorkerRecord>,
    queue: VecDeque<String>,
    tasks: HashMap<String, TaskRecord>,
    jobs: HashMap<String, String>,
    /// Task ids of terminal jobs, oldest first (for `max_finished_jobs`).
    finished: VecDeque<String>,
    /// Nonces seen within the signature window (spec §15.3).
    seen: HashSet<String>,
    /// The same nonces with their expiry, in insertion (so expiry) order: pruning pops
    /// the front instead of scanning the whole set on every message.
    seen_order: VecDeque<(Instant, String)>,
}

impl StateInner {
    /// Makes room for a new worker under `cap`: forgets workers silent for longer than
    /// `ttl`. Whether there is room now.
    fn room_for_worker(&mut self, cap: usize, ttl: Duration) -> bool {
        if self.workers.len() < cap {
            return true;
        }
        let now = Instant::now();
        self.workers
            .retain(|_, w| now.saturating_duration_since(w.last_seen) <= ttl);
        self.workers.len() < cap
    }

    /// Jobs waiting or running.
    fn active_jobs(&self) -> usize {
        self.tasks.len().saturating_sub(self.finished.len())
    }

    /// Records that `task_id` reached a terminal state, forgetting the oldest finished jobs
    /// beyond `cap`.
    fn finished(&mut self, task_id: String, cap: usize) {
        self.finished.push_back(task_id);
        while self.finished.len() > cap {
            let Some(old) = self.finished.pop_front() else {
                break;
            };
            if let Some(rec) = self.tasks.remove(&old) {
                self.jobs.remove(&rec.task.job_id);
            }
        }
    }
}

#[derive(Debug)]
struct Inner {
    config: MemoryConfig,
    hub: CommandHub,
    signer: Option<HmacSigner>,
    state: Mutex<StateInner>,
    notify: Notify,
}

/// An in-memory orchestrator. Cheap to clone (shared state).
#[derive(Clone, Debug)]
pub struct MemoryOrchestrator {
    inner: Arc<Inner>,
}

fn forbidden(message: impl Into<String>) -> Error {
    Error::Auth {
        message: message.into(),
        status: Some(403),
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn random_id(prefix: &str) -> String {
    format!(
        "{prefix}-{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

impl MemoryOrchestrator {
    /// A new orchestrator with an empty queue.
    #[must_use]
    pub fn new(config: MemoryConfig) -> Self {
        let hub = CommandHub::with_profile(config.profile);
        let signer = config
            .task_signing_key
            .as_deref()
            .and_then(|k| HmacSigner::new(k).ok());
        Self {
            inner: Arc::new(Inner {
                config,
                hub,
                signer,
                state: Mutex::new(StateInner::default()),
                notify: Notify::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, StateInner> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The command hub (shared with the listener built by [`MemoryOrchestrator::listener`]).
    #[must_use]
    pub fn hub(&self) -> CommandHub {
        self.inner.hub.clone()
    }

    /// The worker listener for this orchestrator. Signature checks need the messages as
    /// received, so `require_signatures` keeps them whatever `listener.keep_raw` says.
    #[must_use]
    pub fn listener(&self) -> Listener<Self> {
        let config = ListenerConfig {
            profile: self.inner.config.profile,
            keep_raw: self.inner.config.listener.keep_raw || self.inner.config.require_signatures,
            ..self.inner.config.listener.clone()
        };
        Listener::new(self.clone())
            .with_config(config)
            .with_hub(self.hub())
    }

    /// The worker API and the client API in one router.
    pub fn router(&self) -> Router {
        self.listener().router().merge(self.client_router())
    }

    /// The worker API and the client API as an [`App`](crate::App), which
    /// [`serve`](crate::serve) serves with direct answers to workers' plain requests.
    pub fn app(&self) -> crate::App {
        self.listener().app().merge(self.client_router())
    }

    /// Queues a task; returns its job id. `requirements` restricts it to workers whose
    /// resources match (spec §11.3).
    pub fn submit_task(&self, task: TaskPayload, requirements: Option<Resources>) -> String {
        let job_id = task.job_id.clone();
        {
            let mut st = self.state();
            st.jobs.insert(job_id.clone(), task.task_id.clone());
            st.queue.push_back(task.task_id.clone());
            let rec = TaskRecord {
                task,
                requirements,
                state: JobState::Pending,
                worker: None,
                result: None,
                progress: None,
            };
            st.tasks.insert(rec.task.task_id.clone(), rec);
        }
        self.inner.notify.notify_waiters();
        job_id
    }

    /// Queues a new job of `task_type` with `params`; returns the job id.
    pub fn submit(&self, task_type: &str, params: Map) -> String {
        let task = TaskPayload {
            params: Some(params),
            timestamp: Some(now_secs()),
            ..TaskPayload::new(random_id("job"), random_id("task"), task_type)
        };
        self.submit_task(task, None)
    }

    /// A job's status.
    #[must_use]
    pub fn job(&self, job_id: &str) -> Option<JobStatus> {
        let st = self.state();
        let rec = st.jobs.get(job_id).and_then(|t| st.tasks.get(t))?;
        Some(JobStatus {
            job_id: job_id.to_owned(),
            task_id: rec.task.task_id.clone(),
            task_type: rec.task.r#type.clone(),
            state: rec.state,
            worker_id: rec.worker.clone(),
            result: rec.result.clone(),
            progress: rec.progress.clone(),
        })
    }

    /// Cancels a job: a pending job leaves the queue; a running one gets a `cancel_task`
    /// command over its worker's socket (and in the next heartbeat answer). Returns `false`
    /// for unknown or finished jobs.
    pub fn cancel(&self, job_id: &str) -> bool {
        let (worker, task_id) = {
            let mut st = self.state();
            let Some(task_id) = st.jobs.get(job_id).cloned() else {
                return false;
            };
            let Some(rec) = st.tasks.get_mut(&task_id) else {
                return false;
            };
            if rec.state.is_terminal() {
                return false;
            }
            let was = rec.state;
            rec.state = JobState::Cancelled;
            let worker = rec.worker.clone();
            if was == JobState::Pending {
                st.queue.retain(|t| t != &task_id);
            }
            st.finished(task_id.clone(), self.inner.config.max_finished_jobs);
            (worker, task_id)
        };
        if let Some(w) = worker {
            let cmd = WorkerCommand::cancel_task(task_id, Some(job_id.to_owned()));
            if let Err(e) = self.inner.hub.send(&w, &cmd) {
                tracing::info!(worker_id = w, error = %e, "cancel not pushed; the next heartbeat carries it");
            }
        }
        true
    }

    /// Ids of registered workers.
    #[must_use]
    pub fn workers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.state().workers.keys().cloned().collect();
        v.sort();
        v
    }

    // ----------------------------------------------------------------- authentication

    /// Authenticates a worker message; returns the identity and the HMAC key (the token).
    fn authenticate(
        &self,
        cx: &RequestContext,
        claimed: Option<&str>,
    ) -> rxon_core::Result<(String, Option<String>)> {
        let hint = cx.worker_id_hint.as_deref().or(claimed);
        if let Some(cn) = &cx.cert_identity {
            if hint.is_some_and(|h| h != cn) {
                return Err(forbidden(format!(
                    "Unauthorized: Certificate CN '{cn}' does not match worker_id '{}'",
                    hint.unwrap_or("")
                )));
            }
            if cx.token.is_none() {
                return Ok((cn.clone(), None));
            }
        }
        let Some(token) = cx.token.as_deref() else {
            return Err(forbidden(
                "Unauthorized: Missing X-Worker-Token header or client certificate.",
            ));
        };
        let mut bare_ok = false;
        for t in &self.inner.config.worker_tokens {
            if !constant_time_eq(token, &t.token) {
                continue;
            }
            match &t.worker_id {
                Some(id) if hint.is_none_or(|h| h == id) => {
                    return Ok((id.clone(), Some(t.token.clone())));
                }
                Some(_) => {}
                None => bare_ok = true,
            }
        }
        match (bare_ok, hint) {
            (true, Some(h)) => Ok((h.to_owned(), Some(token.to_owned()))),
            (true, None) => Err(forbidden(
                "Unauthorized: Invalid token or missing worker_id hint",
            )),
            (false, _) => Err(forbidden("Unauthorized: No valid token found")),
        }
    }

    /// The zero-trust checks of spec §15.3 (when `require_signatures` is on). With `dedupe`
    /// off (heartbeats) a repeated signature is accepted: the live worker SDK sends identical
    /// heartbeats within one second (a debounced extra one next to the periodic one, spec
    /// §18.B.10), and replaying a heartbeat only repeats a state update.
    fn check_signed(
        &self,
        identity: &str,
        key: Option<&str>,
        raw: &Value,
        ignore: &[&str],
        dedupe: bool,
    ) -> rxon_core::Result<()> {
        if !self.inner.config.require_signatures {
            return Ok(());
        }
        let window = self.inner.config.signature_window;
        let ts = raw
            .get("timestamp")
            .and_then(Value::as_f64)
            .filter(|t| *t != 0.0);
        let Some(ts) = ts else {
            return Err(forbidden(
                "Missing required timestamp for replay protection",
            ));
        };
        #[allow(clippy::cast_precision_loss)]
        let skew = (now_secs() as f64 - ts).abs();
        if skew > window.as_secs_f64() {
            return Err(forbidden("Message timestamp expired (replay protection)"));
        }
        let Some(key) = key else {
            return Err(forbidden("No signing key for this worker"));
        };
        let security = raw.get("security");
        let Some(sig) = security
            .and_then(|s| s.get("signature"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Err(forbidden("Missing required cryptographic signature"));
        };
        if let Some(signer) = security
            .and_then(|s| s.get("signer_id"))
            .and_then(Value::as_str)
            && signer != identity
        {
            return Err(forbidden(format!(
                "Message signer ID '{signer}' does not match worker ID '{identity}'"
            )));
        }
        // Over the JSON as received, with the listener's profile (spec §10.6).
        if !verify_canonical(
            raw,
            sig,
            &HmacVerifier::new(key),
            self.inner.config.profile,
            ignore,
        ) {
            return Err(forbidden("Invalid cryptographic signature"));
        }
        if !dedupe {
            return Ok(());
        }
        let nonce = ["event_id", "nonce", "message_id"]
            .iter()
            .find_map(|k| raw.get(k).and_then(Value::as_str))
            .unwrap_or(sig);
        let key = format!("{identity}\n{nonce}");
        let mut st = self.state();
        let now = Instant::now();
        while let Some((_, old)) = st.seen_order.pop_front_if(|(exp, _)| *exp <= now) {
            st.seen.remove(&old);
        }
        if !st.seen.insert(key.clone()) {
            return Err(forbidden("Duplicate message detected (replay attack)"));
        }
        st.seen_order
            .push_back((now + window + Duration::from_secs(5), key));
        Ok(())
    }

    // ----------------------------------------------------------------- dispatch

    /// Takes the first queued task this worker can run (no await: cancel-safe).
    fn take(&self, worker_id: &str, cx: &RequestContext) -> Option<TaskPayload> {
        let mut st = self.state();
        let worker = st.workers.get(worker_id)?;
        let skills: Vec<&str> = worker
            .registration
            .supported_skills
            .iter()
            .flatten()
            .map(|s| s.name.as_str())
            .collect();
        let resources = worker.registration.resources.clone().unwrap_or_default();
        let available = cx.available_skills.clone();
        let pos = st.queue.iter().position(|tid| {
            st.tasks.get(tid).is_some_and(|rec| {
                let ty = rec.task.r#type.as_str();
                skills.contains(&ty)
                    && available.as_ref().is_none_or(|a| a.iter().any(|s| s == ty))
                    && rec
                        .requirements
                        .as_ref()
                        .is_none_or(|req| resources.matches(req))
            })
        })?;
        let tid = st.queue.remove(pos)?;
        let rec = st.tasks.get_mut(&tid)?;
        rec.state = JobState::Running;
        rec.worker = Some(worker_id.to_owned());
        let mut task = rec.task.clone();
        drop(st);
        if let Some(signer) = &self.inner.signer {
            task.sig = None;
            match task
                .to_value(ProtocolVersion::V1_0b17)
                .map_err(Error::from)
                .and_then(|v| {
                    // The worker SDK's convention (spec §10.7): always the 1.0b17 form.
                    sign_canonical(
                        &v,
                        signer,
                        ProtocolVersion::V1_0b17,
                        &["sig", "orchestrator_signature"],
                    )
                }) {
                Ok(sig) => task.sig = Some(sig),
                Err(e) => tracing::error!(task_id = task.task_id, error = %e, "cannot sign task"),
            }
        }
        Some(task)
    }

    fn touch(&self, worker_id: &str) -> bool {
        let mut st = self.state();
        match st.workers.get_mut(worker_id) {
            Some(w) => {
                w.last_seen = Instant::now();
                true
            }
            None => false,
        }
    }

    // ----------------------------------------------------------------- client API

    /// The client API (not part of RXON): `POST /api/jobs`, `GET /api/jobs/{id}`,
    /// `POST /api/jobs/{id}/cancel`, `GET /api/workers`, all with `X-Client-Token`.
    pub fn client_router(&self) -> Router {
        Router::new()
            .route("/api/jobs", post(api_submit))
            .route("/api/jobs/{id}", get(api_job))
            .route("/api/jobs/{id}/cancel", post(api_cancel))
            .route("/api/workers", get(api_workers))
            .with_state(self.clone())
    }

    fn client_ok(&self, req: &Request) -> Result<(), Response> {
        let given = req
            .headers()
            .get(AUTH_HEADER_CLIENT)
            .and_then(|v| v.to_str().ok());
        match (&self.inner.config.client_token, given) {
            (Some(want), Some(got)) if constant_time_eq(want, got) => Ok(()),
            _ => Err(reply::error_body(
                StatusCode::UNAUTHORIZED,
                None,
                "Unauthorized: invalid X-Client-Token",
                self.inner.config.profile,
            )),
        }
    }
}

async fn api_submit(State(o): State<MemoryOrchestrator>, req: Request) -> Response {
    let profile = o.inner.config.profile;
    if let Err(r) = o.client_ok(&req) {
        return r;
    }
    let bad = |m: &str| reply::error_body(StatusCode::BAD_REQUEST, None, m, profile);
    let bytes = match axum::body::to_bytes(req.into_body(), 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return bad("body too large or unreadable"),
    };
    let body = match json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return bad(&e.to_string()),
    };
    let Some(task_type) = body.get("type").and_then(Value::as_str) else {
        return bad("missing string field `type`");
    };
    let params = match body.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return bad("`params` must be an object"),
    };
    let count = match body.get("count") {
        None => 1,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=10_000).contains(&n) => n,
            _ => return bad("`count` must be an integer from 1 to 10000"),
        },
    };
    let requirements = match body.get("requirements") {
        None | Some(Value::Null) => None,
        Some(v) => match Resources::from_value(v) {
            Ok(r) => Some(r),
            Err(e) => return bad(&e.to_string()),
        },
    };
    let priority = body.get("priority").and_then(Value::as_f64);
    let active = o.state().active_jobs();
    if active.saturating_add(count.unsigned_abs() as usize) > o.inner.config.max_active_jobs {
        return reply::error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            &format!(
                "too many active jobs ({active}, limit {}); try again later",
                o.inner.config.max_active_jobs
            ),
            profile,
        );
    }
    let mut jobs = Vec::new();
    for _ in 0..count {
        let task = TaskPayload {
            params: Some(params.clone()),
            priority,
            timestamp: Some(now_secs()),
            ..TaskPayload::new(random_id("job"), random_id("task"), task_type)
        };
        let task_id = task.task_id.clone();
        let job_id = o.submit_task(task, requirements.clone());
        jobs.push(json!({"job_id": job_id, "task_id": task_id}));
    }
    let mut m = Map::new();
    m.insert("jobs", Value::Array(jobs));
    reply::json_value(&Value::Object(m), profile)
}

async fn api_job(
    State(o): State<MemoryOrchestrator>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let profile = o.inner.config.profile;
    if let Err(r) = o.client_ok(&req) {
        return r;
    }
    match o.job(&id) {
        Some(j) => reply::json_value(&j.to_value(), profile),
        None => reply::error_body(StatusCode::NOT_FOUND, None, "job not found", profile),
    }
}

async fn api_cancel(
    State(o): State<MemoryOrchestrator>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let profile = o.inner.config.profile;
    if let Err(r) = o.client_ok(&req) {
        return r;
    }
    if o.cancel(&id) {
        reply::json_value(&json!({"status": "cancelled"}), profile)
    } else {
        reply::error_body(
            StatusCode::CONFLICT,
            None,
            "job unknown or already finished",
            profile,
        )
    }
}

async fn api_workers(State(o): State<MemoryOrchestrator>, req: Request) -> Response {
    let profile = o.inner.config.profile;
    if let Err(r) = o.client_ok(&req) {
        return r;
    }
    let list: Vec<Value> = {
        let st = o.state();
        let mut workers: Vec<(&String, &WorkerRecord)> = st.workers.iter().collect();
        workers.sort_unstable_by_key(|(id, _)| *id);
        workers
            .iter()
            .map(|(id, w)| json!({"worker_id": (id.as_str()), "status": (w.status.as_str())}))
            .collect()
    };
    let mut m = Map::new();
    m.insert("workers", Value::Array(list));
    reply::json_value(&Value::Object(m), profile)
}

fn ignored(reason: &str, message: String) -> Value {
    json!({"status": "ignored", "reason": reason, "message": message})
}

impl Handler for MemoryOrchestrator {
    async fn register(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerRegistration>,
    ) -> rxon_core::Result<Value> {
        let worker_id = msg.message.worker_id.clone();
        let (identity, key) = self.authenticate(cx, Some(&worker_id))?;
        if identity != worker_id {
            return Err(forbidden("Immediate sender ID mismatch"));
        }
        let profile = self.inner.config.profile;
        rxon_core::ident::validate_identifier_strict(&worker_id, "worker_id", profile).map_err(
            |e| Error::Validation {
                message: e.to_string(),
            },
        )?;
        self.check_signed(&identity, key.as_deref(), &msg.raw, &[], true)?;
        let record = WorkerRecord {
            registration: msg.message,
            status: "idle".to_owned(),
            last_seen: Instant::now(),
        };
        {
            let config = &self.inner.config;
            let mut st = self.state();
            if !st.workers.contains_key(&worker_id)
                && !st.room_for_worker(config.max_workers, config.worker_ttl)
            {
                tracing::warn!(worker_id, "registration refused: worker limit reached");
                return Err(Error::protocol(
                    "Too many registered workers; try again later",
                    503,
                ));
            }
            st.workers.insert(worker_id.clone(), record);
        }
        tracing::info!(worker_id, "worker registered");
        self.inner.notify.notify_waiters();
        let mut reply = json!({"status": "registered", "version": (profile.as_str())});
        if let Some(theirs) = cx
            .protocol_version
            .as_deref()
            .filter(|v| *v != profile.as_str())
            && let Some(m) = reply.as_object_mut()
        {
            let w = format!(
                "Protocol version mismatch! Orchestrator: {}, Worker: {theirs}.",
                profile.as_str()
            );
            m.insert("warning", Value::String(w));
        }
        Ok(reply)
    }

    async fn poll(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> rxon_core::Result<Option<Arc<TaskPayload>>> {
        let (identity, _) = self.authenticate(cx, Some(worker_id))?;
        if identity != worker_id {
            return Err(forbidden("Immediate sender ID mismatch"));
        }
        if !self.touch(worker_id) {
            return Err(Error::protocol("Worker not found: register first", 404));
        }
        loop {
            let notified = self.inner.notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(task) = self.take(worker_id, cx) {
                return Ok(Some(Arc::new(task)));
            }
            notified.await;
        }
    }

    async fn result(
        &self,
        cx: &RequestContext,
        msg: Incoming<TaskResult>,
    ) -> rxon_core::Result<Value> {
        let claimed = msg.message.worker_id.as_deref();
        let (identity, key) = self.authenticate(cx, claimed)?;
        if claimed.is_some_and(|c| c != identity) {
            return Err(forbidden(format!(
                "Forbidden: Authenticated worker '{identity}' cannot submit results for another worker '{}'.",
                claimed.unwrap_or("")
            )));
        }
        self.check_signed(&identity, key.as_deref(), &msg.raw, &[], true)?;
        let r = &msg.message;
        let mut st = self.state();
        let Some(rec) = st
            .tasks
            .get_mut(&r.task_id)
            .filter(|rec| rec.task.job_id == r.job_id)
        else {
            return Ok(ignored(
                "job_not_found",
                format!("Job {} not found (expired or deleted).", r.job_id),
            ));
        };
        if rec.state == JobState::Cancelled {
            return Ok(ignored(
                "job_cancelled",
                "Result ignored: the job is already in a terminal state (cancelled).".to_owned(),
            ));
        }
        if rec.state.is_terminal() {
            let m = format!(
                "Result ignored: the job is already in a terminal state ({}).",
                rec.state.as_str()
            );
            return Ok(ignored("job_already_terminated", m));
        }
        if rec.worker.as_deref() != Some(identity.as_str()) {
            return Ok(ignored(
                "worker_mismatch",
                "Forbidden: This task is assigned to a different worker.".to_owned(),
            ));
        }
        let (state, transition) = match r.status() {
            TASK_STATUS_SUCCESS => (JobState::Finished, "success_transition"),
            TASK_STATUS_CANCELLED => (JobState::Cancelled, "cancelled_handled"),
            _ => (JobState::Failed, "failure_handled"),
        };
        rec.state = state;
        rec.result = Some(msg.raw);
        st.finished(r.task_id.clone(), self.inner.config.max_finished_jobs);
        Ok(json!({"status": "accepted", "transition": transition}))
    }

    async fn heartbeat(
        &self,
        cx: &RequestContext,
        msg: Option<Incoming<Heartbeat>>,
    ) -> rxon_core::Result<Value> {
        let claimed = msg.as_ref().map(|m| m.message.worker_id.as_str());
        let (identity, key) = self.authenticate(cx, claimed)?;
        let Some(msg) = msg else {
            return if self.touch(&identity) {
                Ok(json!({"status": "ttl_refreshed"}))
            } else {
                Err(Error::protocol("Worker not found: register again", 404))
            };
        };
        if msg.message.worker_id != identity {
            return Err(forbidden("Immediate sender ID mismatch"));
        }
        self.check_signed(&identity, key.as_deref(), &msg.raw, &[], false)?;
        let hb = msg.message;
        let mut st = self.state();
        let Some(w) = st.workers.get_mut(&identity) else {
            return Err(Error::protocol("Worker not found: register again", 404));
        };
        w.last_seen = Instant::now();
        w.status.clone_from(&hb.status);
        // Only new skills can let a waiting poll of this worker take a task.
        let skills_changed = hb.supported_skills.is_some();
        if let Some(skills) = hb.supported_skills {
            w.registration.supported_skills = Some(skills);
        }
        let cancel: Vec<Value> = hb
            .current_tasks
            .iter()
            .flatten()
            .filter(|t| {
                st.tasks
                    .get(*t)
                    .is_some_and(|r| r.state == JobState::Cancelled)
            })
            .map(|t| Value::String(t.clone()))
            .collect();
        drop(st);
        if skills_changed {
            self.inner.notify.notify_waiters();
        }
        let mut reply = json!({"status": "ok"});
        if !cancel.is_empty()
            && let Some(m) = reply.as_object_mut()
        {
            m.insert("cancel_task_ids", Value::Array(cancel));
        }
        Ok(reply)
    }

    async fn event(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerEventPayload>,
    ) -> rxon_core::Result<Value> {
        let (identity, key) = self.authenticate(cx, Some(&msg.message.worker_id))?;
        if msg.message.worker_id != identity {
            return Err(forbidden("Immediate sender ID mismatch"));
        }
        self.check_signed(
            &identity,
            key.as_deref(),
            &msg.raw,
            &["bubbling_chain"],
            true,
        )?;
        let ev = msg.message;
        let mut st = self.state();
        let task_id = match (&ev.target_task_id, &ev.target_job_id) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(j)) => st.jobs.get(j).cloned(),
            _ => None,
        };
        if let Some(rec) = task_id.and_then(|t| st.tasks.get_mut(&t)) {
            if rec.worker.as_deref() != Some(identity.as_str()) {
                return Err(forbidden(format!(
                    "Forbidden: Worker '{identity}' is not assigned to job '{}'",
                    rec.task.job_id
                )));
            }
            if ev.event_type == rxon_core::wire::EVENT_TYPE_PROGRESS {
                rec.progress = Some(Value::Object(ev.payload));
            }
        }
        Ok(Value::Null)
    }

    async fn websocket_auth(&self, cx: &RequestContext, worker_id: &str) -> rxon_core::Result<()> {
        let (identity, _) = self.authenticate(cx, Some(worker_id))?;
        if identity == worker_id {
            Ok(())
        } else {
            Err(forbidden("Immediate sender ID mismatch"))
        }
    }

    async fn task_undelivered(&self, worker_id: &str, task: Arc<TaskPayload>) {
        {
            let mut st = self.state();
            let Some(rec) = st.tasks.get_mut(&task.task_id) else {
                return;
            };
            if rec.state != JobState::Running || rec.worker.as_deref() != Some(worker_id) {
                return;
            }
            rec.state = JobState::Pending;
            rec.worker = None;
            st.queue.push_front(task.task_id.clone());
        }
        self.inner.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const TOKEN: &str = "tok";

    fn signed(mut raw: Value) -> Value {
        let sig = sign_canonical(
            &raw,
            &HmacSigner::new(TOKEN).unwrap(),
            ProtocolVersion::V1_0b17,
            &[],
        )
        .unwrap();
        if let Value::Object(m) = &mut raw {
            m.insert("security", json!({"signature": sig, "signer_id": "w1"}));
        }
        raw
    }

    fn incoming<T: Model>(raw: &Value) -> Incoming<T> {
        Incoming::new(T::from_value(raw).unwrap(), raw.clone())
    }

    #[test]
    fn finished_jobs_beyond_the_cap_are_forgotten_oldest_first() {
        let orch = MemoryOrchestrator::new(MemoryConfig {
            max_finished_jobs: 2,
            ..MemoryConfig::default()
        });
        let ids: Vec<String> = (0..4).map(|_| orch.submit("t", Map::new())).collect();
        for id in &ids[..3] {
            assert!(orch.cancel(id));
        }
        assert!(
            orch.job(&ids[0]).is_none(),
            "the oldest finished job is evicted"
        );
        for id in &ids[1..3] {
            assert_eq!(orch.job(id).map(|j| j.state), Some(JobState::Cancelled));
        }
        assert_eq!(orch.job(&ids[3]).map(|j| j.state), Some(JobState::Pending));
        let st = orch.state();
        assert_eq!((st.tasks.len(), st.jobs.len(), st.queue.len()), (3, 3, 1));
    }

    #[tokio::test]
    async fn identical_signed_heartbeats_pass_but_a_replayed_registration_does_not() {
        let orch = MemoryOrchestrator::new(MemoryConfig {
            worker_tokens: vec![WorkerToken::parse(TOKEN)],
            require_signatures: true,
            ..MemoryConfig::default()
        });
        let cx = RequestContext::new(Some(TOKEN.to_owned()), Some("w1".to_owned()));
        let now = now_secs();
        let reg = signed(json!({"worker_id": "w1", "worker_type": "t", "timestamp": now}));
        orch.register(&cx, incoming::<WorkerRegistration>(&reg))
            .await
            .unwrap();
        let hb = signed(json!({"worker_id": "w1", "status": "idle", "timestamp": now}));
        for _ in 0..2 {
            let answer = orch
                .heartbeat(&cx, Some(incoming::<Heartbeat>(&hb)))
                .await
                .unwrap();
            assert_eq!(answer.get("status").and_then(Value::as_str), Some("ok"));
        }
        let again = orch
            .register(&cx, incoming::<WorkerRegistration>(&reg))
            .await;
        assert!(
            again.is_err_and(|e| e.to_string().contains("Duplicate message")),
            "a replayed registration must be refused"
        );
        let mut forged = hb.clone();
        if let Value::Object(m) = &mut forged {
            m.insert("status", Value::from("busy"));
        }
        let forged = orch
            .heartbeat(&cx, Some(incoming::<Heartbeat>(&forged)))
            .await;
        assert!(
            forged.is_err(),
            "a heartbeat with a stale signature must be refused"
        );
    }

    #[tokio::test]
    async fn registrations_beyond_the_worker_limit_evict_silent_workers_or_get_503() {
        let orch = MemoryOrchestrator::new(MemoryConfig {
            worker_tokens: vec![WorkerToken::parse(TOKEN)],
            max_workers: 2,
            worker_ttl: Duration::from_secs(10),
            ..MemoryConfig::default()
        });
        let register = |id: &'static str| {
            let orch = orch.clone();
            async move {
                let cx = RequestContext::new(Some(TOKEN.to_owned()), Some(id.to_owned()));
                let raw = json!({"worker_id": id, "worker_type": "t"});
                orch.register(&cx, incoming::<WorkerRegistration>(&raw))
                    .await
            }
        };
        register("w1").await.unwrap();
        register("w2").await.unwrap();
        let refused = register("w3").await.unwrap_err();
        assert_eq!(refused.http_status(), 503, "{refused}");
        // A known worker may always register again.
        register("w1").await.unwrap();
        // Once w2 has been silent for longer than the TTL, it makes room for w3.
        orch.state().workers.get_mut("w2").unwrap().last_seen =
            Instant::now().checked_sub(Duration::from_secs(20)).unwrap();
        register("w3").await.unwrap();
        let st = orch.state();
        let mut ids: Vec<&String> = st.workers.keys().collect();
        ids.sort();
        assert_eq!(ids, ["w1", "w3"]);
    }

    #[tokio::test]
    async fn client_submissions_beyond_the_active_job_limit_get_503() {
        use tower::ServiceExt;
        let orch = MemoryOrchestrator::new(MemoryConfig {
            client_token: Some("client".to_owned()),
            max_active_jobs: 3,
            ..MemoryConfig::default()
        });
        let submit = |count: u32| {
            let app = orch.client_router();
            async move {
                let req = http::Request::post("/api/jobs")
                    .header("X-Client-Token", "client")
                    .body(axum::body::Body::from(format!(
                        r#"{{"type":"echo","count":{count}}}"#
                    )))
                    .unwrap();
                app.oneshot(req).await.unwrap().status()
            }
        };
        assert_eq!(submit(2).await, StatusCode::OK);
        assert_eq!(submit(2).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(submit(1).await, StatusCode::OK);
        let first = orch.state().queue.front().cloned().unwrap();
        let job = orch.state().tasks[&first].task.job_id.clone();
        assert!(orch.cancel(&job));
        assert_eq!(
            submit(1).await,
            StatusCode::OK,
            "a finished job frees its place"
        );
    }
}
