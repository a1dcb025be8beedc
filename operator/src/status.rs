//! What is wrong with an operator, in plain words: the checks behind
//! `chorus operator status`.
//!
//! [`check`] takes the operator node's configuration (the file `chorus
//! operator run` reads) and the deployment it names, and answers one
//! [`CheckReport`] per check:
//!
//! | check | reads | finds |
//! |---|---|---|
//! | [`Check::L1`] | the L1 RPC's chain id | unreachable, wrong chain |
//! | [`Check::Registration`] | `ChorusRegistry.isRegistered`, EigenLayer's `DelegationManager.isOperator` and `AllocationManager.isMemberOfOperatorSet`, the registry's ejection events | not an EigenLayer operator, not registered with Chorus, ejected |
//! | [`Check::Stake`] | `AllocationManager.getAllocation` and `getMinimumSlashableStake` per registry strategy, the latest operator table | nothing allocated, allocation pending, no slashable stake, not in the latest table, below the minimum weight, deallocating |
//! | [`Check::Key`] | the BLS keystore's `pubkey` field, `ChorusRegistry.pubkeyHashOf` and `operatorOfKey` | keystore unreadable, another key registered, the key registered to another operator |
//! | [`Check::Protection`] | the slashing-protection store's owner | missing, of another key, of another deployment |
//! | [`Check::Rollup`] (each) | the operator's L2 node, the rollup's latest attestation on L1, the aggregators' `/v1/status` | unreachable, wrong chain, behind |
//! | [`Check::Aggregator`] (each) | `/health` and `/v1/status` | unreachable, unhealthy, another deployment |
//! | [`Check::NodeApi`] | the node's own `/eigen/node/health` | not running, not healthy |
//!
//! No password is needed: the BLS public key comes from the keystore's
//! `pubkey` field (EIP-2335 keeps it in clear), the operator's address from
//! the configuration. Nothing is written, and nothing shown quotes an RPC
//! URL whole ([`chorus_deploy::rpc_url`]).
//!
//! Each check first reads facts and then hands them to a pure `judge_*`
//! function that holds the rule, so every rule is tested without a chain.
//!
//! # When a rollup node is behind
//!
//! A node is *behind* when (1) its latest block is below the block L1
//! already attests for that rollup: the network moved past what this node
//! has seen; or (2) its head at the operator's safety depth has no block
//! yet; or (3) that head is more than [`AGGREGATOR_LAG_TOLERANCE`] blocks
//! below the safe head an aggregator reports on `/v1/status`, read just
//! before: the operator would answer the aggregator's proposals `notYetSafe`
//! instead of signing them (it waits about two seconds for its node to
//! catch up, which a block or two of propagation fits in).

use std::{
    fmt,
    future::{Future, IntoFuture},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use chorus_contracts::{
    IChorusAttestations, IChorusRegistry,
    table::{FetchTableError, fetch_latest_table},
};
use chorus_deploy::{
    chorus::Deployment,
    eigenlayer::OperatorSet,
    rpc_url::{self, RpcUrl},
};
use chorus_keys::{
    bls::{PUBLIC_KEY_BYTES, PublicKey},
    keystore::Keystore,
};
use chorus_rollup::{RollupConfig, RollupError, RollupReader, Safety};
use chorus_wire::{AggregatorStatus, routes};
use eigen_utils::slashing::core::{
    allocation_manager::AllocationManager, delegation_manager::DelegationManager,
};

use crate::{
    node::NodeConfig,
    protection::{Domain, OpenError, SlashingProtection},
    registration::OPERATOR_SET_ID,
};

/// How long any one read (RPC call, HTTP request) may take before it counts
/// as unanswered: a firewalled host never refuses a connection.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How many blocks an operator's safe head may trail an aggregator's before
/// its node counts as behind (see the [module docs](self)).
pub const AGGREGATOR_LAG_TOLERANCE: u64 = 2;

/// What one check is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The L1 RPC (`[l1] rpc_url`).
    L1,
    /// The operator's registration with EigenLayer and Chorus.
    Registration,
    /// Its allocated, slashable stake and its place in the operator table.
    Stake,
    /// Its BLS key against the one registered.
    Key,
    /// Its slashing-protection store.
    Protection,
    /// One `[[rollups]]` entry, by chain id.
    Rollup(u64),
    /// One `[[aggregators]]` entry, by URL as shown (scheme, host, port).
    Aggregator(String),
    /// The node's own API (`[api] listen`).
    NodeApi,
}

impl Check {
    /// A stable identifier for scripts: `l1`, `registration`, `stake`,
    /// `key`, `protection`, `rollup:901`, `aggregator:http://host:port`,
    /// `node-api`.
    pub fn id(&self) -> String {
        match self {
            Self::L1 => "l1".to_owned(),
            Self::Registration => "registration".to_owned(),
            Self::Stake => "stake".to_owned(),
            Self::Key => "key".to_owned(),
            Self::Protection => "protection".to_owned(),
            Self::Rollup(id) => format!("rollup:{id}"),
            Self::Aggregator(url) => format!("aggregator:{url}"),
            Self::NodeApi => "node-api".to_owned(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::L1 => f.write_str("L1 RPC"),
            Self::Registration => f.write_str("registration"),
            Self::Stake => f.write_str("stake"),
            Self::Key => f.write_str("BLS key"),
            Self::Protection => f.write_str("slashing protection"),
            Self::Rollup(id) => write!(f, "rollup {id}"),
            Self::Aggregator(url) => write!(f, "aggregator {url}"),
            Self::NodeApi => f.write_str("node API"),
        }
    }
}

/// How much a result matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// All is well.
    Ok,
    /// Could not be checked, because something it needs failed first (or
    /// cannot be known without a password).
    Skipped,
    /// Worth knowing; the operator still attests.
    Warning,
    /// The operator does not attest (or risks its stake) until it is fixed.
    Problem,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// All is well; what was seen.
    Passed(String),
    /// Something is wrong.
    Found(Finding),
    /// Not checked, and why.
    Skipped(String),
}

impl Outcome {
    /// How much it matters.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Passed(_) => Severity::Ok,
            Self::Skipped(_) => Severity::Skipped,
            Self::Found(finding) => finding.severity(),
        }
    }

    /// The finding, if something is wrong.
    pub fn finding(&self) -> Option<&Finding> {
        match self {
            Self::Found(finding) => Some(finding),
            _ => None,
        }
    }
}

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// What was checked.
    pub check: Check,
    /// What was found.
    pub outcome: Outcome,
}

/// Every check of one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// The operator's address, from the configuration.
    pub operator: Address,
    /// The checks, in the order they ran.
    pub checks: Vec<CheckReport>,
}

impl StatusReport {
    /// The checks that found something of `severity`.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &CheckReport> {
        self.checks.iter().filter(move |report| report.outcome.severity() == severity)
    }

    /// Whether no check found a [`Severity::Problem`].
    pub fn is_healthy(&self) -> bool {
        self.with_severity(Severity::Problem).next().is_none()
    }
}

