//! The EIP-2335 JSON format, without cryptography.
//!
//! Parsing goes in three steps, each with its own error: JSON syntax
//! (truncated or malformed), the version field, then the typed structure with
//! unknown fields refused and every length and parameter bounded.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{DERIVED_KEY_BYTES, KeystoreError};

/// The keystore version EIP-2335 defines.
const VERSION: u64 = 4;
/// The only cipher EIP-2335 defines, with its IV length.
const CIPHER: &str = "aes-128-ctr";
const IV_BYTES: usize = 16;
/// The only checksum EIP-2335 defines.
const CHECKSUM: &str = "sha256";
/// The only PRF EIP-2335 defines for PBKDF2.
const PBKDF2_PRF: &str = "hmac-sha256";
/// A BLS secret is a 32-byte scalar.
const SECRET_BYTES: usize = 32;

/// Parameters of new keystores, from the EIP-2335 examples: 2^18 for both
/// scrypt's n and PBKDF2's round count.
const DEFAULT_SCRYPT_LOG_N: u8 = 18;
const DEFAULT_SCRYPT_R: u32 = 8;
const DEFAULT_SCRYPT_P: u32 = 1;
const DEFAULT_PBKDF2_ROUNDS: u32 = 1 << 18;

/// Bounds that keep a hostile keystore from taking unbounded memory or time:
/// scrypt memory is 128 * r * (n + p) bytes, at most 1 GiB here (the EIP default
/// takes 256 MiB); PBKDF2 at most 2^24 rounds (tens of seconds).
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
const MAX_SCRYPT_P: u32 = 16;
const MAX_PBKDF2_ROUNDS: u32 = 1 << 24;
const MAX_SALT_BYTES: usize = 1024;

/// Parameters of scrypt (RFC 7914).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScryptParams {
    /// Derived key length; always 32.
    pub dklen: u32,
    /// CPU/memory cost, a power of two.
    pub n: u32,
    /// Parallelisation.
    pub p: u32,
    /// Block size.
    pub r: u32,
    /// Salt.
    #[serde(with = "hex_bytes")]
    pub salt: Vec<u8>,
}

impl ScryptParams {
    pub(super) fn eip2335_default(salt: [u8; 32]) -> Self {
        Self {
            dklen: DERIVED_KEY_BYTES as u32,
            n: 1 << DEFAULT_SCRYPT_LOG_N,
            p: DEFAULT_SCRYPT_P,
            r: DEFAULT_SCRYPT_R,
            salt: salt.to_vec(),
        }
    }

    /// log2(n); exact because bounds checks require n to be a power of two.
    pub fn log_n(&self) -> u8 {
        self.n.trailing_zeros() as u8
    }
}

/// Parameters of PBKDF2 (RFC 8018).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pbkdf2Params {
    /// Iteration count.
    pub c: u32,
    /// Derived key length; always 32.
    pub dklen: u32,
    /// Pseudo-random function; always `hmac-sha256`.
    pub prf: String,
    /// Salt.
    #[serde(with = "hex_bytes")]
    pub salt: Vec<u8>,
}

impl Pbkdf2Params {
    pub(super) fn eip2335_default(salt: [u8; 32]) -> Self {
        Self {
            c: DEFAULT_PBKDF2_ROUNDS,
            dklen: DERIVED_KEY_BYTES as u32,
            prf: PBKDF2_PRF.to_owned(),
            salt: salt.to_vec(),
        }
    }
}

/// A key derivation function with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KdfParams {
    /// scrypt.
    Scrypt(ScryptParams),
    /// PBKDF2-HMAC-SHA256.
    Pbkdf2(Pbkdf2Params),
}

