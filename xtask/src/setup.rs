//! `cargo xtask setup`: installs what the tests need, each part only when missing or outdated.
//!
//! - the reference Python venvs (rxon 1.0b9 and 1.0b17), by running the conformance kit's
//!   `setup.sh` from `../shared` and reading the `KEY=VALUE` lines it prints;
//! - a pinned cargo-deny;
//! - a venv with the moto S3-compatible server, used by the blob tests;
//! - venvs with the live ecosystem packages `avtomatika` and `avtomatika-worker` (best effort: a
//!   failed install is a warning, and the tests that need them skip).
//!
//! The variables are passed to the child processes of `ci` and `test`, and written to
//! `target/rxon-env.sh` for use from a shell. A variable already set in the environment wins.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::shell::{self, Ctx, Result};

/// The cargo-deny release the `deny.toml` schema is written for.
pub(crate) const CARGO_DENY_VERSION: &str = "0.20.2";
/// The S3-compatible server the blob tests start on loopback.
const MOTO_REQUIREMENT: &str = "moto[server]==5.2.5";
/// The orchestrator of the live ecosystem (speaks rxon 1.0b17).
const AVTOMATIKA_REQUIREMENT: &str = "avtomatika==1.0b30";
/// The worker SDK of the live ecosystem (speaks rxon 1.0b17).
const AVTOMATIKA_WORKER_REQUIREMENT: &str = "avtomatika-worker==1.0b20";
/// The variables the conformance kit's `setup.sh` prints; the last two are required.
const CONFORMANCE_KEYS: [&str; 3] = ["RXON_CONFORMANCE_VENV", "RXON_B9_PYTHON", "RXON_B17_PYTHON"];
/// The oldest Python the reference packages support.
const MIN_PYTHON: (u32, u32) = (3, 11);
/// Name of the stamp file that records what a venv was built from.
const STAMP: &str = ".rxon-rs-stamp";

/// Runs every part of the setup.
pub(crate) fn run(ctx: &mut Ctx) -> Result {
    python(ctx)?;
    cargo_deny(ctx)
}

/// The Python part (everything but cargo-deny): fills `ctx.env` and writes the env file.
pub(crate) fn python(ctx: &mut Ctx) -> Result {
    let mut vars = conformance(ctx)?;

    let cache = cache_dir()?;
    fs::create_dir_all(&cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    // Serialise two setups on one machine; the lock is released when the file is dropped.
    let lock_path = cache.join(".setup.lock");
    let lock = fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let python = BasePython::find(ctx)?;

    let moto = cache.join("moto");
    ensure_venv(ctx, &python, &moto, MOTO_REQUIREMENT, "bin/moto_server")?;
    vars.push(var("RXON_MOTO_SERVER", &moto.join("bin/moto_server")));

    for (key, name, requirement) in [
        ("RXON_AVT_PYTHON", "avtomatika", AVTOMATIKA_REQUIREMENT),
        (
            "RXON_AVT_WORKER_PYTHON",
            "avtomatika-worker",
            AVTOMATIKA_WORKER_REQUIREMENT,
        ),
    ] {
        let dir = cache.join(name);
        match ensure_venv(ctx, &python, &dir, requirement, "bin/python") {
            Ok(()) => vars.push(var(key, &dir.join("bin/python"))),
            Err(e) => eprintln!(
                "setup: WARNING: {requirement} could not be installed ({e}); \
                 {key} stays unset and the tests that need it will skip"
            ),
        }
    }
    drop(lock);

    apply(ctx, vars);
    write_env_file(ctx)
}

/// Installs the pinned cargo-deny unless `cargo deny --version` already reports it.
pub(crate) fn cargo_deny(ctx: &Ctx) -> Result {
    let current = shell::probe(&mut ctx.cargo(&["deny", "--version"]));
    if current
        .as_deref()
        .is_some_and(|out| reports_version(out, CARGO_DENY_VERSION))
    {
        eprintln!("setup: cargo-deny {CARGO_DENY_VERSION}: up to date");
        return Ok(());
    }
    eprintln!("setup: cargo-deny {CARGO_DENY_VERSION}: installing (a few minutes)");
    shell::run(&mut ctx.cargo(&[
        "install",
        "--locked",
        "cargo-deny",
        "--version",
        CARGO_DENY_VERSION,
    ]))
}

/// Whether a `--version` line such as `cargo-deny 0.20.2` names exactly `version`.
fn reports_version(output: &str, version: &str) -> bool {
    output.split_whitespace().any(|word| word == version)
}

/// Runs `../shared/conformance/setup.sh` and returns the variables it printed.
fn conformance(ctx: &Ctx) -> Result<Vec<(String, String)>> {
    let script = ctx
        .root
        .parent()
        .map(|p| p.join("shared/conformance/setup.sh"))
        .filter(|p| p.is_file());
    let Some(script) = script else {
        let message = "the conformance kit ../shared/conformance/setup.sh is not beside the \
                       checkout; the interop tests cannot run";
        if ctx.ci {
            return Err(message.to_owned());
        }
        eprintln!("setup: WARNING: {message} and will skip");
        return Ok(Vec::new());
    };
    let stdout = shell::output(ctx.cmd("bash").arg(&script))?;
    parse_exports(&stdout)
}

/// Reads the `KEY=VALUE` lines of `setup.sh`'s stdout, keeping the known keys.
fn parse_exports(stdout: &str) -> Result<Vec<(String, String)>> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        let Some((key, value)) = line.trim_end_matches('\r').split_once('=') else {
            continue;
        };
        let key = key.trim();
        if CONFORMANCE_KEYS.contains(&key) && !value.is_empty() {
            vars.retain(|(k, _)| k != key);
            vars.push((key.to_owned(), value.to_owned()));
        }
    }
    for required in &CONFORMANCE_KEYS[1..] {
        if !vars.iter().any(|(k, _)| k == required) {
            return Err(format!(
                "conformance setup.sh did not print {required}=...; it printed:\n{stdout}"
            ));
        }
    }
    Ok(vars)
}

