//! Crash consistency: a `chorus` process killed with SIGKILL at random
//! instants, over and over, on a real devnet (anvil L1 with EigenLayer and
//! Chorus, anvil L2s, real SQLite stores).
//!
//! - An operator killed while it signs: after every restart it signs again;
//!   its store passes the project's integrity check after every kill and
//!   holds every signature it ever published; no two of the signatures
//!   published (by any operator) conflict under the slashing watcher's own
//!   rule ([`Detector`]).
//! - The aggregator killed while it proposes, collects, submits and resumes:
//!   after every kill its store passes SQLite's integrity check, every
//!   checkpoint it held is still there and never moved backwards, ids keep
//!   increasing, every attestation on L1 is known to it; checkpoints keep
//!   landing; at the end no checkpoint was posted twice, none was
//!   superseded, and the store agrees with L1 on every attestation. Then
//!   the one window the loop found a bug in (a quorum recorded, the move to
//!   `submitting` not) is made on purpose and must be submitted.
//!
//! Each kill happens at a random delay after an event (a proposal published,
//! a checkpoint seen `submitting`, a start), drawn from an RNG whose seed is
//! printed: `CHORUS_CRASH_SEED=<seed>` replays the same delays. The delay is
//! the fault being injected, not a synchronisation: every wait for an
//! outcome is a condition with a deadline.
//!
//! Scale: CI runs a few kills each (about a minute per test); `CHORUS_LONG=1`
//! runs 1,000; `CHORUS_CRASH_KILLS=N` any number. Each test prints its counts.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy::{hex, primitives::B256};
use chorus_aggregator::service::store::{Store, StoredCheckpoint};
use chorus_contracts::checkpoint::checkpoint_message;
use chorus_devnet::{AttestedCheckpoint, Devnet, DevnetOptions, Mode};
use chorus_keys::{bls::PublicKey, keystore::Keystore, password::PasswordSource};
use chorus_operator::{
    node::NodeConfig,
    protection::{Domain, SlashingProtection, StoreSummary},
};
use chorus_slashing::{Detector, Evidence};
use chorus_tests::{
    BoxError,
    api::{get_json, get_text, wait_for},
    cli,
    l1::{assert_no_double_posts, submissions},
};
use chorus_wire::{CheckpointState, CheckpointStatus, Proposal, PublicSignature, routes};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Generous: a checkpoint takes a second or two; CI machines are loaded.
const LONG: Duration = Duration::from_secs(90);
/// Kills of the long variant (`CHORUS_LONG=1`).
const LONG_KILLS: usize = 1_000;
/// Kills in CI: each costs about three seconds (restart, two proposals).
const CI_OPERATOR_KILLS: usize = 12;
/// Kills in CI: each costs one to two seconds (restart, a checkpoint
/// landing).
const CI_AGGREGATOR_KILLS: usize = 15;
/// The operator that is killed.
const VICTIM: usize = 0;
/// Longest delay after a published proposal before the operator is killed.
/// Answering a proposal (judge, record with an fsync, sign, post) takes
/// milliseconds; the delays are log-uniform ([`kill_delay`]) so that kills
/// fall at every scale inside it and after it.
const OPERATOR_WINDOW: Duration = Duration::from_millis(250);
/// Longest delay after the aggregator's trigger event before it is killed.
const AGGREGATOR_WINDOW: Duration = Duration::from_millis(1_500);
/// Shortest kill delay.
const MIN_DELAY: Duration = Duration::from_micros(100);
/// The aggregator's proposal timeout in its crash test: far beyond every
/// deadline of the test, so that no checkpoint is superseded for its age.
const NO_TIMEOUT_SECS: u64 = 3_600;
/// Checkpoints read back from the aggregator's store: all of them.
const ALL_CHECKPOINTS: usize = 1_000_000;

/// The `chorus` the nodes run: the one cargo built, unless
/// `CHORUS_CRASH_EXE` names a copy (so that a long run in the background
/// keeps running the binary it started with while the tree is rebuilt).
fn chorus_exe() -> PathBuf {
    std::env::var_os("CHORUS_CRASH_EXE")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test")), PathBuf::from)
}

