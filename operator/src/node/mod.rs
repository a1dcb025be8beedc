//! The operator node: actors that watch rollups, follow the L1 operator
//! table, answer aggregators' proposals and sign behind slashing protection.
//!
//! # Actors
//!
//! | actor | owns | answers |
//! |---|---|---|
//! | `RollupWatcher` (one per `[[rollups]]`) | a [`chorus_rollup::RollupReader`] on the operator's own L2 node | `JudgeCommitment` ([`chorus_rollup::RollupReader::judge`]) |
//! | `ChainWatcher` | an L1 provider; the registry's latest table and versions in grace | `MaySign` (registered, version known and live) |
//! | `Signer` (a one-thread `SyncArbiter`) | the BLS key and the [`SlashingProtection`] store | `SignCheckpoint`, `SignRejection` |
//! | `AggregatorLink` (one per `[[aggregators]]`) | its long poll and backoff | nothing: it drives the flow |
//!
//! Every actor also answers `GetServiceStatus`, from which the node API
//! (`/eigen/node/...`, per the EigenLayer AVS node specification) and
//! `/metrics` are served.
//!
//! # The flow of one proposal
//!
//! An `AggregatorLink` receives a [`chorus_wire::Proposal`], drops it if it
//! is of another deployment or malformed (its root is recomputed, never
//! taken as given), asks the `ChainWatcher` whether its table version may be
//! signed, has every commitment judged by its rollup's `RollupWatcher`, and
//! then either has the `Signer` record and sign the checkpoint and posts the
//! [`chorus_wire::SignedCheckpoint`], or has it sign a
//! [`chorus_wire::Rejection`] naming what it refuses and posts that. The
//! store write (fsync) happens before the signature exists; [`NodeHandle::stop`]
//! waits for answers in flight, so no signature made is lost.

mod aggregator_link;
mod api;
mod chain_watcher;
pub mod config;
mod metrics;
pub mod proposal;
mod rollup_watcher;
mod service;
mod signer;

use std::{collections::HashSet, net::SocketAddr, sync::Arc};

use actix::{Actor, Addr, Recipient, SyncArbiter};
use actix_web::{App, HttpServer, dev::ServerHandle, web};
use alloy::{primitives::Bytes, transports::http::reqwest::Url};
use chorus_deploy::chorus::Deployment;
use chorus_keys::bls::SecretKey;

use crate::protection::{Domain, SlashingProtection};
pub use config::NodeConfig;

use self::{
    aggregator_link::{AggregatorLink, LinkPeers},
    api::ApiState,
    chain_watcher::{ChainIdentity, ChainWatcher},
    metrics::Metrics,
    rollup_watcher::RollupWatcher,
    service::{GetServiceStatus, Shutdown},
    signer::Signer,
};

/// What [`start`] needs: the configuration and what the binary already
/// opened (the decrypted key, the deployment file, the protection store).
pub struct NodeSetup {
    /// The configuration file's contents.
    pub config: NodeConfig,
    /// The operator's BLS key.
    pub key: SecretKey,
    /// The deployment named by `config.l1.deployment`.
    pub deployment: Deployment,
    /// The slashing-protection store, opened for this key and domain.
    pub protection: SlashingProtection,
}

/// Why the node could not start. Nothing was left running.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The store belongs to another deployment than the one configured.
    #[error(
        "the slashing-protection store {path} is for {store}, but the deployment configured is {deployment}: point [operator] protection_db at this deployment's store"
    )]
    WrongDomain {
        /// The store's file.
        path: std::path::PathBuf,
        /// The store's domain.
        store: Domain,
        /// The deployment's domain.
        deployment: Domain,
    },
    /// The store belongs to another key than the one given.
    #[error(
        "the slashing-protection store {path} is for BLS key {store}, but the node's key is {key}: use the keystore and the store of the same key"
    )]
    WrongKey {
        /// The store's file.
        path: std::path::PathBuf,
        /// The store's key.
        store: String,
        /// The node's key.
        key: String,
    },
    /// Nothing to attest.
    #[error("no [[rollups]] configured: add the rollups this operator attests")]
    NoRollups,
    /// Nobody to answer.
    #[error("no [[aggregators]] configured: add at least one aggregator URL")]
    NoAggregators,
    /// One rollup configured twice.
    #[error("rollup {0} is configured twice in [[rollups]]: keep one entry per rollup")]
    DuplicateRollup(u64),
    /// A URL that does not parse.
    #[error("{what} is {reason}")]
    BadUrl {
        /// Which URL (`[l1] rpc_url`, an aggregator).
        what: &'static str,
        /// The parser's complaint, which never quotes the URL (it may
        /// carry an API key).
        reason: chorus_deploy::rpc_url::InvalidRpcUrl,
    },
    /// The node API could not listen.
    #[error("cannot listen on {addr} for the node API ([api] listen): {source}")]
    Bind {
        /// The address configured.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A running node.
pub struct NodeHandle {
    api_addr: SocketAddr,
    server: ServerHandle,
    actors: Actors,
}

/// Every actor of a node, to stop them.
struct Actors {
    links: Vec<Addr<AggregatorLink>>,
    rollups: Vec<Addr<RollupWatcher>>,
    chain: Addr<ChainWatcher>,
    signer: Addr<Signer>,
}

impl Actors {
    /// Stops the links first, each once the answer it is working on (if
    /// any) has been posted, then the watchers and the signer.
    async fn stop(self) {
        // A send error means the actor stopped already.
        for link in &self.links {
            let _ = link.send(Shutdown).await;
        }
        for rollup in &self.rollups {
            let _ = rollup.send(Shutdown).await;
        }
        let _ = self.chain.send(Shutdown).await;
        // The signer's thread ends (closing the store) once its last
        // address is dropped; its queue is empty since every link stopped.
        drop(self.signer);
    }
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle").field("api_addr", &self.api_addr).finish_non_exhaustive()
    }
}

