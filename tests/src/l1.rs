//! What L1 holds: every submission to the attestation contract, read from
//! the chain itself, so tests assert on L1 rather than on what the
//! aggregator says it did.

use std::collections::HashMap;

use alloy::{
    consensus::Transaction as _,
    eips::BlockNumberOrTag,
    network::TransactionResponse as _,
    primitives::{Address, B256},
    providers::Provider,
    sol_types::SolCall,
};
use chorus_contracts::{
    Commitment, IChorusAttestations::submitCheckpointWithCommitmentsCall,
    checkpoint::CheckpointTree,
};

use crate::BoxError;

/// One transaction that carried a checkpoint to the attestation contract.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The transaction.
    pub tx_hash: B256,
    /// Who sent it (an aggregator's submitter).
    pub from: Address,
    /// The block that included it.
    pub block: u64,
    /// The checkpoint's root, computed from its commitments.
    pub root: B256,
    /// The commitments it recorded.
    pub commitments: Vec<Commitment>,
    /// How many table operators it names as non-signers.
    pub non_signers: usize,
}

/// Every `submitCheckpointWithCommitments` transaction to `attestations`
/// in blocks up to the latest, successful or not.
pub async fn submissions<P: Provider>(
    provider: &P,
    attestations: Address,
) -> Result<Vec<Submission>, BoxError> {
    let latest = provider.get_block_number().await?;
    let mut found = Vec::new();
    for number in 0..=latest {
        let Some(block) =
            provider.get_block_by_number(BlockNumberOrTag::Number(number)).full().await?
        else {
            continue;
        };
        for tx in block.transactions.txns() {
            if tx.to() != Some(attestations) {
                continue;
            }
            let Ok(call) = submitCheckpointWithCommitmentsCall::abi_decode(tx.input()) else {
                continue;
            };
            let root = CheckpointTree::new(call.commitments.clone())?.root();
            found.push(Submission {
                tx_hash: tx.tx_hash(),
                from: tx.from(),
                block: number,
                root,
                commitments: call.commitments,
                non_signers: call.nonSigners.len(),
            });
        }
    }
    Ok(found)
}

/// Fails if any checkpoint root was carried by more than one transaction.
pub fn assert_no_double_posts(submissions: &[Submission]) -> Result<(), BoxError> {
    let mut seen: HashMap<B256, B256> = HashMap::new();
    for submission in submissions {
        if let Some(first) = seen.insert(submission.root, submission.tx_hash) {
            return Err(format!(
                "checkpoint {} was posted twice: {first} and {}",
                submission.root, submission.tx_hash
            )
            .into());
        }
    }
    Ok(())
}

/// What became of one submission on L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Whether it succeeded (a revert is `false`).
    pub success: bool,
    /// The gas it used.
    pub gas_used: u64,
}

/// The receipt of each submission, in the same order.
pub async fn outcomes<P: Provider>(
    provider: &P,
    submissions: &[Submission],
) -> Result<Vec<Outcome>, BoxError> {
    let mut found = Vec::with_capacity(submissions.len());
    for submission in submissions {
        let receipt = provider
            .get_transaction_receipt(submission.tx_hash)
            .await?
            .ok_or_else(|| format!("no receipt for {}", submission.tx_hash))?;
        found.push(Outcome { success: receipt.status(), gas_used: receipt.gas_used });
    }
    Ok(found)
}
