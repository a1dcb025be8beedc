//! The operator node against a real L1 (anvil with EigenLayer and Chorus,
//! the operator registered and in the operator table), a real L2 (anvil,
//! chain 901) and a stand-in aggregator served here, which hands out the
//! proposals a test queues and records every answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::VecDeque,
    future::Future,
    net::SocketAddr,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use alloy::{
    network::EthereumWallet,
    node_bindings::AnvilInstance,
    primitives::{Address, B256, U64, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use chorus_contracts::{Commitment, IChorusRegistry, checkpoint::CheckpointTree};
use chorus_deploy::{
    anvil::spawn_anvil_with,
    chorus::{ChorusConfig, Deployment, L1Config, Rollup, deploy_chorus},
    eigenlayer::{WaitOptions, deploy_eigenlayer},
};
use chorus_keys::bls::{SecretKey, Signature};
use chorus_operator::{
    node::{
        self, NodeConfig, NodeHandle, NodeSetup,
        config::{AggregatorEndpoint, NodeApiConfig, OperatorSection},
    },
    protection::{Domain, SlashingProtection},
    registration::{FULL_MAGNITUDE, RegistrationPlan, register_operator},
};
use chorus_rollup::{RollupConfig, RollupReader, Safety};
use chorus_wire::{
    Domain as WireDomain, Proposal, RejectReason, Rejection, SignedCheckpoint, routes,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ROLLUP: u64 = 901;
const DEADLINE: Duration = Duration::from_secs(30);

/// L1 with Chorus deployed and one operator registered and in table 1.
struct L1 {
    anvil: AnvilInstance,
    deployment: Deployment,
    operator: Address,
    key: SecretKey,
}

impl L1 {
    async fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let anvil = spawn_anvil_with(|anvil| anvil)?;
        let signers: Vec<PrivateKeySigner> =
            anvil.keys().iter().take(2).map(|key| key.clone().into()).collect();
        let (deployer, operator) = (signers[0].address(), signers[1].address());
        let mut wallet = EthereumWallet::new(signers[0].clone());
        wallet.register_signer(signers[1].clone());
        let provider =
            ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url()).erased();
        let chain_id = provider.get_chain_id().await?;
        let eigenlayer = deploy_eigenlayer(&provider, deployer).await?;
        let config = ChorusConfig {
            rollups: vec![Rollup { chain_id: ROLLUP, name: "test rollup".to_owned() }],
            ..ChorusConfig::default()
        };
        let (chorus, _) = deploy_chorus(&provider, deployer, &eigenlayer, &config).await?;
        let deployment = Deployment { chain_id, eigenlayer, chorus };
        let key = SecretKey::random();
        let plan = RegistrationPlan {
            deposit: U256::from(1_000_000_000_000_000_000_000_u128),
            magnitude: FULL_MAGNITUDE,
            metadata_uri: "https://chorus.invalid/operator.json".to_owned(),
            wait: WaitOptions::anvil(),
        };
        register_operator(&provider, &deployment, operator, &key, &plan).await?;
        let registry = IChorusRegistry::new(deployment.chorus.registry, &provider);
        let receipt =
            registry.updateOperatorTable().from(deployer).send().await?.get_receipt().await?;
        assert!(receipt.status(), "updateOperatorTable failed");
        Ok(Self { anvil, deployment, operator, key })
    }

    fn domain(&self) -> Domain {
        Domain {
            l1_chain_id: self.deployment.chain_id,
            attestation_contract: self.deployment.chorus.attestations,
        }
    }

    fn wire_domain(&self) -> WireDomain {
        WireDomain {
            l1_chain_id: self.deployment.chain_id,
            attestation_contract: self.deployment.chorus.attestations,
        }
    }

    fn config(&self, l2: &AnvilInstance, aggregator: SocketAddr, store: &Path) -> NodeConfig {
        NodeConfig {
            operator: OperatorSection {
                address: self.operator,
                bls_keystore: "unused-in-tests.json".into(),
                bls_password_file: None,
                protection_db: store.to_path_buf(),
            },
            l1: L1Config { rpc_url: self.anvil.endpoint(), deployment: "unused.json".into() },
            rollups: vec![RollupConfig {
                id: ROLLUP,
                rpc_url: l2.endpoint(),
                safety: Safety::Confirmations(0),
            }],
            aggregators: vec![AggregatorEndpoint { url: format!("http://{aggregator}") }],
            api: NodeApiConfig { listen: SocketAddr::from(([127, 0, 0, 1], 0)) },
            watcher: Default::default(),
        }
    }

    /// Starts a node whose key is `self.key` (a copy) over the store at `store`.
    async fn node(&self, config: NodeConfig) -> Result<NodeHandle, Box<dyn std::error::Error>> {
        let key = SecretKey::from_bytes(self.key.to_bytes().as_ref())?;
        let path = &config.operator.protection_db;
        let protection = if path.exists() {
            SlashingProtection::open(path, self.domain(), &key.public_key())?
        } else {
            SlashingProtection::create(path, self.domain(), &key.public_key())?
        };
        let setup = NodeSetup { config, key, deployment: self.deployment.clone(), protection };
        Ok(node::start(setup).await?)
    }

    fn proposal(&self, checkpoint_id: u64, commitments: Vec<Commitment>) -> Proposal {
        let root =
            CheckpointTree::new(commitments.clone()).map(|tree| tree.root()).unwrap_or_default();
        Proposal {
            checkpoint_id,
            domain: self.wire_domain(),
            table_version: 1,
            commitments,
            commitments_root: root,
        }
    }

    fn message(&self, version: u32, root: B256) -> B256 {
        self.domain().signing_message(version, root)
    }
}

/// What the stand-in aggregator hands out and received.
#[derive(Default)]
struct Exchange {
    proposals: VecDeque<String>,
    signatures: Vec<SignedCheckpoint>,
    rejections: Vec<Rejection>,
    /// Polls answered 204 since the last proposal was handed out.
    idle_polls: u64,
    /// The `after` of the last poll.
    last_after: Option<String>,
    /// Checkpoints whose signatures are refused with `409`, as a
    /// superseded checkpoint's are.
    superseded: Vec<u64>,
    /// Whether signatures are answered slowly (a busy aggregator).
    slow: bool,
    /// Signature posts begun (recorded before a slow answer's pause).
    signature_posts: u64,
}

/// An aggregator stand-in: `GET` next proposal pops a queued body (or
/// answers 204), answers are recorded.
struct StandIn {
    addr: SocketAddr,
    exchange: Arc<Mutex<Exchange>>,
    server: ServerHandle,
}

impl StandIn {
    fn start() -> std::io::Result<Self> {
        let exchange = Arc::new(Mutex::new(Exchange::default()));
        let data = web::Data::from(exchange.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().limit(chorus_wire::MAX_BODY_BYTES))
                .route(routes::NEXT_PROPOSAL, web::get().to(next_proposal))
                .route(routes::SIGNATURES, web::post().to(signature))
                .route(routes::REJECTIONS, web::post().to(rejection))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))?;
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(Self { addr, exchange, server: handle })
    }

    fn offer(&self, body: String) {
        self.exchange.lock().unwrap().proposals.push_back(body);
    }

    fn propose(&self, proposal: &Proposal) {
        self.offer(serde_json::to_string(proposal).unwrap());
    }

    fn signatures(&self) -> Vec<SignedCheckpoint> {
        self.exchange.lock().unwrap().signatures.clone()
    }

    fn rejections(&self) -> Vec<Rejection> {
        self.exchange.lock().unwrap().rejections.clone()
    }

    /// True once every queued proposal was taken and the node polled again
    /// after the last one: a link polls again only once it has answered (or
    /// decided not to).
    fn drained(&self) -> bool {
        let exchange = self.exchange.lock().unwrap();
        exchange.proposals.is_empty() && exchange.idle_polls > 0
    }
}

