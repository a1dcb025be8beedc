//! `chorus protection`: create, inspect, export and import the
//! slashing-protection store of one BLS key in one deployment.
//!
//! A store is bound to a domain (the deployment file's L1 chain id and
//! attestation contract) and to a BLS public key (from the keystore), and is
//! never created implicitly: `create` makes an empty one for a key that has
//! never signed in this deployment; moving machines is `export` on the old
//! one (after it stopped signing) and `import --create` on the new one.
//! Every command checks its inputs before touching the store, and writes
//! nothing when it fails.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use chorus_keys::{
    bls::{PUBLIC_KEY_BYTES, PublicKey},
    file::WriteError,
};
use chorus_operator::protection::{
    Domain, INTERCHANGE_FORMAT_VERSION, ImportSummary, Interchange, SlashingProtection,
    StoreSummary,
};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail};
use serde::Serialize;

use crate::{
    chain::{DEPLOYMENT_FLAG, parse_deployment},
    keys::{JSON_FLAG, decrypt_bls_keystore, parse_bls_keystore, read_keystore_text},
    password::PasswordArgs,
};

/// Flag naming the store file.
pub const STORE_FLAG: &str = "store";
/// Flag naming the BLS keystore whose history the store holds.
pub const BLS_KEYSTORE_FLAG: &str = "bls-keystore";
/// Flag naming the interchange file `export` writes.
pub const OUT_FLAG: &str = "out";
/// Flag naming the interchange file `import` reads.
pub const FILE_FLAG: &str = "file";
/// Flag letting `import` create the store first.
pub const CREATE_FLAG: &str = "create";

/// The `protection` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProtectionCommand {
    /// Create an empty store for a key that has never signed in this deployment.
    Create(CreateArgs),
    /// Check a store (domain, key, integrity) and show what it holds.
    Info(InfoArgs),
    /// Write a store's whole history as an interchange JSON file.
    Export(ExportArgs),
    /// Add an interchange file's history to a store (all or nothing).
    Import(ImportArgs),
}

impl ProtectionCommand {
    /// Runs the subcommand.
    pub fn run(self) -> eyre::Result<()> {
        match self {
            Self::Create(args) => args.run(),
            Self::Info(args) => args.run(),
            Self::Export(args) => args.run(),
            Self::Import(args) => args.run(),
        }
    }
}

/// Which store: its file, its deployment and its key.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The slashing-protection store (an SQLite file).
    #[arg(long = STORE_FLAG, value_name = "PATH")]
    pub store: PathBuf,
    /// The deployment JSON (as `chorus deploy` writes): gives the L1 chain id
    /// and the attestation contract the store is bound to.
    #[arg(long = DEPLOYMENT_FLAG, value_name = "FILE")]
    pub deployment: PathBuf,
    /// The operator's BLS keystore: gives the public key the store is bound
    /// to (read from the file when it holds the 96-byte G2 key, else
    /// decrypted).
    #[arg(long = BLS_KEYSTORE_FLAG, value_name = "PATH")]
    pub bls_keystore: PathBuf,
    /// Password options for the BLS keystore (asked only if needed).
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Print the result as one JSON object.
    #[arg(long = JSON_FLAG)]
    pub json: bool,
}

/// The store's owner, read from the deployment file and the keystore.
struct Owner {
    domain: Domain,
    pubkey: PublicKey,
}

impl StoreArgs {
    /// Reads the domain and the key, without touching the store.
    fn owner(&self) -> eyre::Result<Owner> {
        Ok(Owner { domain: read_domain(&self.deployment)?, pubkey: self.read_pubkey()? })
    }

    /// The keystore's public key: its `pubkey` field when that is a valid
    /// 96-byte G2 key, else derived from the decrypted secret.
    fn read_pubkey(&self) -> eyre::Result<PublicKey> {
        let path = &self.bls_keystore;
        let keystore = parse_bls_keystore(&read_keystore_text(path)?, path)?;
        let stored = hex::decode(keystore.pubkey_hex()).ok();
        if let Some(bytes) = stored.filter(|bytes| bytes.len() == PUBLIC_KEY_BYTES)
            && let Ok(pubkey) = PublicKey::from_bytes(&bytes)
        {
            return Ok(pubkey);
        }
        Ok(decrypt_bls_keystore(&keystore, path, &self.password)?.public_key())
    }

    /// Opens the existing store, checking its domain and key.
    fn open(&self, owner: &Owner) -> eyre::Result<SlashingProtection> {
        SlashingProtection::open(&self.store, owner.domain, &owner.pubkey).wrap_err_with(|| {
            format!("cannot open slashing-protection store {}", self.store.display())
        })
    }
}

/// Reads a deployment file and returns its domain. No RPC: the chain id is
/// the one the file records.
pub fn read_domain(path: &Path) -> eyre::Result<Domain> {
    let deployment = parse_deployment(path)?;
    Ok(Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    })
}

/// Arguments of `chorus protection create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Which store to create.
    #[command(flatten)]
    pub store: StoreArgs,
}

