//! The Chorus aggregator: it collects operators' BLS signatures on a
//! checkpoint until a stake quorum signed, and builds the one aggregate
//! signature that is posted to L1.
//!
//! Two layers:
//!
//! - [`quorum`]: the pure logic of one open checkpoint. It does no I/O and
//!   runs no actors; `benches/aggregation` (package
//!   `chorus-bench-aggregation`) measures it against eigensdk-rs and blst.
//! - [`service`]: the aggregator as actix actors (`Proposer`,
//!   `OperatorTable`, `Checkpoints` with one `QuorumCollector` per open
//!   checkpoint on a `SyncArbiter`, `Submitter`, a SQLite store) behind the
//!   HTTP API of `chorus_wire::routes`, started with [`service::start`]
//!   inside a running actix system. Its module documentation shows how data
//!   flows between the actors.
//!
//! # Flow
//!
//! 1. When an operator table version is published, [`quorum::SignerSet::new`]
//!    decodes every operator's EIP-2537 key once (a bad key is a typed
//!    error), indexes operators by address and keeps the weights. One set
//!    serves every checkpoint of that version (share it through an `Arc`).
//! 2. For each checkpoint, [`quorum::QuorumCollector::new`] takes the set,
//!    the 32-byte message (`chorus_contracts::checkpoint::checkpoint_message`)
//!    and the contract's quorum in basis points.
//! 3. [`quorum::QuorumCollector::add`] takes each operator's 48-byte
//!    compressed signature. Unknown operators, repeats, conflicting second
//!    signatures and malformed points (bad encoding, off the curve,
//!    infinity) are refused with a [`quorum::Rejected`] reason; an accepted
//!    signature is `Pending`; a point outside the subgroup is accepted and
//!    found `Invalid` by the check of its sum. No pairing is computed here.
//! 4. [`quorum::QuorumCollector::try_finish`] does nothing costly until the
//!    accepted weight reaches the quorum (the contract's rule,
//!    `signed * 10_000 >= total * quorumBps`, and `signed > 0`). Then it adds
//!    up the pending signatures and their keys and checks the sum with **one**
//!    pairing check. If it fails, it bisects to find the invalid signatures,
//!    marks them `Invalid`, and answers with the valid rest: a
//!    [`quorum::Aggregate`] ready to submit (EIP-2537 signature, signers,
//!    signed weight, non-signers with their table positions), or
//!    [`quorum::Outcome::Waiting`] if the valid rest is below the quorum.
//!
//! Every accepted signature ends `Verified`, `Invalid` or `Pending`
//! ([`quorum::SignatureStatus`]), queryable per operator for scoring and the
//! API. The service does not wait for the quorum to check: it calls
//! [`quorum::QuorumCollector::verify_pending`] on whatever arrived while the
//! previous check ran (the same sum check and bisection, below the quorum
//! too) and answers each sender with [`quorum::QuorumCollector::verdict`],
//! so an invalid signature is refused before it is recorded or published.
//!
//! # Why optimistic aggregation is sound
//!
//! Checking only the sum `σ = Σ σᵢ` against `pk = Σ pkᵢ` for one message `m`
//! (`e(σ, g₂) = e(H(m), pk)`) is sound here because:
//!
//! - **No rogue keys.** Every key comes from the registry, which checked its
//!   proof of possession on chain before listing it
//!   (`PopVerifiedKey::from_registry_unchecked`). Nobody can register a key
//!   chosen as a function of others' keys to forge the sum.
//! - **Every sum checked is in the prime-order subgroup.** Keys are decoded
//!   strictly. Signatures are decoded with every check but the subgroup
//!   check (`UncheckedSignature`: encoding, on the curve, not infinity);
//!   each *sum* is subgroup-checked before its pairing check
//!   (`PreparedMessage::verify_sum`), and the aggregate posted is
//!   subgroup-checked once more, so the pairing equation means what it
//!   says: the aggregate is a valid signature of `m` by the summed keys,
//!   exactly what the contract checks. The check is additive (torsion parts
//!   must sum to zero, subgroup parts to a valid signature), so bisection's
//!   reasoning is unchanged; a set of one is checked strictly. The quorum
//!   module documentation says why this, and the absence of random weights,
//!   cannot make the collector count an operator who did not sign.
//! - **What `Verified` means.** A signature is marked `Verified` when a sum
//!   containing it verified. Two signatures can be altered by opposite
//!   amounts (`σ₁ + t`, `σ₂ − t`, or opposite torsion parts `σ₁ + T`, `σ₂ − T`) and still sum correctly; since signatures
//!   are public and carry no transport authentication, anyone who saw both
//!   could submit such a pair first. The aggregate stays valid, so this
//!   cannot corrupt a submission, but an individual signature used as
//!   evidence (equivocation, slashing) must be verified on its own. A
//!   signature marked `Invalid` is invalid on its own (a bisection leaf,
//!   checked alone or inferred by linearity from a failing parent and a
//!   verifying sibling), but may have been sent by someone other than the
//!   operator; see [`quorum::QuorumCollector::add`] for how the operator's
//!   own signature then replaces it.
//! - **Bisection finds the bad ones cheaply.** Pairing checks are linear: if
//!   both halves of a set verify, so does the set. A failing set is split and
//!   each half checked; a half whose sibling passed must fail and is split
//!   without being checked. For `k` invalid signatures among `n`, this takes
//!   `O(k log n)` pairing checks, against `n` checks one by one; with none
//!   invalid (the normal case) it takes exactly one.
//!
//! [`quorum::QuorumCollector::verifications`] counts the pairing checks, so
//! tests and metrics can see these bounds.

pub mod quorum;
pub mod service;
