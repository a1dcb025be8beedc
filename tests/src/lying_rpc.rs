//! An L2 RPC that lies: a JSON-RPC proxy in front of a real node that
//! serves every block of that node with another state root.
//!
//! An operator pointed at it sees a rollup diverge from what the
//! aggregator and the other operators see, which is how a faulty or
//! compromised L2 node looks from the outside.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use alloy::primitives::{B256, keccak256};
use serde_json::Value;

use crate::BoxError;

/// A running lying proxy; stopped on [`LyingRpc::stop`].
pub struct LyingRpc {
    url: String,
    server: ServerHandle,
}

/// The state root the proxy reports instead of `honest`.
pub fn lie_about(honest: B256) -> B256 {
    keccak256(honest)
}

impl LyingRpc {
    /// Starts a proxy in front of `upstream` in the current actix system.
    pub fn start(upstream: &str) -> Result<Self, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = web::Data::new((reqwest::Client::new(), upstream.to_owned()));
        let server = HttpServer::new(move || {
            App::new().app_data(state.clone()).route("/", web::post().to(forward))
        })
        .workers(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(Self { url, server: handle })
    }

    /// The proxy's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the proxy.
    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

async fn forward(
    state: web::Data<(reqwest::Client, String)>,
    body: web::Json<Value>,
) -> HttpResponse {
    let (client, upstream) = state.get_ref();
    let answer = match client.post(upstream).json(&body.into_inner()).send().await {
        Ok(response) => response.json::<Value>().await,
        Err(error) => Err(error),
    };
    match answer {
        Ok(mut value) => {
            falsify(&mut value);
            HttpResponse::Ok().json(value)
        }
        Err(error) => HttpResponse::BadGateway().body(error.to_string()),
    }
}

/// Replaces the state root of every block in a response (single or batch).
pub(crate) fn falsify(value: &mut Value) {
    match value {
        Value::Array(responses) => responses.iter_mut().for_each(falsify),
        Value::Object(response) => {
            if let Some(Value::Object(block)) = response.get_mut("result")
                && let Some(Ok(honest)) =
                    block.get("stateRoot").and_then(Value::as_str).map(str::parse::<B256>)
            {
                block.insert("stateRoot".into(), Value::String(lie_about(honest).to_string()));
            }
        }
        _ => {}
    }
}
