//! BLS12-381 in the minimal-signature-size variant: signatures in G1 (48 bytes
//! compressed), public keys in G2 (96 bytes compressed), through `blst`.
//!
//! Only validated values exist: every decoder checks the encoding, that the
//! point is on the curve and in the prime-order subgroup, and that it is not
//! the point at infinity. Code elsewhere never needs to re-check a
//! [`PublicKey`] or [`Signature`] it holds. The one place that defers a
//! check is [`deferred`], for the aggregator's hot path: its
//! `UncheckedSignature` is a separate type whose subgroup check comes with
//! the check of a sum, never a weaker [`Signature`].
//!
//! Rogue-key defence: aggregation over one message ([`fast_aggregate_verify`])
//! is sound only over keys whose proof of possession was checked, so it takes
//! [`PopVerifiedKey`]s, which come only from [`ProofOfPossession::verify`] (or,
//! named as dangerous, from the on-chain registry that checked the proof).
//!
//! [`fast_aggregate_verify`]: AggregateSignature::fast_aggregate_verify

use std::{fmt, str::FromStr};

use blst::{BLST_ERROR, blst_scalar, min_sig};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

pub mod deferred;
pub mod eip2537;

/// Domain separation tag for signatures: the proof-of-possession ciphersuite
/// with signatures in G1 (draft-irtf-cfrg-bls-signature-05, section 4.2.3).
pub const SIGNATURE_DST: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

/// Domain separation tag for proofs of possession (same draft, section 4.2.3).
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

/// Length of a secret key: a big-endian scalar.
pub const SECRET_KEY_BYTES: usize = 32;
/// Length of a compressed G2 public key.
pub const PUBLIC_KEY_BYTES: usize = 96;
/// Length of a compressed G1 signature (or proof of possession).
pub const SIGNATURE_BYTES: usize = 48;
/// Length of an uncompressed G1 point, `x || y`, each 48 bytes big-endian.
pub const G1_UNCOMPRESSED_BYTES: usize = 96;
/// Length of a compressed G1 public key in the minimal-pubkey-size variant
/// that Ethereum validators use.
pub const ETH_VALIDATOR_PUBKEY_BYTES: usize = 48;

/// Bits of each random scalar in batch verification. 64 bits bound the
/// chance that a forged batch passes by 2^-64 (Boneh, Drijvers, Neven).
const BATCH_RANDOM_BITS: usize = 64;

/// Why a BLS operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// The input has the wrong number of bytes.
    #[error("expected {expected} bytes, got {got}")]
    InvalidLength {
        /// Bytes the encoding needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The bytes are not a valid compressed point encoding (flag bits or a
    /// coordinate not below the field modulus).
    #[error("not a valid compressed point encoding")]
    BadEncoding,
    /// The coordinates do not satisfy the curve equation.
    #[error("point is not on the BLS12-381 curve")]
    NotOnCurve,
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("point is not in the prime-order subgroup")]
    NotInSubgroup,
    /// The point at infinity is never a valid key, signature or proof.
    #[error("the point at infinity is not accepted")]
    Infinity,
    /// A secret key must be a scalar in `1..r`.
    #[error("secret key must be a non-zero scalar below the group order")]
    InvalidSecretKey,
    /// The signature does not verify for this message and key(s).
    #[error("signature does not verify")]
    VerificationFailed,
    /// An aggregate or batch needs at least one element.
    #[error("nothing to aggregate or verify")]
    Empty,
}

impl BlsError {
    fn from_blst(err: BLST_ERROR) -> Self {
        match err {
            BLST_ERROR::BLST_POINT_NOT_ON_CURVE => Self::NotOnCurve,
            BLST_ERROR::BLST_POINT_NOT_IN_GROUP => Self::NotInSubgroup,
            BLST_ERROR::BLST_PK_IS_INFINITY => Self::Infinity,
            BLST_ERROR::BLST_VERIFY_FAIL => Self::VerificationFailed,
            BLST_ERROR::BLST_AGGR_TYPE_MISMATCH => Self::Empty,
            _ => Self::BadEncoding,
        }
    }
}

fn check_blst(err: BLST_ERROR) -> Result<(), BlsError> {
    match err {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        other => Err(BlsError::from_blst(other)),
    }
}

fn check_length(bytes: &[u8], expected: usize) -> Result<(), BlsError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(BlsError::InvalidLength { expected, got: bytes.len() })
    }
}

