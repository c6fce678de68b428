//! The worker's WebSocket command channel (`rxon::transport::ws`) against a small axum
//! WebSocket server: commands, skipped frames, handshake refusals, reconnects, keep-alive,
//! events over the socket and over the fallback transport, close, a server restart, and the
//! idle socket's memory cost (an ignored measurement).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rxon::transport::ws::{WsCommandChannel, WsConfig, WsTransport, connect_command_channel};
use rxon::{
    CommandChannel, Error, Heartbeat, HeartbeatReply, PollOptions, Result, ResultReply,
    SignatureAlgorithm, Signer, TaskPayload, TaskResult, TokenResponse, Transport, Value,
    WorkerCommand, WorkerEventPayload, WorkerRegistration,
};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

const WORKER: &str = "worker-ws-1";
const TOKEN: &str = "ws-token";

// ---------------------------------------------------------------- test server

#[derive(Clone, Debug)]
enum Out {
    Text(String),
    Binary(Vec<u8>),
    Close,
}

/// What the test server does, and what it saw.
struct ServerState {
    /// Handshakes still to refuse, and with which status.
    refuse: AtomicUsize,
    refuse_status: AtomicU16,
    /// Hold accepted sockets without reading them (so pings go unanswered).
    mute: AtomicBool,
    handshakes: AtomicUsize,
    accepted: AtomicUsize,
    /// Path id and headers of every handshake.
    seen: Mutex<Vec<(String, HeaderMap)>>,
    /// Frames sent on every new connection.
    greeting: Mutex<Vec<Out>>,
    /// Every connection's outbox, the latest last.
    conns: Mutex<Vec<mpsc::UnboundedSender<Out>>>,
    /// Text frames received from workers.
    frames_in: mpsc::UnboundedSender<String>,
    /// Set to drop every open socket at once.
    kill: watch::Sender<bool>,
}

struct TestServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    frames: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    task: JoinHandle<()>,
}

impl TestServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (frames_in, frames) = mpsc::unbounded_channel();
        let state = Arc::new(ServerState {
            refuse: AtomicUsize::new(0),
            refuse_status: AtomicU16::new(403),
            mute: AtomicBool::new(false),
            handshakes: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            greeting: Mutex::new(Vec::new()),
            conns: Mutex::new(Vec::new()),
            frames_in,
            kill: watch::Sender::new(false),
        });
        let addr = listener.local_addr().unwrap();
        let task = serve(listener, Arc::clone(&state));
        Self {
            addr,
            state,
            frames: tokio::sync::Mutex::new(frames),
            task,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends a frame on the latest connection.
    fn push(&self, out: Out) {
        let conns = self.state.conns.lock().unwrap();
        conns.last().expect("no connection").send(out).unwrap();
    }

    fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    async fn next_frame(&self) -> String {
        timeout(Duration::from_secs(5), self.frames.lock().await.recv())
            .await
            .expect("no frame within 5 s")
            .unwrap()
    }

    /// Stops accepting and drops every open socket (no close frame), like a crashed server.
    fn stop(&self) {
        self.task.abort();
        self.state.kill.send_replace(true);
    }
}

fn serve(listener: TcpListener, state: Arc<ServerState>) -> JoinHandle<()> {
    let app = Router::new()
        .route("/_worker/ws/{id}", get(ws_route))
        .with_state(state);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

async fn ws_route(
    Path(id): Path<String>,
    State(st): State<Arc<ServerState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    st.handshakes.fetch_add(1, Ordering::SeqCst);
    st.seen.lock().unwrap().push((id, headers));
    if st.refuse.load(Ordering::SeqCst) > 0 {
        st.refuse.fetch_sub(1, Ordering::SeqCst);
        let status = StatusCode::from_u16(st.refuse_status.load(Ordering::SeqCst)).unwrap();
        return (status, "Unauthorized: refused by the test").into_response();
    }
    ws.read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| handle_socket(socket, st))
}

