//! `Checkpoints`: the life of every checkpoint, from proposal to L1.
//!
//! It owns the checkpoints (open, submitting, and the recent rest), their
//! received signatures and rejections, the recent divergences and the
//! operators waiting on a long poll. At most one checkpoint is `Open` (being
//! collected) at a time; any number may be `Submitting`, since submission is
//! pipelined.
//!
//! A signature is added to the checkpoint's `QuorumCollector` on the
//! `Collectors` thread as pending, and its sender waits: whatever is pending
//! is checked as one batch (`Checkpoints::verify_batch`), the verified
//! ones are written to the store, published and acknowledged, the invalid
//! ones refused. When a quorum is verified the aggregate goes to the
//! `Submitter` and the checkpoint is `Submitting`. Handlers that change
//! state are atomic (one at a time, awaiting the store and the collectors
//! inside), so what a handler read at its start still holds when it applies
//! its result. Two waits let other messages through, and neither reads
//! state it later relies on: a signature's addition to the collector (so
//! that the next ones are sent while a batch is checked) and the batch
//! check itself, whose result is applied atomically.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Arc,
};

use actix::prelude::*;
use alloy::primitives::{Address, B256, Bytes, U256, map::AddressMap};
use chorus_contracts::{Commitment, checkpoint::CheckpointTree};
use chorus_wire::{
    CheckpointState, CheckpointStatus, Divergence, Domain, OperatorRejection, Proposal,
    PublicSignature, Receipt, ReceiptStatus, RejectReason, Rejection, SignedCheckpoint,
};
use tokio::sync::oneshot;

use super::{
    api::ApiFailure,
    collect::{
        AddSignature, CloseCollector, CollectError, Collectors, OpenCollector, Settled,
        VerifyOperatorSignature, VerifyPending,
    },
    metrics::Metrics,
    store::{
        ForgetSignatures, Loaded, RecordProposal, RecordRejection, RecordSignatures, RecordState,
        StoreActor, StoreError, StoredCheckpoint, now_ms,
    },
};
use crate::quorum::{Added, Aggregate, Rejected, SignatureStatus, SignerSet, needed_weight};

/// How many closed checkpoints and divergences are kept in memory for the
/// API (older ones stay in the store).
pub const RECENT: usize = 256;

/// A checkpoint with quorum, for the submitter.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct SubmitAggregate {
    /// The checkpoint.
    pub checkpoint_id: u64,
    /// Its commitments, sorted.
    pub commitments: Vec<Commitment>,
    /// Their root.
    pub root: B256,
    /// The verified aggregate.
    pub aggregate: Aggregate,
}

/// The open checkpoint cannot reach quorum any more: operators with more
/// than `total - needed` weight refused these commitments.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct QuorumUnreachable {
    /// The checkpoint.
    pub checkpoint_id: u64,
    /// The commitments refused.
    pub contested: Vec<Commitment>,
}

/// One checkpoint in memory.
#[derive(Debug)]
struct Entry {
    proposal: Proposal,
    state: CheckpointState,
    signers: Option<Arc<SignerSet>>,
    created_ms: u64,
    signatures: BTreeMap<Address, Bytes>,
    /// By operator; a map hashing addresses cheaply (every receipt looks
    /// up each of the table's operators).
    statuses: AddressMap<SignatureStatus>,
    collected_weight: U256,
    rejections: Vec<OperatorRejection>,
    l1_transaction: Option<B256>,
    l1_block: Option<u64>,
    unreachable: bool,
    /// The L1 block whose inclusion of its transaction a reorg undid.
    reorged_from: Option<u64>,
    /// Senders waiting for the check of their signature.
    awaiting: Vec<Awaiting>,
    /// Whether a batch check of `awaiting` is running.
    verifying: bool,
    /// Signatures sent to the collector whose answer is not back yet.
    adding: usize,
    /// Closed (attested or superseded) while signatures waited: its
    /// collector is dropped once they are answered.
    closing: bool,
}

/// The life of every checkpoint (see the [module docs](self)).
pub struct Checkpoints {
    domain: Domain,
    quorum_bps: u16,
    store: Addr<StoreActor>,
    collectors: Addr<Collectors>,
    submitter: Recipient<SubmitAggregate>,
    proposer: Option<Recipient<QuorumUnreachable>>,
    metrics: Metrics,
    entries: BTreeMap<u64, Entry>,
    divergences: VecDeque<Divergence>,
    next_id: u64,
    waiters: Vec<(Option<u64>, oneshot::Sender<Proposal>)>,
    attested_since_start: u64,
}

/// What the service needs to build [`Checkpoints`].
pub struct CheckpointsSetup {
    /// Where signatures are valid.
    pub domain: Domain,
    /// The contract's quorum.
    pub quorum_bps: u16,
    /// The store.
    pub store: Addr<StoreActor>,
    /// The collectors' thread.
    pub collectors: Addr<Collectors>,
    /// Where aggregates go.
    pub submitter: Recipient<SubmitAggregate>,
    /// Metrics.
    pub metrics: Metrics,
    /// What the store held on start, with each loaded version's operators.
    pub loaded: Loaded,
    /// Operators of each table version the loaded checkpoints name.
    pub signers: HashMap<u32, Arc<SignerSet>>,
}

impl Checkpoints {
    /// Builds the actor from what the store held; open and submitting
    /// checkpoints get their collectors back when it starts.
    pub fn new(setup: CheckpointsSetup) -> Self {
        let mut entries = BTreeMap::new();
        for stored in setup.loaded.checkpoints {
            let signers = setup.signers.get(&stored.table_version).cloned();
            let mut entry = Entry::reloaded(stored, setup.domain, signers);
            entry.unreachable = entry.quorum_unreachable(setup.quorum_bps);
            entries.insert(entry.proposal.checkpoint_id, entry);
        }
        Self {
            domain: setup.domain,
            quorum_bps: setup.quorum_bps,
            store: setup.store,
            collectors: setup.collectors,
            submitter: setup.submitter,
            proposer: None,
            metrics: setup.metrics,
            entries,
            divergences: setup.loaded.divergences.into(),
            next_id: setup.loaded.next_id,
            waiters: Vec::new(),
            attested_since_start: 0,
        }
    }

    fn open_entry(&self) -> Option<&Entry> {
        self.entries.values().rev().find(|e| e.state == CheckpointState::Open)
    }

    fn status(&self, entry: &Entry) -> CheckpointStatus {
        entry.status(self.quorum_bps)
    }

    /// Forgets closed checkpoints beyond [`RECENT`].
    fn prune(&mut self) {
        while self.entries.len() > RECENT {
            let oldest_closed = self
                .entries
                .iter()
                .find(|(_, e)| {
                    matches!(e.state, CheckpointState::Attested | CheckpointState::Superseded)
                })
                .map(|(id, _)| *id);
            match oldest_closed {
                Some(id) => {
                    self.entries.remove(&id);
                }
                None => break,
            }
        }
        while self.divergences.len() > RECENT {
            self.divergences.pop_front();
        }
    }

    fn wake_waiters(&mut self, proposal: &Proposal) {
        let waiters = std::mem::take(&mut self.waiters);
        for (after, waiter) in waiters {
            if after.is_none_or(|after| proposal.checkpoint_id > after) {
                let _ = waiter.send(proposal.clone());
            } else if !waiter.is_closed() {
                self.waiters.push((after, waiter));
            }
        }
    }
}