/// A BLS secret key. Zeroized on drop; its `Debug` output is redacted; it
/// cannot be cloned by accident.
pub struct SecretKey(min_sig::SecretKey);

impl SecretKey {
    /// A fresh key from 32 bytes of operating-system randomness, through the
    /// KeyGen of draft-irtf-cfrg-bls-signature-05 (section 2.3).
    pub fn random() -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(ikm.as_mut());
        // KeyGen fails only for key material shorter than 32 bytes.
        match min_sig::SecretKey::key_gen(ikm.as_ref(), &[]) {
            Ok(key) => Self(key),
            Err(_) => unreachable!("32 bytes of key material are always enough"),
        }
    }

    /// Decodes a 32-byte big-endian scalar; zero and values `>= r` are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_length(bytes, SECRET_KEY_BYTES)?;
        min_sig::SecretKey::from_bytes(bytes).map(Self).map_err(|_| BlsError::InvalidSecretKey)
    }

    /// The 32-byte big-endian scalar, wiped when the returned value drops.
    pub fn to_bytes(&self) -> Zeroizing<[u8; SECRET_KEY_BYTES]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The G2 public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// The compressed G1 public key of the same secret in the
    /// minimal-pubkey-size variant, as Ethereum validator keystores store it.
    /// Used only to recognise such keystores.
    pub fn eth_validator_pubkey(&self) -> [u8; ETH_VALIDATOR_PUBKEY_BYTES] {
        let scalar = self.to_bytes();
        match blst::min_pk::SecretKey::from_bytes(scalar.as_ref()) {
            Ok(key) => key.sk_to_pk().to_bytes(),
            Err(_) => unreachable!("a valid min_sig scalar is a valid min_pk scalar"),
        }
    }

    /// Signs `message` under [`SIGNATURE_DST`].
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message, SIGNATURE_DST, &[]))
    }

    /// A proof that the holder of this secret knows it, for registration.
    pub fn prove_possession(&self) -> ProofOfPossession {
        let message = self.public_key().to_bytes();
        ProofOfPossession(self.0.sign(&message, POP_DST, &[]))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Hashes `message` to G1 under `dst` (RFC 9380, `BLS12381G1_XMD:SHA-256_SSWU_RO_`)
/// and returns the affine point uncompressed, `x || y`, big-endian.
///
/// This is the hash that [`SecretKey::sign`] multiplies by the secret; it is
/// computed here as a signature with the secret scalar 1, `1 * H(m) = H(m)`,
/// so that the crate needs no `unsafe` and tests run the exact signing path.
pub fn hash_to_g1(message: &[u8], dst: &[u8]) -> [u8; G1_UNCOMPRESSED_BYTES] {
    let mut one = [0u8; SECRET_KEY_BYTES];
    one[SECRET_KEY_BYTES - 1] = 1;
    match min_sig::SecretKey::from_bytes(&one) {
        Ok(unit) => unit.sign(message, dst, &[]).serialize(),
        Err(_) => unreachable!("1 is a valid scalar"),
    }
}

/// A G2 public key: on the curve, in the subgroup, not infinity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(min_sig::PublicKey);

impl PublicKey {
    /// Decodes a 96-byte compressed G2 point and validates it fully.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_length(bytes, PUBLIC_KEY_BYTES)?;
        min_sig::PublicKey::key_validate(bytes).map(Self).map_err(BlsError::from_blst)
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        self.0.to_bytes()
    }

    /// Checks `signature` over `message` under [`SIGNATURE_DST`].
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), BlsError> {
        // Both points were validated when decoded or created.
        check_blst(signature.0.verify(false, message, SIGNATURE_DST, &[], &self.0, false))
    }
}

/// A G1 signature: on the curve, in the subgroup, not infinity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(min_sig::Signature);

impl Signature {
    /// Decodes a 48-byte compressed G1 point and validates it fully.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_length(bytes, SIGNATURE_BYTES)?;
        min_sig::Signature::sig_validate(bytes, true).map(Self).map_err(BlsError::from_blst)
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0.to_bytes()
    }
}

/// A proof of possession: the secret's signature over its own compressed
/// public key under [`POP_DST`] (draft-irtf-cfrg-bls-signature-05, 3.3.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ProofOfPossession(min_sig::Signature);

