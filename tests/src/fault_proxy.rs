//! A JSON-RPC proxy in front of a real node that can be cut, stalled or
//! made to misbehave while the test runs: how an unreliable L1 or L2 RPC
//! looks from a node's side.
//!
//! A node is pointed at [`FaultProxy::url`] instead of the real node; the
//! test then switches the [`Fault`] at any time with [`FaultProxy::set`].
//! [`Fault::Pass`] forwards everything unchanged.
//!
//! ```no_run
//! # async fn run() -> Result<(), chorus_tests::BoxError> {
//! use chorus_tests::fault_proxy::{Fault, FaultProxy};
//! // Inside an actix system.
//! let proxy = FaultProxy::start("http://127.0.0.1:8545").await?;
//! // ... point a node at proxy.url() ...
//! proxy.set(Fault::Refuse).await?; // the node's RPC is gone
//! proxy.set(Fault::Pass).await?; // and back, on the same address
//! # Ok(())
//! # }
//! ```

use std::{
    net::{SocketAddr, TcpListener},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use serde_json::{Value, json};

use crate::{BoxError, lying_rpc};

/// How long a request is held by [`Fault::Hang`] at most (a bound, so that
/// nothing outlives a test by much; far longer than any node should wait).
pub const HANG_LIMIT: Duration = Duration::from_secs(600);

/// What the proxy does to the requests it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards every request and answer unchanged.
    Pass,
    /// Nothing listens: connections are refused (a node that is down).
    Refuse,
    /// Connections are accepted and requests never answered (a black hole:
    /// held up to [`HANG_LIMIT`], even after the fault is changed).
    Hang,
    /// Every request gets a JSON-RPC error object (HTTP 200).
    RpcError,
    /// Every request gets HTTP 503 with a text body.
    HttpError,
    /// Every answer is delayed by this long, then forwarded.
    Latency(Duration),
    /// The node serves an old head, this many blocks behind: the head and
    /// every `latest`/`pending` read are moved back, blocks above it are
    /// unknown, receipts in them are not found.
    Lag(u64),
    /// Receipts and state reads lag by this many blocks while the head and
    /// account nonces are current: a load-balanced RPC whose replicas are
    /// not in step.
    StaleReads(u64),
    /// Every block is served with another state root
    /// ([`lying_rpc::lie_about`]).
    Lie,
}

/// Requests seen, per how they were treated.
#[derive(Debug, Default)]
struct Counts {
    forwarded: AtomicU64,
    faulted: AtomicU64,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    fault: Mutex<Fault>,
    counts: Counts,
}

impl Shared {
    fn fault(&self) -> Fault {
        self.fault.lock().map_or(Fault::Pass, |fault| *fault)
    }
}

