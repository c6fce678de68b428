//! An opt-in replay guard, beyond the reference (which has none; spec §10.6 verifies signatures
//! only).
//!
//! A signed message can be captured and sent again. [`ReplayGuard`] rejects a message whose
//! integer `timestamp` (Unix seconds, as in `TaskResult`, `Heartbeat`, events) is missing or
//! further than `max_age` from now in either direction, and a message whose signature it has
//! already seen within `ttl`. The cache of seen signatures holds at most `capacity` entries (the
//! oldest are evicted first), stores 32-byte digests rather than the signatures, and is shared
//! behind a `Mutex`, so one guard can serve every connection (`&self`).
//!
//! Call it **after** the signature checked out, so that unsigned junk cannot fill the cache.

use ring::digest::{SHA256, digest};
use rxon_core::Value;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Settings of a [`ReplayGuard`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayConfig {
    /// Largest accepted `|now - timestamp|`.
    pub max_age: Duration,
    /// Most signatures remembered at once.
    pub capacity: usize,
    /// How long a seen signature is remembered (should be at least `2 × max_age`, so that a
    /// replay is either still remembered or already too old).
    pub ttl: Duration,
}

impl Default for ReplayConfig {
    /// Five minutes of clock skew, 100 000 signatures, remembered for ten minutes.
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            capacity: 100_000,
            ttl: Duration::from_secs(600),
        }
    }
}

