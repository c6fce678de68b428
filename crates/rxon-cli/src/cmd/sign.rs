//! `rxon sign`: signs JSON documents from stdin (spec §10.1–§10.3) and prints the hex signature.
//!
//! The message is the canonical form of the document (`security`, `_signature` under 1.0b17 and
//! every `--ignore-field` removed), so the printed signature is what belongs in
//! `security.signature`.

use rxon::ProtocolVersion;
use rxon::security::{Ed25519Signer, HmacSigner, canonical_string};
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options shared by `sign`, `verify` and `canonical`.
#[derive(Debug, clap::Args)]
pub(crate) struct CanonicalOptions {
    /// Protocol version whose canonical form is used: 1.0b9 or 1.0b17.
    #[arg(long, default_value = "1.0b17", value_name = "VERSION")]
    pub(crate) profile: ProtocolVersion,
    /// A top-level field left out of the signed form (repeatable; events use `bubbling_chain`).
    #[arg(long = "ignore-field", value_name = "FIELD")]
    pub(crate) ignore_fields: Vec<String>,
    /// Read one JSON document per line and print one result per line; a line that cannot be
    /// processed prints `error: <reason>` and the others go on.
    #[arg(long)]
    pub(crate) lines: bool,
}

impl CanonicalOptions {
    /// The ignore list as borrowed strings.
    pub(crate) fn ignore(&self) -> Vec<&str> {
        self.ignore_fields.iter().map(String::as_str).collect()
    }
}

/// Arguments of `rxon sign`.
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
    /// Ed25519 private key (PKCS#8 PEM file).
    #[arg(long, value_name = "FILE")]
    ed25519_key: Option<PathBuf>,
    #[command(flatten)]
    options: CanonicalOptions,
}

/// Parses one document with the strict reference parser rules.
pub(crate) fn parse(text: &[u8]) -> Result<rxon::Value, super::CmdError> {
    rxon::json::from_slice(text).map_err(|e| e.to_string().into())
}

/// Runs `f` on stdin: the whole input, or each line with `--lines` (printing `error: ...` for a
/// failing line). Returns whether every document succeeded.
pub(crate) fn for_each_document(
    lines: bool,
    mut f: impl FnMut(&[u8]) -> Result<String, super::CmdError>,
) -> Result<bool, super::CmdError> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !lines {
        let mut input = Vec::new();
        stdin.lock().read_to_end(&mut input)?;
        let result = f(&input)?;
        writeln!(out, "{result}")?;
        return Ok(true);
    }
    let mut all_ok = true;
    for line in stdin.lock().split(b'\n') {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        match f(&line) {
            Ok(result) => writeln!(out, "{result}")?,
            Err(e) => {
                all_ok = false;
                writeln!(out, "error: {e}")?;
            }
        }
    }
    out.flush()?;
    Ok(all_ok)
}

/// The key of `--hmac-secret` (made by `hmac`) or of the PEM file `--ed25519-key` (its text
/// made by `ed25519`), for `sign` and `verify`.
pub(crate) fn load_key<T>(
    hmac_secret: Option<&str>,
    ed25519_key: Option<&Path>,
    hmac: impl FnOnce(&str) -> Result<T, super::CmdError>,
    ed25519: impl FnOnce(&str) -> Result<T, super::CmdError>,
) -> Result<T, super::CmdError> {
    match (hmac_secret, ed25519_key) {
        (Some(secret), _) => hmac(secret),
        (None, Some(path)) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            ed25519(&pem)
        }
        (None, None) => Err("give --hmac-secret or --ed25519-key".into()),
    }
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let signer = load_key::<Box<dyn rxon::Signer>>(
        args.hmac_secret.as_deref(),
        args.ed25519_key.as_deref(),
        |secret| Ok(Box::new(HmacSigner::new(secret)?)),
        |pem| Ok(Box::new(Ed25519Signer::from_pkcs8_pem(pem)?)),
    )?;
    let ignore = args.options.ignore();
    let ok = for_each_document(args.options.lines, |text| {
        let doc = parse(text)?;
        let message = canonical_string(&doc, args.options.profile, &ignore)?;
        Ok(signer.sign(message.as_bytes())?)
    })?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
