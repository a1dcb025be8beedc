//! The devnet on real anvil chains: what setup leaves on L1 and on disk,
//! that no process outlives it, and (once the node and aggregator run)
//! checkpoints attested end to end.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use alloy::{
    eips::BlockNumberOrTag,
    providers::{Provider, ProviderBuilder},
};
use chorus_aggregator::service::AggregatorConfig;
use chorus_contracts::{IChorusAttestations, IChorusRegistry};
use chorus_devnet::{Devnet, DevnetError, DevnetInfo, DevnetOptions};
use chorus_keys::{keystore::Keystore, password::PasswordSource};
use chorus_operator::{
    node::NodeConfig,
    protection::{Domain, SlashingProtection},
};
use chorus_rollup::Safety;

fn options(dir: &Path, operators: usize) -> DevnetOptions {
    DevnetOptions { operators, rollups: 2, dir: dir.to_path_buf(), ..DevnetOptions::default() }
}

/// Reads a configuration file with the `config` crate, as the binary does.
fn load_config<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    config::Config::builder()
        .add_source(config::File::from(path))
        .build()
        .and_then(config::Config::try_deserialize)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether process `pid` still exists (a zombie counts: it was not reaped).
fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits until `condition` holds, failing after `deadline`.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, deadline: Duration, mut condition: F) {
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < deadline, "timed out after {deadline:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn setup_registers_operators_writes_configs_and_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::setup(options(dir.path(), 3)).await.unwrap();
    let info = devnet.info().clone();
    eprintln!("setup took {:?}", devnet.setup_duration());

    // devnet.json is what info() says.
    let written = DevnetInfo::read(&dir.path().join("devnet.json")).unwrap();
    assert_eq!(written, info);
    assert_eq!(info.rollups.iter().map(|r| r.chain_id).collect::<Vec<_>>(), [901, 902]);
    assert_eq!(info.operators.len(), 3);

    // L1: every operator registered and in the table; both rollups listed.
    let l1 = devnet.l1();
    let registry = IChorusRegistry::new(info.deployment.chorus.registry, l1);
    for operator in &info.operators {
        assert!(registry.isRegistered(operator.address).call().await.unwrap());
    }
    assert_eq!(registry.latestTableVersion().call().await.unwrap(), 1);
    let attestations = IChorusAttestations::new(info.deployment.chorus.attestations, l1);
    assert_eq!(attestations.listedRollups().call().await.unwrap(), vec![901u64, 902]);

    // L1 now mines on its own (interval mining), without transactions.
    let start = l1.get_block_number().await.unwrap();
    eventually("an L1 block without transactions", Duration::from_secs(10), async || {
        l1.get_block_number().await.unwrap() > start
    })
    .await;

    // Each L2 has its chain id, makes blocks, and its state root moves.
    for rollup in &info.rollups {
        let l2 = ProviderBuilder::new().connect_http(rollup.rpc_url.parse().unwrap());
        assert_eq!(l2.get_chain_id().await.unwrap(), rollup.chain_id);
        let first = l2.get_block_number().await.unwrap();
        eventually("two more L2 blocks", Duration::from_secs(10), async || {
            l2.get_block_number().await.unwrap() >= first + 2
        })
        .await;
        let root = async |number: u64| {
            let block = l2.get_block_by_number(BlockNumberOrTag::Number(number)).await.unwrap();
            block.unwrap().header.state_root
        };
        assert_ne!(root(first + 1).await, root(first + 2).await, "traffic moves the state root");
    }

    // Configuration files parse back to what the devnet holds.
    for operator in &info.operators {
        let config: NodeConfig = load_config(&operator.config_file);
        assert_eq!(&config, devnet.operator_config(operator.index).unwrap());
        assert_eq!(config.operator.address, operator.address);
        assert_eq!(config.aggregators[0].url, info.aggregator.url);
        assert!(config.rollups.iter().all(|r| r.safety == Safety::Confirmations(2)));
        assert_eq!(config.api.listen.to_string(), operator.api_url.trim_start_matches("http://"));

        // The keystore opens with its password file, and the store with its key.
        let password = PasswordSource::File(config.operator.bls_password_file.clone().unwrap())
            .read()
            .unwrap();
        let secret = Keystore::from_file(&config.operator.bls_keystore)
            .unwrap()
            .decrypt(&password)
            .unwrap()
            .secret;
        assert_eq!(alloy::hex::encode(secret.public_key().to_bytes()), operator.bls_pubkey);
        let domain = Domain {
            l1_chain_id: info.deployment.chain_id,
            attestation_contract: info.deployment.chorus.attestations,
        };
        let store =
            SlashingProtection::open(&config.operator.protection_db, domain, &secret.public_key())
                .unwrap();
        store.check_integrity().unwrap();
    }
    let aggregator: AggregatorConfig = load_config(&info.aggregator.config_file);
    assert_eq!(&aggregator, devnet.aggregator_config());
    let submitter_password =
        PasswordSource::File(aggregator.submitter.password_file.clone().unwrap()).read().unwrap();
    let submitter =
        chorus_keys::ecdsa::decrypt(&aggregator.submitter.keystore, &submitter_password).unwrap();
    assert_eq!(submitter.address(), info.aggregator.submitter);

    // Shutdown reaps every chain.
    let pids = devnet.child_pids();
    assert_eq!(pids.len(), 3, "one L1 and two L2 anvils");
    devnet.shutdown().await;
    for pid in pids {
        assert!(!process_exists(pid), "process {pid} outlived the devnet");
    }
}

