//! The node API of the EigenLayer AVS node specification, and `/metrics`.
//!
//! - `GET /eigen/node`: name, spec version and node version.
//! - `GET /eigen/node/health`: `200` healthy, `206` partially healthy (a
//!   rollup node or an aggregator is down or starting), `503` unhealthy (L1
//!   unreadable, or this operator is not in the latest operator table).
//! - `GET /eigen/node/services`: each rollup watcher, aggregator link and
//!   the L1 registry, with `Up`, `Down` or `Initializing`.
//! - `GET /eigen/node/services/{id}/health`: `200` up, `206` initializing,
//!   `503` down, `404` for an unknown id.
//! - `GET /metrics`: Prometheus text format.
//!
//! Every handler asks the actors (`GetServiceStatus`) rather than reading
//! shared state.

use std::{sync::Arc, time::Duration};

use actix::Recipient;
use actix_web::{HttpResponse, http::StatusCode, web};
use serde::Serialize;

use super::{
    chain_watcher,
    metrics::Metrics,
    service::{GetServiceStatus, ServiceInfo, ServiceStatus},
};

/// The node name the API reports.
pub(crate) const NODE_NAME: &str = "chorus-operator";
/// The AVS node specification version implemented.
pub(crate) const SPEC_VERSION: &str = "v0.0.1";
/// How long a service may take to say how it is before it counts as down.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// What the handlers ask.
pub(crate) struct ApiState {
    /// Every service by id, in the order listed.
    pub(crate) services: Vec<(String, Recipient<GetServiceStatus>)>,
    /// Metrics.
    pub(crate) metrics: Arc<Metrics>,
}

#[derive(Serialize)]
struct NodeInfo {
    node_name: &'static str,
    spec_version: &'static str,
    node_version: &'static str,
}

#[derive(Serialize)]
struct Services {
    services: Vec<ServiceInfo>,
}

/// Registers the routes.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/eigen/node", web::get().to(node_info))
        .route("/eigen/node/health", web::get().to(node_health))
        .route("/eigen/node/services", web::get().to(services))
        .route("/eigen/node/services/{id}/health", web::get().to(service_health))
        .route("/metrics", web::get().to(metrics));
}

async fn node_info() -> HttpResponse {
    HttpResponse::Ok().json(NodeInfo {
        node_name: NODE_NAME,
        spec_version: SPEC_VERSION,
        node_version: env!("CARGO_PKG_VERSION"),
    })
}

async fn node_health(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::new(health_status(&statuses(&state).await))
}

async fn services(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok().json(Services { services: statuses(&state).await })
}

async fn service_health(state: web::Data<ApiState>, id: web::Path<String>) -> HttpResponse {
    let all = statuses(&state).await;
    match all.iter().find(|service| service.id == *id) {
        Some(service) => HttpResponse::new(match service.status {
            ServiceStatus::Up => StatusCode::OK,
            ServiceStatus::Initializing => StatusCode::PARTIAL_CONTENT,
            ServiceStatus::Down => StatusCode::SERVICE_UNAVAILABLE,
        }),
        None => HttpResponse::NotFound().json(serde_json::json!({
            "message": format!("no service {id:?}: GET /eigen/node/services lists them"),
        })),
    }
}

async fn metrics(state: web::Data<ApiState>) -> HttpResponse {
    let score = match health_status(&statuses(&state).await) {
        StatusCode::OK => 100,
        StatusCode::PARTIAL_CONTENT => 50,
        _ => 0,
    };
    state.metrics.performance_score.set(score);
    match state.metrics.encode() {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Every service's state; one that does not answer in time (its actor is
/// stuck or stopped) is down.
async fn statuses(state: &ApiState) -> Vec<ServiceInfo> {
    let asks = state.services.iter().map(|(id, service)| async move {
        match tokio::time::timeout(STATUS_TIMEOUT, service.send(GetServiceStatus)).await {
            Ok(Ok(info)) => info,
            _ => ServiceInfo {
                id: id.clone(),
                name: id.clone(),
                description: "did not report its state in time".to_owned(),
                status: ServiceStatus::Down,
            },
        }
    });
    futures::future::join_all(asks).await
}

/// The node's health from its services': unhealthy while L1 is not
/// usable (unreadable, or not registered), partly healthy while anything
/// else is not up.
fn health_status(services: &[ServiceInfo]) -> StatusCode {
    let l1_up = services.iter().any(|service| {
        service.id == chain_watcher::SERVICE_ID && service.status == ServiceStatus::Up
    });
    if !l1_up {
        StatusCode::SERVICE_UNAVAILABLE
    } else if services.iter().all(|service| service.status == ServiceStatus::Up) {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: &str, status: ServiceStatus) -> ServiceInfo {
        ServiceInfo { id: id.to_owned(), name: id.to_owned(), description: String::new(), status }
    }

    #[test]
    fn health_follows_the_services() {
        let l1 = |status| service(chain_watcher::SERVICE_ID, status);
        let rollup = |status| service("rollup-901", status);
        assert_eq!(
            health_status(&[l1(ServiceStatus::Up), rollup(ServiceStatus::Up)]),
            StatusCode::OK
        );
        assert_eq!(
            health_status(&[l1(ServiceStatus::Up), rollup(ServiceStatus::Down)]),
            StatusCode::PARTIAL_CONTENT
        );
        assert_eq!(
            health_status(&[l1(ServiceStatus::Up), rollup(ServiceStatus::Initializing)]),
            StatusCode::PARTIAL_CONTENT
        );
        assert_eq!(
            health_status(&[l1(ServiceStatus::Down), rollup(ServiceStatus::Up)]),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            health_status(&[l1(ServiceStatus::Initializing)]),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
