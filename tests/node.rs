//! Operators and aggregator end to end on a devnet: real anvil L1 and L2s,
//! EigenLayer and Chorus from their real bytecode, operators restaked and
//! registered through the real EigenLayer flow, the aggregator and the
//! operator nodes running as actors (or as `chorus` processes where a test
//! kills them). Every test asserts what L1 holds afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{collections::HashSet, path::PathBuf, time::Duration};

use alloy::{primitives::U256, providers::Provider};
use chorus_contracts::{Commitment, IChorusAttestations};
use chorus_devnet::{AttestedCheckpoint, Devnet, DevnetOptions, Mode};
use chorus_rollup::{RollupReader, Safety};
use chorus_tests::{
    BoxError,
    api::{get_json, get_text, wait_for},
    l1::{assert_no_double_posts, submissions},
    lying_rpc::LyingRpc,
};
use chorus_wire::{
    AggregatorStatus, CheckpointState, CheckpointStatus, Divergence, PublicSignature,
};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

fn options(dir: &tempfile::TempDir, operators: usize) -> DevnetOptions {
    DevnetOptions { operators, rollups: 2, dir: dir.path().join("devnet"), ..Default::default() }
}

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

/// Checks every attested commitment against the rollup's own (honest) node.
async fn assert_commitments_are_true(devnet: &Devnet, attested: &[AttestedCheckpoint]) {
    for rollup in &devnet.info().rollups {
        let reader =
            RollupReader::connect(rollup.chain_id, &rollup.rpc_url, Safety::Confirmations(0))
                .await
                .unwrap();
        for commitment in attested.iter().flat_map(|c| &c.commitments) {
            if commitment.rollupId != rollup.chain_id {
                continue;
            }
            let truth = reader.commitment_at(commitment.l2BlockNumber).await.unwrap();
            assert_eq!(truth.as_ref(), Some(commitment), "L1 holds a commitment the L2 never had");
        }
    }
}

/// L1's latest commitment of `rollup`.
async fn latest_on_l1(devnet: &Devnet, rollup: u64) -> Commitment {
    let attestations =
        IChorusAttestations::new(devnet.deployment().chorus.attestations, devnet.l1());
    attestations.latestCommitment(rollup).call().await.unwrap().commitment
}

/// The newest checkpoint id the aggregator has proposed (0 before any).
async fn latest_checkpoint_id(devnet: &Devnet) -> u64 {
    let statuses = checkpoints(devnet).await.unwrap();
    statuses.iter().map(|s| s.proposal.checkpoint_id).max().unwrap_or(0)
}

async fn checkpoints(devnet: &Devnet) -> Result<Vec<CheckpointStatus>, BoxError> {
    get_json(devnet.aggregator_url(), "/v1/checkpoints?limit=1000").await
}

#[actix_rt::test]
async fn all_operators_sign_and_every_rollup_lands() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(options(&dir, 4)).await.unwrap();
    let attested = devnet.wait_for_checkpoints(3, LONG).await.unwrap();

    let total = attested.last().map(|c| c.signed_weight).unwrap();
    let everyone = wait_for("a checkpoint signed by every operator", LONG, || async {
        let attested = devnet.attested_checkpoints().await?;
        let statuses = checkpoints(&devnet).await?;
        Ok(statuses
            .into_iter()
            .find(|s| s.signers.len() == 4 && s.state == CheckpointState::Attested)
            .filter(|s| attested.iter().any(|a| a.root == s.proposal.commitments_root)))
    })
    .await
    .unwrap();
    assert!(everyone.missing.is_empty());
    assert!(everyone.total_weight >= total);

    let attested = devnet.attested_checkpoints().await.unwrap();
    for rollup in devnet.options().rollup_ids() {
        let newest = attested
            .iter()
            .flat_map(|c| &c.commitments)
            .filter(|c| c.rollupId == rollup)
            .max_by_key(|c| c.l2BlockNumber)
            .unwrap_or_else(|| panic!("rollup {rollup} was never attested"));
        let on_l1 = latest_on_l1(&devnet, rollup).await;
        assert_eq!(&on_l1, newest, "L1's latest commitment is the newest attested block");
    }
    assert_commitments_are_true(&devnet, &attested).await;
    let posted = submissions(devnet.l1(), devnet.deployment().chorus.attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();

    // The node API and metrics of a running operator and aggregator.
    let operator = &devnet.info().operators[0].api_url;
    let node: serde_json::Value = get_json(operator, "/eigen/node").await.unwrap();
    assert!(node["node_name"].is_string() && node["spec_version"].is_string());
    assert_eq!(get_text(operator, "/eigen/node/health").await.unwrap().0, 200);
    let services: serde_json::Value = get_json(operator, "/eigen/node/services").await.unwrap();
    let services = services["services"].as_array().unwrap();
    assert!(services.len() >= 3, "a service per rollup, aggregator and L1: {services:?}");
    let first = services[0]["id"].as_str().unwrap();
    let path = format!("/eigen/node/services/{first}/health");
    assert_eq!(get_text(operator, &path).await.unwrap().0, 200);
    let (status, metrics) = get_text(operator, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("chorus_"), "operator metrics: {metrics}");
    let (status, metrics) = get_text(devnet.aggregator_url(), "/metrics").await.unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("chorus_checkpoints"), "aggregator metrics: {metrics}");
    // The aggregator counts a checkpoint attested once its inclusion is
    // confirmed ([submitter] confirmations), a little after L1 shows it.
    let overview = wait_for("the aggregator to count 3 attested checkpoints", LONG, || async {
        let overview: AggregatorStatus = get_json(devnet.aggregator_url(), "/v1/status").await?;
        Ok(Some(overview).filter(|o| o.attested_checkpoints >= 3))
    })
    .await
    .unwrap();
    assert_eq!(overview.rollups.len(), 2);
    devnet.shutdown().await;
}

