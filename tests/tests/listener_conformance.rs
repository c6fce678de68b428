//! Our listener against the reference worker peer (`../shared/conformance/peer_worker.py`):
//! for each scenario a test handler implements exactly the scenario's table, the listener
//! serves it on an ephemeral loopback port, and the peer (1.0b9 and 1.0b17) must exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon::listener::{CommandHub, Listener, ListenerConfig};
use rxon::{
    Error, Handler, Heartbeat, Incoming, Model, ProtocolVersion, RequestContext, TaskPayload,
    TaskResult, TokenResponse, Value, WorkerCommand, WorkerEventPayload, WorkerRegistration, json,
};
use rxon_testing::python::{reference_python, run_peer_worker};
use rxon_tests::LoopbackServer;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const TOKEN: &str = "rxon-conformance-token";
const INITIAL: &str = "rxon-initial-token";
const ACCESS_1: &str = "rxon-access-token-1";
const REFRESH_1: &str = "rxon-refresh-token-1";
const ACCESS_2: &str = "rxon-access-token-2";
const REFRESH_2: &str = "rxon-refresh-token-2";

const TASK_BASIC: &str = r#"{"job_id":"job-basic-1","metadata":{"tenant":"conformance"},"params":{"big":9007199254740993,"flag":true,"items":[1,2.5,"three",false],"n":42,"neg":-7,"nested":{"empty_list":[],"empty_obj":{},"k":"v"},"off":false,"ratio":0.25,"text":"héllo wörld ✓ 😀 \"quoted\" \\ /","tiny":1e-7},"priority":1.5,"task_id":"task-basic-1","timestamp":1767225600,"tracing_context":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},"type":"echo"}"#;
const TASK_IGNORED: &str = r#"{"job_id":"job-ignored-1","params":{"text":"late"},"task_id":"task-ignored-1","type":"echo"}"#;
const TASK_RL: &str = r#"{"job_id":"job-rl-1","params":{"text":"after backoff"},"task_id":"task-rl-1","type":"echo"}"#;
const TASK_LP: &str = r#"{"job_id":"job-lp-1","params":{"text":"worth the wait"},"task_id":"task-lp-1","type":"echo"}"#;

fn task(text: &str) -> std::sync::Arc<TaskPayload> {
    std::sync::Arc::new(TaskPayload::from_json(text.as_bytes()).unwrap())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Basic,
    Auth,
    Ignored,
    RateLimit,
    WebSocket,
    LongPoll,
}

/// A handler playing one scenario's orchestrator column.
#[derive(Debug)]
struct ScenarioHandler {
    scenario: Scenario,
    profile: ProtocolVersion,
    hub: CommandHub,
    polls: AtomicUsize,
    heartbeats: AtomicUsize,
    /// auth: 0 = access 1 valid, 1 = access 1 expired, 2 = everything revoked.
    auth_state: Mutex<u8>,
}

fn unauthorized(msg: &str, status: u16) -> Error {
    Error::Auth {
        message: format!("Unauthorized: {msg}"),
        status: Some(status),
    }
}

fn rate_limited(secs: u64) -> Error {
    Error::RateLimited {
        message: "Too Many Requests".to_owned(),
        retry_after: Some(Duration::from_secs(secs)),
        code: "LIMIT_EXCEEDED_ERROR".to_owned(),
    }
}

fn token_pair(access: &str, refresh: &str) -> TokenResponse {
    TokenResponse {
        access_token: access.to_owned(),
        expires_in: 3600,
        worker_id: "conformance-worker-1".to_owned(),
        metadata: None,
        refresh_token: Some(refresh.to_owned()),
    }
}

impl ScenarioHandler {
    fn new(scenario: Scenario, profile: ProtocolVersion, hub: CommandHub) -> Self {
        Self {
            scenario,
            profile,
            hub,
            polls: AtomicUsize::new(0),
            heartbeats: AtomicUsize::new(0),
            auth_state: Mutex::new(0),
        }
    }

