//! The aggregator's Prometheus metrics (`chorus_` prefix), served on
//! `/metrics`.
//!
//! Metric handles are atomics that the actors update directly; the registry
//! is only read (encoded) by the API.

use std::sync::Arc;

use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// One label pair, e.g. `("result", "accepted")`.
pub type Labels = Vec<(&'static str, String)>;

/// Every metric of the aggregator.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Checkpoints proposed.
    pub proposed: Counter,
    /// Checkpoints attested on L1.
    pub attested: Counter,
    /// Checkpoints superseded before attestation.
    pub superseded: Counter,
    /// Signatures received, by result (`accepted`, `duplicate`,
    /// `unknown_operator`, `invalid`, ...).
    pub signatures: Family<Labels, Counter>,
    /// Rejections received, by reason kind.
    pub rejections: Family<Labels, Counter>,
    /// Divergences reported, by rollup.
    pub divergences: Family<Labels, Counter>,
    /// Seconds from proposal to quorum.
    pub quorum_latency: Histogram,
    /// Seconds from quorum to L1 inclusion.
    pub inclusion_latency: Histogram,
    /// Blocks between a rollup's safe head and its latest attested block.
    pub rollup_lag: Family<Labels, Gauge>,
    /// The submitter's balance, in gwei.
    pub submitter_balance_gwei: Gauge,
    /// The operator-table version proposals use.
    pub table_version: Gauge,
    /// L1 transactions sent (first sends and fee bumps).
    pub transactions: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("chorus");
        let proposed = Counter::default();
        let attested = Counter::default();
        let superseded = Counter::default();
        let signatures = Family::<Labels, Counter>::default();
        let rejections = Family::<Labels, Counter>::default();
        let divergences = Family::<Labels, Counter>::default();
        let quorum_latency = Histogram::new(exponential_buckets(0.05, 2.0, 12));
        let inclusion_latency = Histogram::new(exponential_buckets(0.1, 2.0, 12));
        let rollup_lag = Family::<Labels, Gauge>::default();
        let submitter_balance_gwei = Gauge::default();
        let table_version = Gauge::default();
        let transactions = Family::<Labels, Counter>::default();
        registry.register(
            "checkpoints_proposed",
            "Checkpoints proposed to operators",
            proposed.clone(),
        );
        registry.register("checkpoints_attested", "Checkpoints attested on L1", attested.clone());
        registry.register(
            "checkpoints_superseded",
            "Checkpoints replaced by a newer proposal before attestation",
            superseded.clone(),
        );
        registry.register(
            "signatures",
            "Operator signatures received, by result",
            signatures.clone(),
        );
        registry.register(
            "rejections",
            "Operator rejections received, by reason",
            rejections.clone(),
        );
        registry.register(
            "divergences",
            "Commitments an operator's node disagreed with, by rollup",
            divergences.clone(),
        );
        registry.register(
            "quorum_latency_seconds",
            "Seconds from proposal to a verified quorum",
            quorum_latency.clone(),
        );
        registry.register(
            "inclusion_latency_seconds",
            "Seconds from quorum to L1 inclusion",
            inclusion_latency.clone(),
        );
        registry.register(
            "rollup_lag_blocks",
            "Blocks between a rollup's safe head and its latest attested block",
            rollup_lag.clone(),
        );
        registry.register(
            "submitter_balance_gwei",
            "Balance of the submitter's account, in gwei",
            submitter_balance_gwei.clone(),
        );
        registry.register(
            "table_version",
            "Operator-table version new checkpoints name",
            table_version.clone(),
        );
        registry.register(
            "l1_transactions",
            "L1 transactions sent, by kind (first, bump, resend)",
            transactions.clone(),
        );
        Self {
            registry: Arc::new(registry),
            proposed,
            attested,
            superseded,
            signatures,
            rejections,
            divergences,
            quorum_latency,
            inclusion_latency,
            rollup_lag,
            submitter_balance_gwei,
            table_version,
            transactions,
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// Counts a signature by its result code.
    pub fn signature(&self, result: &str) {
        self.signatures.get_or_create(&vec![("result", result.to_owned())]).inc();
    }
}
