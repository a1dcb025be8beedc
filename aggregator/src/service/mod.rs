//! The aggregator service: proposer, quorum collection, operator table,
//! submitter, store and HTTP API, as actix actors in the current system.
//!
//! # Actors and how data flows
//!
//! ```text
//!  rollup nodes ──► Proposer ──Propose──► Checkpoints ◄──signatures/rejections── HTTP API ◄── operators
//!                      ▲   LatestSigners      │  ▲   AddSignature, VerifyPending, VerifyOperatorSignature
//!                      │                      │  └──────────► Collectors (SyncArbiter: BLS)
//!            OperatorTable (L1 registry)      │ SubmitAggregate          ▲
//!                      └── PrepareSignerSet ──┼──────────────────────────┘
//!                                             ▼
//!                 L1 ◄── Submitter ──SubmissionOutcome──► Checkpoints
//!                            │
//!                            └──► StoreActor (SyncArbiter: SQLite) ◄── Checkpoints
//! ```
//!
//! - [`table::OperatorTable`] follows the registry and keeps a
//!   [`crate::quorum::SignerSet`] per table version still accepted on L1.
//! - [`proposer::Proposer`] reads every rollup and proposes checkpoints.
//! - [`checkpoints::Checkpoints`] owns every checkpoint's life: one open at
//!   a time, its signatures checked in batches by its `QuorumCollector` on
//!   the [`collect::Collectors`] thread (each answer waits for its batch),
//!   quorum handed to the submitter.
//! - [`submitter::Submitter`] posts aggregates with one pinned nonce per
//!   checkpoint, recorded before each broadcast.
//! - [`store::StoreActor`] is the SQLite record that a restart resumes from.
//! - [`api`] serves `chorus_wire::routes`, behind [`admission`] (rate limit,
//!   deadlines); [`metrics`] the Prometheus metrics.
//!
//! Nothing is shared between two aggregators in one process but the chain:
//! every actor, the metrics registry and the store belong to one [`start`].

