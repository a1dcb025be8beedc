//! `Proposer`: reads every rollup's safe head through the aggregator's own
//! node and proposes checkpoints.
//!
//! Every `proposer.interval_ms` it reads each rollup (a rollup whose node is
//! down is left out and logged, never stopping the others) and proposes a
//! checkpoint of the latest heads under the latest table version when
//!
//! - some rollup advanced past what the checkpoints not superseded cover, and
//! - no checkpoint is open, or the open one is older than
//!   `proposal_timeout_secs` without quorum (it is then superseded).
//!
//! When operators' rejections make the open checkpoint's quorum unreachable
//! ([`QuorumUnreachable`]), it re-proposes at once without the refused
//! commitments, and never proposes those exact commitments again (a rollup
//! comes back in once its head moves on).
//!
//! One checkpoint is collected at a time, but a checkpoint waiting for L1
//! inclusion does not hold up the next proposal: submission is pipelined.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use actix::prelude::*;
use chorus_contracts::Commitment;
use chorus_deploy::rpc_url;
use chorus_rollup::{RollupConfig, RollupError, RollupReader};
use chorus_telemetry::RpcMetrics;
use futures::future::join_all;

use super::{
    checkpoints::{Checkpoints, GetProposerView, Propose, ProposerView, QuorumUnreachable},
    metrics::Metrics,
    table::{LatestSigners, OperatorTable},
};

/// Longest wait for one rollup node's answer.
const NODE_TIMEOUT: Duration = Duration::from_secs(3);

/// Reads rollups and proposes checkpoints (see the [module docs](self)).
pub struct Proposer {
    rollups: Vec<RollupConfig>,
    readers: HashMap<u64, RollupReader>,
    heads: HashMap<u64, Option<u64>>,
    down: HashSet<u64>,
    contested: Vec<Commitment>,
    checkpoints: Addr<Checkpoints>,
    table: Addr<OperatorTable>,
    metrics: Metrics,
    interval: Duration,
    timeout_ms: u64,
    busy: bool,
    /// Whether "no operator table" was logged since the last proposal.
    warned_no_table: bool,
}

impl Proposer {
    /// A proposer of `rollups`.
    pub fn new(
        rollups: Vec<RollupConfig>,
        checkpoints: Addr<Checkpoints>,
        table: Addr<OperatorTable>,
        metrics: Metrics,
        interval: Duration,
        timeout: Duration,
    ) -> Self {
        Self {
            heads: rollups.iter().map(|r| (r.id, None)).collect(),
            rollups,
            readers: HashMap::new(),
            down: HashSet::new(),
            contested: Vec::new(),
            checkpoints,
            table,
            metrics,
            interval,
            timeout_ms: timeout.as_millis() as u64,
            busy: false,
            warned_no_table: false,
        }
    }
}

impl Actor for Proposer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.interval, |_, ctx| ctx.notify(Tick { supersede: None }));
    }
}

/// What to propose, if anything: the pure rule of the [module docs](self).
///
/// `supersede` names an open checkpoint whose quorum is unreachable: it is
/// replaced at once (if the candidates differ from it).
pub fn decide(
    heads: &[Commitment],
    contested: &[Commitment],
    view: &ProposerView,
    timeout_ms: u64,
    supersede: Option<u64>,
) -> Option<Vec<Commitment>> {
    let mut candidates: Vec<Commitment> =
        heads.iter().filter(|c| !contested.contains(c)).cloned().collect();
    candidates.sort_by_key(|c| c.rollupId);
    candidates.dedup_by_key(|c| c.rollupId);
    if candidates.is_empty() {
        return None;
    }
    let advanced = candidates
        .iter()
        .any(|c| view.covered.get(&c.rollupId).is_none_or(|covered| c.l2BlockNumber > *covered));
    match &view.open {
        None => advanced.then_some(candidates),
        Some((id, _, open)) if supersede == Some(*id) => {
            (*open != candidates).then_some(candidates)
        }
        Some((_, age_ms, _)) => (advanced && *age_ms >= timeout_ms).then_some(candidates),
    }
}

