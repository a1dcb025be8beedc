//! [`AggregatorLink`]: one aggregator, pulled for proposals and answered.
//!
//! The link long-polls [`routes::NEXT_PROPOSAL`] and answers each proposal:
//!
//! 1. It drops (logs, counts, does not answer) a proposal of another
//!    deployment, or one that is malformed: more than
//!    [`MAX_COMMITMENTS`](super::proposal::MAX_COMMITMENTS) commitments, none, two for one rollup, not sorted,
//!    or a `commitmentsRoot` that is not the root of its commitments (the
//!    pure functions of [`super::proposal`]).
//! 2. It asks the [`ChainWatcher`](super::chain_watcher::ChainWatcher)
//!    whether the table version may be signed; if not it does not answer
//!    (the watcher logs why, once). When the watcher cannot tell yet (L1 not
//!    read since start, a version not seen yet) the proposal is asked for
//!    again after [`NOT_READY_PAUSE`] rather than passed over.
//! 3. It has each commitment judged by its rollup's
//!    [`RollupWatcher`](super::rollup_watcher::RollupWatcher), re-judging one
//!    that is not yet safe for up to [`NOT_YET_SAFE_PATIENCE`] (the
//!    aggregator may be a block ahead of this operator's node).
//! 4. If all match it has the [`Signer`](super::signer::Signer) sign the
//!    checkpoint it built itself (slashing protection first) and posts the
//!    [`SignedCheckpoint`]; otherwise it posts a signed [`Rejection`] naming
//!    each refused commitment and why.
//!
//! What an aggregator sends is bounded: at most [`MAX_RESPONSE_BYTES`] are
//! read of any answer, so a malicious aggregator can neither exhaust memory
//! nor make the node panic. Errors back off exponentially up to
//! [`MAX_BACKOFF`], and an outage is logged once when it starts and once
//! when it ends. An answer that failed to arrive (the aggregator died or
//! failed while taking it) is made again once the aggregator is back, if
//! the proposal is still open: otherwise a checkpoint whose answers all died
//! with an aggregator would wait out its proposal timeout. Links are
//! independent: with several aggregators, slashing protection makes signing
//! the same checkpoint for each harmless.

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Recipient, ResponseFuture,
    SpawnHandle, WrapFuture,
};
use alloy::primitives::{Address, Bytes};
use chorus_contracts::Commitment;
use chorus_deploy::rpc_url;
use chorus_wire::{
    Domain, Proposal, RejectReason, RejectedCommitment, Rejection, SignedCheckpoint,
    client::{BodyError, read_bounded},
    routes,
};
use futures::channel::oneshot;
use serde::Serialize;
use tokio::time::Instant;

use super::proposal::{self, ProposalError};
use super::{
    chain_watcher::MaySign,
    metrics::Metrics,
    rollup_watcher::JudgeCommitment,
    service::{Condition, GetServiceStatus, ServiceInfo, Shutdown},
    signer::{SignCheckpoint, SignRejection},
};
use crate::protection::CheckpointToSign;

/// The most bytes read of any aggregator answer.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Seconds the aggregator is asked to hold a long poll.
const LONG_POLL_SECS: u64 = 20;
/// Time allowed for anything but a long poll.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a commitment beyond the safe head is re-judged before it is
/// rejected as not yet safe.
pub(crate) const NOT_YET_SAFE_PATIENCE: Duration = Duration::from_secs(2);
/// Pause between two judgements of a commitment not yet safe.
const REJUDGE_INTERVAL: Duration = Duration::from_millis(250);
/// First pause after an error; doubled at each further error.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest pause between retries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Least time between two polls, so that an aggregator answering at once
/// (not holding the poll) cannot make the node spin.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Pause before a proposal the registry check could not judge yet (L1 not
/// read since start, a table version not seen yet) is asked for again.
const NOT_READY_PAUSE: Duration = Duration::from_secs(1);

/// What a link needs besides its own state: the actors it asks and who it
/// answers as. Shared by the link and the futures it runs.
pub(crate) struct LinkPeers {
    /// The signing operator.
    pub(crate) operator: Address,
    /// The deployment this node signs for.
    pub(crate) domain: Domain,
    /// The judge of each configured rollup, by rollup id.
    pub(crate) judges: HashMap<u64, Recipient<JudgeCommitment>>,
    /// The registry check.
    pub(crate) chain: Recipient<MaySign>,
    /// The signer, for checkpoints.
    pub(crate) sign_checkpoint: Recipient<SignCheckpoint>,
    /// The signer, for rejections.
    pub(crate) sign_rejection: Recipient<SignRejection>,
    /// Metrics.
    pub(crate) metrics: Arc<Metrics>,
}