/// Something wrong, with what it was found from. [`fmt::Display`] says it
/// in plain words; what to do about it depends on how Chorus is run, so the
/// caller (the `chorus` CLI) says that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The L1 RPC does not answer.
    L1Unreachable {
        /// The endpoint as shown.
        url: String,
        /// Why, without the URL.
        error: String,
    },
    /// The L1 RPC serves another chain than the deployment's.
    L1WrongChain {
        /// The endpoint as shown.
        url: String,
        /// The chain it serves.
        found: u64,
        /// The deployment's chain.
        expected: u64,
    },
    /// The L1 answered, but a read of the deployment's contracts failed.
    L1ReadFailed {
        /// The endpoint as shown.
        url: String,
        /// What was being read.
        what: String,
        /// Why, without the URL.
        error: String,
    },
    /// The address is not an EigenLayer operator at all.
    NotAnEigenLayerOperator {
        /// The operator address.
        operator: Address,
    },
    /// An EigenLayer operator, but not registered with Chorus.
    NotRegistered {
        /// The operator address.
        operator: Address,
    },
    /// Ejected by the slasher for equivocation: banned for good.
    Ejected {
        /// The operator address.
        operator: Address,
    },
    /// Registered, but nothing allocated to the Chorus operator set.
    NoAllocation {
        /// The operator address.
        operator: Address,
    },
    /// Nothing allocated yet; an allocation takes effect at a later block.
    AllocationPending {
        /// The block it takes effect at.
        effect_block: u32,
        /// The current block.
        current_block: u64,
    },
    /// Magnitude allocated, but no slashable stake behind it (no deposit).
    NoSlashableStake {
        /// The operator address.
        operator: Address,
    },
    /// The registry has published no operator table yet.
    NoTable,
    /// Registered with stake, but not in the latest operator table.
    NotInTable {
        /// The latest version.
        version: u32,
    },
    /// In the table with less weight than the registry's minimum: anyone
    /// may prune it.
    BelowMinimumWeight {
        /// Its weight.
        weight: U256,
        /// The registry's minimum.
        minimum: U256,
    },
    /// A deallocation is pending.
    Deallocating {
        /// The block it takes effect at.
        effect_block: u32,
    },
    /// The BLS keystore cannot be read.
    KeystoreUnreadable {
        /// The keystore.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// The keystore's key is not the one registered for this operator.
    KeyMismatch {
        /// The operator address.
        operator: Address,
        /// The keystore's key, 0x-hex (compressed G2).
        keystore_key: String,
    },
    /// The keystore's key is registered, by another operator address.
    KeyOfAnotherOperator {
        /// The configured operator address.
        operator: Address,
        /// The address that registered the key.
        owner: Address,
    },
    /// No slashing-protection store at the configured path.
    ProtectionMissing {
        /// The configured path.
        path: PathBuf,
    },
    /// The store belongs to another BLS key.
    ProtectionOtherKey {
        /// The store.
        path: PathBuf,
        /// The key it belongs to, 0x-hex.
        store_key: String,
    },
    /// The store belongs to another deployment.
    ProtectionOtherDomain {
        /// The store.
        path: PathBuf,
        /// Its L1 chain id.
        l1_chain_id: u64,
        /// Its attestation contract.
        attestation_contract: Address,
    },
    /// The store cannot be opened.
    ProtectionUnusable {
        /// The store.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// The rollup's node does not answer.
    RollupUnreachable {
        /// The rollup.
        rollup: u64,
        /// The endpoint as shown.
        url: String,
        /// Why, without the URL.
        error: String,
    },
    /// The rollup's node serves another chain.
    RollupWrongChain {
        /// The rollup configured.
        rollup: u64,
        /// The endpoint as shown.
        url: String,
        /// The chain it serves.
        found: u64,
    },
    /// The node's latest block is below what L1 already attests.
    RollupBehindL1 {
        /// The rollup.
        rollup: u64,
        /// The node's latest block.
        latest: u64,
        /// The latest block L1 attests.
        attested: u64,
    },
    /// The node has no block at the safety depth.
    RollupNoSafeBlock {
        /// The rollup.
        rollup: u64,
        /// The node's latest block.
        latest: u64,
        /// The configured depth.
        safety: Safety,
    },
    /// The node's safe head trails an aggregator's.
    RollupBehindAggregator {
        /// The rollup.
        rollup: u64,
        /// The node's head at the safety depth.
        safe_head: u64,
        /// The aggregator's safe head.
        aggregator_head: u64,
        /// The aggregator, as shown.
        aggregator: String,
    },
    /// The attestation contract does not list the rollup.
    RollupNotListed {
        /// The rollup.
        rollup: u64,
    },
    /// The aggregator does not answer.
    AggregatorUnreachable {
        /// The aggregator as shown.
        url: String,
        /// Why, without the URL.
        error: String,
    },
    /// `/health` answers with an error status.
    AggregatorUnhealthy {
        /// The aggregator as shown.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// `/v1/status` cannot be read.
    AggregatorStatusUnreadable {
        /// The aggregator as shown.
        url: String,
        /// Why.
        error: String,
    },
    /// The aggregator serves another deployment.
    AggregatorOtherDomain {
        /// The aggregator as shown.
        url: String,
        /// Its L1 chain id.
        l1_chain_id: u64,
        /// Its attestation contract.
        attestation_contract: Address,
    },
    /// Nothing answers at the node API's address.
    NodeNotRunning {
        /// The address asked.
        url: String,
    },
    /// The node answers `/eigen/node/health` with 206 or 503.
    NodeUnhealthy {
        /// The address asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Services not up, as `id (status): description`.
        services: Vec<String>,
    },
}

impl Finding {
    /// How much it matters.
    pub fn severity(&self) -> Severity {
        match self {
            Self::AllocationPending { .. }
            | Self::BelowMinimumWeight { .. }
            | Self::Deallocating { .. }
            | Self::RollupNotListed { .. }
            | Self::AggregatorStatusUnreadable { .. }
            | Self::NodeNotRunning { .. } => Severity::Warning,
            _ => Severity::Problem,
        }
    }

    /// A stable code for scripts (snake case).
    pub fn code(&self) -> &'static str {
        match self {
            Self::L1Unreachable { .. } => "l1_unreachable",
            Self::L1WrongChain { .. } => "l1_wrong_chain",
            Self::L1ReadFailed { .. } => "l1_read_failed",
            Self::NotAnEigenLayerOperator { .. } => "not_an_eigenlayer_operator",
            Self::NotRegistered { .. } => "unregistered",
            Self::Ejected { .. } => "ejected",
            Self::NoAllocation { .. } => "no_allocation",
            Self::AllocationPending { .. } => "allocation_pending",
            Self::NoSlashableStake { .. } => "no_slashable_stake",
            Self::NoTable => "no_table",
            Self::NotInTable { .. } => "not_in_table",
            Self::BelowMinimumWeight { .. } => "below_minimum_weight",
            Self::Deallocating { .. } => "deallocating",
            Self::KeystoreUnreadable { .. } => "keystore_unreadable",
            Self::KeyMismatch { .. } => "key_mismatch",
            Self::KeyOfAnotherOperator { .. } => "key_of_another_operator",
            Self::ProtectionMissing { .. } => "protection_missing",
            Self::ProtectionOtherKey { .. } => "protection_other_key",
            Self::ProtectionOtherDomain { .. } => "protection_other_deployment",
            Self::ProtectionUnusable { .. } => "protection_unusable",
            Self::RollupUnreachable { .. } => "l2_unreachable",
            Self::RollupWrongChain { .. } => "l2_wrong_chain",
            Self::RollupBehindL1 { .. } | Self::RollupNoSafeBlock { .. } => "l2_behind",
            Self::RollupBehindAggregator { .. } => "l2_behind_aggregator",
            Self::RollupNotListed { .. } => "rollup_not_listed",
            Self::AggregatorUnreachable { .. } => "aggregator_unreachable",
            Self::AggregatorUnhealthy { .. } => "aggregator_unhealthy",
            Self::AggregatorStatusUnreadable { .. } => "aggregator_status_unreadable",
            Self::AggregatorOtherDomain { .. } => "aggregator_other_deployment",
            Self::NodeNotRunning { .. } => "node_not_running",
            Self::NodeUnhealthy { .. } => "node_unhealthy",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::L1Unreachable { url, error } => {
                write!(f, "the L1 RPC at {url} does not answer ({error})")
            }
            Self::L1WrongChain { url, found, expected } => write!(
                f,
                "the L1 RPC at {url} serves chain {found}, but the deployment is on chain {expected}"
            ),
            Self::L1ReadFailed { url, what, error } => write!(
                f,
                "reading {what} from the L1 at {url} failed ({error}); are the deployment file \
                 and the L1 RPC of the same chain?"
            ),
            Self::NotAnEigenLayerOperator { operator } => write!(
                f,
                "{operator} is not registered: it is not even an EigenLayer operator, nor in the \
                 Chorus operator set"
            ),
            Self::NotRegistered { operator } => write!(
                f,
                "{operator} is an EigenLayer operator but not registered with Chorus (not in the \
                 Chorus operator set)"
            ),
            Self::Ejected { operator } => write!(
                f,
                "{operator} was ejected from Chorus for equivocation (slashed); the registry bans it \
                 and its BLS key for good"
            ),
            Self::NoAllocation { operator } => write!(
                f,
                "{operator} is registered but has no stake allocated to the Chorus operator set \
                 (allocated magnitude 0): it has no weight and cannot attest"
            ),
            Self::AllocationPending { effect_block, current_block } => write!(
                f,
                "no stake allocated yet: the allocation takes effect at L1 block {effect_block} \
                 (now {current_block})"
            ),
            Self::NoSlashableStake { operator } => write!(
                f,
                "{operator} allocates magnitude to Chorus but has no slashable stake behind it \
                 (nothing deposited in the strategy)"
            ),
            Self::NoTable => f.write_str("the registry has published no operator table yet"),
            Self::NotInTable { version } => write!(
                f,
                "registered with stake, but not in the latest operator table (version {version}): \
                 aggregators do not count this operator until the table is updated"
            ),
            Self::BelowMinimumWeight { weight, minimum } => write!(
                f,
                "weight {} is below the registry's minimum {}: anyone may prune this operator",
                tokens(*weight),
                tokens(*minimum)
            ),
            Self::Deallocating { effect_block } => write!(
                f,
                "a deallocation from Chorus is pending; it takes effect at L1 block {effect_block}"
            ),
            Self::KeystoreUnreadable { path, error } => {
                write!(f, "cannot read the BLS keystore {}: {error}", path.display())
            }
            Self::KeyMismatch { operator, keystore_key } => write!(
                f,
                "the BLS keystore holds key {}, which is not the key registered for {operator}: \
                 every signature this node makes would be refused",
                short_key(keystore_key)
            ),
            Self::KeyOfAnotherOperator { operator, owner } => write!(
                f,
                "the BLS keystore's key is registered by {owner}, not by the configured operator \
                 {operator}"
            ),
            Self::ProtectionMissing { path } => {
                write!(f, "no slashing-protection store at {}", path.display())
            }
            Self::ProtectionOtherKey { path, store_key } => write!(
                f,
                "the slashing-protection store {} belongs to BLS key {}, not to this keystore's \
                 key",
                path.display(),
                short_key(store_key)
            ),
            Self::ProtectionOtherDomain { path, l1_chain_id, attestation_contract } => write!(
                f,
                "the slashing-protection store {} belongs to another deployment (chain \
                 {l1_chain_id}, attestations {attestation_contract})",
                path.display()
            ),
            Self::ProtectionUnusable { path, error } => write!(
                f,
                "the slashing-protection store {} cannot be opened: {error}",
                path.display()
            ),
            Self::RollupUnreachable { rollup, url, error } => {
                write!(f, "the L2 node of rollup {rollup} at {url} does not answer ({error})")
            }
            Self::RollupWrongChain { rollup, url, found } => write!(
                f,
                "the L2 node configured for rollup {rollup} at {url} serves chain {found}"
            ),
            Self::RollupBehindL1 { rollup, latest, attested } => write!(
                f,
                "the L2 node of rollup {rollup} is behind: its latest block is {latest}, but L1 \
                 already attests block {attested}"
            ),
            Self::RollupNoSafeBlock { rollup, latest, safety } => write!(
                f,
                "the L2 node of rollup {rollup} is behind: at block {latest} it has no block at \
                 safety depth {safety} yet"
            ),
            Self::RollupBehindAggregator { rollup, safe_head, aggregator_head, aggregator } => {
                write!(
                    f,
                    "the L2 node of rollup {rollup} is behind: its safe head is block \
                     {safe_head}, aggregator {aggregator} proposes up to block {aggregator_head}"
                )
            }
            Self::RollupNotListed { rollup } => write!(
                f,
                "rollup {rollup} is not listed in the attestation contract: nothing of it is \
                 attested"
            ),
            Self::AggregatorUnreachable { url, error } => {
                write!(f, "aggregator {url} is unreachable ({error})")
            }
            Self::AggregatorUnhealthy { url, status } => {
                write!(f, "aggregator {url} answers /health with status {status}")
            }
            Self::AggregatorStatusUnreadable { url, error } => {
                write!(f, "aggregator {url} answers /health but not /v1/status: {error}")
            }
            Self::AggregatorOtherDomain { url, l1_chain_id, attestation_contract } => write!(
                f,
                "aggregator {url} serves another deployment (chain {l1_chain_id}, attestations \
                 {attestation_contract}): this node ignores its proposals"
            ),
            Self::NodeNotRunning { url } => write!(f, "no operator node answers at {url}"),
            Self::NodeUnhealthy { url, status, services } => {
                let state = if *status == 206 { "partially healthy" } else { "unhealthy" };
                write!(f, "the node at {url} reports itself {state} ({status})")?;
                if !services.is_empty() {
                    write!(f, "; not up: {}", services.join("; "))?;
                }
                Ok(())
            }
        }
    }
}

/// Runs every check for the operator `config` describes, on the deployment
/// it names. Never fails: what cannot be read is itself a finding, and what
/// depends on it is skipped.
pub async fn check(config: &NodeConfig, deployment: &Deployment) -> StatusReport {
    let operator = config.operator.address;
    let keystore = KeystoreKey::read(&config.operator.bls_keystore);
    let mut checks = Vec::new();
    let mut push = |check: Check, outcome: Outcome| checks.push(CheckReport { check, outcome });

    let (outcome, l1) = check_l1(&config.l1.rpc_url, deployment.chain_id).await;
    push(Check::L1, outcome);
    let chain = l1.map(|(provider, url)| L1View { provider, url, deployment });
    let registered = match &chain {
        Some(chain) => check_registration(chain, operator).await,
        None => (skipped_without_l1(), false),
    };
    push(Check::Registration, registered.0);
    let stake = match &chain {
        Some(_) if !registered.1 => {
            Outcome::Skipped("needs a registration (see the registration line)".to_owned())
        }
        Some(chain) => check_stake(chain, operator).await,
        None => skipped_without_l1(),
    };
    push(Check::Stake, stake);
    push(Check::Key, check_key(chain.as_ref(), operator, &keystore).await);
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    push(
        Check::Protection,
        check_protection(&config.operator.protection_db, domain, &keystore).await,
    );

    let mut views = Vec::new();
    for endpoint in &config.aggregators {
        let shown = rpc_url::shown(&endpoint.url);
        let (outcome, status) = check_aggregator(&endpoint.url, domain).await;
        if let Some(status) = status {
            views.push((shown.clone(), status));
        }
        push(Check::Aggregator(shown), outcome);
    }
    for rollup in &config.rollups {
        push(Check::Rollup(rollup.id), check_rollup(rollup, chain.as_ref(), &views).await);
    }
    push(Check::NodeApi, check_node_api(config.api.listen).await);
    StatusReport { operator, checks }
}

fn skipped_without_l1() -> Outcome {
    Outcome::Skipped("needs the L1 RPC".to_owned())
}

/// Runs `future` with [`CALL_TIMEOUT`]; a timeout becomes an error text.
async fn within<T, E: fmt::Display>(
    future: impl IntoFuture<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, future).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(_) => Err(format!("no answer within {}s", CALL_TIMEOUT.as_secs())),
    }
}

