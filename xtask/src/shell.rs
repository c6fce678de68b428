//! Running commands: the task context (root, cargo, exported variables) and timed steps.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Errors are messages for the person at the terminal.
pub(crate) type Result<T = ()> = std::result::Result<T, String>;

/// Build settings for CI runs, unless the environment already sets them.
const CI_BUILD_ENV: [(&str, &str); 2] = [
    ("CARGO_INCREMENTAL", "0"),
    ("CARGO_PROFILE_DEV_DEBUG", "line-tables-only"),
];

/// What every task needs: where the workspace is, which cargo to call, and the variables that
/// `setup` exported for the tests.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// The workspace root.
    pub(crate) root: PathBuf,
    /// The cargo running this binary (`$CARGO`), or `cargo` from `PATH`.
    pub(crate) cargo: OsString,
    /// `KEY=VALUE` pairs passed to every child process (filled by `setup`).
    pub(crate) env: Vec<(String, String)>,
    /// Whether we run under CI (`CI` set to something other than empty, `0` or `false`).
    pub(crate) ci: bool,
}

impl Ctx {
    /// Finds the root from `CARGO_MANIFEST_DIR` (the xtask package, one level below the root).
    pub(crate) fn new() -> Result<Self> {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .ok_or_else(|| format!("{} has no parent folder", manifest_dir.display()))?
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let ci = is_ci(std::env::var("CI").ok().as_deref());
        let mut env = Vec::new();
        if ci {
            // A CI build starts from nothing and is thrown away: incremental state is pure
            // overhead, and line tables are enough for backtraces. Every step gets the same
            // values, so no step invalidates another's artifacts.
            for (key, value) in CI_BUILD_ENV {
                if std::env::var_os(key).is_none() {
                    env.push((key.to_owned(), value.to_owned()));
                }
            }
        }
        Ok(Self {
            root,
            cargo,
            env,
            ci,
        })
    }

    /// The target directory (`CARGO_TARGET_DIR` or `<root>/target`).
    pub(crate) fn target_dir(&self) -> PathBuf {
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    self.root.join(dir)
                }
            }
            _ => self.root.join("target"),
        }
    }

    /// A command for `program` run from the root with no stdin and the exported variables.
    pub(crate) fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root).stdin(Stdio::null());
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// `cargo <args>` through `$CARGO`.
    pub(crate) fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(&self.cargo);
        cmd.args(args);
        cmd
    }
}

/// Interprets the `CI` variable the way CI services set it.
pub(crate) fn is_ci(value: Option<&str>) -> bool {
    match value {
        None => false,
        Some(v) => {
            let v = v.trim();
            !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
        }
    }
}

/// Shows a command the way a shell user would type it.
pub(crate) fn display(cmd: &Command) -> String {
    let mut out = String::new();
    for (key, value) in cmd.get_envs() {
        if key == "RUSTDOCFLAGS"
            && let Some(value) = value
        {
            let _ = write!(out, "{}={:?} ", key.to_string_lossy(), value);
        }
    }
    let program = Path::new(cmd.get_program());
    let program = if program.file_stem().is_some_and(|s| s == "cargo") {
        "cargo".to_owned()
    } else {
        program.to_string_lossy().into_owned()
    };
    out.push_str(&program);
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains([' ', '"', '\'', '(', ')', '|', '&']) {
            let _ = write!(out, " '{}'", arg.replace('\'', r"'\''"));
        } else {
            let _ = write!(out, " {arg}");
        }
    }
    out
}

/// Runs a command with inherited stdout/stderr; a non-zero exit is an error.
pub(crate) fn run(cmd: &mut Command) -> Result {
    let shown = display(cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Runs a command and returns its stdout (stderr is inherited); a non-zero exit is an error.
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let shown = display(cmd);
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(|_| format!("`{shown}` printed invalid UTF-8"))
    } else {
        Err(format!("`{shown}` failed ({})", out.status))
    }
}

/// Runs a command quietly and returns its stdout if it ran and succeeded.
pub(crate) fn probe(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if out.status.success() {
        String::from_utf8(out.stdout).ok()
    } else {
        None
    }
}

/// A sequence of named, timed steps; the first failure stops it.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    done: Vec<(String, Duration, bool)>,
}

impl Steps {
    /// Runs one step with a header before and its duration after.
    pub(crate) fn step(&mut self, name: &str, f: impl FnOnce() -> Result) -> Result {
        eprintln!("\n==> {name}");
        let start = Instant::now();
        let result = f();
        let took = start.elapsed();
        let ok = result.is_ok();
        eprintln!(
            "<== {name}: {} in {}",
            if ok { "ok" } else { "FAILED" },
            secs(took)
        );
        self.done.push((name.to_owned(), took, ok));
        result.map_err(|e| format!("step `{name}` failed: {e}"))
    }

    /// A table of every step run so far with its duration.
    pub(crate) fn summary(&self) -> String {
        let width = self.done.iter().map(|(n, ..)| n.len()).max().unwrap_or(0);
        let mut out = String::new();
        let mut total = Duration::ZERO;
        for (name, took, ok) in &self.done {
            total += *took;
            let _ = writeln!(
                out,
                "  {name:<width$}  {:>9}  {}",
                secs(*took),
                if *ok { "ok" } else { "FAILED" }
            );
        }
        let _ = write!(out, "  {:<width$}  {:>9}", "total", secs(total));
        out
    }
}

/// Formats a duration as seconds with one decimal.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_variable() {
        assert!(!is_ci(None));
        assert!(!is_ci(Some("")));
        assert!(!is_ci(Some("0")));
        assert!(!is_ci(Some("False")));
        assert!(is_ci(Some("true")));
        assert!(is_ci(Some("1")));
    }

    #[test]
    fn display_quotes_arguments() {
        let mut cmd = Command::new("cargo");
        cmd.args(["tree", "-e", "normal", "a b", ""]);
        cmd.env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            display(&cmd),
            "RUSTDOCFLAGS=\"-D warnings\" cargo tree -e normal 'a b' ''"
        );
    }

    #[test]
    fn steps_stop_and_report() {
        let mut steps = Steps::default();
        assert!(steps.step("one", || Ok(())).is_ok());
        let err = steps.step("two", || Err("boom".to_owned()));
        assert_eq!(err, Err("step `two` failed: boom".to_owned()));
        let summary = steps.summary();
        assert!(summary.contains("one"), "{summary}");
        assert!(summary.contains("FAILED"), "{summary}");
        assert!(summary.contains("total"), "{summary}");
    }
}
