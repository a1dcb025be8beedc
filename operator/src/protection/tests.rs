//! The store against real SQLite files in temporary directories, through
//! its public API only (the raw connections here play an outside party: a
//! second process holding the lock, or damage done behind the store's back).

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::{Arc, Barrier},
    time::Duration,
};

use alloy::primitives::{Address, B256, keccak256};
use chorus_contracts::{
    Commitment,
    checkpoint::{CheckpointError, checkpoint_message},
};
use chorus_keys::bls::{PublicKey, SecretKey};
use rusqlite::{Connection, ffi};
use serde_json::json;
use tempfile::TempDir;

use super::*;

/// The key every test store belongs to.
pub(super) fn key() -> PublicKey {
    SecretKey::from_bytes(&[7u8; 32]).unwrap().public_key()
}

pub(super) fn domain() -> Domain {
    Domain { l1_chain_id: 31337, attestation_contract: Address::repeat_byte(0xa7) }
}

/// A commitment; `fork` picks one of several competing blocks at a height.
pub(super) fn commitment(rollup_id: u64, height: u64, fork: u8) -> Commitment {
    let seed = [&rollup_id.to_be_bytes()[..], &height.to_be_bytes()[..], &[fork][..]].concat();
    Commitment {
        rollupId: rollup_id,
        l2BlockNumber: height,
        l2BlockHash: keccak256(&seed),
        stateRoot: keccak256(keccak256(&seed)),
    }
}

/// A checkpoint of `(rollup, height, fork)` leaves.
pub(super) fn checkpoint(table_version: u32, leaves: &[(u64, u64, u8)]) -> CheckpointToSign {
    let commitments = leaves.iter().map(|&(r, h, f)| commitment(r, h, f)).collect();
    CheckpointToSign::new(table_version, commitments).unwrap()
}

struct Fixture {
    dir: TempDir,
    path: PathBuf,
    store: SlashingProtection,
}

fn fresh() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("protection.sqlite");
    let store = SlashingProtection::create(&path, domain(), &key()).unwrap();
    Fixture { dir, path, store }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_conflict(result: Result<Safe, NotSafe>, rollup: u64, height: u64) {
    match result {
        Err(NotSafe::Conflict { rollup_id, l2_block_number, signed, proposed }) => {
            assert_eq!((rollup_id, l2_block_number), (rollup, height));
            assert_eq!((signed.rollupId, signed.l2BlockNumber), (rollup, height));
            assert_eq!((proposed.rollupId, proposed.l2BlockNumber), (rollup, height));
            assert_ne!(
                (signed.l2BlockHash, signed.stateRoot),
                (proposed.l2BlockHash, proposed.stateRoot)
            );
        }
        other => panic!("expected a conflict at rollup {rollup} block {height}, got {other:?}"),
    }
}

#[test]
fn create_makes_a_private_wal_store_and_never_replaces_one() {
    let Fixture { dir, path, store } = fresh();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(store.check_and_insert(&checkpoint(1, &[(10, 1, 0)])).unwrap(), Safe::Valid);
    let wal = dir.path().join("protection.sqlite-wal");
    assert_eq!(mode(&wal), 0o600, "SQLite gives the log the database's mode");
    // Nothing of the temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["protection.sqlite", "protection.sqlite-shm", "protection.sqlite-wal"]);

    let raw = Connection::open(&path).unwrap();
    let journal: String = raw.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");

    assert!(matches!(
        SlashingProtection::create(&path, domain(), &key()),
        Err(OpenError::AlreadyExists(p)) if p == path
    ));
    let missing = dir.path().join("missing.sqlite");
    assert!(matches!(
        SlashingProtection::open(&missing, domain(), &key()),
        Err(OpenError::NotFound(p)) if p == missing
    ));
    assert!(!missing.exists(), "open never creates a store");
    assert!(matches!(
        SlashingProtection::create(dir.path().join("no/such/dir.sqlite"), domain(), &key()),
        Err(OpenError::Io { .. })
    ));
}

#[test]
fn conflicting_block_hash_is_refused_and_nothing_is_written() {
    let Fixture { store, dir: _dir, .. } = fresh();
    store.check_and_insert(&checkpoint(1, &[(10, 5, 0)])).unwrap();
    let before = store.export().unwrap();

    assert_conflict(store.check_and_insert(&checkpoint(1, &[(10, 5, 1)])), 10, 5);
    // Another table version does not make it a different offence.
    assert_conflict(store.check_and_insert(&checkpoint(2, &[(10, 5, 1)])), 10, 5);
    assert_eq!(store.export().unwrap(), before);
}

