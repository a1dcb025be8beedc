//! From N signatures as operators send them to a verified aggregate ready for
//! L1: Chorus's quorum collector (now and before issue 7), eigensdk-rs's
//! `BlsAggregatorService` and the blst floor, in one run.
//!
//! Run with `cargo bench -p chorus-bench-aggregation --bench aggregation`;
//! the figures go into BENCHMARKS.md ("Aggregation versus eigensdk-rs").
//! eigensdk-rs needs about 1.7 ms per signature, so its N = 5,000 cases take
//! minutes; `-- chorus` or `-- floor` filters them out.

// Benchmarks build their own inputs; a failure there is a bug to crash on.
#![allow(clippy::expect_used, missing_docs)]

use chorus_bench_aggregation::{
    before_collect, chorus_collect, chorus_input,
    eigen::{eigen_aggregate, eigen_input},
    floor,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const COUNTS: [usize; 3] = [100, 1_000, 5_000];
const CASES: [(&str, bool); 2] = [("all valid", false), ("1% invalid", true)];

fn aggregation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a Tokio runtime");
    for (case, invalid) in CASES {
        let mut group = c.benchmark_group(format!("signatures to verified aggregate, {case}"));
        group.sample_size(10);
        for count in COUNTS {
            let input = chorus_input(count, invalid);
            let message = input.message;
            let keys = floor::key_sum(&input.keys);
            let compressed: Vec<[u8; 48]> = input.signatures.iter().map(|(_, s)| *s).collect();
            group.bench_with_input(BenchmarkId::new("chorus", count), &input, |b, input| {
                b.iter(|| chorus_collect(input))
            });
            group.bench_with_input(BenchmarkId::new("chorus before", count), &input, |b, input| {
                b.iter(|| before_collect(input))
            });
            group.bench_function(BenchmarkId::new("floor compressed each checked", count), |b| {
                b.iter(|| floor::compressed_each_checked(&compressed, message.as_slice(), &keys))
            });
            group.bench_function(BenchmarkId::new("floor compressed sum checked", count), |b| {
                b.iter(|| floor::compressed_sum_checked(&compressed, message.as_slice(), &keys))
            });
            group.bench_function(BenchmarkId::new("floor uncompressed sum checked", count), |b| {
                b.iter(|| {
                    floor::uncompressed_sum_checked(&input.uncompressed, message.as_slice(), &keys)
                })
            });
            let eigen = eigen_input(count, invalid);
            group.bench_function(BenchmarkId::new("eigensdk-rs", count), |b| {
                b.iter(|| runtime.block_on(eigen_aggregate(&eigen)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, aggregation);
criterion_main!(benches);
