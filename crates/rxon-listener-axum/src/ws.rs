//! The command WebSocket `GET /_worker/ws/{worker_id}` (spec §7): authenticated before the
//! upgrade, then held: inbound text frames are events, outbound frames come from the
//! [`CommandHub`](crate::CommandHub).

use crate::context::{self, RequestHead};
use crate::hub::Outbound;
use crate::reply;
use crate::routes::{Shared, path_id};
use axum::extract::rejection::PathRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use rxon_core::{
    Error, Handler, Incoming, Model, RequestContext, TransportKind, Value, WorkerEventPayload, json,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) async fn upgrade<H: Handler>(
    State(s): State<Arc<Shared<H>>>,
    path: Result<Path<String>, PathRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    req: Request,
) -> Response {
    let profile = s.profile();
    let worker_id = match path_id(path, profile) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            let status = e.status();
            return reply::error_body(status, None, &e.body_text(), profile);
        }
    };
    let (parts, _body) = req.into_parts();
    let cx = context::build(
        &RequestHead::from_parts(&parts),
        profile,
        Some(&worker_id),
        false,
    );
    if let Err(e) = s.handler.websocket_auth(&cx, &worker_id).await {
        return match e {
            Error::Auth { .. } | Error::Security { .. } => {
                reply::text(StatusCode::FORBIDDEN, &e.to_string())
            }
            other => reply::error(&other, profile),
        };
    }
    let max = s.config.ws_max_message_size;
    ws.read_buffer_size(s.config.ws_read_buffer_size)
        .write_buffer_size(0)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "WebSocket upgrade failed"))
        .on_upgrade(move |socket| hold(s, worker_id, cx, socket))
        .into_response()
}

async fn hold<H: Handler>(
    s: Arc<Shared<H>>,
    worker_id: String,
    cx: RequestContext,
    mut socket: WebSocket,
) {
    let (conn_id, queue) = s.hub.register(&worker_id, s.config.ws_queue_capacity);
    s.handler.websocket_opened(&cx, &worker_id).await;
    let mut frame_cx = cx;
    frame_cx.transport = TransportKind::WebSocket;
    let ping_every = s.config.ws_ping_interval.max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    last_seen = Instant::now();
                    Box::pin(on_frame(&s, &frame_cx, &worker_id, text.as_str())).await;
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(_)) => last_seen = Instant::now(),
                Some(Err(e)) => {
                    tracing::debug!(worker_id, error = %e, "WebSocket read failed");
                    break;
                }
            },
            out = queue.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    if socket.send(Message::Close(Some(frame))).await.is_ok() {
                        // Give the peer a moment to answer the close handshake.
                        let _ = tokio::time::timeout(Duration::from_secs(1), async {
                            while let Some(Ok(m)) = socket.recv().await {
                                if matches!(m, Message::Close(_)) { break; }
                            }
                        }).await;
                    }
                    break;
                }
                None => break,
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > ping_every * 2 {
                    tracing::info!(worker_id, "WebSocket silent for two ping intervals; closing");
                    break;
                }
                if socket.send(Message::Ping(bytes::Bytes::new())).await.is_err() {
                    break;
                }
            }
        }
    }
    s.hub.unregister(&worker_id, conn_id);
    s.handler.websocket_closed(&worker_id).await;
}

async fn on_frame<H: Handler>(s: &Shared<H>, cx: &RequestContext, worker_id: &str, text: &str) {
    let raw = match json::from_slice(text.as_bytes()) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(worker_id, error = %e, "skipping a WebSocket frame that is not JSON");
            return;
        }
    };
    let decoded = if s.config.keep_raw {
        WorkerEventPayload::from_value(&raw).map(|m| (m, raw))
    } else {
        WorkerEventPayload::from_value_owned(raw).map(|m| (m, Value::Null))
    };
    let (msg, raw) = match decoded {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(worker_id, error = %e, "skipping a WebSocket frame that is not an event");
            return;
        }
    };
    match tokio::time::timeout(
        s.config.request_timeout,
        s.handler.event(cx, Incoming::new(msg, raw)),
    )
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(worker_id, error = %e, "WebSocket event refused"),
        Err(_) => tracing::warn!(worker_id, "WebSocket event handler timed out"),
    }
}
