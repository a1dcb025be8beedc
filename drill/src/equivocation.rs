//! The equivocation drill: the drill operator's BLS key signs two
//! checkpoints that conflict (same rollup and L2 height, different state
//! root) under the current table version, a [`chorus_slashing`] watcher is
//! fed both signatures, catches the equivocation and submits the proof; the
//! drill then reads what EigenLayer and the registry did about it.
//!
//! The drill never opens the operator's slashing-protection store: signing
//! a conflict is its purpose, and the operator's real history stays clean.

use std::{
    fmt,
    path::PathBuf,
    time::{Duration, Instant, SystemTime},
};

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionReceipt,
    sol_types::SolEvent,
};
use chorus_contracts::{
    Commitment, IChorusAttestations, IChorusRegistry,
    checkpoint::CheckpointTree,
    table::{OperatorTable, fetch_latest_table},
};
use chorus_deploy::chorus::Deployment;
use chorus_keys::bls::SecretKey;
use chorus_slashing::{Evidence, WatchEvent, Watcher, WatcherHandle, WatcherSetup};
use eigen_utils::slashing::core::allocation_manager::AllocationManager::{
    self, OperatorSet, OperatorSlashed,
};
use serde::Serialize;

use crate::{
    DrillError,
    consent::{ChainApproval, Consent},
};

/// How long the drill waits, by default, for the watcher to land its proof.
pub const DEFAULT_PROOF_TIMEOUT: Duration = Duration::from_secs(120);

/// What an equivocation drill needs.
pub struct EquivocationDrill {
    /// The L1, signing for `payer` (who pays for the proof and the table
    /// update).
    pub l1: DynProvider,
    /// The account that pays.
    pub payer: Address,
    /// The Chorus deployment on that L1.
    pub deployment: Deployment,
    /// The drill operator's BLS key.
    pub drill_key: SecretKey,
    /// The drill operator, if named (otherwise found in the table by key).
    pub operator: Option<Address>,
    /// The rollup to equivocate on (default: the first listed).
    pub rollup: Option<u64>,
    /// What the person running it confirmed.
    pub consent: Consent,
    /// Where the watcher keeps its proof store (default: a temporary folder
    /// removed afterwards).
    pub store_dir: Option<PathBuf>,
    /// How long to wait for the proof to land.
    pub timeout: Duration,
}

/// What the drill did and saw. Times are wall-clock milliseconds since the
/// watcher was handed the second, conflicting, signature.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EquivocationReport {
    /// Why the drill ran on this chain.
    pub chain: ChainApproval,
    /// The drill operator.
    pub operator: Address,
    /// The account that paid for the proof.
    pub payer: Address,
    /// The table version the conflicting checkpoints were signed under.
    pub table_version: u32,
    /// The two checkpoints (same rollup and height, different state root).
    pub signed: [SignedCheckpointReport; 2],
    /// Time from the second signature to the watcher's detection.
    pub detection_ms: u64,
    /// The proof transaction.
    pub proof: ProofReport,
    /// The operator's allocation before the proof, per strategy.
    pub before: Vec<StakeReport>,
    /// The operator's allocation after the proof, per strategy.
    pub after: Vec<StakeReport>,
    /// EigenLayer's `OperatorSlashed` event.
    pub slashed: SlashedReport,
    /// The next operator table.
    pub next_table: TableReport,
}

/// One of the two checkpoints the drill operator signed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedCheckpointReport {
    /// The checkpoint's commitments root.
    pub commitments_root: B256,
    /// The commitment in it.
    pub commitment: Commitment,
}

/// The proof transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofReport {
    /// Its hash.
    pub tx: B256,
    /// The block that included it.
    pub block: u64,
    /// Time from the second signature to the watcher's submission landing.
    pub landed_ms: u64,
}

/// An operator's allocation to the Chorus operator set in one strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StakeReport {
    /// The strategy.
    pub strategy: Address,
    /// The allocated magnitude (out of the strategy's 1e18).
    pub magnitude: u64,
    /// EigenLayer's minimum slashable stake (token units).
    #[serde(serialize_with = "crate::decimal::u256")]
    pub slashable_stake: U256,
}

