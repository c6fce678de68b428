//! `cargo xtask docs`: rustdoc over the workspace with warnings denied.

use crate::shell::{self, Ctx, Result};

/// `cargo doc --no-deps --workspace --all-features --lib` with `RUSTDOCFLAGS=-D warnings`.
///
/// `RUSTDOCFLAGS` only reaches rustdoc, so the dependencies' metadata that clippy already
/// produced for the same feature set is reused; only crates whose features differ because
/// clippy's `--all-targets` also enabled dev-dependencies (tokio and what sits on it) are checked
/// again. Only library targets are documented: the `rxon` binary of `rxon-cli` would otherwise
/// collide with the `rxon` library's doc folder.
pub(crate) fn run(ctx: &Ctx) -> Result {
    let mut flags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
    if !flags.is_empty() {
        flags.push(' ');
    }
    flags.push_str("-D warnings");
    let mut cmd = ctx.cargo(&["doc", "--no-deps", "--workspace", "--all-features", "--lib"]);
    cmd.env("RUSTDOCFLAGS", flags);
    shell::run(&mut cmd)
}
