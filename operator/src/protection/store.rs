//! The SQLite store: schema, opening, the one check-and-insert path, import,
//! export and the integrity check. The rules it keeps are in the module docs
//! of [`protection`](super).

use std::{
    collections::{BTreeMap, btree_map::Entry},
    fmt, fs, io,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use alloy::primitives::{Address, B256};
use chorus_contracts::{Commitment, checkpoint::CheckpointTree};
use chorus_keys::bls::PublicKey;
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    CheckpointToSign, Domain, Safe,
    error::{
        ImportError, InvariantViolation, MalformedCheckpoint, NotSafe, OpenError, ReadError,
        StorageError,
    },
    interchange::{
        INTERCHANGE_FORMAT_VERSION, Interchange, InterchangeCommitment, InterchangeMetadata,
    },
};

/// SQLite `application_id` of a Chorus slashing-protection store: "CHOR".
const APPLICATION_ID: i64 = 0x4348_4f52;

/// SQLite `user_version`: the schema version this build reads and writes.
const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another connection's transaction before
/// failing with [`StorageError::Locked`].
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, written once by [`SlashingProtection::create`] in the same
/// transaction as the identity row. Invariant numbers refer to the module
/// docs of [`protection`](super).
const SCHEMA: &str = "
    PRAGMA application_id = 1128812370;  -- 0x43484f52, \"CHOR\"
    PRAGMA user_version = 1;

    -- Invariant 1: whose history this is; one row, never updated.
    CREATE TABLE store_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        l1_chain_id INTEGER NOT NULL CHECK (l1_chain_id >= 0),
        attestation_contract BLOB NOT NULL CHECK (length(attestation_contract) = 20),
        pubkey BLOB NOT NULL CHECK (length(pubkey) = 96)
    ) STRICT;

    -- Invariant 2: one signed commitment per (rollup, height).
    CREATE TABLE signed_commitments (
        id INTEGER PRIMARY KEY,
        rollup_id INTEGER NOT NULL CHECK (rollup_id >= 0),
        l2_block_number INTEGER NOT NULL CHECK (l2_block_number >= 0),
        l2_block_hash BLOB NOT NULL CHECK (length(l2_block_hash) = 32),
        state_root BLOB NOT NULL CHECK (length(state_root) = 32),
        UNIQUE (rollup_id, l2_block_number),
        UNIQUE (id, rollup_id)  -- target of checkpoint_leaves' composite key
    ) STRICT;

    -- Invariant 4: leaf_count leaves, rebuilding commitments_root.
    CREATE TABLE signed_checkpoints (
        id INTEGER PRIMARY KEY,
        table_version INTEGER NOT NULL CHECK (table_version BETWEEN 0 AND 4294967295),
        commitments_root BLOB NOT NULL CHECK (length(commitments_root) = 32),
        leaf_count INTEGER NOT NULL CHECK (leaf_count >= 1),
        UNIQUE (table_version, commitments_root)
    ) STRICT;

    -- Invariant 3: at most one leaf per rollup in a checkpoint; rollup_id is
    -- the commitment's own (composite foreign key).
    CREATE TABLE checkpoint_leaves (
        checkpoint_id INTEGER NOT NULL REFERENCES signed_checkpoints (id),
        commitment_id INTEGER NOT NULL,
        rollup_id INTEGER NOT NULL,
        PRIMARY KEY (checkpoint_id, commitment_id),
        UNIQUE (checkpoint_id, rollup_id),
        FOREIGN KEY (commitment_id, rollup_id) REFERENCES signed_commitments (id, rollup_id)
    ) STRICT, WITHOUT ROWID;

    CREATE INDEX checkpoint_leaves_by_commitment ON checkpoint_leaves (commitment_id);
";

/// The slashing-protection store of one BLS key in one [`Domain`].
///
/// The only way to record a signature is
/// [`check_and_insert`](Self::check_and_insert); see the [module
/// docs](super) for the rules it keeps. The store is `Send + Sync`: calls
/// from several threads are serialised on one connection. Every call does
/// blocking disk I/O (an fsync per recorded checkpoint): from async code run
/// it on a blocking thread.
pub struct SlashingProtection {
    connection: Mutex<Connection>,
    path: PathBuf,
    domain: Domain,
    pubkey: PublicKey,
}

