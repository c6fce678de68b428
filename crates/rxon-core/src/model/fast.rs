//! The fast path of [`Model::from_json`](super::Model::from_json): a pull decoder that reads
//! the bytes straight into a model's fields, building [`Value`]s only for free-form fields.
//!
//! It only ever answers "here is the model" or "give up": any input it does not take in its
//! stride (a wrong type, a missing required field, a key with escapes, invalid JSON, ...)
//! makes it return `None`, and the caller then runs the general decoding
//! ([`from_json_via_value`](super::codec::from_json_via_value)), which produces the result or
//! the exact error. When it does answer, the model is the one the general decoding returns:
//!
//! * the whole document is read with the same parser primitives (whitespace, strings,
//!   numbers, literals, the nesting limit, trailing characters), unknown members included;
//! * each field value is checked and converted exactly as the field's [`FieldValue`] decoding
//!   converts the parsed value (null rules per field kind included);
//! * a repeated key simply overwrites the field, which is "the last value wins": the general
//!   decoding keeps the last value too, and an earlier value of the wrong type makes this path
//!   give up (where the general one might not fail), which is safe.

use super::codec::FieldValue;
use crate::json::{MAX_DEPTH, Parser};
use crate::value::{Map, Number, Value};

/// A field type the fast path can read.
pub(crate) trait FastField: FieldValue {
    /// Reads a non-null value sitting in a container at nesting `depth` (containers it opens
    /// are at `depth + 1`). `None`: give up.
    fn fast(p: &mut Parser<'_>, depth: usize) -> Option<Self>;

    /// Reads an object of such values (at `depth + 1`) into a map. `None`: give up.
    fn fast_map(p: &mut Parser<'_>, depth: usize) -> Option<Map<Self>> {
        let mut entries: Vec<(String, Self)> = Vec::with_capacity(4);
        object(p, depth + 1, |p, d| {
            let key = p.string().ok()?;
            if p.peek_ws() != Some(b':') {
                return None;
            }
            p.bump();
            // Free-form maps keep nulls; typed maps refuse them (give up).
            if p.peek_ws() == Some(b'n') && Self::EXPECTED != "any" {
                return None;
            }
            entries.push((key, Self::fast(p, d)?));
            Some(())
        })?;
        Some(Map::from_entries(entries))
    }
}

/// A model the fast path can read.
pub(crate) trait FastModel: Sized {
    /// Reads the model's object, which sits at nesting `depth` (the message is at 1).
    fn fast_object(p: &mut Parser<'_>, depth: usize) -> Option<Self>;
}

/// Decodes a whole message, or gives up.
pub(crate) fn decode_root<M: FastModel>(text: &[u8]) -> Option<M> {
    let mut p = Parser::new(text);
    if p.peek_ws() != Some(b'{') {
        return None;
    }
    let m = M::fast_object(&mut p, 1);
    p.ws();
    if p.at_end() { m } else { None }
}

/// Reads the members of an object at nesting `depth`, calling `member` with the cursor at
/// each member's key (it must read the key, the `:` and the value) and the object's depth.
pub(crate) fn object<'a>(
    p: &mut Parser<'a>,
    depth: usize,
    mut member: impl FnMut(&mut Parser<'a>, usize) -> Option<()>,
) -> Option<()> {
    if depth > MAX_DEPTH || p.peek() != Some(b'{') {
        return None;
    }
    p.bump();
    if p.peek_ws() == Some(b'}') {
        p.bump();
        return Some(());
    }
    loop {
        if p.peek_ws() != Some(b'"') {
            return None;
        }
        member(p, depth)?;
        match p.peek_ws() {
            Some(b',') => p.bump(),
            Some(b'}') => {
                p.bump();
                return Some(());
            }
            _ => return None,
        }
    }
}

/// Reads the key of a model's member (no escapes, else give up) and the `:` after it.
#[inline(always)]
pub(crate) fn model_key<'a>(p: &mut Parser<'a>) -> Option<&'a str> {
    let key = p.plain_str()?;
    if p.peek_ws() != Some(b':') {
        return None;
    }
    p.bump();
    p.peek_ws();
    Some(key)
}