// ---------------------------------------------------------------------------
// L1
// ---------------------------------------------------------------------------

/// The L1 as the chain checks read it.
struct L1View<'a> {
    provider: DynProvider,
    url: RpcUrl,
    deployment: &'a Deployment,
}

impl L1View<'_> {
    fn operator_set(&self) -> OperatorSet {
        OperatorSet { avs: self.deployment.chorus.registry, id: OPERATOR_SET_ID }
    }

    /// A read that failed after the L1 answered once: a problem with the
    /// L1, named as such, its URL taken out of the error.
    fn read_failed(&self, what: &str, error: &str) -> Outcome {
        Outcome::Found(Finding::L1ReadFailed {
            url: self.url.to_string(),
            what: what.to_owned(),
            error: self.url.redact(error),
        })
    }
}

/// Whether the L1 RPC answers for the deployment's chain; the provider when
/// it does.
async fn check_l1(rpc_url: &str, expected: u64) -> (Outcome, Option<(DynProvider, RpcUrl)>) {
    let url = match RpcUrl::parse(rpc_url) {
        Ok(url) => url,
        Err(invalid) => {
            let finding = Finding::L1Unreachable {
                url: "[invalid URL]".to_owned(),
                error: invalid.to_string(),
            };
            return (Outcome::Found(finding), None);
        }
    };
    let provider = ProviderBuilder::new().connect_http(url.url().clone()).erased();
    let answer = tokio::time::timeout(CALL_TIMEOUT, provider.get_chain_id()).await;
    let found = match answer {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => {
            let finding =
                Finding::L1Unreachable { url: url.to_string(), error: url.redact_error(&error) };
            return (Outcome::Found(finding), None);
        }
        Err(_) => {
            let error = format!("no answer within {}s", CALL_TIMEOUT.as_secs());
            return (Outcome::Found(Finding::L1Unreachable { url: url.to_string(), error }), None);
        }
    };
    if found != expected {
        let finding = Finding::L1WrongChain { url: url.to_string(), found, expected };
        return (Outcome::Found(finding), None);
    }
    (Outcome::Passed(format!("{url} serves chain {found}")), Some((provider, url)))
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

/// What the chain says of an operator's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegistrationFacts {
    /// `ChorusRegistry.isRegistered`.
    pub registered: bool,
    /// `DelegationManager.isOperator`.
    pub eigenlayer_operator: bool,
    /// `AllocationManager.isMemberOfOperatorSet` for the Chorus set.
    pub in_operator_set: bool,
    /// The registry emitted `OperatorEjected` for it.
    pub ejected: bool,
}

