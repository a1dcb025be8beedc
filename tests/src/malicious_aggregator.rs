//! A stand-in aggregator the test controls completely: it serves whatever
//! proposals the test hands it (true ones, conflicting ones) and records
//! every answer an operator posts, so a test can check that an honest
//! operator never signs what would get it slashed, whatever it is asked.
//!
//! It speaks the real wire protocol ([`chorus_wire::routes`]):
//! [`routes::NEXT_PROPOSAL`] (long poll, `?after=ID&wait=SECONDS`),
//! [`routes::SIGNATURES`] and [`routes::REJECTIONS`]. Nothing else of a real
//! aggregator is there: no quorum, no L1.
//!
//! Beyond what it proposes, it can misbehave at the HTTP level
//! ([`MaliciousAggregator::behave`], [`Behaviour`]): answer polls with a
//! body of its choice (garbage, oversized), with a body that never ends, or
//! not at all.

use std::{
    convert::Infallible,
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web, web::Bytes};
use chorus_wire::{Proposal, Rejection, SignedCheckpoint, routes};
use futures::StreamExt;
use serde::Deserialize;
use tokio::{
    sync::{mpsc, watch},
    time::{Duration, Instant, timeout},
};

use crate::BoxError;

/// The longest the stand-in holds a long poll: short, so that an operator
/// whose proposals the test just replaced sees them soon.
const MAX_HOLD: Duration = Duration::from_secs(2);

/// How the stand-in answers polls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Serves the proposals given to [`MaliciousAggregator::propose`].
    #[default]
    Propose,
    /// Answers every poll `200` with exactly these bytes as JSON.
    Body(Vec<u8>),
    /// Answers every poll `200` with a JSON body that never ends (spaces,
    /// 64 KiB at a time; cut at 1 GiB so that the stand-in is bounded).
    Endless,
    /// Holds every poll, answering nothing until the behaviour changes.
    Hang,
}

/// One chunk of an endless body.
static SPACES: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// What an operator posted to the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A signature (`POST` [`routes::SIGNATURES`]).
    Signed(SignedCheckpoint),
    /// A refusal (`POST` [`routes::REJECTIONS`]).
    Rejected(Rejection),
}

impl Answer {
    /// The checkpoint answered.
    pub fn checkpoint_id(&self) -> u64 {
        match self {
            Self::Signed(signed) => signed.checkpoint_id,
            Self::Rejected(rejection) => rejection.checkpoint_id,
        }
    }
}

/// A running stand-in; stopped on [`MaliciousAggregator::stop`].
pub struct MaliciousAggregator {
    url: String,
    server: ServerHandle,
    proposals: watch::Sender<Vec<Proposal>>,
    behaviour: watch::Sender<Behaviour>,
    polls: Arc<AtomicU64>,
    throttle: Arc<AtomicU64>,
    answers: mpsc::UnboundedReceiver<Answer>,
    received: Vec<Answer>,
}

struct Shared {
    proposals: watch::Receiver<Vec<Proposal>>,
    behaviour: watch::Receiver<Behaviour>,
    polls: Arc<AtomicU64>,
    throttle: Arc<AtomicU64>,
    answers: mpsc::UnboundedSender<Answer>,
}

#[derive(Deserialize)]
struct NextQuery {
    after: Option<u64>,
    wait: Option<u64>,
}

impl MaliciousAggregator {
    /// Starts the stand-in on a free local port in the current actix
    /// system, serving no proposal yet.
    pub fn start() -> Result<Self, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let (proposals, proposals_rx) = watch::channel(Vec::new());
        let (answers_tx, answers) = mpsc::unbounded_channel();
        let (behaviour, behaviour_rx) = watch::channel(Behaviour::Propose);
        let polls = Arc::new(AtomicU64::new(0));
        let throttle = Arc::new(AtomicU64::new(0));
        let shared = web::Data::new(Shared {
            proposals: proposals_rx,
            behaviour: behaviour_rx,
            polls: polls.clone(),
            throttle: throttle.clone(),
            answers: answers_tx,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route(routes::NEXT_PROPOSAL, web::get().to(next_proposal))
                .route(routes::SIGNATURES, web::post().to(signature))
                .route(routes::REJECTIONS, web::post().to(rejection))
        })
        .workers(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(Self {
            url,
            server: handle,
            proposals,
            behaviour,
            polls,
            throttle,
            answers,
            received: Vec::new(),
        })
    }

