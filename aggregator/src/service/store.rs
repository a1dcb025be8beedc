//! The aggregator's durable record (SQLite, WAL, `synchronous = FULL`):
//! checkpoints, the signatures and rejections received for them,
//! divergences, and L1 submissions.
//!
//! Signatures are the one record not fsynced by its own commit (see
//! [`Store::insert_signature`]): an fsync per signature bounded how fast
//! the aggregator could take signatures (BENCHMARKS.md, "Aggregator
//! service"), and a lost signature costs only that checkpoint's liveness.
//!
//! # Invariants
//!
//! 1. Checkpoint ids strictly increase; a new checkpoint gets the next id.
//! 2. A checkpoint's state only moves forward: `open` → `submitting` →
//!    `attested`, and `open` or `submitting` → `superseded`. `attested` and
//!    `superseded` are final. [`Store::set_state`] refuses any other move.
//! 3. A checkpoint is pinned to at most one nonce, and a nonce to at most one
//!    checkpoint (primary key and `UNIQUE`): every transaction ever sent for a
//!    checkpoint (first send, re-sends, fee bumps) uses that one nonce, so at
//!    most one of them can be included.
//! 4. A transaction's hash and fees are written (and fsynced) **before** it
//!    is broadcast ([`Store::record_broadcast`]), so after a crash at any
//!    instant every transaction that may be in a mempool is known.
//! 5. At most one signature per (checkpoint, operator): the last one the
//!    quorum collector accepted (it replaces one found invalid).
//!
//! On start, [`Store::load`] returns the recent checkpoints and every
//! checkpoint still `open` or `submitting` with its signatures and
//! rejections, so that collection resumes, and [`Store::submissions`] the
//! pinned submissions the submitter must re-check before sending anything.
//!
//! Blocking (every write but a signature is fsynced): only the
//! [`StoreActor`] on a `SyncArbiter` calls it in the service.

use std::{
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

use actix::{Actor, Handler, Message, SyncContext};
use alloy::primitives::{Address, B256, Bytes};
use chorus_contracts::Commitment;
use chorus_wire::{CheckpointState, Divergence, OperatorRejection, Rejection};
use rusqlite::{Connection, OptionalExtension, params};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (disk full, permissions, a corrupt file).
    #[error("aggregator store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON column does not decode: the file was edited or written
    /// by an incompatible version.
    #[error(
        "aggregator store: stored record does not decode ({0}); the file is corrupt or from another version"
    )]
    Corrupt(String),
    /// A state change that would move a checkpoint backwards (invariant 2).
    #[error("aggregator store: checkpoint {id} cannot go from {from} to {to}")]
    BadTransition {
        /// The checkpoint.
        id: u64,
        /// Its stored state.
        from: String,
        /// The state asked for.
        to: String,
    },
    /// A second nonce for a checkpoint, or a nonce already pinned to another
    /// checkpoint (invariant 3).
    #[error(
        "aggregator store: nonce {nonce} for checkpoint {checkpoint_id} conflicts with a pinned submission"
    )]
    NonceConflict {
        /// The checkpoint.
        checkpoint_id: u64,
        /// The nonce asked for.
        nonce: u64,
    },
    /// No such checkpoint.
    #[error("aggregator store: no checkpoint {0}")]
    UnknownCheckpoint(u64),
    /// The store actor has no open store (it failed to start).
    #[error("aggregator store is not open")]
    Closed,
}

/// A checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Its id.
    pub id: u64,
    /// The table version it names.
    pub table_version: u32,
    /// Its commitments, sorted by rollup.
    pub commitments: Vec<Commitment>,
    /// Their root.
    pub root: B256,
    /// Its state.
    pub state: CheckpointState,
    /// When it was proposed, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The L1 transaction that attested it.
    pub l1_transaction: Option<B256>,
    /// The L1 block that attested it.
    pub l1_block: Option<u64>,
    /// Accepted signatures (48-byte compressed), by operator.
    pub signatures: Vec<(Address, Bytes)>,
    /// Recorded rejections.
    pub rejections: Vec<OperatorRejection>,
}

