//! `Submitter`: posts aggregates to L1 with
//! `submitCheckpointWithCommitments`, never the same checkpoint twice, also
//! across a restart.
//!
//! For each checkpoint with quorum:
//!
//! 1. If the store already pins a nonce to it, that submission is resumed
//!    (nothing new is built). If the contract already attests its root, it is
//!    attested; nothing is sent.
//! 2. An aggregator standing by (`standby_secs`) waits that long first,
//!    so that another aggregator's post of the same root can land; then the
//!    call is simulated (`eth_estimateGas`). If L1 already holds a
//!    commitment at least as high for every rollup in the checkpoint (another
//!    aggregator's, posted meanwhile), it is outdated and nothing is sent:
//!    the contract would take it and record nothing. A revert is classified:
//!    `AlreadyAttested` means attested; anything else (`QuorumNotReached`,
//!    `StaleTableVersion`, `InvalidSignature`, ...) is logged and the
//!    checkpoint handed back for re-proposal. Nothing was sent.
//! 3. It gets the next nonce, the transaction is signed locally, and its hash,
//!    nonce and fees are written to the store **before** it is broadcast.
//! 4. Every [`TICK`] it watches: once the account's nonce passed the pinned
//!    one, one transaction with that nonce was included: the receipt (and its
//!    `CheckpointAttested` event) or `attestedAt(root)` says whether the
//!    checkpoint is attested; otherwise it goes back for re-proposal. After
//!    `bump_after_secs` without inclusion the same call is re-signed with the
//!    same nonce and fees raised by `bump_percent` (capped by `max_fee_gwei`),
//!    recorded, and re-broadcast; should the root get attested by someone
//!    else meanwhile, the nonce is filled with a 0-value transfer to self
//!    instead, so the checkpoint is not posted twice.
//! 5. An outcome found at L1 block `b` is final once the head is at
//!    `b + confirmations`; until then the submission stays watched. Should
//!    the account's nonce fall back to the pinned one meanwhile, a reorg
//!    dropped the transaction: it is counted (`chorus_l1_reorgs_total`),
//!    reported to `Checkpoints`, and broadcast again at once (same nonce).
//! 6. A nonce used without any receipt of ours and with the root not
//!    attested is only concluded "used by another transaction" once that
//!    has held for [`UNSEEN_BLOCKS`] blocks: a node (or the replica behind a
//!    load balancer) may count the nonce before its receipts and state
//!    catch up.
//!
//! One nonce per checkpoint means at most one of its transactions can ever
//! be included; recording before broadcasting means a restart knows every
//! transaction that may be in flight, and re-checks them first.

use std::{
    collections::{BTreeMap, HashSet},
    time::{Duration, Instant},
};

use actix::prelude::*;
use alloy::{
    eips::Encodable2718,
    network::{EthereumWallet, ReceiptResponse, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent, SolInterface},
};
use chorus_contracts::{
    Commitment,
    IChorusAttestations::{self, IChorusAttestationsErrors},
};
use chorus_deploy::rpc_url::RpcUrl;

use super::{
    checkpoints::{SubmissionOutcome, SubmitAggregate},
    config::SubmitterConfig,
    metrics::Metrics,
    store::{
        Broadcast, LoadSubmission, LoadSubmissions, RecordBroadcast, StoreActor, Submission, now_ms,
    },
};

/// How often submissions in flight are checked.
pub const TICK: Duration = Duration::from_secs(1);
/// L1 blocks a nonce must stay used with neither a receipt of ours nor the
/// root attested before the submission is concluded refused.
pub const UNSEEN_BLOCKS: u64 = 2;
/// Osaka's per-transaction gas cap (EIP-7825).
const TX_GAS_CAP: u64 = 1 << 24;
const GWEI: u128 = 1_000_000_000;

