//! Replays every corpus input and every regression through its target's
//! body: what the fuzzer found once stays fixed, under plain `cargo test`.
//!
//! Every target must have a non-empty `fuzz/corpus/<target>/` and a
//! `fuzz/regressions/<target>/` folder (empty until a crash is found), and
//! every folder there must be a target's, so that nothing is silently
//! skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use chorus_fuzz::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files of `dir` (sorted), failing if it is missing.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && !is_note(path))
        .collect();
    files.sort();
    files
}

/// A README or `.gitkeep` beside the inputs.
fn is_note(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.starts_with('.') || name.ends_with(".md")
}

fn replay(name: &str, target: Target, files: &[PathBuf]) {
    for file in files {
        let data = fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| target(&data));
        assert!(outcome.is_ok(), "{name}: {} breaks an invariant", file.display());
    }
}

#[test]
fn every_corpus_input_and_regression_passes() {
    for &(name, target) in TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty: seed it (examples/seed.rs)");
        replay(name, target, &corpus);
        let regressions = inputs(&fuzz_dir().join("regressions").join(name));
        replay(name, target, &regressions);
        println!("{name}: {} corpus inputs, {} regressions", corpus.len(), regressions.len());
    }
}

#[test]
fn every_folder_and_fuzz_target_belongs_to_a_target() {
    let names: BTreeSet<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    for folder in ["corpus", "regressions"] {
        for entry in fs::read_dir(fuzz_dir().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                assert!(names.contains(name.as_str()), "fuzz/{folder}/{name} is no target's");
            }
        }
    }
    for name in &names {
        let file = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
}

/// The seeds from real traffic reach past the decoders: a real
/// checkpoint's submissions make a verified aggregate, the cheap keystores
/// decrypt, the real export imports, the drill's equivocation is found. If
/// the fixture and the seeds ever drift apart, this says so.
#[test]
fn real_seeds_reach_past_the_decoders() {
    use chorus_aggregator::{
        quorum::{QuorumCollector, SignatureStatus},
        service::collect::settle,
    };
    use chorus_fuzz::fixture::{fixture, signers};
    use chorus_keys::{keystore::Keystore, password::Password};
    use chorus_operator::protection::{Domain, Interchange, SlashingProtection};
    use chorus_slashing::{Detector, Evidence};
    use chorus_wire::{PublicSignature, SignedCheckpoint};

    let fixture = fixture();
    let seed = |target: &str, name: &str| {
        fs::read(fuzz_dir().join("corpus").join(target).join(format!("seed-{name}"))).unwrap()
    };

    let session = seed("api_signature", &format!("{}-session", fixture.proposal.checkpoint_id));
    let mut collector =
        QuorumCollector::new(signers().clone(), fixture.message(), fixture.quorum_bps).unwrap();
    let mut aggregates = 0;
    for body in session.split(|&byte| byte == 0) {
        let signed: SignedCheckpoint = serde_json::from_slice(body).unwrap();
        collector.add(signed.operator, &signed.signature).unwrap();
        let settled = settle(&mut collector, &[(signed.operator, signed.signature)], true);
        assert_eq!(settled.verdicts, [SignatureStatus::Verified], "a real signature verifies");
        aggregates += usize::from(settled.aggregate.is_some());
    }
    assert!(aggregates > 0, "the real submissions reach no quorum");

    let password = Password::new(fixture.keystore_password.as_str());
    let cheap = String::from_utf8(seed("keystore_bls", "cheap-pbkdf2")).unwrap();
    Keystore::from_json(&cheap).unwrap().decrypt(&password).unwrap();
    let dir = chorus_fuzz::protection::scratch_dir().unwrap();
    let cheap = dir.path().join("ecdsa.json");
    fs::write(&cheap, seed("keystore_ecdsa", "cheap-pbkdf2")).unwrap();
    chorus_keys::ecdsa::decrypt(&cheap, &password).unwrap();

    let export = String::from_utf8(seed("protection_import", "export")).unwrap();
    let export = Interchange::from_json(&export).unwrap();
    let base = &fixture.protection_base;
    let domain = Domain {
        l1_chain_id: fixture.domain.l1_chain_id,
        attestation_contract: fixture.domain.attestation_contract,
    };
    let path = dir.path().join("protection.sqlite");
    let store = SlashingProtection::create(&path, domain, &base.metadata.pubkey).unwrap();
    store.import(base).unwrap();
    assert!(store.import(&export).unwrap().checkpoints_imported > 0);

    let feed: Vec<PublicSignature> =
        serde_json::from_slice(&seed("watcher_feed", "equivocation")).unwrap();
    let mut detector = Detector::new(fixture.domain, 1_000);
    let found: usize = feed
        .into_iter()
        .map(|s| detector.observe(Evidence::from_public(fixture.domain, s)).unwrap().len())
        .sum();
    assert_eq!(found, 1);
}
