//! Validation of a typical 1 KB params object against a cached, compiled validator.

use criterion::{Criterion, criterion_group, criterion_main};
use rxon_core::{ProtocolVersion, Value, json};
use std::hint::black_box;

fn load(name: &str) -> Value {
    let path = format!("{}/benches/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(&path).unwrap_or_default();
    json::from_slice(&text).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let schema_value = load("params_schema.json");
    let data = load("params.json");
    let Some(schema) = schema_value.as_object() else {
        return;
    };
    assert!(rxon_schema::validate_data(&data, Some(schema), ProtocolVersion::V1_0b17).is_ok());
    c.bench_function("validate_data/b17/params_1kb", |b| {
        b.iter(|| {
            rxon_schema::validate_data(
                black_box(&data),
                Some(black_box(schema)),
                ProtocolVersion::V1_0b17,
            )
        });
    });
    let compiled = rxon_schema::CompiledSchema::compile(schema);
    c.bench_function("compiled.validate/b17/params_1kb", |b| {
        b.iter(|| compiled.validate(black_box(&data), black_box(schema)));
    });
    c.bench_function("cache_lookup/params_schema", |b| {
        b.iter(|| rxon_schema::SchemaCache::global().get(black_box(schema)));
    });
    c.bench_function("to_serde/params_1kb", |b| {
        b.iter(|| rxon_schema::convert::to_serde(black_box(&data)));
    });
    c.bench_function("validate_data/b9/params_1kb", |b| {
        b.iter(|| {
            rxon_schema::validate_data(
                black_box(&data),
                Some(black_box(schema)),
                ProtocolVersion::V1_0b9,
            )
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
