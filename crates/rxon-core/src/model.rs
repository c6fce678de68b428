//! The wire models of spec §4: every field of 1.0b9 and of 1.0b17 (their union).
//!
//! Fields that have a protocol default are stored as `Option`: `None` means "not sent, the
//! default applies" (accessors such as [`TaskResult::status`] return the effective value). This
//! keeps what was on the wire: 1.0b17 omits a default it was never given and keeps one it was
//! sent, so decoding and re-encoding a message reproduces the reference's bytes.
//!
//! Models are plain structs with public fields, `Default`, and a `new` constructor taking the
//! required fields; build the rest with struct-update syntax:
//!
//! ```
//! use rxon_core::{TaskResult, ProtocolVersion, Model, json};
//! let r = TaskResult {
//!     data: Some(json!({"echo": "hi"}).as_object().cloned().unwrap_or_default()),
//!     ..TaskResult::new("job-1", "task-1")
//! };
//! assert!(r.is_success());
//! assert_eq!(r.to_json(ProtocolVersion::V1_0b17).unwrap(), r#"{"data":{"echo":"hi"},"job_id":"job-1","task_id":"task-1"}"#);
//! ```

pub mod codec;
pub(crate) mod fast;
mod messages;
mod resources;

pub use codec::{Encoder, FieldValue, Fields, Model};
pub use messages::{
    FileMetadata, Heartbeat, HeartbeatReply, ResultReply, SecurityContext, TaskError, TaskPayload,
    TaskResult, TokenResponse, WorkerCommand, WorkerEventPayload, WorkerRegistration,
};
pub use resources::{
    DeviceUsage, HardwareDevice, InstalledArtifact, Resources, ResourcesUsage, SkillInfo,
    WorkerCapabilities,
};