#[actix_rt::test]
async fn dropping_a_devnet_leaves_no_process_and_its_folder_can_be_reused() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::setup(options(dir.path(), 1)).await.unwrap();
    let pids = devnet.child_pids();
    assert!(pids.iter().all(|&pid| process_exists(pid)));
    drop(devnet);
    for pid in pids {
        assert!(!process_exists(pid), "process {pid} outlived the dropped devnet");
    }
    // A previous devnet's folder is taken over.
    let again = Devnet::setup(options(dir.path(), 1)).await.unwrap();
    assert_eq!(again.operator_count(), 1);
    again.shutdown().await;
}

#[actix_rt::test]
async fn refuses_a_folder_of_other_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let error = Devnet::setup(options(dir.path(), 1)).await.err().unwrap();
    assert!(matches!(error, DevnetError::DirNotEmpty(_)), "{error}");
    assert!(error.to_string().contains("not a previous devnet"));
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");

    // A folder whose devnet still runs (its lock names a live process).
    let busy = tempfile::tempdir().unwrap();
    std::fs::write(busy.path().join("devnet.lock"), "1\n").unwrap();
    let error = Devnet::setup(options(busy.path(), 1)).await.err().unwrap();
    assert!(matches!(error, DevnetError::DirInUse { pid: 1, .. }), "{error}");
}

/// The whole devnet in process: needs the operator node and the aggregator
/// service (`chorus_operator::node::start`, `chorus_aggregator::service::start`).
#[actix_rt::test]
async fn in_process_devnet_attests_checkpoints_on_l1() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(options(dir.path(), 3)).await.unwrap();
    eprintln!("devnet up in {:?}", devnet.setup_duration());
    let attested = devnet.wait_for_checkpoints(2, Duration::from_secs(90)).await.unwrap();
    assert!(attested.len() >= 2);
    let mut rollups_seen = std::collections::BTreeSet::new();
    for checkpoint in &attested {
        let receipt =
            devnet.l1().get_transaction_receipt(checkpoint.tx_hash).await.unwrap().unwrap();
        assert!(receipt.status());
        assert_eq!(receipt.block_number, Some(checkpoint.l1_block));
        // Every commitment recorded is the L2's own block.
        for commitment in &checkpoint.commitments {
            let url = devnet.info().rollup_rpc(commitment.rollupId).unwrap();
            let l2 = ProviderBuilder::new().connect_http(url.parse().unwrap());
            let block = l2
                .get_block_by_number(BlockNumberOrTag::Number(commitment.l2BlockNumber))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(block.header.hash, commitment.l2BlockHash);
            assert_eq!(block.header.state_root, commitment.stateRoot);
            rollups_seen.insert(commitment.rollupId);
        }
    }
    assert_eq!(rollups_seen.into_iter().collect::<Vec<_>>(), [901, 902], "both rollups attested");
    let pids = devnet.child_pids();
    devnet.shutdown().await;
    for pid in pids {
        assert!(!process_exists(pid), "process {pid} outlived the devnet");
    }
}

/// The same with the aggregator and operators as `chorus` processes, killed
/// and restarted. Needs the binary: `CHORUS_EXE=target/debug/chorus cargo
/// test -p chorus-devnet -- --ignored` (the workspace tests in `tests/`
/// build it themselves).
#[actix_rt::test]
#[ignore = "needs CHORUS_EXE naming a built chorus binary"]
async fn process_devnet_survives_kills_and_leaves_no_process() {
    let exe = std::env::var_os("CHORUS_EXE").expect("CHORUS_EXE names the chorus binary");
    let dir = tempfile::tempdir().unwrap();
    let options = options(dir.path(), 3).with_processes(exe.into());
    let mut devnet = Devnet::start(options).await.unwrap();
    eprintln!("devnet up in {:?}", devnet.setup_duration());
    let first = devnet.wait_for_checkpoints(1, Duration::from_secs(90)).await.unwrap().len();
    let pids = devnet.child_pids();
    assert_eq!(pids.len(), 3 + 1 + 3, "three anvils, the aggregator, three operators");

    devnet.kill_operator(0).await.unwrap();
    devnet.kill_aggregator().await;
    assert_eq!(devnet.child_pids().len(), 3 + 2);
    devnet.start_aggregator().await.unwrap();
    devnet.start_operator(0).await.unwrap();
    devnet.wait_for_checkpoints(first + 2, Duration::from_secs(90)).await.unwrap();

    let pids: Vec<u32> = pids.into_iter().chain(devnet.child_pids()).collect();
    devnet.shutdown().await;
    for pid in pids {
        assert!(!process_exists(pid), "process {pid} outlived the devnet");
    }
}
