//! Test harness for end-to-end tests: a real anvil chain with EigenLayer
//! core and Chorus deployed from their real bytecode, and operators
//! registered through the real EigenLayer flow.
//!
//! Tests live beside this crate (`tests/*.rs`); what every test needs to
//! stand a chain up is here, so each test reads as the scenario it checks.

pub mod api;
pub mod cli;
pub mod fault_proxy;
pub mod feeds;
pub mod l1;
pub mod lying_rpc;
pub mod malicious_aggregator;
pub mod netns;

use std::collections::HashSet;

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::EthereumWallet,
    node_bindings::AnvilInstance,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use chorus_contracts::{
    Commitment, IChorusRegistry, SignedCommitment,
    checkpoint::{CheckpointTree, checkpoint_message},
    table::OperatorTable,
};
use chorus_deploy::{
    anvil::spawn_anvil_with,
    chorus::{ChorusConfig, Deployment, deploy_chorus},
    eigenlayer::{WaitOptions, deploy_eigenlayer},
};
use chorus_keys::bls::{AggregateSignature, SecretKey, Signature};
use chorus_operator::registration::{FULL_MAGNITUDE, RegistrationPlan, register_operator};

/// Chorus with two listed rollups (chain ids 10 and 11) and every other
/// setting at its default: what contract-level tests deploy.
pub fn two_rollups() -> ChorusConfig {
    ChorusConfig {
        rollups: vec![
            chorus_deploy::chorus::Rollup { chain_id: 10, name: "optimism-devnet".into() },
            chorus_deploy::chorus::Rollup { chain_id: 11, name: "arbitrum-devnet".into() },
        ],
        ..ChorusConfig::default()
    }
}

/// Any failure in the harness: tests report it and stop.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Tokens each test operator deposits (1,000 with 18 decimals), before weights.
pub const TEST_DEPOSIT: u128 = 1_000_000_000_000_000_000_000;

/// One registered test operator.
#[derive(Debug)]
pub struct TestOperator {
    /// Its Ethereum address (an anvil account).
    pub address: Address,
    /// Its BLS key.
    pub bls: SecretKey,
    /// Gas its whole registration used (EigenLayer and Chorus steps).
    pub registration_gas: u64,
}

/// A chain with EigenLayer and Chorus deployed and operators registered.
pub struct Devchain {
    /// Keeps anvil running; killed on drop.
    pub anvil: AnvilInstance,
    /// Signs for the deployer and every operator (by `from` address).
    pub provider: DynProvider,
    /// The deployer and owner of everything.
    pub deployer: Address,
    /// Addresses of every contract.
    pub deployment: Deployment,
    /// Registered operators.
    pub operators: Vec<TestOperator>,
}