impl ProofOfPossession {
    /// Decodes a 48-byte compressed G1 point and validates it fully.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        Signature::from_bytes(bytes).map(|sig| Self(sig.0))
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0.to_bytes()
    }

    /// Checks the proof for `key`; on success the key may join same-message
    /// aggregates.
    pub fn verify(&self, key: &PublicKey) -> Result<PopVerifiedKey, BlsError> {
        let message = key.to_bytes();
        check_blst(self.0.verify(false, &message, POP_DST, &[], &key.0, false))?;
        Ok(PopVerifiedKey(*key))
    }
}

/// A public key whose proof of possession has been checked, and so may be
/// aggregated with others over one message without rogue-key risk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PopVerifiedKey(PublicKey);

impl PopVerifiedKey {
    /// Trusts that `key`'s proof of possession was checked elsewhere.
    ///
    /// Only for keys read from the Chorus registry contract, which verifies
    /// the proof on chain before it lists a key. A key from any other source
    /// must go through [`ProofOfPossession::verify`].
    pub fn from_registry_unchecked(key: PublicKey) -> Self {
        Self(key)
    }

    /// The underlying public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.0
    }
}

/// The sum of several [`PopVerifiedKey`]s, to check a same-message aggregate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AggregatePublicKey(min_sig::PublicKey);

impl AggregatePublicKey {
    /// Adds the keys; fails on an empty list.
    pub fn aggregate(keys: &[PopVerifiedKey]) -> Result<Self, BlsError> {
        let points: Vec<&min_sig::PublicKey> = keys.iter().map(|key| &key.0.0).collect();
        min_sig::AggregatePublicKey::aggregate(&points, false)
            .map(|sum| Self(sum.to_public_key()))
            .map_err(BlsError::from_blst)
    }

    /// The 96-byte compressed encoding of the sum.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        self.0.to_bytes()
    }
}

/// The sum of several [`Signature`]s.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AggregateSignature(min_sig::Signature);

impl AggregateSignature {
    /// Adds the signatures; fails on an empty list.
    pub fn aggregate(signatures: &[Signature]) -> Result<Self, BlsError> {
        let points: Vec<&min_sig::Signature> = signatures.iter().map(|sig| &sig.0).collect();
        // Each signature was subgroup-checked when decoded or created.
        min_sig::AggregateSignature::aggregate(&points, false)
            .map(|sum| Self(sum.to_signature()))
            .map_err(BlsError::from_blst)
    }

    /// Decodes a 48-byte aggregate and validates it fully.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        Signature::from_bytes(bytes).map(|sig| Self(sig.0))
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0.to_bytes()
    }

    /// Checks that every key in `keys` signed `message`.
    pub fn fast_aggregate_verify(
        &self,
        message: &[u8],
        keys: &[PopVerifiedKey],
    ) -> Result<(), BlsError> {
        self.verify_aggregate_key(message, &AggregatePublicKey::aggregate(keys)?)
    }

    /// Checks the aggregate against a precomputed sum of PoP-verified keys.
    pub fn verify_aggregate_key(
        &self,
        message: &[u8],
        key: &AggregatePublicKey,
    ) -> Result<(), BlsError> {
        check_blst(self.0.fast_aggregate_verify_pre_aggregated(
            false,
            message,
            SIGNATURE_DST,
            &key.0,
        ))
    }
}

/// One signature to check in a batch: `signature` by `public_key` over `message`.
#[derive(Clone, Copy, Debug)]
pub struct SignatureSet<'a> {
    /// The signed message.
    pub message: &'a [u8],
    /// Who signed it.
    pub public_key: &'a PublicKey,
    /// The signature.
    pub signature: &'a Signature,
}

