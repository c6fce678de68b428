//! Entry points for fuzzers (see `fuzz/` in the repository): each takes arbitrary bytes, runs a
//! parser the network can reach, and asserts the invariants that must hold for every input.
//! The committed corpus is replayed, with mutations, by an ordinary test (`tests/fuzz_http.rs`).

/// The HTTP/1.1 response parsing of the worker's client: where the head ends, the status line
/// and header fields for each request method, the body framing, header lookups and chunk-size
/// lines. Nothing may panic; a HEAD answer never has a body; a close-delimited body never
/// leaves the connection reusable; every header value found lies in the head.
pub fn http_response(data: &[u8]) {
    crate::client::fuzz_response(data);
}
