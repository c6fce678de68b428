//! `rxon canonical`: prints the canonical bytes of JSON documents from stdin (spec §10.1) —
//! exactly the message that is signed, followed by a newline.

use super::sign::{CanonicalOptions, for_each_document, parse};
use rxon::security::canonical_string;
use std::process::ExitCode;

/// Arguments of `rxon canonical`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    options: CanonicalOptions,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let ignore = args.options.ignore();
    let ok = for_each_document(args.options.lines, |text| {
        Ok(canonical_string(
            &parse(text)?,
            args.options.profile,
            &ignore,
        )?)
    })?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