/// `$HOME/.cache/rxon-rs`.
fn cache_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cache").join("rxon-rs"))
}

/// The base interpreter that venvs are created from.
#[derive(Debug)]
struct BasePython {
    program: String,
    version: String,
}

impl BasePython {
    /// `python3` (or `RXON_CONFORMANCE_PYTHON`), checked to be at least 3.11.
    fn find(ctx: &Ctx) -> Result<Self> {
        let program = std::env::var("RXON_CONFORMANCE_PYTHON")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "python3".to_owned());
        let out = shell::probe(
            ctx.cmd(&program)
                .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]),
        )
        .ok_or_else(|| format!("cannot run `{program}`; Python 3.11 or newer is required"))?;
        let version = out.trim().to_owned();
        if !at_least(&version, MIN_PYTHON) {
            return Err(format!(
                "`{program}` is Python {version}; 3.11 or newer is required \
                 (set RXON_CONFORMANCE_PYTHON to another interpreter)"
            ));
        }
        Ok(Self { program, version })
    }
}

/// Whether a dotted version is at least `major.minor`.
fn at_least(version: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}

/// What a venv's stamp file holds: the requirement and the interpreter version it was built with.
fn stamp(requirement: &str, python_version: &str) -> String {
    format!("requirement={requirement} python={python_version}\n")
}

/// Creates `dir` as a venv with `requirement` installed, unless its stamp says it already is.
fn ensure_venv(
    ctx: &Ctx,
    python: &BasePython,
    dir: &Path,
    requirement: &str,
    check: &str,
) -> Result {
    let stamp_path = dir.join(STAMP);
    let want = stamp(requirement, &python.version);
    let have = fs::read_to_string(&stamp_path).ok();
    if have.as_deref() == Some(want.as_str()) && dir.join(check).exists() {
        eprintln!("setup: {requirement}: up to date ({})", dir.display());
        return Ok(());
    }
    if dir.exists() {
        // Only ever delete something that is recognisably a venv.
        if !dir.join("pyvenv.cfg").is_file() {
            return Err(format!(
                "{} exists and is not a venv; refusing to replace it",
                dir.display()
            ));
        }
        fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    eprintln!(
        "setup: {requirement}: creating {} with Python {}",
        dir.display(),
        python.version
    );
    shell::run(ctx.cmd(&python.program).arg("-m").arg("venv").arg(dir))
        .map_err(|e| format!("{e}; is the venv module installed (Debian: python3-venv)?"))?;
    shell::run(ctx.cmd(dir.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
        requirement,
    ]))?;
    if !dir.join(check).exists() {
        return Err(format!(
            "{requirement} installed but {} is missing",
            dir.join(check).display()
        ));
    }
    fs::write(&stamp_path, want)
        .map_err(|e| format!("cannot write {}: {e}", stamp_path.display()))?;
    eprintln!("setup: {requirement}: ready");
    Ok(())
}

fn var(key: &str, path: &Path) -> (String, String) {
    (key.to_owned(), path.to_string_lossy().into_owned())
}

