//! What one checkpoint costs the aggregator: from N compressed signatures
//! arriving as bytes to a verified aggregate (decoding without the subgroup
//! check, one optimistic check of the sum, bisection over cached key sums
//! when some are invalid).
//!
//! Run with `cargo bench -p chorus-aggregator --bench quorum`. The
//! comparison with eigensdk-rs and the blst floor, side by side in one run,
//! is `cargo bench -p chorus-bench-aggregation` (benches/aggregation).

// Benchmarks build their own inputs; a failure there is a bug to crash on.
#![allow(clippy::expect_used, missing_docs)]

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes, U256};
use chorus_aggregator::quorum::{Outcome, QuorumCollector, SignerSet};
use chorus_contracts::{IChorusRegistry::OperatorTableUpdated, table::OperatorTable};
use chorus_keys::bls::{SIGNATURE_BYTES, SecretKey};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const QUORUM_BPS: u16 = 6_667;

struct Checkpoint {
    set: Arc<SignerSet>,
    message: B256,
    signatures: Vec<(Address, [u8; SIGNATURE_BYTES])>,
}

/// `count` operators of equal weight; every hundredth signs another message.
fn checkpoint(count: usize, one_percent_invalid: bool) -> Checkpoint {
    let message = B256::repeat_byte(0x42);
    let secrets: Vec<SecretKey> = (0..count).map(|_| SecretKey::random()).collect();
    let operators: Vec<Address> =
        (0..count).map(|i| Address::left_padding_from(&(i as u64 + 1).to_be_bytes())).collect();
    let weights = vec![U256::from(100); count];
    let event = OperatorTableUpdated {
        version: 1,
        apk: Bytes::from(vec![0; 256]),
        totalWeight: weights.iter().sum(),
        leaves: Address::repeat_byte(0xee),
        operators: operators.clone(),
        pubkeys: secrets
            .iter()
            .map(|sk| Bytes::from(sk.public_key().to_eip2537().to_vec()))
            .collect(),
        weights,
    };
    let table = OperatorTable::from_event(&event).expect("consistent table");
    let set = Arc::new(SignerSet::new(table).expect("valid keys"));
    let signatures = secrets
        .iter()
        .zip(operators)
        .enumerate()
        .map(|(i, (sk, operator))| {
            let signed: &[u8] =
                if one_percent_invalid && i % 100 == 37 { b"wrong" } else { message.as_slice() };
            (operator, sk.sign(signed).to_bytes())
        })
        .collect();
    Checkpoint { set, message, signatures }
}

fn collect(c: &mut Criterion) {
    let mut group = c.benchmark_group("signatures to verified aggregate");
    group.sample_size(10);
    for count in [100, 1_000] {
        for (label, invalid) in [("all valid", false), ("1% invalid", true)] {
            let cp = checkpoint(count, invalid);
            group.bench_with_input(BenchmarkId::new(label, count), &cp, |b, cp| {
                b.iter(|| {
                    let mut collector =
                        QuorumCollector::new(cp.set.clone(), cp.message, QUORUM_BPS)
                            .expect("valid quorum");
                    for (operator, signature) in &cp.signatures {
                        collector.add(*operator, signature).expect("well-formed");
                    }
                    match collector.try_finish() {
                        Outcome::Ready(aggregate) => aggregate,
                        Outcome::Waiting { .. } => panic!("quorum not reached"),
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
