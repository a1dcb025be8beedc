//! The Chorus operator.
//!
//! This crate holds [`registration`]: the whole EigenLayer flow that
//! makes an operator's restaked stake count in Chorus, from its Ethereum key
//! and its BLS key. The operator node (rollup watchers, the signer with its
//! slashing-protection store, aggregator links) lands here next.
//!
//! [`protection`] is the slashing-protection store: every checkpoint is
//! checked against the key's signed history and durably recorded (SQLite,
//! WAL, fsync) before it may be signed; history moves between machines as
//! EIP-3076-style JSON.

pub mod node;
pub mod protection;
pub mod registration;
