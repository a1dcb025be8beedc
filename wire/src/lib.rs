//! The HTTP API between operators and aggregators: routes, limits and the
//! JSON bodies both sides exchange.
//!
//! The transport is plain HTTP/JSON. An operator pulls proposals with a long
//! poll on [`routes::NEXT_PROPOSAL`], checks every commitment against its own
//! L2 node and answers either with a [`SignedCheckpoint`] or with a
//! [`Rejection`] naming the commitments it refuses and why. Each answer
//! carries a BLS signature, which is what authenticates it: the aggregator
//! keeps no accounts.
//!
//! Commitments travel as the Solidity struct (`chorus_contracts::Commitment`,
//! camelCase field names), so the JSON cannot drift from the on-chain
//! encoding. Byte strings are 0x-prefixed hex.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol_types::SolValue;
use chorus_contracts::Commitment;
use serde::{Deserialize, Serialize};

/// The aggregator's routes.
pub mod routes {
    /// `GET`: the newest open proposal after `?after=ID`, waiting up to
    /// `?wait=SECONDS` ([`super::MAX_LONG_POLL_SECS`] at most) for one;
    /// `204 No Content` when none came.
    pub const NEXT_PROPOSAL: &str = "/v1/proposals/next";
    /// `POST` a [`super::SignedCheckpoint`].
    pub const SIGNATURES: &str = "/v1/signatures";
    /// `POST` a [`super::Rejection`].
    pub const REJECTIONS: &str = "/v1/rejections";
    /// `GET`: recent checkpoints ([`super::CheckpointStatus`]), newest first.
    pub const CHECKPOINTS: &str = "/v1/checkpoints";
    /// `GET /v1/checkpoints/{id}`: one [`super::CheckpointStatus`].
    pub const CHECKPOINT: &str = "/v1/checkpoints/{id}";
    /// `GET /v1/checkpoints/{id}/signatures`: every individual signature
    /// received for it ([`super::PublicSignature`]), public so that anyone
    /// can watch for equivocation.
    pub const CHECKPOINT_SIGNATURES: &str = "/v1/checkpoints/{id}/signatures";
    /// `GET`: recent divergence reports ([`super::Divergence`]).
    pub const DIVERGENCES: &str = "/v1/divergences";
    /// `GET`: the aggregator's overview ([`super::AggregatorStatus`]).
    pub const STATUS: &str = "/v1/status";
    /// `GET`: Prometheus metrics (text exposition format).
    pub const METRICS: &str = "/metrics";
    /// `GET`: liveness (`200` when serving).
    pub const HEALTH: &str = "/health";
}

/// Largest request body the aggregator reads; larger ones get `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest long poll the aggregator holds open.
pub const MAX_LONG_POLL_SECS: u64 = 30;

/// Where signatures of a checkpoint are valid: the L1 chain and the
/// attestation contract the signed message binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// The L1 chain id.
    pub l1_chain_id: u64,
    /// The attestation contract.
    pub attestation_contract: Address,
}

/// A checkpoint the aggregator asks operators to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// The aggregator's id for this checkpoint (increasing).
    pub checkpoint_id: u64,
    /// Where the signature will be valid.
    pub domain: Domain,
    /// The operator-table version the checkpoint names.
    pub table_version: u32,
    /// One commitment per rollup, sorted by rollup id.
    pub commitments: Vec<Commitment>,
    /// Their Merkle root. Operators recompute it and never sign this field
    /// as given.
    pub commitments_root: B256,
}

/// An operator's signature over a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedCheckpoint {
    /// The proposal answered.
    pub checkpoint_id: u64,
    /// The signing operator's Ethereum address (as registered).
    pub operator: Address,
    /// The table version signed.
    pub table_version: u32,
    /// The root signed.
    pub commitments_root: B256,
    /// The 48-byte compressed G1 signature over the checkpoint message.
    pub signature: Bytes,
}

/// Why an operator refuses one commitment of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RejectReason {
    /// The operator's node has the block with another hash or state root:
    /// a divergence.
    #[serde(rename_all = "camelCase")]
    Mismatch {
        /// The operator's own commitment for that block.
        ours: Commitment,
    },
    /// The block is beyond the operator's safety depth.
    #[serde(rename_all = "camelCase")]
    NotYetSafe {
        /// The operator's safe head for that rollup.
        safe_head: u64,
    },
    /// The operator does not watch that rollup.
    UnknownRollup,
    /// The operator's L2 node could not be read.
    #[serde(rename_all = "camelCase")]
    Unavailable {
        /// What failed.
        detail: String,
    },
}

impl RejectReason {
    /// True when the operator's node disagrees with the commitment, as
    /// opposed to not being able to judge it yet.
    pub fn is_divergence(&self) -> bool {
        matches!(self, Self::Mismatch { .. })
    }
}

/// One refused commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedCommitment {
    /// The commitment as proposed.
    pub commitment: Commitment,
    /// Why it is refused.
    pub reason: RejectReason,
}

/// An operator's refusal of a proposal, signed so that nobody can report a
/// divergence in its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// The proposal answered.
    pub checkpoint_id: u64,
    /// The refusing operator.
    pub operator: Address,
    /// The proposal's table version.
    pub table_version: u32,
    /// The proposal's root.
    pub commitments_root: B256,
    /// The commitments refused (at least one).
    pub rejected: Vec<RejectedCommitment>,
    /// BLS signature over [`Rejection::message`].
    pub signature: Bytes,
}

