//! The liveness drill: stop some operators of a devnet for a while, start
//! them again, and report from L1 whether the quorum held while they were
//! down, how long checkpoints stalled, and how the aggregator recovered.
//!
//! Everything measured comes from L1 (the attestation contract's events,
//! block timestamps, the operator tables); only who signed a checkpoint
//! comes from the aggregator's API (`/v1/checkpoints`), with the signed
//! weight on L1 as the fallback when it does not know the checkpoint.

use std::{
    collections::HashMap,
    fmt,
    time::{Duration, Instant},
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
};
use chorus_contracts::{
    IChorusAttestations,
    table::{OperatorTable, fetch_table},
};
use chorus_devnet::{AttestedCheckpoint, Devnet, DevnetOptions, attested_between};
use chorus_wire::CheckpointStatus;
use serde::Serialize;

use crate::DrillError;

/// How often the drill reads L1 while it waits.
const POLL: Duration = Duration::from_millis(250);
/// How many of the aggregator's latest checkpoints the drill reads.
const STATUS_LIMIT: usize = 1000;

/// Which operators to stop, and for how long.
#[derive(Debug, Clone)]
pub struct OutagePlan {
    /// The operators to stop (devnet indexes).
    pub stop: Vec<usize>,
    /// How long they stay down.
    pub outage: Duration,
    /// How long to wait, before and after the outage, for a checkpoint
    /// signed by every operator.
    pub timeout: Duration,
}

/// What the drill saw.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessReport {
    /// How many operators the devnet runs.
    pub operators: usize,
    /// The operators stopped.
    pub stopped: Vec<StoppedOperator>,
    /// Their share of the table's weight, in basis points.
    pub stopped_weight_bps: u64,
    /// The quorum, in basis points of the table's weight.
    pub quorum_bps: u16,
    /// How long they were down (seconds).
    pub outage_secs: f64,
    /// The L1 blocks of the outage: after the stop, up to the restart.
    pub outage_blocks: [u64; 2],
    /// Whether checkpoints signed without the stopped operators were
    /// attested while they were down.
    pub quorum_held: bool,
    /// Every checkpoint attested on L1 while they were down.
    pub attested_during_outage: Vec<OutageCheckpoint>,
    /// The longest time without an attestation on L1, from the last one
    /// before the stop to the recovery.
    pub stall: Stall,
    /// How the aggregator recovered after the restart.
    pub recovery: Recovery,
}

/// An operator the drill stopped.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedOperator {
    /// Its devnet index.
    pub index: usize,
    /// Its address.
    pub address: Address,
}

/// A checkpoint attested while operators were down.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutageCheckpoint {
    /// Its commitments root.
    pub root: B256,
    /// The table version it was signed under.
    pub table_version: u32,
    /// The L1 block that included it.
    pub l1_block: u64,
    /// The weight that signed it.
    #[serde(serialize_with = "crate::decimal::u256")]
    pub signed_weight: U256,
    /// That weight in basis points of its table's total.
    pub signed_weight_bps: u64,
    /// Who signed it, as the aggregator reports (absent if it does not
    /// know the checkpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signers: Option<Vec<Address>>,
    /// Whether it was signed without any stopped operator (so it shows the
    /// quorum holding, rather than a checkpoint signed before the stop and
    /// included after).
    pub without_stopped: bool,
}

/// The longest gap between attestations.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stall {
    /// In seconds of L1 block time.
    pub longest_gap_secs: u64,
    /// In L1 blocks.
    pub longest_gap_blocks: u64,
    /// The L1 block it started at (the attestation before it, or the stop).
    pub from_block: u64,
    /// The L1 block it ended at (the attestation after it).
    pub to_block: u64,
}

/// The recovery after the restart.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recovery {
    /// Milliseconds from the restart to the first checkpoint attested
    /// after it.
    pub first_attested_ms: u64,
    /// Milliseconds from the restart to the first attested checkpoint
    /// signed by every operator.
    pub all_signing_ms: u64,
    /// L1 blocks from the restart to that checkpoint.
    pub all_signing_blocks: u64,
    /// That checkpoint's root.
    pub all_signing_root: B256,
}

/// Starts a devnet with `options`, runs the drill of `plan` on it, and
/// shuts it down. Must run inside an actix system (the nodes are actors).
pub async fn run_liveness_drill(
    options: DevnetOptions,
    plan: &OutagePlan,
) -> Result<LivenessReport, DrillError> {
    check_plan(plan, options.operators)?;
    let mut devnet = Devnet::start(options).await?;
    let report = drill_liveness(&mut devnet, plan).await;
    devnet.shutdown().await;
    report
}

