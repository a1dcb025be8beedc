//! The watcher on a real anvil chain with EigenLayer and Chorus deployed and
//! operators registered: equivocation seen on an aggregator's public feed is
//! proven and slashes the operator (once, also across a restart), and proofs
//! the slasher refuses are recorded and never sent again.
//!
//! The watcher's L1 provider goes through a counting JSON-RPC proxy, so the
//! tests count simulations and transactions instead of trusting logs.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::HashMap,
    net::TcpListener,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use chorus_contracts::Commitment;
use chorus_deploy::chorus::ChorusConfig;
use chorus_keys::bls::SecretKey;
use chorus_slashing::{
    Equivocation, Evidence, ProofStore, Recorded, Refusal, SubmitOutcome, Submitter, WatchEvent,
    Watcher, WatcherHandle, WatcherSetup,
};
use chorus_tests::{Devchain, commitment, decode_event};
use chorus_wire::{CheckpointState, CheckpointStatus, Domain, Proposal, PublicSignature};
use eigen_utils::slashing::core::allocation_manager::AllocationManager;
use serde_json::Value;
use tokio::sync::broadcast;

const DEADLINE: Duration = Duration::from_secs(30);

fn config() -> ChorusConfig {
    chorus_tests::two_rollups()
}

fn domain(chain: &Devchain) -> Domain {
    Domain {
        l1_chain_id: chain.deployment.chain_id,
        attestation_contract: chain.deployment.chorus.attestations,
    }
}

/// JSON-RPC calls seen by the proxy, by method.
type Calls = Arc<Mutex<HashMap<String, usize>>>;

/// A JSON-RPC proxy in front of anvil that counts calls by method.
struct CountingRpc {
    url: String,
    calls: Calls,
    server: ServerHandle,
}

