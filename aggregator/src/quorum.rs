//! One open checkpoint: signatures in, a verified aggregate out.
//!
//! [`SignerSet`] is an operator table prepared for verification (each key
//! decoded once, and a tree of subset sums of the keys); [`QuorumCollector`]
//! collects one checkpoint's signatures over it and, once they carry a
//! quorum of weight, verifies them optimistically as one aggregate and
//! bisects only when that fails. See the crate documentation for the flow.
//!
//! # Cost
//!
//! From N signatures as bytes to a verified aggregate (BENCHMARKS.md,
//! "Aggregation versus eigensdk-rs"): one square root per signature to
//! decode it, N point additions, one subgroup check and one two-pair pairing
//! check of the sum. When some signatures are invalid, bisection walks a
//! binary tree over table positions whose key sums are cached per table
//! version ([`SignerSet`]) and whose signature sums are computed once per
//! [`try_finish`](QuorumCollector::try_finish), so every check costs one
//! subgroup check and one pairing check, never a re-summing of keys or
//! signatures. Only one half of each split is paired: the other half's
//! value in the target group is the whole's divided by the first half's
//! ([`SumCheck::rest`], two multiplications). `k` invalid among `n` take
//! `O(k log(n / k))` pairings.
//!
//! # Deferring the subgroup check: why it stays sound
//!
//! Signatures are decoded as [`UncheckedSignature`]s: encoding, on the
//! curve, not infinity, but no subgroup check (about 40 µs of the 59 µs a
//! strict decoding costs). The check that bisection and the final aggregate
//! rely on is [`PreparedMessage::verify_sum`]: the *sum* of a set of
//! signatures is subgroup-checked and then pairing-checked against the sum of
//! their keys. Every curve point splits uniquely into a subgroup part and a
//! torsion part, and the check accepts a set exactly when the torsion parts
//! sum to zero and the subgroup parts sum to a valid signature. Both
//! conditions are additive, so the linear reasoning of bisection holds
//! exactly as with strictly decoded points (a set of one is checked strictly:
//! its sum is the point itself).
//!
//! - **What is posted on L1** is the sum of verified sets, subgroup-checked
//!   once more when it is built ([`Aggregate::signature`] is an
//!   [`AggregateSignature`], which only exists in the subgroup). The
//!   contract checks only that sum (and EIP-2537's pairing precompile
//!   refuses points outside the subgroup anyway).
//! - **A torsion part** in one signature either cancels within the verified
//!   sum (then the sum is exactly what the subgroup parts sum to, and it is
//!   valid) or fails the sum's subgroup check, and bisection isolates that
//!   signature: a leaf is checked alone, strictly, and marked
//!   [`Invalid`](SignatureStatus::Invalid).
//! - **Individual signatures** the aggregator keeps and publishes are the
//!   bytes it received. A signature marked [`Verified`](SignatureStatus::Verified)
//!   was part of a sum that verified; that it also verifies alone was true
//!   before this change only when no two summands carried cancelling errors,
//!   and it is still exactly as true now: a cancelling torsion part is one
//!   more kind of cancelling error (`σ₁ + T`, `σ₂ − T`, like `σ₁ + t`,
//!   `σ₂ − t`). Watchers verify each published signature alone (strict
//!   decoding), so such a signature is never taken as evidence; evidence
//!   (equivocation proofs) always comes from a signature verified on its own.
//!
//! # Randomisation against cancellation: not needed to decide who is counted
//!
//! Batch verification over *different* messages weights each signature by a
//! random scalar (`chorus_keys::bls::verify_batch`) so that errors cannot
//! cancel. Here every signature is over the same message and only the sum
//! matters, and the question is whether cancellation could make the
//! collector count an operator who did not sign. It cannot:
//!
//! - A verified set `S` satisfies `Σ_{i∈S} σᵢ = (Σ_{i∈S} skᵢ) · H(m)`, i.e.
//!   its sum is a valid aggregate signature of `m` by the keys of `S`. Every
//!   key's proof of possession was checked by the registry, so under the
//!   standard security of proof-of-possession aggregation (Ristenpart–Yilek;
//!   Boneh–Drijvers–Neven) nobody can produce such a sum for a set that
//!   contains an honest operator who has not signed `m`, whatever the other
//!   members of `S` send: cancelling errors can only move value between
//!   summands, never create the missing `sk_h · H(m)`.
//! - So each operator counted either signed `m` or is one of a colluding
//!   group whose members jointly produced a valid aggregate of `m` under
//!   their own keys, which is what "they signed" means for a same-message
//!   aggregate; the contract would accept that aggregate from any
//!   aggregator (the aggregator is not trusted), so no collector-side
//!   randomisation could prevent it either.
//! - Randomised checks would add per-signature accountability (each counted
//!   signature valid alone), at the price of a G1 and a G2 multi-scalar
//!   multiplication per check, and the key sums could no longer be cached.
//!   Accountability for slashing does not depend on the collector: a
//!   watcher verifies each published signature alone, and colluders could
//!   post their aggregate through their own aggregator and publish nothing.
//!
//! What cancellation can still do is attach, to an operator who did sign,
//! bytes that are not its own signature (someone who saw its signature sent
//! a cancelling pair first, in its name and in a colluder's). Its weight is
//! then counted rightly, and the published bytes do not verify alone; see
//! [`QuorumCollector::add`] for how a held signature is replaced.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use alloy::primitives::{Address, B256, U256, U512};
use chorus_contracts::{NonSigner, TableRef, table::OperatorTable};
use chorus_keys::bls::{
    AggregateSignature, BlsError, PopVerifiedKey, PublicKey, SIGNATURE_BYTES,
    deferred::{KeySum, PreparedMessage, SumCheck, UncheckedSignature, UncheckedSignatureSum},
    eip2537::G1_BYTES,
};

/// Basis points in a whole, as `ChorusAttestations.BPS`.
pub const BPS: u16 = 10_000;

/// Whether `signed` out of `total` weight meets `quorum_bps`, by the rule of
/// `ChorusAttestations.submitCheckpoint`: `signed * 10_000 >= total *
/// quorumBps` and `signed > 0`. Computed in 512 bits, so it never overflows
/// (the contract would revert instead, for weights no stake can reach).
pub fn meets_quorum(signed: U256, total: U256, quorum_bps: u16) -> bool {
    !signed.is_zero()
        && U512::from(signed) * U512::from(BPS) >= U512::from(total) * U512::from(quorum_bps)
}

/// The least weight that meets the quorum: `max(1, ceil(total * bps / 10_000))`.
pub fn needed_weight(total: U256, quorum_bps: u16) -> U256 {
    let bps = U512::from(BPS);
    let needed = (U512::from(total) * U512::from(quorum_bps) + bps - U512::from(1)) / bps;
    // `quorum_bps <= BPS`, so `needed <= total` fits.
    U256::saturating_from(needed).max(U256::from(1))
}

/// Why an operator table cannot be prepared for verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerSetError {
    /// An operator's EIP-2537 key does not decode to a valid G2 point. The
    /// registry checks keys at registration, so this means the table was
    /// read wrongly or the registry is broken; no checkpoint of this version
    /// can be verified.
    #[error("operator {operator} (table position {position}) has an invalid key: {source}")]
    BadKey {
        /// The operator.
        operator: Address,
        /// Its position in the table.
        position: usize,
        /// Why its key was refused.
        source: BlsError,
    },
    /// An operator is listed twice, so signatures cannot be matched to one
    /// weight and position.
    #[error("operator {operator} is listed at table positions {first} and {second}")]
    DuplicateOperator {
        /// The operator.
        operator: Address,
        /// Its first position.
        first: usize,
        /// Its second position.
        second: usize,
    },
}

