//! The OpenAPI document against the code it describes.
//!
//! - Its paths and methods are exactly the routes the API serves
//!   (`api::served_routes`, which `api::configure` registers, plus the
//!   dashboard page), and every refusal it documents is an `ApiError`.
//! - Its schemas accept what serde writes for every body, and refuse
//!   values that break them (so the validator below is not vacuous).
//! - On a running devnet aggregator, every documented answer of every route
//!   is provoked with a sample request (all but `500` and `503`, which
//!   need a failing store or a stopping aggregator): its status must be
//!   documented for that route, its media type as documented, and its body
//!   valid under the documented schema. The valid requests themselves are
//!   checked against the documented request bodies.
//!
//! The validator is a deliberately small subset of JSON Schema, exactly
//! what utoipa emits here, and refuses any keyword it does not know rather
//! than ignore it. It is stricter than JSON Schema in one way: an object
//! may hold only the properties its schema lists, so a field serde writes
//! but the document lacks fails the test.

use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};

use actix_web::http::Method;
use alloy::primitives::{Address, B256, Bytes, U256};
use chorus_aggregator::service::api::{openapi, served_routes};
use chorus_contracts::Commitment;
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_keys::{bls::SecretKey, keystore::Keystore, password::PasswordSource};
use chorus_wire::{
    AggregatorStatus, ApiError, CheckpointState, CheckpointStatus, Divergence, Domain,
    MAX_BODY_BYTES, OperatorRejection, Proposal, PublicSignature, Receipt, ReceiptStatus,
    RejectReason, RejectedCommitment, Rejection, RollupStatus, SignedCheckpoint, routes,
};
use serde::Serialize;
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The document as served.
fn document() -> Result<Value, serde_json::Error> {
    openapi::document()
}

/// Every `(path, METHOD)` the document describes.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().into_iter().flatten();
    paths
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|item| item.keys())
                .filter(|key| {
                    ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                        .contains(&key.as_str())
                })
                .map(move |method| (path.clone(), method.to_uppercase()))
        })
        .collect()
}

#[test]
fn the_document_lists_exactly_the_served_routes() -> TestResult {
    let document = document()?;
    let served = served_routes();
    let paths: BTreeSet<&str> = served.iter().map(|(path, _)| *path).collect();
    assert_eq!(paths.len(), served.len(), "one method per path: a second would never be reached");

    let mut expected: BTreeSet<(String, String)> = served
        .iter()
        .map(|(path, method)| ((*path).to_owned(), method.as_str().to_owned()))
        .collect();
    // The dashboard registers its page (and assets) itself.
    expected.insert((routes::DASHBOARD.to_owned(), Method::GET.as_str().to_owned()));
    assert_eq!(documented_operations(&document), expected);
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    Ok(())
}

#[test]
fn every_operation_documents_its_parameters_and_refusals() -> TestResult {
    let document = document()?;
    for (path, method) in documented_operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let name = format!("{method} {path}");
        assert!(operation["summary"].is_string(), "{name} has a summary");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.contains_key("200"), "{name} documents its 200");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{name} {status} is an ApiError"
                );
            }
        }
        // A `{name}` in the path is a documented path parameter.
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(['{', '}']);
            assert!(
                parameters.iter().any(|p| p["name"] == name && p["in"] == "path"),
                "{method} {path} documents its path parameter {name}"
            );
        }
        if !parameters.is_empty() {
            assert!(responses.contains_key("400"), "{method} {path} documents bad parameters");
        }
        if method == "POST" {
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            assert!(body["$ref"].is_string(), "{method} {path} documents its JSON body");
            for status in ["400", "413", "415"] {
                assert!(responses.contains_key(status), "{method} {path} documents {status}");
            }
        }
    }
    assert!(!document.to_string().contains("\"u-int"), "formats use the registry's names");
    let description = document["info"]["description"].as_str().expect("a description");
    for topic in ["## Authentication", "## Errors", &MAX_BODY_BYTES.to_string()] {
        assert!(description.contains(topic), "the description covers {topic}");
    }
    Ok(())
}

fn commitment(rollup: u64) -> Commitment {
    Commitment {
        rollupId: rollup,
        l2BlockNumber: 7,
        l2BlockHash: B256::repeat_byte(0xab),
        stateRoot: B256::repeat_byte(0xcd),
    }
}

