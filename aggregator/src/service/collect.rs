//! `Collectors`: the CPU-heavy half of quorum collection, on a
//! `SyncArbiter` thread. It owns one [`QuorumCollector`] per checkpoint
//! still collecting, decodes operator tables into [`SignerSet`]s and checks
//! rejection signatures, so that no pairing or point decoding ever runs on
//! the async reactor.

use std::{collections::HashMap, sync::Arc};

use actix::{Actor, Handler, Message, SyncContext};
use alloy::primitives::{Address, B256, Bytes, U256};
use chorus_contracts::table::OperatorTable;
use chorus_keys::bls::Signature;

use crate::quorum::{
    Added, Aggregate, Outcome, QuorumCollector, QuorumError, Rejected, SignatureStatus, SignerSet,
    SignerSetError,
};

/// Owns the collectors of every checkpoint that still takes signatures.
#[derive(Debug, Default)]
pub struct Collectors {
    open: HashMap<u64, QuorumCollector>,
}

impl Actor for Collectors {
    type Context = SyncContext<Self>;
}

/// Start collecting for a checkpoint.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), QuorumError>")]
pub struct OpenCollector {
    /// The checkpoint.
    pub id: u64,
    /// Its table version's operators.
    pub signers: Arc<SignerSet>,
    /// The message signed (`checkpoint_message`).
    pub message: B256,
    /// The contract's quorum.
    pub quorum_bps: u16,
}

impl Handler<OpenCollector> for Collectors {
    type Result = Result<(), QuorumError>;
    fn handle(&mut self, msg: OpenCollector, _: &mut SyncContext<Self>) -> Self::Result {
        let collector = QuorumCollector::new(msg.signers, msg.message, msg.quorum_bps)?;
        self.open.entry(msg.id).or_insert(collector);
        Ok(())
    }
}

/// Forget a checkpoint's collector (attested or superseded).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct CloseCollector(pub u64);

impl Handler<CloseCollector> for Collectors {
    type Result = ();
    fn handle(&mut self, msg: CloseCollector, _: &mut SyncContext<Self>) {
        self.open.remove(&msg.0);
    }
}

/// Why a signature could not be collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// The checkpoint has no collector (it is closed).
    #[error("checkpoint {0} no longer collects signatures")]
    Closed(u64),
    /// The collector refused it.
    #[error(transparent)]
    Refused(#[from] Rejected),
}

/// What adding a signature led to.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The collector's answer.
    pub added: Added,
    /// The verified aggregate, when the quorum is reached.
    pub aggregate: Option<Aggregate>,
    /// The statuses this signature may have changed, to apply over the
    /// ones known: its own, and every accepted signature's when a
    /// verification ran (it may settle any pending one) or when
    /// [`AddSignature::every_status`] asked. Listing every status after
    /// every signature cost `O(n)` per signature, `O(n^2)` per checkpoint.
    pub statuses: Vec<(Address, SignatureStatus)>,
    /// The weight of the signatures not found invalid.
    pub collected_weight: U256,
}

/// Add an operator's signature; aggregate and verify once it may complete
/// a quorum.
#[derive(Debug, Message)]
#[rtype(result = "Result<Collected, CollectError>")]
pub struct AddSignature {
    /// The checkpoint.
    pub id: u64,
    /// The operator it claims to be from.
    pub operator: Address,
    /// The 48-byte compressed signature.
    pub signature: Bytes,
    /// Answer every accepted signature's status, not only the ones this
    /// signature changed (to rebuild them, as on a restart).
    pub every_status: bool,
}

impl Handler<AddSignature> for Collectors {
    type Result = Result<Collected, CollectError>;
    fn handle(&mut self, msg: AddSignature, _: &mut SyncContext<Self>) -> Self::Result {
        let collector = self.open.get_mut(&msg.id).ok_or(CollectError::Closed(msg.id))?;
        Ok(collect(collector, msg.operator, &msg.signature, msg.every_status)?)
    }
}

/// Adds `operator`'s signature to `collector` and, when it may complete a
/// quorum, aggregates and verifies: what [`AddSignature`] does with the
/// checkpoint's collector. Pure (CPU only): the fuzz targets (`fuzz/`) call
/// it as the actor does.
pub fn collect(
    collector: &mut QuorumCollector,
    operator: Address,
    signature: &[u8],
    every_status: bool,
) -> Result<Collected, Rejected> {
    let verifications = collector.verifications();
    let added = collector.add(operator, signature)?;
    let aggregate = if added.quorum_possible {
        match collector.try_finish() {
            Outcome::Ready(aggregate) => Some(*aggregate),
            Outcome::Waiting { .. } => None,
        }
    } else {
        None
    };
    // Another signature's status moves only when a pairing check settles
    // it (bisection, or the re-check of a replaced one): no new check,
    // nothing but this signature's own status changed.
    let statuses = if every_status || collector.verifications() != verifications {
        collector.results().collect()
    } else {
        collector.status(&operator).map(|status| (operator, status)).into_iter().collect()
    };
    Ok(Collected { added, aggregate, statuses, collected_weight: collector.collected_weight() })
}

/// Check a BLS signature by a table's operator over a message (rejections).
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct VerifyOperatorSignature {
    /// The table.
    pub signers: Arc<SignerSet>,
    /// The operator.
    pub operator: Address,
    /// The message.
    pub message: B256,
    /// The 48-byte signature.
    pub signature: Bytes,
}

impl Handler<VerifyOperatorSignature> for Collectors {
    type Result = bool;
    fn handle(&mut self, msg: VerifyOperatorSignature, _: &mut SyncContext<Self>) -> bool {
        verify_operator_signature(&msg.signers, msg.operator, msg.message, &msg.signature)
    }
}

/// Whether `signature` is `operator`'s valid signature of `message` under
/// its key in `signers` (strictly decoded; for rejections). Pure: the fuzz
/// targets (`fuzz/`) call it as [`VerifyOperatorSignature`] does.
pub fn verify_operator_signature(
    signers: &SignerSet,
    operator: Address,
    message: B256,
    signature: &[u8],
) -> bool {
    let Some(key) = signers.key(&operator) else { return false };
    Signature::from_bytes(signature)
        .and_then(|signature| key.public_key().verify(message.as_slice(), &signature))
        .is_ok()
}

/// Decode a table's keys into a [`SignerSet`].
#[derive(Debug, Message)]
#[rtype(result = "Result<Arc<SignerSet>, SignerSetError>")]
pub struct PrepareSignerSet(pub OperatorTable);

impl Handler<PrepareSignerSet> for Collectors {
    type Result = Result<Arc<SignerSet>, SignerSetError>;
    fn handle(&mut self, msg: PrepareSignerSet, _: &mut SyncContext<Self>) -> Self::Result {
        SignerSet::new(msg.0).map(Arc::new)
    }
}