/// Checks many signatures over distinct messages at once.
///
/// Each signature is weighted by a fresh random 64-bit scalar before the
/// pairings are combined, so invalid signatures cannot cancel each other out.
/// `Ok` means every set verifies; an error says only that at least one does
/// not (check them one by one to find which).
pub fn verify_batch(sets: &[SignatureSet<'_>]) -> Result<(), BlsError> {
    if sets.is_empty() {
        return Err(BlsError::Empty);
    }
    let messages: Vec<&[u8]> = sets.iter().map(|set| set.message).collect();
    let keys: Vec<&min_sig::PublicKey> = sets.iter().map(|set| &set.public_key.0).collect();
    let signatures: Vec<&min_sig::Signature> = sets.iter().map(|set| &set.signature.0).collect();
    let scalars: Vec<blst_scalar> = sets.iter().map(|_| random_batch_scalar()).collect();
    check_blst(min_sig::Signature::verify_multiple_aggregate_signatures(
        &messages,
        SIGNATURE_DST,
        &keys,
        false,
        &signatures,
        false,
        &scalars,
        BATCH_RANDOM_BITS,
    ))
}

fn random_batch_scalar() -> blst_scalar {
    let mut scalar = blst_scalar::default();
    let mut word = 0u64;
    // A zero weight would drop its signature from the check.
    while word == 0 {
        word = rand::rngs::OsRng.next_u64();
    }
    scalar.b[..8].copy_from_slice(&word.to_le_bytes());
    word.zeroize();
    scalar
}

/// `0x`-hex `Display`, `Debug`, `Serialize` and `Hash` from `to_bytes`.
macro_rules! hex_display {
    ($type:ty) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", hex::encode(self.to_bytes()))
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($type))
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl std::hash::Hash for $type {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.to_bytes().hash(state)
            }
        }
    };
}

