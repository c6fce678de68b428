//! Core benchmarks: decoding and re-encoding a ~1 KB `TaskPayload` (1.0b17), decoding a
//! `TaskResult` and a `Heartbeat` as the reference puts them on the wire, and matching a worker
//! with four devices against a resources requirement.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use rxon_core::{
    DeviceAssignment, Heartbeat, MatchOptions, Model, ProtocolVersion, Resources, TaskPayload,
    TaskResult, json,
};
use std::hint::black_box;

/// A poll response as the 1.0b17 reference puts it on the wire (1,169 bytes).
const POLL_RESPONSE: &[u8] = include_bytes!("data/poll_response.json");
/// A task result body as the 1.0b17 reference puts it on the wire (975 bytes).
const TASK_RESULT: &[u8] = include_bytes!("data/task_result.json");
/// A heartbeat body as the 1.0b17 reference puts it on the wire (706 bytes).
const HEARTBEAT: &[u8] = include_bytes!("data/heartbeat.json");

fn task_payload(c: &mut Criterion) {
    let mut g = c.benchmark_group("task_payload_1kb");
    g.throughput(criterion::Throughput::Bytes(POLL_RESPONSE.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| TaskPayload::from_json(black_box(POLL_RESPONSE)).unwrap())
    });
    let decoded = TaskPayload::from_json(POLL_RESPONSE).unwrap();
    g.bench_function("encode_b17", |b| {
        b.iter(|| {
            black_box(&decoded)
                .to_json(ProtocolVersion::V1_0b17)
                .unwrap()
        })
    });
    g.bench_function("encode_b9", |b| {
        b.iter(|| {
            black_box(&decoded)
                .to_json(ProtocolVersion::V1_0b9)
                .unwrap()
        })
    });
    g.bench_function("decode_encode_b17", |b| {
        b.iter(|| {
            let t = TaskPayload::from_json(black_box(POLL_RESPONSE)).unwrap();
            t.to_json(ProtocolVersion::V1_0b17).unwrap()
        })
    });
    g.finish();
}

fn task_result(c: &mut Criterion) {
    let mut g = c.benchmark_group("task_result_1kb");
    g.throughput(criterion::Throughput::Bytes(TASK_RESULT.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| TaskResult::from_json(black_box(TASK_RESULT)).unwrap())
    });
    g.finish();
}

fn heartbeat(c: &mut Criterion) {
    let mut g = c.benchmark_group("heartbeat_1kb");
    g.throughput(criterion::Throughput::Bytes(HEARTBEAT.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| Heartbeat::from_json(black_box(HEARTBEAT)).unwrap())
    });
    g.finish();
}

fn worker() -> Resources {
    let v = json!({
        "devices": [
            {"type": "gpu", "model": "NVIDIA RTX 3090", "id": "GPU-0", "properties": {"vram_gb": 24, "arch": "ampere"}},
            {"type": "gpu", "model": "NVIDIA RTX 4090", "id": "GPU-1", "properties": {"vram_gb": 24, "arch": "ada"}},
            {"type": "gpu", "model": "NVIDIA A100", "id": "GPU-2", "properties": {"vram_gb": 80, "arch": "ampere"}},
            {"type": "npu", "model": "Hailo-8", "id": "NPU-0", "properties": {"tops": 26}}
        ],
        "properties": {"cpu_cores": 32, "ram_gb": 128, "os": "linux", "features": ["avx2", "avx512"]}
    });
    Resources::from_value(&v).unwrap()
}

fn requirement() -> Resources {
    let v = json!({
        "devices": [
            {"type": "gpu", "properties": {"vram_gb": 40}},
            {"type": "gpu", "model": "rtx 40", "properties": {"arch": ["ada", "hopper"]}},
            {"type": "npu"}
        ],
        "properties": {"cpu_cores": 16, "ram_gb": 64.0, "os": "linux", "features": "avx512"}
    });
    Resources::from_value(&v).unwrap()
}

fn matching(c: &mut Criterion) {
    let (w, r) = (worker(), requirement());
    assert!(w.matches(&r));
    let exact = MatchOptions::default().with_assignment(DeviceAssignment::Exact);
    let mut g = c.benchmark_group("resources_matches_4_devices");
    g.bench_function("greedy", |b| {
        b.iter(|| black_box(&w).matches(black_box(&r)))
    });
    g.bench_function("exact", |b| {
        b.iter(|| black_box(&w).matches_with(black_box(&r), &exact))
    });
    // The reference's greedy caveat: the wildcard takes the 4090 first, so greedy fails and
    // exact assignment has to search.
    let w2 = Resources::from_value(&json!({"devices": [
        {"type": "gpu", "model": "NVIDIA RTX 4090"}, {"type": "gpu", "model": "NVIDIA RTX 3090"},
        {"type": "gpu", "model": "NVIDIA A100"}, {"type": "npu", "model": "Hailo-8"}
    ]}))
    .unwrap();
    let r2 = Resources::from_value(&json!({"devices": [
        {"type": "gpu"}, {"type": "gpu"}, {"type": "gpu", "model": "4090"}
    ]}))
    .unwrap();
    assert!(!w2.matches(&r2) && w2.matches_with(&r2, &exact));
    g.bench_function("exact_after_greedy_fails", |b| {
        b.iter(|| black_box(&w2).matches_with(black_box(&r2), &exact))
    });
    g.finish();
}

criterion_group!(benches, task_payload, task_result, heartbeat, matching);
criterion_main!(benches);
