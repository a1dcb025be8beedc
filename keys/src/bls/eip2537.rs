//! The EIP-2537 byte layouts of keys, signatures and hashed messages, as the
//! BLS12-381 precompiles and the Chorus contracts take them.
//!
//! EIP-2537 encodes a base-field element in 64 bytes: 16 zero bytes, then the
//! 48-byte big-endian value. A G1 point is `x || y` (128 bytes); a G2 point is
//! `x.c0 || x.c1 || y.c0 || y.c1` (256 bytes), where blst and the ZCash
//! serialisation put `c1` before `c0`. The point at infinity is all zeros.
//!
//! Decoding is as strict as the compressed decoders of [`super`]: the length,
//! the zero padding, every coordinate below the field modulus, the curve
//! equation and the prime-order subgroup are checked, and infinity is
//! refused. The padding is checked here because blst never sees it (the
//! coordinates are handed over as its 48-byte uncompressed form), and each
//! coordinate is checked to be below p here as well, so that the refusal
//! does not depend on how blst treats the ZCash flag bits of that form.
//!
//! ```
//! use chorus_keys::bls::{PublicKey, SecretKey, Signature, eip2537};
//!
//! let secret = SecretKey::random();
//! let key: [u8; eip2537::G2_BYTES] = secret.public_key().to_eip2537();
//! assert_eq!(PublicKey::from_eip2537(&key), Ok(secret.public_key()));
//! let signature = secret.sign(b"checkpoint").to_eip2537();
//! assert_eq!(Signature::from_eip2537(&signature), Ok(secret.sign(b"checkpoint")));
//! ```

use blst::min_sig;

use super::{
    AggregatePublicKey, AggregateSignature, BlsError, G1_UNCOMPRESSED_BYTES, ProofOfPossession,
    PublicKey, Signature, check_length, hash_to_g1,
};

/// Bytes of a base-field element in EIP-2537: 16 zero bytes, then 48 bytes.
pub const FP_BYTES: usize = 64;
/// Bytes of a G1 point in EIP-2537: `x || y`.
pub const G1_BYTES: usize = 2 * FP_BYTES;
/// Bytes of a G2 point in EIP-2537: `x.c0 || x.c1 || y.c0 || y.c1`.
pub const G2_BYTES: usize = 4 * FP_BYTES;

/// Bytes of a base-field element in blst's (and ZCash's) big-endian form.
const FP_VALUE_BYTES: usize = 48;
/// Zero bytes in front of each EIP-2537 base-field element.
const FP_PADDING_BYTES: usize = FP_BYTES - FP_VALUE_BYTES;
/// Bytes of an uncompressed G2 point in blst's form, `x.c1 || x.c0 || y.c1 || y.c0`.
const G2_UNCOMPRESSED_BYTES: usize = 4 * FP_VALUE_BYTES;
/// The ZCash flag for the point at infinity, in the first byte.
const ZCASH_INFINITY_FLAG: u8 = 0x40;

/// The base-field modulus p of BLS12-381, big-endian.
const FIELD_MODULUS: [u8; FP_VALUE_BYTES] = [
    0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7,
    0x64, 0x77, 0x4b, 0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24,
    0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53, 0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab,
];

/// Where each 48-byte blst limb of a G2 point goes among the four EIP-2537
/// limbs: blst writes `x.c1, x.c0, y.c1, y.c0`, EIP-2537 `x.c0, x.c1, y.c0, y.c1`.
/// The permutation swaps neighbours, so it is its own inverse.
const G2_LIMB_ORDER: [usize; 4] = [1, 0, 3, 2];

impl PublicKey {
    /// The key as an EIP-2537 G2 point (256 bytes), as the registry takes it.
    pub fn to_eip2537(&self) -> [u8; G2_BYTES] {
        g2_to_eip2537(&self.0.serialize())
    }

    /// Decodes an EIP-2537 G2 point and validates it fully: length, zero
    /// padding, coordinates below p, on the curve, in the subgroup, not
    /// infinity.
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, BlsError> {
        let uncompressed = g2_from_eip2537(bytes)?;
        min_sig::PublicKey::key_validate(&uncompressed).map(Self).map_err(BlsError::from_blst)
    }
}

impl Signature {
    /// The signature as an EIP-2537 G1 point (128 bytes).
    pub fn to_eip2537(&self) -> [u8; G1_BYTES] {
        g1_to_eip2537(&self.0.serialize())
    }

    /// Decodes an EIP-2537 G1 point and validates it fully: length, zero
    /// padding, coordinates below p, on the curve, in the subgroup, not
    /// infinity.
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, BlsError> {
        let uncompressed = g1_from_eip2537(bytes)?;
        min_sig::Signature::sig_validate(&uncompressed, true).map(Self).map_err(BlsError::from_blst)
    }
}