    /// Token check for worker messages (`heartbeat` marks the auth scenario's transitions).
    fn check(&self, cx: &RequestContext, heartbeat: bool) -> rxon::Result<()> {
        let token = cx.token.as_deref().unwrap_or("");
        if self.scenario != Scenario::Auth {
            return if token == TOKEN {
                Ok(())
            } else {
                Err(unauthorized("unknown token", 401))
            };
        }
        let mut state = self.auth_state.lock().unwrap();
        match token {
            INITIAL => Err(unauthorized("token expired", 401)),
            ACCESS_1 if *state == 0 => {
                if heartbeat {
                    *state = 1;
                }
                Ok(())
            }
            ACCESS_1 => Err(unauthorized("token expired", 401)),
            ACCESS_2 if *state < 2 && !heartbeat => Ok(()),
            ACCESS_2 => {
                *state = 2;
                Err(unauthorized("token revoked", 401))
            }
            _ => Err(unauthorized("unknown token", 401)),
        }
    }

    fn registered(&self) -> Value {
        json!({"status": "registered", "version": (self.profile.as_str())})
    }
}

impl Handler for ScenarioHandler {
    async fn register(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerRegistration>,
    ) -> rxon::Result<Value> {
        self.check(cx, false)?;
        assert_eq!(msg.message.worker_id, "conformance-worker-1");
        Ok(self.registered())
    }

    async fn poll(
        &self,
        cx: &RequestContext,
        worker_id: &str,
    ) -> rxon::Result<Option<std::sync::Arc<TaskPayload>>> {
        self.check(cx, false)?;
        assert_eq!(worker_id, "conformance-worker-1");
        let n = self.polls.fetch_add(1, Ordering::SeqCst);
        Ok(match (self.scenario, n) {
            (Scenario::Basic, 0) => Some(task(TASK_BASIC)),
            (Scenario::Ignored, 0) => Some(task(TASK_IGNORED)),
            (Scenario::RateLimit, 0) => return Err(rate_limited(1)),
            (Scenario::RateLimit, 1) => Some(task(TASK_RL)),
            (Scenario::LongPoll, 0) => {
                // "Enqueued" one second after the poll arrived.
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some(task(TASK_LP))
            }
            // Nothing to hand out: wait; the listener answers 204 after the requested timeout.
            (Scenario::LongPoll, _) => std::future::pending().await,
            _ => None,
        })
    }

    async fn result(&self, cx: &RequestContext, msg: Incoming<TaskResult>) -> rxon::Result<Value> {
        self.check(cx, false)?;
        if self.scenario == Scenario::Ignored {
            return Ok(json!({
                "message": "Result ignored: the job is already in a terminal state (cancelled).",
                "reason": "job_cancelled",
                "status": "ignored"
            }));
        }
        let echo = msg
            .raw
            .get("data")
            .and_then(|d| d.get("echo"))
            .cloned()
            .unwrap_or(Value::Null);
        if self.scenario == Scenario::Basic {
            let sent = task(TASK_BASIC).params.clone().map(Value::Object).unwrap();
            assert_eq!(
                echo.to_json(),
                sent.to_json(),
                "the echo must come back unchanged"
            );
        }
        Ok(json!({"status": "accepted", "transition": "success_transition"}))
    }

    async fn heartbeat(
        &self,
        cx: &RequestContext,
        msg: Option<Incoming<Heartbeat>>,
    ) -> rxon::Result<Value> {
        self.check(cx, true)?;
        assert_eq!(cx.worker_id_hint.as_deref(), Some("conformance-worker-1"));
        assert!(msg.is_some());
        let n = self.heartbeats.fetch_add(1, Ordering::SeqCst);
        match (self.scenario, n) {
            (Scenario::Basic, _) => {
                Ok(json!({"status": "ok", "cancel_task_ids": ["task-basic-zombie-1"]}))
            }
            (Scenario::RateLimit, 0) => Err(rate_limited(2)),
            _ => Ok(json!({"status": "ok"})),
        }
    }

