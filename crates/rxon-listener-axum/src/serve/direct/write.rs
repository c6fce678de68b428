//! Writing a response head for the direct path, spelled as the hyper path spells it (see
//! `serve::spelling`): `X-RXON-Version` so, every other name in title case.

use crate::context::VERSION;
use http::{HeaderMap, HeaderName, StatusCode};
use rxon_core::ProtocolVersion;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `Date` header value, formatted once a second.
#[derive(Debug, Default)]
pub(super) struct DateCache {
    secs: u64,
    text: String,
}

impl DateCache {
    fn now(&mut self) -> &str {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if secs != self.secs || self.text.is_empty() {
            self.text = httpdate::fmt_http_date(now);
            self.secs = secs;
        }
        &self.text
    }
}

/// Appends the head of a response with a `body_len`-byte body to `out`. The profile's
/// `X-RXON-Version` is added unless the response has one; `Content-Length` (except where a
/// body is not allowed), `Connection: close` when closing, and `Date` are written here.
pub(super) fn head(
    out: &mut Vec<u8>,
    status: StatusCode,
    headers: &HeaderMap,
    profile: ProtocolVersion,
    body_len: usize,
    close: bool,
    date: &mut DateCache,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if is_framing(name) {
            continue;
        }
        spell(out, name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(VERSION) {
        out.extend_from_slice(b"X-RXON-Version: ");
        out.extend_from_slice(profile.as_str().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if !bodiless {
        // Writing to a `Vec` cannot fail.
        let _ = write!(out, "Content-Length: {body_len}\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(date.now().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

/// Headers this writer sets itself.
fn is_framing(name: &HeaderName) -> bool {
    name == http::header::CONTENT_LENGTH
        || name == http::header::TRANSFER_ENCODING
        || name == http::header::CONNECTION
        || name == http::header::DATE
}

/// A header name as the listener spells it.
fn spell(out: &mut Vec<u8>, name: &HeaderName) {
    if name == VERSION {
        out.extend_from_slice(b"X-RXON-Version");
        return;
    }
    let mut upper = true;
    for &b in name.as_str().as_bytes() {
        out.push(if upper { b.to_ascii_uppercase() } else { b });
        upper = b == b'-';
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::HeaderValue;

    #[test]
    fn heads_are_spelled_and_framed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("3"));
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        let mut out = Vec::new();
        let mut date = DateCache::default();
        head(
            &mut out,
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            ProtocolVersion::V1_0b9,
            1234,
            true,
            &mut date,
        );
        let text = String::from_utf8(out).unwrap();
        let (before, date_line) = text.split_once("Date: ").unwrap();
        assert_eq!(
            before,
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 3\r\nX-RXON-Version: 1.0b9\r\nContent-Length: 1234\r\nConnection: close\r\n"
        );
        assert!(date_line.ends_with(" GMT\r\n\r\n"), "{date_line:?}");
        assert!(httpdate::parse_http_date(date_line.trim_end()).is_ok());

        let mut out = Vec::new();
        head(
            &mut out,
            StatusCode::NO_CONTENT,
            &HeaderMap::new(),
            ProtocolVersion::V1_0b17,
            0,
            false,
            &mut date,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 204 No Content\r\nX-RXON-Version: 1.0b17\r\nDate: "));
    }
}
