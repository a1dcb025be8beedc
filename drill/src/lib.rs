//! Drills: rehearse what operators of Chorus must be ready for.
//!
//! - [`consent`]: the confirmations a slashing drill needs before it runs,
//!   and the allow-list of test networks it runs on.
//! - [`equivocation`]: `chorus drill equivocation`: the drill operator
//!   signs two conflicting checkpoints, a watcher catches it and lands the
//!   proof; the report shows the slash on EigenLayer and the operator's
//!   removal from the next operator table.
//! - [`liveness`]: `chorus drill liveness`: operators of a devnet stop for a
//!   while; the report shows whether the quorum held, how long checkpoints
//!   stalled, and how the aggregator recovered.

pub mod consent;
mod decimal;
pub mod equivocation;
mod error;
pub mod liveness;

pub use error::DrillError;
