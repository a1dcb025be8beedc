//! The aggregator's configuration file (TOML; every key can be overridden
//! by a `CHORUS_`-prefixed environment variable, sections joined by `__`,
//! e.g. `CHORUS_API__LISTEN`).

use std::{net::SocketAddr, path::PathBuf};

use chorus_deploy::chorus::L1Config;
use chorus_rollup::RollupConfig;
use serde::{Deserialize, Serialize};

/// Everything an aggregator needs to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// The L1 chain, the deployment, and the key that pays for submissions.
    pub l1: L1Config,
    /// `[submitter]`: the ECDSA key and fee policy for L1 transactions.
    pub submitter: SubmitterConfig,
    /// The rollups it proposes, each through its own node.
    pub rollups: Vec<RollupConfig>,
    /// The HTTP API.
    #[serde(default)]
    pub api: AggregatorApiConfig,
    /// The SQLite store.
    pub store: StoreConfig,
    /// When to propose.
    #[serde(default)]
    pub proposer: ProposerConfig,
    /// An equivocation watcher run beside it (`chorus watch` in the same
    /// process); off unless `enabled`.
    #[serde(default)]
    pub watcher: chorus_slashing::WatcherConfig,
}

/// `[submitter]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitterConfig {
    /// The ECDSA keystore (Web3 secret storage) of the paying account.
    pub keystore: PathBuf,
    /// A file holding its password; without it the password comes from
    /// `CHORUS_SUBMITTER_PASSWORD` or a prompt.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Seconds without inclusion before the fee is bumped.
    #[serde(default = "default_bump_after_secs")]
    pub bump_after_secs: u64,
    /// Percent added to the fees at each bump (at least 10, as nodes require
    /// for a replacement).
    #[serde(default = "default_bump_percent")]
    pub bump_percent: u64,
    /// Ceiling of the max fee per gas, in gwei.
    #[serde(default = "default_max_fee_gwei")]
    pub max_fee_gwei: u64,
    /// L1 blocks that must follow the block including a submission before
    /// its checkpoint counts as attested: a reorg of up to this many blocks
    /// that drops the transaction is noticed and the transaction sent
    /// again. 0 trusts inclusion at once (only for an L1 that never
    /// reorganises, e.g. a dev chain mining on demand).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
}

fn default_bump_after_secs() -> u64 {
    12
}
fn default_bump_percent() -> u64 {
    15
}
fn default_max_fee_gwei() -> u64 {
    500
}
fn default_confirmations() -> u64 {
    2
}

/// `[api]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorApiConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
}

impl Default for AggregatorApiConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 7300)) }
    }
}

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file; created on first start.
    pub path: PathBuf,
}

/// `[proposer]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposerConfig {
    /// How often rollups are read for a new checkpoint, in milliseconds.
    pub interval_ms: u64,
    /// Seconds an open checkpoint may wait for quorum before a newer
    /// proposal supersedes it.
    pub proposal_timeout_secs: u64,
}

impl Default for ProposerConfig {
    fn default() -> Self {
        Self { interval_ms: 500, proposal_timeout_secs: 12 }
    }
}