/// One broadcast of a submission's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    /// The transaction hash.
    pub tx_hash: B256,
    /// Its max fee per gas, in wei.
    pub max_fee_per_gas: u128,
    /// Its max priority fee per gas, in wei.
    pub max_priority_fee_per_gas: u128,
    /// When it was recorded, in milliseconds since the Unix epoch.
    pub sent_ms: u64,
}

/// A checkpoint's pinned L1 submission and every broadcast of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The checkpoint.
    pub checkpoint_id: u64,
    /// Its root (to ask the contract whether it is attested).
    pub root: B256,
    /// The one nonce of every transaction for it.
    pub nonce: u64,
    /// The attestation contract.
    pub to: Address,
    /// The call data (`submitCheckpointWithCommitments`).
    pub calldata: Bytes,
    /// The gas limit.
    pub gas_limit: u64,
    /// Every broadcast, oldest first.
    pub broadcasts: Vec<Broadcast>,
}

/// What [`Store::load`] returns on start.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Recent checkpoints and every open or submitting one, oldest first.
    pub checkpoints: Vec<StoredCheckpoint>,
    /// Recent divergences, oldest first.
    pub divergences: Vec<Divergence>,
    /// The id the next checkpoint gets.
    pub next_id: u64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn state_name(state: CheckpointState) -> &'static str {
    match state {
        CheckpointState::Open => "open",
        CheckpointState::Submitting => "submitting",
        CheckpointState::Attested => "attested",
        CheckpointState::Superseded => "superseded",
    }
}

fn parse_state(name: &str) -> Result<CheckpointState, StoreError> {
    match name {
        "open" => Ok(CheckpointState::Open),
        "submitting" => Ok(CheckpointState::Submitting),
        "attested" => Ok(CheckpointState::Attested),
        "superseded" => Ok(CheckpointState::Superseded),
        other => Err(StoreError::Corrupt(format!("unknown checkpoint state {other:?}"))),
    }
}

/// Whether `from` → `to` is allowed (invariant 2).
fn may_move(from: CheckpointState, to: CheckpointState) -> bool {
    use CheckpointState::*;
    matches!(
        (from, to),
        (Open, Submitting) | (Submitting, Attested) | (Open | Submitting, Superseded)
    ) || from == to
}

fn b256(bytes: Vec<u8>) -> Result<B256, StoreError> {
    B256::try_from(bytes.as_slice()).map_err(|_| StoreError::Corrupt("bad 32-byte value".into()))
}

