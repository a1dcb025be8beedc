//! An honest operator asked by a malicious aggregator to sign a commitment
//! that conflicts with one it already signed refuses: while running, after
//! `kill -9` and a restart, and after its history went through `chorus
//! protection export`, a wiped store, `create` and `import`.
//!
//! Real chains (anvil L1 with EigenLayer and Chorus, the operator registered
//! and in the table; an anvil L2), the real operator as a `chorus operator
//! run` process, and a stand-in aggregator served by the test that proposes
//! whatever the test tells it to and records every answer.
//!
//! To reach the slashing-protection store itself (and not only the rollup
//! watcher, which refuses anything its L2 node disagrees with), the operator
//! first reads the L2 through a lying proxy and so signs a FAKE state root
//! at height `h2`; back on the honest node, the TRUE commitment at `h2` is
//! what its node agrees with, yet signing it would be an equivocation: only
//! the store stands in the way.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use alloy::{
    hex,
    primitives::{B256, Bytes},
};
use chorus_contracts::{
    Commitment,
    checkpoint::{CheckpointTree, checkpoint_message},
    table::fetch_latest_table,
};
use chorus_devnet::{Devnet, DevnetOptions, Mode};
use chorus_keys::bls::{PublicKey, Signature};
use chorus_operator::node::{NodeConfig, config::AggregatorEndpoint};
use chorus_rollup::{RollupReader, Safety};
use chorus_tests::{
    api::{get_text, wait_for},
    cli,
    lying_rpc::{LyingRpc, lie_about},
    malicious_aggregator::{Answer, MaliciousAggregator},
};
use chorus_wire::{Domain, Proposal, RejectReason};

/// Time for one answer or one node start; each takes a second or two.
const PATIENCE: Duration = Duration::from_secs(30);

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

/// A proposal as an aggregator sends it, its root computed honestly.
fn proposal(id: u64, domain: Domain, table_version: u32, commitment: &Commitment) -> Proposal {
    let root = CheckpointTree::new(vec![commitment.clone()]).unwrap().root();
    Proposal {
        checkpoint_id: id,
        domain,
        table_version,
        commitments: vec![commitment.clone()],
        commitments_root: root,
    }
}

/// Points operator 0 at `l2_rpc` and the stand-in, starts it as a process
/// and waits until every service of its node is up (L1 registry read, L2
/// node and the stand-in answering).
async fn start_operator(devnet: &mut Devnet, l2_rpc: &str, aggregator: &str) {
    let mut config: NodeConfig = devnet.operator_config(0).unwrap().clone();
    config.rollups[0].rpc_url = l2_rpc.to_owned();
    config.aggregators = vec![AggregatorEndpoint { url: aggregator.to_owned() }];
    devnet.set_operator_config(0, config).unwrap();
    devnet.start_operator(0).await.unwrap();
    assert_healthy(devnet).await;
}

async fn assert_healthy(devnet: &Devnet) {
    let api = devnet.info().operators[0].api_url.clone();
    wait_for("the operator healthy (/eigen/node/health 200)", PATIENCE, || async {
        Ok((get_text(&api, "/eigen/node/health").await?.0 == 200).then_some(()))
    })
    .await
    .unwrap();
}

/// The operator's count of checkpoints its protection store refused.
async fn refused_by_protection(devnet: &Devnet) -> u64 {
    let api = &devnet.info().operators[0].api_url;
    let (_, metrics) = get_text(api, "/metrics").await.unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("chorus_refused_by_protection_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no chorus_refused_by_protection_total in {metrics}"))
}

/// Runs `chorus protection <command> --json` on operator 0's store;
/// returns whether it succeeded, its stdout, and everything it printed.
fn protection(config: &NodeConfig, command: &str, extra: &[&Path]) -> (bool, String, String) {
    let output = cli::protection(&chorus_exe(), config, command, extra.first().copied()).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.success(), stdout, all)
}

/// Deletes the store and SQLite's companion files: the machine is wiped.
fn wipe_store(store: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = store.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(PathBuf::from(path)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => panic!("cannot wipe {}: {error}", store.display()),
        }
    }
    assert!(!store.exists());
}

fn signed(answer: &Answer) -> Option<&chorus_wire::SignedCheckpoint> {
    match answer {
        Answer::Signed(signed) => Some(signed),
        Answer::Rejected(_) => None,
    }
}

