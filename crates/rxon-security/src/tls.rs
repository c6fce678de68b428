//! TLS and mTLS with rustls and the `ring` provider (spec §1, §5.2 `cert_identity`, §6.1;
//! the reference's `create_server_ssl_context`, `create_client_ssl_context` and
//! `extract_cert_identity`).
//!
//! Every builder passes `rustls::crypto::ring::default_provider()` explicitly; nothing installs a
//! process-wide default provider. PEM is read with `rustls-pki-types`. Wrong inputs are typed
//! [`TlsError`]s: a file with no certificate, a key where a certificate is expected (or the
//! reverse), a password-protected key, an unparsable or expired certificate.
//!
//! The listener's identity of a client is the subject Common Name of its certificate (the
//! first CN in the subject, as the reference's `extract_cert_identity`): see
//! [`certificate_identity`] and [`peer_identity`].

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::pem::{PemObject as _, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// What went wrong building a TLS configuration or reading a certificate.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The PEM text is malformed.
    Pem(String),
    /// No `CERTIFICATE` section where certificates are expected.
    NoCertificate,
    /// A private key where certificates are expected.
    KeyInsteadOfCertificate,
    /// No private key where one is expected.
    NoPrivateKey,
    /// A certificate where a private key is expected.
    CertificateInsteadOfKey,
    /// The private key is password-protected (`ENCRYPTED PRIVATE KEY`).
    EncryptedKey,
    /// A certificate cannot be parsed as X.509.
    InvalidCertificate(String),
    /// The certificate's validity ended (`not_after`, Unix seconds) before `now`.
    Expired {
        /// End of validity (Unix seconds).
        not_after: i64,
        /// The time checked (Unix seconds).
        now: i64,
    },
    /// The certificate's validity starts (`not_before`, Unix seconds) after `now`.
    NotYetValid {
        /// Start of validity (Unix seconds).
        not_before: i64,
        /// The time checked (Unix seconds).
        now: i64,
    },
    /// rustls refused the configuration (e.g. a key that does not match the certificate).
    Rustls(rustls::Error),
    /// The client-certificate verifier could not be built (e.g. an empty CA set).
    ClientVerifier(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Pem(e) => write!(f, "malformed PEM: {e}"),
            Self::NoCertificate => f.write_str("no CERTIFICATE found in the PEM input"),
            Self::KeyInsteadOfCertificate => {
                f.write_str("found a private key where a certificate was expected")
            }
            Self::NoPrivateKey => f.write_str("no private key found in the PEM input"),
            Self::CertificateInsteadOfKey => {
                f.write_str("found a certificate where a private key was expected")
            }
            Self::EncryptedKey => f.write_str("password-protected private keys are not supported"),
            Self::InvalidCertificate(e) => write!(f, "invalid certificate: {e}"),
            Self::Expired { not_after, now } => {
                write!(f, "certificate expired (not after {not_after}, now {now})")
            }
            Self::NotYetValid { not_before, now } => {
                write!(
                    f,
                    "certificate not yet valid (not before {not_before}, now {now})"
                )
            }
            Self::Rustls(e) => write!(f, "TLS configuration refused: {e}"),
            Self::ClientVerifier(e) => {
                write!(f, "cannot build the client certificate verifier: {e}")
            }
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Rustls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> Self {
        Self::Rustls(e)
    }
}

impl From<TlsError> for rxon_core::Error {
    fn from(e: TlsError) -> Self {
        Self::Security {
            message: e.to_string(),
        }
    }
}

/// The `ring` crypto provider every builder here uses.
#[must_use]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

fn sections(pem: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, TlsError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))
}

fn is_key(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
    )
}