impl Entry {
    fn reloaded(stored: StoredCheckpoint, domain: Domain, signers: Option<Arc<SignerSet>>) -> Self {
        // Stored signatures were accepted; until a collector re-checks them
        // (open and submitting checkpoints, on start) they count as such.
        let statuses: AddressMap<SignatureStatus> = stored
            .signatures
            .iter()
            .map(|(operator, _)| (*operator, SignatureStatus::Verified))
            .collect();
        let collected_weight = signers.as_ref().map_or(U256::ZERO, |set| {
            statuses
                .keys()
                .filter_map(|operator| set.weight(operator))
                .fold(U256::ZERO, |sum, weight| sum.saturating_add(weight))
        });
        Self {
            proposal: Proposal {
                checkpoint_id: stored.id,
                domain,
                table_version: stored.table_version,
                commitments: stored.commitments,
                commitments_root: stored.root,
            },
            state: stored.state,
            signers,
            created_ms: stored.created_ms,
            signatures: stored.signatures.into_iter().collect(),
            statuses,
            collected_weight,
            rejections: stored.rejections,
            l1_transaction: stored.l1_transaction,
            l1_block: stored.l1_block,
            unreachable: false,
            reorged_from: None,
            awaiting: Vec::new(),
            verifying: false,
            adding: 0,
            closing: false,
        }
    }

    /// Counts, for every operator of its table, whether it missed this
    /// checkpoint; called once, when the checkpoint closes.
    fn count_missed(&self, metrics: &Metrics) {
        if let Some(signers) = &self.signers {
            let operators = signers.table().entries().iter().map(|entry| entry.operator);
            metrics.checkpoint_closed(operators, |operator| self.signatures.contains_key(operator));
        }
    }

    /// Operators whose signature counts (pending or verified), and the
    /// table's other operators, both in table order: one pass with one
    /// lookup per operator, since every receipt answers both.
    fn signers_and_missing(&self) -> (Vec<Address>, Vec<Address>) {
        let Some(signers) = &self.signers else {
            return (self.signatures.keys().copied().collect(), Vec::new());
        };
        signers.table().entries().iter().map(|e| e.operator).partition(|operator| {
            self.statuses.get(operator).is_some_and(|s| *s != SignatureStatus::Invalid)
        })
    }

    fn rejected_weight(&self) -> U256 {
        let Some(signers) = &self.signers else { return U256::ZERO };
        self.rejections
            .iter()
            .filter_map(|r| signers.weight(&r.operator))
            .fold(U256::ZERO, |sum, w| sum.saturating_add(w))
    }

    /// Whether the refusing operators hold more weight than the quorum can
    /// spare.
    fn quorum_unreachable(&self, quorum_bps: u16) -> bool {
        let Some(signers) = &self.signers else { return false };
        let total = signers.total_weight();
        self.rejected_weight() > total.saturating_sub(needed_weight(total, quorum_bps))
    }

    /// Every commitment refused in this checkpoint, once.
    fn refused_commitments(&self) -> Vec<Commitment> {
        let mut refused: Vec<Commitment> = Vec::new();
        for r in self.rejections.iter().flat_map(|r| &r.rejected) {
            if !refused.contains(&r.commitment) {
                refused.push(r.commitment.clone());
            }
        }
        refused
    }

    fn status(&self, quorum_bps: u16) -> CheckpointStatus {
        let total = self.signers.as_ref().map_or(U256::ZERO, |s| s.total_weight());
        let needed = needed_weight(total, quorum_bps);
        let (signers, missing) = self.signers_and_missing();
        let waiting_for = match self.state {
            CheckpointState::Open => Some(self.quorum_text(total, needed, &signers, &missing)),
            CheckpointState::Submitting => Some(match (self.l1_transaction, self.l1_block) {
                (Some(tx), Some(block)) => {
                    format!("L1 confirmations of transaction {tx}, included in block {block}")
                }
                (Some(tx), None) => match self.reorged_from {
                    Some(block) => format!(
                        "L1 inclusion of transaction {tx} again: a reorg dropped block {block}, which included it"
                    ),
                    None => format!("L1 inclusion of transaction {tx}"),
                },
                _ => "L1 submission: the quorum is verified, the transaction is being sent"
                    .to_owned(),
            }),
            CheckpointState::Attested | CheckpointState::Superseded => None,
        };
        CheckpointStatus {
            proposal: self.proposal.clone(),
            state: self.state,
            signed_weight: self.collected_weight,
            needed_weight: needed,
            total_weight: total,
            signers,
            missing,
            rejections: self.rejections.clone(),
            waiting_for,
            l1_transaction: self.l1_transaction,
            l1_block: self.l1_block,
        }
    }

    fn quorum_text(
        &self,
        total: U256,
        needed: U256,
        signers: &[Address],
        missing: &[Address],
    ) -> String {
        let mut text = format!(
            "quorum: {} of {} operators signed, {} of the weight where {} is needed",
            signers.len(),
            signers.len() + missing.len(),
            percent(self.collected_weight, total),
            percent(needed, total),
        );
        if !missing.is_empty() {
            text.push_str("; missing ");
            text.push_str(&list_addresses(missing));
        }
        if !self.rejections.is_empty() {
            let refusing: Vec<Address> = self.rejections.iter().map(|r| r.operator).collect();
            text.push_str(&format!(
                "; refused by {} ({} of the weight)",
                list_addresses(&refusing),
                percent(self.rejected_weight(), total)
            ));
            if self.unreachable {
                text.push_str(
                    "; quorum unreachable, a proposal without the refused commitments follows",
                );
            }
        }
        text
    }
}

/// `part / whole` as a percentage with two decimals.
fn percent(part: U256, whole: U256) -> String {
    if whole.is_zero() {
        return "0.00%".to_owned();
    }
    let bps = part.saturating_mul(U256::from(10_000)) / whole;
    let bps: u64 = bps.try_into().unwrap_or(u64::MAX);
    format!("{}.{:02}%", bps / 100, bps % 100)
}

/// Up to five addresses, then how many more.
fn list_addresses(addresses: &[Address]) -> String {
    let mut shown: Vec<String> = addresses.iter().take(5).map(|a| a.to_string()).collect();
    if addresses.len() > 5 {
        shown.push(format!("and {} more", addresses.len() - 5));
    }
    shown.join(", ")
}

/// A checkpoint to resume: id, state, operators, message, stored signatures.
type Resumed = (u64, CheckpointState, Arc<SignerSet>, B256, Vec<(Address, Bytes)>);