/// EigenLayer's `OperatorSlashed` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlashedReport {
    /// The operator slashed.
    pub operator: Address,
    /// The operator set's AVS.
    pub avs: Address,
    /// The operator set's id.
    pub operator_set_id: u32,
    /// The strategies slashed.
    pub strategies: Vec<Address>,
    /// The fraction slashed per strategy (1e18 = all).
    #[serde(serialize_with = "crate::decimal::u256s")]
    pub wad_slashed: Vec<U256>,
    /// The slasher's description.
    pub description: String,
}

/// The operator table after the slash.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableReport {
    /// Its version.
    pub version: u32,
    /// How many operators it holds.
    pub operators: usize,
    /// Whether the drill operator is still in it (it must not be).
    pub contains_operator: bool,
    /// The `updateOperatorTable` transaction the drill sent.
    pub update_tx: B256,
}

/// Runs the drill; see the [module docs](self). Must run inside an actix
/// system (the watcher is made of actors).
pub async fn run_equivocation_drill(
    drill: EquivocationDrill,
) -> Result<EquivocationReport, DrillError> {
    let rpc_chain = drill.l1.get_chain_id().await.map_err(|e| chain("reading the chain id", e))?;
    let approval = drill.consent.approve(rpc_chain)?;
    if drill.deployment.chain_id != rpc_chain {
        return Err(DrillError::WrongDeployment {
            deployment: drill.deployment.chain_id,
            rpc: rpc_chain,
        });
    }
    let registry = drill.deployment.chorus.registry;
    let table = fetch_latest_table(&drill.l1, registry)
        .await
        .map_err(|e| chain("reading the latest operator table", e))?;
    let operator = drill_operator(&table, &drill.drill_key, drill.operator)?;
    // An ejected operator can stay in the latest table until the next
    // update: the registry says whether it still is one.
    let registered = IChorusRegistry::new(registry, &drill.l1)
        .isRegistered(operator)
        .call()
        .await
        .map_err(|e| chain("reading the registry", e))?;
    if !registered {
        return Err(DrillError::NotRegistered(operator));
    }
    let (first, second) = conflicting_checkpoints(&drill).await?;
    let stakes = StakeReader::new(&drill.l1, &drill.deployment).await?;
    let before = stakes.read(operator).await?;
    tracing::info!(%operator, version = table.version(), "drill: signing two conflicting checkpoints");

    let caught = catch_with_watcher(&drill, operator, table.version(), [&first, &second]).await?;
    let receipt = drill
        .l1
        .get_transaction_receipt(caught.tx)
        .await
        .map_err(|e| chain("reading the proof's receipt", e))?
        .ok_or_else(|| chain("reading the proof's receipt", "the RPC does not know it"))?;
    let slashed = slashed_event(&receipt, operator)?;
    let after = stakes.read(operator).await?;
    let next_table = next_table(&drill, operator).await?;
    let report = |c: &Commitment| SignedCheckpointReport {
        commitments_root: CheckpointTree::new(vec![c.clone()])
            .map(|tree| tree.root())
            .unwrap_or_default(),
        commitment: c.clone(),
    };
    Ok(EquivocationReport {
        chain: approval,
        operator,
        payer: drill.payer,
        table_version: table.version(),
        signed: [report(&first), report(&second)],
        detection_ms: caught.detection_ms,
        proof: ProofReport { tx: caught.tx, block: caught.block, landed_ms: caught.landed_ms },
        before,
        after,
        slashed,
        next_table,
    })
}

fn chain(what: &str, error: impl fmt::Display) -> DrillError {
    DrillError::chain(what, error)
}

