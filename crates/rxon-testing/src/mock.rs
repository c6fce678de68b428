//! [`MockTransport`]: an in-memory [`Transport`] + [`CommandChannel`] (spec §6.5).

use rxon_core::model::Model;
use rxon_core::value::Map;
use rxon_core::{
    CommandChannel, Error, Heartbeat, HeartbeatReply, PollOptions, Result, ResultReply,
    TaskPayload, TaskResult, TokenResponse, Transport, Value, WorkerCommand, WorkerEventPayload,
    WorkerRegistration,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The token [`Transport::refresh_token`] installs.
pub const REFRESHED_TOKEN: &str = "refreshed-mock-token";

/// An in-memory transport for tests: tasks and commands are pushed in by the test, and
/// everything the worker sends is recorded for inspection.
///
/// | Operation | Behaviour |
/// |---|---|
/// | `register` | recorded; answers `{"status":"registered","worker_id":<id>}` |
/// | `poll_task` | waits up to the poll timeout for a pushed task; `None` when none came |
/// | `send_result` | recorded; accepted (`{"status":"ok"}`) unless a reply was queued |
/// | `send_heartbeat` | recorded; answers `{"status":"ok"}` unless a reply was queued |
/// | `emit_event` | recorded |
/// | `next_command` | waits for a pushed command; `None` once closed |
/// | `refresh_token` | the token becomes `refreshed-mock-token` (expires in 3600 s) |
/// | `close` | waiting calls end; later calls fail with [`Error::Closed`] |
///
/// Clones share their state, so a test can keep one and hand another to the worker.
#[derive(Clone, Debug)]
pub struct MockTransport {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct State {
    token: String,
    tasks: VecDeque<TaskPayload>,
    commands: VecDeque<WorkerCommand>,
    result_replies: VecDeque<ResultReply>,
    heartbeat_replies: VecDeque<Value>,
    registrations: Vec<WorkerRegistration>,
    results: Vec<TaskResult>,
    heartbeats: Vec<Option<Heartbeat>>,
    events: Vec<WorkerEventPayload>,
    polls: usize,
}

#[derive(Debug)]
struct Inner {
    worker_id: String,
    state: Mutex<State>,
    tasks_ready: Notify,
    commands_ready: Notify,
    activity: Notify,
    closed: CancellationToken,
}

impl Default for MockTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl MockTransport {
    /// A mock for worker `mock-worker` with token `mock-token`.
    #[must_use]
    pub fn new() -> Self {
        Self::with_identity("mock-worker", "mock-token")
    }

    /// A mock for a worker id and token.
    #[must_use]
    pub fn with_identity(worker_id: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                worker_id: worker_id.into(),
                state: Mutex::new(State {
                    token: token.into(),
                    ..State::default()
                }),
                tasks_ready: Notify::new(),
                commands_ready: Notify::new(),
                activity: Notify::new(),
                closed: CancellationToken::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, f: impl FnOnce(&mut State)) -> Result<()> {
        if self.inner.closed.is_cancelled() {
            return Err(Error::Closed);
        }
        f(&mut self.state());
        self.inner.activity.notify_waiters();
        Ok(())
    }

    /// The worker id.
    #[must_use]
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// The current token.
    #[must_use]
    pub fn token(&self) -> String {
        self.state().token.clone()
    }

    /// Queues a task for the next poll.
    pub fn push_task(&self, task: TaskPayload) {
        self.state().tasks.push_back(task);
        self.inner.tasks_ready.notify_one();
    }

    /// Queues a task given as JSON (decoded as a poll answer would be).
    ///
    /// # Errors
    /// The contract violation when the value is not a valid task.
    pub fn push_task_value(&self, task: &Value) -> Result<()> {
        self.push_task(TaskPayload::from_value(task)?);
        Ok(())
    }

    /// Queues a command for [`CommandChannel::next_command`].
    pub fn push_command(&self, command: WorkerCommand) {
        self.state().commands.push_back(command);
        self.inner.commands_ready.notify_one();
    }

    /// Queues the answer to the next result (default: accepted).
    pub fn push_result_reply(&self, reply: ResultReply) {
        self.state().result_replies.push_back(reply);
    }

    /// Queues the answer to the next heartbeat (default: `{"status":"ok"}`).
    pub fn push_heartbeat_reply(&self, reply: Value) {
        self.state().heartbeat_replies.push_back(reply);
    }

    /// Registrations sent so far.
    #[must_use]
    pub fn registrations(&self) -> Vec<WorkerRegistration> {
        self.state().registrations.clone()
    }

    /// Results sent so far.
    #[must_use]
    pub fn results(&self) -> Vec<TaskResult> {
        self.state().results.clone()
    }

    /// Heartbeats sent so far (`None`: an empty one).
    #[must_use]
    pub fn heartbeats(&self) -> Vec<Option<Heartbeat>> {
        self.state().heartbeats.clone()
    }

    /// Events sent so far.
    #[must_use]
    pub fn events(&self) -> Vec<WorkerEventPayload> {
        self.state().events.clone()
    }

    /// How many polls were made.
    #[must_use]
    pub fn polls(&self) -> usize {
        self.state().polls
    }

    /// Whether [`Transport::close`] was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    /// Waits until `done` holds for what was recorded, for at most `timeout`; whether it held.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&MockTransport) -> bool,
    ) -> bool {
        let deadline = deadline_after(timeout);
        loop {
            let notified = self.inner.activity.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return done(self);
            }
        }
    }
}