pub mod admission;
pub mod api;
pub mod checkpoints;
pub mod collect;
pub mod config;
mod dashboard;
pub mod metrics;
pub mod proposer;
pub mod store;
pub mod submitter;
pub mod table;

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix::prelude::*;
use actix_web::{App, HttpServer, dev::ServerHandle, http::KeepAlive, middleware::from_fn, web};
use alloy::{
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use chorus_contracts::IChorusAttestations;
use chorus_deploy::{
    chorus::Deployment,
    rpc_url::{InvalidRpcUrl, RpcUrl},
};
use chorus_wire::Domain;

pub use config::AggregatorConfig;

use self::{
    admission::{Admission, FORGET_IDLE_EVERY},
    api::ApiState,
    checkpoints::{Checkpoints, CheckpointsSetup, ConnectProposer, RECENT},
    collect::Collectors,
    metrics::Metrics,
    proposer::Proposer,
    store::{LoadRecent, Store, StoreActor, StoreError},
    submitter::{Submitter, SubmitterSetup},
    table::{OperatorTable, Refresh, SignersOf, TableSyncError},
};

/// What [`start`] needs: the configuration and what the binary already
/// opened.
pub struct AggregatorSetup {
    /// The configuration file's contents.
    pub config: AggregatorConfig,
    /// The submitter's decrypted key.
    pub submitter: PrivateKeySigner,
    /// The deployment named by `config.l1.deployment`.
    pub deployment: Deployment,
}

/// Why the aggregator could not start.
#[derive(Debug, thiserror::Error)]
pub enum AggregatorError {
    /// `l1.rpc_url` is not a URL.
    #[error("l1.rpc_url is {0}")]
    BadUrl(InvalidRpcUrl),
    /// The L1 node did not answer.
    #[error(
        "the L1 node at {l1} did not answer: {problem}; check l1.rpc_url and that the node runs"
    )]
    L1 {
        /// The endpoint as it may be shown ([`RpcUrl::shown`]).
        l1: String,
        /// The transport error, its URL redacted.
        problem: String,
    },
    /// The L1 node serves another chain than the deployment's.
    #[error(
        "the L1 node serves chain {actual} but the deployment is on chain {expected}: point l1.rpc_url at the deployment's chain"
    )]
    WrongChain {
        /// The deployment's chain id.
        expected: u64,
        /// The node's.
        actual: u64,
    },
    /// The attestation contract could not be read.
    #[error(
        "cannot read the attestation contract (is the deployment file for this chain?): {problem}"
    )]
    Contract {
        /// The call's error, its URL redacted.
        problem: String,
    },
    /// The store could not be opened.
    #[error("{0}; check store.path")]
    Store(#[from] StoreError),
    /// The API address could not be bound.
    #[error("cannot listen on {addr}: {source}; choose another api.listen")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An actor stopped while starting.
    #[error("an aggregator actor stopped while starting")]
    Mailbox(#[from] MailboxError),
}

/// Asks an actor to stop.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

macro_rules! stops_on_shutdown {
    ($($actor:ty),*) => {$(
        impl Handler<Shutdown> for $actor {
            type Result = ();
            fn handle(&mut self, _: Shutdown, ctx: &mut Self::Context) {
                ctx.stop();
            }
        }
    )*};
}
stops_on_shutdown!(Proposer, OperatorTable, Checkpoints, Submitter);

/// Closes the store's SQLite connection (the last step of a stop).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct CloseStore;

impl Handler<CloseStore> for StoreActor {
    type Result = ();
    fn handle(&mut self, _: CloseStore, _: &mut SyncContext<Self>) {
        *self = StoreActor::new(None);
    }
}

/// A running aggregator.
#[derive(Debug)]
pub struct AggregatorHandle {
    api_addr: SocketAddr,
    server: ServerHandle,
    proposer: Addr<Proposer>,
    table: Addr<OperatorTable>,
    checkpoints: Addr<Checkpoints>,
    submitter: Addr<Submitter>,
    store: Addr<StoreActor>,
}

impl AggregatorHandle {
    /// Where the HTTP API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Stops the API and every actor, and waits until they stopped (open
    /// checkpoints stay in the store for the next start).
    pub async fn stop(self) {
        // Proposals first, so nothing new starts; the checkpoints actor
        // drops its long polls, which lets the server stop at once.
        let _ = self.proposer.send(Shutdown).await;
        let _ = self.submitter.send(Shutdown).await;
        let _ = self.checkpoints.send(Shutdown).await;
        let _ = self.table.send(Shutdown).await;
        self.server.stop(true).await;
        let _ = self.store.send(CloseStore).await;
    }
}

fn l1_provider(l1: &RpcUrl, metrics: &Metrics) -> DynProvider {
    chorus_telemetry::http_provider(l1.url().clone(), &metrics.rpc)
}

/// Has the rate limiter forget idle clients now and then, for as long as
/// the API runs (the server holds the only strong references).
fn forget_idle_clients(admission: &Arc<Admission>) {
    let admission = Arc::downgrade(admission);
    actix_rt::spawn(async move {
        let mut every = tokio::time::interval(FORGET_IDLE_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let Some(admission) = admission.upgrade() else { break };
            admission.forget_idle();
        }
    });
}

/// Starts the store on its own thread.
pub(crate) fn start_store(store: Store) -> Addr<StoreActor> {
    // The factory runs once (one thread, never restarted): it takes the
    // store opened (and checked) by `start`.
    let slot = Mutex::new(Some(store));
    SyncArbiter::start(1, move || {
        StoreActor::new(slot.lock().ok().and_then(|mut store| store.take()))
    })
}

/// Starts the aggregator's actors and API in the current actix system;
/// returns once the API is bound and the actors are running.
pub async fn start(setup: AggregatorSetup) -> Result<AggregatorHandle, AggregatorError> {
    let AggregatorSetup { config, submitter: signer, deployment } = setup;
    let l1 = RpcUrl::parse(&config.l1.rpc_url).map_err(AggregatorError::BadUrl)?;
    let metrics = Metrics::new();
    let provider = l1_provider(&l1, &metrics);
    let chain_id = provider.get_chain_id().await.map_err(|error| AggregatorError::L1 {
        problem: l1.redact(&error.to_string()),
        l1: l1.shown().to_owned(),
    })?;
    if chain_id != deployment.chain_id {
        return Err(AggregatorError::WrongChain {
            expected: deployment.chain_id,
            actual: chain_id,
        });
    }
    let (registry, attestations) = (deployment.chorus.registry, deployment.chorus.attestations);
    let quorum_bps =
        IChorusAttestations::new(attestations, &provider).quorumBps().call().await.map_err(
            |error| AggregatorError::Contract { problem: l1.redact(&error.to_string()) },
        )?;
    let domain = Domain { l1_chain_id: chain_id, attestation_contract: attestations };

    let store = start_store(Store::open(&config.store.path)?);
    let collectors = SyncArbiter::start(1, Collectors::default);
    let table = OperatorTable::new(
        provider.clone(),
        registry,
        attestations,
        collectors.clone(),
        metrics.clone(),
        l1.clone(),
    )
    .start();
    match table.send(Refresh).await? {
        Ok(version) => tracing::info!(version, "operator table loaded"),
        Err(TableSyncError::NoTable) => {
            tracing::warn!("no operator table yet: proposals wait until the registry publishes one")
        }
        Err(e) => tracing::warn!(
            "operator table not loaded yet ({}); retrying in the background",
            l1.redact(&e.to_string())
        ),
    }
    let loaded = store.send(LoadRecent { recent: RECENT }).await??;
    let versions: HashSet<u32> = loaded.checkpoints.iter().map(|c| c.table_version).collect();
    let mut signers = HashMap::new();
    for version in versions {
        match table.send(SignersOf(version)).await? {
            Ok(set) => {
                signers.insert(version, set);
            }
            Err(e) => tracing::warn!(
                version,
                "stored checkpoints of this table version cannot be resumed: {}",
                l1.redact(&e.to_string())
            ),
        }
    }

    let submitter_address = signer.address();
    let mut submitter = None;
    let checkpoints = Checkpoints::create(|ctx| {
        let started = Submitter::new(SubmitterSetup {
            provider: provider.clone(),
            signer,
            chain_id,
            attestations,
            store: store.clone(),
            outcomes: ctx.address().recipient(),
            metrics: metrics.clone(),
            config: config.submitter.clone(),
            l1: l1.clone(),
        })
        .start();
        submitter = Some(started.clone());
        Checkpoints::new(CheckpointsSetup {
            domain,
            quorum_bps,
            store: store.clone(),
            collectors: collectors.clone(),
            submitter: started.recipient(),
            metrics: metrics.clone(),
            loaded,
            signers,
        })
    });
    let Some(submitter) = submitter else {
        return Err(AggregatorError::Mailbox(MailboxError::Closed));
    };
    let proposer = Proposer::new(
        config.rollups.clone(),
        checkpoints.clone(),
        table.clone(),
        metrics.clone(),
        Duration::from_millis(config.proposer.interval_ms.max(50)),
        Duration::from_secs(config.proposer.proposal_timeout_secs),
    )
    .start();
    checkpoints.send(ConnectProposer(proposer.clone().recipient())).await?;

    let state = Arc::new(ApiState {
        checkpoints: checkpoints.clone(),
        table: table.clone(),
        proposer: proposer.clone(),
        metrics,
        domain,
        submitter: submitter_address,
    });
    let admission = Arc::new(Admission::new(&config.api, state.metrics.clone()));
    forget_idle_clients(&admission);
    let listen = config.api.listen;
    let head_timeout = Duration::from_secs(config.api.header_timeout_secs.max(1));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(admission.clone()))
            .wrap(from_fn(admission::admit))
            .configure(api::configure(state.clone()))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    // Slow and idle clients (see `admission`): the head of each request
    // within `header_timeout_secs`, also between two requests of a
    // kept-alive connection; a client that stopped reading its answer is
    // let go after a second.
    .client_request_timeout(head_timeout)
    .keep_alive(KeepAlive::Timeout(head_timeout))
    .client_disconnect_timeout(Duration::from_secs(1))
    .max_connections(config.api.max_connections.max(1))
    .bind(listen)
    .map_err(|source| AggregatorError::Bind { addr: listen, source })?;
    let api_addr = server.addrs().first().copied().unwrap_or(listen);
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    tracing::info!(%api_addr, chain_id, %attestations, submitter = %submitter_address, "aggregator running");
    Ok(AggregatorHandle {
        api_addr,
        server: handle,
        proposer,
        table,
        checkpoints,
        submitter,
        store,
    })
}