#[actix_rt::test]
async fn quorum_holds_without_one_operator_and_nothing_lands_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(options(&dir, 4)).await.unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let attestations = devnet.deployment().chorus.attestations;

    // Three of four (75%) still make the 66.67% quorum: the non-signer
    // path is used on chain.
    devnet.stop_operator(3).await.unwrap();
    let stopped = devnet.info().operators[3].address;
    // Checkpoints proposed before the stop may carry its signature, or
    // miss another operator's: look only at those proposed after it.
    let last_before = latest_checkpoint_id(&devnet).await;
    let (as_seen, posted) = wait_for("a checkpoint posted with a non-signer", LONG, || async {
        let posted = submissions(devnet.l1(), attestations).await?;
        Ok(checkpoints(&devnet)
            .await?
            .into_iter()
            .filter(|s| s.proposal.checkpoint_id > last_before)
            .find_map(|s| {
                let submission = posted.iter().find(|p| p.root == s.proposal.commitments_root);
                submission.cloned().map(|p| (s, p))
            }))
    })
    .await
    .unwrap();
    assert!(posted.non_signers > 0, "the non-signer path is used on chain");
    assert!(as_seen.missing.contains(&stopped));
    let attested = wait_for("its attestation", LONG, || async {
        let attested = devnet.attested_checkpoints().await?;
        Ok(attested.into_iter().find(|c| c.root == posted.root))
    })
    .await
    .unwrap();
    assert!(attested.signed_weight < as_seen.total_weight);

    // Two of four (50%) do not: nothing proposed from now on is posted,
    // and the API says why.
    devnet.stop_operator(2).await.unwrap();
    let before = latest_checkpoint_id(&devnet).await;
    let stuck = wait_for("an open checkpoint waiting for quorum", LONG, || async {
        let statuses = checkpoints(&devnet).await?;
        Ok(statuses.into_iter().find(|s| {
            s.proposal.checkpoint_id > before
                && s.state == CheckpointState::Open
                && s.missing.len() >= 2
                && s.waiting_for.as_deref().is_some_and(|why| why.contains("quorum"))
        }))
    })
    .await
    .unwrap();
    let from = devnet.l1().get_block_number().await.unwrap();
    wait_for("five more L1 blocks", LONG, || async {
        Ok((devnet.l1().get_block_number().await? >= from + 5).then_some(()))
    })
    .await
    .unwrap();
    let proposed_since: HashSet<_> = checkpoints(&devnet)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.proposal.checkpoint_id > before)
        .map(|s| s.proposal.commitments_root)
        .collect();
    assert!(proposed_since.contains(&stuck.proposal.commitments_root));
    let attested = devnet.attested_checkpoints().await.unwrap();
    assert!(
        attested.iter().all(|c| !proposed_since.contains(&c.root)),
        "a checkpoint without quorum reached L1"
    );

    // Back to quorum: checkpoints land again.
    let count = attested.len();
    devnet.start_operator(2).await.unwrap();
    devnet.wait_for_checkpoints(count + 1, LONG).await.unwrap();
    let posted = submissions(devnet.l1(), attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();
    devnet.shutdown().await;
}

