//! `rxon keygen`: writes a new Ed25519 key pair as PEM (spec §10.3): a PKCS#8 private key (file
//! mode 0600 on Unix) and a SubjectPublicKeyInfo public key. Existing files are never
//! overwritten.

use rxon::security::Ed25519KeyPairPem;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `rxon keygen`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory for `ed25519_private.pem` and `ed25519_public.pem`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["private", "public"], required_unless_present_all = ["private", "public"])]
    out_dir: Option<PathBuf>,
    /// Private key file.
    #[arg(long, value_name = "FILE", requires = "public")]
    private: Option<PathBuf>,
    /// Public key file.
    #[arg(long, value_name = "FILE", requires = "private")]
    public: Option<PathBuf>,
}

fn write_new(path: &Path, contents: &str, private: bool) -> Result<(), super::CmdError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let (private, public) = match (&args.out_dir, &args.private, &args.public) {
        (Some(dir), _, _) => (
            dir.join("ed25519_private.pem"),
            dir.join("ed25519_public.pem"),
        ),
        (None, Some(private), Some(public)) => (private.clone(), public.clone()),
        _ => return Err("give --out-dir, or both --private and --public".into()),
    };
    let pair = Ed25519KeyPairPem::generate()?;
    write_new(&private, &pair.private_pem, true)?;
    write_new(&public, &pair.public_pem, false)?;
    println!("{}", private.display());
    println!("{}", public.display());
    Ok(ExitCode::SUCCESS)
}
