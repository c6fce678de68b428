//! Subcommands, one module each. Every `run` returns the process exit code, or an error that
//! `main` prints (exit status 2).

pub(crate) mod blob;
pub(crate) mod canonical;
pub(crate) mod demo;
pub(crate) mod keygen;
pub(crate) mod matching;
pub(crate) mod schema;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod submit;
pub(crate) mod verify;
pub(crate) mod worker;

/// Error type of subcommands.
pub(crate) type CmdError = Box<dyn std::error::Error + Send + Sync>;

/// Logs to stderr (colours only on a terminal), filtered by `RUST_LOG` or `default_filter`.
pub(crate) fn init_logging(default_filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
