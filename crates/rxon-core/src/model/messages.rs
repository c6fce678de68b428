//! The messages: registration, task, result, heartbeat, event, command, token, file metadata.

use super::model;
use crate::value::{Map, Number, Value};
use crate::wire;

use super::resources::{
    InstalledArtifact, Resources, ResourcesUsage, SkillInfo, WorkerCapabilities,
};

model! {
    /// Signature and identity of a message's sender (spec §4.7).
    SecurityContext {
        /// Hex signature over the message's canonical form.
        signature: Option<String> = opt as "signature",
        /// Who signed.
        signer_id: Option<String> = opt as "signer_id",
        /// Identity chain of intermediate hops.
        identity_chain: Option<Vec<String>> = opt as "identity_chain",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
    }
}

model! {
    /// A stored blob (spec §4.9).
    FileMetadata {
        /// `s3://bucket/key` URI.
        uri: String = req as "uri",
        /// Size in bytes (default 0).
        size: Option<i64> = def_int(0) as "size",
        /// ETag, without quotes.
        etag: Option<String> = opt as "etag",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
    }
}

impl FileMetadata {
    /// Metadata for a URI.
    #[must_use]
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            ..Self::default()
        }
    }
}

model! {
    /// Body of `POST /_worker/workers/register` (spec §4.10).
    WorkerRegistration {
        /// The worker's id (spec §13 identifier).
        worker_id: String = req as "worker_id",
        /// Worker type (default `generic`).
        worker_type: Option<String> = def(String::from("generic")) as "worker_type",
        /// Skills offered.
        supported_skills: Option<Vec<SkillInfo>> = opt as "supported_skills",
        /// Names of skills that can start now.
        available_skills: Option<Vec<String>> = opt as "available_skills",
        /// Names of skills whose models are loaded ("hot").
        hot_skills: Option<Vec<String>> = opt as "hot_skills",
        /// Resources.
        resources: Option<Resources> = opt as "resources",
        /// Software name → version.
        installed_software: Option<Map<String>> = opt as "installed_software",
        /// Installed artifacts.
        installed_artifacts: Option<Vec<InstalledArtifact>> = opt as "installed_artifacts",
        /// Capabilities.
        capabilities: Option<WorkerCapabilities> = opt as "capabilities",
        /// Hash of the skill list.
        skills_hash: Option<String> = opt as "skills_hash",
        /// Signature block.
        security: Option<SecurityContext> = opt as "security",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
        /// Unix seconds (integer).
        timestamp: Option<i64> = opt as "timestamp",
    }
}

impl WorkerRegistration {
    /// A registration for a worker id.
    #[must_use]
    pub fn new(worker_id: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            ..Self::default()
        }
    }
}

model! {
    /// STS token answer (spec §4.11).
    TokenResponse {
        /// The access token to send in `X-Worker-Token`.
        access_token: String = req as "access_token",
        /// Lifetime in seconds.
        expires_in: i64 = req as "expires_in",
        /// The worker the token belongs to.
        worker_id: String = req as "worker_id",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
        /// Refresh token (1.0b17).
        refresh_token: Option<String> = b17 as "refresh_token",
    }
}

model! {
    /// Body of `POST /_worker/events` and of WebSocket event frames (spec §4.12).
    WorkerEventPayload {
        /// Unique event id.
        event_id: String = req as "event_id",
        /// Sending worker.
        worker_id: String = req as "worker_id",
        /// Worker where the event originated.
        origin_worker_id: String = req as "origin_worker_id",
        /// Event type (`progress`, ...).
        event_type: String = req as "event_type",
        /// Event payload.
        payload: Map = req as "payload",
        /// Hops the event went through (excluded from signatures).
        bubbling_chain: Option<Vec<String>> = opt as "bubbling_chain",
        /// Job the event is about.
        target_job_id: Option<String> = opt as "target_job_id",
        /// Task the event is about.
        target_task_id: Option<String> = opt as "target_task_id",
        /// W3C trace headers.
        trace_context: Option<Map<String>> = opt as "trace_context",
        /// Priority (default 0.0).
        priority: Option<f64> = def(0.0) as "priority",
        /// Unix seconds.
        timestamp: Option<i64> = opt as "timestamp",
        /// Signature block.
        security: Option<SecurityContext> = opt as "security",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
        /// Task where the event originated (1.0b17).
        origin_task_id: Option<String> = b17 as "origin_task_id",
    }
}

