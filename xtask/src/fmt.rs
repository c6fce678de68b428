//! `cargo xtask fmt`: rustfmt over the whole workspace, checking by default.

use crate::shell::{self, Ctx, Result};

/// `cargo fmt --all -- --check`, or `cargo fmt --all` with `fix`.
pub(crate) fn run(ctx: &Ctx, fix: bool) -> Result {
    if fix {
        shell::run(&mut ctx.cargo(&["fmt", "--all"]))
    } else {
        check(ctx)
    }
}

/// The CI step.
pub(crate) fn check(ctx: &Ctx) -> Result {
    shell::run(&mut ctx.cargo(&["fmt", "--all", "--", "--check"]))
}