/// Why a collector cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    /// The quorum must be in `1..=10_000` basis points, as the contract's
    /// constructor requires.
    #[error("quorum must be 1 to 10000 basis points, got {0}")]
    InvalidQuorum(u16),
}

/// One operator of a [`SignerSet`].
#[derive(Debug, Clone)]
struct Signer {
    operator: Address,
    key: PopVerifiedKey,
    weight: U256,
}

/// A complete binary tree over table positions, padded to a power of two:
/// node 1 is the root, node `i` has children `2i` and `2i + 1`, and leaf
/// `size + p` is position `p`. Bisection splits along it, so that every set
/// it checks is one node's positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tree {
    /// Leaves (a power of two, at least one).
    size: usize,
    /// Real positions (`<= size`); leaves past it are padding.
    len: usize,
}

impl Tree {
    fn new(len: usize) -> Self {
        Self { size: len.next_power_of_two().max(1), len }
    }

    /// Number of nodes plus one (index 0 is unused).
    fn nodes(&self) -> usize {
        2 * self.size
    }

    fn is_leaf(&self, node: usize) -> bool {
        node >= self.size
    }

    /// The real positions under `node`.
    fn positions(&self, node: usize) -> std::ops::Range<usize> {
        let depth = node.ilog2();
        let span = self.size >> depth;
        let start = (node - (1 << depth)) * span;
        start.min(self.len)..(start + span).min(self.len)
    }
}

/// An operator table prepared for verifying signatures: every key decoded
/// once and trusted as registry-checked, weights, an index by address, and
/// the sum of the keys under every node of the bisection tree.
///
/// Build one per table version and share it (through an [`Arc`]) between
/// the collectors of that version's checkpoints.
#[derive(Debug, Clone)]
pub struct SignerSet {
    table: OperatorTable,
    signers: Vec<Signer>,
    positions: HashMap<Address, usize>,
    tree: Tree,
    /// The sum of every key under each tree node (`None` under padding
    /// only), so that no check ever re-adds keys of a whole node.
    key_sums: Vec<Option<KeySum>>,
}

impl SignerSet {
    /// Decodes every key of `table` (EIP-2537 G2, fully validated), indexes
    /// the operators and sums the keys under every node of the bisection
    /// tree (about one G2 addition per operator, once per table version).
    ///
    /// The keys are trusted as proof-of-possession checked because the table
    /// comes from the Chorus registry, which verifies the proof on chain
    /// before listing a key (see `PopVerifiedKey::from_registry_unchecked`).
    /// Pass only tables read from the registry's `OperatorTableUpdated`
    /// events.
    pub fn new(table: OperatorTable) -> Result<Self, SignerSetError> {
        let mut signers = Vec::with_capacity(table.entries().len());
        let mut positions = HashMap::with_capacity(table.entries().len());
        for (position, entry) in table.entries().iter().enumerate() {
            let key = PublicKey::from_eip2537(&entry.pubkey).map_err(|source| {
                SignerSetError::BadKey { operator: entry.operator, position, source }
            })?;
            if let Some(first) = positions.insert(entry.operator, position) {
                return Err(SignerSetError::DuplicateOperator {
                    operator: entry.operator,
                    first,
                    second: position,
                });
            }
            signers.push(Signer {
                operator: entry.operator,
                key: PopVerifiedKey::from_registry_unchecked(key),
                weight: entry.weight,
            });
        }
        let tree = Tree::new(signers.len());
        let key_sums = sum_up(tree, |position| signers.get(position).map(|s| KeySum::of(&s.key)));
        Ok(Self { table, signers, positions, tree, key_sums })
    }

    /// The table this set was built from.
    pub fn table(&self) -> &OperatorTable {
        &self.table
    }

    /// The number of operators.
    pub fn len(&self) -> usize {
        self.signers.len()
    }

    /// Whether the table lists no operator.
    pub fn is_empty(&self) -> bool {
        self.signers.is_empty()
    }

    /// The operator's position in the table, if it is listed.
    pub fn position(&self, operator: &Address) -> Option<usize> {
        self.positions.get(operator).copied()
    }

    /// The operator's key, if it is listed.
    pub fn key(&self, operator: &Address) -> Option<&PopVerifiedKey> {
        self.position(operator).and_then(|position| self.signers.get(position)).map(|s| &s.key)
    }

    /// The operator's weight, if it is listed.
    pub fn weight(&self, operator: &Address) -> Option<U256> {
        self.position(operator).and_then(|position| self.signers.get(position)).map(|s| s.weight)
    }

    /// The sum of all weights.
    pub fn total_weight(&self) -> U256 {
        self.table.total_weight()
    }
}

/// A point sum that may be empty.
trait Summable: Copy {
    fn add_sum(&mut self, other: &Self);
}

impl Summable for KeySum {
    fn add_sum(&mut self, other: &Self) {
        KeySum::add_sum(self, other);
    }
}

impl Summable for UncheckedSignatureSum {
    fn add_sum(&mut self, other: &Self) {
        UncheckedSignatureSum::add_sum(self, other);
    }
}

fn combine<T: Summable>(left: Option<&T>, right: Option<&T>) -> Option<T> {
    match (left, right) {
        (Some(left), Some(right)) => {
            let mut sum = *left;
            sum.add_sum(right);
            Some(sum)
        }
        (Some(one), None) | (None, Some(one)) => Some(*one),
        (None, None) => None,
    }
}

/// The sum under every node of `tree`, from the leaves up (one addition per
/// node with two non-empty children).
fn sum_up<T: Summable>(tree: Tree, leaf: impl Fn(usize) -> Option<T>) -> Vec<Option<T>> {
    let mut sums = vec![None; tree.nodes()];
    for position in 0..tree.len {
        sums[tree.size + position] = leaf(position);
    }
    for node in (1..tree.size).rev() {
        sums[node] = combine(sums[2 * node].as_ref(), sums[2 * node + 1].as_ref());
    }
    sums
}

/// Where an accepted signature stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureStatus {
    /// Accepted, not yet part of a checked aggregate.
    Pending,
    /// Part of an aggregate that verified (see the module documentation for
    /// what this does and does not say about the signature alone).
    Verified,
    /// Checked on its own and found not to be the operator's signature of
    /// this checkpoint's message (including a point outside the subgroup).
    /// Its weight no longer counts.
    Invalid,
}

/// A signature accepted by [`QuorumCollector::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// The operator's weight.
    pub weight: U256,
    /// The weight of all signatures not found invalid, this one included.
    pub collected_weight: U256,
    /// Whether that weight meets the quorum, so that
    /// [`QuorumCollector::try_finish`] is worth calling.
    pub quorum_possible: bool,
    /// Whether this signature replaced one found invalid earlier.
    pub replaced_invalid: bool,
}

/// Why a signature was refused. A refused signature leaves no trace in the
/// collector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The address is not in the checkpoint's operator table.
    #[error("operator {0} is not in the operator table")]
    UnknownOperator(Address),
    /// The operator already sent exactly this signature.
    #[error("operator {0} already sent this signature")]
    Duplicate(Address),
    /// The operator already sent a different, well-formed signature that is
    /// pending or verified; the first is kept. Both are public, so a watcher
    /// can judge whether this is an equivocation.
    #[error("operator {0} already sent a different signature for this checkpoint")]
    Conflicting(Address),
    /// The bytes are not a valid compressed G1 point: wrong length or flags,
    /// a coordinate not below the field modulus, not on the curve, or the
    /// point at infinity. (Subgroup membership is checked with the sum; a
    /// point outside the subgroup ends [`Invalid`](SignatureStatus::Invalid).)
    #[error("malformed signature from operator {operator}: {reason}")]
    Malformed {
        /// The operator it claims to be from.
        operator: Address,
        /// What is wrong with it.
        #[source]
        reason: BlsError,
    },
}