/// Read the rollups and propose if due.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Tick {
    supersede: Option<u64>,
}

/// What one round of reading found.
struct Round {
    heads: Vec<(u64, Result<Commitment, String>)>,
    connected: Vec<RollupReader>,
}

/// `error` for the log, without the node's URL (it may hold an API key).
fn redacted(error: &RollupError, config: &RollupConfig) -> String {
    rpc_url::redact(&error.to_string(), &config.rpc_url)
}

/// Every rollup's safe head; nodes not yet connected are connected with
/// their requests counted in `rpc`.
async fn read_rollups(
    rollups: Vec<RollupConfig>,
    readers: HashMap<u64, RollupReader>,
    rpc: RpcMetrics,
) -> Round {
    let reads = rollups.into_iter().map(|config| {
        let reader = readers.get(&config.id).cloned();
        let rpc = rpc.clone();
        async move {
            let reader = match reader {
                Some(reader) => reader,
                None => {
                    match tokio::time::timeout(NODE_TIMEOUT, config.connect_counted(&rpc)).await {
                        Ok(Ok(reader)) => reader,
                        Ok(Err(e)) => return (config.id, Err(redacted(&e, &config)), None),
                        Err(_) => {
                            return (
                                config.id,
                                Err("the node did not answer in time".into()),
                                None,
                            );
                        }
                    }
                }
            };
            let head = match tokio::time::timeout(NODE_TIMEOUT, reader.safe_head()).await {
                Ok(Ok(head)) => Ok(head),
                Ok(Err(e)) => Err(redacted(&e, &config)),
                Err(_) => Err("the node did not answer in time".into()),
            };
            (config.id, head, Some(reader))
        }
    });
    let mut round = Round { heads: Vec::new(), connected: Vec::new() };
    for (id, head, reader) in join_all(reads).await {
        round.heads.push((id, head));
        round.connected.extend(reader);
    }
    round
}

impl Handler<Tick> for Proposer {
    type Result = ();

    fn handle(&mut self, msg: Tick, ctx: &mut Context<Self>) {
        if self.busy {
            if msg.supersede.is_some() {
                // Retry right after the round in progress.
                ctx.notify_later(msg, Duration::from_millis(50));
            }
            return;
        }
        self.busy = true;
        let (checkpoints, table) = (self.checkpoints.clone(), self.table.clone());
        let reading =
            read_rollups(self.rollups.clone(), self.readers.clone(), self.metrics.rpc.clone());
        let work = async move {
            let round = reading.await;
            let view = checkpoints.send(GetProposerView).await.ok();
            let signers = table.send(LatestSigners).await.ok().flatten();
            (round, (view, signers))
        };
        let supersede = msg.supersede;
        ctx.spawn(work.into_actor(self).map(move |(round, (view, signers)), act, ctx| {
            act.busy = false;
            let heads = act.apply_round(round);
            let Some(view) = view else { return };
            act.update_lag(&view);
            let Some(signers) = signers else {
                if !std::mem::replace(&mut act.warned_no_table, true) {
                    tracing::warn!("no operator table yet: nothing can be proposed until the registry publishes one");
                }
                return;
            };
            act.warned_no_table = false;
            let mut contested = act.contested.clone();
            contested.extend(view.refused.iter().cloned());
            let Some(commitments) = decide(&heads, &contested, &view, act.timeout_ms, supersede)
            else {
                return;
            };
            act.busy = true;
            let propose = act.checkpoints.send(Propose { commitments, signers });
            ctx.spawn(propose.into_actor(act).map(|result, act, _| {
                act.busy = false;
                match result {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("cannot propose a checkpoint: {e}"),
                    Err(_) => tracing::debug!("checkpoints actor stopped"),
                }
            }));
        }));
    }
}

