//! EIP-2335 keystores for BLS secrets: scrypt or PBKDF2, AES-128-CTR, a
//! SHA-256 checksum.
//!
//! The JSON format lives in [`json`]; the key derivation and cipher steps
//! live here and use RustCrypto's implementations.
//!
//! Chorus keystores store the 96-byte G2 public key in `pubkey`. A keystore
//! written by Ethereum validator tools stores the 48-byte G1 key of the same
//! secret instead; it decrypts all the same, and [`Decrypted::pubkey_kind`]
//! tells the caller so that it can say so.
//!
//! Hostile keystores cannot exhaust memory or time: KDF parameters are
//! bounded before any work is done (see [`json::KdfParams::check_bounds`]).

pub mod json;

use std::path::Path;

use aes::cipher::{KeyIvInit, StreamCipher};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{
    bls::{BlsError, SecretKey},
    file::{WriteError, write_new_private_file},
    password::Password,
};
use json::{KdfParams, KeystoreJson, Pbkdf2Params, ScryptParams};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Length of the derived key: 16 bytes of AES key, 16 for the checksum.
const DERIVED_KEY_BYTES: usize = 32;

/// Why a keystore could not be read, decrypted or written.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// The file could not be read.
    #[error("cannot read keystore {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The JSON ends early: the file was cut off (a partial copy?).
    #[error("keystore JSON is truncated (a partial copy?): {0}")]
    Truncated(String),
    /// The JSON is not a keystore: syntax error, missing or unknown field.
    #[error("keystore JSON is malformed: {0}")]
    Malformed(String),
    /// The keystore declares a version other than 4.
    #[error("keystore version {0} is not supported; EIP-2335 keystores are version 4")]
    UnsupportedVersion(u64),
    /// The KDF is neither `scrypt` nor `pbkdf2`.
    #[error("unknown key derivation function {0:?}; EIP-2335 defines \"scrypt\" and \"pbkdf2\"")]
    UnsupportedKdf(String),
    /// The cipher is not `aes-128-ctr`.
    #[error("unknown cipher {0:?}; EIP-2335 defines \"aes-128-ctr\"")]
    UnsupportedCipher(String),
    /// The checksum function is not `sha256`.
    #[error("unknown checksum function {0:?}; EIP-2335 defines \"sha256\"")]
    UnsupportedChecksum(String),
    /// A parameter is out of range or has the wrong length.
    #[error("invalid keystore parameter: {0}")]
    InvalidParameter(String),
    /// The password does not open this keystore.
    #[error("wrong password for this keystore")]
    WrongPassword,
    /// The password is right (the secret matches the stored public key) but
    /// the checksum field does not: the file was altered.
    #[error(
        "keystore checksum does not match although the password is right: the file is corrupted; \
         restore it from a backup"
    )]
    BadChecksum,
    /// The decrypted bytes are not a valid BLS secret key.
    #[error("keystore decrypts to an invalid BLS secret: {0}")]
    InvalidSecret(BlsError),
    /// The secret's public key matches neither form of the stored `pubkey`.
    #[error("the keystore's pubkey field belongs to a different secret")]
    PubkeyMismatch,
    /// Encryption refused an empty password.
    #[error("refusing to encrypt a keystore with an empty password")]
    EmptyPassword,
    /// The keystore could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Which public key a keystore's `pubkey` field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubkeyKind {
    /// The 96-byte G2 key Chorus signs with.
    ChorusG2,
    /// The 48-byte G1 key of the same secret, as Ethereum validator tools
    /// write; usable, but worth a notice to the user.
    EthValidatorG1,
    /// No `pubkey` field (EIP-2335 does not require one).
    Absent,
}

/// A decrypted keystore.
#[derive(Debug)]
pub struct Decrypted {
    /// The secret key.
    pub secret: SecretKey,
    /// What the keystore's `pubkey` field held.
    pub pubkey_kind: PubkeyKind,
}

/// Key derivation function for new keystores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kdf {
    /// scrypt with n = 2^18, r = 8, p = 1 (the EIP-2335 example, as
    /// validator tools use): about a second and 256 MiB to open.
    #[default]
    Scrypt,
    /// PBKDF2-HMAC-SHA256 with 2^18 rounds: cheaper, for small machines.
    Pbkdf2,
}

/// An EIP-2335 keystore, checked for structure and bounds on parsing.
#[derive(Debug, Clone)]
pub struct Keystore {
    json: KeystoreJson,
}

impl Keystore {
    /// Parses and checks a keystore.
    pub fn from_json(text: &str) -> Result<Self, KeystoreError> {
        let json = KeystoreJson::parse(text)?;
        Ok(Self { json })
    }

