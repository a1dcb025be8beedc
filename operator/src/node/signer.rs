//! [`Signer`]: the only holder of the BLS key, behind slashing protection.
//!
//! It runs on a one-thread `SyncArbiter`: the store's check-and-insert
//! fsyncs and BLS signing is CPU work, neither belongs on the reactor. One
//! thread also means one signature at a time, in the order asked.
//!
//! A checkpoint is signed only after
//! [`SlashingProtection::check_and_insert`] returned [`Safe`], i.e. after it
//! is durably recorded, and the message signed is computed from the store's
//! own domain, so what is signed is exactly what was checked.

use std::sync::Arc;

use actix::{Actor, Handler, Message, MessageResult, SyncContext};
use alloy::primitives::B256;
use chorus_keys::bls::{SecretKey, Signature};
use chorus_wire::{Domain as WireDomain, RejectedCommitment, Rejection};

use crate::protection::{CheckpointToSign, NotSafe, Safe, SlashingProtection};

/// Signs a checkpoint if slashing protection allows it.
#[derive(Debug, Message)]
#[rtype(result = "Result<Signature, NotSafe>")]
pub(crate) struct SignCheckpoint(pub(crate) CheckpointToSign);

/// Signs a rejection of a proposal (never slashable: its message has its
/// own type hash, see [`Rejection::message`]).
#[derive(Debug, Message)]
#[rtype(result = "Signature")]
pub(crate) struct SignRejection {
    /// The proposal refused.
    pub(crate) checkpoint_id: u64,
    /// Its table version.
    pub(crate) table_version: u32,
    /// Its root, as proposed.
    pub(crate) commitments_root: B256,
    /// What is refused and why.
    pub(crate) rejected: Vec<RejectedCommitment>,
}

/// Holds the key and the store.
pub(crate) struct Signer {
    // Shared only with the arbiter's factory (it rebuilds the actor if its
    // thread restarts it); never mutated.
    key: Arc<SecretKey>,
    store: Arc<SlashingProtection>,
}

impl Signer {
    /// A signer of `key` behind `store`.
    pub(crate) fn new(key: Arc<SecretKey>, store: Arc<SlashingProtection>) -> Self {
        Self { key, store }
    }

    /// The store's domain in wire form.
    pub(crate) fn wire_domain(store: &SlashingProtection) -> WireDomain {
        let domain = store.domain();
        WireDomain {
            l1_chain_id: domain.l1_chain_id,
            attestation_contract: domain.attestation_contract,
        }
    }
}

impl Actor for Signer {
    type Context = SyncContext<Self>;
}

impl Handler<SignCheckpoint> for Signer {
    type Result = Result<Signature, NotSafe>;

    fn handle(
        &mut self,
        SignCheckpoint(checkpoint): SignCheckpoint,
        _: &mut Self::Context,
    ) -> Self::Result {
        // Record first (durably), sign after: the order is the protection.
        let safe = self.store.check_and_insert(&checkpoint)?;
        let message = checkpoint.signing_message(&self.store.domain());
        if safe == Safe::SameData {
            tracing::debug!(root = %checkpoint.commitments_root(), "checkpoint signed before: signing it again");
        }
        Ok(self.key.sign(message.as_slice()))
    }
}

impl Handler<SignRejection> for Signer {
    type Result = MessageResult<SignRejection>;

    fn handle(&mut self, rejection: SignRejection, _: &mut Self::Context) -> Self::Result {
        let message = Rejection::message(
            &Self::wire_domain(&self.store),
            rejection.checkpoint_id,
            rejection.table_version,
            rejection.commitments_root,
            &rejection.rejected,
        );
        MessageResult(self.key.sign(message.as_slice()))
    }
}
