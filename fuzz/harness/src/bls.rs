//! BLS12-381 signatures, public keys and proofs of possession as
//! `chorus_keys::bls` decodes them: compressed (ZCash), EIP-2537, hex and
//! JSON, strictly and with the subgroup check deferred.

use chorus_keys::bls::{
    AggregateSignature, PUBLIC_KEY_BYTES, PopVerifiedKey, ProofOfPossession, PublicKey,
    SIGNATURE_BYTES, Signature,
    deferred::{KeySum, PreparedMessage, UncheckedSignature, UncheckedSignatureSum},
};

/// Every decoder on the input.
///
/// Invariants: whatever decodes re-encodes to the input exactly (one
/// encoding per point, so duplicate detection by bytes is sound); the
/// strict and the deferred decoders agree (strict OK exactly when deferred
/// OK and its subgroup check passes, to the same point); proofs of
/// possession and aggregates decode as signatures do; EIP-2537 forms round
/// trip; hex text and JSON strings decode as their bytes do.
pub fn decode(data: &[u8]) {
    let strict = Signature::from_bytes(data);
    let unchecked = UncheckedSignature::from_bytes(data);
    if let Ok(signature) = &strict {
        assert_eq!(signature.to_bytes().as_slice(), data);
        assert_eq!(unchecked, Ok(UncheckedSignature::from(*signature)));
    }
    if let Ok(point) = &unchecked {
        assert_eq!(point.to_bytes().as_slice(), data);
        assert_eq!(point.check().ok(), strict.ok(), "deferred and strict decoding disagree");
    }
    let pop = ProofOfPossession::from_bytes(data);
    assert_eq!(pop.map(|p| p.to_bytes()), strict.map(|s| s.to_bytes()));
    let aggregate = AggregateSignature::from_bytes(data);
    assert_eq!(aggregate.map(|a| a.to_bytes()), strict.map(|s| s.to_bytes()));
    if let Ok(signature) = &strict {
        assert_eq!(Signature::from_eip2537(&signature.to_eip2537()), Ok(*signature));
    }

    let key = PublicKey::from_bytes(data);
    if let Ok(key) = &key {
        assert_eq!(key.to_bytes().as_slice(), data);
        assert_eq!(PublicKey::from_eip2537(&key.to_eip2537()), Ok(*key));
    }
    if let Ok(key) = PublicKey::from_eip2537(data) {
        assert_eq!(key.to_eip2537().as_slice(), data);
    }
    if let Ok(signature) = Signature::from_eip2537(data) {
        assert_eq!(signature.to_eip2537().as_slice(), data);
    }
    if let Ok(pop) = ProofOfPossession::from_eip2537(data) {
        assert_eq!(pop.to_eip2537().as_slice(), data);
    }
    text(data);
}

/// The hex and JSON forms: the input as text.
fn text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(signature) = text.parse::<Signature>() {
        assert_eq!(signature.to_string().parse::<Signature>(), Ok(signature));
        let json = serde_json::to_string(&signature).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Signature>(&json).ok(), Some(signature));
    }
    if let Ok(key) = text.parse::<PublicKey>() {
        assert_eq!(key.to_string().parse::<PublicKey>(), Ok(key));
    }
    if let Ok(key) = serde_json::from_str::<PublicKey>(text) {
        let json = serde_json::to_string(&key).unwrap_or_default();
        assert_eq!(serde_json::from_str::<PublicKey>(&json).ok(), Some(key));
    }
    let _ = serde_json::from_str::<ProofOfPossession>(text);
    let _ = serde_json::from_str::<AggregateSignature>(text);
}

/// A key, a signature and a message: `key (96) || signature (48) ||
/// message`; also `key || proof of possession` when nothing follows.
///
/// Invariants: the strict check (`PublicKey::verify`) and the aggregator's
/// deferred check of a one-signature sum (`PreparedMessage::verify_sum`)
/// give the same verdict; a proof of possession that verifies does not
/// verify as a signature of the key's bytes (domain separation).
pub fn verify(data: &[u8]) {
    let Some((key, rest)) = data.split_at_checked(PUBLIC_KEY_BYTES) else { return };
    let Some((signature, message)) = rest.split_at_checked(SIGNATURE_BYTES) else { return };
    let Ok(key) = PublicKey::from_bytes(key) else { return };
    if message.is_empty() {
        proof_of_possession(&key, signature);
    }
    let Ok(unchecked) = UncheckedSignature::from_bytes(signature) else { return };
    let strict = Signature::from_bytes(signature)
        .and_then(|signature| key.verify(message, &signature))
        .is_ok();
    let registered = PopVerifiedKey::from_registry_unchecked(key);
    let deferred = PreparedMessage::new(message)
        .verify_sum(&UncheckedSignatureSum::of(&unchecked), &KeySum::of(&registered))
        .is_ok();
    assert_eq!(strict, deferred, "strict and deferred verification disagree");
}

fn proof_of_possession(key: &PublicKey, proof: &[u8]) {
    let Ok(pop) = ProofOfPossession::from_bytes(proof) else { return };
    if pop.verify(key).is_ok() {
        let as_signature = Signature::from_bytes(proof);
        assert!(as_signature.is_ok_and(|s| key.verify(&key.to_bytes(), &s).is_err()));
    }
}
