//! Two aggregators, every operator answering both: kill either one with
//! SIGKILL and checkpoints keep landing through the other, no checkpoint
//! root is posted twice, and no operator signs conflicting commitments
//! across the two.
//!
//! Real chains (anvil L1 with EigenLayer and Chorus, anvil L2s), four
//! operators and two aggregators as `chorus` processes (each aggregator its
//! own submitter account, store and port). Everything is asserted on L1
//! (the contract's events and every submission transaction) and on the
//! aggregators' public signature feeds, judged by the slashing watcher's
//! own detector.
//!
//! `CHORUS_LONG=1` runs more rounds of outages, each longer.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    cell::RefCell,
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionResponse as _,
    primitives::{Address, B256},
    providers::Provider,
};
use chorus_contracts::IChorusAttestations;
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_tests::{
    api::{get_json, wait_for},
    feeds::{equivocations, read_feed},
    l1::{assert_no_double_posts, outcomes, submissions},
};
use chorus_wire::{CheckpointState, CheckpointStatus, Domain};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

fn long_run() -> bool {
    std::env::var("CHORUS_LONG").is_ok_and(|value| value == "1")
}

/// One phase of the run: which aggregators were up, and what landed.
#[derive(Debug)]
struct Phase {
    name: String,
    first_block: u64,
    last_block: u64,
    seconds: f64,
    landed: usize,
    /// Checkpoints landed in the phase, by the submitter that posted them.
    by_submitter: BTreeMap<Address, usize>,
}

/// Every rollup's latest L2 height attested on L1.
async fn latest_heights(devnet: &Devnet) -> Vec<u64> {
    let attestations =
        IChorusAttestations::new(devnet.deployment().chorus.attestations, devnet.l1());
    let mut heights = Vec::new();
    for rollup in &devnet.info().rollups {
        let latest = attestations.latestCommitment(rollup.chain_id).call().await.unwrap();
        heights.push(latest.commitment.l2BlockNumber);
    }
    heights
}

/// How much each phase must see land: checkpoints, and L1 blocks it lasts.
#[derive(Debug, Clone, Copy)]
struct Extent {
    checkpoints: usize,
    blocks: u64,
}

/// Waits until `extent.checkpoints` checkpoints that moved a rollup forward
/// landed in L1 blocks after the current one, posted by `through` when
/// given (what a killed aggregator had already sent does not count), over
/// at least `extent.blocks` blocks, and every rollup's attested height
/// advanced; returns what landed meanwhile.
async fn phase(devnet: &Devnet, name: &str, extent: Extent, through: Option<Address>) -> Phase {
    let started = Instant::now();
    let first_block = devnet.l1().get_block_number().await.unwrap() + 1;
    let heights_before = latest_heights(devnet).await;
    let what = format!(
        "{} checkpoints advancing on L1 over {} blocks ({name})",
        extent.checkpoints, extent.blocks
    );
    let timeout = LONG + Duration::from_secs(2 * extent.blocks);
    // Who sent each landed checkpoint, looked up once per transaction.
    let senders: RefCell<HashMap<B256, Address>> = RefCell::default();
    let landed = wait_for(&what, timeout, || async {
        let latest = devnet.l1().get_block_number().await?;
        let attested = devnet.attested_checkpoints().await?;
        let landed: Vec<_> = attested
            .into_iter()
            .filter(|c| c.l1_block >= first_block && !c.commitments.is_empty())
            .collect();
        for checkpoint in &landed {
            if !senders.borrow().contains_key(&checkpoint.tx_hash) {
                let tx = devnet.l1().get_transaction_by_hash(checkpoint.tx_hash).await?;
                let from = tx.ok_or("a landed transaction is unknown")?.from();
                senders.borrow_mut().insert(checkpoint.tx_hash, from);
            }
        }
        let counted = landed
            .iter()
            .filter(|c| through.is_none_or(|through| senders.borrow()[&c.tx_hash] == through))
            .count();
        let done = counted >= extent.checkpoints && latest + 1 >= first_block + extent.blocks;
        Ok(done.then_some(landed))
    })
    .await
    .unwrap();
    let heights_after = latest_heights(devnet).await;
    for (before, after) in heights_before.iter().zip(&heights_after) {
        assert!(after > before, "{name}: a rollup's attested height stayed at {before}");
    }
    let last_block = devnet.l1().get_block_number().await.unwrap();
    let mut by_submitter = BTreeMap::new();
    for checkpoint in &landed {
        *by_submitter.entry(senders.borrow()[&checkpoint.tx_hash]).or_default() += 1;
    }
    Phase {
        name: name.to_owned(),
        first_block,
        last_block,
        seconds: started.elapsed().as_secs_f64(),
        landed: landed.len(),
        by_submitter,
    }
}