/// A verified aggregate, ready to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// The message signed (`checkpoint_message`).
    pub message: B256,
    /// The aggregate signature (in the subgroup, not infinity).
    pub signature: AggregateSignature,
    /// The same, EIP-2537 encoded, as the contract takes it.
    pub signature_eip2537: [u8; G1_BYTES],
    /// The operators whose signatures it sums, in table order.
    pub signers: Vec<Address>,
    /// Their total weight.
    pub signed_weight: U256,
    /// The table version it was checked against, as a submission restates it.
    pub table: TableRef,
    /// Every operator that did not sign, with its table position.
    pub non_signers: Vec<NonSigner>,
}

/// What [`QuorumCollector::try_finish`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A quorum of valid signatures, aggregated and verified.
    Ready(Box<Aggregate>),
    /// Not yet a quorum of signatures not found invalid.
    Waiting {
        /// The weight of the signatures not found invalid.
        signed_weight: U256,
        /// The least weight that meets the quorum.
        needed_weight: U256,
    },
}

/// An accepted signature.
#[derive(Debug, Clone)]
struct Slot {
    bytes: [u8; SIGNATURE_BYTES],
    signature: UncheckedSignature,
    status: SignatureStatus,
}

/// Decodes an operator's signature. The single place that decides how
/// strictly signatures are decoded: everything but the subgroup check, which
/// every check of a sum includes (see the module documentation).
fn decode_signature(bytes: &[u8]) -> Result<UncheckedSignature, BlsError> {
    UncheckedSignature::from_bytes(bytes)
}

/// The pending signatures of one [`QuorumCollector::try_finish`], summed
/// under every node of the signer set's tree.
struct PendingSums {
    /// The sum of the pending signatures under each node (built only when
    /// the sum of all of them fails, for bisection).
    signatures: Vec<Option<UncheckedSignatureSum>>,
    /// The sum of their keys, for nodes where only some positions are
    /// pending (the others use the signer set's cached sums).
    partial_keys: HashMap<usize, KeySum>,
    /// How many signatures are pending under each node.
    counts: Vec<u32>,
}

/// What bisection already knows of a node's sum before looking at it.
// Passed by value down one recursion step at a time; boxing the check would
// allocate per node for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
enum Known {
    /// Nothing: check it (one pairing).
    Nothing,
    /// Its check, computed or derived from its parent and sibling.
    Checked(SumCheck),
    /// That it fails, without a value to derive from.
    Invalid,
}

/// The signatures of one checkpoint, collected until a quorum of weight
/// signed and verified.
///
/// Pure state, no I/O: the actor that wraps it feeds [`add`](Self::add) and
/// calls [`try_finish`](Self::try_finish) (CPU-heavy: run it off the async
/// reactor).
#[derive(Debug, Clone)]
pub struct QuorumCollector {
    signers: Arc<SignerSet>,
    message: B256,
    prepared: PreparedMessage,
    quorum_bps: u16,
    needed_weight: U256,
    /// By table position.
    slots: Vec<Option<Slot>>,
    /// The weight of pending and verified signatures.
    collected_weight: U256,
    /// The sum of every verified signature (verified sets only grow).
    verified_sum: Option<UncheckedSignatureSum>,
    /// The last aggregate built, until a signature is added.
    ready: Option<Aggregate>,
    verifications: usize,
}

impl QuorumCollector {
    /// Opens a checkpoint over `message` for the operators of `signers`,
    /// needing `quorum_bps` basis points of their weight.
    pub fn new(
        signers: Arc<SignerSet>,
        message: B256,
        quorum_bps: u16,
    ) -> Result<Self, QuorumError> {
        if quorum_bps == 0 || quorum_bps > BPS {
            return Err(QuorumError::InvalidQuorum(quorum_bps));
        }
        let needed_weight = needed_weight(signers.total_weight(), quorum_bps);
        let slots = vec![None; signers.len()];
        Ok(Self {
            signers,
            message,
            prepared: PreparedMessage::new(message.as_slice()),
            quorum_bps,
            needed_weight,
            slots,
            collected_weight: U256::ZERO,
            verified_sum: None,
            ready: None,
            verifications: 0,
        })
    }

    /// Takes `operator`'s 48-byte compressed signature.
    ///
    /// Checks, in order: the operator is in the table; it is not the same
    /// bytes again; the bytes decode (encoding, on the curve, not infinity;
    /// the subgroup check comes with the sum); the operator has no other
    /// valid signature. Signatures carry no transport authentication, so a
    /// signature in an operator's name may have come from anyone: a new one
    /// replaces one found [`Invalid`](SignatureStatus::Invalid), and when a
    /// different one arrives while the held one is still
    /// [`Pending`](SignatureStatus::Pending), the held one is checked alone
    /// (subgroup check and one pairing, at most once per held signature) and
    /// replaced if it is invalid. Junk sent first cannot hold an operator's
    /// place.
    ///
    /// Otherwise no pairing is computed; the signature is
    /// [`Pending`](SignatureStatus::Pending) until
    /// [`verify_pending`](Self::verify_pending) or [`try_finish`](Self::try_finish).
    pub fn add(&mut self, operator: Address, signature: &[u8]) -> Result<Added, Rejected> {
        let position =
            self.signers.position(&operator).ok_or(Rejected::UnknownOperator(operator))?;
        let (slot, signer) =
            match (self.slots.get_mut(position), self.signers.signers.get(position)) {
                (Some(slot), Some(signer)) => (slot, signer),
                _ => unreachable!("positions index both the signers and the slots"),
            };
        let mut replaced_invalid = match slot {
            Some(held) if held.bytes.as_slice() == signature => {
                return Err(Rejected::Duplicate(operator));
            }
            Some(held) => held.status == SignatureStatus::Invalid,
            None => false,
        };
        let decoded = decode_signature(signature)
            .map_err(|reason| Rejected::Malformed { operator, reason })?;
        if let Some(held) = slot.as_mut().filter(|held| held.status == SignatureStatus::Pending) {
            self.verifications += 1;
            let alone = UncheckedSignatureSum::of(&held.signature);
            if self.prepared.verify_sum(&alone, &KeySum::of(&signer.key)).is_ok() {
                held.status = SignatureStatus::Verified;
                add_to(&mut self.verified_sum, &alone);
            } else {
                held.status = SignatureStatus::Invalid;
                self.collected_weight = self.collected_weight.saturating_sub(signer.weight);
                replaced_invalid = true;
            }
        }
        if slot.is_some() && !replaced_invalid {
            return Err(Rejected::Conflicting(operator));
        }
        *slot = Some(Slot {
            bytes: decoded.to_bytes(),
            signature: decoded,
            status: SignatureStatus::Pending,
        });
        self.collected_weight = self.collected_weight.saturating_add(signer.weight);
        self.ready = None;
        Ok(Added {
            weight: signer.weight,
            collected_weight: self.collected_weight,
            quorum_possible: self.reaches(self.collected_weight),
            replaced_invalid,
        })
    }

