//! End-to-end benchmarks of Chorus on a devnet (issue "Performance", items
//! 3 to 5). Nothing here is a test: the binaries print figures for
//! `BENCHMARKS.md`.
//!
//! - `latency`: a devnet ([`chorus_devnet::Devnet`]) with N operators and K
//!   rollups; this process watches every chain with its own clock
//!   ([`observe`]) and the nodes' log events ([`timeline`]), and reports how
//!   long an L2 block takes from reaching the operators' safety depth to the
//!   L1 inclusion of the checkpoint that covers it, stage by stage, with
//!   the memory of the aggregator, the operators and the chains.
//! - `signing`: the operator's signing path (judge against the L2 node,
//!   slashing protection's check-and-insert with fsync, BLS sign), stage by
//!   stage, outside any devnet.
//!
//! Why a local clock: anvil's block timestamps are whole seconds, far
//! coarser than the latencies measured. Each chain is polled every
//! `--poll-ms`; a block is seen between 0 and one poll interval (plus one
//! local RPC round trip, well under a millisecond) after it is mined, on
//! both ends of a latency, so a difference is off by at most one poll
//! interval either way and by nothing on average.

pub mod memory;
pub mod observe;
pub mod stats;
pub mod timeline;