#[actix_rt::test]
async fn checkpoints_land_through_either_aggregator_and_never_twice() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 4,
        rollups: 2,
        aggregators: 2,
        dir: dir.path().join("devnet"),
        ..Default::default()
    }
    .with_processes(chorus_exe());
    let mut devnet = Devnet::start(options).await.unwrap();
    let info = devnet.info().clone();
    let submitters: Vec<Address> = info.aggregators().map(|a| a.submitter).collect();
    assert_eq!(submitters.len(), 2);
    for operator in 0..devnet.operator_count() {
        let urls: Vec<_> = devnet
            .operator_config(operator)
            .unwrap()
            .aggregators
            .iter()
            .map(|a| a.url.clone())
            .collect();
        assert_eq!(urls, info.aggregators().map(|a| a.url.clone()).collect::<Vec<_>>());
    }
    let domain = Domain {
        l1_chain_id: info.deployment.chain_id,
        attestation_contract: info.deployment.chorus.attestations,
    };
    // Long: five rounds, each outage a minute of L1 blocks at least.
    let (rounds, extent) = if long_run() {
        (5, Extent { checkpoints: 20, blocks: 60 })
    } else {
        (1, Extent { checkpoints: 3, blocks: 0 })
    };
    let per_phase = extent.checkpoints;

    let mut phases = vec![phase(&devnet, "both up", extent, None).await];
    let mut signatures = Vec::new();
    for round in 0..rounds {
        for (down, up) in [(0, 1), (1, 0)] {
            // What the victim's feed holds now is evidence too: gather it
            // before it dies (its store keeps it, but its window is bounded).
            signatures.extend(
                read_feed(devnet.aggregator_url_at(down).unwrap()).await.unwrap().signatures,
            );
            devnet.kill_aggregator_at(down).await.unwrap();
            let name = format!("round {round}: aggregator {down} killed");
            let outage = phase(&devnet, &name, extent, Some(submitters[up])).await;
            assert!(
                outage.by_submitter.get(&submitters[up]).copied().unwrap_or(0) >= per_phase,
                "{name}: checkpoints did not land through aggregator {up}: {outage:?}"
            );
            phases.push(outage);
            devnet.start_aggregator_at(down).await.unwrap();
        }
    }
    phases.push(phase(&devnet, "both up again", extent, None).await);

    for index in 0..devnet.aggregator_count() {
        let url = devnet.aggregator_url_at(index).unwrap();
        let statuses: Vec<CheckpointStatus> =
            get_json(url, "/v1/checkpoints?limit=1000").await.unwrap();
        let count =
            |f: &dyn Fn(&CheckpointStatus) -> bool| statuses.iter().filter(|s| f(s)).count();
        eprintln!(
            "aggregator {index}: {} checkpoints attested by its own post, {} found attested by \
             the other (not sent), {} superseded or outdated (not sent), {} open or submitting",
            count(&|s| s.state == CheckpointState::Attested && s.l1_transaction.is_some()),
            count(&|s| s.state == CheckpointState::Attested && s.l1_transaction.is_none()),
            count(&|s| s.state == CheckpointState::Superseded),
            count(&|s| matches!(s.state, CheckpointState::Open | CheckpointState::Submitting)),
        );
        let feed = read_feed(url).await.unwrap();
        eprintln!(
            "aggregator {index}: {} checkpoints proposed, {} signatures, {} forgotten",
            feed.checkpoints,
            feed.signatures.len(),
            feed.forgotten
        );
        signatures.extend(feed.signatures);
    }
    let conflicts = equivocations(domain, &signatures).unwrap();
    assert!(conflicts.is_empty(), "operators signed conflicting commitments: {conflicts:?}");

    let posted = submissions(devnet.l1(), info.deployment.chorus.attestations).await.unwrap();
    let results = outcomes(devnet.l1(), &posted).await.unwrap();
    let attested = devnet.attested_checkpoints().await.unwrap();
    for (index, submitter) in submitters.iter().enumerate() {
        let mine: Vec<_> =
            posted.iter().zip(&results).filter(|(s, _)| s.from == *submitter).collect();
        let reverted: Vec<_> = mine.iter().filter(|(_, o)| !o.success).collect();
        let stale = mine
            .iter()
            .filter(|(s, o)| {
                o.success
                    && attested.iter().any(|c| c.tx_hash == s.tx_hash && c.commitments.is_empty())
            })
            .count();
        let gas: u64 = mine.iter().map(|(_, o)| o.gas_used).sum();
        let wasted: u64 = reverted.iter().map(|(_, o)| o.gas_used).sum();
        eprintln!(
            "submitter {index} {submitter}: {} sent, {} reverted ({wasted} gas), {stale} \
             attested nothing new, {gas} gas in all",
            mine.len(),
            reverted.len()
        );
    }
    for p in &phases {
        eprintln!(
            "{}: L1 blocks {}..={} ({} blocks, {:.1} s), {} checkpoints landed, by submitter {:?}",
            p.name,
            p.first_block,
            p.last_block,
            p.last_block + 1 - p.first_block,
            p.seconds,
            p.landed,
            p.by_submitter
        );
    }
    eprintln!("signatures judged: {}; conflicts: {}", signatures.len(), conflicts.len());
    assert_no_double_posts(&posted).unwrap();
    assert!(devnet.exited_nodes().is_empty(), "a node exited on its own");
    devnet.shutdown().await;
}
