//! Keys for Chorus operators: BLS12-381 signing keys and their keystores,
//! and the Ethereum (ECDSA) key an operator registers with on EigenLayer.
//!
//! - [`bls`]: a thin, checked wrapper over `blst` in the minimal-signature-size
//!   variant (signatures in G1, public keys in G2), with proofs of possession,
//!   same-message aggregation over PoP-verified keys, and batch verification.
//!   Every decoder rejects bad encodings, off-curve and off-subgroup points and
//!   infinity, so a value of these types is always valid.
//! - [`keystore`]: EIP-2335 keystores (scrypt or PBKDF2, AES-128-CTR) for BLS
//!   secrets, with every way of failing a distinct [`keystore::KeystoreError`].
//! - [`ecdsa`]: Web3 secret storage keystores for the Ethereum key, through
//!   alloy-signer-local.
//! - [`password`] and [`file`](mod@file): passwords as secrets, from a file or the
//!   environment; key files written 0600, atomically, never over another.
//!
//! Secrets ([`bls::SecretKey`], [`password::Password`]) are zeroized on drop
//! and print as `<redacted>`.
//!
//! ```
//! use chorus_keys::bls::SecretKey;
//!
//! let secret = SecretKey::random();
//! let public = secret.public_key();
//! let pop = secret.prove_possession();
//! let registered = pop.verify(&public).expect("own proof verifies");
//! let signature = secret.sign(b"checkpoint");
//! assert!(registered.public_key().verify(b"checkpoint", &signature).is_ok());
//! ```

pub mod bls;
pub mod ecdsa;
pub mod file;
pub mod keystore;
pub mod password;

/// What a JSON key file holds, told by its `version` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileKind {
    /// An EIP-2335 (version 4) BLS keystore.
    Bls,
    /// A Web3 secret storage (version 3) Ethereum keystore.
    Ecdsa,
}

impl KeyFileKind {
    /// Tells the kind of a keystore from its JSON text; `None` when the text
    /// is not JSON or has no known version.
    pub fn detect(text: &str) -> Option<Self> {
        let json: serde_json::Value = serde_json::from_str(text).ok()?;
        match json.get("version")?.as_u64()? {
            4 => Some(Self::Bls),
            3 => Some(Self::Ecdsa),
            _ => None,
        }
    }
}