/// The drill operator: the table entry of the drill key, which must be
/// `named` if given.
fn drill_operator(
    table: &OperatorTable,
    key: &SecretKey,
    named: Option<Address>,
) -> Result<Address, DrillError> {
    let pubkey = key.public_key().to_eip2537();
    let entry = table.entries().iter().find(|entry| entry.pubkey.as_ref() == pubkey.as_slice());
    match (entry, named) {
        (None, _) => Err(DrillError::NotInTable {
            version: table.version(),
            named: named.map(|n| format!(" (for operator {n})")).unwrap_or_default(),
        }),
        (Some(entry), Some(named)) if entry.operator != named => {
            Err(DrillError::OtherOperator { named, actual: entry.operator })
        }
        (Some(entry), _) => Ok(entry.operator),
    }
}

/// Two commitments of one rollup at one height that differ in state root:
/// the rollup's latest attested commitment (what the network agreed on) and
/// a forgery of it. Before any attestation, height 1 with made-up roots.
async fn conflicting_checkpoints(
    drill: &EquivocationDrill,
) -> Result<(Commitment, Commitment), DrillError> {
    let attestations = IChorusAttestations::new(drill.deployment.chorus.attestations, &drill.l1);
    let rollup = match drill.rollup {
        Some(rollup) => rollup,
        None => *attestations
            .listedRollups()
            .call()
            .await
            .map_err(|e| chain("listing the rollups", e))?
            .first()
            .ok_or(DrillError::NoRollup)?,
    };
    let latest = attestations
        .latestCommitment(rollup)
        .call()
        .await
        .map_err(|e| chain(&format!("reading rollup {rollup}'s latest commitment"), e))?
        .commitment;
    let honest = if latest.l2BlockNumber == 0 {
        Commitment {
            rollupId: rollup,
            l2BlockNumber: 1,
            l2BlockHash: keccak256(b"chorus drill: block"),
            stateRoot: keccak256(b"chorus drill: state"),
        }
    } else {
        latest
    };
    let forged = Commitment { stateRoot: keccak256(honest.stateRoot), ..honest.clone() };
    Ok((honest, forged))
}

/// What the watcher did with the drill's signatures.
struct Caught {
    detection_ms: u64,
    landed_ms: u64,
    tx: B256,
    block: u64,
}

/// Starts a watcher (no aggregator feeds), hands it both signed
/// checkpoints, and waits for its proof to land.
async fn catch_with_watcher(
    drill: &EquivocationDrill,
    operator: Address,
    table_version: u32,
    commitments: [&Commitment; 2],
) -> Result<Caught, DrillError> {
    let temp = match &drill.store_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(DrillError::TempDir)?),
    };
    let dir = match (&drill.store_dir, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temp)) => temp.path().to_path_buf(),
        (None, None) => return Err(DrillError::Options("no folder for the proof store".into())),
    };
    let watcher = Watcher::start(WatcherSetup {
        deployment: drill.deployment.clone(),
        provider: drill.l1.clone(),
        from: drill.payer,
        aggregators: Vec::new(),
        store: dir.join("drill-watcher.sqlite"),
        poll_interval: Duration::from_secs(1),
    })
    .await
    .map_err(|e| DrillError::Watcher(e.to_string()))?;
    let outcome = feed_and_wait(drill, &watcher, operator, table_version, commitments).await;
    watcher.stop().await;
    drop(temp);
    outcome
}