/// Why talking to the aggregator failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinkError {
    /// No answer (refused, reset, timed out).
    #[error("no answer: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// An answer with an error status.
    #[error("it answered {status}: {body}")]
    Status {
        /// The status.
        status: reqwest::StatusCode,
        /// The start of its body (its `ApiError`, normally).
        body: String,
    },
    /// An answer larger than [`MAX_RESPONSE_BYTES`].
    #[error("its answer exceeds {MAX_RESPONSE_BYTES} bytes; not read")]
    TooLarge,
    /// An answer that is not a proposal, or one with more than
    /// [`MAX_COMMITMENTS`](super::proposal::MAX_COMMITMENTS) commitments.
    #[error(transparent)]
    Proposal(#[from] ProposalError),
    /// An actor of this node stopped (the node is shutting down).
    #[error("the node is stopping")]
    Stopping,
}

/// HTTP access to one aggregator.
#[derive(Clone)]
struct AggregatorClient {
    base: String,
    /// The base URL as [`rpc_url::shown`] shows it, for logs, metrics and
    /// the API.
    shown: String,
    http: reqwest::Client,
}

impl AggregatorClient {
    fn url(&self, route: &str) -> String {
        format!("{}{route}", self.base)
    }

    /// The next proposal after `after` (any open one before the first), or
    /// `None` when the long poll ended without one.
    async fn next_proposal(&self, after: Option<u64>) -> Result<Option<Proposal>, LinkError> {
        let mut request = self
            .http
            .get(self.url(routes::NEXT_PROPOSAL))
            .query(&[("wait", LONG_POLL_SECS)])
            .timeout(Duration::from_secs(LONG_POLL_SECS) + REQUEST_TIMEOUT);
        if let Some(after) = after {
            request = request.query(&[("after", after)]);
        }
        let response = request.send().await.map_err(unreachable)?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body = checked_body(response).await?;
        Ok(Some(proposal::decode(&body)?))
    }

    /// Posts `body` to `route`.
    async fn post<T: Serialize>(&self, route: &str, body: &T) -> Result<(), LinkError> {
        let response = self
            .http
            .post(self.url(route))
            .json(body)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        checked_body(response).await.map(drop)
    }
}

/// A refusal that says "not now" rather than "not this": the same answer
/// may be taken later.
fn worth_retrying(status: reqwest::StatusCode) -> bool {
    matches!(status, reqwest::StatusCode::TOO_MANY_REQUESTS | reqwest::StatusCode::REQUEST_TIMEOUT)
}

/// A transport error, without the URL it quotes (it may hold credentials;
/// logs name the aggregator separately).
fn unreachable(error: reqwest::Error) -> LinkError {
    LinkError::Unreachable(error.without_url())
}

/// The body of a successful answer, read up to [`MAX_RESPONSE_BYTES`]; an
/// error status becomes [`LinkError::Status`] with the body's start.
async fn checked_body(response: reqwest::Response) -> Result<Vec<u8>, LinkError> {
    let status = response.status();
    let body = bounded_body(response).await;
    if status.is_success() {
        return body;
    }
    let body = match body {
        // The start of it, without control characters: it goes to the log.
        Ok(bytes) => String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
            .chars()
            .filter(|c| !c.is_control())
            .collect(),
        Err(error) => error.to_string(),
    };
    Err(LinkError::Status { status, body })
}

async fn bounded_body(response: reqwest::Response) -> Result<Vec<u8>, LinkError> {
    read_bounded(response, MAX_RESPONSE_BYTES).await.map_err(|error| match error {
        BodyError::TooLarge { .. } => LinkError::TooLarge,
        BodyError::Transport(error) => unreachable(error),
    })
}

/// How a proposal was dealt with, when the aggregator could be talked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    /// Answered (signed or rejected), or dropped for good (malformed, of
    /// another deployment, refused by the registry or by protection).
    Done,
    /// Not answered for a reason that passes ([`SigningRefused::is_transient`]):
    /// ask for it again.
    ///
    /// [`SigningRefused::is_transient`]: super::chain_watcher::SigningRefused::is_transient
    Later,
}

