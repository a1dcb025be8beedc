//! [`ChainWatcher`]: the L1 registry as this operator needs it.
//!
//! It follows the registry's latest operator-table version and the versions
//! still in their grace period (`tableRecord(v).expiresAtBlock`, zero while
//! `v` is the latest), and whether this operator is in each with this
//! node's BLS key (the table's EIP-2537 G2 key compared byte for byte).
//! [`MaySign`] answers whether a checkpoint naming a table version may be
//! signed: never while unregistered, nor for a version the operator is not
//! in, that is unknown or that expired.
//!
//! The view is refreshed every [`POLL_INTERVAL`]. While L1 cannot be read
//! the last view stays in force (the contract rejects an expired version
//! anyway, and slashing protection does not depend on L1); the service
//! reports itself down.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message, WrapFuture,
};
use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider},
};
use chorus_contracts::{
    IChorusAttestations, IChorusRegistry,
    table::{FetchTableError, fetch_table},
};
use chorus_deploy::rpc_url;

use super::{
    metrics::Metrics,
    service::{Condition, GetServiceStatus, ServiceInfo, ServiceStatus, Shutdown},
};

/// How often the registry is read.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Superseded versions looked at besides the latest: more than any grace
/// period lets live at once in practice, few enough to keep a poll cheap.
const LOOKBACK_VERSIONS: u32 = 4;

/// The service id of L1 in the node API.
pub(crate) const SERVICE_ID: &str = "l1-registry";

/// Where the registry and the attestation contract live, and who we are.
#[derive(Debug, Clone)]
pub(crate) struct ChainIdentity {
    /// The L1 chain id of the deployment.
    pub(crate) chain_id: u64,
    /// `ChorusRegistry`.
    pub(crate) registry: Address,
    /// `ChorusAttestations` (holds `tableRecord`).
    pub(crate) attestations: Address,
    /// The operator's Ethereum address.
    pub(crate) operator: Address,
    /// The operator's BLS key, EIP-2537 encoded, as tables list it.
    pub(crate) pubkey: Bytes,
}

/// Asks whether a checkpoint naming `table_version` may be signed now.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<(), SigningRefused>")]
pub(crate) struct MaySign {
    /// The version the proposal names.
    pub(crate) table_version: u32,
}

/// Why the registry does not let this operator sign (now).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SigningRefused {
    /// L1 was never read since start.
    #[error("the L1 registry has not been read yet: waiting for the L1 node")]
    NotKnownYet,
    /// The registry has published no table.
    #[error(
        "the registry has published no operator table yet: someone must call updateOperatorTable once operators are registered"
    )]
    NoTable,
    /// Not (or no longer) in the latest table.
    #[error(
        "operator {operator} is not in the latest operator table (version {version}): register it (`chorus operator register`) and wait for the next updateOperatorTable"
    )]
    NotRegistered {
        /// The operator.
        operator: Address,
        /// The latest version.
        version: u32,
    },
    /// In the table, but with another BLS key.
    #[error(
        "operator {operator} is in operator table version {version} with another BLS key than this node's: run the node with the keystore that was registered"
    )]
    OtherKey {
        /// The operator.
        operator: Address,
        /// The version.
        version: u32,
    },
    /// Not in the table the proposal names.
    #[error(
        "operator {operator} is not in operator table version {version}, which the proposal names"
    )]
    NotInVersion {
        /// The operator.
        operator: Address,
        /// The version named.
        version: u32,
    },
    /// A version the registry has not published (as far as seen).
    #[error(
        "operator table version {version} is unknown here (latest seen: {latest}); the L1 view may lag, or the aggregator follows another registry"
    )]
    UnknownVersion {
        /// The version named.
        version: u32,
        /// The latest version seen.
        latest: u32,
    },
    /// A superseded version whose grace period is over.
    #[error(
        "operator table version {version} expired (latest: {latest}); the aggregator must propose under the latest version"
    )]
    Expired {
        /// The version named.
        version: u32,
        /// The latest version.
        latest: u32,
    },
}

