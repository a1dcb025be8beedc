//! Operators and the aggregator as separate hosts on a network, and the
//! network cut and healed: two of four operators unplugged (quorum lost:
//! nothing lands), plugged back (checkpoints land again, none twice); the
//! aggregator's route to L1 blackholed (nothing posted), restored (posts
//! resume).
//!
//! Each node is a `chorus` process in its own network namespace (`ip netns
//! exec`), joined to the others by a veth to a bridge on a private
//! `10.213.N.0/24` ([`chorus_tests::netns`]); the anvil chains stay in the
//! root namespace and are reached through forwarders on the bridge's
//! addresses (the L1 on its own address, so that one host can lose the L1
//! alone). Needs root, as CI has: without it the test fails and says so.
//!
//! `CHORUS_LONG=1` holds each partition for a minute of L1 blocks.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::{Duration, Instant},
};

use alloy::providers::Provider;
use chorus_devnet::{AttestedCheckpoint, Devnet, DevnetOptions};
use chorus_operator::node::config::AggregatorEndpoint;
use chorus_tests::{
    api::{get_json, get_text, wait_for},
    feeds::{equivocations, read_feed},
    l1::{assert_no_double_posts, submissions},
    netns::{Forwarder, HostProcess, Network},
};
use chorus_wire::{CheckpointState, CheckpointStatus, Domain};

/// Generous: a checkpoint takes a few seconds; CI machines are slow, and a
/// healed connection may wait out a TCP retransmission timeout.
const LONG: Duration = Duration::from_secs(90);
/// L1 blocks left after a cut for what was already in flight to land.
const GRACE_BLOCKS: u64 = 3;
const AGGREGATOR: &str = "agg";
const OPERATORS: [&str; 4] = ["op0", "op1", "op2", "op3"];

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