/// How many kills: `CHORUS_CRASH_KILLS`, else [`LONG_KILLS`] under
/// `CHORUS_LONG=1`, else `ci`.
fn kill_count(ci: usize) -> usize {
    if let Ok(count) = std::env::var("CHORUS_CRASH_KILLS") {
        return count.parse().expect("CHORUS_CRASH_KILLS must be a count");
    }
    if std::env::var("CHORUS_LONG").is_ok_and(|v| v == "1") { LONG_KILLS } else { ci }
}

/// How long the kill loop may run: `CHORUS_CRASH_MINUTES`, else no limit.
/// A loop out of time stops killing and runs its final checks, and the
/// counts say how many kills fit.
fn time_budget() -> Option<Duration> {
    let minutes = std::env::var("CHORUS_CRASH_MINUTES").ok()?;
    Some(Duration::from_secs(minutes.parse::<u64>().expect("CHORUS_CRASH_MINUTES") * 60))
}

/// Whether the loop started at `started` is out of time.
fn out_of_time(test: &str, started: Instant, kills_done: usize) -> bool {
    let over = time_budget().is_some_and(|budget| started.elapsed() >= budget);
    if over {
        eprintln!("{test}: time budget reached after {kills_done} kills");
    }
    over
}

/// The RNG of the kill instants: `CHORUS_CRASH_SEED`, or a fresh seed, printed.
fn seeded(test: &str) -> (u64, StdRng) {
    let seed = match std::env::var("CHORUS_CRASH_SEED") {
        Ok(seed) => seed.parse().expect("CHORUS_CRASH_SEED must be a u64"),
        Err(_) => SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64,
    };
    eprintln!("{test}: seed {seed} (replay with CHORUS_CRASH_SEED={seed})");
    (seed, StdRng::seed_from_u64(seed))
}

/// A delay between [`MIN_DELAY`] and `max`, log-uniform: as many kills
/// within 0.1-1 ms of the event as within 10-100 ms, so short critical
/// sections (an fsync, a send) are hit as often as long ones.
fn kill_delay(rng: &mut StdRng, max: Duration) -> Duration {
    let (low, high) = (MIN_DELAY.as_secs_f64().ln(), max.as_secs_f64().ln());
    Duration::from_secs_f64(rng.gen_range(low..=high).exp())
}

/// Waits `delay`: the fault's instant, not a synchronisation. Below the
/// timer's millisecond resolution the thread sleeps instead (briefly
/// holding up the test's own actors is harmless).
async fn pause(delay: Duration) {
    if delay < Duration::from_millis(2) {
        std::thread::sleep(delay);
    } else {
        tokio::time::sleep(delay).await;
    }
}

/// The test's folder (and the guard that removes it), kept after the test
/// (logs, stores) when `CHORUS_CRASH_KEEP` is set, to look into a failure.
fn test_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    if std::env::var_os("CHORUS_CRASH_KEEP").is_some() {
        let path = dir.keep();
        eprintln!("keeping {}", path.display());
        return (None, path);
    }
    let path = dir.path().to_path_buf();
    (Some(dir), path)
}

fn devnet_options(dir: &Path, operators: usize) -> DevnetOptions {
    DevnetOptions {
        operators,
        rollups: 1,
        dir: dir.join("devnet"),
        // A proposal every half second or so: more signing rounds per minute.
        l2_block_time: Duration::from_millis(500),
        ..Default::default()
    }
}

async fn statuses(aggregator: &str) -> Result<Vec<CheckpointStatus>, BoxError> {
    get_json(aggregator, &format!("{}?limit=1000", routes::CHECKPOINTS)).await
}

/// The newest checkpoint id the aggregator knows (0 before any).
async fn newest_id(aggregator: &str) -> Result<u64, BoxError> {
    Ok(statuses(aggregator).await?.iter().map(|s| s.proposal.checkpoint_id).max().unwrap_or(0))
}

/// The next proposal after `after`, learnt by long-polling the aggregator as
/// an operator does: this returns when the operators receive it.
async fn next_proposal(aggregator: &str, after: u64) -> Result<Proposal, BoxError> {
    let path = format!("{}?after={after}&wait=5", routes::NEXT_PROPOSAL);
    wait_for(&format!("a proposal after checkpoint {after}"), LONG, || async {
        match get_text(aggregator, &path).await? {
            (200, body) => Ok(Some(serde_json::from_str(&body)?)),
            (204, _) => Ok(None),
            (status, body) => Err(format!("GET {path}: {status}: {body}").into()),
        }
    })
    .await
}

