//! The aggregator service: proposer, quorum collection, operator table,
//! submitter, store and HTTP API, as actix actors.
//!
//! STUB: the API below is fixed; the implementation is being written.

pub mod config;

use std::net::SocketAddr;

use alloy::signers::local::PrivateKeySigner;
use chorus_deploy::chorus::Deployment;

pub use config::AggregatorConfig;

/// What [`start`] needs: the configuration and what the binary already
/// opened.
pub struct AggregatorSetup {
    /// The configuration file's contents.
    pub config: AggregatorConfig,
    /// The submitter's decrypted key.
    pub submitter: PrivateKeySigner,
    /// The deployment named by `config.l1.deployment`.
    pub deployment: Deployment,
}

/// Why the aggregator could not start.
#[derive(Debug, thiserror::Error)]
pub enum AggregatorError {
    /// Placeholder.
    #[error("not implemented yet")]
    NotImplemented,
}

/// A running aggregator.
#[derive(Debug)]
pub struct AggregatorHandle {
    api_addr: SocketAddr,
}

impl AggregatorHandle {
    /// Where the HTTP API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Stops the API and every actor, and waits until they stopped (open
    /// checkpoints stay in the store for the next start).
    pub async fn stop(self) {}
}

/// Starts the aggregator's actors and API in the current actix system;
/// returns once the API is bound and the actors are running.
pub async fn start(setup: AggregatorSetup) -> Result<AggregatorHandle, AggregatorError> {
    let _ = setup;
    Err(AggregatorError::NotImplemented)
}
