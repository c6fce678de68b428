//! [`CommandHub`]: the open command WebSockets of connected workers, keyed by worker id.

use rxon_core::{Model, ProtocolVersion, WorkerCommand};
use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A frame queued for a worker's socket.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A text frame.
    Text(String),
    /// A close frame with code and reason; the socket ends after it.
    Close(u16, String),
}

/// A bounded frame queue from the hub to one socket. Allocates nothing while empty (an idle
/// connection costs a few dozen bytes here).
#[derive(Debug)]
pub(crate) struct Queue {
    items: Mutex<VecDeque<Outbound>>,
    notify: Notify,
    closed: AtomicBool,
    capacity: usize,
}

enum PushError {
    Full,
    Closed,
}

impl Queue {
    fn new(capacity: usize) -> Self {
        Self {
            items: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            closed: AtomicBool::new(false),
            capacity,
        }
    }

    fn items(&self) -> MutexGuard<'_, VecDeque<Outbound>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, frame: Outbound, force: bool) -> Result<(), PushError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(PushError::Closed);
        }
        {
            let mut items = self.items();
            if !force && items.len() >= self.capacity {
                return Err(PushError::Full);
            }
            items.push_back(frame);
        }
        self.notify.notify_one();
        Ok(())
    }

    /// No more frames after those queued.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// The next frame; `None` once closed and drained. Cancel-safe.
    pub(crate) async fn recv(&self) -> Option<Outbound> {
        loop {
            if let Some(f) = self.items().pop_front() {
                return Some(f);
            }
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            self.notify.notified().await;
        }
    }
}

#[derive(Debug)]
struct Entry {
    id: u64,
    queue: Arc<Queue>,
}

#[derive(Debug)]
struct Inner {
    conns: Mutex<HashMap<String, Entry>>,
    next_id: AtomicU64,
    profile: ProtocolVersion,
}

/// Why a command could not be queued.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubError {
    /// No command socket is open for this worker.
    NotConnected,
    /// The worker's send queue is full (a slow or stuck peer); the command was dropped.
    QueueFull,
    /// The command could not be encoded.
    Encode(String),
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConnected => f.write_str("worker has no open command channel"),
            Self::QueueFull => f.write_str("worker's command queue is full"),
            Self::Encode(e) => write!(f, "cannot encode command: {e}"),
        }
    }
}

impl std::error::Error for HubError {}

/// The command channels of connected workers (spec §7, §15.11). Cheap to clone; every clone
/// sees the same sockets.
///
/// One socket per worker: a new connection replaces the old one, which is closed with code
/// 1008. A closing socket only removes its own entry, never a newer one.
#[derive(Clone, Debug)]
pub struct CommandHub {
    inner: Arc<Inner>,
}

impl Default for CommandHub {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandHub {
    /// An empty hub encoding commands as 1.0b17.
    #[must_use]
    pub fn new() -> Self {
        Self::with_profile(ProtocolVersion::V1_0b17)
    }

    /// An empty hub encoding commands with the given version's encoder.
    #[must_use]
    pub fn with_profile(profile: ProtocolVersion) -> Self {
        Self {
            inner: Arc::new(Inner {
                conns: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                profile,
            }),
        }
    }

