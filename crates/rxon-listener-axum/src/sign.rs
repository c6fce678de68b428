//! Credential comparison for the in-memory orchestrator. Signing and verification themselves
//! come from `rxon-security` (HMAC-SHA256 over the canonical form, spec §10).

/// Constant-time string equality (for tokens): the time taken does not depend on where the
/// strings differ.
#[must_use]
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_whole_strings() {
        assert!(constant_time_eq("token", "token"));
        assert!(!constant_time_eq("token", "tokem"));
        assert!(!constant_time_eq("token", "token2"));
        assert!(!constant_time_eq("", "x"));
    }
}