/// The registration rule: registered means in the registry (which only the
/// AllocationManager's `registerForOperatorSets` puts it in).
pub fn judge_registration(operator: Address, facts: RegistrationFacts) -> Outcome {
    if facts.registered {
        let set = if facts.in_operator_set {
            "and in its EigenLayer operator set"
        } else {
            "(EigenLayer does not list it in the operator set)"
        };
        return Outcome::Passed(format!("{operator} is registered with Chorus {set}"));
    }
    Outcome::Found(if facts.ejected {
        Finding::Ejected { operator }
    } else if facts.eigenlayer_operator {
        Finding::NotRegistered { operator }
    } else {
        Finding::NotAnEigenLayerOperator { operator }
    })
}

/// Reads and judges the registration; also says whether it is registered.
async fn check_registration(chain: &L1View<'_>, operator: Address) -> (Outcome, bool) {
    match read_registration(chain, operator).await {
        Ok(facts) => (judge_registration(operator, facts), facts.registered),
        Err(error) => (chain.read_failed("the registration", &error), false),
    }
}

async fn read_registration(
    chain: &L1View<'_>,
    operator: Address,
) -> Result<RegistrationFacts, String> {
    let eigenlayer = &chain.deployment.eigenlayer;
    let registry = IChorusRegistry::new(chain.deployment.chorus.registry, &chain.provider);
    let delegation = DelegationManager::new(eigenlayer.delegation_manager, &chain.provider);
    let allocation = AllocationManager::new(eigenlayer.allocation_manager, &chain.provider);
    let registered = within(registry.isRegistered(operator).call()).await?;
    let eigenlayer_operator = within(delegation.isOperator(operator).call()).await?;
    let in_operator_set =
        within(allocation.isMemberOfOperatorSet(operator, chain.operator_set()).call()).await?;
    let ejected = !registered && was_ejected(chain, operator).await?;
    Ok(RegistrationFacts { registered, eigenlayer_operator, in_operator_set, ejected })
}

/// Whether the registry ever ejected `operator` (its event is indexed by
/// operator, so one filtered log query answers).
async fn was_ejected(chain: &L1View<'_>, operator: Address) -> Result<bool, String> {
    let filter = Filter::new()
        .address(chain.deployment.chorus.registry)
        .event_signature(IChorusRegistry::OperatorEjected::SIGNATURE_HASH)
        .topic1(operator.into_word())
        .from_block(0);
    Ok(!within(chain.provider.get_logs(&filter)).await?.is_empty())
}

// ---------------------------------------------------------------------------
// Stake
// ---------------------------------------------------------------------------

/// One strategy's allocation to the Chorus operator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllocationFacts {
    /// `currentMagnitude`.
    pub magnitude: u64,
    /// `pendingDiff`: positive for a pending increase, negative for a
    /// pending deallocation.
    pub pending_diff: i128,
    /// `effectBlock` of the pending change.
    pub effect_block: u32,
    /// The minimum slashable stake behind it now.
    pub slashable: U256,
}

/// The operator in the latest table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableFacts {
    /// The registry has published no table.
    NoTable,
    /// The latest version, and the operator's weight in it if listed.
    Latest {
        /// The version.
        version: u32,
        /// Its weight, if it is in the table.
        weight: Option<U256>,
    },
}

