//! `cargo xtask lint`: clippy with warnings denied, on the feature set the tests use and on the
//! dependency-free core.

use crate::shell::{self, Ctx, Result};

/// Both clippy runs, stopping at the first failure.
pub(crate) fn run(ctx: &Ctx) -> Result {
    workspace(ctx)?;
    core_without_features(ctx)
}

/// Every crate, every target, every feature: the same feature set as the tests and docs, so
/// dependencies are checked once and reused.
pub(crate) fn workspace(ctx: &Ctx) -> Result {
    shell::run(&mut ctx.cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))
}

/// `rxon-core` as most users get it: no features, no dependencies.
pub(crate) fn core_without_features(ctx: &Ctx) -> Result {
    shell::run(&mut ctx.cargo(&[
        "clippy",
        "-p",
        "rxon-core",
        "--no-default-features",
        "--",
        "-D",
        "warnings",
    ]))
}