#[test]
fn a_different_state_root_alone_is_a_conflict() {
    let Fixture { store, dir: _dir, .. } = fresh();
    let signed = commitment(10, 5, 0);
    store.check_and_insert(&CheckpointToSign::new(1, vec![signed.clone()]).unwrap()).unwrap();
    let same_hash_other_root = Commitment { stateRoot: B256::repeat_byte(1), ..signed.clone() };
    let same_root_other_hash = Commitment { l2BlockHash: B256::repeat_byte(1), ..signed };
    for proposed in [same_hash_other_root, same_root_other_hash] {
        let result = store.check_and_insert(&CheckpointToSign::new(1, vec![proposed]).unwrap());
        assert_conflict(result, 10, 5);
    }
    assert_eq!(store.summary().unwrap().commitments, 1);
}

#[test]
fn identical_resign_is_same_data_and_shared_leaves_are_fine() {
    let Fixture { store, dir: _dir, .. } = fresh();
    let first = checkpoint(1, &[(10, 5, 0), (11, 8, 0)]);
    assert_eq!(store.check_and_insert(&first).unwrap(), Safe::Valid);
    let summary = store.summary().unwrap();
    assert_eq!(store.check_and_insert(&first).unwrap(), Safe::SameData);
    assert_eq!(store.summary().unwrap(), summary, "a re-sign writes nothing");

    // The same root under another table version is another signature: recorded.
    assert_eq!(
        store.check_and_insert(&checkpoint(2, &[(10, 5, 0), (11, 8, 0)])).unwrap(),
        Safe::Valid
    );
    // A checkpoint that still covers a signed commitment next to a new one.
    assert_eq!(
        store.check_and_insert(&checkpoint(2, &[(10, 5, 0), (11, 9, 0)])).unwrap(),
        Safe::Valid
    );
    let summary = store.summary().unwrap();
    assert_eq!((summary.checkpoints, summary.commitments, summary.leaves), (3, 3, 6));
    assert_eq!(summary.latest_heights, [(10, 5), (11, 9)].into());
    store.check_integrity().unwrap();
}

#[test]
fn different_rollups_and_heights_are_independent() {
    let Fixture { store, dir: _dir, .. } = fresh();
    store.check_and_insert(&checkpoint(1, &[(10, 5, 0)])).unwrap();
    for leaves in [
        &[(10, 6, 1)][..], // same rollup, next height, any fork
        &[(10, 4, 2)],     // same rollup, an earlier unsigned height
        &[(11, 5, 1)],     // another rollup at the same height
        &[(12, 5, 3), (13, 5, 4)],
    ] {
        assert_eq!(store.check_and_insert(&checkpoint(1, leaves)).unwrap(), Safe::Valid);
    }
    assert_eq!(store.summary().unwrap().commitments, 6);
}

#[test]
fn a_checkpoint_with_one_conflicting_leaf_records_none_of_its_leaves() {
    let Fixture { store, dir: _dir, .. } = fresh();
    store.check_and_insert(&checkpoint(1, &[(11, 7, 0)])).unwrap();
    let before = store.summary().unwrap();

    let mixed = checkpoint(1, &[(10, 3, 0), (11, 7, 1), (12, 9, 0)]);
    assert_conflict(store.check_and_insert(&mixed), 11, 7);
    assert_eq!(store.summary().unwrap(), before);
    // Proof that the other two leaves were not recorded: other blocks at
    // their heights are still signable.
    assert_eq!(
        store.check_and_insert(&checkpoint(1, &[(10, 3, 5), (12, 9, 5)])).unwrap(),
        Safe::Valid
    );
}

#[test]
fn history_survives_reopening() {
    let Fixture { path, store, dir: _dir } = fresh();
    let signed = checkpoint(4, &[(10, 5, 0), (11, 6, 0)]);
    store.check_and_insert(&signed).unwrap();
    drop(store);

    let store = SlashingProtection::open(&path, domain(), &key()).unwrap();
    assert_eq!(store.check_and_insert(&signed).unwrap(), Safe::SameData);
    assert_conflict(store.check_and_insert(&checkpoint(4, &[(11, 6, 1)])), 11, 6);
    assert_eq!(store.check_integrity().unwrap().checkpoints, 1);
}