impl SigningRefused {
    /// Whether the refusal is about this node's view of L1 rather than the
    /// operator's standing: L1 not read yet since start, or a table version
    /// the aggregator saw first. Asking again soon may find it signable.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, Self::NotKnownYet | Self::UnknownVersion { .. })
    }

    /// A stable word for metrics.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::NotKnownYet => "l1_not_read",
            Self::NoTable => "no_table",
            Self::NotRegistered { .. } => "not_registered",
            Self::OtherKey { .. } => "other_key",
            Self::NotInVersion { .. } => "not_in_version",
            Self::UnknownVersion { .. } => "unknown_version",
            Self::Expired { .. } => "expired_version",
        }
    }
}

/// Whether the operator is in one table version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    /// With this node's key.
    Member,
    /// With another key.
    OtherKey,
    /// Not at all.
    Absent,
}

/// One table version as seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct VersionView {
    membership: Membership,
    /// The operator's weight in it (zero when absent).
    weight: U256,
    /// Last L1 block it is accepted in; zero while it is the latest.
    expires_at_block: u64,
}

/// What the registry said at the last successful poll.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RegistryView {
    l1_block: u64,
    latest: u32,
    versions: BTreeMap<u32, VersionView>,
}

impl RegistryView {
    /// The operator's weight in the latest table (`eigen_registered_stakes`).
    fn latest_weight(&self) -> U256 {
        self.versions.get(&self.latest).map_or(U256::ZERO, |view| view.weight)
    }

    fn may_sign(&self, operator: Address, version: u32) -> Result<(), SigningRefused> {
        let latest = self.latest;
        if latest == 0 {
            return Err(SigningRefused::NoTable);
        }
        self.standing(operator)?;
        if version > latest {
            return Err(SigningRefused::UnknownVersion { version, latest });
        }
        let Some(view) = self.versions.get(&version) else {
            return Err(SigningRefused::Expired { version, latest });
        };
        if version != latest && view.expires_at_block != 0 && view.expires_at_block < self.l1_block
        {
            return Err(SigningRefused::Expired { version, latest });
        }
        match view.membership {
            Membership::Member => Ok(()),
            Membership::OtherKey => Err(SigningRefused::OtherKey { operator, version }),
            Membership::Absent => Err(SigningRefused::NotInVersion { operator, version }),
        }
    }

    /// Whether the operator is registered in the latest table.
    fn standing(&self, operator: Address) -> Result<(), SigningRefused> {
        let version = self.latest;
        match self.versions.get(&version).map(|view| view.membership) {
            _ if version == 0 => Err(SigningRefused::NoTable),
            Some(Membership::Member) => Ok(()),
            Some(Membership::OtherKey) => Err(SigningRefused::OtherKey { operator, version }),
            Some(Membership::Absent) | None => {
                Err(SigningRefused::NotRegistered { operator, version })
            }
        }
    }
}

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
enum PollError {
    /// The node did not answer.
    #[error("the L1 node does not answer: {0}")]
    Rpc(#[source] alloy::transports::TransportError),
    /// The node serves another chain than the deployment's.
    #[error(
        "the L1 node serves chain {actual}, the deployment is on chain {expected}: point [l1] rpc_url at chain {expected}"
    )]
    WrongChain {
        /// The deployment's chain.
        expected: u64,
        /// The node's chain.
        actual: u64,
    },
    /// A registry or attestation-contract call failed.
    #[error("cannot read the registry: {0}")]
    Contract(#[from] alloy::contract::Error),
    /// A table could not be fetched or rebuilt.
    #[error(transparent)]
    Table(#[from] FetchTableError),
}

/// Follows the registry on L1.
pub(crate) struct ChainWatcher {
    provider: DynProvider,
    /// Only to keep it out of logs and the API.
    rpc_url: String,
    identity: ChainIdentity,
    view: Option<RegistryView>,
    condition: Condition,
    /// The last standing logged, so that each change is logged once.
    logged_standing: Option<Result<u32, SigningRefused>>,
    polling: bool,
    metrics: Arc<Metrics>,
}

impl ChainWatcher {
    /// A watcher reading L1 through `provider`.
    pub(crate) fn new(
        provider: DynProvider,
        rpc_url: String,
        identity: ChainIdentity,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            provider,
            rpc_url,
            identity,
            view: None,
            condition: Condition::initializing(),
            logged_standing: None,
            polling: false,
            metrics,
        }
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        if self.polling {
            return;
        }
        self.polling = true;
        let work = read_registry(self.provider.clone(), self.identity.clone(), self.view.clone());
        ctx.spawn(work.into_actor(self).map(|result, watcher, _| {
            watcher.polling = false;
            watcher.record(result);
        }));
    }

    fn record(&mut self, result: Result<RegistryView, PollError>) {
        match result {
            Ok(view) => {
                if self.condition.up() {
                    tracing::info!(l1_block = view.l1_block, "L1 registry readable");
                }
                self.metrics.registered_stake(view.latest_weight());
                self.view = Some(view);
            }
            Err(error) => {
                let problem = rpc_url::redact(&error.to_string(), &self.rpc_url);
                if self.condition.down(problem.clone()) {
                    tracing::warn!(error = %problem, "cannot read the Chorus registry on L1; check [l1] rpc_url and that the node is running. Signing goes on with the last table seen");
                }
            }
        }
        self.log_standing_change();
    }

    fn standing(&self) -> Result<u32, SigningRefused> {
        let view = self.view.as_ref().ok_or(SigningRefused::NotKnownYet)?;
        view.standing(self.identity.operator).map(|()| view.latest)
    }

    fn log_standing_change(&mut self) {
        let standing = self.standing();
        if self.logged_standing.as_ref() == Some(&standing) {
            return;
        }
        match &standing {
            Ok(version) => tracing::info!(
                operator = %self.identity.operator,
                table_version = version,
                "registered in the latest operator table with this node's key: signing enabled"
            ),
            Err(SigningRefused::NotKnownYet) => {}
            Err(refusal) => tracing::warn!(
                operator = %self.identity.operator,
                "not signing: {refusal}"
            ),
        }
        self.logged_standing = Some(standing);
    }
}

