//! `cargo xtask test`: the test suite with the variables from `setup`, then the doc tests.

use crate::setup;
use crate::shell::{self, Ctx, Result};

/// Sets up the Python side, runs the tests and, without extra arguments, the doc tests.
pub(crate) fn run(ctx: &mut Ctx, args: &[String]) -> Result {
    setup::python(ctx)?;
    tests(ctx, args)?;
    if args.is_empty() {
        doc_tests(ctx)?;
    }
    Ok(())
}

/// Whether `cargo nextest` is installed.
pub(crate) fn has_nextest(ctx: &Ctx) -> bool {
    shell::probe(&mut ctx.cargo(&["nextest", "--version"])).is_some()
}

/// nextest over the workspace when installed (profile `ci` under CI, see `.config/nextest.toml`),
/// else `cargo test` over the same targets minus the doc tests, which run separately.
pub(crate) fn tests(ctx: &Ctx, args: &[String]) -> Result {
    let mut cmd = if has_nextest(ctx) {
        let mut cmd = ctx.cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]);
        if ctx.ci {
            cmd.args(["--profile", "ci"]);
        }
        cmd
    } else {
        eprintln!("test: cargo-nextest is not installed; using cargo test");
        ctx.cargo(&[
            "test",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
            "--lib",
            "--bins",
            "--tests",
        ])
    };
    // Both runners take a name filter and their own options here, e.g. `interop --no-capture`
    // for nextest or `interop -- --nocapture` for cargo test.
    cmd.args(args);
    shell::run(&mut cmd)
}

/// `cargo test --doc --workspace --all-features`: reuses the libraries the tests built.
pub(crate) fn doc_tests(ctx: &Ctx) -> Result {
    shell::run(&mut ctx.cargo(&["test", "--doc", "--workspace", "--all-features"]))
}
