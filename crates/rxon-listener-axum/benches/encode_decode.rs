//! The listener's per-request work, without the network: parsing and decoding the bodies of
//! the `result` and `heartbeat` benchmark scenarios, and encoding the `poll` task (1.0b17).
//! The bodies are the reference's exact wire bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use rxon_core::{Heartbeat, Model, ProtocolVersion, TaskPayload, TaskResult, json};
use std::hint::black_box;

const TASK_RESULT: &[u8] = include_bytes!("data/task_result.json");
const HEARTBEAT: &[u8] = include_bytes!("data/heartbeat.json");
const POLL_RESPONSE: &[u8] = include_bytes!("data/poll_response.json");

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.bench_function("parse_result", |b| {
        b.iter(|| json::from_slice(black_box(TASK_RESULT)).unwrap())
    });
    g.bench_function("parse_heartbeat", |b| {
        b.iter(|| json::from_slice(black_box(HEARTBEAT)).unwrap())
    });
    // As the listener does with `keep_raw` on: the raw value is kept, the model is a copy.
    g.bench_function("result_keep_raw", |b| {
        b.iter(|| {
            let raw = json::from_slice(black_box(TASK_RESULT)).unwrap();
            let m = TaskResult::from_value(&raw).unwrap();
            (m, raw)
        })
    });
    g.bench_function("heartbeat_keep_raw", |b| {
        b.iter(|| {
            let raw = json::from_slice(black_box(HEARTBEAT)).unwrap();
            let m = Heartbeat::from_value(&raw).unwrap();
            (m, raw)
        })
    });
    // With `keep_raw` off: the parsed value is moved into the model.
    g.bench_function("result_owned", |b| {
        b.iter(|| {
            let raw = json::from_slice(black_box(TASK_RESULT)).unwrap();
            TaskResult::from_value_owned(raw).unwrap()
        })
    });
    g.bench_function("heartbeat_owned", |b| {
        b.iter(|| {
            let raw = json::from_slice(black_box(HEARTBEAT)).unwrap();
            Heartbeat::from_value_owned(raw).unwrap()
        })
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let task = TaskPayload::from_json(POLL_RESPONSE).unwrap();
    let mut g = c.benchmark_group("encode");
    // The value path: a normalized value tree, then its text.
    g.bench_function("poll_task_via_value", |b| {
        b.iter(|| {
            let v = black_box(&task).to_value(ProtocolVersion::V1_0b17).unwrap();
            let mut out = String::with_capacity(2048);
            json::write_value(&mut out, &v, false);
            out
        })
    });
    // What the listener does: the text written straight from the model.
    g.bench_function("poll_task_direct", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(2048);
            black_box(&task)
                .write_json(&mut out, ProtocolVersion::V1_0b17)
                .unwrap();
            out
        })
    });
    // The handler's copy of its task, as the benchmark handler makes one per poll.
    g.bench_function("poll_task_clone", |b| b.iter(|| black_box(&task).clone()));
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
