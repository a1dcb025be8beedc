//! Every way the slashing-protection store can refuse or fail, one enum per
//! operation. Each message says what is safe to do next; none of them ever
//! means "go ahead and sign".

use std::path::PathBuf;

use alloy::primitives::B256;
use chorus_contracts::Commitment;
use rusqlite::ErrorCode;

use super::Domain;

/// Why a checkpoint may not be signed. Returned by
/// [`SlashingProtection::check_and_insert`](super::SlashingProtection::check_and_insert);
/// whatever the variant, nothing was recorded and no signature may leave the
/// process.
#[derive(Debug, thiserror::Error)]
pub enum NotSafe {
    /// The key already signed a different commitment at this rollup and
    /// height: signing the checkpoint would be the slashable offence. This
    /// is the checkpoint's first conflicting commitment in rollup order;
    /// later ones may conflict too.
    #[error(
        "refusing to sign: rollup {rollup_id} block {l2_block_number} was already signed with \
         block hash {} and state root {}, this checkpoint has block hash {} and state root {}; \
         signing both is slashable equivocation. Nothing was recorded: reject this commitment \
         and sign a checkpoint without it",
        signed.l2BlockHash, signed.stateRoot, proposed.l2BlockHash, proposed.stateRoot
    )]
    Conflict {
        /// The rollup (its EIP-155 chain id).
        rollup_id: u64,
        /// The L2 height signed twice.
        l2_block_number: u64,
        /// The commitment the key signed before (boxed: keeps the error,
        /// and every `Result` carrying it, small).
        signed: Box<Commitment>,
        /// The commitment in the refused checkpoint.
        proposed: Box<Commitment>,
    },
    /// The checkpoint breaks a structural rule; see [`MalformedCheckpoint`].
    #[error("refusing to sign a malformed checkpoint: {0}")]
    Malformed(#[from] MalformedCheckpoint),
    /// The store could not check or record the checkpoint. Nothing was
    /// recorded, so the checkpoint must not be signed.
    #[error("refusing to sign: the slashing-protection store failed, nothing was recorded: {0}")]
    Storage(#[from] StorageError),
    /// The write did not leave the store in the state it was meant to; the
    /// transaction was rolled back.
    #[error("refusing to sign: {0}")]
    Inconsistent(#[from] InvariantViolation),
}

/// A checkpoint (or a checkpoint of an interchange file) that breaks a
/// structural rule. Refusing it is always safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedCheckpoint {
    /// Two commitments for one rollup in one checkpoint: the protocol allows
    /// at most one per rollup.
    #[error("two commitments for rollup {rollup_id} in one checkpoint (at most one per rollup)")]
    DuplicateRollup {
        /// The rollup that appears twice.
        rollup_id: u64,
    },
    /// A number above `i64::MAX`, which SQLite cannot store as an integer.
    /// No real chain id or block height comes near it (EIP-2294 bounds chain
    /// ids far below), so such a value is refused rather than re-encoded.
    #[error("{field} {value} is above 2^63 - 1, which the store cannot record")]
    OutOfRange {
        /// Which value (`rollup id`, `L2 block number`, `L1 chain id`).
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// The commitments do not rebuild the checkpoint's root: the file lacks
    /// one of its leaves (or holds a foreign one).
    #[error(
        "checkpoint {commitments_root} (table version {table_version}) is incomplete: its \
         commitments rebuild root {rebuilt_root}"
    )]
    IncompleteCheckpoint {
        /// The checkpoint's table version.
        table_version: u32,
        /// The root the file claims.
        commitments_root: B256,
        /// The root its commitments give.
        rebuilt_root: B256,
    },
}

