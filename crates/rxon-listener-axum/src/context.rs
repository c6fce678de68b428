//! Building the [`RequestContext`] of a request (spec §5.2).

use crate::serve::ClientIdentity;
use http::HeaderName;
use http::request::Parts;
use rxon_core::{ProtocolVersion, RequestContext, TransportKind};
use std::borrow::Cow;
use std::time::Duration;

// The request headers of spec §2.3, parsed once (a `&str` name is parsed on every lookup).
pub(crate) const WORKER_TOKEN: HeaderName = HeaderName::from_static("x-worker-token");
pub(crate) const WORKER_ID: HeaderName = HeaderName::from_static("x-worker-id");
pub(crate) const VERSION: HeaderName = HeaderName::from_static("x-rxon-version");

/// What the context is built from: the few parts of a request the endpoints read, whichever
/// HTTP implementation parsed it. Header values are those `HeaderValue::to_str` accepts (the
/// first of repeated headers).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RequestHead<'a> {
    /// `X-Worker-Token`.
    pub(crate) token: Option<&'a str>,
    /// `X-RXON-Version`.
    pub(crate) version: Option<&'a str>,
    /// `X-Worker-ID`.
    pub(crate) worker_id: Option<&'a str>,
    /// The query string, without `?` (empty when none).
    pub(crate) query: &'a str,
    /// The client certificate's CN (mTLS).
    pub(crate) identity: Option<&'a str>,
}

impl<'a> RequestHead<'a> {
    /// The head of an `http` request.
    pub(crate) fn from_parts(parts: &'a Parts) -> Self {
        let header = |name: &HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        Self {
            token: header(&WORKER_TOKEN),
            version: header(&VERSION),
            worker_id: header(&WORKER_ID),
            query: parts.uri.query().unwrap_or(""),
            identity: parts
                .extensions
                .get::<ClientIdentity>()
                .map(|c| c.0.as_str()),
        }
    }
}

/// The context of a request; `path_worker_id` is the `{worker_id}` of poll, heartbeat and WS.
pub(crate) fn build(
    head: &RequestHead<'_>,
    profile: ProtocolVersion,
    path_worker_id: Option<&str>,
    poll: bool,
) -> RequestContext {
    let mut cx = RequestContext::default();
    cx.token = head.token.map(str::to_owned);
    cx.protocol_version = head.version.map(str::to_owned);
    cx.cert_identity = head.identity.map(str::to_owned);
    cx.worker_id_hint = match (path_worker_id, profile) {
        (Some(id), _) => Some(id.to_owned()),
        (None, ProtocolVersion::V1_0b17) => head.worker_id.map(str::to_owned),
        (None, _) => None,
    };
    cx.transport = TransportKind::Http;
    cx.profile = profile;
    if poll {
        let [timeout, available, hot] =
            query_params(head.query, ["timeout", "available_skills", "hot_skills"]);
        if let Some(t) = timeout {
            cx.poll_timeout = parse_seconds(&t);
        }
        if profile == ProtocolVersion::V1_0b17 {
            cx.available_skills = available.map(|v| split_skills(&v));
            cx.hot_skills = hot.map(|v| split_skills(&v));
        }
    }
    cx
}

/// A float number of seconds; negative, non-finite or unparsable → `None`.
fn parse_seconds(s: &str) -> Option<Duration> {
    let f: f64 = s.trim().parse().ok()?;
    if f.is_finite() && f >= 0.0 {
        Duration::try_from_secs_f64(f).ok()
    } else {
        None
    }
}

/// Comma split, each item trimmed, empty items dropped.
pub(crate) fn split_skills(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The first value of `key` in a query string, URL-decoded (`+` → space); borrowed from the
/// query when nothing needed decoding.
#[cfg(test)]
fn query_param<'q>(query: &'q str, key: &str) -> Option<Cow<'q, str>> {
    let [v] = query_params(query, [key]);
    v
}

/// The first value of each of `keys` in a query string, in one pass: URL-decoded (`+` →
/// space), borrowed from the query when nothing needed decoding.
fn query_params<'q, const N: usize>(query: &'q str, keys: [&str; N]) -> [Option<Cow<'q, str>>; N] {
    let mut found = [const { None }; N];
    if query.is_empty() {
        return found;
    }
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = url_decode(k);
        if let Some(slot) = keys
            .iter()
            .position(|key| *key == k)
            .and_then(|i| found.get_mut(i))
            .filter(|slot| slot.is_none())
        {
            *slot = Some(url_decode(v));
        }
    }
    found
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn url_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let decoded = match (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => Some(h * 16 + l),
                    _ => None,
                };
                if let Some(d) = decoded {
                    out.push(d);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_the_wire_names() {
        use rxon_core::wire::{AUTH_HEADER_WORKER, AUTH_HEADER_WORKER_ID, PROTOCOL_VERSION_HEADER};
        assert_eq!(
            WORKER_TOKEN.as_str(),
            AUTH_HEADER_WORKER.to_ascii_lowercase()
        );
        assert_eq!(
            WORKER_ID.as_str(),
            AUTH_HEADER_WORKER_ID.to_ascii_lowercase()
        );
        assert_eq!(
            VERSION.as_str(),
            PROTOCOL_VERSION_HEADER.to_ascii_lowercase()
        );
    }

    #[test]
    fn query_rules() {
        assert_eq!(
            query_param(
                "timeout=30.0&available_skills=resize,ocr&hot_skills=",
                "hot_skills"
            )
            .as_deref(),
            Some("")
        );
        assert_eq!(query_param("a=1&a=2", "a").as_deref(), Some("1"));
        assert_eq!(query_param("x=a+b%2Cc", "x").as_deref(), Some("a b,c"));
        assert_eq!(query_param("x", "x").as_deref(), Some(""));
        assert_eq!(query_param("y=1", "x"), None);
        let [t, a, h] = query_params(
            "timeout=1&hot%5Fskills=x+y&timeout=2&z",
            ["timeout", "available_skills", "hot_skills"],
        );
        assert_eq!(
            (t.as_deref(), a.as_deref(), h.as_deref()),
            (Some("1"), None, Some("x y"))
        );
        assert_eq!(split_skills(" a, ,b ,"), vec!["a", "b"]);
        assert!(split_skills("").is_empty());
        assert_eq!(parse_seconds("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("nan"), None);
        assert_eq!(parse_seconds("abc"), None);
    }
}
