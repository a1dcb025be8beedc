//! The watcher's actors.
//!
//! ```text
//!  Feed (one per aggregator) ──Observe──► Detections ──Prove──► Proofs ──► L1 slasher
//!  WatcherHandle::observe ─────Observe──┘ (owns the Detector)   │ (one proof at a time)
//!                                                               └──► StoreActor (SyncArbiter: SQLite)
//! ```
//!
//! Outcomes go to subscribers ([`WatcherHandle::subscribe`]) as
//! [`WatchEvent`]s with their times, so a drill can report when an
//! equivocation was detected and which transaction proved it.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, SystemTime},
};

use actix::prelude::*;
use alloy::{
    primitives::{Address, B256},
    providers::DynProvider,
};
use chorus_deploy::chorus::Deployment;
use chorus_wire::{
    CheckpointStatus, Domain, PublicSignature,
    client::{BodyError, read_bounded},
    routes,
};
use reqwest::Url;
use tokio::sync::broadcast;

use crate::{
    detect::{DEFAULT_KEEP_HEIGHTS, Detector, Equivocation, Evidence},
    store::{ProofStore, Recorded, StoreError},
    submit::{SubmitError, SubmitOutcome, Submitter, proof_key},
};

/// Checkpoints asked of each aggregator per poll (newest first).
const FEED_WINDOW: usize = 32;
/// First wait before retrying a proof the L1 did not answer for.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest wait between retries.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Attempts per proof before giving up until the evidence shows up again.
const MAX_ATTEMPTS: u32 = 10;
/// Events kept for slow subscribers.
const EVENT_BUFFER: usize = 256;

/// What the watcher needs.
pub struct WatcherSetup {
    /// The deployment watched: its domain and slasher.
    pub deployment: Deployment,
    /// An L1 provider that signs for `from`.
    pub provider: DynProvider,
    /// The account that sends proofs (and pays their gas).
    pub from: Address,
    /// Aggregator base URLs to follow; may be empty (evidence only through
    /// [`WatcherHandle::observe`]).
    pub aggregators: Vec<Url>,
    /// The proof store file.
    pub store: PathBuf,
    /// How often each aggregator is polled.
    pub poll_interval: Duration,
}

/// Why the watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatcherError {
    /// The proof store cannot be opened.
    #[error("cannot open the watcher's proof store {path}: {source}")]
    Store {
        /// The file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
}

/// Something the watcher did, with when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// Two valid conflicting signatures of `operator` were seen.
    Detected {
        /// The offender.
        operator: Address,
        /// The rollup.
        rollup_id: u64,
        /// The L2 height.
        height: u64,
        /// When.
        at: SystemTime,
    },
    /// Our proof landed.
    Submitted {
        /// The offender.
        operator: Address,
        /// The proof transaction.
        tx: B256,
        /// Its block.
        block: u64,
        /// When it was mined (as seen here).
        at: SystemTime,
    },
    /// Someone else's proof had slashed the operator already.
    AlreadySlashed {
        /// The offender.
        operator: Address,
        /// When we found out.
        at: SystemTime,
    },
    /// The slasher refused the proof; it will not be sent again.
    Refused {
        /// The operator accused.
        operator: Address,
        /// The decoded reason.
        reason: String,
        /// When.
        at: SystemTime,
    },
    /// The store already holds the outcome of this proof (from an earlier
    /// run): nothing was sent.
    AlreadyRecorded {
        /// The operator.
        operator: Address,
        /// When.
        at: SystemTime,
    },
    /// The L1 did not answer after every retry; the proof is sent again if
    /// the evidence shows up again.
    GaveUp {
        /// The offender.
        operator: Address,
        /// The last error.
        error: String,
        /// When.
        at: SystemTime,
    },
}

/// A running watcher. Cheap to clone.
#[derive(Clone)]
pub struct WatcherHandle {
    detections: Addr<Detections>,
    proofs: Addr<Proofs>,
    feeds: Vec<Addr<Feed>>,
    events: broadcast::Sender<WatchEvent>,
}