#[actix_rt::test]
async fn an_honest_operator_never_signs_a_conflicting_commitment() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 1,
        rollups: 1,
        dir: dir.path().join("devnet"),
        operator_mode: Mode::Processes { chorus_exe: chorus_exe() },
        ..Default::default()
    };
    let mut devnet = Devnet::setup(options).await.unwrap();
    devnet.wait_for_rollups(PATIENCE).await.unwrap();
    let deployment = devnet.deployment().clone();
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    let table = fetch_latest_table(devnet.l1(), deployment.chorus.registry).await.unwrap();
    let version = table.version();
    let operator = devnet.info().operators[0].address;
    let pubkey =
        PublicKey::from_bytes(&hex::decode(&devnet.info().operators[0].bls_pubkey).unwrap())
            .unwrap();
    let rollup = devnet.info().rollups[0].clone();

    // Three heights already past the operator's safety depth (2), and what
    // the honest L2 holds there; the fake one differs in the state root.
    let l2 = RollupReader::connect(rollup.chain_id, &rollup.rpc_url, Safety::Confirmations(0))
        .await
        .unwrap();
    let tip = wait_for("the L2 at block 8", PATIENCE, || async {
        let tip = l2.safe_head().await?.l2BlockNumber;
        Ok((tip >= 8).then_some(tip))
    })
    .await
    .unwrap();
    let (h1, h2, h3) = (tip - 5, tip - 4, tip - 3);
    let honest = |height: u64| {
        let l2 = &l2;
        async move { l2.commitment_at(height).await.unwrap().unwrap() }
    };
    let (true1, true2, true3) = (honest(h1).await, honest(h2).await, honest(h3).await);
    let fake = |c: &Commitment| Commitment { stateRoot: lie_about(c.stateRoot), ..c.clone() };
    let propose = |id, commitment: &Commitment| proposal(id, domain, version, commitment);

    let mut aggregator = MaliciousAggregator::start().unwrap();
    let liar = LyingRpc::start(&rollup.rpc_url).unwrap();
    let mut sent: HashMap<u64, Proposal> = HashMap::new();
    let mut open = |aggregator: &MaliciousAggregator, proposals: Vec<Proposal>| {
        for p in &proposals {
            sent.insert(p.checkpoint_id, p.clone());
        }
        aggregator.propose(proposals);
    };

    // Phase 1, honest L2: the true commitment at h1 is signed; a
    // conflicting one (the fake root) is rejected by the rollup watcher.
    start_operator(&mut devnet, &rollup.rpc_url, aggregator.url()).await;
    open(&aggregator, vec![propose(1, &true1), propose(2, &fake(&true1))]);
    let answer = aggregator.answer_to(1, PATIENCE).await.unwrap();
    assert!(signed(&answer).is_some(), "the true commitment is signed: {answer:?}");
    match aggregator.answer_to(2, PATIENCE).await.unwrap() {
        Answer::Rejected(rejection) => {
            assert_eq!(rejection.rejected.len(), 1);
            assert_eq!(
                rejection.rejected[0].reason,
                RejectReason::Mismatch { ours: true1.clone() }
            );
        }
        other => panic!("a conflicting root was signed: {other:?}"),
    }

    // Phase 2, kill -9, then the operator reads the L2 through a liar: it
    // signs the fake commitment at h2, now recorded in its store.
    devnet.kill_operator(0).await.unwrap();
    start_operator(&mut devnet, liar.url(), aggregator.url()).await;
    open(&aggregator, vec![propose(3, &fake(&true2))]);
    let answer = aggregator.answer_to(3, PATIENCE).await.unwrap();
    assert!(signed(&answer).is_some(), "the (fake) view of its node is signed: {answer:?}");

    // Phase 3, kill -9, honest L2 again: its node now agrees with the true
    // commitment at h2, but signing it would equivocate. The store refuses
    // (no answer at all); the next proposal, the true h1 again, is signed,
    // which also shows id 4 was handled before it (the link answers in
    // order) and that the node is alive.
    devnet.kill_operator(0).await.unwrap();
    start_operator(&mut devnet, &rollup.rpc_url, aggregator.url()).await;
    open(&aggregator, vec![propose(4, &true2), propose(5, &true1)]);
    let answer = aggregator.answer_to(5, PATIENCE).await.unwrap();
    assert!(signed(&answer).is_some(), "re-signing the same commitment is safe: {answer:?}");
    assert!(
        aggregator.received().iter().all(|a| a.checkpoint_id() != 4),
        "the conflicting checkpoint was answered after kill -9 and restart"
    );
    assert_eq!(refused_by_protection(&devnet).await, 1);
    assert_healthy(&devnet).await;

    // Phase 4: stop (kill -9), export the history, wipe the store, create an empty
    // one and import the history (twice: import is idempotent), through the
    // binary as an operator moving machines would.
    devnet.kill_operator(0).await.unwrap();
    let config = devnet.operator_config(0).unwrap().clone();
    let store = config.operator.protection_db.clone();
    let export = dir.path().join("history.json");
    let (ok, _, output) = protection(&config, "export", &[&export]);
    assert!(ok, "export failed: {output}");
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    let records = history["signedCommitments"].as_array().unwrap();
    let (height, fake_root) = (h2.to_string(), fake(&true2).stateRoot.to_string());
    assert!(
        records
            .iter()
            .any(|r| r["l2BlockNumber"].as_str() == Some(height.as_str())
                && r["stateRoot"] == fake_root),
        "the export holds the signed fake commitment at {h2}: {history}"
    );
    wipe_store(&store);
    let (ok, _, output) = protection(&config, "create", &[]);
    assert!(ok, "create failed: {output}");
    for expected in [2, 0] {
        let (ok, stdout, output) = protection(&config, "import", &[&export]);
        assert!(ok, "import failed: {output}");
        let report: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("import --json printed {output}: {e}"));
        assert_eq!(report["checkpointsImported"], expected, "import report: {report}");
    }
    // A file that would let it sign the true h2 is refused, nothing written.
    let mut conflicting = history.clone();
    let true_root = CheckpointTree::new(vec![true2.clone()]).unwrap().root();
    conflicting["signedCommitments"] = serde_json::json!([{
        "rollupId": true2.rollupId.to_string(),
        "l2BlockNumber": h2.to_string(),
        "l2BlockHash": true2.l2BlockHash.to_string(),
        "stateRoot": true2.stateRoot.to_string(),
        "commitmentsRoot": true_root.to_string(),
        "tableVersion": version.to_string(),
    }]);
    let conflicting_file = dir.path().join("conflicting.json");
    std::fs::write(&conflicting_file, conflicting.to_string()).unwrap();
    let (ok, _, output) = protection(&config, "import", &[&conflicting_file]);
    assert!(!ok, "a conflicting history was imported: {output}");

    // Restarted on the imported store: still refuses the true h2, signs a
    // new height.
    start_operator(&mut devnet, &rollup.rpc_url, aggregator.url()).await;
    open(&aggregator, vec![propose(6, &true2), propose(7, &true3)]);
    let answer = aggregator.answer_to(7, PATIENCE).await.unwrap();
    assert!(signed(&answer).is_some(), "a new height is signed: {answer:?}");
    assert!(
        aggregator.received().iter().all(|a| a.checkpoint_id() != 6),
        "the conflicting checkpoint was answered after export, wipe and import"
    );
    assert_eq!(refused_by_protection(&devnet).await, 1);
    assert_healthy(&devnet).await;

    // Everything the stand-in received: valid signatures by the operator's
    // key, and never two different commitments at one (rollup, height).
    let mut signed_at: HashMap<(u64, u64), Commitment> = HashMap::new();
    for answer in aggregator.received() {
        let Some(signature) = signed(answer) else { continue };
        assert_eq!(signature.operator, operator);
        let proposal = &sent[&signature.checkpoint_id];
        assert_eq!(signature.commitments_root, proposal.commitments_root);
        verify(
            &pubkey,
            domain,
            signature.table_version,
            signature.commitments_root,
            &signature.signature,
        );
        for commitment in &proposal.commitments {
            let key = (commitment.rollupId, commitment.l2BlockNumber);
            let first = signed_at.entry(key).or_insert_with(|| commitment.clone());
            assert_eq!(first, commitment, "the operator signed conflicting commitments");
        }
    }
    assert_eq!(signed_at.get(&(rollup.chain_id, h2)), Some(&fake(&true2)));
    let never = CheckpointTree::new(vec![true2.clone()]).unwrap().root();
    assert!(aggregator.received().iter().filter_map(signed).all(|s| s.commitments_root != never));

    // A store of another deployment (same key) is refused at start: the
    // node never runs on someone else's history.
    devnet.kill_operator(0).await.unwrap();
    let answers = aggregator.received().len();
    refuses_a_store_of_another_deployment(&mut devnet, dir.path()).await;
    assert_eq!(aggregator.received().len(), answers);

    devnet.shutdown().await;
    aggregator.stop().await;
    liar.stop().await;
}

