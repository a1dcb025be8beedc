//! [`RpcMetricsLayer`]: JSON-RPC request metrics as a tower layer on
//! alloy's RPC client.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use alloy::{
    rpc::json_rpc::{Id, Request, RequestPacket, ResponsePacket, ResponsePayload},
    transports::{RpcError, TransportError, TransportErrorKind, TransportFut},
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tower::{Layer, Service};

/// `eigen_rpc_request_total` (a counter is registered without its `_total`
/// suffix; the text exposition adds it).
pub const REQUESTS_METRIC: &str = "eigen_rpc_request";
/// `eigen_rpc_request_duration_seconds`.
pub const REQUEST_DURATION_METRIC: &str = "eigen_rpc_request_duration_seconds";
/// `chorus_rpc_request_errors_total`.
pub const ERRORS_METRIC: &str = "chorus_rpc_request_errors";
/// The `client_version` of a node that has not said (yet) what it runs.
pub const UNKNOWN_CLIENT_VERSION: &str = "unknown";

/// Longest `client_version` label kept: enough for
/// `Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2`, bounded because
/// the node writes it.
const MAX_CLIENT_VERSION_CHARS: usize = 80;
/// How long a node that could not be asked for its version is left alone
/// before it is asked again.
const VERSION_RETRY: Duration = Duration::from_secs(30);
/// The id of the layer's own `web3_clientVersion` request.
const VERSION_REQUEST_ID: &str = "chorus-telemetry-client-version";

/// Labels of the specification's RPC metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    /// The JSON-RPC method (`eth_getBlockByNumber`).
    pub method: String,
    /// The node's `web3_clientVersion` (`anvil/v1.7.1`), or
    /// [`UNKNOWN_CLIENT_VERSION`].
    pub client_version: String,
}

/// Labels of `chorus_rpc_request_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcErrorLabels {
    /// The JSON-RPC method.
    pub method: String,
    /// The node's client version.
    pub client_version: String,
    /// What went wrong: `transport` (no answer: refused, reset, timed
    /// out), `http_status` (an HTTP error status, e.g. 429 from a rate
    /// limit), `bad_response` (an answer that is not JSON-RPC),
    /// `rpc_error` (a JSON-RPC error answer, including reverted
    /// `eth_call`s), `abandoned` (the caller stopped waiting).
    pub kind: &'static str,
}

type HistogramFamily = Family<RpcLabels, Histogram, fn() -> Histogram>;

/// The RPC metrics of one service: cheap handles onto shared atomics, so
/// every provider's layer counts into the same metrics.
#[derive(Clone, Debug)]
pub struct RpcMetrics {
    requests: Family<RpcLabels, Counter>,
    durations: HistogramFamily,
    errors: Family<RpcErrorLabels, Counter>,
}

impl Default for RpcMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            durations: HistogramFamily::new_with_constructor(duration_histogram),
            errors: Family::default(),
        }
    }
}

/// 1 ms to about 16 s: a local node answers in about a millisecond, a
/// hosted one in tens, a struggling one in seconds.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl RpcMetrics {
    /// Registers the metrics in `registry` (once per registry).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            REQUESTS_METRIC,
            "Total of json-rpc <method> requests from Ethereum Execution client <client_version>",
            self.requests.clone(),
        );
        registry.register(
            REQUEST_DURATION_METRIC,
            "Duration of json-rpc <method> in seconds from Ethereum Execution client <client_version>",
            self.durations.clone(),
        );
        registry.register(
            ERRORS_METRIC,
            "Failed json-rpc <method> requests to Ethereum Execution client <client_version>, by kind",
            self.errors.clone(),
        );
    }

    /// A layer for one endpoint (it learns that endpoint's client version).
    pub fn layer(&self) -> RpcMetricsLayer {
        RpcMetricsLayer { metrics: self.clone(), version: Arc::default() }
    }

    /// Requests counted for `method` and `client_version` so far.
    pub fn requests(&self, method: &str, client_version: &str) -> u64 {
        self.requests.get_or_create(&labels(method, client_version)).get()
    }

    /// Errors of `kind` counted for `method` and `client_version`.
    pub fn errors(&self, method: &str, client_version: &str, kind: &'static str) -> u64 {
        let labels = RpcErrorLabels {
            method: method.to_owned(),
            client_version: client_version.to_owned(),
            kind,
        };
        self.errors.get_or_create(&labels).get()
    }

    fn started(&self, methods: &[String], client_version: &str) {
        for method in methods {
            self.requests.get_or_create(&labels(method, client_version)).inc();
        }
    }

    fn finished(&self, methods: &[String], client_version: &str, elapsed: Duration) {
        for method in methods {
            self.durations
                .get_or_create(&labels(method, client_version))
                .observe(elapsed.as_secs_f64());
        }
    }

    fn failed(&self, method: &str, client_version: &str, kind: &'static str) {
        let labels = RpcErrorLabels {
            method: method.to_owned(),
            client_version: client_version.to_owned(),
            kind,
        };
        self.errors.get_or_create(&labels).inc();
    }
}

