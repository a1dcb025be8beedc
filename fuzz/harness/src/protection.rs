//! Slashing-protection history import (`chorus protection import`): an
//! interchange file parsed and imported into a real SQLite store.
//!
//! Each run imports into a fresh copy of one store (the fixture's owner,
//! holding the fixture's base history), in a scratch folder on `/dev/shm`
//! when there is one, so that SQLite's fsyncs cost nothing.

use std::{path::Path, sync::OnceLock};

use chorus_operator::protection::{Domain, Interchange, SlashingProtection};
use tempfile::TempDir;

use crate::fixture::fixture;

/// The store's file name in a scratch folder.
const STORE: &str = "protection.sqlite";

/// A fresh scratch folder, removed when dropped.
pub fn scratch_dir() -> std::io::Result<TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new().prefix("chorus-fuzz-").tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::Builder::new().prefix("chorus-fuzz-").tempdir()
}

fn domain() -> Domain {
    let domain = fixture().domain;
    Domain { l1_chain_id: domain.l1_chain_id, attestation_contract: domain.attestation_contract }
}

/// The base store's file, built once: created for the fixture's owner and
/// filled with its base history by the import under test itself.
fn base_store() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = &fixture().protection_base;
        let built = scratch_dir().map_err(|e| e.to_string()).and_then(|dir| {
            let path = dir.path().join(STORE);
            let store = SlashingProtection::create(&path, domain(), &base.metadata.pubkey)
                .map_err(|e| e.to_string())?;
            store.import(base).map_err(|e| e.to_string())?;
            drop(store);
            std::fs::read(&path).map_err(|e| e.to_string())
        });
        match built {
            Ok(bytes) => bytes,
            Err(error) => panic!("cannot build the base protection store: {error}"),
        }
    })
}

/// An interchange file's text, parsed as `chorus protection import` parses
/// it and imported into a copy of the base store.
///
/// Invariants: an import that fails leaves the store exactly as it was; one
/// that succeeds leaves an intact store (SQLite's integrity check, every
/// checkpoint whole) holding everything it held and every record of the
/// file, with the summary it reports; importing the same file again imports
/// nothing and changes nothing.
pub fn import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(interchange) = Interchange::from_json(text) else { return };
    let dir = match scratch_dir() {
        Ok(dir) => dir,
        Err(error) => panic!("no scratch folder: {error}"),
    };
    let path = dir.path().join(STORE);
    if let Err(error) = std::fs::write(&path, base_store()) {
        panic!("cannot copy the base store: {error}");
    }
    let owner = fixture().protection_base.metadata.pubkey;
    let store = match SlashingProtection::open(&path, domain(), &owner) {
        Ok(store) => store,
        Err(error) => panic!("the copied base store does not open: {error}"),
    };
    let before = history(&store);
    match store.import(&interchange) {
        Err(_) => assert_eq!(history(&store), before, "a failed import changed the store"),
        Ok(summary) => {
            let integrity = store.check_integrity();
            assert!(integrity.is_ok(), "import left a broken store: {integrity:?}");
            let after = history(&store);
            assert_eq!(store.summary().ok(), Some(summary.after.clone()));
            let mut expected = before.signed_commitments.clone();
            expected.extend(interchange.signed_commitments.iter().cloned());
            expected.sort();
            expected.dedup();
            let mut held = after.signed_commitments.clone();
            held.sort();
            assert_eq!(held, expected, "the store after import is not the union");
            match store.import(&interchange) {
                Ok(second) => assert_eq!(second.checkpoints_imported, 0),
                Err(error) => panic!("a second import of an imported file failed: {error}"),
            }
            assert_eq!(history(&store), after, "a second import changed the store");
        }
    }
}

fn history(store: &SlashingProtection) -> Interchange {
    match store.export() {
        Ok(history) => history,
        Err(error) => panic!("the store does not export: {error}"),
    }
}
