//! Signatures whose subgroup check is deferred to their sum: the
//! aggregator's hot path.
//!
//! Decoding a compressed G1 signature strictly costs a square root (to
//! recover `y`, which also proves the point is on the curve) and a subgroup
//! check, and the subgroup check is most of it (BENCHMARKS.md). An aggregator
//! that collects N signatures over one message and posts only their sum needs
//! the *sum* in the prime-order subgroup, not each summand. This module lets
//! it pay the square root per signature and the subgroup check once per sum:
//!
//! - [`UncheckedSignature`]: a signature decoded with every check but the
//!   subgroup check (encoding, on the curve, not infinity). It is a separate
//!   type, never a [`Signature`]; [`UncheckedSignature::check`] is the only
//!   way from one to the other.
//! - [`UncheckedSignatureSum`] and [`KeySum`]: sums in projective
//!   coordinates, so that adding costs no field inversion; trees of subset
//!   sums are built from them.
//! - [`PreparedMessage`]: the message hashed to G1 once, and
//!   [`PreparedMessage::verify_sum`], the one check of a sum: subgroup check
//!   of the sum, then one two-pair pairing check against the summed keys.
//!
//! # Why checking only the sum is sound
//!
//! Every point `P` on the G1 curve over Fp splits uniquely as `P = S + T`,
//! `S` in the prime-order subgroup and `T` of order dividing the cofactor
//! (the group order is `r * h` with `gcd(r, h) = 1`). [`PreparedMessage::verify_sum`]
//! accepts a set of signatures exactly when both parts of their sum are
//! right: the torsion parts sum to zero (the subgroup check) and the subgroup
//! parts sum to a signature of the message by the summed keys (the pairing
//! check, on a subgroup point, so it means what it says). Both are additive,
//! so the check is a group homomorphism's kernel test: if two disjoint sets
//! pass, their union passes, and if a union fails and one part passes, the
//! other part fails. Bisection relies on exactly this.
//!
//! What the sum proves: that the sum is a valid signature of the message by
//! the summed, proof-of-possession-checked keys, which is all the L1 contract
//! checks (EIP-2537's pairing precompile subgroup-checks its inputs, so a sum
//! with a torsion part could not be posted anyway). What it does not prove:
//! that each summand alone is valid. Two summands may carry opposite
//! errors (torsion parts `T` and `-T`, or any `t` and `-t`) that cancel. A
//! single [`UncheckedSignature`] checked alone goes through
//! [`UncheckedSignature::check`] first, so a set of one is checked strictly.

use blst::{Pairing, blst_fp12, blst_p1_affine, blst_p2, blst_p2_affine, min_sig};

use super::{
    AggregatePublicKey, AggregateSignature, BlsError, PopVerifiedKey, SECRET_KEY_BYTES,
    SIGNATURE_BYTES, SIGNATURE_DST, Signature, check_length, hash_to_g1,
};

/// A G1 signature decoded without the subgroup check: the encoding is valid,
/// the point is on the curve and not infinity, but it may have a component
/// outside the prime-order subgroup.
///
/// Usable only as a summand of an [`UncheckedSignatureSum`] (whose check
/// includes the subgroup check) or through [`check`](Self::check).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UncheckedSignature(min_sig::Signature);

impl UncheckedSignature {
    /// Decodes a 48-byte compressed G1 point: length, flags, a coordinate
    /// below the field modulus, on the curve (the square root exists), not
    /// infinity. No subgroup check.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_length(bytes, SIGNATURE_BYTES)?;
        let point = min_sig::Signature::uncompress(bytes).map_err(BlsError::from_blst)?;
        if blst_p1_affine::from(point) == blst_p1_affine::default() {
            return Err(BlsError::Infinity);
        }
        Ok(Self(point))
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0.to_bytes()
    }

    /// The subgroup check this type deferred: a [`Signature`] if the point
    /// is in the prime-order subgroup.
    pub fn check(&self) -> Result<Signature, BlsError> {
        if self.0.subgroup_check() { Ok(Signature(self.0)) } else { Err(BlsError::NotInSubgroup) }
    }
}

