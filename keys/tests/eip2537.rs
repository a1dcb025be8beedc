//! The BLS fixture the forge tests read (`contracts/test/fixtures/bls_signatures.json`),
//! generated here from fixed secret keys so that the Rust signer and the
//! Solidity verifier are checked against the same bytes and cannot drift.
//!
//! The test fails when the committed fixture differs from what this code
//! generates; `CHORUS_UPDATE_FIXTURES=1 cargo test -p chorus-keys --test eip2537`
//! rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use chorus_keys::bls::{
    AggregatePublicKey, AggregateSignature, BlsError, POP_DST, PopVerifiedKey, ProofOfPossession,
    PublicKey, SIGNATURE_DST, SecretKey, Signature,
    eip2537::{G1_BYTES, G2_BYTES, hash_to_g1_eip2537},
};
use serde_json::{Value, json};

/// Set to `1` to rewrite the fixture instead of comparing against it.
const UPDATE_ENV: &str = "CHORUS_UPDATE_FIXTURES";

/// The group order r minus one: its key is `-G2`, the negated generator the
/// contract keeps as a constant, and it cancels the key of the scalar 1.
const MINUS_ONE: &str = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000";
/// An arbitrary large scalar below r.
const LARGE: &str = "63bf2b2d0d7f1c5f4a8e9b3c2d1e0f00112233445566778899aabbccddeeff10";

/// Which keys sign the aggregate (indices into [`secrets`]): not both the
/// key of 1 and that of r - 1, whose keys would cancel.
const AGGREGATE_SIGNERS: [usize; 4] = [0, 1, 2, 4];

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/test/fixtures/bls_signatures.json")
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Test-only keys: the scalars 1 to 4, a large one and r - 1.
fn secrets() -> Vec<(String, SecretKey)> {
    let mut scalars: Vec<String> = (1u8..=4).map(|n| format!("{n:064x}")).collect();
    scalars.push(LARGE.to_owned());
    scalars.push(MINUS_ONE.to_owned());
    scalars
        .into_iter()
        .map(|scalar| {
            let key = SecretKey::from_bytes(&hex::decode(&scalar).unwrap()).unwrap();
            (format!("0x{scalar}"), key)
        })
        .collect()
}

/// The messages every key signs: text, a 32-byte digest (what the
/// attestation contract signs), and a message longer than a SHA-256 block.
fn messages() -> Vec<Vec<u8>> {
    let digest: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    let long: Vec<u8> = (0u16..200).map(|i| (i % 251) as u8).collect();
    vec![b"chorus checkpoint".to_vec(), digest, long]
}

/// Pads blst's uncompressed coordinates (48 bytes each) to EIP-2537's 64, in
/// the order given (`[1, 0, 3, 2]` turns G2's `c1, c0` into `c0, c1`).
fn pad_uncompressed(uncompressed: &[u8], order: &[usize]) -> String {
    let limbs: Vec<&[u8]> = uncompressed.chunks_exact(48).collect();
    let padded: Vec<u8> = order.iter().flat_map(|&i| [&[0u8; 16][..], limbs[i]].concat()).collect();
    hex0x(&padded)
}

/// Points on the curve but outside the prime-order subgroup (the smallest x
/// that gives one), which only PAIRING_CHECK's subgroup check catches.
fn outside_subgroup() -> (String, String) {
    let g1 = (1u8..=255)
        .find_map(|x| {
            let mut bytes = [0u8; 48];
            bytes[0] = 0x80;
            bytes[47] = x;
            let point = blst::min_sig::Signature::from_bytes(&bytes).ok()?;
            point.validate(true).is_err().then(|| pad_uncompressed(&point.serialize(), &[0, 1]))
        })
        .unwrap();
    let g2 = (1u8..=255)
        .find_map(|x| {
            let mut bytes = [0u8; 96];
            bytes[0] = 0x80;
            bytes[95] = x;
            let point = blst::min_sig::PublicKey::from_bytes(&bytes).ok()?;
            point.validate().is_err().then(|| pad_uncompressed(&point.serialize(), &[1, 0, 3, 2]))
        })
        .unwrap();
    (g1, g2)
}