    /// Reads, parses and checks a keystore file.
    pub fn from_file(path: &Path) -> Result<Self, KeystoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeystoreError::Read { path: path.to_path_buf(), source })?;
        Self::from_json(&text)
    }

    /// Encrypts `secret` under `password` into a new keystore whose `pubkey`
    /// is the Chorus G2 key.
    pub fn encrypt(
        secret: &SecretKey,
        password: &Password,
        kdf: Kdf,
        derivation_path: &str,
    ) -> Result<Self, KeystoreError> {
        if password.is_empty() {
            return Err(KeystoreError::EmptyPassword);
        }
        let kdf = match kdf {
            Kdf::Scrypt => KdfParams::Scrypt(ScryptParams::eip2335_default(random_bytes())),
            Kdf::Pbkdf2 => KdfParams::Pbkdf2(Pbkdf2Params::eip2335_default(random_bytes())),
        };
        let key = derive_key(&kdf, password)?;
        let iv: [u8; 16] = random_bytes();
        let mut ciphertext = secret.to_bytes().to_vec();
        apply_cipher(&key, &iv, &mut ciphertext);
        let checksum = checksum(&key, &ciphertext);
        let json = KeystoreJson::new(
            kdf,
            checksum,
            iv,
            ciphertext,
            hex::encode(secret.public_key().to_bytes()),
            derivation_path.to_owned(),
        );
        Ok(Self { json })
    }

    /// Decrypts the secret.
    pub fn decrypt(&self, password: &Password) -> Result<Decrypted, KeystoreError> {
        let crypto = &self.json.crypto;
        let key = derive_key(&crypto.kdf, password)?;
        let mut plaintext = Zeroizing::new(crypto.ciphertext.clone());
        apply_cipher(&key, &crypto.iv, &mut plaintext);
        let checksum_ok: bool = checksum(&key, &crypto.ciphertext).ct_eq(&crypto.checksum).into();
        let secret = SecretKey::from_bytes(&plaintext);
        if !checksum_ok {
            // Tell a corrupted checksum from a wrong password: only the right
            // password yields the secret behind the stored public key.
            let matches_pubkey =
                secret.as_ref().is_ok_and(|sk| self.stored_pubkey_kind(sk).is_some());
            return Err(if matches_pubkey {
                KeystoreError::BadChecksum
            } else {
                KeystoreError::WrongPassword
            });
        }
        let secret = secret.map_err(KeystoreError::InvalidSecret)?;
        let pubkey_kind = if self.pubkey_hex().is_empty() {
            PubkeyKind::Absent
        } else {
            self.stored_pubkey_kind(&secret).ok_or(KeystoreError::PubkeyMismatch)?
        };
        Ok(Decrypted { secret, pubkey_kind })
    }

    /// Which form of `secret`'s public key the `pubkey` field holds, if any.
    fn stored_pubkey_kind(&self, secret: &SecretKey) -> Option<PubkeyKind> {
        let stored = hex::decode(self.pubkey_hex()).ok().filter(|bytes| !bytes.is_empty())?;
        if stored == secret.public_key().to_bytes() {
            Some(PubkeyKind::ChorusG2)
        } else if stored == secret.eth_validator_pubkey() {
            Some(PubkeyKind::EthValidatorG1)
        } else {
            None
        }
    }

    /// The `pubkey` field as stored (hex, no `0x`); not verified until
    /// [`Self::decrypt`].
    pub fn pubkey_hex(&self) -> &str {
        self.json.pubkey.trim_start_matches("0x")
    }

    /// The keystore's UUID.
    pub fn uuid(&self) -> uuid::Uuid {
        self.json.uuid
    }

    /// The EIP-2334 derivation path, empty when the key was not derived.
    pub fn derivation_path(&self) -> &str {
        &self.json.path
    }

    /// The keystore as pretty JSON.
    pub fn to_json(&self) -> String {
        self.json.to_pretty_string()
    }

    /// Writes the keystore to a new 0600 file; never overwrites.
    pub fn write_new(&self, path: &Path) -> Result<(), KeystoreError> {
        Ok(write_new_private_file(path, self.to_json().as_bytes())?)
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn derive_key(
    kdf: &KdfParams,
    password: &Password,
) -> Result<Zeroizing<[u8; DERIVED_KEY_BYTES]>, KeystoreError> {
    let password = password.eip2335_bytes();
    let mut key = Zeroizing::new([0u8; DERIVED_KEY_BYTES]);
    match kdf {
        KdfParams::Scrypt(params) => {
            let scrypt_params = scrypt::Params::new(params.log_n(), params.r, params.p, key.len())
                .map_err(|err| KeystoreError::InvalidParameter(format!("scrypt: {err}")))?;
            scrypt::scrypt(&password, &params.salt, &scrypt_params, key.as_mut())
                .map_err(|err| KeystoreError::InvalidParameter(format!("scrypt: {err}")))?;
        }
        KdfParams::Pbkdf2(params) => {
            pbkdf2::pbkdf2_hmac::<Sha256>(&password, &params.salt, params.c, key.as_mut());
        }
    }
    Ok(key)
}

fn apply_cipher(key: &[u8; DERIVED_KEY_BYTES], iv: &[u8; 16], data: &mut [u8]) {
    // EIP-2335: the first 16 bytes of the derived key are the AES key.
    let (aes_key, _checksum_key) = key.split_at(16);
    Aes128Ctr::new(aes_key.into(), iv.into()).apply_keystream(data);
}

/// `SHA-256(DK[16..32] || cipher message)`, EIP-2335 "checksum".
fn checksum(key: &[u8; DERIVED_KEY_BYTES], ciphertext: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update(&key[16..]).chain_update(ciphertext).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_pbkdf2_and_wrong_password() {
        let secret = SecretKey::random();
        let password = Password::new("correct horse");
        let keystore = Keystore::encrypt(&secret, &password, Kdf::Pbkdf2, "").unwrap();
        let reparsed = Keystore::from_json(&keystore.to_json()).unwrap();
        let decrypted = reparsed.decrypt(&password).unwrap();
        assert_eq!(decrypted.secret.public_key(), secret.public_key());
        assert_eq!(decrypted.pubkey_kind, PubkeyKind::ChorusG2);
        assert!(matches!(
            reparsed.decrypt(&Password::new("wrong horse")),
            Err(KeystoreError::WrongPassword)
        ));
    }

    #[test]
    fn empty_password_refused() {
        let secret = SecretKey::random();
        let result = Keystore::encrypt(&secret, &Password::new("\n\t"), Kdf::Pbkdf2, "");
        assert!(matches!(result, Err(KeystoreError::EmptyPassword)));
    }
}
