//! TLS and mTLS end to end on loopback (spec §5.2, §6.1), with certificates generated here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_arguments
)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    date_time_ymd,
};
use rxon_security::tls::{
    ClientAuth, TlsError, certificate_identity, certificates_from_pem, check_pem_validity,
    check_validity, client_config, client_config_from_files, peer_identity, private_key_from_pem,
    server_config, server_config_from_files,
};
use rxon_security::{Ed25519Signer, SecurityError};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

struct Pki {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca() -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "rxon test CA");
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pki {
        ca_pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A leaf certificate (PEM chain leaf + CA) and its key.
fn leaf(
    pki: &Pki,
    cn: Option<&str>,
    san: &[&str],
    client: bool,
    expired: bool,
) -> (String, String) {
    let mut params =
        CertificateParams::new(san.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "rxon");
    if let Some(cn) = cn {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if expired {
        params.not_before = date_time_ymd(2000, 1, 1);
        params.not_after = date_time_ymd(2001, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &pki.issuer).unwrap();
    (format!("{}{}", cert.pem(), pki.ca_pem), key.serialize_pem())
}

/// Serves one TLS connection per accept; answers with the client's identity. The server's
/// handshake outcome of each connection is sent back on the channel.
async fn serve(
    acceptor: TlsAcceptor,
) -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<Result<Option<String>, String>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(mut tls) => {
                        let identity = peer_identity(tls.get_ref().1.peer_certificates());
                        let line = format!("{}\n", identity.as_deref().unwrap_or("<none>"));
                        let _ = tls.write_all(line.as_bytes()).await;
                        let _ = tls.shutdown().await;
                        let _ = tx.send(Ok(identity));
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        }
    });
    (port, rx)
}

async fn connect(port: u16, config: rustls::ClientConfig) -> Result<String, String> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = String::new();
    tls.read_to_string(&mut buf)
        .await
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

#[tokio::test]
async fn mtls_requires_and_identifies_client_certificates() {
    let pki = ca();
    let (server_chain, server_key) = leaf(&pki, Some("localhost"), &["localhost"], false, false);
    let (client_chain, client_key) = leaf(&pki, Some("worker-7"), &[], true, false);
    let (old_chain, old_key) = leaf(&pki, Some("worker-old"), &[], true, true);

    let config = server_config(
        server_chain.as_bytes(),
        server_key.as_bytes(),
        &ClientAuth::Required {
            ca_pem: pki.ca_pem.as_bytes().to_vec(),
        },
    )
    .unwrap();
    let (port, mut outcomes) = serve(TlsAcceptor::from(Arc::new(config))).await;

    // Without a client certificate: the server refuses the handshake, the client gets no answer.
    let plain = client_config(Some(pki.ca_pem.as_bytes()), None).unwrap();
    let answer = connect(port, plain).await;
    assert!(
        answer.as_deref().map_or(true, str::is_empty),
        "client without certificate got {answer:?}"
    );
    let server_side = outcomes.recv().await.unwrap();
    assert!(
        server_side.is_err(),
        "server accepted a client without certificate"
    );

    // With a certificate: the server reads the first subject CN.
    let mtls = client_config(
        Some(pki.ca_pem.as_bytes()),
        Some((client_chain.as_bytes(), client_key.as_bytes())),
    )
    .unwrap();
    assert_eq!(connect(port, mtls).await.unwrap(), "worker-7\n");
    assert_eq!(
        outcomes.recv().await.unwrap(),
        Ok(Some("worker-7".to_owned()))
    );

    // An expired client certificate is refused by the server's verifier.
    let expired = client_config(
        Some(pki.ca_pem.as_bytes()),
        Some((old_chain.as_bytes(), old_key.as_bytes())),
    )
    .unwrap();
    let answer = connect(port, expired).await;
    assert!(answer.as_deref().map_or(true, str::is_empty));
    let err = outcomes.recv().await.unwrap().unwrap_err();
    assert!(err.to_lowercase().contains("expired"), "{err}");
}