/// Defines a model struct and its [`Model`] implementation from a field table.
///
/// Field kinds: `req` (required), `opt` (optional), `def(d)` (default `d`, stored as `Option`),
/// `def_int(d)` (integer default with the small-int omission rule), `b17`/`b9` (optional field
/// that exists in one version only), `b17_def_int(d)`/`b9_def_int(d)` (the same for integer
/// defaults), `opt_as("type")` (optional with a custom expected-type name).
macro_rules! model {
    (
        $(#[$sm:meta])*
        $name:ident {
            $( $(#[$fm:meta])* $field:ident : $ty:ty = $kind:ident $( ( $($arg:expr),* ) )? as $key:literal ),* $(,)?
        }
    ) => {
        $(#[$sm])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fm])* pub $field: $ty, )*
        }

        impl $crate::model::codec::Model for $name {
            const NAME: &'static str = stringify!($name);

            fn decode_fields(d: &$crate::model::codec::Fields<'_>) -> Result<Self, $crate::error::DecodeError> {
                Ok(Self { $( $field: model!(@dec d, $kind $( ( $($arg),* ) )?, $key), )* })
            }

            fn encode_fields(&self, e: &mut $crate::model::codec::Encoder) {
                $( model!(@enc e, self.$field, $kind $( ( $($arg),* ) )?, $key); )*
            }

            fn from_json(text: &[u8]) -> Result<Self, $crate::error::DecodeError> {
                match $crate::model::fast::decode_root::<Self>(text) {
                    Some(m) => Ok(m),
                    None => $crate::model::codec::from_json_via_value(text),
                }
            }

            fn to_json(
                &self,
                version: $crate::wire::ProtocolVersion,
            ) -> Result<String, $crate::normalize::EncodeError> {
                // The size of the last message of this type, so the text is rarely regrown.
                static HINT: ::std::sync::atomic::AtomicUsize =
                    ::std::sync::atomic::AtomicUsize::new(256);
                let hint = HINT.load(::std::sync::atomic::Ordering::Relaxed);
                let mut out = String::with_capacity(hint);
                self.write_json(&mut out, version)?;
                let len = (out.len() + 64).min(1 << 16);
                if len != hint {
                    HINT.store(len, ::std::sync::atomic::Ordering::Relaxed);
                }
                Ok(out)
            }

            fn write_object(
                &self,
                out: &mut String,
                version: $crate::wire::ProtocolVersion,
                depth: usize,
            ) -> Result<(), $crate::normalize::EncodeError> {
                const TABLE: &$crate::model::codec::FieldTable<$name> = &[
                    $( (concat!("\"", $key, "\":"), |s: &$name, e: &mut $crate::model::codec::Encoder| {
                        model!(@enc e, s.$field, $kind $( ( $($arg),* ) )?, $key);
                    }), )*
                ];
                const N: usize = TABLE.len();
                const ORDER: [usize; N] = $crate::model::codec::sorted_order::<N>([ $( $key ),* ]);
                $crate::model::codec::write_with_table(self, TABLE, &ORDER, out, version, depth)
            }
        }

        impl $crate::model::fast::FastModel for $name {
            fn fast_object(p: &mut $crate::json::Parser<'_>, depth: usize) -> Option<Self> {
                $( let mut $field: Option<$ty> = None; )*
                $crate::model::fast::object(p, depth, |p, d| {
                    match $crate::model::fast::model_key(p)? {
                        $( $key => $field = Some(model!(@fast p, d, $kind $( ( $($arg),* ) )?)), )*
                        _ => $crate::model::fast::skip(p, d)?,
                    }
                    Some(())
                })?;
                Some(Self { $( $field: model!(@fin $field, $kind $( ( $($arg),* ) )?), )* })
            }
        }

        impl $crate::model::fast::FastField for $name {
            fn fast(p: &mut $crate::json::Parser<'_>, depth: usize) -> Option<Self> {
                <Self as $crate::model::fast::FastModel>::fast_object(p, depth + 1)
            }
        }

        $crate::model::codec::model_field!($name);
    };

    (@fast $p:ident, $d:ident, req) => { $crate::model::fast::req($p, $d)? };
    (@fast $p:ident, $d:ident, opt) => { $crate::model::fast::opt($p, $d)? };
    (@fast $p:ident, $d:ident, b17) => { $crate::model::fast::opt($p, $d)? };
    (@fast $p:ident, $d:ident, b9) => { $crate::model::fast::opt($p, $d)? };
    (@fast $p:ident, $d:ident, opt_as($t:expr)) => { $crate::model::fast::opt($p, $d)? };
    (@fast $p:ident, $d:ident, $other:ident ( $($a:expr),* )) => { $crate::model::fast::defaulted($p, $d)? };

    (@fin $f:ident, req) => { $f? };
    (@fin $f:ident, $other:ident $( ( $($a:expr),* ) )?) => { $f.flatten() };

    (@dec $d:ident, req, $key:literal) => { $d.req($key)? };
    (@dec $d:ident, opt, $key:literal) => { $d.opt($key)? };
    (@dec $d:ident, b17, $key:literal) => { $d.opt($key)? };
    (@dec $d:ident, b9, $key:literal) => { $d.opt($key)? };
    (@dec $d:ident, opt_as($t:expr), $key:literal) => { $d.opt_as($key, $t)? };
    (@dec $d:ident, $other:ident ( $($a:expr),* ), $key:literal) => { $d.defaulted($key)? };

    (@enc $e:ident, $v:expr, req, $key:literal) => { $e.req($key, &$v) };
    (@enc $e:ident, $v:expr, opt, $key:literal) => { $e.opt($key, $v.as_ref()) };
    (@enc $e:ident, $v:expr, opt_as($t:expr), $key:literal) => { $e.opt($key, $v.as_ref()) };
    (@enc $e:ident, $v:expr, b17, $key:literal) => { $e.b17_opt($key, $v.as_ref()) };
    (@enc $e:ident, $v:expr, b9, $key:literal) => { $e.b9_opt($key, $v.as_ref()) };
    (@enc $e:ident, $v:expr, def($d:expr), $key:literal) => { $e.defaulted($key, $v.as_ref(), &$d) };
    (@enc $e:ident, $v:expr, def_int($d:expr), $key:literal) => { $e.defaulted_int($key, $v, $d) };
    (@enc $e:ident, $v:expr, b17_def_int($d:expr), $key:literal) => {
        if $e.version() == $crate::wire::ProtocolVersion::V1_0b17 { $e.defaulted_int($key, $v, $d) }
    };
    (@enc $e:ident, $v:expr, b9_def_int($d:expr), $key:literal) => {
        if $e.version() == $crate::wire::ProtocolVersion::V1_0b9 { $e.defaulted_int($key, $v, $d) }
    };
}
pub(crate) use model;