impl Actor for Checkpoints {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Reopen the collectors of checkpoints still collecting or waiting
        // for their first L1 send, with their stored signatures, before any
        // message is handled.
        let resumed: Vec<Resumed> = self
            .entries
            .values()
            .filter(|e| matches!(e.state, CheckpointState::Open | CheckpointState::Submitting))
            .filter_map(|e| {
                let signers = e.signers.clone()?;
                let message = e.proposal.message();
                let signatures = e.signatures.iter().map(|(a, s)| (*a, s.clone())).collect();
                Some((e.proposal.checkpoint_id, e.state, signers, message, signatures))
            })
            .collect();
        let (collectors, store) = (self.collectors.clone(), self.store.clone());
        let quorum_bps = self.quorum_bps;
        let work = async move {
            let mut results = Vec::new();
            let mut reached = Vec::new();
            for (id, state, signers, message, signatures) in resumed {
                let opened =
                    collectors.send(OpenCollector { id, signers, message, quorum_bps }).await;
                if !matches!(opened, Ok(Ok(()))) {
                    tracing::error!(checkpoint = id, "cannot reopen the checkpoint's collector");
                    continue;
                }
                for (operator, signature) in signatures {
                    let _ = collectors.send(AddSignature { id, operator, signature }).await;
                }
                // One batch check of everything stored (nothing waits).
                let Ok(Ok(settled)) = collectors
                    .send(VerifyPending { id, awaited: Vec::new(), aggregate: true })
                    .await
                else {
                    tracing::error!(checkpoint = id, "cannot re-check the stored signatures");
                    continue;
                };
                let quorum = settled.aggregate.is_some();
                results.push((id, settled));
                // Its stored signatures make a quorum but it is still open:
                // the process died between recording the last of them and
                // recording the move to submitting. No signature will come
                // to make that move now (every operator has answered), so
                // make it here, recorded first as the signature path does.
                if quorum && state == CheckpointState::Open {
                    let recorded = store
                        .send(RecordState {
                            id,
                            state: CheckpointState::Submitting,
                            inclusion: None,
                        })
                        .await;
                    match recorded {
                        Ok(Ok(())) => reached.push(id),
                        other => tracing::error!(
                            checkpoint = id,
                            ?other,
                            "cannot record the resumed quorum; the checkpoint stays open"
                        ),
                    }
                }
            }
            (results, reached)
        };
        ctx.wait(work.into_actor(self).map(|(results, reached), act, _| {
            for id in reached {
                if let Some(entry) = act.entries.get_mut(&id) {
                    tracing::info!(
                        checkpoint = id,
                        "quorum reached before the restart: submitting"
                    );
                    entry.state = CheckpointState::Submitting;
                }
            }
            for (id, settled) in results {
                let Some(entry) = act.entries.get_mut(&id) else { continue };
                entry.statuses = settled.statuses.into_iter().collect();
                entry.collected_weight = settled.collected_weight;
                if let Some(aggregate) = settled.aggregate
                    && entry.state == CheckpointState::Submitting
                {
                    // The submitter checks the store for a pinned
                    // submission first, so this never sends twice.
                    act.submitter.do_send(SubmitAggregate {
                        checkpoint_id: id,
                        commitments: entry.proposal.commitments.clone(),
                        root: entry.proposal.commitments_root,
                        aggregate,
                    });
                }
            }
            let open = act.entries.values().filter(|e| e.state == CheckpointState::Open).count();
            let submitting =
                act.entries.values().filter(|e| e.state == CheckpointState::Submitting).count();
            tracing::info!(
                open,
                submitting,
                next_id = act.next_id,
                "checkpoints resumed from the store"
            );
        }));
    }
}

/// Connect the proposer (it is started after this actor).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConnectProposer(pub Recipient<QuorumUnreachable>);

impl Handler<ConnectProposer> for Checkpoints {
    type Result = ();
    fn handle(&mut self, msg: ConnectProposer, _: &mut Context<Self>) {
        self.proposer = Some(msg.0);
    }
}

/// What the proposer needs to decide.
#[derive(Debug, Clone, Default)]
pub struct ProposerView {
    /// The open checkpoint: id, age in milliseconds, commitments.
    pub open: Option<(u64, u64, Vec<Commitment>)>,
    /// Per rollup, the highest block a checkpoint not superseded covers.
    pub covered: HashMap<u64, u64>,
    /// Per rollup, the highest block attested on L1 (as far as known here).
    pub attested: HashMap<u64, u64>,
    /// Commitments refused by enough weight to make a quorum unreachable
    /// (kept in the store, so a restart does not propose them again).
    pub refused: Vec<Commitment>,
}

/// Ask for the [`ProposerView`].
#[derive(Debug, Message)]
#[rtype(result = "ProposerView")]
pub struct GetProposerView;

impl Handler<GetProposerView> for Checkpoints {
    type Result = MessageResult<GetProposerView>;
    fn handle(&mut self, _: GetProposerView, _: &mut Context<Self>) -> Self::Result {
        let now = now_ms();
        let mut view = ProposerView {
            open: self.open_entry().map(|e| {
                (
                    e.proposal.checkpoint_id,
                    now.saturating_sub(e.created_ms),
                    e.proposal.commitments.clone(),
                )
            }),
            ..ProposerView::default()
        };
        for entry in self.entries.values() {
            if entry.quorum_unreachable(self.quorum_bps) {
                for refused in entry.refused_commitments() {
                    if !view.refused.contains(&refused) {
                        view.refused.push(refused);
                    }
                }
            }
        }
        for entry in self.entries.values().filter(|e| e.state != CheckpointState::Superseded) {
            for c in &entry.proposal.commitments {
                let covered = view.covered.entry(c.rollupId).or_default();
                *covered = (*covered).max(c.l2BlockNumber);
                if entry.state == CheckpointState::Attested {
                    let attested = view.attested.entry(c.rollupId).or_default();
                    *attested = (*attested).max(c.l2BlockNumber);
                }
            }
        }
        MessageResult(view)
    }
}