/// Reads the block number, the latest version and the versions in grace;
/// tables already seen are not fetched again (a version never changes).
async fn read_registry(
    provider: DynProvider,
    identity: ChainIdentity,
    previous: Option<RegistryView>,
) -> Result<RegistryView, PollError> {
    let actual = provider.get_chain_id().await.map_err(PollError::Rpc)?;
    if actual != identity.chain_id {
        return Err(PollError::WrongChain { expected: identity.chain_id, actual });
    }
    let l1_block = provider.get_block_number().await.map_err(PollError::Rpc)?;
    let registry = IChorusRegistry::new(identity.registry, &provider);
    let attestations = IChorusAttestations::new(identity.attestations, &provider);
    let latest = registry.latestTableVersion().call().await?;
    let mut versions = BTreeMap::new();
    let oldest = latest.saturating_sub(LOOKBACK_VERSIONS).max(1);
    for version in (oldest..=latest).rev() {
        let expires_at_block =
            u64::from(attestations.tableRecord(version).call().await?.expiresAtBlock);
        if version != latest && expires_at_block < l1_block {
            // Expired, and so is every older version.
            break;
        }
        let known = previous.as_ref().and_then(|view| view.versions.get(&version));
        let (membership, weight) = match known {
            Some(view) => (view.membership, view.weight),
            None => {
                membership(&fetch_table(&provider, identity.registry, version).await?, &identity)
            }
        };
        versions.insert(version, VersionView { membership, weight, expires_at_block });
    }
    Ok(RegistryView { l1_block, latest, versions })
}

/// Whether the operator is in `table`, and its weight there (its stake
/// counts as registered even under another key).
fn membership(
    table: &chorus_contracts::table::OperatorTable,
    identity: &ChainIdentity,
) -> (Membership, U256) {
    match table.entries().iter().find(|entry| entry.operator == identity.operator) {
        Some(entry) if entry.pubkey == identity.pubkey => (Membership::Member, entry.weight),
        Some(entry) => (Membership::OtherKey, entry.weight),
        None => (Membership::Absent, U256::ZERO),
    }
}

impl Actor for ChainWatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.poll(ctx);
        ctx.run_interval(POLL_INTERVAL, |watcher, ctx| watcher.poll(ctx));
    }
}

impl Handler<MaySign> for ChainWatcher {
    type Result = Result<(), SigningRefused>;

    fn handle(
        &mut self,
        MaySign { table_version }: MaySign,
        ctx: &mut Context<Self>,
    ) -> Self::Result {
        let view = self.view.as_ref().ok_or(SigningRefused::NotKnownYet)?;
        let verdict = view.may_sign(self.identity.operator, table_version);
        if let Err(refusal) = &verdict {
            self.metrics.refused_by_registry(refusal.label());
            if matches!(refusal, SigningRefused::UnknownVersion { .. }) {
                // The aggregator saw a newer table: look now rather than at
                // the next tick, so that its next proposal finds it.
                self.poll(ctx);
            }
        }
        verdict
    }
}

