#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod blob;
pub mod canonical;
pub mod error;
pub mod fuzzing;
pub mod handler;
pub mod ident;
pub mod json;
pub mod matching;
pub mod model;
pub mod normalize;
pub mod sign;
pub mod transport;
pub mod value;
pub mod wire;

#[cfg(feature = "serde")]
mod serde_impl;

pub use blob::{BlobMetadata, BlobProvider, BlobUri};
pub use error::{BoxError, DecodeError, DecodeErrorKind, Error, Result};
pub use handler::{Handler, Incoming, RequestContext, TransportKind};
pub use ident::{is_valid_identifier, validate_identifier};
pub use matching::{DeviceAssignment, MatchError, MatchKind, MatchOptions};
pub use model::{
    DeviceUsage, FileMetadata, HardwareDevice, Heartbeat, HeartbeatReply, InstalledArtifact, Model,
    Resources, ResourcesUsage, ResultReply, SecurityContext, SkillInfo, TaskError, TaskPayload,
    TaskResult, TokenResponse, WorkerCapabilities, WorkerCommand, WorkerEventPayload,
    WorkerRegistration,
};
pub use normalize::EncodeError;
pub use sign::{SignatureAlgorithm, Signer, Verifier};
pub use transport::{BoxFuture, CommandChannel, DynTransport, PollOptions, Transport};
pub use value::{Map, Number, Value};
pub use wire::{ErrorCode, ProtocolVersion};