/// Starts the watcher's actors.
pub struct Watcher;

impl Watcher {
    /// Opens the store and starts the actors in the current actix system.
    pub async fn start(setup: WatcherSetup) -> Result<WatcherHandle, WatcherError> {
        let WatcherSetup { deployment, provider, from, aggregators, store, poll_interval } = setup;
        let opened = ProofStore::open(&store)
            .map_err(|source| WatcherError::Store { path: store.clone(), source })?;
        let slot = Mutex::new(Some(opened));
        let store = SyncArbiter::start(1, move || StoreActor {
            store: slot.lock().ok().and_then(|mut store| store.take()),
        });
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let submitter = Submitter::new(provider, from, deployment.chorus.slasher);
        let proofs = Proofs { submitter, store, events: events.clone() }.start();
        let domain = Domain {
            l1_chain_id: deployment.chain_id,
            attestation_contract: deployment.chorus.attestations,
        };
        let detector = Detector::new(domain, DEFAULT_KEEP_HEIGHTS);
        let detections =
            Detections { detector, proofs: proofs.clone(), events: events.clone() }.start();
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        let feeds = aggregators
            .into_iter()
            .map(|base| {
                Feed {
                    client: client.clone(),
                    base,
                    poll_interval,
                    fetched: HashMap::new(),
                    busy: false,
                    detections: detections.clone(),
                }
                .start()
            })
            .collect();
        Ok(WatcherHandle { detections, proofs, feeds, events })
    }
}

impl WatcherHandle {
    /// Hands the watcher evidence from any source (a drill, another feed).
    pub fn observe(&self, evidence: Evidence) {
        self.detections.do_send(Observe(evidence));
    }

    /// Proves `equivocation` as if the detector had found it (no check
    /// here: the slasher's simulation decides, and a refusal is recorded).
    pub fn prove(&self, equivocation: Equivocation) {
        self.proofs.do_send(Prove(equivocation));
    }

    /// Outcomes from now on. Subscribe before [`Self::observe`] so as not to miss them.
    pub fn subscribe(&self) -> broadcast::Receiver<WatchEvent> {
        self.events.subscribe()
    }

    /// Stops every actor; a proof being sent finishes first.
    pub async fn stop(self) {
        for feed in &self.feeds {
            let _stopped = feed.send(Stop).await;
        }
        let _stopped = self.detections.send(Stop).await;
        let _stopped = self.proofs.send(Stop).await;
    }
}

/// Stops an actor.
#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

/// Evidence to check.
#[derive(Message)]
#[rtype(result = "()")]
struct Observe(Evidence);

/// An equivocation to prove on L1.
#[derive(Message)]
#[rtype(result = "()")]
struct Prove(Equivocation);

/// Owns the detector.
struct Detections {
    detector: Detector,
    proofs: Addr<Proofs>,
    events: broadcast::Sender<WatchEvent>,
}

impl Actor for Detections {
    type Context = Context<Self>;
}

impl Handler<Observe> for Detections {
    type Result = ();

    fn handle(&mut self, Observe(evidence): Observe, _: &mut Context<Self>) {
        let operator = evidence.operator;
        match self.detector.observe(evidence) {
            Ok(found) => {
                for equivocation in found {
                    tracing::warn!(
                        operator = %equivocation.operator,
                        rollup = equivocation.rollup_id,
                        height = equivocation.height,
                        "equivocation detected: two valid signatures over conflicting commitments"
                    );
                    let _nobody = self.events.send(WatchEvent::Detected {
                        operator: equivocation.operator,
                        rollup_id: equivocation.rollup_id,
                        height: equivocation.height,
                        at: SystemTime::now(),
                    });
                    self.proofs.do_send(Prove(equivocation));
                }
            }
            // Aggregators publish what they receive unverified: a bad
            // signature there is noise, not an offence.
            Err(error) => tracing::debug!(%operator, %error, "evidence ignored"),
        }
    }
}