impl fmt::Debug for SlashingProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlashingProtection")
            .field("path", &self.path)
            .field("domain", &self.domain)
            .field("pubkey", &self.pubkey)
            .finish_non_exhaustive()
    }
}

/// What a store holds, in numbers. Import compares one taken before with one
/// taken after (invariant 5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSummary {
    /// Signed checkpoints.
    pub checkpoints: u64,
    /// Signed commitments (distinct rollup and height).
    pub commitments: u64,
    /// Checkpoint leaves (commitment-in-checkpoint pairs).
    pub leaves: u64,
    /// The highest signed L2 height of each rollup.
    pub latest_heights: BTreeMap<u64, u64>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Checkpoints of the file that were new to the store.
    pub checkpoints_imported: u64,
    /// Checkpoints of the file the store already held.
    pub checkpoints_already_present: u64,
    /// The store before the import.
    pub before: StoreSummary,
    /// The store after the import.
    pub after: StoreSummary,
}

impl SlashingProtection {
    /// Creates the store of `pubkey` in `domain` at `path`, which must not
    /// exist.
    ///
    /// Create a store only for a key that has never signed in this domain,
    /// or to [import](Self::import) its history right after: an empty store
    /// knows nothing of signatures made elsewhere. The store is built in a
    /// temporary file (mode 0600) beside `path` and renamed into place once
    /// complete, so `path` never holds a partial store.
    pub fn create(
        path: impl AsRef<Path>,
        domain: Domain,
        pubkey: &PublicKey,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref();
        let chain_id = sql_int("L1 chain id", domain.l1_chain_id)?;
        match fs::symlink_metadata(path) {
            Ok(_) => return Err(OpenError::AlreadyExists(path.to_path_buf())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(OpenError::Io { path: path.to_path_buf(), source }),
        }
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let io_error = |source| OpenError::Io { path: directory.to_path_buf(), source };
        // tempfile creates the file 0600 on unix; SQLite's -wal and -shm
        // files copy the database file's mode.
        let temporary = tempfile::Builder::new()
            .prefix(".chorus-protection-")
            .suffix(".partial")
            .tempfile_in(directory)
            .map_err(io_error)?
            .into_temp_path();
        {
            let mut connection = Connection::open_with_flags(&temporary, open_flags())?;
            configure(&connection)?;
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            transaction.execute_batch(SCHEMA)?;
            transaction.execute(
                "INSERT INTO store_identity (id, l1_chain_id, attestation_contract, pubkey)
                 VALUES (1, ?1, ?2, ?3)",
                params![chain_id, domain.attestation_contract.as_slice(), pubkey.to_bytes()],
            )?;
            transaction.commit()?;
            // Closing checkpoints the log into the file and removes the
            // -wal file, so the renamed file is the whole store.
            connection.close().map_err(|(_, error)| StorageError::from(error))?;
        }
        temporary.persist_noclobber(path).map_err(|error| {
            if error.error.kind() == io::ErrorKind::AlreadyExists {
                OpenError::AlreadyExists(path.to_path_buf())
            } else {
                OpenError::Io { path: path.to_path_buf(), source: error.error }
            }
        })?;
        fs::File::open(directory).and_then(|dir| dir.sync_all()).map_err(io_error)?;
        Self::open(path, domain, pubkey)
    }

    /// Opens the existing store at `path`, refusing one that belongs to
    /// another domain or key. Never creates a store (see
    /// [`OpenError::NotFound`]).
    pub fn open(
        path: impl AsRef<Path>,
        domain: Domain,
        pubkey: &PublicKey,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref();
        match fs::metadata(path) {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => return Err(OpenError::NotAStore(path.to_path_buf())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(OpenError::NotFound(path.to_path_buf()));
            }
            Err(source) => return Err(OpenError::Io { path: path.to_path_buf(), source }),
        }
        let connection = Connection::open_with_flags(path, open_flags())?;
        // Recognise the file before changing anything in it (journal mode).
        let not_a_store = || OpenError::NotAStore(path.to_path_buf());
        let application_id: i64 =
            match connection.pragma_query_value(None, "application_id", |row| row.get(0)) {
                Ok(id) => id,
                Err(error) if error.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
                    return Err(not_a_store());
                }
                Err(error) => return Err(error.into()),
            };
        if application_id != APPLICATION_ID {
            return Err(not_a_store());
        }
        let schema: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if schema != SCHEMA_VERSION {
            return Err(OpenError::UnsupportedSchema {
                path: path.to_path_buf(),
                found: schema,
                expected: SCHEMA_VERSION,
            });
        }
        configure(&connection)?;

        let (chain_id, contract, key): (i64, Vec<u8>, Vec<u8>) = connection
            .query_row(
                "SELECT l1_chain_id, attestation_contract, pubkey FROM store_identity WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?
            .ok_or_else(not_a_store)?;
        let stored = Domain {
            l1_chain_id: u64::try_from(chain_id).map_err(|_| not_a_store())?,
            attestation_contract: Address::try_from(contract.as_slice())
                .map_err(|_| not_a_store())?,
        };
        if stored != domain {
            return Err(OpenError::WrongDomain {
                path: path.to_path_buf(),
                store: stored,
                given: domain,
            });
        }
        if key.as_slice() != pubkey.to_bytes().as_slice() {
            return Err(OpenError::WrongKey {
                path: path.to_path_buf(),
                store: format!("0x{}", alloy::hex::encode(&key)),
                given: pubkey.to_string(),
            });
        }
        Ok(Self {
            connection: Mutex::new(connection),
            path: path.to_path_buf(),
            domain,
            pubkey: *pubkey,
        })
    }

    /// Checks `checkpoint` against everything this key signed in this
    /// domain and, if signing it cannot be slashable, records it durably.
    ///
    /// Runs as one `BEGIN EXCLUSIVE` transaction: for each commitment, a
    /// different commitment already signed at its rollup and height refuses
    /// the whole checkpoint ([`NotSafe::Conflict`]) and nothing is written;
    /// otherwise the new commitments, the checkpoint and its leaves are
    /// written, read back, and committed (fsync) before this returns
    /// [`Safe`]. Sign only after [`Safe`], and sign exactly
    /// [`CheckpointToSign::signing_message`] of this checkpoint.
    pub fn check_and_insert(&self, checkpoint: &CheckpointToSign) -> Result<Safe, NotSafe> {
        let prepared = Prepared::new(
            checkpoint.table_version(),
            checkpoint.commitments_root(),
            checkpoint.commitments().to_vec(),
        )?;
        let mut connection = self.lock();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        // On any refusal the transaction is dropped, which rolls it back.
        let safe = match check_and_record(&transaction, &prepared)? {
            Recorded::New => Safe::Valid,
            Recorded::AlreadyRecorded => Safe::SameData,
        };
        transaction.commit()?;
        Ok(safe)
    }

    /// The whole history as an [`Interchange`], sorted by rollup, height,
    /// table version and root.
    ///
    /// Export from a node that has stopped signing: whatever it signs after
    /// the export is missing from the file.
    pub fn export(&self) -> Result<Interchange, ReadError> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT c.rollup_id, c.l2_block_number, c.l2_block_hash, c.state_root,
                    k.commitments_root, k.table_version
             FROM checkpoint_leaves l
             JOIN signed_commitments c ON c.id = l.commitment_id
             JOIN signed_checkpoints k ON k.id = l.checkpoint_id
             ORDER BY c.rollup_id, c.l2_block_number, k.table_version, k.commitments_root",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                RawCommitment {
                    rollup_id: row.get(0)?,
                    l2_block_number: row.get(1)?,
                    l2_block_hash: row.get(2)?,
                    state_root: row.get(3)?,
                },
                row.get::<_, [u8; 32]>(4)?,
                row.get::<_, u32>(5)?,
            ))
        })?;
        let mut signed_commitments = Vec::new();
        for row in rows {
            let (raw, root, table_version) = row?;
            let commitment = raw.decode()?;
            signed_commitments.push(InterchangeCommitment {
                rollup_id: commitment.rollupId,
                l2_block_number: commitment.l2BlockNumber,
                l2_block_hash: commitment.l2BlockHash,
                state_root: commitment.stateRoot,
                commitments_root: B256::from(root),
                table_version,
            });
        }
        Ok(Interchange {
            metadata: InterchangeMetadata {
                interchange_format_version: INTERCHANGE_FORMAT_VERSION.to_owned(),
                l1_chain_id: self.domain.l1_chain_id,
                attestation_contract: self.domain.attestation_contract,
                pubkey: self.pubkey,
            },
            signed_commitments,
        })
    }

    /// Adds an exported history to this store, all or nothing.
    ///
    /// Refused, with nothing written: a file of another format version,
    /// domain or key; a file that records two commitments at one rollup and
    /// height, or a checkpoint whose records do not rebuild its root; a file
    /// that conflicts with this store's history. Otherwise every checkpoint
    /// of the file is checked and recorded exactly as by
    /// [`check_and_insert`](Self::check_and_insert), in one exclusive
    /// transaction that commits only if the store's summary grew by what
    /// was imported and nothing went backwards. Importing a file twice
    /// changes nothing the second time.
    pub fn import(&self, interchange: &Interchange) -> Result<ImportSummary, ImportError> {
        let metadata = &interchange.metadata;
        if metadata.interchange_format_version != INTERCHANGE_FORMAT_VERSION {
            return Err(ImportError::UnsupportedVersion(
                metadata.interchange_format_version.clone(),
            ));
        }
        if metadata.domain() != self.domain {
            return Err(ImportError::WrongDomain { store: self.domain, file: metadata.domain() });
        }
        if metadata.pubkey != self.pubkey {
            return Err(ImportError::WrongKey {
                store: self.pubkey.to_string(),
                file: metadata.pubkey.to_string(),
            });
        }
        let checkpoints = checkpoints_of(&interchange.signed_commitments)?;

        let mut connection = self.lock();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let before = summary_of(&transaction)?;
        let (mut imported, mut present) = (0u64, 0u64);
        for checkpoint in &checkpoints {
            match check_and_record(&transaction, checkpoint) {
                Ok(Recorded::New) => imported += 1,
                Ok(Recorded::AlreadyRecorded) => present += 1,
                Err(NotSafe::Conflict { rollup_id, l2_block_number, signed, proposed }) => {
                    return Err(ImportError::Conflict {
                        rollup_id,
                        l2_block_number,
                        stored: signed,
                        file: proposed,
                    });
                }
                Err(NotSafe::Malformed(malformed)) => return Err(malformed.into()),
                Err(NotSafe::Storage(storage)) => return Err(storage.into()),
                Err(NotSafe::Inconsistent(violation)) => return Err(violation.into()),
            }
        }
        let after = summary_of(&transaction)?;
        check_import_summary(&before, &after, imported)?;
        transaction.commit()?;
        Ok(ImportSummary {
            checkpoints_imported: imported,
            checkpoints_already_present: present,
            before,
            after,
        })
    }

    /// Counts and latest heights of the history.
    pub fn summary(&self) -> Result<StoreSummary, ReadError> {
        summary_of(&self.lock())
    }

    /// Re-checks the whole store: SQLite's `integrity_check` and
    /// `foreign_key_check`, and that every checkpoint has `leaf_count`
    /// leaves that rebuild its root (invariant 4). Reads everything: meant
    /// for start-up, the CLI and tests, not for every signature.
    pub fn check_integrity(&self) -> Result<StoreSummary, ReadError> {
        let mut connection = self.lock();
        // One read transaction: one consistent snapshot for every check.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let problems: Vec<String> = transaction
            .prepare("PRAGMA integrity_check")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if problems != ["ok"] {
            return Err(InvariantViolation::Sqlite(problems).into());
        }
        let foreign: Vec<String> = transaction
            .prepare("PRAGMA foreign_key_check")?
            .query_map([], |row| {
                Ok(format!(
                    "row {} of {} breaks a foreign key to {}",
                    row.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        if !foreign.is_empty() {
            return Err(InvariantViolation::Sqlite(foreign).into());
        }
        let checkpoints: Vec<(i64, u32, [u8; 32], i64)> = transaction
            .prepare(
                "SELECT id, table_version, commitments_root, leaf_count FROM signed_checkpoints",
            )?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (id, table_version, root, leaf_count) in checkpoints {
            let commitments_root = B256::from(root);
            let incomplete =
                || InvariantViolation::IncompleteCheckpoint { table_version, commitments_root };
            let leaves = recorded_leaves(&transaction, id)?;
            if i64::try_from(leaves.len()).ok() != Some(leaf_count) {
                return Err(incomplete().into());
            }
            let rebuilt = CheckpointTree::new(leaves).map_err(|_| incomplete())?.root();
            if rebuilt != commitments_root {
                return Err(incomplete().into());
            }
        }
        let summary = summary_of(&transaction)?;
        transaction.commit()?;
        Ok(summary)
    }

    /// Sets how long a write waits for another connection before failing
    /// with [`StorageError::Locked`] ([`DEFAULT_BUSY_TIMEOUT`] until set).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StorageError> {
        Ok(self.lock().busy_timeout(timeout)?)
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The domain whose history this is: build signing messages from it.
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// The key whose history this is.
    pub fn pubkey(&self) -> &PublicKey {
        &self.pubkey
    }

    /// The connection. A panic while it was held cannot have left a write
    /// half-done: the open transaction, if any, was dropped during unwinding,
    /// which rolls it back, and the connection keeps no other state. So a
    /// poisoned lock is taken over rather than turned into a panic.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Flags for every connection: read-write, never create (creation goes
/// through [`SlashingProtection::create`]), no SQLite mutex (the store's
/// own mutex serialises use).
fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// The per-connection settings durability depends on, each read back:
/// WAL, `synchronous = FULL` (the log is fsynced at every commit), foreign
/// keys enforced, and a busy timeout so that concurrent writers wait for
/// each other instead of failing at once.
fn configure(connection: &Connection) -> Result<(), OpenError> {
    connection.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
    let mode: String =
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::Setting { setting: "journal_mode", wanted: "wal", actual: mode });
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    let synchronous: i64 = connection.pragma_query_value(None, "synchronous", |row| row.get(0))?;
    if synchronous != 2 {
        return Err(OpenError::Setting {
            setting: "synchronous",
            wanted: "2 (FULL)",
            actual: synchronous.to_string(),
        });
    }
    connection.pragma_update(None, "foreign_keys", true)?;
    let foreign_keys: bool =
        connection.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    if !foreign_keys {
        return Err(OpenError::Setting {
            setting: "foreign_keys",
            wanted: "on",
            actual: "off".to_owned(),
        });
    }
    Ok(())
}

/// A value as an SQLite integer, or the reason it cannot be one.
fn sql_int(field: &'static str, value: u64) -> Result<i64, MalformedCheckpoint> {
    i64::try_from(value).map_err(|_| MalformedCheckpoint::OutOfRange { field, value })
}

/// A checkpoint ready for the store: table version, root, and commitments
/// sorted by rollup id, at most one per rollup, every number storable.
#[derive(Debug)]
struct Prepared {
    table_version: u32,
    commitments_root: B256,
    commitments: Vec<Commitment>,
    /// `(rollup_id, l2_block_number)` of each commitment, as SQLite integers.
    keys: Vec<(i64, i64)>,
}

impl Prepared {
    /// Checks the structural rules again (the tree already did for a
    /// [`CheckpointToSign`]; an imported file did not), sorting by rollup.
    fn new(
        table_version: u32,
        commitments_root: B256,
        mut commitments: Vec<Commitment>,
    ) -> Result<Self, MalformedCheckpoint> {
        commitments.sort_by_key(|commitment| commitment.rollupId);
        for pair in commitments.windows(2) {
            if pair[0].rollupId == pair[1].rollupId {
                return Err(MalformedCheckpoint::DuplicateRollup { rollup_id: pair[0].rollupId });
            }
        }
        let keys = commitments
            .iter()
            .map(|commitment| {
                Ok((
                    sql_int("rollup id", commitment.rollupId)?,
                    sql_int("L2 block number", commitment.l2BlockNumber)?,
                ))
            })
            .collect::<Result<_, MalformedCheckpoint>>()?;
        Ok(Self { table_version, commitments_root, commitments, keys })
    }
}

/// What [`check_and_record`] did.
enum Recorded {
    /// The checkpoint was new and is written (not yet committed).
    New,
    /// The checkpoint was already recorded; nothing was written.
    AlreadyRecorded,
}

/// Checks a checkpoint against the history and writes it if it is safe.
///
/// The check and the write are meaningful only together and only under the
/// exclusive lock: this must run inside a `BEGIN EXCLUSIVE` transaction that
/// the caller commits only on `Ok` and otherwise drops (rolling back
/// whatever was written). Never make it public, and never split it.
fn check_and_record(
    transaction: &Transaction<'_>,
    checkpoint: &Prepared,
) -> Result<Recorded, NotSafe> {
    // 1. Every commitment against the one signed at its height (invariant 2).
    let mut known = Vec::with_capacity(checkpoint.commitments.len());
    let mut new = Vec::new();
    for (proposed, &key) in checkpoint.commitments.iter().zip(&checkpoint.keys) {
        match signed_at(transaction, key)? {
            Some((id, signed)) if signed == *proposed => known.push(id),
            Some((_, signed)) => {
                return Err(NotSafe::Conflict {
                    rollup_id: proposed.rollupId,
                    l2_block_number: proposed.l2BlockNumber,
                    signed: Box::new(signed),
                    proposed: Box::new(proposed.clone()),
                });
            }
            None => new.push((proposed, key)),
        }
    }
    let leaves_differ = || InvariantViolation::LeavesDiffer {
        table_version: checkpoint.table_version,
        commitments_root: checkpoint.commitments_root,
    };

    // 2. The same checkpoint again: nothing to write, but it must be whole.
    let existing: Option<i64> = transaction
        .prepare_cached(
            "SELECT id FROM signed_checkpoints WHERE table_version = ?1 AND commitments_root = ?2",
        )?
        .query_row(
            params![checkpoint.table_version, checkpoint.commitments_root.as_slice()],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        if recorded_leaves(transaction, id)? != checkpoint.commitments {
            return Err(leaves_differ().into());
        }
        return Ok(Recorded::AlreadyRecorded);
    }

    // 3. Write the new commitments, the checkpoint and its leaves.
    for (commitment, (rollup_id, l2_block_number)) in new {
        transaction
            .prepare_cached(
                "INSERT INTO signed_commitments
                     (rollup_id, l2_block_number, l2_block_hash, state_root)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                rollup_id,
                l2_block_number,
                commitment.l2BlockHash.as_slice(),
                commitment.stateRoot.as_slice(),
            ])?;
        known.push(transaction.last_insert_rowid());
    }
    transaction
        .prepare_cached(
            "INSERT INTO signed_checkpoints (table_version, commitments_root, leaf_count)
             VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            checkpoint.table_version,
            checkpoint.commitments_root.as_slice(),
            i64::try_from(checkpoint.commitments.len()).map_err(|_| leaves_differ())?,
        ])?;
    let checkpoint_id = transaction.last_insert_rowid();
    let mut insert_leaf = transaction.prepare_cached(
        "INSERT INTO checkpoint_leaves (checkpoint_id, commitment_id, rollup_id)
         SELECT ?1, id, rollup_id FROM signed_commitments WHERE id = ?2",
    )?;
    for commitment_id in known {
        if insert_leaf.execute(params![checkpoint_id, commitment_id])? != 1 {
            return Err(leaves_differ().into());
        }
    }

    // 4. Read back before the caller commits (invariant 4).
    if recorded_leaves(transaction, checkpoint_id)? != checkpoint.commitments {
        return Err(leaves_differ().into());
    }
    Ok(Recorded::New)
}

/// The commitment signed at a rollup and height, with its row id.
fn signed_at(
    connection: &Connection,
    (rollup_id, l2_block_number): (i64, i64),
) -> Result<Option<(i64, Commitment)>, ReadError> {
    let row = connection
        .prepare_cached(
            "SELECT id, rollup_id, l2_block_number, l2_block_hash, state_root
             FROM signed_commitments WHERE rollup_id = ?1 AND l2_block_number = ?2",
        )?
        .query_row(params![rollup_id, l2_block_number], |row| {
            Ok((row.get::<_, i64>(0)?, RawCommitment::from_row(row, 1)?))
        })
        .optional()?;
    match row {
        Some((id, raw)) => Ok(Some((id, raw.decode()?))),
        None => Ok(None),
    }
}

/// A checkpoint's recorded commitments, sorted by rollup id.
fn recorded_leaves(
    connection: &Connection,
    checkpoint_id: i64,
) -> Result<Vec<Commitment>, ReadError> {
    let raws: Vec<RawCommitment> = connection
        .prepare_cached(
            "SELECT c.rollup_id, c.l2_block_number, c.l2_block_hash, c.state_root
             FROM checkpoint_leaves l JOIN signed_commitments c ON c.id = l.commitment_id
             WHERE l.checkpoint_id = ?1 ORDER BY c.rollup_id",
        )?
        .query_map([checkpoint_id], |row| RawCommitment::from_row(row, 0))?
        .collect::<Result<_, _>>()?;
    raws.into_iter().map(|raw| raw.decode().map_err(ReadError::from)).collect()
}

/// A `signed_commitments` row as SQLite returns it.
struct RawCommitment {
    rollup_id: i64,
    l2_block_number: i64,
    l2_block_hash: [u8; 32],
    state_root: [u8; 32],
}

impl RawCommitment {
    /// Reads the four columns starting at `first`.
    fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            rollup_id: row.get(first)?,
            l2_block_number: row.get(first + 1)?,
            l2_block_hash: row.get(first + 2)?,
            state_root: row.get(first + 3)?,
        })
    }

    fn decode(self) -> Result<Commitment, InvariantViolation> {
        let unsigned = |field, value: i64| {
            u64::try_from(value).map_err(|_| InvariantViolation::BadValue { field, value })
        };
        Ok(Commitment {
            rollupId: unsigned("rollup id", self.rollup_id)?,
            l2BlockNumber: unsigned("L2 block number", self.l2_block_number)?,
            l2BlockHash: B256::from(self.l2_block_hash),
            stateRoot: B256::from(self.state_root),
        })
    }
}

