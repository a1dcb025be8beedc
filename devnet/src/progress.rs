//! Live progress: what the aggregator proposes and collects (its API) and
//! what L1 attests (events), as events the CLI prints one line each.

use std::{
    collections::HashSet,
    fmt,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
};
use chorus_wire::{AggregatorStatus, CheckpointState, CheckpointStatus, RollupStatus, routes};

use crate::checkpoints::{AttestedCheckpoint, attested_between};

/// How often the lag per rollup is reported.
const LAG_EVERY: Duration = Duration::from_secs(5);

/// One thing that happened on the devnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The aggregator proposed a checkpoint.
    Proposed {
        /// Its id at the aggregator.
        checkpoint_id: u64,
        /// The table version.
        table_version: u32,
        /// `(rollup id, L2 block)` of each commitment.
        blocks: Vec<(u64, u64)>,
    },
    /// A checkpoint reached its quorum.
    QuorumReached {
        /// Its id at the aggregator.
        checkpoint_id: u64,
        /// Weight that signed.
        signed_weight: U256,
        /// The table's total weight.
        total_weight: U256,
        /// How many operators signed.
        signers: usize,
    },
    /// A checkpoint is attested on L1.
    Attested(AttestedCheckpoint),
    /// How far each rollup's attested block trails its safe head.
    Lag(Vec<RollupStatus>),
    /// The aggregator's API does not answer (reported once until it does).
    AggregatorUnreachable(String),
    /// The aggregator's API answers again.
    AggregatorReachable,
}

impl fmt::Display for ProgressEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Proposed { checkpoint_id, table_version, blocks } => {
                write!(f, "proposed   checkpoint {checkpoint_id} (table v{table_version}):")?;
                for (rollup, block) in blocks {
                    write!(f, " {rollup}@{block}")?;
                }
                Ok(())
            }
            Self::QuorumReached { checkpoint_id, signed_weight, total_weight, signers } => {
                let percent = percent(*signed_weight, *total_weight);
                write!(
                    f,
                    "quorum     checkpoint {checkpoint_id}: {signers} signers, {percent} of the weight"
                )
            }
            Self::Attested(checkpoint) => {
                write!(
                    f,
                    "attested   root {} in L1 block {} (tx {}):",
                    short(&checkpoint.root.to_string()),
                    checkpoint.l1_block,
                    checkpoint.tx_hash
                )?;
                for commitment in &checkpoint.commitments {
                    write!(f, " {}@{}", commitment.rollupId, commitment.l2BlockNumber)?;
                }
                Ok(())
            }
            Self::Lag(rollups) => {
                f.write_str("lag       ")?;
                for rollup in rollups {
                    match rollup.lag {
                        Some(lag) => write!(f, " {}: {lag} blocks", rollup.rollup_id)?,
                        None => write!(f, " {}: not attested yet", rollup.rollup_id)?,
                    }
                }
                Ok(())
            }
            Self::AggregatorUnreachable(error) => write!(f, "aggregator not answering: {error}"),
            Self::AggregatorReachable => f.write_str("aggregator answering again"),
        }
    }
}

fn percent(part: U256, whole: U256) -> String {
    if whole.is_zero() {
        return "?%".to_owned();
    }
    let basis_points = part.saturating_mul(U256::from(10_000)) / whole;
    let basis_points: u64 = basis_points.try_into().unwrap_or(u64::MAX);
    format!("{}.{:02}%", basis_points / 100, basis_points % 100)
}

fn short(hex: &str) -> String {
    hex.chars().take(10).collect()
}

/// Turns the aggregator's API and the L1 into [`ProgressEvent`]s: call
/// [`ProgressMonitor::poll`] periodically; each call reports what is new.
#[derive(Debug)]
pub struct ProgressMonitor {
    client: reqwest::Client,
    aggregator_url: String,
    l1: DynProvider,
    attestations: Address,
    next_l1_block: u64,
    proposed: HashSet<u64>,
    quorum: HashSet<u64>,
    last_lag: Option<Instant>,
    aggregator_down: bool,
}

impl ProgressMonitor {
    /// Watches the aggregator at `aggregator_url` and the attestation
    /// contract on `l1`, reporting L1 attestations from `from_block` on.
    pub fn new(
        aggregator_url: String,
        l1: DynProvider,
        attestations: Address,
        from_block: u64,
    ) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            aggregator_url,
            l1,
            attestations,
            next_l1_block: from_block,
            proposed: HashSet::new(),
            quorum: HashSet::new(),
            last_lag: None,
            aggregator_down: false,
        }
    }

    /// What happened since the last call, oldest first.
    pub async fn poll(&mut self) -> Vec<ProgressEvent> {
        let mut events = Vec::new();
        match self.get::<Vec<CheckpointStatus>>(routes::CHECKPOINTS).await {
            Ok(checkpoints) => {
                if std::mem::take(&mut self.aggregator_down) {
                    events.push(ProgressEvent::AggregatorReachable);
                }
                // The API lists newest first.
                for checkpoint in checkpoints.iter().rev() {
                    self.checkpoint_events(checkpoint, &mut events);
                }
            }
            Err(error) => {
                if !self.aggregator_down {
                    self.aggregator_down = true;
                    events.push(ProgressEvent::AggregatorUnreachable(error));
                }
            }
        }
        events.extend(self.attested_events().await);
        let lag_due = self.last_lag.is_none_or(|at| at.elapsed() >= LAG_EVERY);
        if lag_due
            && !self.aggregator_down
            && let Ok(status) = self.get::<AggregatorStatus>(routes::STATUS).await
        {
            self.last_lag = Some(Instant::now());
            events.push(ProgressEvent::Lag(status.rollups));
        }
        events
    }

    fn checkpoint_events(
        &mut self,
        checkpoint: &CheckpointStatus,
        events: &mut Vec<ProgressEvent>,
    ) {
        let proposal = &checkpoint.proposal;
        let id = proposal.checkpoint_id;
        if self.proposed.insert(id) {
            events.push(ProgressEvent::Proposed {
                checkpoint_id: id,
                table_version: proposal.table_version,
                blocks: proposal
                    .commitments
                    .iter()
                    .map(|c| (c.rollupId, c.l2BlockNumber))
                    .collect(),
            });
        }
        let reached =
            matches!(checkpoint.state, CheckpointState::Submitting | CheckpointState::Attested)
                || (!checkpoint.needed_weight.is_zero()
                    && checkpoint.signed_weight >= checkpoint.needed_weight);
        if reached && self.quorum.insert(id) {
            events.push(ProgressEvent::QuorumReached {
                checkpoint_id: id,
                signed_weight: checkpoint.signed_weight,
                total_weight: checkpoint.total_weight,
                signers: checkpoint.signers.len(),
            });
        }
    }

    async fn attested_events(&mut self) -> Vec<ProgressEvent> {
        let Ok(latest) = self.l1.get_block_number().await else {
            return Vec::new();
        };
        match attested_between(&self.l1, self.attestations, self.next_l1_block, latest).await {
            Ok(attested) => {
                self.next_l1_block = latest + 1;
                attested.into_iter().map(ProgressEvent::Attested).collect()
            }
            Err(_) => Vec::new(),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, route: &str) -> Result<T, String> {
        let url = format!("{}{route}", self.aggregator_url);
        let response = self.client.get(&url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        response.json().await.map_err(|e| format!("{url}: {e}"))
    }
}