impl From<Signature> for UncheckedSignature {
    fn from(signature: Signature) -> Self {
        Self(signature.0)
    }
}

/// A sum of [`UncheckedSignature`]s in projective coordinates. May be the
/// point at infinity (opposite summands) and may lie outside the subgroup;
/// [`PreparedMessage::verify_sum`] and [`into_aggregate`](Self::into_aggregate)
/// say which.
#[derive(Clone, Copy, Debug)]
pub struct UncheckedSignatureSum(min_sig::AggregateSignature);

impl UncheckedSignatureSum {
    /// The sum of one signature.
    pub fn of(signature: &UncheckedSignature) -> Self {
        Self(min_sig::AggregateSignature::from_signature(&signature.0))
    }

    /// Adds one signature.
    pub fn add(&mut self, signature: &UncheckedSignature) {
        // Infallible without validation; the check is deferred to the sum.
        let _ = self.0.add_signature(&signature.0, false);
    }

    /// Adds another sum.
    pub fn add_sum(&mut self, other: &Self) {
        self.0.add_aggregate(&other.0);
    }

    /// The 48-byte compressed encoding of the sum as it is (possibly
    /// infinity or outside the subgroup), e.g. to show it in an error.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0.to_signature().to_bytes()
    }

    /// The sum as an [`AggregateSignature`], if it is one: in the subgroup
    /// and not infinity (the contract refuses infinity).
    pub fn into_aggregate(self) -> Result<AggregateSignature, BlsError> {
        let point = self.0.to_signature();
        point.validate(true).map_err(BlsError::from_blst)?;
        Ok(AggregateSignature(point))
    }
}

/// A sum of [`PopVerifiedKey`]s in projective coordinates, for trees of
/// subset sums that never re-add keys. May be the point at infinity.
#[derive(Clone, Copy, Debug)]
pub struct KeySum(min_sig::AggregatePublicKey);

impl KeySum {
    /// The sum of one key.
    pub fn of(key: &PopVerifiedKey) -> Self {
        Self(min_sig::AggregatePublicKey::from_public_key(&key.0.0))
    }

    /// Adds one key.
    pub fn add_key(&mut self, key: &PopVerifiedKey) {
        // Infallible without validation; registry keys were validated.
        let _ = self.0.add_public_key(&key.0.0, false);
    }

    /// Adds another sum.
    pub fn add_sum(&mut self, other: &Self) {
        self.0.add_aggregate(&other.0);
    }

    /// The sum in affine form, as the aggregate key of a same-message
    /// aggregate (one field inversion).
    pub fn to_aggregate(&self) -> AggregatePublicKey {
        AggregatePublicKey(self.0.to_public_key())
    }
}

/// One message prepared for many checks of sums of its signatures: hashed to
/// G1 once ([`SIGNATURE_DST`]), with the negated G2 generator at hand.
#[derive(Clone, Copy, Debug)]
pub struct PreparedMessage {
    hash: blst_p1_affine,
    minus_g2: blst_p2_affine,
}

impl PreparedMessage {
    /// Hashes `message` to G1 under [`SIGNATURE_DST`].
    pub fn new(message: &[u8]) -> Self {
        let hash = match min_sig::Signature::deserialize(&hash_to_g1(message, SIGNATURE_DST)) {
            Ok(point) => blst_p1_affine::from(point),
            Err(_) => unreachable!("hash_to_g1 returns a valid uncompressed point"),
        };
        Self { hash, minus_g2: minus_g2() }
    }

