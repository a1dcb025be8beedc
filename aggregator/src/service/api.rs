//! The HTTP API (actix-web), exactly as `chorus_wire::routes` describes.
//!
//! Every `4xx`/`5xx` answer carries a JSON [`ApiError`]: malformed JSON and
//! wrong lengths are `400`, bodies over [`MAX_BODY_BYTES`] `413`, unknown
//! checkpoints `404`, operators outside the table `403`, answers to another
//! proposal `409`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix::{Addr, Handler, Message, dev::ToEnvelope};
use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::StatusCode,
    web,
};
use alloy::primitives::Address;
use chorus_wire::{
    AggregatorStatus, ApiError, Domain, MAX_BODY_BYTES, MAX_LONG_POLL_SECS, Rejection,
    RollupStatus, SignedCheckpoint, routes,
};
use serde::Deserialize;

use super::{
    checkpoints::{
        AttestedCount, CheckpointSignatures, Checkpoints, GetCheckpoint, GetProposerView, Next,
        NextProposal, RECENT, ReceiveRejection, ReceiveSignature, RecentCheckpoints,
        RecentDivergences,
    },
    metrics::Metrics,
    proposer::{Proposer, RollupHeads},
    table::{LatestSigners, OperatorTable},
};

/// A refused request: its status and the [`ApiError`] body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiFailure {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl ApiFailure {
    fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self { status, code, message }
    }

    /// `400`.
    pub fn bad_request(code: &'static str, message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// `403`.
    pub fn forbidden(code: &'static str, message: String) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// `404`.
    pub fn not_found(code: &'static str, message: String) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// `409`.
    pub fn conflict(code: &'static str, message: String) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// `503`: retry later.
    pub fn unavailable(message: &str) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message.to_owned())
    }

    /// `500`: the aggregator failed (e.g. its store).
    pub fn internal(message: String) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl ResponseError for ApiFailure {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .json(ApiError { code: self.code.to_owned(), message: self.message.clone() })
    }
}

/// What the handlers reach.
#[derive(Clone)]
pub struct ApiState {
    /// Checkpoints.
    pub checkpoints: Addr<Checkpoints>,
    /// The table follower.
    pub table: Addr<OperatorTable>,
    /// The proposer.
    pub proposer: Addr<Proposer>,
    /// Metrics.
    pub metrics: Metrics,
    /// The domain.
    pub domain: Domain,
    /// The submitter's address.
    pub submitter: Address,
}

type State = web::Data<Arc<ApiState>>;

/// Asks an actor; one that no longer answers means the aggregator is
/// stopping.
async fn ask<A, M>(actor: &Addr<A>, message: M) -> Result<M::Result, ApiFailure>
where
    A: Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    actor.send(message).await.map_err(|_| ApiFailure::unavailable("the aggregator is stopping"))
}

fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let failure = match &error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        }
        JsonPayloadError::ContentType => ApiFailure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_type",
            "send the body as JSON with Content-Type: application/json".to_owned(),
        ),
        JsonPayloadError::Deserialize(e) => ApiFailure::bad_request(
            "malformed_json",
            format!("the body is not the expected JSON: {e}"),
        ),
        JsonPayloadError::Payload(e) if e.status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        }
        other => {
            ApiFailure::bad_request("bad_body", format!("the body could not be read: {other}"))
        }
    };
    failure.into()
}

fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiFailure::bad_request("bad_query", format!("the query string is not understood: {error}"))
        .into()
}

fn path_error(error: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiFailure::bad_request(
        "bad_path",
        format!("the path is not understood (ids are integers): {error}"),
    )
    .into()
}

async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiFailure> {
    Err(ApiFailure::not_found(
        "not_found",
        format!("no route {} {}: see chorus_wire::routes", request.method(), request.path()),
    ))
}

async fn method_not_allowed(request: HttpRequest) -> Result<HttpResponse, ApiFailure> {
    Err(ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", request.method(), request.path()),
    ))
}

/// Configures the app's routes and extractor limits.
pub fn configure(state: Arc<ApiState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::Data::new(state))
            .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES).error_handler(json_error))
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .service(resource(routes::NEXT_PROPOSAL).route(web::get().to(next_proposal)))
            .service(resource(routes::SIGNATURES).route(web::post().to(signatures)))
            .service(resource(routes::REJECTIONS).route(web::post().to(rejections)))
            .service(resource(routes::CHECKPOINTS).route(web::get().to(checkpoints)))
            .service(resource(routes::CHECKPOINT).route(web::get().to(checkpoint)))
            .service(
                resource(routes::CHECKPOINT_SIGNATURES).route(web::get().to(checkpoint_signatures)),
            )
            .service(resource(routes::DIVERGENCES).route(web::get().to(divergences)))
            .service(resource(routes::STATUS).route(web::get().to(status)))
            .service(resource(routes::HEALTH).route(web::get().to(health)))
            .service(resource(routes::METRICS).route(web::get().to(metrics)))
            .default_service(web::to(not_found));
    }
}

