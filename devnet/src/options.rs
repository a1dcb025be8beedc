//! What kind of devnet to start.

use std::{path::PathBuf, time::Duration};

use alloy::signers::local::PrivateKeySigner;
use chorus_deploy::chorus::DEFAULT_MAX_OPERATORS;
use chorus_rollup::Safety;

use crate::DevnetError;

/// The private key of anvil's first dev account (anvil's default mnemonic
/// `test test test test test test test test test test test junk`, index 0).
/// It is public knowledge and funded on every fresh anvil: the deployer of a
/// devnet on an L1 given by [`DevnetOptions::l1_rpc`] unless
/// [`DevnetOptions::deployer_key`] names another. Never use it on a real
/// network.
pub const ANVIL_FIRST_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// The chain id of the first L2; the others follow (902, 903, ...), in the
/// range OP-stack devnets use.
pub const FIRST_ROLLUP_ID: u64 = 901;

/// Most operators a devnet sets up: the registry's cap as the devnet deploys
/// it ([`DEFAULT_MAX_OPERATORS`]; `updateOperatorTable` could not take more).
/// Key derivation and registration grow linearly: 200 operators take about
/// two minutes to set up on two cores (BENCHMARKS.md).
pub const MAX_OPERATORS: usize = DEFAULT_MAX_OPERATORS as usize;

/// Most rollups a devnet starts. Each is one anvil process: 100 of them
/// took 2.7 GB and about one core of two for their blocks and traffic
/// (the scale benchmark, `benches/e2e`; BENCHMARKS.md).
pub const MAX_ROLLUPS: usize = 128;

/// Most aggregators a devnet runs side by side (each its own submitter
/// account, store and port; every operator answers all of them).
pub const MAX_AGGREGATORS: usize = 8;

/// The folder a devnet uses unless told otherwise. Not `devnet`: in a
/// checkout of this repository that is the crate's own source folder.
pub const DEFAULT_DIR: &str = "chorus-devnet";

/// How a node (operator or aggregator) runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// As actors in this process, in the current actix system.
    #[default]
    InProcess,
    /// As a child process: `chorus operator run --config FILE` or
    /// `chorus aggregator run --config FILE`, logging to `DIR/logs/`.
    Processes {
        /// The `chorus` executable.
        chorus_exe: PathBuf,
    },
}

/// What to start. [`Default`] is the devnet `chorus devnet` starts: four
/// operators, two rollups, everything in [`DEFAULT_DIR`], in this process.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// Operators to create, register and run.
    pub operators: usize,
    /// Rollups (anvil L2s) to start and attest.
    pub rollups: usize,
    /// The folder for every file (keystores, stores, configs, logs,
    /// `devnet.json`). Created if missing; it must be empty or a previous
    /// devnet's (whose files are replaced).
    pub dir: PathBuf,
    /// Use this running L1 instead of starting anvil. The deployer then is
    /// [`Self::deployer_key`] (default [`ANVIL_FIRST_KEY`], funded on a
    /// fresh anvil); the operators and the submitter get fresh keys that the
    /// deployer funds. Its mining is left as it is.
    pub l1_rpc: Option<String>,
    /// The key that deploys and owns everything on an L1 given by
    /// [`Self::l1_rpc`] (default: [`ANVIL_FIRST_KEY`]). Ignored when the
    /// devnet starts its own L1 (its first dev account deploys).
    pub deployer_key: Option<PrivateKeySigner>,
    /// L1 block interval once set up (whole seconds; setup itself
    /// automines, which is much faster).
    pub l1_block_time: Duration,
    /// L2 block interval.
    pub l2_block_time: Duration,
    /// The safety depth operators and aggregator use on every L2.
    pub safety: Safety,
    /// How the operators run.
    pub operator_mode: Mode,
    /// How the aggregator runs.
    pub aggregator_mode: Mode,
    /// The first rollup's chain id; the others follow.
    pub first_rollup_id: u64,
    /// Aggregators to run (1 to [`MAX_AGGREGATORS`]), for redundancy: each
    /// has its own submitter account, store and API port, and every
    /// operator's `[[aggregators]]` lists all of them. The first is the one
    /// `devnet.json`'s `aggregator` describes; the others follow in
    /// `otherAggregators`.
    pub aggregators: usize,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        Self {
            operators: 4,
            rollups: 2,
            dir: PathBuf::from(DEFAULT_DIR),
            l1_rpc: None,
            deployer_key: None,
            l1_block_time: Duration::from_secs(1),
            l2_block_time: Duration::from_secs(1),
            safety: Safety::Confirmations(2),
            operator_mode: Mode::InProcess,
            aggregator_mode: Mode::InProcess,
            first_rollup_id: FIRST_ROLLUP_ID,
            aggregators: 1,
        }
    }
}

impl DevnetOptions {
    /// Runs the operators and the aggregator as `chorus` child processes.
    pub fn with_processes(mut self, chorus_exe: PathBuf) -> Self {
        self.operator_mode = Mode::Processes { chorus_exe: chorus_exe.clone() };
        self.aggregator_mode = Mode::Processes { chorus_exe };
        self
    }

    /// The chain ids of the rollups.
    pub fn rollup_ids(&self) -> Vec<u64> {
        (0..self.rollups as u64).map(|i| self.first_rollup_id + i).collect()
    }

    /// Checks that the options make a devnet.
    pub fn validate(&self) -> Result<(), DevnetError> {
        let fail = |reason: String| Err(DevnetError::Options(reason));
        if !(1..=MAX_OPERATORS).contains(&self.operators) {
            return fail(format!("operators must be 1 to {MAX_OPERATORS}, not {}", self.operators));
        }
        if !(1..=MAX_ROLLUPS).contains(&self.rollups) {
            return fail(format!("rollups must be 1 to {MAX_ROLLUPS}, not {}", self.rollups));
        }
        if self.l1_block_time < Duration::from_secs(1) || self.l1_block_time.subsec_nanos() != 0 {
            return fail(format!(
                "the L1 block time must be whole seconds, at least 1 (anvil's interval mining \
                 counts seconds), not {:?}",
                self.l1_block_time
            ));
        }
        if self.l2_block_time < Duration::from_millis(100) {
            return fail(format!(
                "the L2 block time must be at least 100 ms, not {:?}",
                self.l2_block_time
            ));
        }
        if !(1..=MAX_AGGREGATORS).contains(&self.aggregators) {
            return fail(format!(
                "aggregators must be 1 to {MAX_AGGREGATORS}, not {}",
                self.aggregators
            ));
        }
        if self.first_rollup_id == 0 {
            return fail("rollup chain ids start at 1".to_owned());
        }
        Ok(())
    }
}
