//! BLS benchmarks: what an operator pays to sign and an aggregator to check.
//!
//! Run with `cargo bench -p chorus-keys --bench bls`; the figures go into
//! `BENCHMARKS.md`.

// Benchmarks build their own inputs; a failure there is a bug to crash on.
#![allow(clippy::expect_used, missing_docs)]

use chorus_keys::bls::{
    AggregateSignature, PopVerifiedKey, PublicKey, SecretKey, Signature, SignatureSet,
    deferred::{KeySum, PreparedMessage, UncheckedSignature, UncheckedSignatureSum},
    verify_batch,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const MESSAGE: &[u8] = b"chorus checkpoint: 32-byte signed message hash...";

struct Signers {
    keys: Vec<PopVerifiedKey>,
    signatures: Vec<Signature>,
}

fn signers(count: usize, message: &[u8]) -> Signers {
    let secrets: Vec<SecretKey> = (0..count).map(|_| SecretKey::random()).collect();
    let keys = secrets
        .iter()
        .map(|sk| sk.prove_possession().verify(&sk.public_key()).expect("own proof"))
        .collect();
    let signatures = secrets.iter().map(|sk| sk.sign(message)).collect();
    Signers { keys, signatures }
}

fn single(c: &mut Criterion) {
    let secret = SecretKey::random();
    let public = secret.public_key();
    let signature = secret.sign(MESSAGE);
    let encoded = signature.to_bytes();
    c.bench_function("sign", |b| b.iter(|| secret.sign(MESSAGE)));
    c.bench_function("verify", |b| b.iter(|| public.verify(MESSAGE, &signature)));
    c.bench_function("decode signature (subgroup check)", |b| {
        b.iter(|| Signature::from_bytes(&encoded))
    });
    c.bench_function("decode signature (no subgroup check)", |b| {
        b.iter(|| UncheckedSignature::from_bytes(&encoded))
    });
    let unchecked = UncheckedSignature::from(signature);
    c.bench_function("subgroup check of a signature", |b| b.iter(|| unchecked.check()));
    let prepared = PreparedMessage::new(MESSAGE);
    let sum = UncheckedSignatureSum::of(&unchecked);
    let keys = KeySum::of(&PopVerifiedKey::from_registry_unchecked(public));
    c.bench_function("verify a sum, message hashed once (subgroup check + pairing)", |b| {
        b.iter(|| prepared.verify_sum(&sum, &keys))
    });
    c.bench_function("decode public key (subgroup check)", |b| {
        let encoded = public.to_bytes();
        b.iter(|| PublicKey::from_bytes(&encoded))
    });
}

fn aggregation(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate signatures");
    for count in [100, 1_000] {
        let Signers { signatures, .. } = signers(count, MESSAGE);
        group.bench_with_input(BenchmarkId::from_parameter(count), &signatures, |b, sigs| {
            b.iter(|| AggregateSignature::aggregate(sigs))
        });
    }
    group.finish();

    let Signers { keys, signatures } = signers(1_000, MESSAGE);
    let aggregate = AggregateSignature::aggregate(&signatures).expect("non-empty");
    c.bench_function("fast aggregate verify, 1000 keys", |b| {
        b.iter(|| aggregate.fast_aggregate_verify(MESSAGE, &keys))
    });
}

fn batch(c: &mut Criterion) {
    let secrets: Vec<SecretKey> = (0..64).map(|_| SecretKey::random()).collect();
    let messages: Vec<[u8; 32]> = (0..64u8).map(|i| [i; 32]).collect();
    let publics: Vec<PublicKey> = secrets.iter().map(SecretKey::public_key).collect();
    let signatures: Vec<Signature> =
        secrets.iter().zip(&messages).map(|(sk, m)| sk.sign(m)).collect();
    let sets: Vec<SignatureSet<'_>> = (0..64)
        .map(|i| SignatureSet {
            message: &messages[i],
            public_key: &publics[i],
            signature: &signatures[i],
        })
        .collect();
    c.bench_function("batch verify, 64 distinct messages", |b| b.iter(|| verify_batch(&sets)));
}

criterion_group!(benches, single, aggregation, batch);
criterion_main!(benches);
