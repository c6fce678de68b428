//! The HTTP worker transport over HTTPS with a custom CA and a client certificate (mTLS),
//! against a rustls + hyper orchestrator stub on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rxon::transport::http::rustls;
use rxon::transport::http::{HttpTransport, HttpTransportConfig};
use rxon::{Error, Transport, Value, WorkerRegistration};
use std::sync::Arc;

struct Pki {
    roots: rustls::RootCertStore,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    client: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

fn key_der(k: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.serialize_der()))
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "rxon test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["w-1".to_owned()]).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "w-1");
    let client = client_params.signed_by(&client_key, &ca).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    Pki {
        roots,
        server: (server.der().clone(), key_der(&server_key)),
        client: (client.der().clone(), key_der(&client_key)),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An HTTPS orchestrator stub that requires a client certificate from `roots`.
async fn serve(pki: &Pki) -> std::net::SocketAddr {
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(pki.roots.clone()),
        provider(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, hyper::Error>(
                        Response::builder()
                            .header("Content-Type", "application/json")
                            .body(Full::new(Bytes::from_static(br#"{"status":"registered"}"#)))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}

fn client_config(pki: &Pki, with_cert: bool) -> rustls::ClientConfig {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki.roots.clone());
    if with_cert {
        builder
            .with_client_auth_cert(vec![pki.client.0.clone()], pki.client.1.clone_key())
            .unwrap()
    } else {
        builder.with_no_client_auth()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_custom_ca_and_a_client_certificate() {
    let pki = pki();
    let addr = serve(&pki).await;
    let url = format!("https://{addr}");

    let config =
        HttpTransportConfig::new(&url, "w-1", "tok").with_tls(Arc::new(client_config(&pki, true)));
    let t = HttpTransport::new(config).unwrap();
    let answer = t.register(&WorkerRegistration::new("w-1")).await.unwrap();
    assert_eq!(
        answer.get("status").and_then(Value::as_str),
        Some("registered")
    );

    // Without the client certificate the server refuses the handshake.
    let config =
        HttpTransportConfig::new(&url, "w-1", "tok").with_tls(Arc::new(client_config(&pki, false)));
    let e = HttpTransport::new(config)
        .unwrap()
        .register(&WorkerRegistration::new("w-1"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "{e:?}");

    // The default roots do not know the test CA.
    let e = HttpTransport::new(HttpTransportConfig::new(&url, "w-1", "tok"))
        .unwrap()
        .register(&WorkerRegistration::new("w-1"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "{e:?}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}
