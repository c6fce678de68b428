//! The worker side's traits: [`Transport`] (requests to the orchestrator) and
//! [`CommandChannel`] (commands from it), plus the object-safe [`DynTransport`].
//!
//! Methods take `&self` so one transport can serve a worker's heartbeat loop, poll loop and
//! result sender at once. Async methods return `impl Future + Send`; implementations write
//! `async fn`. The core has no runtime: timers and sockets live in the implementing crates.

use crate::error::Result;
use crate::model::{
    Heartbeat, HeartbeatReply, ResultReply, TaskPayload, TaskResult, TokenResponse, WorkerCommand,
    WorkerEventPayload, WorkerRegistration,
};
use crate::value::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A pinned, boxed, `Send` future (for object-safe traits).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a long-poll asks for (spec §5.5.2).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PollOptions {
    /// How long the orchestrator may hold the request (the client waits a little longer).
    pub timeout: Duration,
    /// Skills that can start now (`available_skills` query; `None` omits it).
    pub available_skills: Option<Vec<String>>,
    /// Hot skills (`hot_skills` query; `None` omits it).
    pub hot_skills: Option<Vec<String>>,
}

impl Default for PollOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            available_skills: None,
            hot_skills: None,
        }
    }
}

impl PollOptions {
    /// Options with a timeout.
    #[must_use]
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }

    /// Sets the available skills.
    #[must_use]
    pub fn available_skills(mut self, skills: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.available_skills = Some(skills.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the hot skills.
    #[must_use]
    pub fn hot_skills(mut self, skills: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.hot_skills = Some(skills.into_iter().map(Into::into).collect());
        self
    }
}

/// A worker's connection to its orchestrator (spec §6).
pub trait Transport: Send + Sync {
    /// Registers the worker; returns the orchestrator's answer as received. A 1.0b17 answer
    /// that carries an `access_token` is adopted as the new credential.
    fn register(
        &self,
        registration: &WorkerRegistration,
    ) -> impl Future<Output = Result<Value>> + Send;

    /// Long-polls for the next task; `None` when the orchestrator had none within the timeout.
    fn poll_task(
        &self,
        options: &PollOptions,
    ) -> impl Future<Output = Result<Option<TaskPayload>>> + Send;

    /// Sends a result; an `ignored` answer is [`ResultReply::Ignored`], not an error.
    fn send_result(&self, result: &TaskResult) -> impl Future<Output = Result<ResultReply>> + Send;

    /// Sends a heartbeat (`None`: an empty PATCH that only refreshes the registration).
    fn send_heartbeat(
        &self,
        heartbeat: Option<&Heartbeat>,
    ) -> impl Future<Output = Result<HeartbeatReply>> + Send;

    /// Emits an event (over the command socket when one is open, else over HTTP).
    fn emit_event(&self, event: &WorkerEventPayload) -> impl Future<Output = Result<()>> + Send;

    /// Renews the credential (refresh token when held, else the token endpoint); `None` when
    /// the orchestrator refused.
    fn refresh_token(&self) -> impl Future<Output = Result<Option<TokenResponse>>> + Send;

    /// Closes the transport: in-flight calls and command loops end promptly.
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// The credential the transport sends now (`X-Worker-Token`), when it holds one. A
    /// transport that renews its credential by itself (after a 401, say) reports the new one
    /// here, so a companion command channel can use it for its next handshake. Default: `None`.
    fn current_token(&self) -> Option<String> {
        None
    }
}

/// Commands from the orchestrator, pulled one at a time.
pub trait CommandChannel: Send + Sync {
    /// The next command; `Ok(None)` once the channel is closed for good. Frames that are not
    /// commands are logged and skipped, never returned.
    fn next_command(&self) -> impl Future<Output = Result<Option<WorkerCommand>>> + Send;
}

/// The object-safe form of [`Transport`] + [`CommandChannel`], for third-party transports
/// behind `Arc<dyn DynTransport>`; implemented for every type that has both.
#[allow(missing_docs)]
pub trait DynTransport: Send + Sync {
    fn register_dyn<'a>(
        &'a self,
        registration: &'a WorkerRegistration,
    ) -> BoxFuture<'a, Result<Value>>;
    fn poll_task_dyn<'a>(
        &'a self,
        options: &'a PollOptions,
    ) -> BoxFuture<'a, Result<Option<TaskPayload>>>;
    fn send_result_dyn<'a>(&'a self, result: &'a TaskResult) -> BoxFuture<'a, Result<ResultReply>>;
    fn send_heartbeat_dyn<'a>(
        &'a self,
        heartbeat: Option<&'a Heartbeat>,
    ) -> BoxFuture<'a, Result<HeartbeatReply>>;
    fn emit_event_dyn<'a>(&'a self, event: &'a WorkerEventPayload) -> BoxFuture<'a, Result<()>>;
    fn refresh_token_dyn(&self) -> BoxFuture<'_, Result<Option<TokenResponse>>>;
    fn close_dyn(&self) -> BoxFuture<'_, ()>;
    fn current_token_dyn(&self) -> Option<String>;
    fn next_command_dyn(&self) -> BoxFuture<'_, Result<Option<WorkerCommand>>>;
}

