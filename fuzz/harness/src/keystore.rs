//! Keystores as the operator opens them: EIP-2335 for the BLS key
//! (`chorus_keys::keystore`) and Web3 secret storage for the Ethereum key
//! (`chorus_keys::ecdsa`).
//!
//! Both parsers bound the key derivation before any of it runs (scrypt at
//! most 1 GiB, PBKDF2 at most 2^24 rounds); the targets assert those bounds
//! on everything that parses. Decryption itself runs only below
//! [`MAX_FUZZ_KDF_WORK`], a limit of this harness alone, so that each run
//! stays around a millisecond: the real (PBKDF2 2^18, scrypt 2^13) devnet
//! keystores are parsed, and their cheap re-encryptions in the corpus are
//! decrypted.

use chorus_keys::{
    KeyFileKind, ecdsa,
    keystore::{
        Keystore, PubkeyKind,
        json::{KdfParams, KeystoreJson, Pbkdf2Params, ScryptParams},
    },
    password::Password,
};
use serde::Deserialize;
use serde_json::Value;

use crate::fixture::fixture;

/// The most key-derivation work decrypted per run: PBKDF2 rounds, or
/// scrypt's `n * r * p`.
const MAX_FUZZ_KDF_WORK: u64 = 1024;

/// The parser's documented bounds (`chorus_keys::keystore::json`).
const MAX_SCRYPT_MEMORY: u128 = 1 << 30;
const MAX_SCRYPT_P: u32 = 16;
const MAX_PBKDF2_ROUNDS: u32 = 1 << 24;
const MAX_SALT_BYTES: usize = 1024;

/// Asserts that parameters that parsed are within the bounds, and tells
/// whether they are cheap enough to run here.
fn bounded_and_cheap(kdf: &KdfParams) -> bool {
    match kdf {
        KdfParams::Scrypt(params) => {
            assert_eq!(params.dklen, 32);
            assert!(params.salt.len() <= MAX_SALT_BYTES);
            assert!(params.n >= 2 && params.n.is_power_of_two());
            assert!((1..=MAX_SCRYPT_P).contains(&params.p) && params.r > 0);
            let memory = 128 * u128::from(params.r) * (u128::from(params.n) + u128::from(params.p));
            assert!(memory <= MAX_SCRYPT_MEMORY, "scrypt parameters past the bound parsed");
            u64::from(params.n) * u64::from(params.r) * u64::from(params.p) <= MAX_FUZZ_KDF_WORK
        }
        KdfParams::Pbkdf2(params) => {
            assert_eq!(params.dklen, 32);
            assert!(params.salt.len() <= MAX_SALT_BYTES);
            assert!((1..=MAX_PBKDF2_ROUNDS).contains(&params.c));
            u64::from(params.c) <= MAX_FUZZ_KDF_WORK
        }
    }
}

fn password() -> Password {
    Password::new(fixture().keystore_password.as_str())
}

/// An EIP-2335 keystore's text, parsed and (when cheap) decrypted with the
/// fixture's password.
///
/// Invariants: what parses is within the KDF bounds, has a 32-byte
/// ciphertext, and writes back to JSON that parses to the same keystore; a
/// decryption that succeeds yields the secret of the stored public key.
pub fn bls(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = KeyFileKind::detect(text);
    let Ok(keystore) = Keystore::from_json(text) else { return };
    let Ok(json) = KeystoreJson::parse(text) else {
        panic!("Keystore::from_json accepted what KeystoreJson::parse refuses")
    };
    assert_eq!(json.crypto.ciphertext.len(), 32);
    let cheap = bounded_and_cheap(&json.crypto.kdf);
    let written = keystore.to_json();
    let Ok(again) = Keystore::from_json(&written) else {
        panic!("a parsed keystore writes JSON that does not parse: {written}")
    };
    assert_eq!(again.to_json(), written);
    assert_eq!(again.uuid(), keystore.uuid());
    assert_eq!(again.pubkey_hex(), keystore.pubkey_hex());
    if !cheap {
        return;
    }
    let Ok(decrypted) = keystore.decrypt(&password()) else { return };
    let stored = keystore.pubkey_hex().to_ascii_lowercase();
    match decrypted.pubkey_kind {
        PubkeyKind::ChorusG2 => {
            let key = decrypted.secret.public_key().to_bytes();
            assert_eq!(stored, alloy::hex::encode(key));
        }
        PubkeyKind::EthValidatorG1 => {
            assert_eq!(stored, alloy::hex::encode(decrypted.secret.eth_validator_pubkey()));
        }
        PubkeyKind::Absent => assert!(stored.is_empty()),
    }
}

/// The fields of a Web3 keystore that size its key derivation.
#[derive(Deserialize)]
struct Web3Kdf {
    crypto: Web3Crypto,
}

#[derive(Deserialize)]
struct Web3Crypto {
    kdf: String,
    kdfparams: Value,
}

/// A Web3 (version 3) keystore's text, checked as `ecdsa::decrypt` checks
/// it and, when that passes and the derivation is cheap, decrypted by the
/// library (alloy-signer-local, eth-keystore) from a file.
///
/// Invariants: what the check lets through is within the KDF bounds, and
/// never makes the library panic (it trusts its input: a short IV or
/// derived key would).
pub fn ecdsa(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if ecdsa::check_text(text).is_err() {
        return;
    }
    let Ok(header) = serde_json::from_str::<Web3Kdf>(text) else {
        panic!("ecdsa::check_text accepted a keystore without crypto.kdf and kdfparams")
    };
    let params = header.crypto.kdfparams;
    let kdf = match header.crypto.kdf.as_str() {
        "scrypt" => ScryptParams::deserialize(params).map(KdfParams::Scrypt),
        "pbkdf2" => Pbkdf2Params::deserialize(params).map(KdfParams::Pbkdf2),
        other => panic!("ecdsa::check_text accepted kdf {other:?}"),
    };
    let Ok(kdf) = kdf else { panic!("ecdsa::check_text accepted bad kdfparams") };
    if !bounded_and_cheap(&kdf) {
        return;
    }
    let Ok(dir) = crate::protection::scratch_dir() else { return };
    let path = dir.path().join("keystore.json");
    if std::fs::write(&path, data).is_ok() {
        let _ = ecdsa::decrypt(&path, &password());
    }
}
