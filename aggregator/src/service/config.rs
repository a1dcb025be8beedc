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
    /// Seconds to stand by after quorum before posting (default 0: post at
    /// once). For an aggregator that backs up others proposing the same
    /// rollups: both reach quorum on the same root at about the same time,
    /// and the contract takes a second post of an attested root without
    /// reverting (it only records nothing), so without a pause both pay for
    /// it. After the pause the root is checked again and, if another
    /// aggregator attested it meanwhile, nothing is sent.
    #[serde(default)]
    pub standby_secs: u64,
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