/// Adds the variables to `ctx.env`; a value already set in this process's environment wins.
fn apply(ctx: &mut Ctx, vars: Vec<(String, String)>) {
    for (key, value) in vars {
        let value = match std::env::var(&key) {
            Ok(mine) if !mine.is_empty() && mine != value => {
                eprintln!("setup: {key}: keeping the value from the environment ({mine})");
                mine
            }
            _ => value,
        };
        ctx.env.retain(|(k, _)| *k != key);
        ctx.env.push((key, value));
    }
}

/// Writes `target/rxon-env.sh` with one `export` line per variable.
fn write_env_file(ctx: &Ctx) -> Result {
    let dir = ctx.target_dir();
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("rxon-env.sh");
    let ours: Vec<(String, String)> = ctx
        .env
        .iter()
        .filter(|(key, _)| key.starts_with("RXON_"))
        .cloned()
        .collect();
    let text = env_file(&ours);
    if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        let mut file =
            fs::File::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        file.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    eprintln!("setup: variables written to {}", path.display());
    Ok(())
}

/// The env file's text: `export KEY='value'` lines, quoted for POSIX shells.
fn env_file(vars: &[(String, String)]) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask setup`. Load it with `. target/rxon-env.sh` to run tests by hand.\n",
    );
    for (key, value) in vars {
        text.push_str(&format!(
            "export {key}='{}'\n",
            value.replace('\'', r"'\''")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_conformance_output() {
        let out = "RXON_CONFORMANCE_VENV=/h/.cache/rxon-conformance\n\
                   RXON_B9_PYTHON=/h/.cache/rxon-conformance/b9/bin/python\n\
                   RXON_B17_PYTHON=/h/.cache/rxon-conformance/b17/bin/python\n";
        let vars = parse_exports(out).unwrap();
        assert_eq!(
            vars,
            vec![
                (
                    "RXON_CONFORMANCE_VENV".to_owned(),
                    "/h/.cache/rxon-conformance".to_owned()
                ),
                (
                    "RXON_B9_PYTHON".to_owned(),
                    "/h/.cache/rxon-conformance/b9/bin/python".to_owned()
                ),
                (
                    "RXON_B17_PYTHON".to_owned(),
                    "/h/.cache/rxon-conformance/b17/bin/python".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn ignores_noise_and_keeps_the_last_value() {
        let out = "some progress line\r\n\
                   OTHER=1\n\
                   RXON_B9_PYTHON=/old\n\
                   RXON_B9_PYTHON=/a b/python=9\r\n\
                   RXON_B17_PYTHON=/c/python\n";
        let vars = parse_exports(out).unwrap();
        assert_eq!(
            vars,
            vec![
                ("RXON_B9_PYTHON".to_owned(), "/a b/python=9".to_owned()),
                ("RXON_B17_PYTHON".to_owned(), "/c/python".to_owned()),
            ]
        );
    }

    #[test]
    fn missing_interpreter_is_an_error() {
        assert!(parse_exports("RXON_B9_PYTHON=/a\n").is_err());
        assert!(parse_exports("").is_err());
        assert!(parse_exports("RXON_B9_PYTHON=\nRXON_B17_PYTHON=/b\n").is_err());
    }

    #[test]
    fn version_checks() {
        assert!(reports_version("cargo-deny 0.20.2\n", "0.20.2"));
        assert!(!reports_version("cargo-deny 0.20.1\n", "0.20.2"));
        assert!(!reports_version("cargo-deny 0.20.25\n", "0.20.2"));
        assert!(!reports_version("", "0.20.2"));
        assert!(at_least("3.11.7", (3, 11)));
        assert!(at_least("3.13.0", (3, 11)));
        assert!(at_least("4.0", (3, 11)));
        assert!(!at_least("3.10.14", (3, 11)));
        assert!(!at_least("3", (3, 11)));
        assert!(!at_least("garbage", (3, 11)));
    }

    #[test]
    fn stamp_names_requirement_and_python() {
        assert_eq!(
            stamp("moto[server]==5.2.5", "3.11.7"),
            "requirement=moto[server]==5.2.5 python=3.11.7\n"
        );
        assert_ne!(stamp("a==1", "3.11.7"), stamp("a==2", "3.11.7"));
        assert_ne!(stamp("a==1", "3.11.7"), stamp("a==1", "3.12.0"));
    }

    #[test]
    fn env_file_quotes_values() {
        let text = env_file(&[
            ("A".to_owned(), "/plain/path".to_owned()),
            ("B".to_owned(), "it's".to_owned()),
        ]);
        assert!(text.starts_with('#'));
        assert!(text.contains("export A='/plain/path'\n"));
        assert!(text.contains("export B='it'\\''s'\n"));
    }
}
