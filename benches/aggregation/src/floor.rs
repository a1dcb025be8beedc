//! The blst floor: direct blst calls for the same guarantee as the
//! collector's (a sum of the N signatures, in the subgroup, verified once
//! against the sum of the keys), with nothing around them.
//!
//! The key sum is precomputed, as the collector caches it per table
//! version. Each function answers whether the aggregate verified: with 1%
//! invalid it does not, and these figures are then the cost of learning
//! that (a lower bound for also finding which signatures are bad).

use blst::{BLST_ERROR, min_sig};
use chorus_keys::bls::{PopVerifiedKey, SIGNATURE_DST};

/// The sum of the table's keys, affine, as blst takes it.
pub fn key_sum(keys: &[PopVerifiedKey]) -> min_sig::PublicKey {
    let points: Vec<min_sig::PublicKey> = keys
        .iter()
        .map(|key| min_sig::PublicKey::from_bytes(&key.public_key().to_bytes()).expect("valid"))
        .collect();
    let refs: Vec<&min_sig::PublicKey> = points.iter().collect();
    min_sig::AggregatePublicKey::aggregate(&refs, false).expect("non-empty").to_public_key()
}

fn verify(sum: &min_sig::AggregateSignature, message: &[u8], keys: &min_sig::PublicKey) -> bool {
    // The one subgroup check of the aggregate (sig_groupcheck = true).
    sum.to_signature().fast_aggregate_verify_pre_aggregated(true, message, SIGNATURE_DST, keys)
        == BLST_ERROR::BLST_SUCCESS
}

fn sum(points: &[min_sig::Signature]) -> min_sig::AggregateSignature {
    let refs: Vec<&min_sig::Signature> = points.iter().collect();
    min_sig::AggregateSignature::aggregate(&refs, false).expect("non-empty")
}

/// Every compressed signature decoded with its own subgroup check, summed,
/// one verification.
pub fn compressed_each_checked(
    signatures: &[[u8; 48]],
    message: &[u8],
    keys: &min_sig::PublicKey,
) -> bool {
    let points: Vec<min_sig::Signature> = signatures
        .iter()
        .map(|bytes| min_sig::Signature::sig_validate(bytes, true).expect("valid point"))
        .collect();
    verify(&sum(&points), message, keys)
}

/// Every compressed signature decoded (square root, on the curve) without
/// the subgroup check, summed, the sum subgroup-checked, one verification.
pub fn compressed_sum_checked(
    signatures: &[[u8; 48]],
    message: &[u8],
    keys: &min_sig::PublicKey,
) -> bool {
    let points: Vec<min_sig::Signature> = signatures
        .iter()
        .map(|bytes| min_sig::Signature::uncompress(bytes).expect("on the curve"))
        .collect();
    verify(&sum(&points), message, keys)
}

/// The same with 96-byte uncompressed signatures (on-curve check only, no
/// square root): what signatures travelling uncompressed would cost.
pub fn uncompressed_sum_checked(
    signatures: &[[u8; 96]],
    message: &[u8],
    keys: &min_sig::PublicKey,
) -> bool {
    let points: Vec<min_sig::Signature> = signatures
        .iter()
        .map(|bytes| min_sig::Signature::deserialize(bytes).expect("on the curve"))
        .collect();
    verify(&sum(&points), message, keys)
}
