//! The HTTP API (actix-web), exactly as `chorus_wire::routes` describes.
//!
//! Every `4xx`/`5xx` answer carries a JSON [`ApiError`]: malformed JSON and
//! wrong lengths are `400`, bodies over [`MAX_BODY_BYTES`] `413`, unknown
//! checkpoints `404`, operators outside the table `403`, answers to another
//! proposal `409`.
//!
//! Each handler carries its `#[utoipa::path]` description (path from
//! `chorus_wire::routes`, parameters, bodies, every status it answers), from
//! which [`openapi`] builds the document served at [`routes::OPENAPI`].
//! [`configure`] registers one table of paths, methods and handlers, which
//! [`served_routes`] lists; `aggregator/tests/openapi.rs` holds the
//! document's paths and methods equal to it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix::{Addr, Handler, Message, dev::ToEnvelope};
use actix_web::{
    HttpRequest, HttpResponse, ResponseError, Route,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::{
        Method, StatusCode,
        header::{self, HeaderValue},
    },
    web,
};
use alloy::primitives::Address;
use chorus_wire::{
    AggregatorStatus, ApiError, CheckpointStatus, Divergence, Domain, MAX_BODY_BYTES,
    MAX_LONG_POLL_SECS, Proposal, PublicSignature, Receipt, Rejection, RollupStatus,
    SignedCheckpoint, routes,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    admission::RefusalCode,
    checkpoints::{
        AttestedCount, CheckpointSignatures, Checkpoints, GetCheckpoint, GetProposerView, Next,
        NextProposal, RECENT, ReceiveRejection, ReceiveSignature, RecentCheckpoints,
        RecentDivergences,
    },
    metrics::Metrics,
    proposer::{Proposer, RollupHeads},
    table::{LatestSigners, OperatorTable},
};

// A child of this module, so that it can name the (private) handlers.
#[path = "openapi.rs"]
pub mod openapi;

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

    /// `408`: the request took too long (its body came too slowly).
    pub fn request_timeout(message: String) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", message)
    }

    /// `429`: the client's address is over its rate.
    pub fn too_many_requests(message: String) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
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
        let mut response = HttpResponse::build(self.status)
            .json(ApiError { code: self.code.to_owned(), message: self.message.clone() });
        response.extensions_mut().insert(RefusalCode(self.code));
        response
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

/// The OpenAPI tag of the routes operators use.
const OPERATORS: &str = "operators";
/// The OpenAPI tag of the public read routes.
const WATCHERS: &str = "watchers";
/// The OpenAPI tag of the routes for the people and tools running it.
const OPERATIONS: &str = "operations";

// Response descriptions several routes share.
const UNAVAILABLE: &str = "`unavailable`: the aggregator is stopping, or has not loaded the operator table this needs yet: retry shortly.";
const INTERNAL: &str =
    "`internal`: the aggregator failed (e.g. its store); the message says what failed.";
const BODY_TOO_LARGE: &str =
    "`body_too_large`: the body exceeds the limit given in the API description.";
const UNSUPPORTED_CONTENT_TYPE: &str =
    "`unsupported_content_type`: send the body with `Content-Type: application/json`.";
const BAD_QUERY: &str = "`bad_query`: a parameter is not a non-negative integer, or is unknown.";
const BAD_PATH: &str = "`bad_path`: the id is not a non-negative integer.";
const UNKNOWN_CHECKPOINT: &str =
    "`unknown_checkpoint`: never proposed here, or older than the checkpoints kept.";
const RATE_LIMITED: &str = "`rate_limited`: this address sent more requests than its rate allows: wait the `Retry-After` seconds.";
const REQUEST_TIMEOUT: &str = "`request_timeout`: the body did not arrive within the request deadline; the connection is closed.";
const UNKNOWN_OPERATOR: &str =
    "`unknown_operator`: the operator is not in the checkpoint's operator table.";

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

/// `405`, with the `Allow` header RFC 9110 (15.5.6) requires: the one
/// method the path serves.
fn method_not_allowed(request: &HttpRequest, allowed: &Method) -> HttpResponse {
    let mut response = ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}: use {allowed}", request.method(), request.path()),
    )
    .error_response();
    if let Ok(value) = HeaderValue::from_str(allowed.as_str()) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Attaches a handler to a route of the endpoint's method.