/// A required field: `null` is refused (give up) unless the type takes any value.
pub(crate) fn req<T: FastField>(p: &mut Parser<'_>, depth: usize) -> Option<T> {
    if p.peek() == Some(b'n') && T::EXPECTED != "any" {
        return None;
    }
    T::fast(p, depth)
}

/// An optional field: `null` is `None`.
pub(crate) fn opt<T: FastField>(p: &mut Parser<'_>, depth: usize) -> Option<Option<T>> {
    if p.peek() == Some(b'n') {
        p.null()?;
        return Some(None);
    }
    T::fast(p, depth).map(Some)
}

/// A field with a default: `null` is refused (give up).
pub(crate) fn defaulted<T: FastField>(p: &mut Parser<'_>, depth: usize) -> Option<Option<T>> {
    if p.peek() == Some(b'n') {
        return None;
    }
    T::fast(p, depth).map(Some)
}

/// Skips an unknown member's value, validating it as the parser does.
pub(crate) fn skip(p: &mut Parser<'_>, depth: usize) -> Option<()> {
    p.value(depth).ok().map(drop)
}

impl FastField for String {
    #[inline(always)]
    fn fast(p: &mut Parser<'_>, _: usize) -> Option<Self> {
        if p.peek() != Some(b'"') {
            return None;
        }
        p.string().ok()
    }
}

#[inline(always)]
fn number(p: &mut Parser<'_>) -> Option<Number> {
    match p.peek() {
        Some(b'-' | b'0'..=b'9') => p.number().ok(),
        _ => None,
    }
}

impl FastField for i64 {
    fn fast(p: &mut Parser<'_>, _: usize) -> Option<Self> {
        number(p)?.to_integer()?.as_i64()
    }
}

impl FastField for f64 {
    fn fast(p: &mut Parser<'_>, _: usize) -> Option<Self> {
        number(p).map(|n| n.as_f64())
    }
}

impl FastField for Number {
    fn fast(p: &mut Parser<'_>, _: usize) -> Option<Self> {
        number(p)
    }
}

impl FastField for Value {
    fn fast(p: &mut Parser<'_>, depth: usize) -> Option<Self> {
        p.value(depth).ok()
    }