/// The database underneath failed. SQLite's own error is kept as the source;
/// the variant tells what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Another connection held the store longer than the busy timeout
    /// (another process using the same file, or a stuck transaction).
    #[error(
        "the store is locked by another connection ({0}); it is safe to retry later, but never \
         sign without a successful check"
    )]
    Locked(#[source] rusqlite::Error),
    /// The disk is full.
    #[error("the disk holding the store is full ({0}); free space, then retry")]
    Full(#[source] rusqlite::Error),
    /// SQLite found the file damaged.
    #[error(
        "the store is damaged ({0}); stop signing, then restore the history from a backup or an \
         export before signing again"
    )]
    Corrupt(#[source] rusqlite::Error),
    /// The file or its directory cannot be written.
    #[error(
        "the store cannot be written ({0}); fix the permissions of the file, its -wal and -shm \
         files and their directory, then retry"
    )]
    ReadOnly(#[source] rusqlite::Error),
    /// The operating system failed a read, a write or an fsync.
    #[error("an I/O error hit the store ({0}); check the disk, then retry")]
    Io(#[source] rusqlite::Error),
    /// Any other SQLite failure.
    #[error("SQLite failed ({0}); nothing was recorded, retry or check the store")]
    Sqlite(#[source] rusqlite::Error),
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Locked(error),
            Some(ErrorCode::DiskFull) => Self::Full(error),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Self::Corrupt(error),
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
                Self::ReadOnly(error)
            }
            Some(ErrorCode::SystemIoFailure) => Self::Io(error),
            _ => Self::Sqlite(error),
        }
    }
}

impl From<rusqlite::Error> for NotSafe {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// A rule of the store (see the module docs) found broken. Writes that would
/// break one are rolled back; a store where one is broken must not be signed
/// with until it is understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    /// After writing a checkpoint, its recorded leaves are not its
    /// commitments. The transaction was rolled back.
    #[error(
        "after recording checkpoint {commitments_root} (table version {table_version}) its \
         leaves read back differently; the write was rolled back, the store may be damaged: run \
         `check_integrity`"
    )]
    LeavesDiffer {
        /// The checkpoint's table version.
        table_version: u32,
        /// The checkpoint's root.
        commitments_root: B256,
    },
    /// A recorded checkpoint's leaves do not rebuild its root: some of its
    /// leaves are missing.
    #[error(
        "recorded checkpoint {commitments_root} (table version {table_version}) lacks leaves: \
         its recorded commitments do not rebuild its root. Stop signing and restore the history \
         from a backup or an export"
    )]
    IncompleteCheckpoint {
        /// The checkpoint's table version.
        table_version: u32,
        /// The checkpoint's root.
        commitments_root: B256,
    },
    /// The store's summary after an import does not add up: the history
    /// shrank (fewer rows, or a lower latest height for a rollup) or did not
    /// grow by what was imported. The import was rolled back.
    #[error("the store's summary after import does not add up ({0}); the import was rolled back")]
    SummaryMismatch(String),
    /// A stored value is outside what the store writes (a negative integer).
    #[error("a stored {field} is out of range ({value}); the store was altered outside Chorus")]
    BadValue {
        /// Which column.
        field: &'static str,
        /// The value found.
        value: i64,
    },
    /// SQLite's `integrity_check` or `foreign_key_check` reported problems.
    #[error(
        "SQLite's integrity checks failed: {}; stop signing and restore the history from a \
         backup or an export",
        .0.join("; ")
    )]
    Sqlite(Vec<String>),
}

/// Why a store could not be created or opened. No store is in use after any
/// of these; the node must not sign.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// `open` found no file. Stores are never created implicitly: a fresh
    /// store on a machine where the key signed before would forget that
    /// history.
    #[error(
        "no slashing-protection store at {0}. If this key has never signed for this deployment, \
         create one; if it signed elsewhere, create one and import that machine's export first"
    )]
    NotFound(PathBuf),
    /// `create` found a file already there; it is never replaced.
    #[error(
        "{0} already exists; refusing to replace a slashing-protection store (open it instead, \
         or move it away only if you are sure it holds no history you still need)"
    )]
    AlreadyExists(PathBuf),
    /// The file is not a Chorus slashing-protection store (another SQLite
    /// database, another file, or one whose header is damaged).
    #[error(
        "{0} is not a Chorus slashing-protection store (or its header is damaged); check the \
         path, the node must not sign without its own store"
    )]
    NotAStore(PathBuf),
    /// The store was written by another version of Chorus with another
    /// schema.
    #[error(
        "{path} has schema version {found}, this build reads version {expected}; use the Chorus \
         version that wrote it (or export there and import here)"
    )]
    UnsupportedSchema {
        /// The store.
        path: PathBuf,
        /// The schema version in the file.
        found: i64,
        /// The schema version this build reads.
        expected: i64,
    },
    /// The store holds the history of another deployment.
    #[error(
        "{path} holds the history of {store}, not of {given}; the node must never sign with \
         another deployment's history: point it at the store of {given}"
    )]
    WrongDomain {
        /// The store.
        path: PathBuf,
        /// The domain recorded in the store.
        store: Domain,
        /// The domain the node asked for.
        given: Domain,
    },
    /// The store holds the history of another BLS key.
    #[error(
        "{path} holds the history of BLS key {store}, not of {given}; the node must never sign \
         with another key's history: point it at this key's store"
    )]
    WrongKey {
        /// The store.
        path: PathBuf,
        /// The key recorded in the store, `0x`-hex.
        store: String,
        /// The key the node asked for, `0x`-hex.
        given: String,
    },
    /// The domain's chain id cannot be stored.
    #[error("cannot create the store: {0}")]
    Malformed(#[from] MalformedCheckpoint),
    /// SQLite did not accept a setting the store's durability depends on
    /// (for example WAL on a file system without shared memory).
    #[error(
        "SQLite kept {setting} = {actual} instead of {wanted}; the store cannot guarantee \
         durable writes there: put it on a local disk"
    )]
    Setting {
        /// The pragma.
        setting: &'static str,
        /// The value asked for.
        wanted: &'static str,
        /// The value SQLite reported.
        actual: String,
    },
    /// A file-system operation failed (directory missing, permissions).
    #[error("cannot create {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed while opening or setting up the store.
    #[error("cannot open the slashing-protection store: {0}")]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for OpenError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Why an interchange file was not imported. Whatever the variant, nothing
