//! `OperatorTable`: follows the registry's operator table on L1.
//!
//! Every [`POLL_INTERVAL`] it reads `latestTableVersion`; a new version is
//! rebuilt from its `OperatorTableUpdated` event
//! ([`chorus_contracts::table::fetch_table`]) and decoded into a
//! [`SignerSet`] on the `Collectors` thread (keys are trusted as
//! proof-of-possession checked: the registry verified the proof on chain).
//! It keeps the latest version, which new proposals name, and the older
//! ones the attestation contract still accepts (`tableRecord(version)
//! .expiresAtBlock` not yet passed), which checkpoints in flight name.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use actix::prelude::*;
use alloy::{
    primitives::Address,
    providers::{DynProvider, Provider},
};
use chorus_contracts::{
    IChorusAttestations, IChorusRegistry,
    table::{FetchTableError, fetch_table},
};
use chorus_deploy::rpc_url::RpcUrl;

use super::{collect::Collectors, collect::PrepareSignerSet, metrics::Metrics};
use crate::quorum::{SignerSet, SignerSetError};

/// How often the registry is polled for a new table version.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Why the table could not be followed.
#[derive(Debug, thiserror::Error)]
pub enum TableSyncError {
    /// Reading the registry or the attestation contract failed.
    #[error("cannot read the operator table from L1: {0}")]
    Contract(#[from] alloy::contract::Error),
    /// Reading the block number failed.
    #[error("cannot read the L1 block number: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// Rebuilding a version failed.
    #[error(transparent)]
    Fetch(#[from] FetchTableError),
    /// A version's keys do not decode.
    #[error("operator table version {version} cannot be used: {source}")]
    Keys {
        /// The version.
        version: u32,
        /// Why.
        #[source]
        source: SignerSetError,
    },
    /// The registry has published no table yet.
    #[error(
        "the registry has published no operator table yet: register operators and call updateOperatorTable"
    )]
    NoTable,
    /// The version is not (or no longer) accepted by the contract.
    #[error("operator table version {0} is unknown or past its grace period")]
    Expired(u32),
    /// The collectors' thread is gone (the service is stopping).
    #[error("the aggregator is stopping")]
    Stopping,
}

/// Follows the operator table (see the [module docs](self)).
pub struct OperatorTable {
    provider: DynProvider,
    registry: Address,
    attestations: Address,
    collectors: Addr<Collectors>,
    metrics: Metrics,
    versions: BTreeMap<u32, Arc<SignerSet>>,
    refreshing: bool,
    /// The last failure logged, so a lasting one is logged once.
    last_failure: Option<String>,
    /// Only to take it out of the provider's error texts.
    l1: RpcUrl,
}

impl OperatorTable {
    /// A follower of `registry` (with `attestations` for grace periods),
    /// read through `provider`, which reads the L1 endpoint `l1`.
    pub fn new(
        provider: DynProvider,
        registry: Address,
        attestations: Address,
        collectors: Addr<Collectors>,
        metrics: Metrics,
        l1: RpcUrl,
    ) -> Self {
        Self {
            provider,
            registry,
            attestations,
            collectors,
            metrics,
            versions: BTreeMap::new(),
            refreshing: false,
            last_failure: None,
            l1,
        }
    }
}

impl Actor for OperatorTable {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(POLL_INTERVAL, |_, ctx| ctx.notify(Refresh));
    }
}

/// Reads the registry now; answers the latest version.
#[derive(Debug, Message)]
#[rtype(result = "Result<u32, TableSyncError>")]
pub struct Refresh;

/// What one refresh learnt.
struct Learnt {
    latest: u32,
    added: Option<(u32, Arc<SignerSet>)>,
    expired: Vec<u32>,
}

async fn prepare(
    provider: &DynProvider,
    registry: Address,
    collectors: &Addr<Collectors>,
    version: u32,
) -> Result<Arc<SignerSet>, TableSyncError> {
    let table = fetch_table(provider, registry, version).await?;
    collectors
        .send(PrepareSignerSet(table))
        .await
        .map_err(|_| TableSyncError::Stopping)?
        .map_err(|source| TableSyncError::Keys { version, source })
}