impl CreateArgs {
    /// Creates the empty store; refuses an existing path.
    pub fn run(self) -> eyre::Result<()> {
        let args = &self.store;
        if std::fs::symlink_metadata(&args.store).is_ok() {
            bail!(
                "{} already exists; refusing to replace a slashing-protection store (inspect it \
                 with `chorus protection info`, or move it away only if you are sure it holds no \
                 history you still need). Nothing was written",
                args.store.display()
            );
        }
        let owner = args.owner()?;
        let store = SlashingProtection::create(&args.store, owner.domain, &owner.pubkey)
            .wrap_err_with(|| {
                format!(
                    "cannot create slashing-protection store {}; nothing was written",
                    args.store.display()
                )
            })?;
        let report = StoreReport::new(&store, store.summary()?, true);
        report.print(args.json, "created an empty store; use it only for a key that has never signed in this deployment, or import its history first")
    }
}

/// Arguments of `chorus protection info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Which store to inspect.
    #[command(flatten)]
    pub store: StoreArgs,
}

impl InfoArgs {
    /// Opens the store, prints its summary and runs the integrity check.
    pub fn run(self) -> eyre::Result<()> {
        let args = &self.store;
        let owner = args.owner()?;
        let store = args.open(&owner)?;
        match store.check_integrity() {
            Ok(summary) => StoreReport::new(&store, summary, true).print(args.json, "integrity ok"),
            Err(error) => {
                // Still show what the store holds, then fail.
                if let Ok(summary) = store.summary() {
                    StoreReport::new(&store, summary, false)
                        .print(args.json, "integrity check FAILED")?;
                }
                Err(eyre::Report::new(error)).wrap_err_with(|| {
                    format!(
                        "the integrity check of {} failed; do not sign with this store",
                        args.store.display()
                    )
                })
            }
        }
    }
}

/// Arguments of `chorus protection export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which store to export.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The interchange file to write (must not exist; written 0600).
    #[arg(long = OUT_FLAG, value_name = "FILE")]
    pub out: PathBuf,
}

impl ExportArgs {
    /// Writes the store's history as interchange JSON, never over a file.
    pub fn run(self) -> eyre::Result<()> {
        let args = &self.store;
        let exists = |out: &Path| {
            eyre::eyre!(
                "{} already exists; refusing to overwrite it (choose another --{OUT_FLAG} path or \
                 move the file away). Nothing was written",
                out.display()
            )
        };
        if std::fs::symlink_metadata(&self.out).is_ok() {
            return Err(exists(&self.out));
        }
        let owner = args.owner()?;
        let store = args.open(&owner)?;
        let interchange =
            store.export().wrap_err_with(|| format!("cannot export {}", args.store.display()))?;
        let summary = store.summary()?;
        let text = interchange.to_json_pretty()?;
        match chorus_keys::file::write_new_private_file(&self.out, text.as_bytes()) {
            Ok(()) => {}
            Err(WriteError::AlreadyExists(_)) => return Err(exists(&self.out)),
            Err(error) => {
                return Err(eyre::Report::new(error))
                    .wrap_err("cannot write the export; nothing was written");
            }
        }
        let mut report = StoreReport::new(&store, summary, true);
        report.file = Some(self.out.clone());
        report.records = Some(interchange.signed_commitments.len() as u64);
        report.print(
            args.json,
            "exported; export only from a node that has stopped signing, and keep it stopped",
        )
    }
}

/// Arguments of `chorus protection import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Which store to import into.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The interchange file to import (as `chorus protection export` writes).
    #[arg(long = FILE_FLAG, value_name = "FILE")]
    pub file: PathBuf,
    /// Create the store first; refused if it already exists.
    #[arg(long = CREATE_FLAG)]
    pub create: bool,
}

impl ImportArgs {
    /// Imports the file, all or nothing.
    pub fn run(self) -> eyre::Result<()> {
        let args = &self.store;
        let text = std::fs::read_to_string(&self.file)
            .wrap_err_with(|| format!("cannot read interchange file {}", self.file.display()))?;
        let interchange = Interchange::from_json(&text).wrap_err_with(|| {
            format!(
                "{} is not a Chorus slashing-protection interchange file (as `chorus protection \
                 export` writes); nothing was imported",
                self.file.display()
            )
        })?;
        let store_exists = std::fs::symlink_metadata(&args.store).is_ok();
        if self.create && store_exists {
            bail!(
                "{} already exists and --{CREATE_FLAG} creates a new store; to import into the \
                 existing store, run again without --{CREATE_FLAG}. Nothing was imported",
                args.store.display()
            );
        }
        let owner = args.owner()?;
        let store = if self.create {
            // Refuse a foreign file before creating anything.
            check_owner(&interchange, &owner)?;
            let store = SlashingProtection::create(&args.store, owner.domain, &owner.pubkey)
                .wrap_err_with(|| {
                    format!(
                        "cannot create slashing-protection store {}; nothing was imported",
                        args.store.display()
                    )
                })?;
            match store.import(&interchange) {
                Ok(summary) => return finish_import(&store, &summary, &self.file, args.json),
                Err(error) => {
                    let path = store.path().to_path_buf();
                    drop(store);
                    remove_new_store(&path);
                    return Err(eyre::Report::new(error)).wrap_err_with(|| {
                        format!(
                            "cannot import {}; the store this command created was removed",
                            self.file.display()
                        )
                    });
                }
            }
        } else {
            args.open(&owner).map_err(|error| {
                if store_exists {
                    error
                } else {
                    error.wrap_err(format!(
                        "to import into a new store, pass --{CREATE_FLAG} (only if this key has \
                         no other store for this deployment)"
                    ))
                }
            })?
        };
        let summary = store
            .import(&interchange)
            .wrap_err_with(|| format!("cannot import {}", self.file.display()))?;
        finish_import(&store, &summary, &self.file, args.json)
    }
}