    /// Whether `signatures` sum to a signature of this message by the keys
    /// summed in `keys`: the sum is in the prime-order subgroup, and
    /// `e(sum, g2) = e(H(m), keys)`, checked as one two-pair Miller loop and
    /// one final exponentiation.
    ///
    /// Infinity on both sides is accepted (`e(O, g2) = 1 = e(H(m), O)`): it
    /// keeps the check additive for bisection when keys sum to infinity; a
    /// sum to post goes through [`UncheckedSignatureSum::into_aggregate`],
    /// which refuses infinity.
    pub fn verify_sum(
        &self,
        signatures: &UncheckedSignatureSum,
        keys: &KeySum,
    ) -> Result<(), BlsError> {
        self.check_sum(signatures, keys).verdict()
    }

    /// The check of [`verify_sum`](Self::verify_sum), keeping the value in
    /// the target group so that [`SumCheck::rest`] can judge the rest of a
    /// split set without a pairing.
    pub fn check_sum(&self, signatures: &UncheckedSignatureSum, keys: &KeySum) -> SumCheck {
        let signature = signatures.0.to_signature();
        if !signature.subgroup_check() {
            return SumCheck { verdict: Err(BlsError::NotInSubgroup), value: None };
        }
        let signature = blst_p1_affine::from(signature);
        let key = blst_p2_affine::from(keys.0.to_public_key());
        let infinite = (signature == blst_p1_affine::default(), key == blst_p2_affine::default());
        match infinite {
            (true, true) => SumCheck::from_value(Ratio::one()),
            (false, false) => SumCheck::from_value(Ratio::of(self.pairing_value(&signature, &key))),
            // e(O, -g2) * e(H(m), key) = e(H(m), key) != 1, and the other
            // way round; the value is not computed (nothing derives from it).
            _ => SumCheck { verdict: Err(BlsError::VerificationFailed), value: None },
        }
    }

    /// Checks an aggregate, as [`AggregateSignature::verify_aggregate_key`]
    /// does, without hashing the message again.
    pub fn verify(
        &self,
        signature: &AggregateSignature,
        key: &AggregatePublicKey,
    ) -> Result<(), BlsError> {
        let key = blst_p2_affine::from(key.0);
        if key == blst_p2_affine::default() {
            return Err(BlsError::Infinity);
        }
        self.pairing_check(&blst_p1_affine::from(signature.0), &key)
    }

    /// `e(signature, -g2) * e(H(m), key)`, for points known to be in their
    /// subgroups and not infinity: one two-pair Miller loop and one final
    /// exponentiation.
    fn pairing_value(&self, signature: &blst_p1_affine, key: &blst_p2_affine) -> blst_fp12 {
        // Raw pairs only: the DST is not used.
        let mut pairing = Pairing::new(true, SIGNATURE_DST);
        pairing.raw_aggregate(&self.minus_g2, signature);
        pairing.raw_aggregate(key, &self.hash);
        pairing.as_fp12().final_exp()
    }

    /// `e(signature, -g2) * e(H(m), key) == 1`, for points known to be in
    /// their subgroups and not infinity.
    fn pairing_check(
        &self,
        signature: &blst_p1_affine,
        key: &blst_p2_affine,
    ) -> Result<(), BlsError> {
        // Raw pairs only: the DST is not used.
        let mut pairing = Pairing::new(true, SIGNATURE_DST);
        pairing.raw_aggregate(&self.minus_g2, signature);
        pairing.raw_aggregate(key, &self.hash);
        pairing.commit();
        if pairing.finalverify(None) { Ok(()) } else { Err(BlsError::VerificationFailed) }
    }
}

/// What checking one sum found: the verdict of
/// [`PreparedMessage::verify_sum`] and, when the sum is in the subgroup and
/// not infinity on one side only, its value `e(sum, -g2) * e(H(m), keys)` in
/// the target group (one exactly when the sum verifies).
///
/// Values are bilinear in the sums: if a set `W` is split into `P` and
/// `R = W \ P`, the value of `R` is the value of `W` divided by that of `P`,
/// so [`rest`](Self::rest) judges `R` with two multiplications instead of a
/// pairing. Bisection needs a pairing for only one half of every split.
#[derive(Clone, Copy, Debug)]
pub struct SumCheck {
    verdict: Result<(), BlsError>,
    value: Option<Ratio>,
}