impl Handler<Refresh> for OperatorTable {
    type Result = ResponseActFuture<Self, Result<u32, TableSyncError>>;

    fn handle(&mut self, _: Refresh, _: &mut Context<Self>) -> Self::Result {
        let latest_known = self.versions.keys().next_back().copied();
        if self.refreshing {
            return Box::pin(fut::ready(latest_known.ok_or(TableSyncError::NoTable)));
        }
        self.refreshing = true;
        let (provider, registry, attestations) =
            (self.provider.clone(), self.registry, self.attestations);
        let collectors = self.collectors.clone();
        let older: Vec<u32> = self.versions.keys().copied().collect();
        let work = async move {
            let latest =
                IChorusRegistry::new(registry, &provider).latestTableVersion().call().await?;
            if latest == 0 {
                return Err(TableSyncError::NoTable);
            }
            let added = if latest_known == Some(latest) {
                None
            } else {
                Some((latest, prepare(&provider, registry, &collectors, latest).await?))
            };
            let block = provider.get_block_number().await?;
            let contract = IChorusAttestations::new(attestations, &provider);
            let mut expired = Vec::new();
            for version in older.into_iter().filter(|v| *v != latest) {
                let record = contract.tableRecord(version).call().await?;
                if record.expiresAtBlock != 0 && u64::from(record.expiresAtBlock) < block {
                    expired.push(version);
                }
            }
            Ok(Learnt { latest, added, expired })
        };
        Box::pin(work.into_actor(self).map(|learnt, table, _| {
            table.refreshing = false;
            let learnt = learnt.inspect_err(|e| {
                let failure = table.l1.redact(&e.to_string());
                if table.last_failure.as_ref() != Some(&failure) {
                    tracing::warn!("operator table: {failure}");
                    table.last_failure = Some(failure);
                }
            })?;
            table.last_failure = None;
            if let Some((version, signers)) = learnt.added {
                tracing::info!(
                    version,
                    operators = signers.len(),
                    total_weight = %signers.total_weight(),
                    "operator table version loaded"
                );
                table.versions.insert(version, signers);
            }
            for version in learnt.expired {
                tracing::info!(version, "operator table version past its grace period");
                table.versions.remove(&version);
            }
            table.metrics.table_version.set(i64::from(learnt.latest));
            Ok(learnt.latest)
        }))
    }
}

/// The latest version's operators, which new proposals name.
#[derive(Debug, Message)]
#[rtype(result = "Option<Arc<SignerSet>>")]
pub struct LatestSigners;

impl Handler<LatestSigners> for OperatorTable {
    type Result = Option<Arc<SignerSet>>;
    fn handle(&mut self, _: LatestSigners, _: &mut Context<Self>) -> Self::Result {
        self.versions.values().next_back().cloned()
    }
}

/// One version's operators, read from L1 if not held (checkpoints reloaded
/// on start name older versions).
#[derive(Debug, Message)]
#[rtype(result = "Result<Arc<SignerSet>, TableSyncError>")]
pub struct SignersOf(pub u32);

impl Handler<SignersOf> for OperatorTable {
    type Result = ResponseActFuture<Self, Result<Arc<SignerSet>, TableSyncError>>;
    fn handle(&mut self, msg: SignersOf, _: &mut Context<Self>) -> Self::Result {
        let version = msg.0;
        if let Some(signers) = self.versions.get(&version) {
            return Box::pin(fut::ready(Ok(signers.clone())));
        }
        let (provider, registry, collectors) =
            (self.provider.clone(), self.registry, self.collectors.clone());
        let work = async move { prepare(&provider, registry, &collectors, version).await };
        Box::pin(work.into_actor(self).map(move |signers, table, _| {
            let signers = signers?;
            table.versions.entry(version).or_insert_with(|| signers.clone());
            Ok(signers)
        }))
    }
}
