//! `wss://`: the command socket over TLS (rustls with the ring provider) against a local
//! server with a self-signed certificate, trusted through `WsConfig::tls`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::result_large_err
)]

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rxon_core::{CommandChannel, WorkerCommand, WorkerEventPayload};
use rxon_transport_ws::{WsConfig, connect_command_channel};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed `localhost` certificate and a TLS acceptor serving it.
fn self_signed_acceptor() -> (CertificateDer<'static>, tokio_rustls::TlsAcceptor) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der: CertificateDer<'static> = certified.cert.der().clone();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server_config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    (
        cert_der,
        tokio_rustls::TlsAcceptor::from(Arc::new(server_config)),
    )
}

#[tokio::test]
async fn commands_and_events_over_wss() {
    let (cert_der, acceptor) = self_signed_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen_tx, seen_rx) = oneshot::channel::<(String, Option<String>)>();
    let (event_tx, event_rx) = oneshot::channel::<String>();

    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut seen = None;
        let mut ws = tokio_tungstenite::accept_hdr_async(tls, |req: &Request, resp: Response| {
            let token = req
                .headers()
                .get("x-worker-token")
                .map(|v| v.to_str().unwrap().to_owned());
            seen = Some((req.uri().path().to_owned(), token));
            Ok(resp)
        })
        .await
        .unwrap();
        seen_tx.send(seen.unwrap()).unwrap();
        ws.send(Message::text("not json")).await.unwrap();
        ws.send(Message::text(
            r#"{"command": "cancel_task", "task_id": "t-tls", "job_id": "j-tls"}"#,
        ))
        .await
        .unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                event_tx.send(t.to_string()).unwrap();
                break;
            }
        }
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let config = WsConfig::default().tls(Arc::new(client));
    let channel = connect_command_channel(
        &format!("https://localhost:{port}/base"),
        "w-tls",
        "tls-token",
        config,
    )
    .unwrap();
    assert_eq!(
        channel.url(),
        format!("wss://localhost:{port}/base/_worker/ws/w-tls")
    );

    let cmd = timeout(Duration::from_secs(10), channel.next_command())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        cmd,
        WorkerCommand::cancel_task("t-tls", Some("j-tls".into()))
    );
    let (path, token) = seen_rx.await.unwrap();
    assert_eq!(path, "/base/_worker/ws/w-tls");
    assert_eq!(token.as_deref(), Some("tls-token"));

    let event = WorkerEventPayload {
        event_id: "e-tls".into(),
        worker_id: "w-tls".into(),
        origin_worker_id: "w-tls".into(),
        event_type: "progress".into(),
        ..Default::default()
    };
    channel.send_event(&event).await.unwrap();
    let frame = timeout(Duration::from_secs(10), event_rx)
        .await
        .unwrap()
        .unwrap();
    assert!(frame.starts_with(r#"{"event_id":"e-tls""#), "{frame}");
    channel.close();
}

#[tokio::test]
async fn an_untrusted_certificate_is_not_accepted() {
    let (_, acceptor) = self_signed_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (handshakes_tx, mut handshakes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = handshakes_tx.send(acceptor.accept(tcp).await.is_ok());
        }
    });
    // The default configuration trusts the public roots only.
    let config = WsConfig::default().initial_backoff(Duration::from_millis(50));
    let channel =
        connect_command_channel(&format!("wss://localhost:{port}"), "w", "t", config).unwrap();
    for _ in 0..2 {
        let ok = timeout(Duration::from_secs(10), handshakes.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(!ok, "the TLS handshake must fail");
    }
    assert!(!channel.is_connected());
    assert_eq!(channel.connect_count(), 0);
    channel.close();
}