/// Every certificate of a PEM input, in order (a chain: leaf first; or a CA bundle).
///
/// # Errors
/// [`TlsError::Pem`], [`TlsError::KeyInsteadOfCertificate`] or [`TlsError::NoCertificate`].
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let all = sections(pem)?;
    let certs: Vec<CertificateDer<'static>> = all
        .iter()
        .filter(|(k, _)| *k == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der.clone()))
        .collect();
    if certs.is_empty() {
        if all.iter().any(|(k, _)| is_key(*k)) || pem_mentions_encrypted_key(pem) {
            return Err(TlsError::KeyInsteadOfCertificate);
        }
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

fn pem_mentions_encrypted_key(pem: &[u8]) -> bool {
    pem.windows(b"ENCRYPTED PRIVATE KEY".len())
        .any(|w| w == b"ENCRYPTED PRIVATE KEY")
}

/// The first private key of a PEM input (PKCS#8, PKCS#1 or SEC1).
///
/// # Errors
/// [`TlsError::Pem`], [`TlsError::EncryptedKey`], [`TlsError::CertificateInsteadOfKey`] or
/// [`TlsError::NoPrivateKey`].
pub fn private_key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    let all = sections(pem)?;
    for (kind, der) in &all {
        if is_key(*kind) {
            return PrivateKeyDer::from_pem(*kind, der.clone()).ok_or(TlsError::NoPrivateKey);
        }
    }
    if pem_mentions_encrypted_key(pem) {
        return Err(TlsError::EncryptedKey);
    }
    if all.iter().any(|(k, _)| *k == SectionKind::Certificate) {
        return Err(TlsError::CertificateInsteadOfKey);
    }
    Err(TlsError::NoPrivateKey)
}

/// A root store holding every certificate of a PEM CA bundle.
///
/// # Errors
/// As [`certificates_from_pem`], or [`TlsError::Rustls`] for a certificate webpki cannot use
/// as a trust anchor.
pub fn root_store_from_pem(ca_pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(ca_pem)? {
        roots.add(cert)?;
    }
    Ok(roots)
}

/// Whether and how a server asks for client certificates.
#[derive(Clone, Debug, Default)]
pub enum ClientAuth {
    /// No client certificates (plain TLS).
    #[default]
    None,
    /// Client certificates are verified against the CA bundle when presented, but not
    /// required (the reference's `CERT_OPTIONAL`).
    Optional {
        /// PEM CA bundle.
        ca_pem: Vec<u8>,
    },
    /// Every client must present a certificate issued by the CA bundle (mTLS; the reference's
    /// `require_client_cert=True`).
    Required {
        /// PEM CA bundle.
        ca_pem: Vec<u8>,
    },
}

