//! A complete Chorus network on one machine, for `chorus devnet` and the
//! end-to-end tests.
//!
//! [`Devnet::start`] brings it up in this order:
//!
//! 1. the folder ([`DevnetOptions::dir`]): created, or emptied of a previous
//!    devnet's files; a folder holding anything else is refused;
//! 2. the L1: anvil, automining while the devnet sets up (or the running
//!    node of [`DevnetOptions::l1_rpc`]);
//! 3. K L2s: anvil with chain ids 901, 902, ... and a block per
//!    [`DevnetOptions::l2_block_time`], each with a traffic task sending small
//!    transfers so that every block moves the state root;
//! 4. EigenLayer core and Chorus, deployed by the functions `chorus deploy`
//!    uses, every L2 listed as a rollup; `deployment.json`;
//! 5. N operators: a BLS key in an EIP-2335 keystore, its password file, the
//!    Ethereum key in a Web3 keystore (`operators/<i>/`), registered through
//!    the real EigenLayer flow (deposit, `registerAsOperator`, allocation,
//!    `registerForOperatorSets`), then `updateOperatorTable`; an empty
//!    slashing-protection store each;
//! 6. the configuration files (`operators/<i>/operator.toml`,
//!    `aggregator/aggregator.toml`, safety 2 confirmations on every L2, APIs
//!    on free local ports) and the submitter's keystore;
//! 7. the L1 switched to a block per [`DevnetOptions::l1_block_time`];
//!    `devnet.json` ([`DevnetInfo`]: every URL, chain id, address, file);
//! 8. once every L2 has a block at the safety depth, the aggregator (or
//!    each of [`DevnetOptions::aggregators`], each with its own submitter
//!    account, store and port, every operator answering all), then
//!    the operators: as actors in the current actix
//!    system ([`Mode::InProcess`]) or as `chorus aggregator run` /
//!    `chorus operator run` child processes logging to `logs/`
//!    ([`Mode::Processes`]).
//!
//! The [`Devnet`] then controls it: stop, kill and restart any operator or
//! the aggregator (same keys, same stores), change an operator's
//! configuration for its next start, wait for checkpoints attested on L1
//! ([`Devnet::wait_for_checkpoints`], read from the contract's events), and
//! follow progress ([`ProgressMonitor`]). [`Devnet::shutdown`] stops
//! everything and reaps every child process; dropping a `Devnet` kills and
//! reaps them too.
//!
//! ```no_run
//! # async fn run() -> Result<(), chorus_devnet::DevnetError> {
//! use std::time::Duration;
//! use chorus_devnet::{Devnet, DevnetOptions};
//!
//! // Inside an actix system (`#[actix_rt::test]`, `actix_rt::System::new().block_on`).
//! let devnet = Devnet::start(DevnetOptions { operators: 3, ..DevnetOptions::default() }).await?;
//! let attested = devnet.wait_for_checkpoints(2, Duration::from_secs(60)).await?;
//! assert!(attested.len() >= 2);
//! devnet.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod chains;
mod checkpoints;
mod error;
mod info;
mod nodes;
mod options;
mod process;
mod progress;
mod setup;

