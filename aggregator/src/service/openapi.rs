//! The OpenAPI 3.1 document of the aggregator's HTTP API, served at
//! [`routes::OPENAPI`] and generated from the code: the paths, parameters
//! and responses from each handler's `#[utoipa::path]`, the schemas from
//! the `chorus_wire` bodies (`ToSchema`, feature `openapi`) and the alloy
//! types described once in `chorus_wire::openapi`.
//!
//! The paths in the annotations are the `chorus_wire::routes` constants
//! themselves (utoipa takes a constant expression for `path`), and
//! `aggregator/tests/openapi.rs` holds the document's paths and methods
//! equal to what [`super::configure`] serves ([`super::served_routes`]).

use chorus_wire::{MAX_BODY_BYTES, MAX_LONG_POLL_SECS, routes};
use serde_json::Value;
use utoipa::{
    OpenApi,
    openapi::{
        self, ContentBuilder, InfoBuilder, LicenseBuilder, ObjectBuilder, Ref, ResponseBuilder,
        Type,
        path::{HttpMethod, OperationBuilder},
        tag::TagBuilder,
    },
};

use super::{OPERATIONS, OPERATORS, RATE_LIMITED, WATCHERS};

/// The annotated handlers; schemas are collected from their bodies.
#[derive(OpenApi)]
#[openapi(paths(
    super::next_proposal,
    super::signatures,
    super::rejections,
    super::checkpoints,
    super::checkpoint,
    super::checkpoint_signatures,
    super::divergences,
    super::status,
    super::health,
    super::metrics,
    super::openapi_document,
))]
struct Annotated;

/// The document as served: [`generated`], with every unsigned integer
/// bounded by its type.
pub fn document() -> Result<Value, serde_json::Error> {
    let mut document = serde_json::to_value(generated())?;
    bound_unsigned_integers(&mut document);
    Ok(document)
}

/// The unsigned integer formats (OpenAPI format registry names), as utoipa
/// 5 spells them, and the largest value of each.
const UNSIGNED_FORMATS: [(&str, &str, u64); 4] = [
    ("u-int8", "uint8", u8::MAX as u64),
    ("u-int16", "uint16", u16::MAX as u64),
    ("u-int32", "uint32", u32::MAX as u64),
    ("u-int64", "uint64", u64::MAX),
];

/// Gives each unsigned integer schema its format's registry name and its
/// type's maximum. utoipa 5 writes `u-int64` for `uint64` (its issue
/// #1527), and OpenAPI leaves these formats unbounded, so a client would
/// not know that a larger number is refused (`400`); `int32`/`int64`
/// (utoipa's default for `u32`/`u64`) would state half the range.
fn bound_unsigned_integers(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let format = object.get("format").and_then(Value::as_str);
            let known = UNSIGNED_FORMATS
                .iter()
                .find(|(spelled, name, _)| format == Some(spelled) || format == Some(name));
            if let Some((_, name, maximum)) = known {
                object.insert("format".to_owned(), (*name).into());
                object.entry("maximum").or_insert((*maximum).into());
            }
            object.values_mut().for_each(bound_unsigned_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_unsigned_integers),
        _ => {}
    }
}