    fn conns(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.inner
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a new socket for `worker_id`, replacing (and closing with 1008) an older one.
    pub(crate) fn register(&self, worker_id: &str, capacity: usize) -> (u64, Arc<Queue>) {
        let queue = Arc::new(Queue::new(capacity.max(1)));
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let old = self.conns().insert(
            worker_id.to_owned(),
            Entry {
                id,
                queue: queue.clone(),
            },
        );
        if let Some(old) = old {
            tracing::info!(worker_id, "new command socket replaces the previous one");
            let _ = old.queue.push(
                Outbound::Close(1008, "New connection established".to_owned()),
                true,
            );
            old.queue.close();
        }
        (id, queue)
    }

    /// Removes the socket `id` of `worker_id`, if it is still the registered one.
    pub(crate) fn unregister(&self, worker_id: &str, id: u64) {
        let mut conns = self.conns();
        if conns.get(worker_id).is_some_and(|e| e.id == id)
            && let Some(e) = conns.remove(worker_id)
        {
            e.queue.close();
        }
    }

    fn queue(&self, worker_id: &str, frame: Outbound) -> Result<(), HubError> {
        let conns = self.conns();
        let entry = conns.get(worker_id).ok_or(HubError::NotConnected)?;
        entry.queue.push(frame, false).map_err(|e| match e {
            PushError::Full => {
                tracing::warn!(worker_id, "command queue full; command dropped");
                HubError::QueueFull
            }
            PushError::Closed => HubError::NotConnected,
        })
    }

    fn encode(&self, cmd: &WorkerCommand) -> Result<String, HubError> {
        cmd.to_json(self.inner.profile)
            .map_err(|e| HubError::Encode(e.to_string()))
    }

    /// Queues a command for a worker.
    ///
    /// # Errors
    /// [`HubError::NotConnected`] without an open socket, [`HubError::QueueFull`] when the
    /// socket's queue is full (the command is dropped).
    pub fn send(&self, worker_id: &str, cmd: &WorkerCommand) -> Result<(), HubError> {
        let text = self.encode(cmd)?;
        self.queue(worker_id, Outbound::Text(text))
    }

    /// Queues a raw text frame for a worker (any text; receivers skip frames they cannot parse).
    ///
    /// # Errors
    /// As [`CommandHub::send`].
    pub fn send_text(&self, worker_id: &str, text: impl Into<String>) -> Result<(), HubError> {
        self.queue(worker_id, Outbound::Text(text.into()))
    }

    /// Sends a command to every connected worker; returns how many sockets queued it.
    pub fn broadcast(&self, cmd: &WorkerCommand) -> usize {
        let Ok(text) = self.encode(cmd) else { return 0 };
        let conns = self.conns();
        conns
            .values()
            .filter(|e| e.queue.push(Outbound::Text(text.clone()), false).is_ok())
            .count()
    }

    /// Closes a worker's socket with a close code and reason (queued after pending frames).
    ///
    /// # Errors
    /// As [`CommandHub::send`].
    pub fn close(&self, worker_id: &str, code: u16, reason: &str) -> Result<(), HubError> {
        self.queue(worker_id, Outbound::Close(code, reason.to_owned()))
    }

    /// Closes every socket with 1001 `Server shutdown`; returns how many were told.
    pub fn close_all(&self) -> usize {
        let conns = self.conns();
        conns
            .values()
            .filter(|e| {
                e.queue
                    .push(Outbound::Close(1001, "Server shutdown".to_owned()), true)
                    .is_ok()
            })
            .count()
    }

    /// Whether `worker_id` has an open command socket.
    #[must_use]
    pub fn is_connected(&self, worker_id: &str) -> bool {
        self.conns()
            .get(worker_id)
            .is_some_and(|e| !e.queue.closed.load(Ordering::Acquire))
    }

    /// Number of open command sockets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.conns().len()
    }

    /// Whether no command socket is open.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_and_unregister_old_keeps_new() {
        let hub = CommandHub::new();
        let (old, old_q) = hub.register("w", 4);
        let (new, new_q) = hub.register("w", 4);
        assert!(matches!(
            old_q.items().pop_front(),
            Some(Outbound::Close(1008, _))
        ));
        assert!(old_q.closed.load(Ordering::Acquire));
        hub.unregister("w", old); // the old socket's cleanup must not remove the new one
        assert!(hub.is_connected("w"));
        hub.send("w", &WorkerCommand::cancel_task("t", None))
            .unwrap();
        match new_q.items().pop_front() {
            Some(Outbound::Text(t)) => assert_eq!(t, r#"{"command":"cancel_task","task_id":"t"}"#),
            other => panic!("unexpected {other:?}"),
        }
        hub.unregister("w", new);
        assert_eq!(
            hub.send("w", &WorkerCommand::cancel_task("t", None)),
            Err(HubError::NotConnected)
        );
    }

    #[test]
    fn full_queue_drops() {
        let hub = CommandHub::new();
        let (_id, _q) = hub.register("w", 1);
        hub.send_text("w", "a").unwrap();
        assert_eq!(hub.send_text("w", "b"), Err(HubError::QueueFull));
        assert_eq!(hub.broadcast(&WorkerCommand::cancel_task("t", None)), 0);
    }
}
