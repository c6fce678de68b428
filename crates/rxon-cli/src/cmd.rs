//! Subcommands, one module each. Every `run` returns the process exit code, or an error that
//! `main` prints (exit status 2).

pub(crate) mod blob;
pub(crate) mod canonical;
pub(crate) mod demo;
pub(crate) mod keygen;
pub(crate) mod matching;
pub(crate) mod schema;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod submit;
pub(crate) mod verify;
pub(crate) mod worker;

/// Error type of subcommands.
pub(crate) type CmdError = Box<dyn std::error::Error + Send + Sync>;