/// What the chain says of an operator's stake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeFacts {
    /// The current L1 block.
    pub current_block: u64,
    /// One per registry strategy.
    pub allocations: Vec<AllocationFacts>,
    /// The operator in the latest table.
    pub table: TableFacts,
    /// `ChorusRegistry.minOperatorWeight`.
    pub minimum_weight: U256,
}

/// The stake rule, first failure first: something allocated, stake behind
/// it, in the latest table, then the warnings (minimum weight, pending
/// deallocation).
pub fn judge_stake(operator: Address, facts: &StakeFacts) -> Outcome {
    let allocations = &facts.allocations;
    if allocations.iter().all(|a| a.magnitude == 0) {
        let pending = allocations.iter().filter(|a| a.pending_diff > 0).map(|a| a.effect_block);
        return Outcome::Found(match pending.min() {
            Some(effect_block) => {
                Finding::AllocationPending { effect_block, current_block: facts.current_block }
            }
            None => Finding::NoAllocation { operator },
        });
    }
    if allocations.iter().all(|a| a.slashable.is_zero()) {
        return Outcome::Found(Finding::NoSlashableStake { operator });
    }
    let (version, weight) = match facts.table {
        TableFacts::NoTable => return Outcome::Found(Finding::NoTable),
        TableFacts::Latest { version, weight: None } => {
            return Outcome::Found(Finding::NotInTable { version });
        }
        TableFacts::Latest { version, weight: Some(weight) } => (version, weight),
    };
    if weight < facts.minimum_weight {
        return Outcome::Found(Finding::BelowMinimumWeight {
            weight,
            minimum: facts.minimum_weight,
        });
    }
    if let Some(leaving) = allocations.iter().find(|a| a.pending_diff < 0) {
        return Outcome::Found(Finding::Deallocating { effect_block: leaving.effect_block });
    }
    let slashable = allocations.iter().fold(U256::ZERO, |sum, a| sum.saturating_add(a.slashable));
    Outcome::Passed(format!(
        "{} tokens of slashable stake allocated; weight {} in operator table version {version}",
        tokens(slashable),
        tokens(weight)
    ))
}

async fn check_stake(chain: &L1View<'_>, operator: Address) -> Outcome {
    match read_stake(chain, operator).await {
        Ok(facts) => judge_stake(operator, &facts),
        Err(error) => chain.read_failed("the stake", &error),
    }
}

async fn read_stake(chain: &L1View<'_>, operator: Address) -> Result<StakeFacts, String> {
    let registry = IChorusRegistry::new(chain.deployment.chorus.registry, &chain.provider);
    let allocation =
        AllocationManager::new(chain.deployment.eigenlayer.allocation_manager, &chain.provider);
    let strategies = within(registry.strategies().call()).await?;
    let minimum_weight = within(registry.minOperatorWeight().call()).await?;
    let current_block = within(chain.provider.get_block_number()).await?;
    let now = u32::try_from(current_block).map_err(|_| "the L1 block number passed u32")?;
    let slashable = within(
        allocation
            .getMinimumSlashableStake(chain.operator_set(), vec![operator], strategies.clone(), now)
            .call(),
    )
    .await?
    .into_iter()
    .next()
    .unwrap_or_default();
    let mut allocations = Vec::new();
    for (index, strategy) in strategies.iter().enumerate() {
        let read = allocation.getAllocation(operator, chain.operator_set(), *strategy);
        let current = within(read.call()).await?;
        allocations.push(AllocationFacts {
            magnitude: current.currentMagnitude,
            pending_diff: current.pendingDiff,
            effect_block: current.effectBlock,
            slashable: slashable.get(index).copied().unwrap_or_default(),
        });
    }
    let latest = fetch_latest_table(&chain.provider, chain.deployment.chorus.registry);
    let table = match within(async { Ok::<_, String>(latest.await) }).await? {
        Ok(table) => TableFacts::Latest {
            version: table.version(),
            weight: table.entries().iter().find(|e| e.operator == operator).map(|e| e.weight),
        },
        Err(FetchTableError::NoTable) => TableFacts::NoTable,
        Err(error) => return Err(error.to_string()),
    };
    Ok(StakeFacts { current_block, allocations, table, minimum_weight })
}

// ---------------------------------------------------------------------------
// Key
// ---------------------------------------------------------------------------

/// The BLS public key a keystore declares, read without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeystoreKey {
    /// The 96-byte G2 key Chorus signs with.
    Chorus(PublicKey),
    /// Only the 48-byte G1 key of Ethereum validator tools: the G2 key
    /// cannot be known without decrypting.
    OnlyG1,
    /// No `pubkey` field.
    Absent,
    /// The keystore cannot be read or is not a BLS keystore.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
}

impl KeystoreKey {
    /// Reads the `pubkey` field of the EIP-2335 keystore at `path`.
    pub fn read(path: &Path) -> Self {
        let unreadable = |error: String| Self::Unreadable { path: path.to_path_buf(), error };
        let keystore = match Keystore::from_file(path) {
            Ok(keystore) => keystore,
            Err(error) => return unreadable(error.to_string()),
        };
        let stored = keystore.pubkey_hex();
        if stored.is_empty() {
            return Self::Absent;
        }
        let Ok(bytes) = alloy::hex::decode(stored) else {
            return unreadable("its pubkey field is not hex".to_owned());
        };
        if bytes.len() != PUBLIC_KEY_BYTES {
            return Self::OnlyG1;
        }
        match PublicKey::from_bytes(&bytes) {
            Ok(key) => Self::Chorus(key),
            Err(error) => unreadable(format!("its pubkey field is not a BLS key: {error}")),
        }
    }

    fn public_key(&self) -> Option<&PublicKey> {
        match self {
            Self::Chorus(key) => Some(key),
            _ => None,
        }
    }

    /// Why the key is unknown, as an outcome (`None` when it is known).
    fn unknown(&self) -> Option<Outcome> {
        match self {
            Self::Chorus(_) => None,
            Self::Unreadable { path, error } => Some(Outcome::Found(Finding::KeystoreUnreadable {
                path: path.clone(),
                error: error.clone(),
            })),
            Self::OnlyG1 => Some(Outcome::Skipped(
                "the keystore stores only the G1 key of validator tools; `chorus keys show` \
                 (with its password) shows the G2 key to compare"
                    .to_owned(),
            )),
            Self::Absent => Some(Outcome::Skipped(
                "the keystore has no pubkey field; `chorus keys show` (with its password) shows \
                 the key"
                    .to_owned(),
            )),
        }
    }
}

/// How the registry identifies `key` ([`chorus_contracts::table::pubkey_hash`]).
pub fn registry_key_hash(key: &PublicKey) -> B256 {
    chorus_contracts::table::pubkey_hash(&key.to_eip2537())
}

/// What the registry holds for an operator and a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyFacts {
    /// `pubkeyHashOf(operator)`: zero if it never registered a key.
    pub registered_hash: B256,
    /// `operatorOfKey(keystore key hash)`: zero if nobody registered it.
    pub owner_of_key: Address,
}