fn address(bytes: Vec<u8>) -> Result<Address, StoreError> {
    Address::try_from(bytes.as_slice()).map_err(|_| StoreError::Corrupt("bad address".into()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_u128(text: &str) -> Result<u128, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("bad fee {text:?}")))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    table_version INTEGER NOT NULL,
    commitments TEXT NOT NULL,
    root BLOB NOT NULL,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    l1_tx BLOB,
    l1_block INTEGER
);
CREATE INDEX IF NOT EXISTS checkpoints_state ON checkpoints(state);
CREATE TABLE IF NOT EXISTS signatures (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
    operator BLOB NOT NULL,
    signature BLOB NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (checkpoint_id, operator)
);
CREATE TABLE IF NOT EXISTS rejections (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
    operator BLOB NOT NULL,
    rejected TEXT NOT NULL,
    signature BLOB NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (checkpoint_id, operator)
);
CREATE TABLE IF NOT EXISTS divergences (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    checkpoint_id INTEGER NOT NULL,
    operator BLOB NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    checkpoint_id INTEGER PRIMARY KEY REFERENCES checkpoints(id),
    nonce INTEGER NOT NULL UNIQUE,
    to_address BLOB NOT NULL,
    calldata BLOB NOT NULL,
    gas_limit INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS broadcasts (
    tx_hash BLOB PRIMARY KEY,
    checkpoint_id INTEGER NOT NULL REFERENCES submissions(checkpoint_id),
    max_fee TEXT NOT NULL,
    priority_fee TEXT NOT NULL,
    sent_ms INTEGER NOT NULL
);
";

/// The aggregator's SQLite store. See the [module docs](self).
#[derive(Debug)]
pub struct Store {
    /// Every write but signatures: each commit fsynced.
    conn: Connection,
    /// Signatures only: commits not fsynced by themselves
    /// ([`Store::insert_signature`]). The synchronous level is per
    /// connection, so no commit on `conn` can ever run without its fsync.
    signatures: Connection,
}

impl Store {
    /// Opens (creating if needed) the store at `path`, in WAL mode with
    /// every commit but a signature's fsynced.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        let signatures = Connection::open(path)?;
        signatures.pragma_update(None, "synchronous", "NORMAL")?;
        signatures.pragma_update(None, "foreign_keys", "ON")?;
        signatures.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn, signatures })
    }

    /// Records a new proposal as `open` (or as given).
    pub fn insert_checkpoint(&mut self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO checkpoints (id, table_version, commitments, root, state, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                checkpoint.id,
                checkpoint.table_version,
                to_json(&checkpoint.commitments)?,
                checkpoint.root.as_slice(),
                state_name(checkpoint.state),
                checkpoint.created_ms,
            ],
        )?;
        Ok(())
    }

    /// Moves a checkpoint to `state` (forward only), with its L1 inclusion
    /// when attested.
    pub fn set_state(
        &mut self,
        id: u64,
        state: CheckpointState,
        inclusion: Option<(Option<B256>, u64)>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let current: Option<String> = tx
            .query_row("SELECT state FROM checkpoints WHERE id = ?1", [id], |row| row.get(0))
            .optional()?;
        let current = parse_state(&current.ok_or(StoreError::UnknownCheckpoint(id))?)?;
        if !may_move(current, state) {
            return Err(StoreError::BadTransition {
                id,
                from: state_name(current).to_owned(),
                to: state_name(state).to_owned(),
            });
        }
        let (l1_tx, l1_block) = match inclusion {
            Some((hash, block)) => (hash.map(|h| h.to_vec()), Some(block)),
            None => (None, None),
        };
        tx.execute(
            "UPDATE checkpoints SET state = ?2, l1_tx = COALESCE(?3, l1_tx),
             l1_block = COALESCE(?4, l1_block) WHERE id = ?1",
            params![id, state_name(state), l1_tx, l1_block],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records an accepted signature (replacing the operator's earlier one).
    ///
    /// The commit is not fsynced by itself (WAL, `synchronous = NORMAL`):
    /// it survives a crash of the process at once (it is in the WAL, in the
    /// OS's cache), and a crash of the machine from the next fsynced commit
    /// on (an fsync of the WAL covers every frame before it) or SQLite's
    /// next checkpoint. The quorum's move to `submitting` is such a commit,
    /// written before anything goes to L1, so nothing ever sent depends on
    /// a signature that could be lost; a power loss may lose only the last
    /// signatures of a checkpoint still collecting, which the proposer's
    /// timeout then supersedes.
    pub fn insert_signature(
        &mut self,
        checkpoint_id: u64,
        operator: Address,
        signature: &[u8],
    ) -> Result<(), StoreError> {
        self.insert_signatures(checkpoint_id, &[(operator, Bytes::copy_from_slice(signature))])
    }

    /// Records a batch of verified signatures of one checkpoint in one
    /// commit, durable as [`Store::insert_signature`] says.
    pub fn insert_signatures(
        &mut self,
        checkpoint_id: u64,
        signatures: &[(Address, Bytes)],
    ) -> Result<(), StoreError> {
        if signatures.is_empty() {
            return Ok(());
        }
        let received_ms = now_ms();
        let tx = self.signatures.transaction()?;
        {
            // Cached: parsing the statement cost as much as running it,
            // once per signature.
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO signatures (checkpoint_id, operator, signature, received_ms)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (operator, signature) in signatures {
                insert.execute(params![
                    checkpoint_id,
                    operator.as_slice(),
                    signature.as_ref(),
                    received_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes signatures found invalid (they count for nothing and are
    /// not published).
    pub fn remove_signatures(
        &mut self,
        checkpoint_id: u64,
        operators: &[Address],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for operator in operators {
            tx.execute(
                "DELETE FROM signatures WHERE checkpoint_id = ?1 AND operator = ?2",
                params![checkpoint_id, operator.as_slice()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a verified rejection and its divergences; `false` if this
    /// operator's rejection of this checkpoint was recorded before.
    pub fn insert_rejection(
        &mut self,
        rejection: &Rejection,
        divergences: &[Divergence],
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO rejections (checkpoint_id, operator, rejected, signature, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                rejection.checkpoint_id,
                rejection.operator.as_slice(),
                to_json(&rejection.rejected)?,
                rejection.signature.as_ref(),
                now_ms(),
            ],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        for divergence in divergences {
            tx.execute(
                "INSERT INTO divergences (checkpoint_id, operator, body) VALUES (?1, ?2, ?3)",
                params![
                    divergence.checkpoint_id,
                    divergence.operator.as_slice(),
                    to_json(divergence)?
                ],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Writes one broadcast of `submission` (pinning its nonce on the first)
    /// **before** the transaction is sent (invariant 4). Refuses a second
    /// nonce for the checkpoint or a nonce pinned to another one.
    pub fn record_broadcast(
        &mut self,
        submission: &Submission,
        broadcast: &Broadcast,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let conflict = || StoreError::NonceConflict {
            checkpoint_id: submission.checkpoint_id,
            nonce: submission.nonce,
        };
        let pinned: Option<u64> = tx
            .query_row(
                "SELECT nonce FROM submissions WHERE checkpoint_id = ?1",
                [submission.checkpoint_id],
                |row| row.get(0),
            )
            .optional()?;
        match pinned {
            Some(nonce) if nonce != submission.nonce => return Err(conflict()),
            Some(_) => {}
            None => {
                let taken: Option<u64> = tx
                    .query_row(
                        "SELECT checkpoint_id FROM submissions WHERE nonce = ?1",
                        [submission.nonce],
                        |row| row.get(0),
                    )
                    .optional()?;
                if taken.is_some() {
                    return Err(conflict());
                }
                tx.execute(
                    "INSERT INTO submissions (checkpoint_id, nonce, to_address, calldata, gas_limit)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        submission.checkpoint_id,
                        submission.nonce,
                        submission.to.as_slice(),
                        submission.calldata.as_ref(),
                        submission.gas_limit,
                    ],
                )?;
            }
        }
        tx.execute(
            "INSERT OR IGNORE INTO broadcasts (tx_hash, checkpoint_id, max_fee, priority_fee, sent_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                broadcast.tx_hash.as_slice(),
                submission.checkpoint_id,
                broadcast.max_fee_per_gas.to_string(),
                broadcast.max_priority_fee_per_gas.to_string(),
                broadcast.sent_ms,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every pinned submission of a checkpoint still `submitting`, with its
    /// broadcasts: what the submitter re-checks on start.
    pub fn submissions(&self) -> Result<Vec<Submission>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT s.checkpoint_id, c.root, s.nonce, s.to_address, s.calldata, s.gas_limit
             FROM submissions s JOIN checkpoints c ON c.id = s.checkpoint_id
             WHERE c.state = 'submitting' ORDER BY s.nonce",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, u64>(2)?,
                row.get::<_, Vec<u8>>(3)?,
                row.get::<_, Vec<u8>>(4)?,
                row.get::<_, u64>(5)?,
            ))
        })?;
        let mut submissions = Vec::new();
        for row in rows {
            let (checkpoint_id, root, nonce, to, calldata, gas_limit) = row?;
            submissions.push(Submission {
                checkpoint_id,
                root: b256(root)?,
                nonce,
                to: address(to)?,
                calldata: Bytes::from(calldata),
                gas_limit,
                broadcasts: self.broadcasts(checkpoint_id)?,
            });
        }
        Ok(submissions)
    }

    /// The submission pinned to `checkpoint_id`, whatever its state.
    pub fn submission(&self, checkpoint_id: u64) -> Result<Option<Submission>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT c.root, s.nonce, s.to_address, s.calldata, s.gas_limit
                 FROM submissions s JOIN checkpoints c ON c.id = s.checkpoint_id
                 WHERE s.checkpoint_id = ?1",
                [checkpoint_id],
                |row| {
                    Ok((
                        row.get::<_, Vec<u8>>(0)?,
                        row.get::<_, u64>(1)?,
                        row.get::<_, Vec<u8>>(2)?,
                        row.get::<_, Vec<u8>>(3)?,
                        row.get::<_, u64>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((root, nonce, to, calldata, gas_limit)) = row else { return Ok(None) };
        Ok(Some(Submission {
            checkpoint_id,
            root: b256(root)?,
            nonce,
            to: address(to)?,
            calldata: Bytes::from(calldata),
            gas_limit,
            broadcasts: self.broadcasts(checkpoint_id)?,
        }))
    }

    /// The highest nonce ever pinned.
    pub fn max_nonce(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.conn.query_row("SELECT MAX(nonce) FROM submissions", [], |row| row.get(0))?)
    }

    fn broadcasts(&self, checkpoint_id: u64) -> Result<Vec<Broadcast>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT tx_hash, max_fee, priority_fee, sent_ms FROM broadcasts
             WHERE checkpoint_id = ?1 ORDER BY sent_ms, rowid",
        )?;
        let rows = statement.query_map([checkpoint_id], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, u64>(3)?,
            ))
        })?;
        let mut broadcasts = Vec::new();
        for row in rows {
            let (hash, max_fee, priority_fee, sent_ms) = row?;
            broadcasts.push(Broadcast {
                tx_hash: b256(hash)?,
                max_fee_per_gas: parse_u128(&max_fee)?,
                max_priority_fee_per_gas: parse_u128(&priority_fee)?,
                sent_ms,
            });
        }
        Ok(broadcasts)
    }

    /// The `recent` newest checkpoints plus every `open` or `submitting`
    /// one, with signatures and rejections; the `recent` newest divergences;
    /// the next checkpoint id.
    pub fn load(&self, recent: usize) -> Result<Loaded, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT id, table_version, commitments, root, state, created_ms, l1_tx, l1_block
             FROM checkpoints
             WHERE state IN ('open', 'submitting')
                OR id IN (SELECT id FROM checkpoints ORDER BY id DESC LIMIT ?1)
             ORDER BY id",
        )?;
        let rows = statement.query_map([recent as u64], |row| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Vec<u8>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, u64>(5)?,
                row.get::<_, Option<Vec<u8>>>(6)?,
                row.get::<_, Option<u64>>(7)?,
            ))
        })?;
        let mut checkpoints = Vec::new();
        for row in rows {
            let (id, table_version, commitments, root, state, created_ms, l1_tx, l1_block) = row?;
            checkpoints.push(StoredCheckpoint {
                id,
                table_version,
                commitments: from_json(&commitments)?,
                root: b256(root)?,
                state: parse_state(&state)?,
                created_ms,
                l1_transaction: l1_tx.map(b256).transpose()?,
                l1_block,
                signatures: self.signatures(id)?,
                rejections: self.rejections(id)?,
            });
        }
        let next_id: Option<u64> =
            self.conn.query_row("SELECT MAX(id) FROM checkpoints", [], |row| row.get(0))?;
        Ok(Loaded {
            checkpoints,
            divergences: self.divergences(recent)?,
            next_id: next_id.map_or(1, |id| id + 1),
        })
    }

    fn signatures(&self, checkpoint_id: u64) -> Result<Vec<(Address, Bytes)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT operator, signature FROM signatures WHERE checkpoint_id = ?1 ORDER BY received_ms",
        )?;
        let rows = statement.query_map([checkpoint_id], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut signatures = Vec::new();
        for row in rows {
            let (operator, signature) = row?;
            signatures.push((address(operator)?, Bytes::from(signature)));
        }
        Ok(signatures)
    }

    fn rejections(&self, checkpoint_id: u64) -> Result<Vec<OperatorRejection>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT operator, rejected FROM rejections WHERE checkpoint_id = ?1 ORDER BY received_ms",
        )?;
        let rows = statement.query_map([checkpoint_id], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut rejections = Vec::new();
        for row in rows {
            let (operator, rejected) = row?;
            rejections.push(OperatorRejection {
                operator: address(operator)?,
                rejected: from_json(&rejected)?,
            });
        }
        Ok(rejections)
    }

    fn divergences(&self, recent: usize) -> Result<Vec<Divergence>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT body FROM (SELECT seq, body FROM divergences ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
        )?;
        let rows = statement.query_map([recent as u64], |row| row.get::<_, String>(0))?;
        let mut divergences = Vec::new();
        for row in rows {
            divergences.push(from_json(&row?)?);
        }
        Ok(divergences)
    }
}

