//! The watcher's durable memory (SQLite, WAL): which operators a proof
//! already slashed, and which proofs the slasher refused, so that a restart
//! never sends either again.
//!
//! Blocking: the watcher runs it on a `SyncArbiter`.

use std::path::Path;

use alloy::primitives::{Address, B256};
use rusqlite::{Connection, OptionalExtension, params};

/// What the store knows about an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Our proof landed.
    Submitted {
        /// The transaction.
        tx: B256,
        /// Its block.
        block: u64,
    },
    /// Someone else's proof had landed first.
    AlreadySlashed,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("the watcher's proof store failed: {0}; check the file and its disk")]
    Sqlite(#[from] rusqlite::Error),
    /// A row does not parse (the file was edited or is of another program).
    #[error("the watcher's proof store holds an unreadable row: {0}")]
    Corrupt(String),
}

/// The SQLite proof store.
#[derive(Debug)]
pub struct ProofStore {
    connection: Connection,
}

impl ProofStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS slashed (
                 operator TEXT PRIMARY KEY,
                 tx TEXT,
                 block INTEGER,
                 recorded_at INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS refused (
                 proof TEXT PRIMARY KEY,
                 operator TEXT NOT NULL,
                 reason TEXT NOT NULL,
                 recorded_at INTEGER NOT NULL
             );",
        )?;
        Ok(Self { connection })
    }

    /// What is recorded for `operator`, if a proof slashed it.
    pub fn slashed(&self, operator: Address) -> Result<Option<Recorded>, StoreError> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .connection
            .query_row(
                "SELECT tx, block FROM slashed WHERE operator = ?1",
                params![operator.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        row.map(|(tx, block)| match (tx, block) {
            (Some(tx), Some(block)) => Ok(Recorded::Submitted {
                tx: tx.parse().map_err(|_| StoreError::Corrupt(format!("transaction {tx}")))?,
                block: u64::try_from(block)
                    .map_err(|_| StoreError::Corrupt(format!("block {block}")))?,
            }),
            _ => Ok(Recorded::AlreadySlashed),
        })
        .transpose()
    }

    /// Why the slasher refused the proof `proof` (see [`crate::proof_key`]), if it did.
    pub fn refusal(&self, proof: B256) -> Result<Option<String>, StoreError> {
        Ok(self
            .connection
            .query_row(
                "SELECT reason FROM refused WHERE proof = ?1",
                params![proof.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Records that `operator` is slashed (by our `tx` in `block`, or by another).
    pub fn record_slashed(
        &self,
        operator: Address,
        landed: Option<(B256, u64)>,
    ) -> Result<(), StoreError> {
        let (tx, block) = match landed {
            Some((tx, block)) => (
                Some(tx.to_string()),
                Some(
                    i64::try_from(block)
                        .map_err(|_| StoreError::Corrupt(format!("block {block}")))?,
                ),
            ),
            None => (None, None),
        };
        self.connection.execute(
            "INSERT OR IGNORE INTO slashed (operator, tx, block, recorded_at) VALUES (?1, ?2, ?3, ?4)",
            params![operator.to_string(), tx, block, now()],
        )?;
        Ok(())
    }

    /// Records that the slasher refused `proof` against `operator`, and why.
    pub fn record_refused(
        &self,
        proof: B256,
        operator: Address,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT OR IGNORE INTO refused (proof, operator, reason, recorded_at) VALUES (?1, ?2, ?3, ?4)",
            params![proof.to_string(), operator.to_string(), reason, now()],
        )?;
        Ok(())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watcher.sqlite");
        let operator = Address::repeat_byte(1);
        let proof = B256::repeat_byte(2);
        {
            let store = ProofStore::open(&path).unwrap();
            assert_eq!(store.slashed(operator).unwrap(), None);
            store.record_slashed(operator, Some((B256::repeat_byte(3), 42))).unwrap();
            store.record_refused(proof, operator, "InvalidSignature").unwrap();
            store.record_slashed(Address::repeat_byte(9), None).unwrap();
        }
        let store = ProofStore::open(&path).unwrap();
        assert_eq!(
            store.slashed(operator).unwrap(),
            Some(Recorded::Submitted { tx: B256::repeat_byte(3), block: 42 })
        );
        assert_eq!(store.slashed(Address::repeat_byte(9)).unwrap(), Some(Recorded::AlreadySlashed));
        assert_eq!(store.refusal(proof).unwrap().as_deref(), Some("InvalidSignature"));
        assert_eq!(store.refusal(B256::ZERO).unwrap(), None);
    }
}