/// A pinned submission being watched.
#[derive(Debug)]
struct InFlight {
    submission: Submission,
    /// When it was last broadcast (`None`: must be (re)broadcast now).
    last_sent: Option<Instant>,
    /// When the aggregate was handed over (for the inclusion latency).
    since: Instant,
    /// The root was attested by someone else: fill the nonce with a
    /// transfer to self.
    cancel: bool,
    /// The L1 block of the outcome found, while it waits for confirmations.
    included: Option<u64>,
    /// The L1 block at which its nonce was first seen used with nothing of
    /// ours to show for it.
    unseen_since: Option<u64>,
}

impl InFlight {
    fn new(submission: Submission, since: Instant) -> Self {
        Self {
            submission,
            last_sent: None,
            since,
            cancel: false,
            included: None,
            unseen_since: None,
        }
    }
}

/// Posts aggregates (see the [module docs](self)).
pub struct Submitter {
    provider: DynProvider,
    wallet: EthereumWallet,
    address: Address,
    chain_id: u64,
    attestations: Address,
    store: Addr<StoreActor>,
    outcomes: Recipient<SubmissionOutcome>,
    metrics: Metrics,
    config: SubmitterConfig,
    /// Only to take it out of the provider's error texts.
    l1: RpcUrl,
    next_nonce: Option<u64>,
    in_flight: BTreeMap<u64, InFlight>,
    busy: HashSet<u64>,
    preparing: HashSet<u64>,
}

/// What a [`Submitter`] is built from.
pub struct SubmitterSetup {
    /// An L1 provider (no wallet: transactions are signed here).
    pub provider: DynProvider,
    /// The paying key.
    pub signer: PrivateKeySigner,
    /// The L1 chain id.
    pub chain_id: u64,
    /// The attestation contract.
    pub attestations: Address,
    /// The store.
    pub store: Addr<StoreActor>,
    /// Where outcomes go (the `Checkpoints` actor).
    pub outcomes: Recipient<SubmissionOutcome>,
    /// Metrics.
    pub metrics: Metrics,
    /// Fee policy.
    pub config: SubmitterConfig,
    /// The L1 endpoint `provider` reads, to keep its URL out of the logs.
    pub l1: RpcUrl,
}

impl Submitter {
    /// A submitter paying from `setup.signer`.
    pub fn new(setup: SubmitterSetup) -> Self {
        Self {
            address: setup.signer.address(),
            wallet: EthereumWallet::from(setup.signer),
            provider: setup.provider,
            chain_id: setup.chain_id,
            attestations: setup.attestations,
            store: setup.store,
            outcomes: setup.outcomes,
            metrics: setup.metrics,
            config: setup.config,
            l1: setup.l1,
            next_nonce: None,
            in_flight: BTreeMap::new(),
            busy: HashSet::new(),
            preparing: HashSet::new(),
        }
    }

    fn max_fee_cap(&self) -> u128 {
        u128::from(self.config.max_fee_gwei).saturating_mul(GWEI)
    }
}

impl Actor for Submitter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Before anything is sent: the pinned submissions of the last run,
        // and a nonce above every nonce ever pinned or used.
        let (store, provider, address) = (self.store.clone(), self.provider.clone(), self.address);
        let work = async move {
            let loaded = store.send(LoadSubmissions).await;
            let chain_nonce = provider.get_transaction_count(address).pending().await;
            (loaded, chain_nonce)
        };
        ctx.wait(work.into_actor(self).map(|(loaded, chain_nonce), act, _| {
            let (submissions, max_pinned) = match loaded {
                Ok(Ok(loaded)) => loaded,
                other => {
                    tracing::error!(?other, "cannot load pinned submissions; not submitting");
                    return;
                }
            };
            match chain_nonce {
                Ok(nonce) => {
                    act.next_nonce = Some(nonce.max(max_pinned.map_or(0, |n| n + 1)));
                }
                Err(e) => tracing::warn!(
                    "cannot read the submitter's nonce yet: {}",
                    act.l1.redact(&e.to_string())
                ),
            }
            for submission in submissions {
                tracing::info!(
                    checkpoint = submission.checkpoint_id,
                    nonce = submission.nonce,
                    broadcasts = submission.broadcasts.len(),
                    "resuming a pinned L1 submission"
                );
                act.in_flight
                    .insert(submission.checkpoint_id, InFlight::new(submission, Instant::now()));
            }
        }));
        ctx.run_interval(TICK, |_, ctx| ctx.notify(Watch));
    }
}