fn proposal() -> Proposal {
    Proposal {
        checkpoint_id: 3,
        domain: Domain { l1_chain_id: 31337, attestation_contract: Address::repeat_byte(0xaa) },
        table_version: 2,
        commitments: vec![commitment(901), commitment(902)],
        commitments_root: B256::repeat_byte(1),
    }
}

fn rejected() -> Vec<RejectedCommitment> {
    let reasons = [
        RejectReason::Mismatch { ours: commitment(901) },
        RejectReason::NotYetSafe { safe_head: 6 },
        RejectReason::UnknownRollup,
        RejectReason::Unavailable { detail: "connection refused".to_owned() },
    ];
    reasons
        .into_iter()
        .map(|reason| RejectedCommitment { commitment: commitment(901), reason })
        .collect()
}

fn checkpoint_status(attested: bool) -> CheckpointStatus {
    CheckpointStatus {
        proposal: proposal(),
        state: if attested { CheckpointState::Attested } else { CheckpointState::Open },
        signed_weight: U256::ZERO,
        needed_weight: U256::from(2_000_000_000_000_000_000u128),
        total_weight: U256::MAX,
        signers: vec![Address::repeat_byte(2)],
        missing: vec![],
        rejections: vec![OperatorRejection {
            operator: Address::repeat_byte(3),
            rejected: rejected(),
        }],
        waiting_for: (!attested).then(|| "quorum: 1 of 4 operators".to_owned()),
        l1_transaction: attested.then(|| B256::repeat_byte(9)),
        l1_block: attested.then_some(77),
    }
}

/// One value of every body, encoded by serde, under its schema's name.
fn samples() -> Result<Vec<(&'static str, Value)>, serde_json::Error> {
    fn value(body: impl Serialize) -> Result<Value, serde_json::Error> {
        serde_json::to_value(body)
    }
    let signature = Bytes::from(vec![0x8a; 48]);
    Ok(vec![
        ("Proposal", value(proposal())?),
        (
            "SignedCheckpoint",
            value(SignedCheckpoint {
                checkpoint_id: 3,
                operator: Address::repeat_byte(2),
                table_version: 2,
                commitments_root: B256::repeat_byte(1),
                signature: signature.clone(),
            })?,
        ),
        (
            "Rejection",
            value(Rejection {
                checkpoint_id: 3,
                operator: Address::repeat_byte(3),
                table_version: 2,
                commitments_root: B256::repeat_byte(1),
                rejected: rejected(),
                signature: signature.clone(),
            })?,
        ),
        (
            "Receipt",
            value(Receipt {
                status: ReceiptStatus::Duplicate,
                checkpoint: checkpoint_status(false),
            })?,
        ),
        ("CheckpointStatus", value(checkpoint_status(true))?),
        (
            "PublicSignature",
            value(PublicSignature {
                operator: Address::repeat_byte(2),
                pubkey: Bytes::from(vec![0x11; 256]),
                table_version: 2,
                commitments_root: B256::repeat_byte(1),
                commitments: vec![commitment(901)],
                signature,
            })?,
        ),
        (
            "Divergence",
            value(Divergence {
                checkpoint_id: 3,
                operator: Address::repeat_byte(3),
                proposed: commitment(901),
                theirs: commitment(901),
            })?,
        ),
        (
            "AggregatorStatus",
            value(AggregatorStatus {
                domain: proposal().domain,
                table_version: Some(2),
                rollups: vec![
                    RollupStatus {
                        rollup_id: 901,
                        safe_head: Some(9),
                        attested: Some(7),
                        lag: Some(2),
                    },
                    RollupStatus { rollup_id: 902, safe_head: None, attested: None, lag: None },
                ],
                attested_checkpoints: 1,
                submitter: Address::repeat_byte(4),
            })?,
        ),
        ("ApiError", value(ApiError { code: "x".to_owned(), message: "y".to_owned() })?),
    ])
}