impl Handler<Stop> for Detections {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Sends proofs, one at a time (one account, one nonce sequence).
struct Proofs {
    submitter: Submitter,
    store: Addr<StoreActor>,
    events: broadcast::Sender<WatchEvent>,
}

impl Actor for Proofs {
    type Context = Context<Self>;
}

impl Handler<Prove> for Proofs {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, Prove(equivocation): Prove, _: &mut Context<Self>) -> Self::Result {
        let work = prove(self.submitter.clone(), self.store.clone(), equivocation);
        let events = self.events.clone();
        AtomicResponse::new(Box::pin(work.into_actor(self).map(move |event, _, _| {
            let _nobody = events.send(event);
        })))
    }
}

impl Handler<Stop> for Proofs {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Proves `equivocation` unless the store says it is settled; records the
/// outcome. Returns the event to publish.
async fn prove(
    submitter: Submitter,
    store: Addr<StoreActor>,
    equivocation: Equivocation,
) -> WatchEvent {
    let operator = equivocation.operator;
    let (a, b) = match equivocation.signed_commitments() {
        Ok(pair) => pair,
        Err(error) => return gave_up(operator, error.to_string()),
    };
    let key = proof_key(operator, &equivocation.pubkey, &a, &b);
    match ask(&store, StoreQuery::Prior { operator, proof: key }).await {
        Ok(StoreAnswer::Prior(Some(prior))) => {
            tracing::debug!(%operator, prior, "proof outcome already recorded; not sending");
            return WatchEvent::AlreadyRecorded { operator, at: SystemTime::now() };
        }
        Ok(_) => {}
        Err(error) => return gave_up(operator, error),
    }
    let mut delay = FIRST_RETRY;
    let mut last_error = String::new();
    for attempt in 1..=MAX_ATTEMPTS {
        match submitter.submit(operator, equivocation.pubkey.clone(), a.clone(), b.clone()).await {
            Ok(outcome) => return settle(&store, operator, key, outcome).await,
            Err(error @ SubmitError::Evidence(_)) => return gave_up(operator, error.to_string()),
            Err(error) => {
                tracing::info!(%operator, attempt, %error, retry_in = ?delay, "proof not sent yet");
                last_error = error.to_string();
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RETRY);
    }
    gave_up(operator, last_error)
}

/// Records a settled outcome and turns it into an event.
async fn settle(
    store: &Addr<StoreActor>,
    operator: Address,
    proof: B256,
    outcome: SubmitOutcome,
) -> WatchEvent {
    let at = SystemTime::now();
    let (query, event) = match outcome {
        SubmitOutcome::Landed { tx, block } => {
            tracing::warn!(%operator, %tx, block, "equivocation proven on L1: operator slashed");
            (
                StoreQuery::Slashed { operator, landed: Some((tx, block)) },
                WatchEvent::Submitted { operator, tx, block, at },
            )
        }
        SubmitOutcome::AlreadySlashed => {
            tracing::info!(%operator, "operator already slashed by another proof");
            (
                StoreQuery::Slashed { operator, landed: None },
                WatchEvent::AlreadySlashed { operator, at },
            )
        }
        SubmitOutcome::Refused(refusal) => {
            let reason = refusal.to_string();
            tracing::warn!(%operator, %reason, "the slasher refuses this proof; it will not be sent again");
            (
                StoreQuery::Refused { operator, proof, reason: reason.clone() },
                WatchEvent::Refused { operator, reason, at },
            )
        }
    };
    if let Err(error) = ask(store, query).await {
        tracing::error!(%operator, %error, "cannot record the proof's outcome; a restart may send it again");
    }
    event
}

fn gave_up(operator: Address, error: String) -> WatchEvent {
    tracing::warn!(%operator, %error, "giving up on this proof until the evidence shows up again");
    WatchEvent::GaveUp { operator, error, at: SystemTime::now() }
}

async fn ask(store: &Addr<StoreActor>, query: StoreQuery) -> Result<StoreAnswer, String> {
    match store.send(query).await {
        Ok(answer) => answer.map_err(|error| error.to_string()),
        Err(_) => Err("the proof store has stopped".to_owned()),
    }
}

/// What the proof path asks of the store.
#[derive(Message)]
#[rtype(result = "Result<StoreAnswer, StoreError>")]
enum StoreQuery {
    /// Is this operator slashed, or this proof refused, already?
    Prior { operator: Address, proof: B256 },
    /// Record a slash.
    Slashed { operator: Address, landed: Option<(B256, u64)> },
    /// Record a refusal.
    Refused { operator: Address, proof: B256, reason: String },
}

/// The store's answer.
enum StoreAnswer {
    /// What settled it earlier, in words.
    Prior(Option<String>),
    /// Recorded.
    Done,
}

/// Owns the SQLite store on its own thread.
struct StoreActor {
    /// `None` only if the factory ran twice (it runs once).
    store: Option<ProofStore>,
}

impl Actor for StoreActor {
    type Context = SyncContext<Self>;
}

impl Handler<StoreQuery> for StoreActor {
    type Result = Result<StoreAnswer, StoreError>;

    fn handle(&mut self, query: StoreQuery, _: &mut SyncContext<Self>) -> Self::Result {
        let Some(store) = &self.store else {
            return Err(StoreError::Corrupt("the store was not handed to its thread".to_owned()));
        };
        match query {
            StoreQuery::Prior { operator, proof } => {
                if let Some(recorded) = store.slashed(operator)? {
                    let prior = match recorded {
                        Recorded::Submitted { tx, .. } => format!("slashed by our proof {tx}"),
                        Recorded::AlreadySlashed => "slashed by another proof".to_owned(),
                    };
                    return Ok(StoreAnswer::Prior(Some(prior)));
                }
                let refusal = store.refusal(proof)?.map(|reason| format!("refused: {reason}"));
                Ok(StoreAnswer::Prior(refusal))
            }
            StoreQuery::Slashed { operator, landed } => {
                store.record_slashed(operator, landed)?;
                Ok(StoreAnswer::Done)
            }
            StoreQuery::Refused { operator, proof, reason } => {
                store.record_refused(proof, operator, &reason)?;
                Ok(StoreAnswer::Done)
            }
        }
    }
}

/// Follows one aggregator's public signature feed.
struct Feed {
    client: reqwest::Client,
    base: Url,
    poll_interval: Duration,
    /// Per checkpoint in the window: how many signers it had when its
    /// signatures were last fetched (fetched again when that changes).
    fetched: HashMap<u64, usize>,
    /// A poll is under way (a slow aggregator never piles polls up).
    busy: bool,
    detections: Addr<Detections>,
}

impl Actor for Feed {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.poll_interval, |feed, ctx| feed.poll(ctx));
    }
}