/// Why a message was refused as a possible replay.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayError {
    /// No integer `timestamp` at the top level.
    MissingTimestamp,
    /// The timestamp is further than `max_age` from now.
    Expired {
        /// The message's timestamp (Unix seconds).
        timestamp: i64,
        /// The guard's clock (Unix seconds).
        now: i64,
    },
    /// No `security.signature` string.
    MissingSignature,
    /// The same signature was seen within the TTL.
    Replayed,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTimestamp => f.write_str("message has no integer timestamp"),
            Self::Expired { timestamp, now } => write!(
                f,
                "message timestamp {timestamp} is too far from now ({now})"
            ),
            Self::MissingSignature => f.write_str("message has no signature"),
            Self::Replayed => f.write_str("message was already received (replay)"),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<ReplayError> for rxon_core::Error {
    fn from(e: ReplayError) -> Self {
        Self::Security {
            message: e.to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    /// digest → expiry (Unix seconds).
    expiry: HashMap<[u8; 32], i64>,
    /// Insertion order, for eviction.
    order: VecDeque<([u8; 32], i64)>,
}

/// Rejects stale and repeated signed messages. Thread-safe; memory bounded by `capacity`.
#[derive(Debug)]
pub struct ReplayGuard {
    config: ReplayConfig,
    seen: Mutex<Seen>,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl ReplayGuard {
    /// A guard with these settings.
    #[must_use]
    pub fn new(config: ReplayConfig) -> Self {
        Self {
            config,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> ReplayConfig {
        self.config
    }

    /// Checks a (verified) message against the system clock and records its signature.
    ///
    /// # Errors
    /// A [`ReplayError`] saying why the message is refused.
    pub fn check(&self, message: &Value) -> Result<(), ReplayError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, secs);
        self.check_at(message, now)
    }

    /// As [`ReplayGuard::check`], with `now` in Unix seconds.
    ///
    /// # Errors
    /// A [`ReplayError`] saying why the message is refused.
    pub fn check_at(&self, message: &Value, now: i64) -> Result<(), ReplayError> {
        let ts = message
            .get("timestamp")
            .and_then(Value::as_number)
            .filter(|n| !n.is_float())
            .and_then(|n| n.as_i64())
            .ok_or(ReplayError::MissingTimestamp)?;
        if now.abs_diff(ts) > self.config.max_age.as_secs() {
            return Err(ReplayError::Expired { timestamp: ts, now });
        }
        let sig = message
            .get("security")
            .and_then(|s| s.get("signature"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(ReplayError::MissingSignature)?;
        self.record(sig.as_bytes(), now)
    }

    /// Records a signature seen at `now`; refuses it if already seen and not expired.
    ///
    /// # Errors
    /// [`ReplayError::Replayed`].
    pub fn record(&self, signature: &[u8], now: i64) -> Result<(), ReplayError> {
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, signature).as_ref());
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Drop expired entries from the front (insertion order ≈ expiry order).
        while let Some(&(k, exp)) = seen.order.front() {
            if exp > now {
                break;
            }
            seen.order.pop_front();
            if seen.expiry.get(&k) == Some(&exp) {
                seen.expiry.remove(&k);
            }
        }
        if seen.expiry.get(&key).is_some_and(|&exp| exp > now) {
            return Err(ReplayError::Replayed);
        }
        if self.config.capacity == 0 {
            return Ok(());
        }
        while seen.expiry.len() >= self.config.capacity {
            let Some((k, exp)) = seen.order.pop_front() else {
                break;
            };
            if seen.expiry.get(&k) == Some(&exp) {
                seen.expiry.remove(&k);
            }
        }
        let exp = now.saturating_add(secs(self.config.ttl));
        seen.expiry.insert(key, exp);
        seen.order.push_back((key, exp));
        // With a clock that jumps backwards, superseded entries can linger in the queue; keep
        // it bounded by dropping them.
        if seen.order.len() > self.config.capacity.saturating_mul(2) {
            let Seen { expiry, order } = &mut *seen;
            order.retain(|(k, e)| expiry.get(k) == Some(e));
        }
        Ok(())
    }

    /// How many signatures are remembered now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expiry
            .len()
    }

    /// Whether no signature is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxon_core::json;

    fn msg(ts: &str, sig: &str) -> Value {
        json::from_str(&format!(
            r#"{{"timestamp":{ts},"security":{{"signature":"{sig}"}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn rejects_stale_missing_and_repeated() {
        let g = ReplayGuard::new(ReplayConfig {
            max_age: Duration::from_secs(60),
            capacity: 2,
            ttl: Duration::from_secs(120),
        });
        assert_eq!(g.check_at(&msg("1000", "a"), 1000), Ok(()));
        assert_eq!(
            g.check_at(&msg("1000", "a"), 1010),
            Err(ReplayError::Replayed)
        );
        assert_eq!(
            g.check_at(&msg("900", "b"), 1000),
            Err(ReplayError::Expired {
                timestamp: 900,
                now: 1000
            })
        );
        assert_eq!(
            g.check_at(&msg("1100", "b"), 1000),
            Err(ReplayError::Expired {
                timestamp: 1100,
                now: 1000
            })
        );
        assert_eq!(
            g.check_at(&msg("1000.0", "b"), 1000),
            Err(ReplayError::MissingTimestamp)
        );
        assert_eq!(
            g.check_at(&json::from_str(r#"{"timestamp":1000}"#).unwrap(), 1000),
            Err(ReplayError::MissingSignature)
        );
        // Capacity 2: a third signature evicts the oldest.
        assert_eq!(g.check_at(&msg("1000", "b"), 1000), Ok(()));
        assert_eq!(g.check_at(&msg("1000", "c"), 1000), Ok(()));
        assert_eq!(g.len(), 2);
        assert_eq!(g.check_at(&msg("1000", "a"), 1000), Ok(()));
        // TTL: after 120 s "c" is forgotten.
        assert_eq!(
            g.check_at(&msg("1060", "c"), 1119),
            Err(ReplayError::Replayed)
        );
        assert_eq!(g.record(b"c", 1121), Ok(()));
    }

    #[test]
    fn one_winner_across_threads() {
        let g = std::sync::Arc::new(ReplayGuard::new(ReplayConfig::default()));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || g.check_at(&msg("5000", "same"), 5000).is_ok())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(wins, 1);
        assert_eq!(g.len(), 1);
    }
}