/// How a simulation or a send went wrong.
enum Simulated {
    /// Ready to send with this gas limit.
    Ok(u64),
    /// The root is attested already (at this L1 block).
    Attested(u64),
    /// L1 holds newer commitments of every rollup in it.
    Outdated,
    /// The contract refuses it.
    Refused(String),
    /// Try again later.
    Retry(String),
}

fn revert_reason(error: &alloy::transports::TransportError) -> Option<(String, bool)> {
    let data = error.as_error_resp()?.as_revert_data()?;
    Some(match IChorusAttestationsErrors::abi_decode(&data) {
        Ok(IChorusAttestationsErrors::AlreadyAttested(_)) => ("AlreadyAttested".to_owned(), true),
        Ok(decoded) => (format!("{decoded:?}"), false),
        Err(_) => (chorus_deploy::decode_revert(&data), false),
    })
}

async fn attested_at(
    provider: &DynProvider,
    attestations: Address,
    root: B256,
) -> Result<u64, String> {
    IChorusAttestations::new(attestations, provider)
        .attestedAt(root)
        .call()
        .await
        .map_err(|e| format!("cannot read attestedAt: {e}"))
}

/// Whether L1's latest commitment of every rollup in `commitments` is at
/// least as high as the checkpoint's: posting it would record nothing.
/// Stops at the first rollup it would move forward (one call, usually).
async fn outdated(
    provider: &DynProvider,
    attestations: Address,
    commitments: &[Commitment],
) -> Result<bool, String> {
    let contract = IChorusAttestations::new(attestations, provider);
    for commitment in commitments {
        let latest = contract
            .latestCommitment(commitment.rollupId)
            .call()
            .await
            .map_err(|e| format!("cannot read latestCommitment: {e}"))?;
        if latest.attestedAtBlock == 0 || latest.commitment.l2BlockNumber < commitment.l2BlockNumber
        {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn simulate(
    provider: &DynProvider,
    attestations: Address,
    request: TransactionRequest,
    root: B256,
    commitments: &[Commitment],
) -> Simulated {
    match attested_at(provider, attestations, root).await {
        Ok(0) => {}
        Ok(block) => return Simulated::Attested(block),
        Err(e) => return Simulated::Retry(e),
    }
    match outdated(provider, attestations, commitments).await {
        Ok(false) => {}
        Ok(true) => return Simulated::Outdated,
        Err(e) => return Simulated::Retry(e),
    }
    match provider.estimate_gas(request).await {
        Ok(gas) => Simulated::Ok(gas.saturating_add(gas / 4).min(TX_GAS_CAP.max(gas))),
        Err(error) => match revert_reason(&error) {
            Some((_, true)) => match attested_at(provider, attestations, root).await {
                Ok(block) if block != 0 => Simulated::Attested(block),
                _ => Simulated::Retry("AlreadyAttested but attestedAt is 0".to_owned()),
            },
            Some((reason, false)) => Simulated::Refused(reason),
            None => Simulated::Retry(error.to_string()),
        },
    }
}

/// What came of preparing a checkpoint's submission.
enum Prepared {
    Resume(Submission),
    Send { submission_without_nonce: Submission },
    Done(SubmissionOutcome),
    Retry(String),
}

impl Handler<SubmitAggregate> for Submitter {
    type Result = ();

    fn handle(&mut self, msg: SubmitAggregate, ctx: &mut Context<Self>) {
        let id = msg.checkpoint_id;
        if self.in_flight.contains_key(&id) || !self.preparing.insert(id) {
            return;
        }
        let aggregate = &msg.aggregate;
        let calldata = Bytes::from(
            IChorusAttestations::submitCheckpointWithCommitmentsCall {
                table: aggregate.table.clone(),
                commitments: msg.commitments.clone(),
                nonSigners: aggregate.non_signers.clone(),
                signature: Bytes::copy_from_slice(&aggregate.signature_eip2537),
            }
            .abi_encode(),
        );
        let request = TransactionRequest::default()
            .with_from(self.address)
            .with_to(self.attestations)
            .with_input(calldata.clone());
        let (store, provider, attestations) =
            (self.store.clone(), self.provider.clone(), self.attestations);
        let root = msg.root;
        let commitments = msg.commitments.clone();
        let standby = Duration::from_secs(self.config.standby_secs);
        let work = async move {
            match store.send(LoadSubmission(id)).await {
                Ok(Ok(Some(pinned))) => return Prepared::Resume(pinned),
                Ok(Ok(None)) => {}
                other => return Prepared::Retry(format!("store: {other:?}")),
            }
            // A deliberate pause, not a synchronisation: the other
            // aggregator's post may land meanwhile, which `simulate` sees.
            tokio::time::sleep(standby).await;
            match simulate(&provider, attestations, request, root, &commitments).await {
                Simulated::Ok(gas_limit) => Prepared::Send {
                    submission_without_nonce: Submission {
                        checkpoint_id: id,
                        root,
                        nonce: 0,
                        to: attestations,
                        calldata,
                        gas_limit,
                        broadcasts: Vec::new(),
                    },
                },
                Simulated::Attested(block) => Prepared::Done(SubmissionOutcome::Attested {
                    checkpoint_id: id,
                    tx: None,
                    block,
                    seconds: None,
                }),
                Simulated::Outdated => {
                    Prepared::Done(SubmissionOutcome::Outdated { checkpoint_id: id })
                }
                Simulated::Refused(reason) => Prepared::Done(SubmissionOutcome::Refused {
                    checkpoint_id: id,
                    reason: format!("simulation reverted with {reason}"),
                }),
                Simulated::Retry(reason) => Prepared::Retry(reason),
            }
        };
        ctx.spawn(work.into_actor(self).map(move |prepared, act, ctx| {
            act.preparing.remove(&id);
            let since = Instant::now();
            match prepared {
                Prepared::Resume(submission) => {
                    act.in_flight.insert(id, InFlight::new(submission, since));
                }
                Prepared::Send { mut submission_without_nonce } => {
                    let Some(nonce) = act.next_nonce else {
                        tracing::warn!(checkpoint = id, "submitter nonce unknown yet; retrying");
                        ctx.notify_later(msg, Duration::from_secs(2));
                        return;
                    };
                    act.next_nonce = Some(nonce + 1);
                    submission_without_nonce.nonce = nonce;
                    let submission = submission_without_nonce;
                    tracing::info!(checkpoint = id, nonce, gas_limit = submission.gas_limit, "submitting checkpoint to L1");
                    act.in_flight.insert(id, InFlight::new(submission, since));
                    ctx.notify(Watch);
                }
                Prepared::Done(outcome) => act.outcomes.do_send(outcome),
                Prepared::Retry(reason) => {
                    let reason = act.l1.redact(&reason);
                    tracing::warn!(checkpoint = id, %reason, "cannot prepare the L1 submission yet; retrying");
                    ctx.notify_later(msg, Duration::from_secs(2));
                }
            }
        }));
    }
}

/// Check submissions in flight: inclusion, (re)broadcasts, fee bumps.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Watch;

/// What to do with one submission in flight.
enum Step {
    /// Its nonce was used: find out what was included.
    Resolve,
    /// Broadcast (first time, again after a restart or a reorg, or bumped).
    Broadcast { bump: bool },
}

/// What the chain says of a submission whose nonce was used.
enum Resolution {
    /// This outcome, found at this L1 block.
    At { outcome: SubmissionOutcome, block: u64 },
    /// Neither a receipt of ours nor the root attested (yet).
    Unseen,
}

impl Resolution {
    /// The root attested at `block` by a transaction that is not ours (or
    /// not found): the checkpoint is attested all the same.
    fn attested_by_another(checkpoint_id: u64, block: u64) -> Self {
        let outcome = SubmissionOutcome::Attested { checkpoint_id, tx: None, block, seconds: None };
        Self::At { outcome, block }
    }
}

impl Handler<Watch> for Submitter {
    type Result = ();

    fn handle(&mut self, _: Watch, ctx: &mut Context<Self>) {
        self.refresh_balance(ctx);
        if self.in_flight.is_empty() {
            return;
        }
        let (provider, address) = (self.provider.clone(), self.address);
        let work = async move {
            // The head first: a nonce read after it is at least as new.
            let head = provider.get_block_number().await?;
            let used = provider.get_transaction_count(address).latest().await?;
            Ok::<_, alloy::transports::TransportError>((head, used))
        };
        ctx.spawn(work.into_actor(self).map(|read, act, ctx| {
            let (head, used) = match read {
                Ok(read) => read,
                Err(e) => {
                    let problem = act.l1.redact(&e.to_string());
                    tracing::warn!("cannot read the submitter's nonce: {problem}");
                    return;
                }
            };
            if act.next_nonce.is_none() {
                act.next_nonce = Some(used);
            }
            let steps = act.steps(used);
            for (id, step) in steps {
                act.busy.insert(id);
                match step {
                    Step::Resolve => act.resolve(id, head, ctx),
                    Step::Broadcast { bump } => act.broadcast(id, bump, ctx),
                }
            }
        }));
    }
}

impl Submitter {
    /// What each submission not busy needs, now that the account has used
    /// every nonce below `used`.
    fn steps(&mut self, used: u64) -> Vec<(u64, Step)> {
        let bump_after = Duration::from_secs(self.config.bump_after_secs);
        let mut steps = Vec::new();
        for (id, flight) in &mut self.in_flight {
            if self.busy.contains(id) {
                continue;
            }
            if flight.submission.nonce < used {
                steps.push((*id, Step::Resolve));
                continue;
            }
            flight.unseen_since = None;
            if let Some(block) = flight.included.take() {
                // Its nonce is free again: the block that included it is
                // no longer on the chain.
                tracing::warn!(
                    checkpoint = id,
                    nonce = flight.submission.nonce,
                    l1_block = block,
                    "an L1 reorg dropped the submission's transaction; sending it again"
                );
                self.metrics.l1_reorgs.inc();
                self.outcomes.do_send(SubmissionOutcome::Reorged { checkpoint_id: *id, block });
                flight.last_sent = None;
            }
            match flight.last_sent {
                None => steps.push((*id, Step::Broadcast { bump: false })),
                Some(sent) if sent.elapsed() >= bump_after => {
                    steps.push((*id, Step::Broadcast { bump: true }))
                }
                Some(_) => {}
            }
        }
        steps
    }

    fn refresh_balance(&self, ctx: &mut Context<Self>) {
        let (provider, address, metrics) =
            (self.provider.clone(), self.address, self.metrics.clone());
        ctx.spawn(
            async move {
                if let Ok(balance) = provider.get_balance(address).await {
                    let gwei = balance / U256::from(GWEI);
                    metrics.submitter_balance_gwei.set(i64::try_from(gwei).unwrap_or(i64::MAX));
                }
            }
            .into_actor(self),
        );
    }

    /// The nonce of `id` was used: which transaction made it, and did it
    /// attest the root? Decided once `head` is deep enough past it.
    fn resolve(&mut self, id: u64, head: u64, ctx: &mut Context<Self>) {
        let Some(flight) = self.in_flight.get(&id) else { return };
        let hashes: Vec<B256> = flight.submission.broadcasts.iter().map(|b| b.tx_hash).collect();
        let (root, since) = (flight.submission.root, flight.since);
        let (provider, attestations) = (self.provider.clone(), self.attestations);
        let work = async move {
            let mut included: Option<TransactionReceipt> = None;
            for hash in hashes {
                match provider.get_transaction_receipt(hash).await {
                    Ok(Some(receipt)) => {
                        included = Some(receipt);
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => return Err(format!("cannot read receipt {hash}: {e}")),
                }
            }
            if let Some(receipt) = &included {
                let event = receipt.inner.logs().iter().find_map(|log| {
                    IChorusAttestations::CheckpointAttested::decode_log(&log.inner)
                        .ok()
                        .filter(|e| e.commitmentsRoot == root)
                });
                let block = receipt.block_number().unwrap_or_default();
                let outcome = if receipt.status() && event.is_some() {
                    SubmissionOutcome::Attested {
                        checkpoint_id: id,
                        tx: Some(receipt.transaction_hash),
                        block,
                        seconds: Some(since.elapsed().as_secs_f64()),
                    }
                } else {
                    // Reverted, most likely because the root was attested
                    // meanwhile: `attestedAt` settles it below.
                    match attested_at(&provider, attestations, root).await? {
                        0 => SubmissionOutcome::Refused {
                            checkpoint_id: id,
                            reason: format!(
                                "transaction {} reverted on chain",
                                receipt.transaction_hash
                            ),
                        },
                        block => return Ok(Resolution::attested_by_another(id, block)),
                    }
                };
                return Ok(Resolution::At { outcome, block });
            }
            match attested_at(&provider, attestations, root).await? {
                0 => Ok(Resolution::Unseen),
                block => Ok(Resolution::attested_by_another(id, block)),
            }
        };
        ctx.spawn(work.into_actor(self).map(move |resolution, act, _| {
            act.busy.remove(&id);
            match resolution {
                Ok(resolution) => act.resolved(id, head, resolution),
                Err(e) => {
                    let problem = act.l1.redact(&e);
                    tracing::warn!(
                        checkpoint = id,
                        "cannot resolve the L1 submission yet: {problem}"
                    )
                }
            }
        }));
    }

    /// Delivers `resolution` once final at `head`, else keeps watching.
    fn resolved(&mut self, id: u64, head: u64, resolution: Resolution) {
        let confirmations = self.config.confirmations;
        let Some(flight) = self.in_flight.get_mut(&id) else { return };
        let outcome = match resolution {
            Resolution::At { outcome, block } if head >= block.saturating_add(confirmations) => {
                outcome
            }
            Resolution::At { outcome, block } => {
                if flight.included != Some(block) {
                    flight.included = Some(block);
                    let tx = match outcome {
                        SubmissionOutcome::Attested { tx, .. } => tx,
                        _ => None,
                    };
                    tracing::info!(
                        checkpoint = id,
                        l1_block = block,
                        confirmations,
                        "L1 transaction included; waiting for confirmations"
                    );
                    self.outcomes.do_send(SubmissionOutcome::Included {
                        checkpoint_id: id,
                        tx,
                        block,
                    });
                }
                return;
            }
            Resolution::Unseen => {
                let since = *flight.unseen_since.get_or_insert(head);
                if head < since.saturating_add(UNSEEN_BLOCKS) {
                    tracing::debug!(
                        checkpoint = id,
                        "nonce used but nothing of ours seen yet; re-checking"
                    );
                    return;
                }
                SubmissionOutcome::Refused {
                    checkpoint_id: id,
                    reason: "its nonce was used by another transaction of the submitter's account"
                        .to_owned(),
                }
            }
        };
        self.in_flight.remove(&id);
        self.outcomes.do_send(outcome);
    }

    /// Signs, records, then broadcasts `id`'s transaction: the last one
    /// again, or with bumped fees.
    fn broadcast(&mut self, id: u64, bump: bool, ctx: &mut Context<Self>) {
        let Some(flight) = self.in_flight.get(&id) else { return };
        let submission = flight.submission.clone();
        let last = submission.broadcasts.last().cloned();
        let cancel = flight.cancel;
        let (provider, wallet, store, address, chain_id, attestations) = (
            self.provider.clone(),
            self.wallet.clone(),
            self.store.clone(),
            self.address,
            self.chain_id,
            self.attestations,
        );
        let (cap, percent) = (self.max_fee_cap(), u128::from(self.config.bump_percent.max(10)));
        let (metrics, l1) = (self.metrics.clone(), self.l1.clone());
        let work = async move {
            // Someone else's attestation of this root: fill the nonce
            // without posting the checkpoint again.
            let cancel = cancel
                || (last.is_some()
                    && attested_at(&provider, attestations, submission.root)
                        .await
                        .is_ok_and(|b| b != 0));
            let estimate = provider
                .estimate_eip1559_fees()
                .await
                .map_err(|e| format!("cannot estimate fees: {e}"))?;
            let (max_fee, priority_fee) = match &last {
                Some(last) if !bump => (last.max_fee_per_gas, last.max_priority_fee_per_gas),
                Some(last) => (
                    (last.max_fee_per_gas * (100 + percent) / 100).max(estimate.max_fee_per_gas),
                    (last.max_priority_fee_per_gas * (100 + percent) / 100)
                        .max(estimate.max_priority_fee_per_gas),
                ),
                None => (estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas),
            };
            let max_fee = max_fee.min(cap);
            let priority_fee = priority_fee.min(max_fee);
            let request = if cancel {
                TransactionRequest::default()
                    .with_to(address)
                    .with_value(U256::ZERO)
                    .with_gas_limit(21_000)
            } else {
                TransactionRequest::default()
                    .with_to(submission.to)
                    .with_input(submission.calldata.clone())
                    .with_gas_limit(submission.gas_limit)
            }
            .with_from(address)
            .with_nonce(submission.nonce)
            .with_chain_id(chain_id)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);
            let envelope = request.build(&wallet).await.map_err(|e| format!("cannot sign: {e}"))?;
            let tx_hash = *envelope.tx_hash();
            let broadcast = Broadcast {
                tx_hash,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: priority_fee,
                sent_ms: now_ms(),
            };
            // Recorded before it leaves (store invariant 4).
            store
                .send(RecordBroadcast {
                    submission: submission.clone(),
                    broadcast: broadcast.clone(),
                })
                .await
                .map_err(|_| "the store is gone".to_owned())?
                .map_err(|e| e.to_string())?;
            let kind = match (&last, cancel) {
                (_, true) => "cancel",
                (None, _) => "first",
                (Some(_), _) if bump => "bump",
                _ => "resend",
            };
            metrics.transactions.get_or_create(&vec![("kind", kind.to_owned())]).inc();
            if let Err(e) = provider.send_raw_transaction(&envelope.encoded_2718()).await {
                // "already known", "nonce too low" (included meanwhile) and
                // underpriced replacements are settled by the next watch.
                let answer = l1.redact(&e.to_string());
                tracing::debug!(checkpoint = id, tx = %tx_hash, "broadcast answered: {answer}");
            }
            tracing::info!(checkpoint = id, tx = %tx_hash, nonce = submission.nonce, kind, max_fee, priority_fee, "L1 transaction broadcast");
            Ok::<_, String>((broadcast, cancel))
        };
        ctx.spawn(work.into_actor(self).map(move |sent, act, _| {
            act.busy.remove(&id);
            let Some(flight) = act.in_flight.get_mut(&id) else { return };
            match sent {
                Ok((broadcast, cancel)) => {
                    let first = flight.submission.broadcasts.is_empty();
                    if !flight.submission.broadcasts.contains(&broadcast) {
                        flight.submission.broadcasts.push(broadcast.clone());
                    }
                    flight.last_sent = Some(Instant::now());
                    flight.cancel = cancel;
                    if first {
                        act.outcomes.do_send(SubmissionOutcome::Sent {
                            checkpoint_id: id,
                            tx: broadcast.tx_hash,
                        });
                    }
                }
                Err(e) => {
                    let problem = act.l1.redact(&e);
                    tracing::warn!(checkpoint = id, "cannot broadcast yet: {problem}");
                    flight.last_sent = None;
                }
            }
        }));
    }
}

/// Ask for the submitter's address.
#[derive(Debug, Message)]
#[rtype(result = "Address")]
pub struct SubmitterAddress;

impl Handler<SubmitterAddress> for Submitter {
    type Result = MessageResult<SubmitterAddress>;
    fn handle(&mut self, _: SubmitterAddress, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.address)
    }
}