model! {
    /// A command from the orchestrator over the WebSocket (spec §4.13).
    WorkerCommand {
        /// Command name (`cancel_task`, ...).
        command: String = req as "command",
        /// Task the command is about.
        task_id: Option<String> = opt as "task_id",
        /// Job the command is about.
        job_id: Option<String> = opt as "job_id",
        /// Parameters.
        params: Option<Map> = opt as "params",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
    }
}

impl WorkerCommand {
    /// A `cancel_task` command.
    #[must_use]
    pub fn cancel_task(task_id: impl Into<String>, job_id: Option<String>) -> Self {
        Self {
            command: wire::COMMAND_CANCEL_TASK.to_owned(),
            task_id: Some(task_id.into()),
            job_id,
            ..Self::default()
        }
    }
}

model! {
    /// A task handed to a worker by a poll (spec §4.14).
    TaskPayload {
        /// Job id.
        job_id: String = req as "job_id",
        /// Task id.
        task_id: String = req as "task_id",
        /// Task type (the skill name).
        r#type: String = req as "type",
        /// Parameters.
        params: Option<Map> = opt as "params",
        /// W3C trace headers (`traceparent`, ...).
        tracing_context: Option<Map<String>> = opt as "tracing_context",
        /// Param key → stored blob.
        params_metadata: Option<Map<FileMetadata>> = opt as "params_metadata",
        /// Priority (default 0.0).
        priority: Option<f64> = def(0.0) as "priority",
        /// Absolute result deadline, Unix seconds. Any number is accepted: 1.0b9 sends floats and
        /// the live orchestrator sends fractional values (spec §18.B.1); the kind is kept.
        deadline: Option<Number> = opt_as("int | null") as "deadline",
        /// Signature block.
        security: Option<SecurityContext> = opt as "security",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
        /// Unix seconds.
        timestamp: Option<i64> = opt as "timestamp",
        /// Execution policy (1.0b17; `allowed_skills`, ...).
        policy: Option<Map> = b17 as "policy",
        /// Orchestrator HMAC over the task (1.0b17, spec §10.7).
        sig: Option<String> = b17 as "sig",
        /// Step in the job (1.0b17, default 0).
        step: Option<i64> = b17_def_int(0) as "step",
        /// Nesting depth (1.0b17, default 0).
        depth: Option<i64> = b17_def_int(0) as "depth",
        /// Hash of the parent task (1.0b17).
        parent_hash: Option<String> = b17 as "parent_hash",
    }
}

impl TaskPayload {
    /// A task with ids and type.
    #[must_use]
    pub fn new(
        job_id: impl Into<String>,
        task_id: impl Into<String>,
        task_type: impl Into<String>,
    ) -> Self {
        Self {
            job_id: job_id.into(),
            task_id: task_id.into(),
            r#type: task_type.into(),
            ..Self::default()
        }
    }

    /// The effective priority.
    #[must_use]
    pub fn priority(&self) -> f64 {
        self.priority.unwrap_or(0.0)
    }

    /// The deadline in Unix seconds, truncated to whole seconds (spec §18.B.1).
    #[must_use]
    #[allow(clippy::cast_possible_truncation)]
    pub fn deadline_secs(&self) -> Option<i64> {
        self.deadline
            .map(|n| n.as_i64().unwrap_or_else(|| n.as_f64().trunc() as i64))
    }

    /// The W3C `traceparent` of the task, when the orchestrator sent one.
    #[must_use]
    pub fn traceparent(&self) -> Option<&str> {
        self.tracing_context
            .as_ref()
            .and_then(|t| t.get("traceparent"))
            .map(String::as_str)
    }
}

model! {
    /// Error details of a failed task (spec §4.15).
    TaskError {
        /// Wire error code (spec §2.4).
        code: String = req as "code",
        /// Human-readable message.
        message: String = req as "message",
        /// Free-form details.
        details: Option<Map> = opt as "details",
    }
}

impl TaskError {
    /// An error with a code and message.
    #[must_use]
    pub fn new(code: wire::ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code: code.as_str().to_owned(),
            message: message.into(),
            details: None,
        }
    }
}

model! {
    /// Body of `POST /_worker/tasks/result` (spec §4.16).
    TaskResult {
        /// Job id.
        job_id: String = req as "job_id",
        /// Task id.
        task_id: String = req as "task_id",
        /// Sending worker.
        worker_id: Option<String> = opt as "worker_id",
        /// Worker that produced the result.
        origin_worker_id: Option<String> = opt as "origin_worker_id",
        /// Status (`success` when absent, `failure`, `cancelled`, or a custom status).
        status: Option<String> = def(String::from(wire::TASK_STATUS_SUCCESS)) as "status",
        /// Result data.
        data: Option<Map> = opt as "data",
        /// Error details.
        error: Option<TaskError> = opt as "error",
        /// Data key → stored blob.
        data_metadata: Option<Map<FileMetadata>> = opt as "data_metadata",
        /// Signature block.
        security: Option<SecurityContext> = opt as "security",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
        /// Unix seconds.
        timestamp: Option<i64> = opt as "timestamp",
        /// Costs (1.0b17; `execution_time_seconds`, ...).
        costs: Option<Map> = b17 as "costs",
    }
}