impl Feed {
    fn poll(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let fetch = fetch_feed(self.client.clone(), self.base.clone(), self.fetched.clone());
        ctx.spawn(fetch.into_actor(self).map(|result, feed, _| {
            feed.busy = false;
            match result {
                Ok((fetched, evidence)) => {
                    feed.fetched = fetched;
                    if !evidence.is_empty() {
                        tracing::debug!(aggregator = %feed.base, signatures = evidence.len(), "new signatures on the feed");
                    }
                    for item in evidence {
                        feed.detections.do_send(Observe(item));
                    }
                }
                Err(error) => {
                    tracing::debug!(aggregator = %feed.base, %error, "signature feed unavailable")
                }
            }
        }));
    }
}

impl Handler<Stop> for Feed {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Most bytes read of one answer listing the recent checkpoints: above any
/// honest list of [`FEED_WINDOW`] checkpoints (each at most 1,024
/// commitments of about 250 bytes of JSON and 256 signers), so that a
/// malicious aggregator cannot make a watcher run out of memory.
const MAX_CHECKPOINTS_BYTES: usize = 32 << 20;
/// Most bytes read of one checkpoint's signatures: each of up to 256
/// signatures repeats the checkpoint's commitments (at most 1,024).
const MAX_SIGNATURES_BYTES: usize = 96 << 20;

/// Why a feed could not be read.
#[derive(Debug, thiserror::Error)]
enum FeedError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// GETs `url` and decodes its JSON, reading at most `limit` bytes.
async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: Url,
    limit: usize,
) -> Result<T, FeedError> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(serde_json::from_slice(&read_bounded(response, limit).await?)?)
}