/// Answers one proposal (see the [module docs](self)). Errors are failures
/// to talk to the aggregator; every other outcome is logged and counted
/// here. `repeat`: the same proposal was asked about just before (log
/// quietly what was logged then).
async fn answer(
    client: AggregatorClient,
    peers: Arc<LinkPeers>,
    proposal: Proposal,
    repeat: bool,
) -> Result<Answered, LinkError> {
    let id = proposal.checkpoint_id;
    let Some(checkpoint) = well_formed(&peers, &client.shown, &proposal) else {
        return Ok(Answered::Done);
    };
    let table_version = proposal.table_version;
    match peers.chain.send(MaySign { table_version }).await {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => {
            // The chain watcher logs the operator's standing when it
            // changes; a version-specific refusal is this proposal's alone.
            if repeat {
                tracing::debug!(checkpoint = id, aggregator = %client.shown, "still not signing: {refusal}");
            } else {
                tracing::info!(checkpoint = id, aggregator = %client.shown, "not signing: {refusal}");
            }
            let transient = refusal.is_transient();
            return Ok(if transient { Answered::Later } else { Answered::Done });
        }
        Err(_) => return Err(LinkError::Stopping),
    }
    let rejected = judge_all(&peers, &proposal.commitments).await;
    if !rejected.is_empty() {
        return reject(&client, &peers, &proposal, rejected).await.map(|()| Answered::Done);
    }
    let root = checkpoint.commitments_root();
    let signature = match peers.sign_checkpoint.send(SignCheckpoint(checkpoint)).await {
        Ok(Ok(signature)) => signature,
        Ok(Err(not_safe)) => {
            peers.metrics.refused_by_signer(&not_safe);
            tracing::error!(checkpoint = id, aggregator = %client.shown, "{not_safe}");
            return Ok(Answered::Done);
        }
        Err(_) => return Err(LinkError::Stopping),
    };
    let signed = SignedCheckpoint {
        checkpoint_id: id,
        operator: peers.operator,
        table_version,
        commitments_root: root,
        signature: Bytes::copy_from_slice(&signature.to_bytes()),
    };
    peers.metrics.checkpoints_signed.inc();
    tracing::info!(checkpoint = id, table_version, %root, aggregator = %client.shown, "checkpoint signed");
    deliver(&client, &peers, routes::SIGNATURES, &signed, id).await.map(|()| Answered::Done)
}

/// Posts an answer. An aggregator refusing it (`4xx`: the checkpoint was
/// superseded or attested meanwhile, or it does not know this operator) is
/// logged and counted, but is no outage: only no answer or a `5xx` is, and
/// `429` (too many requests) or `408` (too slow), after which the answer is
/// worth sending again: the link backs off and answers the proposal anew.
async fn deliver<T: Serialize>(
    client: &AggregatorClient,
    peers: &LinkPeers,
    route: &str,
    answer: &T,
    checkpoint: u64,
) -> Result<(), LinkError> {
    match client.post(route, answer).await {
        Err(LinkError::Status { status, body })
            if status.is_client_error() && !worth_retrying(status) =>
        {
            peers.metrics.answer_refused(status.as_u16());
            let aggregator = &client.shown;
            if status == reqwest::StatusCode::CONFLICT {
                tracing::info!(checkpoint, %aggregator, "answer not needed any more: {body}");
            } else {
                tracing::warn!(checkpoint, %aggregator, %status, "aggregator refused the answer: {body}");
            }
            Ok(())
        }
        other => other,
    }
}

/// The checkpoint to sign, if the proposal is of our deployment and well
/// formed; otherwise logs and counts why not.
fn well_formed(
    peers: &LinkPeers,
    aggregator: &str,
    proposal: &Proposal,
) -> Option<CheckpointToSign> {
    proposal::checkpoint_to_sign(&peers.domain, proposal)
        .inspect_err(|unsignable| {
            peers.metrics.ignored(unsignable.reason());
            let id = proposal.checkpoint_id;
            tracing::warn!(checkpoint = id, aggregator, "ignoring proposal: {unsignable}");
        })
        .ok()
}

/// Every commitment the operator's nodes do not vouch for, with why.
async fn judge_all(peers: &LinkPeers, commitments: &[Commitment]) -> Vec<RejectedCommitment> {
    let verdicts = futures::future::join_all(
        commitments.iter().map(|commitment| judge_patiently(peers, commitment)),
    )
    .await;
    commitments
        .iter()
        .zip(verdicts)
        .filter_map(|(commitment, verdict)| {
            verdict
                .err()
                .map(|reason| RejectedCommitment { commitment: commitment.clone(), reason })
        })
        .collect()
}