async fn next_proposal(
    exchange: web::Data<Mutex<Exchange>>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    let mut exchange = exchange.lock().unwrap();
    exchange.last_after = query.get("after").cloned();
    match exchange.proposals.pop_front() {
        Some(body) => {
            exchange.idle_polls = 0;
            HttpResponse::Ok().content_type("application/json").body(body)
        }
        None => {
            exchange.idle_polls += 1;
            HttpResponse::NoContent().finish()
        }
    }
}

async fn signature(
    exchange: web::Data<Mutex<Exchange>>,
    body: web::Json<SignedCheckpoint>,
) -> HttpResponse {
    let slow = {
        let mut exchange = exchange.lock().unwrap();
        exchange.signature_posts += 1;
        exchange.slow
    };
    if slow {
        actix_rt::time::sleep(Duration::from_secs(1)).await;
    }
    let mut exchange = exchange.lock().unwrap();
    if exchange.superseded.contains(&body.checkpoint_id) {
        return HttpResponse::Conflict()
            .json(serde_json::json!({"code": "superseded", "message": "checkpoint superseded"}));
    }
    exchange.signatures.push(body.into_inner());
    HttpResponse::Ok().json(serde_json::json!({}))
}

async fn rejection(
    exchange: web::Data<Mutex<Exchange>>,
    body: web::Json<Rejection>,
) -> HttpResponse {
    exchange.lock().unwrap().rejections.push(body.into_inner());
    HttpResponse::Ok().json(serde_json::json!({}))
}

