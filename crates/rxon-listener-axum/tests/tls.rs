//! HTTPS with client certificates: `serve_tls` hands the certificate's CN to the handler as
//! `cert_identity`, and refuses clients without a certificate when the config requires one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rxon_core::{
    Error, Handler, Incoming, RequestContext, TaskPayload, TaskResult, Value, WorkerRegistration,
};
use rxon_listener_axum::Listener;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct ByCertificate;

impl Handler for ByCertificate {
    async fn register(
        &self,
        cx: &RequestContext,
        msg: Incoming<WorkerRegistration>,
    ) -> rxon_core::Result<Value> {
        match cx.cert_identity.as_deref() {
            Some(cn) if cn == msg.message.worker_id => Ok(Value::String(format!("hello {cn}"))),
            other => Err(Error::Auth {
                message: format!("certificate {other:?}"),
                status: Some(403),
            }),
        }
    }
    async fn poll(
        &self,
        _cx: &RequestContext,
        _w: &str,
    ) -> rxon_core::Result<Option<Arc<TaskPayload>>> {
        Ok(None)
    }
    async fn result(
        &self,
        _cx: &RequestContext,
        _m: Incoming<TaskResult>,
    ) -> rxon_core::Result<Value> {
        Ok(Value::Null)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

struct Pki {
    ca: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "rxon test CA");
        let key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&key).unwrap().der().clone();
        Self {
            ca,
            issuer: Issuer::new(params, key),
        }
    }

    fn leaf(&self, cn: &str, san: &str) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let mut params = CertificateParams::new(vec![san.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    fn roots(&self) -> Arc<rustls::RootCertStore> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        Arc::new(roots)
    }
}

async fn request(
    port: u16,
    pki: &Pki,
    client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    body: &str,
) -> std::io::Result<String> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki.roots());
    let config = match client_cert {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    let req = format!(
        "POST /_worker/workers/register HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut out))
        .await
        .expect("an answer in time")?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn client_certificate_cn_reaches_the_handler() {
    // Through the router, and through the connection's direct answers.
    certificate_cn_reaches_the_handler(Listener::new(ByCertificate).router().into()).await;
    certificate_cn_reaches_the_handler(Listener::new(ByCertificate).app()).await;
}

async fn certificate_cn_reaches_the_handler(app: rxon_listener_axum::App) {
    let pki = Pki::new();
    let (chain, key) = pki.leaf("server", "localhost");
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(pki.roots(), provider())
            .build()
            .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(rxon_listener_axum::serve_tls(
        tcp,
        app,
        Arc::new(server),
        async {
            let _ = stopped.await;
        },
    ));

    let ok = request(
        port,
        &pki,
        Some(pki.leaf("worker-7", "worker-7")),
        r#"{"worker_id":"worker-7"}"#,
    )
    .await
    .unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.ends_with(r#""hello worker-7""#), "{ok}");
    let other = request(
        port,
        &pki,
        Some(pki.leaf("worker-8", "worker-8")),
        r#"{"worker_id":"worker-7"}"#,
    )
    .await
    .unwrap();
    assert!(other.starts_with("HTTP/1.1 403"), "{other}");
    // No certificate: the handshake (or the first read) fails; the server keeps serving.
    let refused = request(port, &pki, None, r#"{"worker_id":"worker-7"}"#).await;
    assert!(
        refused.is_err() || refused.as_deref().is_ok_and(str::is_empty),
        "{refused:?}"
    );
    let again = request(
        port,
        &pki,
        Some(pki.leaf("worker-7", "worker-7")),
        r#"{"worker_id":"worker-7"}"#,
    )
    .await
    .unwrap();
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