#[test]
fn open_refuses_another_domain_or_key() {
    let Fixture { path, store, dir: _dir } = fresh();
    store.check_and_insert(&checkpoint(1, &[(10, 5, 0)])).unwrap();
    drop(store);

    let other_chain = Domain { l1_chain_id: 1, ..domain() };
    let other_contract = Domain { attestation_contract: Address::repeat_byte(1), ..domain() };
    for given in [other_chain, other_contract] {
        match SlashingProtection::open(&path, given, &key()) {
            Err(error @ OpenError::WrongDomain { .. }) => {
                let OpenError::WrongDomain { store, given: asked, .. } = &error else {
                    unreachable!()
                };
                assert_eq!((*store, *asked), (domain(), given));
                assert!(error.to_string().contains("must never sign with another deployment"));
            }
            other => panic!("expected WrongDomain, got {other:?}"),
        }
    }
    let stranger = SecretKey::from_bytes(&[8u8; 32]).unwrap().public_key();
    match SlashingProtection::open(&path, domain(), &stranger) {
        Err(OpenError::WrongKey { store, given, .. }) => {
            assert_eq!((store, given), (key().to_string(), stranger.to_string()));
        }
        other => panic!("expected WrongKey, got {other:?}"),
    }
    // Refusals changed nothing.
    let store = SlashingProtection::open(&path, domain(), &key()).unwrap();
    assert_eq!(store.summary().unwrap().checkpoints, 1);
}

#[test]
fn open_refuses_what_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"this is not SQLite, just some text that is long enough").unwrap();
    assert!(matches!(
        SlashingProtection::open(&text, domain(), &key()),
        Err(OpenError::NotAStore(_))
    ));
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        SlashingProtection::open(&empty, domain(), &key()),
        Err(OpenError::NotAStore(_))
    ));
    // Another application's database is recognised before anything is
    // changed in it: it keeps its rollback journal.
    let other = dir.path().join("other.sqlite");
    Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    assert!(matches!(
        SlashingProtection::open(&other, domain(), &key()),
        Err(OpenError::NotAStore(_))
    ));
    let journal: String = Connection::open(&other)
        .unwrap()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "delete");
    assert!(matches!(
        SlashingProtection::open(dir.path(), domain(), &key()),
        Err(OpenError::NotAStore(_))
    ));
    // A store of a future schema.
    let Fixture { path, store, dir: _dir } = fresh();
    drop(store);
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 2).unwrap();
    assert!(matches!(
        SlashingProtection::open(&path, domain(), &key()),
        Err(OpenError::UnsupportedSchema { found: 2, expected: 1, .. })
    ));
}

#[test]
fn malformed_checkpoints_are_refused() {
    let Fixture { dir, store, .. } = fresh();
    // Two commitments for one rollup never make a checkpoint.
    assert_eq!(
        CheckpointToSign::new(1, vec![commitment(10, 5, 0), commitment(10, 6, 0)]),
        Err(CheckpointError::NotSorted(10))
    );
    assert_eq!(CheckpointToSign::new(1, Vec::new()), Err(CheckpointError::Empty));
    // Heights and ids beyond SQLite's integers are refused, not wrapped.
    for (rollup, height, field) in [(10, u64::MAX, "L2 block number"), (1 << 63, 1, "rollup id")] {
        match store.check_and_insert(&checkpoint(1, &[(rollup, height, 0)])) {
            Err(NotSafe::Malformed(MalformedCheckpoint::OutOfRange { field: f, .. })) => {
                assert_eq!(f, field);
            }
            other => panic!("expected OutOfRange, got {other:?}"),
        }
    }
    assert_eq!(store.summary().unwrap(), StoreSummary::default());
    let huge_chain = Domain { l1_chain_id: u64::MAX, ..domain() };
    assert!(matches!(
        SlashingProtection::create(dir.path().join("huge.sqlite"), huge_chain, &key()),
        Err(OpenError::Malformed(MalformedCheckpoint::OutOfRange { .. }))
    ));
}