impl SumCheck {
    fn from_value(value: Ratio) -> Self {
        let verdict = if value.is_one() { Ok(()) } else { Err(BlsError::VerificationFailed) };
        Self { verdict, value: Some(value) }
    }

    /// Whether the sum verified, as [`PreparedMessage::verify_sum`] says.
    pub fn verdict(&self) -> Result<(), BlsError> {
        self.verdict
    }

    /// The check of `whole` minus `part`, where `part`'s signatures and keys
    /// are a subset of `whole`'s and both were checked over the same
    /// [`PreparedMessage`]; exactly what [`PreparedMessage::verify_sum`]
    /// would answer for the rest. `None` when either value is unknown (a sum
    /// outside the subgroup, or infinity on one side): check the rest itself.
    ///
    /// Both sums in the subgroup make the rest's sum a subgroup point, and
    /// the pairing is bilinear on subgroup points, so the rest's value is
    /// `value(whole) / value(part)`.
    pub fn rest(whole: &Self, part: &Self) -> Option<Self> {
        let (whole, part) = (whole.value?, part.value?);
        Some(Self::from_value(Ratio {
            numerator: whole.numerator * part.denominator,
            denominator: whole.denominator * part.numerator,
        }))
    }
}

/// A target-group value kept as a fraction, so that division needs no
/// inversion.
#[derive(Clone, Copy, Debug)]
struct Ratio {
    numerator: blst_fp12,
    denominator: blst_fp12,
}

impl Ratio {
    /// One (`blst_fp12::default()` is one).
    fn one() -> Self {
        Self { numerator: blst_fp12::default(), denominator: blst_fp12::default() }
    }

    fn of(value: blst_fp12) -> Self {
        Self { numerator: value, denominator: blst_fp12::default() }
    }

    fn is_one(&self) -> bool {
        self.numerator == self.denominator
    }
}