#[test]
fn the_schemas_accept_what_serde_writes() -> TestResult {
    let document = document()?;
    let validator = Validator::new(&document);
    for (name, value) in samples()? {
        validator.check_named(name, &value).map_err(|e| format!("{name}: {e}\n{value:#}"))?;
    }
    // Each named schema's example is an instance of it.
    for (name, schema) in document["components"]["schemas"].as_object().expect("schemas") {
        for example in schema["examples"].as_array().into_iter().flatten() {
            validator.check_named(name, example).map_err(|e| format!("{name} example: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn the_schemas_refuse_what_breaks_them() -> TestResult {
    let document = document()?;
    let validator = Validator::new(&document);
    let samples: HashMap<&str, Value> = samples()?.into_iter().collect();
    let broken = |name: &str, change: &dyn Fn(&mut Value)| {
        let mut value = samples[name].clone();
        change(&mut value);
        (name.to_owned(), value)
    };
    let cases = [
        broken("Proposal", &|v| v["commitmentsRoot"] = json!("0x12")),
        broken("Proposal", &|v| v["commitments"][0]["rollupId"] = json!("901")),
        broken("Proposal", &|v| v["domain"]["attestationContract"] = json!("0xzz")),
        broken("Proposal", &|v| v["extra"] = json!(1)),
        broken("SignedCheckpoint", &|v| v["signature"] = json!("0x8a")),
        broken("SignedCheckpoint", &|v| {
            v.as_object_mut().into_iter().for_each(|o| {
                o.remove("operator");
            })
        }),
        broken("Rejection", &|v| v["rejected"][0]["reason"]["kind"] = json!("bored")),
        broken("CheckpointStatus", &|v| v["totalWeight"] = json!("1000")),
        broken("CheckpointStatus", &|v| v["state"] = json!("Attested")),
        broken("PublicSignature", &|v| v["pubkey"] = json!("0x11")),
        broken("AggregatorStatus", &|v| v["rollups"][0]["lag"] = json!(-1)),
        broken("AggregatorStatus", &|v| v["tableVersion"] = json!(u64::from(u32::MAX) + 1)),
    ];
    for (name, value) in cases {
        assert!(validator.check_named(&name, &value).is_err(), "{name} refuses {value:#}");
    }
    let mut largest = samples["AggregatorStatus"].clone();
    largest["tableVersion"] = json!(u32::MAX);
    largest["attestedCheckpoints"] = json!(u64::MAX);
    validator.check_named("AggregatorStatus", &largest)?;
    Ok(())
}

/// A small JSON Schema validator for the keywords utoipa emits here.
struct Validator<'d> {
    /// `components.schemas`.
    schemas: &'d Value,
}

/// Keywords that only annotate.
const ANNOTATIONS: [&str; 7] =
    ["description", "examples", "example", "default", "title", "format", "deprecated"];

impl<'d> Validator<'d> {
    fn new(document: &'d Value) -> Self {
        Self { schemas: &document["components"]["schemas"] }
    }

    fn check_named(&self, name: &str, value: &Value) -> Result<(), String> {
        let schema = &self.schemas[name];
        if schema.is_null() {
            return Err(format!("no schema {name}"));
        }
        self.check(schema, value, "$")
    }

    fn check(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let schema = schema.as_object().ok_or(format!("{at}: the schema is not an object"))?;
        for (keyword, rule) in schema {
            match keyword.as_str() {
                "$ref" => {
                    let name = rule
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                        .ok_or(format!("{at}: unsupported $ref {rule}"))?;
                    self.check_named(name, value).map_err(|e| format!("{at} ({name}): {e}"))?;
                }
                "type" => check_type(rule, value, at)?,
                "properties" => self.check_properties(rule, value, at)?,
                "required" => {
                    for field in rule.as_array().into_iter().flatten() {
                        let field = field.as_str().unwrap_or_default();
                        if value.get(field).is_none() {
                            return Err(format!("{at}: missing required {field}"));
                        }
                    }
                }
                "items" => {
                    for (index, item) in value.as_array().into_iter().flatten().enumerate() {
                        self.check(rule, item, &format!("{at}[{index}]"))?;
                    }
                }
                "oneOf" => {
                    let options = rule.as_array().ok_or(format!("{at}: oneOf is not a list"))?;
                    let matches = options
                        .iter()
                        .filter(|option| self.check(option, value, at).is_ok())
                        .count();
                    if matches != 1 {
                        return Err(format!("{at}: {value} matches {matches} of oneOf"));
                    }
                }
                "enum" => {
                    let allowed = rule.as_array().ok_or(format!("{at}: enum is not a list"))?;
                    if !allowed.contains(value) {
                        return Err(format!("{at}: {value} is not one of {rule}"));
                    }
                }
                "pattern" => {
                    let pattern = regex::Regex::new(rule.as_str().unwrap_or_default())
                        .map_err(|e| format!("{at}: bad pattern: {e}"))?;
                    if let Some(text) = value.as_str()
                        && !pattern.is_match(text)
                    {
                        return Err(format!("{at}: {text:?} does not match {pattern}"));
                    }
                }
                "minimum" => {
                    let minimum = rule.as_i64().ok_or(format!("{at}: minimum {rule}"))?;
                    if value.as_i64().is_some_and(|v| v < minimum) {
                        return Err(format!("{at}: {value} is below {minimum}"));
                    }
                }
                "maximum" => {
                    let maximum = rule.as_u64().ok_or(format!("{at}: maximum {rule}"))?;
                    if value.as_u64().is_some_and(|v| v > maximum) {
                        return Err(format!("{at}: {value} is above {maximum}"));
                    }
                }
                annotation if ANNOTATIONS.contains(&annotation) => {}
                unknown => return Err(format!("{at}: the validator does not know `{unknown}`")),
            }
        }
        Ok(())
    }

    /// Each listed property against its schema; no property unlisted.
    fn check_properties(&self, rule: &Value, value: &Value, at: &str) -> Result<(), String> {
        let Some(object) = value.as_object() else { return Ok(()) };
        let properties = rule.as_object().ok_or(format!("{at}: properties is not an object"))?;
        for (field, field_value) in object {
            let schema =
                properties.get(field).ok_or(format!("{at}: {field} is not in the schema"))?;
            self.check(schema, field_value, &format!("{at}.{field}"))?;
        }
        Ok(())
    }
}

fn check_type(rule: &Value, value: &Value, at: &str) -> Result<(), String> {
    let types: Vec<&str> = match rule {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Err(format!("{at}: type {rule}")),
    };
    let fits = types.iter().any(|kind| match *kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    });
    if fits { Ok(()) } else { Err(format!("{at}: {value} is not {rule}")) }
}

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(120);

/// Statuses no sample request can provoke on a healthy aggregator.
const UNPROVOKED: [&str; 2] = ["500", "503"];

/// Sends requests to a running aggregator and checks each answer against
/// the document; remembers which documented answers were seen.
struct Probe<'d> {
    base: String,
    http: reqwest::Client,
    document: &'d Value,
    validator: Validator<'d>,
    seen: BTreeSet<(String, String, String)>,
}

impl<'d> Probe<'d> {
    /// Sends `request` (for the operation `method template`), checks the
    /// answer and returns its status and body.
    async fn check(
        &mut self,
        method: Method,
        template: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await?;
        self.judge(method, template, status, media_type, text)
    }

    /// Checks an answer (status, media type, body) against the document.
    fn judge(
        &mut self,
        method: Method,
        template: &str,
        status: u16,
        media_type: Option<String>,
        text: String,
    ) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let operation = &self.document["paths"][template][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {template} is documented");
        let status = status.to_string();
        let name = format!("{method} {template} -> {status}");
        let documented = &operation["responses"][&status];
        assert!(documented.is_object(), "{name} is documented");
        let body = match documented["content"].as_object() {
            None => {
                assert!(text.is_empty(), "{name} has no body, as documented: {text}");
                Value::Null
            }
            Some(content) => {
                let media_type = media_type.ok_or(format!("{name} has no Content-Type"))?;
                let essence = |m: &str| m.split(';').next().unwrap_or_default().trim().to_owned();
                let (_, documented_media) = content
                    .iter()
                    .find(|(documented, _)| essence(documented) == essence(&media_type))
                    .ok_or(format!("{name}: {media_type} is not documented"))?;
                if essence(&media_type) == "application/json" {
                    let body: Value = serde_json::from_str(&text)?;
                    self.validator
                        .check(&documented_media["schema"], &body, "$")
                        .map_err(|e| format!("{name}: {e}\n{body:#}"))?;
                    body
                } else {
                    assert!(!text.is_empty(), "{name} has a body");
                    Value::String(text)
                }
            }
        };
        self.seen.insert((template.to_owned(), method.as_str().to_owned(), status.clone()));
        Ok((status.parse()?, body))
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base))
    }

    /// A POST of `body` as JSON, itself checked against the documented
    /// request body.
    fn post_valid<T: Serialize>(
        &self,
        template: &str,
        body: &T,
    ) -> Result<reqwest::RequestBuilder, Box<dyn std::error::Error>> {
        let value = serde_json::to_value(body)?;
        let schema = &self.document["paths"][template]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        self.validator.check(schema, &value, "$").map_err(|e| format!("POST {template}: {e}"))?;
        Ok(self.post(template).json(body))
    }

    /// Waits (up to [`LONG`]) until the aggregator reports checkpoint `id`
    /// attested (it learns of the inclusion after L1 shows it).
    async fn wait_until_attested(&self, id: u64) -> TestResult {
        let deadline = tokio::time::Instant::now() + LONG;
        let path = routes::CHECKPOINT.replace("{id}", &id.to_string());
        loop {
            let status: CheckpointStatus =
                self.get(&path).send().await?.error_for_status()?.json().await?;
            if status.state == CheckpointState::Attested {
                return Ok(());
            }
            assert!(tokio::time::Instant::now() < deadline, "checkpoint {id} never attested");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every documented answer not seen, apart from [`UNPROVOKED`].
    fn unseen(&self) -> Vec<String> {
        let mut unseen = Vec::new();
        for (path, method) in documented_operations(self.document) {
            let operation = &self.document["paths"][&path][method.to_lowercase()];
            for status in operation["responses"].as_object().into_iter().flatten().map(|(s, _)| s) {
                let key = (path.clone(), method.clone(), status.clone());
                if !UNPROVOKED.contains(&status.as_str()) && !self.seen.contains(&key) {
                    unseen.push(format!("{method} {path} -> {status}"));
                }
            }
        }
        unseen
    }
}

/// POSTs to `path` a JSON body that never arrives whole: the head, then
/// one byte of a declared hundred. Answers the status, media type and body
/// of the aggregator's answer, and checks that it closed the connection.
async fn slow_post(
    address: &str,
    path: &str,
) -> Result<(u16, Option<String>, String), Box<dyn std::error::Error>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    // Read to the end: the aggregator answers and closes the connection.
    tokio::time::timeout(LONG, stream.read_to_end(&mut answer)).await??;
    let answer = String::from_utf8(answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").ok_or("no answer head")?;
    let status = head.split(' ').nth(1).ok_or("no status")?.parse()?;
    let media_type = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-type").then(|| value.trim().to_owned())
    });
    Ok((status, media_type, body.to_owned()))
}

