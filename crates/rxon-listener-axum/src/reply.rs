//! Responses: JSON bodies encoded with the profile's encoder, and errors mapped to statuses
//! (spec §5.3, §5.4).

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use rxon_core::wire::ErrorCode;
use rxon_core::{Error, ProtocolVersion, Value};

/// `application/json; charset=utf-8`.
pub(crate) const JSON_CONTENT_TYPE: HeaderValue =
    HeaderValue::from_static("application/json; charset=utf-8");
const TEXT_CONTENT_TYPE: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// A response with a ready JSON body.
pub(crate) fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, JSON_CONTENT_TYPE);
    r
}

/// Encodes `v` with the profile's encoder (1.0b9 drops nulls; 1.0b17 sorts keys, ...).
pub(crate) fn encode(v: &Value, profile: ProtocolVersion) -> Result<String, Error> {
    let mut out = String::with_capacity(128);
    rxon_core::normalize::write_normalized(&mut out, v, profile)?;
    Ok(out)
}

/// A 200 JSON response with `v`; an unencodable value becomes a 500.
pub(crate) fn json_value(v: &Value, profile: ProtocolVersion) -> Response {
    match encode(v, profile) {
        Ok(s) => json_bytes(StatusCode::OK, s),
        Err(e) => error(
            &Error::Internal {
                message: format!("cannot encode the reply: {e}"),
                source: None,
            },
            profile,
        ),
    }
}

/// A JSON error body `{"error": msg}` (with `code` when given).
pub(crate) fn error_body(
    status: StatusCode,
    code: Option<&str>,
    message: &str,
    profile: ProtocolVersion,
) -> Response {
    let mut m = rxon_core::Map::new();
    if let Some(c) = code {
        m.insert("code", Value::String(c.to_owned()));
    }
    m.insert("error", Value::String(message.to_owned()));
    let text = encode(&Value::Object(m), profile)
        .unwrap_or_else(|_| String::from("{\"error\":\"error\"}"));
    json_bytes(status, text)
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, message: &str) -> Response {
    let mut r = Response::new(Body::from(message.to_owned()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, TEXT_CONTENT_TYPE);
    r
}

/// Maps a handler or decoding error to its response (spec §5.4): 403 auth/security, 400 bad
/// input (with `CONTRACT_VIOLATION_ERROR` for JSON and model errors), 429 with `Retry-After`,
/// 503 unavailable, and 500 with a generic message (the detail is logged, never sent).
pub(crate) fn error(err: &Error, profile: ProtocolVersion) -> Response {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(error = %err, status = status.as_u16(), "handler failed");
        return error_body(status, None, "Internal Server Error", profile);
    }
    match err {
        Error::RateLimited {
            message,
            retry_after,
            ..
        } => {
            let mut r = error_body(status, Some(err.code().as_str()), message, profile);
            let secs = retry_after
                .map_or(1, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
                .max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Error::Contract(_) | Error::Encode(_) => error_body(
            status,
            Some(ErrorCode::ContractViolation.as_str()),
            &err.to_string(),
            profile,
        ),
        _ => error_body(status, None, &err.to_string(), profile),
    }
}