async fn handle_socket(mut socket: WebSocket, st: Arc<ServerState>) {
    let mut killed = st.kill.subscribe();
    if *killed.borrow_and_update() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    for out in st.greeting.lock().unwrap().iter() {
        tx.send(out.clone()).unwrap();
    }
    st.conns.lock().unwrap().push(tx);
    st.accepted.fetch_add(1, Ordering::SeqCst);
    if st.mute.load(Ordering::SeqCst) {
        let _ = timeout(Duration::from_secs(30), killed.changed()).await;
        return;
    }
    loop {
        tokio::select! {
            _ = killed.changed() => return,
            out = rx.recv() => {
                let msg = match out {
                    Some(Out::Text(t)) => Message::Text(t.into()),
                    Some(Out::Binary(b)) => Message::Binary(b.into()),
                    Some(Out::Close) => {
                        let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "bye".into() }))).await;
                        return;
                    }
                    None => return,
                };
                if socket.send(msg).await.is_err() {
                    return;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => { let _ = st.frames_in.send(t.to_string()); }
                Some(Ok(_)) => {}
                _ => return,
            }
        }
    }
}

// ------------------------------------------------------------------- helpers

fn fast() -> WsConfig {
    WsConfig::default()
        .initial_backoff(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(200))
}

/// After a short settling time, the server sees no further handshake attempt for half a second.
async fn no_more_handshakes(server: &TestServer, after: &str) {
    sleep(Duration::from_millis(100)).await;
    let attempts = server.state.handshakes.load(Ordering::SeqCst);
    sleep(Duration::from_millis(500)).await;
    assert_eq!(
        server.state.handshakes.load(Ordering::SeqCst),
        attempts,
        "no attempts after {after}"
    );
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn next(channel: &impl CommandChannel) -> WorkerCommand {
    timeout(Duration::from_secs(5), channel.next_command())
        .await
        .expect("no command within 5 s")
        .unwrap()
        .expect("channel closed")
}

async fn wait_connected(channel: &WsCommandChannel, want: bool) {
    let mut rx = channel.watch_connected();
    timeout(Duration::from_secs(5), rx.wait_for(|c| *c == want))
        .await
        .expect("connection state timeout")
        .unwrap();
}

fn cancel(task: &str) -> Out {
    Out::Text(format!(
        r#"{{"command": "cancel_task", "task_id": "{task}", "job_id": "job-{task}"}}"#
    ))
}

fn event(id: &str) -> WorkerEventPayload {
    WorkerEventPayload {
        event_id: id.into(),
        worker_id: WORKER.into(),
        origin_worker_id: WORKER.into(),
        event_type: "progress".into(),
        payload: rxon::json!({"progress": 0.5, "message": "é"})
            .as_object()
            .cloned()
            .unwrap(),
        ..Default::default()
    }
}

/// A transport that records events and closes; everything else is unsupported.
#[derive(Debug, Default)]
struct Recorder {
    events: Mutex<Vec<WorkerEventPayload>>,
    closed: AtomicBool,
    /// A credential "renewed" by the transport itself, reported by `current_token`.
    renewed: Mutex<Option<String>>,
}

impl Transport for Recorder {
    async fn register(&self, _: &WorkerRegistration) -> Result<Value> {
        Ok(
            rxon::json!({"status": "registered", "access_token": "adopted-token", "expires_in": 60, "worker_id": WORKER}),
        )
    }
    async fn poll_task(&self, _: &PollOptions) -> Result<Option<TaskPayload>> {
        Err(Error::Unsupported {
            what: "poll".into(),
        })
    }
    async fn send_result(&self, _: &TaskResult) -> Result<ResultReply> {
        Err(Error::Unsupported {
            what: "result".into(),
        })
    }
    async fn send_heartbeat(&self, _: Option<&Heartbeat>) -> Result<HeartbeatReply> {
        Err(Error::Unsupported {
            what: "heartbeat".into(),
        })
    }
    async fn emit_event(&self, event: &WorkerEventPayload) -> Result<()> {
        self.events.lock().unwrap().push(event.clone());
        Ok(())
    }
    async fn refresh_token(&self) -> Result<Option<TokenResponse>> {
        Ok(None)
    }
    async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
    fn current_token(&self) -> Option<String> {
        self.renewed.lock().unwrap().clone()
    }
}

#[derive(Debug)]
struct LengthSigner;
impl Signer for LengthSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::HmacSha256
    }
    fn sign(&self, message: &[u8]) -> Result<String> {
        Ok(format!("len-{}", message.len()))
    }
}

