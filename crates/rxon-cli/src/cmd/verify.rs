//! `rxon verify`: checks signatures of JSON documents from stdin (spec §10.2, §10.3, §10.6).
//!
//! The document is canonicalized as received (never re-encoded through a model). The signature
//! comes from `--signature` or from the document's own `security.signature`. Prints `valid` or
//! `invalid`; the exit status is 0 only when every document is valid.

use super::sign::{CanonicalOptions, for_each_document, load_key, parse};
use rxon::security::{Ed25519Verifier, HmacVerifier, verify_canonical};
use rxon::{Value, Verifier};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `rxon verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// HMAC-SHA256 shared secret.
    #[arg(
        long,
        value_name = "SECRET",
        conflicts_with = "ed25519_key",
        required_unless_present = "ed25519_key"
    )]
    hmac_secret: Option<String>,
    /// Ed25519 public key (SubjectPublicKeyInfo PEM file).
    #[arg(long, value_name = "FILE")]
    ed25519_key: Option<PathBuf>,
    /// The hex signature; without it, each document's `security.signature` is used.
    #[arg(long, value_name = "HEX")]
    signature: Option<String>,
    #[command(flatten)]
    options: CanonicalOptions,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let verifier = load_key::<Box<dyn Verifier>>(
        args.hmac_secret.as_deref(),
        args.ed25519_key.as_deref(),
        |secret| {
            if secret.is_empty() {
                return Err("the HMAC secret is empty".into());
            }
            Ok(Box::new(HmacVerifier::new(secret)))
        },
        |pem| Ok(Box::new(Ed25519Verifier::from_public_pem(pem)?)),
    )?;
    let ignore = args.options.ignore();
    let mut any_invalid = false;
    let all_ok = for_each_document(args.options.lines, |text| {
        let doc = parse(text)?;
        let signature = match &args.signature {
            Some(s) => s.clone(),
            None => doc
                .get("security")
                .and_then(|s| s.get("signature"))
                .and_then(Value::as_str)
                .ok_or("no signature: give --signature or put it in security.signature")?
                .to_owned(),
        };
        rxon::security::canonical_string(&doc, args.options.profile, &ignore)?;
        let valid = verify_canonical(
            &doc,
            &signature,
            verifier.as_ref(),
            args.options.profile,
            &ignore,
        );
        any_invalid |= !valid;
        Ok(if valid { "valid" } else { "invalid" }.to_owned())
    })?;
    Ok(if all_ok && !any_invalid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
