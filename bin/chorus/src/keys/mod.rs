//! `chorus keys`: create, import, list and inspect keystores.
//!
//! A Chorus operator holds two keys: a BLS key (EIP-2335 keystore) that signs
//! checkpoints, and an Ethereum key (Web3 secret storage keystore) that
//! registers on EigenLayer and pays gas. Keystore files are written 0600 and
//! never over an existing file.

use std::path::{Path, PathBuf};

use alloy_signer_local::PrivateKeySigner;
use chorus_keys::{
    KeyFileKind,
    bls::{PublicKey, SecretKey},
    ecdsa,
    keystore::{Kdf, Keystore, PubkeyKind},
};
use clap::{Subcommand, ValueEnum};
use eyre::{WrapErr, bail};
use serde::Serialize;

mod generate;
mod import;
mod list;
mod show;

use crate::password::PasswordArgs;

pub use generate::GenerateArgs;
pub use import::{ImportArgs, SECRET_FILE_FLAG};
pub use list::ListArgs;
pub use show::ShowArgs;

/// Flag naming the keystore directory.
pub const DIR_FLAG: &str = "dir";
/// Flag naming one keystore file.
pub const KEYSTORE_FLAG: &str = "keystore";
/// Flag choosing JSON output.
pub const JSON_FLAG: &str = "json";

/// The `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create new keys (BLS, Ethereum, or both) in encrypted keystores.
    Generate(GenerateArgs),
    /// Import a keystore, or a raw secret from a file, into a directory.
    Import(ImportArgs),
    /// List the keystores in a directory (no password needed).
    List(ListArgs),
    /// Decrypt one keystore and show its public key (and proof of possession).
    Show(ShowArgs),
}

impl KeysCommand {
    /// Runs the subcommand.
    pub fn run(self) -> eyre::Result<()> {
        match self {
            Self::Generate(args) => args.run(),
            Self::Import(args) => args.run(),
            Self::List(args) => args.run(),
            Self::Show(args) => args.run(),
        }
    }
}

/// Which key a command is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// The BLS12-381 signing key.
    Bls,
    /// The Ethereum (secp256k1) operator key.
    Ecdsa,
}

/// Key derivation function for new BLS keystores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KdfArg {
    /// scrypt, n = 2^18 (EIP-2335 default; ~1 s and 256 MiB to open).
    Scrypt,
    /// PBKDF2-HMAC-SHA256, 2^18 rounds (cheaper on small machines).
    Pbkdf2,
}

impl From<KdfArg> for Kdf {
    fn from(arg: KdfArg) -> Self {
        match arg {
            KdfArg::Scrypt => Kdf::Scrypt,
            KdfArg::Pbkdf2 => Kdf::Pbkdf2,
        }
    }
}

/// What the key commands print about one key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyReport {
    /// BLS or ECDSA.
    #[serde(rename = "type")]
    pub key_type: KeyType,
    /// BLS: the 96-byte compressed G2 public key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pubkey: Option<String>,
    /// BLS: the 48-byte compressed G1 proof of possession, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pop: Option<String>,
    /// ECDSA: the checksummed address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The keystore file.
    pub path: PathBuf,
}

impl KeyReport {
    fn bls(pubkey: &PublicKey, path: &Path) -> Self {
        Self {
            key_type: KeyType::Bls,
            pubkey: Some(pubkey.to_string()),
            pop: None,
            address: None,
            path: path.to_path_buf(),
        }
    }

    fn ecdsa(address: alloy_primitives::Address, path: &Path) -> Self {
        Self {
            key_type: KeyType::Ecdsa,
            pubkey: None,
            pop: None,
            address: Some(address.to_checksum(None)),
            path: path.to_path_buf(),
        }
    }

    fn print_human(&self) {
        let (label, value) = match self.key_type {
            KeyType::Bls => ("BLS public key", self.pubkey.as_deref()),
            KeyType::Ecdsa => ("Ethereum address", self.address.as_deref()),
        };
        println!("{label:<20} {}", value.unwrap_or("-"));
        if let Some(pop) = &self.pop {
            println!("{:<20} {pop}", "proof of possession");
        }
        println!("{:<20} {}", "keystore", self.path.display());
    }
}