/// Why a proposal could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    /// The commitments do not form a checkpoint.
    #[error(transparent)]
    Checkpoint(#[from] chorus_contracts::checkpoint::CheckpointError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    /// The collector could not be opened.
    #[error(transparent)]
    Quorum(#[from] crate::quorum::QuorumError),
    /// Another actor is gone.
    #[error("the aggregator is stopping")]
    Stopping,
}

/// Open a new checkpoint over `commitments` (sorted by rollup), under
/// `signers`' table version, superseding the open one.
#[derive(Debug, Message)]
#[rtype(result = "Result<Proposal, ProposeError>")]
pub struct Propose {
    /// One commitment per rollup, sorted by rollup id.
    pub commitments: Vec<Commitment>,
    /// The table version's operators.
    pub signers: Arc<SignerSet>,
}

impl Handler<Propose> for Checkpoints {
    type Result = AtomicResponse<Self, Result<Proposal, ProposeError>>;

    fn handle(&mut self, msg: Propose, _: &mut Context<Self>) -> Self::Result {
        let id = self.next_id;
        let domain = self.domain;
        let superseded = self.open_entry().map(|e| e.proposal.checkpoint_id);
        let (store, collectors, quorum_bps) =
            (self.store.clone(), self.collectors.clone(), self.quorum_bps);
        let signers = msg.signers.clone();
        let work = async move {
            let tree = CheckpointTree::new(msg.commitments)?;
            let version = signers.table().version();
            let proposal = Proposal {
                checkpoint_id: id,
                domain,
                table_version: version,
                commitments: tree.commitments().to_vec(),
                commitments_root: tree.root(),
            };
            if let Some(old) = superseded {
                store
                    .send(RecordState {
                        id: old,
                        state: CheckpointState::Superseded,
                        inclusion: None,
                    })
                    .await
                    .map_err(|_| ProposeError::Stopping)??;
            }
            let created_ms = now_ms();
            store
                .send(RecordProposal(StoredCheckpoint {
                    id,
                    table_version: version,
                    commitments: proposal.commitments.clone(),
                    root: proposal.commitments_root,
                    state: CheckpointState::Open,
                    created_ms,
                    l1_transaction: None,
                    l1_block: None,
                    signatures: Vec::new(),
                    rejections: Vec::new(),
                }))
                .await
                .map_err(|_| ProposeError::Stopping)??;
            let message = proposal.message();
            collectors
                .send(OpenCollector { id, signers, message, quorum_bps })
                .await
                .map_err(|_| ProposeError::Stopping)??;
            Ok::<_, ProposeError>((proposal, created_ms))
        };
        AtomicResponse::new(Box::pin(work.into_actor(self).map(move |result, act, _| {
            if let Some(old) = superseded {
                // Written as superseded before the new one was recorded.
                if let Some(entry) = act.entries.get_mut(&old) {
                    entry.state = CheckpointState::Superseded;
                    act.metrics.superseded.inc();
                    tracing::info!(checkpoint = old, "checkpoint superseded by a newer proposal");
                }
                act.close_collector(old);
            }
            let (proposal, created_ms) = result?;
            act.next_id = id + 1;
            act.entries.insert(
                id,
                Entry {
                    proposal: proposal.clone(),
                    state: CheckpointState::Open,
                    signers: Some(msg.signers),
                    created_ms,
                    signatures: BTreeMap::new(),
                    statuses: AddressMap::default(),
                    collected_weight: U256::ZERO,
                    rejections: Vec::new(),
                    l1_transaction: None,
                    l1_block: None,
                    unreachable: false,
                    reorged_from: None,
                    awaiting: Vec::new(),
                    verifying: false,
                    adding: 0,
                    closing: false,
                },
            );
            act.metrics.proposed.inc();
            let heights: Vec<String> = proposal
                .commitments
                .iter()
                .map(|c| format!("{}@{}", c.rollupId, c.l2BlockNumber))
                .collect();
            tracing::info!(
                checkpoint = id,
                table_version = proposal.table_version,
                root = %proposal.commitments_root,
                commitments = %heights.join(" "),
                "checkpoint proposed"
            );
            act.wake_waiters(&proposal);
            act.prune();
            Ok(proposal)
        })))
    }
}

/// The next open proposal after a checkpoint id, or a way to wait for it.
#[derive(Debug)]
pub enum Next {
    /// Open now.
    Ready(Proposal),
    /// Resolves when one is proposed (dropped when the service stops).
    Wait(oneshot::Receiver<Proposal>),
}

/// Ask for the open proposal newer than `after`.
#[derive(Debug, Message)]
#[rtype(result = "Next")]
pub struct NextProposal {
    /// The last checkpoint id the caller saw.
    pub after: Option<u64>,
}

impl Handler<NextProposal> for Checkpoints {
    type Result = MessageResult<NextProposal>;
    fn handle(&mut self, msg: NextProposal, _: &mut Context<Self>) -> Self::Result {
        // An id never issued here (the caller followed another aggregator,
        // or this one's store was reset) would hide every proposal: ignore it.
        let after = msg.after.filter(|after| *after < self.next_id);
        if let Some(open) = self.open_entry()
            && after.is_none_or(|after| open.proposal.checkpoint_id > after)
        {
            return MessageResult(Next::Ready(open.proposal.clone()));
        }
        let (sender, receiver) = oneshot::channel();
        self.waiters.retain(|(_, w)| !w.is_closed());
        self.waiters.push((after, sender));
        MessageResult(Next::Wait(receiver))
    }
}

/// An operator's signature, from the API; answered with the receipt to
/// come once it is checked.
#[derive(Debug, Message)]
#[rtype(result = "Result<PendingReceipt, ApiFailure>")]
pub struct ReceiveSignature(pub SignedCheckpoint);

fn unknown_checkpoint(id: u64) -> ApiFailure {
    ApiFailure::not_found(
        "unknown_checkpoint",
        format!(
            "checkpoint {id} is unknown here: fetch the current proposal from /v1/proposals/next"
        ),
    )
}

impl Checkpoints {
    /// Checks that an answer names this checkpoint's exact proposal.
    fn check_answer(
        &self,
        checkpoint_id: u64,
        table_version: u32,
        root: B256,
    ) -> Result<&Entry, ApiFailure> {
        let entry =
            self.entries.get(&checkpoint_id).ok_or_else(|| unknown_checkpoint(checkpoint_id))?;
        answers_proposal(&entry.proposal, entry.state, table_version, root)?;
        Ok(entry)
    }
}

/// Checks that an answer (signature or rejection) naming `table_version`
/// and `root` answers `proposal` as served, and that the checkpoint, in
/// `state`, still takes answers. Pure: the API's handlers and the fuzz
/// targets (`fuzz/`) call it alike.
pub fn answers_proposal(
    proposal: &Proposal,
    state: CheckpointState,
    table_version: u32,
    root: B256,
) -> Result<(), ApiFailure> {
    let checkpoint_id = proposal.checkpoint_id;
    if proposal.table_version != table_version {
        return Err(ApiFailure::conflict(
            "wrong_table_version",
            format!(
                "checkpoint {checkpoint_id} names table version {}, not {table_version}: sign the proposal as served",
                proposal.table_version
            ),
        ));
    }
    if proposal.commitments_root != root {
        return Err(ApiFailure::conflict(
            "wrong_root",
            format!(
                "checkpoint {checkpoint_id} has root {}, not {root}: sign the proposal as served",
                proposal.commitments_root
            ),
        ));
    }
    match state {
        CheckpointState::Superseded => Err(ApiFailure::conflict(
            "checkpoint_superseded",
            format!(
                "checkpoint {checkpoint_id} was superseded by a newer proposal: answer that one instead"
            ),
        )),
        CheckpointState::Attested => Err(ApiFailure::conflict(
            "checkpoint_attested",
            format!("checkpoint {checkpoint_id} is already attested on L1: no answer is needed"),
        )),
        CheckpointState::Open | CheckpointState::Submitting => Ok(()),
    }
}

/// The API's answer for a collector's refusal.
fn refusal(refused: &Rejected) -> ApiFailure {
    match refused {
        Rejected::UnknownOperator(operator) => ApiFailure::forbidden(
            "unknown_operator",
            format!(
                "operator {operator} is not in this checkpoint's operator table: register, and wait for the next table version"
            ),
        ),
        Rejected::Conflicting(operator) => ApiFailure::conflict(
            "conflicting_signature",
            format!(
                "operator {operator} already sent a different valid signature for this checkpoint; the first one is kept"
            ),
        ),
        Rejected::Malformed { operator, reason } => ApiFailure::bad_request(
            "malformed_signature",
            format!(
                "signature from {operator} is not a valid 48-byte compressed G1 point (encoding, on the curve, not infinity): {reason}"
            ),
        ),
        Rejected::Duplicate(operator) => ApiFailure::conflict(
            "duplicate",
            format!("operator {operator} already sent this signature"),
        ),
    }
}

/// The answer to a signature, sent once the batch it joined is checked.
pub type PendingReceipt = oneshot::Receiver<Result<Receipt, ApiFailure>>;

/// A sender waiting for the check of the signature it sent.
#[derive(Debug)]
struct Awaiting {
    operator: Address,
    signature: Bytes,
    /// What to answer if it verifies (`Accepted`, or `Duplicate` for the
    /// same bytes sent again while the first copy waits).
    status: ReceiptStatus,
    answer: oneshot::Sender<Result<Receipt, ApiFailure>>,
}

fn invalid_signature(id: u64, operator: Address) -> ApiFailure {
    ApiFailure::bad_request(
        "invalid_signature",
        format!(
            "signature from {operator} does not verify over checkpoint {id}'s message under its registered key: check the key and the domain (L1 chain id, attestation contract)"
        ),
    )
}

fn checkpoint_closed(id: u64) -> ApiFailure {
    ApiFailure::conflict("checkpoint_closed", format!("checkpoint {id} no longer takes signatures"))
}

/// Sends `message` to the store and waits until it is written.
async fn write<M, T>(store: &Addr<StoreActor>, message: M) -> Result<T, ApiFailure>
where
    M: Message<Result = Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
    StoreActor: Handler<M>,
{
    store
        .send(message)
        .await
        .map_err(|_| stopping())?
        .map_err(|e| ApiFailure::internal(e.to_string()))
}

fn stopping() -> ApiFailure {
    ApiFailure::unavailable("the aggregator is stopping")
}

impl Handler<ReceiveSignature> for Checkpoints {
    type Result = ResponseActFuture<Self, Result<PendingReceipt, ApiFailure>>;

    /// Takes a signature into the checkpoint's collector (pending) and
    /// answers with a receipt to come: the signature is recorded, published
    /// and acknowledged only once a batch check says it verifies (see
    /// `Checkpoints::verify_batch`).
    ///
    /// Not atomic: while one addition waits for the `Collectors` thread (busy
    /// with a batch check), the next signatures are sent after it, so they
    /// are all pending when that check ends and form the next batch. Were
    /// additions atomic, each would wait out the check before the next was
    /// sent, and batches would stay at one or two signatures. A checkpoint
    /// that closes meanwhile keeps its collector until the additions in
    /// flight are answered (`Entry::adding`, `close_collector`).
    fn handle(&mut self, msg: ReceiveSignature, _: &mut Context<Self>) -> Self::Result {
        let signed = msg.0;
        let id = signed.checkpoint_id;
        if let Err(failure) = self.check_answer(id, signed.table_version, signed.commitments_root) {
            self.metrics.signature(failure.code);
            return Box::pin(fut::ready(Err(failure)));
        }
        let operator = signed.operator;
        let signature = signed.signature.clone();
        let added =
            self.collectors.send(AddSignature { id, operator, signature: signed.signature });
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.adding += 1;
        }
        Box::pin(added.into_actor(self).map(move |added, act, ctx| {
            if let Some(entry) = act.entries.get_mut(&id) {
                entry.adding -= 1;
            }
            let admitted = act.admit(id, operator, signature, added);
            // Checks it, or closes a collector that waited for this addition.
            act.verify_batch(id, ctx);
            admitted
        }))
    }
}

