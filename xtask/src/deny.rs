//! `cargo xtask deny`: licences, bans and sources with the pinned cargo-deny.
//!
//! Advisories are configured in `deny.toml` too; run `cargo deny check advisories` where the
//! advisory database can be fetched.

use crate::setup;
use crate::shell::{self, Ctx, Result};

/// Installs the pinned cargo-deny if needed, then checks.
pub(crate) fn run(ctx: &Ctx) -> Result {
    setup::cargo_deny(ctx)?;
    check(ctx)
}

/// The CI step: `cargo deny check bans licenses sources`.
pub(crate) fn check(ctx: &Ctx) -> Result {
    shell::run(&mut ctx.cargo(&["deny", "check", "bans", "licenses", "sources"]))
}