/// Operator `index`'s BLS key, from its devnet keystore.
fn operator_key(devnet: &Devnet, index: usize) -> Result<SecretKey, Box<dyn std::error::Error>> {
    let config = &devnet.operator_config(index)?.operator;
    let password_file = config.bls_password_file.clone().ok_or("no password file")?;
    let password = PasswordSource::File(password_file).read()?;
    Ok(Keystore::from_file(&config.bls_keystore)?.decrypt(&password)?.secret)
}

fn sign(proposal: &Proposal, operator: Address, key: &SecretKey) -> SignedCheckpoint {
    proposal.signed_by(operator, &key.sign(proposal.message().as_slice()).to_bytes())
}

fn reject(proposal: &Proposal, operator: Address, key: &SecretKey) -> Rejection {
    let refused = proposal.commitments[0].clone();
    let ours = Commitment { stateRoot: B256::repeat_byte(0xee), ..refused.clone() };
    let rejected =
        vec![RejectedCommitment { commitment: refused, reason: RejectReason::Mismatch { ours } }];
    let message = Rejection::message(
        &proposal.domain,
        proposal.checkpoint_id,
        proposal.table_version,
        proposal.commitments_root,
        &rejected,
    );
    Rejection {
        checkpoint_id: proposal.checkpoint_id,
        operator,
        table_version: proposal.table_version,
        commitments_root: proposal.commitments_root,
        rejected,
        signature: Bytes::copy_from_slice(&key.sign(message.as_slice()).to_bytes()),
    }
}

