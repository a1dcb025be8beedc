//! Web3 secret storage (version 3) keystores for the operator's Ethereum key,
//! through alloy-signer-local's keystore support (the `eth-keystore` crate).
//!
//! The library does the cryptography. This module adds what an operator's
//! key needs around it:
//! - files are created 0600 and never overwrite an existing keystore (the
//!   library writes with default permissions and truncates);
//! - a keystore is checked before the library reads it, with the same KDF
//!   bounds as EIP-2335 keystores, because the library trusts its input (a
//!   short IV or derived key would make it panic, a huge scrypt `n` would
//!   exhaust memory);
//! - new files carry the `address` field, as geth writes it, so that a key
//!   can be listed without its password.
//!
//! New keystores use the library's scrypt parameters (n = 2^13, r = 8,
//! p = 1, as Foundry's `cast wallet` writes); keystores from geth
//! (n = 2^18) and other tools open as well.

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use alloy_signer_local::{LocalSignerError, PrivateKeySigner};
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::{
    file::{WriteError, write_new_private_file},
    keystore::json::{KdfParams, Pbkdf2Params, ScryptParams},
    password::Password,
};

/// The Web3 secret storage version this module reads and writes.
const VERSION: u64 = 3;

/// Why an ECDSA keystore could not be read, decrypted or written.
#[derive(Debug, thiserror::Error)]
pub enum EcdsaKeystoreError {
    /// The file could not be read.
    #[error("cannot read keystore {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The JSON ends early.
    #[error("keystore JSON is truncated (a partial copy?): {0}")]
    Truncated(String),
    /// The JSON is not a Web3 keystore.
    #[error("keystore JSON is malformed: {0}")]
    Malformed(String),
    /// Not a version 3 keystore.
    #[error("keystore version {0} is not an Ethereum (Web3 secret storage v3) keystore")]
    UnsupportedVersion(u64),
    /// A parameter is out of range or has the wrong length.
    #[error("invalid keystore parameter: {0}")]
    InvalidParameter(String),
    /// The password does not open the keystore (MAC mismatch).
    #[error("wrong password for this keystore (or the file is corrupted)")]
    WrongPassword,
    /// The decrypted bytes or the given secret are not a secp256k1 key.
    #[error("not a valid secp256k1 private key: {0}")]
    InvalidSecret(String),
    /// Encryption refused an empty password.
    #[error("refusing to encrypt a keystore with an empty password")]
    EmptyPassword,
    /// The library failed to encrypt.
    #[error("cannot encrypt the keystore: {0}")]
    Encrypt(String),
    /// The keystore could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The fields checked before decryption; others are left to the library.
#[derive(Deserialize)]
struct Header {
    crypto: CryptoHeader,
}

#[derive(Deserialize)]
struct CryptoHeader {
    cipher: String,
    cipherparams: CipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: Value,
    mac: String,
}

#[derive(Deserialize)]
struct CipherParams {
    iv: String,
}

/// Creates a random key and writes it to a new keystore at `path`.
pub fn generate(path: &Path, password: &Password) -> Result<PrivateKeySigner, EcdsaKeystoreError> {
    let signer = PrivateKeySigner::random();
    write_new(path, &signer, password)?;
    Ok(signer)
}

/// Writes `signer`'s key to a new 0600 keystore at `path`.
pub fn write_new(
    path: &Path,
    signer: &PrivateKeySigner,
    password: &Password,
) -> Result<(), EcdsaKeystoreError> {
    if password.as_str().is_empty() {
        return Err(EcdsaKeystoreError::EmptyPassword);
    }
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // The library writes into a directory of its choice with default
    // permissions; give it a private (0700) one beside the target.
    let scratch = tempfile::Builder::new()
        .prefix(".chorus-partial-")
        .tempdir_in(directory)
        .map_err(|source| WriteError::Io { path: path.to_path_buf(), source })?;
    let secret = Zeroizing::new(signer.to_bytes().0);
    PrivateKeySigner::encrypt_keystore(
        scratch.path(),
        &mut rand::rngs::OsRng,
        secret.as_slice(),
        password.as_str(),
        Some("keystore.json"),
    )
    .map_err(|err| EcdsaKeystoreError::Encrypt(err.to_string()))?;
    let written = scratch.path().join("keystore.json");
    let text = std::fs::read_to_string(&written)
        .map_err(|source| EcdsaKeystoreError::Read { path: written, source })?;
    let mut json: Value =
        serde_json::from_str(&text).map_err(|err| EcdsaKeystoreError::Encrypt(err.to_string()))?;
    json["address"] = Value::String(hex::encode(signer.address()));
    write_new_private_file(path, json.to_string().as_bytes())?;
    Ok(())
}

/// Decrypts the keystore at `path`.
pub fn decrypt(path: &Path, password: &Password) -> Result<PrivateKeySigner, EcdsaKeystoreError> {
    check_text(&read_text(path)?)?;
    // The file is read once more by the library; the check above covers the
    // same bytes unless the file changes in between, which only its owner
    // (or root) can do.
    PrivateKeySigner::decrypt_keystore(path, password.as_str()).map_err(|err| match err {
        LocalSignerError::EthKeystoreError(eth_keystore::KeystoreError::MacMismatch) => {
            EcdsaKeystoreError::WrongPassword
        }
        LocalSignerError::EcdsaError(err) => EcdsaKeystoreError::InvalidSecret(err.to_string()),
        other => EcdsaKeystoreError::Malformed(other.to_string()),
    })
}

/// The `address` field of the keystore at `path`, if it has one. Needs no
/// password and proves nothing: [`decrypt`] derives the real address.
pub fn stored_address(path: &Path) -> Result<Option<Address>, EcdsaKeystoreError> {
    let json = read_json(path)?;
    version_of(&json)?;
    Ok(json.get("address").and_then(Value::as_str).and_then(|text| text.parse().ok()))
}

/// A signer from a raw 32-byte secp256k1 private key.
pub fn signer_from_bytes(secret: &[u8]) -> Result<PrivateKeySigner, EcdsaKeystoreError> {
    if secret.len() != 32 {
        return Err(EcdsaKeystoreError::InvalidSecret(format!(
            "{} bytes, expected 32",
            secret.len()
        )));
    }
    PrivateKeySigner::from_slice(secret)
        .map_err(|err| EcdsaKeystoreError::InvalidSecret(err.to_string()))
}

/// Checks a keystore's text exactly as [`decrypt`] does before the library
/// reads the file: version 3, AES-128-CTR with a 16-byte IV, a 32-byte
/// ciphertext and MAC, and a known KDF within the EIP-2335 bounds. Whatever
/// passes cannot make the library panic or exhaust memory (the fuzz target
/// `keystore_ecdsa` holds it to that).
pub fn check_text(text: &str) -> Result<(), EcdsaKeystoreError> {
    let json = parse_json(text)?;
    version_of(&json)?;
    // Read from the text, not from `json`: a JSON object may repeat a key,
    // and a `Value` keeps only the last one, while the library's reader
    // refuses the repetition. Reading the checked fields the library's way
    // (which refuses repeats too) checks exactly what it will read.
    let header: Header =
        serde_json::from_str(text).map_err(|err| EcdsaKeystoreError::Malformed(err.to_string()))?;
    check(header)
}

fn read_text(path: &Path) -> Result<String, EcdsaKeystoreError> {
    std::fs::read_to_string(path)
        .map_err(|source| EcdsaKeystoreError::Read { path: path.to_path_buf(), source })
}

fn read_json(path: &Path) -> Result<Value, EcdsaKeystoreError> {
    parse_json(&read_text(path)?)
}

fn parse_json(text: &str) -> Result<Value, EcdsaKeystoreError> {
    serde_json::from_str(text).map_err(|err| match err.classify() {
        serde_json::error::Category::Eof => EcdsaKeystoreError::Truncated(err.to_string()),
        _ => EcdsaKeystoreError::Malformed(err.to_string()),
    })
}

fn version_of(json: &Value) -> Result<(), EcdsaKeystoreError> {
    match json.get("version").and_then(Value::as_u64) {
        Some(VERSION) => Ok(()),
        Some(other) => Err(EcdsaKeystoreError::UnsupportedVersion(other)),
        None => Err(EcdsaKeystoreError::Malformed("missing numeric field `version`".into())),
    }
}

/// Everything the library would otherwise trust.
fn check(header: Header) -> Result<(), EcdsaKeystoreError> {
    let crypto = header.crypto;
    let invalid = |what: String| EcdsaKeystoreError::InvalidParameter(what);
    if crypto.cipher != "aes-128-ctr" {
        return Err(invalid(format!("cipher {:?} is not \"aes-128-ctr\"", crypto.cipher)));
    }
    hex_of_length("cipherparams.iv", &crypto.cipherparams.iv, 16)?;
    hex_of_length("ciphertext", &crypto.ciphertext, 32)?;
    hex_of_length("mac", &crypto.mac, 32)?;
    let params = crypto.kdfparams;
    let kdf = match crypto.kdf.as_str() {
        "scrypt" => ScryptParams::deserialize(params).map(KdfParams::Scrypt),
        "pbkdf2" => Pbkdf2Params::deserialize(params).map(KdfParams::Pbkdf2),
        other => return Err(invalid(format!("unknown kdf {other:?}"))),
    }
    .map_err(|err| invalid(format!("kdfparams: {err}")))?;
    kdf.check_bounds().map_err(|err| invalid(err.to_string()))
}

fn hex_of_length(what: &str, text: &str, expected: usize) -> Result<(), EcdsaKeystoreError> {
    match hex::decode(text.trim_start_matches("0x")) {
        Ok(bytes) if bytes.len() == expected => Ok(()),
        Ok(bytes) => Err(EcdsaKeystoreError::InvalidParameter(format!(
            "{what} has {} bytes, expected {expected}",
            bytes.len()
        ))),
        Err(err) => Err(EcdsaKeystoreError::InvalidParameter(format!("{what} is not hex: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_decrypt_and_list_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ecdsa.json");
        let password = Password::new("operator password");
        let signer = generate(&path, &password).unwrap();
        assert_eq!(decrypt(&path, &password).unwrap().address(), signer.address());
        assert_eq!(stored_address(&path).unwrap(), Some(signer.address()));
        assert!(matches!(
            decrypt(&path, &Password::new("nope")),
            Err(EcdsaKeystoreError::WrongPassword)
        ));
        // Only the keystore remains; the library's scratch directory is gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(matches!(
            generate(&path, &password),
            Err(EcdsaKeystoreError::Write(WriteError::AlreadyExists(_)))
        ));
    }

    #[test]
    fn short_iv_is_refused_before_the_library_sees_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ecdsa.json");
        let password = Password::new("pw");
        generate(&path, &password).unwrap();
        let mut json: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        json["crypto"]["cipherparams"]["iv"] = Value::String("00".into());
        let tampered = dir.path().join("tampered.json");
        std::fs::write(&tampered, json.to_string()).unwrap();
        assert!(matches!(
            decrypt(&tampered, &password),
            Err(EcdsaKeystoreError::InvalidParameter(_))
        ));
    }

    #[test]
    fn repeated_fields_are_refused() {
        // Found by the fuzz target keystore_ecdsa: a `Value` keeps the last
        // of a repeated key, so the check judged other bytes than the ones
        // the library reads.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ecdsa.json");
        generate(&path, &Password::new("pw")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(check_text(&text).is_ok());
        let repeated = text.replacen("\"kdf\":", "\"kdf\":\"scrypt\",\"kdf\":", 1);
        assert!(matches!(check_text(&repeated), Err(EcdsaKeystoreError::Malformed(_))));
    }

    #[test]
    fn raw_secrets() {
        let secret =
            hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                .unwrap();
        let signer = signer_from_bytes(&secret).unwrap();
        // The first anvil development account.
        assert_eq!(
            signer.address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse::<Address>().unwrap()
        );
        assert!(signer_from_bytes(&[0]).is_err());
        assert!(signer_from_bytes(&[0; 32]).is_err());
    }
}