impl From<ReadError> for NotSafe {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Storage(storage) => Self::Storage(storage),
            ReadError::Violation(violation) => Self::Inconsistent(violation),
        }
    }
}

impl From<ReadError> for ImportError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Storage(storage) => Self::Storage(storage),
            ReadError::Violation(violation) => Self::Inconsistent(violation),
        }
    }
}

/// Counts and latest heights.
fn summary_of(connection: &Connection) -> Result<StoreSummary, ReadError> {
    let count = |table: &str| -> Result<u64, ReadError> {
        let value: i64 =
            connection.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get(0))?;
        u64::try_from(value)
            .map_err(|_| InvariantViolation::BadValue { field: "row count", value }.into())
    };
    let mut latest_heights = BTreeMap::new();
    let rows: Vec<(i64, i64)> = connection
        .prepare_cached(
            "SELECT rollup_id, MAX(l2_block_number) FROM signed_commitments GROUP BY rollup_id",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (rollup_id, height) in rows {
        let unsigned = |field, value: i64| {
            u64::try_from(value).map_err(|_| InvariantViolation::BadValue { field, value })
        };
        latest_heights
            .insert(unsigned("rollup id", rollup_id)?, unsigned("L2 block number", height)?);
    }
    Ok(StoreSummary {
        checkpoints: count("signed_checkpoints")?,
        commitments: count("signed_commitments")?,
        leaves: count("checkpoint_leaves")?,
        latest_heights,
    })
}