/// Every signature the aggregator published, by checkpoint; read as the
/// test goes, since the aggregator serves only its recent checkpoints.
#[derive(Default)]
struct Published {
    by_checkpoint: BTreeMap<u64, Vec<PublicSignature>>,
    /// Checkpoints closed (attested or superseded) when last read: their
    /// signatures do not change any more.
    closed: BTreeSet<u64>,
}

impl Published {
    async fn collect(&mut self, aggregator: &str) -> Result<(), BoxError> {
        for status in statuses(aggregator).await? {
            let id = status.proposal.checkpoint_id;
            if self.closed.contains(&id) {
                continue;
            }
            let path = routes::CHECKPOINT_SIGNATURES.replace("{id}", &id.to_string());
            let signatures: Vec<PublicSignature> = get_json(aggregator, &path).await?;
            if matches!(status.state, CheckpointState::Attested | CheckpointState::Superseded) {
                self.closed.insert(id);
            }
            // Signatures are only ever added: keep every one seen.
            let known = self.by_checkpoint.entry(id).or_default();
            for signature in signatures {
                if !known.contains(&signature) {
                    known.push(signature);
                }
            }
        }
        Ok(())
    }

    fn all(&self) -> impl Iterator<Item = &PublicSignature> {
        self.by_checkpoint.values().flatten()
    }

    fn by(&self, operator: alloy::primitives::Address) -> impl Iterator<Item = &PublicSignature> {
        self.all().filter(move |s| s.operator == operator)
    }

    fn signed(&self, checkpoint: u64, operator: alloy::primitives::Address) -> bool {
        self.by_checkpoint
            .get(&checkpoint)
            .is_some_and(|s| s.iter().any(|s| s.operator == operator))
    }
}

/// Opens the operator's store through the project's API (refused if it is
/// not this key's and deployment's), runs its integrity check (SQLite's
/// `integrity_check` and `foreign_key_check`, every checkpoint whole) and
/// checks that every signature in `published` is recorded: one that left
/// the process unrecorded is what slashing protection exists to prevent.
fn check_operator_store<'a>(
    path: &Path,
    domain: Domain,
    pubkey: &PublicKey,
    published: impl Iterator<Item = &'a PublicSignature>,
) -> Result<(StoreSummary, HashSet<(u32, B256)>), BoxError> {
    let store = SlashingProtection::open(path, domain, pubkey)?;
    let summary = store.check_integrity()?;
    let recorded: HashSet<(u32, B256)> = store
        .export()?
        .signed_commitments
        .iter()
        .map(|record| (record.table_version, record.commitments_root))
        .collect();
    for signature in published {
        if !recorded.contains(&(signature.table_version, signature.commitments_root)) {
            return Err(format!(
                "checkpoint {} (table version {}) was signed and published but is not in the \
                 slashing-protection store",
                signature.commitments_root, signature.table_version
            )
            .into());
        }
    }
    Ok((summary, recorded))
}

/// Runs `chorus protection <command> --json` on the operator's store.
fn protection_cli(config: &NodeConfig, command: &str, out: Option<&Path>) -> serde_json::Value {
    let output = cli::protection(&chorus_exe(), config, command, out).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "chorus protection {command} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{command} --json printed {stdout}: {e}"))
}

/// Waits until `operator` signed a checkpoint proposed after `mark`;
/// returns that checkpoint's id.
async fn signs_after(aggregator: &str, operator: alloy::primitives::Address, mark: u64) -> u64 {
    wait_for(&format!("operator {operator} signing a checkpoint after {mark}"), LONG, || async {
        Ok(statuses(aggregator)
            .await?
            .into_iter()
            .filter(|s| s.proposal.checkpoint_id > mark && s.signers.contains(&operator))
            .map(|s| s.proposal.checkpoint_id)
            .max())
    })
    .await
    .unwrap()
}

#[derive(Debug, Default)]
struct OperatorCounts {
    kills: usize,
    restarts: usize,
    /// Kills before the victim recorded the proposal being answered in its
    /// store; after it recorded it but before the aggregator had its
    /// signature; after the aggregator had it.
    killed_before_recording: usize,
    killed_before_publishing: usize,
    killed_after_publishing: usize,
    integrity_checks: usize,
}

