//! Registering an operator with Chorus through the real EigenLayer flow.
//!
//! 1. deposit into the restaking strategy;
//! 2. `DelegationManager.registerAsOperator`;
//! 3. wait out the allocation delay;
//! 4. `AllocationManager.modifyAllocations` to the Chorus operator set;
//! 5. `AllocationManager.registerForOperatorSets`, whose `data` carries the
//!    operator's G2 key, its proof of possession, and its signature binding
//!    the key to this operator, for the Chorus registry to check
//!    ([`registration_data`]).
//!
//! Every step reads the chain first and is skipped when already done, so a
//! registration that stopped half-way is finished by running it again.

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::Provider,
    sol_types::SolValue,
};
use chorus_contracts::checkpoint::key_registration_message;
use chorus_deploy::{
    DeployError,
    chorus::Deployment,
    eigenlayer::{
        OperatorSet, WaitOptions,
        operator::{
            StepOutcome, allocate, deposit_into_strategy, register_as_operator,
            register_for_operator_sets, wait_for_allocation_delay,
        },
    },
};
use chorus_keys::bls::SecretKey;

/// The Chorus operator set id (`ChorusRegistry.OPERATOR_SET_ID`).
pub const OPERATOR_SET_ID: u32 = 0;
/// A full allocation: EigenLayer magnitudes are out of 1e18.
pub const FULL_MAGNITUDE: u64 = 1_000_000_000_000_000_000;

/// Why a registration stopped.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A step failed on chain or could not be sent; the message names it.
    #[error(transparent)]
    Step(#[from] DeployError),
}

/// What to register with.
#[derive(Clone, Debug)]
pub struct RegistrationPlan {
    /// Tokens to deposit into the strategy (skipped if the operator already
    /// holds shares).
    pub deposit: U256,
    /// Magnitude to allocate to the Chorus operator set, out of 1e18.
    pub magnitude: u64,
    /// The operator's metadata URI for `registerAsOperator`.
    pub metadata_uri: String,
    /// How to wait for the allocation delay.
    pub wait: WaitOptions,
}

/// One step's name and what it did.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// The step, as the operator reads it.
    pub step: &'static str,
    /// Sent transactions, or why it was skipped.
    pub outcome: StepOutcome,
}

/// What the Chorus registry expects in `registerForOperatorSets`' `data`:
/// `abi.encode(bytes pubkeyG2, bytes popG1, bytes ownershipG1)`, EIP-2537
/// encoded, where the ownership signature binds the key to `operator` in
/// `registry` on chain `l1_chain_id`.
pub fn registration_data(
    secret: &SecretKey,
    l1_chain_id: u64,
    registry: Address,
    operator: Address,
) -> Bytes {
    let message = key_registration_message(l1_chain_id, registry, operator);
    let pubkey = Bytes::copy_from_slice(&secret.public_key().to_eip2537());
    let pop = Bytes::copy_from_slice(&secret.prove_possession().to_eip2537());
    let ownership = Bytes::copy_from_slice(&secret.sign(message.as_slice()).to_eip2537());
    Bytes::from((pubkey, pop, ownership).abi_encode_params())
}

/// Runs the five steps for `operator` (the account `provider` signs for)
/// with BLS key `bls`.
pub async fn register_operator<P: Provider>(
    provider: &P,
    deployment: &Deployment,
    operator: Address,
    bls: &SecretKey,
    plan: &RegistrationPlan,
) -> Result<Vec<StepReport>, RegistrationError> {
    let eigenlayer = &deployment.eigenlayer;
    let registry = deployment.chorus.registry;
    let mut reports = Vec::new();
    let mut record = |step, outcome: StepOutcome| {
        match &outcome {
            StepOutcome::Skipped(why) => tracing::info!(step, %why, "already done"),
            StepOutcome::Executed(txs) => tracing::info!(step, transactions = txs.len(), "done"),
        }
        reports.push(StepReport { step, outcome });
    };

    let outcome = deposit_into_strategy(provider, eigenlayer, operator, plan.deposit).await?;
    record("deposit into the restaking strategy", outcome);
    let outcome = register_as_operator(provider, eigenlayer, operator, &plan.metadata_uri).await?;
    record("register as an EigenLayer operator", outcome);
    wait_for_allocation_delay(provider, eigenlayer, operator, &plan.wait).await?;
    let operator_set = OperatorSet { avs: registry, id: OPERATOR_SET_ID };
    let outcome =
        allocate(provider, eigenlayer, operator, operator_set, eigenlayer.strategy, plan.magnitude)
            .await?;
    record("allocate stake to the Chorus operator set", outcome);
    let outcome = register_for_operator_sets(
        provider,
        eigenlayer,
        operator,
        registry,
        &[OPERATOR_SET_ID],
        registration_data(bls, deployment.chain_id, registry, operator),
    )
    .await?;
    record("register with Chorus (BLS key and proof of possession)", outcome);
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use alloy::sol_types::SolValue;

    use super::*;

    #[test]
    fn registration_data_decodes_as_the_registry_does() {
        let secret = SecretKey::random();
        let (chain_id, registry, operator) =
            (31337, Address::repeat_byte(1), Address::repeat_byte(7));
        let data = registration_data(&secret, chain_id, registry, operator);
        // ChorusRegistry accepts exactly 6 words + 256 + 128 + 128 bytes.
        assert_eq!(data.len(), 6 * 32 + 256 + 2 * 128);
        let (pubkey, pop, ownership) = <(Bytes, Bytes, Bytes)>::abi_decode_params(&data).unwrap();
        let public = chorus_keys::bls::PublicKey::from_eip2537(&pubkey).unwrap();
        assert_eq!(public, secret.public_key());
        assert_eq!(pop.as_ref(), secret.prove_possession().to_eip2537().as_slice());
        let message = key_registration_message(chain_id, registry, operator);
        let signature = chorus_keys::bls::Signature::from_eip2537(&ownership).unwrap();
        assert!(public.verify(message.as_slice(), &signature).is_ok());
    }
}
