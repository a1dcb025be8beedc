//! The protocol's hashing rules, mirroring `CheckpointLib.sol`: commitment
//! leaves, operator-table leaves, checkpoint trees and the signed message.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    sol_types::{SolStruct, SolValue},
};

use crate::{ChorusCheckpoint, ChorusKeyRegistration, Commitment, merkle::MerkleTree};

/// Leaf of a checkpoint tree: `keccak256(keccak256(abi.encode(commitment)))`.
pub fn leaf_hash(commitment: &Commitment) -> B256 {
    keccak256(keccak256(commitment.abi_encode()))
}

/// Leaf of an operator table: `keccak256(abi.encode(pubkeyHash, weight))`.
/// Leaves are read by position on chain, not through a tree, so one hash does.
pub fn operator_leaf(pubkey_hash: B256, weight: U256) -> B256 {
    keccak256((pubkey_hash, weight).abi_encode())
}

/// The 32-byte message operators sign: EIP-712 `hashStruct(ChorusCheckpoint)`.
pub fn checkpoint_message(
    l1_chain_id: u64,
    attestation_contract: Address,
    table_version: u32,
    commitments_root: B256,
) -> B256 {
    ChorusCheckpoint {
        l1ChainId: U256::from(l1_chain_id),
        attestationContract: attestation_contract,
        tableVersion: table_version,
        commitmentsRoot: commitments_root,
    }
    .eip712_hash_struct()
}

/// What a BLS key signs to be registered for `operator` in `registry`:
/// EIP-712 `hashStruct(ChorusKeyRegistration)`.
pub fn key_registration_message(l1_chain_id: u64, registry: Address, operator: Address) -> B256 {
    ChorusKeyRegistration { l1ChainId: U256::from(l1_chain_id), registry, operator }
        .eip712_hash_struct()
}

/// Why a list of commitments cannot form a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A checkpoint needs at least one commitment.
    #[error("a checkpoint needs at least one commitment")]
    Empty,
    /// At most one commitment per rollup, sorted by rollup id.
    #[error("commitments must be sorted by rollup id, one per rollup (rollup {0} out of order)")]
    NotSorted(u64),
}

/// A checkpoint's commitments with their tree: at most one commitment per
/// rollup, sorted by `rollupId`, as the attestation contract requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointTree {
    commitments: Vec<Commitment>,
    tree: MerkleTree,
}

impl CheckpointTree {
    /// Checks the ordering rule and builds the tree.
    pub fn new(commitments: Vec<Commitment>) -> Result<Self, CheckpointError> {
        for pair in commitments.windows(2) {
            if pair[0].rollupId >= pair[1].rollupId {
                return Err(CheckpointError::NotSorted(pair[1].rollupId));
            }
        }
        let leaves = commitments.iter().map(leaf_hash).collect();
        let tree = MerkleTree::new(leaves).ok_or(CheckpointError::Empty)?;
        Ok(Self { commitments, tree })
    }

    /// The commitments root operators sign.
    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// The commitments, in tree order.
    pub fn commitments(&self) -> &[Commitment] {
        &self.commitments
    }

    /// The commitment of `rollup_id` with its Merkle proof.
    pub fn proof_for(&self, rollup_id: u64) -> Option<(&Commitment, Vec<B256>)> {
        let index = self.commitments.iter().position(|c| c.rollupId == rollup_id)?;
        Some((&self.commitments[index], self.tree.proof(index)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::verify;

    fn commitment(rollup_id: u64, height: u64) -> Commitment {
        Commitment {
            rollupId: rollup_id,
            l2BlockNumber: height,
            l2BlockHash: keccak256(height.to_be_bytes()),
            stateRoot: keccak256(rollup_id.to_be_bytes()),
        }
    }

    #[test]
    fn tree_proofs_and_ordering() {
        let tree =
            CheckpointTree::new(vec![commitment(10, 5), commitment(11, 7), commitment(42, 1)])
                .unwrap();
        let (leaf, proof) = tree.proof_for(11).unwrap();
        assert!(verify(&proof, tree.root(), leaf_hash(leaf)));
        assert!(tree.proof_for(12).is_none());
        assert_eq!(
            CheckpointTree::new(vec![commitment(11, 1), commitment(10, 1)]),
            Err(CheckpointError::NotSorted(10))
        );
        assert_eq!(
            CheckpointTree::new(vec![commitment(10, 1), commitment(10, 2)]),
            Err(CheckpointError::NotSorted(10))
        );
        assert_eq!(CheckpointTree::new(Vec::new()), Err(CheckpointError::Empty));
    }

    #[test]
    fn typehash_is_the_solidity_string() {
        // CheckpointLib.CHECKPOINT_TYPEHASH is keccak256 of this string; the
        // on-chain agreement test compares the full message too.
        let expected = keccak256(
            "ChorusCheckpoint(uint256 l1ChainId,address attestationContract,uint32 tableVersion,bytes32 commitmentsRoot)",
        );
        let sample = ChorusCheckpoint {
            l1ChainId: U256::ZERO,
            attestationContract: Address::ZERO,
            tableVersion: 0,
            commitmentsRoot: B256::ZERO,
        };
        assert_eq!(sample.eip712_type_hash(), expected);
    }
}