#[actix_rt::test]
async fn an_operator_killed_at_random_instants_while_signing_never_equivocates() {
    let kills = kill_count(CI_OPERATOR_KILLS);
    let (seed, mut rng) = seeded("operator crash loop");
    let (_guard, dir) = test_dir();
    let options = DevnetOptions {
        operator_mode: Mode::Processes { chorus_exe: chorus_exe() },
        // Four: three keep the quorum while the fourth is down.
        ..devnet_options(&dir, 4)
    };
    let mut devnet = Devnet::start(options).await.unwrap();
    let aggregator = devnet.aggregator_url().to_owned();
    let victim = devnet.info().operators[VICTIM].address;
    let deployment = devnet.deployment().clone();
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    let pubkey =
        PublicKey::from_bytes(&hex::decode(&devnet.info().operators[VICTIM].bls_pubkey).unwrap())
            .unwrap();
    let config = devnet.operator_config(VICTIM).unwrap().clone();
    let store = config.operator.protection_db.clone();
    let mut published = Published::default();
    let mut counts = OperatorCounts::default();
    let mut restart_times = Vec::new();
    let started = Instant::now();
    let mut mark = 0;

    for kill in 1..=kills {
        if out_of_time("operator crash loop", started, kill - 1) {
            break;
        }
        // Back and signing: a checkpoint proposed after its (re)start
        // carries its signature.
        let signed = signs_after(&aggregator, victim, mark).await;
        // The kill instant: a random delay after the next proposal reached
        // the operators, i.e. while the victim judges, records, signs and
        // posts its answer (or just after).
        let proposal = next_proposal(&aggregator, signed).await.unwrap();
        let delay = kill_delay(&mut rng, OPERATOR_WINDOW);
        pause(delay).await;
        devnet.kill_operator(VICTIM).await.unwrap();
        counts.kills += 1;

        published.collect(&aggregator).await.unwrap();
        let (_, recorded) = check_operator_store(&store, domain, &pubkey, published.by(victim))
            .unwrap_or_else(|e| {
                let id = proposal.checkpoint_id;
                panic!("after kill {kill} ({delay:?} after proposal {id}, seed {seed}): {e}")
            });
        counts.integrity_checks += 1;
        if published.signed(proposal.checkpoint_id, victim) {
            counts.killed_after_publishing += 1;
        } else if recorded.contains(&(proposal.table_version, proposal.commitments_root)) {
            counts.killed_before_publishing += 1;
        } else {
            counts.killed_before_recording += 1;
        }

        mark = newest_id(&aggregator).await.unwrap();
        let restart = Instant::now();
        devnet.start_operator(VICTIM).await.unwrap();
        restart_times.push(restart.elapsed());
        counts.restarts += 1;
        if kill % 25 == 0 {
            eprintln!("operator crash loop: {kill}/{kills} kills, {:?}", started.elapsed());
        }
    }
    // It signs again after the last restart too.
    signs_after(&aggregator, victim, mark).await;
    let looped = started.elapsed();

    devnet.stop_operator(VICTIM).await.unwrap();
    published.collect(&aggregator).await.unwrap();
    let (summary, _) = check_operator_store(&store, domain, &pubkey, published.by(victim)).unwrap();
    counts.integrity_checks += 1;

    // Every signature published, by every operator: valid under its key,
    // and no two conflicting, by the slashing watcher's own rule.
    let wire_domain = chorus_wire::Domain {
        l1_chain_id: domain.l1_chain_id,
        attestation_contract: domain.attestation_contract,
    };
    let mut detector = Detector::new(wire_domain, u64::MAX);
    let mut conflicts = Vec::new();
    for signature in published.all() {
        let evidence = Evidence::from_public(wire_domain, signature.clone());
        let found = detector
            .observe(evidence)
            .unwrap_or_else(|e| panic!("a published signature is not valid: {e}"));
        conflicts.extend(found);
    }
    assert!(conflicts.is_empty(), "conflicting signatures published (seed {seed}): {conflicts:?}");

    // The operator's own tools read the store too.
    let info = protection_cli(&config, "info", None);
    assert_eq!(info["integrityOk"], true, "chorus protection info: {info}");
    let export = dir.join("history.json");
    let report = protection_cli(&config, "export", Some(&export));
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    let exported = history["signedCommitments"].as_array().unwrap().len() as u64;
    assert_eq!(report["records"].as_u64(), Some(exported), "chorus protection export: {report}");
    assert_eq!(exported, summary.leaves, "one record per signed leaf");

    let victim_signatures = published.by(victim).count();
    let attested = devnet.attested_checkpoints().await.unwrap().len();
    restart_times.sort();
    let median_restart = restart_times.get(restart_times.len() / 2).copied().unwrap_or_default();
    eprintln!(
        "operator crash loop (seed {seed}): {} kills ({} before it recorded the proposal it was \
         answering, {} after recording it but before the aggregator had its signature, {} after), \
         {} restarts (median {median_restart:?} to a serving API), \
         {victim_signatures} signatures of the victim published, {} by all operators, 0 \
         conflicts, {} integrity checks passed, store: {} checkpoints, {} commitments; {attested} \
         checkpoints attested on L1; loop took {looped:?}",
        counts.kills,
        counts.killed_before_recording,
        counts.killed_before_publishing,
        counts.killed_after_publishing,
        counts.restarts,
        published.all().count(),
        counts.integrity_checks,
        summary.checkpoints,
        summary.commitments,
    );
    assert!(victim_signatures > counts.kills, "it signed after every restart");
    devnet.shutdown().await;
}

