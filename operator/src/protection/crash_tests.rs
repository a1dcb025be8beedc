//! Crash safety against a real process death: a child process (this test
//! binary, re-invoked to run [`crash_child`] only) records checkpoints as
//! fast as it can and is killed with SIGKILL at a random instant, several
//! times over one store. After each kill the store must open, pass SQLite's
//! `integrity_check` and the store's own checks (every checkpoint whole), and
//! still hold every checkpoint the child reported safe, i.e. every one it
//! could have signed.

use std::{
    collections::{BTreeSet, hash_map::RandomState},
    hash::BuildHasher,
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy::primitives::B256;
use rusqlite::Connection;

use super::{
    NotSafe, Safe, SlashingProtection,
    tests::{checkpoint, domain, key},
};

/// Set (to the store's path) only in the child process.
const CHILD_STORE: &str = "CHORUS_PROTECTION_CRASH_STORE";
/// The child's round, so that each round signs new heights.
const CHILD_ROUND: &str = "CHORUS_PROTECTION_CRASH_ROUND";
const ROUNDS: u64 = 5;

/// The child's loop; does nothing in an ordinary test run.
///
/// Each iteration records a checkpoint over three rollups: rollup 1 at a new
/// height, rollup 2 at a height shared with the previous iteration (a leaf
/// two checkpoints share), rollup 3 at one height every checkpoint shares.
/// It then proposes another block at rollup 1's new height, which must be
/// refused. Every checkpoint recorded is reported on stdout after
/// `check_and_insert` returned, which is when a real signer would sign.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD_STORE) else { return };
    let round: u64 = std::env::var(CHILD_ROUND).unwrap().parse().unwrap();
    let store = SlashingProtection::open(Path::new(&path), domain(), &key()).unwrap();
    let mut stdout = std::io::stdout().lock();
    for i in 0u64.. {
        let height = round * 1_000_000 + i;
        let version = u32::try_from(i % 3).unwrap();
        let signed = checkpoint(version, &[(1, height, 0), (2, height / 2, 0), (3, 7, 0)]);
        match store.check_and_insert(&signed) {
            Ok(Safe::Valid) => {
                writeln!(stdout, "SAFE {version} {}", signed.commitments_root()).unwrap();
            }
            other => {
                writeln!(stdout, "VIOLATION new checkpoint {i}: {other:?}").unwrap();
                std::process::exit(1);
            }
        }
        let conflicting = checkpoint(version, &[(1, height, 1)]);
        if !matches!(store.check_and_insert(&conflicting), Err(NotSafe::Conflict { .. })) {
            writeln!(stdout, "VIOLATION conflict {i} not refused").unwrap();
            std::process::exit(1);
        }
    }
}

fn random_below(bound: u64) -> u64 {
    RandomState::new().hash_one(Instant::now()) % bound
}

#[test]
fn sigkill_at_random_instants_never_loses_or_tears_a_checkpoint() {
    if std::env::var_os(CHILD_STORE).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("protection.sqlite");
    drop(SlashingProtection::create(&path, domain(), &key()).unwrap());
    let test_binary = std::env::current_exe().unwrap();
    let mut reported: BTreeSet<(u32, B256)> = BTreeSet::new();

    for round in 0..ROUNDS {
        let mut child = Command::new(&test_binary)
            .args(["--exact", "protection::crash_tests::crash_child", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_STORE, &path)
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until the child is writing, then let it run a random while.
        loop {
            let line = lines.next().expect("the child stopped before recording").unwrap();
            if line.starts_with("SAFE") || line.starts_with("VIOLATION") {
                record(&mut reported, &line);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(random_below(60)));
        child.kill().unwrap(); // SIGKILL
        for line in lines {
            record(&mut reported, &line.unwrap());
        }
        assert!(!child.wait().unwrap().success(), "the child was killed");

        let raw = Connection::open(&path).unwrap();
        let integrity: String =
            raw.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(integrity, "ok", "round {round}");
        drop(raw);

        let store = SlashingProtection::open(&path, domain(), &key()).unwrap();
        // Every checkpoint whole (its leaves rebuild its root), no two
        // leaves in conflict (the schema allows one commitment per height).
        let summary = store.check_integrity().unwrap();
        let stored: BTreeSet<(u32, B256)> = store
            .export()
            .unwrap()
            .signed_commitments
            .iter()
            .map(|record| (record.table_version, record.commitments_root))
            .collect();
        assert_eq!(stored.len() as u64, summary.checkpoints);
        let lost: Vec<_> = reported.difference(&stored).collect();
        assert!(lost.is_empty(), "round {round}: checkpoints reported safe but lost: {lost:?}");
        // What the dead child signed is still refused to a conflicting block.
        let last_height = summary.latest_heights[&1];
        assert!(matches!(
            store.check_and_insert(&checkpoint(0, &[(1, last_height, 1)])),
            Err(NotSafe::Conflict { .. })
        ));
    }
    assert!(reported.len() as u64 >= ROUNDS);
}

fn record(reported: &mut BTreeSet<(u32, B256)>, line: &str) {
    assert!(!line.starts_with("VIOLATION"), "{line}");
    let Some(rest) = line.strip_prefix("SAFE ") else { return };
    let (version, root) = rest.split_once(' ').unwrap();
    reported.insert((version.parse().unwrap(), root.parse().unwrap()));
}