impl KdfParams {
    fn function(&self) -> &'static str {
        match self {
            Self::Scrypt(_) => "scrypt",
            Self::Pbkdf2(_) => "pbkdf2",
        }
    }

    fn to_value(&self) -> Value {
        let value = match self {
            Self::Scrypt(params) => serde_json::to_value(params),
            Self::Pbkdf2(params) => serde_json::to_value(params),
        };
        value.unwrap_or(Value::Null)
    }

    /// Refuses parameters that are wrong for EIP-2335 or would cost
    /// unbounded memory or time.
    pub fn check_bounds(&self) -> Result<(), KeystoreError> {
        let invalid = |what: String| Err(KeystoreError::InvalidParameter(what));
        let (dklen, salt) = match self {
            Self::Scrypt(p) => (p.dklen, &p.salt),
            Self::Pbkdf2(p) => (p.dklen, &p.salt),
        };
        if dklen as usize != DERIVED_KEY_BYTES {
            return invalid(format!("kdf dklen is {dklen}, EIP-2335 needs {DERIVED_KEY_BYTES}"));
        }
        if salt.len() > MAX_SALT_BYTES {
            return invalid(format!("kdf salt of {} bytes is too long", salt.len()));
        }
        match self {
            Self::Scrypt(p) => {
                if p.n < 2 || !p.n.is_power_of_two() {
                    return invalid(format!("scrypt n = {} is not a power of two >= 2", p.n));
                }
                if p.p == 0 || p.p > MAX_SCRYPT_P {
                    return invalid(format!("scrypt p = {} is outside 1..={MAX_SCRYPT_P}", p.p));
                }
                // scrypt allocates 128 * r * n bytes for V and 128 * r * p for B;
                // u128 cannot overflow with u32 inputs.
                let memory = 128 * u128::from(p.r) * (u128::from(p.n) + u128::from(p.p));
                if p.r == 0 || memory > u128::from(MAX_SCRYPT_MEMORY) {
                    return invalid(format!(
                        "scrypt n = {}, r = {}, p = {} needs {memory} bytes of memory (limit {MAX_SCRYPT_MEMORY})",
                        p.n, p.r, p.p
                    ));
                }
            }
            Self::Pbkdf2(p) => {
                if p.prf != PBKDF2_PRF {
                    return invalid(format!("pbkdf2 prf {:?} is not {PBKDF2_PRF:?}", p.prf));
                }
                if p.c == 0 || p.c > MAX_PBKDF2_ROUNDS {
                    return invalid(format!(
                        "pbkdf2 c = {} is outside 1..={MAX_PBKDF2_ROUNDS}",
                        p.c
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The `crypto` object, checked.
#[derive(Debug, Clone)]
pub struct Crypto {
    /// Key derivation.
    pub kdf: KdfParams,
    /// SHA-256 checksum of the second half of the derived key and the ciphertext.
    pub checksum: [u8; 32],
    /// AES-128-CTR initialisation vector.
    pub iv: [u8; IV_BYTES],
    /// The encrypted secret.
    pub ciphertext: Vec<u8>,
}

/// A keystore, checked.
#[derive(Debug, Clone)]
pub struct KeystoreJson {
    /// Encryption.
    pub crypto: Crypto,
    /// Free text.
    pub description: Option<String>,
    /// Hex public key, empty when the keystore does not say.
    pub pubkey: String,
    /// EIP-2334 derivation path, empty when not derived.
    pub path: String,
    /// Identifier.
    pub uuid: Uuid,
}

/// The wire shape of EIP-2335, with each module's params left untyped until
/// its function is known.
mod wire {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Keystore {
        pub(super) crypto: Crypto,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub(super) description: Option<String>,
        #[serde(default)]
        pub(super) pubkey: String,
        pub(super) path: String,
        pub(super) uuid: Uuid,
        pub(super) version: u64,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Crypto {
        pub(super) kdf: Module,
        pub(super) checksum: Module,
        pub(super) cipher: Module,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Module {
        pub(super) function: String,
        pub(super) params: Map<String, Value>,
        pub(super) message: String,
    }
}

impl KeystoreJson {
    pub(super) fn new(
        kdf: KdfParams,
        checksum: [u8; 32],
        iv: [u8; IV_BYTES],
        ciphertext: Vec<u8>,
        pubkey: String,
        path: String,
    ) -> Self {
        Self {
            crypto: Crypto { kdf, checksum, iv, ciphertext },
            description: None,
            pubkey,
            path,
            uuid: Uuid::new_v4(),
        }
    }

    /// Parses and checks keystore JSON.
    pub fn parse(text: &str) -> Result<Self, KeystoreError> {
        let value: Value = serde_json::from_str(text).map_err(json_error)?;
        match value.get("version").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(other) => return Err(KeystoreError::UnsupportedVersion(other)),
            None => return Err(KeystoreError::Malformed("missing numeric field `version`".into())),
        }
        let wire: wire::Keystore = serde_json::from_value(value).map_err(json_error)?;
        Ok(Self {
            crypto: Crypto::from_wire(wire.crypto)?,
            description: wire.description,
            pubkey: wire.pubkey,
            path: wire.path,
            uuid: wire.uuid,
        })
    }

    /// Pretty-printed JSON in the EIP-2335 shape.
    pub fn to_pretty_string(&self) -> String {
        let crypto = &self.crypto;
        let module = |function: &str, params: Value, message: String| wire::Module {
            function: function.to_owned(),
            params: match params {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            message,
        };
        let wire = wire::Keystore {
            crypto: wire::Crypto {
                kdf: module(crypto.kdf.function(), crypto.kdf.to_value(), String::new()),
                checksum: module(CHECKSUM, Value::Null, hex::encode(crypto.checksum)),
                cipher: module(
                    CIPHER,
                    serde_json::json!({ "iv": hex::encode(crypto.iv) }),
                    hex::encode(&crypto.ciphertext),
                ),
            },
            description: self.description.clone(),
            pubkey: self.pubkey.clone(),
            path: self.path.clone(),
            uuid: self.uuid,
            version: VERSION,
        };
        // Serialising plain structs of strings and maps cannot fail.
        serde_json::to_string_pretty(&wire).unwrap_or_default()
    }
}

impl Crypto {
    fn from_wire(wire: wire::Crypto) -> Result<Self, KeystoreError> {
        let kdf = parse_kdf(wire.kdf)?;
        kdf.check_bounds()?;
        if wire.checksum.function != CHECKSUM {
            return Err(KeystoreError::UnsupportedChecksum(wire.checksum.function));
        }
        if !wire.checksum.params.is_empty() {
            return Err(KeystoreError::InvalidParameter("checksum params must be empty".into()));
        }
        if wire.cipher.function != CIPHER {
            return Err(KeystoreError::UnsupportedCipher(wire.cipher.function));
        }
        let checksum = fixed_hex::<32>("checksum message", &wire.checksum.message)?;
        let iv_text = wire.cipher.params.get("iv").and_then(Value::as_str).unwrap_or_default();
        if wire.cipher.params.len() != 1 || iv_text.is_empty() {
            return Err(KeystoreError::InvalidParameter(
                "cipher params must hold exactly the field `iv`".into(),
            ));
        }
        let iv = fixed_hex::<IV_BYTES>("cipher iv", iv_text)?;
        let ciphertext = fixed_hex::<SECRET_BYTES>("cipher message", &wire.cipher.message)?;
        Ok(Self { kdf, checksum, iv, ciphertext: ciphertext.to_vec() })
    }
}

fn parse_kdf(module: wire::Module) -> Result<KdfParams, KeystoreError> {
    if !module.message.is_empty() {
        return Err(KeystoreError::InvalidParameter("kdf message must be empty".into()));
    }
    let params = Value::Object(module.params);
    let invalid = |err: serde_json::Error| {
        KeystoreError::InvalidParameter(format!("{} params: {err}", module.function))
    };
    match module.function.as_str() {
        "scrypt" => serde_json::from_value(params).map(KdfParams::Scrypt).map_err(invalid),
        "pbkdf2" => serde_json::from_value(params).map(KdfParams::Pbkdf2).map_err(invalid),
        _ => Err(KeystoreError::UnsupportedKdf(module.function)),
    }
}

fn fixed_hex<const N: usize>(what: &str, text: &str) -> Result<[u8; N], KeystoreError> {
    let bytes = hex::decode(text.trim_start_matches("0x"))
        .map_err(|err| KeystoreError::InvalidParameter(format!("{what} is not hex: {err}")))?;
    bytes.as_slice().try_into().map_err(|_| {
        KeystoreError::InvalidParameter(format!("{what} has {} bytes, expected {N}", bytes.len()))
    })
}

fn json_error(err: serde_json::Error) -> KeystoreError {
    match err.classify() {
        serde_json::error::Category::Eof => KeystoreError::Truncated(err.to_string()),
        _ => KeystoreError::Malformed(err.to_string()),
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        hex::decode(text.trim_start_matches("0x")).map_err(serde::de::Error::custom)
    }
}