impl Proposer {
    /// Keeps the readers that connected, logs rollups going down or coming
    /// back, and answers the heads read.
    fn apply_round(&mut self, round: Round) -> Vec<Commitment> {
        for reader in round.connected {
            self.readers.insert(reader.rollup_id(), reader);
        }
        let mut heads = Vec::new();
        for (id, head) in round.heads {
            match head {
                Ok(head) => {
                    if self.down.remove(&id) {
                        tracing::info!(
                            rollup = id,
                            "rollup node answers again; proposing it again"
                        );
                    }
                    self.heads.insert(id, Some(head.l2BlockNumber));
                    heads.push(head);
                }
                Err(reason) => {
                    if self.down.insert(id) {
                        tracing::warn!(rollup = id, %reason, "rollup node cannot be read; leaving the rollup out of proposals");
                    }
                    self.heads.insert(id, None);
                }
            }
        }
        // Forget contested commitments the heads moved past.
        let current: HashMap<u64, u64> =
            heads.iter().map(|c| (c.rollupId, c.l2BlockNumber)).collect();
        self.contested
            .retain(|c| current.get(&c.rollupId).is_none_or(|head| *head <= c.l2BlockNumber));
        heads
    }

    fn update_lag(&self, view: &ProposerView) {
        for (rollup, head) in &self.heads {
            if let Some(head) = head {
                let attested = view.attested.get(rollup).copied().unwrap_or(0);
                let lag = head.saturating_sub(attested);
                self.metrics
                    .rollup_lag
                    .get_or_create(&vec![("rollup", rollup.to_string())])
                    .set(i64::try_from(lag).unwrap_or(i64::MAX));
            }
        }
    }
}

impl Handler<QuorumUnreachable> for Proposer {
    type Result = ();
    fn handle(&mut self, msg: QuorumUnreachable, ctx: &mut Context<Self>) {
        for commitment in msg.contested {
            if !self.contested.contains(&commitment) {
                self.contested.push(commitment);
            }
        }
        ctx.notify(Tick { supersede: Some(msg.checkpoint_id) });
    }
}

/// Ask for each rollup's last safe head read (`None` while its node is
/// down), in configuration order.
#[derive(Debug, Message)]
#[rtype(result = "Vec<(u64, Option<u64>)>")]
pub struct RollupHeads;

impl Handler<RollupHeads> for Proposer {
    type Result = MessageResult<RollupHeads>;
    fn handle(&mut self, _: RollupHeads, _: &mut Context<Self>) -> Self::Result {
        MessageResult(
            self.rollups.iter().map(|r| (r.id, self.heads.get(&r.id).copied().flatten())).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;

    fn head(rollup: u64, height: u64) -> Commitment {
        Commitment {
            rollupId: rollup,
            l2BlockNumber: height,
            l2BlockHash: B256::repeat_byte(height as u8),
            stateRoot: B256::repeat_byte(1),
        }
    }

    #[test]
    fn proposes_when_a_rollup_advanced_and_nothing_fresh_is_open() {
        let heads = [head(902, 5), head(901, 7)];
        let mut view = ProposerView::default();
        let proposed = decide(&heads, &[], &view, 12_000, None).unwrap();
        assert_eq!(proposed, vec![head(901, 7), head(902, 5)], "sorted by rollup");
        view.covered = [(901, 7), (902, 5)].into();
        assert_eq!(decide(&heads, &[], &view, 12_000, None), None, "nothing advanced");
        view.covered.insert(901, 6);
        view.open = Some((3, 1_000, vec![head(901, 6), head(902, 5)]));
        assert_eq!(decide(&heads, &[], &view, 12_000, None), None, "open one still fresh");
        view.open = Some((3, 13_000, vec![head(901, 6), head(902, 5)]));
        assert!(decide(&heads, &[], &view, 12_000, None).is_some(), "stale one superseded");
    }

    #[test]
    fn an_unreachable_quorum_is_replaced_at_once_without_contested_commitments() {
        let heads = [head(901, 7), head(902, 5)];
        let view = ProposerView {
            open: Some((3, 10, heads.to_vec())),
            covered: [(901, 7), (902, 5)].into(),
            ..ProposerView::default()
        };
        let contested = [head(902, 5)];
        assert_eq!(decide(&heads, &contested, &view, 12_000, Some(3)), Some(vec![head(901, 7)]));
        // Everything contested: nothing to propose.
        assert_eq!(decide(&heads, &heads, &view, 12_000, Some(3)), None);
    }
}