/// The store on its own thread (`SyncArbiter` of one): every message is
/// one blocking, fsynced SQLite transaction.
#[derive(Debug)]
pub struct StoreActor {
    store: Option<Store>,
}

impl StoreActor {
    /// Wraps an opened store.
    pub fn new(store: Option<Store>) -> Self {
        Self { store }
    }

    fn store(&mut self) -> Result<&mut Store, StoreError> {
        self.store.as_mut().ok_or(StoreError::Closed)
    }
}

impl Actor for StoreActor {
    type Context = SyncContext<Self>;
}

/// Record a new proposal.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct RecordProposal(pub StoredCheckpoint);

impl Handler<RecordProposal> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, msg: RecordProposal, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.insert_checkpoint(&msg.0)
    }
}

/// Move a checkpoint forward.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct RecordState {
    /// The checkpoint.
    pub id: u64,
    /// Its new state.
    pub state: CheckpointState,
    /// Its L1 inclusion (transaction, block), when attested.
    pub inclusion: Option<(Option<B256>, u64)>,
}

impl Handler<RecordState> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, msg: RecordState, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.set_state(msg.id, msg.state, msg.inclusion)
    }
}

/// Record a batch of verified signatures of one checkpoint.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct RecordSignatures {
    /// The checkpoint.
    pub checkpoint_id: u64,
    /// Each operator and its 48-byte signature.
    pub signatures: Vec<(Address, Bytes)>,
}