async fn feed_and_wait(
    drill: &EquivocationDrill,
    watcher: &WatcherHandle,
    operator: Address,
    table_version: u32,
    commitments: [&Commitment; 2],
) -> Result<Caught, DrillError> {
    let domain = chorus_wire::Domain {
        l1_chain_id: drill.deployment.chain_id,
        attestation_contract: drill.deployment.chorus.attestations,
    };
    let sign = |commitment: &Commitment| {
        Evidence::sign(domain, operator, &drill.drill_key, table_version, vec![commitment.clone()])
            .map_err(|e| DrillError::Watcher(format!("signing the drill checkpoint: {e}")))
    };
    let (first, second) = (sign(commitments[0])?, sign(commitments[1])?);
    // Subscribed before the evidence goes in, so no event is missed.
    let mut events = watcher.subscribe();
    watcher.observe(first);
    let handed = SystemTime::now();
    watcher.observe(second);
    let since = |at: SystemTime| {
        u64::try_from(at.duration_since(handed).unwrap_or_default().as_millis()).unwrap_or(u64::MAX)
    };

    let started = Instant::now();
    let mut detection_ms = None;
    loop {
        let left = drill.timeout.saturating_sub(started.elapsed());
        let timeout = || DrillError::Timeout {
            what: format!("the watcher to land an equivocation proof against {operator}"),
            waited: started.elapsed(),
        };
        let event = match tokio::time::timeout(left, events.recv()).await {
            Err(_) => return Err(timeout()),
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(closed)) => return Err(DrillError::Watcher(format!("its events: {closed}"))),
            Ok(Ok(event)) => event,
        };
        match event {
            WatchEvent::Detected { operator: o, at, .. } if o == operator => {
                tracing::info!(%operator, "drill: the watcher detected the equivocation");
                detection_ms = Some(since(at));
            }
            WatchEvent::Submitted { operator: o, tx, block, at } if o == operator => {
                let landed_ms = since(at);
                return Ok(Caught {
                    detection_ms: detection_ms.unwrap_or(landed_ms),
                    landed_ms,
                    tx,
                    block,
                });
            }
            WatchEvent::AlreadySlashed { operator: o, .. } if o == operator => {
                return Err(DrillError::AlreadySlashed(operator));
            }
            WatchEvent::Refused { operator: o, reason, .. } if o == operator => {
                return Err(DrillError::ProofRefused(reason));
            }
            WatchEvent::AlreadyRecorded { operator: o, .. } if o == operator => {
                return Err(DrillError::Watcher(format!(
                    "its proof store already holds a proof against {operator}: give the drill \
                     a fresh store folder"
                )));
            }
            WatchEvent::GaveUp { operator: o, error, .. } if o == operator => {
                return Err(DrillError::Watcher(format!(
                    "it could not send the proof against {operator}: {error}"
                )));
            }
            _ => {}
        }
    }
}

/// EigenLayer's `OperatorSlashed` for `operator` in the proof's receipt.
fn slashed_event(
    receipt: &TransactionReceipt,
    operator: Address,
) -> Result<SlashedReport, DrillError> {
    let event = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.topic0() == Some(&OperatorSlashed::SIGNATURE_HASH))
        .find_map(|log| OperatorSlashed::decode_log(&log.inner).ok())
        .map(|log| log.data)
        .filter(|event| event.operator == operator);
    let Some(event) = event else {
        return Err(DrillError::NotSlashed(format!(
            "the proof transaction {} landed but EigenLayer emitted no OperatorSlashed for \
             {operator}: the slasher banned the operator without slashing it (slashing paused, or \
             the operator no longer slashable); check the AllocationManager",
            receipt.transaction_hash
        )));
    };
    Ok(SlashedReport {
        operator: event.operator,
        avs: event.operatorSet.avs,
        operator_set_id: event.operatorSet.id,
        strategies: event.strategies,
        wad_slashed: event.wadSlashed,
        description: event.description,
    })
}

/// Reads an operator's allocation to the Chorus operator set.
struct StakeReader<'a> {
    l1: &'a DynProvider,
    allocation_manager: Address,
    set: OperatorSet,
    strategies: Vec<Address>,
}

impl<'a> StakeReader<'a> {
    async fn new(l1: &'a DynProvider, deployment: &Deployment) -> Result<Self, DrillError> {
        let registry = IChorusRegistry::new(deployment.chorus.registry, l1);
        let id = registry
            .OPERATOR_SET_ID()
            .call()
            .await
            .map_err(|e| chain("reading the operator set id", e))?;
        let strategies = registry
            .strategies()
            .call()
            .await
            .map_err(|e| chain("reading the registry's strategies", e))?;
        Ok(Self {
            l1,
            allocation_manager: deployment.eigenlayer.allocation_manager,
            set: OperatorSet { avs: deployment.chorus.registry, id },
            strategies,
        })
    }