    /// Aggregates and verifies once the signatures not found invalid carry a
    /// quorum; below it, computes nothing.
    ///
    /// The pending signatures are summed and checked with one subgroup
    /// check and one pairing check; if that fails, bisection along the
    /// signer set's tree marks each pending signature `Verified` or `Invalid`
    /// in `O(k log(n / k))` checks for `k` invalid among `n`. The aggregate
    /// then sums every verified signature (a sum of sums that each verified,
    /// so it verifies too) and subgroup-checks it once more. Calling again
    /// without an intervening [`add`](Self::add) returns the same aggregate
    /// without new work.
    ///
    /// If the verified signatures sum to the point at infinity (possible
    /// only if the signers' registered keys sum to it, which the contract
    /// cannot accept), the answer is [`Outcome::Waiting`] until another
    /// signature changes the sum.
    pub fn try_finish(&mut self) -> Outcome {
        if let Some(ready) = &self.ready {
            return Outcome::Ready(Box::new(ready.clone()));
        }
        if !self.reaches(self.collected_weight) {
            return self.waiting();
        }
        self.verify_pending();
        if !self.reaches(self.collected_weight) {
            return self.waiting();
        }
        match self.build() {
            Some(aggregate) => {
                self.ready = Some(aggregate.clone());
                Outcome::Ready(Box::new(aggregate))
            }
            None => self.waiting(),
        }
    }

    /// Checks every pending signature now, quorum or not: their sum with
    /// one subgroup check and one pairing check and, if that fails,
    /// bisection, so that each ends `Verified` or `Invalid`. With nothing
    /// pending it computes nothing.
    ///
    /// The service calls it on whatever arrived while the previous check
    /// ran, so that each answer says whether the signature verified at the
    /// cost of one pairing per batch, not per signature;
    /// [`try_finish`](Self::try_finish) calls it once the quorum is in
    /// reach.
    pub fn verify_pending(&mut self) {
        let mut sums = self.pending_sums();
        let Some((signatures, keys)) = self.pending_root(&sums) else { return };
        // The common case, all valid: one check of the sum, added up
        // directly; the tree of signature sums only if it fails.
        self.verifications += 1;
        let check = self.prepared.check_sum(&signatures, &keys);
        if check.verdict().is_ok() {
            add_to(&mut self.verified_sum, &signatures);
            self.set_status(1, SignatureStatus::Verified);
        } else {
            sums.signatures =
                sum_up(self.signers.tree, |p| self.pending(p).map(UncheckedSignatureSum::of));
            self.bisect(&sums, 1, Known::Checked(check));
        }
    }

    /// What became of `signature`, sent in `operator`'s name and accepted
    /// by [`add`](Self::add): its status while the operator's place still
    /// holds it, else `Invalid` (a held signature is replaced only once it
    /// is found invalid).
    pub fn verdict(&self, operator: &Address, signature: &[u8]) -> SignatureStatus {
        match self.slot(operator) {
            Some(slot) if slot.bytes.as_slice() == signature => slot.status,
            _ => SignatureStatus::Invalid,
        }
    }

    /// The status of `operator`'s accepted signature, if any.
    pub fn status(&self, operator: &Address) -> Option<SignatureStatus> {
        self.slot(operator).map(|slot| slot.status)
    }

    /// `operator`'s accepted signature, if any (they are public), as
    /// received: a valid point, subgroup-checked only if it was checked
    /// alone (see the module documentation).
    pub fn signature(&self, operator: &Address) -> Option<&UncheckedSignature> {
        self.slot(operator).map(|slot| &slot.signature)
    }

