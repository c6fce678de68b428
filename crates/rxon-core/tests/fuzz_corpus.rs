//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through `rxon_core::fuzzing` on
//! stable, then a bounded run of deterministic mutations of it (byte flips, truncations,
//! splices, JSON tokens), so every CI run exercises the decoders the network can reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::fuzzing;
use std::path::PathBuf;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 5] = [
    ("decode_task", fuzzing::decode_task),
    ("decode_heartbeat", fuzzing::decode_heartbeat),
    ("decode_command_frame", fuzzing::decode_command_frame),
    ("value", fuzzing::value),
    ("blob_uri", fuzzing::blob_uri),
];

/// Mutations per target.
const MUTATIONS: usize = 30_000;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

const TOKENS: [&[u8]; 14] = [
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"null",
    b"1e400",
    b"-0.0",
    b"\\ud800",
    b"18446744073709551616",
    b"{\"a\":",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

#[test]
fn corpus_replays_and_mutations_hold_the_invariants() {
    for (name, target) in TARGETS {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "empty corpus for {name}");
        for seed in &seeds {
            target(seed);
        }
        let mut mutations =
            fuzzing::Mutator::new(&seeds, &TOKENS, 0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        for _ in 0..MUTATIONS {
            target(&mutations.next_input());
        }
    }
}

#[test]
fn hostile_nesting_is_refused_without_overflowing_the_stack() {
    let deep = "[".repeat(100_000);
    fuzzing::value(deep.as_bytes());
    let deep_obj = "{\"a\":".repeat(100_000);
    fuzzing::decode_task(deep_obj.as_bytes());
}
