//! The `[watcher]` section of an operator's or aggregator's configuration.

use std::{path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

/// `[watcher]`: run an equivocation watcher alongside the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatcherConfig {
    /// Run the watcher (off by default: submitting proofs costs gas).
    #[serde(default)]
    pub enabled: bool,
    /// Aggregator base URLs whose public signature feeds to follow. Empty:
    /// the node's own (an operator's aggregators, the aggregator itself).
    #[serde(default)]
    pub aggregators: Vec<String>,
    /// The proof store (SQLite): what was submitted or refused.
    #[serde(default = "default_store")]
    pub store: PathBuf,
    /// How often each feed is polled, in milliseconds.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// The Ethereum keystore of the account that sends proofs and pays
    /// their gas. Required when enabled; use an account of its own, not the
    /// aggregator's submitter (whose nonces are pinned to checkpoints).
    #[serde(default)]
    pub ecdsa_keystore: Option<PathBuf>,
    /// A file holding that keystore's password; without it the password
    /// comes from `CHORUS_WATCHER_PASSWORD` or a prompt.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

fn default_store() -> PathBuf {
    PathBuf::from("watcher.sqlite")
}

const fn default_poll_interval_ms() -> u64 {
    1_000
}

impl Default for WatcherConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            aggregators: Vec::new(),
            store: default_store(),
            poll_interval_ms: default_poll_interval_ms(),
            ecdsa_keystore: None,
            password_file: None,
        }
    }
}

impl WatcherConfig {
    /// The poll interval (at least 100 ms, so a typo cannot hammer an aggregator).
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(100))
    }
}
