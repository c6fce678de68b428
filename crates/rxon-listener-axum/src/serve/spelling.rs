//! The exact spelling of `X-RXON-Version` in responses.
//!
//! HTTP header names are case-insensitive, but some reference clients look the version header
//! up by its exact spelling. hyper writes header names in lower or title case
//! (`X-Rxon-Version`) unless a response carries hyper's own record of original spellings, an
//! extension whose type hyper keeps private. Recording the spelling of every request (hyper's
//! `preserve_header_case`) costs an allocation per header on every request, so the record is
//! made once instead: one request carrying the header is parsed over an in-memory pipe at
//! start-up, and its record is attached to every response.

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rxon_core::wire::PROTOCOL_VERSION_HEADER;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Extensions to add to every response so that `X-RXON-Version` is written so; empty (title
/// case then) if the record could not be made.
pub(super) async fn template() -> http::Extensions {
    match tokio::time::timeout(Duration::from_secs(1), capture()).await {
        Ok(Some(ext)) => ext,
        _ => {
            tracing::debug!("no header spelling record; header names go out in title case");
            http::Extensions::new()
        }
    }
}

async fn capture() -> Option<http::Extensions> {
    let (mut client, server) = tokio::io::duplex(1024);
    let seen: Arc<Mutex<Option<http::Extensions>>> = Arc::default();
    let record = seen.clone();
    let svc = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let mut ext = req.extensions().clone();
        ext.remove::<hyper::upgrade::OnUpgrade>();
        *record.lock().unwrap_or_else(PoisonError::into_inner) = Some(ext);
        async { Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new())) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .preserve_header_case(true)
        .serve_connection(TokioIo::new(server), svc);
    let head =
        format!("GET / HTTP/1.1\r\n{PROTOCOL_VERSION_HEADER}: 1\r\nConnection: close\r\n\r\n");
    client.write_all(head.as_bytes()).await.ok()?;
    conn.await.ok()?;
    drop(client);
    seen.lock().unwrap_or_else(PoisonError::into_inner).take()
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_record_is_made() {
        // The record is hyper's private type; the spelling it causes on the wire is checked by
        // the listener's integration tests.
        assert!(!super::template().await.is_empty());
    }
}