impl Checkpoints {
    /// What the collector's answer to an addition means for its sender: a
    /// place among those waiting for the next batch check, or an answer now.
    fn admit(
        &mut self,
        id: u64,
        operator: Address,
        signature: Bytes,
        added: Result<Result<Added, CollectError>, MailboxError>,
    ) -> Result<PendingReceipt, ApiFailure> {
        let status = match added.map_err(|_| stopping())? {
            Ok(_) => ReceiptStatus::Accepted,
            Err(CollectError::Refused(Rejected::Duplicate(_))) => {
                let recorded = self
                    .entries
                    .get(&id)
                    .and_then(|entry| entry.signatures.get(&operator))
                    .is_some_and(|held| *held == signature);
                if recorded {
                    self.metrics.signature("duplicate");
                    let (answer, receipt) = oneshot::channel();
                    let _ = answer.send(Ok(self.receipt(id, ReceiptStatus::Duplicate)));
                    return Ok(receipt);
                }
                // Its first copy still waits for its check (or was verified
                // but not recorded): answer with it.
                ReceiptStatus::Duplicate
            }
            Err(CollectError::Refused(refused)) => {
                let failure = refusal(&refused);
                self.metrics.signature(failure.code);
                return Err(failure);
            }
            Err(CollectError::Closed(id)) => {
                self.metrics.signature("checkpoint_closed");
                return Err(checkpoint_closed(id));
            }
        };
        let entry = self.entries.get_mut(&id).ok_or_else(|| unknown_checkpoint(id))?;
        let (answer, receipt) = oneshot::channel();
        entry.awaiting.push(Awaiting { operator, signature, status, answer });
        Ok(receipt)
    }

    /// Checks, as one batch, every signature of checkpoint `id` whose
    /// sender waits, unless a check of it is already running: that one
    /// calls again when it is done, so whatever arrived meanwhile forms the
    /// next batch. One pairing per batch (when all verify) instead of one
    /// per signature; at a trickle each signature is its own batch, under
    /// a burst the batches grow with it.
    fn verify_batch(&mut self, id: u64, ctx: &mut Context<Self>) {
        let Some(entry) = self.entries.get_mut(&id) else { return };
        if entry.verifying {
            return;
        }
        if entry.awaiting.is_empty() {
            if entry.adding == 0 && std::mem::take(&mut entry.closing) {
                entry.count_missed(&self.metrics);
                self.collectors.do_send(CloseCollector(id));
            }
            return;
        }
        entry.verifying = true;
        let awaited: Vec<(Address, Bytes)> =
            entry.awaiting.iter().map(|a| (a.operator, a.signature.clone())).collect();
        let aggregate = entry.state == CheckpointState::Open;
        let check = self.collectors.send(VerifyPending { id, awaited: awaited.clone(), aggregate });
        ctx.spawn(check.into_actor(self).map(move |settled, act, ctx| match settled {
            Ok(Ok(settled)) => act.apply_batch(id, awaited, settled, ctx),
            Ok(Err(CollectError::Closed(_))) => act.fail_awaiting(id, |_| checkpoint_closed(id)),
            Ok(Err(CollectError::Refused(_))) | Err(_) => act.fail_awaiting(id, |_| stopping()),
        }));
    }

    /// Drops checkpoint `id`'s collector (it was attested or superseded),
    /// once the signatures being added or waiting for a check are answered:
    /// they arrived while it took signatures, and are checked and recorded
    /// as if it still did (`verify_batch` closes it after the last batch).
    ///
    /// Operators are counted as having missed it when it is really closed,
    /// so that a signature answered after the close still counts.
    fn close_collector(&mut self, id: u64) {
        match self.entries.get_mut(&id) {
            Some(entry) if entry.verifying || entry.adding > 0 || !entry.awaiting.is_empty() => {
                entry.closing = true;
            }
            Some(entry) => {
                entry.count_missed(&self.metrics);
                self.collectors.do_send(CloseCollector(id));
            }
            None => self.collectors.do_send(CloseCollector(id)),
        }
    }

    /// Answers every waiting sender of checkpoint `id` with `failure`.
    fn fail_awaiting(&mut self, id: u64, failure: impl Fn(Address) -> ApiFailure) {
        let Some(entry) = self.entries.get_mut(&id) else { return };
        entry.verifying = false;
        for awaiting in std::mem::take(&mut entry.awaiting) {
            let failure = failure(awaiting.operator);
            self.metrics.signature(failure.code);
            let _ = awaiting.answer.send(Err(failure));
        }
    }

    /// Applies a batch check: the signatures that verified are recorded
    /// (one store transaction), then published and acknowledged; the
    /// invalid ones are answered `400 invalid_signature` and never
    /// published; a quorum is recorded as `Submitting` and submitted. The
    /// actor waits for the store, so nothing reads a half-applied batch.
    fn apply_batch(
        &mut self,
        id: u64,
        awaited: Vec<(Address, Bytes)>,
        settled: Settled,
        ctx: &mut Context<Self>,
    ) {
        let Some(entry) = self.entries.get(&id) else { return };
        let verdicts: HashMap<(Address, Bytes), SignatureStatus> =
            awaited.into_iter().zip(settled.verdicts.iter().copied()).collect();
        let verified: Vec<(Address, Bytes)> = verdicts
            .iter()
            .filter(|(_, status)| **status == SignatureStatus::Verified)
            .map(|(key, _)| key.clone())
            .filter(|(operator, signature)| entry.signatures.get(operator) != Some(signature))
            .collect();
        // Recorded before a restart but found invalid now (a store written
        // before signatures were checked on arrival): not part of the
        // public record any more.
        let forgotten: Vec<Address> = settled
            .statuses
            .iter()
            .filter(|(operator, status)| {
                *status == SignatureStatus::Invalid && entry.signatures.contains_key(operator)
            })
            .map(|(operator, _)| *operator)
            .collect();
        let quorum = settled.aggregate.is_some() && entry.state == CheckpointState::Open;
        let store = self.store.clone();
        let record = async move {
            if !forgotten.is_empty() {
                let forget = ForgetSignatures { checkpoint_id: id, operators: forgotten.clone() };
                write(&store, forget).await?;
            }
            write(&store, RecordSignatures { checkpoint_id: id, signatures: verified.clone() })
                .await?;
            if quorum {
                let submitting =
                    RecordState { id, state: CheckpointState::Submitting, inclusion: None };
                write(&store, submitting).await?;
            }
            Ok::<_, ApiFailure>((verified, forgotten))
        };
        ctx.wait(record.into_actor(self).map(move |recorded, act, ctx| {
            match recorded {
                Ok((verified, forgotten)) => {
                    act.publish_batch(id, verified, &forgotten, settled, &verdicts);
                }
                Err(failure) => {
                    tracing::error!(checkpoint = id, %failure, "cannot record verified signatures");
                    // Nothing was published; the senders may send again.
                    act.fail_awaiting(id, |_| failure.clone());
                }
            }
            if let Some(entry) = act.entries.get_mut(&id) {
                entry.verifying = false;
            }
            act.verify_batch(id, ctx);
        }));
    }