// --------------------------------------------------------------------- tests

#[tokio::test]
async fn commands_arrive_and_bad_frames_are_skipped() {
    let server = TestServer::start().await;
    *server.state.greeting.lock().unwrap() = vec![
        Out::Text("rxon-conformance: this frame is not JSON and must be ignored".into()),
        Out::Text("[1]".into()),
        Out::Text("null".into()),
        Out::Text(r#"{"task_id": "no command member"}"#.into()),
        Out::Binary(br#"{"command": "binary frames are ignored"}"#.to_vec()),
        cancel("t-1"),
        Out::Text(r#"{"command":"reload","params":{"a":1},"extra":true}"#.into()),
    ];
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, fast()).unwrap();
    assert_eq!(
        next(&channel).await,
        WorkerCommand::cancel_task("t-1", Some("job-t-1".into()))
    );
    let reload = next(&channel).await;
    assert_eq!(reload.command, "reload");
    assert_eq!(
        reload.params.unwrap().get("a").and_then(Value::as_i64),
        Some(1)
    );

    // The bad frames did not close the socket: the same connection carries the next command.
    server.push(cancel("t-2"));
    assert_eq!(next(&channel).await.task_id.as_deref(), Some("t-2"));
    assert_eq!(server.accepted(), 1);
    assert_eq!(channel.connect_count(), 1);

    let seen = server.state.seen.lock().unwrap();
    let (id, headers) = &seen[0];
    assert_eq!(id, WORKER);
    assert_eq!(headers.get("x-worker-token").unwrap(), TOKEN);
    assert_eq!(headers.get("x-worker-id").unwrap(), WORKER);
    assert_eq!(headers.get("x-rxon-version").unwrap(), "1.0b17");
}

#[tokio::test]
async fn b9_handshake_has_no_worker_id_header() {
    let server = TestServer::start().await;
    let channel = connect_command_channel(
        &server.base_url(),
        WORKER,
        TOKEN,
        fast().version(rxon::ProtocolVersion::V1_0b9),
    )
    .unwrap();
    wait_connected(&channel, true).await;
    let seen = server.state.seen.lock().unwrap();
    assert_eq!(seen[0].1.get("x-rxon-version").unwrap(), "1.0b9");
    assert!(seen[0].1.get("x-worker-id").is_none());
}

#[tokio::test]
async fn refused_handshakes_are_retried_until_accepted() {
    for status in [403, 500] {
        let server = TestServer::start().await;
        server.state.refuse.store(2, Ordering::SeqCst);
        server.state.refuse_status.store(status, Ordering::SeqCst);
        *server.state.greeting.lock().unwrap() = vec![cancel("after-refusals")];
        let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, fast()).unwrap();
        assert_eq!(
            next(&channel).await.task_id.as_deref(),
            Some("after-refusals")
        );
        assert_eq!(
            server.state.handshakes.load(Ordering::SeqCst),
            3,
            "two refusals ({status}), then accepted"
        );
        assert_eq!(channel.connect_count(), 1);
    }
}

#[tokio::test]
async fn server_close_leads_to_a_reconnect() {
    let server = TestServer::start().await;
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, fast()).unwrap();
    wait_connected(&channel, true).await;
    server.push(Out::Close);
    eventually("a second connection", || server.accepted() == 2).await;
    server.push(cancel("on-the-new-socket"));
    assert_eq!(
        next(&channel).await.task_id.as_deref(),
        Some("on-the-new-socket")
    );
    assert_eq!(channel.connect_count(), 2);
}

