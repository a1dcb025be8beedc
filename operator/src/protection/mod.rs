//! Slashing protection: the operator's durable memory of everything its BLS
//! key signed, consulted and updated before any signature leaves the
//! process.
//!
//! # The rule
//!
//! The slashable offence (`ChorusSlasher.sol`, DESIGN.md "Protocol") is
//! *equivocation*: one key signs two checkpoints of the same deployment
//! whose trees hold commitments with the same `(rollupId, l2BlockNumber)`
//! and a different `l2BlockHash` or `stateRoot`. A deployment, the
//! [`Domain`], is an L1 chain id and an attestation contract: the signed
//! message binds both, so signatures never collide across deployments. The
//! table version does *not* separate checkpoints: the slasher accepts two
//! checkpoints of any table versions.
//!
//! So the store keeps, per domain and key, the one commitment signed at each
//! `(rollupId, l2BlockNumber)`, and [`SlashingProtection::check_and_insert`]
//! refuses any checkpoint holding a different commitment at a recorded
//! height. Signing the same commitment again (in the same checkpoint after a
//! restart, or in a later checkpoint that still covers it) is harmless and
//! allowed.
//!
//! # Use
//!
//! ```
//! use alloy::primitives::{Address, B256};
//! use chorus_contracts::Commitment;
//! use chorus_keys::bls::SecretKey;
//! use chorus_operator::protection::{CheckpointToSign, Domain, NotSafe, Safe, SlashingProtection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let key = SecretKey::random();
//! let domain = Domain { l1_chain_id: 1, attestation_contract: Address::repeat_byte(0xaa) };
//! // Once per key and deployment; afterwards `SlashingProtection::open`.
//! let store = SlashingProtection::create(dir.path().join("protection.sqlite"), domain, &key.public_key())?;
//!
//! let commitment = |hash: u8| Commitment {
//!     rollupId: 10,
//!     l2BlockNumber: 7,
//!     l2BlockHash: B256::repeat_byte(hash),
//!     stateRoot: B256::repeat_byte(hash),
//! };
//! let checkpoint = CheckpointToSign::new(3, vec![commitment(1)])?;
//! assert_eq!(store.check_and_insert(&checkpoint)?, Safe::Valid);
//! // Only now may the signature be made, over exactly this checkpoint.
//! let signature = key.sign(checkpoint.signing_message(&store.domain()).as_slice());
//! # let _ = signature;
//!
//! // A different block at the same height is refused, and nothing is recorded.
//! let other = CheckpointToSign::new(3, vec![commitment(2)])?;
//! assert!(matches!(store.check_and_insert(&other), Err(NotSafe::Conflict { .. })));
//! # Ok(())
//! # }
//! ```
//!
//! Only the safe path is public: there is no way to check without recording
//! or to record without checking. The check and the write are one private
//! function, run only inside one `BEGIN EXCLUSIVE` transaction that commits
//! only if it found no conflict.
//!
//! # The store and its invariants
//!
//! One SQLite file per (domain, key), opened in WAL mode with
//! `synchronous = FULL` and foreign keys on; STRICT tables:
//!
//! | table | holds |
//! |---|---|
//! | `store_identity` | one row: L1 chain id, attestation contract, BLS key |
//! | `signed_commitments` | one row per signed `(rollup_id, l2_block_number)`: hash and state root |
//! | `signed_checkpoints` | one row per signed `(table_version, commitments_root)`, with its leaf count |
//! | `checkpoint_leaves` | which commitments each checkpoint covered |
//!
//! These hold at every commit; the ones marked (schema) are enforced by
//! SQLite itself, the others by the only two write paths, which re-check
//! them before committing, and by [`SlashingProtection::check_integrity`]:
//!
//! 1. **One owner.** The store belongs to one domain and one key, written
//!    once at creation and compared on every open: opening with another
//!    domain or key fails ([`OpenError::WrongDomain`],
//!    [`OpenError::WrongKey`]), so a node never starts on someone else's
//!    history. The file's SQLite `application_id` marks it as a Chorus store
//!    and `user_version` gives its schema version.
//! 2. **One commitment per height** (schema): `UNIQUE (rollup_id,
//!    l2_block_number)`. The store cannot hold an equivocation, even if a
//!    check were wrong: the insert would fail and the signature be refused.
//! 3. **At most one leaf per rollup in a checkpoint** (schema): `UNIQUE
//!    (checkpoint_id, rollup_id)`, the leaf's `rollup_id` tied to its
//!    commitment by a composite foreign key.
//! 4. **A checkpoint is recorded whole**: it has `leaf_count` leaves and they
//!    rebuild its `commitments_root`. Written in one transaction, read back
//!    before commit.
//! 5. **History only grows**: no code deletes or updates a row. Import
//!    compares a summary (row counts, latest height per rollup) before and
//!    after and rolls back if anything went backwards or did not add up.
//! 6. **Recorded before signed**: [`SlashingProtection::check_and_insert`]
//!    returns [`Safe`] only after `COMMIT` returned, and the caller signs
//!    only after [`Safe`].
//!
//! Numbers are SQLite integers, so a rollup id, height or chain id above
//! `i64::MAX` is refused ([`MalformedCheckpoint::OutOfRange`]): refusing is
//! always safe, and no real chain comes near.
//!
//! # Crash safety
//!
//! A crash, at any instant, never leads to a conflicting signature after
//! restart:
//!
//! - A signature is made only after `check_and_insert` returned [`Safe`],
//!   which happens only after `COMMIT` returned. In WAL mode with
//!   `synchronous = FULL`, SQLite fsyncs the write-ahead log before `COMMIT`
//!   returns, so every checkpoint ever signed survives a process crash, and
//!   an OS crash or power cut on a disk that honours fsync.
//! - A crash before `COMMIT` completes leaves the transaction wholly in the
//!   log or not at all: on reopen, SQLite replays the log only up to its last
//!   complete, checksummed commit. So a checkpoint is there with all its
//!   leaves, or not at all (invariant 4). If it is not there, it was not
//!   signed. If it is there but was never signed (the crash hit between
//!   `COMMIT` and the signature), the store is stricter than needed, never
//!   less safe.
//! - Hence after a restart the store holds every signed checkpoint, and
//!   every conflicting proposal is refused.
//! - [`SlashingProtection::create`] builds the store in a temporary file in
//!   the same directory, closes it, renames it into place (never over an
//!   existing file) and fsyncs the directory: the path holds a complete store
//!   or nothing. Files are created `0600`; SQLite gives its `-wal` and `-shm`
//!   files the mode of the database.
//!
//! A test kills a writing process with SIGKILL at random instants and checks
//! the reopened store (`PRAGMA integrity_check`, every checkpoint whole, every
//! checkpoint reported safe still there).
//!
//! Several connections (threads or processes) on one file are safe: the
//! exclusive transaction serialises them, and a connection kept waiting longer
//! than the busy timeout ([`DEFAULT_BUSY_TIMEOUT`]) gets
//! [`StorageError::Locked`], never a [`Safe`].
//!
//! What the store cannot protect against: two stores for one key (two
//! machines signing at once, or a fresh store created where the key already
//! signed), and a store restored from a backup older than its last signature.
//! That is why stores are never created implicitly ([`OpenError::NotFound`])
//! and why moving machines goes through [export](SlashingProtection::export)
//! on the old machine, after it has stopped, and
//! [import](SlashingProtection::import) on the new one.
//!
//! # Interchange
//!
//! [`Interchange`] is the whole history as JSON, in the spirit of EIP-3076
//! (see [`interchange`]). Import is all-or-nothing in one exclusive
//! transaction: a file of another domain or key, a file that conflicts with
//! the store (or with itself), or a checkpoint whose records do not rebuild
//! its root is refused with nothing written. Importing the same file twice
//! changes nothing.