    /// Its base URL, for an operator's `[[aggregators]] url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Replaces the open proposals: from now on an operator polling gets the
    /// first of them whose id is above its `after` (the first of all when it
    /// has none, as after a restart).
    pub fn propose(&self, proposals: Vec<Proposal>) {
        self.proposals.send_replace(proposals);
    }

    /// Changes how polls are answered from now on (a held poll is let go).
    pub fn behave(&self, behaviour: Behaviour) {
        self.behaviour.send_replace(behaviour);
    }

    /// Answers the next `count` posted answers `429` (with `Retry-After: 1`)
    /// without recording them, as a rate-limiting aggregator would.
    pub fn throttle(&self, count: u64) {
        self.throttle.store(count, Ordering::SeqCst);
    }

    /// Answers still to be throttled.
    pub fn throttled_left(&self) -> u64 {
        self.throttle.load(Ordering::SeqCst)
    }

    /// Polls received so far.
    pub fn polls(&self) -> u64 {
        self.polls.load(Ordering::SeqCst)
    }

    /// Every answer received so far, in the order they came.
    pub fn received(&mut self) -> &[Answer] {
        while let Ok(answer) = self.answers.try_recv() {
            self.received.push(answer);
        }
        &self.received
    }

    /// Waits for the answer to checkpoint `checkpoint_id`, failing after
    /// `within`; answers to other checkpoints are recorded on the way.
    pub async fn answer_to(
        &mut self,
        checkpoint_id: u64,
        within: Duration,
    ) -> Result<Answer, BoxError> {
        if let Some(answer) = self.received().iter().find(|a| a.checkpoint_id() == checkpoint_id) {
            return Ok(answer.clone());
        }
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = timeout(left, self.answers.recv()).await.map_err(|_| {
                format!("no answer to checkpoint {checkpoint_id} within {within:?}")
            })?;
            let answer = next.ok_or("the stand-in aggregator's server stopped")?;
            self.received.push(answer.clone());
            if answer.checkpoint_id() == checkpoint_id {
                return Ok(answer);
            }
        }
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

/// The first open proposal after `after`, waiting up to `wait` (at most
/// [`MAX_HOLD`]) for the test to open one; `204` when none came.
async fn next_proposal(shared: web::Data<Shared>, query: web::Query<NextQuery>) -> HttpResponse {
    shared.polls.fetch_add(1, Ordering::SeqCst);
    let mut behaviour = shared.behaviour.clone();
    let current = behaviour.borrow_and_update().clone();
    match current {
        Behaviour::Propose => propose(&shared, &query).await,
        Behaviour::Body(bytes) => HttpResponse::Ok().content_type("application/json").body(bytes),
        Behaviour::Endless => {
            let chunks = futures::stream::repeat(Bytes::from_static(&SPACES))
                .take(16 * 1024)
                .map(Ok::<_, Infallible>);
            HttpResponse::Ok().content_type("application/json").streaming(chunks)
        }
        Behaviour::Hang => {
            let _ = behaviour.changed().await;
            HttpResponse::NoContent().finish()
        }
    }
}

async fn propose(shared: &Shared, query: &NextQuery) -> HttpResponse {
    let mut proposals = shared.proposals.clone();
    let hold = Duration::from_secs(query.wait.unwrap_or(0)).min(MAX_HOLD);
    let deadline = Instant::now() + hold;
    loop {
        let found = proposals
            .borrow_and_update()
            .iter()
            .find(|p| query.after.is_none_or(|after| p.checkpoint_id > after))
            .cloned();
        if let Some(proposal) = found {
            return HttpResponse::Ok().json(proposal);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, proposals.changed()).await {
            Ok(Ok(())) => {}
            _ => return HttpResponse::NoContent().finish(),
        }
    }
}

async fn signature(shared: web::Data<Shared>, body: web::Json<SignedCheckpoint>) -> HttpResponse {
    record(&shared, Answer::Signed(body.into_inner()))
}

async fn rejection(shared: web::Data<Shared>, body: web::Json<Rejection>) -> HttpResponse {
    record(&shared, Answer::Rejected(body.into_inner()))
}

fn record(shared: &Shared, answer: Answer) -> HttpResponse {
    let throttled = shared
        .throttle
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1));
    if throttled.is_ok() {
        return HttpResponse::TooManyRequests()
            .insert_header(("retry-after", "1"))
            .json(serde_json::json!({ "code": "rate_limited", "message": "retry in 1 s" }));
    }
    match shared.answers.send(answer) {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({})),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}