#[tokio::test]
async fn unanswered_pings_replace_the_socket() {
    let server = TestServer::start().await;
    server.state.mute.store(true, Ordering::SeqCst);
    let config = fast()
        .ping_interval(Duration::from_millis(100))
        .pong_timeout(Duration::from_millis(150));
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, config).unwrap();
    // The muted server never reads, so never answers a ping: the worker gives up on each socket.
    eventually("reconnects after silent sockets", || server.accepted() >= 3).await;
    server.state.mute.store(false, Ordering::SeqCst);
    server.state.kill.send_replace(false);
    let accepted = server.accepted();
    eventually("a live connection", || server.accepted() > accepted).await;
    server.push(cancel("alive"));
    assert_eq!(next(&channel).await.task_id.as_deref(), Some("alive"));
}

#[tokio::test]
async fn answered_pings_keep_the_socket() {
    let server = TestServer::start().await;
    let config = fast()
        .ping_interval(Duration::from_millis(50))
        .pong_timeout(Duration::from_millis(500));
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, config).unwrap();
    wait_connected(&channel, true).await;
    sleep(Duration::from_millis(600)).await;
    server.push(cancel("still-here"));
    assert_eq!(next(&channel).await.task_id.as_deref(), Some("still-here"));
    assert_eq!(
        channel.connect_count(),
        1,
        "pings were answered, so the socket was kept"
    );
}