#[actix_rt::test]
async fn a_diverging_operator_rejects_and_only_true_commitments_land() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::setup(options(&dir, 4)).await.unwrap();
    let lying_rollup = devnet.options().rollup_ids()[0];
    let honest_rollup = devnet.options().rollup_ids()[1];
    let upstream = devnet.info().rollup_rpc(lying_rollup).unwrap().to_owned();
    let proxy = LyingRpc::start(&upstream).unwrap();
    let mut config = devnet.operator_config(0).unwrap().clone();
    for rollup in &mut config.rollups {
        if rollup.id == lying_rollup {
            rollup.rpc_url = proxy.url().to_owned();
        }
    }
    devnet.set_operator_config(0, config).unwrap();
    devnet.start_aggregator().await.unwrap();
    for index in 0..devnet.operator_count() {
        devnet.start_operator(index).await.unwrap();
    }
    let liar = devnet.info().operators[0].address;

    let attested = devnet.wait_for_checkpoints(3, LONG).await.unwrap();
    let divergences = wait_for("the divergence reported", LONG, || async {
        let reports: Vec<Divergence> = get_json(devnet.aggregator_url(), "/v1/divergences").await?;
        Ok(Some(reports).filter(|r| !r.is_empty()))
    })
    .await
    .unwrap();
    for report in &divergences {
        assert_eq!(report.operator, liar);
        assert_eq!(report.proposed.rollupId, lying_rollup);
        assert_eq!(report.theirs.l2BlockNumber, report.proposed.l2BlockNumber);
        assert_ne!(report.theirs.stateRoot, report.proposed.stateRoot);
    }
    let rollups_attested: HashSet<u64> =
        attested.iter().flat_map(|c| &c.commitments).map(|c| c.rollupId).collect();
    assert!(rollups_attested.contains(&honest_rollup), "the other rollup is still attested");
    assert_commitments_are_true(&devnet, &devnet.attested_checkpoints().await.unwrap()).await;

    // The liar never signed a checkpoint with the rollup it disagrees on.
    for status in checkpoints(&devnet).await.unwrap() {
        let path = format!("/v1/checkpoints/{}/signatures", status.proposal.checkpoint_id);
        let signatures: Vec<PublicSignature> =
            get_json(devnet.aggregator_url(), &path).await.unwrap();
        for signature in signatures.iter().filter(|s| s.operator == liar) {
            assert!(signature.commitments.iter().all(|c| c.rollupId != lying_rollup));
        }
    }
    let (_, metrics) = get_text(devnet.aggregator_url(), "/metrics").await.unwrap();
    assert!(metrics.contains("divergence"), "divergences are in the metrics");
    devnet.shutdown().await;
    proxy.stop().await;
}

#[actix_rt::test]
async fn a_killed_aggregator_resumes_without_posting_twice() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        aggregator_mode: Mode::Processes { chorus_exe: chorus_exe() },
        ..options(&dir, 4)
    };
    let mut devnet = Devnet::start(options).await.unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();

    // Kill it (SIGKILL) while a checkpoint is between quorum and L1.
    let in_flight = wait_for("a checkpoint being submitted", LONG, || async {
        Ok(checkpoints(&devnet).await?.into_iter().find(|s| s.state == CheckpointState::Submitting))
    })
    .await
    .unwrap();
    devnet.kill_aggregator().await;
    let id = in_flight.proposal.checkpoint_id;
    let count = devnet.attested_checkpoints().await.unwrap().len();
    devnet.start_aggregator().await.unwrap();

    // It resumes from its store: the checkpoint is known, and lands once.
    let resumed = wait_for("the killed checkpoint settled", LONG, || async {
        let status: CheckpointStatus =
            get_json(devnet.aggregator_url(), &format!("/v1/checkpoints/{id}")).await?;
        Ok(matches!(status.state, CheckpointState::Attested | CheckpointState::Superseded)
            .then_some(status))
    })
    .await
    .unwrap();
    assert_eq!(resumed.proposal, in_flight.proposal);
    devnet.wait_for_checkpoints(count + 2, LONG).await.unwrap();
    let newest = checkpoints(&devnet).await.unwrap();
    assert!(newest.iter().any(|s| s.proposal.checkpoint_id > id), "ids continue after restart");
    let posted = submissions(devnet.l1(), devnet.deployment().chorus.attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();
    devnet.shutdown().await;
}

#[actix_rt::test]
async fn a_killed_operator_keeps_its_slashing_protection() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operator_mode: Mode::Processes { chorus_exe: chorus_exe() },
        ..options(&dir, 4)
    };
    let mut devnet = Devnet::start(options).await.unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let operator = devnet.info().operators[0].address;
    let signed_by = |statuses: &[CheckpointStatus]| {
        statuses.iter().filter(|s| s.signers.contains(&operator)).count()
    };
    wait_for("operator 0 signing", LONG, || async {
        Ok((signed_by(&checkpoints(&devnet).await?) > 0).then_some(()))
    })
    .await
    .unwrap();

    devnet.kill_operator(0).await.unwrap();
    let before = signed_by(&checkpoints(&devnet).await.unwrap());
    devnet.start_operator(0).await.unwrap();
    wait_for("operator 0 signing again after its restart", LONG, || async {
        Ok((signed_by(&checkpoints(&devnet).await?) >= before + 2).then_some(()))
    })
    .await
    .unwrap();

    // Every signature it ever gave, as the aggregator publishes them: no
    // two commit to different blocks at one rollup height.
    let mut signed: Vec<Commitment> = Vec::new();
    for status in checkpoints(&devnet).await.unwrap() {
        let path = format!("/v1/checkpoints/{}/signatures", status.proposal.checkpoint_id);
        let signatures: Vec<PublicSignature> =
            get_json(devnet.aggregator_url(), &path).await.unwrap();
        signed.extend(
            signatures.into_iter().filter(|s| s.operator == operator).flat_map(|s| s.commitments),
        );
    }
    for a in &signed {
        for b in &signed {
            if (a.rollupId, a.l2BlockNumber) == (b.rollupId, b.l2BlockNumber) {
                assert_eq!(a, b, "operator 0 signed conflicting commitments");
            }
        }
    }
    let attested = devnet.attested_checkpoints().await.unwrap();
    assert!(attested.iter().all(|c| c.signed_weight > U256::ZERO));
    devnet.shutdown().await;
}
