//! Attested checkpoints as L1 records them: the attestation contract's
//! `CheckpointAttested` and `CommitmentAttested` events, read from the chain
//! rather than from what the aggregator says it did.

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use chorus_contracts::{
    Commitment,
    IChorusAttestations::{CheckpointAttested, CommitmentAttested},
};
use serde::{Deserialize, Serialize};

use crate::DevnetError;

/// One checkpoint attested on L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestedCheckpoint {
    /// The commitments' Merkle root.
    pub root: B256,
    /// The operator-table version it was signed under.
    pub table_version: u32,
    /// The weight that signed it.
    pub signed_weight: U256,
    /// The L1 transaction that carried it.
    pub tx_hash: B256,
    /// The L1 block that included it.
    pub l1_block: u64,
    /// The commitments it recorded as their rollup's latest
    /// (`CommitmentAttested`), by rollup id. The contract records, and
    /// emits, only commitments newer than the rollup's latest attested one:
    /// a checkpoint included after a newer one lists fewer (or none), and a
    /// root-only submission lists none.
    pub commitments: Vec<Commitment>,
}

/// Every checkpoint attested by `attestations` in L1 blocks `from..=to`,
/// oldest first.
pub async fn attested_between<P: Provider>(
    provider: &P,
    attestations: Address,
    from: u64,
    to: u64,
) -> Result<Vec<AttestedCheckpoint>, DevnetError> {
    if from > to {
        return Ok(Vec::new());
    }
    let filter = Filter::new()
        .address(attestations)
        .event_signature(vec![
            CheckpointAttested::SIGNATURE_HASH,
            CommitmentAttested::SIGNATURE_HASH,
        ])
        .from_block(from)
        .to_block(to);
    let logs = provider
        .get_logs(&filter)
        .await
        .map_err(|e| DevnetError::rpc("reading attestation events from the L1", e))?;
    Ok(group(&logs))
}

/// Every checkpoint attested so far, oldest first.
pub async fn attested_checkpoints<P: Provider>(
    provider: &P,
    attestations: Address,
) -> Result<Vec<AttestedCheckpoint>, DevnetError> {
    let latest = provider
        .get_block_number()
        .await
        .map_err(|e| DevnetError::rpc("reading the L1 block number", e))?;
    attested_between(provider, attestations, 0, latest).await
}

/// Joins each `CheckpointAttested` with the `CommitmentAttested` events of
/// the same transaction and root.
fn group(logs: &[Log]) -> Vec<AttestedCheckpoint> {
    let mut checkpoints: Vec<AttestedCheckpoint> = Vec::new();
    let mut commitments: Vec<(B256, B256, Commitment)> = Vec::new();
    for log in logs {
        let (Some(tx_hash), Some(l1_block)) = (log.transaction_hash, log.block_number) else {
            continue;
        };
        if let Ok(event) = CheckpointAttested::decode_log(&log.inner) {
            checkpoints.push(AttestedCheckpoint {
                root: event.commitmentsRoot,
                table_version: event.tableVersion,
                signed_weight: event.signedWeight,
                tx_hash,
                l1_block,
                commitments: Vec::new(),
            });
        } else if let Ok(event) = CommitmentAttested::decode_log(&log.inner) {
            let commitment = Commitment {
                rollupId: event.rollupId,
                l2BlockNumber: event.l2BlockNumber,
                l2BlockHash: event.l2BlockHash,
                stateRoot: event.stateRoot,
            };
            commitments.push((tx_hash, event.commitmentsRoot, commitment));
        }
    }
    for checkpoint in &mut checkpoints {
        checkpoint.commitments = commitments
            .iter()
            .filter(|(tx, root, _)| *tx == checkpoint.tx_hash && *root == checkpoint.root)
            .map(|(_, _, commitment)| commitment.clone())
            .collect();
        checkpoint.commitments.sort_by_key(|c| c.rollupId);
    }
    checkpoints
}
