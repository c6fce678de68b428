//! `cargo xtask deps`: the architecture invariants of `docs/ARCHITECTURE.md`, checked on the
//! dependency graph with `cargo tree`. Every violation is reported, not only the first.

use crate::shell::{self, Ctx, Result};

/// Crates that would pull a C crypto or TLS library (or a second crypto provider); ring and
/// rustls are the only ones allowed.
const BANNED: [&str; 5] = [
    "openssl",
    "openssl-sys",
    "native-tls",
    "aws-lc-rs",
    "aws-lc-sys",
];
/// Worker-side crates: they never see the orchestrator side.
const WORKER_SIDE: [&str; 5] = [
    "rxon-transport-http",
    "rxon-transport-ws",
    "rxon-blob",
    "rxon-schema",
    "rxon-security",
];
/// The orchestrator side.
const LISTENER: &str = "rxon-listener-axum";
/// Transports, which the listener never depends on.
const TRANSPORTS: [&str; 2] = ["rxon-transport-http", "rxon-transport-ws"];
/// The only optional normal dependency of `rxon-core`.
const CORE_OPTIONAL: [&str; 1] = ["serde"];

/// Runs every check and fails with the list of violations.
pub(crate) fn run(ctx: &Ctx) -> Result {
    let mut violations = Vec::new();

    let tree = cargo_tree(
        ctx,
        &["-p", "rxon-core", "--no-default-features", "-e", "normal"],
    )?;
    violations.extend(core_alone(&tree));

    let tree = cargo_tree(
        ctx,
        &[
            "-p",
            "rxon-core",
            "--all-features",
            "-e",
            "normal",
            "--depth",
            "1",
            "--prefix",
            "depth",
        ],
    )?;
    violations.extend(core_direct_only(&tree, &CORE_OPTIONAL));

    let tree = cargo_tree(
        ctx,
        &[
            "--workspace",
            "--all-features",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--target",
            "all",
        ],
    )?;
    violations.extend(forbidden(
        &tree,
        &BANNED,
        "the workspace (any feature, any target)",
    ));

    for krate in WORKER_SIDE {
        let tree = package_tree(ctx, krate)?;
        violations.extend(forbidden(&tree, &[LISTENER], krate));
    }
    let tree = package_tree(ctx, LISTENER)?;
    violations.extend(forbidden(&tree, &TRANSPORTS, LISTENER));

    let tree = package_tree(ctx, "xtask")?;
    let ours: Vec<&str> = names(&tree)
        .into_iter()
        .filter(|n| n.starts_with("rxon"))
        .collect();
    if !ours.is_empty() {
        violations.push(format!("xtask depends on workspace crates: {ours:?}"));
    }

    if violations.is_empty() {
        eprintln!(
            "deps: ok (rxon-core alone; only {CORE_OPTIONAL:?} optional; no {BANNED:?}; \
             worker side and listener apart; xtask standalone)"
        );
        Ok(())
    } else {
        Err(format!(
            "{} architecture invariant(s) broken:\n  - {}",
            violations.len(),
            violations.join("\n  - ")
        ))
    }
}

fn cargo_tree(ctx: &Ctx, args: &[&str]) -> Result<String> {
    let mut cmd = ctx.cargo(&["tree"]);
    cmd.args(args);
    shell::output(&mut cmd)
}

/// One package's normal dependencies with every feature on, one crate per line.
fn package_tree(ctx: &Ctx, krate: &str) -> Result<String> {
    cargo_tree(
        ctx,
        &[
            "-p",
            krate,
            "--all-features",
            "-e",
            "normal",
            "--prefix",
            "none",
        ],
    )
}

/// Crate names of a `cargo tree --prefix none` (or `--prefix depth`) listing, in order.
fn names(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches(|c: char| c.is_ascii_digit());
            line.split_whitespace().next()
        })
        .collect()
}

/// Architecture invariant: `rxon-core` without features has no normal dependency.
fn core_alone(tree: &str) -> Option<String> {
    let lines: Vec<&str> = tree.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [only] if only.starts_with("rxon-core ") => None,
        _ => Some(format!(
            "`cargo tree -p rxon-core --no-default-features -e normal` must print only the \
             crate itself, got:\n{tree}"
        )),
    }
}