/// `-g2`, the negated G2 generator, affine: the public key of the secret 1,
/// subtracted twice from itself (safe blst calls only).
fn minus_g2() -> blst_p2_affine {
    let mut one = [0u8; SECRET_KEY_BYTES];
    one[SECRET_KEY_BYTES - 1] = 1;
    let g2 = match min_sig::SecretKey::from_bytes(&one) {
        Ok(unit) => min_sig::AggregatePublicKey::from_public_key(&unit.sk_to_pk()),
        Err(_) => unreachable!("1 is a valid scalar"),
    };
    let mut minus = min_sig::AggregatePublicKey::from(blst_p2::default());
    minus.sub_aggregate(&g2);
    blst_p2_affine::from(minus.to_public_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bls::SecretKey;

    const MESSAGE: &[u8] = b"checkpoint";

    /// A point on the curve outside the subgroup: the first small `x` whose
    /// compressed encoding decodes on the curve but fails the subgroup check.
    fn torsion_point() -> UncheckedSignature {
        (1u8..=255)
            .find_map(|x| {
                let mut bytes = [0u8; SIGNATURE_BYTES];
                bytes[0] = 0x80;
                bytes[SIGNATURE_BYTES - 1] = x;
                UncheckedSignature::from_bytes(&bytes).ok().filter(|p| p.check().is_err())
            })
            .unwrap()
    }

    fn sum(signatures: &[UncheckedSignature]) -> UncheckedSignatureSum {
        let mut total = UncheckedSignatureSum::of(&signatures[0]);
        signatures[1..].iter().for_each(|s| total.add(s));
        total
    }

    fn keys(secrets: &[SecretKey]) -> KeySum {
        let key = |sk: &SecretKey| PopVerifiedKey::from_registry_unchecked(sk.public_key());
        let mut total = KeySum::of(&key(&secrets[0]));
        secrets[1..].iter().for_each(|sk| total.add_key(&key(sk)));
        total
    }

    #[test]
    fn decoding_checks_all_but_the_subgroup() {
        let signature = SecretKey::random().sign(MESSAGE);
        let unchecked = UncheckedSignature::from_bytes(&signature.to_bytes()).unwrap();
        assert_eq!(unchecked.check(), Ok(signature));
        assert_eq!(unchecked.to_bytes(), signature.to_bytes());
        let mut infinity = [0u8; SIGNATURE_BYTES];
        infinity[0] = 0xc0;
        assert_eq!(UncheckedSignature::from_bytes(&infinity), Err(BlsError::Infinity));
        assert_eq!(
            UncheckedSignature::from_bytes(&[0u8; 47]),
            Err(BlsError::InvalidLength { expected: 48, got: 47 })
        );
        let mut off_curve = [0u8; SIGNATURE_BYTES];
        off_curve[0] = 0x80;
        off_curve[SIGNATURE_BYTES - 1] = 3;
        assert!(matches!(
            UncheckedSignature::from_bytes(&off_curve),
            Err(BlsError::NotOnCurve | BlsError::BadEncoding)
        ));
        let mut uncompressed_flag = signature.to_bytes();
        uncompressed_flag[0] &= 0x7f;
        assert_eq!(UncheckedSignature::from_bytes(&uncompressed_flag), Err(BlsError::BadEncoding));
        assert_eq!(torsion_point().check(), Err(BlsError::NotInSubgroup));
    }

    #[test]
    fn sums_verify_like_aggregates() {
        let secrets: Vec<SecretKey> = (0..5).map(|_| SecretKey::random()).collect();
        let signatures: Vec<UncheckedSignature> =
            secrets.iter().map(|sk| sk.sign(MESSAGE).into()).collect();
        let prepared = PreparedMessage::new(MESSAGE);
        assert_eq!(prepared.verify_sum(&sum(&signatures), &keys(&secrets)), Ok(()));
        assert_eq!(
            prepared.verify_sum(&sum(&signatures[..4]), &keys(&secrets)),
            Err(BlsError::VerificationFailed)
        );
        assert_eq!(
            PreparedMessage::new(b"other").verify_sum(&sum(&signatures), &keys(&secrets)),
            Err(BlsError::VerificationFailed)
        );
        let aggregate = sum(&signatures).into_aggregate().unwrap();
        let key = keys(&secrets).to_aggregate();
        assert_eq!(prepared.verify(&aggregate, &key), Ok(()));
        assert_eq!(aggregate.verify_aggregate_key(MESSAGE, &key), Ok(()));
    }

    /// `-p`: the compressed encoding with the sign of `y` flipped.
    fn negated(point: &UncheckedSignature) -> UncheckedSignature {
        let mut bytes = point.to_bytes();
        bytes[0] ^= 0x20;
        UncheckedSignature::from_bytes(&bytes).unwrap()
    }

    /// The affine form of a sum, as one (unchecked) point.
    fn point(sum: UncheckedSignatureSum) -> UncheckedSignature {
        UncheckedSignature(sum.0.to_signature())
    }

    #[test]
    fn a_torsion_part_fails_the_sum_unless_it_cancels() {
        let secrets: Vec<SecretKey> = (0..2).map(|_| SecretKey::random()).collect();
        let honest: Vec<UncheckedSignature> =
            secrets.iter().map(|sk| sk.sign(MESSAGE).into()).collect();
        let prepared = PreparedMessage::new(MESSAGE);
        let torsion = torsion_point();
        // One signature with a torsion part: the sum is outside the subgroup.
        let tainted = point(sum(&[honest[0], torsion]));
        assert_eq!(tainted.check(), Err(BlsError::NotInSubgroup));
        let with_torsion = sum(&[tainted, honest[1]]);
        assert_eq!(
            prepared.verify_sum(&with_torsion, &keys(&secrets)),
            Err(BlsError::NotInSubgroup)
        );
        assert_eq!(with_torsion.into_aggregate(), Err(BlsError::NotInSubgroup));
        // The same torsion part added to one and subtracted from the other
        // cancels: the sum is the honest sum and verifies, although neither
        // summand is a signature alone.
        let opposite = point(sum(&[honest[1], negated(&torsion)]));
        assert_eq!(opposite.check(), Err(BlsError::NotInSubgroup));
        let cancelling = sum(&[tainted, opposite]);
        assert_eq!(prepared.verify_sum(&cancelling, &keys(&secrets)), Ok(()));
    }

    #[test]
    fn infinity_on_both_sides_is_additive_but_never_an_aggregate() {
        let sk = SecretKey::random();
        let signature: UncheckedSignature = sk.sign(MESSAGE).into();
        let key = PopVerifiedKey::from_registry_unchecked(sk.public_key());
        let signatures = sum(&[signature, negated(&signature)]);
        let mut keys = KeySum::of(&key);
        keys.0.sub_aggregate(&KeySum::of(&key).0);
        let prepared = PreparedMessage::new(MESSAGE);
        assert_eq!(prepared.verify_sum(&signatures, &keys), Ok(()));
        assert_eq!(
            prepared.verify_sum(&signatures, &KeySum::of(&key)),
            Err(BlsError::VerificationFailed)
        );
        assert_eq!(
            prepared.verify_sum(&UncheckedSignatureSum::of(&signature), &keys),
            Err(BlsError::VerificationFailed)
        );
        assert_eq!(signatures.into_aggregate(), Err(BlsError::Infinity));
    }

    #[test]
    fn the_rest_of_a_split_set_is_judged_without_a_pairing() {
        let secrets: Vec<SecretKey> = (0..6).map(|_| SecretKey::random()).collect();
        let mut signatures: Vec<UncheckedSignature> =
            secrets.iter().map(|sk| sk.sign(MESSAGE).into()).collect();
        let prepared = PreparedMessage::new(MESSAGE);
        let check = |range: std::ops::Range<usize>, sigs: &[UncheckedSignature]| {
            prepared.check_sum(&sum(&sigs[range.clone()]), &keys(&secrets[range]))
        };
        // All valid: the rest verifies.
        let (whole, part) = (check(0..6, &signatures), check(0..2, &signatures));
        assert!(whole.verdict().is_ok() && part.verdict().is_ok());
        assert_eq!(SumCheck::rest(&whole, &part).unwrap().verdict(), Ok(()));
        // One bad signature in the rest: the whole fails, the part verifies,
        // the rest is found failing, as checking it says.
        signatures[4] = SecretKey::random().sign(MESSAGE).into();
        let (whole, part) = (check(0..6, &signatures), check(0..2, &signatures));
        let rest = SumCheck::rest(&whole, &part).unwrap();
        assert_eq!(rest.verdict(), Err(BlsError::VerificationFailed));
        assert_eq!(check(2..6, &signatures).verdict(), rest.verdict());
        // Bad in the part only: the rest verifies; and a further split of
        // the rest is judged from the derived value.
        let rest = SumCheck::rest(&whole, &check(0..4, &signatures)).unwrap();
        assert_eq!(rest.verdict(), Err(BlsError::VerificationFailed));
        let bad = check(4..5, &signatures);
        assert_eq!(bad.verdict(), Err(BlsError::VerificationFailed));
        assert_eq!(SumCheck::rest(&rest, &bad).unwrap().verdict(), Ok(()));
        // A torsion part leaves no value to derive from.
        signatures[1] = point(sum(&[signatures[1], torsion_point()]));
        let tainted = check(0..6, &signatures);
        assert_eq!(tainted.verdict(), Err(BlsError::NotInSubgroup));
        assert!(SumCheck::rest(&tainted, &check(2..4, &signatures)).is_none());
    }
}
