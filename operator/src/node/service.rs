//! What every long-running actor of the node answers: its health, as the
//! EigenLayer AVS node specification lists services, and a request to stop.

use actix::{Message, MessageResponse};
use serde::Serialize;

/// A service's state, as `/eigen/node/services` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum ServiceStatus {
    /// Working.
    Up,
    /// Failing: see the node's log for why.
    Down,
    /// Not checked yet (just started).
    Initializing,
}

/// One service of `/eigen/node/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, MessageResponse)]
pub(crate) struct ServiceInfo {
    /// Stable id, used in `/eigen/node/services/{id}/health`.
    pub(crate) id: String,
    /// Short name.
    pub(crate) name: String,
    /// What it is and, while down, why.
    pub(crate) description: String,
    /// Its state.
    pub(crate) status: ServiceStatus,
}

/// Asks an actor how its service is doing.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "ServiceInfo")]
pub(crate) struct GetServiceStatus;

/// Asks an actor to stop once the work it has in hand is done; the reply
/// comes when it has.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub(crate) struct Shutdown;

/// Remembers a service's state and says whether a new one is a change, so
/// that an outage is logged once when it starts and once when it ends, not
/// at every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    status: ServiceStatus,
    problem: Option<String>,
}

impl Condition {
    /// A service not checked yet.
    pub(crate) fn initializing() -> Self {
        Self { status: ServiceStatus::Initializing, problem: None }
    }

    /// The state.
    pub(crate) fn status(&self) -> ServiceStatus {
        self.status
    }

    /// Records that the service works; true if it did not before.
    pub(crate) fn up(&mut self) -> bool {
        let changed = self.status != ServiceStatus::Up;
        self.status = ServiceStatus::Up;
        self.problem = None;
        changed
    }

    /// Records that the service fails with `problem`; true if it worked (or
    /// was not checked yet) before, i.e. an outage starts.
    pub(crate) fn down(&mut self, problem: String) -> bool {
        let changed = self.status != ServiceStatus::Down;
        self.status = ServiceStatus::Down;
        self.problem = Some(problem);
        changed
    }

    /// `description`, followed by the problem while there is one.
    pub(crate) fn describe(&self, description: &str) -> String {
        match &self.problem {
            Some(problem) => format!("{description}: {problem}"),
            None => description.to_owned(),
        }
    }
}