    async fn read(&self, operator: Address) -> Result<Vec<StakeReport>, DrillError> {
        let am = AllocationManager::new(self.allocation_manager, self.l1);
        let block = self.l1.get_block_number().await.map_err(|e| chain("reading the block", e))?;
        let now = u32::try_from(block).map_err(|_| chain("reading the block", "past u32"))?;
        let slashable = am
            .getMinimumSlashableStake(
                self.set.clone(),
                vec![operator],
                self.strategies.clone(),
                now,
            )
            .call()
            .await
            .map_err(|e| chain("reading the slashable stake", e))?;
        let slashable = slashable.into_iter().next().unwrap_or_default();
        let mut stakes = Vec::new();
        for (index, strategy) in self.strategies.iter().enumerate() {
            let allocation = am
                .getAllocation(operator, self.set.clone(), *strategy)
                .call()
                .await
                .map_err(|e| chain("reading the allocation", e))?;
            stakes.push(StakeReport {
                strategy: *strategy,
                magnitude: allocation.currentMagnitude,
                slashable_stake: slashable.get(index).copied().unwrap_or_default(),
            });
        }
        Ok(stakes)
    }
}

/// Updates the operator table (anyone may) and reads the new one.
async fn next_table(
    drill: &EquivocationDrill,
    operator: Address,
) -> Result<TableReport, DrillError> {
    let registry = IChorusRegistry::new(drill.deployment.chorus.registry, &drill.l1);
    let call = registry.updateOperatorTable().from(drill.payer);
    // Simulated first: a revert is reported, and costs no nonce.
    call.call().await.map_err(|e| chain("simulating updateOperatorTable", e))?;
    let receipt = call
        .send()
        .await
        .map_err(|e| chain("sending updateOperatorTable", e))?
        .get_receipt()
        .await
        .map_err(|e| chain("waiting for updateOperatorTable", e))?;
    if !receipt.status() {
        return Err(chain("updateOperatorTable", format!("{} reverted", receipt.transaction_hash)));
    }
    let table = fetch_latest_table(&drill.l1, drill.deployment.chorus.registry)
        .await
        .map_err(|e| chain("reading the new operator table", e))?;
    Ok(TableReport {
        version: table.version(),
        operators: table.entries().len(),
        contains_operator: table.entries().iter().any(|entry| entry.operator == operator),
        update_tx: receipt.transaction_hash,
    })
}

impl fmt::Display for EquivocationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chain = match &self.chain {
            ChainApproval::TestNetwork { chain_id, name } => format!("{chain_id} ({name})"),
            ChainApproval::ConfirmedTwice { chain_id } => format!("{chain_id} (confirmed twice)"),
        };
        writeln!(f, "Equivocation drill on chain {chain}")?;
        writeln!(f, "  operator        {}", self.operator)?;
        writeln!(f, "  table version   {}", self.table_version)?;
        for (index, signed) in self.signed.iter().enumerate() {
            let c = &signed.commitment;
            writeln!(
                f,
                "  signed #{}       rollup {} block {} state root {} (checkpoint {})",
                index + 1,
                c.rollupId,
                c.l2BlockNumber,
                c.stateRoot,
                signed.commitments_root
            )?;
        }
        writeln!(f, "  detected        {} ms after the second signature", self.detection_ms)?;
        writeln!(
            f,
            "  proof           tx {} in block {} ({} ms), paid by {}",
            self.proof.tx, self.proof.block, self.proof.landed_ms, self.payer
        )?;
        let s = &self.slashed;
        writeln!(
            f,
            "  OperatorSlashed operator {} operator set {}/{} wad {:?} ({})",
            s.operator, s.avs, s.operator_set_id, s.wad_slashed, s.description
        )?;
        for (before, after) in self.before.iter().zip(&self.after) {
            writeln!(
                f,
                "  strategy {}: magnitude {} -> {}, slashable stake {} -> {}",
                before.strategy,
                before.magnitude,
                after.magnitude,
                before.slashable_stake,
                after.slashable_stake
            )?;
        }
        let t = &self.next_table;
        write!(
            f,
            "  next table      version {} with {} operators, drill operator {} (tx {})",
            t.version,
            t.operators,
            if t.contains_operator { "STILL IN IT" } else { "removed" },
            t.update_tx
        )
    }
}
