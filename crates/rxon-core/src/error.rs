//! The error taxonomy every RXON crate converts into (spec §6.2), each kind mapped to a wire
//! error code.
//!
//! The `Display` text of these errors is meant for people and logs; it is not API and may
//! change. Match on the variants (or use [`Error::code`]) instead. Tokens, keys and signatures
//! never appear in it.

use crate::wire::ErrorCode;
use std::fmt;
use std::time::Duration;

/// A boxed error source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking RXON.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer could not be reached, the connection broke, a request timed out, or the
    /// transport is not connected. Usually worth retrying with backoff.
    Network {
        /// What failed (method and path, and the cause).
        message: String,
        /// The underlying I/O or client error.
        source: Option<BoxError>,
    },
    /// The credential was refused (HTTP 401 after one renewal, or 403). Renew the token or
    /// re-register; retrying as is will not help.
    Auth {
        /// What was refused.
        message: String,
        /// The HTTP status, when the refusal came as one.
        status: Option<u16>,
    },
    /// The peer answered, but not as the protocol says (an HTTP error status, a body that is
    /// not JSON where JSON is due). Look at `status` to decide.
    Protocol {
        /// What was wrong.
        message: String,
        /// The HTTP status, when there was one.
        status: Option<u16>,
    },
    /// HTTP 429: wait `retry_after` (when the peer said) before trying again.
    RateLimited {
        /// The peer's message.
        message: String,
        /// How long the peer asked to wait (`Retry-After`, seconds or HTTP-date).
        retry_after: Option<Duration>,
        /// The wire error code from the body, `LIMIT_EXCEEDED_ERROR` by default.
        code: String,
    },
    /// A message broke the model contract: a required field is missing or a field has the
    /// wrong type. The message names the field.
    Contract(DecodeError),
    /// Task input failed validation (maps to `INVALID_INPUT_ERROR`).
    Validation {
        /// What is invalid.
        message: String,
    },
    /// Downloaded data did not match its metadata (size or ETag).
    Integrity {
        /// What did not match.
        message: String,
    },
    /// A signature, certificate or key check failed, or a key could not be used.
    Security {
        /// What failed.
        message: String,
    },
    /// The worker's and orchestrator's storage configurations differ.
    ConfigMismatch {
        /// What differs.
        message: String,
    },
    /// A value cannot be encoded under the chosen protocol version.
    Encode(crate::normalize::EncodeError),
    /// The operation is not offered by this implementation (e.g. an optional handler method).
    Unsupported {
        /// What is not supported.
        what: String,
    },
    /// The transport or channel was closed.
    Closed,
    /// Anything else; the message says what.
    Internal {
        /// What failed.
        message: String,
        /// The underlying error.
        source: Option<BoxError>,
    },
}

impl Error {
    /// A network error with a message.
    pub fn network(message: impl Into<String>, source: impl Into<Option<BoxError>>) -> Self {
        Self::Network {
            message: message.into(),
            source: source.into(),
        }
    }