/// was written: the store is exactly as it was before the import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file's `interchangeFormatVersion` is not one this build reads.
    #[error(
        "interchange format version {0:?} is not supported (expected \"1\"); nothing was imported"
    )]
    UnsupportedVersion(String),
    /// The file is the history of another deployment.
    #[error(
        "the file holds the history of {file}, this store is for {store}; nothing was imported \
         (import it into that deployment's store)"
    )]
    WrongDomain {
        /// The store's domain.
        store: Domain,
        /// The file's domain.
        file: Domain,
    },
    /// The file is the history of another BLS key.
    #[error(
        "the file holds the history of BLS key {file}, this store is for {store}; nothing was \
         imported (import it into that key's store)"
    )]
    WrongKey {
        /// The store's key, `0x`-hex.
        store: String,
        /// The file's key, `0x`-hex.
        file: String,
    },
    /// The file itself records two different commitments at one rollup and
    /// height: it documents an equivocation and cannot be recorded.
    #[error(
        "the file records two different commitments for rollup {rollup_id} block \
         {l2_block_number}; nothing was imported"
    )]
    ConflictInFile {
        /// The rollup.
        rollup_id: u64,
        /// The height.
        l2_block_number: u64,
    },
    /// A checkpoint of the file breaks a structural rule.
    #[error("a checkpoint in the file is malformed: {0}; nothing was imported")]
    Malformed(#[from] MalformedCheckpoint),
    /// The file records a commitment that differs from one this store
    /// already holds at the same rollup and height.
    #[error(
        "the file conflicts with this store at rollup {rollup_id} block {l2_block_number} (the \
         store holds block hash {} and state root {}, the file block hash {} and state root {}); \
         the key has equivocated or the file is not this key's history. Nothing was imported",
        stored.l2BlockHash, stored.stateRoot, file.l2BlockHash, file.stateRoot
    )]
    Conflict {
        /// The rollup.
        rollup_id: u64,
        /// The height.
        l2_block_number: u64,
        /// The commitment in the store.
        stored: Box<Commitment>,
        /// The commitment in the file.
        file: Box<Commitment>,
    },
    /// The store failed; the import was rolled back.
    #[error("the store failed during import, nothing was imported: {0}")]
    Storage(#[from] StorageError),
    /// The re-check after the import failed; the import was rolled back.
    #[error("nothing was imported: {0}")]
    Inconsistent(#[from] InvariantViolation),
}

impl From<rusqlite::Error> for ImportError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Why the history could not be read (export, summary) or checked
/// ([`SlashingProtection::check_integrity`](super::SlashingProtection::check_integrity)).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// SQLite failed to read.
    #[error("cannot read the store: {0}")]
    Storage(#[from] StorageError),
    /// What was read breaks a rule of the store.
    #[error("the store is not sound: {0}")]
    Violation(#[from] InvariantViolation),
}

impl From<rusqlite::Error> for ReadError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(error.into())
    }
}