    fn fast_map(p: &mut Parser<'_>, depth: usize) -> Option<Map<Self>> {
        if p.peek() != Some(b'{') {
            return None;
        }
        match p.value(depth).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

impl<T: FastField> FastField for Vec<T> {
    fn fast(p: &mut Parser<'_>, depth: usize) -> Option<Self> {
        let depth = depth + 1;
        if depth > MAX_DEPTH || p.peek() != Some(b'[') {
            return None;
        }
        p.bump();
        if p.peek_ws() == Some(b']') {
            p.bump();
            return Some(Vec::new());
        }
        // Room for a typical list, so short ones are allocated once.
        let mut items = Vec::with_capacity(4);
        loop {
            // Array items are never null in a typed field (give up).
            if p.peek_ws() == Some(b'n') {
                return None;
            }
            items.push(T::fast(p, depth)?);
            match p.peek_ws() {
                Some(b',') => p.bump(),
                Some(b']') => {
                    p.bump();
                    return Some(items);
                }
                _ => return None,
            }
        }
    }
}

impl<T: FastField> FastField for Map<T> {
    fn fast(p: &mut Parser<'_>, depth: usize) -> Option<Self> {
        T::fast_map(p, depth)
    }
}

#[cfg(test)]
mod tests {
    //! The fast path against the general decoding on every model vector, the bench bodies,
    //! the fuzz corpus and deterministic mutations of them: whenever the fast path answers, the
    //! general decoding gives the same model (compared with member order and number kinds),
    //! and `from_json` always gives the general decoding's model or error text.
    use super::*;
    use crate::model::codec::{Model, from_json_via_value, write_model_collected_for_tests};
    use crate::model::*;
    use crate::wire::ProtocolVersion;
    use std::fmt::Debug;

    const MODELS: &str = include_str!("../../tests/fixtures/models.json");
    const BODIES: [&[u8]; 3] = [
        include_bytes!("../../benches/data/poll_response.json"),
        include_bytes!("../../benches/data/task_result.json"),
        include_bytes!("../../benches/data/heartbeat.json"),
    ];

    /// Checks one text against one model; returns whether the fast path answered.
    fn check<M: Model + FastModel + Debug>(text: &[u8]) -> bool {
        let slow = from_json_via_value::<M>(text);
        let fast = decode_root::<M>(text);
        let ctx = || format!("{} on {:?}", M::NAME, String::from_utf8_lossy(text));
        if let Some(m) = &fast {
            match &slow {
                Ok(s) => assert_eq!(format!("{m:?}"), format!("{s:?}"), "{}", ctx()),
                Err(e) => panic!("fast path answered where decoding fails ({e}): {}", ctx()),
            }
        }
        match (M::from_json(text), &slow) {
            (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", ctx()),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", ctx()),
            (a, b) => panic!("from_json {a:?} vs {b:?}: {}", ctx()),
        }
        if let Ok(m) = &slow {
            for version in [ProtocolVersion::V1_0b9, ProtocolVersion::V1_0b17] {
                // Written from the field table = written by collecting and ordering members.
                let mut direct = String::new();
                let mut collected = String::new();
                let a = m.write_object(&mut direct, version, 0);
                let b = write_model_collected_for_tests(m, &mut collected, version, 0);
                assert_eq!(a, b, "{}", ctx());
                if a.is_ok() {
                    assert_eq!(direct, collected, "{} {version}", ctx());
                }
                let via_value = m.to_value(version).map(|v| v.to_json());
                assert_eq!(m.to_json(version), via_value, "{} {version}", ctx());
            }
        }
        fast.is_some()
    }

    /// Runs `check` for every model; returns how many fast answers there were.
    fn check_all(text: &[u8]) -> usize {
        macro_rules! all {
            ($($m:ident),*) => { [$( check::<$m>(text) ),*].iter().filter(|&&b| b).count() };
        }
        all!(
            HardwareDevice,
            DeviceUsage,
            ResourcesUsage,
            Resources,
            InstalledArtifact,
            SkillInfo,
            SecurityContext,
            WorkerCapabilities,
            FileMetadata,
            WorkerRegistration,
            TokenResponse,
            WorkerEventPayload,
            WorkerCommand,
            TaskPayload,
            TaskError,
            TaskResult,
            Heartbeat
        )
    }

    fn vector_texts() -> Vec<Vec<u8>> {
        let doc = crate::json::from_str(MODELS).unwrap();
        let mut texts = Vec::new();
        for section in ["decode", "encode"] {
            for case in doc.get(section).and_then(Value::as_array).unwrap() {
                if let Some(t) = case.get("input_json").and_then(Value::as_str) {
                    texts.push(t.as_bytes().to_vec());
                }
                if let Some(f) = case.get("fields") {
                    texts.push(f.to_json().into_bytes());
                }
            }
        }
        texts
    }

    fn corpus_texts() -> Vec<Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        ["decode_task", "decode_heartbeat", "decode_command_frame"]
            .iter()
            .flat_map(|t| crate::fuzzing::read_corpus(&root.join(t)).unwrap())
            .collect()
    }

    #[test]
    fn fast_path_answers_the_bench_bodies() {
        assert!(check::<TaskPayload>(BODIES[0]));
        assert!(check::<TaskResult>(BODIES[1]));
        assert!(check::<Heartbeat>(BODIES[2]));
    }

    #[test]
    fn fast_path_matches_the_general_decoding_on_vectors_and_corpus() {
        let texts = vector_texts();
        assert!(texts.len() > 350, "only {} vector texts", texts.len());
        let fast: usize = texts.iter().map(|t| check_all(t)).sum();
        // The fast path must actually be taken for most well-formed messages.
        assert!(fast > 300, "fast path answered only {fast} times");
        for t in corpus_texts()
            .iter()
            .chain(BODIES.iter().map(|b| b.to_vec()).collect::<Vec<_>>().iter())
        {
            check_all(t);
        }
    }

    #[test]
    fn fast_path_edge_cases() {
        let cases: &[&[u8]] = &[
            // Repeated keys: the last value wins, whatever came first.
            br#"{"job_id":"a","task_id":"t","type":"x","job_id":"b"}"#,
            br#"{"job_id":5,"task_id":"t","type":"x","job_id":"b"}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","params":{"a":1},"params":null}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","params":null,"params":{"b":[1,2]}}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","priority":null}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","priority":1}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","step":2.0,"depth":-0.0}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","step":2.5}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","timestamp":1e300}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","deadline":1767225600.5}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","deadline":"soon"}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","tracing_context":{"a":"1","a":"2","b":"3"}}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","tracing_context":{"a":null}}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","params_metadata":{"k":{"uri":"s3://b/k","size":3}}}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","params_metadata":{"k":{"size":3}}}"#,
            br#"{"job\u005fid":"a","task_id":"t","type":"x"}"#,
            br#"{"job_id":"a\u00e9\ud83d\ude00","task_id":"t","type":"x"}"#,
            br#" { "job_id" : "a" , "task_id" : "t" , "type" : "x" , "unknown" : [ 1 , { "z" : null } ] } "#,
            br#"{"job_id":"a","task_id":"t","type":"x","unknown":[1,]}"#,
            br#"{"job_id":"a","task_id":"t","type":"x","unknown":1e999}"#,
            br#"{"job_id":"a","task_id":"t","type":"x"} x"#,
            br#"{"job_id":"a","task_id":"t","type":"x","#,
            br#"{"job_id":"a","task_id":"t"}"#,
            br#"{"job_id":null,"task_id":"t","type":"x"}"#,
            br#"[{"job_id":"a"}]"#,
            br#"{"worker_id":"w","status":"s","usage":{"devices_usage":[{"unit_id":"g","load_percent":1}]}}"#,
            br#"{"worker_id":"w","status":"s","usage":{"devices_usage":[null]}}"#,
            br#"{"worker_id":"w","status":"s","usage":{"devices_usage":[]},"current_tasks":[]}"#,
            br#"{"worker_id":"w","status":"s","current_tasks":["a",null]}"#,
            br#"{"worker_id":"w","status":"s","usage":null,"metadata":{}}"#,
            br#"{"worker_id":"w","status":"s","metadata":{"a":{"b":{"c":[[[]]]}}}}"#,
            br#"{"worker_id":"w","status":"s","timestamp":18446744073709551615}"#,
            br#"{"worker_id":"w","status":"s","timestamp":-9223372036854775808}"#,
            br#"{"command":"cancel_task","params":{"x":nul}}"#,
            br#"{"command":"cancel_task","task_id":nulll}"#,
            b"{\"command\":\"c\xff\"}",
            b"{\"command\":\"c\",\"x\":\"\xff\"}",
            b"",
            b"{}",
        ];
        for c in cases {
            check_all(c);
        }
        // Nesting at and past the parser's limit, inside a free-form field.
        for n in [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH] {
            let text = format!(
                r#"{{"command":"c","params":{{"a":{}{}}}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            );
            check_all(text.as_bytes());
        }
    }

    #[test]
    fn fast_path_matches_the_general_decoding_on_mutations() {
        const TOKENS: [&[u8]; 16] = [
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
            b"2.0",
            b"\\u0041",
            b"\\ud800",
            b"18446744073709551616",
            b"\"job_id\":",
            b"\"status\":",
        ];
        let mut seeds = vector_texts();
        seeds.extend(BODIES.iter().map(|b| b.to_vec()));
        seeds.extend(corpus_texts());
        let mut mutations = crate::fuzzing::Mutator::new(&seeds, &TOKENS, 0x5eed_1234_abcd_ef01);
        for _ in 0..4000 {
            let data = mutations.next_input();
            check_all(&data);
        }
    }
}