fn labels(method: &str, client_version: &str) -> RpcLabels {
    RpcLabels { method: method.to_owned(), client_version: client_version.to_owned() }
}

/// What is known of an endpoint's client version.
#[derive(Debug, Default)]
enum ClientVersion {
    /// Never asked.
    #[default]
    Unasked,
    /// A request is asking now.
    Asking,
    /// The node did not answer at this instant.
    Unreachable(Instant),
    /// The node answered (or refused the method: [`UNKNOWN_CLIENT_VERSION`]).
    Known(String),
}

/// Counts and times every request of the client it wraps (see the crate
/// docs). Built by [`RpcMetrics::layer`], one per endpoint.
#[derive(Clone, Debug)]
pub struct RpcMetricsLayer {
    metrics: RpcMetrics,
    version: Arc<Mutex<ClientVersion>>,
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService { inner, observer: Observer { layer: self.clone() } }
    }
}

/// The service [`RpcMetricsLayer`] wraps a transport in.
#[derive(Clone, Debug)]
pub struct RpcMetricsService<S> {
    inner: S,
    observer: Observer,
}

/// What a request's future needs of the layer (shared, `Send + Sync`).
#[derive(Clone, Debug)]
struct Observer {
    layer: RpcMetricsLayer,
}

impl<S> Service<RequestPacket> for RpcMetricsService<S>
where
    S: Service<
            RequestPacket,
            Response = ResponsePacket,
            Error = TransportError,
            Future = TransportFut<'static>,
        > + Clone
        + Send
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        // The ready service answers this request; a fresh clone waits for
        // the next (tower's rule for services called from futures). Like
        // alloy's retry layer, the ready one may be called twice: HTTP
        // transports are always ready.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let observer = self.observer.clone();
        Box::pin(async move {
            let client_version = observer.client_version(&mut inner).await;
            observer.observed(&mut inner, request, &client_version).await
        })
    }
}

impl Observer {
    /// Sends `request` through `inner`, counting and timing it.
    async fn observed<S>(
        &self,
        inner: &mut S,
        request: RequestPacket,
        client_version: &str,
    ) -> Result<ResponsePacket, TransportError>
    where
        S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError>,
    {
        let metrics = &self.layer.metrics;
        let methods: Vec<String> = request.method_names().map(str::to_owned).collect();
        let by_id: HashMap<Id, String> = requests_by_id(&request);
        metrics.started(&methods, client_version);
        let mut pending = Pending { metrics, methods: &methods, client_version, answered: false };
        let started = Instant::now();
        let result = inner.call(request).await;
        pending.answered = true;
        metrics.finished(&methods, client_version, started.elapsed());
        match &result {
            Ok(response) => {
                for method in failed_methods(response, &by_id, &methods) {
                    metrics.failed(method, client_version, "rpc_error");
                }
            }
            Err(error) => {
                for method in &methods {
                    metrics.failed(method, client_version, error_kind(error));
                }
            }
        }
        result
    }

    /// The endpoint's client version, asking the node first if it was
    /// never asked (or could not be reached a while ago).
    async fn client_version<S>(&self, inner: &mut S) -> String
    where
        S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError>,
    {
        if !self.claim_asking() {
            return match &*self.lock_version() {
                ClientVersion::Known(version) => version.clone(),
                _ => UNKNOWN_CLIENT_VERSION.to_owned(),
            };
        }
        let asking = Asking { version: &self.layer.version, settled: false };
        let learnt = self.ask_version(inner).await;
        asking.settle(learnt)
    }