/// Architecture invariant: with every feature on, `rxon-core`'s direct dependencies are
/// among `allowed`.
fn core_direct_only(tree: &str, allowed: &[&str]) -> Option<String> {
    let extra: Vec<&str> = tree
        .lines()
        .filter(|line| line.starts_with('1'))
        .filter_map(|line| line.get(1..)?.split_whitespace().next())
        .filter(|name| !allowed.contains(name))
        .collect();
    if extra.is_empty() {
        None
    } else {
        Some(format!(
            "rxon-core may only depend on {allowed:?} (optional), but depends on {extra:?}"
        ))
    }
}

/// Architecture invariant helper: none of `banned` appears in `tree`.
fn forbidden(tree: &str, banned: &[&str], whose: &str) -> Option<String> {
    let mut found: Vec<&str> = names(tree)
        .into_iter()
        .filter(|name| banned.contains(name))
        .collect();
    found.sort_unstable();
    found.dedup();
    if found.is_empty() {
        None
    } else {
        Some(format!("{whose} depends on {found:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKSPACE: &str = "\
rxon v0.1.0 (/src/crates/rxon)
rxon-core v0.1.0 (/src/crates/rxon-core)
serde v1.0.229
serde_derive v1.0.229 (proc-macro)
rxon-listener-axum v0.1.0 (/src/crates/rxon-listener-axum)
rxon-core v0.1.0 (/src/crates/rxon-core) (*)

reqwest v0.13.1
rustls v0.23.31
ring v0.17.14
";

    #[test]
    fn names_take_the_first_word() {
        assert_eq!(
            names(WORKSPACE),
            vec![
                "rxon",
                "rxon-core",
                "serde",
                "serde_derive",
                "rxon-listener-axum",
                "rxon-core",
                "reqwest",
                "rustls",
                "ring"
            ]
        );
        assert_eq!(
            names("0rxon-core v0.1.0\n1serde v1.0.0\n"),
            vec!["rxon-core", "serde"]
        );
    }

    #[test]
    fn forbidden_crates_are_found_once() {
        assert_eq!(forbidden(WORKSPACE, &BANNED, "ws"), None);
        let with_openssl =
            format!("{WORKSPACE}openssl-sys v0.9.0\nnative-tls v0.2.0\nopenssl-sys v0.9.0 (*)\n");
        assert_eq!(
            forbidden(&with_openssl, &BANNED, "ws"),
            Some("ws depends on [\"native-tls\", \"openssl-sys\"]".to_owned())
        );
        // A prefix of a banned name is not a match.
        assert_eq!(forbidden("openssl-probe v0.1.6\n", &BANNED, "ws"), None);
        assert!(forbidden(WORKSPACE, &[LISTENER], "rxon-blob").is_some());
        assert!(forbidden(WORKSPACE, &TRANSPORTS, LISTENER).is_none());
    }

    #[test]
    fn core_must_be_alone() {
        assert_eq!(
            core_alone("rxon-core v0.1.0 (/src/crates/rxon-core)\n"),
            None
        );
        assert!(core_alone("rxon-core v0.1.0 (/src)\nserde v1.0.0\n").is_some());
        assert!(core_alone("").is_some());
        assert!(core_alone("rxon v0.1.0 (/src)\n").is_some());
    }

    /// The invariants written in docs/ARCHITECTURE.md name every crate these checks use.
    #[test]
    fn architecture_doc_names_what_is_checked() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ARCHITECTURE.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let invariants: String = doc
            .split("\n\n")
            .filter(|paragraph| paragraph.starts_with("Architecture invariant:"))
            .collect();
        assert!(invariants.contains("rxon-core"), "{invariants}");
        for name in BANNED
            .iter()
            .chain(&WORKER_SIDE)
            .chain(&TRANSPORTS)
            .chain(&CORE_OPTIONAL)
            .chain(&[LISTENER, "xtask"])
        {
            assert!(
                invariants.contains(&format!("`{name}`")),
                "docs/ARCHITECTURE.md has no invariant naming `{name}`"
            );
        }
    }

    #[test]
    fn core_direct_dependencies() {
        let ok = "0rxon-core v0.1.0 (/src)\n1serde v1.0.229\n";
        assert_eq!(core_direct_only(ok, &CORE_OPTIONAL), None);
        let bad = "0rxon-core v0.1.0 (/src)\n1serde v1.0.229\n1tokio v1.0.0\n";
        assert!(core_direct_only(bad, &CORE_OPTIONAL).is_some_and(|m| m.contains("tokio")));
    }
}