/// Where the aggregator is killed: a random delay after this event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KillPoint {
    /// Its (re)start: while it resumes from its store.
    Start,
    /// A proposal published: while it collects signatures.
    Proposal,
    /// A checkpoint seen `submitting`: while it posts to L1.
    Submitting,
}

/// The aggregator's store, read while the aggregator is dead: SQLite's
/// integrity and foreign-key checks, then every checkpoint through the
/// aggregator's own store API.
fn read_aggregator_store(path: &Path) -> Result<BTreeMap<u64, StoredCheckpoint>, BoxError> {
    {
        let connection = rusqlite::Connection::open(path)?;
        let problems: Vec<String> = connection
            .prepare("PRAGMA integrity_check")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if problems != ["ok"] {
            return Err(format!("integrity_check: {problems:?}").into());
        }
        let broken: usize =
            connection.prepare("PRAGMA foreign_key_check")?.query_map([], |_| Ok(()))?.count();
        if broken != 0 {
            return Err(format!("foreign_key_check: {broken} rows break a foreign key").into());
        }
    }
    let loaded = Store::open(path)?.load(ALL_CHECKPOINTS)?;
    Ok(loaded.checkpoints.into_iter().map(|c| (c.id, c)).collect())
}

/// What must hold between two readings of the store: nothing lost or
/// changed, no state gone back, new ids above every old one.
fn check_store_progress(
    before: &BTreeMap<u64, StoredCheckpoint>,
    after: &BTreeMap<u64, StoredCheckpoint>,
) -> Result<(), String> {
    for (id, old) in before {
        let new = after.get(id).ok_or_else(|| format!("checkpoint {id} was lost"))?;
        if (new.table_version, &new.commitments, new.root)
            != (old.table_version, &old.commitments, old.root)
        {
            return Err(format!("checkpoint {id} changed: {old:?} became {new:?}"));
        }
        let went_back = match old.state {
            CheckpointState::Open => false,
            CheckpointState::Submitting => new.state == CheckpointState::Open,
            CheckpointState::Attested | CheckpointState::Superseded => new.state != old.state,
        };
        if went_back {
            return Err(format!("checkpoint {id} went from {:?} to {:?}", old.state, new.state));
        }
        if old.state == CheckpointState::Attested && new.l1_block != old.l1_block {
            return Err(format!("checkpoint {id}'s L1 block changed"));
        }
    }
    let old_max = before.keys().max().copied().unwrap_or(0);
    let new_ids: Vec<u64> = after.keys().filter(|id| !before.contains_key(id)).copied().collect();
    if let Some(id) = new_ids.iter().find(|id| **id <= old_max) {
        return Err(format!("new checkpoint {id} is not above the newest before ({old_max})"));
    }
    Ok(())
}

