//! The real devnet the targets are set in: its deployment, its operator
//! table and one checkpoint, captured by `examples/seed.rs` into
//! `fuzz/fixtures/devnet.json` and compiled into the targets.

use std::sync::{Arc, OnceLock};

use alloy::primitives::{Address, B256, Bytes, U256};
use chorus_aggregator::quorum::SignerSet;
use chorus_contracts::{
    IChorusRegistry::OperatorTableUpdated, checkpoint::checkpoint_message, table::OperatorTable,
};
use chorus_operator::protection::Interchange;
use chorus_wire::{Domain, Proposal};
use serde::{Deserialize, Serialize};

/// The fixture file's text.
const FIXTURE: &str = include_str!("../../fixtures/devnet.json");

/// What the seeding tool captured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    /// The deployment.
    pub domain: Domain,
    /// The attestation contract's quorum.
    pub quorum_bps: u16,
    /// The operator table of [`Self::proposal`]'s version, in table order.
    pub operators: Vec<Operator>,
    /// The checkpoint the aggregator targets answer: a real proposal.
    pub proposal: Proposal,
    /// The password of the keystores seeded under `keystore_bls` and
    /// `keystore_ecdsa` (a throwaway devnet's, not a secret).
    pub keystore_password: String,
    /// A real operator's protection history (exported from its store), or
    /// the part of it that the store `protection_import` imports into holds
    /// before each import; its metadata names the store's owner.
    pub protection_base: Interchange,
}

/// One operator of the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operator {
    /// Its address.
    pub address: Address,
    /// Its key as the table holds it (EIP-2537 G2, 256 bytes).
    pub pubkey: Bytes,
    /// Its weight.
    pub weight: U256,
}

impl Fixture {
    /// The operator table, as the registry's event describes it.
    pub fn table(&self) -> OperatorTable {
        let weights: Vec<U256> = self.operators.iter().map(|o| o.weight).collect();
        let event = OperatorTableUpdated {
            version: self.proposal.table_version,
            apk: Bytes::new(),
            totalWeight: weights.iter().copied().fold(U256::ZERO, U256::saturating_add),
            leaves: Address::ZERO,
            operators: self.operators.iter().map(|o| o.address).collect(),
            pubkeys: self.operators.iter().map(|o| o.pubkey.clone()).collect(),
            weights,
        };
        match OperatorTable::from_event(&event) {
            Ok(table) => table,
            Err(error) => panic!("the fixture's operator table is inconsistent: {error}"),
        }
    }

    /// The message the fixture's checkpoint is signed over.
    pub fn message(&self) -> B256 {
        checkpoint_message(
            self.domain.l1_chain_id,
            self.domain.attestation_contract,
            self.proposal.table_version,
            self.proposal.commitments_root,
        )
    }
}

/// The fixture, parsed once.
pub fn fixture() -> &'static Fixture {
    static FIXTURE_VALUE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE_VALUE.get_or_init(|| match serde_json::from_str(FIXTURE) {
        Ok(fixture) => fixture,
        Err(error) => panic!("fuzz/fixtures/devnet.json does not parse: {error}"),
    })
}

/// The fixture's operator table prepared for verification, once.
pub fn signers() -> &'static Arc<SignerSet> {
    static SIGNERS: OnceLock<Arc<SignerSet>> = OnceLock::new();
    SIGNERS.get_or_init(|| match SignerSet::new(fixture().table()) {
        Ok(signers) => Arc::new(signers),
        Err(error) => panic!("the fixture's operator table has a bad key: {error}"),
    })
}
