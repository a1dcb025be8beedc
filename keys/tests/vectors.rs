//! Standard test vectors, run as ordinary tests. Each handler asserts that
//! its file held cases, so a vector file can never be skipped silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use chorus_keys::{
    bls::{SecretKey, hash_to_g1},
    keystore::{Keystore, KeystoreError, PubkeyKind},
    password::Password,
};
use serde_json::Value;

/// EIP-2335 test password and secret (see `vectors/eip2335_README.txt`).
const EIP2335_PASSWORD: &str = "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}";
const EIP2335_SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn read_vector(name: &str) -> String {
    let path = vectors_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("vector {}: {err}", path.display()))
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.trim_start_matches("0x")).unwrap()
}

#[test]
fn rfc9380_hash_to_g1() {
    let suite: Value =
        serde_json::from_str(&read_vector("hash_to_g1_BLS12381G1_XMD_SHA-256_SSWU_RO.json"))
            .unwrap();
    let dst = suite["dst"].as_str().unwrap().as_bytes();
    let cases = suite["vectors"].as_array().unwrap();
    assert!(cases.len() >= 5, "expected the five RFC 9380 cases, found {}", cases.len());
    for case in cases {
        let message = case["msg"].as_str().unwrap();
        let mut expected = unhex(case["P"]["x"].as_str().unwrap());
        expected.extend(unhex(case["P"]["y"].as_str().unwrap()));
        assert_eq!(
            hex::encode(hash_to_g1(message.as_bytes(), dst)),
            hex::encode(expected),
            "hash_to_g1({message:?})"
        );
    }
}

fn eip2335_password() -> Password {
    Password::new(EIP2335_PASSWORD)
}

#[test]
fn eip2335_vectors_decrypt() {
    for name in ["eip2335_scrypt.json", "eip2335_pbkdf2.json"] {
        let keystore = Keystore::from_json(&read_vector(name)).unwrap();
        let decrypted = keystore.decrypt(&eip2335_password()).unwrap();
        assert_eq!(hex::encode(decrypted.secret.to_bytes().as_ref()), EIP2335_SECRET, "{name}");
        // The vectors carry the 48-byte G1 key of validator tools.
        assert_eq!(decrypted.pubkey_kind, PubkeyKind::EthValidatorG1, "{name}");
    }
}

#[test]
fn eip2335_wrong_password() {
    let keystore = Keystore::from_json(&read_vector("eip2335_pbkdf2.json")).unwrap();
    let result = keystore.decrypt(&Password::new("testpassword"));
    assert!(matches!(result, Err(KeystoreError::WrongPassword)), "{result:?}");
}

fn altered_pbkdf2(edit: impl FnOnce(&mut Value)) -> String {
    let mut json: Value = serde_json::from_str(&read_vector("eip2335_pbkdf2.json")).unwrap();
    edit(&mut json);
    json.to_string()
}

#[test]
fn eip2335_bad_checksum_with_right_password() {
    let text = altered_pbkdf2(|json| {
        json["crypto"]["checksum"]["message"] = Value::String("00".repeat(32));
    });
    let result = Keystore::from_json(&text).unwrap().decrypt(&eip2335_password());
    assert!(matches!(result, Err(KeystoreError::BadChecksum)), "{result:?}");
}

#[test]
fn eip2335_structural_errors_are_distinct() {
    let unknown_kdf = altered_pbkdf2(|json| json["crypto"]["kdf"]["function"] = "argon2id".into());
    assert!(matches!(
        Keystore::from_json(&unknown_kdf),
        Err(KeystoreError::UnsupportedKdf(name)) if name == "argon2id"
    ));
    let unknown_cipher =
        altered_pbkdf2(|json| json["crypto"]["cipher"]["function"] = "aes-256-gcm".into());
    assert!(matches!(
        Keystore::from_json(&unknown_cipher),
        Err(KeystoreError::UnsupportedCipher(_))
    ));
    let full = read_vector("eip2335_pbkdf2.json");
    assert!(matches!(
        Keystore::from_json(&full[..full.len() / 2]),
        Err(KeystoreError::Truncated(_))
    ));
    assert!(matches!(Keystore::from_json("{\"version\": 4,}"), Err(KeystoreError::Malformed(_))));
    let extra_field = altered_pbkdf2(|json| json["surprise"] = 1.into());
    assert!(matches!(Keystore::from_json(&extra_field), Err(KeystoreError::Malformed(_))));
    let version3 = altered_pbkdf2(|json| json["version"] = 3.into());
    assert!(matches!(Keystore::from_json(&version3), Err(KeystoreError::UnsupportedVersion(3))));
    let short_iv = altered_pbkdf2(|json| json["crypto"]["cipher"]["params"]["iv"] = "00ff".into());
    assert!(matches!(Keystore::from_json(&short_iv), Err(KeystoreError::InvalidParameter(_))));
}

#[test]
fn eip2335_hostile_kdf_parameters_refused_before_work() {
    let mut json: Value = serde_json::from_str(&read_vector("eip2335_scrypt.json")).unwrap();
    json["crypto"]["kdf"]["params"]["n"] = (1u64 << 31).into();
    assert!(matches!(
        Keystore::from_json(&json.to_string()),
        Err(KeystoreError::InvalidParameter(_))
    ));
    let rounds = altered_pbkdf2(|json| json["crypto"]["kdf"]["params"]["c"] = u32::MAX.into());
    assert!(matches!(Keystore::from_json(&rounds), Err(KeystoreError::InvalidParameter(_))));
}

#[test]
fn eip2335_pubkey_of_another_secret_refused() {
    let other = SecretKey::random().public_key().to_string();
    let text = altered_pbkdf2(|json| json["pubkey"] = other.trim_start_matches("0x").into());
    let result = Keystore::from_json(&text).unwrap().decrypt(&eip2335_password());
    assert!(matches!(result, Err(KeystoreError::PubkeyMismatch)), "{result:?}");
}

#[test]
fn vectors_match_shared_copy() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        eprintln!("no shared vector set at {}; nothing to compare", shared.display());
        return;
    };
    let mut compared = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let ours = std::fs::read(vectors_dir().join(name))
            .unwrap_or_else(|_| panic!("{name:?} is in the shared set but not in vectors/"));
        assert_eq!(ours, std::fs::read(&path).unwrap(), "{name:?} differs from the shared copy");
        compared += 1;
    }
    assert!(compared > 0);
}
