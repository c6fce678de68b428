//! The command socket's URL: `<base with http → ws>/_worker/ws/<worker_id>` (spec §7.1).

use rxon_core::{Error, Result, wire};

/// The WebSocket URL of a worker's command socket.
///
/// `base` may be `http://`, `https://`, `ws://` or `wss://` (schemes are matched
/// case-sensitively, like the reference); `http` becomes `ws` and `https` becomes `wss`; a path
/// prefix is kept and a trailing `/` dropped. Characters of `worker_id` outside the URL's
/// unreserved set are percent-encoded.
///
/// ```
/// use rxon_transport_ws::command_url;
/// assert_eq!(command_url("http://orch:8080/", "worker-1").unwrap(), "ws://orch:8080/_worker/ws/worker-1");
/// assert_eq!(command_url("https://h/api", "w").unwrap(), "wss://h/api/_worker/ws/w");
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for any other scheme.
pub fn command_url(base: &str, worker_id: &str) -> Result<String> {
    let rest = if let Some(r) = base.strip_prefix("https://") {
        format!("wss://{r}")
    } else if let Some(r) = base.strip_prefix("http://") {
        format!("ws://{r}")
    } else if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_owned()
    } else {
        return Err(Error::Unsupported {
            what: format!("WebSocket URL scheme in {base:?}"),
        });
    };
    let trimmed = rest.trim_end_matches('/');
    Ok(format!(
        "{trimmed}{}",
        wire::ws_path(&encode_segment(worker_id))
    ))
}

/// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~`.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_prefixes() {
        assert_eq!(
            command_url("http://127.0.0.1:1", "w").unwrap(),
            "ws://127.0.0.1:1/_worker/ws/w"
        );
        assert_eq!(
            command_url("https://h:443/p/q/", "w").unwrap(),
            "wss://h:443/p/q/_worker/ws/w"
        );
        assert_eq!(command_url("ws://h", "w").unwrap(), "ws://h/_worker/ws/w");
        assert_eq!(
            command_url("wss://h/x", "w").unwrap(),
            "wss://h/x/_worker/ws/w"
        );
        assert!(command_url("ftp://h", "w").is_err());
        assert!(command_url("HTTP://h", "w").is_err());
    }

    #[test]
    fn worker_id_is_escaped() {
        assert_eq!(
            command_url("http://h", "a b/c").unwrap(),
            "ws://h/_worker/ws/a%20b%2Fc"
        );
        assert_eq!(
            command_url("http://h", "é").unwrap(),
            "ws://h/_worker/ws/%C3%A9"
        );
    }
}
