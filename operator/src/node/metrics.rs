//! The node's Prometheus metrics (`/metrics`).
//!
//! Metrics are counters and gauges (atomics) registered once at start; each
//! actor is handed the one [`Metrics`] and bumps what it observes. They are
//! observations, not actor state: no decision reads them back.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

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

/// Every metric the node exports.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    /// Checkpoints signed and posted.
    pub(crate) checkpoints_signed: Counter,
    /// Commitments rejected, by reason.
    pub(crate) commitments_rejected: Family<ReasonLabel, Counter>,
    /// Checkpoints the slashing-protection store refused.
    pub(crate) refused_by_protection: Counter,
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
}

impl Metrics {
    /// Creates and registers every metric.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let metrics = Self {
            registry: Registry::default(),
            checkpoints_signed: Counter::default(),
            commitments_rejected: Family::default(),
            refused_by_protection: Counter::default(),
            refused_by_registry: Family::default(),
            proposals_seen: Family::default(),
            proposals_ignored: Family::default(),
            aggregator_errors: Family::default(),
            answers_refused: Family::default(),
            rollup_safe_head: Family::default(),
            performance_score: Gauge::default(),
        };
        registry.register(
            "chorus_checkpoints_signed",
            "Checkpoints signed and posted to an aggregator",
            metrics.checkpoints_signed.clone(),
        );
        registry.register(
            "chorus_commitments_rejected",
            "Proposed commitments rejected, by reason",
            metrics.commitments_rejected.clone(),
        );
        registry.register(
            "chorus_refused_by_protection",
            "Checkpoints the slashing-protection store refused to let the key sign",
            metrics.refused_by_protection.clone(),
        );
        registry.register(
            "chorus_refused_by_registry",
            "Proposals not signed because of the L1 operator table, by reason",
            metrics.refused_by_registry.clone(),
        );
        registry.register(
            "chorus_proposals_seen",
            "Proposals received, per aggregator",
            metrics.proposals_seen.clone(),
        );
        registry.register(
            "chorus_proposals_ignored",
            "Proposals dropped as malformed or of another deployment, by reason",
            metrics.proposals_ignored.clone(),
        );
        registry.register(
            "chorus_aggregator_errors",
            "Failed requests to an aggregator",
            metrics.aggregator_errors.clone(),
        );
        registry.register(
            "chorus_answers_refused",
            "Signatures and rejections an aggregator refused (4xx), by HTTP status",
            metrics.answers_refused.clone(),
        );
        registry.register(
            "chorus_rollup_safe_head",
            "Safe head of each rollup as the operator's own L2 node reports it",
            metrics.rollup_safe_head.clone(),
        );
        registry.register(
            "eigen_performance_score",
            "Node performance score (0-100) per the EigenLayer AVS node specification",
            metrics.performance_score.clone(),
        );
        Self { registry, ..metrics }
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
