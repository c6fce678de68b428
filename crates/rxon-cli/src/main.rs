//! The `rxon` command.
fn main() {}
