//! Entry points for fuzzers (see `fuzz/` in the repository): each takes arbitrary bytes, runs a
//! parser the network can reach, and asserts the invariants that must hold for every input.
//! The committed corpus is replayed, with mutations, by an ordinary test
//! (`tests/fuzz_request_head.rs`).

/// The request-head reading of the connection's direct path (`serve` with an
/// [`App`](crate::App)), with a few header limits. Nothing may panic; a head it takes is a
/// complete HTTP/1.1 head by httparse's reading too; every range it reports lies in the head
/// and is text; a body it accepts is within the body limit, and a poll has none.
pub fn request_head(data: &[u8]) {
    crate::serve::direct::fuzz_head(data);
}
