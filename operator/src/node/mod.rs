//! The operator node: actors that watch rollups, follow the L1 operator
//! table, answer aggregators' proposals and sign behind slashing protection.
//!
//! STUB: the API below is fixed; the implementation is being written.

pub mod config;

use std::net::SocketAddr;

use chorus_deploy::chorus::Deployment;
use chorus_keys::bls::SecretKey;

use crate::protection::SlashingProtection;
pub use config::NodeConfig;

/// What [`start`] needs: the configuration and what the binary already
/// opened (the decrypted key, the deployment file, the protection store).
pub struct NodeSetup {
    /// The configuration file's contents.
    pub config: NodeConfig,
    /// The operator's BLS key.
    pub key: SecretKey,
    /// The deployment named by `config.l1.deployment`.
    pub deployment: Deployment,
    /// The slashing-protection store, opened for this key and domain.
    pub protection: SlashingProtection,
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Placeholder.
    #[error("not implemented yet")]
    NotImplemented,
}

/// A running node.
#[derive(Debug)]
pub struct NodeHandle {
    api_addr: SocketAddr,
}

impl NodeHandle {
    /// Where the node API and `/metrics` listen.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Stops every actor and the API server, and waits until they stopped.
    pub async fn stop(self) {}
}

/// Starts the node's actors and API in the current actix system; returns
/// once the API is bound and the actors are running.
pub async fn start(setup: NodeSetup) -> Result<NodeHandle, NodeError> {
    let _ = setup;
    Err(NodeError::NotImplemented)
}
