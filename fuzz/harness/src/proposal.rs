//! Proposals as an operator reads them: the `AggregatorLink`'s decode,
//! bounds and root recompute (`chorus_operator::node::proposal`), on an
//! aggregator's answer to `GET /v1/proposals/next`.

use chorus_operator::node::proposal::{MAX_COMMITMENTS, checkpoint_to_sign, decode};
use chorus_wire::Proposal;

use crate::fixture::fixture;

/// An aggregator's answer, judged for the fixture's deployment and for the
/// deployment the proposal itself names.
///
/// Invariants: a proposal read holds at most [`MAX_COMMITMENTS`]
/// commitments and re-encodes to the same proposal; a checkpoint to sign
/// is the proposal's own deployment, commitments (at least one, strictly
/// sorted by rollup) and root, so that nothing is signed that the proposal
/// did not state and the operator did not recompute.
pub fn proposal(data: &[u8]) {
    let Ok(proposal) = decode(data) else { return };
    assert!(proposal.commitments.len() <= MAX_COMMITMENTS);
    let again = serde_json::to_vec(&proposal).ok().and_then(|json| decode(&json).ok());
    assert_eq!(again.as_ref(), Some(&proposal), "a proposal read does not re-encode");
    for domain in [fixture().domain, proposal.domain] {
        let Ok(checkpoint) = checkpoint_to_sign(&domain, &proposal) else { continue };
        assert_eq!(proposal.domain, domain);
        check(
            &proposal,
            checkpoint.table_version(),
            checkpoint.commitments(),
            checkpoint.commitments_root(),
        );
    }
}

fn check(
    proposal: &Proposal,
    table_version: u32,
    commitments: &[chorus_contracts::Commitment],
    root: alloy::primitives::B256,
) {
    assert_eq!(table_version, proposal.table_version);
    assert_eq!(commitments, proposal.commitments.as_slice());
    assert_eq!(root, proposal.commitments_root);
    assert!(!commitments.is_empty());
    assert!(commitments.windows(2).all(|pair| pair[0].rollupId < pair[1].rollupId));
}
