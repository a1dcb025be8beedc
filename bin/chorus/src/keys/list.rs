//! `chorus keys list`.

use std::path::{Path, PathBuf};

use chorus_keys::{KeyFileKind, bls::PUBLIC_KEY_BYTES, ecdsa, keystore::Keystore};
use clap::Args;
use eyre::WrapErr;

use super::{KeyReport, KeyType, print_reports};

/// Arguments of `chorus keys list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The keystore directory.
    #[arg(long = super::DIR_FLAG, value_name = "DIR")]
    pub dir: PathBuf,
    /// Print a JSON array.
    #[arg(long = super::JSON_FLAG)]
    pub json: bool,
}

impl ListArgs {
    /// Lists the keystores in the directory from their public fields; no
    /// password is asked, so nothing here is verified (`keys show` does).
    pub fn run(self) -> eyre::Result<()> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .wrap_err_with(|| format!("cannot read key directory {}", self.dir.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        let reports: Vec<KeyReport> = paths.iter().filter_map(|path| describe(path)).collect();
        if self.json {
            println!("{}", serde_json::to_string_pretty(&reports)?);
        } else if reports.is_empty() {
            println!("no keystores in {}", self.dir.display());
        } else {
            print_reports(&reports, false)?;
        }
        Ok(())
    }
}

/// One keystore's public description, or `None` (with a warning) for a file
/// that is not a readable keystore.
fn describe(path: &Path) -> Option<KeyReport> {
    let skip = |reason: String| {
        tracing::warn!(file = %path.display(), "skipped: {reason}");
        None
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => return skip(err.to_string()),
    };
    match KeyFileKind::detect(&text) {
        Some(KeyFileKind::Bls) => match Keystore::from_json(&text) {
            Ok(keystore) => Some(bls_report(&keystore, path)),
            Err(err) => skip(err.to_string()),
        },
        Some(KeyFileKind::Ecdsa) => match ecdsa::stored_address(path) {
            Ok(address) => Some(KeyReport {
                key_type: KeyType::Ecdsa,
                pubkey: None,
                pop: None,
                address: Some(address.map_or_else(
                    || "unknown (not stored; `chorus keys show` decrypts it)".to_owned(),
                    |address| address.to_checksum(None),
                )),
                path: path.to_path_buf(),
            }),
            Err(err) => skip(err.to_string()),
        },
        None => skip("not a keystore".to_owned()),
    }
}

fn bls_report(keystore: &Keystore, path: &Path) -> KeyReport {
    let stored = keystore.pubkey_hex();
    let pubkey = if stored.len() == 2 * PUBLIC_KEY_BYTES {
        format!("0x{stored}")
    } else if stored.is_empty() {
        "unknown (not stored; `chorus keys show` derives it)".to_owned()
    } else {
        format!("0x{stored} (G1 key of validator tools; `chorus keys show` gives the G2 key)")
    };
    KeyReport {
        key_type: KeyType::Bls,
        pubkey: Some(pubkey),
        pop: None,
        address: None,
        path: path.to_path_buf(),
    }
}
