//! Chain faults on a devnet (real anvil L1 and L2s, real bytecode, the real
//! aggregator and operators): the L1 RPC gone, an L1 reorg that drops a
//! posted checkpoint, a stuck transaction that needs a fee bump, an L2 RPC
//! that lags, errors or lies. Each recovers without a human and without a
//! restart; afterwards L1 holds no root twice.
//!
//! The faults are injected by [`FaultProxy`] (between a node and its RPC)
//! and by anvil's own methods (`anvil_reorg`, `evm_setIntervalMining`,
//! `anvil_setNextBlockBaseFeePerGas`). `CHORUS_LONG=1` runs the L1 outage
//! for a full minute instead of 20 s.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{collections::HashSet, path::PathBuf, time::Duration};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256},
    providers::Provider,
};
use chorus_contracts::IChorusAttestations;
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_rollup::{RollupReader, Safety};
use chorus_tests::{
    BoxError,
    api::{get_json, get_text, wait_for},
    fault_proxy::{Fault, FaultProxy},
    l1::{Submission, assert_no_double_posts, submissions},
};
use chorus_wire::{CheckpointState, CheckpointStatus, RejectReason};
use serde_json::{Value, json};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

fn long_run() -> bool {
    std::env::var("CHORUS_LONG").is_ok_and(|value| value == "1")
}

fn options(dir: &tempfile::TempDir) -> DevnetOptions {
    DevnetOptions { operators: 4, rollups: 2, dir: dir.path().join("devnet"), ..Default::default() }
}

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

async fn checkpoints(devnet: &Devnet) -> Result<Vec<CheckpointStatus>, BoxError> {
    get_json(devnet.aggregator_url(), "/v1/checkpoints?limit=1000").await
}

async fn latest_checkpoint_id(devnet: &Devnet) -> u64 {
    let statuses = checkpoints(devnet).await.unwrap();
    statuses.iter().map(|s| s.proposal.checkpoint_id).max().unwrap_or(0)
}

