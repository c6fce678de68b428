//! Project tasks for rxon-rs, run as `cargo xtask <task>`; `cargo xtask help` lists them.
//!
//! One binary, one module per task, no dependencies beyond std. Cargo is invoked through `$CARGO`
//! (the cargo that runs this binary) and every command runs from the workspace root, found from
//! `CARGO_MANIFEST_DIR`. The README's test command is `cargo xtask ci`.

mod ci;
mod deny;
mod deps;
mod docs;
mod flags;
mod fmt;
mod lint;
mod setup;
mod shell;
mod test;

use std::process::ExitCode;

use flags::Task;
use shell::Ctx;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = match flags::parse(&args) {
        Ok(task) => task,
        Err(message) => {
            eprintln!("xtask: {message}\n\n{}", flags::USAGE);
            return ExitCode::from(2);
        }
    };
    if task == Task::Help {
        println!("{}", flags::USAGE);
        return ExitCode::SUCCESS;
    }
    let mut ctx = match Ctx::new() {
        Ok(ctx) => ctx,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let result = match task {
        Task::Help => Ok(()),
        Task::Setup => setup::run(&mut ctx),
        Task::Ci => ci::run(&mut ctx),
        Task::Fmt { fix } => fmt::run(&ctx, fix),
        Task::Lint => lint::run(&ctx),
        Task::Test { args } => test::run(&mut ctx, &args),
        Task::Deny => deny::run(&ctx),
        Task::Docs => docs::run(&ctx),
        Task::Deps => deps::run(&ctx),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}