use std::{
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use alloy::{
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use chorus_aggregator::service::{AggregatorConfig, AggregatorHandle};
use chorus_deploy::chorus::Deployment;
use chorus_operator::{
    node::{NodeConfig, NodeHandle},
    protection::Domain,
};

pub use checkpoints::{AttestedCheckpoint, attested_between, attested_checkpoints};
pub use error::DevnetError;
pub use info::{AggregatorInfo, ChainInfo, DEPLOYMENT_JSON, DEVNET_JSON, DevnetInfo, OperatorInfo};
pub use options::{
    ANVIL_FIRST_KEY, DEFAULT_DIR, DevnetOptions, FIRST_ROLLUP_ID, MAX_AGGREGATORS, MAX_OPERATORS,
    MAX_ROLLUPS, Mode,
};
pub use progress::{ProgressEvent, ProgressMonitor};

use crate::{
    chains::{ManagedAnvil, log_path},
    nodes::Running,
    setup::{Accounts, Layout, RollupEntry},
};

/// How often [`Devnet::wait_for_checkpoints`] reads L1, and
/// [`Devnet::wait_for_rollups`] the L2s.
const CHECKPOINT_POLL: Duration = Duration::from_millis(250);
/// How long [`Devnet::start`] waits for the L2s' first safe blocks.
const ROLLUP_WAIT: Duration = Duration::from_secs(30);

/// A running devnet. See the [crate docs](crate).
pub struct Devnet {
    options: DevnetOptions,
    layout: Layout,
    info: DevnetInfo,
    l1: DynProvider,
    setup_duration: Duration,
    first_block: u64,
    operators: Vec<OperatorSlot>,
    aggregator: AggregatorSlot,
    /// Aggregators after the first ([`DevnetOptions::aggregators`]).
    other_aggregators: Vec<AggregatorSlot>,
    // Dropped last: the nodes stop before the chains they read go away.
    chains: Chains,
}

struct OperatorSlot {
    config: NodeConfig,
    running: Option<Running<NodeHandle>>,
}

struct AggregatorSlot {
    config: AggregatorConfig,
    running: Option<Running<AggregatorHandle>>,
}

/// The anvil processes and traffic tasks; killed, reaped and aborted on drop.
#[derive(Default)]
struct Chains {
    l1: Option<ManagedAnvil>,
    l2s: Vec<ManagedAnvil>,
    traffic: Vec<tokio::task::JoinHandle<()>>,
}

impl Chains {
    fn stop(&mut self) {
        for task in self.traffic.drain(..) {
            task.abort();
        }
        for anvil in self.l2s.iter_mut().chain(self.l1.as_mut()) {
            anvil.kill_and_reap();
        }
    }

    fn pids(&self) -> Vec<u32> {
        self.l1.iter().chain(&self.l2s).filter_map(ManagedAnvil::pid).collect()
    }
}

impl Drop for Chains {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Devnet {
    /// Sets the devnet up and starts its nodes (see the [crate docs](crate)):
    /// [`Devnet::setup`], then the aggregator, then every operator. Must
    /// run inside an actix system when any node runs in process.
    pub async fn start(options: DevnetOptions) -> Result<Self, DevnetError> {
        let started = Instant::now();
        let mut devnet = Self::setup(options).await?;
        devnet.wait_for_rollups(ROLLUP_WAIT).await?;
        for index in 0..devnet.aggregator_count() {
            devnet.start_aggregator_at(index).await?;
        }
        for index in 0..devnet.operators.len() {
            devnet.start_operator(index).await?;
        }
        devnet.setup_duration = started.elapsed();
        tracing::info!(elapsed = ?devnet.setup_duration, "devnet running");
        Ok(devnet)
    }

    /// Steps 1 to 7 of the [crate docs](crate): chains, contracts,
    /// registered operators, every file; no node is started (start them
    /// with [`Devnet::start_aggregator`] and [`Devnet::start_operator`]).
    pub async fn setup(options: DevnetOptions) -> Result<Self, DevnetError> {
        options.validate()?;
        let started = Instant::now();
        let layout = Layout::prepare(&options.dir)?;
        let mut chains = Chains::default();
        let logs = layout.logs();

        let (l1_url, accounts) = start_l1(&options, &logs, &mut chains)?;
        let l1 = connect_l1(&l1_url, &accounts).await?;
        let l1_chain_id = l1
            .get_chain_id()
            .await
            .map_err(|e| DevnetError::rpc(format!("the L1 at {l1_url} does not answer"), e))?;
        let rollups = start_l2s(&options, &logs, &mut chains)?;
        tracing::info!(elapsed = ?started.elapsed(), "chains up");

        let own_l1 = chains.l1.is_some();
        if !own_l1 {
            accounts.fund(&l1).await?;
        }
        let deployer = accounts.deployer.address();
        let deployment = setup::deploy(&l1, deployer, &options.rollup_ids(), &layout).await?;
        tracing::info!(elapsed = ?started.elapsed(), "EigenLayer and Chorus deployed");

        let anvil = own_l1 || chains::is_anvil(&l1).await;
        let files =
            create_and_register_operators(&l1, &deployment, &layout, &accounts, anvil).await?;
        tracing::info!(elapsed = ?started.elapsed(), operators = files.len(), "operators registered");

        let ports = setup::free_ports(options.operators + options.aggregators)?;
        let localhost = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let (aggregator_ports, operator_ports) = ports.split_at(options.aggregators);
        let aggregator_urls: Vec<String> =
            aggregator_ports.iter().map(|port| format!("http://{}", localhost(*port))).collect();
        let entries: Vec<RollupEntry> = rollups
            .iter()
            .map(|r| RollupEntry {
                id: r.chain_id,
                rpc_url: r.rpc_url.clone(),
                safety: options.safety,
            })
            .collect();
        let mut aggregator_slots = Vec::new();
        let mut aggregator_infos = Vec::new();
        for (index, (submitter, port)) in accounts.submitters().zip(aggregator_ports).enumerate() {
            let config = write_aggregator_files(
                &layout,
                index,
                &l1_url,
                &entries,
                submitter,
                localhost(*port),
                standby_secs(index, options.l1_block_time),
                options.operators,
            )
            .await?;
            aggregator_slots.push(AggregatorSlot { config, running: None });
            aggregator_infos.push(AggregatorInfo {
                url: aggregator_urls[index].clone(),
                submitter: submitter.address(),
                config_file: layout.aggregator_config_at(index),
                log: layout.aggregator_log_at(index),
            });
        }
        let (operators, operator_infos) = write_operator_configs(
            &layout,
            &accounts.operators,
            &files,
            &l1_url,
            &entries,
            &aggregator_urls,
            operator_ports,
        )?;
        drop(files);

        if own_l1 {
            chains::set_interval_mining(&l1, options.l1_block_time).await?;
        }
        let first_block =
            l1.get_block_number().await.map_err(|e| DevnetError::rpc("reading the L1 block", e))?;
        let info = DevnetInfo {
            dir: layout.dir.clone(),
            l1: ChainInfo {
                chain_id: l1_chain_id,
                rpc_url: l1_url.clone(),
                log: own_l1.then(|| log_path(&logs, "l1")),
            },
            rollups,
            deployment_file: layout.deployment_file(),
            deployment,
            aggregator: aggregator_infos.remove(0),
            other_aggregators: aggregator_infos,
            operators: operator_infos,
        };
        info::write_json(&layout.devnet_json(), &info)?;

        let setup_duration = started.elapsed();
        tracing::info!(elapsed = ?setup_duration, "devnet set up");
        Ok(Self {
            options,
            layout,
            info,
            l1,
            setup_duration,
            first_block,
            operators,
            aggregator: aggregator_slots.remove(0),
            other_aggregators: aggregator_slots,
            chains,
        })
    }

    /// What `devnet.json` holds.
    pub fn info(&self) -> &DevnetInfo {
        &self.info
    }

    /// The options it was started with.
    pub fn options(&self) -> &DevnetOptions {
        &self.options
    }

    /// A provider on the L1 that signs for the deployer (the owner of every
    /// contract, the default `from`), the submitter and every operator.
    pub fn l1(&self) -> &DynProvider {
        &self.l1
    }

    /// The deployer's address.
    pub fn deployer(&self) -> Address {
        self.info.deployment.eigenlayer.owner
    }

    /// Every contract address.
    pub fn deployment(&self) -> &Deployment {
        &self.info.deployment
    }

    /// How long [`Devnet::start`] took, from nothing to every node running
    /// (or [`Devnet::setup`], to every file written).
    pub fn setup_duration(&self) -> Duration {
        self.setup_duration
    }

    /// The aggregator's API base URL.
    pub fn aggregator_url(&self) -> &str {
        &self.info.aggregator.url
    }

    /// How many operators the devnet has.
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    fn slot(&self, index: usize) -> Result<&OperatorSlot, DevnetError> {
        let count = self.operators.len();
        self.operators.get(index).ok_or(DevnetError::NoSuchOperator { index, count })
    }

    fn slot_mut(&mut self, index: usize) -> Result<&mut OperatorSlot, DevnetError> {
        let count = self.operators.len();
        self.operators.get_mut(index).ok_or(DevnetError::NoSuchOperator { index, count })
    }

    /// Operator `index`'s configuration (what its next start uses).
    pub fn operator_config(&self, index: usize) -> Result<&NodeConfig, DevnetError> {
        Ok(&self.slot(index)?.config)
    }

    /// Replaces operator `index`'s configuration, in memory and in its
    /// file; it applies at the operator's next start (stop it first to
    /// apply it now).
    pub fn set_operator_config(
        &mut self,
        index: usize,
        config: NodeConfig,
    ) -> Result<(), DevnetError> {
        setup::write_toml(&self.layout.operator_config(index), &config)?;
        self.slot_mut(index)?.config = config;
        Ok(())
    }

    /// Whether operator `index` is running (as far as the devnet started
    /// and stopped it).
    pub fn is_operator_running(&self, index: usize) -> bool {
        self.slot(index).is_ok_and(|slot| slot.running.is_some())
    }

    /// Starts operator `index` with its current configuration, key and
    /// slashing-protection store.
    pub async fn start_operator(&mut self, index: usize) -> Result<(), DevnetError> {
        let slot = self.slot(index)?;
        if slot.running.is_some() {
            return Err(DevnetError::AlreadyRunning(format!("operator {index}")));
        }
        let running = nodes::start_operator(
            index,
            &slot.config,
            &self.layout.operator_config(index),
            &self.options.operator_mode,
            &self.layout.operator_log(index),
        )
        .await?;
        self.slot_mut(index)?.running = Some(running);
        Ok(())
    }

    /// Stops operator `index` gracefully (SIGTERM for a process); does
    /// nothing if it is not running.
    pub async fn stop_operator(&mut self, index: usize) -> Result<(), DevnetError> {
        if let Some(running) = self.slot_mut(index)?.running.take() {
            running.stop().await;
        }
        Ok(())
    }

    /// Kills operator `index` at once: SIGKILL for a process, an immediate
    /// stop in process.
    pub async fn kill_operator(&mut self, index: usize) -> Result<(), DevnetError> {
        if let Some(running) = self.slot_mut(index)?.running.take() {
            running.kill().await;
        }
        Ok(())
    }

    /// The aggregator's configuration (what its next start uses).
    pub fn aggregator_config(&self) -> &AggregatorConfig {
        &self.aggregator.config
    }

    /// Replaces the aggregator's configuration, in memory and in its file,
    /// for its next start. Keep `api.listen`: the operators know that URL.
    pub fn set_aggregator_config(&mut self, config: AggregatorConfig) -> Result<(), DevnetError> {
        setup::write_toml(&self.layout.aggregator_config(), &config)?;
        self.aggregator.config = config;
        Ok(())
    }

    /// Whether the aggregator is running.
    pub fn is_aggregator_running(&self) -> bool {
        self.aggregator.running.is_some()
    }

    /// Starts the aggregator with its configuration and store.
    pub async fn start_aggregator(&mut self) -> Result<(), DevnetError> {
        if self.aggregator.running.is_some() {
            return Err(DevnetError::AlreadyRunning("the aggregator".to_owned()));
        }
        let running = nodes::start_aggregator(
            &self.aggregator.config,
            &self.layout.aggregator_config(),
            &self.options.aggregator_mode,
            &self.layout.aggregator_log(),
        )
        .await?;
        self.aggregator.running = Some(running);
        Ok(())
    }

    /// Stops the aggregator gracefully; does nothing if it is not running.
    pub async fn stop_aggregator(&mut self) {
        if let Some(running) = self.aggregator.running.take() {
            running.stop().await;
        }
    }

    /// Kills the aggregator at once (SIGKILL for a process).
    pub async fn kill_aggregator(&mut self) {
        if let Some(running) = self.aggregator.running.take() {
            running.kill().await;
        }
    }

    /// How many aggregators the devnet runs ([`DevnetOptions::aggregators`]).
    pub fn aggregator_count(&self) -> usize {
        1 + self.other_aggregators.len()
    }

    fn aggregator_slot(&self, index: usize) -> Result<&AggregatorSlot, DevnetError> {
        match index {
            0 => Ok(&self.aggregator),
            _ => self.other_aggregators.get(index - 1).ok_or(DevnetError::Options(format!(
                "there is no aggregator {index}: the devnet runs {}",
                self.aggregator_count()
            ))),
        }
    }

    fn aggregator_slot_mut(&mut self, index: usize) -> Result<&mut AggregatorSlot, DevnetError> {
        let count = self.aggregator_count();
        match index {
            0 => Ok(&mut self.aggregator),
            _ => self.other_aggregators.get_mut(index - 1).ok_or(DevnetError::Options(format!(
                "there is no aggregator {index}: the devnet runs {count}"
            ))),
        }
    }

    /// Aggregator `index`'s API base URL (0 is [`Devnet::aggregator_url`]).
    pub fn aggregator_url_at(&self, index: usize) -> Option<&str> {
        self.info.aggregators().nth(index).map(|info| info.url.as_str())
    }

    /// Aggregator `index`'s configuration (what its next start uses).
    pub fn aggregator_config_at(&self, index: usize) -> Result<&AggregatorConfig, DevnetError> {
        Ok(&self.aggregator_slot(index)?.config)
    }

    /// Replaces aggregator `index`'s configuration, in memory and in its
    /// file, for its next start. Keep `api.listen`: the operators know it.
    pub fn set_aggregator_config_at(
        &mut self,
        index: usize,
        config: AggregatorConfig,
    ) -> Result<(), DevnetError> {
        setup::write_toml(&self.layout.aggregator_config_at(index), &config)?;
        self.aggregator_slot_mut(index)?.config = config;
        Ok(())
    }

    /// Whether aggregator `index` is running.
    pub fn is_aggregator_running_at(&self, index: usize) -> bool {
        self.aggregator_slot(index).is_ok_and(|slot| slot.running.is_some())
    }

    /// Starts aggregator `index` with its configuration and store.
    pub async fn start_aggregator_at(&mut self, index: usize) -> Result<(), DevnetError> {
        let slot = self.aggregator_slot(index)?;
        if slot.running.is_some() {
            return Err(DevnetError::AlreadyRunning(format!("aggregator {index}")));
        }
        let running = nodes::start_aggregator(
            &slot.config,
            &self.layout.aggregator_config_at(index),
            &self.options.aggregator_mode,
            &self.layout.aggregator_log_at(index),
        )
        .await?;
        self.aggregator_slot_mut(index)?.running = Some(running);
        Ok(())
    }

    /// Stops aggregator `index` gracefully; does nothing if it is not running.
    pub async fn stop_aggregator_at(&mut self, index: usize) -> Result<(), DevnetError> {
        if let Some(running) = self.aggregator_slot_mut(index)?.running.take() {
            running.stop().await;
        }
        Ok(())
    }

    /// Kills aggregator `index` at once (SIGKILL for a process).
    pub async fn kill_aggregator_at(&mut self, index: usize) -> Result<(), DevnetError> {
        if let Some(running) = self.aggregator_slot_mut(index)?.running.take() {
            running.kill().await;
        }
        Ok(())
    }

    /// Aggregator `index`'s process id, when it runs as a child process.
    pub fn aggregator_pid_at(&self, index: usize) -> Option<u32> {
        self.aggregator_slot(index).ok()?.running.as_ref().and_then(Running::pid)
    }

    /// Every checkpoint attested on L1 so far, oldest first.
    pub async fn attested_checkpoints(&self) -> Result<Vec<AttestedCheckpoint>, DevnetError> {
        attested_checkpoints(&self.l1, self.info.deployment.chorus.attestations).await
    }

    /// Waits until at least `count` checkpoints are attested on L1 and
    /// returns every one attested by then, oldest first; fails after
    /// `timeout`.
    pub async fn wait_for_checkpoints(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<AttestedCheckpoint>, DevnetError> {
        let started = Instant::now();
        loop {
            let attested = self.attested_checkpoints().await?;
            if attested.len() >= count {
                return Ok(attested);
            }
            if started.elapsed() >= timeout {
                return Err(DevnetError::Timeout {
                    what: format!(
                        "{count} checkpoints attested on L1 ({} so far; see the aggregator's \
                         {}/v1/checkpoints and {})",
                        attested.len(),
                        self.info.aggregator.url,
                        self.info.aggregator.log.display()
                    ),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(CHECKPOINT_POLL).await;
        }
    }

    /// Waits until every L2 has a block past genesis at the configured
    /// safety depth (with `N` confirmations: block `N + 1`). Setup can be
    /// faster than
    /// the L2s' first blocks; nodes started before then would only find
    /// nothing to attest, and the aggregator's first proposal would wait
    /// out its timeout. [`Devnet::start`] calls it before any node starts.
    pub async fn wait_for_rollups(&self, timeout: Duration) -> Result<(), DevnetError> {
        let chorus_rollup::Safety::Confirmations(depth) = self.options.safety else {
            return Ok(());
        };
        let started = Instant::now();
        for rollup in &self.info.rollups {
            let l2 = ProviderBuilder::new().connect_http(parse_url(&rollup.rpc_url)?);
            loop {
                let what = || format!("block {} of rollup {}", depth + 1, rollup.chain_id);
                let number =
                    l2.get_block_number().await.map_err(|e| DevnetError::rpc(what(), e))?;
                if number > depth {
                    break;
                }
                if started.elapsed() >= timeout {
                    return Err(DevnetError::Timeout { what: what(), waited: started.elapsed() });
                }
                tokio::time::sleep(CHECKPOINT_POLL).await;
            }
        }
        Ok(())
    }

    /// A monitor of the aggregator's progress and L1 attestations since
    /// the devnet was set up.
    pub fn progress(&self) -> ProgressMonitor {
        ProgressMonitor::new(
            self.info.aggregator.url.clone(),
            self.l1.clone(),
            self.info.deployment.chorus.attestations,
            self.first_block,
        )
    }

    /// Nodes running as processes that exited on their own since the last
    /// call (each a [`DevnetError::ChildExited`] naming its log); they count
    /// as stopped and can be started again.
    pub fn exited_nodes(&mut self) -> Vec<DevnetError> {
        let mut exited = Vec::new();
        for slot in &mut self.operators {
            check_exited(&mut slot.running, &mut exited);
        }
        check_exited(&mut self.aggregator.running, &mut exited);
        for slot in &mut self.other_aggregators {
            check_exited(&mut slot.running, &mut exited);
        }
        exited
    }

    /// The ids of every child process running now (anvil chains, and the
    /// nodes in process mode), e.g. to check that none outlives the devnet.
    pub fn child_pids(&self) -> Vec<u32> {
        let nodes = self
            .operators
            .iter()
            .filter_map(|slot| slot.running.as_ref().and_then(Running::pid))
            .chain(self.aggregator.running.as_ref().and_then(Running::pid))
            .chain(
                self.other_aggregators
                    .iter()
                    .filter_map(|slot| slot.running.as_ref().and_then(Running::pid)),
            );
        self.chains.pids().into_iter().chain(nodes).collect()
    }

    /// The process id of operator `index`, when it runs as a child process.
    pub fn operator_pid(&self, index: usize) -> Option<u32> {
        self.slot(index).ok()?.running.as_ref().and_then(Running::pid)
    }

    /// The aggregator's process id, when it runs as a child process.
    pub fn aggregator_pid(&self) -> Option<u32> {
        self.aggregator.running.as_ref().and_then(Running::pid)
    }

    /// The process ids of the anvil chains the devnet started (L1 first,
    /// then the L2s in order), e.g. to measure what the chains cost.
    pub fn chain_pids(&self) -> Vec<u32> {
        self.chains.pids()
    }

    /// Stops the operators, then the aggregator, then the chains; every
    /// child process is reaped before this returns.
    pub async fn shutdown(mut self) {
        for index in 0..self.operators.len() {
            let _ = self.stop_operator(index).await;
        }
        for index in 0..self.aggregator_count() {
            let _ = self.stop_aggregator_at(index).await;
        }
        self.chains.stop();
        self.layout.release();
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        // Children die with their handles (ChildProcess and ManagedAnvil
        // kill and reap on drop); only the folder's lock is left to release.
        self.layout.release();
    }
}

/// Moves a node that exited on its own from `running` to `exited`.
fn check_exited<H: nodes::InProcess>(
    running: &mut Option<Running<H>>,
    exited: &mut Vec<DevnetError>,
) {
    if let Some(node) = running.as_mut()
        && let Err(error) = node.check_running()
    {
        *running = None;
        exited.push(error);
    }
}

/// Starts the L1 (or takes the one of [`DevnetOptions::l1_rpc`]) and picks
/// the accounts; an L1 started here joins `chains`.
fn start_l1(
    options: &DevnetOptions,
    logs: &Path,
    chains: &mut Chains,
) -> Result<(String, Accounts), DevnetError> {
    if let Some(url) = &options.l1_rpc {
        let deployer = match &options.deployer_key {
            Some(key) => key.clone(),
            None => ANVIL_FIRST_KEY
                .parse::<PrivateKeySigner>()
                .map_err(|e| DevnetError::Options(format!("the built-in deployer key: {e}")))?,
        };
        return Ok((
            url.clone(),
            Accounts::fresh(deployer, options.operators, options.aggregators),
        ));
    }
    let needed = Accounts::needed(options.operators, options.aggregators);
    let anvil = chains::spawn_l1(&log_path(logs, "l1"), needed.max(10))?;
    let accounts =
        Accounts::from_dev_accounts(anvil.signers(), options.operators, options.aggregators)?;
    let url = anvil.endpoint().to_owned();
    chains.l1 = Some(anvil);
    Ok((url, accounts))
}

/// Starts every L2 with its traffic task; the chains join `chains`.
fn start_l2s(
    options: &DevnetOptions,
    logs: &Path,
    chains: &mut Chains,
) -> Result<Vec<ChainInfo>, DevnetError> {
    let mut rollups = Vec::new();
    for chain_id in options.rollup_ids() {
        let log = log_path(logs, &format!("rollup-{chain_id}"));
        let anvil = chains::spawn_l2(chain_id, options.l2_block_time, &log)?;
        let url = parse_url(anvil.endpoint())?;
        let sender =
            anvil.signers().into_iter().next().ok_or_else(|| {
                DevnetError::Options(format!("the L2 {chain_id} has no dev account"))
            })?;
        chains.traffic.push(chains::spawn_traffic(url, sender, options.l2_block_time));
        rollups.push(ChainInfo { chain_id, rpc_url: anvil.endpoint().to_owned(), log: Some(log) });
        chains.l2s.push(anvil);
    }
    Ok(rollups)
}

/// Creates every operator's files, registers every operator through
/// EigenLayer, and updates the operator table.
async fn create_and_register_operators(
    l1: &DynProvider,
    deployment: &Deployment,
    layout: &Layout,
    accounts: &Accounts,
    anvil: bool,
) -> Result<Vec<setup::OperatorFiles>, DevnetError> {
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    let files = create_operators_files(layout, &accounts.operators, domain).await?;
    let registrations: Vec<_> = accounts
        .operators
        .iter()
        .zip(&files)
        .map(|(account, files)| (account.address(), &files.secret))
        .collect();
    setup::register_operators(l1, deployment, &registrations, setup::wait_options(anvil)).await?;
    setup::update_operator_table(l1, deployment, accounts.deployer.address()).await?;
    Ok(files)
}

/// Writes each operator's configuration file (its API on its port).
fn write_operator_configs(
    layout: &Layout,
    accounts: &[PrivateKeySigner],
    files: &[setup::OperatorFiles],
    l1_url: &str,
    rollups: &[RollupEntry],
    aggregator_urls: &[String],
    ports: &[u16],
) -> Result<(Vec<OperatorSlot>, Vec<OperatorInfo>), DevnetError> {
    let mut slots = Vec::new();
    let mut infos = Vec::new();
    for (index, ((account, files), port)) in accounts.iter().zip(files).zip(ports).enumerate() {
        let listen = SocketAddr::from(([127, 0, 0, 1], *port));
        let config = setup::operator_config(
            account.address(),
            files,
            l1_url,
            &layout.deployment_file(),
            rollups,
            aggregator_urls,
            listen,
        )?;
        setup::write_toml(&layout.operator_config(index), &config)?;
        infos.push(OperatorInfo {
            index,
            address: account.address(),
            bls_pubkey: alloy::hex::encode(files.secret.public_key().to_bytes()),
            api_url: format!("http://{listen}"),
            config_file: layout.operator_config(index),
            log: layout.operator_log(index),
        });
        slots.push(OperatorSlot { config, running: None });
    }
    Ok((slots, infos))
}

async fn connect_l1(url: &str, accounts: &Accounts) -> Result<DynProvider, DevnetError> {
    let url = parse_url(url)?;
    Ok(ProviderBuilder::new().wallet(accounts.wallet()).connect_http(url).erased())
}

fn parse_url(url: &str) -> Result<Url, DevnetError> {
    url.parse().map_err(|e| DevnetError::Options(format!("{url:?} is not an RPC URL: {e}")))
}

async fn create_operators_files(
    layout: &Layout,
    accounts: &[PrivateKeySigner],
    domain: Domain,
) -> Result<Vec<setup::OperatorFiles>, DevnetError> {
    // Key derivation is deliberately slow: off the async reactor, one
    // blocking task per operator so that every core helps.
    let tasks = accounts.iter().enumerate().map(|(index, account)| {
        let (layout, account) = (layout.clone(), account.clone());
        tokio::task::spawn_blocking(move || {
            setup::create_operator_files(&layout, index, &account, domain)
        })
    });
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.map_err(|e| DevnetError::Task(e.to_string()))?)
        .collect()
}

/// Writes aggregator `index`'s submitter keystore, password and
/// configuration into its folder.
#[allow(clippy::too_many_arguments)]
async fn write_aggregator_files(
    layout: &Layout,
    index: usize,
    l1_url: &str,
    rollups: &[RollupEntry],
    submitter: &PrivateKeySigner,
    listen: SocketAddr,
    standby_secs: u64,
    operators: usize,
) -> Result<AggregatorConfig, DevnetError> {
    let dir = layout.aggregator_dir_at(index);
    std::fs::create_dir_all(&dir).map_err(|source| DevnetError::io("create", &dir, source))?;
    let password_file = dir.join("password.txt");
    let keystore = dir.join("submitter.json");
    let (password_path, keystore_path, signer) =
        (password_file.clone(), keystore.clone(), submitter.clone());
    tokio::task::spawn_blocking(move || {
        let password = setup::write_password(&password_path)?;
        chorus_keys::ecdsa::write_new(&keystore_path, &signer, &password)
            .map_err(|source| DevnetError::EcdsaKeystore { path: keystore_path, source })
    })
    .await
    .map_err(|e| DevnetError::Task(e.to_string()))??;
    let mut config = setup::aggregator_config(
        layout,
        &dir,
        l1_url,
        rollups,
        &keystore,
        &password_file,
        listen,
        standby_secs,
    )?;
    // Every node of a devnet calls from the loopback address.
    config.api = config.api.admitting_operators_behind_one_address(operators);
    setup::write_toml(&layout.aggregator_config_at(index), &config)?;
    Ok(config)
}

/// How long aggregator `index` stands by before posting: the first posts
/// at once, each other one three L1 blocks after the one before it, so that
/// they back each other up without paying twice for one root.
fn standby_secs(index: usize, l1_block_time: Duration) -> u64 {
    index as u64 * 3 * l1_block_time.as_secs()
}

/// The `devnet.json` of the devnet in `dir`, if one was started there.
pub fn read_info(dir: &Path) -> Result<DevnetInfo, DevnetError> {
    DevnetInfo::read(&dir.join(DEVNET_JSON))
}