/// The key rule: the keystore's key is the one registered for this
/// operator; a key registered by another address means the configured
/// address is wrong.
pub fn judge_key(operator: Address, key: &PublicKey, facts: KeyFacts) -> Outcome {
    let hash = registry_key_hash(key);
    if facts.registered_hash == hash {
        let shown = short_key(&key.to_string());
        return Outcome::Passed(format!("the keystore's key {shown} is the one registered"));
    }
    if facts.owner_of_key != Address::ZERO && facts.owner_of_key != operator {
        return Outcome::Found(Finding::KeyOfAnotherOperator {
            operator,
            owner: facts.owner_of_key,
        });
    }
    if facts.registered_hash.is_zero() {
        return Outcome::Skipped("no key is registered for this operator yet".to_owned());
    }
    Outcome::Found(Finding::KeyMismatch { operator, keystore_key: key.to_string() })
}

async fn check_key(
    chain: Option<&L1View<'_>>,
    operator: Address,
    keystore: &KeystoreKey,
) -> Outcome {
    if let Some(unknown) = keystore.unknown() {
        return unknown;
    }
    let (Some(chain), Some(key)) = (chain, keystore.public_key()) else {
        return skipped_without_l1();
    };
    let registry = IChorusRegistry::new(chain.deployment.chorus.registry, &chain.provider);
    let facts = async {
        let registered_hash = within(registry.pubkeyHashOf(operator).call()).await?;
        let owner_of_key = within(registry.operatorOfKey(registry_key_hash(key)).call()).await?;
        Ok::<_, String>(KeyFacts { registered_hash, owner_of_key })
    };
    match facts.await {
        Ok(facts) => judge_key(operator, key, facts),
        Err(error) => chain.read_failed("the registered key", &error),
    }
}

// ---------------------------------------------------------------------------
// Slashing protection
// ---------------------------------------------------------------------------

/// Opens the store as the node would (it refuses another key or domain)
/// and reads its summary; opening never creates a store.
async fn check_protection(path: &Path, domain: Domain, keystore: &KeystoreKey) -> Outcome {
    let Some(key) = keystore.public_key().copied() else {
        return Outcome::Skipped("needs the keystore's public key".to_owned());
    };
    let path = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || {
        let store = SlashingProtection::open(&path, domain, &key);
        judge_protection(&path, store.map(|store| store.summary().map_err(|e| e.to_string())))
    })
    .await;
    opened.unwrap_or_else(|error| Outcome::Skipped(format!("the check stopped: {error}")))
}

/// The protection rule: the store exists and belongs to this key and
/// deployment (the checks `SlashingProtection::open` makes).
fn judge_protection(
    path: &Path,
    opened: Result<Result<crate::protection::StoreSummary, String>, OpenError>,
) -> Outcome {
    let path = path.to_path_buf();
    match opened {
        Ok(Ok(summary)) => Outcome::Passed(format!(
            "{} belongs to this key and deployment ({} checkpoints signed)",
            path.display(),
            summary.checkpoints
        )),
        Ok(Err(error)) => Outcome::Found(Finding::ProtectionUnusable { path, error }),
        Err(OpenError::NotFound(_)) => Outcome::Found(Finding::ProtectionMissing { path }),
        Err(OpenError::WrongKey { store, .. }) => {
            Outcome::Found(Finding::ProtectionOtherKey { path, store_key: store })
        }
        Err(OpenError::WrongDomain { store, .. }) => {
            Outcome::Found(Finding::ProtectionOtherDomain {
                path,
                l1_chain_id: store.l1_chain_id,
                attestation_contract: store.attestation_contract,
            })
        }
        Err(error) => {
            Outcome::Found(Finding::ProtectionUnusable { path, error: error.to_string() })
        }
    }
}

// ---------------------------------------------------------------------------
// Aggregators
// ---------------------------------------------------------------------------

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder().timeout(CALL_TIMEOUT).build().map_err(|e| e.to_string())
}

/// `GET url`: the status and the body, or why there is none (without the
/// URL, which may hold a key).
async fn http_get(url: &str) -> Result<(u16, String), String> {
    let client = http_client()?;
    let response = client.get(url).send().await.map_err(http_error)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(http_error)?;
    Ok((status, body))
}

/// An HTTP client error with its causes ("error sending request: ...:
/// Connection refused"), without the URL.
fn http_error(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// A long hex key as `0x12345678…9abcdef0`, for one-line messages.
fn short_key(key: &str) -> String {
    let hex = key.trim_start_matches("0x");
    match (hex.get(..8), hex.get(hex.len().saturating_sub(8)..)) {
        (Some(head), Some(tail)) if hex.len() > 20 => format!("0x{head}…{tail}"),
        _ => key.to_owned(),
    }
}

/// A token amount (18 decimals) as a decimal number of tokens.
fn tokens(amount: U256) -> String {
    let text = alloy::primitives::utils::format_ether(amount);
    let text = if text.contains('.') { text.trim_end_matches('0') } else { &text };
    text.trim_end_matches('.').to_owned()
}

/// What an aggregator answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregatorFacts {
    /// `/health`: its status, or why it did not answer.
    pub health: Result<u16, String>,
    /// `/v1/status`, when `/health` answered.
    pub status: Option<Result<AggregatorStatus, String>>,
}

/// The aggregator rule: `/health` answers 200, and `/v1/status` names this
/// deployment.
pub fn judge_aggregator(url: &str, domain: Domain, facts: &AggregatorFacts) -> Outcome {
    let url = url.to_owned();
    match &facts.health {
        Err(error) => {
            return Outcome::Found(Finding::AggregatorUnreachable { url, error: error.clone() });
        }
        Ok(200) => {}
        Ok(status) => return Outcome::Found(Finding::AggregatorUnhealthy { url, status: *status }),
    }
    let status = match &facts.status {
        Some(Ok(status)) => status,
        Some(Err(error)) => {
            return Outcome::Found(Finding::AggregatorStatusUnreadable {
                url,
                error: error.clone(),
            });
        }
        None => return Outcome::Passed("answers /health".to_owned()),
    };
    let theirs = &status.domain;
    if theirs.l1_chain_id != domain.l1_chain_id
        || theirs.attestation_contract != domain.attestation_contract
    {
        return Outcome::Found(Finding::AggregatorOtherDomain {
            url,
            l1_chain_id: theirs.l1_chain_id,
            attestation_contract: theirs.attestation_contract,
        });
    }
    let table =
        status.table_version.map_or_else(|| "no table".to_owned(), |v| format!("table {v}"));
    Outcome::Passed(format!(
        "healthy, same deployment, {table}, {} checkpoints attested since it started",
        status.attested_checkpoints
    ))
}

/// Reads and judges one aggregator; returns its `/v1/status` when readable.
async fn check_aggregator(base: &str, domain: Domain) -> (Outcome, Option<AggregatorStatus>) {
    let base_trimmed = base.trim_end_matches('/');
    let health = http_get(&format!("{base_trimmed}{}", routes::HEALTH))
        .await
        .map(|(status, _)| status)
        .map_err(|error| rpc_url::redact(&error, base));
    let status = match health {
        Ok(200) => {
            Some(read_aggregator_status(base_trimmed).await.map_err(|e| rpc_url::redact(&e, base)))
        }
        _ => None,
    };
    let facts = AggregatorFacts { health, status };
    let outcome = judge_aggregator(&rpc_url::shown(base), domain, &facts);
    let view = facts.status.and_then(Result::ok);
    (outcome, view)
}