impl CountingRpc {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Calls::default();
        let state = web::Data::new((reqwest::Client::new(), upstream, calls.clone()));
        let server = HttpServer::new(move || {
            App::new().app_data(state.clone()).route("/", web::post().to(forward))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Self { url, calls, server: handle }
    }

    fn count(&self, method: &str) -> usize {
        self.calls.lock().unwrap().get(method).copied().unwrap_or(0)
    }
}

async fn forward(
    state: web::Data<(reqwest::Client, String, Calls)>,
    body: web::Json<Value>,
) -> HttpResponse {
    let (client, upstream, calls) = state.get_ref();
    let requests = match &*body {
        Value::Array(batch) => batch.clone(),
        single => vec![single.clone()],
    };
    for request in &requests {
        if let Some(method) = request.get("method").and_then(Value::as_str) {
            *calls.lock().unwrap().entry(method.to_owned()).or_default() += 1;
        }
    }
    let answer: Value =
        client.post(upstream).json(&*body).send().await.unwrap().json().await.unwrap();
    HttpResponse::Ok().json(answer)
}

/// A provider for the deployer (anvil account 0) through `url`.
fn deployer_provider(chain: &Devchain, url: &str) -> DynProvider {
    let signer: PrivateKeySigner = chain.anvil.keys()[0].clone().into();
    ProviderBuilder::new()
        .wallet(EthereumWallet::new(signer))
        .connect_http(url.parse().unwrap())
        .erased()
}

async fn start_watcher(
    chain: &Devchain,
    rpc: &CountingRpc,
    store: &Path,
    aggregators: Vec<reqwest::Url>,
) -> WatcherHandle {
    Watcher::start(WatcherSetup {
        deployment: chain.deployment.clone(),
        provider: deployer_provider(chain, &rpc.url),
        from: chain.deployer,
        aggregators,
        store: store.to_path_buf(),
        poll_interval: Duration::from_millis(100),
    })
    .await
    .unwrap()
}

/// The next event that `wanted` accepts, within the deadline.
async fn next_event(
    events: &mut broadcast::Receiver<WatchEvent>,
    wanted: impl Fn(&WatchEvent) -> bool,
) -> WatchEvent {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let event = events.recv().await.unwrap();
            if wanted(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the watcher did not report in time")
}

/// A fake aggregator that publishes `signatures` as checkpoint 1's.
fn fake_aggregator(
    domain: Domain,
    signatures: Vec<PublicSignature>,
) -> (reqwest::Url, ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url: reqwest::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let status = CheckpointStatus {
        proposal: Proposal {
            checkpoint_id: 1,
            domain,
            table_version: signatures[0].table_version,
            commitments: signatures[0].commitments.clone(),
            commitments_root: signatures[0].commitments_root,
        },
        state: CheckpointState::Open,
        signed_weight: U256::ZERO,
        needed_weight: U256::ZERO,
        total_weight: U256::ZERO,
        signers: signatures.iter().map(|s| s.operator).collect(),
        missing: Vec::new(),
        rejections: Vec::new(),
        waiting_for: None,
        l1_transaction: None,
        l1_block: None,
    };
    let data = web::Data::new((vec![status], signatures));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/v1/checkpoints",
                web::get().to(
                    |data: web::Data<(Vec<CheckpointStatus>, Vec<PublicSignature>)>| async move {
                        HttpResponse::Ok().json(&data.0)
                    },
                ),
            )
            .route(
                "/v1/checkpoints/1/signatures",
                web::get().to(
                    |data: web::Data<(Vec<CheckpointStatus>, Vec<PublicSignature>)>| async move {
                        HttpResponse::Ok().json(&data.1)
                    },
                ),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    (url, handle)
}

fn public(evidence: &Evidence) -> PublicSignature {
    let tree = evidence.verify().unwrap();
    PublicSignature {
        operator: evidence.operator,
        pubkey: evidence.pubkey.clone(),
        table_version: evidence.table_version,
        commitments_root: tree.root(),
        commitments: evidence.commitments.clone(),
        signature: evidence.signature.clone(),
    }
}

fn signed(chain: &Devchain, index: usize, commitments: Vec<Commitment>) -> Evidence {
    let operator = &chain.operators[index];
    Evidence::sign(domain(chain), operator.address, &operator.bls, 1, commitments).unwrap()
}

#[actix_rt::test]
async fn equivocation_on_a_feed_is_proven_once_across_restarts() {
    let chain = Devchain::start(&config(), 3).await.unwrap();
    let rpc = CountingRpc::start(chain.anvil.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("watcher.sqlite");
    let offender = chain.operators[0].address;

    // Two aggregators: one publishes operator 0's signature for rollup 10
    // at height 200 (and an honest one of operator 1), the other operator
    // 0's conflicting signature for the same height.
    let first = signed(&chain, 0, vec![commitment(10, 200, 1)]);
    let second = signed(&chain, 0, vec![commitment(10, 200, 2), commitment(11, 9, 1)]);
    let honest = signed(&chain, 1, vec![commitment(10, 200, 1)]);
    let (one, one_server) = fake_aggregator(domain(&chain), vec![public(&first), public(&honest)]);
    let (other, other_server) = fake_aggregator(domain(&chain), vec![public(&second)]);

    let watcher = start_watcher(&chain, &rpc, &store, vec![one, other]).await;
    let mut events = watcher.subscribe();
    let detected = next_event(&mut events, |e| matches!(e, WatchEvent::Detected { .. })).await;
    assert!(matches!(
        detected,
        WatchEvent::Detected { operator, rollup_id: 10, height: 200, .. } if operator == offender
    ));
    let submitted = next_event(&mut events, |e| !matches!(e, WatchEvent::Detected { .. })).await;
    let WatchEvent::Submitted { operator, tx, block, .. } = submitted else {
        panic!("expected the proof to land, got {submitted:?}");
    };
    assert_eq!(operator, offender);
    let receipt = chain.provider.get_transaction_receipt(tx).await.unwrap().unwrap();
    assert!(receipt.status());
    let slashed = decode_event::<AllocationManager::OperatorSlashed>(&receipt).unwrap();
    assert_eq!(slashed.operator, offender, "EigenLayer slashed the equivocator");
    assert_eq!(rpc.count("eth_sendRawTransaction"), 1);
    watcher.stop().await;
    one_server.stop(true).await;
    other_server.stop(true).await;

    let recorded = ProofStore::open(&store).unwrap().slashed(offender).unwrap();
    assert_eq!(recorded, Some(Recorded::Submitted { tx, block }));

    // Restarted on the same store, fed the same evidence: nothing is sent,
    // not even a simulation.
    let simulations = rpc.count("eth_estimateGas");
    let watcher = start_watcher(&chain, &rpc, &store, Vec::new()).await;
    let mut events = watcher.subscribe();
    watcher.observe(first);
    watcher.observe(second);
    let again = next_event(&mut events, |e| !matches!(e, WatchEvent::Detected { .. })).await;
    assert!(matches!(again, WatchEvent::AlreadyRecorded { operator, .. } if operator == offender));
    assert_eq!(rpc.count("eth_sendRawTransaction"), 1);
    assert_eq!(rpc.count("eth_estimateGas"), simulations);
    watcher.stop().await;
    rpc.server.stop(true).await;
}

#[actix_rt::test]
async fn refused_proofs_are_recorded_and_never_sent_again() {
    let chain = Devchain::start(&config(), 2).await.unwrap();
    let rpc = CountingRpc::start(chain.anvil.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("watcher.sqlite");
    let offender = &chain.operators[0];

    // Forged: operator 0's key, a signature by some other key.
    let real = signed(&chain, 0, vec![commitment(10, 300, 1)]);
    let mut forged = Evidence::sign(
        domain(&chain),
        offender.address,
        &SecretKey::random(),
        1,
        vec![commitment(10, 300, 2)],
    )
    .unwrap();
    forged.pubkey = real.pubkey.clone();
    // Not conflicting: the same commitment in two checkpoints.
    let same = signed(&chain, 0, vec![commitment(10, 300, 1), commitment(11, 4, 1)]);

    // The detector believes neither.
    let mut detector = chorus_slashing::Detector::new(domain(&chain), 100);
    assert!(detector.observe(real.clone()).unwrap().is_empty());
    assert!(detector.observe(forged.clone()).is_err());
    assert!(detector.observe(same.clone()).unwrap().is_empty());

    // Submitted directly, the slasher refuses them with decoded reasons.
    let equivocation = |second: &Evidence| Equivocation {
        operator: offender.address,
        pubkey: real.pubkey.clone(),
        rollup_id: 10,
        height: 300,
        first: real.clone(),
        second: second.clone(),
    };
    let submitter = Submitter::new(
        deployer_provider(&chain, &rpc.url),
        chain.deployer,
        chain.deployment.chorus.slasher,
    );
    assert_eq!(
        submitter.submit_equivocation(&equivocation(&forged)).await.unwrap(),
        SubmitOutcome::Refused(Refusal::InvalidSignature)
    );
    assert_eq!(
        submitter.submit_equivocation(&equivocation(&same)).await.unwrap(),
        SubmitOutcome::Refused(Refusal::CommitmentsDoNotConflict)
    );
    assert_eq!(rpc.count("eth_sendRawTransaction"), 0, "a refused proof is never sent");

    // Through the watcher: refused once, recorded, then never simulated again.
    let watcher = start_watcher(&chain, &rpc, &store, Vec::new()).await;
    let mut events = watcher.subscribe();
    for second in [&forged, &same] {
        let before = rpc.count("eth_estimateGas");
        watcher.prove(equivocation(second));
        let refused = next_event(&mut events, |_| true).await;
        assert!(matches!(refused, WatchEvent::Refused { .. }), "got {refused:?}");
        assert_eq!(rpc.count("eth_estimateGas"), before + 1, "one simulation, no retry");
        watcher.prove(equivocation(second));
        let again = next_event(&mut events, |_| true).await;
        assert!(matches!(again, WatchEvent::AlreadyRecorded { .. }), "got {again:?}");
        assert_eq!(rpc.count("eth_estimateGas"), before + 1, "not simulated again");
    }
    assert_eq!(rpc.count("eth_sendRawTransaction"), 0, "a refused proof is never sent");
    watcher.stop().await;
    rpc.server.stop(true).await;
    check_refusals_on_disk(&store, offender.address, &real, &forged, &same);
}

fn check_refusals_on_disk(
    store: &Path,
    operator: Address,
    real: &Evidence,
    forged: &Evidence,
    same: &Evidence,
) {
    let store = ProofStore::open(store).unwrap();
    assert_eq!(store.slashed(operator).unwrap(), None, "a refused proof slashes nobody");
    for (second, reason) in [(forged, "InvalidSignature"), (same, "CommitmentsDoNotConflict")] {
        let a = real.signed_commitment(10).unwrap();
        let b = second.signed_commitment(10).unwrap();
        let key = chorus_slashing::proof_key(operator, &real.pubkey, &a, &b);
        let recorded = store.refusal(key).unwrap().unwrap();
        assert!(recorded.starts_with(reason), "{recorded}");
    }
}