/// Judges one commitment, re-judging while it is not yet safe, up to
/// [`NOT_YET_SAFE_PATIENCE`].
async fn judge_patiently(peers: &LinkPeers, commitment: &Commitment) -> Result<(), RejectReason> {
    let Some(judge) = peers.judges.get(&commitment.rollupId) else {
        return Err(RejectReason::UnknownRollup);
    };
    let deadline = Instant::now() + NOT_YET_SAFE_PATIENCE;
    loop {
        let verdict = judge.send(JudgeCommitment(commitment.clone())).await.unwrap_or_else(|_| {
            Err(RejectReason::Unavailable { detail: "the rollup watcher stopped".to_owned() })
        });
        match verdict {
            Err(RejectReason::NotYetSafe { .. })
                if Instant::now() + REJUDGE_INTERVAL < deadline =>
            {
                tokio::time::sleep(REJUDGE_INTERVAL).await;
            }
            verdict => return verdict,
        }
    }
}

async fn reject(
    client: &AggregatorClient,
    peers: &LinkPeers,
    proposal: &Proposal,
    rejected: Vec<RejectedCommitment>,
) -> Result<(), LinkError> {
    let id = proposal.checkpoint_id;
    for refused in &rejected {
        let commitment = &refused.commitment;
        let (label, what) = match &refused.reason {
            RejectReason::Mismatch { ours } => (
                "mismatch",
                format!(
                    "our node has block hash {} state root {}, the proposal block hash {} state root {}",
                    ours.l2BlockHash, ours.stateRoot, commitment.l2BlockHash, commitment.stateRoot
                ),
            ),
            RejectReason::NotYetSafe { safe_head } => {
                ("not_yet_safe", format!("our safe head is {safe_head}"))
            }
            RejectReason::UnknownRollup => {
                ("unknown_rollup", "this node does not watch that rollup".to_owned())
            }
            RejectReason::Unavailable { detail } => ("unavailable", detail.clone()),
        };
        peers.metrics.rejected(label);
        let (rollup, block) = (commitment.rollupId, commitment.l2BlockNumber);
        if refused.reason.is_divergence() {
            tracing::warn!(
                checkpoint = id,
                rollup,
                block,
                "rejecting a divergent commitment: {what}"
            );
        } else {
            tracing::info!(
                checkpoint = id,
                rollup,
                block,
                reason = label,
                "rejecting a commitment: {what}"
            );
        }
    }
    let signature = peers
        .sign_rejection
        .send(SignRejection {
            checkpoint_id: id,
            table_version: proposal.table_version,
            commitments_root: proposal.commitments_root,
            rejected: rejected.clone(),
        })
        .await
        .map_err(|_| LinkError::Stopping)?;
    let rejection = Rejection {
        checkpoint_id: id,
        operator: peers.operator,
        table_version: proposal.table_version,
        commitments_root: proposal.commitments_root,
        rejected,
        signature: Bytes::copy_from_slice(&signature.to_bytes()),
    };
    deliver(client, peers, routes::REJECTIONS, &rejection, id).await
}

/// Follows one aggregator.
pub(crate) struct AggregatorLink {
    index: usize,
    client: AggregatorClient,
    peers: Arc<LinkPeers>,
    /// The last proposal answered.
    after: Option<u64>,
    condition: Condition,
    failures: u32,
    /// The poll in flight or the pause before the next one.
    pending: Option<SpawnHandle>,
    /// An answer is being made and posted.
    answering: bool,
    /// The last proposal left for later ([`Answered::Later`]): asked about
    /// again, it is logged quietly.
    not_ready: Option<u64>,
    /// A shutdown was asked.
    stopping: bool,
    /// Who waits for the answer in flight before the link stops.
    on_stopped: Vec<oneshot::Sender<()>>,
}

impl AggregatorLink {
    /// A link to the aggregator at `base_url`, the `index`-th configured.
    pub(crate) fn new(index: usize, base_url: &str, peers: Arc<LinkPeers>) -> Self {
        let client = AggregatorClient {
            base: base_url.trim_end_matches('/').to_owned(),
            shown: rpc_url::shown(base_url),
            http: reqwest::Client::new(),
        };
        Self {
            index,
            client,
            peers,
            after: None,
            condition: Condition::initializing(),
            failures: 0,
            pending: None,
            answering: false,
            not_ready: None,
            stopping: false,
            on_stopped: Vec::new(),
        }
    }

    /// The service id of the `index`-th aggregator in the node API.
    pub(crate) fn service_id(index: usize) -> String {
        format!("aggregator-{index}")
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        let client = self.client.clone();
        let after = self.after;
        let started = Instant::now();
        let work = async move { client.next_proposal(after).await };
        self.pending = Some(ctx.spawn(work.into_actor(self).map(move |result, link, ctx| {
            link.pending = None;
            link.on_poll(result, started, ctx);
        })));
    }