    /// After the store recorded a batch: publishes its verified signatures,
    /// answers the senders it settled, and submits a quorum.
    fn publish_batch(
        &mut self,
        id: u64,
        verified: Vec<(Address, Bytes)>,
        forgotten: &[Address],
        settled: Settled,
        verdicts: &HashMap<(Address, Bytes), SignatureStatus>,
    ) {
        let Some(entry) = self.entries.get_mut(&id) else { return };
        for operator in forgotten {
            entry.signatures.remove(operator);
        }
        entry.signatures.extend(verified);
        entry.statuses = settled.statuses.into_iter().collect();
        entry.collected_weight = settled.collected_weight;
        let (settled_now, still_waiting): (Vec<Awaiting>, Vec<Awaiting>) =
            std::mem::take(&mut entry.awaiting).into_iter().partition(|a| {
                verdicts
                    .get(&(a.operator, a.signature.clone()))
                    .is_some_and(|status| *status != SignatureStatus::Pending)
            });
        entry.awaiting = still_waiting;
        if let Some(aggregate) = settled.aggregate
            && entry.state == CheckpointState::Open
        {
            entry.state = CheckpointState::Submitting;
            let seconds = now_ms().saturating_sub(entry.created_ms) as f64 / 1000.0;
            self.metrics.quorum_latency.observe(seconds);
            tracing::info!(
                checkpoint = id,
                signers = aggregate.signers.len(),
                signed_weight = %aggregate.signed_weight,
                seconds,
                "quorum reached"
            );
            self.submitter.do_send(SubmitAggregate {
                checkpoint_id: id,
                commitments: entry.proposal.commitments.clone(),
                root: entry.proposal.commitments_root,
                aggregate,
            });
        }
        // Every sender of the batch sees the checkpoint as it now stands:
        // built once per batch, not once per signature (O(table) each).
        let now = self.receipt(id, ReceiptStatus::Accepted);
        for awaiting in settled_now {
            let operator = awaiting.operator;
            let verdict = verdicts.get(&(operator, awaiting.signature.clone()));
            let answer = if verdict == Some(&SignatureStatus::Verified) {
                self.metrics.signature(match awaiting.status {
                    ReceiptStatus::Duplicate => "duplicate",
                    _ => "accepted",
                });
                Ok(Receipt { status: awaiting.status, ..now.clone() })
            } else {
                self.metrics.signature("invalid_signature");
                Err(invalid_signature(id, operator))
            };
            let _ = awaiting.answer.send(answer);
        }
    }
}

impl Checkpoints {
    fn receipt(&self, id: u64, status: ReceiptStatus) -> Receipt {
        let checkpoint = self.entries.get(&id).map(|e| self.status(e));
        match checkpoint {
            Some(checkpoint) => Receipt { status, checkpoint },
            // Only reachable if the entry vanished; answer what is known.
            None => Receipt {
                status,
                checkpoint: CheckpointStatus {
                    proposal: Proposal {
                        checkpoint_id: id,
                        domain: self.domain,
                        table_version: 0,
                        commitments: Vec::new(),
                        commitments_root: B256::ZERO,
                    },
                    state: CheckpointState::Superseded,
                    signed_weight: U256::ZERO,
                    needed_weight: U256::ZERO,
                    total_weight: U256::ZERO,
                    signers: Vec::new(),
                    missing: Vec::new(),
                    rejections: Vec::new(),
                    waiting_for: None,
                    l1_transaction: None,
                    l1_block: None,
                },
            },
        }
    }
}

/// An operator's refusal, from the API.
#[derive(Debug, Message)]
#[rtype(result = "Result<Receipt, ApiFailure>")]
pub struct ReceiveRejection(pub Rejection);

impl Handler<ReceiveRejection> for Checkpoints {
    type Result = AtomicResponse<Self, Result<Receipt, ApiFailure>>;

    fn handle(&mut self, msg: ReceiveRejection, _: &mut Context<Self>) -> Self::Result {
        let rejection = msg.0;
        let id = rejection.checkpoint_id;
        let checked = self
            .check_answer(id, rejection.table_version, rejection.commitments_root)
            .and_then(|entry| self.check_rejection(entry, &rejection));
        let signers = match checked {
            Ok(signers) => signers,
            Err(failure) => return AtomicResponse::new(Box::pin(fut::ready(Err(failure)))),
        };
        let (store, collectors) = (self.store.clone(), self.collectors.clone());
        let message = Rejection::message(
            &self.domain,
            id,
            rejection.table_version,
            rejection.commitments_root,
            &rejection.rejected,
        );
        let divergences: Vec<Divergence> = rejection
            .rejected
            .iter()
            .filter_map(|r| match &r.reason {
                RejectReason::Mismatch { ours } => Some(Divergence {
                    checkpoint_id: id,
                    operator: rejection.operator,
                    proposed: r.commitment.clone(),
                    theirs: ours.clone(),
                }),
                _ => None,
            })
            .collect();
        let work = async move {
            let valid = collectors
                .send(VerifyOperatorSignature {
                    signers,
                    operator: rejection.operator,
                    message,
                    signature: rejection.signature.clone(),
                })
                .await
                .map_err(|_| stopping())?;
            if !valid {
                return Err(ApiFailure::bad_request(
                    "invalid_signature",
                    format!(
                        "the rejection's signature does not verify under {}'s registered key over Rejection::message",
                        rejection.operator
                    ),
                ));
            }
            let record =
                RecordRejection { rejection: rejection.clone(), divergences: divergences.clone() };
            let new = write(&store, record).await?;
            Ok((rejection, divergences, new))
        };
        AtomicResponse::new(Box::pin(work.into_actor(self).map(move |result, act, _| {
            let (rejection, divergences, new) = result?;
            if !new {
                return Ok(act.receipt(id, ReceiptStatus::Duplicate));
            }
            act.record_rejection(rejection, divergences);
            Ok(act.receipt(id, ReceiptStatus::Accepted))
        })))
    }
}

impl Checkpoints {
    /// Checks a rejection's shape against the proposal; answers the
    /// operators of its table version.
    fn check_rejection(
        &self,
        entry: &Entry,
        rejection: &Rejection,
    ) -> Result<Arc<SignerSet>, ApiFailure> {
        rejection_fits(&entry.proposal, entry.signers.as_ref(), rejection)
    }

