//! A proposal as an operator reads it: the pure half of the
//! `AggregatorLink`, from the bytes an aggregator answered to the
//! [`CheckpointToSign`] the node may go on to judge and sign.
//!
//! Everything in a proposal comes from the aggregator, which is not trusted.
//! [`decode`] reads the body (JSON, at most [`MAX_COMMITMENTS`]
//! commitments); [`checkpoint_to_sign`] refuses a proposal of another
//! deployment, commitments that do not form a checkpoint (none, two for one
//! rollup, not sorted), and a `commitmentsRoot` that is not the root of the
//! commitments, which is recomputed here and never taken as given. The link
//! calls exactly these two functions, and so does the fuzz target
//! `proposal` (`fuzz/`), which holds them to never panicking and to
//! answering only checkpoints that rebuild the proposal.

use alloy::primitives::B256;
use chorus_contracts::checkpoint::CheckpointError;
use chorus_wire::{Domain, Proposal};

use crate::protection::CheckpointToSign;

/// The most commitments a proposal may hold (far more rollups than any
/// deployment lists).
pub const MAX_COMMITMENTS: usize = 1024;

/// Why an aggregator's answer is not a proposal to consider.
#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    /// The body is not a proposal's JSON.
    #[error("its answer is not a valid proposal: {0}")]
    NotAProposal(#[source] serde_json::Error),
    /// A proposal with too many commitments.
    #[error("its proposal has {0} commitments, more than the {MAX_COMMITMENTS} accepted")]
    TooManyCommitments(usize),
}

/// Why a well-read proposal is not signed (the link logs it and counts it
/// under [`Unsignable::reason`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsignable {
    /// It names another deployment.
    #[error(
        "it is for L1 chain {} contract {}, this node signs for L1 chain {} contract {}; check that the aggregator and [l1] deployment name the same deployment",
        .proposal.l1_chain_id, .proposal.attestation_contract, .ours.l1_chain_id, .ours.attestation_contract
    )]
    WrongDomain {
        /// The proposal's.
        proposal: Domain,
        /// This node's.
        ours: Domain,
    },
    /// Its commitments do not form a checkpoint.
    #[error("its commitments do not form a checkpoint: {0}")]
    Malformed(#[from] CheckpointError),
    /// Its root is not the root of its commitments.
    #[error("its commitmentsRoot {given} is not the root of its commitments ({computed})")]
    RootMismatch {
        /// The root it states.
        given: B256,
        /// The root of its commitments.
        computed: B256,
    },
}

impl Unsignable {
    /// The metric label of this reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::WrongDomain { .. } => "wrong_domain",
            Self::Malformed(_) => "malformed",
            Self::RootMismatch { .. } => "root_mismatch",
        }
    }
}

/// Reads an aggregator's answer to [`chorus_wire::routes::NEXT_PROPOSAL`]
/// (already bounded in size by the link).
pub fn decode(body: &[u8]) -> Result<Proposal, ProposalError> {
    let proposal: Proposal = serde_json::from_slice(body).map_err(ProposalError::NotAProposal)?;
    if proposal.commitments.len() > MAX_COMMITMENTS {
        return Err(ProposalError::TooManyCommitments(proposal.commitments.len()));
    }
    Ok(proposal)
}

/// The checkpoint `proposal` asks this node (of deployment `ours`) to sign,
/// with its root recomputed, if the proposal is of this deployment and well
/// formed.
pub fn checkpoint_to_sign(
    ours: &Domain,
    proposal: &Proposal,
) -> Result<CheckpointToSign, Unsignable> {
    if proposal.domain != *ours {
        return Err(Unsignable::WrongDomain { proposal: proposal.domain, ours: *ours });
    }
    let checkpoint = CheckpointToSign::new(proposal.table_version, proposal.commitments.clone())?;
    let computed = checkpoint.commitments_root();
    if computed != proposal.commitments_root {
        return Err(Unsignable::RootMismatch { given: proposal.commitments_root, computed });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;
    use chorus_contracts::Commitment;

    use super::*;

    fn domain() -> Domain {
        Domain { l1_chain_id: 31337, attestation_contract: Address::repeat_byte(7) }
    }

    fn proposal(rollups: &[u64]) -> Proposal {
        let commitments: Vec<Commitment> = rollups
            .iter()
            .map(|&rollup_id| Commitment {
                rollupId: rollup_id,
                l2BlockNumber: 5,
                l2BlockHash: B256::repeat_byte(1),
                stateRoot: B256::repeat_byte(2),
            })
            .collect();
        let commitments_root = CheckpointToSign::new(3, commitments.clone())
            .map(|c| c.commitments_root())
            .unwrap_or_default();
        Proposal {
            checkpoint_id: 1,
            domain: domain(),
            table_version: 3,
            commitments,
            commitments_root,
        }
    }

    #[test]
    fn a_well_formed_proposal_is_signed_as_rebuilt() {
        let proposal = proposal(&[901, 902]);
        let body = serde_json::to_vec(&proposal).unwrap();
        let read = decode(&body).unwrap();
        let checkpoint = checkpoint_to_sign(&domain(), &read).unwrap();
        assert_eq!(checkpoint.commitments_root(), proposal.commitments_root);
        assert_eq!(checkpoint.commitments(), proposal.commitments.as_slice());
    }

    #[test]
    fn every_fault_is_named() {
        let mut wrong_root = proposal(&[901]);
        wrong_root.commitments_root = B256::repeat_byte(9);
        let fault = checkpoint_to_sign(&domain(), &wrong_root).unwrap_err();
        assert_eq!(fault.reason(), "root_mismatch");
        let unsorted = proposal(&[902, 901]);
        assert_eq!(checkpoint_to_sign(&domain(), &unsorted).unwrap_err().reason(), "malformed");
        let other = Domain { l1_chain_id: 1, ..domain() };
        assert_eq!(
            checkpoint_to_sign(&other, &proposal(&[901])).unwrap_err().reason(),
            "wrong_domain"
        );
        assert!(matches!(decode(b"{"), Err(ProposalError::NotAProposal(_))));
        let ids: Vec<u64> = (0..=MAX_COMMITMENTS as u64).collect();
        let huge = serde_json::to_vec(&proposal(&ids)).unwrap();
        assert!(
            matches!(decode(&huge), Err(ProposalError::TooManyCommitments(n)) if n == MAX_COMMITMENTS + 1)
        );
    }
}
