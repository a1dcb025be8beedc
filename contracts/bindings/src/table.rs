//! Operator tables as the registry publishes them.
//!
//! `ChorusRegistry.updateOperatorTable` hands the attestation contract only a
//! digest and the address of the version's leaves; its `OperatorTableUpdated`
//! event carries the whole table. [`OperatorTable`] rebuilds it from that
//! event and produces what a submission restates: the [`TableRef`] and each
//! non-signer with its position.

use std::collections::HashSet;

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};

use crate::{
    IChorusRegistry::OperatorTableUpdated, NonSigner, TableRef, checkpoint::operator_leaf,
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
    /// Its key's [`pubkey_hash`].
    pub fn pubkey_hash(&self) -> B256 {
        pubkey_hash(&self.pubkey)
    }
}

/// How the registry identifies a BLS key: keccak256 of its EIP-2537
/// encoding (256 bytes).
pub fn pubkey_hash(eip2537_key: &[u8]) -> B256 {
    keccak256(eip2537_key)
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
    leaves: Address,
    entries: Vec<TableEntry>,
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
        let sum = entries.iter().try_fold(U256::ZERO, |sum, e| sum.checked_add(e.weight));
        if sum != Some(event.totalWeight) {
            return Err(TableError::TotalMismatch(event.version));
        }
        Ok(Self {
            version: event.version,
            apk: event.apk.clone(),
            total_weight: event.totalWeight,
            leaves: event.leaves,
            entries,
        })
    }

    /// The version number.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The contract holding this version's leaves on chain.
    pub fn leaves_address(&self) -> Address {
        self.leaves
    }

    /// The leaves as the registry stored them, in order.
    pub fn leaves(&self) -> Vec<B256> {
        self.entries.iter().map(|e| operator_leaf(e.pubkey_hash(), e.weight)).collect()
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
        TableRef { version: self.version, apk: self.apk.clone(), totalWeight: self.total_weight }
    }

    /// Every operator not in `signers`, with its position, in ascending
    /// position as the contract requires.
    pub fn non_signers(&self, signers: &HashSet<Address>) -> Vec<NonSigner> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| !signers.contains(&entry.operator))
            .map(|(index, entry)| NonSigner {
                pubkey: entry.pubkey.clone(),
                weight: entry.weight,
                index: U256::from(index),
            })
            .collect()
    }

    /// The weight of the operators in `signers`.
    pub fn signed_weight(&self, signers: &HashSet<Address>) -> U256 {
        self.entries
            .iter()
            .filter(|entry| signers.contains(&entry.operator))
            .fold(U256::ZERO, |sum, entry| sum.saturating_add(entry.weight))
    }
}

/// Why a table could not be read from L1.
#[derive(Debug, thiserror::Error)]
pub enum FetchTableError {
    /// The node did not answer.
    #[error("cannot read the operator table from L1: {0}")]
    Rpc(#[from] alloy::contract::Error),
    /// The node did not answer a log query.
    #[error("cannot read operator-table events from L1: {0}")]
    Logs(#[from] alloy::transports::TransportError),
    /// The registry has published no table yet.
    #[error(
        "the registry has published no operator table yet: call updateOperatorTable once operators are registered"
    )]
    NoTable,
    /// The registry names a version whose event is missing or malformed.
    #[error("operator table version {version} cannot be rebuilt from its event: {reason}")]
    BadEvent {
        /// The version.
        version: u32,
        /// What is wrong.
        reason: String,
    },
}

/// Reads table `version` from the registry's `OperatorTableUpdated` event
/// (its version is an indexed topic, so one filtered log query finds it).
pub async fn fetch_table<P: alloy::providers::Provider>(
    provider: &P,
    registry: Address,
    version: u32,
) -> Result<OperatorTable, FetchTableError> {
    use alloy::{rpc::types::Filter, sol_types::SolEvent};
    let filter = Filter::new()
        .address(registry)
        .event_signature(OperatorTableUpdated::SIGNATURE_HASH)
        .topic1(B256::from(U256::from(version)))
        .from_block(0);
    let logs = provider.get_logs(&filter).await?;
    let bad = |reason: String| FetchTableError::BadEvent { version, reason };
    let log = logs.last().ok_or_else(|| bad("no event found".to_owned()))?;
    let event = OperatorTableUpdated::decode_log(&log.inner).map_err(|e| bad(e.to_string()))?;
    OperatorTable::from_event(&event.data).map_err(|e| bad(e.to_string()))
}

/// Reads the registry's latest table.
pub async fn fetch_latest_table<P: alloy::providers::Provider>(
    provider: &P,
    registry: Address,
) -> Result<OperatorTable, FetchTableError> {
    let contract = crate::IChorusRegistry::new(registry, provider);
    let version = contract.latestTableVersion().call().await?;
    if version == 0 {
        return Err(FetchTableError::NoTable);
    }
    fetch_table(provider, registry, version).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(count: u8) -> OperatorTableUpdated {
        let operators: Vec<Address> = (0..count).map(|i| Address::repeat_byte(i + 1)).collect();
        let pubkeys: Vec<Bytes> = (0..count).map(|i| Bytes::from(vec![i; 256])).collect();
        let weights: Vec<U256> = (0..count).map(|i| U256::from(10 + u64::from(i))).collect();
        OperatorTableUpdated {
            version: 3,
            apk: Bytes::from(vec![9; 256]),
            totalWeight: weights.iter().sum(),
            leaves: Address::repeat_byte(0xee),
            operators,
            pubkeys,
            weights,
        }
    }

    #[test]
    fn non_signers_are_in_position_order_with_their_leaves() {
        let table = OperatorTable::from_event(&event(5)).unwrap();
        let signers: HashSet<Address> =
            [Address::repeat_byte(1), Address::repeat_byte(3)].into_iter().collect();
        let missing = table.non_signers(&signers);
        let positions: Vec<U256> = missing.iter().map(|n| n.index).collect();
        assert_eq!(positions, [U256::from(1), U256::from(3), U256::from(4)]);
        let leaves = table.leaves();
        for non_signer in &missing {
            let leaf = operator_leaf(keccak256(&non_signer.pubkey), non_signer.weight);
            assert_eq!(leaves[non_signer.index.to::<usize>()], leaf);
        }
        assert_eq!(table.signed_weight(&signers), U256::from(10 + 12));
        assert_eq!(table.table_ref().totalWeight, U256::from(10 + 11 + 12 + 13 + 14));
    }

    #[test]
    fn inconsistent_events_are_refused() {
        let mut bad_total = event(3);
        bad_total.totalWeight += U256::from(1);
        assert_eq!(OperatorTable::from_event(&bad_total), Err(TableError::TotalMismatch(3)));
        let mut short = event(3);
        short.weights.pop();
        assert!(matches!(
            OperatorTable::from_event(&short),
            Err(TableError::LengthMismatch { .. })
        ));
        assert!(OperatorTable::from_event(&event(0)).unwrap().entries().is_empty());
    }
}