impl Handler<GetServiceStatus> for ChainWatcher {
    type Result = ServiceInfo;

    /// Up only when L1 answers and the operator is in the latest table with
    /// this key: an unregistered node is not serving Chorus.
    fn handle(&mut self, _: GetServiceStatus, _: &mut Context<Self>) -> ServiceInfo {
        let (status, description) = match (self.condition.status(), self.standing()) {
            (ServiceStatus::Up, Ok(version)) => (
                ServiceStatus::Up,
                format!("L1 registry: registered in operator table version {version}"),
            ),
            (ServiceStatus::Initializing, _) => {
                (ServiceStatus::Initializing, "L1 registry: not read yet".to_owned())
            }
            (ServiceStatus::Down, _) => {
                (ServiceStatus::Down, self.condition.describe("L1 registry unreadable"))
            }
            (ServiceStatus::Up, Err(refusal)) => {
                (ServiceStatus::Down, format!("L1 registry: {refusal}"))
            }
        };
        ServiceInfo {
            id: SERVICE_ID.to_owned(),
            name: "L1 registry".to_owned(),
            description,
            status,
        }
    }
}

impl Handler<Shutdown> for ChainWatcher {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Address = Address::repeat_byte(7);

    fn view(latest: u32, l1_block: u64, versions: &[(u32, Membership, u64)]) -> RegistryView {
        RegistryView {
            l1_block,
            latest,
            versions: versions
                .iter()
                .map(|&(v, membership, expires_at_block)| {
                    let weight = U256::from(u64::from(membership == Membership::Member) * 5);
                    (v, VersionView { membership, weight, expires_at_block })
                })
                .collect(),
        }
    }

    #[test]
    fn signs_only_for_versions_it_is_in_and_that_are_live() {
        let live = view(3, 100, &[(3, Membership::Member, 0), (2, Membership::Member, 105)]);
        assert_eq!(live.may_sign(ME, 3), Ok(()));
        assert_eq!(live.may_sign(ME, 2), Ok(()));
        assert_eq!(
            live.may_sign(ME, 4),
            Err(SigningRefused::UnknownVersion { version: 4, latest: 3 })
        );
        assert_eq!(live.may_sign(ME, 1), Err(SigningRefused::Expired { version: 1, latest: 3 }));
        let later = RegistryView { l1_block: 106, ..live };
        assert_eq!(later.may_sign(ME, 2), Err(SigningRefused::Expired { version: 2, latest: 3 }));
    }

    #[test]
    fn the_registered_stake_is_the_weight_in_the_latest_table() {
        let member = view(3, 100, &[(3, Membership::Member, 0), (2, Membership::Absent, 105)]);
        assert_eq!(member.latest_weight(), U256::from(5));
        let left = view(3, 100, &[(3, Membership::Absent, 0), (2, Membership::Member, 105)]);
        assert_eq!(left.latest_weight(), U256::ZERO);
        assert_eq!(view(0, 100, &[]).latest_weight(), U256::ZERO);
    }

    #[test]
    fn refuses_while_unregistered_or_under_another_key() {
        let absent = view(3, 100, &[(3, Membership::Absent, 0), (2, Membership::Member, 105)]);
        // Registered in an old version does not help once out of the latest.
        assert_eq!(
            absent.may_sign(ME, 2),
            Err(SigningRefused::NotRegistered { operator: ME, version: 3 })
        );
        let other = view(3, 100, &[(3, Membership::OtherKey, 0)]);
        assert_eq!(
            other.may_sign(ME, 3),
            Err(SigningRefused::OtherKey { operator: ME, version: 3 })
        );
        let joined = view(3, 100, &[(3, Membership::Member, 0), (2, Membership::Absent, 105)]);
        assert_eq!(
            joined.may_sign(ME, 2),
            Err(SigningRefused::NotInVersion { operator: ME, version: 2 })
        );
        assert_eq!(view(0, 100, &[]).may_sign(ME, 1), Err(SigningRefused::NoTable));
    }
}
