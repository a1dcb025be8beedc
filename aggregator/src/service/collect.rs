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

/// Add an operator's signature to a checkpoint's collector: decoded and
/// held [`Pending`](SignatureStatus::Pending) until the next
/// [`VerifyPending`]. Cheap (a point decoding; one pairing only when it
/// displaces a pending signature held in the same name, see
/// [`QuorumCollector::add`]), so the thread keeps taking signatures while
/// others wait for their batch to be checked.
#[derive(Debug, Message)]
#[rtype(result = "Result<Added, CollectError>")]
pub struct AddSignature {
    /// The checkpoint.
    pub id: u64,
    /// The operator it claims to be from.
    pub operator: Address,
    /// The 48-byte compressed signature.
    pub signature: Bytes,
}

impl Handler<AddSignature> for Collectors {
    type Result = Result<Added, CollectError>;
    fn handle(&mut self, msg: AddSignature, _: &mut SyncContext<Self>) -> Self::Result {
        let collector = self.open.get_mut(&msg.id).ok_or(CollectError::Closed(msg.id))?;
        Ok(collector.add(msg.operator, &msg.signature)?)
    }
}

/// Check every pending signature of a checkpoint as one batch (one pairing
/// when all are valid, bisection otherwise) and aggregate once the valid
/// ones carry a quorum.
#[derive(Debug, Message)]
#[rtype(result = "Result<Settled, CollectError>")]
pub struct VerifyPending {
    /// The checkpoint.
    pub id: u64,
    /// The signatures whose senders wait for a verdict: operator and bytes.
    pub awaited: Vec<(Address, Bytes)>,
    /// Whether to build the aggregate once the quorum is met: only a
    /// checkpoint still open (or resumed on a restart) needs it, so the
    /// batches of late signatures do not rebuild one for nothing.
    pub aggregate: bool,
}

impl Handler<VerifyPending> for Collectors {
    type Result = Result<Settled, CollectError>;
    fn handle(&mut self, msg: VerifyPending, _: &mut SyncContext<Self>) -> Self::Result {
        let collector = self.open.get_mut(&msg.id).ok_or(CollectError::Closed(msg.id))?;
        Ok(settle(collector, &msg.awaited, msg.aggregate))
    }
}

/// What a [`VerifyPending`] found.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The verdict on each awaited signature, in the order asked: never
    /// `Pending`, since every pending signature was checked.
    pub verdicts: Vec<SignatureStatus>,
    /// Every accepted signature's operator and status, in table order
    /// (one list per batch, not per signature).
    pub statuses: Vec<(Address, SignatureStatus)>,
    /// The verified aggregate, when the valid signatures carry a quorum.
    pub aggregate: Option<Aggregate>,
    /// The weight of the signatures not found invalid.
    pub collected_weight: U256,
}

/// Checks every pending signature of `collector` and, if `aggregate` and
/// the valid ones carry a quorum, aggregates them: what [`VerifyPending`]
/// does with the checkpoint's collector. Pure (CPU only): the fuzz targets
/// (`fuzz/`) call it as the actor does, after [`QuorumCollector::add`].
pub fn settle(
    collector: &mut QuorumCollector,
    awaited: &[(Address, Bytes)],
    aggregate: bool,
) -> Settled {
    let aggregate = match aggregate.then(|| collector.try_finish()) {
        Some(Outcome::Ready(aggregate)) => Some(*aggregate),
        Some(Outcome::Waiting { .. }) | None => None,
    };
    // `try_finish` checks nothing below the quorum (and was not called
    // without `aggregate`): whatever is still pending is checked here.
    collector.verify_pending();
    Settled {
        verdicts: awaited
            .iter()
            .map(|(operator, signature)| collector.verdict(operator, signature))
            .collect(),
        statuses: collector.results().collect(),
        aggregate,
        collected_weight: collector.collected_weight(),
    }
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