    /// Every accepted signature's operator and status, in table order.
    pub fn results(&self) -> impl Iterator<Item = (Address, SignatureStatus)> + '_ {
        self.signers
            .signers
            .iter()
            .zip(&self.slots)
            .filter_map(|(signer, slot)| slot.as_ref().map(|s| (signer.operator, s.status)))
    }

    /// The weight of the signatures not found invalid.
    pub fn collected_weight(&self) -> U256 {
        self.collected_weight
    }

    /// The least weight that meets the quorum.
    pub fn needed_weight(&self) -> U256 {
        self.needed_weight
    }

    /// The quorum in basis points.
    pub fn quorum_bps(&self) -> u16 {
        self.quorum_bps
    }

    /// The message being signed.
    pub fn message(&self) -> B256 {
        self.message
    }

    /// The operators this checkpoint is signed by.
    pub fn signer_set(&self) -> &Arc<SignerSet> {
        &self.signers
    }

    /// Pairing checks run so far (for tests and metrics).
    pub fn verifications(&self) -> usize {
        self.verifications
    }

    fn slot(&self, operator: &Address) -> Option<&Slot> {
        self.signers.position(operator).and_then(|position| self.slots.get(position)?.as_ref())
    }

    fn reaches(&self, weight: U256) -> bool {
        let reaches = weight >= self.needed_weight;
        debug_assert_eq!(
            reaches,
            meets_quorum(weight, self.signers.total_weight(), self.quorum_bps),
            "the precomputed threshold must agree with the contract's rule"
        );
        reaches
    }

    fn waiting(&self) -> Outcome {
        Outcome::Waiting { signed_weight: self.collected_weight, needed_weight: self.needed_weight }
    }

    fn pending(&self, position: usize) -> Option<&UncheckedSignature> {
        self.slots
            .get(position)?
            .as_ref()
            .filter(|slot| slot.status == SignatureStatus::Pending)
            .map(|slot| &slot.signature)
    }

    /// Sums the pending signatures under every tree node, counts them, and
    /// sums the keys of nodes where only some positions are pending (one
    /// addition per such node with two non-empty children; fully pending
    /// nodes use the cached sums).
    fn pending_sums(&self) -> PendingSums {
        let tree = self.signers.tree;
        let mut counts = vec![0u32; tree.nodes()];
        for position in 0..tree.len {
            counts[tree.size + position] = u32::from(self.pending(position).is_some());
        }
        for node in (1..tree.size).rev() {
            counts[node] = counts[2 * node] + counts[2 * node + 1];
        }
        let mut sums = PendingSums { signatures: Vec::new(), partial_keys: HashMap::new(), counts };
        for node in (1..tree.size).rev() {
            if self.is_partial(&sums, node) {
                let sum = combine(
                    self.pending_keys(&sums, 2 * node).as_ref(),
                    self.pending_keys(&sums, 2 * node + 1).as_ref(),
                );
                if let Some(sum) = sum {
                    sums.partial_keys.insert(node, sum);
                }
            }
        }
        sums
    }

    /// The sum of every pending signature (one mixed addition each) and of
    /// their keys, if any is pending.
    fn pending_root(&self, sums: &PendingSums) -> Option<(UncheckedSignatureSum, KeySum)> {
        let keys = self.pending_keys(sums, 1)?;
        let mut pending = (0..self.slots.len()).filter_map(|position| self.pending(position));
        let mut signatures = UncheckedSignatureSum::of(pending.next()?);
        pending.for_each(|signature| signatures.add(signature));
        Some((signatures, keys))
    }

    /// Whether some but not all positions under `node` are pending.
    fn is_partial(&self, sums: &PendingSums, node: usize) -> bool {
        let count = sums.counts.get(node).copied().unwrap_or(0) as usize;
        count > 0 && count < self.signers.tree.positions(node).len()
    }

    /// The sum of the keys of the pending positions under `node`.
    fn pending_keys(&self, sums: &PendingSums, node: usize) -> Option<KeySum> {
        if sums.counts.get(node).is_none_or(|count| *count == 0) {
            None
        } else if self.is_partial(sums, node) {
            sums.partial_keys.get(&node).copied()
        } else {
            self.signers.key_sums.get(node).copied().flatten()
        }
    }

    /// Marks every pending signature under `node` verified or invalid;
    /// returns whether all were valid. `known`: what is already known of the
    /// node's sum (derived from its parent and sibling, or it is its
    /// parent's only pending half), so that it is not checked again.
    fn bisect(&mut self, sums: &PendingSums, node: usize, known: Known) -> bool {
        let tree = self.signers.tree;
        let count = |node: usize| sums.counts.get(node).copied().unwrap_or(0);
        if count(node) == 0 {
            return true;
        }
        let check = match known {
            Known::Checked(check) => Some(check),
            Known::Invalid => None,
            Known::Nothing => Some(self.check_node(sums, node)),
        };
        if check.is_some_and(|check| check.verdict().is_ok()) {
            self.mark(sums, node, SignatureStatus::Verified);
            return true;
        }
        if tree.is_leaf(node) {
            self.mark(sums, node, SignatureStatus::Invalid);
            return false;
        }
        let (left, right) = (2 * node, 2 * node + 1);
        let same = check.map_or(Known::Invalid, Known::Checked);
        if count(right) == 0 {
            return self.bisect(sums, left, same);
        }
        if count(left) == 0 {
            return self.bisect(sums, right, same);
        }
        let left_check = self.check_node(sums, left);
        let left_valid = self.bisect(sums, left, Known::Checked(left_check));
        // The check is additive: the right half's value is the whole's
        // divided by the left's, a comparison instead of a pairing. Without
        // values (a torsion part), a verifying left half still says that the
        // right one fails.
        let right_known = match check.and_then(|whole| SumCheck::rest(&whole, &left_check)) {
            Some(derived) => Known::Checked(derived),
            None if left_valid => Known::Invalid,
            None => Known::Nothing,
        };
        self.bisect(sums, right, right_known);
        false
    }

    /// One check of the pending signatures under `node` (a pairing): their
    /// sum in the subgroup and a signature of the message by their summed
    /// keys.
    fn check_node(&mut self, sums: &PendingSums, node: usize) -> SumCheck {
        self.verifications += 1;
        match (sums.signatures.get(node).copied().flatten(), self.pending_keys(sums, node)) {
            (Some(signatures), Some(keys)) => self.prepared.check_sum(&signatures, &keys),
            // Only for a node without pending signatures, never checked.
            _ => unreachable!("bisection checks only nodes with pending signatures"),
        }
    }

    /// Sets the status of every pending signature under `node`: verified
    /// ones join the verified sum; invalid ones lose their weight.
    fn mark(&mut self, sums: &PendingSums, node: usize, status: SignatureStatus) {
        if status == SignatureStatus::Verified
            && let Some(sum) = sums.signatures.get(node).copied().flatten()
        {
            add_to(&mut self.verified_sum, &sum);
        }
        self.set_status(node, status);
    }

    /// Sets the status of every pending signature under `node` (the caller
    /// adds verified ones to the verified sum).
    fn set_status(&mut self, node: usize, status: SignatureStatus) {
        for position in self.signers.tree.positions(node) {
            let Some(Some(slot)) = self.slots.get_mut(position) else { continue };
            if slot.status != SignatureStatus::Pending {
                continue;
            }
            slot.status = status;
            if status == SignatureStatus::Invalid {
                let weight = self.signers.signers.get(position).map_or(U256::ZERO, |s| s.weight);
                self.collected_weight = self.collected_weight.saturating_sub(weight);
            }
        }
    }

    /// The aggregate of every verified signature, from their running sum
    /// (subgroup-checked again here). Called only when their weight meets
    /// the quorum, hence is positive; `None` only if they sum to infinity.
    fn build(&self) -> Option<Aggregate> {
        let mut signers = Vec::new();
        let mut signed_weight = U256::ZERO;
        for (signer, slot) in self.signers.signers.iter().zip(&self.slots) {
            if slot.as_ref().is_some_and(|s| s.status == SignatureStatus::Verified) {
                signers.push(signer.operator);
                signed_weight = signed_weight.saturating_add(signer.weight);
            }
        }
        debug_assert_eq!(signed_weight, self.collected_weight, "nothing pending after bisection");
        let signature = self.verified_sum?.into_aggregate().ok()?;
        debug_assert!(
            {
                let keys: Vec<PopVerifiedKey> = self
                    .signers
                    .signers
                    .iter()
                    .zip(&self.slots)
                    .filter(|(_, slot)| {
                        slot.as_ref().is_some_and(|s| s.status == SignatureStatus::Verified)
                    })
                    .map(|(signer, _)| signer.key)
                    .collect();
                signature.fast_aggregate_verify(self.message.as_slice(), &keys).is_ok()
            },
            "a sum of verified sums verifies"
        );
        let table = self.signers.table();
        let signer_set: HashSet<Address> = signers.iter().copied().collect();
        Some(Aggregate {
            message: self.message,
            signature,
            signature_eip2537: signature.to_eip2537(),
            signers,
            signed_weight,
            table: table.table_ref(),
            non_signers: table.non_signers(&signer_set),
        })
    }
}

