//! The drills end to end on a devnet (real anvil L1 and L2s, EigenLayer and
//! Chorus from their real bytecode, nodes as actors in this process):
//! the equivocation drill gets operator 0 slashed on L1 and the network
//! carries on without it; the liveness drill measures a stall when the
//! quorum is lost and none when it holds.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent};
use chorus_contracts::table::fetch_table;
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_drill::{
    consent::{ChainApproval, Consent},
    equivocation::{EquivocationDrill, run_equivocation_drill},
    liveness::{OutagePlan, drill_liveness},
};
use chorus_keys::{bls::SecretKey, keystore::Keystore, password::Password};
use eigen_utils::slashing::core::allocation_manager::AllocationManager::OperatorSlashed;

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(120);

fn options(dir: &tempfile::TempDir, operators: usize) -> DevnetOptions {
    DevnetOptions { operators, rollups: 1, dir: dir.path().join("devnet"), ..Default::default() }
}

/// Operator `index`'s BLS key, from its keystore on disk.
fn operator_key(devnet: &Devnet, index: usize) -> SecretKey {
    let config = devnet.operator_config(index).unwrap();
    let password_file = config.operator.bls_password_file.clone().unwrap();
    let password = Password::new(std::fs::read_to_string(password_file).unwrap().trim_end());
    let text = std::fs::read_to_string(&config.operator.bls_keystore).unwrap();
    Keystore::from_json(&text).unwrap().decrypt(&password).unwrap().secret
}

#[actix_rt::test]
async fn equivocation_drill_slashes_the_operator_and_the_network_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(options(&dir, 4)).await.unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let offender = devnet.info().operators[0].address;

    let drill = EquivocationDrill {
        l1: devnet.l1().clone(),
        payer: devnet.deployer(),
        deployment: devnet.deployment().clone(),
        drill_key: operator_key(&devnet, 0),
        operator: Some(offender),
        rollup: None,
        consent: Consent { yes: true, ..Consent::default() },
        store_dir: Some(dir.path().join("watcher")),
        timeout: LONG,
    };
    std::fs::create_dir_all(dir.path().join("watcher")).unwrap();
    let report = run_equivocation_drill(drill).await.unwrap();
    println!("{report}");

    assert!(matches!(report.chain, ChainApproval::TestNetwork { chain_id: 31_337, .. }));
    assert_eq!(report.operator, offender);
    let [first, second] = &report.signed;
    assert_eq!(first.commitment.rollupId, second.commitment.rollupId);
    assert_eq!(first.commitment.l2BlockNumber, second.commitment.l2BlockNumber);
    assert_ne!(first.commitment.stateRoot, second.commitment.stateRoot);
    assert!(report.detection_ms <= report.proof.landed_ms);

    // EigenLayer slashed it: the event is on L1, the magnitude went down.
    let slashed_logs = devnet
        .l1()
        .get_logs(
            &Filter::new()
                .address(devnet.deployment().eigenlayer.allocation_manager)
                .event_signature(OperatorSlashed::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let on_chain: Vec<OperatorSlashed> = slashed_logs
        .iter()
        .map(|log| OperatorSlashed::decode_log(&log.inner).unwrap().data)
        .collect();
    assert_eq!(on_chain.len(), 1, "one slash on L1");
    assert_eq!(on_chain[0].operator, offender);
    assert_eq!(slashed_logs[0].transaction_hash, Some(report.proof.tx));
    assert_eq!(report.slashed.operator, offender);
    assert_eq!(report.slashed.avs, devnet.deployment().chorus.registry);
    assert!(!report.before.is_empty());
    for (before, after) in report.before.iter().zip(&report.after) {
        assert!(after.magnitude < before.magnitude, "{before:?} -> {after:?}");
        assert!(after.slashable_stake < before.slashable_stake, "{before:?} -> {after:?}");
    }

    // The next table lacks it, and checkpoints carry on under that table.
    assert!(!report.next_table.contains_operator);
    assert_eq!(report.next_table.operators, 3);
    assert!(report.next_table.version > report.table_version);
    let table =
        fetch_table(devnet.l1(), devnet.deployment().chorus.registry, report.next_table.version)
            .await
            .unwrap();
    assert!(table.entries().iter().all(|entry| entry.operator != offender));
    let started = Instant::now();
    let attested = loop {
        let attested = devnet.attested_checkpoints().await.unwrap();
        if let Some(checkpoint) =
            attested.into_iter().find(|c| c.table_version >= report.next_table.version)
        {
            break checkpoint;
        }
        assert!(
            started.elapsed() < LONG,
            "no checkpoint attested under table version {} within {LONG:?}",
            report.next_table.version
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(attested.signed_weight > alloy::primitives::U256::ZERO);
    assert!(attested.signed_weight <= table.total_weight());
    devnet.shutdown().await;
}

#[actix_rt::test]
async fn liveness_drill_measures_the_stall_and_the_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(options(&dir, 4)).await.unwrap();
    let outage = Duration::from_secs(10);

    // One of four down: 75% still signs, above the two-thirds quorum.
    let one = OutagePlan { stop: vec![3], outage, timeout: LONG };
    let held = drill_liveness(&mut devnet, &one).await.unwrap();
    println!("{held}");
    assert_eq!(held.stopped.len(), 1);
    assert_eq!(held.stopped_weight_bps, 2_500);
    assert!(held.quorum_held, "{held:#?}");
    let without: Vec<_> =
        held.attested_during_outage.iter().filter(|c| c.without_stopped).collect();
    assert!(!without.is_empty());
    for checkpoint in &without {
        assert_eq!(checkpoint.signed_weight_bps, 7_500, "three of four signed: {checkpoint:?}");
    }
    assert!(
        held.stall.longest_gap_secs < outage.as_secs(),
        "checkpoints kept landing: {:?}",
        held.stall
    );
    assert!(held.recovery.all_signing_ms < LONG.as_millis() as u64);

    // Two of four down: 50% cannot reach the quorum; the stall lasts the outage.
    let two = OutagePlan { stop: vec![2, 3], outage, timeout: LONG };
    let lost = drill_liveness(&mut devnet, &two).await.unwrap();
    println!("{lost}");
    assert_eq!(lost.stopped_weight_bps, 5_000);
    assert!(!lost.quorum_held, "{lost:#?}");
    assert!(lost.attested_during_outage.iter().all(|c| !c.without_stopped));
    // The stall spans the outage (L1 timestamps, 1 s blocks; a second of slack).
    assert!(
        lost.stall.longest_gap_secs + 1 >= outage.as_secs(),
        "the stall should cover the outage: {:?}",
        lost.stall
    );
    assert!(lost.stall.longest_gap_blocks >= 1);
    assert!(lost.recovery.first_attested_ms <= lost.recovery.all_signing_ms);
    assert!(lost.recovery.all_signing_blocks >= 1);
    devnet.shutdown().await;
}