/// Every checkpoint the aggregator served (to operators, on its API) is in
/// its store under the same id: ids are never handed out twice.
fn check_served(
    served: &BTreeMap<u64, B256>,
    store: &BTreeMap<u64, StoredCheckpoint>,
) -> Result<(), String> {
    for (id, root) in served {
        match store.get(id) {
            Some(stored) if stored.root == *root => {}
            Some(stored) => {
                return Err(format!(
                    "checkpoint {id} was served as {root}, the store has {}",
                    stored.root
                ));
            }
            None => return Err(format!("checkpoint {id} was served but is not in the store")),
        }
    }
    Ok(())
}

/// Every attestation on L1 is a checkpoint the store knows, as `submitting`
/// or `attested` (or only `attested`, once settled), at the same L1 block
/// and transaction when the store recorded them; every checkpoint the store
/// holds as attested is on L1.
fn check_store_against_l1(
    store: &BTreeMap<u64, StoredCheckpoint>,
    on_l1: &[AttestedCheckpoint],
    settled: bool,
) -> Result<(), String> {
    let by_root: HashMap<B256, &StoredCheckpoint> = store.values().map(|c| (c.root, c)).collect();
    let l1_roots: HashMap<B256, &AttestedCheckpoint> = on_l1.iter().map(|a| (a.root, a)).collect();
    for attested in on_l1 {
        let known = by_root.get(&attested.root).ok_or_else(|| {
            format!("checkpoint {} is attested on L1 but unknown to the store", attested.root)
        })?;
        let acceptable = match known.state {
            CheckpointState::Attested => true,
            CheckpointState::Submitting => !settled,
            _ => false,
        };
        if !acceptable {
            return Err(format!(
                "checkpoint {} is attested on L1 (block {}) but {:?} in the store",
                known.id, attested.l1_block, known.state
            ));
        }
    }
    for checkpoint in store.values().filter(|c| c.state == CheckpointState::Attested) {
        let on_l1 = l1_roots.get(&checkpoint.root).ok_or_else(|| {
            format!("checkpoint {} is attested in the store but not on L1", checkpoint.id)
        })?;
        if checkpoint.l1_block != Some(on_l1.l1_block)
            || checkpoint.l1_transaction.is_some_and(|tx| tx != on_l1.tx_hash)
        {
            return Err(format!(
                "checkpoint {}: the store says block {:?} tx {:?}, L1 block {} tx {}",
                checkpoint.id,
                checkpoint.l1_block,
                checkpoint.l1_transaction,
                on_l1.l1_block,
                on_l1.tx_hash
            ));
        }
    }
    Ok(())
}

/// The window the loop once hit (in about 600 kills): the aggregator killed
/// after the signature completing a quorum was recorded and before the
/// checkpoint was recorded as `submitting`. Made on purpose here: operators
/// stopped, a checkpoint left open, the aggregator killed, every operator's
/// signature written into its store; started alone (no signature will
/// come), it must submit that checkpoint, once.
async fn resumes_a_quorum_recorded_just_before_a_crash(devnet: &mut Devnet, store_path: &Path) {
    for index in 0..devnet.operator_count() {
        devnet.stop_operator(index).await.unwrap();
    }
    devnet.start_aggregator().await.unwrap();
    let aggregator = devnet.aggregator_url().to_owned();
    let open = wait_for("an open checkpoint", LONG, || async {
        let statuses = statuses(&aggregator).await?;
        Ok(statuses.into_iter().find(|s| s.state == CheckpointState::Open))
    })
    .await
    .unwrap()
    .proposal;
    devnet.kill_aggregator().await;

    let deployment = devnet.deployment();
    let message = checkpoint_message(
        deployment.chain_id,
        deployment.chorus.attestations,
        open.table_version,
        open.commitments_root,
    );
    let mut store = Store::open(store_path).unwrap();
    for index in 0..devnet.operator_count() {
        let operator = &devnet.operator_config(index).unwrap().operator;
        let password_file = operator.bls_password_file.clone().unwrap();
        let password = PasswordSource::File(password_file).read().unwrap();
        let key = Keystore::from_file(&operator.bls_keystore).unwrap().decrypt(&password).unwrap();
        let signature = key.secret.sign(message.as_slice()).to_bytes();
        store.insert_signature(open.checkpoint_id, operator.address, &signature).unwrap();
    }
    drop(store);

    devnet.start_aggregator().await.unwrap();
    let id = open.checkpoint_id;
    wait_for(&format!("checkpoint {id}, its quorum in the store, attested"), LONG, || async {
        let attested = devnet.attested_checkpoints().await?;
        Ok(attested.iter().any(|a| a.root == open.commitments_root).then_some(()))
    })
    .await
    .unwrap();
    devnet.stop_aggregator().await;
}