fn check_plan(plan: &OutagePlan, operators: usize) -> Result<(), DrillError> {
    if plan.stop.is_empty() {
        return Err(DrillError::Options("name at least one operator to stop".into()));
    }
    if let Some(index) = plan.stop.iter().find(|index| **index >= operators) {
        return Err(DrillError::Options(format!(
            "there is no operator {index}: the devnet has {operators} (0 to {})",
            operators.saturating_sub(1)
        )));
    }
    let mut sorted = plan.stop.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != plan.stop.len() {
        return Err(DrillError::Options("an operator is named twice in the stop list".into()));
    }
    Ok(())
}

/// Runs the drill of `plan` on a running devnet: waits for a checkpoint
/// signed by everyone, stops the operators for `plan.outage`, starts them
/// again, and waits for a checkpoint signed by everyone again.
pub async fn drill_liveness(
    devnet: &mut Devnet,
    plan: &OutagePlan,
) -> Result<LivenessReport, DrillError> {
    check_plan(plan, devnet.operator_count())?;
    let l1 = devnet.l1().clone();
    let mut watch = Watch::new(devnet).await?;
    let stopped: Vec<StoppedOperator> = plan
        .stop
        .iter()
        .filter_map(|index| devnet.info().operators.get(*index))
        .map(|info| StoppedOperator { index: info.index, address: info.address })
        .collect();

    watch.wait_all_signing(0, plan.timeout).await?;
    let stop_block = block_number(&l1).await?;
    for index in &plan.stop {
        devnet.stop_operator(*index).await?;
    }
    let stopped_at = Instant::now();
    tracing::info!(operators = ?plan.stop, outage = ?plan.outage, "drill: operators stopped");
    // The outage itself is what the drill measures, not a synchronisation.
    tokio::time::sleep(plan.outage).await;
    let restart_block = block_number(&l1).await?;
    for index in &plan.stop {
        devnet.start_operator(*index).await?;
    }
    let outage_secs = stopped_at.elapsed().as_secs_f64();
    let restarted = Instant::now();
    tracing::info!("drill: operators started again");

    let first_attested_ms = watch.wait_any(restart_block, plan.timeout).await?;
    let recovered = watch.wait_all_signing(restart_block, plan.timeout).await?;
    let all_signing_ms = millis(restarted.elapsed());

    let outage = attested_between(&l1, watch.attestations, stop_block + 1, restart_block).await?;
    let statuses = watch.statuses().await;
    let addresses: Vec<Address> = stopped.iter().map(|s| s.address).collect();
    let mut attested_during_outage = Vec::new();
    for checkpoint in &outage {
        attested_during_outage.push(watch.describe(checkpoint, &statuses, &addresses).await?);
    }
    let stall = longest_stall(&l1, watch.attestations, stop_block, recovered.l1_block).await?;
    let latest = watch.table(recovered.table_version).await?;
    Ok(LivenessReport {
        operators: devnet.operator_count(),
        stopped_weight_bps: bps(weight_of(&latest, &addresses), latest.total_weight()),
        stopped,
        quorum_bps: watch.quorum_bps,
        outage_secs,
        outage_blocks: [stop_block + 1, restart_block],
        quorum_held: attested_during_outage.iter().any(|c| c.without_stopped),
        attested_during_outage,
        stall,
        recovery: Recovery {
            first_attested_ms,
            all_signing_ms,
            all_signing_blocks: recovered.l1_block.saturating_sub(restart_block),
            all_signing_root: recovered.root,
        },
    })
}

/// Reads the devnet's L1 and aggregator while the drill runs.
struct Watch {
    l1: DynProvider,
    registry: Address,
    attestations: Address,
    aggregator_url: String,
    quorum_bps: u16,
    tables: HashMap<u32, OperatorTable>,
}

impl Watch {
    async fn new(devnet: &Devnet) -> Result<Self, DrillError> {
        let deployment = devnet.deployment();
        let attestations = IChorusAttestations::new(deployment.chorus.attestations, devnet.l1());
        let quorum_bps = attestations
            .quorumBps()
            .call()
            .await
            .map_err(|e| DrillError::chain("reading the quorum", e))?;
        Ok(Self {
            l1: devnet.l1().clone(),
            registry: deployment.chorus.registry,
            attestations: deployment.chorus.attestations,
            aggregator_url: devnet.aggregator_url().to_owned(),
            quorum_bps,
            tables: HashMap::new(),
        })
    }

    /// Table `version`, read from L1 once.
    async fn table(&mut self, version: u32) -> Result<OperatorTable, DrillError> {
        if let Some(table) = self.tables.get(&version) {
            return Ok(table.clone());
        }
        let table = fetch_table(&self.l1, self.registry, version)
            .await
            .map_err(|e| DrillError::chain(format!("reading operator table {version}"), e))?;
        self.tables.insert(version, table.clone());
        Ok(table)
    }

