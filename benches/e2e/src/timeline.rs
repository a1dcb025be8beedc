//! The nodes' own log events, timestamped with this process's clock.
//!
//! In process, the aggregator and operators log each step of a checkpoint
//! at info level with its id: "checkpoint proposed", "checkpoint signed"
//! (once per operator), "quorum reached", "L1 transaction broadcast",
//! "checkpoint attested on L1". A [`TimelineLayer`] keeps the instant of
//! each, which splits the end-to-end latency into stages without touching
//! the nodes.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::Instant,
};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::layer::{Context, Layer};

/// A step of a checkpoint's life, as the nodes log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Step {
    /// The aggregator proposed it.
    Proposed,
    /// One operator signed it.
    Signed,
    /// The aggregator verified a quorum of signatures.
    Quorum,
    /// The submitter broadcast its L1 transaction.
    Broadcast,
    /// The aggregator saw it attested on L1.
    Attested,
}

impl Step {
    /// The step a log message stands for.
    fn from_message(message: &str) -> Option<Self> {
        Some(match message {
            "checkpoint proposed" => Self::Proposed,
            "checkpoint signed" => Self::Signed,
            "quorum reached" => Self::Quorum,
            "L1 transaction broadcast" => Self::Broadcast,
            "checkpoint attested on L1" => Self::Attested,
            _ => return None,
        })
    }
}

/// One step of one checkpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepEvent {
    /// Which step.
    pub step: Step,
    /// The aggregator's checkpoint id.
    pub checkpoint: u64,
    /// The commitments root, when the event names it (0x-prefixed hex).
    pub root: Option<String>,
    /// Milliseconds since the timeline's zero.
    pub at_ms: f64,
}

/// A tracing layer that records every [`Step`] (see the [module
/// docs](self)); share its [`TimelineLayer::events`] before installing it.
#[derive(Clone)]
pub struct TimelineLayer {
    started: Instant,
    events: Arc<Mutex<Vec<StepEvent>>>,
}

impl TimelineLayer {
    /// A layer timing from `started`.
    pub fn new(started: Instant) -> Self {
        Self { started, events: Arc::default() }
    }

    /// Every step recorded so far.
    pub fn events(&self) -> Vec<StepEvent> {
        self.events.lock().map(|events| events.clone()).unwrap_or_default()
    }
}

impl<S: Subscriber> Layer<S> for TimelineLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let (Some(step), Some(checkpoint)) =
            (Step::from_message(&fields.message), fields.checkpoint)
        else {
            return;
        };
        let at_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut events) = self.events.lock() {
            events.push(StepEvent { step, checkpoint, root: fields.root, at_ms });
        }
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    checkpoint: Option<u64>,
    root: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "checkpoint" {
            self.checkpoint = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "checkpoint" {
            self.checkpoint = u64::try_from(value).ok();
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "root" => self.root = Some(format!("{value:?}").to_ascii_lowercase()),
            _ => {}
        }
    }
}