impl Devchain {
    /// Starts anvil, deploys everything with `config` and registers
    /// `operators` operators (anvil accounts 1..) with fresh BLS keys.
    pub async fn start(config: &ChorusConfig, operators: usize) -> Result<Self, BoxError> {
        let accounts = (operators + 1).max(10).to_string();
        let anvil = spawn_anvil_with(|anvil| anvil.args(["--accounts", accounts.as_str()]))?;
        let keys = anvil.keys();
        let signers: Vec<PrivateKeySigner> =
            keys.iter().take(operators + 1).map(|key| key.clone().into()).collect();
        let deployer = signers[0].address();
        let mut wallet = EthereumWallet::new(signers[0].clone());
        for signer in &signers[1..] {
            wallet.register_signer(signer.clone());
        }
        let provider =
            ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url()).erased();
        let chain_id = provider.get_chain_id().await?;
        let eigenlayer = deploy_eigenlayer(&provider, deployer).await?;
        let (chorus, _) = deploy_chorus(&provider, deployer, &eigenlayer, config).await?;
        let deployment = Deployment { chain_id, eigenlayer, chorus };
        let mut chain = Self { anvil, provider, deployer, deployment, operators: Vec::new() };
        for signer in &signers[1..] {
            chain.register(signer.address(), SecretKey::random()).await?;
        }
        Ok(chain)
    }

    /// Registers one more operator through the real EigenLayer flow.
    pub async fn register(&mut self, address: Address, bls: SecretKey) -> Result<(), BoxError> {
        let plan = RegistrationPlan {
            deposit: U256::from(TEST_DEPOSIT),
            magnitude: FULL_MAGNITUDE,
            metadata_uri: "https://chorus.invalid/operator.json".to_owned(),
            wait: WaitOptions::anvil(),
        };
        let steps =
            register_operator(&self.provider, &self.deployment, address, &bls, &plan).await?;
        let registration_gas = steps.iter().map(|step| step.outcome.gas_used()).sum();
        self.operators.push(TestOperator { address, bls, registration_gas });
        Ok(())
    }

    /// Calls `updateOperatorTable` and rebuilds the table from its event.
    pub async fn update_table(&self) -> Result<OperatorTable, BoxError> {
        Ok(self.update_table_with_gas().await?.0)
    }

    /// [`Self::update_table`], with the gas the update used.
    pub async fn update_table_with_gas(&self) -> Result<(OperatorTable, u64), BoxError> {
        let registry = IChorusRegistry::new(self.deployment.chorus.registry, &self.provider);
        let receipt =
            registry.updateOperatorTable().from(self.deployer).send().await?.get_receipt().await?;
        let event = expect_success(&receipt)
            .and_then(decode_event::<IChorusRegistry::OperatorTableUpdated>)?;
        Ok((OperatorTable::from_event(&event)?, receipt.gas_used))
    }

    /// The message operators sign for `root` under table `version` here.
    pub fn message(&self, version: u32, root: B256) -> B256 {
        let deployment = &self.deployment;
        checkpoint_message(deployment.chain_id, deployment.chorus.attestations, version, root)
    }

    /// The aggregate signature (EIP-2537) of the operators in `signers` over `message`.
    pub fn aggregate_signature(
        &self,
        signers: &HashSet<Address>,
        message: B256,
    ) -> Result<Bytes, BoxError> {
        let signatures: Vec<Signature> = self
            .operators
            .iter()
            .filter(|operator| signers.contains(&operator.address))
            .map(|operator| operator.bls.sign(message.as_slice()))
            .collect();
        Ok(Bytes::copy_from_slice(&AggregateSignature::aggregate(&signatures)?.to_eip2537()))
    }

    /// Sends `call` from the deployer, waits for it and checks it succeeded.
    pub async fn send<P: Provider, D: CallDecoder>(
        &self,
        call: CallBuilder<P, D>,
    ) -> Result<TransactionReceipt, BoxError> {
        let receipt = call.from(self.deployer).send().await?.get_receipt().await?;
        expect_success(&receipt)?;
        Ok(receipt)
    }

    /// `operator`'s signature over `tree` (as table `version` names it)
    /// with the path to `rollup_id`'s commitment: half an equivocation proof.
    pub fn signed_commitment(
        &self,
        operator: &TestOperator,
        version: u32,
        tree: &CheckpointTree,
        rollup_id: u64,
    ) -> Result<SignedCommitment, BoxError> {
        let message = self.message(version, tree.root());
        let (leaf, proof) =
            tree.proof_for(rollup_id).ok_or(format!("rollup {rollup_id} is not in the tree"))?;
        Ok(SignedCommitment {
            tableVersion: version,
            commitmentsRoot: tree.root(),
            signature: Bytes::copy_from_slice(&operator.bls.sign(message.as_slice()).to_eip2537()),
            commitment: leaf.clone(),
            proof,
        })
    }

    /// The addresses of the first `count` operators.
    pub fn first_operators(&self, count: usize) -> HashSet<Address> {
        self.operators.iter().take(count).map(|operator| operator.address).collect()
    }
}

/// A made-up commitment of `rollup_id` at `height`: its block hash and
/// state root derive from `variant`, so two variants at one height conflict
/// and one variant is the same commitment every time.
pub fn commitment(rollup_id: u64, height: u64, variant: u8) -> Commitment {
    Commitment {
        rollupId: rollup_id,
        l2BlockNumber: height,
        l2BlockHash: keccak256([variant, 1]),
        stateRoot: keccak256([variant, 2]),
    }
}

/// Fails unless the receipt's status is success.
pub fn expect_success(receipt: &TransactionReceipt) -> Result<&TransactionReceipt, BoxError> {
    if receipt.status() {
        Ok(receipt)
    } else {
        Err(format!("transaction {} failed", receipt.transaction_hash).into())
    }
}

/// The first log of the receipt that decodes as `E`.
pub fn decode_event<E: SolEvent>(receipt: &TransactionReceipt) -> Result<E, BoxError> {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| E::decode_log(&log.inner).ok())
        .map(|log| log.data)
        .ok_or_else(|| format!("no {} event in {}", E::SIGNATURE, receipt.transaction_hash).into())
}