    /// Whether this request should ask the node its version (then marked
    /// as asking, so that concurrent requests do not ask too).
    fn claim_asking(&self) -> bool {
        let mut state = self.lock_version();
        let ask = match &*state {
            ClientVersion::Unasked => true,
            ClientVersion::Unreachable(at) => at.elapsed() >= VERSION_RETRY,
            ClientVersion::Asking | ClientVersion::Known(_) => false,
        };
        if ask {
            *state = ClientVersion::Asking;
        }
        ask
    }

    /// Asks `web3_clientVersion` (itself a counted request). `None` when
    /// the node could not be reached; a node that refuses the method is
    /// known as [`UNKNOWN_CLIENT_VERSION`] for good.
    async fn ask_version<S>(&self, inner: &mut S) -> Option<String>
    where
        S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError>,
    {
        let id = Id::String(VERSION_REQUEST_ID.to_owned());
        let request = Request::new("web3_clientVersion", id, ()).serialize().ok()?;
        let answer =
            self.observed(inner, RequestPacket::Single(request), UNKNOWN_CLIENT_VERSION).await;
        let response = match answer {
            Ok(ResponsePacket::Single(response)) => response,
            Ok(ResponsePacket::Batch(_)) => return Some(UNKNOWN_CLIENT_VERSION.to_owned()),
            Err(_) => return None,
        };
        let version = match response.payload {
            ResponsePayload::Success(raw) => serde_json::from_str::<String>(raw.get()).ok(),
            ResponsePayload::Failure(_) => None,
        };
        Some(version.map_or_else(|| UNKNOWN_CLIENT_VERSION.to_owned(), |v| label_safe(&v)))
    }

    fn lock_version(&self) -> std::sync::MutexGuard<'_, ClientVersion> {
        lock(&self.layer.version)
    }
}

/// This request is asking the node its version. Dropped unsettled (the
/// caller gave up waiting), the node counts as unreachable, to be asked
/// again later: never stuck as asking.
struct Asking<'a> {
    version: &'a Mutex<ClientVersion>,
    settled: bool,
}

impl Asking<'_> {
    /// Records what the node said (`None`: it could not be reached) and
    /// returns the label to use.
    fn settle(mut self, learnt: Option<String>) -> String {
        let (state, label) = match learnt {
            Some(version) => (ClientVersion::Known(version.clone()), version),
            None => (ClientVersion::Unreachable(Instant::now()), UNKNOWN_CLIENT_VERSION.to_owned()),
        };
        *lock(self.version) = state;
        self.settled = true;
        label
    }
}

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        if !self.settled {
            *lock(self.version) = ClientVersion::Unreachable(Instant::now());
        }
    }
}

fn lock(version: &Mutex<ClientVersion>) -> std::sync::MutexGuard<'_, ClientVersion> {
    // A poisoned lock only means another request panicked while holding
    // it; the state inside is still a valid state.
    version.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A request on its way: if its future is dropped before the node answers
/// (the caller timed out), it is counted as `abandoned`.
struct Pending<'a> {
    metrics: &'a RpcMetrics,
    methods: &'a [String],
    client_version: &'a str,
    answered: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.answered {
            for method in self.methods {
                self.metrics.failed(method, self.client_version, "abandoned");
            }
        }
    }
}

fn requests_by_id(request: &RequestPacket) -> HashMap<Id, String> {
    let requests = match request {
        RequestPacket::Single(single) => std::slice::from_ref(single),
        RequestPacket::Batch(batch) => batch.as_slice(),
    };
    requests.iter().map(|r| (r.id().clone(), r.method().to_owned())).collect()
}

/// The methods whose answer in `response` is a JSON-RPC error.
fn failed_methods<'a>(
    response: &'a ResponsePacket,
    by_id: &'a HashMap<Id, String>,
    methods: &'a [String],
) -> Vec<&'a str> {
    match response {
        ResponsePacket::Single(single) if single.is_error() => {
            // A single answer belongs to the single request, whatever id
            // a sloppy node echoes.
            methods.iter().map(String::as_str).take(1).collect()
        }
        ResponsePacket::Single(_) => Vec::new(),
        ResponsePacket::Batch(batch) => batch
            .iter()
            .filter(|answer| answer.is_error())
            .map(|answer| by_id.get(&answer.id).map_or("unknown", String::as_str))
            .collect(),
    }
}