    /// A protocol error with an optional HTTP status.
    pub fn protocol(message: impl Into<String>, status: impl Into<Option<u16>>) -> Self {
        Self::Protocol {
            message: message.into(),
            status: status.into(),
        }
    }

    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
            source: None,
        }
    }

    /// The wire error code this error maps to (what a worker puts into `TaskError.code`).
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Network { .. } | Self::Closed => ErrorCode::Transient,
            Self::Auth { .. } | Self::Security { .. } => ErrorCode::Security,
            Self::Protocol { .. } | Self::Internal { .. } => ErrorCode::Internal,
            Self::RateLimited { code, .. } => code.parse().unwrap_or(ErrorCode::LimitExceeded),
            Self::Contract(_) | Self::Encode(_) => ErrorCode::ContractViolation,
            Self::Validation { .. } => ErrorCode::InvalidInput,
            Self::Integrity { .. } | Self::ConfigMismatch { .. } => ErrorCode::IntegrityMismatch,
            Self::Unsupported { .. } => ErrorCode::Permanent,
        }
    }

    /// The HTTP status an orchestrator should answer with for this error (spec §5.4):
    /// 403 for auth and security, 400 for bad input, 429 for rate limits, 503 for closed,
    /// 404 for unsupported, 500 otherwise.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Auth {
                status: Some(s), ..
            } => *s,
            Self::Auth { .. } | Self::Security { .. } => 403,
            Self::Contract(_)
            | Self::Validation { .. }
            | Self::Encode(_)
            | Self::Integrity { .. } => 400,
            Self::ConfigMismatch { .. } => 409,
            Self::RateLimited { .. } => 429,
            Self::Protocol {
                status: Some(s), ..
            } if (400..600).contains(s) => *s,
            Self::Unsupported { .. } => 404,
            Self::Closed | Self::Network { .. } => 503,
            Self::Protocol { .. } | Self::Internal { .. } => 500,
        }
    }

    /// Whether retrying the same call later can succeed (network trouble and rate limits).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Network { .. } | Self::RateLimited { .. })
    }

    /// The wait the peer asked for, for rate-limit errors.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network { message, .. }
            | Self::Auth { message, .. }
            | Self::Protocol { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Validation { message }
            | Self::Integrity { message }
            | Self::Security { message }
            | Self::ConfigMismatch { message }
            | Self::Internal { message, .. } => f.write_str(message),
            Self::Contract(e) => e.fmt(f),
            Self::Encode(e) => e.fmt(f),
            Self::Unsupported { what } => write!(f, "not supported: {what}"),
            Self::Closed => f.write_str("closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Network {
                source: Some(s), ..
            }
            | Self::Internal {
                source: Some(s), ..
            } => Some(&**s),
            Self::Contract(e) => Some(e),
            Self::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Contract(e)
    }
}

impl From<crate::normalize::EncodeError> for Error {
    fn from(e: crate::normalize::EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<crate::json::ParseError> for Error {
    fn from(e: crate::json::ParseError) -> Self {
        Self::Contract(DecodeError::invalid_json(e))
    }
}

/// A message that does not satisfy a model's contract: the field, by JSON path, and why.
///
/// Its `Display` follows the 1.0b17 reference's wording, e.g.
/// ``Failed to instantiate HardwareDevice: Expected `str`, got `int` - at `$.type` ``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The model being decoded (`TaskPayload`, ...), or `JSON` for unparsable text.
    pub model: &'static str,
    /// JSON path of the offending value (`$` for the root, `$.devices[0]`, ...).
    pub path: String,
    /// What is wrong there.
    pub kind: DecodeErrorKind,
}

/// What is wrong with a decoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// A required field is missing from the object at `path`.
    MissingField(&'static str),
    /// The value at `path` has the wrong JSON type.
    WrongType {
        /// The type the model declares (`str`, `int | null`, `object`, ...).
        expected: &'static str,
        /// The JSON type found (`int`, `float`, `null`, ...).
        got: &'static str,
    },
    /// The text is not JSON at all.
    InvalidJson(crate::json::ParseError),
    /// The value at `path` does not satisfy a declared JSON Schema (e.g. a skill's
    /// `output_schema`); the text is the schema validator's message.
    Schema(String),
}

impl DecodeError {
    /// Invalid JSON text.
    #[must_use]
    pub fn invalid_json(e: crate::json::ParseError) -> Self {
        Self {
            model: "JSON",
            path: "$".to_owned(),
            kind: DecodeErrorKind::InvalidJson(e),
        }
    }

    /// The field (last path segment) or the missing field's name.
    #[must_use]
    pub fn field(&self) -> &str {
        match &self.kind {
            DecodeErrorKind::MissingField(f) => f,
            _ => self
                .path
                .rsplit(['.', '['])
                .next()
                .unwrap_or(&self.path)
                .trim_end_matches(']'),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::InvalidJson(e) => e.fmt(f),
            DecodeErrorKind::Schema(message) => f.write_str(message),
            DecodeErrorKind::MissingField(field) => {
                write!(
                    f,
                    "Failed to instantiate {}: Object missing required field `{field}`",
                    self.model
                )?;
                if self.path != "$" {
                    write!(f, " - at `{}`", self.path)?;
                }
                Ok(())
            }
            DecodeErrorKind::WrongType { expected, got } => {
                write!(
                    f,
                    "Failed to instantiate {}: Expected `{expected}`, got `{got}` - at `{}`",
                    self.model, self.path
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}