type Attach = fn(Route) -> Route;

/// Every route of the API: its path, its method and its handler.
/// [`configure`] registers exactly these, and [`served_routes`] lists them
/// for the test that holds the OpenAPI document to them.
const ENDPOINTS: [(&str, Method, Attach); 11] = [
    (routes::NEXT_PROPOSAL, Method::GET, |route| route.to(next_proposal)),
    (routes::SIGNATURES, Method::POST, |route| route.to(signatures)),
    (routes::REJECTIONS, Method::POST, |route| route.to(rejections)),
    (routes::CHECKPOINTS, Method::GET, |route| route.to(checkpoints)),
    (routes::CHECKPOINT, Method::GET, |route| route.to(checkpoint)),
    (routes::CHECKPOINT_SIGNATURES, Method::GET, |route| route.to(checkpoint_signatures)),
    (routes::DIVERGENCES, Method::GET, |route| route.to(divergences)),
    (routes::STATUS, Method::GET, |route| route.to(status)),
    (routes::HEALTH, Method::GET, |route| route.to(health)),
    (routes::METRICS, Method::GET, |route| route.to(metrics)),
    (routes::OPENAPI, Method::GET, |route| route.to(openapi_document)),
];

/// Each path and method [`configure`] serves from [`ENDPOINTS`] (the
/// dashboard's page and assets, registered by their own module, apart).
pub fn served_routes() -> Vec<(&'static str, Method)> {
    ENDPOINTS.into_iter().map(|(path, method, _)| (path, method)).collect()
}

/// Configures the app's routes and extractor limits.
pub fn configure(state: Arc<ApiState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::Data::new(state))
            .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES).error_handler(json_error))
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error));
        for (path, method, attach) in ENDPOINTS {
            config.service(resource(path, method.clone()).route(attach(web::method(method))));
        }
        config.configure(super::dashboard::configure).default_service(web::to(not_found));
    }
}

/// A route answering `405` with an [`ApiError`] to methods other than
/// `method`. (Each path has one method: a second resource on the same path
/// would never be reached.)
fn resource(path: &str, method: Method) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |request: HttpRequest| {
        let allowed = method.clone();
        async move { method_not_allowed(&request, &allowed) }
    }))
}

/// `?after=ID&wait=SECONDS`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct NextQuery {
    /// Only a proposal with a larger checkpoint id: the last one this
    /// operator answered. Without it, the open proposal.
    after: Option<u64>,
    /// Seconds to wait for one when none is open yet (default 0; longer
    /// waits are cut to the longest long poll).
    wait: Option<u64>,
}

