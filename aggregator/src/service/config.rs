//! The aggregator's configuration file (TOML; every key can be overridden
//! by a `CHORUS_`-prefixed environment variable, sections joined by `__`,
//! e.g. `CHORUS_API__LISTEN`).

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
};

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
fn default_confirmations() -> u64 {
    2
}

/// `[api]`: where the HTTP API listens and how it treats clients.
///
/// Every request passes one admission check first (`service::admission`):
/// a per-address rate limit, answered `429 rate_limited` with `Retry-After`,
/// and a deadline for the whole request, answered `408 request_timeout`.
///
/// The defaults are sized so that no honest operator is ever throttled,
/// even many behind one address. An operator makes about two requests per
/// checkpoint (a long poll answered with the proposal, one signature or
/// rejection), and polls again at most every 250 ms when an aggregator
/// answers at once: at most 4 requests per second, about one every few
/// seconds normally. 50 per second sustained, with a burst of 200, admits a
/// dozen operators behind one NAT at their worst-case rate and a hundred at
/// their normal rate, plus dashboards (about 4 requests per second each);
/// an address sending more than that is not an operator. Addresses known to
/// front many operators (a NAT gateway, a reverse proxy) can be exempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorApiConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Requests per second each client address may make, sustained; 0
    /// turns the rate limit off.
    #[serde(default = "default_rate_limit_per_second")]
    pub rate_limit_per_second: u32,
    /// Requests an address may make at once above the sustained rate.
    #[serde(default = "default_rate_limit_burst")]
    pub rate_limit_burst: u32,
    /// Client addresses never rate limited (e.g. a NAT gateway in front of
    /// many operators, or a reverse proxy that limits itself).
    #[serde(default)]
    pub rate_limit_exempt: Vec<IpAddr>,
    /// Seconds a request may take from its head to the answer (a long poll
    /// gets its wait on top): a client sending its body slowly is answered
    /// `408` and disconnected.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Seconds a client has to send a request's head (line and headers)
    /// after connecting or after its previous request; an idle or slow
    /// connection is closed after it.
    #[serde(default = "default_header_timeout_secs")]
    pub header_timeout_secs: u64,
    /// Open connections the API holds at most; further ones wait in the
    /// kernel's backlog. Each operator holds one or two.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

fn default_rate_limit_per_second() -> u32 {
    50
}
fn default_rate_limit_burst() -> u32 {
    200
}
fn default_request_timeout_secs() -> u64 {
    10
}
fn default_header_timeout_secs() -> u64 {
    5
}
fn default_max_connections() -> usize {
    4096
}

/// The most requests per second one honest operator makes: a long poll
/// answered at once is repeated after 250 ms at the soonest (the node's
/// least poll interval), and each proposal gets one answer.
pub const OPERATOR_PEAK_REQUESTS_PER_SECOND: u32 = 5;

impl AggregatorApiConfig {
    /// This configuration with a rate limit that admits `operators` honest
    /// operators behind one address at their peak rate (a devnet, where
    /// every node is on the loopback address); never lower than it was.
    pub fn admitting_operators_behind_one_address(mut self, operators: usize) -> Self {
        if self.rate_limit_per_second == 0 {
            return self;
        }
        let operators = u32::try_from(operators).unwrap_or(u32::MAX);
        let peak = OPERATOR_PEAK_REQUESTS_PER_SECOND.saturating_mul(operators);
        self.rate_limit_per_second = self.rate_limit_per_second.max(peak);
        self.rate_limit_burst = self.rate_limit_burst.max(peak.saturating_mul(4));
        self
    }
}

impl Default for AggregatorApiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7300)),
            rate_limit_per_second: default_rate_limit_per_second(),
            rate_limit_burst: default_rate_limit_burst(),
            rate_limit_exempt: Vec::new(),
            request_timeout_secs: default_request_timeout_secs(),
            header_timeout_secs: default_header_timeout_secs(),
            max_connections: default_max_connections(),
        }
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