/// A running proxy (see the [module docs](self)); stopped on
/// [`FaultProxy::stop`] or when dropped with its actix system.
pub struct FaultProxy {
    addr: SocketAddr,
    url: String,
    shared: Arc<Shared>,
    server: tokio::sync::Mutex<Option<ServerHandle>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` on a free local port, in the
    /// current actix system, passing everything.
    pub async fn start(upstream: &str) -> Result<Self, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            fault: Mutex::new(Fault::Pass),
            counts: Counts::default(),
        });
        let server = serve(listener, shared.clone())?;
        Ok(Self {
            addr,
            url: format!("http://{addr}"),
            shared,
            server: tokio::sync::Mutex::new(Some(server)),
        })
    }

    /// The proxy's URL, for a node's configuration.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The fault in force.
    pub fn fault(&self) -> Fault {
        self.shared.fault()
    }

    /// Switches to `fault`. [`Fault::Refuse`] closes the listening socket
    /// and every open connection; leaving it listens again on the same
    /// address.
    pub async fn set(&self, fault: Fault) -> Result<(), BoxError> {
        let mut server = self.server.lock().await;
        if let Ok(mut current) = self.shared.fault.lock() {
            *current = fault;
        }
        match (fault, server.is_some()) {
            (Fault::Refuse, true) => {
                if let Some(running) = server.take() {
                    running.stop(false).await;
                }
            }
            (Fault::Refuse, false) | (_, true) => {}
            (_, false) => {
                let listener = TcpListener::bind(self.addr)?;
                *server = Some(serve(listener, self.shared.clone())?);
            }
        }
        Ok(())
    }

    /// Requests forwarded (possibly altered) to the node so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.counts.forwarded.load(Ordering::Relaxed)
    }

    /// Requests answered by the fault (errors, hangs) instead of the node.
    pub fn faulted(&self) -> u64 {
        self.shared.counts.faulted.load(Ordering::Relaxed)
    }

    /// Stops the proxy (connections and held requests are dropped).
    pub async fn stop(self) {
        if let Some(server) = self.server.lock().await.take() {
            server.stop(false).await;
        }
    }
}

fn serve(listener: TcpListener, shared: Arc<Shared>) -> Result<ServerHandle, BoxError> {
    let state = web::Data::from(shared);
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).default_service(web::to(handle))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok(handle)
}

async fn handle(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let fault = shared.fault();
    let count = |counter: &AtomicU64| counter.fetch_add(1, Ordering::Relaxed);
    match fault {
        Fault::Hang => {
            count(&shared.counts.faulted);
            tokio::time::sleep(HANG_LIMIT).await;
            return HttpResponse::GatewayTimeout().body("fault proxy: held too long");
        }
        Fault::HttpError => {
            count(&shared.counts.faulted);
            return HttpResponse::ServiceUnavailable().body("fault proxy: service unavailable");
        }
        // Refuse is only ever seen by a request that raced the switch.
        Fault::RpcError | Fault::Refuse => {
            count(&shared.counts.faulted);
            let Ok(request) = serde_json::from_slice::<Value>(&body) else {
                return HttpResponse::BadRequest().body("fault proxy: not JSON");
            };
            return HttpResponse::Ok().json(each(&request, rpc_error));
        }
        Fault::Latency(delay) => tokio::time::sleep(delay).await,
        Fault::Pass | Fault::Lag(_) | Fault::StaleReads(_) | Fault::Lie => {}
    }
    count(&shared.counts.forwarded);
    let Ok(mut request) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().body("fault proxy: not JSON");
    };
    let lag = match fault {
        Fault::Lag(blocks) => Some((blocks, true)),
        Fault::StaleReads(blocks) => Some((blocks, false)),
        _ => None,
    };
    if let Some((blocks, head_too)) = lag {
        return match lagged(&shared, &mut request, blocks, head_too).await {
            Ok(answer) => HttpResponse::Ok().json(answer),
            Err(error) => HttpResponse::BadGateway().body(error.to_string()),
        };
    }
    match forward(&shared, &request).await {
        Ok(mut answer) => {
            if fault == Fault::Lie {
                lying_rpc::falsify(&mut answer);
            }
            HttpResponse::Ok().json(answer)
        }
        Err(error) => HttpResponse::BadGateway().body(error.to_string()),
    }
}

async fn forward(shared: &Shared, request: &Value) -> Result<Value, BoxError> {
    let response = shared.client.post(&shared.upstream).json(request).send().await?;
    Ok(response.json().await?)
}

/// `f` applied to a single request or to each of a batch.
fn each(request: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match request {
        Value::Array(batch) => Value::Array(batch.iter().map(f).collect()),
        single => f(single),
    }
}

fn rpc_error(request: &Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": request.get("id").cloned().unwrap_or(Value::Null),
        "error": { "code": -32603, "message": "fault proxy: internal error" },
    })
}

fn answer(request: &Value, result: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": request.get("id").cloned().unwrap_or(Value::Null),
        "result": result,
    })
}

/// Where a method takes its block tag.
fn block_param(method: &str) -> Option<usize> {
    match method {
        "eth_getBlockByNumber" => Some(0),
        "eth_call"
        | "eth_getBalance"
        | "eth_getTransactionCount"
        | "eth_getCode"
        | "eth_estimateGas"
        | "eth_feeHistory" => Some(1),
        "eth_getStorageAt" => Some(2),
        _ => None,
    }
}

fn parse_quantity(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.strip_prefix("0x")?, 16).ok()
}

/// Answers `request` (single or batch) as a node `blocks` behind would;
/// with `head_too` false only receipts and state reads lag.
async fn lagged(
    shared: &Shared,
    request: &mut Value,
    blocks: u64,
    head_too: bool,
) -> Result<Value, BoxError> {
    let head = forward(shared, &json!({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber"}))
        .await?
        .get("result")
        .and_then(parse_quantity)
        .ok_or("fault proxy: the node did not give its head")?;
    let behind = head.saturating_sub(blocks);
    let single = match request {
        Value::Array(batch) => {
            let mut answers = Vec::new();
            for one in batch.iter_mut() {
                answers.push(lagged_one(shared, one, behind, head_too).await?);
            }
            return Ok(Value::Array(answers));
        }
        single => single,
    };
    lagged_one(shared, single, behind, head_too).await
}

async fn lagged_one(
    shared: &Shared,
    request: &mut Value,
    behind: u64,
    head_too: bool,
) -> Result<Value, BoxError> {
    let method = request.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
    let current = !head_too && method == "eth_getTransactionCount";
    match method.as_str() {
        "eth_blockNumber" if head_too => return Ok(answer(request, json!(format!("{behind:#x}")))),
        "eth_getTransactionReceipt" => {
            let mut receipt = forward(shared, request).await?;
            let included = receipt.pointer("/result/blockNumber").and_then(parse_quantity);
            if included.is_some_and(|block| block > behind) {
                receipt["result"] = Value::Null;
            }
            return Ok(receipt);
        }
        _ => {}
    }
    if let Some(index) = block_param(&method).filter(|_| !current)
        && let Some(params) = request.get_mut("params").and_then(Value::as_array_mut)
    {
        let tag = params.get(index).cloned();
        let number = match tag.as_ref().and_then(Value::as_str) {
            None | Some("latest" | "pending") => Some(behind),
            Some(_) => tag.as_ref().and_then(parse_quantity),
        };
        if let Some(number) = number {
            if method == "eth_getBlockByNumber" && number > behind {
                return Ok(answer(request, Value::Null));
            }
            let tag = json!(format!("{:#x}", number.min(behind)));
            if index < params.len() {
                params[index] = tag;
            } else if index == params.len() {
                params.push(tag);
            }
        }
    }
    forward(shared, request).await
}