/// The generated document: the annotated routes, the dashboard page, and
/// the API's purpose, authentication model and error conventions.
fn generated() -> openapi::OpenApi {
    let mut document = Annotated::openapi();
    document.info = InfoBuilder::new()
        .title("Chorus aggregator API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description()))
        .license(Some(
            LicenseBuilder::new()
                .name(env!("CARGO_PKG_LICENSE"))
                .identifier(Some(env!("CARGO_PKG_LICENSE")))
                .build(),
        ))
        .build();
    document.tags = Some(vec![
        TagBuilder::new()
            .name(OPERATORS)
            .description(Some("What operator nodes call: fetch a proposal, answer it."))
            .build(),
        TagBuilder::new()
            .name(WATCHERS)
            .description(Some(
                "Public reads for watchers, dashboards and rollups: checkpoints, their \
                 individual signatures, divergences, the aggregator's overview.",
            ))
            .build(),
        TagBuilder::new()
            .name(OPERATIONS)
            .description(Some("For the people and tools running the aggregator."))
            .build(),
    ]);
    document.paths.add_path_operation(routes::DASHBOARD, vec![HttpMethod::Get], dashboard());
    document
}

/// The dashboard page, served by its own module (plain HTML, script and
/// style sheet from this origin only).
fn dashboard() -> openapi::path::Operation {
    let page =
        ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String))).build();
    OperationBuilder::new()
        .tag(OPERATIONS)
        .operation_id(Some("dashboard"))
        .summary(Some("The dashboard."))
        .description(Some(
            "A page for people: each rollup's attested height and lag, the last checkpoints \
             with their L1 transactions and signed weight, which operator signed, missed or \
             rejected each, and divergences, updated live from the JSON routes. It loads \
             nothing from other origins.",
        ))
        .response("200", ResponseBuilder::new().description("The page.").content("text/html", page))
        .response(
            "429",
            ResponseBuilder::new().description(RATE_LIMITED).content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build(),
            ),
        )
        .build()
}

/// The document's description (Markdown): purpose, flow, authentication
/// and errors, with the limits from `chorus_wire`.
fn description() -> String {
    format!(
        "Chorus is restaked validation for rollups. Operators who have restaked on \
EigenLayer sign rollups' state commitments with BLS12-381 keys. This aggregator \
proposes checkpoints (a Merkle root over one commitment per rollup), collects the \
operators' signatures until a stake quorum, and posts one aggregate to the attestation \
contract on L1, which checks it. Anyone may run an aggregator; it is never trusted.

## Flow

Operators long-poll `GET {next}`, check every commitment against their own L2 node, \
and answer with `POST {signatures}`, or with `POST {rejections}` naming the commitments \
they refuse and why. Watchers, dashboards and rollups read `{checkpoints}`, \
`{divergences}` and `{status}`. Individual signatures are public (`{public}`) so that \
anyone can catch an equivocation; verify each one under the operator's registered key \
before acting on it.

## Authentication

There are no accounts, API keys or sessions. Every answer an operator posts carries a \
BLS signature by the key registered for it in the operator table on L1: over the \
checkpoint message (EIP-712, binding the L1 chain id and the attestation contract) for \
a signature, over the rejection message for a rejection. That signature is what \
authenticates it: an operator outside the table gets `403`, a signature that does not \
verify `400`. Everything else is public and read-only.

## Errors

Every `4xx` and `5xx` answer is an `ApiError`, `{{\"code\", \"message\"}}`: `code` is \
stable and machine-readable, `message` says in plain words what is wrong and what to \
do. Request bodies are JSON (`Content-Type: application/json`, else `415`) of at most \
{max_body} bytes (else `413`); malformed JSON, query strings and paths are `400`. An \
unknown path is `404 not_found`; a method a path does not serve is \
`405 method_not_allowed`; `503 unavailable` means retry shortly.

## Limits

Each client address may send a limited number of requests per second (with a \
burst above it), set by the aggregator's operator; beyond it the answer is \
`429 rate_limited` with a `Retry-After` header (seconds). A request must be sent \
whole and promptly: its head within a few seconds of connecting (else the \
connection is closed), its body within the request deadline (else \
`408 request_timeout`, and the connection is closed).

## Encodings

Commitments carry their Solidity field names; byte strings (addresses, hashes, keys, \
signatures) are 0x-prefixed hex; stake weights (U256) are 0x-prefixed hex integers. A \
long poll waits at most {long_poll} s.",
        next = routes::NEXT_PROPOSAL,
        signatures = routes::SIGNATURES,
        rejections = routes::REJECTIONS,
        checkpoints = routes::CHECKPOINTS,
        divergences = routes::DIVERGENCES,
        status = routes::STATUS,
        public = routes::CHECKPOINT_SIGNATURES,
        max_body = MAX_BODY_BYTES,
        long_poll = MAX_LONG_POLL_SECS,
    )
}