    fn record_rejection(&mut self, rejection: Rejection, divergences: Vec<Divergence>) {
        let id = rejection.checkpoint_id;
        for refused in &rejection.rejected {
            let kind = match refused.reason {
                RejectReason::Mismatch { .. } => "mismatch",
                RejectReason::NotYetSafe { .. } => "not_yet_safe",
                RejectReason::UnknownRollup => "unknown_rollup",
                RejectReason::Unavailable { .. } => "unavailable",
            };
            self.metrics.rejections.get_or_create(&vec![("reason", kind.to_owned())]).inc();
        }
        for divergence in divergences {
            tracing::warn!(
                checkpoint = id,
                operator = %divergence.operator,
                rollup = divergence.proposed.rollupId,
                block = divergence.proposed.l2BlockNumber,
                proposed_state_root = %divergence.proposed.stateRoot,
                their_state_root = %divergence.theirs.stateRoot,
                proposed_block_hash = %divergence.proposed.l2BlockHash,
                their_block_hash = %divergence.theirs.l2BlockHash,
                "divergence: an operator's node disagrees with a proposed commitment"
            );
            self.metrics
                .divergences
                .get_or_create(&vec![("rollup", divergence.proposed.rollupId.to_string())])
                .inc();
            self.divergences.push_back(divergence);
        }
        let quorum_bps = self.quorum_bps;
        let Some(entry) = self.entries.get_mut(&id) else { return };
        entry
            .rejections
            .push(OperatorRejection { operator: rejection.operator, rejected: rejection.rejected });
        if entry.quorum_unreachable(quorum_bps)
            && !entry.unreachable
            && entry.state == CheckpointState::Open
        {
            entry.unreachable = true;
            let contested = entry.refused_commitments();
            tracing::warn!(
                checkpoint = id,
                contested = contested.len(),
                "quorum unreachable: re-proposing without the refused commitments"
            );
            if let Some(proposer) = &self.proposer {
                proposer.do_send(QuorumUnreachable { checkpoint_id: id, contested });
            }
        }
        self.prune();
    }
}

/// Checks a rejection's shape against `proposal`, whose table version's
/// operators are `signers` (`None` while that table is not loaded): the
/// operator is in the table, the rejection names at least one commitment,
/// and each is a commitment of the proposal. Answers the operators, to
/// check its signature with ([`super::collect::verify_operator_signature`]).
/// Pure: the API's handler and the fuzz targets (`fuzz/`) call it alike.
pub fn rejection_fits(
    proposal: &Proposal,
    signers: Option<&Arc<SignerSet>>,
    rejection: &Rejection,
) -> Result<Arc<SignerSet>, ApiFailure> {
    let signers = signers.cloned().ok_or_else(|| {
        ApiFailure::unavailable("this checkpoint's operator table is not loaded yet: retry shortly")
    })?;
    if signers.position(&rejection.operator).is_none() {
        return Err(ApiFailure::forbidden(
            "unknown_operator",
            format!(
                "operator {} is not in table version {}: register, and wait for the next table version",
                rejection.operator, rejection.table_version
            ),
        ));
    }
    if rejection.rejected.is_empty() {
        return Err(ApiFailure::bad_request(
            "empty_rejection",
            "a rejection must name at least one commitment; sign the proposal instead".to_owned(),
        ));
    }
    for refused in &rejection.rejected {
        if !proposal.commitments.contains(&refused.commitment) {
            return Err(ApiFailure::bad_request(
                "unknown_commitment",
                format!(
                    "rollup {} block {} as given is not a commitment of checkpoint {}",
                    refused.commitment.rollupId,
                    refused.commitment.l2BlockNumber,
                    proposal.checkpoint_id
                ),
            ));
        }
    }
    Ok(signers)
}

/// The submitter's news of a checkpoint.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum SubmissionOutcome {
    /// Its first broadcast is recorded.
    Sent {
        /// The checkpoint.
        checkpoint_id: u64,
        /// The transaction.
        tx: B256,
    },
    /// Included at this L1 block, not yet deep enough to count (the
    /// submitter's `confirmations`).
    Included {
        /// The checkpoint.
        checkpoint_id: u64,
        /// The transaction, when it was ours and attested the root.
        tx: Option<B256>,
        /// The L1 block.
        block: u64,
    },
    /// An L1 reorg dropped the block that included it; the transaction is
    /// being sent again.
    Reorged {
        /// The checkpoint.
        checkpoint_id: u64,
        /// The L1 block that is no longer on the chain.
        block: u64,
    },
    /// Included on L1 (or found attested there), and confirmed.
    Attested {
        /// The checkpoint.
        checkpoint_id: u64,
        /// The transaction, when it was ours.
        tx: Option<B256>,
        /// The L1 block.
        block: u64,
        /// Seconds from quorum (or restart) to inclusion.
        seconds: Option<f64>,
    },
    /// Not posted: L1 already holds a commitment at least as high for every
    /// rollup in it (another aggregator's), so posting would record nothing.
    Outdated {
        /// The checkpoint.
        checkpoint_id: u64,
    },
    /// The contract refused it; it will be re-proposed.
    Refused {
        /// The checkpoint.
        checkpoint_id: u64,
        /// Why.
        reason: String,
    },
}

impl Handler<SubmissionOutcome> for Checkpoints {
    type Result = ();
    fn handle(&mut self, msg: SubmissionOutcome, ctx: &mut Context<Self>) {
        let (id, state, inclusion) = match &msg {
            SubmissionOutcome::Sent { checkpoint_id, tx } => {
                if let Some(entry) = self.entries.get_mut(checkpoint_id) {
                    entry.l1_transaction = Some(*tx);
                }
                return;
            }
            SubmissionOutcome::Included { checkpoint_id, tx, block } => {
                if let Some(entry) = self.entries.get_mut(checkpoint_id) {
                    entry.l1_transaction = tx.or(entry.l1_transaction);
                    entry.l1_block = Some(*block);
                }
                return;
            }
            SubmissionOutcome::Reorged { checkpoint_id, block } => {
                tracing::warn!(
                    checkpoint = checkpoint_id,
                    l1_block = block,
                    "an L1 reorg dropped the checkpoint's inclusion; it is being sent again"
                );
                if let Some(entry) = self.entries.get_mut(checkpoint_id) {
                    entry.l1_block = None;
                    entry.reorged_from = Some(*block);
                }
                return;
            }
            SubmissionOutcome::Attested { checkpoint_id, tx, block, seconds } => {
                if let Some(seconds) = seconds {
                    self.metrics.inclusion_latency.observe(*seconds);
                }
                (*checkpoint_id, CheckpointState::Attested, Some((*tx, *block)))
            }
            SubmissionOutcome::Outdated { checkpoint_id } => {
                tracing::info!(
                    checkpoint = checkpoint_id,
                    "L1 already holds newer commitments of every rollup in the checkpoint; not posted"
                );
                (*checkpoint_id, CheckpointState::Superseded, None)
            }
            SubmissionOutcome::Refused { checkpoint_id, reason } => {
                tracing::warn!(checkpoint = checkpoint_id, %reason, "L1 refused the checkpoint; its rollups will be proposed again");
                (*checkpoint_id, CheckpointState::Superseded, None)
            }
        };
        let store = self.store.clone();
        let work = async move { store.send(RecordState { id, state, inclusion }).await };
        ctx.wait(work.into_actor(self).map(move |written, act, _| {
            if !matches!(written, Ok(Ok(()))) {
                tracing::error!(checkpoint = id, ?written, "cannot record the checkpoint's L1 outcome");
            }
            let Some(entry) = act.entries.get_mut(&id) else {
                act.collectors.do_send(CloseCollector(id));
                return;
            };
            if entry.state == state {
                return;
            }
            entry.state = state;
            act.close_collector(id);
            let Some(entry) = act.entries.get_mut(&id) else { return };
            match state {
                CheckpointState::Attested => {
                    let (tx, block) = inclusion.unwrap_or((None, 0));
                    entry.l1_transaction = tx.or(entry.l1_transaction);
                    entry.l1_block = Some(block);
                    act.metrics.attested.inc();
                    act.attested_since_start += 1;
                    tracing::info!(checkpoint = id, l1_block = block, tx = ?entry.l1_transaction, "checkpoint attested on L1");
                }
                _ => {
                    act.metrics.superseded.inc();
                }
            }
        }));
    }
}