impl Handler<RecordSignatures> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, msg: RecordSignatures, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.insert_signatures(msg.checkpoint_id, &msg.signatures)
    }
}

/// Forget signatures found invalid.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct ForgetSignatures {
    /// The checkpoint.
    pub checkpoint_id: u64,
    /// The operators whose signature was invalid.
    pub operators: Vec<Address>,
}

impl Handler<ForgetSignatures> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, msg: ForgetSignatures, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.remove_signatures(msg.checkpoint_id, &msg.operators)
    }
}

/// Record a verified rejection; answers `false` for a repeat.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, StoreError>")]
pub struct RecordRejection {
    /// The rejection.
    pub rejection: Rejection,
    /// Its divergences.
    pub divergences: Vec<Divergence>,
}

impl Handler<RecordRejection> for StoreActor {
    type Result = Result<bool, StoreError>;
    fn handle(&mut self, msg: RecordRejection, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.insert_rejection(&msg.rejection, &msg.divergences)
    }
}

/// Record a broadcast before sending it.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct RecordBroadcast {
    /// The submission (its nonce pinned on the first broadcast).
    pub submission: Submission,
    /// The broadcast.
    pub broadcast: Broadcast,
}

impl Handler<RecordBroadcast> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, msg: RecordBroadcast, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.record_broadcast(&msg.submission, &msg.broadcast)
    }
}