/// Invariant 5 for an import: nothing went backwards, and the checkpoints
/// grew by exactly what was imported.
fn check_import_summary(
    before: &StoreSummary,
    after: &StoreSummary,
    imported: u64,
) -> Result<(), InvariantViolation> {
    let mismatch = |what: String| Err(InvariantViolation::SummaryMismatch(what));
    if after.checkpoints != before.checkpoints + imported {
        return mismatch(format!(
            "{} checkpoints before, {imported} imported, {} after",
            before.checkpoints, after.checkpoints
        ));
    }
    if after.commitments < before.commitments || after.leaves < before.leaves {
        return mismatch(format!(
            "commitments {} -> {}, leaves {} -> {}",
            before.commitments, after.commitments, before.leaves, after.leaves
        ));
    }
    for (rollup_id, height) in &before.latest_heights {
        match after.latest_heights.get(rollup_id) {
            Some(after_height) if after_height >= height => {}
            other => {
                return mismatch(format!(
                    "latest height of rollup {rollup_id} went from {height} to {other:?}"
                ));
            }
        }
    }
    Ok(())
}

/// The checkpoints of an interchange file, each checked on its own (one
/// commitment per rollup, records rebuilding its root) and against the
/// others (one commitment per rollup and height across the file).
fn checkpoints_of(records: &[InterchangeCommitment]) -> Result<Vec<Prepared>, ImportError> {
    let mut by_height: BTreeMap<(u64, u64), (B256, B256)> = BTreeMap::new();
    let mut by_checkpoint: BTreeMap<(u32, B256), BTreeMap<u64, Commitment>> = BTreeMap::new();
    for record in records {
        let commitment = Commitment {
            rollupId: record.rollup_id,
            l2BlockNumber: record.l2_block_number,
            l2BlockHash: record.l2_block_hash,
            stateRoot: record.state_root,
        };
        let data = (record.l2_block_hash, record.state_root);
        match by_height.entry((record.rollup_id, record.l2_block_number)) {
            Entry::Vacant(entry) => {
                entry.insert(data);
            }
            Entry::Occupied(entry) if *entry.get() == data => {}
            Entry::Occupied(_) => {
                return Err(ImportError::ConflictInFile {
                    rollup_id: record.rollup_id,
                    l2_block_number: record.l2_block_number,
                });
            }
        }
        let leaves =
            by_checkpoint.entry((record.table_version, record.commitments_root)).or_default();
        match leaves.entry(record.rollup_id) {
            Entry::Vacant(entry) => {
                entry.insert(commitment);
            }
            // The same record twice: harmless, kept once.
            Entry::Occupied(entry) if *entry.get() == commitment => {}
            Entry::Occupied(_) => {
                return Err(
                    MalformedCheckpoint::DuplicateRollup { rollup_id: record.rollup_id }.into()
                );
            }
        }
    }
    let mut checkpoints = Vec::with_capacity(by_checkpoint.len());
    for ((table_version, commitments_root), leaves) in by_checkpoint {
        let commitments: Vec<Commitment> = leaves.into_values().collect();
        // Sorted, one per rollup and never empty by construction, so the
        // tree always builds; a failure counts as not rebuilding the root.
        let rebuilt_root =
            CheckpointTree::new(commitments.clone()).map(|tree| tree.root()).unwrap_or(B256::ZERO);
        if rebuilt_root != commitments_root || rebuilt_root == B256::ZERO {
            return Err(MalformedCheckpoint::IncompleteCheckpoint {
                table_version,
                commitments_root,
                rebuilt_root,
            }
            .into());
        }
        checkpoints.push(Prepared::new(table_version, commitments_root, commitments)?);
    }
    Ok(checkpoints)
}