/// `now + d`, or about thirty years from now when that overflows `Instant` (a huge poll
/// timeout waits "forever" instead of panicking).
fn deadline_after(d: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

fn ok_reply() -> Value {
    let mut m = Map::new();
    m.insert("status", Value::from("ok"));
    Value::Object(m)
}

impl Transport for MockTransport {
    async fn register(&self, registration: &WorkerRegistration) -> Result<Value> {
        self.record(|s| s.registrations.push(registration.clone()))?;
        let mut m = Map::new();
        m.insert("status", Value::from("registered"));
        m.insert("worker_id", Value::from(self.inner.worker_id.clone()));
        Ok(Value::Object(m))
    }

    async fn poll_task(&self, options: &PollOptions) -> Result<Option<TaskPayload>> {
        self.record(|s| s.polls += 1)?;
        let deadline = deadline_after(options.timeout);
        loop {
            let notified = self.inner.tasks_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(task) = self.state().tasks.pop_front() {
                return Ok(Some(task));
            }
            tokio::select! {
                biased;
                () = self.inner.closed.cancelled() => return Err(Error::Closed),
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => return Ok(None),
            }
        }
    }

    async fn send_result(&self, result: &TaskResult) -> Result<ResultReply> {
        let mut reply = None;
        self.record(|s| {
            s.results.push(result.clone());
            reply = s.result_replies.pop_front();
        })?;
        Ok(reply.unwrap_or_else(|| ResultReply::Accepted(ok_reply())))
    }

    async fn send_heartbeat(&self, heartbeat: Option<&Heartbeat>) -> Result<HeartbeatReply> {
        let mut reply = None;
        self.record(|s| {
            s.heartbeats.push(heartbeat.cloned());
            reply = s.heartbeat_replies.pop_front();
        })?;
        Ok(HeartbeatReply::from_value(reply.unwrap_or_else(ok_reply)))
    }

    async fn emit_event(&self, event: &WorkerEventPayload) -> Result<()> {
        self.record(|s| s.events.push(event.clone()))
    }

    async fn refresh_token(&self) -> Result<Option<TokenResponse>> {
        self.record(|s| s.token = REFRESHED_TOKEN.to_owned())?;
        Ok(Some(TokenResponse {
            access_token: REFRESHED_TOKEN.to_owned(),
            expires_in: 3600,
            worker_id: self.inner.worker_id.clone(),
            ..TokenResponse::default()
        }))
    }

    async fn close(&self) {
        self.inner.closed.cancel();
        self.inner.activity.notify_waiters();
    }
}

impl CommandChannel for MockTransport {
    async fn next_command(&self) -> Result<Option<WorkerCommand>> {
        loop {
            let notified = self.inner.commands_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(c) = self.state().commands.pop_front() {
                return Ok(Some(c));
            }
            tokio::select! {
                biased;
                () = self.inner.closed.cancelled() => return Ok(None),
                () = &mut notified => {}
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn poll_waits_for_a_pushed_task_and_times_out() {
        let m = MockTransport::new();
        assert!(
            m.poll_task(&PollOptions::with_timeout(Duration::from_secs(1)))
                .await
                .unwrap()
                .is_none()
        );
        let m2 = m.clone();
        let poll = tokio::spawn(async move {
            m2.poll_task(&PollOptions::with_timeout(Duration::from_secs(30)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        m.push_task(TaskPayload::new("j", "t", "echo"));
        assert_eq!(poll.await.unwrap().unwrap().unwrap().task_id, "t");
        assert_eq!(m.polls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn close_ends_waits() {
        let m = MockTransport::new();
        let m2 = m.clone();
        // A timeout too large for `Instant` waits until closed instead of panicking.
        let poll = tokio::spawn(async move {
            m2.poll_task(&PollOptions::with_timeout(Duration::MAX))
                .await
        });
        let m3 = m.clone();
        let cmd = tokio::spawn(async move { m3.next_command().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        m.close().await;
        assert!(matches!(poll.await.unwrap(), Err(Error::Closed)));
        assert!(cmd.await.unwrap().unwrap().is_none());
        assert!(matches!(m.send_heartbeat(None).await, Err(Error::Closed)));
    }

    #[tokio::test]
    async fn records_and_answers() {
        let m = MockTransport::with_identity("w-1", "tok");
        let reg = m.register(&WorkerRegistration::new("w-1")).await.unwrap();
        assert_eq!(reg.get("worker_id").and_then(Value::as_str), Some("w-1"));
        m.push_result_reply(ResultReply::Ignored {
            reason: "job_cancelled".into(),
            message: None,
        });
        assert!(
            !m.send_result(&TaskResult::new("j", "t"))
                .await
                .unwrap()
                .is_accepted()
        );
        assert!(
            m.send_result(&TaskResult::new("j", "t2"))
                .await
                .unwrap()
                .is_accepted()
        );
        assert_eq!(m.results().len(), 2);
        let t = m.refresh_token().await.unwrap().unwrap();
        assert_eq!(t.access_token, REFRESHED_TOKEN);
        assert_eq!(m.token(), REFRESHED_TOKEN);
        m.push_command(WorkerCommand::cancel_task("t", None));
        assert_eq!(
            m.next_command().await.unwrap().unwrap().task_id.as_deref(),
            Some("t")
        );
        m.push_heartbeat_reply(rxon_core::json::from_str(r#"{"cancel_task_ids":["x"]}"#).unwrap());
        assert_eq!(
            m.send_heartbeat(None).await.unwrap().cancel_task_ids,
            vec!["x".to_owned()]
        );
        assert!(
            m.wait_until(Duration::from_secs(1), |m| m.heartbeats().len() == 1)
                .await
        );
    }
}
