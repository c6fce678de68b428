//! `cargo xtask ci`: the project's test command. Setup, then every check in order; the first
//! failure stops the run. Each step prints a header and its duration, and a summary ends the run.
//!
//! All steps share one target directory and one feature set (`--workspace --all-features`), so
//! dependencies are compiled once for checking (clippy, rustdoc) and once for testing.

use crate::shell::{Ctx, Result, Steps};
use crate::{deny, deps, docs, fmt, lint, setup, test};

/// Runs the whole suite.
pub(crate) fn run(ctx: &mut Ctx) -> Result {
    let mut steps = Steps::default();
    let result = all(ctx, &mut steps);
    eprintln!("\nxtask ci summary:\n{}", steps.summary());
    match &result {
        Ok(()) => eprintln!("xtask ci: all steps passed"),
        Err(_) => eprintln!("xtask ci: FAILED"),
    }
    result
}

fn all(ctx: &mut Ctx, steps: &mut Steps) -> Result {
    steps.step("setup", || setup::run(ctx))?;
    let ctx = &*ctx;
    steps.step("fmt: cargo fmt --all -- --check", || fmt::check(ctx))?;
    steps.step(
        "clippy: cargo clippy --workspace --all-targets --all-features -- -D warnings",
        || lint::workspace(ctx),
    )?;
    steps.step(
        "clippy: cargo clippy -p rxon-core --no-default-features -- -D warnings",
        || lint::core_without_features(ctx),
    )?;
    let runner = if test::has_nextest(ctx) {
        "cargo nextest run --workspace --all-features --no-fail-fast"
    } else {
        "cargo test --workspace --all-features --no-fail-fast"
    };
    steps.step(&format!("test: {runner}"), || test::tests(ctx, &[]))?;
    steps.step(
        "doctest: cargo test --doc --workspace --all-features",
        || test::doc_tests(ctx),
    )?;
    steps.step(
        "docs: cargo doc --no-deps --workspace --all-features (RUSTDOCFLAGS=-D warnings)",
        || docs::run(ctx),
    )?;
    steps.step("deny: cargo deny check bans licenses sources", || {
        deny::check(ctx)
    })?;
    steps.step("deps: architecture invariants (cargo tree)", || {
        deps::run(ctx)
    })
}