fn verify(pubkey: &PublicKey, domain: Domain, version: u32, root: B256, signature: &Bytes) {
    let message =
        checkpoint_message(domain.l1_chain_id, domain.attestation_contract, version, root);
    let signature = Signature::from_bytes(signature).unwrap();
    pubkey.verify(message.as_slice(), &signature).unwrap();
}

/// Creates a store for operator 0's key in a deployment naming another
/// attestation contract, points the node at it and checks that `chorus
/// operator run` exits at once, saying why.
async fn refuses_a_store_of_another_deployment(devnet: &mut Devnet, dir: &Path) {
    let config = devnet.operator_config(0).unwrap().clone();
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config.l1.deployment).unwrap()).unwrap();
    other["attestations"] = serde_json::json!(devnet.deployment().chorus.slasher.to_string());
    let other_deployment = dir.join("other-deployment.json");
    std::fs::write(&other_deployment, other.to_string()).unwrap();
    let mut foreign = config.clone();
    foreign.l1.deployment = other_deployment;
    foreign.operator.protection_db = dir.join("foreign.sqlite");
    let (ok, _, output) = protection(&foreign, "create", &[]);
    assert!(ok, "create failed: {output}");

    let mut node = config;
    node.operator.protection_db = foreign.operator.protection_db;
    devnet.set_operator_config(0, node).unwrap();
    let config_file = devnet.info().operators[0].config_file.clone();
    let mut child = Command::new(chorus_exe())
        .args(["operator", "run", "--config"])
        .arg(&config_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_for("chorus operator run to refuse the store", PATIENCE, || {
        let status = child.try_wait();
        async move { Ok(status?) }
    })
    .await;
    if exited.is_err() {
        let _ = child.kill();
    }
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(exited.is_ok(), "the node started on another deployment's store: {text}");
    assert!(!output.status.success());
    assert!(text.contains("cannot use the slashing-protection store"), "{text}");
}
