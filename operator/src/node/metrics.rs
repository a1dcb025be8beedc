//! The node's Prometheus metrics (`/metrics`).
//!
//! Metrics are counters and gauges (atomics) registered once at start; each
//! actor is handed the one [`Metrics`] and bumps what it observes. They are
//! observations, not actor state: no decision reads them back.

use std::sync::atomic::AtomicU64;

use alloy::primitives::U256;
use chorus_telemetry::{RegistryExt, RpcMetrics};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::protection::NotSafe;
use crate::registration::OPERATOR_SET_ID;

/// A label naming why something happened (`reason="mismatch"`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    /// The reason, a stable snake_case word.
    pub(crate) reason: String,
}

/// A label naming an aggregator by its URL.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct AggregatorLabel {
    /// The aggregator's base URL, as configured.
    pub(crate) aggregator: String,
}

/// A label naming an HTTP status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StatusLabel {
    /// The status code.
    pub(crate) status: u16,
}

/// A label naming a rollup by its chain id.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RollupLabel {
    /// The rollup's EIP-155 chain id.
    pub(crate) rollup: u64,
}

/// The labels of `eigen_registered_stakes` (EigenLayer AVS node
/// specification, economics metrics): which quorum the stake is in. Chorus
/// has one, its EigenLayer operator set.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct QuorumLabels {
    /// The operator set id.
    pub(crate) quorum_number: u32,
    /// Its name.
    pub(crate) quorum_name: &'static str,
}

/// The `quorum_name` of the Chorus operator set.
const QUORUM_NAME: &str = "chorus";

/// Every metric the node exports.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    /// Checkpoints signed and posted.
    pub(crate) checkpoints_signed: Counter,
    /// Commitments rejected, by reason.
    pub(crate) commitments_rejected: Family<ReasonLabel, Counter>,
    /// Checkpoints the slashing-protection store refused on their merits
    /// (a conflict with an earlier signature, a malformed checkpoint).
    refused_by_protection: Counter,
    /// Checkpoints not signed because the store could not check or record
    /// them (disk full, permissions, I/O, a failed invariant): a fault of
    /// this machine, not of any aggregator, and an alert of its own.
    protection_store_errors: Counter,
    /// Proposals not signed because of the L1 registry (unregistered,
    /// unknown or expired table version), by reason.
    pub(crate) refused_by_registry: Family<ReasonLabel, Counter>,
    /// Proposals received, per aggregator.
    pub(crate) proposals_seen: Family<AggregatorLabel, Counter>,
    /// Proposals dropped as malformed or foreign, by reason.
    pub(crate) proposals_ignored: Family<ReasonLabel, Counter>,
    /// Failed requests to an aggregator (unreachable, 5xx, a bad or
    /// oversized proposal).
    pub(crate) aggregator_errors: Family<AggregatorLabel, Counter>,
    /// Answers (signatures, rejections) an aggregator refused with a
    /// `4xx`, by status.
    pub(crate) answers_refused: Family<StatusLabel, Counter>,
    /// The safe head of each rollup, as the operator's own node reports it.
    pub(crate) rollup_safe_head: Family<RollupLabel, Gauge>,
    /// EigenLayer's node performance score (0-100): 100 healthy, 50 partly
    /// healthy, 0 unhealthy; set at each scrape from the node's health.
    pub(crate) performance_score: Gauge,
    /// The operator's weight in the latest operator table (its restaked
    /// stake times the strategies' multipliers, as the registry computed
    /// it); 0 while not in it.
    registered_stakes: Family<QuorumLabels, Gauge<f64, AtomicU64>>,
    /// Every JSON-RPC request to the L1 and L2 nodes.
    pub(crate) rpc: RpcMetrics,
}

