//! Side-by-side benchmark of signature aggregation (issue 7, item 1): from N
//! signatures arriving as the bytes operators send to a verified aggregate
//! ready for L1, for
//!
//! - Chorus's quorum collector ([`chorus_aggregator::quorum`]) as the
//!   aggregator uses it: a [`SignerSet`] per table version, a
//!   [`QuorumCollector`] per checkpoint, `add` for each 48-byte compressed
//!   G1 signature, `try_finish`;
//! - the same collector before issue 7 ([`before`]), to record before and
//!   after;
//! - eigensdk-rs's `BlsAggregatorService` ([`eigen`]), fed the same N
//!   operators through eigensdk's in-process AVS registry double, each with
//!   its own BN254 signature;
//! - the blst floor for the same guarantees ([`floor`]).
//!
//! Inputs are built once per (N, case) and shared by every contender; in the
//! "1% invalid" case every hundredth operator (position `37 mod 100`) signs
//! another message with its own key: a valid-looking point that fails
//! verification.
//!
//! This crate is never published and is the only one that pulls eigensdk's
//! BN254 stack (arkworks); the criterion bench is `benches/aggregation.rs`,
//! and `src/bin/aggregation-driver.rs` runs one contender once, for
//! `valgrind --tool=callgrind`.

// Benchmark fixtures: a failure while building inputs is a bug to crash on.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod before;
pub mod eigen;
pub mod floor;

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes, U256};
use chorus_aggregator::quorum::{Aggregate, Outcome, QuorumCollector, SignerSet};
use chorus_contracts::{IChorusRegistry::OperatorTableUpdated, table::OperatorTable};
use chorus_keys::bls::{SIGNATURE_BYTES, SecretKey};

/// The quorum the aggregator uses by default (two thirds, in basis points).
pub const QUORUM_BPS: u16 = 6_667;

/// Whether the operator at `position` signs another message in the "1%
/// invalid" case.
pub fn is_invalid(position: usize, one_percent_invalid: bool) -> bool {
    one_percent_invalid && position % 100 == 37
}

/// One checkpoint's worth of BLS12-381 signatures, as operators send them.
pub struct ChorusInput {
    /// The operator table's keys, prepared once per table version.
    pub set: Arc<SignerSet>,
    /// The same table for the collector before issue 7.
    pub set_before: Arc<before::SignerSet>,
    /// The message signed.
    pub message: B256,
    /// Each operator's 48-byte compressed signature.
    pub signatures: Vec<(Address, [u8; SIGNATURE_BYTES])>,
    /// The same signatures uncompressed (96 bytes), for the floor.
    pub uncompressed: Vec<[u8; 96]>,
    /// The registry-checked keys, for the floor.
    pub keys: Vec<chorus_keys::bls::PopVerifiedKey>,
}

/// `count` operators of equal weight, each signing `message` (or, in the
/// invalid case, every hundredth another message).
pub fn chorus_input(count: usize, one_percent_invalid: bool) -> ChorusInput {
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
    let set = Arc::new(SignerSet::new(table.clone()).expect("valid keys"));
    let set_before = Arc::new(before::SignerSet::new(table).expect("valid keys"));
    let signed: Vec<_> = secrets
        .iter()
        .enumerate()
        .map(|(i, sk)| {
            let what: &[u8] =
                if is_invalid(i, one_percent_invalid) { b"wrong" } else { message.as_slice() };
            sk.sign(what)
        })
        .collect();
    let uncompressed = signed
        .iter()
        .map(|sig| {
            blst::min_sig::Signature::from_bytes(&sig.to_bytes()).expect("valid").serialize()
        })
        .collect();
    let keys = operators.iter().map(|op| *set.key(op).expect("listed")).collect();
    let signatures = operators.into_iter().zip(signed.iter().map(|s| s.to_bytes())).collect();
    ChorusInput { set, set_before, message, signatures, uncompressed, keys }
}

/// Chorus today: a collector over the prepared set, every signature added
/// as bytes, then `try_finish`.
pub fn chorus_collect(input: &ChorusInput) -> Aggregate {
    let mut collector =
        QuorumCollector::new(input.set.clone(), input.message, QUORUM_BPS).expect("valid quorum");
    for (operator, signature) in &input.signatures {
        collector.add(*operator, signature).expect("well-formed");
    }
    match collector.try_finish() {
        Outcome::Ready(aggregate) => *aggregate,
        Outcome::Waiting { .. } => panic!("quorum not reached"),
    }
}

/// The collector before issue 7, the same way.
pub fn before_collect(input: &ChorusInput) -> before::Aggregate {
    let mut collector =
        before::QuorumCollector::new(input.set_before.clone(), input.message, QUORUM_BPS)
            .expect("valid quorum");
    for (operator, signature) in &input.signatures {
        collector.add(*operator, signature).expect("well-formed");
    }
    match collector.try_finish() {
        before::Outcome::Ready(aggregate) => *aggregate,
        before::Outcome::Waiting { .. } => panic!("quorum not reached"),
    }
}
