//! [`RollupWatcher`]: one rollup seen through the operator's own L2 node.
//!
//! It owns the [`RollupReader`] and answers [`JudgeCommitment`] with
//! [`RollupReader::judge`], the one rule by which operators check a
//! proposed commitment. It polls the node's safe head for health and
//! metrics; while the node cannot be reached, every commitment of the rollup
//! is rejected as [`RejectReason::Unavailable`].

use std::{sync::Arc, time::Duration};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message, ResponseFuture,
    WrapFuture,
};
use chorus_contracts::Commitment;
use chorus_deploy::rpc_url;
use chorus_rollup::{Judgement, RollupConfig, RollupError, RollupReader};
use chorus_wire::RejectReason;

use super::{
    metrics::Metrics,
    service::{Condition, GetServiceStatus, ServiceInfo, Shutdown},
};

/// How often the watcher reads the safe head (and retries connecting).
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Asks whether the operator's node vouches for a commitment of this rollup.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), RejectReason>")]
pub(crate) struct JudgeCommitment(pub(crate) Commitment);

/// Watches one rollup.
pub(crate) struct RollupWatcher {
    config: RollupConfig,
    reader: Option<RollupReader>,
    condition: Condition,
    safe_head: Option<u64>,
    polling: bool,
    metrics: Arc<Metrics>,
}

impl RollupWatcher {
    /// A watcher of `config`'s rollup; it connects once started.
    pub(crate) fn new(config: RollupConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            config,
            reader: None,
            condition: Condition::initializing(),
            safe_head: None,
            polling: false,
            metrics,
        }
    }

    /// The service id of rollup `id` in the node API.
    pub(crate) fn service_id(id: u64) -> String {
        format!("rollup-{id}")
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        if self.polling {
            return;
        }
        self.polling = true;
        let config = self.config.clone();
        let reader = self.reader.clone();
        let rpc = self.metrics.rpc.clone();
        let work = async move {
            let reader = match reader {
                Some(reader) => reader,
                None => config.connect_counted(&rpc).await?,
            };
            let head = reader.safe_head().await?;
            Ok::<_, RollupError>((reader, head.l2BlockNumber))
        };
        ctx.spawn(work.into_actor(self).map(|result, watcher, _| {
            watcher.polling = false;
            watcher.record(result);
        }));
    }

    fn record(&mut self, result: Result<(RollupReader, u64), RollupError>) {
        let rollup = self.config.id;
        match result {
            Ok((reader, head)) => {
                self.reader = Some(reader);
                self.safe_head = Some(head);
                self.metrics.safe_head(rollup, head);
                if self.condition.up() {
                    tracing::info!(rollup, safe_head = head, safety = %self.config.safety, "rollup node answers");
                }
            }
            Err(error) => {
                let problem = rpc_url::redact(&error.to_string(), &self.config.rpc_url);
                if self.condition.down(problem.clone()) {
                    tracing::warn!(
                        rollup,
                        error = %problem,
                        "cannot read rollup {rollup} from its L2 node: its commitments are rejected as unavailable until it answers; check [[rollups]] rpc_url and that the node is running"
                    );
                }
            }
        }
    }
}

/// What an aggregator is told when the node cannot judge: the kind of
/// failure only, never the error text (it may quote the node's URL).
fn public_detail(error: &RollupError) -> String {
    match error {
        RollupError::Rpc { .. } => "the operator's L2 node did not answer".to_owned(),
        RollupError::NoSafeBlock { safety, .. } => {
            format!("the operator's L2 node has no {safety} block yet")
        }
        RollupError::WrongChain { .. } | RollupError::BadUrl { .. } => {
            "the operator's L2 node of this rollup is misconfigured".to_owned()
        }
    }
}

impl Actor for RollupWatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.poll(ctx);
        ctx.run_interval(POLL_INTERVAL, |watcher, ctx| watcher.poll(ctx));
    }
}

impl Handler<JudgeCommitment> for RollupWatcher {
    type Result = ResponseFuture<Result<(), RejectReason>>;

    /// Judges with [`RollupReader::judge`]; a node that cannot be read makes
    /// the commitment [`RejectReason::Unavailable`].
    fn handle(
        &mut self,
        JudgeCommitment(commitment): JudgeCommitment,
        _: &mut Context<Self>,
    ) -> Self::Result {
        let Some(reader) = self.reader.clone() else {
            let detail = "the operator's L2 node of this rollup is not connected".to_owned();
            return Box::pin(async move { Err(RejectReason::Unavailable { detail }) });
        };
        Box::pin(async move {
            match reader.judge(&commitment).await {
                Ok(Judgement::Matches) => Ok(()),
                Ok(Judgement::Differs(ours)) => Err(RejectReason::Mismatch { ours }),
                Ok(Judgement::NotYetSafe { safe_head }) => {
                    Err(RejectReason::NotYetSafe { safe_head })
                }
                Err(error) => Err(RejectReason::Unavailable { detail: public_detail(&error) }),
            }
        })
    }
}

impl Handler<GetServiceStatus> for RollupWatcher {
    type Result = ServiceInfo;

    fn handle(&mut self, _: GetServiceStatus, _: &mut Context<Self>) -> ServiceInfo {
        let id = self.config.id;
        let head = match self.safe_head {
            Some(head) => format!(", safe head {head}"),
            None => String::new(),
        };
        // The URL is left out: it may carry an API key.
        let description =
            format!("the operator's L2 node of rollup {id} (safety {}{head})", self.config.safety);
        ServiceInfo {
            id: Self::service_id(id),
            name: format!("rollup {id}"),
            description: self.condition.describe(&description),
            status: self.condition.status(),
        }
    }
}

impl Handler<Shutdown> for RollupWatcher {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
