//! Deployment of the contracts Chorus runs against, from Rust.
//!
//! Chorus is an EigenLayer AVS, so every devnet, test chain and testnet
//! drill first needs EigenLayer's core. This crate puts it on any RPC:
//!
//! - [`eigenlayer::deploy_eigenlayer`] deploys the slashing-era core
//!   (v1.3.0 bytecode from `eigen-utils` 2.0) behind OpenZeppelin transparent
//!   proxies, plus a mintable token and a restaking strategy over it, in five
//!   rounds of independent transactions (about 0.2 s on anvil).
//! - [`eigenlayer::operator`] holds the EigenLayer half of an operator's
//!   registration as idempotent steps: deposit, `registerAsOperator`, waiting
//!   out the allocation delay, allocating magnitude, joining operator sets.
//! - [`chorus::deploy_chorus`] deploys the Chorus contracts on top and sets
//!   up the AVS; [`chorus::Deployment`] is the JSON every command reads.
//! - [`anvil`] launches the project's pinned anvil for tests and devnets.
//! - [`rpc_url`] shows RPC URLs without the API keys they often carry, and
//!   takes them out of error texts: every crate prints endpoints through it.
//! - [`contracts`] are the bindings of the small devnet support contracts
//!   in `contracts/src/eigenlayer/` (proxy, pauser registry, strategy, a
//!   registrar that admits everyone).
//!
//! Every transaction is simulated first (`eth_estimateGas`), so a revert is
//! reported with its decoded custom error and the step that caused it, and
//! never consumes a nonce; every receipt's status is checked.
//!
//! The support contracts are for devnets and testnets only: they are small,
//! unaudited, and the token can be minted by anyone.

pub mod anvil;
pub mod chorus;
pub mod contracts;
pub mod eigenlayer;
mod error;
pub mod rpc_url;
mod tx;

pub use error::{DeployError, decode_revert};
pub use tx::TxRecord;
