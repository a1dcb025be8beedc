//! Operator tables as the registry publishes them.
//!
//! `ChorusRegistry.updateOperatorTable` stores only a digest; its
//! `OperatorTableUpdated` event carries the whole table. [`OperatorTable`]
//! rebuilds it from that event, checks the Merkle root, and produces what a
//! submission restates: the [`TableRef`] and a proof for each non-signer.

use std::collections::HashSet;

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};

use crate::{
    IChorusRegistry::OperatorTableUpdated, NonSigner, TableRef, checkpoint::operator_leaf,
    merkle::MerkleTree,
};

/// One operator of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    /// The operator's Ethereum address.
    pub operator: Address,
    /// Its G2 key, EIP-2537 encoded (256 bytes).
    pub pubkey: Bytes,
    /// Its weight in this version.
    pub weight: U256,
}

impl TableEntry {
    /// keccak256 of the EIP-2537 key, as the registry identifies keys.
    pub fn pubkey_hash(&self) -> B256 {
        keccak256(&self.pubkey)
    }
}

/// Why an event does not describe a consistent table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The event's arrays differ in length.
    #[error("operator table event has {operators} operators, {pubkeys} keys and {weights} weights")]
    LengthMismatch {
        /// Operators listed.
        operators: usize,
        /// Keys listed.
        pubkeys: usize,
        /// Weights listed.
        weights: usize,
    },
    /// The table has no operator.
    #[error("operator table version {0} is empty")]
    Empty(u32),
    /// The leaves do not hash to the root the registry stored.
    #[error("operator table version {0}: leaves do not match its operators root")]
    RootMismatch(u32),
    /// The weights do not add up to the stated total.
    #[error("operator table version {0}: weights do not add up to its total")]
    TotalMismatch(u32),
}

/// A version of the operator table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorTable {
    version: u32,
    apk: Bytes,
    total_weight: U256,
    entries: Vec<TableEntry>,
    tree: MerkleTree,
}

impl OperatorTable {
    /// Rebuilds the table from the registry's event and checks it.
    pub fn from_event(event: &OperatorTableUpdated) -> Result<Self, TableError> {
        let (operators, pubkeys, weights) = (&event.operators, &event.pubkeys, &event.weights);
        if operators.len() != pubkeys.len() || operators.len() != weights.len() {
            return Err(TableError::LengthMismatch {
                operators: operators.len(),
                pubkeys: pubkeys.len(),
                weights: weights.len(),
            });
        }
        let entries: Vec<TableEntry> = operators
            .iter()
            .zip(pubkeys)
            .zip(weights)
            .map(|((operator, pubkey), weight)| TableEntry {
                operator: *operator,
                pubkey: pubkey.clone(),
                weight: *weight,
            })
            .collect();
        let leaves = entries.iter().map(|e| operator_leaf(e.pubkey_hash(), e.weight)).collect();
        let tree = MerkleTree::new(leaves).ok_or(TableError::Empty(event.version))?;
        if tree.root() != event.operatorsRoot {
            return Err(TableError::RootMismatch(event.version));
        }
        let sum = entries.iter().try_fold(U256::ZERO, |sum, e| sum.checked_add(e.weight));
        if sum != Some(event.totalWeight) {
            return Err(TableError::TotalMismatch(event.version));
        }
        Ok(Self {
            version: event.version,
            apk: event.apk.clone(),
            total_weight: event.totalWeight,
            entries,
            tree,
        })
    }

    /// The version number.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The operators, in leaf order.
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// The sum of all weights.
    pub fn total_weight(&self) -> U256 {
        self.total_weight
    }

    /// The table as a submission restates it.
    pub fn table_ref(&self) -> TableRef {
        TableRef {
            version: self.version,
            apk: self.apk.clone(),
            totalWeight: self.total_weight,
            operatorsRoot: self.tree.root(),
        }
    }

    /// Every operator not in `signers`, with its proof, sorted by key hash as
    /// the contract requires.
    pub fn non_signers(&self, signers: &HashSet<Address>) -> Vec<NonSigner> {
        let mut missing: Vec<(B256, NonSigner)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| !signers.contains(&entry.operator))
            .map(|(index, entry)| {
                let proof = self.tree.proof(index).unwrap_or_default();
                let non_signer =
                    NonSigner { pubkey: entry.pubkey.clone(), weight: entry.weight, proof };
                (entry.pubkey_hash(), non_signer)
            })
            .collect();
        missing.sort_by_key(|(hash, _)| *hash);
        missing.into_iter().map(|(_, non_signer)| non_signer).collect()
    }

    /// The weight of the operators in `signers`.
    pub fn signed_weight(&self, signers: &HashSet<Address>) -> U256 {
        self.entries
            .iter()
            .filter(|entry| signers.contains(&entry.operator))
            .fold(U256::ZERO, |sum, entry| sum.saturating_add(entry.weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::verify;

    fn event(count: u8) -> OperatorTableUpdated {
        let operators: Vec<Address> = (0..count).map(|i| Address::repeat_byte(i + 1)).collect();
        let pubkeys: Vec<Bytes> = (0..count).map(|i| Bytes::from(vec![i; 256])).collect();
        let weights: Vec<U256> = (0..count).map(|i| U256::from(10 + u64::from(i))).collect();
        let leaves = pubkeys
            .iter()
            .zip(&weights)
            .map(|(key, weight)| operator_leaf(keccak256(key), *weight))
            .collect();
        OperatorTableUpdated {
            version: 3,
            apk: Bytes::from(vec![9; 256]),
            totalWeight: weights.iter().sum(),
            operatorsRoot: MerkleTree::new(leaves).map(|tree| tree.root()).unwrap_or_default(),
            operators,
            pubkeys,
            weights,
        }
    }

    #[test]
    fn non_signers_are_sorted_and_proven() {
        let table = OperatorTable::from_event(&event(5)).unwrap();
        let signers: HashSet<Address> =
            [Address::repeat_byte(1), Address::repeat_byte(3)].into_iter().collect();
        let missing = table.non_signers(&signers);
        assert_eq!(missing.len(), 3);
        let hashes: Vec<B256> = missing.iter().map(|n| keccak256(&n.pubkey)).collect();
        assert!(hashes.windows(2).all(|pair| pair[0] < pair[1]));
        let root = table.table_ref().operatorsRoot;
        for non_signer in &missing {
            let leaf = operator_leaf(keccak256(&non_signer.pubkey), non_signer.weight);
            assert!(verify(&non_signer.proof, root, leaf));
        }
        assert_eq!(table.signed_weight(&signers), U256::from(10 + 12));
    }

    #[test]
    fn inconsistent_events_are_refused() {
        let mut bad_root = event(3);
        bad_root.operatorsRoot = B256::ZERO;
        assert_eq!(OperatorTable::from_event(&bad_root), Err(TableError::RootMismatch(3)));
        let mut bad_total = event(3);
        bad_total.totalWeight += U256::from(1);
        assert_eq!(OperatorTable::from_event(&bad_total), Err(TableError::TotalMismatch(3)));
        let mut short = event(3);
        short.weights.pop();
        assert!(matches!(
            OperatorTable::from_event(&short),
            Err(TableError::LengthMismatch { .. })
        ));
        assert_eq!(OperatorTable::from_event(&event(0)), Err(TableError::Empty(3)));
    }
}
