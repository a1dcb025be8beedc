//! Runs one contender once, for instruction counts that do not depend on
//! the machine's load:
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*run_once*' \
//!     target/release/aggregation-driver chorus 1000 valid
//! ```
//!
//! Contenders: `chorus`, `before`, `floor-each`, `floor-sum`,
//! `floor-uncompressed`, `eigensdk`; counts any N; cases `valid` or
//! `invalid` (1% invalid). Inputs are built outside `run_once`.

// A driver for measurements: bad arguments or fixtures crash with a message.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use chorus_bench_aggregation::{
    ChorusInput, before_collect, chorus_collect, chorus_input,
    eigen::{EigenInput, eigen_aggregate, eigen_input},
    floor,
};

enum Input {
    Chorus(ChorusInput),
    /// The floor's inputs, prepared outside `run_once` as the benchmark
    /// prepares them: the key sum (cached per table version) and the bytes.
    Floor(ChorusInput, Box<blst::min_sig::PublicKey>, Vec<[u8; 48]>),
    Eigen(EigenInput),
}

#[inline(never)]
fn run_once(contender: &str, input: &Input) {
    match (contender, input) {
        ("chorus", Input::Chorus(input)) => {
            black_box(chorus_collect(input));
        }
        ("before", Input::Chorus(input)) => {
            black_box(before_collect(input));
        }
        (floor_kind, Input::Floor(input, keys, compressed)) => {
            let message = input.message.as_slice();
            black_box(match floor_kind {
                "floor-each" => floor::compressed_each_checked(compressed, message, keys),
                "floor-sum" => floor::compressed_sum_checked(compressed, message, keys),
                "floor-uncompressed" => {
                    floor::uncompressed_sum_checked(&input.uncompressed, message, keys)
                }
                other => panic!("unknown contender {other}"),
            });
        }
        (other, Input::Chorus(_)) => panic!("unknown contender {other}"),
        (_, Input::Eigen(input)) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a Tokio runtime");
            black_box(runtime.block_on(eigen_aggregate(input)));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: aggregation-driver <chorus|before|floor-each|floor-sum|floor-uncompressed|eigensdk> <N> <valid|invalid>";
    let [_, contender, count, case] = args.as_slice() else { panic!("{usage}") };
    let count: usize = count.parse().expect(usage);
    let invalid = match case.as_str() {
        "valid" => false,
        "invalid" => true,
        _ => panic!("{usage}"),
    };
    let input = if contender == "eigensdk" {
        Input::Eigen(eigen_input(count, invalid))
    } else if contender.starts_with("floor") {
        let input = chorus_input(count, invalid);
        let keys = floor::key_sum(&input.keys);
        let compressed = input.signatures.iter().map(|(_, s)| *s).collect();
        Input::Floor(input, Box::new(keys), compressed)
    } else {
        Input::Chorus(chorus_input(count, invalid))
    };
    run_once(contender, &input);
}