impl Metrics {
    /// Creates and registers every metric.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let r = &mut registry;
        let rpc = RpcMetrics::default();
        rpc.register(r);
        Self {
            checkpoints_signed: r.registered(
                "chorus_checkpoints_signed",
                "Checkpoints signed and posted to an aggregator",
                Counter::default(),
            ),
            commitments_rejected: r.registered(
                "chorus_commitments_rejected",
                "Proposed commitments rejected, by reason",
                Family::default(),
            ),
            refused_by_protection: r.registered(
                "chorus_refused_by_protection",
                "Checkpoints the slashing-protection store refused to let the key sign",
                Counter::default(),
            ),
            protection_store_errors: r.registered(
                "chorus_protection_store_errors",
                "Checkpoints not signed because the slashing-protection store could not record them (disk full, permissions, I/O)",
                Counter::default(),
            ),
            refused_by_registry: r.registered(
                "chorus_refused_by_registry",
                "Proposals not signed because of the L1 operator table, by reason",
                Family::default(),
            ),
            proposals_seen: r.registered(
                "chorus_proposals_seen",
                "Proposals received, per aggregator",
                Family::default(),
            ),
            proposals_ignored: r.registered(
                "chorus_proposals_ignored",
                "Proposals dropped as malformed or of another deployment, by reason",
                Family::default(),
            ),
            aggregator_errors: r.registered(
                "chorus_aggregator_errors",
                "Failed requests to an aggregator",
                Family::default(),
            ),
            answers_refused: r.registered(
                "chorus_answers_refused",
                "Signatures and rejections an aggregator refused (4xx), by HTTP status",
                Family::default(),
            ),
            rollup_safe_head: r.registered(
                "chorus_rollup_safe_head",
                "Safe head of each rollup as the operator's own L2 node reports it",
                Family::default(),
            ),
            performance_score: r.registered(
                "eigen_performance_score",
                "Node performance score (0-100) per the EigenLayer AVS node specification",
                Gauge::default(),
            ),
            registered_stakes: r.registered(
                "eigen_registered_stakes",
                "Operator stake in <quorum> of the Chorus registry: weight in the latest operator table",
                Family::default(),
            ),
            rpc,
            registry,
        }
    }

    /// Records the operator's weight in the latest operator table.
    pub(crate) fn registered_stake(&self, weight: U256) {
        let labels = QuorumLabels { quorum_number: OPERATOR_SET_ID, quorum_name: QUORUM_NAME };
        self.registered_stakes.get_or_create(&labels).set(f64::from(weight));
    }

    /// The text exposition of every metric.
    pub(crate) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Counts one rejected commitment.
    pub(crate) fn rejected(&self, reason: &str) {
        self.commitments_rejected.get_or_create(&ReasonLabel { reason: reason.to_owned() }).inc();
    }

    /// Counts one proposal dropped without an answer.
    pub(crate) fn ignored(&self, reason: &str) {
        self.proposals_ignored.get_or_create(&ReasonLabel { reason: reason.to_owned() }).inc();
    }

    /// Counts one checkpoint the signer refused: on its merits, or because
    /// the store failed. Both mean nothing was signed, but only the first
    /// says anything about the aggregator.
    pub(crate) fn refused_by_signer(&self, not_safe: &NotSafe) {
        match not_safe {
            NotSafe::Conflict { .. } | NotSafe::Malformed(_) => self.refused_by_protection.inc(),
            NotSafe::Storage(_) | NotSafe::Inconsistent(_) => self.protection_store_errors.inc(),
        };
    }

    /// Counts one proposal the registry check refused.
    pub(crate) fn refused_by_registry(&self, reason: &str) {
        self.refused_by_registry.get_or_create(&ReasonLabel { reason: reason.to_owned() }).inc();
    }

    /// Counts one failed request to `aggregator`.
    pub(crate) fn aggregator_error(&self, aggregator: &str) {
        self.aggregator_errors
            .get_or_create(&AggregatorLabel { aggregator: aggregator.to_owned() })
            .inc();
    }

    /// Counts one answer an aggregator refused with `status`.
    pub(crate) fn answer_refused(&self, status: u16) {
        self.answers_refused.get_or_create(&StatusLabel { status }).inc();
    }

    /// Counts one proposal received from `aggregator`.
    pub(crate) fn proposal_seen(&self, aggregator: &str) {
        self.proposals_seen
            .get_or_create(&AggregatorLabel { aggregator: aggregator.to_owned() })
            .inc();
    }

    /// Records a rollup's safe head.
    pub(crate) fn safe_head(&self, rollup: u64, head: u64) {
        let head = i64::try_from(head).unwrap_or(i64::MAX);
        self.rollup_safe_head.get_or_create(&RollupLabel { rollup }).set(head);
    }
}