/// The proposal to sign next.
///
/// The newest open proposal after `after`. When there is none yet, waits
/// up to `wait` seconds for one (a long poll) and answers `204` if none
/// came.
#[utoipa::path(
    get,
    path = routes::NEXT_PROPOSAL,
    tag = OPERATORS,
    params(NextQuery),
    responses(
        (status = 200, description = "The proposal to check and answer.", body = Proposal),
        (status = 204, description = "No proposal after `after` came within `wait` seconds: ask again."),
        (status = 400, description = BAD_QUERY, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
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

/// Sign a proposal.
///
/// An operator's BLS signature over the proposal's checkpoint message
/// (EIP-712, binding the L1 chain id, the attestation contract, the table
/// version and the commitments root). The signature is the only
/// credential: it must verify under the operator's key in that table
/// version. The answer comes once the signature has been checked, in a
/// batch with the others that arrived meanwhile, and recorded: `accepted`
/// means it verified.
#[utoipa::path(
    post,
    path = routes::SIGNATURES,
    tag = OPERATORS,
    request_body = SignedCheckpoint,
    responses(
        (status = 200, description = "Recorded (`accepted`), or the same signature came before (`duplicate`); with the checkpoint as it now stands.", body = Receipt),
        (status = 400, description = "`malformed_json` or `bad_body`: not the expected JSON; `malformed_signature`: not a 48-byte compressed G1 point in the subgroup; `invalid_signature`: does not verify over the checkpoint's message under the operator's registered key.", body = ApiError),
        (status = 403, description = UNKNOWN_OPERATOR, body = ApiError),
        (status = 404, description = UNKNOWN_CHECKPOINT, body = ApiError),
        (status = 409, description = "`wrong_table_version` or `wrong_root`: not the proposal as served; `checkpoint_superseded`, `checkpoint_attested` or `checkpoint_closed`: the checkpoint takes no more signatures; `conflicting_signature`: this operator already sent a different valid signature for it.", body = ApiError),
        (status = 413, description = BODY_TOO_LARGE, body = ApiError),
        (status = 415, description = UNSUPPORTED_CONTENT_TYPE, body = ApiError),
        (status = 500, description = INTERNAL, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 408, description = REQUEST_TIMEOUT, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
async fn signatures(
    state: State,
    body: web::Json<SignedCheckpoint>,
) -> Result<HttpResponse, ApiFailure> {
    let pending = ask(&state.checkpoints, ReceiveSignature(body.into_inner())).await??;
    let receipt = pending.await.map_err(|_| {
        ApiFailure::unavailable(
            "the aggregator stopped before checking this signature: send it again",
        )
    })??;
    Ok(HttpResponse::Ok().json(receipt))
}

/// Refuse commitments of a proposal.
///
/// An operator whose own L2 node disagrees with (or cannot yet judge) some
/// commitments names them and why, signed with its BLS key over
/// `Rejection::message` (a message of its own type hash, never a
/// checkpoint message). Mismatches are recorded as divergences.
#[utoipa::path(
    post,
    path = routes::REJECTIONS,
    tag = OPERATORS,
    request_body = Rejection,
    responses(
        (status = 200, description = "Recorded (`accepted`), or the same rejection came before (`duplicate`); with the checkpoint as it now stands.", body = Receipt),
        (status = 400, description = "`malformed_json` or `bad_body`: not the expected JSON; `empty_rejection`: names no commitment; `unknown_commitment`: names a commitment the proposal does not hold; `invalid_signature`: does not verify under the operator's registered key.", body = ApiError),
        (status = 403, description = UNKNOWN_OPERATOR, body = ApiError),
        (status = 404, description = UNKNOWN_CHECKPOINT, body = ApiError),
        (status = 409, description = "`wrong_table_version` or `wrong_root`: not the proposal as served; `checkpoint_superseded` or `checkpoint_attested`: the checkpoint takes no more answers.", body = ApiError),
        (status = 413, description = BODY_TOO_LARGE, body = ApiError),
        (status = 415, description = UNSUPPORTED_CONTENT_TYPE, body = ApiError),
        (status = 500, description = INTERNAL, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 408, description = REQUEST_TIMEOUT, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
async fn rejections(state: State, body: web::Json<Rejection>) -> Result<HttpResponse, ApiFailure> {
    let receipt = ask(&state.checkpoints, ReceiveRejection(body.into_inner())).await??;
    Ok(HttpResponse::Ok().json(receipt))
}

/// How many entries a list answers when `limit` is not given.
const DEFAULT_LIMIT: usize = 20;

/// `?limit=N`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    /// How many, newest first (larger values are cut to what the
    /// aggregator keeps).
    #[param(default = json!(DEFAULT_LIMIT))]
    limit: Option<u64>,
}

impl LimitQuery {
    fn limit(&self) -> usize {
        self.limit
            .map_or(DEFAULT_LIMIT, |limit| usize::try_from(limit).unwrap_or(usize::MAX))
            .min(RECENT)
    }
}

/// Recent checkpoints.
///
/// Newest first, each with its proposal, state, weights, signers, missing
/// operators, rejections and, once posted, its L1 transaction and block.
#[utoipa::path(
    get,
    path = routes::CHECKPOINTS,
    tag = WATCHERS,
    params(LimitQuery),
    responses(
        (status = 200, description = "Newest first.", body = Vec<CheckpointStatus>),
        (status = 400, description = BAD_QUERY, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
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

/// One checkpoint.
#[utoipa::path(
    get,
    path = routes::CHECKPOINT,
    tag = WATCHERS,
    params(("id" = u64, Path, description = "The checkpoint id (from a proposal).")),
    responses(
        (status = 200, description = "The checkpoint as it stands.", body = CheckpointStatus),
        (status = 400, description = BAD_PATH, body = ApiError),
        (status = 404, description = UNKNOWN_CHECKPOINT, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
async fn checkpoint(state: State, id: web::Path<u64>) -> Result<HttpResponse, ApiFailure> {
    let id = id.into_inner();
    let status = ask(&state.checkpoints, GetCheckpoint(id)).await?;
    Ok(HttpResponse::Ok().json(status.ok_or_else(|| unknown(id))?))
}

/// A checkpoint's individual signatures.
///
/// Every signature accepted for it, with the signer's registered key and
/// the commitments signed: public, so that anyone can watch for
/// equivocation. The aggregator checks signatures in batches (a sum that
/// verified): verify each one alone before acting on it.
#[utoipa::path(
    get,
    path = routes::CHECKPOINT_SIGNATURES,
    tag = WATCHERS,
    params(("id" = u64, Path, description = "The checkpoint id (from a proposal).")),
    responses(
        (status = 200, description = "Every accepted signature.", body = Vec<PublicSignature>),
        (status = 400, description = BAD_PATH, body = ApiError),
        (status = 404, description = UNKNOWN_CHECKPOINT, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
async fn checkpoint_signatures(
    state: State,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiFailure> {
    let id = id.into_inner();
    let signatures = ask(&state.checkpoints, CheckpointSignatures(id)).await?;
    Ok(HttpResponse::Ok().json(signatures.ok_or_else(|| unknown(id))?))
}

/// Recent divergences.
///
/// Commitments an operator's own node contradicted (a `mismatch`
/// rejection), newest first: the aggregator's view and the operator's.
#[utoipa::path(
    get,
    path = routes::DIVERGENCES,
    tag = WATCHERS,
    params(LimitQuery),
    responses(
        (status = 200, description = "Newest first.", body = Vec<Divergence>),
        (status = 400, description = BAD_QUERY, body = ApiError),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
async fn divergences(
    state: State,
    query: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiFailure> {
    let recent = ask(&state.checkpoints, RecentDivergences { limit: query.limit() }).await?;
    Ok(HttpResponse::Ok().json(recent))
}

/// The aggregator's overview.
///
/// Its domain, operator-table version, every rollup's safe head, attested
/// height and lag, the checkpoints attested since it started and its
/// submitter's address.
#[utoipa::path(
    get,
    path = routes::STATUS,
    tag = WATCHERS,
    responses(
        (status = 200, description = "The overview.", body = AggregatorStatus),
        (status = 503, description = UNAVAILABLE, body = ApiError),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    )
)]
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

/// `/health`'s answer.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    /// `ok` whenever the API answers.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness.
///
/// `200` whenever the API serves (for health checks and load balancers).
#[utoipa::path(
    get,
    path = routes::HEALTH,
    tag = OPERATIONS,
    responses(
        (status = 200, description = "Serving.", body = Health),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    ),
)]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The media type of [`metrics`]' answer.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus metrics.
///
/// The OpenMetrics text exposition: checkpoints, signatures, divergences,
/// quorum latency, rollup lag, the submitter's balance, RPC calls.
#[utoipa::path(
    get,
    path = routes::METRICS,
    tag = OPERATIONS,
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = OPENMETRICS),
        (status = 429, description = RATE_LIMITED, body = ApiError),
    ),
)]
async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok().content_type(OPENMETRICS).body(state.metrics.encode())
}

/// This document.
///
/// The OpenAPI 3.1 description of this API, generated from the
/// aggregator's code.
#[utoipa::path(
    get,
    path = routes::OPENAPI,
    tag = OPERATIONS,
    responses(
        (status = 200, description = "The OpenAPI document.", body = Object),
        (status = 429, description = RATE_LIMITED, body = ApiError),
        (status = 500, description = INTERNAL, body = ApiError),
    ),
)]
async fn openapi_document() -> Result<HttpResponse, ApiFailure> {
    let document = openapi::document()
        .map_err(|e| ApiFailure::internal(format!("the OpenAPI document did not encode: {e}")))?;
    Ok(HttpResponse::Ok().json(document))
}