/// Adds `sum` to a running sum that may still be empty.
fn add_to(total: &mut Option<UncheckedSignatureSum>, sum: &UncheckedSignatureSum) {
    match total {
        Some(total) => total.add_sum(sum),
        None => *total = Some(*sum),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloy::primitives::Bytes;
    use chorus_contracts::IChorusRegistry::OperatorTableUpdated;
    use chorus_keys::bls::{AggregatePublicKey, SecretKey};

    const QUORUM_BPS: u16 = 6_667;

    /// Operators with keys and weights, their signer set, and a message;
    /// also used by the service's unit tests.
    pub(crate) struct Fixture {
        pub(crate) secrets: Vec<SecretKey>,
        pub(crate) operators: Vec<Address>,
        pub(crate) set: Arc<SignerSet>,
        pub(crate) message: B256,
    }

    fn operator(i: usize) -> Address {
        Address::left_padding_from(&(i as u64 + 1).to_be_bytes())
    }

    fn event(pubkeys: Vec<Bytes>, weights: Vec<U256>) -> OperatorTableUpdated {
        OperatorTableUpdated {
            version: 7,
            apk: Bytes::from(vec![0; 256]),
            totalWeight: weights.iter().sum(),
            leaves: Address::repeat_byte(0xee),
            operators: (0..weights.len()).map(operator).collect(),
            pubkeys,
            weights,
        }
    }

    pub(crate) fn fixture(weights: &[u64]) -> Fixture {
        let secrets: Vec<SecretKey> = weights.iter().map(|_| SecretKey::random()).collect();
        let pubkeys =
            secrets.iter().map(|sk| Bytes::from(sk.public_key().to_eip2537().to_vec())).collect();
        let weights = weights.iter().map(|w| U256::from(*w)).collect();
        let table = OperatorTable::from_event(&event(pubkeys, weights)).unwrap();
        let operators = (0..secrets.len()).map(operator).collect();
        let set = Arc::new(SignerSet::new(table).unwrap());
        Fixture { secrets, operators, set, message: B256::repeat_byte(0x42) }
    }

    impl Fixture {
        fn collector(&self, quorum_bps: u16) -> QuorumCollector {
            QuorumCollector::new(self.set.clone(), self.message, quorum_bps).unwrap()
        }

        fn signature(&self, i: usize) -> [u8; SIGNATURE_BYTES] {
            self.secrets[i].sign(self.message.as_slice()).to_bytes()
        }

        fn add(&self, collector: &mut QuorumCollector, i: usize) -> Added {
            collector.add(self.operators[i], &self.signature(i)).unwrap()
        }

        /// The aggregate checked from scratch against the signers' own keys.
        fn check_independently(&self, aggregate: &Aggregate) {
            let keys: Vec<PopVerifiedKey> =
                aggregate.signers.iter().map(|op| *self.set.key(op).unwrap()).collect();
            let key = AggregatePublicKey::aggregate(&keys).unwrap();
            assert_eq!(
                aggregate.signature.verify_aggregate_key(self.message.as_slice(), &key),
                Ok(())
            );
            assert_eq!(aggregate.signature_eip2537, aggregate.signature.to_eip2537());
            let signers: HashSet<Address> = aggregate.signers.iter().copied().collect();
            assert_eq!(aggregate.non_signers, self.set.table().non_signers(&signers));
            assert_eq!(aggregate.signed_weight, self.set.table().signed_weight(&signers));
            assert_eq!(aggregate.table, self.set.table().table_ref());
            assert_eq!(aggregate.message, self.message);
        }
    }

    fn ready(outcome: Outcome) -> Aggregate {
        match outcome {
            Outcome::Ready(aggregate) => *aggregate,
            waiting => panic!("expected an aggregate, got {waiting:?}"),
        }
    }

    #[test]
    fn all_valid_reach_quorum_with_one_verification() {
        let f = fixture(&[10; 16]);
        let mut collector = f.collector(QUORUM_BPS);
        for i in 0..16 {
            f.add(&mut collector, i);
        }
        let aggregate = ready(collector.try_finish());
        assert_eq!(collector.verifications(), 1);
        assert_eq!(aggregate.signers, f.operators);
        assert!(aggregate.non_signers.is_empty());
        f.check_independently(&aggregate);
        assert!(collector.results().all(|(_, status)| status == SignatureStatus::Verified));
        // Asking again costs nothing.
        assert_eq!(ready(collector.try_finish()), aggregate);
        assert_eq!(collector.verifications(), 1);
    }

    #[test]
    fn exactly_at_quorum_and_one_below() {
        // Total 10_000 at 60%: 6_000 is exactly the quorum.
        let f = fixture(&[3_000, 3_000, 2_999, 1_001]);
        assert!(meets_quorum(U256::from(6_000), U256::from(10_000), 6_000));
        assert!(!meets_quorum(U256::from(5_999), U256::from(10_000), 6_000));

        let mut below = f.collector(6_000);
        f.add(&mut below, 0);
        let added = f.add(&mut below, 2);
        assert!(!added.quorum_possible);
        assert_eq!(
            below.try_finish(),
            Outcome::Waiting { signed_weight: U256::from(5_999), needed_weight: U256::from(6_000) }
        );
        assert_eq!(below.verifications(), 0, "nothing is verified below the quorum");
        assert_eq!(below.status(&f.operators[0]), Some(SignatureStatus::Pending));

        let mut exact = f.collector(6_000);
        f.add(&mut exact, 0);
        assert!(f.add(&mut exact, 1).quorum_possible);
        let aggregate = ready(exact.try_finish());
        assert_eq!(aggregate.signed_weight, U256::from(6_000));
        assert_eq!(aggregate.non_signers.len(), 2);
        assert_eq!(aggregate.non_signers[0].index, U256::from(2));
        assert_eq!(aggregate.non_signers[1].index, U256::from(3));
        f.check_independently(&aggregate);
    }

    #[test]
    fn needed_weight_matches_the_contract_rule() {
        for (total, bps) in [(0u64, 1u16), (1, 1), (3, 6_667), (10_000, 6_667), (999, 10_000)] {
            let (total, needed) = (U256::from(total), needed_weight(U256::from(total), bps));
            assert!(meets_quorum(needed, total, bps) || total.is_zero());
            assert!(!meets_quorum(needed - U256::from(1), total, bps));
        }
        assert!(!meets_quorum(U256::ZERO, U256::ZERO, 1), "an empty signature never counts");
        let huge = U256::MAX;
        assert_eq!(needed_weight(huge, BPS), huge);
    }

    #[test]
    fn one_invalid_among_many_is_found_and_the_rest_reach_quorum() {
        let n = 32;
        let f = fixture(&vec![10; n]);
        let mut collector = f.collector(QUORUM_BPS);
        for i in 0..n {
            if i == 13 {
                let wrong = f.secrets[i].sign(b"another checkpoint").to_bytes();
                collector.add(f.operators[i], &wrong).unwrap();
            } else {
                f.add(&mut collector, i);
            }
        }
        let aggregate = ready(collector.try_finish());
        assert_eq!(collector.status(&f.operators[13]), Some(SignatureStatus::Invalid));
        assert!(!aggregate.signers.contains(&f.operators[13]));
        assert_eq!(aggregate.signers.len(), n - 1);
        assert_eq!(aggregate.non_signers.len(), 1);
        assert_eq!(aggregate.non_signers[0].index, U256::from(13));
        f.check_independently(&aggregate);
        // The root, then at most two checks per level on the path to the bad
        // leaf (one when the left half verifies: the right is inferred).
        assert!(collector.verifications() <= 1 + 2 * 5, "{} checks", collector.verifications());
        let verified = collector.results().filter(|(_, s)| *s == SignatureStatus::Verified).count();
        assert_eq!(verified, n - 1);
    }

    #[test]
    fn a_batch_is_checked_below_the_quorum_and_each_sender_gets_its_verdict() {
        let n = 16;
        let f = fixture(&vec![10; n]);
        let mut collector = f.collector(QUORUM_BPS);
        // One batch of four, far below the quorum: two valid, a forgery in
        // the name of an operator who has not signed, and one replaced.
        let forged = f.secrets[0].sign(b"another chain").to_bytes();
        let first_junk = SecretKey::random().sign(f.message.as_slice()).to_bytes();
        f.add(&mut collector, 1);
        f.add(&mut collector, 2);
        collector.add(f.operators[5], &forged).unwrap();
        collector.add(f.operators[7], &first_junk).unwrap();
        // Operator 7's own signature checks the held one alone (one pairing)
        // and takes its place.
        assert!(f.add(&mut collector, 7).replaced_invalid);
        let before = collector.verifications();
        collector.verify_pending();
        assert!(collector.verifications() > before, "checked below the quorum");
        let verdict = |i: usize, bytes: &[u8]| collector.verdict(&f.operators[i], bytes);
        assert_eq!(verdict(1, &f.signature(1)), SignatureStatus::Verified);
        assert_eq!(verdict(2, &f.signature(2)), SignatureStatus::Verified);
        assert_eq!(verdict(5, &forged), SignatureStatus::Invalid);
        assert_eq!(verdict(7, &first_junk), SignatureStatus::Invalid, "replaced, so invalid");
        assert_eq!(verdict(7, &f.signature(7)), SignatureStatus::Verified);
        assert_eq!(collector.collected_weight(), U256::from(30));
        // Nothing pending: no new check; the rest then completes the quorum
        // with one more check of the new batch.
        let checks = collector.verifications();
        collector.verify_pending();
        assert_eq!(collector.verifications(), checks);
        for i in (8..n).chain([0, 3, 4]) {
            f.add(&mut collector, i);
        }
        let aggregate = ready(collector.try_finish());
        assert_eq!(collector.verifications(), checks + 1);
        // All but operators 5 (forged) and 6 (silent).
        assert_eq!(aggregate.signers.len(), n - 2);
        f.check_independently(&aggregate);
    }

    #[test]
    fn two_invalid_wrong_message_and_wrong_key() {
        let n = 24;
        let f = fixture(&vec![10; n]);
        let mut collector = f.collector(QUORUM_BPS);
        let stranger = SecretKey::random();
        for i in 0..n {
            match i {
                2 => collector.add(f.operators[i], &f.secrets[i].sign(b"x").to_bytes()),
                19 => {
                    collector.add(f.operators[i], &stranger.sign(f.message.as_slice()).to_bytes())
                }
                _ => collector.add(f.operators[i], &f.signature(i)),
            }
            .unwrap();
        }
        let aggregate = ready(collector.try_finish());
        let invalid: Vec<Address> = collector
            .results()
            .filter(|(_, s)| *s == SignatureStatus::Invalid)
            .map(|(op, _)| op)
            .collect();
        assert_eq!(invalid, [f.operators[2], f.operators[19]]);
        assert_eq!(aggregate.signers.len(), n - 2);
        assert_eq!(collector.collected_weight(), U256::from(10 * (n - 2)));
        f.check_independently(&aggregate);
        assert!(collector.verifications() <= 1 + 2 * 2 * 5, "{} checks", collector.verifications());
    }

    #[test]
    fn invalid_signatures_can_drop_below_quorum_and_are_replaced_by_valid_ones() {
        let f = fixture(&[10; 4]);
        let mut collector = f.collector(7_500);
        f.add(&mut collector, 0);
        f.add(&mut collector, 1);
        // Someone other than operator 2 sends a well-formed forgery first.
        let forged = SecretKey::random().sign(f.message.as_slice()).to_bytes();
        assert!(collector.add(f.operators[2], &forged).unwrap().quorum_possible);
        assert_eq!(
            collector.try_finish(),
            Outcome::Waiting { signed_weight: U256::from(20), needed_weight: U256::from(30) }
        );
        assert_eq!(collector.status(&f.operators[2]), Some(SignatureStatus::Invalid));
        assert_eq!(collector.status(&f.operators[0]), Some(SignatureStatus::Verified));
        // The operator's own signature replaces the forgery.
        let added = f.add(&mut collector, 2);
        assert!(added.replaced_invalid && added.quorum_possible);
        let before = collector.verifications();
        let aggregate = ready(collector.try_finish());
        assert_eq!(collector.verifications(), before + 1, "only the new signature is checked");
        assert_eq!(aggregate.signers, f.operators[..3]);
        f.check_independently(&aggregate);
        // A late signature after the aggregate is taken in by the next one.
        f.add(&mut collector, 3);
        let larger = ready(collector.try_finish());
        assert_eq!(larger.signers, f.operators);
        f.check_independently(&larger);
    }

    #[test]
    fn a_conflicting_signature_settles_which_one_is_genuine_at_once() {
        let f = fixture(&[10; 4]);
        let mut collector = f.collector(7_500);
        // Junk sent first in operator 1's name is replaced as soon as the
        // operator's own signature arrives, before any quorum check.
        let forged = SecretKey::random().sign(f.message.as_slice()).to_bytes();
        collector.add(f.operators[1], &forged).unwrap();
        let added = f.add(&mut collector, 1);
        assert!(added.replaced_invalid);
        assert_eq!(collector.verifications(), 1, "the held signature was checked alone");
        assert_eq!(collector.status(&f.operators[1]), Some(SignatureStatus::Pending));
        assert_eq!(collector.collected_weight(), U256::from(10), "the junk's weight is gone");
        // A genuine signature held first stays, now verified; junk after it is
        // refused, and a third attempt costs no further pairing.
        f.add(&mut collector, 0);
        let junk = SecretKey::random().sign(f.message.as_slice()).to_bytes();
        assert_eq!(
            collector.add(f.operators[0], &junk),
            Err(Rejected::Conflicting(f.operators[0]))
        );
        assert_eq!(collector.status(&f.operators[0]), Some(SignatureStatus::Verified));
        let more_junk = SecretKey::random().sign(b"other").to_bytes();
        assert_eq!(
            collector.add(f.operators[0], &more_junk),
            Err(Rejected::Conflicting(f.operators[0]))
        );
        assert_eq!(collector.verifications(), 2);
        f.add(&mut collector, 2);
        let aggregate = ready(collector.try_finish());
        assert_eq!(aggregate.signers, f.operators[..3]);
        f.check_independently(&aggregate);
    }

    #[test]
    fn rejections_carry_their_reason() {
        let f = fixture(&[10; 3]);
        let mut collector = f.collector(6_000);
        let unknown = Address::repeat_byte(0x99);
        assert_eq!(
            collector.add(unknown, &f.signature(0)),
            Err(Rejected::UnknownOperator(unknown))
        );
        f.add(&mut collector, 0);
        assert_eq!(
            collector.add(f.operators[0], &f.signature(0)),
            Err(Rejected::Duplicate(f.operators[0]))
        );
        let other = f.secrets[0].sign(b"equivocation").to_bytes();
        assert_eq!(
            collector.add(f.operators[0], &other),
            Err(Rejected::Conflicting(f.operators[0]))
        );
        let operator = f.operators[1];
        assert_eq!(
            collector.add(operator, &[0u8; 47]),
            Err(Rejected::Malformed {
                operator,
                reason: BlsError::InvalidLength { expected: 48, got: 47 }
            })
        );
        let mut infinity = [0u8; SIGNATURE_BYTES];
        infinity[0] = 0xc0;
        assert_eq!(
            collector.add(operator, &infinity),
            Err(Rejected::Malformed { operator, reason: BlsError::Infinity })
        );
        let mut uncompressed = f.signature(1);
        uncompressed[0] &= 0x7f;
        assert!(matches!(
            collector.add(operator, &uncompressed),
            Err(Rejected::Malformed { reason: BlsError::BadEncoding | BlsError::NotOnCurve, .. })
        ));
        // Rejections leave no trace: the first signature is kept, and the
        // operator whose attempts were malformed can still sign.
        assert_eq!(collector.collected_weight(), U256::from(10));
        assert_eq!(collector.status(&operator), None);
        assert_eq!(collector.signature(&f.operators[0]).unwrap().to_bytes(), f.signature(0));
        f.add(&mut collector, 1);
        f.check_independently(&ready(collector.try_finish()));
    }

    #[test]
    fn bad_tables_and_quorums_are_refused() {
        let sk = SecretKey::random();
        let good = Bytes::from(sk.public_key().to_eip2537().to_vec());
        let bad = Bytes::from(vec![0u8; 255]);
        let table =
            OperatorTable::from_event(&event(vec![good.clone(), bad], vec![U256::from(1); 2]))
                .unwrap();
        assert!(matches!(
            SignerSet::new(table),
            Err(SignerSetError::BadKey { position: 1, source: BlsError::InvalidLength { .. }, .. })
        ));
        let mut twice = event(vec![good.clone(), good], vec![U256::from(1); 2]);
        twice.operators[1] = twice.operators[0];
        let table = OperatorTable::from_event(&twice).unwrap();
        assert_eq!(
            SignerSet::new(table).unwrap_err(),
            SignerSetError::DuplicateOperator { operator: operator(0), first: 0, second: 1 }
        );
        let f = fixture(&[1]);
        for bps in [0, BPS + 1] {
            assert_eq!(
                QuorumCollector::new(f.set.clone(), f.message, bps).unwrap_err(),
                QuorumError::InvalidQuorum(bps)
            );
        }
    }

    /// A point on the curve outside the subgroup (a small `x` that decodes
    /// but fails the subgroup check).
    fn torsion() -> UncheckedSignature {
        (1u8..=255)
            .find_map(|x| {
                let mut bytes = [0u8; SIGNATURE_BYTES];
                bytes[0] = 0x80;
                bytes[SIGNATURE_BYTES - 1] = x;
                UncheckedSignature::from_bytes(&bytes).ok().filter(|p| p.check().is_err())
            })
            .unwrap()
    }

    /// `-p`: the compressed encoding with the sign of `y` flipped.
    fn negated(point: UncheckedSignature) -> UncheckedSignature {
        let mut bytes = point.to_bytes();
        bytes[0] ^= 0x20;
        UncheckedSignature::from_bytes(&bytes).unwrap()
    }

    /// The bytes of `a + b`.
    fn plus(a: &[u8; SIGNATURE_BYTES], b: UncheckedSignature) -> [u8; SIGNATURE_BYTES] {
        let mut sum = UncheckedSignatureSum::of(&UncheckedSignature::from_bytes(a).unwrap());
        sum.add(&b);
        sum.to_bytes()
    }

    #[test]
    fn a_signature_with_a_torsion_part_is_accepted_then_found_invalid() {
        let n = 8;
        let f = fixture(&vec![10; n]);
        let mut collector = f.collector(QUORUM_BPS);
        let tainted = plus(&f.signature(5), torsion());
        assert!(UncheckedSignature::from_bytes(&tainted).unwrap().check().is_err());
        for i in 0..n {
            if i == 5 {
                // On the curve, so it decodes; the subgroup check comes with
                // the sum.
                collector.add(f.operators[i], &tainted).unwrap();
            } else {
                f.add(&mut collector, i);
            }
        }
        let aggregate = ready(collector.try_finish());
        assert_eq!(collector.status(&f.operators[5]), Some(SignatureStatus::Invalid));
        assert_eq!(aggregate.signers.len(), n - 1);
        assert!(!aggregate.signers.contains(&f.operators[5]));
        f.check_independently(&aggregate);
        // The operator's own signature replaces it.
        assert!(f.add(&mut collector, 5).replaced_invalid);
        let all = ready(collector.try_finish());
        assert_eq!(all.signers, f.operators);
        f.check_independently(&all);
    }

    #[test]
    fn cancelling_torsion_parts_leave_a_valid_aggregate_of_signers_who_signed() {
        let f = fixture(&[10; 4]);
        let mut collector = f.collector(QUORUM_BPS);
        let t = torsion();
        // Two operators who signed, their signatures shifted by +T and -T:
        // neither is a signature alone, their sum is the honest sum.
        collector.add(f.operators[0], &plus(&f.signature(0), t)).unwrap();
        collector.add(f.operators[1], &plus(&f.signature(1), negated(t))).unwrap();
        f.add(&mut collector, 2);
        let aggregate = ready(collector.try_finish());
        assert_eq!(collector.verifications(), 1);
        assert_eq!(aggregate.signers, f.operators[..3]);
        // What is posted is exactly the sum of the operators' own signatures,
        // in the subgroup: the torsion parts cancelled.
        let honest: Vec<_> = (0..3).map(|i| f.secrets[i].sign(f.message.as_slice())).collect();
        assert_eq!(aggregate.signature, AggregateSignature::aggregate(&honest).unwrap());
        f.check_independently(&aggregate);
    }

    #[test]
    fn off_curve_and_infinity_bytes_are_malformed() {
        let f = fixture(&[10; 2]);
        let mut collector = f.collector(QUORUM_BPS);
        let operator = f.operators[0];
        // y^2 = 3^3 + 4 = 31 has no root in Fp, so x = 3 is not on G1.
        let mut off_curve = [0u8; SIGNATURE_BYTES];
        off_curve[0] = 0x80;
        off_curve[SIGNATURE_BYTES - 1] = 3;
        assert!(matches!(
            collector.add(operator, &off_curve),
            Err(Rejected::Malformed { reason: BlsError::NotOnCurve | BlsError::BadEncoding, .. })
        ));
        let mut too_big = [0xffu8; SIGNATURE_BYTES];
        too_big[0] = 0x9f;
        assert!(matches!(
            collector.add(operator, &too_big),
            Err(Rejected::Malformed { reason: BlsError::BadEncoding | BlsError::NotOnCurve, .. })
        ));
        let mut infinity = [0u8; SIGNATURE_BYTES];
        infinity[0] = 0xc0;
        assert_eq!(
            collector.add(operator, &infinity),
            Err(Rejected::Malformed { operator, reason: BlsError::Infinity })
        );
        assert_eq!(collector.status(&operator), None);
        assert_eq!(collector.verifications(), 0);
    }

    #[test]
    fn one_percent_invalid_at_scale_with_non_signers() {
        let n = 400;
        let f = fixture(&vec![10; n]);
        let mut collector = f.collector(QUORUM_BPS);
        let silent = [3, 77, 150, 151, 152, 399];
        let invalid = [37, 137, 237, 337];
        let stranger = SecretKey::random();
        for i in (0..n).filter(|i| !silent.contains(i)) {
            if i == 237 {
                // A torsion part, the others a wrong message or a wrong key.
                collector.add(f.operators[i], &plus(&f.signature(i), torsion())).unwrap();
            } else if i == 337 {
                let wrong = stranger.sign(f.message.as_slice()).to_bytes();
                collector.add(f.operators[i], &wrong).unwrap();
            } else if invalid.contains(&i) {
                let wrong = f.secrets[i].sign(b"another checkpoint").to_bytes();
                collector.add(f.operators[i], &wrong).unwrap();
            } else {
                f.add(&mut collector, i);
            }
        }
        let aggregate = ready(collector.try_finish());
        let found: Vec<Address> = collector
            .results()
            .filter(|(_, s)| *s == SignatureStatus::Invalid)
            .map(|(op, _)| op)
            .collect();
        assert_eq!(found, invalid.map(|i| f.operators[i]));
        assert_eq!(aggregate.signers.len(), n - silent.len() - invalid.len());
        let missing: Vec<U256> = aggregate.non_signers.iter().map(|s| s.index).collect();
        let mut expected: Vec<usize> = silent.iter().chain(&invalid).copied().collect();
        expected.sort();
        assert_eq!(missing, expected.iter().map(|i| U256::from(*i)).collect::<Vec<_>>());
        f.check_independently(&aggregate);
        // The root, then at most two checks per level (9 levels for 512
        // leaves) on the path to each bad leaf.
        let bound = 1 + 2 * invalid.len() * 9;
        assert!(collector.verifications() <= bound, "{} checks", collector.verifications());
        assert!(collector.results().all(|(_, s)| s != SignatureStatus::Pending));
    }

    #[test]
    fn tree_positions_cover_the_table() {
        let tree = Tree::new(5);
        assert_eq!(tree.size, 8);
        assert_eq!(tree.positions(1), 0..5);
        assert_eq!(tree.positions(2), 0..4);
        assert_eq!(tree.positions(3), 4..5);
        assert_eq!(tree.positions(7), 5..5);
        assert_eq!(tree.positions(8 + 4), 4..5);
        assert!(tree.is_leaf(8) && !tree.is_leaf(7));
        assert_eq!(Tree::new(0).positions(1), 0..0);
        assert_eq!(Tree::new(1).positions(1), 0..1);
    }
}