fn generate() -> Value {
    let secrets = secrets();
    let messages = messages();

    let keys: Vec<Value> = secrets
        .iter()
        .map(|(scalar, sk)| {
            let public = sk.public_key();
            let compressed = public.to_bytes();
            let signatures: Vec<String> =
                messages.iter().map(|m| hex0x(&sk.sign(m).to_eip2537())).collect();
            json!({
                "secretScalar": scalar,
                "publicKey": hex0x(&public.to_eip2537()),
                "publicKeyCompressed": hex0x(&compressed),
                "proofOfPossession": hex0x(&sk.prove_possession().to_eip2537()),
                "signatures": signatures,
                // Under the signature DST, over what a PoP signs: must not pass as a PoP.
                "signatureOverCompressedKey": hex0x(&sk.sign(&compressed).to_eip2537()),
            })
        })
        .collect();

    let message_values: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "message": hex0x(m),
                "messageG1": hex0x(&hash_to_g1_eip2537(m, SIGNATURE_DST)),
            })
        })
        .collect();

    let aggregate_message = &messages[1];
    let signers: Vec<&SecretKey> = AGGREGATE_SIGNERS.iter().map(|&i| &secrets[i].1).collect();
    let verified: Vec<PopVerifiedKey> =
        signers.iter().map(|sk| sk.prove_possession().verify(&sk.public_key()).unwrap()).collect();
    let signatures: Vec<Signature> = signers.iter().map(|sk| sk.sign(aggregate_message)).collect();
    let aggregate_key = AggregatePublicKey::aggregate(&verified).unwrap();
    let aggregate_signature = AggregateSignature::aggregate(&signatures).unwrap();
    let (g1_outside_subgroup, g2_outside_subgroup) = outside_subgroup();

    json!({
        "description": "Generated by keys/tests/eip2537.rs from test-only secret keys; do not edit. \
            Points in the EIP-2537 layout; messageG1 is hash_to_g1(message, signatureDst).",
        "signatureDst": String::from_utf8(SIGNATURE_DST.to_vec()).unwrap(),
        "popDst": String::from_utf8(POP_DST.to_vec()).unwrap(),
        "g2Generator": keys[0]["publicKey"],
        "negG2Generator": keys[5]["publicKey"],
        "messages": message_values,
        "g1OutsideSubgroup": g1_outside_subgroup,
        "g2OutsideSubgroup": g2_outside_subgroup,
        "keys": keys,
        "aggregate": {
            "messageIndex": 1,
            "signers": AGGREGATE_SIGNERS,
            "publicKey": hex0x(&aggregate_key.to_eip2537()),
            "signature": hex0x(&aggregate_signature.to_eip2537()),
        },
    })
}

fn render(fixture: &Value) -> String {
    let mut text = serde_json::to_string_pretty(fixture).unwrap();
    text.push('\n');
    text
}

#[test]
fn fixture_is_up_to_date() {
    let expected = render(&generate());
    let path = fixture_path();
    if std::env::var(UPDATE_ENV).as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &expected).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err}; run {UPDATE_ENV}=1 cargo test -p chorus-keys --test eip2537",
            path.display()
        )
    });
    assert!(
        committed == expected,
        "{} is stale; run {UPDATE_ENV}=1 cargo test -p chorus-keys --test eip2537",
        path.display()
    );
}

fn unhex(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

/// The generated values verify in Rust and decode back strictly, so a
/// forge failure points at the contract, not at the fixture.
#[test]
fn fixture_verifies_in_rust() {
    let fixture = generate();
    let messages = messages();
    let keys = fixture["keys"].as_array().unwrap();
    for key in keys {
        let public = PublicKey::from_eip2537(&unhex(&key["publicKey"])).unwrap();
        assert_eq!(public.to_eip2537().len(), G2_BYTES);
        assert_eq!(public.to_bytes().to_vec(), unhex(&key["publicKeyCompressed"]));
        let pop = ProofOfPossession::from_eip2537(&unhex(&key["proofOfPossession"])).unwrap();
        pop.verify(&public).unwrap();
        for (message, signature) in messages.iter().zip(key["signatures"].as_array().unwrap()) {
            let signature = unhex(signature);
            assert_eq!(signature.len(), G1_BYTES);
            public.verify(message, &Signature::from_eip2537(&signature).unwrap()).unwrap();
        }
    }
    let aggregate = &fixture["aggregate"];
    let signature = AggregateSignature::from_bytes(
        &Signature::from_eip2537(&unhex(&aggregate["signature"])).unwrap().to_bytes(),
    )
    .unwrap();
    let signers: Vec<PopVerifiedKey> = AGGREGATE_SIGNERS
        .iter()
        .map(|&i| {
            PopVerifiedKey::from_registry_unchecked(
                PublicKey::from_eip2537(&unhex(&keys[i]["publicKey"])).unwrap(),
            )
        })
        .collect();
    signature.fast_aggregate_verify(&messages[1], &signers).unwrap();
    assert_eq!(
        unhex(&aggregate["publicKey"]),
        AggregatePublicKey::aggregate(&signers).unwrap().to_eip2537().to_vec()
    );
}

/// The off-subgroup points are on the curve (so G1ADD / G2ADD accept them)
/// and are refused by the strict decoders for the subgroup alone.
#[test]
fn outside_subgroup_points_are_what_they_claim() {
    let fixture = generate();
    assert_eq!(
        Signature::from_eip2537(&unhex(&fixture["g1OutsideSubgroup"])),
        Err(BlsError::NotInSubgroup)
    );
    assert_eq!(
        PublicKey::from_eip2537(&unhex(&fixture["g2OutsideSubgroup"])),
        Err(BlsError::NotInSubgroup)
    );
}

/// The contract derives the compressed key's sign bit (0x20) itself; the
/// fixture must exercise both values, and the key of r - 1 must be the
/// negated generator.
#[test]
fn fixture_covers_both_sign_bits() {
    let fixture = generate();
    let flags: Vec<u8> = fixture["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| unhex(&key["publicKeyCompressed"])[0] & 0xe0)
        .collect();
    assert!(flags.contains(&0x80), "{flags:?}");
    assert!(flags.contains(&0xa0), "{flags:?}");
    let generator = unhex(&fixture["g2Generator"]);
    let negated = unhex(&fixture["negG2Generator"]);
    assert_eq!(generator[..128], negated[..128], "same x");
    assert_ne!(generator[128..], negated[128..], "opposite y");
}