#[test]
fn signing_message_is_the_protocol_message_of_the_store_domain() {
    let Fixture { store, dir: _dir, .. } = fresh();
    let checkpoint = checkpoint(9, &[(10, 5, 0)]);
    assert_eq!(
        checkpoint.signing_message(&store.domain()),
        checkpoint_message(31337, Address::repeat_byte(0xa7), 9, checkpoint.commitments_root())
    );
}

/// A store with some history: shared leaves, several table versions.
fn with_history() -> Fixture {
    let fixture = fresh();
    for (version, leaves) in [
        (1, &[(10, 5, 0), (11, 8, 0)][..]),
        (1, &[(10, 6, 0), (11, 8, 0)]),
        (2, &[(10, 6, 0), (11, 8, 0)]),
        (2, &[(10, 7, 0), (11, 9, 0), (12, 1, 0)]),
    ] {
        fixture.store.check_and_insert(&checkpoint(version, leaves)).unwrap();
    }
    fixture
}

#[test]
fn export_import_round_trip_into_a_fresh_store() {
    let old = with_history();
    let exported = old.store.export().unwrap();
    assert_eq!(exported.signed_commitments.len(), 9);
    let text = exported.to_json_pretty().unwrap();

    let new = fresh();
    let summary = new.store.import(&Interchange::from_json(&text).unwrap()).unwrap();
    assert_eq!((summary.checkpoints_imported, summary.checkpoints_already_present), (4, 0));
    assert_eq!(summary.before, StoreSummary::default());
    assert_eq!(summary.after, old.store.summary().unwrap());
    assert_eq!(new.store.export().unwrap(), exported);
    new.store.check_integrity().unwrap();

    // The new machine knows what the old one signed.
    assert_eq!(
        new.store.check_and_insert(&checkpoint(1, &[(10, 5, 0), (11, 8, 0)])).unwrap(),
        Safe::SameData
    );
    assert_conflict(new.store.check_and_insert(&checkpoint(3, &[(12, 1, 1)])), 12, 1);
}

#[test]
fn importing_twice_changes_nothing() {
    let old = with_history();
    let exported = old.store.export().unwrap();
    let new = fresh();
    new.store.check_and_insert(&checkpoint(1, &[(10, 5, 0), (11, 8, 0)])).unwrap();
    let first = new.store.import(&exported).unwrap();
    assert_eq!((first.checkpoints_imported, first.checkpoints_already_present), (3, 1));
    let snapshot = new.store.export().unwrap();

    let second = new.store.import(&exported).unwrap();
    assert_eq!((second.checkpoints_imported, second.checkpoints_already_present), (0, 4));
    assert_eq!(second.before, second.after);
    assert_eq!(new.store.export().unwrap(), snapshot);
    // Into the store it came from: nothing either.
    assert_eq!(old.store.import(&exported).unwrap().checkpoints_imported, 0);
    assert_eq!(old.store.export().unwrap(), exported);
}

