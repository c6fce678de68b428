//! Entry points for fuzzers (see `fuzz/` in the repository): each takes arbitrary bytes, runs a
//! decoder the network can reach, and asserts the invariants that must hold for every input.
//! The committed corpus is replayed by an ordinary test, so these run on stable too.

use crate::model::{Heartbeat, HeartbeatReply, Model, TaskPayload, WorkerCommand};
use crate::normalize::normalize;
use crate::value::Value;
use crate::wire::ProtocolVersion;
use crate::{BlobUri, canonical, json};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b17];

/// The JSON parser, the writer, both normalizations and the canonical (signing) form: whatever
/// parses must write back to text that parses to the same value, normalization must be
/// idempotent, the canonical text must parse and be its own canonical form, and every number
/// must compare equal to itself.
pub fn value(data: &[u8]) {
    let Ok(v) = json::from_slice(data) else {
        return;
    };
    let text = v.to_json();
    let again = json::from_str(&text);
    assert!(
        again.as_ref().is_ok_and(|a| *a == v),
        "write/parse round trip changed the value"
    );
    for version in VERSIONS {
        let mut written = String::new();
        let direct = crate::normalize::write_normalized(&mut written, &v, version);
        let normalized = normalize(&v, version);
        assert!(
            match &normalized {
                Ok(n) => direct.is_ok() && written == n.to_json(),
                Err(e) => direct.as_ref().err() == Some(e) && written.is_empty(),
            },
            "writing normalized differs from normalizing then writing"
        );
        if let Ok(n) = normalized {
            let twice = normalize(&n, version);
            assert!(
                twice.is_ok_and(|t| t == n),
                "normalization is not idempotent"
            );
        }
        if let Ok(text) = canonical::canonical_string(&v, version, &[]) {
            let again = json::from_str(&text)
                .ok()
                .and_then(|p| canonical::canonical_string(&p, version, &[]).ok());
            assert!(
                again.is_some_and(|a| a == text),
                "canonical text is not its own canonical form"
            );
        }
    }
    numbers_compare_to_themselves(&v);
}

fn numbers_compare_to_themselves(v: &Value) {
    match v {
        Value::Number(n) => {
            assert!(
                n.numeric_cmp(n) == Some(std::cmp::Ordering::Equal) && n.numeric_eq(n),
                "a number does not equal itself"
            );
        }
        Value::Array(a) => a.iter().for_each(numbers_compare_to_themselves),
        Value::Object(m) => m.values().for_each(numbers_compare_to_themselves),
        _ => {}
    }
}

fn model_round_trip<M: Model + PartialEq>(data: &[u8]) {
    if let Ok(v) = json::from_slice(data) {
        let borrowed = M::from_value(&v);
        let owned = M::from_value_owned(v);
        assert!(
            match (&borrowed, &owned) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => a.to_string() == b.to_string(),
                _ => false,
            },
            "decoding an owned value differs from decoding a borrowed one"
        );
    }
    let Ok(m) = M::from_json(data) else { return };
    for version in VERSIONS {
        let first = m.to_value(version);
        assert!(
            first.as_ref().map(Value::to_json).map_err(Clone::clone) == m.to_json(version),
            "text written from the model differs from the value's text"
        );
        let Ok(first) = first else {
            continue;
        };
        let decoded = M::from_value(&first);
        assert!(decoded.is_ok(), "our own encoding does not decode");
        if let Ok(decoded) = decoded {
            let second = decoded.to_value(version);
            assert!(
                second.is_ok_and(|s| s == first),
                "encode(decode(encode(m))) != encode(m)"
            );
        }
    }
}

/// A poll answer: `TaskPayload` decoding and re-encoding in both versions.
pub fn decode_task(data: &[u8]) {
    model_round_trip::<TaskPayload>(data);
}

/// A heartbeat body and a heartbeat answer.
pub fn decode_heartbeat(data: &[u8]) {
    model_round_trip::<Heartbeat>(data);
    if let Ok(v) = json::from_slice(data) {
        let _ = HeartbeatReply::from_value(v);
    }
}

/// A WebSocket text frame read as a command.
pub fn decode_command_frame(data: &[u8]) {
    model_round_trip::<WorkerCommand>(data);
}

