//! `rxon`: the command-line tool for operators of an RXON deployment.
//!
//! Each subcommand lives in its own module under `cmd/`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;

/// Tools for RXON workers and orchestrators.
#[derive(Debug, Parser)]
#[command(name = "rxon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Would this worker take this task? Reads JSON lines on stdin, prints true/false per line.
    Match(cmd::matching::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Match(args) => cmd::matching::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rxon: {e}");
            ExitCode::from(2)
        }
    }
}
