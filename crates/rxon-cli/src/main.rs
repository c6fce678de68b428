//! `rxon`: the command-line tool for operators of an RXON deployment.
//!
//! Each subcommand lives in its own module under `cmd/`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;

/// `rxon serve` and `rxon worker` make many small short-lived allocations per request (parsed
/// strings and maps); mimalloc serves them for a fraction of the system allocator's cost.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tools for RXON workers and orchestrators.
#[derive(Debug, Parser)]
#[command(name = "rxon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an orchestrator and workers exchanging tasks on loopback (no external service).
    Demo(cmd::demo::Args),
    /// Would this worker take this task? Reads JSON lines on stdin, prints true/false per line.
    Match(cmd::matching::Args),
    /// Validate JSON from stdin against a JSON Schema with the reference's messages.
    Schema(cmd::schema::Args),
    /// Put, get, stat and delete blobs (`s3://bucket/key`); print the storage config hash.
    Blob(cmd::blob::Args),
    /// Sign JSON from stdin (canonical form, HMAC or Ed25519); prints the hex signature.
    Sign(cmd::sign::Args),
    /// Verify signatures of JSON from stdin; prints valid/invalid, exit status 0/1.
    Verify(cmd::verify::Args),
    /// Print the canonical (signed) bytes of JSON from stdin.
    Canonical(cmd::canonical::Args),
    /// Write a new Ed25519 key pair as PEM files.
    Keygen(cmd::keygen::Args),
    /// Run an in-memory orchestrator: the worker API plus a small job-submission API.
    Serve(cmd::serve::Args),
    /// Submit jobs to `rxon serve`, wait for the results and print them.
    Submit(cmd::submit::Args),
    /// Run a worker with built-in skills (echo, sleep) against an orchestrator.
    Worker(cmd::worker::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => cmd::demo::run(&args),
        Command::Match(args) => cmd::matching::run(&args),
        Command::Schema(args) => cmd::schema::run(&args),
        Command::Blob(args) => cmd::blob::run(&args),
        Command::Sign(args) => cmd::sign::run(&args),
        Command::Verify(args) => cmd::verify::run(&args),
        Command::Canonical(args) => cmd::canonical::run(&args),
        Command::Keygen(args) => cmd::keygen::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Submit(args) => cmd::submit::run(&args),
        Command::Worker(args) => cmd::worker::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rxon: {e}");
            ExitCode::from(2)
        }
    }
}
