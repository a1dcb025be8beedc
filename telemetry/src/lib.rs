//! Chorus telemetry: what the operator node and the aggregator measure the
//! same way.
//!
//! # RPC metrics
//!
//! Every JSON-RPC request either service makes to an L1 or L2 node goes
//! through one alloy provider built by [`http_provider`], whose RPC client
//! carries an [`RpcMetricsLayer`] (a tower layer, alloy's
//! `ClientBuilder::layer`). The layer records, per the EigenLayer AVS node
//! specification ("Prometheus Metrics Specification", RPC metrics):
//!
//! | name | type | labels |
//! |---|---|---|
//! | `eigen_rpc_request_total` | counter | `method`, `client_version` |
//! | `eigen_rpc_request_duration_seconds` | histogram | `method`, `client_version` |
//! | `chorus_rpc_request_errors_total` | counter | `method`, `client_version`, `kind` |
//!
//! The specification has no error metric; the errors counter is Chorus's
//! own (so `chorus_`-prefixed, as the specification asks of additional
//! metrics) and shares the specification's labels so that error ratios
//! divide cleanly. `client_version` is what the node answers to
//! `web3_clientVersion`, asked once per endpoint (sanitised and bounded:
//! it is text from outside). The endpoint's URL is never a label: hosted
//! endpoints carry API keys in it.
//!
//! ```
//! use chorus_telemetry::{RpcMetrics, http_provider};
//! use prometheus_client::registry::Registry;
//!
//! let mut registry = Registry::default();
//! let rpc = RpcMetrics::default();
//! rpc.register(&mut registry);
//! let url = "http://127.0.0.1:8545".parse().unwrap();
//! let _provider = http_provider(url, &rpc); // every request it makes is counted
//! ```
//!
//! # Registering metrics
//!
//! [`RegistryExt::registered`] registers a metric and hands it back, so a
//! metrics struct is built field by field without repeating each handle.

mod rpc;

use std::time::Duration;

use alloy::{
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::client::ClientBuilder,
    transports::http::{reqwest, reqwest::Url},
};
use prometheus_client::registry::{Metric, Registry};

pub use rpc::{
    ERRORS_METRIC, REQUEST_DURATION_METRIC, REQUESTS_METRIC, RpcErrorLabels, RpcLabels, RpcMetrics,
    RpcMetricsLayer, RpcMetricsService, UNKNOWN_CLIENT_VERSION,
};

/// How long any one request to a node may take before it fails. Without
/// a bound, a node that accepts a connection and never answers (a black
/// hole: a stalled process, a dropped route) would hold the request, and
/// whatever waits on it, forever; with it, the request fails like any
/// unreachable node's and the caller's next poll asks again.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// The provider every Chorus service uses to read a node over HTTP: no
/// fillers (services sign and price their own transactions), every request
/// bounded by [`RPC_TIMEOUT`] and counted in `rpc`.
pub fn http_provider(url: Url, rpc: &RpcMetrics) -> DynProvider {
    bounded_http_provider(url, rpc, RPC_TIMEOUT)
}

fn bounded_http_provider(url: Url, rpc: &RpcMetrics, timeout: Duration) -> DynProvider {
    let builder = ClientBuilder::default().layer(rpc.layer());
    let client = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(http) => builder.http_with_client(http, url),
        // Only if the HTTP client cannot be built at all (its TLS backend
        // fails to load); alloy's own default client is the same minus the
        // timeout.
        Err(_) => builder.http(url),
    };
    ProviderBuilder::new().disable_recommended_fillers().connect_client(client).erased()
}

/// Registration that hands the metric back.
pub trait RegistryExt {
    /// Registers `metric` as `name` with `help`, and returns it (a metric is
    /// a cheap handle onto shared atomics: the clone registered and the one
    /// returned are the same metric).
    fn registered<M: Metric + Clone>(&mut self, name: &str, help: &str, metric: M) -> M;
}

impl RegistryExt for Registry {
    fn registered<M: Metric + Clone>(&mut self, name: &str, help: &str, metric: M) -> M {
        self.register(name, help, metric.clone());
        metric
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_node_that_never_answers_fails_the_request_after_the_timeout() {
        // Accepts connections (the kernel's backlog) and never reads nor answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap()).parse().unwrap();
        let rpc = RpcMetrics::default();
        let provider = bounded_http_provider(url, &rpc, Duration::from_millis(300));
        let asked = tokio::time::timeout(Duration::from_secs(20), provider.get_block_number());
        let answer = asked.await.expect("the request is given up by the client itself");
        assert!(answer.is_err());
        assert_eq!(rpc.errors("eth_blockNumber", UNKNOWN_CLIENT_VERSION, "transport"), 1);
        drop(listener);
    }
}