/// Refuses a file of another format version, domain or key, with the
/// store's own messages.
fn check_owner(interchange: &Interchange, owner: &Owner) -> eyre::Result<()> {
    let metadata = &interchange.metadata;
    if metadata.interchange_format_version != INTERCHANGE_FORMAT_VERSION {
        bail!(
            "interchange format version {:?} is not supported (expected {INTERCHANGE_FORMAT_VERSION:?}); \
             nothing was imported and no store was created",
            metadata.interchange_format_version
        );
    }
    if metadata.domain() != owner.domain {
        bail!(
            "the file holds the history of {}, the store would be for {}; nothing was imported \
             and no store was created (import it into that deployment's store)",
            metadata.domain(),
            owner.domain
        );
    }
    if metadata.pubkey != owner.pubkey {
        bail!(
            "the file holds the history of BLS key {}, the store would be for {}; nothing was \
             imported and no store was created (import it into that key's store)",
            metadata.pubkey,
            owner.pubkey
        );
    }
    Ok(())
}

/// Removes a store this process just created and whose import was rolled
/// back (so it holds no history), with SQLite's side files.
fn remove_new_store(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        if let Err(error) = std::fs::remove_file(&file)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %file.display(), %error, "cannot remove the empty store created for the import");
        }
    }
}

fn finish_import(
    store: &SlashingProtection,
    summary: &ImportSummary,
    file: &Path,
    json: bool,
) -> eyre::Result<()> {
    let mut report = StoreReport::new(store, summary.after.clone(), true);
    report.file = Some(file.to_path_buf());
    report.checkpoints_imported = Some(summary.checkpoints_imported);
    report.checkpoints_already_present = Some(summary.checkpoints_already_present);
    report.print(json, "imported")
}

/// What the protection commands print about a store.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreReport {
    /// The store file.
    pub store: PathBuf,
    /// The deployment's L1 chain id.
    pub l1_chain_id: u64,
    /// The deployment's attestation contract.
    pub attestation_contract: String,
    /// The BLS public key (96-byte G2), `0x`-hex.
    pub pubkey: String,
    /// Signed checkpoints.
    pub checkpoints: u64,
    /// Signed commitments (distinct rollup and height).
    pub signed_commitments: u64,
    /// Highest signed L2 height per rollup (keys: rollup ids, decimal).
    pub latest_heights: BTreeMap<String, u64>,
    /// Whether the integrity check passed (or, for a fresh store, holds).
    pub integrity_ok: bool,
    /// The interchange file read or written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Export: records written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Import: checkpoints new to the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints_imported: Option<u64>,
    /// Import: checkpoints the store already held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints_already_present: Option<u64>,
}

impl StoreReport {
    fn new(store: &SlashingProtection, summary: StoreSummary, integrity_ok: bool) -> Self {
        let domain = store.domain();
        Self {
            store: store.path().to_path_buf(),
            l1_chain_id: domain.l1_chain_id,
            attestation_contract: domain.attestation_contract.to_checksum(None),
            pubkey: store.pubkey().to_string(),
            checkpoints: summary.checkpoints,
            signed_commitments: summary.commitments,
            latest_heights: summary
                .latest_heights
                .iter()
                .map(|(rollup, height)| (rollup.to_string(), *height))
                .collect(),
            integrity_ok,
            file: None,
            records: None,
            checkpoints_imported: None,
            checkpoints_already_present: None,
        }
    }

    fn print(&self, json: bool, status: &str) -> eyre::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(self)?);
            return Ok(());
        }
        let line = |label: &str, value: &dyn std::fmt::Display| println!("{label:<24} {value}");
        line("store", &self.store.display());
        line("L1 chain id", &self.l1_chain_id);
        line("attestation contract", &self.attestation_contract);
        line("BLS public key", &self.pubkey);
        if let Some(file) = &self.file {
            line("file", &file.display());
        }
        if let Some(records) = self.records {
            line("records written", &records);
        }
        if let Some(imported) = self.checkpoints_imported {
            line("checkpoints imported", &imported);
        }
        if let Some(present) = self.checkpoints_already_present {
            line("already present", &present);
        }
        line("signed checkpoints", &self.checkpoints);
        line("signed commitments", &self.signed_commitments);
        if self.latest_heights.is_empty() {
            line("latest heights", &"none");
        }
        for (rollup, height) in &self.latest_heights {
            line(&format!("latest height, rollup {rollup}"), height);
        }
        line("status", &status);
        Ok(())
    }
}