fn error_kind(error: &TransportError) -> &'static str {
    match error {
        RpcError::Transport(TransportErrorKind::HttpError(_)) => "http_status",
        RpcError::Transport(_) => "transport",
        RpcError::ErrorResp(_) => "rpc_error",
        _ => "bad_response",
    }
}

/// `text` as a label value: printable ASCII without quotes or backslashes
/// (the text exposition does not escape label values), bounded.
fn label_safe(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .take(MAX_CLIENT_VERSION_CHARS)
        .collect();
    if kept.is_empty() { UNKNOWN_CLIENT_VERSION.to_owned() } else { kept }
}

#[cfg(test)]
mod tests {
    use alloy::{
        primitives::{Address, Bytes},
        providers::{Provider, ProviderBuilder, RootProvider},
        rpc::{
            client::ClientBuilder,
            json_rpc::{ErrorPayload, Response},
            types::TransactionRequest,
        },
    };
    use prometheus_client::encoding::text::encode;
    use serde_json::value::to_raw_value;

    use super::*;

    /// A node answering by method: `hang` never answers, `down` refuses
    /// every request, `status` answers every request with that HTTP status,
    /// `mute_version` never answers `web3_clientVersion`.
    #[derive(Clone, Debug)]
    struct FakeNode {
        version: &'static str,
        down: bool,
        status: Option<u16>,
        mute_version: bool,
    }

    impl FakeNode {
        fn up(version: &'static str) -> Self {
            Self { version, down: false, status: None, mute_version: false }
        }

        fn answer(&self, method: &str, id: Id) -> Response {
            let success =
                |value: serde_json::Value| ResponsePayload::Success(to_raw_value(&value).unwrap());
            let payload = match method {
                "web3_clientVersion" => success(self.version.into()),
                "eth_blockNumber" => success("0x10".into()),
                "eth_chainId" => success("0x385".into()),
                _ => ResponsePayload::Failure(ErrorPayload {
                    code: 3,
                    message: "execution reverted".into(),
                    data: None,
                }),
            };
            Response { id, payload }
        }
    }

    impl Service<RequestPacket> for FakeNode {
        type Response = ResponsePacket;
        type Error = TransportError;
        type Future = TransportFut<'static>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: RequestPacket) -> TransportFut<'static> {
            let node = self.clone();
            Box::pin(async move {
                let RequestPacket::Single(request) = request else { panic!("no batches here") };
                let mute = node.mute_version && request.method() == "web3_clientVersion";
                if request.method() == "hang" || mute {
                    return std::future::pending().await;
                }
                if node.down {
                    return Err(TransportErrorKind::custom_str("connection refused"));
                }
                if let Some(status) = node.status {
                    return Err(TransportErrorKind::http_error(status, "slow down".into()));
                }
                Ok(ResponsePacket::Single(node.answer(request.method(), request.id().clone())))
            })
        }
    }

    fn provider(node: FakeNode, rpc: &RpcMetrics) -> RootProvider {
        let client = ClientBuilder::default().layer(rpc.layer()).transport(node, true);
        ProviderBuilder::new().disable_recommended_fillers().connect_client(client)
    }

    fn exposition(rpc: &RpcMetrics) -> String {
        let mut registry = Registry::default();
        rpc.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        text
    }

    #[tokio::test]
    async fn counts_and_times_every_request_per_method_and_client_version() {
        let rpc = RpcMetrics::default();
        let node = provider(FakeNode::up("anvil/v1.7.1"), &rpc);
        assert_eq!(node.get_block_number().await.unwrap(), 16);
        assert_eq!(node.get_block_number().await.unwrap(), 16);
        assert_eq!(node.get_chain_id().await.unwrap(), 901);

        assert_eq!(rpc.requests("eth_blockNumber", "anvil/v1.7.1"), 2);
        assert_eq!(rpc.requests("eth_chainId", "anvil/v1.7.1"), 1);
        let text = exposition(&rpc);
        let timed = "eigen_rpc_request_duration_seconds_count{method=\"eth_blockNumber\",client_version=\"anvil/v1.7.1\"} 2";
        assert!(text.contains(timed), "{text}");
        // The version was asked once, before the first request.
        assert_eq!(rpc.requests("web3_clientVersion", UNKNOWN_CLIENT_VERSION), 1);
        assert_eq!(rpc.errors("eth_blockNumber", "anvil/v1.7.1", "rpc_error"), 0);
    }

