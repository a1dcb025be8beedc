//! A full disk under an operator's slashing-protection store: the operator
//! signs nothing it could not record, says why (log and metric), stays up,
//! the others keep the quorum, and it signs again by itself once there is
//! space. Afterwards every signature it ever published is in its store and
//! the store passes its integrity check.
//!
//! A full disk under the aggregator's store: it posts nothing it could not
//! record, keeps serving, and resumes by itself once there is space; every
//! checkpoint L1 holds is one its store knows as attested, none twice.
//!
//! The store lives on its own small tmpfs, which the test fills; mounting
//! needs root, which CI has. Elsewhere the test says so and passes only
//! outside CI (`CI=true` makes a missing root a failure, so CI never skips
//! it silently).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use alloy::{primitives::Address, providers::Provider};
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_operator::node::NodeConfig;
use chorus_tests::{
    api::{get_json, get_text, wait_for},
    cli,
    l1::{assert_no_double_posts, submissions},
};
use chorus_wire::{CheckpointState, CheckpointStatus, PublicSignature};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

/// The tmpfs's size: room for the store and a few hundred signatures, so
/// that filling it is quick.
const TMPFS_SIZE: &str = "2m";

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

/// A tmpfs mounted for the test, unmounted (lazily, so that a still-open
/// file cannot keep it) when dropped, even when the test fails.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Self {
        fs::create_dir_all(path).unwrap();
        run("mount", &["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"], path);
        Self { path: path.to_owned() }
    }

    /// Writes a file of zeroes until the file system refuses with "no
    /// space left on device"; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        loop {
            match file.write_all(&block).and_then(|()| file.sync_all()) {
                Ok(()) => {}
                Err(error) if error.raw_os_error() == Some(28) => return filler, // ENOSPC
                Err(error) => panic!("filling {filler:?}: {error}"),
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn run(program: &str, args: &[&str], last: &Path) {
    let status = Command::new(program).args(args).arg(last).status().unwrap();
    assert!(status.success(), "{program} {args:?} {last:?} failed: {status}");
}

/// Whether this process may mount file systems. In CI it must.
fn may_mount() -> bool {
    let root = rustix::process::geteuid().is_root();
    assert!(
        root || std::env::var("CI").as_deref() != Ok("true"),
        "tests/full_disk.rs mounts a tmpfs and needs root, which CI runs as"
    );
    if !root {
        eprintln!("skipped: mounting a tmpfs needs root (CI runs this test as root)");
    }
    root
}

/// One line of an operator's Prometheus text: a counter's value (0 when
/// absent).
async fn counter(api: &str, name: &str) -> u64 {
    let (_, text) = get_text(api, "/metrics").await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

async fn statuses(devnet: &Devnet) -> Vec<CheckpointStatus> {
    get_json(devnet.aggregator_url(), "/v1/checkpoints?limit=1000").await.unwrap()
}

/// Waits for an attested checkpoint proposed after `after` that `operator`
/// did (`signed`) or did not sign; returns its id.
async fn attested_after(devnet: &Devnet, after: u64, operator: Address, signed: bool) -> u64 {
    let what = format!(
        "a checkpoint after #{after} attested {} operator 0",
        ["without", "with"][usize::from(signed)]
    );
    wait_for(&what, LONG, || async {
        let statuses: Vec<CheckpointStatus> =
            get_json(devnet.aggregator_url(), "/v1/checkpoints?limit=1000").await?;
        Ok(statuses
            .iter()
            .filter(|s| s.proposal.checkpoint_id > after && s.state == CheckpointState::Attested)
            .find(|s| s.signers.contains(&operator) == signed)
            .map(|s| s.proposal.checkpoint_id))
    })
    .await
    .unwrap()
}

/// A devnet of 4 operators and 2 rollups, set up but not started, so that
/// a store can be moved first.
async fn set_up(dir: &tempfile::TempDir) -> Devnet {
    let options = DevnetOptions {
        operators: 4,
        rollups: 2,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    Devnet::setup(options).await.unwrap()
}

/// Starts what [`set_up`] left stopped, as `Devnet::start` does.
async fn start_nodes(devnet: &mut Devnet) {
    devnet.wait_for_rollups(LONG).await.unwrap();
    devnet.start_aggregator().await.unwrap();
    for index in 0..devnet.operator_count() {
        devnet.start_operator(index).await.unwrap();
    }
}

async fn newest_id(devnet: &Devnet) -> u64 {
    statuses(devnet).await.iter().map(|s| s.proposal.checkpoint_id).max().unwrap_or(0)
}

#[actix_rt::test]
async fn an_operator_on_a_full_disk_signs_nothing_unrecorded_and_recovers() {
    if !may_mount() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = set_up(&dir).await;

    // Operator 0's store moves onto its own small file system.
    let tmpfs = Tmpfs::mount(&dir.path().join("small-disk"), TMPFS_SIZE);
    let mut config = devnet.operator_config(0).unwrap().clone();
    let store = tmpfs.path.join("protection.sqlite");
    fs::copy(&config.operator.protection_db, &store).unwrap();
    config.operator.protection_db = store.clone();
    devnet.set_operator_config(0, config.clone()).unwrap();

    start_nodes(&mut devnet).await;
    let operator = devnet.info().operators[0].address;
    let api = devnet.info().operators[0].api_url.clone();
    attested_after(&devnet, 0, operator, true).await;

    // The disk fills: operator 0 cannot record, so it must not sign; the
    // other three (75% of the weight) keep the quorum.
    let filler = tmpfs.fill();
    let full_from = newest_id(&devnet).await;
    wait_for("operator 0 to report its store failing", LONG, || async {
        Ok((counter(&api, "chorus_protection_store_errors_total").await > 0).then_some(()))
    })
    .await
    .unwrap();
    attested_after(&devnet, full_from, operator, false).await;
    assert_eq!(get_text(&api, "/eigen/node/health").await.unwrap().0 / 100, 2, "node API up");
    assert_eq!(
        counter(&api, "chorus_refused_by_protection_total").await,
        0,
        "a full disk is no conflict: the alert for a misbehaving aggregator stays quiet"
    );

    // Space comes back: it signs again without a restart.
    fs::remove_file(&filler).unwrap();
    let freed_at = newest_id(&devnet).await;
    attested_after(&devnet, freed_at, operator, true).await;

    // Everything it published is in its store, and the store is whole.
    let published = published_roots(&devnet, operator).await;
    devnet.shutdown().await;
    let recorded = recorded_roots(&config);
    assert!(!published.is_empty());
    for root in &published {
        assert!(recorded.contains(root), "signature over {root} left without its record");
    }
    let (ok, info) = protection(&config, "info", &[]);
    assert!(ok, "protection info after a full disk: {info}");
    drop(tmpfs);
}

/// The roots of every signature `operator` published on the aggregator.
async fn published_roots(devnet: &Devnet, operator: Address) -> Vec<String> {
    let mut roots = Vec::new();
    for status in statuses(devnet).await {
        let path = format!("/v1/checkpoints/{}/signatures", status.proposal.checkpoint_id);
        let signatures: Vec<PublicSignature> =
            get_json(devnet.aggregator_url(), &path).await.unwrap();
        roots.extend(
            signatures
                .iter()
                .filter(|s| s.operator == operator)
                .map(|s| s.commitments_root.to_string()),
        );
    }
    roots
}

/// Every checkpoint root the store recorded (`chorus protection export`).
fn recorded_roots(config: &NodeConfig) -> Vec<String> {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("history.json");
    let (ok, output) = protection(config, "export", &[&file]);
    assert!(ok, "protection export: {output}");
    let history: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    history["signedCommitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commitmentsRoot"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `chorus protection <command>` on the operator's store.
fn protection(config: &NodeConfig, command: &str, extra: &[&Path]) -> (bool, String) {
    let output = cli::protection(&chorus_exe(), config, command, extra.first().copied()).unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), all)
}

#[actix_rt::test]
async fn an_aggregator_on_a_full_disk_posts_nothing_unrecorded_and_recovers() {
    if !may_mount() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = set_up(&dir).await;

    // The aggregator's store (created at its first start) lives on its own
    // small file system.
    let tmpfs = Tmpfs::mount(&dir.path().join("small-disk"), TMPFS_SIZE);
    let mut config = devnet.aggregator_config().clone();
    config.store.path = tmpfs.path.join("aggregator.sqlite");
    devnet.set_aggregator_config(config).unwrap();

    start_nodes(&mut devnet).await;
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();

    // Full: whatever is in flight settles, then nothing new lands on L1.
    let filler = tmpfs.fill();
    let attestations = devnet.deployment().chorus.attestations;
    let stalled = wait_for("L1 to stop receiving checkpoints", LONG, || async {
        let before = submissions(devnet.l1(), attestations).await?.len();
        let block = devnet.l1().get_block_number().await?;
        wait_until_block(&devnet, block + 3).await?;
        let after = submissions(devnet.l1(), attestations).await?.len();
        Ok((after == before).then_some(after))
    })
    .await
    .unwrap();
    let (status, _) = get_text(devnet.aggregator_url(), "/health").await.unwrap();
    assert_eq!(status, 200, "the aggregator keeps serving on a full disk");

    // Space again: checkpoints land without a restart.
    fs::remove_file(&filler).unwrap();
    wait_for("checkpoints to land again", LONG, || async {
        let now = submissions(devnet.l1(), attestations).await?.len();
        Ok((now >= stalled + 2).then_some(()))
    })
    .await
    .unwrap();

    // L1 holds nothing the store does not know as attested, nothing twice.
    let posted = submissions(devnet.l1(), attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();
    let known = statuses(&devnet).await;
    for submission in &posted {
        let status = known
            .iter()
            .find(|s| s.proposal.commitments_root == submission.root)
            .unwrap_or_else(|| panic!("L1 holds {} the store never recorded", submission.root));
        let attested = wait_for("the store to record the L1 outcome", LONG, || async {
            let status: CheckpointStatus = get_json(
                devnet.aggregator_url(),
                &format!("/v1/checkpoints/{}", status.proposal.checkpoint_id),
            )
            .await?;
            Ok((status.state == CheckpointState::Attested).then_some(status))
        })
        .await
        .unwrap();
        assert_eq!(attested.l1_transaction, Some(submission.tx_hash));
    }
    devnet.shutdown().await;
    drop(tmpfs);
}

/// Waits until the L1 has mined `block` (about a second a block).
async fn wait_until_block(devnet: &Devnet, block: u64) -> Result<(), chorus_tests::BoxError> {
    wait_for(&format!("L1 block {block}"), LONG, || async {
        Ok((devnet.l1().get_block_number().await? >= block).then_some(()))
    })
    .await
}