impl Rejection {
    /// What the operator signs for a rejection: a message of its own domain
    /// tag, so it can never be taken for a checkpoint signature (whose
    /// message is an EIP-712 hash).
    pub fn message(
        domain: &Domain,
        checkpoint_id: u64,
        table_version: u32,
        commitments_root: B256,
        rejected: &[RejectedCommitment],
    ) -> B256 {
        let rollups: Vec<u64> = rejected.iter().map(|r| r.commitment.rollupId).collect();
        keccak256(
            (
                keccak256("ChorusRejection(uint64 l1ChainId,address attestationContract,uint64 checkpointId,uint32 tableVersion,bytes32 commitmentsRoot,uint64[] rollupIds)"),
                domain.l1_chain_id,
                domain.attestation_contract,
                checkpoint_id,
                table_version,
                commitments_root,
                rollups,
            )
                .abi_encode(),
        )
    }
}

/// What the aggregator answers to an accepted signature or rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// `accepted`, or `duplicate` when the same answer came before.
    pub status: ReceiptStatus,
    /// The checkpoint as it stands after this answer.
    pub checkpoint: CheckpointStatus,
}

/// Whether an answer was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReceiptStatus {
    /// Recorded now.
    Accepted,
    /// Recorded before; nothing changed.
    Duplicate,
}

/// Where a checkpoint is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckpointState {
    /// Collecting signatures.
    Open,
    /// Quorum reached; the submitter is posting it.
    Submitting,
    /// Included on L1.
    Attested,
    /// Replaced by a newer proposal before reaching quorum.
    Superseded,
}

/// A checkpoint as the aggregator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointStatus {
    /// The proposal.
    pub proposal: Proposal,
    /// Its state.
    pub state: CheckpointState,
    /// Weight of the valid signatures collected.
    pub signed_weight: U256,
    /// Weight the quorum needs.
    pub needed_weight: U256,
    /// Total weight of the table version.
    pub total_weight: U256,
    /// Operators whose signature counts.
    pub signers: Vec<Address>,
    /// Operators of the table that have not signed (yet).
    pub missing: Vec<Address>,
    /// Operators that refused, with their reasons.
    pub rejections: Vec<OperatorRejection>,
    /// Why it has not been posted, in plain words, while it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
    /// The L1 transaction that carries it, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_transaction: Option<B256>,
    /// The L1 block that included it, once attested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_block: Option<u64>,
}

/// One operator's refusal as recorded by the aggregator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorRejection {
    /// The operator.
    pub operator: Address,
    /// What it refused.
    pub rejected: Vec<RejectedCommitment>,
}

/// An individual signature, as published for watchers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicSignature {
    /// The signer.
    pub operator: Address,
    /// Its G2 key, EIP-2537 encoded (256 bytes), as in the table.
    pub pubkey: Bytes,
    /// The table version signed.
    pub table_version: u32,
    /// The root signed.
    pub commitments_root: B256,
    /// The commitments under that root.
    pub commitments: Vec<Commitment>,
    /// The 48-byte compressed signature.
    pub signature: Bytes,
}

/// An operator's node disagreeing with the aggregator on a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Divergence {
    /// The checkpoint where it showed.
    pub checkpoint_id: u64,
    /// The operator.
    pub operator: Address,
    /// The commitment proposed (the aggregator's view).
    pub proposed: Commitment,
    /// The operator's view.
    pub theirs: Commitment,
}

/// One rollup in the aggregator's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupStatus {
    /// The rollup's chain id.
    pub rollup_id: u64,
    /// The aggregator's safe head of it, if its node answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_head: Option<u64>,
    /// The latest block attested on L1 for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attested: Option<u64>,
    /// Blocks between the safe head and the attested one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<u64>,
}

/// The aggregator's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregatorStatus {
    /// Its domain.
    pub domain: Domain,
    /// The operator-table version it proposes under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_version: Option<u32>,
    /// Every rollup it proposes.
    pub rollups: Vec<RollupStatus>,
    /// Checkpoints attested on L1 since it started.
    pub attested_checkpoints: u64,
    /// The submitter's address.
    pub submitter: Address,
}

/// The body of every `4xx`/`5xx` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable machine-readable code (`unknown_operator`, `bad_signature`,
    /// `body_too_large`, ...).
    pub code: String,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commitment(rollup: u64) -> Commitment {
        Commitment {
            rollupId: rollup,
            l2BlockNumber: 7,
            l2BlockHash: B256::repeat_byte(1),
            stateRoot: B256::repeat_byte(2),
        }
    }

    #[test]
    fn commitments_travel_with_solidity_field_names() {
        let json = serde_json::to_value(commitment(901)).unwrap();
        assert_eq!(json["rollupId"], 901);
        assert_eq!(json["l2BlockNumber"], 7);
        assert!(json["stateRoot"].as_str().unwrap().starts_with("0x0202"));
    }

    #[test]
    fn reject_reasons_are_tagged() {
        let reason = RejectReason::NotYetSafe { safe_head: 3 };
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(json, r#"{"kind":"notYetSafe","safeHead":3}"#);
        assert!(!reason.is_divergence());
        assert!(RejectReason::Mismatch { ours: commitment(1) }.is_divergence());
    }

    #[test]
    fn rejection_messages_bind_what_is_refused() {
        let domain = Domain { l1_chain_id: 1, attestation_contract: Address::repeat_byte(3) };
        let refused = |rollup| RejectedCommitment {
            commitment: commitment(rollup),
            reason: RejectReason::UnknownRollup,
        };
        let root = B256::repeat_byte(4);
        let one = Rejection::message(&domain, 1, 1, root, &[refused(901)]);
        assert_ne!(one, Rejection::message(&domain, 1, 1, root, &[refused(902)]));
        assert_ne!(one, Rejection::message(&domain, 2, 1, root, &[refused(901)]));
        let other = Domain { l1_chain_id: 2, ..domain };
        assert_ne!(one, Rejection::message(&other, 1, 1, root, &[refused(901)]));
    }
}
