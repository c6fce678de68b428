//! Replays the committed corpus of the `http_response` fuzz target (`fuzz/corpus/http_response/`)
//! and a bounded run of deterministic mutations of it through the worker client's response
//! parsing, so every test run exercises what an orchestrator's answers reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::fuzzing::replay;
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

#[test]
fn corpus_replays_and_mutations_hold_the_invariants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/http_response");
    replay(
        &dir,
        &TOKENS,
        0x5bd1_e995_1234_5678,
        MUTATIONS,
        http_response,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
}