mod error;
pub mod interchange;
mod store;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use alloy::primitives::{Address, B256};
use chorus_contracts::{
    Commitment,
    checkpoint::{CheckpointError, CheckpointTree, checkpoint_message},
};

pub use error::{
    ImportError, InvariantViolation, MalformedCheckpoint, NotSafe, OpenError, ReadError,
    StorageError,
};
pub use interchange::{
    INTERCHANGE_FORMAT_VERSION, Interchange, InterchangeCommitment, InterchangeMetadata,
};
pub use store::{DEFAULT_BUSY_TIMEOUT, ImportSummary, SlashingProtection, StoreSummary};

/// A Chorus deployment: what the signed message binds besides the
/// checkpoint. Signatures of one domain are never valid in another, so each
/// domain has its own history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Domain {
    /// The L1 chain id.
    pub l1_chain_id: u64,
    /// The attestation contract's address.
    pub attestation_contract: Address,
}

impl Domain {
    /// The 32-byte message a key signs for a checkpoint of this domain
    /// (`CheckpointLib.signedMessage`).
    pub fn signing_message(&self, table_version: u32, commitments_root: B256) -> B256 {
        checkpoint_message(
            self.l1_chain_id,
            self.attestation_contract,
            table_version,
            commitments_root,
        )
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "L1 chain {} (attestation contract {})",
            self.l1_chain_id, self.attestation_contract
        )
    }
}

/// A checkpoint the operator is about to sign: a table version and a tree
/// of commitments (at most one per rollup, sorted), whose root is computed
/// here from the commitments, never taken from a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointToSign {
    table_version: u32,
    tree: CheckpointTree,
}

impl CheckpointToSign {
    /// Builds the tree; fails on an empty list, on two commitments for one
    /// rollup, or on commitments not sorted by rollup id.
    pub fn new(table_version: u32, commitments: Vec<Commitment>) -> Result<Self, CheckpointError> {
        Ok(Self::from_tree(table_version, CheckpointTree::new(commitments)?))
    }

    /// Wraps a tree already built.
    pub fn from_tree(table_version: u32, tree: CheckpointTree) -> Self {
        Self { table_version, tree }
    }

    /// The operator-table version the checkpoint names.
    pub fn table_version(&self) -> u32 {
        self.table_version
    }

    /// The root of the commitments tree.
    pub fn commitments_root(&self) -> B256 {
        self.tree.root()
    }

    /// The commitments, sorted by rollup id.
    pub fn commitments(&self) -> &[Commitment] {
        self.tree.commitments()
    }

    /// The tree, for Merkle proofs.
    pub fn tree(&self) -> &CheckpointTree {
        &self.tree
    }

    /// The message to sign for this checkpoint in `domain`: pass the store's
    /// [`SlashingProtection::domain`] so that what is signed is what was
    /// checked.
    pub fn signing_message(&self, domain: &Domain) -> B256 {
        domain.signing_message(self.table_version, self.commitments_root())
    }
}

/// Why a checkpoint may be signed. Either way it is durably recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safe {
    /// The checkpoint was new and is now recorded with all its commitments;
    /// none conflicts with the history.
    Valid,
    /// This very checkpoint (table version and root) was recorded before,
    /// for example by a signature made before a restart; nothing was
    /// written. Signing it again yields the same signature.
    SameData,
}
