//! Protocol constants (spec §2): versions, endpoint paths, header names, error codes,
//! statuses, "ignored" reasons, heartbeat response keys, command and event names.
//!
//! Constant names are those of the reference's `rxon.constants`, so a reader of either code base
//! finds the same name; [`ALL`] lists every string constant for conformance checks.

use std::fmt;
use std::str::FromStr;

/// Protocol version string of rxon 1.0b17 (what the live ecosystem runs; our default).
pub const PROTOCOL_VERSION: &str = "1.0b17";
/// Protocol version string of rxon 1.0b9.
pub const PROTOCOL_VERSION_B9: &str = "1.0b9";
/// Header carrying the sender's protocol version.
pub const PROTOCOL_VERSION_HEADER: &str = "X-RXON-Version";

/// Worker credential header (static token or STS access token).
pub const AUTH_HEADER_WORKER: &str = "X-Worker-Token";
/// Worker id hint header (1.0b17).
pub const AUTH_HEADER_WORKER_ID: &str = "X-Worker-ID";
/// Client-API credential header (not used by the worker protocol).
pub const AUTH_HEADER_CLIENT: &str = "X-Client-Token";
/// Header read by 1.0b17 clients on 429 answers.
pub const RETRY_AFTER_HEADER: &str = "Retry-After";

/// Prefix of every orchestrator path.
pub const WORKER_API_PREFIX: &str = "/_worker";
/// `POST`: worker registration.
pub const ENDPOINT_WORKER_REGISTER: &str = "/_worker/workers/register";
/// `GET`: long-poll for the next task (`{worker_id}` is one path segment).
pub const ENDPOINT_TASK_NEXT: &str = "/_worker/workers/{worker_id}/tasks/next";
/// `POST`: task result.
pub const ENDPOINT_TASK_RESULT: &str = "/_worker/tasks/result";
/// `PATCH`: heartbeat (`{worker_id}` is one path segment).
pub const ENDPOINT_WORKER_HEARTBEAT: &str = "/_worker/workers/{worker_id}";
/// `POST`: worker events.
pub const ENDPOINT_WORKER_EVENTS: &str = "/_worker/events";
/// `POST`: STS token.
pub const STS_TOKEN_ENDPOINT: &str = "/_worker/auth/token";
/// `POST`: STS token refresh (1.0b17).
pub const STS_REFRESH_ENDPOINT: &str = "/_worker/auth/token/refresh";
/// `GET` upgrade: the command WebSocket, followed by `/{worker_id}`.
pub const WS_ENDPOINT: &str = "/_worker/ws";

/// Path of the next-task endpoint for a worker.
#[must_use]
pub fn task_next_path(worker_id: &str) -> String {
    format!("{WORKER_API_PREFIX}/workers/{worker_id}/tasks/next")
}

/// Path of the heartbeat endpoint for a worker.
#[must_use]
pub fn heartbeat_path(worker_id: &str) -> String {
    format!("{WORKER_API_PREFIX}/workers/{worker_id}")
}

/// Path of the WebSocket endpoint for a worker.
#[must_use]
pub fn ws_path(worker_id: &str) -> String {
    format!("{WS_ENDPOINT}/{worker_id}")
}