/// The recent checkpoints and the signatures of those that gained signers.
async fn fetch_feed(
    client: reqwest::Client,
    base: Url,
    fetched: HashMap<u64, usize>,
) -> Result<(HashMap<u64, usize>, Vec<Evidence>), FeedError> {
    let mut url = endpoint(&base, routes::CHECKPOINTS);
    url.query_pairs_mut().append_pair("limit", &FEED_WINDOW.to_string());
    let statuses: Vec<CheckpointStatus> = get_json(&client, url, MAX_CHECKPOINTS_BYTES).await?;
    let mut now_fetched = HashMap::new();
    let mut evidence = Vec::new();
    for status in statuses {
        let id = status.proposal.checkpoint_id;
        let signers = status.signers.len();
        now_fetched.insert(id, signers);
        if fetched.get(&id) == Some(&signers) {
            continue;
        }
        let path = routes::CHECKPOINT_SIGNATURES.replace("{id}", &id.to_string());
        let url = endpoint(&base, &path);
        let signatures: Vec<PublicSignature> = get_json(&client, url, MAX_SIGNATURES_BYTES).await?;
        let domain = status.proposal.domain;
        evidence.extend(signatures.into_iter().map(|s| Evidence::from_public(domain, s)));
    }
    Ok((now_fetched, evidence))
}

/// `route` under `base`, keeping any path prefix the aggregator is served under.
fn endpoint(base: &Url, route: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{route}"));
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A malicious aggregator answering the checkpoint list with a body
    /// that never ends: the watcher stops reading at its limit and says so.
    #[actix_rt::test]
    async fn an_endless_feed_is_cut_at_its_limit() {
        use actix_web::{App, HttpResponse, HttpServer, web};

        static CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base: Url = format!("http://{}", listener.local_addr().unwrap()).parse().unwrap();
        let server = HttpServer::new(|| {
            App::new().route(
                routes::CHECKPOINTS,
                web::get().to(|| async {
                    // 1 GiB at most, so that a failing test ends.
                    let chunks = std::iter::repeat_n(&CHUNK[..], 16 * 1024)
                        .map(|chunk| Ok::<_, std::io::Error>(web::Bytes::from_static(chunk)));
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .streaming(futures::stream::iter(chunks))
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        let result = fetch_feed(reqwest::Client::new(), base, HashMap::new()).await;
        assert!(
            matches!(
                result,
                Err(FeedError::Body(BodyError::TooLarge { limit: MAX_CHECKPOINTS_BYTES }))
            ),
            "{result:?}"
        );
        handle.stop(false).await;
    }

    #[test]
    fn routes_keep_the_aggregators_path_prefix() {
        let plain: Url = "http://127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            endpoint(&plain, routes::CHECKPOINTS).as_str(),
            "http://127.0.0.1:8080/v1/checkpoints"
        );
        let prefixed: Url = "https://agg.example/chorus/".parse().unwrap();
        assert_eq!(
            endpoint(&prefixed, "/v1/checkpoints/7/signatures").as_str(),
            "https://agg.example/chorus/v1/checkpoints/7/signatures"
        );
    }
}
