//! The Chorus operator.
//!
//! Today this crate holds [`registration`]: the whole EigenLayer flow that
//! makes an operator's restaked stake count in Chorus, from its Ethereum key
//! and its BLS key. The operator node (rollup watchers, the signer with its
//! slashing-protection store, aggregator links) lands here next.

pub mod registration;
