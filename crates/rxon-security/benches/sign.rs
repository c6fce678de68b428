//! Canonicalize + sign a ~1 KB `TaskResult` (spec §10.1–§10.3), HMAC-SHA256 and Ed25519.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use rxon_core::{ProtocolVersion, json};
use rxon_security::{
    Ed25519KeyPairPem, Ed25519Signer, HmacSigner, canonical_string, sign_canonical,
    verify_canonical,
};
use std::hint::black_box;

const TASK_RESULT: &[u8] = include_bytes!("data/task_result.json");

fn bench(c: &mut Criterion) {
    let v = json::from_slice(TASK_RESULT).unwrap();
    let hmac = HmacSigner::new("bench-secret").unwrap();
    let pair = Ed25519KeyPairPem::generate().unwrap();
    let ed = Ed25519Signer::from_pkcs8_pem(&pair.private_pem).unwrap();
    let ed_verifier = ed.verifier();
    let b17 = ProtocolVersion::V1_0b17;
    let b9 = ProtocolVersion::V1_0b9;

    c.bench_function("canonical/b17", |b| {
        b.iter(|| canonical_string(black_box(&v), b17, &[]).unwrap())
    });
    c.bench_function("hmac_sign/b17", |b| {
        b.iter(|| sign_canonical(black_box(&v), &hmac, b17, &[]).unwrap())
    });
    c.bench_function("hmac_sign/b9", |b| {
        b.iter(|| sign_canonical(black_box(&v), &hmac, b9, &[]).unwrap())
    });
    let sig = sign_canonical(&v, &hmac, b17, &[]).unwrap();
    c.bench_function("hmac_verify/b17", |b| {
        b.iter(|| {
            assert!(verify_canonical(
                black_box(&v),
                &sig,
                &hmac.verifier(),
                b17,
                &[]
            ))
        })
    });
    c.bench_function("parse_hmac_verify/b17", |b| {
        b.iter(|| {
            let v = json::from_slice(black_box(TASK_RESULT)).unwrap();
            assert!(verify_canonical(&v, &sig, &hmac.verifier(), b17, &[]));
        });
    });
    c.bench_function("ed25519_sign/b17", |b| {
        b.iter(|| sign_canonical(black_box(&v), &ed, b17, &[]).unwrap())
    });
    // As the reference's API does it: the PEM key is parsed on every call.
    c.bench_function("ed25519_sign_pem/b17", |b| {
        b.iter(|| {
            rxon_security::sign_payload_ed25519(black_box(&v), &pair.private_pem, b17, &[]).unwrap()
        });
    });
    let esig = sign_canonical(&v, &ed, b17, &[]).unwrap();
    c.bench_function("ed25519_verify_pem/b17", |b| {
        b.iter(|| {
            assert!(rxon_security::verify_signature_ed25519(
                black_box(&v),
                &esig,
                &pair.public_pem,
                b17,
                &[]
            ))
        });
    });
    c.bench_function("ed25519_verify/b17", |b| {
        b.iter(|| {
            assert!(verify_canonical(
                black_box(&v),
                &esig,
                &ed_verifier,
                b17,
                &[]
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
