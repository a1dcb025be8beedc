//! The Chorus operator.
//!
//! - [`registration`]: the whole EigenLayer flow that makes an operator's
//!   restaked stake count in Chorus, from its Ethereum key and its BLS key.
//! - [`protection`]: the slashing-protection store. Every checkpoint is
//!   checked against the key's signed history and durably recorded (SQLite,
//!   WAL, fsync) before it may be signed; history moves between machines as
//!   EIP-3076-style JSON.
//! - [`node`]: the operator node run by `chorus operator run`, as actix
//!   actors: a watcher per rollup on the operator's own L2 node, a watcher of
//!   the L1 registry and operator table, the signer (the key behind the
//!   protection store), a link per aggregator that pulls proposals and
//!   answers them, and the EigenLayer AVS node API with Prometheus metrics.
//! - [`status`]: what is wrong with an operator, in typed findings read
//!   from its configuration, L1, its L2 nodes and its aggregators
//!   (`chorus operator status`); needs no password.
//!
//! Data flows one way: an aggregator's proposal is checked (deployment,
//! shape, root), its table version checked against L1, each commitment
//! judged against the operator's own L2 nodes
//! ([`chorus_rollup::RollupReader::judge`]), and then either recorded and
//! signed, or refused with a signed rejection naming each refused commitment
//! and why.

pub mod node;
pub mod protection;
pub mod registration;
pub mod status;