#[tokio::test]
async fn events_go_over_the_socket_while_open_else_through_the_inner_transport() {
    let server = TestServer::start().await;
    let config = fast().signer(Arc::new(LengthSigner), None);
    let transport = WsTransport::new(
        Recorder::default(),
        &server.base_url(),
        WORKER,
        TOKEN,
        config,
    )
    .unwrap();

    // Not started: the socket is not open yet, so the event takes the fallback.
    transport.emit_event(&event("before-start")).await.unwrap();
    assert_eq!(transport.inner().events.lock().unwrap().len(), 1);

    transport.start_commands().unwrap();
    wait_connected(transport.channel(), true).await;
    transport.emit_event(&event("over-socket")).await.unwrap();
    let frame = server.next_frame().await;
    let v = Value::from_json(frame.as_bytes()).unwrap();
    assert_eq!(
        v.get("event_id").and_then(Value::as_str),
        Some("over-socket")
    );
    assert!(
        frame.starts_with(r#"{"event_id":"over-socket","event_type":"progress""#),
        "compact, sorted: {frame}"
    );
    let security = v.get("security").unwrap();
    assert!(
        security
            .get("signature")
            .and_then(Value::as_str)
            .unwrap()
            .starts_with("len-")
    );
    assert_eq!(
        security.get("signer_id").and_then(Value::as_str),
        Some(WORKER)
    );
    assert!(v.get("timestamp").and_then(Value::as_i64).unwrap() > 1_700_000_000);
    assert_eq!(
        transport.inner().events.lock().unwrap().len(),
        1,
        "nothing went to the fallback"
    );

    // The server goes away: events take the fallback, signed the same way.
    server.state.refuse.store(usize::MAX / 2, Ordering::SeqCst);
    server.push(Out::Close);
    wait_connected(transport.channel(), false).await;
    transport.emit_event(&event("over-fallback")).await.unwrap();
    let events = transport.inner().events.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].event_id, "over-fallback");
    assert!(events[1].security.as_ref().unwrap().signature.is_some());

    transport.close().await;
    assert!(transport.inner().closed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn register_answer_token_is_used_for_the_next_handshake() {
    let server = TestServer::start().await;
    let transport = WsTransport::new(
        Recorder::default(),
        &server.base_url(),
        WORKER,
        TOKEN,
        fast(),
    )
    .unwrap();
    transport
        .register(&WorkerRegistration::new(WORKER))
        .await
        .unwrap();
    transport.start_commands().unwrap();
    wait_connected(transport.channel(), true).await;
    let seen = server.state.seen.lock().unwrap();
    assert_eq!(seen[0].1.get("x-worker-token").unwrap(), "adopted-token");
}

#[tokio::test]
async fn a_token_the_inner_transport_renewed_by_itself_is_used_for_the_next_handshake() {
    let server = TestServer::start().await;
    let transport = WsTransport::new(
        Recorder::default(),
        &server.base_url(),
        WORKER,
        TOKEN,
        fast(),
    )
    .unwrap();
    // The inner transport renews its credential on its own (as the HTTP transport does after
    // a 401) during a call that goes through it: the socket is down, so the event falls back.
    *transport.inner().renewed.lock().unwrap() = Some("renewed-token".into());
    assert_eq!(transport.channel().token(), TOKEN);
    transport.emit_event(&event("ev-renew")).await.unwrap();
    assert_eq!(transport.channel().token(), "renewed-token");
    assert_eq!(transport.current_token().as_deref(), Some("renewed-token"));
    transport.start_commands().unwrap();
    wait_connected(transport.channel(), true).await;
    let seen = server.state.seen.lock().unwrap();
    assert_eq!(seen[0].1.get("x-worker-token").unwrap(), "renewed-token");
}

#[tokio::test]
async fn close_ends_next_command_promptly() {
    let server = TestServer::start().await;
    let transport = Arc::new(
        WsTransport::new(
            Recorder::default(),
            &server.base_url(),
            WORKER,
            TOKEN,
            fast(),
        )
        .unwrap(),
    );
    let waiting = tokio::spawn({
        let t = Arc::clone(&transport);
        async move { t.next_command().await }
    });
    wait_connected(transport.channel(), true).await;
    transport.close().await;
    let ended = timeout(Duration::from_secs(2), waiting)
        .await
        .expect("next_command did not end")
        .unwrap();
    assert!(ended.unwrap().is_none());
    assert!(transport.next_command().await.unwrap().is_none());
    wait_connected(transport.channel(), false).await;
    assert!(matches!(
        transport.channel().send_event(&event("late")).await,
        Err(Error::Closed)
    ));
    // No reconnect after close.
    sleep(Duration::from_millis(300)).await;
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn close_stops_a_refused_reconnect_loop() {
    let server = TestServer::start().await;
    server.state.refuse.store(usize::MAX / 2, Ordering::SeqCst);
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, fast()).unwrap();
    eventually("a few refused attempts", || {
        server.state.handshakes.load(Ordering::SeqCst) >= 2
    })
    .await;
    channel.close();
    assert!(
        timeout(Duration::from_secs(1), channel.next_command())
            .await
            .unwrap()
            .unwrap()
            .is_none()
    );
    no_more_handshakes(&server, "close").await;
}

#[tokio::test]
async fn dropping_the_channel_stops_the_background_task() {
    let server = TestServer::start().await;
    server.state.refuse.store(usize::MAX / 2, Ordering::SeqCst);
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, fast()).unwrap();
    eventually("a refused attempt", || {
        server.state.handshakes.load(Ordering::SeqCst) >= 1
    })
    .await;
    drop(channel);
    no_more_handshakes(&server, "drop").await;
}