    fn on_poll(
        &mut self,
        result: Result<Option<Proposal>, LinkError>,
        started: Instant,
        ctx: &mut Context<Self>,
    ) {
        match result {
            Ok(None) => {
                self.reachable();
                self.poll_after(MIN_POLL_INTERVAL.saturating_sub(started.elapsed()), ctx);
            }
            Ok(Some(proposal)) => {
                self.reachable();
                self.peers.metrics.proposal_seen(&self.client.shown);
                let id = proposal.checkpoint_id;
                let previous = self.after;
                let again = previous == Some(id);
                self.after = Some(id);
                let repeat = again || self.not_ready == Some(id);
                let work = answer(self.client.clone(), self.peers.clone(), proposal, repeat);
                // Not cancelled by a shutdown (see its handler): a signature
                // made is always posted.
                self.answering = true;
                ctx.spawn(work.into_actor(self).map(move |result, link, ctx| {
                    link.answering = false;
                    if link.stopping {
                        for done in link.on_stopped.drain(..) {
                            let _ = done.send(());
                        }
                        ctx.stop();
                        return;
                    }
                    match result {
                        Ok(Answered::Done) => {
                            let pause = if again { MIN_POLL_INTERVAL } else { Duration::ZERO };
                            link.poll_after(pause, ctx);
                        }
                        // Not answered yet, so not passed over: the next
                        // poll gets it again while it is open.
                        Ok(Answered::Later) => {
                            link.after = previous;
                            link.not_ready = Some(id);
                            link.poll_after(NOT_READY_PAUSE, ctx);
                        }
                        // The answer may not have arrived (the aggregator
                        // died or failed while taking it): once it is back,
                        // answer again whatever is open, this proposal
                        // included. Signing it again is safe (slashing
                        // protection has it), and an answer it already had
                        // is a duplicate.
                        Err(error) => {
                            link.after = previous;
                            link.failed(error, ctx);
                        }
                    }
                }));
            }
            Err(error) => self.failed(error, ctx),
        }
    }

    fn poll_after(&mut self, pause: Duration, ctx: &mut Context<Self>) {
        if pause.is_zero() {
            self.poll(ctx);
        } else {
            self.pending = Some(ctx.run_later(pause, |link, ctx| link.poll(ctx)));
        }
    }

    fn reachable(&mut self) {
        if self.condition.up() && self.failures > 0 {
            tracing::info!(aggregator = %self.client.shown, "aggregator reachable again");
        }
        self.failures = 0;
    }

    fn failed(&mut self, error: LinkError, ctx: &mut Context<Self>) {
        if matches!(error, LinkError::Stopping) {
            return;
        }
        self.peers.metrics.aggregator_error(&self.client.shown);
        if self.condition.down(error.to_string()) {
            tracing::warn!(
                aggregator = %self.client.shown,
                %error,
                "aggregator request failed; retrying with backoff (up to {}s) and logging again once it answers",
                MAX_BACKOFF.as_secs()
            );
        } else {
            tracing::debug!(aggregator = %self.client.shown, %error, "aggregator request failed again");
        }
        self.failures = self.failures.saturating_add(1);
        self.poll_after(backoff(self.failures), ctx);
    }
}

/// The pause after `failures` errors in a row.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

impl Actor for AggregatorLink {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.poll(ctx);
    }
}

impl Handler<GetServiceStatus> for AggregatorLink {
    type Result = ServiceInfo;

    fn handle(&mut self, _: GetServiceStatus, _: &mut Context<Self>) -> ServiceInfo {
        let description = format!("proposals from the aggregator at {}", self.client.shown);
        ServiceInfo {
            id: Self::service_id(self.index),
            name: format!("aggregator {}", self.index),
            description: self.condition.describe(&description),
            status: self.condition.status(),
        }
    }
}

impl Handler<Shutdown> for AggregatorLink {
    type Result = ResponseFuture<()>;

    /// Drops the long poll in flight; an answer in flight is finished
    /// (posted) first, and the reply comes once it is.
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) -> Self::Result {
        self.stopping = true;
        if let Some(pending) = self.pending.take() {
            ctx.cancel_future(pending);
        }
        if !self.answering {
            ctx.stop();
            return Box::pin(async {});
        }
        let (done, finished) = oneshot::channel();
        self.on_stopped.push(done);
        // An error means the link is gone, which is what is waited for.
        Box::pin(async move { finished.await.unwrap_or(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), FIRST_BACKOFF);
        assert_eq!(backoff(2), FIRST_BACKOFF * 2);
        assert_eq!(backoff(3), FIRST_BACKOFF * 4);
        assert_eq!(backoff(100), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
