//! Replays the committed corpus of the `request_head` fuzz target (`fuzz/corpus/request_head/`)
//! and a bounded run of deterministic mutations of it through the request-head reading of the
//! connection's direct path, so every test run exercises what a worker's requests reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::fuzzing::replay;
use rxon_listener_axum::fuzzing::request_head;
use std::path::PathBuf;

const MUTATIONS: usize = 50_000;

const TOKENS: [&[u8]; 16] = [
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b":",
    b" ",
    b"%",
    b"?",
    b"/",
    b"HTTP/1.1",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"X-Worker-Token: ",
    b"/_worker/workers/",
    b"99999999999999999999",
    b"\xff\x00",
];

#[test]
fn corpus_replays_and_mutations_hold_the_invariants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/request_head");
    replay(
        &dir,
        &TOKENS,
        0x9e37_79b9_7f4a_7c15,
        MUTATIONS,
        request_head,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
}
