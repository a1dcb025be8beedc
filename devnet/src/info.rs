//! `devnet.json`: everything a person or a test needs to reach the devnet.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use chorus_deploy::chorus::Deployment;
use serde::{Deserialize, Serialize};

use crate::DevnetError;

/// The file name of the devnet description in the devnet folder.
pub const DEVNET_JSON: &str = "devnet.json";
/// The file name of the deployment (as `chorus deploy` writes it).
pub const DEPLOYMENT_JSON: &str = "deployment.json";

/// What `devnet.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetInfo {
    /// The devnet folder (absolute).
    pub dir: PathBuf,
    /// The L1.
    pub l1: ChainInfo,
    /// The rollups (L2s), by chain id.
    pub rollups: Vec<ChainInfo>,
    /// `deployment.json`.
    pub deployment_file: PathBuf,
    /// Every contract address.
    pub deployment: Deployment,
    /// The aggregator (the first, when there are several).
    pub aggregator: AggregatorInfo,
    /// The other aggregators of a devnet that runs several
    /// ([`crate::DevnetOptions::aggregators`]); absent with one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_aggregators: Vec<AggregatorInfo>,
    /// The operators, by index.
    pub operators: Vec<OperatorInfo>,
}

/// One chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// Its EIP-155 chain id.
    pub chain_id: u64,
    /// Its JSON-RPC URL.
    pub rpc_url: String,
    /// The anvil log, when the devnet started the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
}

/// The aggregator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregatorInfo {
    /// Its API's base URL.
    pub url: String,
    /// The account that pays for L1 submissions.
    pub submitter: Address,
    /// Its configuration file.
    pub config_file: PathBuf,
    /// Its log (when it runs as a process).
    pub log: PathBuf,
}

/// One operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorInfo {
    /// Its index in the devnet (the folder `operators/<index>`).
    pub index: usize,
    /// Its Ethereum address, registered with EigenLayer.
    pub address: Address,
    /// Its BLS public key (96-byte compressed G2, hex).
    pub bls_pubkey: String,
    /// Its node API's base URL (`/eigen/node`, `/metrics`).
    pub api_url: String,
    /// Its configuration file.
    pub config_file: PathBuf,
    /// Its log (when it runs as a process).
    pub log: PathBuf,
}

impl DevnetInfo {
    /// Reads a `devnet.json`.
    pub fn read(path: &Path) -> Result<Self, DevnetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| DevnetError::io("read", path, source))?;
        serde_json::from_str(&text)
            .map_err(|source| DevnetError::Json { path: path.to_path_buf(), source })
    }

    /// Every aggregator: the first, then the others.
    pub fn aggregators(&self) -> impl Iterator<Item = &AggregatorInfo> {
        std::iter::once(&self.aggregator).chain(&self.other_aggregators)
    }

    /// The URL of rollup `chain_id`'s L2, if the devnet runs it.
    pub fn rollup_rpc(&self, chain_id: u64) -> Option<&str> {
        self.rollups.iter().find(|r| r.chain_id == chain_id).map(|r| r.rpc_url.as_str())
    }
}

/// Writes `value` as pretty JSON to `path`, replacing it.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), DevnetError> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|source| DevnetError::Json { path: path.to_path_buf(), source })?;
    std::fs::write(path, format!("{json}\n"))
        .map_err(|source| DevnetError::io("write", path, source))
}
