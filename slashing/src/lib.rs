//! Slashing watcher: follows aggregators' public signature feeds (and any
//! other evidence it is handed), detects equivocation (one operator's
//! valid signatures over conflicting commitments for one rollup height),
//! proves it to the `ChorusSlasher` and remembers what it submitted or
//! what the slasher refused, so a restart never sends either again.
//!
//! - [`detect`]: pure detection ([`Detector`], [`Evidence`], [`Equivocation`]).
//! - [`submit`]: one proof to the slasher, revert decoded ([`Submitter`]).
//! - [`store`]: the SQLite record ([`ProofStore`]).
//! - [`watcher`]: the actors ([`Watcher::start`] → [`WatcherHandle`]).
//! - [`config`]: the `[watcher]` configuration section ([`WatcherConfig`]).

pub mod config;
pub mod detect;
pub mod store;
pub mod submit;
pub mod watcher;

pub use config::WatcherConfig;
pub use detect::{Detector, Equivocation, Evidence, EvidenceError};
/// The URL type of [`WatcherSetup::aggregators`].
pub use reqwest::Url;
pub use store::{ProofStore, Recorded, StoreError};
pub use submit::{Refusal, SubmitError, SubmitOutcome, Submitter, proof_key};
pub use watcher::{WatchEvent, Watcher, WatcherError, WatcherHandle, WatcherSetup};