#[tokio::test]
async fn optional_client_auth_and_expired_server() {
    let pki = ca();
    let (server_chain, server_key) = leaf(&pki, Some("localhost"), &["localhost"], false, false);
    let config = server_config(
        server_chain.as_bytes(),
        server_key.as_bytes(),
        &ClientAuth::Optional {
            ca_pem: pki.ca_pem.as_bytes().to_vec(),
        },
    )
    .unwrap();
    let (port, mut outcomes) = serve(TlsAcceptor::from(Arc::new(config))).await;
    let plain = client_config(Some(pki.ca_pem.as_bytes()), None).unwrap();
    assert_eq!(connect(port, plain).await.unwrap(), "<none>\n");
    assert_eq!(outcomes.recv().await.unwrap(), Ok(None));

    // A client refuses an expired server certificate (client-side verification error).
    let (old_chain, old_key) = leaf(&pki, Some("localhost"), &["localhost"], false, true);
    let config =
        server_config(old_chain.as_bytes(), old_key.as_bytes(), &ClientAuth::None).unwrap();
    let (port, _outcomes) = serve(TlsAcceptor::from(Arc::new(config))).await;
    let err = connect(
        port,
        client_config(Some(pki.ca_pem.as_bytes()), None).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(err.to_lowercase().contains("expired"), "{err}");
    // An unknown CA is refused too (the default roots do not know the test CA).
    let (port2, _o) = serve(TlsAcceptor::from(Arc::new(
        server_config(
            server_chain.as_bytes(),
            server_key.as_bytes(),
            &ClientAuth::None,
        )
        .unwrap(),
    )))
    .await;
    assert!(
        connect(port2, client_config(None, None).unwrap())
            .await
            .is_err()
    );
}

#[test]
fn pem_inputs_are_typed_errors() {
    let pki = ca();
    let (chain, key) = leaf(&pki, Some("w"), &["localhost"], false, false);
    assert_eq!(certificates_from_pem(chain.as_bytes()).unwrap().len(), 2);
    assert!(matches!(
        certificates_from_pem(key.as_bytes()),
        Err(TlsError::KeyInsteadOfCertificate)
    ));
    assert!(matches!(
        certificates_from_pem(b""),
        Err(TlsError::NoCertificate)
    ));
    assert!(matches!(
        certificates_from_pem(b"hello"),
        Err(TlsError::NoCertificate)
    ));
    assert!(matches!(
        private_key_from_pem(chain.as_bytes()),
        Err(TlsError::CertificateInsteadOfKey)
    ));
    assert!(matches!(
        private_key_from_pem(b""),
        Err(TlsError::NoPrivateKey)
    ));
    let enc = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(matches!(
        private_key_from_pem(enc),
        Err(TlsError::EncryptedKey)
    ));
    assert!(matches!(
        certificates_from_pem(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
        Err(TlsError::Pem(_))
    ));
    // Swapped arguments and a key of another certificate.
    assert!(server_config(key.as_bytes(), chain.as_bytes(), &ClientAuth::None).is_err());
    let (_, other_key) = leaf(&pki, Some("x"), &["localhost"], false, false);
    assert!(matches!(
        server_config(chain.as_bytes(), other_key.as_bytes(), &ClientAuth::None),
        Err(TlsError::Rustls(_))
    ));
    // A CA file without certificates.
    assert!(matches!(
        server_config(
            chain.as_bytes(),
            key.as_bytes(),
            &ClientAuth::Required {
                ca_pem: key.clone().into_bytes()
            }
        ),
        Err(TlsError::KeyInsteadOfCertificate)
    ));
    // An ECDSA PKCS#8 key is not an Ed25519 signing key.
    assert_eq!(
        Ed25519Signer::from_pkcs8_pem(&key).unwrap_err(),
        SecurityError::NotEd25519PrivateKey
    );
}

#[test]
fn identity_and_validity() {
    let pki = ca();
    let (chain, _) = leaf(&pki, Some("worker-\u{e9}"), &[], true, false);
    let certs = certificates_from_pem(chain.as_bytes()).unwrap();
    assert_eq!(
        certificate_identity(&certs[0]).unwrap().as_deref(),
        Some("worker-\u{e9}")
    );
    assert_eq!(
        peer_identity(Some(&certs)),
        Some("worker-\u{e9}".to_owned())
    );
    assert_eq!(peer_identity(None), None);
    let (no_cn, _) = leaf(&pki, None, &["localhost"], true, false);
    assert_eq!(
        certificate_identity(&certificates_from_pem(no_cn.as_bytes()).unwrap()[0]).unwrap(),
        None
    );
    assert!(matches!(
        certificate_identity(b"junk"),
        Err(TlsError::InvalidCertificate(_))
    ));
    assert!(check_validity(&certs[0], SystemTime::now()).is_ok());
    assert!(check_pem_validity(chain.as_bytes()).is_ok());
    let (old, _) = leaf(&pki, Some("old"), &[], true, true);
    let old_der = &certificates_from_pem(old.as_bytes()).unwrap()[0];
    assert!(matches!(
        check_validity(old_der, SystemTime::now()),
        Err(TlsError::Expired { .. })
    ));
    assert!(matches!(
        check_pem_validity(old.as_bytes()),
        Err(TlsError::Expired { .. })
    ));
    let before = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(900_000_000);
    assert!(matches!(
        check_validity(old_der, before),
        Err(TlsError::NotYetValid { .. })
    ));
}

#[test]
fn file_builders() {
    let pki = ca();
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = leaf(&pki, Some("localhost"), &["localhost"], false, false);
    let (c_chain, c_key) = leaf(&pki, Some("w"), &[], true, false);
    let p = |n: &str, s: &str| {
        let path = dir.path().join(n);
        std::fs::write(&path, s).unwrap();
        path
    };
    let (cert, key, ca, cc, ck) = (
        p("c.pem", &chain),
        p("k.pem", &key),
        p("ca.pem", &pki.ca_pem),
        p("cc.pem", &c_chain),
        p("ck.pem", &c_key),
    );
    assert!(server_config_from_files(&cert, &key, Some(&ca), true).is_ok());
    assert!(server_config_from_files(&cert, &key, None, false).is_ok());
    assert!(client_config_from_files(Some(&ca), Some(&cc), Some(&ck)).is_ok());
    assert!(matches!(
        server_config_from_files(&dir.path().join("missing.pem"), &key, None, false),
        Err(TlsError::Io { .. })
    ));
}