#[test]
fn importing_a_conflicting_file_writes_nothing() {
    let old = with_history();
    let new = fresh();
    new.store.check_and_insert(&checkpoint(7, &[(11, 9, 1)])).unwrap();
    new.store.check_and_insert(&checkpoint(7, &[(20, 1, 0)])).unwrap();
    let before = new.store.export().unwrap();

    match new.store.import(&old.store.export().unwrap()) {
        Err(ImportError::Conflict { rollup_id: 11, l2_block_number: 9, stored, file }) => {
            assert_eq!(*stored, commitment(11, 9, 1));
            assert_eq!(*file, commitment(11, 9, 0));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The file's non-conflicting checkpoints were not kept either.
    assert_eq!(new.store.export().unwrap(), before);
}

#[test]
fn importing_a_foreign_file_writes_nothing() {
    let old = with_history();
    let new = fresh();
    let exported = old.store.export().unwrap();

    let mut other_domain = exported.clone();
    other_domain.metadata.l1_chain_id = 1;
    assert!(matches!(new.store.import(&other_domain), Err(ImportError::WrongDomain { .. })));
    let mut other_contract = exported.clone();
    other_contract.metadata.attestation_contract = Address::repeat_byte(2);
    assert!(matches!(new.store.import(&other_contract), Err(ImportError::WrongDomain { .. })));
    let mut other_key = exported.clone();
    other_key.metadata.pubkey = SecretKey::from_bytes(&[9u8; 32]).unwrap().public_key();
    assert!(matches!(new.store.import(&other_key), Err(ImportError::WrongKey { .. })));
    let mut other_version = exported;
    other_version.metadata.interchange_format_version = "2".into();
    assert!(matches!(
        new.store.import(&other_version),
        Err(ImportError::UnsupportedVersion(version)) if version == "2"
    ));
    assert_eq!(new.store.summary().unwrap(), StoreSummary::default());
}

#[test]
fn importing_a_malformed_file_writes_nothing() {
    let old = with_history();
    let new = fresh();
    let exported = old.store.export().unwrap();

    // A checkpoint missing one of its records does not rebuild its root.
    let mut incomplete = exported.clone();
    incomplete.signed_commitments.retain(|record| record.rollup_id != 12);
    match new.store.import(&incomplete) {
        Err(ImportError::Malformed(MalformedCheckpoint::IncompleteCheckpoint {
            table_version: 2,
            ..
        })) => {}
        other => panic!("expected an incomplete checkpoint, got {other:?}"),
    }
    // A file that is itself an equivocation.
    let mut equivocation = exported.clone();
    let mut forged = equivocation.signed_commitments[0].clone();
    forged.l2_block_hash = B256::repeat_byte(3);
    forged.commitments_root = B256::repeat_byte(4);
    equivocation.signed_commitments.push(forged.clone());
    assert!(matches!(
        new.store.import(&equivocation),
        Err(ImportError::ConflictInFile { rollup_id, l2_block_number })
            if (rollup_id, l2_block_number) == (forged.rollup_id, forged.l2_block_number)
    ));
    // Two commitments of one rollup in one checkpoint.
    let mut duplicate = exported.clone();
    let mut second = duplicate.signed_commitments[0].clone();
    second.l2_block_number = 1000;
    duplicate.signed_commitments.push(second);
    assert!(matches!(
        new.store.import(&duplicate),
        Err(ImportError::Malformed(MalformedCheckpoint::DuplicateRollup { rollup_id: 10 }))
    ));
    // The same record twice is harmless.
    let mut repeated = exported.clone();
    repeated.signed_commitments.push(exported.signed_commitments[3].clone());
    assert_eq!(new.store.summary().unwrap(), StoreSummary::default());
    assert_eq!(new.store.import(&repeated).unwrap().checkpoints_imported, 4);
    assert_eq!(new.store.export().unwrap(), exported);
}

#[test]
fn interchange_json_is_strict_and_stable() {
    let Fixture { store, dir: _dir, .. } = fresh();
    let signed = checkpoint(3, &[(10, 5, 0)]);
    store.check_and_insert(&signed).unwrap();
    let c = commitment(10, 5, 0);
    let expected = json!({
        "metadata": {
            "interchangeFormatVersion": "1",
            "l1ChainId": "31337",
            "attestationContract": "0xa7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7",
            "pubkey": key().to_string(),
        },
        "signedCommitments": [{
            "rollupId": "10",
            "l2BlockNumber": "5",
            "l2BlockHash": c.l2BlockHash.to_string(),
            "stateRoot": c.stateRoot.to_string(),
            "commitmentsRoot": signed.commitments_root().to_string(),
            "tableVersion": "3",
        }],
    });
    let exported = serde_json::to_value(store.export().unwrap()).unwrap();
    assert_eq!(exported, expected);
    assert!(key().to_string().starts_with("0x") && key().to_string().len() == 2 + 192);

    let parse = |value: &serde_json::Value| Interchange::from_json(&value.to_string());
    assert!(parse(&expected).is_ok());
    let mut unknown_top = expected.clone();
    unknown_top["extra"] = json!(1);
    let mut unknown_metadata = expected.clone();
    unknown_metadata["metadata"]["genesisValidatorsRoot"] = json!("0x00");
    let mut unknown_record = expected.clone();
    unknown_record["signedCommitments"][0]["signature"] = json!("0x00");
    let mut json_number = expected.clone();
    json_number["signedCommitments"][0]["rollupId"] = json!(10);
    let mut signed_number = expected.clone();
    signed_number["metadata"]["l1ChainId"] = json!("+31337");
    let mut too_big = expected.clone();
    too_big["signedCommitments"][0]["tableVersion"] = json!("4294967296");
    let mut bad_key = expected.clone();
    bad_key["metadata"]["pubkey"] = json!(format!("0x{}", "00".repeat(96)));
    let mut missing = expected;
    missing["signedCommitments"][0].as_object_mut().unwrap().remove("stateRoot");
    for bad in [
        unknown_top,
        unknown_metadata,
        unknown_record,
        json_number,
        signed_number,
        too_big,
        bad_key,
        missing,
    ] {
        assert!(parse(&bad).is_err(), "accepted {bad}");
    }
}

#[test]
fn concurrent_writers_on_one_file_record_exactly_one_of_two_conflicting_blocks() {
    let Fixture { path, store, dir: _dir } = fresh();
    drop(store);
    const WRITERS: u8 = 4;
    let barrier = Arc::new(Barrier::new(usize::from(WRITERS)));
    let handles: Vec<_> = (0..WRITERS)
        .map(|fork| {
            let (path, barrier) = (path.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                // Each thread its own connection, as separate processes would.
                let store = SlashingProtection::open(&path, domain(), &key()).unwrap();
                barrier.wait();
                store.check_and_insert(&checkpoint(1, &[(10, 5, fork), (11, 5, 0)]))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let valid = results.iter().filter(|r| matches!(r, Ok(Safe::Valid))).count();
    let conflicts = results.iter().filter(|r| matches!(r, Err(NotSafe::Conflict { .. }))).count();
    assert_eq!((valid, conflicts), (1, usize::from(WRITERS) - 1), "{results:?}");
    let store = SlashingProtection::open(&path, domain(), &key()).unwrap();
    assert_eq!(store.check_integrity().unwrap().commitments, 2);
}

#[test]
fn a_locked_store_is_a_typed_storage_error_never_safe() {
    let Fixture { path, store, dir: _dir } = fresh();
    store.set_busy_timeout(Duration::from_millis(50)).unwrap();
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let proposed = checkpoint(1, &[(10, 5, 0)]);
    match store.check_and_insert(&proposed) {
        Err(error @ NotSafe::Storage(StorageError::Locked(_))) => {
            assert!(error.to_string().contains("nothing was recorded"), "{error}");
        }
        other => panic!("expected a locked store, got {other:?}"),
    }
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.check_and_insert(&proposed).unwrap(), Safe::Valid);
}

#[test]
fn integrity_check_finds_a_checkpoint_missing_a_leaf() {
    let Fixture { path, store, dir: _dir } = fresh();
    let damaged = checkpoint(1, &[(10, 5, 0), (11, 5, 0)]);
    store.check_and_insert(&damaged).unwrap();
    store.check_and_insert(&checkpoint(1, &[(12, 5, 0)])).unwrap();
    assert_eq!(store.check_integrity().unwrap().leaves, 3);

    // Damage behind the store's back: drop one leaf of the first checkpoint.
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "DELETE FROM checkpoint_leaves WHERE rollup_id = 11 AND checkpoint_id =
            (SELECT id FROM signed_checkpoints WHERE commitments_root = ?1)",
        [damaged.commitments_root().as_slice()],
    )
    .unwrap();
    match store.check_integrity() {
        Err(ReadError::Violation(InvariantViolation::IncompleteCheckpoint {
            table_version: 1,
            commitments_root,
        })) => assert_eq!(commitments_root, damaged.commitments_root()),
        other => panic!("expected an incomplete checkpoint, got {other:?}"),
    }
    // A re-sign of the damaged checkpoint is not taken for SameData.
    assert!(matches!(
        store.check_and_insert(&damaged),
        Err(NotSafe::Inconsistent(InvariantViolation::LeavesDiffer { .. }))
    ));
}

#[test]
fn sqlite_failures_map_to_what_to_do_next() {
    let failure = |code| rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_BUSY)), StorageError::Locked(_)));
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_FULL)), StorageError::Full(_)));
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_CORRUPT)), StorageError::Corrupt(_)));
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_NOTADB)), StorageError::Corrupt(_)));
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_READONLY)), StorageError::ReadOnly(_)));
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_IOERR)), StorageError::Io(_)));
    assert!(matches!(StorageError::from(failure(ffi::SQLITE_MISUSE)), StorageError::Sqlite(_)));
    let full = NotSafe::from(failure(ffi::SQLITE_FULL)).to_string();
    assert!(full.contains("refusing to sign") && full.contains("free space"), "{full}");
}

#[test]
fn the_store_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SlashingProtection>();
}