impl NodeHandle {
    /// Where the node API and `/metrics` listen.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Stops every actor and the API server, and waits until they stopped.
    ///
    /// Aggregator links stop first, each once the answer it is working on
    /// (if any) has been posted: a signature made is never dropped.
    pub async fn stop(self) {
        self.actors.stop().await;
        self.server.stop(true).await;
        tracing::info!("operator node stopped");
    }
}

/// Starts the node's actors and API in the current actix system; returns
/// once the API is bound and the actors are running.
pub async fn start(setup: NodeSetup) -> Result<NodeHandle, NodeError> {
    let NodeSetup { config, key, deployment, protection } = setup;
    check_setup(&config, &key, &deployment, &protection)?;
    let l1_url = parse_url("[l1] rpc_url", &config.l1.rpc_url)?;
    for aggregator in &config.aggregators {
        parse_url("[[aggregators]] url", &aggregator.url)?;
    }
    let metrics = Arc::new(Metrics::new());
    let domain = Signer::wire_domain(&protection);
    let identity = ChainIdentity {
        chain_id: deployment.chain_id,
        registry: deployment.chorus.registry,
        attestations: deployment.chorus.attestations,
        operator: config.operator.address,
        pubkey: Bytes::copy_from_slice(&key.public_key().to_eip2537()),
    };
    let provider = chorus_telemetry::http_provider(l1_url, &metrics.rpc);
    let chain =
        ChainWatcher::new(provider, config.l1.rpc_url.clone(), identity, metrics.clone()).start();
    let rollups: Vec<(u64, Addr<RollupWatcher>)> = config
        .rollups
        .iter()
        .map(|rollup| (rollup.id, RollupWatcher::new(rollup.clone(), metrics.clone()).start()))
        .collect();
    let (key, store) = (Arc::new(key), Arc::new(protection));
    let signer = SyncArbiter::start(1, move || Signer::new(key.clone(), store.clone()));
    let peers = Arc::new(LinkPeers {
        operator: config.operator.address,
        domain,
        judges: rollups.iter().map(|(id, addr)| (*id, addr.clone().recipient())).collect(),
        chain: chain.clone().recipient(),
        sign_checkpoint: signer.clone().recipient(),
        sign_rejection: signer.clone().recipient(),
        metrics: metrics.clone(),
    });
    let links: Vec<Addr<AggregatorLink>> = config
        .aggregators
        .iter()
        .enumerate()
        .map(|(index, aggregator)| {
            AggregatorLink::new(index, &aggregator.url, peers.clone()).start()
        })
        .collect();

    let mut services: Vec<(String, Recipient<GetServiceStatus>)> =
        vec![(chain_watcher::SERVICE_ID.to_owned(), chain.clone().recipient())];
    services.extend(
        rollups.iter().map(|(id, addr)| (RollupWatcher::service_id(*id), addr.clone().recipient())),
    );
    services.extend(
        links
            .iter()
            .enumerate()
            .map(|(index, addr)| (AggregatorLink::service_id(index), addr.clone().recipient())),
    );
    let state = web::Data::new(ApiState { services, metrics });
    let actors = Actors {
        links,
        rollups: rollups.into_iter().map(|(_, addr)| addr).collect(),
        chain,
        signer,
    };
    let listen = config.api.listen;
    let (server, api_addr) = match serve(state, listen) {
        Ok(bound) => bound,
        Err(source) => {
            actors.stop().await;
            return Err(NodeError::Bind { addr: listen, source });
        }
    };
    let server_handle = server.handle();
    actix_rt::spawn(server);
    tracing::info!(
        %api_addr,
        operator = %config.operator.address,
        rollups = config.rollups.len(),
        aggregators = config.aggregators.len(),
        "operator node started"
    );
    Ok(NodeHandle { api_addr, server: server_handle, actors })
}

/// Refuses a setup whose parts do not belong together.
fn check_setup(
    config: &NodeConfig,
    key: &SecretKey,
    deployment: &Deployment,
    protection: &SlashingProtection,
) -> Result<(), NodeError> {
    let expected = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    if protection.domain() != expected {
        return Err(NodeError::WrongDomain {
            path: protection.path().to_path_buf(),
            store: protection.domain(),
            deployment: expected,
        });
    }
    let public = key.public_key();
    if *protection.pubkey() != public {
        return Err(NodeError::WrongKey {
            path: protection.path().to_path_buf(),
            store: protection.pubkey().to_string(),
            key: public.to_string(),
        });
    }
    if config.rollups.is_empty() {
        return Err(NodeError::NoRollups);
    }
    if config.aggregators.is_empty() {
        return Err(NodeError::NoAggregators);
    }
    let mut seen = HashSet::new();
    if let Some(twice) = config.rollups.iter().find(|rollup| !seen.insert(rollup.id)) {
        return Err(NodeError::DuplicateRollup(twice.id));
    }
    Ok(())
}

fn parse_url(what: &'static str, url: &str) -> Result<Url, NodeError> {
    chorus_deploy::rpc_url::RpcUrl::parse(url)
        .map(|url| url.url().clone())
        .map_err(|reason| NodeError::BadUrl { what, reason })
}

/// Binds the node API (one worker: it serves a handful of scrapes).
fn serve(
    state: web::Data<ApiState>,
    listen: SocketAddr,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(api::routes))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(5)
        .bind(listen)?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("the node API was bound to no address"))?;
    Ok((server.run(), bound))
}