#[derive(Debug, Default)]
struct AggregatorCounts {
    kills: usize,
    by_point: BTreeMap<String, usize>,
    /// Kills while the store held a checkpoint `submitting`.
    with_submission_in_flight: usize,
    restarts: usize,
    integrity_checks: usize,
    landing_checks: usize,
}

#[actix_rt::test]
async fn an_aggregator_killed_at_random_instants_loses_nothing_and_never_posts_twice() {
    let kills = kill_count(CI_AGGREGATOR_KILLS);
    let (seed, mut rng) = seeded("aggregator crash loop");
    let (_guard, dir) = test_dir();
    let options = DevnetOptions {
        aggregator_mode: Mode::Processes { chorus_exe: chorus_exe() },
        ..devnet_options(&dir, 3)
    };
    let mut devnet = Devnet::setup(options).await.unwrap();
    // No checkpoint may age out here: one superseded is one whose
    // signatures were lost (or never asked for again) in a crash.
    let mut config = devnet.aggregator_config().clone();
    config.proposer.proposal_timeout_secs = NO_TIMEOUT_SECS;
    devnet.set_aggregator_config(config).unwrap();
    devnet.start_aggregator().await.unwrap();
    for index in 0..devnet.operator_count() {
        devnet.start_operator(index).await.unwrap();
    }
    let aggregator = devnet.aggregator_url().to_owned();
    let store_path = devnet.aggregator_config().store.path.clone();
    let attestations = devnet.deployment().chorus.attestations;
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();

    let mut counts = AggregatorCounts::default();
    let mut stored: BTreeMap<u64, StoredCheckpoint> = BTreeMap::new();
    let mut landed = devnet.attested_checkpoints().await.unwrap().len();
    let mut restart_times = Vec::new();
    let mut point = KillPoint::Proposal;
    // Every checkpoint the API showed (id and root), to find in the store.
    let mut served: BTreeMap<u64, B256> = BTreeMap::new();
    let started = Instant::now();

    for kill in 1..=kills {
        if out_of_time("aggregator crash loop", started, kill - 1) {
            break;
        }
        let delay = kill_delay(&mut rng, AGGREGATOR_WINDOW);
        match point {
            KillPoint::Start => {}
            KillPoint::Proposal => {
                let newest = newest_id(&aggregator).await.unwrap();
                let proposal = next_proposal(&aggregator, newest).await.unwrap();
                served.insert(proposal.checkpoint_id, proposal.commitments_root);
            }
            KillPoint::Submitting => {
                let seen = wait_for("a checkpoint submitting", LONG, || async {
                    let statuses = statuses(&aggregator).await?;
                    let submitting =
                        statuses.iter().any(|s| s.state == CheckpointState::Submitting);
                    Ok(submitting.then_some(statuses))
                })
                .await
                .unwrap();
                served.extend(
                    seen.iter().map(|s| (s.proposal.checkpoint_id, s.proposal.commitments_root)),
                );
            }
        }
        pause(delay).await;
        devnet.kill_aggregator().await;
        counts.kills += 1;
        *counts.by_point.entry(format!("{point:?}")).or_default() += 1;

        let context = format!("after kill {kill} ({delay:?} after {point:?}, seed {seed})");
        let now = read_aggregator_store(&store_path).unwrap_or_else(|e| panic!("{context}: {e}"));
        counts.integrity_checks += 1;
        if now.values().any(|c| c.state == CheckpointState::Submitting) {
            counts.with_submission_in_flight += 1;
        }
        check_store_progress(&stored, &now).unwrap_or_else(|e| panic!("{context}: {e}"));
        check_served(&served, &now).unwrap_or_else(|e| panic!("{context}: {e}"));
        let on_l1 = devnet.attested_checkpoints().await.unwrap();
        check_store_against_l1(&now, &on_l1, false).unwrap_or_else(|e| panic!("{context}: {e}"));
        stored = now;

        let restart = Instant::now();
        devnet.start_aggregator().await.unwrap();
        restart_times.push(restart.elapsed());
        counts.restarts += 1;

        point = match rng.gen_range(0..3) {
            0 => KillPoint::Start,
            1 => KillPoint::Proposal,
            _ => KillPoint::Submitting,
        };
        // Checkpoints keep landing (unless the next kill is at the start:
        // the landing check after the next restart, or after the loop,
        // then covers both).
        if point != KillPoint::Start {
            landed = devnet.wait_for_checkpoints(landed + 1, LONG).await.unwrap().len();
            counts.landing_checks += 1;
        }
        if kill % 25 == 0 {
            eprintln!("aggregator crash loop: {kill}/{kills} kills, {:?}", started.elapsed());
        }
    }
    devnet.wait_for_checkpoints(landed + 1, LONG).await.unwrap();
    counts.landing_checks += 1;
    let looped = started.elapsed();

    // Settle: stopped gracefully, the store must agree with L1 on every
    // attestation. A transaction broadcast just before the stop may be
    // included after it: the store has it `submitting`, and the next start
    // must resolve it.
    // With the operators stopped no new quorum forms, so what is in flight
    // (a root included but not yet `confirmations` deep) is all there is to
    // resolve: the rounds converge.
    for index in 0..devnet.operator_count() {
        devnet.stop_operator(index).await.unwrap();
    }
    let mut settle_rounds = 0;
    let (last, on_l1) = loop {
        devnet.stop_aggregator().await;
        let last = read_aggregator_store(&store_path).unwrap();
        counts.integrity_checks += 1;
        check_store_progress(&stored, &last).unwrap();
        let on_l1 = devnet.attested_checkpoints().await.unwrap();
        check_store_against_l1(&last, &on_l1, false).unwrap();
        stored = last.clone();
        if check_store_against_l1(&last, &on_l1, true).is_ok() {
            break (last, on_l1);
        }
        settle_rounds += 1;
        assert!(settle_rounds <= 3, "attestations still unresolved after {settle_rounds} starts");
        let pending: Vec<u64> = last
            .values()
            .filter(|c| {
                c.state == CheckpointState::Submitting && on_l1.iter().any(|a| a.root == c.root)
            })
            .map(|c| c.id)
            .collect();
        devnet.start_aggregator().await.unwrap();
        wait_for(&format!("checkpoints {pending:?} resolved after a start"), LONG, || async {
            for id in &pending {
                let path = routes::CHECKPOINT.replace("{id}", &id.to_string());
                let status: CheckpointStatus = get_json(&aggregator, &path).await?;
                if status.state != CheckpointState::Attested {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        })
        .await
        .unwrap();
    };

    resumes_a_quorum_recorded_just_before_a_crash(&mut devnet, &store_path).await;
    let posted = submissions(devnet.l1(), attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();
    let attested_in_store = last.values().filter(|c| c.state == CheckpointState::Attested).count();
    let superseded_count = last.values().filter(|c| c.state == CheckpointState::Superseded).count();
    restart_times.sort();
    let median_restart = restart_times.get(restart_times.len() / 2).copied().unwrap_or_default();
    eprintln!(
        "aggregator crash loop (seed {seed}): {} kills {:?} ({} with a checkpoint submitting), {} \
         restarts (median {median_restart:?} to a serving API), {} integrity checks passed, {} \
         landing checks passed; store: {} checkpoints (ids 1..={}), {attested_in_store} \
         attested, {superseded_count} superseded; L1: {} attestations, {} submission transactions, 0 \
         double posts; loop took {looped:?}",
        counts.kills,
        counts.by_point,
        counts.with_submission_in_flight,
        counts.restarts,
        counts.integrity_checks,
        counts.landing_checks,
        last.len(),
        last.keys().max().copied().unwrap_or(0),
        on_l1.len(),
        posted.len(),
    );
    assert_eq!(attested_in_store, on_l1.len(), "the store knows every attestation as attested");
    let superseded: Vec<&StoredCheckpoint> =
        last.values().filter(|c| c.state == CheckpointState::Superseded).collect();
    assert!(
        superseded.is_empty(),
        "checkpoints superseded though none can time out here (seed {seed}): {superseded:?}"
    );
    devnet.shutdown().await;
}