/// Load what the service resumes from.
#[derive(Debug, Message)]
#[rtype(result = "Result<Loaded, StoreError>")]
pub struct LoadRecent {
    /// How many recent checkpoints and divergences.
    pub recent: usize,
}

impl Handler<LoadRecent> for StoreActor {
    type Result = Result<Loaded, StoreError>;
    fn handle(&mut self, msg: LoadRecent, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.load(msg.recent)
    }
}

/// The pinned submissions of checkpoints still submitting, and the highest
/// nonce ever pinned.
#[derive(Debug, Message)]
#[rtype(result = "Result<(Vec<Submission>, Option<u64>), StoreError>")]
pub struct LoadSubmissions;

impl Handler<LoadSubmissions> for StoreActor {
    type Result = Result<(Vec<Submission>, Option<u64>), StoreError>;
    fn handle(&mut self, _: LoadSubmissions, _: &mut SyncContext<Self>) -> Self::Result {
        let store = self.store()?;
        Ok((store.submissions()?, store.max_nonce()?))
    }
}

/// The submission pinned to one checkpoint, if any.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<Submission>, StoreError>")]
pub struct LoadSubmission(pub u64);

impl Handler<LoadSubmission> for StoreActor {
    type Result = Result<Option<Submission>, StoreError>;
    fn handle(&mut self, msg: LoadSubmission, _: &mut SyncContext<Self>) -> Self::Result {
        self.store()?.submission(msg.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_wire::{RejectReason, RejectedCommitment};

    fn commitment(rollup: u64, height: u64) -> Commitment {
        Commitment {
            rollupId: rollup,
            l2BlockNumber: height,
            l2BlockHash: B256::repeat_byte(height as u8),
            stateRoot: B256::repeat_byte(0x55),
        }
    }

    fn checkpoint(id: u64) -> StoredCheckpoint {
        StoredCheckpoint {
            id,
            table_version: 1,
            commitments: vec![commitment(901, id), commitment(902, id)],
            root: B256::repeat_byte(id as u8),
            state: CheckpointState::Open,
            created_ms: now_ms(),
            l1_transaction: None,
            l1_block: None,
            signatures: Vec::new(),
            rejections: Vec::new(),
        }
    }

    #[test]
    fn open_checkpoints_and_signatures_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregator.sqlite");
        {
            let mut store = Store::open(&path).unwrap();
            for id in 1..=3 {
                store.insert_checkpoint(&checkpoint(id)).unwrap();
            }
            store.set_state(1, CheckpointState::Submitting, None).unwrap();
            store.set_state(1, CheckpointState::Attested, Some((Some(B256::ZERO), 7))).unwrap();
            store.set_state(2, CheckpointState::Superseded, None).unwrap();
            store.insert_signature(3, Address::repeat_byte(1), &[1; 48]).unwrap();
            store.insert_signature(3, Address::repeat_byte(1), &[2; 48]).unwrap();
            store.insert_signature(3, Address::repeat_byte(2), &[3; 48]).unwrap();
            store.insert_signature(3, Address::repeat_byte(5), &[5; 48]).unwrap();
            store.remove_signatures(3, &[Address::repeat_byte(5)]).unwrap();
            let rejection = Rejection {
                checkpoint_id: 3,
                operator: Address::repeat_byte(4),
                table_version: 1,
                commitments_root: B256::repeat_byte(3),
                rejected: vec![RejectedCommitment {
                    commitment: commitment(901, 3),
                    reason: RejectReason::Mismatch { ours: commitment(901, 30) },
                }],
                signature: Bytes::from(vec![9; 48]),
            };
            let divergence = Divergence {
                checkpoint_id: 3,
                operator: Address::repeat_byte(4),
                proposed: commitment(901, 3),
                theirs: commitment(901, 30),
            };
            assert!(store.insert_rejection(&rejection, std::slice::from_ref(&divergence)).unwrap());
            assert!(!store.insert_rejection(&rejection, &[divergence]).unwrap());
        }
        let store = Store::open(&path).unwrap();
        let loaded = store.load(1).unwrap();
        assert_eq!(loaded.next_id, 4);
        // The newest one (recent = 1) is also the only open one.
        assert_eq!(loaded.checkpoints.len(), 1);
        let open = &loaded.checkpoints[0];
        assert_eq!(open.id, 3);
        assert_eq!(open.state, CheckpointState::Open);
        assert_eq!(open.commitments, checkpoint(3).commitments);
        assert_eq!(
            open.signatures,
            vec![
                (Address::repeat_byte(1), Bytes::from(vec![2; 48])),
                (Address::repeat_byte(2), Bytes::from(vec![3; 48]))
            ]
        );
        assert_eq!(open.rejections.len(), 1);
        assert_eq!(loaded.divergences.len(), 1);
        let all = store.load(10).unwrap();
        assert_eq!(all.checkpoints.len(), 3);
        assert_eq!(all.checkpoints[0].l1_block, Some(7));
        assert_eq!(all.checkpoints[0].state, CheckpointState::Attested);
    }

    /// Signatures go through their own connection (no fsync of their
    /// own): the main one reads them at once, and its checks still hold.
    #[test]
    fn signatures_written_without_their_own_fsync_are_read_at_once_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        store.insert_checkpoint(&checkpoint(1)).unwrap();
        for (operator, byte) in [(1, 7), (2, 8), (1, 9)] {
            store.insert_signature(1, Address::repeat_byte(operator), &[byte; 48]).unwrap();
        }
        let loaded = store.load(10).unwrap();
        let signatures = &loaded.checkpoints[0].signatures;
        assert_eq!(signatures.len(), 2, "one signature per operator: {signatures:?}");
        assert!(signatures.contains(&(Address::repeat_byte(1), Bytes::from(vec![9; 48]))));
        // Foreign keys hold on that connection too.
        assert!(store.insert_signature(2, Address::repeat_byte(1), &[1; 48]).is_err());
        let synchronous: i64 =
            store.conn.pragma_query_value(None, "synchronous", |row| row.get(0)).unwrap();
        assert_eq!(synchronous, 2, "every other write stays FULL");
    }