    /// Whether every operator of its table signed `checkpoint`: all of
    /// them in the aggregate on L1, or, as the aggregator reports, by the
    /// time it was attested (it submits once the quorum is in, so late
    /// signatures count only there).
    async fn all_signed(
        &mut self,
        checkpoint: &AttestedCheckpoint,
        statuses: &[CheckpointStatus],
    ) -> Result<bool, DrillError> {
        let table = self.table(checkpoint.table_version).await?;
        if checkpoint.signed_weight == table.total_weight() {
            return Ok(true);
        }
        let Some(status) =
            statuses.iter().find(|status| status.proposal.commitments_root == checkpoint.root)
        else {
            return Ok(false);
        };
        Ok(table.entries().iter().all(|entry| status.signers.contains(&entry.operator)))
    }

    /// Waits for a checkpoint attested after L1 block `after` and returns
    /// the milliseconds waited.
    async fn wait_any(&self, after: u64, timeout: Duration) -> Result<u64, DrillError> {
        let started = Instant::now();
        loop {
            let latest = block_number(&self.l1).await?;
            let found = attested_between(&self.l1, self.attestations, after + 1, latest).await?;
            if !found.is_empty() {
                return Ok(millis(started.elapsed()));
            }
            self.check_deadline(started, timeout, "a checkpoint attested after the restart")?;
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for a checkpoint attested after L1 block `after` that every
    /// operator of its table signed (see [`Watch::all_signed`]).
    async fn wait_all_signing(
        &mut self,
        after: u64,
        timeout: Duration,
    ) -> Result<AttestedCheckpoint, DrillError> {
        let started = Instant::now();
        loop {
            let latest = block_number(&self.l1).await?;
            let attested = attested_between(&self.l1, self.attestations, after + 1, latest).await?;
            let statuses = if attested.is_empty() { Vec::new() } else { self.statuses().await };
            for checkpoint in attested {
                if self.all_signed(&checkpoint, &statuses).await? {
                    return Ok(checkpoint);
                }
            }
            self.check_deadline(started, timeout, "a checkpoint signed by every operator")?;
            tokio::time::sleep(POLL).await;
        }
    }

    fn check_deadline(
        &self,
        started: Instant,
        timeout: Duration,
        what: &str,
    ) -> Result<(), DrillError> {
        if started.elapsed() >= timeout {
            return Err(DrillError::Timeout {
                what: format!("{what} (see {}/v1/checkpoints)", self.aggregator_url),
                waited: started.elapsed(),
            });
        }
        Ok(())
    }

    /// The aggregator's latest checkpoints; empty if it does not answer
    /// (the drill then judges by weight alone).
    async fn statuses(&self) -> Vec<CheckpointStatus> {
        let url = format!(
            "{}{}?limit={STATUS_LIMIT}",
            self.aggregator_url,
            chorus_wire::routes::CHECKPOINTS
        );
        let response = match reqwest::get(&url).await {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(%error, "the aggregator's checkpoints are unavailable");
                return Vec::new();
            }
        };
        response.json().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "the aggregator's checkpoints do not parse");
            Vec::new()
        })
    }

    async fn describe(
        &mut self,
        checkpoint: &AttestedCheckpoint,
        statuses: &[CheckpointStatus],
        stopped: &[Address],
    ) -> Result<OutageCheckpoint, DrillError> {
        let table = self.table(checkpoint.table_version).await?;
        let signers = statuses
            .iter()
            .find(|status| status.proposal.commitments_root == checkpoint.root)
            .map(|status| status.signers.clone());
        let without_stopped = match &signers {
            Some(signers) => !signers.iter().any(|signer| stopped.contains(signer)),
            None => {
                checkpoint.signed_weight
                    <= table.total_weight().saturating_sub(weight_of(&table, stopped))
            }
        };
        Ok(OutageCheckpoint {
            root: checkpoint.root,
            table_version: checkpoint.table_version,
            l1_block: checkpoint.l1_block,
            signed_weight: checkpoint.signed_weight,
            signed_weight_bps: bps(checkpoint.signed_weight, table.total_weight()),
            signers,
            without_stopped,
        })
    }
}

