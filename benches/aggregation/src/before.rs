//! The quorum collector as it was before issue 7 (commit 1fed209,
//! `aggregator/src/quorum.rs`), kept verbatim but for this comment so that
//! the benchmark measures before and after side by side: strict decoding of
//! every signature (subgroup check each), one pairing check of the sum
//! (hashing the message each time), bisection that re-sums each subset's
//! keys and signatures.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use alloy::primitives::{Address, B256, U256, U512};
use chorus_contracts::{NonSigner, TableRef, table::OperatorTable};
use chorus_keys::bls::{
    AggregatePublicKey, AggregateSignature, BlsError, PopVerifiedKey, PublicKey, SIGNATURE_BYTES,
    Signature, eip2537::G1_BYTES,
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

/// An operator table prepared for verifying signatures: every key decoded
/// once and trusted as registry-checked, weights, and an index by address.
///
/// Build one per table version and share it (through an [`Arc`]) between
/// the collectors of that version's checkpoints.
#[derive(Debug, Clone)]
pub struct SignerSet {
    table: OperatorTable,
    signers: Vec<Signer>,
    positions: HashMap<Address, usize>,
}

impl SignerSet {
    /// Decodes every key of `table` (EIP-2537 G2, fully validated) and
    /// indexes the operators.
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
        Ok(Self { table, signers, positions })
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

/// Where an accepted signature stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureStatus {
    /// Accepted, not yet part of a checked aggregate.
    Pending,
    /// Part of an aggregate that verified (see the crate documentation for
    /// what this does and does not say about the signature alone).
    Verified,
    /// Checked on its own and found not to be the operator's signature of
    /// this checkpoint's message. Its weight no longer counts.
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
    /// The bytes are not a valid compressed G1 point in the subgroup.
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
    /// The aggregate signature.
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
    signature: Signature,
    status: SignatureStatus,
}

/// Decodes an operator's signature. The single place that decides how
/// strictly signatures are decoded (see the module documentation on deferring
/// the subgroup check).
fn decode_signature(bytes: &[u8]) -> Result<Signature, BlsError> {
    Signature::from_bytes(bytes)
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
    quorum_bps: u16,
    needed_weight: U256,
    /// By table position.
    slots: Vec<Option<Slot>>,
    /// The weight of pending and verified signatures.
    collected_weight: U256,
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
            quorum_bps,
            needed_weight,
            slots,
            collected_weight: U256::ZERO,
            ready: None,
            verifications: 0,
        })
    }

    /// Takes `operator`'s 48-byte compressed signature.
    ///
    /// Checks, in order: the operator is in the table; it is not the same
    /// bytes again; the bytes decode strictly; the operator has no other
    /// valid signature. Signatures carry no transport authentication, so a
    /// signature in an operator's name may have come from anyone: a new one
    /// replaces one found [`Invalid`](SignatureStatus::Invalid), and when a
    /// different one arrives while the held one is still
    /// [`Pending`](SignatureStatus::Pending), the held one is checked alone
    /// (one pairing, at most once per held signature) and replaced if it is
    /// invalid. Junk sent first cannot hold an operator's place.
    ///
    /// Otherwise no pairing is computed; the signature is
    /// [`Pending`](SignatureStatus::Pending) until [`try_finish`](Self::try_finish).
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
            if signer.key.public_key().verify(self.message.as_slice(), &held.signature).is_ok() {
                held.status = SignatureStatus::Verified;
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
    /// The pending signatures are summed and checked with one pairing check;
    /// if it fails, bisection marks each pending signature `Verified` or
    /// `Invalid` in `O(k log n)` checks for `k` invalid among `n`. The
    /// aggregate then sums every verified signature (a sum of sums that each
    /// verified, so it verifies too). Calling again without an intervening
    /// [`add`](Self::add) returns the same aggregate without new work.
    pub fn try_finish(&mut self) -> Outcome {
        if let Some(ready) = &self.ready {
            return Outcome::Ready(Box::new(ready.clone()));
        }
        if !self.reaches(self.collected_weight) {
            return self.waiting();
        }
        let pending: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.as_ref().is_some_and(|s| s.status == SignatureStatus::Pending))
            .map(|(position, _)| position)
            .collect();
        if !pending.is_empty() {
            self.bisect(&pending, false);
        }
        if !self.reaches(self.collected_weight) {
            return self.waiting();
        }
        let aggregate = self.build();
        self.ready = Some(aggregate.clone());
        Outcome::Ready(Box::new(aggregate))
    }

    /// The status of `operator`'s accepted signature, if any.
    pub fn status(&self, operator: &Address) -> Option<SignatureStatus> {
        self.slot(operator).map(|slot| slot.status)
    }

    /// `operator`'s accepted signature, if any (they are public).
    pub fn signature(&self, operator: &Address) -> Option<&Signature> {
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

    /// Marks every signature at `positions` verified or invalid; returns
    /// whether all were valid. `known_invalid`: the set's sum is known to
    /// fail (its parent failed and its sibling verified), so it is split
    /// without being checked.
    fn bisect(&mut self, positions: &[usize], known_invalid: bool) -> bool {
        if !known_invalid && self.verify_sum(positions) {
            self.mark(positions, SignatureStatus::Verified);
            return true;
        }
        if let [position] = positions {
            self.mark(&[*position], SignatureStatus::Invalid);
            let weight = self.signers.signers.get(*position).map_or(U256::ZERO, |s| s.weight);
            self.collected_weight = self.collected_weight.saturating_sub(weight);
            return false;
        }
        let (left, right) = positions.split_at(positions.len() / 2);
        let left_valid = self.bisect(left, false);
        // Pairing checks are linear: had both halves verified, so would have
        // the whole.
        self.bisect(right, left_valid);
        false
    }

    /// One pairing check of the sum of the signatures at `positions`
    /// against the sum of their keys.
    fn verify_sum(&mut self, positions: &[usize]) -> bool {
        self.verifications += 1;
        let mut signatures = Vec::with_capacity(positions.len());
        let mut keys = Vec::with_capacity(positions.len());
        for &position in positions {
            if let (Some(Some(slot)), Some(signer)) =
                (self.slots.get(position), self.signers.signers.get(position))
            {
                signatures.push(slot.signature);
                keys.push(signer.key);
            }
        }
        match (AggregateSignature::aggregate(&signatures), AggregatePublicKey::aggregate(&keys)) {
            (Ok(signature), Ok(key)) => {
                signature.verify_aggregate_key(self.message.as_slice(), &key).is_ok()
            }
            // Empty: only with no positions, which bisection never passes.
            _ => false,
        }
    }

    fn mark(&mut self, positions: &[usize], status: SignatureStatus) {
        for &position in positions {
            if let Some(Some(slot)) = self.slots.get_mut(position) {
                slot.status = status;
            }
        }
    }

    /// The aggregate of every verified signature. Called only when their
    /// weight meets the quorum, hence is positive.
    fn build(&self) -> Aggregate {
        let mut signatures = Vec::new();
        let mut signers = Vec::new();
        let mut signed_weight = U256::ZERO;
        for (signer, slot) in self.signers.signers.iter().zip(&self.slots) {
            if let Some(slot) = slot.as_ref().filter(|s| s.status == SignatureStatus::Verified) {
                signatures.push(slot.signature);
                signers.push(signer.operator);
                signed_weight = signed_weight.saturating_add(signer.weight);
            }
        }
        debug_assert_eq!(signed_weight, self.collected_weight, "nothing pending after bisection");
        let signature = match AggregateSignature::aggregate(&signatures) {
            Ok(signature) => signature,
            Err(_) => unreachable!("a quorum has positive weight, so at least one signer"),
        };
        let table = self.signers.table();
        let signer_set: HashSet<Address> = signers.iter().copied().collect();
        Aggregate {
            message: self.message,
            signature,
            signature_eip2537: signature.to_eip2537(),
            signers,
            signed_weight,
            table: table.table_ref(),
            non_signers: table.non_signers(&signer_set),
        }
    }
}
