//! What can go wrong in a drill.

use std::time::Duration;

use alloy::primitives::Address;

use crate::consent::ConsentError;

/// Why a drill failed.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// The drill was not confirmed, or not for this chain.
    #[error(transparent)]
    Consent(#[from] ConsentError),
    /// The deployment file is of another chain than the RPC serves.
    #[error(
        "the deployment describes chain {deployment}, but the RPC serves chain {rpc}: point the \
         RPC at the chain it was deployed to"
    )]
    WrongDeployment {
        /// The deployment's chain id.
        deployment: u64,
        /// The RPC's chain id.
        rpc: u64,
    },
    /// A read or transaction on L1 failed.
    #[error("{what}: {reason}")]
    Chain {
        /// What the drill was doing.
        what: String,
        /// The error, as the RPC or contract reported it.
        reason: String,
    },
    /// The drill key is not an operator of the latest table.
    #[error(
        "the drill's BLS key is not in operator table version {version}{named}: register the \
         drill operator (chorus operator register) and update the table first"
    )]
    NotInTable {
        /// The latest table version.
        version: u32,
        /// The operator it was expected for, if named.
        named: String,
    },
    /// The named operator is not the one the drill key belongs to.
    #[error("the drill's BLS key belongs to operator {actual} in the latest table, not {named}")]
    OtherOperator {
        /// The operator given.
        named: Address,
        /// The operator the key is registered for.
        actual: Address,
    },
    /// The operator was slashed before: a drill needs a fresh one.
    #[error(
        "operator {0} has already been slashed for equivocation: a drill needs an operator that \
         was not (register another drill operator)"
    )]
    AlreadySlashed(Address),
    /// The operator is not registered (ejected, or it left).
    #[error(
        "operator {0} is not registered with Chorus (ejected by an earlier slash, or \
         deregistered): a drill needs a registered operator"
    )]
    NotRegistered(Address),
    /// No rollup is listed to drill with.
    #[error("the attestation contract lists no rollup: add one or pass a rollup id")]
    NoRollup,
    /// The watcher did not start or failed.
    #[error("the watcher: {0}")]
    Watcher(String),
    /// The proof was refused on chain (it should not be: this is a bug).
    #[error("the slasher refused the drill's equivocation proof: {0}")]
    ProofRefused(String),
    /// The proof transaction did not slash the operator.
    #[error("{0}")]
    NotSlashed(String),
    /// Something did not happen in time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
    /// The devnet of a liveness drill failed.
    #[error(transparent)]
    Devnet(#[from] chorus_devnet::DevnetError),
    /// Wrong options.
    #[error("{0}")]
    Options(String),
    /// A temporary folder could not be made.
    #[error("cannot create a temporary folder for the watcher's proof store: {0}")]
    TempDir(std::io::Error),
}

impl DrillError {
    /// A chain error while doing `what`.
    pub(crate) fn chain(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Chain { what: what.into(), reason: reason.to_string() }
    }
}