#[tokio::test]
async fn commands_survive_a_server_restart() {
    let server = TestServer::start().await;
    let addr = server.addr;
    let config = fast()
        .initial_backoff(Duration::from_millis(250))
        .max_backoff(Duration::from_secs(1));
    let channel = connect_command_channel(&server.base_url(), WORKER, TOKEN, config).unwrap();
    wait_connected(&channel, true).await;
    server.push(cancel("before-restart"));
    assert_eq!(
        next(&channel).await.task_id.as_deref(),
        Some("before-restart")
    );

    // The server goes away for a few seconds (its sockets dropped, its port closed).
    server.stop();
    wait_connected(&channel, false).await;
    sleep(Duration::from_secs(3)).await;
    assert!(!channel.is_connected());

    // It comes back on the same port.
    let listener = TcpListener::bind(addr).await.unwrap();
    server.state.kill.send_replace(false);
    let _restarted = serve(listener, Arc::clone(&server.state));
    eventually("the reconnect", || server.accepted() == 2).await;
    server.push(cancel("after-restart"));
    assert_eq!(
        next(&channel).await.task_id.as_deref(),
        Some("after-restart")
    );
    assert_eq!(channel.connect_count(), 2);
    channel.close();
}

// ------------------------------------------------------------------- memory

const MEMORY_PORT_FILE: &str = "RXON_WS_MEMORY_PORT_FILE";

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The server half of `idle_client_socket_memory`, run in a child process so that its memory
/// is not counted. Does nothing unless started by that test.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "helper process of idle_client_socket_memory"]
async fn memory_server_process() {
    let Ok(port_file) = std::env::var(MEMORY_PORT_FILE) else {
        return;
    };
    let server = TestServer::start().await;
    std::fs::write(format!("{port_file}.tmp"), server.addr.port().to_string()).unwrap();
    std::fs::rename(format!("{port_file}.tmp"), &port_file).unwrap();
    sleep(Duration::from_secs(120)).await;
}

/// Measures the memory of idle worker command sockets: 1,000 channels in this process
/// against a server in a child process; prints the RSS growth per socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn idle_client_socket_memory() {
    const N: usize = 1000;
    let dir = std::env::temp_dir().join(format!("rxon-ws-mem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port_file = dir.join("port");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "memory_server_process",
            "--nocapture",
        ])
        .env(MEMORY_PORT_FILE, &port_file)
        .spawn()
        .unwrap();
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(&port_file) {
            break p.trim().parse::<u16>().unwrap();
        }
        sleep(Duration::from_millis(50)).await;
    };
    let base = format!("http://127.0.0.1:{port}");
    let config = WsConfig::default()
        .ping_interval(Duration::from_secs(600))
        .initial_backoff(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(500));

    // Warm up the runtime and allocator with a first batch, then measure a second one.
    let mut warm = Vec::new();
    for i in 0..50 {
        warm.push(
            connect_command_channel(&base, &format!("warm-{i}"), TOKEN, config.clone()).unwrap(),
        );
    }
    for c in &warm {
        wait_connected(c, true).await;
    }
    sleep(Duration::from_millis(500)).await;
    let before = rss_kib();
    let mut channels = Vec::with_capacity(N);
    for batch in 0..N / 50 {
        for i in 0..50 {
            let id = format!("w-{}", batch * 50 + i);
            channels.push(connect_command_channel(&base, &id, TOKEN, config.clone()).unwrap());
        }
        for c in &channels[batch * 50..] {
            if timeout(
                Duration::from_secs(30),
                c.watch_connected().wait_for(|c| *c),
            )
            .await
            .is_err()
            {
                let up = channels.iter().filter(|c| c.is_connected()).count();
                panic!("batch {batch}: only {up} of {} connected", channels.len());
            }
        }
    }
    sleep(Duration::from_secs(1)).await;
    let after = rss_kib();
    let per = (after.saturating_sub(before)) as f64 / N as f64;
    println!("idle command sockets: {N}, RSS {before} KiB -> {after} KiB, {per:.1} KiB per socket");
    drop(channels);
    drop(warm);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        per < 64.0,
        "an idle command socket should stay small, got {per:.1} KiB"
    );
}
