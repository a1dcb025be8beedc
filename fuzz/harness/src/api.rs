//! The aggregator's API bodies: signature submissions and rejections, each
//! input a session of bodies (NUL-separated) posted to the fixture's open
//! checkpoint.
//!
//! Each body goes the handler's way: refused over
//! [`MAX_BODY_BYTES`] (`413`), decoded with `serde_json::from_slice` as
//! actix-web's `Json` extractor does, matched to the checkpoint
//! ([`answers_proposal`]), then checked as the `Collectors` actor checks it:
//! `QuorumCollector::add` then [`settle`] in batches (deferred subgroup
//! checks, bisection and aggregation) for signatures, [`rejection_fits`] and
//! [`verify_operator_signature`] for rejections.

use std::collections::HashSet;

use alloy::primitives::{Address, Bytes, U256};
use chorus_aggregator::{
    quorum::{Aggregate, QuorumCollector, SignatureStatus, meets_quorum},
    service::{
        checkpoints::{answers_proposal, rejection_fits},
        collect::{settle, verify_operator_signature},
    },
};
use chorus_keys::bls::PopVerifiedKey;
use chorus_wire::{CheckpointState, MAX_BODY_BYTES, Rejection, SignedCheckpoint};
use serde::de::DeserializeOwned;

use crate::{
    bodies,
    fixture::{fixture, signers},
};

/// Most bodies of one session that are looked at (bounds a run's time).
const MAX_SESSION: usize = 32;

/// A body as the handler's extractor reads it.
fn read_body<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    if body.len() > MAX_BODY_BYTES {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// Signature submissions (`POST /v1/signatures`) to one open checkpoint.
///
/// Invariants: the collector's weight never exceeds the table's; any
/// aggregate it answers verifies over the checkpoint's message under its
/// signers' keys, carries their weight, meets the quorum and lists every
/// other operator as a non-signer.
pub fn signature(data: &[u8]) {
    let fixture = fixture();
    let signers = signers();
    let proposal = &fixture.proposal;
    let message = fixture.message();
    let mut collector = match QuorumCollector::new(signers.clone(), message, fixture.quorum_bps) {
        Ok(collector) => collector,
        Err(error) => panic!("the fixture's quorum is invalid: {error}"),
    };
    let mut awaited = Vec::new();
    for body in bodies(data).take(MAX_SESSION) {
        let Some(signed) = read_body::<SignedCheckpoint>(body) else { continue };
        if signed.checkpoint_id != proposal.checkpoint_id {
            continue;
        }
        let state = CheckpointState::Open;
        if answers_proposal(proposal, state, signed.table_version, signed.commitments_root).is_err()
        {
            continue;
        }
        if collector.add(signed.operator, &signed.signature).is_err() {
            continue;
        }
        awaited.push((signed.operator, signed.signature));
        // Batches of two, as the actor forms them under load, and the last
        // one alone.
        if awaited.len() == 2 {
            check_settled(&mut collector, &std::mem::take(&mut awaited));
        }
    }
    check_settled(&mut collector, &awaited);
}

/// Settles a batch as the `Collectors` actor does and checks what it says.
fn check_settled(collector: &mut QuorumCollector, awaited: &[(Address, Bytes)]) {
    let settled = settle(collector, awaited, true);
    assert_eq!(settled.verdicts.len(), awaited.len());
    assert!(settled.verdicts.iter().all(|status| *status != SignatureStatus::Pending));
    assert!(settled.collected_weight <= collector.signer_set().total_weight());
    if let Some(aggregate) = &settled.aggregate {
        check_aggregate(collector, aggregate);
    }
}

/// What a verified aggregate must be.
fn check_aggregate(collector: &QuorumCollector, aggregate: &Aggregate) {
    let signers = collector.signer_set();
    assert_eq!(aggregate.message, collector.message());
    let keys: Vec<PopVerifiedKey> = aggregate
        .signers
        .iter()
        .map(|operator| match signers.key(operator) {
            Some(key) => *key,
            None => panic!("aggregate signer {operator} is not in the table"),
        })
        .collect();
    assert!(
        aggregate.signature.fast_aggregate_verify(aggregate.message.as_slice(), &keys).is_ok(),
        "an aggregate the collector verified does not verify"
    );
    assert_eq!(aggregate.signature_eip2537, aggregate.signature.to_eip2537());
    let weight = aggregate
        .signers
        .iter()
        .filter_map(|operator| signers.weight(operator))
        .fold(U256::ZERO, U256::saturating_add);
    assert_eq!(aggregate.signed_weight, weight);
    assert!(meets_quorum(weight, signers.total_weight(), collector.quorum_bps()));
    let signed: HashSet<Address> = aggregate.signers.iter().copied().collect();
    assert_eq!(signed.len(), aggregate.signers.len(), "a signer is counted twice");
    for operator in &aggregate.signers {
        assert_eq!(collector.status(operator), Some(SignatureStatus::Verified));
    }
    assert_eq!(aggregate.non_signers.len() + signed.len(), signers.len());
}

/// Rejections (`POST /v1/rejections`) of the fixture's open checkpoint.
///
/// Invariants: a rejection that passes every check names only commitments
/// of the proposal, at least one, from an operator of the table; and it
/// survives re-encoding unchanged (what is stored is what was checked).
pub fn rejection(data: &[u8]) {
    let fixture = fixture();
    let proposal = &fixture.proposal;
    for body in bodies(data).take(MAX_SESSION) {
        let Some(rejection) = read_body::<Rejection>(body) else { continue };
        if rejection.checkpoint_id != proposal.checkpoint_id {
            continue;
        }
        let state = CheckpointState::Open;
        let (version, root) = (rejection.table_version, rejection.commitments_root);
        if answers_proposal(proposal, state, version, root).is_err() {
            continue;
        }
        let Ok(table) = rejection_fits(proposal, Some(signers()), &rejection) else { continue };
        let message = Rejection::message(
            &fixture.domain,
            rejection.checkpoint_id,
            version,
            root,
            &rejection.rejected,
        );
        if !verify_operator_signature(&table, rejection.operator, message, &rejection.signature) {
            continue;
        }
        assert!(!rejection.rejected.is_empty());
        assert!(table.position(&rejection.operator).is_some());
        for refused in &rejection.rejected {
            assert!(proposal.commitments.contains(&refused.commitment));
        }
        let again: Rejection = match serde_json::to_vec(&rejection)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
        {
            Some(again) => again,
            None => panic!("an accepted rejection does not re-encode"),
        };
        assert_eq!(again, rejection);
    }
}
