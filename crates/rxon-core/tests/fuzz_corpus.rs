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
    let corpora = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, target) in TARGETS {
        let seed = 0x9e37_79b9_7f4a_7c15 ^ name.len() as u64;
        fuzzing::replay(&corpora.join(name), &TOKENS, seed, MUTATIONS, target)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn hostile_nesting_is_refused_without_overflowing_the_stack() {
    let deep = "[".repeat(100_000);
    fuzzing::value(deep.as_bytes());
    let deep_obj = "{\"a\":".repeat(100_000);
    fuzzing::decode_task(deep_obj.as_bytes());
}