/// A server configuration from a PEM certificate chain (leaf first) and a PEM private key.
///
/// # Errors
/// A [`TlsError`] for unreadable PEM, missing or misplaced items, a key that does not match the
/// certificate, or an unusable CA bundle.
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_auth: &ClientAuth,
) -> Result<ServerConfig, TlsError> {
    let chain = certificates_from_pem(cert_chain_pem)?;
    let key = private_key_from_pem(key_pem)?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional { ca_pem } | ClientAuth::Required { ca_pem } => {
            let roots = Arc::new(root_store_from_pem(ca_pem)?);
            let mut vb = WebPkiClientVerifier::builder_with_provider(roots, provider);
            if matches!(client_auth, ClientAuth::Optional { .. }) {
                vb = vb.allow_unauthenticated();
            }
            let verifier = vb
                .build()
                .map_err(|e| TlsError::ClientVerifier(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    Ok(builder.with_single_cert(chain, key)?)
}

/// [`server_config`] from files (the reference's `create_server_ssl_context(cert_path,
/// key_path, ca_path, require_client_cert)`).
///
/// # Errors
/// [`TlsError::Io`] for an unreadable file, otherwise as [`server_config`].
pub fn server_config_from_files(
    cert_path: &Path,
    key_path: &Path,
    ca_path: Option<&Path>,
    require_client_cert: bool,
) -> Result<ServerConfig, TlsError> {
    let auth = match ca_path {
        None => ClientAuth::None,
        Some(p) if require_client_cert => ClientAuth::Required { ca_pem: read(p)? },
        Some(p) => ClientAuth::Optional { ca_pem: read(p)? },
    };
    server_config(&read(cert_path)?, &read(key_path)?, &auth)
}

/// A client configuration: server certificates are verified against `ca_pem` when given,
/// otherwise against the Mozilla roots of `webpki-roots`; `identity` is an optional client
/// certificate chain and key (both PEM) for mTLS.
///
/// # Errors
/// A [`TlsError`] for unreadable PEM, missing or misplaced items, or a key that does not match
/// the certificate.
pub fn client_config(
    ca_pem: Option<&[u8]>,
    identity: Option<(&[u8], &[u8])>,
) -> Result<ClientConfig, TlsError> {
    let roots = match ca_pem {
        Some(pem) => root_store_from_pem(pem)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    Ok(match identity {
        Some((cert_pem, key_pem)) => builder.with_client_auth_cert(
            certificates_from_pem(cert_pem)?,
            private_key_from_pem(key_pem)?,
        )?,
        None => builder.with_no_client_auth(),
    })
}

/// [`client_config`] from files (the reference's `create_client_ssl_context(ca_path,
/// cert_path, key_path)`; the client certificate is used only when both paths are given).
///
/// # Errors
/// [`TlsError::Io`] for an unreadable file, otherwise as [`client_config`].
pub fn client_config_from_files(
    ca_path: Option<&Path>,
    cert_path: Option<&Path>,
    key_path: Option<&Path>,
) -> Result<ClientConfig, TlsError> {
    let ca = ca_path.map(read).transpose()?;
    let identity = match (cert_path, key_path) {
        (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
        _ => None,
    };
    client_config(
        ca.as_deref(),
        identity.as_ref().map(|(c, k)| (c.as_slice(), k.as_slice())),
    )
}

fn parse(der: &[u8]) -> Result<x509_parser::certificate::X509Certificate<'_>, TlsError> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c)
        .map_err(|e| TlsError::InvalidCertificate(e.to_string()))
}

/// The identity of a DER certificate: the first Common Name of its subject, or `None` when the
/// subject has no (UTF-8 representable) CN.
///
/// # Errors
/// [`TlsError::InvalidCertificate`] when the DER is not an X.509 certificate.
pub fn certificate_identity(der: &[u8]) -> Result<Option<String>, TlsError> {
    let cert = parse(der)?;
    Ok(cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned))
}

/// The identity of a TLS peer (the listener's view of a client, spec §5.2): the first subject
/// CN of its end-entity certificate; `None` without a client certificate or CN.
#[must_use]
pub fn peer_identity(peer_certificates: Option<&[CertificateDer<'_>]>) -> Option<String> {
    certificate_identity(peer_certificates?.first()?)
        .ok()
        .flatten()
}

/// Checks that `now` lies in a DER certificate's validity window.
///
/// # Errors
/// [`TlsError::Expired`], [`TlsError::NotYetValid`] or [`TlsError::InvalidCertificate`].
pub fn check_validity(der: &[u8], now: SystemTime) -> Result<(), TlsError> {
    let cert = parse(der)?;
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let validity = cert.validity();
    let (not_before, not_after) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now > not_after {
        return Err(TlsError::Expired { not_after, now });
    }
    if now < not_before {
        return Err(TlsError::NotYetValid { not_before, now });
    }
    Ok(())
}

/// [`check_validity`] for every certificate of a PEM input, against the system clock.
///
/// # Errors
/// As [`certificates_from_pem`] and [`check_validity`].
pub fn check_pem_validity(pem: &[u8]) -> Result<(), TlsError> {
    let now = SystemTime::now();
    certificates_from_pem(pem)?
        .iter()
        .try_for_each(|c| check_validity(c, now))
}