/// The longest gap between attestations from the last one at or before
/// `stop_block` (or the stop itself) to `end_block`.
async fn longest_stall(
    l1: &DynProvider,
    attestations: Address,
    stop_block: u64,
    end_block: u64,
) -> Result<Stall, DrillError> {
    let before = attested_between(l1, attestations, 0, stop_block).await?;
    let anchor = before.last().map_or(stop_block, |c| c.l1_block);
    let after = attested_between(l1, attestations, stop_block + 1, end_block).await?;
    let mut blocks: Vec<u64> =
        std::iter::once(anchor).chain(after.iter().map(|c| c.l1_block)).collect();
    blocks.dedup();
    let (from_block, to_block) = blocks
        .windows(2)
        .map(|pair| (pair[0], pair[1]))
        .max_by_key(|(from, to)| to - from)
        .unwrap_or((anchor, anchor));
    let seconds = timestamp(l1, to_block).await?.saturating_sub(timestamp(l1, from_block).await?);
    Ok(Stall {
        longest_gap_secs: seconds,
        longest_gap_blocks: to_block - from_block,
        from_block,
        to_block,
    })
}

async fn block_number(l1: &DynProvider) -> Result<u64, DrillError> {
    l1.get_block_number().await.map_err(|e| DrillError::chain("reading the L1 block number", e))
}

async fn timestamp(l1: &DynProvider, number: u64) -> Result<u64, DrillError> {
    let what = || format!("reading L1 block {number}");
    let block = l1
        .get_block_by_number(BlockNumberOrTag::Number(number))
        .await
        .map_err(|e| DrillError::chain(what(), e))?
        .ok_or_else(|| DrillError::chain(what(), "the RPC does not have it"))?;
    Ok(block.header.timestamp)
}

fn weight_of(table: &OperatorTable, operators: &[Address]) -> U256 {
    table
        .entries()
        .iter()
        .filter(|entry| operators.contains(&entry.operator))
        .map(|entry| entry.weight)
        .sum()
}

fn bps(part: U256, total: U256) -> u64 {
    if total.is_zero() {
        return 0;
    }
    (part * U256::from(10_000u64) / total).saturating_to()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Display for LivenessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stopped: Vec<String> =
            self.stopped.iter().map(|s| format!("{} ({})", s.index, s.address)).collect();
        writeln!(f, "Liveness drill: {} operators", self.operators)?;
        writeln!(
            f,
            "  stopped         {} = {:.2}% of the weight (quorum {:.2}%), for {:.1} s (L1 blocks {}..={})",
            stopped.join(", "),
            self.stopped_weight_bps as f64 / 100.0,
            f64::from(self.quorum_bps) / 100.0,
            self.outage_secs,
            self.outage_blocks[0],
            self.outage_blocks[1]
        )?;
        let held: Vec<&OutageCheckpoint> =
            self.attested_during_outage.iter().filter(|c| c.without_stopped).collect();
        writeln!(
            f,
            "  quorum          {}: {} checkpoint(s) attested without them",
            if self.quorum_held { "HELD" } else { "LOST" },
            held.len()
        )?;
        for checkpoint in &self.attested_during_outage {
            writeln!(
                f,
                "    block {} root {} signed {:.2}%{}",
                checkpoint.l1_block,
                checkpoint.root,
                checkpoint.signed_weight_bps as f64 / 100.0,
                if checkpoint.without_stopped { "" } else { " (signed before the stop)" }
            )?;
        }
        writeln!(
            f,
            "  longest stall   {} s ({} L1 blocks, {} -> {})",
            self.stall.longest_gap_secs,
            self.stall.longest_gap_blocks,
            self.stall.from_block,
            self.stall.to_block
        )?;
        write!(
            f,
            "  recovery        first checkpoint {:.1} s after the restart; every operator signing \
             after {:.1} s ({} L1 blocks)",
            self.recovery.first_attested_ms as f64 / 1000.0,
            self.recovery.all_signing_ms as f64 / 1000.0,
            self.recovery.all_signing_blocks
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(stop: Vec<usize>) -> OutagePlan {
        OutagePlan { stop, outage: Duration::from_secs(1), timeout: Duration::from_secs(1) }
    }

    #[test]
    fn a_plan_names_existing_operators_once() {
        assert!(check_plan(&plan(vec![0, 3]), 4).is_ok());
        let none = check_plan(&plan(vec![]), 4).unwrap_err();
        assert!(none.to_string().contains("at least one"));
        let missing = check_plan(&plan(vec![4]), 4).unwrap_err();
        assert!(missing.to_string().contains("no operator 4"), "{missing}");
        let twice = check_plan(&plan(vec![1, 1]), 4).unwrap_err();
        assert!(twice.to_string().contains("twice"));
    }

    #[test]
    fn shares_are_basis_points_of_the_total() {
        assert_eq!(bps(U256::from(1), U256::from(4)), 2_500);
        assert_eq!(bps(U256::from(3), U256::from(4)), 7_500);
        assert_eq!(bps(U256::from(3), U256::ZERO), 0);
    }
}