/// `s3://` URI parsing with and without a default bucket.
pub fn blob_uri(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for default in [None, Some("bucket")] {
        if let Ok(u) = BlobUri::parse(&text, default, "prefix/") {
            if text.starts_with("s3://") {
                assert!(!u.key.starts_with('/'), "key keeps a leading slash");
            }
            assert_eq!(u.is_directory, text.ends_with('/'));
        }
    }
    let _ = Value::from(text.as_ref());
}

/// The files of a corpus directory (`fuzz/corpus/<target>/`), in name order, so that a
/// replay of it is the same on every run.
///
/// # Errors
/// When the directory or one of its files cannot be read.
pub fn read_corpus(dir: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut files = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    files.sort();
    files.iter().map(std::fs::read).collect()
}

/// Runs `target` over the corpus in `dir` and then over `mutations` deterministic mutations of
/// it (inserting `tokens` among other edits; `seed` picks the sequence): the bounded fuzzing
/// run a stable test can afford. `target` asserts its invariants by panicking.
///
/// # Errors
/// When the corpus cannot be read or is empty.
pub fn replay(
    dir: &std::path::Path,
    tokens: &[&[u8]],
    seed: u64,
    mutations: usize,
    mut target: impl FnMut(&[u8]),
) -> std::io::Result<()> {
    let seeds = read_corpus(dir)?;
    if seeds.is_empty() {
        return Err(std::io::Error::other(format!(
            "empty corpus in {}",
            dir.display()
        )));
    }
    for s in &seeds {
        target(s);
    }
    let mut mutator = Mutator::new(&seeds, tokens, seed);
    for _ in 0..mutations {
        target(&mutator.next_input());
    }
    Ok(())
}

/// One step of xorshift64*, the generator of [`Mutator`] and of the crate's randomized tests.
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// A deterministic stream of pseudo-random numbers for tests.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed | 1;
    move || xorshift(&mut state)
}

/// Deterministic mutations of a corpus (byte flips, truncations, insertions of the given
/// tokens, splices of two seeds, deletions), so that a bounded fuzzing run over the committed
/// corpus is part of the ordinary test suite, on stable and the same on every run.
#[derive(Debug)]
pub struct Mutator<'a> {
    seeds: &'a [Vec<u8>],
    tokens: &'a [&'a [u8]],
    state: u64,
}

impl<'a> Mutator<'a> {
    /// Mutations of `seeds` (none if it is empty), inserting `tokens` among other edits; `seed`
    /// picks the sequence.
    #[must_use]
    pub fn new(seeds: &'a [Vec<u8>], tokens: &'a [&'a [u8]], seed: u64) -> Self {
        Self {
            seeds,
            tokens,
            state: seed | 1,
        }
    }

    fn next_u64(&mut self) -> u64 {
        xorshift(&mut self.state)
    }

    /// A number below `n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }

    /// The next mutated input (empty when there are no seeds).
    pub fn next_input(&mut self) -> Vec<u8> {
        let Some(mut data) = self.seeds.get(self.below(self.seeds.len())).cloned() else {
            return Vec::new();
        };
        for _ in 0..=self.below(4) {
            match self.below(5) {
                0 if !data.is_empty() => {
                    let i = self.below(data.len());
                    let bit = 1u8 << self.below(8);
                    if let Some(b) = data.get_mut(i) {
                        *b ^= bit;
                    }
                }
                1 => data.truncate(self.below(data.len() + 1)),
                2 => {
                    let i = self.below(data.len() + 1);
                    if let Some(t) = self.tokens.get(self.below(self.tokens.len())) {
                        data.splice(i..i, t.iter().copied());
                    }
                }
                3 => {
                    let other = self.seeds.get(self.below(self.seeds.len()));
                    let other = other.map_or(&[][..], Vec::as_slice);
                    let cut = self.below(other.len() + 1);
                    let at = self.below(data.len() + 1);
                    data.truncate(at);
                    data.extend_from_slice(other.get(cut..).unwrap_or_default());
                }
                _ if !data.is_empty() => {
                    let i = self.below(data.len());
                    data.remove(i);
                }
                _ => {}
            }
        }
        data
    }
}