impl<T: Transport + CommandChannel> DynTransport for T {
    fn register_dyn<'a>(
        &'a self,
        registration: &'a WorkerRegistration,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(self.register(registration))
    }
    fn poll_task_dyn<'a>(
        &'a self,
        options: &'a PollOptions,
    ) -> BoxFuture<'a, Result<Option<TaskPayload>>> {
        Box::pin(self.poll_task(options))
    }
    fn send_result_dyn<'a>(&'a self, result: &'a TaskResult) -> BoxFuture<'a, Result<ResultReply>> {
        Box::pin(self.send_result(result))
    }
    fn send_heartbeat_dyn<'a>(
        &'a self,
        heartbeat: Option<&'a Heartbeat>,
    ) -> BoxFuture<'a, Result<HeartbeatReply>> {
        Box::pin(self.send_heartbeat(heartbeat))
    }
    fn emit_event_dyn<'a>(&'a self, event: &'a WorkerEventPayload) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.emit_event(event))
    }
    fn refresh_token_dyn(&self) -> BoxFuture<'_, Result<Option<TokenResponse>>> {
        Box::pin(self.refresh_token())
    }
    fn close_dyn(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.close())
    }
    fn current_token_dyn(&self) -> Option<String> {
        self.current_token()
    }
    fn next_command_dyn(&self) -> BoxFuture<'_, Result<Option<WorkerCommand>>> {
        Box::pin(self.next_command())
    }
}

macro_rules! forward_transport {
    ($($ptr:ty),*) => {$(
        impl<T: Transport + ?Sized> Transport for $ptr {
            fn register(&self, r: &WorkerRegistration) -> impl Future<Output = Result<Value>> + Send { (**self).register(r) }
            fn poll_task(&self, o: &PollOptions) -> impl Future<Output = Result<Option<TaskPayload>>> + Send { (**self).poll_task(o) }
            fn send_result(&self, r: &TaskResult) -> impl Future<Output = Result<ResultReply>> + Send { (**self).send_result(r) }
            fn send_heartbeat(&self, h: Option<&Heartbeat>) -> impl Future<Output = Result<HeartbeatReply>> + Send { (**self).send_heartbeat(h) }
            fn emit_event(&self, e: &WorkerEventPayload) -> impl Future<Output = Result<()>> + Send { (**self).emit_event(e) }
            fn refresh_token(&self) -> impl Future<Output = Result<Option<TokenResponse>>> + Send { (**self).refresh_token() }
            fn close(&self) -> impl Future<Output = ()> + Send { (**self).close() }
            fn current_token(&self) -> Option<String> { (**self).current_token() }
        }
        impl<T: CommandChannel + ?Sized> CommandChannel for $ptr {
            fn next_command(&self) -> impl Future<Output = Result<Option<WorkerCommand>>> + Send { (**self).next_command() }
        }
    )*};
}

forward_transport!(&T, Box<T>, Arc<T>);