/// Waits until `condition` holds, polling, or fails after [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut condition: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition().await {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn get(node: &NodeHandle, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", node.api_addr())).await.unwrap()
}

async fn wait_healthy(node: &NodeHandle) -> TestResult {
    eventually("the node to report healthy", || async {
        get(node, "/eigen/node/health").await.status() == reqwest::StatusCode::OK
    })
    .await
}

async fn metric(node: &NodeHandle, name: &str) -> u64 {
    let text = get(node, "/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

fn l2() -> Result<(AnvilInstance, DynProvider), Box<dyn std::error::Error>> {
    let anvil = spawn_anvil_with(|anvil| anvil.chain_id(ROLLUP))?;
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
    Ok((anvil, provider))
}

async fn head(l2: &AnvilInstance) -> Result<Commitment, Box<dyn std::error::Error>> {
    let reader = RollupReader::connect(ROLLUP, &l2.endpoint(), Safety::Confirmations(0)).await?;
    Ok(reader.safe_head().await?)
}

#[actix_rt::test]
async fn signs_what_matches_rejects_what_differs_and_survives_garbage() -> TestResult {
    let l1 = L1::start().await?;
    let (l2, l2_provider) = l2()?;
    chorus_deploy::anvil::mine(&l2_provider, 3).await?;
    let aggregator = StandIn::start()?;
    let dir = tempfile::tempdir()?;
    let node =
        l1.node(l1.config(&l2, aggregator.addr, &dir.path().join("protection.sqlite"))).await?;
    wait_healthy(&node).await?;

    // The node API of the AVS node specification.
    let info: serde_json::Value = get(&node, "/eigen/node").await.json().await?;
    assert_eq!(info["node_name"], "chorus-operator");
    assert_eq!(info["spec_version"], "v0.0.1");
    assert_eq!(info["node_version"], env!("CARGO_PKG_VERSION"));
    let services: serde_json::Value = get(&node, "/eigen/node/services").await.json().await?;
    let ids: Vec<&str> = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["l1-registry", "rollup-901", "aggregator-0"]);
    assert!(services["services"].as_array().unwrap().iter().all(|s| s["status"] == "Up"));
    assert_eq!(get(&node, "/eigen/node/services/rollup-901/health").await.status(), 200);
    assert_eq!(get(&node, "/eigen/node/services/nope/health").await.status(), 404);

    // (a) A proposal matching the operator's L2 node is signed.
    let ours = head(&l2).await?;
    let good = l1.proposal(1, vec![ours.clone()]);
    aggregator.propose(&good);
    eventually("a signature", || async { aggregator.signatures().len() == 1 }).await?;
    let signed = &aggregator.signatures()[0];
    assert_eq!(signed.checkpoint_id, 1);
    assert_eq!(signed.operator, l1.operator);
    assert_eq!(signed.commitments_root, good.commitments_root);
    let signature = Signature::from_bytes(&signed.signature)?;
    l1.key.public_key().verify(l1.message(1, good.commitments_root).as_slice(), &signature)?;
    eventually("a poll after proposal 1", || async {
        aggregator.exchange.lock().unwrap().last_after.as_deref() == Some("1")
    })
    .await?;

    // (b) A wrong state root is rejected as a mismatch, and not signed.
    let lie = Commitment { stateRoot: B256::repeat_byte(0x66), ..ours.clone() };
    let bad = l1.proposal(2, vec![lie.clone()]);
    aggregator.propose(&bad);
    eventually("a rejection", || async { aggregator.rejections().len() == 1 }).await?;
    let rejection = &aggregator.rejections()[0];
    assert_eq!(rejection.checkpoint_id, 2);
    assert_eq!(rejection.rejected.len(), 1);
    assert_eq!(rejection.rejected[0].commitment, lie);
    assert_eq!(rejection.rejected[0].reason, RejectReason::Mismatch { ours: ours.clone() });
    let message =
        Rejection::message(&l1.wire_domain(), 2, 1, bad.commitments_root, &rejection.rejected);
    l1.key
        .public_key()
        .verify(message.as_slice(), &Signature::from_bytes(&rejection.signature)?)?;
    assert_eq!(aggregator.signatures().len(), 1);

    // A commitment far beyond the safe head is not yet safe; an unknown
    // rollup is named as such; the rejection lists both.
    let ahead = Commitment { l2BlockNumber: ours.l2BlockNumber + 1_000, ..ours.clone() };
    let foreign = Commitment { rollupId: 902, ..ours.clone() };
    aggregator.propose(&l1.proposal(3, vec![ahead, foreign]));
    eventually("a second rejection", || async { aggregator.rejections().len() == 2 }).await?;
    let reasons: Vec<RejectReason> =
        aggregator.rejections()[1].rejected.iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons,
        [RejectReason::NotYetSafe { safe_head: ours.l2BlockNumber }, RejectReason::UnknownRollup]
    );

    // (d) Garbage, oversized and malformed proposals are survived and
    // answered by nothing.
    aggregator.offer("this is not json".to_owned());
    aggregator.offer(format!("{{\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)));
    let many: Vec<Commitment> =
        (0..2_000).map(|i| Commitment { rollupId: i, ..ours.clone() }).collect();
    aggregator.offer(serde_json::to_string(&Proposal { commitments: many, ..good.clone() })?);
    let wrong_root =
        Proposal { checkpoint_id: 4, commitments_root: B256::repeat_byte(1), ..good.clone() };
    aggregator.propose(&wrong_root);
    let mut other_domain = l1.proposal(5, vec![ours.clone()]);
    other_domain.domain.l1_chain_id += 1;
    aggregator.propose(&other_domain);
    let unsorted = Proposal {
        checkpoint_id: 6,
        commitments: vec![ours.clone(), Commitment { rollupId: 1, ..ours.clone() }],
        ..good.clone()
    };
    aggregator.propose(&unsorted);
    eventually("the node to take every proposal", || async { aggregator.drained() }).await?;
    assert_eq!(aggregator.signatures().len(), 1);
    assert_eq!(aggregator.rejections().len(), 2);
    // The first three were failed requests; the last three were read and
    // dropped.
    let errors =
        format!("chorus_aggregator_errors_total{{aggregator=\"http://{}\"}}", aggregator.addr);
    assert_eq!(metric(&node, &errors).await, 3);
    for reason in ["root_mismatch", "wrong_domain", "malformed"] {
        let ignored = format!("chorus_proposals_ignored_total{{reason=\"{reason}\"}}");
        assert_eq!(metric(&node, &ignored).await, 1, "{reason}");
    }

    // Still working: the same commitments again (a re-proposal) are signed
    // again, harmlessly.
    aggregator.propose(&l1.proposal(7, vec![ours.clone()]));
    eventually("a second signature", || async { aggregator.signatures().len() == 2 }).await?;
    assert_eq!(aggregator.signatures()[1].signature, signed.signature);
    assert_eq!(metric(&node, "chorus_checkpoints_signed_total").await, 2);
    assert_eq!(metric(&node, "eigen_performance_score").await, 100);

    // A signature refused as too late (409) is no outage.
    aggregator.exchange.lock().unwrap().superseded.push(8);
    aggregator.propose(&l1.proposal(8, vec![ours.clone()]));
    eventually("a refused answer", || async {
        metric(&node, "chorus_answers_refused_total{status=\"409\"}").await == 1
    })
    .await?;
    assert_eq!(metric(&node, &errors).await, 3);
    assert_eq!(get(&node, "/eigen/node/health").await.status(), 200);
    aggregator.propose(&l1.proposal(9, vec![ours.clone()]));
    eventually("a third signature", || async { aggregator.signatures().len() == 3 }).await?;

    // Stopping while a signature is being posted (the fifth post: 1, 7, 8
    // refused, 9, 10) waits for the post.
    aggregator.exchange.lock().unwrap().slow = true;
    aggregator.propose(&l1.proposal(10, vec![ours.clone()]));
    eventually("a signature post to begin", || async {
        aggregator.exchange.lock().unwrap().signature_posts == 5
    })
    .await?;
    node.stop().await;
    assert_eq!(aggregator.signatures().len(), 4);
    aggregator.server.stop(true).await;
    Ok(())
}

#[actix_rt::test]
async fn never_signs_a_conflicting_commitment_also_after_a_restart() -> TestResult {
    let l1 = L1::start().await?;
    let (l2, l2_provider) = l2()?;
    let aggregator = StandIn::start()?;
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("protection.sqlite");
    let node = l1.node(l1.config(&l2, aggregator.addr, &store)).await?;
    wait_healthy(&node).await?;

    // Block 1 as first mined is signed.
    let snapshot: U256 = l2_provider.raw_request("evm_snapshot".into(), ()).await?;
    chorus_deploy::anvil::mine(&l2_provider, 1).await?;
    let first = head(&l2).await?;
    aggregator.propose(&l1.proposal(1, vec![first.clone()]));
    eventually("a signature", || async { aggregator.signatures().len() == 1 }).await?;

    // The L2 node reorgs: block 1 is now another block. The node's own view
    // matches the new proposal, but its key signed the other block 1.
    let reverted: bool = l2_provider.raw_request("evm_revert".into(), (snapshot,)).await?;
    assert!(reverted);
    let genesis = l2_provider.get_block_by_number(0.into()).await?.ok_or("no genesis")?;
    let later = U64::from(genesis.header.timestamp + 1_000);
    let _: serde_json::Value =
        l2_provider.raw_request("evm_setNextBlockTimestamp".into(), (later,)).await?;
    chorus_deploy::anvil::mine(&l2_provider, 1).await?;
    let second = head(&l2).await?;
    assert_eq!(second.l2BlockNumber, first.l2BlockNumber);
    assert_ne!(second.l2BlockHash, first.l2BlockHash);

    aggregator.propose(&l1.proposal(2, vec![second.clone()]));
    eventually("a refusal by protection", || async {
        metric(&node, "chorus_refused_by_protection_total").await == 1
    })
    .await?;
    assert_eq!(aggregator.signatures().len(), 1);
    assert!(aggregator.rejections().is_empty());
    node.stop().await;

    // After a restart on the same store: still refused.
    let node = l1.node(l1.config(&l2, aggregator.addr, &store)).await?;
    wait_healthy(&node).await?;
    aggregator.propose(&l1.proposal(3, vec![second.clone()]));
    eventually("a refusal by protection after restart", || async {
        metric(&node, "chorus_refused_by_protection_total").await == 1
    })
    .await?;
    let signatures = aggregator.signatures();
    assert_eq!(signatures.len(), 1);
    assert_eq!(signatures[0].checkpoint_id, 1);
    node.stop().await;
    aggregator.server.stop(true).await;
    Ok(())
}

#[actix_rt::test]
async fn reports_what_is_down_and_never_signs_while_unregistered() -> TestResult {
    let l1 = L1::start().await?;
    let (l2, _l2_provider) = l2()?;
    let aggregator = StandIn::start()?;
    let dir = tempfile::tempdir()?;
    // Nothing listens on a port just released.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;

    // A second rollup whose node is down, and a second aggregator that is.
    let mut config = l1.config(&l2, aggregator.addr, &dir.path().join("protection.sqlite"));
    config.rollups.push(RollupConfig {
        id: 902,
        rpc_url: format!("http://{dead}"),
        safety: Safety::Confirmations(0),
    });
    config.aggregators.push(AggregatorEndpoint { url: format!("http://{dead}") });
    let node = l1.node(config.clone()).await?;
    eventually("partial health", || async {
        let services: serde_json::Value =
            get(&node, "/eigen/node/services").await.json().await.unwrap();
        let status = |id: &str| {
            services["services"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == id)
                .map(|s| s["status"].as_str().unwrap().to_owned())
        };
        status("l1-registry").as_deref() == Some("Up")
            && status("rollup-902").as_deref() == Some("Down")
            && status("aggregator-1").as_deref() == Some("Down")
    })
    .await?;
    assert_eq!(get(&node, "/eigen/node/health").await.status(), 206);
    assert_eq!(get(&node, "/eigen/node/services/rollup-902/health").await.status(), 503);
    assert_eq!(get(&node, "/eigen/node/services/rollup-901/health").await.status(), 200);
    assert_eq!(metric(&node, "eigen_performance_score").await, 50);

    // Rollup 902's commitment is unavailable; 901's alone is not refused.
    let ours = head(&l2).await?;
    let other = Commitment { rollupId: 902, ..ours.clone() };
    aggregator.propose(&l1.proposal(1, vec![ours.clone(), other.clone()]));
    eventually("a rejection", || async { aggregator.rejections().len() == 1 }).await?;
    let rejected = &aggregator.rejections()[0].rejected;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].commitment, other);
    assert!(matches!(rejected[0].reason, RejectReason::Unavailable { .. }));
    node.stop().await;

    // The same key under an address that is not registered: unhealthy, and
    // proposals are neither signed nor answered.
    config.operator.address = Address::repeat_byte(0x99);
    config.rollups.truncate(1);
    config.aggregators.truncate(1);
    let node = l1.node(config).await?;
    eventually("the L1 registry to be read", || async {
        let services: serde_json::Value =
            get(&node, "/eigen/node/services").await.json().await.unwrap();
        services["services"][0]["description"].as_str().unwrap().contains("not in the latest")
    })
    .await?;
    assert_eq!(get(&node, "/eigen/node/health").await.status(), 503);
    aggregator.propose(&l1.proposal(2, vec![ours.clone()]));
    eventually("the node to take the proposal", || async { aggregator.drained() }).await?;
    assert!(aggregator.signatures().is_empty());
    assert_eq!(aggregator.rejections().len(), 1);
    assert_eq!(
        metric(&node, "chorus_refused_by_registry_total{reason=\"not_registered\"}").await,
        1
    );
    node.stop().await;
    aggregator.server.stop(true).await;
    Ok(())
}