/// `FromStr` and `Deserialize` from hex through the validating `from_bytes`.
macro_rules! hex_parse {
    ($type:ty) => {
        impl FromStr for $type {
            type Err = BlsError;

            /// Parses `0x`-prefixed (or bare) hex.
            fn from_str(text: &str) -> Result<Self, BlsError> {
                let digits = text.strip_prefix("0x").unwrap_or(text);
                let bytes = hex::decode(digits).map_err(|_| BlsError::BadEncoding)?;
                Self::from_bytes(&bytes)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_display!(PublicKey);
hex_display!(Signature);
hex_display!(ProofOfPossession);
hex_display!(AggregateSignature);
hex_display!(AggregatePublicKey);
hex_parse!(PublicKey);
hex_parse!(Signature);
hex_parse!(ProofOfPossession);
hex_parse!(AggregateSignature);

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(count: usize) -> Vec<SecretKey> {
        (0..count).map(|_| SecretKey::random()).collect()
    }

    fn pop_verified(secrets: &[SecretKey]) -> Vec<PopVerifiedKey> {
        secrets.iter().map(|sk| sk.prove_possession().verify(&sk.public_key()).unwrap()).collect()
    }

    #[test]
    fn sign_and_verify() {
        let sk = SecretKey::random();
        let sig = sk.sign(b"checkpoint");
        assert_eq!(sk.public_key().verify(b"checkpoint", &sig), Ok(()));
        assert_eq!(sk.public_key().verify(b"other", &sig), Err(BlsError::VerificationFailed));
        assert_eq!(
            SecretKey::random().public_key().verify(b"checkpoint", &sig),
            Err(BlsError::VerificationFailed)
        );
    }

    #[test]
    fn encodings_round_trip() {
        let sk = SecretKey::random();
        let pk = sk.public_key();
        let sig = sk.sign(b"m");
        assert_eq!(PublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
        assert_eq!(Signature::from_bytes(&sig.to_bytes()), Ok(sig));
        assert_eq!(pk.to_string().parse::<PublicKey>(), Ok(pk));
        let restored = SecretKey::from_bytes(sk.to_bytes().as_ref()).unwrap();
        assert_eq!(restored.public_key(), pk);
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
    }

    #[test]
    fn secret_keys_zero_and_order_refused() {
        assert_eq!(SecretKey::from_bytes(&[0u8; 32]).unwrap_err(), BlsError::InvalidSecretKey);
        assert_eq!(SecretKey::from_bytes(&[0xff; 32]).unwrap_err(), BlsError::InvalidSecretKey);
        assert_eq!(
            SecretKey::from_bytes(&[1u8; 31]).unwrap_err(),
            BlsError::InvalidLength { expected: 32, got: 31 }
        );
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        let sk = SecretKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn infinity_refused() {
        let mut g2_infinity = [0u8; PUBLIC_KEY_BYTES];
        g2_infinity[0] = 0xc0;
        assert_eq!(PublicKey::from_bytes(&g2_infinity), Err(BlsError::Infinity));
        let mut g1_infinity = [0u8; SIGNATURE_BYTES];
        g1_infinity[0] = 0xc0;
        assert_eq!(Signature::from_bytes(&g1_infinity), Err(BlsError::Infinity));
    }

    #[test]
    fn off_curve_and_bad_flags_refused() {
        // y^2 = 3^3 + 4 = 31 has no root in Fp, so x = 3 is not on G1.
        let mut sig = [0u8; SIGNATURE_BYTES];
        sig[0] = 0x80;
        sig[SIGNATURE_BYTES - 1] = 3;
        let off_curve = Signature::from_bytes(&sig).unwrap_err();
        assert!(matches!(off_curve, BlsError::NotOnCurve | BlsError::BadEncoding), "{off_curve:?}");
        // The compression flag is mandatory.
        let valid = SecretKey::random().sign(b"m").to_bytes();
        let mut uncompressed_flag = valid;
        uncompressed_flag[0] &= 0x7f;
        assert!(Signature::from_bytes(&uncompressed_flag).is_err());
    }

    #[test]
    fn point_outside_subgroup_refused() {
        // The G1 point with the smallest x on the curve lies outside the
        // prime-order subgroup (the cofactor is not 1); find one by scanning.
        let found = (1u8..=255).find(|&x| {
            let mut bytes = [0u8; SIGNATURE_BYTES];
            bytes[0] = 0x80;
            bytes[SIGNATURE_BYTES - 1] = x;
            Signature::from_bytes(&bytes) == Err(BlsError::NotInSubgroup)
        });
        assert!(found.is_some(), "no off-subgroup point among small x");
    }

    #[test]
    fn proof_of_possession() {
        let sk = SecretKey::random();
        let pop = sk.prove_possession();
        assert!(pop.verify(&sk.public_key()).is_ok());
        assert_eq!(
            pop.verify(&SecretKey::random().public_key()),
            Err(BlsError::VerificationFailed)
        );
        // A PoP is not a signature under the signing DST: it does not verify
        // as a signature over the key bytes, and vice versa.
        let as_signature = Signature::from_bytes(&pop.to_bytes()).unwrap();
        assert!(sk.public_key().verify(&sk.public_key().to_bytes(), &as_signature).is_err());
        let signature = sk.sign(&sk.public_key().to_bytes());
        let as_pop = ProofOfPossession::from_bytes(&signature.to_bytes()).unwrap();
        assert!(as_pop.verify(&sk.public_key()).is_err());
    }

    #[test]
    fn fast_aggregate_verify_all_and_missing_signer() {
        let secrets = keys(5);
        let verified = pop_verified(&secrets);
        let sigs: Vec<Signature> = secrets.iter().map(|sk| sk.sign(b"root")).collect();
        let aggregate = AggregateSignature::aggregate(&sigs).unwrap();
        assert_eq!(aggregate.fast_aggregate_verify(b"root", &verified), Ok(()));
        assert!(aggregate.fast_aggregate_verify(b"other", &verified).is_err());
        let partial = AggregateSignature::aggregate(&sigs[..4]).unwrap();
        assert!(partial.fast_aggregate_verify(b"root", &verified).is_err());
        assert_eq!(partial.fast_aggregate_verify(b"root", &verified[..4]), Ok(()));
        assert_eq!(AggregateSignature::aggregate(&[]), Err(BlsError::Empty));
        assert_eq!(AggregatePublicKey::aggregate(&[]), Err(BlsError::Empty));
    }

    #[test]
    fn batch_verify_finds_a_bad_set() {
        let secrets = keys(8);
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 32]).collect();
        let public: Vec<PublicKey> = secrets.iter().map(SecretKey::public_key).collect();
        let mut sigs: Vec<Signature> =
            secrets.iter().zip(&messages).map(|(sk, m)| sk.sign(m)).collect();
        let sets = |sigs: &[Signature]| -> Vec<(usize, Signature)> {
            sigs.iter().copied().enumerate().collect()
        };
        let check = |sigs: &[Signature]| {
            let owned = sets(sigs);
            let batch: Vec<SignatureSet<'_>> = owned
                .iter()
                .map(|(i, sig)| SignatureSet {
                    message: &messages[*i],
                    public_key: &public[*i],
                    signature: sig,
                })
                .collect();
            verify_batch(&batch)
        };
        assert_eq!(check(&sigs), Ok(()));
        sigs.swap(2, 3);
        assert_eq!(check(&sigs), Err(BlsError::VerificationFailed));
        assert_eq!(verify_batch(&[]), Err(BlsError::Empty));
    }

    #[test]
    fn eth_validator_pubkey_is_g1() {
        let sk = SecretKey::random();
        let g1 = sk.eth_validator_pubkey();
        assert!(blst::min_pk::PublicKey::key_validate(&g1).is_ok());
    }
}