async fn read_aggregator_status(base: &str) -> Result<AggregatorStatus, String> {
    let (status, body) = http_get(&format!("{base}{}", routes::STATUS)).await?;
    if status != 200 {
        return Err(format!("status {status}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("not an aggregator status: {e}"))
}

// ---------------------------------------------------------------------------
// Rollups
// ---------------------------------------------------------------------------

/// What was read of one rollup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RollupFacts {
    /// The node's latest block.
    pub latest: u64,
    /// Its newest block at the safety depth, if it has one.
    pub safe_head: Option<u64>,
    /// The latest block L1 attests for the rollup, if any (and L1 answered).
    pub attested: Option<u64>,
    /// Whether the attestation contract lists it (if L1 answered).
    pub listed: Option<bool>,
    /// Each aggregator's safe head of it, by aggregator as shown.
    pub aggregator_heads: Vec<(String, u64)>,
}

/// The "behind" rule of the [module docs](self), then whether the rollup is
/// listed at all.
pub fn judge_rollup(rollup: u64, safety: Safety, facts: &RollupFacts) -> Outcome {
    if let Some(attested) = facts.attested
        && facts.latest < attested
    {
        return Outcome::Found(Finding::RollupBehindL1 { rollup, latest: facts.latest, attested });
    }
    let Some(safe_head) = facts.safe_head else {
        return Outcome::Found(Finding::RollupNoSafeBlock { rollup, latest: facts.latest, safety });
    };
    let furthest = facts.aggregator_heads.iter().max_by_key(|(_, head)| *head);
    if let Some((aggregator, head)) = furthest
        && safe_head.saturating_add(AGGREGATOR_LAG_TOLERANCE) < *head
    {
        return Outcome::Found(Finding::RollupBehindAggregator {
            rollup,
            safe_head,
            aggregator_head: *head,
            aggregator: aggregator.clone(),
        });
    }
    if facts.listed == Some(false) {
        return Outcome::Found(Finding::RollupNotListed { rollup });
    }
    let attested = match (facts.attested, facts.listed) {
        (Some(attested), _) => format!("L1 attests {attested}"),
        (None, Some(_)) => "nothing attested yet".to_owned(),
        (None, None) => "L1 not read".to_owned(),
    };
    Outcome::Passed(format!(
        "latest block {}, safe head {safe_head} at depth {safety}; {attested}",
        facts.latest
    ))
}

async fn check_rollup(
    rollup: &RollupConfig,
    chain: Option<&L1View<'_>>,
    views: &[(String, AggregatorStatus)],
) -> Outcome {
    // Aggregators were read first: a node read after them can only be
    // further along, so a lag found here is not a race.
    let aggregator_heads = views
        .iter()
        .filter_map(|(url, status)| {
            let theirs = status.rollups.iter().find(|r| r.rollup_id == rollup.id)?;
            Some((url.clone(), theirs.safe_head?))
        })
        .collect();
    let shown = rpc_url::shown(&rollup.rpc_url);
    let fail = |error: RollupError| rollup_unreachable(rollup.id, &shown, error);
    let id = rollup.id;
    let reader = match within_rollup(id, rollup.connect()).await {
        Ok(reader) => reader,
        Err(error) => return fail(error),
    };
    let tip = RollupReader::connect(id, &rollup.rpc_url, Safety::Confirmations(0));
    let latest = match within_rollup(id, async { tip.await?.safe_head().await }).await {
        Ok(head) => head.l2BlockNumber,
        Err(error) => return fail(error),
    };
    let safe_head = match within_rollup(id, reader.safe_head()).await {
        Ok(head) => Some(head.l2BlockNumber),
        Err(RollupError::NoSafeBlock { .. }) => None,
        Err(error) => return fail(error),
    };
    let (attested, listed) = match chain {
        Some(chain) => read_attested(chain, rollup.id).await,
        None => (None, None),
    };
    let facts = RollupFacts { latest, safe_head, attested, listed, aggregator_heads };
    judge_rollup(rollup.id, rollup.safety, &facts)
}

/// Runs a read of rollup `rollup_id` with [`CALL_TIMEOUT`].
async fn within_rollup<T>(
    rollup_id: u64,
    future: impl Future<Output = Result<T, RollupError>>,
) -> Result<T, RollupError> {
    tokio::time::timeout(CALL_TIMEOUT, future).await.unwrap_or_else(|_| {
        let message = format!("no answer within {}s", CALL_TIMEOUT.as_secs());
        Err(RollupError::Rpc {
            rollup_id,
            source: alloy::transports::TransportErrorKind::custom_str(&message),
        })
    })
}

fn rollup_unreachable(rollup: u64, url: &str, error: RollupError) -> Outcome {
    let url = url.to_owned();
    Outcome::Found(match error {
        RollupError::WrongChain { actual, .. } => {
            Finding::RollupWrongChain { rollup, url, found: actual }
        }
        RollupError::Rpc { source, .. } => {
            Finding::RollupUnreachable { rollup, url, error: source.to_string() }
        }
        other => Finding::RollupUnreachable { rollup, url, error: other.to_string() },
    })
}

/// The latest attested block of `rollup` and whether it is listed; `None`
/// for what L1 did not answer (the rollup check then judges without it).
async fn read_attested(chain: &L1View<'_>, rollup: u64) -> (Option<u64>, Option<bool>) {
    let attestations =
        IChorusAttestations::new(chain.deployment.chorus.attestations, &chain.provider);
    let attested = within(attestations.latestCommitment(rollup).call())
        .await
        .ok()
        .filter(|latest| latest.attestedAtBlock != 0)
        .map(|latest| latest.commitment.l2BlockNumber);
    let listed = within(attestations.isRollupListed(rollup).call()).await.ok();
    (attested, listed)
}

// ---------------------------------------------------------------------------
// The node's own API
// ---------------------------------------------------------------------------

/// Where to reach an API that listens on `listen` from this machine: an
/// unspecified address (`0.0.0.0`, `::`) is reached on loopback.
pub fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

async fn check_node_api(listen: SocketAddr) -> Outcome {
    if listen.port() == 0 {
        return Outcome::Skipped(
            "[api] listen has port 0 (a free port picked at start)".to_owned(),
        );
    }
    let base = format!("http://{}", local_address(listen));
    let status = match http_get(&format!("{base}/eigen/node/health")).await {
        Ok((status, _)) => status,
        Err(_) => return Outcome::Found(Finding::NodeNotRunning { url: base }),
    };
    if status == 200 {
        return Outcome::Passed(format!("{base}/eigen/node/health answers 200 (healthy)"));
    }
    let services = match http_get(&format!("{base}/eigen/node/services")).await {
        Ok((200, body)) => services_not_up(&body),
        _ => Vec::new(),
    };
    Outcome::Found(Finding::NodeUnhealthy { url: base, status, services })
}

/// `id (status): description` of each service of an `/eigen/node/services`
/// answer that is not `Up`.
fn services_not_up(body: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let text = |service: &serde_json::Value, key: &str| {
        service.get(key).and_then(serde_json::Value::as_str).unwrap_or("?").to_owned()
    };
    value
        .get("services")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|service| text(service, "status") != "Up")
        .map(|service| {
            format!(
                "{} ({}): {}",
                text(service, "id"),
                text(service, "status"),
                text(service, "description")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATOR: Address = Address::repeat_byte(7);

    fn allocation(magnitude: u64, pending_diff: i128, slashable: u64) -> AllocationFacts {
        AllocationFacts {
            magnitude,
            pending_diff,
            effect_block: 50,
            slashable: U256::from(slashable),
        }
    }

    fn stake(allocations: Vec<AllocationFacts>, table: TableFacts) -> StakeFacts {
        StakeFacts { current_block: 40, allocations, table, minimum_weight: U256::from(10) }
    }

    fn code(outcome: &Outcome) -> &'static str {
        outcome.finding().map_or("none", Finding::code)
    }

    #[test]
    fn registration_names_how_far_an_operator_got() {
        let facts = RegistrationFacts::default();
        assert_eq!(code(&judge_registration(OPERATOR, facts)), "not_an_eigenlayer_operator");
        let facts = RegistrationFacts { eigenlayer_operator: true, ..facts };
        assert_eq!(code(&judge_registration(OPERATOR, facts)), "unregistered");
        let facts = RegistrationFacts { ejected: true, ..facts };
        assert_eq!(code(&judge_registration(OPERATOR, facts)), "ejected");
        let facts = RegistrationFacts { registered: true, in_operator_set: true, ..facts };
        assert_eq!(judge_registration(OPERATOR, facts).severity(), Severity::Ok);
    }

    #[test]
    fn stake_needs_magnitude_stake_and_a_place_in_the_table() {
        let in_table = TableFacts::Latest { version: 3, weight: Some(U256::from(100)) };
        let judge = |allocations, table| judge_stake(OPERATOR, &stake(allocations, table));
        assert_eq!(code(&judge(vec![allocation(0, 0, 0)], in_table.clone())), "no_allocation");
        let pending = judge(vec![allocation(0, 5, 0)], in_table.clone());
        assert_eq!(code(&pending), "allocation_pending");
        assert_eq!(pending.severity(), Severity::Warning);
        assert_eq!(code(&judge(vec![allocation(5, 0, 0)], in_table.clone())), "no_slashable_stake");
        assert_eq!(code(&judge(vec![allocation(5, 0, 9)], TableFacts::NoTable)), "no_table");
        let missing = TableFacts::Latest { version: 3, weight: None };
        assert_eq!(code(&judge(vec![allocation(5, 0, 9)], missing)), "not_in_table");
        let light = TableFacts::Latest { version: 3, weight: Some(U256::from(9)) };
        assert_eq!(code(&judge(vec![allocation(5, 0, 9)], light)), "below_minimum_weight");
        assert_eq!(code(&judge(vec![allocation(5, -5, 9)], in_table.clone())), "deallocating");
        assert_eq!(judge(vec![allocation(5, 0, 9)], in_table).severity(), Severity::Ok);
    }

    #[test]
    fn the_key_must_be_the_registered_one() {
        let key = chorus_keys::bls::SecretKey::random().public_key();
        let other = chorus_keys::bls::SecretKey::random().public_key();
        let registered = |key: &PublicKey| KeyFacts {
            registered_hash: registry_key_hash(key),
            owner_of_key: Address::ZERO,
        };
        assert_eq!(judge_key(OPERATOR, &key, registered(&key)).severity(), Severity::Ok);
        assert_eq!(code(&judge_key(OPERATOR, &key, registered(&other))), "key_mismatch");
        let taken = KeyFacts { owner_of_key: Address::repeat_byte(9), ..registered(&other) };
        assert_eq!(code(&judge_key(OPERATOR, &key, taken)), "key_of_another_operator");
        let nothing = KeyFacts::default();
        assert_eq!(judge_key(OPERATOR, &key, nothing).severity(), Severity::Skipped);
    }

    #[test]
    fn a_rollup_node_is_behind_l1_or_the_aggregators() {
        let safety = Safety::Confirmations(2);
        let facts = RollupFacts {
            latest: 100,
            safe_head: Some(98),
            attested: Some(90),
            listed: Some(true),
            aggregator_heads: vec![("http://agg:7300".to_owned(), 98 + AGGREGATOR_LAG_TOLERANCE)],
        };
        assert_eq!(judge_rollup(901, safety, &facts).severity(), Severity::Ok);
        let behind_l1 = RollupFacts { latest: 3, safe_head: Some(1), ..facts.clone() };
        assert_eq!(code(&judge_rollup(901, safety, &behind_l1)), "l2_behind");
        let no_safe = RollupFacts { latest: 1, safe_head: None, attested: None, ..facts.clone() };
        assert_eq!(code(&judge_rollup(901, safety, &no_safe)), "l2_behind");
        let lagging = RollupFacts {
            aggregator_heads: vec![("http://agg:7300".to_owned(), 99 + AGGREGATOR_LAG_TOLERANCE)],
            ..facts.clone()
        };
        assert_eq!(code(&judge_rollup(901, safety, &lagging)), "l2_behind_aggregator");
        let unlisted = RollupFacts { listed: Some(false), ..facts };
        assert_eq!(judge_rollup(901, safety, &unlisted).severity(), Severity::Warning);
    }

    #[test]
    fn an_aggregator_must_answer_for_this_deployment() {
        let domain = Domain { l1_chain_id: 1, attestation_contract: Address::repeat_byte(1) };
        let status = |chain: u64| AggregatorStatus {
            domain: chorus_wire::Domain {
                l1_chain_id: chain,
                attestation_contract: domain.attestation_contract,
            },
            table_version: Some(1),
            rollups: Vec::new(),
            attested_checkpoints: 0,
            submitter: Address::ZERO,
        };
        let judge = |health, status| {
            judge_aggregator("http://agg:7300", domain, &AggregatorFacts { health, status })
        };
        assert_eq!(code(&judge(Err("refused".to_owned()), None)), "aggregator_unreachable");
        assert_eq!(code(&judge(Ok(503), None)), "aggregator_unhealthy");
        assert_eq!(code(&judge(Ok(200), Some(Ok(status(5))))), "aggregator_other_deployment");
        assert_eq!(judge(Ok(200), Some(Ok(status(1)))).severity(), Severity::Ok);
    }

    #[test]
    fn unspecified_listen_addresses_are_reached_on_loopback() {
        let any: SocketAddr = "0.0.0.0:9010".parse().unwrap();
        assert_eq!(local_address(any), "127.0.0.1:9010".parse().unwrap());
        let own: SocketAddr = "10.0.0.5:9010".parse().unwrap();
        assert_eq!(local_address(own), own);
    }

    #[test]
    fn amounts_and_keys_read_short() {
        assert_eq!(tokens(U256::from(10u128.pow(21))), "1000");
        assert_eq!(tokens(U256::from(15u128 * 10u128.pow(17))), "1.5");
        assert_eq!(tokens(U256::ZERO), "0");
        assert_eq!(short_key("0x0123456789abcdef0123456789"), "0x01234567…23456789");
        assert_eq!(short_key("0x1234"), "0x1234");
    }

    #[test]
    fn services_not_up_are_listed() {
        let body = r#"{"services":[{"id":"l1-registry","name":"L1","description":"ok","status":"Up"},
            {"id":"rollup-901","name":"r","description":"node down","status":"Down"}]}"#;
        assert_eq!(services_not_up(body), ["rollup-901 (Down): node down"]);
    }
}