impl TaskResult {
    /// A (successful) result for a task.
    #[must_use]
    pub fn new(job_id: impl Into<String>, task_id: impl Into<String>) -> Self {
        Self {
            job_id: job_id.into(),
            task_id: task_id.into(),
            ..Self::default()
        }
    }

    /// The effective status: `success` when absent.
    #[must_use]
    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or(wire::TASK_STATUS_SUCCESS)
    }

    /// Whether the status is `success`.
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.status() == wire::TASK_STATUS_SUCCESS
    }
}

model! {
    /// Body of `PATCH /_worker/workers/{worker_id}` (spec §4.17).
    Heartbeat {
        /// Worker id.
        worker_id: String = req as "worker_id",
        /// Status (`idle`, `busy`, `full`, `offline`, ...).
        status: String = req as "status",
        /// Resource usage.
        usage: Option<ResourcesUsage> = opt as "usage",
        /// Ids of running tasks.
        current_tasks: Option<Vec<String>> = opt as "current_tasks",
        /// Full skill list (when a sync is due).
        supported_skills: Option<Vec<SkillInfo>> = opt as "supported_skills",
        /// Skills that can start now.
        available_skills: Option<Vec<String>> = opt as "available_skills",
        /// Hot skills.
        hot_skills: Option<Vec<String>> = opt as "hot_skills",
        /// Hash of the skill list.
        skills_hash: Option<String> = opt as "skills_hash",
        /// Signature block.
        security: Option<SecurityContext> = opt as "security",
        /// Free-form metadata.
        metadata: Option<Map> = opt as "metadata",
        /// Unix seconds.
        timestamp: Option<i64> = opt as "timestamp",
    }
}

impl Heartbeat {
    /// A heartbeat with a status.
    #[must_use]
    pub fn new(worker_id: impl Into<String>, status: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            status: status.into(),
            ..Self::default()
        }
    }
}

/// The orchestrator's answer to a heartbeat (spec §2.7), read leniently: unknown keys are kept
/// in `extra`, and a missing or malformed key means "nothing asked".
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HeartbeatReply {
    /// The orchestrator wants the full skill list next time.
    pub require_full_sync: bool,
    /// Task ids the worker should cancel.
    pub cancel_task_ids: Vec<String>,
    /// Extra delay before the next heartbeat (`next_heartbeat_jitter_ms`, worker SDK extension).
    pub next_heartbeat_jitter_ms: Option<f64>,
    /// The whole answer as received (`null` for an empty answer).
    pub raw: Value,
}

impl HeartbeatReply {
    /// Reads the keys of interest from an answer.
    #[must_use]
    pub fn from_value(v: Value) -> Self {
        let require_full_sync = v
            .get(wire::HB_RESP_REQUIRE_FULL_SYNC)
            .is_some_and(|x| !x.is_falsy());
        let cancel_task_ids = v
            .get(wire::HB_RESP_CANCEL_TASKS)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let next_heartbeat_jitter_ms = v.get("next_heartbeat_jitter_ms").and_then(|x| match x {
            Value::Number(n) => Some(n.as_f64()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        Self {
            require_full_sync,
            cancel_task_ids,
            next_heartbeat_jitter_ms,
            raw: v,
        }
    }
}

/// What became of a submitted result (spec §5.5.3).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ResultReply {
    /// The orchestrator took it; the answer as received.
    Accepted(Value),
    /// The orchestrator discarded it (`{"status":"ignored"}`), with its reason (spec §2.6).
    Ignored {
        /// `deadline_exceeded`, `job_cancelled`, `job_not_found`, `worker_mismatch`,
        /// `stale_task` or another string.
        reason: String,
        /// The orchestrator's message, if any.
        message: Option<String>,
    },
}

impl ResultReply {
    /// Interprets an answer body.
    #[must_use]
    pub fn from_value(v: Value) -> Self {
        if v.get("status").and_then(Value::as_str) == Some("ignored") {
            Self::Ignored {
                reason: v
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                message: v.get("message").and_then(Value::as_str).map(str::to_owned),
            }
        } else {
            Self::Accepted(v)
        }
    }

    /// Whether the result was accepted.
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted(_))
    }
}