/// Ask for one checkpoint's status.
#[derive(Debug, Message)]
#[rtype(result = "Option<CheckpointStatus>")]
pub struct GetCheckpoint(pub u64);

impl Handler<GetCheckpoint> for Checkpoints {
    type Result = Option<CheckpointStatus>;
    fn handle(&mut self, msg: GetCheckpoint, _: &mut Context<Self>) -> Self::Result {
        self.entries.get(&msg.0).map(|e| self.status(e))
    }
}

/// Ask for the newest checkpoints, newest first.
#[derive(Debug, Message)]
#[rtype(result = "Vec<CheckpointStatus>")]
pub struct RecentCheckpoints {
    /// At most this many.
    pub limit: usize,
}

impl Handler<RecentCheckpoints> for Checkpoints {
    type Result = Vec<CheckpointStatus>;
    fn handle(&mut self, msg: RecentCheckpoints, _: &mut Context<Self>) -> Self::Result {
        self.entries.values().rev().take(msg.limit).map(|e| self.status(e)).collect()
    }
}

/// Ask for one checkpoint's public signatures.
#[derive(Debug, Message)]
#[rtype(result = "Option<Vec<PublicSignature>>")]
pub struct CheckpointSignatures(pub u64);

impl Handler<CheckpointSignatures> for Checkpoints {
    type Result = Option<Vec<PublicSignature>>;
    fn handle(&mut self, msg: CheckpointSignatures, _: &mut Context<Self>) -> Self::Result {
        let entry = self.entries.get(&msg.0)?;
        let signatures = entry
            .signatures
            .iter()
            .filter(|(operator, _)| {
                entry.statuses.get(*operator) != Some(&SignatureStatus::Invalid)
            })
            .map(|(operator, signature)| PublicSignature {
                operator: *operator,
                // By position, not by scanning the table: watchers poll
                // this for every checkpoint.
                pubkey: entry
                    .signers
                    .as_ref()
                    .and_then(|s| s.position(operator).and_then(|i| s.table().entries().get(i)))
                    .map(|e| e.pubkey.clone())
                    .unwrap_or_default(),
                table_version: entry.proposal.table_version,
                commitments_root: entry.proposal.commitments_root,
                commitments: entry.proposal.commitments.clone(),
                signature: signature.clone(),
            })
            .collect();
        Some(signatures)
    }
}

/// Ask for the newest divergences, newest first.
#[derive(Debug, Message)]
#[rtype(result = "Vec<Divergence>")]
pub struct RecentDivergences {
    /// At most this many.
    pub limit: usize,
}

impl Handler<RecentDivergences> for Checkpoints {
    type Result = Vec<Divergence>;
    fn handle(&mut self, msg: RecentDivergences, _: &mut Context<Self>) -> Self::Result {
        self.divergences.iter().rev().take(msg.limit).cloned().collect()
    }
}

/// Ask how many checkpoints were attested since start.
#[derive(Debug, Message)]
#[rtype(result = "u64")]
pub struct AttestedCount;

impl Handler<AttestedCount> for Checkpoints {
    type Result = u64;
    fn handle(&mut self, _: AttestedCount, _: &mut Context<Self>) -> u64 {
        self.attested_since_start
    }
}

#[cfg(test)]
mod tests {
    use chorus_keys::bls::SecretKey;

    use super::*;
    use crate::{quorum::tests::fixture, service::store::Store};

    /// Takes the aggregates handed to the submitter, and nothing else.
    struct NoSubmitter;

    impl Actor for NoSubmitter {
        type Context = Context<Self>;
    }

    impl Handler<SubmitAggregate> for NoSubmitter {
        type Result = ();
        fn handle(&mut self, _: SubmitAggregate, _: &mut Context<Self>) {}
    }

    fn sign(secret: &SecretKey, proposal: &Proposal, operator: Address) -> SignedCheckpoint {
        proposal.signed_by(operator, &secret.sign(proposal.message().as_slice()).to_bytes())
    }

    /// A signature sent before its checkpoint is attested, and still being
    /// added when the L1 outcome arrives, is checked and accepted: the
    /// collector stays open until it is answered. (Found by the service
    /// benchmark: it was answered `409 checkpoint_closed`.)
    #[actix_rt::test]
    async fn a_signature_in_flight_when_its_checkpoint_is_attested_is_still_accepted() {
        let f = fixture(&[10; 4]);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("aggregator.sqlite")).unwrap();
        let store = crate::service::start_store(store);
        let collectors = SyncArbiter::start(1, Collectors::default);
        let domain = Domain { l1_chain_id: 31_337, attestation_contract: Address::repeat_byte(7) };
        let metrics = Metrics::new();
        let checkpoints = Checkpoints::new(CheckpointsSetup {
            domain,
            quorum_bps: 6_667,
            store,
            collectors,
            submitter: NoSubmitter.start().recipient(),
            metrics: metrics.clone(),
            loaded: Loaded { checkpoints: Vec::new(), divergences: Vec::new(), next_id: 1 },
            signers: HashMap::new(),
        })
        .start();
        let commitment = Commitment {
            rollupId: 901,
            l2BlockNumber: 5,
            l2BlockHash: B256::repeat_byte(5),
            stateRoot: B256::repeat_byte(1),
        };
        let proposal = checkpoints
            .send(Propose { commitments: vec![commitment], signers: f.set.clone() })
            .await
            .unwrap()
            .unwrap();
        for i in 0..3 {
            let signed = sign(&f.secrets[i], &proposal, f.operators[i]);
            let pending = checkpoints.send(ReceiveSignature(signed)).await.unwrap().unwrap();
            assert_eq!(pending.await.unwrap().unwrap().status, ReceiptStatus::Accepted);
        }
        // The fourth signature, then the outcome, in one go: the outcome is
        // handled while the signature's addition is on its way back.
        let late =
            checkpoints.send(ReceiveSignature(sign(&f.secrets[3], &proposal, f.operators[3])));
        let attested = checkpoints.send(SubmissionOutcome::Attested {
            checkpoint_id: proposal.checkpoint_id,
            tx: None,
            block: 9,
            seconds: None,
        });
        let (late, attested) = futures::join!(late, attested);
        attested.unwrap();
        let receipt = late.unwrap().unwrap().await.unwrap();
        assert_eq!(receipt.unwrap().status, ReceiptStatus::Accepted);
        let status = checkpoints.send(GetCheckpoint(proposal.checkpoint_id)).await.unwrap();
        let status = status.unwrap();
        assert_eq!(status.state, CheckpointState::Attested);
        assert_eq!(status.signers.len(), 4);
        // Counted when the collector really closed: nobody missed it.
        for operator in &f.operators {
            let missed = metrics.missed.get_or_create(&vec![("operator", operator.to_string())]);
            assert_eq!(missed.get(), 0, "{operator} counted as missing a checkpoint it signed");
        }
    }
}
