//! Command-line parsing for `cargo xtask`: one task name, then that task's few options.

/// The help text printed by `cargo xtask help` and after a usage error.
pub(crate) const USAGE: &str = "\
Usage: cargo xtask <task> [options]

Tasks:
  ci              setup, then every check below in order, stopping at the first failure
                  (this is the project's test command; .ci/run runs exactly this)
  setup           install what the tests need, each only when missing or outdated:
                  the reference Python venvs (../shared/conformance/setup.sh), a pinned
                  cargo-deny, a venv with the moto S3 server, venvs with avtomatika and
                  avtomatika-worker; writes the variables to target/rxon-env.sh
  fmt [--fix]     cargo fmt --all -- --check  (--fix: format instead of checking)
  lint            cargo clippy over the workspace (all targets, all features) and over
                  rxon-core without default features, with -D warnings
  test [-- ARGS]  setup's Python part, then the test suite (nextest if installed, else
                  cargo test) and the doc tests; ARGS go to the test runner (a filter, say),
                  and the doc tests are skipped when ARGS are given
  docs            cargo doc --no-deps --workspace --all-features --lib, RUSTDOCFLAGS=-D warnings
  deny            cargo deny check bans licenses sources (installs the pinned cargo-deny)
  deps            check the architecture invariants of docs/ARCHITECTURE.md with cargo tree
  help            this text";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Task {
    /// Print the usage.
    Help,
    /// Install what the tests need.
    Setup,
    /// The whole suite.
    Ci,
    /// Check formatting, or apply it with `fix`.
    Fmt {
        /// Format the files instead of checking them.
        fix: bool,
    },
    /// Clippy.
    Lint,
    /// Tests and doc tests; `args` are passed to the test runner.
    Test {
        /// Extra arguments for nextest or cargo test.
        args: Vec<String>,
    },
    /// cargo-deny.
    Deny,
    /// Rustdoc with warnings denied.
    Docs,
    /// Dependency-graph invariants.
    Deps,
}

/// Parses the arguments that follow `cargo xtask`.
pub(crate) fn parse(args: &[String]) -> Result<Task, String> {
    let Some((name, rest)) = args.split_first() else {
        return Err("missing task".to_owned());
    };
    let task = match name.as_str() {
        "help" | "-h" | "--help" => Task::Help,
        "setup" => Task::Setup,
        "ci" => Task::Ci,
        "fmt" => {
            return match rest {
                [] => Ok(Task::Fmt { fix: false }),
                [flag] if flag == "--fix" => Ok(Task::Fmt { fix: true }),
                [flag] if flag == "--check" => Ok(Task::Fmt { fix: false }),
                _ => Err(format!("fmt: unexpected arguments {rest:?}")),
            };
        }
        "lint" | "clippy" => Task::Lint,
        "test" => {
            return match rest {
                [] => Ok(Task::Test { args: Vec::new() }),
                [sep, tail @ ..] if sep == "--" => Ok(Task::Test {
                    args: tail.to_vec(),
                }),
                _ => Err(format!(
                    "test: put runner arguments after `--` (got {rest:?})"
                )),
            };
        }
        "docs" | "doc" => Task::Docs,
        "deny" => Task::Deny,
        "deps" => Task::Deps,
        other => return Err(format!("unknown task `{other}`")),
    };
    if rest.is_empty() {
        Ok(task)
    } else {
        Err(format!("{name}: unexpected arguments {rest:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Task, String> {
        let owned: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        parse(&owned)
    }

    #[test]
    fn plain_tasks() {
        assert_eq!(p(&["ci"]), Ok(Task::Ci));
        assert_eq!(p(&["setup"]), Ok(Task::Setup));
        assert_eq!(p(&["lint"]), Ok(Task::Lint));
        assert_eq!(p(&["clippy"]), Ok(Task::Lint));
        assert_eq!(p(&["docs"]), Ok(Task::Docs));
        assert_eq!(p(&["deny"]), Ok(Task::Deny));
        assert_eq!(p(&["deps"]), Ok(Task::Deps));
        assert_eq!(p(&["help"]), Ok(Task::Help));
        assert_eq!(p(&["--help"]), Ok(Task::Help));
    }

    #[test]
    fn fmt_options() {
        assert_eq!(p(&["fmt"]), Ok(Task::Fmt { fix: false }));
        assert_eq!(p(&["fmt", "--check"]), Ok(Task::Fmt { fix: false }));
        assert_eq!(p(&["fmt", "--fix"]), Ok(Task::Fmt { fix: true }));
        assert!(p(&["fmt", "--fix", "--check"]).is_err());
        assert!(p(&["fmt", "--write"]).is_err());
    }

    #[test]
    fn test_passes_arguments_after_separator() {
        assert_eq!(p(&["test"]), Ok(Task::Test { args: vec![] }));
        assert_eq!(
            p(&["test", "--", "interop", "--no-capture"]),
            Ok(Task::Test {
                args: vec!["interop".to_owned(), "--no-capture".to_owned()]
            })
        );
        assert_eq!(p(&["test", "--"]), Ok(Task::Test { args: vec![] }));
        assert!(p(&["test", "interop"]).is_err());
    }

    #[test]
    fn errors() {
        assert!(p(&[]).is_err());
        assert!(p(&["frobnicate"]).is_err());
        assert!(p(&["ci", "--now"]).is_err());
        assert!(p(&["deps", "extra"]).is_err());
    }
}