/// A route answering `405` with an [`ApiError`] to other methods.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// `?after=ID&wait=SECONDS`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NextQuery {
    after: Option<u64>,
    wait: Option<u64>,
}

async fn next_proposal(
    state: State,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, ApiFailure> {
    let next = ask(&state.checkpoints, NextProposal { after: query.after }).await?;
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_LONG_POLL_SECS));
    let proposal = match next {
        Next::Ready(proposal) => Some(proposal),
        Next::Wait(_) if wait.is_zero() => None,
        Next::Wait(receiver) => {
            tokio::time::timeout(wait, receiver).await.ok().and_then(Result::ok)
        }
    };
    Ok(match proposal {
        Some(proposal) => HttpResponse::Ok().json(proposal),
        None => HttpResponse::NoContent().finish(),
    })
}

async fn signatures(
    state: State,
    body: web::Json<SignedCheckpoint>,
) -> Result<HttpResponse, ApiFailure> {
    let receipt = ask(&state.checkpoints, ReceiveSignature(body.into_inner())).await??;
    Ok(HttpResponse::Ok().json(receipt))
}

async fn rejections(state: State, body: web::Json<Rejection>) -> Result<HttpResponse, ApiFailure> {
    let receipt = ask(&state.checkpoints, ReceiveRejection(body.into_inner())).await??;
    Ok(HttpResponse::Ok().json(receipt))
}

/// `?limit=N`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<usize>,
}

impl LimitQuery {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(20).min(RECENT)
    }
}

async fn checkpoints(
    state: State,
    query: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiFailure> {
    let recent = ask(&state.checkpoints, RecentCheckpoints { limit: query.limit() }).await?;
    Ok(HttpResponse::Ok().json(recent))
}

fn unknown(id: u64) -> ApiFailure {
    ApiFailure::not_found(
        "unknown_checkpoint",
        format!(
            "checkpoint {id} is unknown here (never proposed, or older than the {RECENT} kept)"
        ),
    )
}

async fn checkpoint(state: State, id: web::Path<u64>) -> Result<HttpResponse, ApiFailure> {
    let id = id.into_inner();
    let status = ask(&state.checkpoints, GetCheckpoint(id)).await?;
    Ok(HttpResponse::Ok().json(status.ok_or_else(|| unknown(id))?))
}

async fn checkpoint_signatures(
    state: State,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiFailure> {
    let id = id.into_inner();
    let signatures = ask(&state.checkpoints, CheckpointSignatures(id)).await?;
    Ok(HttpResponse::Ok().json(signatures.ok_or_else(|| unknown(id))?))
}

async fn divergences(
    state: State,
    query: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiFailure> {
    let recent = ask(&state.checkpoints, RecentDivergences { limit: query.limit() }).await?;
    Ok(HttpResponse::Ok().json(recent))
}

async fn status(state: State) -> Result<HttpResponse, ApiFailure> {
    let signers = ask(&state.table, LatestSigners).await?;
    let heads = ask(&state.proposer, RollupHeads).await?;
    let view = ask(&state.checkpoints, GetProposerView).await?;
    let attested_checkpoints = ask(&state.checkpoints, AttestedCount).await?;
    Ok(HttpResponse::Ok().json(AggregatorStatus {
        domain: state.domain,
        table_version: signers.map(|s| s.table().version()),
        rollups: rollup_statuses(&heads, &view.attested),
        attested_checkpoints,
        submitter: state.submitter,
    }))
}

/// Each rollup's safe head, attested height and lag.
pub fn rollup_statuses(
    heads: &[(u64, Option<u64>)],
    attested: &HashMap<u64, u64>,
) -> Vec<RollupStatus> {
    heads
        .iter()
        .map(|(rollup_id, safe_head)| {
            let attested = attested.get(rollup_id).copied();
            RollupStatus {
                rollup_id: *rollup_id,
                safe_head: *safe_head,
                attested,
                lag: safe_head.map(|head| head.saturating_sub(attested.unwrap_or(0))),
            }
        })
        .collect()
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode())
}