/// Prints reports as one JSON value (an object for one, an array for many)
/// or as text.
fn print_reports(reports: &[KeyReport], json: bool) -> eyre::Result<()> {
    if json {
        let text = match reports {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        println!("{text}");
    } else {
        for (index, report) in reports.iter().enumerate() {
            if index > 0 {
                println!();
            }
            report.print_human();
        }
    }
    Ok(())
}

/// Says so when a keystore holds the G1 key of Ethereum validator tools.
fn notice_pubkey_kind(kind: PubkeyKind, path: &Path) {
    match kind {
        PubkeyKind::EthValidatorG1 => tracing::warn!(
            keystore = %path.display(),
            "this keystore stores the 48-byte G1 public key written by Ethereum validator tools; \
             Chorus signs in G1 and uses the G2 public key of the same secret shown here"
        ),
        PubkeyKind::Absent => tracing::warn!(
            keystore = %path.display(),
            "this keystore has no pubkey field; the key shown is derived from the secret"
        ),
        PubkeyKind::ChorusG2 => {}
    }
}

/// Creates the keystore directory (0700) if it does not exist.
fn ensure_key_dir(dir: &Path) -> eyre::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).wrap_err_with(|| format!("cannot create key directory {}", dir.display()))
}

/// File name of a BLS keystore: its public key's first 8 bytes.
fn bls_file_name(pubkey: &PublicKey) -> String {
    format!("bls-{}.json", &hex::encode(pubkey.to_bytes())[..16])
}

/// File name of an ECDSA keystore: its address.
fn ecdsa_file_name(address: alloy_primitives::Address) -> String {
    format!("ecdsa-{}.json", address.to_checksum(None))
}

/// A keystore file opened with its password.
enum OpenedKey {
    /// A BLS secret.
    Bls(SecretKey),
    /// An Ethereum key.
    Ecdsa(PrivateKeySigner),
}

/// Reads a keystore file of either kind once, checks it, asks for its
/// password and decrypts it. Returns the file's text with the key, so that
/// what a caller copies is what was verified (for Ethereum keystores the
/// library reads the file again to decrypt; only the file's owner could
/// change it in between).
fn open_keystore(path: &Path, password: &PasswordArgs) -> eyre::Result<(String, OpenedKey)> {
    let text = read_keystore_text(path)?;
    let opened = match KeyFileKind::detect(&text) {
        Some(KeyFileKind::Bls) => {
            OpenedKey::Bls(decrypt_bls_keystore(&parse_bls_keystore(&text, path)?, path, password)?)
        }
        Some(KeyFileKind::Ecdsa) => {
            let password = password.existing(&path.display().to_string())?;
            OpenedKey::Ecdsa(decrypt_ecdsa(path, &password)?)
        }
        None => {
            // Let the BLS parser name the exact problem (truncated,
            // malformed, unknown version).
            parse_bls_keystore(&text, path)?;
            bail!("{} is not a keystore", path.display());
        }
    };
    Ok((text, opened))
}

/// Reads a keystore file's text, with the path in any error.
pub fn read_keystore_text(path: &Path) -> eyre::Result<String> {
    std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read keystore {}", path.display()))
}

/// Parses and checks the text of a BLS keystore, with the path in any error.
pub fn parse_bls_keystore(text: &str, path: &Path) -> eyre::Result<Keystore> {
    Keystore::from_json(text)
        .wrap_err_with(|| format!("{} is not a usable BLS keystore", path.display()))
}

/// Decrypts a parsed BLS keystore with its password (asked for if the flags
/// give none), and says so when it stores a key other than the Chorus one.
pub fn decrypt_bls_keystore(
    keystore: &Keystore,
    path: &Path,
    password: &PasswordArgs,
) -> eyre::Result<SecretKey> {
    decrypt_bls_keystore_with(keystore, path, &password.existing(&path.display().to_string())?)
}

/// Decrypts a parsed BLS keystore with a password already read, and says
/// so when it stores a key other than the Chorus one.
pub fn decrypt_bls_keystore_with(
    keystore: &Keystore,
    path: &Path,
    password: &chorus_keys::password::Password,
) -> eyre::Result<SecretKey> {
    let decrypted = keystore
        .decrypt(password)
        .wrap_err_with(|| format!("cannot open BLS keystore {}", path.display()))?;
    notice_pubkey_kind(decrypted.pubkey_kind, path);
    Ok(decrypted.secret)
}

/// Reads, checks and decrypts a BLS keystore file.
pub fn open_bls_keystore(path: &Path, password: &PasswordArgs) -> eyre::Result<SecretKey> {
    decrypt_bls_keystore(&parse_bls_keystore(&read_keystore_text(path)?, path)?, path, password)
}

/// Decrypts an ECDSA keystore file, with the path in any error.
fn decrypt_ecdsa(
    path: &Path,
    password: &chorus_keys::password::Password,
) -> eyre::Result<PrivateKeySigner> {
    ecdsa::decrypt(path, password)
        .wrap_err_with(|| format!("cannot open Ethereum keystore {}", path.display()))
}