impl ProofOfPossession {
    /// The proof as an EIP-2537 G1 point (128 bytes), as the registry takes it.
    pub fn to_eip2537(&self) -> [u8; G1_BYTES] {
        g1_to_eip2537(&self.0.serialize())
    }

    /// Decodes an EIP-2537 G1 point and validates it as [`Signature::from_eip2537`] does.
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, BlsError> {
        Signature::from_eip2537(bytes).map(|signature| Self(signature.0))
    }
}

impl AggregatePublicKey {
    /// The sum as an EIP-2537 G2 point (256 bytes); all zeros if the keys
    /// cancel out to the point at infinity, which every verifier refuses.
    pub fn to_eip2537(&self) -> [u8; G2_BYTES] {
        g2_to_eip2537(&self.0.serialize())
    }
}

impl AggregateSignature {
    /// The sum as an EIP-2537 G1 point (128 bytes); all zeros if the
    /// signatures cancel out to the point at infinity, which every verifier
    /// refuses.
    pub fn to_eip2537(&self) -> [u8; G1_BYTES] {
        g1_to_eip2537(&self.0.serialize())
    }
}

/// Hashes `message` to G1 under `dst` (RFC 9380, `BLS12381G1_XMD:SHA-256_SSWU_RO_`)
/// and returns the point in the EIP-2537 layout: what the contracts' `hashToG1`
/// computes on chain, and the point a signature over `message` is checked against.
pub fn hash_to_g1_eip2537(message: &[u8], dst: &[u8]) -> [u8; G1_BYTES] {
    g1_to_eip2537(&hash_to_g1(message, dst))
}

/// Pads each 48-byte coordinate of an uncompressed blst G1 point to 64 bytes.
fn g1_to_eip2537(uncompressed: &[u8; G1_UNCOMPRESSED_BYTES]) -> [u8; G1_BYTES] {
    let mut out = [0u8; G1_BYTES];
    if uncompressed[0] & ZCASH_INFINITY_FLAG != 0 {
        return out;
    }
    for (limb, value) in uncompressed.chunks_exact(FP_VALUE_BYTES).enumerate() {
        out[limb * FP_BYTES + FP_PADDING_BYTES..(limb + 1) * FP_BYTES].copy_from_slice(value);
    }
    out
}

/// Pads and reorders the four coordinates of an uncompressed blst G2 point.
fn g2_to_eip2537(uncompressed: &[u8; G2_UNCOMPRESSED_BYTES]) -> [u8; G2_BYTES] {
    let mut out = [0u8; G2_BYTES];
    if uncompressed[0] & ZCASH_INFINITY_FLAG != 0 {
        return out;
    }
    for (limb, value) in uncompressed.chunks_exact(FP_VALUE_BYTES).enumerate() {
        let to = G2_LIMB_ORDER[limb];
        out[to * FP_BYTES + FP_PADDING_BYTES..(to + 1) * FP_BYTES].copy_from_slice(value);
    }
    out
}

/// Checks an EIP-2537 G1 point's length, padding and coordinates, refuses
/// infinity, and returns blst's uncompressed form for the curve and subgroup
/// checks.
fn g1_from_eip2537(bytes: &[u8]) -> Result<[u8; G1_UNCOMPRESSED_BYTES], BlsError> {
    check_length(bytes, G1_BYTES)?;
    let mut out = [0u8; G1_UNCOMPRESSED_BYTES];
    for (limb, element) in bytes.chunks_exact(FP_BYTES).enumerate() {
        out[limb * FP_VALUE_BYTES..(limb + 1) * FP_VALUE_BYTES]
            .copy_from_slice(field_element(element)?);
    }
    refuse_infinity(bytes)?;
    Ok(out)
}

/// As [`g1_from_eip2537`], for G2, also restoring blst's limb order.
fn g2_from_eip2537(bytes: &[u8]) -> Result<[u8; G2_UNCOMPRESSED_BYTES], BlsError> {
    check_length(bytes, G2_BYTES)?;
    let mut out = [0u8; G2_UNCOMPRESSED_BYTES];
    for (limb, element) in bytes.chunks_exact(FP_BYTES).enumerate() {
        let to = G2_LIMB_ORDER[limb];
        out[to * FP_VALUE_BYTES..(to + 1) * FP_VALUE_BYTES]
            .copy_from_slice(field_element(element)?);
    }
    refuse_infinity(bytes)?;
    Ok(out)
}

