//! `rxon match`: placeholder until the matching module lands.
use std::process::ExitCode;

/// Arguments of `rxon match`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args) -> Result<ExitCode, super::CmdError> {
    Err("rxon match is not available yet".into())
}