/// The devnet's aggregator alone; the test plays its four operators with
/// their own keys, so that every answer can be provoked in order.
#[actix_rt::test]
async fn a_running_aggregator_answers_as_documented() -> TestResult {
    let dir = tempfile::tempdir()?;
    let options = DevnetOptions {
        operators: 4,
        rollups: 1,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    let mut devnet = Devnet::setup(options).await?;
    // The open proposal must stay open while the test answers it.
    let mut config = devnet.aggregator_config().clone();
    config.proposer.proposal_timeout_secs = 3600;
    // Short, so that a slow body meets it soon.
    config.api.request_timeout_secs = 2;
    devnet.set_aggregator_config(config)?;
    devnet.start_aggregator().await?;
    let operators: Vec<(Address, SecretKey)> = (0..4)
        .map(|index| Ok((devnet.info().operators[index].address, operator_key(&devnet, index)?)))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;

    let document = document()?;
    let mut probe = Probe {
        base: devnet.aggregator_url().trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
        document: &document,
        validator: Validator::new(&document),
        seen: BTreeSet::new(),
    };
    let (get, post) = (Method::GET, Method::POST);
    let next = routes::NEXT_PROPOSAL;

    // A proposal, and none after it.
    let (status, body) =
        probe.check(get.clone(), next, probe.get(&format!("{next}?wait=30"))).await?;
    assert_eq!(status, 200);
    let proposal: Proposal = serde_json::from_value(body)?;
    // Ids never issued are ignored, so "after the open one".
    let none = format!("{next}?after={}&wait=0", proposal.checkpoint_id);
    assert_eq!(probe.check(get.clone(), next, probe.get(&none)).await?.0, 204);
    assert_eq!(
        probe.check(get.clone(), next, probe.get(&format!("{next}?wait=soon"))).await?.0,
        400
    );

    // Refused answers, one per documented status.
    for path in [routes::SIGNATURES, routes::REJECTIONS] {
        let request = probe.post(path).header("content-type", "application/json").body("{not json");
        assert_eq!(probe.check(post.clone(), path, request).await?.0, 400);
        let request = probe.post(path).header("content-type", "text/plain").body("{}");
        assert_eq!(probe.check(post.clone(), path, request).await?.0, 415);
        let oversized = json!({ "padding": "x".repeat(MAX_BODY_BYTES + 1) });
        assert_eq!(
            probe.check(post.clone(), path, probe.post(path).json(&oversized)).await?.0,
            413
        );
    }
    let (first, first_key) = &operators[0];
    let stranger = SignedCheckpoint {
        operator: Address::repeat_byte(0x42),
        ..sign(&proposal, *first, first_key)
    };
    let signatures = routes::SIGNATURES;
    let request = probe.post_valid(signatures, &stranger)?;
    assert_eq!(probe.check(post.clone(), signatures, request).await?.0, 403);
    let unknown =
        SignedCheckpoint { checkpoint_id: u64::MAX, ..sign(&proposal, *first, first_key) };
    assert_eq!(
        probe.check(post.clone(), signatures, probe.post(signatures).json(&unknown)).await?.0,
        404
    );
    let other_root = SignedCheckpoint {
        commitments_root: B256::repeat_byte(1),
        ..sign(&proposal, *first, first_key)
    };
    assert_eq!(
        probe.check(post.clone(), signatures, probe.post(signatures).json(&other_root)).await?.0,
        409
    );
    let rejections = routes::REJECTIONS;
    let stranger =
        Rejection { operator: Address::repeat_byte(0x42), ..reject(&proposal, *first, first_key) };
    assert_eq!(
        probe.check(post.clone(), rejections, probe.post(rejections).json(&stranger)).await?.0,
        403
    );
    let unknown = Rejection { checkpoint_id: u64::MAX, ..reject(&proposal, *first, first_key) };
    assert_eq!(
        probe.check(post.clone(), rejections, probe.post(rejections).json(&unknown)).await?.0,
        404
    );
    let other_root = Rejection {
        commitments_root: B256::repeat_byte(1),
        ..reject(&proposal, *first, first_key)
    };
    assert_eq!(
        probe.check(post.clone(), rejections, probe.post(rejections).json(&other_root)).await?.0,
        409
    );

    // Accepted answers: one operator diverges, three sign (the quorum).
    let (last, last_key) = &operators[3];
    let request = probe.post_valid(rejections, &reject(&proposal, *last, last_key))?;
    let (status, body) = probe.check(post.clone(), rejections, request).await?;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_value::<Receipt>(body)?.status, ReceiptStatus::Accepted);
    for (operator, key) in &operators[..3] {
        let request = probe.post_valid(signatures, &sign(&proposal, *operator, key))?;
        assert_eq!(probe.check(post.clone(), signatures, request).await?.0, 200);
    }
    devnet.wait_for_checkpoints(1, LONG).await?;
    probe.wait_until_attested(proposal.checkpoint_id).await?;
    let request = probe.post(signatures).json(&sign(&proposal, *first, first_key));
    let (status, body) = probe.check(post.clone(), signatures, request).await?;
    assert_eq!((status, &body["code"]), (409, &json!("checkpoint_attested")));

    // The reads, the attested checkpoint among them.
    let id = proposal.checkpoint_id.to_string();
    for (template, good, bad_param) in [
        (routes::CHECKPOINTS, "?limit=5".to_owned(), "?limit=many"),
        (routes::DIVERGENCES, "?limit=5".to_owned(), "?since=1"),
        (routes::CHECKPOINT, id.clone(), "first"),
        (routes::CHECKPOINT_SIGNATURES, id.clone(), "first"),
    ] {
        let (good, bad) = if template.contains("{id}") {
            (template.replace("{id}", &good), template.replace("{id}", bad_param))
        } else {
            (format!("{template}{good}"), format!("{template}{bad_param}"))
        };
        let (status, body) = probe.check(get.clone(), template, probe.get(&good)).await?;
        assert_eq!(status, 200, "{good}: {body}");
        assert_ne!(body, json!([]), "{good} has something to check");
        assert_eq!(probe.check(get.clone(), template, probe.get(&bad)).await?.0, 400);
        if template.contains("{id}") {
            let missing = template.replace("{id}", &u64::MAX.to_string());
            assert_eq!(probe.check(get.clone(), template, probe.get(&missing)).await?.0, 404);
        }
    }
    let (_, attested) = probe
        .check(get.clone(), routes::CHECKPOINT, probe.get(&routes::CHECKPOINT.replace("{id}", &id)))
        .await?;
    assert_eq!(attested["state"], "attested");
    assert!(attested["l1Transaction"].is_string() && attested["l1Block"].is_u64());
    for path in
        [routes::STATUS, routes::HEALTH, routes::METRICS, routes::OPENAPI, routes::DASHBOARD]
    {
        assert_eq!(probe.check(get.clone(), path, probe.get(path)).await?.0, 200, "GET {path}");
    }
    // The whole documented range of an integer, and no more.
    let (largest, beyond) = (u64::MAX.to_string(), "18446744073709551616");
    let path = format!("{}?limit={largest}", routes::CHECKPOINTS);
    assert_eq!(probe.check(get.clone(), routes::CHECKPOINTS, probe.get(&path)).await?.0, 200);
    let path = format!("{}?limit={beyond}", routes::CHECKPOINTS);
    assert_eq!(probe.check(get.clone(), routes::CHECKPOINTS, probe.get(&path)).await?.0, 400);
    // Another method: 405 naming the one allowed (RFC 9110).
    let response = probe.http.put(format!("{}{}", probe.base, routes::STATUS)).send().await?;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET"));
    assert_eq!(response.json::<ApiError>().await?.code, "method_not_allowed");

    let (_, served) = probe.check(get.clone(), routes::OPENAPI, probe.get(routes::OPENAPI)).await?;
    assert_eq!(served, document, "the served document is the one tested");

    // A body sent too slowly: 408 once the (shortened) deadline passed.
    let address = devnet.aggregator_url().trim_start_matches("http://").trim_end_matches('/');
    for path in [routes::SIGNATURES, routes::REJECTIONS] {
        let (status, media_type, text) = slow_post(address, path).await?;
        let (status, body) = probe.judge(post.clone(), path, status, media_type, text)?;
        assert_eq!((status, &body["code"]), (408, &json!("request_timeout")));
    }
    // A flood from another address: 429 on every route, with Retry-After.
    let flooder =
        reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 9])).build()?;
    let operations: Vec<(String, String)> = documented_operations(&document).into_iter().collect();
    let mut sent = 0;
    for (template, method) in &operations {
        let path = template.replace("{id}", &id);
        let method = Method::from_bytes(method.as_bytes())?;
        let url = format!("{}{path}", probe.base);
        loop {
            sent += 1;
            assert!(sent < 5_000, "no 429 within 5,000 requests");
            let request = if method == Method::POST {
                flooder.post(&url).json(&json!({}))
            } else {
                flooder.get(&url)
            };
            let response = request.try_clone().ok_or("a request")?.send().await?;
            if response.status() != 429 {
                continue;
            }
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok());
            assert!(retry_after.is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));
            let (status, body) = probe.check(method.clone(), template, request).await?;
            if status == 429 {
                assert_eq!(body["code"], "rate_limited");
                break;
            }
        }
    }

    assert_eq!(probe.unseen(), Vec::<String>::new(), "every documented answer was provoked");
    devnet.shutdown().await;
    Ok(())
}