/// The 48-byte value of one 64-byte EIP-2537 field element, if its padding
/// is zero and the value is below p (EIP-2537, "Fine points and encoding").
fn field_element(element: &[u8]) -> Result<&[u8], BlsError> {
    let (padding, value) = element.split_at(FP_PADDING_BYTES);
    // Equal-length big-endian byte strings compare as the numbers they encode.
    if padding.iter().any(|&byte| byte != 0) || value >= FIELD_MODULUS.as_slice() {
        return Err(BlsError::BadEncoding);
    }
    Ok(value)
}

/// EIP-2537 writes the point at infinity as all zeros; it is never a valid
/// key or signature (as a pairing input it would make any check pass).
fn refuse_infinity(bytes: &[u8]) -> Result<(), BlsError> {
    if bytes.iter().all(|&byte| byte == 0) { Err(BlsError::Infinity) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bls::{POP_DST, PopVerifiedKey, SIGNATURE_DST, SecretKey};

    fn secret(scalar: u8) -> SecretKey {
        let mut bytes = [0u8; 32];
        bytes[31] = scalar;
        SecretKey::from_bytes(&bytes).unwrap()
    }

    /// The EIP-2537 G2 generator, from the EIP's own constants.
    const G2_GENERATOR_EIP2537: &str = concat!(
        "00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051",
        "c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8",
        "0000000000000000000000000000000013e02b6052719f607dacd3a088274f65",
        "596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e",
        "000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351a",
        "adfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801",
        "000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99",
        "cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be",
    );

    #[test]
    fn generator_has_the_eip_layout() {
        // 1 * G2 = G2: fixes the limb order against the EIP, not against ourselves.
        assert_eq!(hex::encode(secret(1).public_key().to_eip2537()), G2_GENERATOR_EIP2537);
    }

    #[test]
    fn round_trips() {
        let sk = SecretKey::random();
        let pk = sk.public_key();
        let sig = sk.sign(b"m");
        let pop = sk.prove_possession();
        assert_eq!(PublicKey::from_eip2537(&pk.to_eip2537()), Ok(pk));
        assert_eq!(Signature::from_eip2537(&sig.to_eip2537()), Ok(sig));
        assert_eq!(ProofOfPossession::from_eip2537(&pop.to_eip2537()), Ok(pop));
        let decoded = PublicKey::from_eip2537(&pk.to_eip2537()).unwrap();
        let decoded_sig = Signature::from_eip2537(&sig.to_eip2537()).unwrap();
        assert_eq!(decoded.verify(b"m", &decoded_sig), Ok(()));
    }

    #[test]
    fn aggregates_convert() {
        let secrets = [secret(1), secret(2), secret(3)];
        let keys: Vec<PopVerifiedKey> = secrets
            .iter()
            .map(|sk| PopVerifiedKey::from_registry_unchecked(sk.public_key()))
            .collect();
        let aggregate_key = AggregatePublicKey::aggregate(&keys).unwrap();
        // 1 + 2 + 3 = 6.
        assert_eq!(aggregate_key.to_eip2537(), secret(6).public_key().to_eip2537());
        let sigs: Vec<Signature> = secrets.iter().map(|sk| sk.sign(b"root")).collect();
        let aggregate = AggregateSignature::aggregate(&sigs).unwrap();
        assert_eq!(aggregate.to_eip2537(), secret(6).sign(b"root").to_eip2537());
    }

    #[test]
    fn cancelling_aggregates_encode_as_zeros() {
        // r - 1 is -1 mod r, so its key is -G2 and cancels the key of 1.
        let minus_one =
            hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000")
                .unwrap();
        let minus_one = SecretKey::from_bytes(&minus_one).unwrap();
        let keys = [secret(1), minus_one]
            .map(|sk| PopVerifiedKey::from_registry_unchecked(sk.public_key()));
        assert_eq!(AggregatePublicKey::aggregate(&keys).unwrap().to_eip2537(), [0u8; G2_BYTES]);
    }

    #[test]
    fn hash_matches_the_signing_path() {
        // sk * H(m) for sk = 1 is the signature itself.
        assert_eq!(hash_to_g1_eip2537(b"m", SIGNATURE_DST), secret(1).sign(b"m").to_eip2537());
        assert_ne!(hash_to_g1_eip2537(b"m", SIGNATURE_DST), hash_to_g1_eip2537(b"m", POP_DST));
    }

    #[test]
    fn wrong_lengths_refused() {
        let key = secret(2).public_key().to_eip2537();
        assert_eq!(
            PublicKey::from_eip2537(&key[..255]),
            Err(BlsError::InvalidLength { expected: G2_BYTES, got: 255 })
        );
        let sig = secret(2).sign(b"m").to_eip2537();
        assert_eq!(
            Signature::from_eip2537(&[sig.as_slice(), &[0]].concat()),
            Err(BlsError::InvalidLength { expected: G1_BYTES, got: 129 })
        );
        // The compressed and blst-uncompressed forms are not EIP-2537.
        assert!(Signature::from_eip2537(&secret(2).sign(b"m").to_bytes()).is_err());
    }

    #[test]
    fn nonzero_padding_refused_in_every_limb() {
        let key = secret(3).public_key().to_eip2537();
        for limb in 0..4 {
            for at in [0, FP_PADDING_BYTES - 1] {
                let mut bad = key;
                bad[limb * FP_BYTES + at] = 1;
                assert_eq!(
                    PublicKey::from_eip2537(&bad),
                    Err(BlsError::BadEncoding),
                    "{limb}/{at}"
                );
            }
        }
        let sig = secret(3).sign(b"m").to_eip2537();
        for limb in 0..2 {
            let mut bad = sig;
            bad[limb * FP_BYTES] = 0x80;
            assert_eq!(Signature::from_eip2537(&bad), Err(BlsError::BadEncoding), "{limb}");
        }
    }

    #[test]
    fn coordinates_at_or_above_the_modulus_refused() {
        let key = secret(4).public_key().to_eip2537();
        let sig = secret(4).sign(b"m").to_eip2537();
        for limb in 0..4 {
            let mut bad = key;
            bad[limb * FP_BYTES + FP_PADDING_BYTES..(limb + 1) * FP_BYTES]
                .copy_from_slice(&FIELD_MODULUS);
            assert_eq!(PublicKey::from_eip2537(&bad), Err(BlsError::BadEncoding), "{limb}");
        }
        // A value with a ZCash flag bit set (>= 2^381 > p), and the largest
        // 48-byte value: neither is a field element.
        let mut bad = sig;
        bad[FP_PADDING_BYTES] |= 0x20;
        assert_eq!(Signature::from_eip2537(&bad), Err(BlsError::BadEncoding));
        let mut bad = sig;
        bad[FP_PADDING_BYTES..FP_BYTES].copy_from_slice(&[0xff; FP_VALUE_BYTES]);
        assert_eq!(Signature::from_eip2537(&bad), Err(BlsError::BadEncoding));
    }

    #[test]
    fn infinity_refused() {
        assert_eq!(PublicKey::from_eip2537(&[0u8; G2_BYTES]), Err(BlsError::Infinity));
        assert_eq!(Signature::from_eip2537(&[0u8; G1_BYTES]), Err(BlsError::Infinity));
        assert_eq!(ProofOfPossession::from_eip2537(&[0u8; G1_BYTES]), Err(BlsError::Infinity));
    }

    #[test]
    fn off_curve_refused() {
        let mut key = secret(5).public_key().to_eip2537();
        key[G2_BYTES - 1] ^= 1;
        assert_eq!(PublicKey::from_eip2537(&key), Err(BlsError::NotOnCurve));
        let mut sig = secret(5).sign(b"m").to_eip2537();
        sig[G1_BYTES - 1] ^= 1;
        assert_eq!(Signature::from_eip2537(&sig), Err(BlsError::NotOnCurve));
    }

    #[test]
    fn outside_subgroup_refused() {
        // Compressed points with a small x that lie on the curve but outside
        // the subgroup (blst's `from_bytes` checks the curve, not the group).
        let g1 = (1u8..=255)
            .find_map(|x| {
                let mut bytes = [0u8; crate::bls::SIGNATURE_BYTES];
                bytes[0] = 0x80;
                bytes[crate::bls::SIGNATURE_BYTES - 1] = x;
                let point = min_sig::Signature::from_bytes(&bytes).ok()?;
                (point.validate(true).is_err()).then(|| g1_to_eip2537(&point.serialize()))
            })
            .unwrap();
        assert_eq!(Signature::from_eip2537(&g1), Err(BlsError::NotInSubgroup));
        let g2 = (1u8..=255)
            .find_map(|x| {
                let mut bytes = [0u8; crate::bls::PUBLIC_KEY_BYTES];
                bytes[0] = 0x80;
                // x.c1 = 0 (first 48 bytes), x.c0 = x (last byte).
                bytes[crate::bls::PUBLIC_KEY_BYTES - 1] = x;
                let point = min_sig::PublicKey::from_bytes(&bytes).ok()?;
                (point.validate().is_err()).then(|| g2_to_eip2537(&point.serialize()))
            })
            .unwrap();
        assert_eq!(PublicKey::from_eip2537(&g2), Err(BlsError::NotInSubgroup));
    }
}