macro_rules! str_consts {
    ($( $(#[$m:meta])* $name:ident = $val:literal ;)*) => {
        $( $(#[$m])* pub const $name: &str = $val; )*
        /// Every string constant of this module by its reference name (for conformance tests
        /// and documentation checks).
        pub const ALL: &[(&str, &str)] = &[
            ("PROTOCOL_VERSION", PROTOCOL_VERSION),
            ("PROTOCOL_VERSION_HEADER", PROTOCOL_VERSION_HEADER),
            ("AUTH_HEADER_WORKER", AUTH_HEADER_WORKER),
            ("AUTH_HEADER_WORKER_ID", AUTH_HEADER_WORKER_ID),
            ("AUTH_HEADER_CLIENT", AUTH_HEADER_CLIENT),
            ("WORKER_API_PREFIX", WORKER_API_PREFIX),
            ("ENDPOINT_WORKER_REGISTER", ENDPOINT_WORKER_REGISTER),
            ("ENDPOINT_TASK_NEXT", ENDPOINT_TASK_NEXT),
            ("ENDPOINT_TASK_RESULT", ENDPOINT_TASK_RESULT),
            ("ENDPOINT_WORKER_HEARTBEAT", ENDPOINT_WORKER_HEARTBEAT),
            ("ENDPOINT_WORKER_EVENTS", ENDPOINT_WORKER_EVENTS),
            ("STS_TOKEN_ENDPOINT", STS_TOKEN_ENDPOINT),
            ("STS_REFRESH_ENDPOINT", STS_REFRESH_ENDPOINT),
            ("WS_ENDPOINT", WS_ENDPOINT),
            $( (stringify!($name), $name), )*
        ];
    };
}

str_consts! {
    /// Error code: retry later.
    ERROR_CODE_TRANSIENT = "TRANSIENT_ERROR";
    /// Error code: retrying will not help.
    ERROR_CODE_PERMANENT = "PERMANENT_ERROR";
    /// Error code: the task's input is invalid.
    ERROR_CODE_INVALID_INPUT = "INVALID_INPUT_ERROR";
    /// Error code: size or ETag of a blob did not match its metadata.
    ERROR_CODE_INTEGRITY_MISMATCH = "INTEGRITY_MISMATCH_ERROR";
    /// Error code: the task timed out.
    ERROR_CODE_TIMEOUT = "TIMEOUT_ERROR";
    /// Error code: the result came after the deadline.
    ERROR_CODE_LATE_RESULT = "LATE_RESULT";
    /// Error code: out of a resource.
    ERROR_CODE_RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED_ERROR";
    /// Error code: a rate or size limit was exceeded.
    ERROR_CODE_LIMIT_EXCEEDED = "LIMIT_EXCEEDED_ERROR";
    /// Error code: a message broke the protocol's or a skill's contract.
    ERROR_CODE_CONTRACT_VIOLATION = "CONTRACT_VIOLATION_ERROR";
    /// Error code: a dependency is not installed.
    ERROR_CODE_DEPENDENCY_MISSING = "DEPENDENCY_MISSING_ERROR";
    /// Error code: a dependency failed.
    ERROR_CODE_DEPENDENCY = "DEPENDENCY_ERROR";
    /// Error code: a security check failed.
    ERROR_CODE_SECURITY = "SECURITY_ERROR";
    /// Error code: an internal failure.
    ERROR_CODE_INTERNAL = "INTERNAL_ERROR";

    /// Task result status: success (the default when `status` is absent).
    TASK_STATUS_SUCCESS = "success";
    /// Task result status: failure.
    TASK_STATUS_FAILURE = "failure";
    /// Task result status: cancelled.
    TASK_STATUS_CANCELLED = "cancelled";

    /// Job status.
    JOB_STATUS_PENDING = "pending";
    /// Job status.
    JOB_STATUS_WAITING_FOR_WORKER = "waiting_for_worker";
    /// Job status.
    JOB_STATUS_RUNNING = "running";
    /// Job status (terminal).
    JOB_STATUS_FINISHED = "finished";
    /// Job status (terminal).
    JOB_STATUS_FAILED = "failed";
    /// Job status (terminal).
    JOB_STATUS_ERROR = "error";
    /// Job status (terminal).
    JOB_STATUS_QUARANTINED = "quarantined";
    /// Job status (terminal).
    JOB_STATUS_CANCELLED = "cancelled";
    /// Job status.
    JOB_STATUS_WAITING_FOR_HUMAN = "waiting_for_human";
    /// Job status.
    JOB_STATUS_WAITING_FOR_PARALLEL = "waiting_for_parallel_tasks";

    /// Worker status constant (1.0b17).
    WORKER_STATUS_ACTIVE = "active";
    /// Worker status constant (1.0b17): excluded from dispatch.
    WORKER_STATUS_DRAINING = "draining";
    /// Heartbeat status the worker SDK sends when it can take a task.
    WORKER_STATUS_IDLE = "idle";
    /// Heartbeat status the worker SDK sends when no skill can start now.
    WORKER_STATUS_BUSY = "busy";
    /// Heartbeat status the worker SDK sends at its global concurrency limit.
    WORKER_STATUS_FULL = "full";
    /// Heartbeat status sent on shutdown.
    WORKER_STATUS_OFFLINE = "offline";

    /// Ignored-result reason: the deadline passed.
    IGNORED_REASON_LATE = "deadline_exceeded";
    /// Ignored-result reason: the job was cancelled.
    IGNORED_REASON_CANCELLED = "job_cancelled";
    /// Ignored-result reason: the job is unknown.
    IGNORED_REASON_NOT_FOUND = "job_not_found";
    /// Ignored-result reason: the task belongs to another worker.
    IGNORED_REASON_MISMATCH = "worker_mismatch";
    /// Ignored-result reason: the task is no longer the job's current task.
    IGNORED_REASON_STALE = "stale_task";

    /// Heartbeat response key: send the full skill list next time.
    HB_RESP_REQUIRE_FULL_SYNC = "require_full_sync";
    /// Heartbeat response key: task ids to cancel.
    HB_RESP_CANCEL_TASKS = "cancel_task_ids";

    /// Command name: cancel a task.
    COMMAND_CANCEL_TASK = "cancel_task";
    /// Event type: progress (`{"progress": <number>, "message": <string>}`).
    EVENT_TYPE_PROGRESS = "progress";

    /// Blob URI scheme.
    BLOB_SCHEME_S3 = "s3";
}

/// Terminal job states (1.0b17).
pub const TERMINAL_STATES: [&str; 5] = [
    JOB_STATUS_CANCELLED,
    JOB_STATUS_ERROR,
    JOB_STATUS_FAILED,
    JOB_STATUS_FINISHED,
    JOB_STATUS_QUARANTINED,
];

/// The wire error codes (values of `TaskError.code` and of `code` in 429 bodies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `TRANSIENT_ERROR`
    Transient,
    /// `PERMANENT_ERROR`
    Permanent,
    /// `INVALID_INPUT_ERROR`
    InvalidInput,
    /// `INTEGRITY_MISMATCH_ERROR`
    IntegrityMismatch,
    /// `TIMEOUT_ERROR`
    Timeout,
    /// `LATE_RESULT`
    LateResult,
    /// `RESOURCE_EXHAUSTED_ERROR`
    ResourceExhausted,
    /// `LIMIT_EXCEEDED_ERROR`
    LimitExceeded,
    /// `CONTRACT_VIOLATION_ERROR`
    ContractViolation,
    /// `DEPENDENCY_MISSING_ERROR`
    DependencyMissing,
    /// `DEPENDENCY_ERROR`
    Dependency,
    /// `SECURITY_ERROR`
    Security,
    /// `INTERNAL_ERROR`
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [Self; 13] = [
        Self::Transient,
        Self::Permanent,
        Self::InvalidInput,
        Self::IntegrityMismatch,
        Self::Timeout,
        Self::LateResult,
        Self::ResourceExhausted,
        Self::LimitExceeded,
        Self::ContractViolation,
        Self::DependencyMissing,
        Self::Dependency,
        Self::Security,
        Self::Internal,
    ];

    /// The wire string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => ERROR_CODE_TRANSIENT,
            Self::Permanent => ERROR_CODE_PERMANENT,
            Self::InvalidInput => ERROR_CODE_INVALID_INPUT,
            Self::IntegrityMismatch => ERROR_CODE_INTEGRITY_MISMATCH,
            Self::Timeout => ERROR_CODE_TIMEOUT,
            Self::LateResult => ERROR_CODE_LATE_RESULT,
            Self::ResourceExhausted => ERROR_CODE_RESOURCE_EXHAUSTED,
            Self::LimitExceeded => ERROR_CODE_LIMIT_EXCEEDED,
            Self::ContractViolation => ERROR_CODE_CONTRACT_VIOLATION,
            Self::DependencyMissing => ERROR_CODE_DEPENDENCY_MISSING,
            Self::Dependency => ERROR_CODE_DEPENDENCY,
            Self::Security => ERROR_CODE_SECURITY,
            Self::Internal => ERROR_CODE_INTERNAL,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// A string that names no known constant of the asked kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

/// Which reference version's behaviour to follow where 1.0b9 and 1.0b17 differ
/// (encoding, canonical JSON, matching, schema messages, identifier limits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// rxon 1.0b9.
    V1_0b9,
    /// rxon 1.0b17, the default (what the live ecosystem runs).
    #[default]
    V1_0b17,
}

impl ProtocolVersion {
    /// The version string (`1.0b9` / `1.0b17`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0b9 => PROTOCOL_VERSION_B9,
            Self::V1_0b17 => PROTOCOL_VERSION,
        }
    }

    /// Whether this is 1.0b9.
    #[must_use]
    pub fn is_b9(self) -> bool {
        self == Self::V1_0b9
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolVersion {
    type Err = UnknownName;
    /// Accepts `1.0b9`, `b9`, `1.0b17`, `b17`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1.0b9" | "b9" => Ok(Self::V1_0b9),
            "1.0b17" | "b17" => Ok(Self::V1_0b17),
            _ => Err(UnknownName(s.to_owned())),
        }
    }
}
