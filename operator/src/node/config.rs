//! The operator node's configuration file (TOML; every key can be
//! overridden by a `CHORUS_`-prefixed environment variable, sections joined
//! by `__`, e.g. `CHORUS_API__LISTEN`).

use std::{net::SocketAddr, path::PathBuf};

use alloy::primitives::Address;
use chorus_deploy::chorus::L1Config;
use chorus_rollup::RollupConfig;
use serde::{Deserialize, Serialize};

/// Everything an operator node needs to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Who signs.
    pub operator: OperatorSection,
    /// The L1 chain and the Chorus deployment on it.
    pub l1: L1Config,
    /// The rollups this operator attests, each through its own node.
    pub rollups: Vec<RollupConfig>,
    /// The aggregators it answers (one or more).
    pub aggregators: Vec<AggregatorEndpoint>,
    /// The node API and metrics.
    #[serde(default)]
    pub api: NodeApiConfig,
    /// An equivocation watcher run beside it (`chorus watch` in the same
    /// process); off unless `enabled`.
    #[serde(default)]
    pub watcher: chorus_slashing::WatcherConfig,
}

/// `[operator]`: the operator's identity and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSection {
    /// The operator's Ethereum address, as registered with EigenLayer.
    pub address: Address,
    /// Its BLS keystore (EIP-2335).
    pub bls_keystore: PathBuf,
    /// A file holding the keystore's password; without it the password
    /// comes from `CHORUS_BLS_PASSWORD` or a prompt.
    #[serde(default)]
    pub bls_password_file: Option<PathBuf>,
    /// The slashing-protection store (`chorus protection create` makes it).
    pub protection_db: PathBuf,
}

/// `[[aggregators]]`: one aggregator to pull proposals from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorEndpoint {
    /// Its base URL, e.g. `http://127.0.0.1:7300`.
    pub url: String,
}

/// `[api]`: where the node API (`/eigen/node...`) and `/metrics` listen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeApiConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
}

impl Default for NodeApiConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 9010)) }
    }
}