    #[test]
    fn states_only_move_forward() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        store.insert_checkpoint(&checkpoint(1)).unwrap();
        store.set_state(1, CheckpointState::Superseded, None).unwrap();
        let err = store.set_state(1, CheckpointState::Open, None).unwrap_err();
        assert!(matches!(err, StoreError::BadTransition { id: 1, .. }), "{err}");
        let err = store.set_state(1, CheckpointState::Attested, None).unwrap_err();
        assert!(matches!(err, StoreError::BadTransition { .. }));
        assert!(matches!(
            store.set_state(9, CheckpointState::Submitting, None),
            Err(StoreError::UnknownCheckpoint(9))
        ));
    }

    #[test]
    fn a_broadcast_recorded_before_sending_is_found_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let submission = Submission {
            checkpoint_id: 1,
            root: B256::repeat_byte(1),
            nonce: 5,
            to: Address::repeat_byte(7),
            calldata: Bytes::from(vec![1, 2, 3]),
            gas_limit: 500_000,
            broadcasts: Vec::new(),
        };
        let first = Broadcast {
            tx_hash: B256::repeat_byte(0xaa),
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            sent_ms: 1,
        };
        let bumped = Broadcast {
            tx_hash: B256::repeat_byte(0xbb),
            max_fee_per_gas: 2_300_000_000,
            max_priority_fee_per_gas: 1_150_000_000,
            sent_ms: 2,
        };
        {
            let mut store = Store::open(&path).unwrap();
            store.insert_checkpoint(&checkpoint(1)).unwrap();
            store.insert_checkpoint(&checkpoint(2)).unwrap();
            store.set_state(1, CheckpointState::Submitting, None).unwrap();
            store.record_broadcast(&submission, &first).unwrap();
            store.record_broadcast(&submission, &bumped).unwrap();
            // Another nonce for the same checkpoint, or the same nonce for
            // another checkpoint, would allow a second inclusion.
            let other_nonce = Submission { nonce: 6, ..submission.clone() };
            assert!(matches!(
                store.record_broadcast(&other_nonce, &first),
                Err(StoreError::NonceConflict { .. })
            ));
            let other_checkpoint = Submission { checkpoint_id: 2, ..submission.clone() };
            assert!(matches!(
                store.record_broadcast(&other_checkpoint, &first),
                Err(StoreError::NonceConflict { .. })
            ));
        }
        let store = Store::open(&path).unwrap();
        let found = store.submissions().unwrap();
        assert_eq!(found, vec![Submission { broadcasts: vec![first, bumped], ..submission }]);
        assert_eq!(store.max_nonce().unwrap(), Some(5));
    }
}