    async fn event(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerEventPayload>,
    ) -> rxon::Result<Value> {
        self.check(cx, false)?;
        if msg.message.event_id == "evt-ws-1" {
            assert_eq!(msg.message.target_task_id.as_deref(), Some("task-ws-1"));
            self.hub
                .close("conformance-worker-1", 1000, "scenario step complete")
                .unwrap();
        }
        Ok(Value::Null)
    }

    async fn sts_token(&self, cx: &RequestContext) -> rxon::Result<TokenResponse> {
        let state = *self.auth_state.lock().unwrap();
        match (self.scenario, cx.token.as_deref()) {
            (Scenario::Auth, Some(INITIAL)) => Ok(token_pair(ACCESS_1, REFRESH_1)),
            (Scenario::Auth, Some(ACCESS_1)) => Ok(token_pair(ACCESS_2, REFRESH_2)),
            (Scenario::Auth, Some(ACCESS_2)) if state == 2 => {
                Err(unauthorized("refresh refused, token revoked", 403))
            }
            _ => Err(unauthorized("unknown token", 403)),
        }
    }

    async fn sts_refresh(
        &self,
        _cx: &RequestContext,
        refresh_token: &str,
    ) -> rxon::Result<TokenResponse> {
        match refresh_token {
            REFRESH_1 => Ok(token_pair(ACCESS_2, REFRESH_2)),
            REFRESH_2 => Err(unauthorized("refresh refused, token revoked", 403)),
            _ => Err(unauthorized("unknown token", 403)),
        }
    }

    async fn websocket_auth(&self, cx: &RequestContext, _worker_id: &str) -> rxon::Result<()> {
        self.check(cx, false)
            .map_err(|_| unauthorized("unknown token", 403))
    }

    async fn websocket_opened(&self, _cx: &RequestContext, worker_id: &str) {
        if self.scenario == Scenario::WebSocket {
            self.hub
                .send_text(
                    worker_id,
                    "rxon-conformance: this frame is not JSON and must be ignored",
                )
                .unwrap();
            let cmd = WorkerCommand::cancel_task("task-ws-1", Some("job-ws-1".to_owned()));
            self.hub.send(worker_id, &cmd).unwrap();
        }
    }
}

async fn run(profile: ProtocolVersion, scenario: Scenario, name: &str) {
    let Some(python) = reference_python(profile) else {
        return;
    };
    let hub = CommandHub::with_profile(profile);
    let handler = ScenarioHandler::new(scenario, profile, hub.clone());
    let config = ListenerConfig {
        profile,
        ..ListenerConfig::default()
    };
    let router = Listener::new(handler)
        .with_config(config)
        .with_hub(hub)
        .app();
    let server = LoopbackServer::start(|tcp, stop| {
        rxon::listener::serve(tcp, router, async move {
            let _ = stop.await;
        })
    })
    .await;
    let url = format!("http://{}", server.addr);
    let scenario_name = name.to_owned();
    let outcome =
        tokio::task::spawn_blocking(move || run_peer_worker(&python, &url, &scenario_name))
            .await
            .unwrap();
    outcome.assert_passed(&format!("{} {name}", profile.as_str()));
    server.shutdown().await;
}

/// One test per scenario and reference version (`b17_<name>` and `b9_<name>`).
macro_rules! conformance {
    ($($scenario:expr, $name:literal: $b17:ident, $b9:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $b17() {
            run(ProtocolVersion::V1_0b17, $scenario, $name).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $b9() {
            run(ProtocolVersion::V1_0b9, $scenario, $name).await;
        }
    )*};
}

conformance! {
    Scenario::Basic, "basic": b17_basic, b9_basic;
    Scenario::Auth, "auth": b17_auth, b9_auth;
    Scenario::Ignored, "ignored": b17_ignored, b9_ignored;
    Scenario::RateLimit, "ratelimit": b17_ratelimit, b9_ratelimit;
    Scenario::WebSocket, "websocket": b17_websocket, b9_websocket;
    Scenario::LongPoll, "longpoll": b17_longpoll, b9_longpoll;
}