/// L1 blocks each partition is held (after the grace blocks).
fn partition_blocks() -> u64 {
    if std::env::var("CHORUS_LONG").is_ok_and(|value| value == "1") { 60 } else { 8 }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The chains (anvil on 127.0.0.1) as the hosts reach them: the L1 on the
/// bridge's second address, every L2 on its first, same ports.
struct Chains {
    l1_url: String,
    l2_urls: Vec<String>,
    _forwarders: Vec<Forwarder>,
}

async fn forward_chains(devnet: &Devnet, network: &Network) -> Chains {
    let info = devnet.info();
    let mut forwarders = Vec::new();
    let l1_port = port_of(&info.l1.rpc_url);
    let l1_ip = network.second_bridge_ip();
    let l1 = SocketAddr::from((l1_ip, l1_port));
    forwarders.push(Forwarder::start(l1, loopback(l1_port)).await.unwrap());
    let mut l2_urls = Vec::new();
    for rollup in &info.rollups {
        let port = port_of(&rollup.rpc_url);
        let listen = SocketAddr::from((network.bridge_ip(), port));
        forwarders.push(Forwarder::start(listen, loopback(port)).await.unwrap());
        l2_urls.push(format!("http://{listen}"));
    }
    Chains { l1_url: format!("http://{l1}"), l2_urls, _forwarders: forwarders }
}

/// Rewrites every node's configuration for its host's addresses.
fn configure_hosts(devnet: &mut Devnet, network: &Network, chains: &Chains) -> String {
    let aggregator_ip = network.ip_of(AGGREGATOR).unwrap();
    let mut config = devnet.aggregator_config().clone();
    config.l1.rpc_url = chains.l1_url.clone();
    for (rollup, url) in config.rollups.iter_mut().zip(&chains.l2_urls) {
        rollup.rpc_url = url.clone();
    }
    config.api.listen = SocketAddr::from((aggregator_ip, config.api.listen.port()));
    let aggregator_url = format!("http://{}", config.api.listen);
    devnet.set_aggregator_config(config).unwrap();
    for (index, host) in OPERATORS.iter().enumerate() {
        let mut config = devnet.operator_config(index).unwrap().clone();
        config.l1.rpc_url = chains.l1_url.clone();
        for (rollup, url) in config.rollups.iter_mut().zip(&chains.l2_urls) {
            rollup.rpc_url = url.clone();
        }
        config.aggregators = vec![AggregatorEndpoint { url: aggregator_url.clone() }];
        config.api.listen =
            SocketAddr::from((network.ip_of(host).unwrap(), config.api.listen.port()));
        devnet.set_operator_config(index, config).unwrap();
    }
    aggregator_url
}

/// Starts `chorus <command> run --config FILE` on `host` and waits until
/// `health` answers 200.
async fn start_node(
    network: &Network,
    host: &str,
    command: &str,
    config: &std::path::Path,
    log: &std::path::Path,
    health: String,
) -> HostProcess {
    let config = config.to_string_lossy();
    let mut process =
        network.spawn(host, &chorus_exe(), &[command, "run", "--config", &config], log).unwrap();
    wait_for(&format!("{host} serving {health}"), LONG, || {
        let health = health.clone();
        let running = process.check_running();
        async move {
            running?;
            Ok((get_text(&health, "").await?.0 == 200).then_some(()))
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; see {}", log.display()));
    process
}

async fn checkpoints(aggregator_url: &str) -> Vec<CheckpointStatus> {
    get_json(aggregator_url, "/v1/checkpoints?limit=1000").await.unwrap()
}

async fn newest_id(aggregator_url: &str) -> u64 {
    checkpoints(aggregator_url).await.iter().map(|c| c.proposal.checkpoint_id).max().unwrap_or(0)
}

async fn block(devnet: &Devnet) -> u64 {
    devnet.l1().get_block_number().await.unwrap()
}

/// Checkpoints attested in L1 blocks `from..`.
async fn landed_since(devnet: &Devnet, from: u64) -> Vec<AttestedCheckpoint> {
    let attested = devnet.attested_checkpoints().await.unwrap();
    attested.into_iter().filter(|c| c.l1_block >= from).collect()
}

/// Waits for `count` checkpoints landed in blocks `from..`; returns the
/// first one's block and how long it took.
async fn wait_landed(devnet: &Devnet, from: u64, count: usize, what: &str) -> (u64, Duration) {
    let started = Instant::now();
    let landed = wait_for(what, LONG, || async {
        let landed = landed_since(devnet, from).await;
        Ok((landed.len() >= count).then_some(landed))
    })
    .await
    .unwrap();
    (landed[0].l1_block, started.elapsed())
}

/// Holds a cut for [`GRACE_BLOCKS`] + `blocks` L1 blocks and asserts that
/// nothing landed after the grace blocks; returns the outage's last block.
async fn hold_cut(devnet: &Devnet, cut_block: u64, blocks: u64, what: &str) -> u64 {
    let quiet_from = cut_block + GRACE_BLOCKS + 1;
    let last = quiet_from + blocks - 1;
    wait_for(
        &format!("L1 block {last} ({what})"),
        LONG + Duration::from_secs(2 * blocks),
        || async { Ok((devnet.l1().get_block_number().await? >= last).then_some(())) },
    )
    .await
    .unwrap();
    let landed: Vec<_> =
        landed_since(devnet, quiet_from).await.into_iter().filter(|c| c.l1_block <= last).collect();
    assert!(
        landed.is_empty(),
        "{what}: checkpoints landed in blocks {quiet_from}..={last}: {landed:?}"
    );
    last
}

#[actix_rt::test]
async fn a_partition_stops_checkpoints_and_healing_resumes_them_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 4,
        rollups: 1,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    let mut devnet = Devnet::setup(options).await.unwrap();
    devnet.wait_for_rollups(LONG).await.unwrap();

    let mut hosts = vec![AGGREGATOR];
    hosts.extend(OPERATORS);
    let network = Network::create(&hosts).unwrap();
    let chains = forward_chains(&devnet, &network).await;
    let aggregator_url = configure_hosts(&mut devnet, &network, &chains);
    let info = devnet.info().clone();
    let logs = dir.path().join("devnet").join("logs");

    let mut nodes = Vec::new();
    nodes.push(
        start_node(
            &network,
            AGGREGATOR,
            "aggregator",
            &info.aggregator.config_file,
            &logs.join("netns-aggregator.log"),
            format!("{aggregator_url}/health"),
        )
        .await,
    );
    for (index, host) in OPERATORS.iter().enumerate() {
        let listen = devnet.operator_config(index).unwrap().api.listen;
        nodes.push(
            start_node(
                &network,
                host,
                "operator",
                &info.operators[index].config_file,
                &logs.join(format!("netns-{host}.log")),
                format!("http://{listen}/eigen/node/health"),
            )
            .await,
        );
    }

    let mut report = Vec::new();
    let start = block(&devnet).await + 1;
    let (first, took) =
        wait_landed(&devnet, start, 2, "2 checkpoints on the connected network").await;
    report.push(format!("connected: first checkpoint in L1 block {first} after {took:.1?}"));

    // Two of four operators off the network: half the stake, under the
    // two-thirds quorum.
    let cut = block(&devnet).await;
    let cut_at = Instant::now();
    let before = newest_id(&aggregator_url).await;
    for host in &OPERATORS[2..] {
        network.unplug(host).unwrap();
    }
    let last = hold_cut(&devnet, cut, partition_blocks(), "2 of 4 operators unplugged").await;
    // The aggregator kept proposing and the two reachable operators kept
    // signing: only the quorum was missing.
    let reachable: Vec<_> = info.operators[..2].iter().map(|o| o.address).collect();
    let during: Vec<_> = checkpoints(&aggregator_url)
        .await
        .into_iter()
        .filter(|c| c.proposal.checkpoint_id >= before && c.state != CheckpointState::Attested)
        .collect();
    assert!(
        during
            .iter()
            .any(|c| c.signers.len() == 2 && c.signers.iter().all(|s| reachable.contains(s))),
        "no checkpoint open during the partition was signed by the two reachable operators: \
         {during:?}"
    );
    for host in &OPERATORS[2..] {
        network.plug(host).unwrap();
    }
    let healed = block(&devnet).await;
    let outage = cut_at.elapsed();
    let (first, took) =
        wait_landed(&devnet, healed + 1, 2, "2 checkpoints after the operators came back").await;
    report.push(format!(
        "2 of 4 operators unplugged at L1 block {cut}, nothing landed in blocks {}..={last}; \
         plugged back at block {healed} ({} blocks, {outage:.1?}); next checkpoint in block \
         {first}, {took:.1?} after healing",
        cut + GRACE_BLOCKS + 1,
        healed - cut,
    ));

    // The aggregator loses its route to the L1 alone: operators and L2 stay.
    let cut = block(&devnet).await;
    let cut_at = Instant::now();
    let l1_ip: Ipv4Addr = network.second_bridge_ip();
    network.blackhole(AGGREGATOR, l1_ip).unwrap();
    let last = hold_cut(&devnet, cut, partition_blocks(), "the aggregator cut from the L1").await;
    // Quorum was still reached: only the post was missing.
    let waiting = checkpoints(&aggregator_url)
        .await
        .into_iter()
        .filter(|c| c.state == CheckpointState::Submitting)
        .count();
    assert!(waiting > 0, "no checkpoint reached quorum while the aggregator was cut from the L1");
    network.unblackhole(AGGREGATOR, l1_ip).unwrap();
    let healed = block(&devnet).await;
    let outage = cut_at.elapsed();
    let (first, took) =
        wait_landed(&devnet, healed + 1, 2, "2 checkpoints after the aggregator's L1 came back")
            .await;
    report.push(format!(
        "aggregator cut from the L1 at block {cut}, nothing landed in blocks {}..={last} \
         ({waiting} checkpoints with quorum waiting); restored at block {healed} ({} blocks, \
         {outage:.1?}); next checkpoint in block {first}, {took:.1?} after healing",
        cut + GRACE_BLOCKS + 1,
        healed - cut,
    ));

    for node in &mut nodes {
        node.check_running().unwrap();
    }
    let domain = Domain {
        l1_chain_id: info.deployment.chain_id,
        attestation_contract: info.deployment.chorus.attestations,
    };
    let feed = read_feed(&aggregator_url).await.unwrap();
    let conflicts = equivocations(domain, &feed.signatures).unwrap();
    assert!(conflicts.is_empty(), "operators signed conflicting commitments: {conflicts:?}");
    let posted = submissions(devnet.l1(), info.deployment.chorus.attestations).await.unwrap();
    assert!(posted.iter().all(|s| s.from == info.aggregator.submitter));
    assert_no_double_posts(&posted).unwrap();
    let landed = devnet.attested_checkpoints().await.unwrap().len();
    report.push(format!(
        "{} submissions, {landed} checkpoints attested, none twice; {} signatures judged, {} \
         conflicts",
        posted.len(),
        feed.signatures.len(),
        conflicts.len()
    ));
    for line in &report {
        eprintln!("{line}");
    }

    // Nodes first, then the network they ran on, then the chains.
    drop(nodes);
    drop(network);
    drop(chains);
    devnet.shutdown().await;
}