    #[tokio::test]
    async fn errors_are_labelled_by_kind() {
        let rpc = RpcMetrics::default();
        let node = provider(FakeNode::up("anvil/v1.7.1"), &rpc);
        let call = TransactionRequest::default().to(Address::ZERO).input(Bytes::new().into());
        node.call(call).await.unwrap_err();
        assert_eq!(rpc.errors("eth_call", "anvil/v1.7.1", "rpc_error"), 1);
        assert_eq!(rpc.requests("eth_call", "anvil/v1.7.1"), 1);

        let down = provider(FakeNode { down: true, ..FakeNode::up("x") }, &rpc);
        down.get_block_number().await.unwrap_err();
        down.get_block_number().await.unwrap_err();
        assert_eq!(rpc.errors("eth_blockNumber", UNKNOWN_CLIENT_VERSION, "transport"), 2);
        // An unreachable node is not asked its version at every request.
        assert_eq!(rpc.errors("web3_clientVersion", UNKNOWN_CLIENT_VERSION, "transport"), 1);

        let limited = provider(FakeNode { status: Some(429), ..FakeNode::up("x") }, &rpc);
        limited.get_chain_id().await.unwrap_err();
        assert_eq!(rpc.errors("eth_chainId", UNKNOWN_CLIENT_VERSION, "http_status"), 1);
    }

    #[tokio::test]
    async fn a_request_given_up_on_is_counted_as_abandoned() {
        let rpc = RpcMetrics::default();
        let node = provider(FakeNode::up("anvil/v1.7.1"), &rpc);
        let hang = node.client().request_noparams::<String>("hang");
        let waited = tokio::time::timeout(Duration::from_millis(50), hang).await;
        assert!(waited.is_err(), "the fake node never answers");
        assert_eq!(rpc.requests("hang", "anvil/v1.7.1"), 1);
        assert_eq!(rpc.errors("hang", "anvil/v1.7.1", "abandoned"), 1);
        let text = exposition(&rpc);
        assert!(!text.contains("_count{method=\"hang\""), "not timed: {text}");
    }

    #[tokio::test]
    async fn a_version_question_given_up_on_is_asked_again_later() {
        let rpc = RpcMetrics::default();
        let layer = rpc.layer();
        let node = FakeNode { mute_version: true, ..FakeNode::up("anvil/v1.7.1") };
        let client = ClientBuilder::default().layer(layer.clone()).transport(node, true);
        let provider: RootProvider =
            ProviderBuilder::new().disable_recommended_fillers().connect_client(client);
        let waited =
            tokio::time::timeout(Duration::from_millis(50), provider.get_block_number()).await;
        assert!(waited.is_err(), "the version is never answered");
        assert!(matches!(*lock(&layer.version), ClientVersion::Unreachable(_)));
        assert_eq!(rpc.errors("web3_clientVersion", UNKNOWN_CLIENT_VERSION, "abandoned"), 1);
    }

    #[tokio::test]
    async fn the_exposition_uses_the_specification_names_and_safe_labels() {
        let rpc = RpcMetrics::default();
        let hostile = "Geth/v1\"} 1\nfake_metric 2 \u{1F600}";
        let node = provider(FakeNode::up(hostile), &rpc);
        node.get_block_number().await.unwrap();
        let text = exposition(&rpc);
        let sample = "eigen_rpc_request_total{method=\"eth_blockNumber\",client_version=\"Geth/v1}1fake_metric2\"} 1";
        assert!(text.contains(sample), "{text}");
        assert!(text.contains("# TYPE eigen_rpc_request_duration_seconds histogram"), "{text}");
        assert!(text.contains("eigen_rpc_request_duration_seconds_bucket{le="), "{text}");
        assert!(text.contains("# TYPE chorus_rpc_request_errors counter"), "{text}");
        assert!(!text.lines().any(|line| line.starts_with("fake_metric")), "{text}");
    }

    #[test]
    fn label_values_are_bounded_and_never_empty() {
        assert_eq!(label_safe(&"a".repeat(500)).len(), MAX_CLIENT_VERSION_CHARS);
        assert_eq!(label_safe(" \n\""), UNKNOWN_CLIENT_VERSION);
        assert_eq!(label_safe("reth/v1.1.0-abc/x86_64"), "reth/v1.1.0-abc/x86_64");
    }
}
