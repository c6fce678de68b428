//! Replays the committed corpus of the `http_response` fuzz target (`fuzz/corpus/http_response/`)
//! and a bounded run of deterministic mutations of it through the worker client's response
//! parsing, so every test run exercises what an orchestrator's answers reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::fuzzing::Mutator;
use rxon_transport_http::fuzzing::http_response;
use std::path::PathBuf;

const MUTATIONS: usize = 50_000;

const TOKENS: [&[u8]; 16] = [
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b":",
    b" ",
    b"\t",
    b",",
    b";",
    b"HTTP/1.1 ",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"18446744073709551616",
    b"ffffffffffffffff",
    b"0\r\n\r\n",
    b"\xff\x00",
];

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/http_response");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn corpus_replays_and_mutations_hold_the_invariants() {
    let seeds = corpus();
    assert!(!seeds.is_empty(), "empty corpus");
    for seed in &seeds {
        http_response(seed);
    }
    let mut mutations = Mutator::new(&seeds, &TOKENS, 0x5bd1_e995_1234_5678);
    for _ in 0..MUTATIONS {
        http_response(&mutations.next_input());
    }
}
