//! The aggregator's Prometheus metrics, served on `/metrics`.
//!
//! Names follow the EigenLayer AVS node specification where it has one
//! (`eigen_rpc_request_total`, `eigen_rpc_request_duration_seconds`, from
//! [`chorus_telemetry`]) and are `chorus_`-prefixed otherwise; units are
//! base units (seconds, ether). `docker/prometheus/alerts.yml` and the
//! Grafana dashboard in `docker/grafana/` read these names, and
//! `tests/monitoring.rs` checks that every name they use is served.
//!
//! Metric handles are atomics that the actors update directly; the registry
//! is only read (encoded) by the API.

use std::sync::{Arc, atomic::AtomicU64};

use alloy::primitives::Address;
use chorus_telemetry::{RegistryExt, RpcMetrics};
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

/// Gwei per ether.
const GWEI_PER_ETHER: f64 = 1e9;

/// The submitter's balance, exposed in ether
/// (`chorus_submitter_balance_ether`): the unprefixed unit, as Prometheus
/// prefers seconds to milliseconds, and a float gauge keeps alert
/// thresholds readable (`< 0.1`).
#[derive(Clone, Debug, Default)]
pub struct SubmitterBalance(Gauge<f64, AtomicU64>);

impl SubmitterBalance {
    /// Records a balance read in gwei.
    pub fn set(&self, gwei: i64) {
        // Exact below 2^53 gwei (9 million ether).
        self.0.set(gwei as f64 / GWEI_PER_ETHER);
    }
}

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
    /// Requests the API refused (any `4xx`/`5xx`), by the answer's code
    /// (`rate_limited`, `request_timeout`, `malformed_json`, ...).
    pub refusals: Family<Labels, Counter>,
    /// Rejections received, by reason kind.
    pub rejections: Family<Labels, Counter>,
    /// Divergences reported, by rollup.
    pub divergences: Family<Labels, Counter>,
    /// Checkpoints closed (attested or superseded) without an operator's
    /// signature, per operator of the checkpoint's table.
    pub missed: Family<Labels, Counter>,
    /// Seconds from proposal to quorum.
    pub quorum_latency: Histogram,
    /// Seconds from quorum to L1 inclusion.
    pub inclusion_latency: Histogram,
    /// Blocks between a rollup's safe head and its latest attested block.
    pub rollup_lag: Family<Labels, Gauge>,
    /// The submitter's balance (set in gwei, exposed in ether).
    pub submitter_balance_gwei: SubmitterBalance,
    /// The operator-table version proposals use.
    pub table_version: Gauge,
    /// L1 transactions sent (first sends and fee bumps).
    pub transactions: Family<Labels, Counter>,
    /// Submissions whose inclusion an L1 reorganisation undid.
    pub l1_reorgs: Counter,
    /// Every JSON-RPC request to the L1 and L2 nodes.
    pub rpc: RpcMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let r = &mut registry;
        let rpc = RpcMetrics::default();
        rpc.register(r);
        Self {
            proposed: r.registered(
                "chorus_checkpoints_proposed",
                "Checkpoints proposed to operators",
                Counter::default(),
            ),
            attested: r.registered(
                "chorus_checkpoints_attested",
                "Checkpoints attested on L1",
                Counter::default(),
            ),
            superseded: r.registered(
                "chorus_checkpoints_superseded",
                "Checkpoints replaced by a newer proposal before attestation",
                Counter::default(),
            ),
            signatures: r.registered(
                "chorus_signatures",
                "Operator signatures received, by result",
                Family::default(),
            ),
            refusals: r.registered(
                "chorus_api_refusals",
                "Requests the API refused, by the answer's code",
                Family::default(),
            ),
            rejections: r.registered(
                "chorus_rejections",
                "Operator rejections received, by reason",
                Family::default(),
            ),
            divergences: r.registered(
                "chorus_divergences",
                "Commitments an operator's node disagreed with, by rollup",
                Family::default(),
            ),
            missed: r.registered(
                "chorus_checkpoints_missed",
                "Checkpoints attested or superseded without this operator's signature, by operator",
                Family::default(),
            ),
            quorum_latency: r.registered(
                "chorus_quorum_latency_seconds",
                "Seconds from proposal to a verified quorum",
                Histogram::new(exponential_buckets(0.05, 2.0, 12)),
            ),
            inclusion_latency: r.registered(
                "chorus_inclusion_latency_seconds",
                "Seconds from quorum to L1 inclusion",
                Histogram::new(exponential_buckets(0.1, 2.0, 12)),
            ),
            rollup_lag: r.registered(
                "chorus_rollup_lag_blocks",
                "Blocks between a rollup's safe head and its latest attested block",
                Family::default(),
            ),
            submitter_balance_gwei: SubmitterBalance(r.registered(
                "chorus_submitter_balance_ether",
                "Balance of the submitter's account, in ether",
                Gauge::default(),
            )),
            table_version: r.registered(
                "chorus_table_version",
                "Operator-table version new checkpoints name",
                Gauge::default(),
            ),
            transactions: r.registered(
                "chorus_l1_transactions",
                "L1 transactions sent, by kind (first, bump, resend)",
                Family::default(),
            ),
            l1_reorgs: r.registered(
                "chorus_l1_reorgs",
                "Submissions whose L1 inclusion a reorganisation undid (each sent again)",
                Counter::default(),
            ),
            rpc,
            registry: Arc::new(registry),
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

    /// Counts a closed (attested or superseded) checkpoint against every
    /// operator of its table that did not sign it. Operators that signed
    /// get their series too (at zero until they miss one), so that
    /// participation can be computed for every operator.
    pub fn checkpoint_closed(
        &self,
        operators: impl IntoIterator<Item = Address>,
        signed: impl Fn(&Address) -> bool,
    ) {
        for operator in operators {
            let missed = self.missed.get_or_create(&vec![("operator", operator.to_string())]);
            if !signed(&operator) {
                missed.inc();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_chorus_or_eigen_and_units_are_base_units() {
        let metrics = Metrics::new();
        metrics.submitter_balance_gwei.set(1_500_000_000);
        let (signer, absent) = (Address::repeat_byte(1), Address::repeat_byte(2));
        metrics.checkpoint_closed([signer, absent], |operator| *operator == signer);
        let text = metrics.encode();
        assert!(text.contains("chorus_submitter_balance_ether 1.5"), "{text}");
        let missed = format!("chorus_checkpoints_missed_total{{operator=\"{absent}\"}} 1");
        assert!(text.contains(&missed), "{text}");
        let signed = format!("chorus_checkpoints_missed_total{{operator=\"{signer}\"}} 0");
        assert!(text.contains(&signed), "{text}");
        assert!(text.contains("# TYPE eigen_rpc_request counter"), "{text}");
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            assert!(line.starts_with("chorus_") || line.starts_with("eigen_"), "{line}");
        }
    }
}