/// The sum of every sample of `metric` (all label sets) at `base/metrics`
/// whose labels contain `labels`.
async fn metric(base: &str, metric: &str, labels: &str) -> Result<f64, BoxError> {
    let (_, text) = get_text(base, "/metrics").await?;
    Ok(text
        .lines()
        .filter(|line| line.starts_with(metric) && line.contains(labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// An anvil method on the devnet's L1.
async fn anvil(devnet: &Devnet, method: &'static str, params: Value) -> Value {
    devnet.l1().raw_request::<_, Value>(method.into(), params).await.unwrap()
}

/// Every L1 submission of `root` on the canonical chain.
async fn posted(devnet: &Devnet, root: B256) -> Vec<Submission> {
    let all = submissions(devnet.l1(), devnet.deployment().chorus.attestations).await.unwrap();
    all.into_iter().filter(|s| s.root == root).collect()
}

async fn attested_at(devnet: &Devnet, root: B256) -> u64 {
    let attestations =
        IChorusAttestations::new(devnet.deployment().chorus.attestations, devnet.l1());
    attestations.attestedAt(root).call().await.unwrap()
}

async fn assert_no_double_posts_on_l1(devnet: &Devnet) {
    let all = submissions(devnet.l1(), devnet.deployment().chorus.attestations).await.unwrap();
    assert_no_double_posts(&all).unwrap();
}

/// Lines of the devnet's node logs that report a panic.
fn panics_in_logs(devnet: &Devnet) -> Vec<String> {
    let logs = devnet.info().dir.join("logs");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&logs).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        found.extend(
            text.lines()
                .filter(|line| line.contains("panicked"))
                .map(|line| format!("{}: {line}", path.display())),
        );
    }
    found
}

/// Starts the aggregator and every operator (after the L2s have a safe
/// block), as [`Devnet::start`] does after its setup.
async fn start_nodes(devnet: &mut Devnet) {
    devnet.wait_for_rollups(LONG).await.unwrap();
    devnet.start_aggregator().await.unwrap();
    for index in 0..devnet.operator_count() {
        devnet.start_operator(index).await.unwrap();
    }
}

/// A checkpoint in `Submitting` whose first transaction waits in the L1
/// pool (L1 mining must be off), with that transaction.
async fn pending_submission(devnet: &Devnet) -> (CheckpointStatus, Value) {
    wait_for("a checkpoint whose transaction waits in the L1 pool", LONG, || async {
        for status in checkpoints(devnet).await? {
            let Some(tx) = status.l1_transaction else { continue };
            if status.state != CheckpointState::Submitting {
                continue;
            }
            let found: Value =
                devnet.l1().raw_request("eth_getTransactionByHash".into(), (tx,)).await?;
            if found.is_object() && found["blockNumber"].is_null() {
                return Ok(Some((status, found)));
            }
        }
        Ok(None)
    })
    .await
    .unwrap()
}

fn quantity(value: &Value) -> u128 {
    u128::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The L1 RPC of every node (aggregator and operators) is cut, then black-
/// holed, while anvil keeps mining; nothing exits or panics, the nodes say
/// L1 is down, and once it is back checkpoints land again without any
/// restart, none twice. Then the L1 answers receipts and state two blocks
/// late while its head and nonces are current (a load-balanced RPC): every
/// checkpoint posted is still reported attested, none refused.
#[actix_rt::test]
async fn the_l1_rpc_gone_then_lagging_and_every_node_recovers_by_itself() {
    let outage = if long_run() { Duration::from_secs(60) } else { Duration::from_secs(20) };
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::setup(options(&dir).with_processes(chorus_exe())).await.unwrap();
    let proxy = FaultProxy::start(&devnet.info().l1.rpc_url).await.unwrap();
    let mut aggregator = devnet.aggregator_config().clone();
    aggregator.l1.rpc_url = proxy.url().to_owned();
    devnet.set_aggregator_config(aggregator).unwrap();
    for index in 0..devnet.operator_count() {
        let mut config = devnet.operator_config(index).unwrap().clone();
        config.l1.rpc_url = proxy.url().to_owned();
        devnet.set_operator_config(index, config).unwrap();
    }
    start_nodes(&mut devnet).await;
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let operator = devnet.info().operators[0].api_url.clone();
    let aggregator = devnet.aggregator_url().to_owned();
    let l1_errors = |base: String| async move {
        metric(&base, "chorus_rpc_request_errors_total", "method=\"eth_").await
    };
    let errors_before = l1_errors(aggregator.clone()).await.unwrap();

    // Cut: half the outage refused, half black-holed (requests accepted,
    // never answered, held on past the heal).
    let cut_at = tokio::time::Instant::now();
    let block_at_cut = devnet.l1().get_block_number().await.unwrap();
    proxy.set(Fault::Refuse).await.unwrap();
    wait_for("operator 0 to report L1 down (503)", outage / 2, || async {
        Ok((get_text(&operator, "/eigen/node/health").await?.0 == 503).then_some(()))
    })
    .await
    .unwrap();
    wait_for("the aggregator to count failed L1 requests", outage / 2, || async {
        Ok((l1_errors(aggregator.clone()).await? > errors_before).then_some(()))
    })
    .await
    .unwrap();
    tokio::time::sleep_until(cut_at + outage / 2).await;
    proxy.set(Fault::Hang).await.unwrap();
    tokio::time::sleep_until(cut_at + outage).await;
    let hung = proxy.faulted();
    let block_at_heal = devnet.l1().get_block_number().await.unwrap();
    let attested_at_heal = devnet.attested_checkpoints().await.unwrap().len();
    proxy.set(Fault::Pass).await.unwrap();
    assert!(hung > 0, "the nodes kept asking the black-holed L1");
    assert!(
        block_at_heal >= block_at_cut + outage.as_secs() / 2,
        "anvil kept mining during the outage: {block_at_cut} -> {block_at_heal}"
    );

    // Healed: checkpoints land again, every operator says L1 is up.
    let after = wait_for("two checkpoints attested after the heal", LONG, || async {
        let attested = devnet.attested_checkpoints().await?;
        let new: Vec<_> = attested.into_iter().filter(|c| c.l1_block > block_at_heal).collect();
        Ok((new.len() >= 2).then_some(new))
    })
    .await
    .unwrap();
    assert!(devnet.attested_checkpoints().await.unwrap().len() >= attested_at_heal + 2);
    for info in &devnet.info().operators {
        wait_for("every operator to report L1 up again", LONG, || async {
            Ok((get_text(&info.api_url, "/eigen/node/health").await?.0 == 200).then_some(()))
        })
        .await
        .unwrap();
    }
    eprintln!(
        "outage {outage:?}: {hung} requests black-holed, L1 blocks {block_at_cut}..{block_at_heal}, \
         first checkpoint after the heal in L1 block {}",
        after[0].l1_block
    );

    // Receipts and state two blocks late: nothing is concluded refused.
    proxy.set(Fault::StaleReads(2)).await.unwrap();
    let count = devnet.attested_checkpoints().await.unwrap().len();
    devnet.wait_for_checkpoints(count + 4, LONG).await.unwrap();
    proxy.set(Fault::Pass).await.unwrap();
    let all = submissions(devnet.l1(), devnet.deployment().chorus.attestations).await.unwrap();
    let roots: HashSet<B256> = all.iter().map(|s| s.root).collect();
    wait_for("every posted checkpoint reported attested", LONG, || async {
        let statuses = checkpoints(&devnet).await?;
        let posted: Vec<_> =
            statuses.iter().filter(|s| roots.contains(&s.proposal.commitments_root)).collect();
        for status in &posted {
            assert_ne!(
                status.state,
                CheckpointState::Superseded,
                "checkpoint {} is on L1 but reported refused",
                status.proposal.checkpoint_id
            );
        }
        Ok(posted.iter().all(|s| s.state == CheckpointState::Attested).then_some(()))
    })
    .await
    .unwrap();

    assert!(devnet.exited_nodes().is_empty(), "a node exited");
    assert_eq!(panics_in_logs(&devnet), Vec::<String>::new());
    assert_no_double_posts_on_l1(&devnet).await;
    proxy.stop().await;
    devnet.shutdown().await;
}

/// A posted checkpoint's block is reorganised away (`anvil_reorg`, which
/// drops its transactions): the aggregator notices before it counted the
/// checkpoint attested, sends the transaction again, and the checkpoint
/// lands on the canonical chain once.
#[actix_rt::test]
async fn a_reorg_that_drops_a_posted_checkpoint_is_noticed_and_it_lands_again() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(options(&dir)).await.unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let url = devnet.aggregator_url().to_owned();

    // Mining stops, so that inclusion and the reorg happen at chosen blocks.
    anvil(&devnet, "evm_setIntervalMining", json!([0])).await;
    let (status, _) = pending_submission(&devnet).await;
    let (id, root) = (status.proposal.checkpoint_id, status.proposal.commitments_root);
    anvil(&devnet, "evm_mine", json!([])).await;
    let included = devnet.l1().get_block_number().await.unwrap();
    let before = posted(&devnet, root).await;
    assert_eq!(before.len(), 1, "checkpoint {id} included once");
    assert_eq!(before[0].block, included);
    let seen = wait_for("the aggregator to see the inclusion", LONG, || async {
        let status: CheckpointStatus = get_json(&url, &format!("/v1/checkpoints/{id}")).await?;
        Ok(Some(status).filter(|s| s.l1_block == Some(included)))
    })
    .await
    .unwrap();
    assert_eq!(seen.state, CheckpointState::Submitting, "not attested before confirmations");

    // The including block is replaced by an empty one.
    anvil(&devnet, "anvil_reorg", json!([1, []])).await;
    assert_eq!(devnet.l1().get_block_number().await.unwrap(), included);
    assert!(posted(&devnet, root).await.is_empty(), "the reorg dropped the transaction");
    assert_eq!(attested_at(&devnet, root).await, 0);
    let noticed = wait_for("the aggregator to notice the reorg", LONG, || async {
        let status: CheckpointStatus = get_json(&url, &format!("/v1/checkpoints/{id}")).await?;
        let reorgs = metric(&url, "chorus_l1_reorgs_total", "").await?;
        Ok(Some(status).filter(|s| s.l1_block.is_none() && reorgs >= 1.0))
    })
    .await
    .unwrap();
    assert_eq!(noticed.state, CheckpointState::Submitting);
    assert!(
        noticed.waiting_for.as_deref().is_some_and(|why| why.contains("reorg")),
        "the API says why: {:?}",
        noticed.waiting_for
    );

    // Mining resumes: the same checkpoint lands again, once.
    anvil(&devnet, "evm_setIntervalMining", json!([1])).await;
    let attested = wait_for("the checkpoint attested again", LONG, || async {
        let status: CheckpointStatus = get_json(&url, &format!("/v1/checkpoints/{id}")).await?;
        Ok(Some(status).filter(|s| s.state == CheckpointState::Attested))
    })
    .await
    .unwrap();
    let after = posted(&devnet, root).await;
    assert_eq!(after.len(), 1, "posted once on the canonical chain");
    assert!(after[0].block > included);
    assert_eq!(attested.l1_block, Some(after[0].block));
    assert_eq!(attested_at(&devnet, root).await, after[0].block);
    eprintln!(
        "reorg: checkpoint {id} included in L1 block {included}, reorged out, landed again in block {}",
        after[0].block
    );
    let count = devnet.attested_checkpoints().await.unwrap().len();
    devnet.wait_for_checkpoints(count + 1, LONG).await.unwrap();
    assert_no_double_posts_on_l1(&devnet).await;
    devnet.shutdown().await;
}

/// The submitter's transaction is priced out by a base-fee spike (anvil's
/// `anvil_setNextBlockBaseFeePerGas`): only a replacement with bumped fees
/// at the same nonce can land, and it does; the stuck one is never mined
/// and the checkpoint is posted once.
#[actix_rt::test]
async fn a_transaction_priced_out_by_the_base_fee_is_bumped_and_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::setup(options(&dir)).await.unwrap();
    let mut config = devnet.aggregator_config().clone();
    config.submitter.bump_after_secs = 3;
    devnet.set_aggregator_config(config).unwrap();
    start_nodes(&mut devnet).await;
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let url = devnet.aggregator_url().to_owned();
    let bumps = || metric(&url, "chorus_l1_transactions_total", "kind=\"bump\"");
    let bumps_before = bumps().await.unwrap();

    // Mining stops; one block with a base fee above the pending
    // transaction's max fee; no block until the submitter has reacted.
    anvil(&devnet, "evm_setIntervalMining", json!([0])).await;
    let (status, stuck) = pending_submission(&devnet).await;
    let (id, root) = (status.proposal.checkpoint_id, status.proposal.commitments_root);
    let stuck_hash: B256 = stuck["hash"].as_str().unwrap().parse().unwrap();
    let (stuck_nonce, stuck_max_fee) =
        (quantity(&stuck["nonce"]), quantity(&stuck["maxFeePerGas"]));
    let spike = stuck_max_fee * 4;
    anvil(&devnet, "anvil_setNextBlockBaseFeePerGas", json!([format!("{spike:#x}")])).await;
    anvil(&devnet, "evm_mine", json!([])).await;
    assert!(devnet.l1().get_transaction_receipt(stuck_hash).await.unwrap().is_none());
    wait_for("a fee bump", LONG, || async { Ok((bumps().await? > bumps_before).then_some(())) })
        .await
        .unwrap();
    anvil(&devnet, "evm_setIntervalMining", json!([1])).await;

    let attested = wait_for("the checkpoint attested", LONG, || async {
        let status: CheckpointStatus = get_json(&url, &format!("/v1/checkpoints/{id}")).await?;
        Ok(Some(status).filter(|s| s.state == CheckpointState::Attested))
    })
    .await
    .unwrap();
    let landed = posted(&devnet, root).await;
    assert_eq!(landed.len(), 1, "posted once");
    assert_ne!(landed[0].tx_hash, stuck_hash, "the stuck transaction never landed");
    assert_eq!(attested.l1_transaction, Some(landed[0].tx_hash));
    let replacement =
        devnet.l1().get_transaction_by_hash(landed[0].tx_hash).await.unwrap().unwrap();
    assert_eq!(u128::from(replacement.nonce()), stuck_nonce, "same nonce");
    assert!(replacement.max_fee_per_gas() > stuck_max_fee, "higher fee");
    assert!(replacement.max_fee_per_gas() > spike * 7 / 8, "enough for the spike");
    assert!(devnet.l1().get_transaction_receipt(stuck_hash).await.unwrap().is_none());
    eprintln!(
        "fee bump: checkpoint {id} nonce {stuck_nonce}: stuck at max fee {stuck_max_fee} wei under a \
         base fee of {spike} wei, landed at max fee {} wei in L1 block {}",
        replacement.max_fee_per_gas(),
        landed[0].block
    );
    let count = devnet.attested_checkpoints().await.unwrap().len();
    devnet.wait_for_checkpoints(count + 1, LONG).await.unwrap();
    assert_no_double_posts_on_l1(&devnet).await;
    devnet.shutdown().await;
}

/// Whether a rejection's reason is the one expected.
type ReasonIs = fn(&RejectReason) -> bool;

/// Whether `status` holds a rejection by `operator` of `rollup` for which
/// `reason` holds.
fn rejected_for(
    status: &CheckpointStatus,
    operator: Address,
    rollup: u64,
    reason: ReasonIs,
) -> bool {
    status
        .rejections
        .iter()
        .filter(|r| r.operator == operator)
        .any(|r| r.rejected.iter().any(|c| c.commitment.rollupId == rollup && reason(&c.reason)))
}

/// Operator 0 reads one rollup through a proxy that lags (an old head),
/// answers JSON-RPC errors, answers HTTP 503, then lies: it never signs a
/// checkpoint of that rollup meanwhile, says why in its rejections, the
/// three others keep the quorum, and once the proxy heals it signs again.
#[actix_rt::test]
async fn an_operator_behind_a_lagging_failing_or_lying_l2_rpc_refuses_then_signs_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::setup(options(&dir)).await.unwrap();
    let rollup = devnet.options().rollup_ids()[0];
    let proxy = FaultProxy::start(devnet.info().rollup_rpc(rollup).unwrap()).await.unwrap();
    let mut config = devnet.operator_config(0).unwrap().clone();
    for entry in &mut config.rollups {
        if entry.id == rollup {
            entry.rpc_url = proxy.url().to_owned();
        }
    }
    devnet.set_operator_config(0, config).unwrap();
    start_nodes(&mut devnet).await;
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let operator = devnet.info().operators[0].address;
    let operator_api = devnet.info().operators[0].api_url.clone();
    let health = format!("/eigen/node/services/rollup-{rollup}/health");

    let phases: [(Fault, &str, ReasonIs); 4] = [
        (Fault::Lag(8), "not yet safe", |r| matches!(r, RejectReason::NotYetSafe { .. })),
        (Fault::RpcError, "unavailable", |r| matches!(r, RejectReason::Unavailable { .. })),
        (Fault::HttpError, "unavailable", |r| matches!(r, RejectReason::Unavailable { .. })),
        (Fault::Lie, "mismatch", |r| matches!(r, RejectReason::Mismatch { .. })),
    ];
    let first = latest_checkpoint_id(&devnet).await;
    for (fault, why, reason) in phases {
        let start = latest_checkpoint_id(&devnet).await;
        proxy.set(fault).await.unwrap();
        let what = format!("under {fault:?}, an attested checkpoint operator 0 refused as {why}");
        wait_for(&what, LONG, || async {
            let statuses = checkpoints(&devnet).await?;
            Ok(statuses.into_iter().find(|s| {
                s.proposal.checkpoint_id > start
                    && s.state == CheckpointState::Attested
                    && rejected_for(s, operator, rollup, reason)
            }))
        })
        .await
        .map(|s| {
            eprintln!(
                "{fault:?}: checkpoint {} attested, operator 0 refused it ({why})",
                s.proposal.checkpoint_id
            )
        })
        .unwrap();
        if matches!(fault, Fault::RpcError | Fault::HttpError) {
            wait_for("operator 0 to report its rollup node down", LONG, || async {
                Ok((get_text(&operator_api, &health).await?.0 == 503).then_some(()))
            })
            .await
            .unwrap();
        }
    }
    let healed_after = latest_checkpoint_id(&devnet).await;
    proxy.set(Fault::Pass).await.unwrap();

    // Healed: it signs a checkpoint of that rollup that lands.
    let signed = wait_for("operator 0 signing an attested checkpoint again", LONG, || async {
        let statuses = checkpoints(&devnet).await?;
        Ok(statuses.into_iter().find(|s| {
            s.proposal.checkpoint_id > healed_after
                && s.state == CheckpointState::Attested
                && s.signers.contains(&operator)
                && s.proposal.commitments.iter().any(|c| c.rollupId == rollup)
        }))
    })
    .await
    .unwrap();
    eprintln!(
        "healed after checkpoint {healed_after}: operator 0 signed checkpoint {}, attested",
        signed.proposal.checkpoint_id
    );
    assert_eq!(get_text(&operator_api, &health).await.unwrap().0, 200);

    // Nothing it signed while faulted; nothing false it ever signed.
    let reader = RollupReader::connect(
        rollup,
        devnet.info().rollup_rpc(rollup).unwrap(),
        Safety::Confirmations(0),
    )
    .await
    .unwrap();
    for status in checkpoints(&devnet).await.unwrap() {
        let id = status.proposal.checkpoint_id;
        let ours = status.proposal.commitments.iter().find(|c| c.rollupId == rollup);
        let (Some(commitment), true) = (ours, status.signers.contains(&operator)) else {
            continue;
        };
        assert!(
            !(first < id && id < healed_after),
            "operator 0 signed checkpoint {id} while faulted"
        );
        let truth = reader.commitment_at(commitment.l2BlockNumber).await.unwrap();
        assert_eq!(truth.as_ref(), Some(commitment), "operator 0 signed a false commitment");
    }
    assert_no_double_posts_on_l1(&devnet).await;
    proxy.stop().await;
    devnet.shutdown().await;
}
