//! Identifier validation (spec §13): worker ids, job ids, task types, skill names.
//!
//! The rule is `^[a-zA-Z0-9_-]+$`, and 1.0b17 adds a limit of 128 characters. The reference's
//! regular expression also accepts one trailing newline (`"abc\n"`); we reproduce that by
//! default for identical decisions in a mixed deployment, and [`validate_identifier_strict`]
//! refuses it (see `docs/COMPATIBILITY.md`).

use crate::wire::ProtocolVersion;
use std::fmt;

/// Longest identifier 1.0b17 accepts.
pub const MAX_IDENTIFIER_LEN: usize = 128;

/// An identifier that breaks the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidIdentifier {
    /// What kind of identifier (`worker_id`, ...).
    pub name: String,
    /// The offending value.
    pub value: String,
    /// The version whose rule was applied.
    pub version: ProtocolVersion,
}

impl fmt::Display for InvalidIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid {}: '{}'. Must be alphanumeric, underscores, or hyphens only",
            self.name, self.value
        )?;
        match self.version {
            ProtocolVersion::V1_0b9 => f.write_str("."),
            ProtocolVersion::V1_0b17 => write!(f, " (max {MAX_IDENTIFIER_LEN} characters)."),
        }
    }
}

impl std::error::Error for InvalidIdentifier {}

fn body_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `value` is a valid identifier under `version`, exactly as the reference decides
/// (including its acceptance of one trailing `\n`; the length limit counts that newline).
#[must_use]
pub fn is_valid_identifier(value: &str, version: ProtocolVersion) -> bool {
    if version == ProtocolVersion::V1_0b17 && value.chars().count() > MAX_IDENTIFIER_LEN {
        return false;
    }
    body_ok(value.strip_suffix('\n').unwrap_or(value))
}

/// Validates an identifier, with the reference's error text.
///
/// # Errors
/// [`InvalidIdentifier`] when the rule is broken.
pub fn validate_identifier(
    value: &str,
    name: &str,
    version: ProtocolVersion,
) -> Result<(), InvalidIdentifier> {
    checked(is_valid_identifier(value, version), value, name, version)
}

/// Validates an identifier without the trailing-newline quirk (what a listener should use on
/// path segments).
///
/// # Errors
/// [`InvalidIdentifier`] when the rule is broken.
pub fn validate_identifier_strict(
    value: &str,
    name: &str,
    version: ProtocolVersion,
) -> Result<(), InvalidIdentifier> {
    let ok = !value.ends_with('\n') && is_valid_identifier(value, version);
    checked(ok, value, name, version)
}

fn checked(
    ok: bool,
    value: &str,
    name: &str,
    version: ProtocolVersion,
) -> Result<(), InvalidIdentifier> {
    if ok {
        Ok(())
    } else {
        Err(InvalidIdentifier {
            name: name.to_owned(),
            value: value.to_owned(),
            version,
        })
    }
}
