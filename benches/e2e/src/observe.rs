//! Watching the chains with this process's clock.
//!
//! An [`Observer`] runs on its own thread (its own tokio runtime), so that
//! the devnet's nodes, which share the actix system's thread, cannot delay
//! its readings. It polls every L2's block number and the L1's every
//! interval, records the first instant each block was seen, and reads the
//! attestation events of each new L1 block.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use alloy::{
    primitives::Address,
    providers::{Provider, ProviderBuilder},
};
use chorus_devnet::{AttestedCheckpoint, attested_between};

/// What the observer saw, in milliseconds since its start.
#[derive(Debug, Default, Clone)]
pub struct Observations {
    /// By rollup id, when each L2 block number was first seen.
    pub l2_seen: HashMap<u64, BTreeMap<u64, f64>>,
    /// When each L1 block number was first seen.
    pub l1_seen: BTreeMap<u64, f64>,
    /// Checkpoints attested on L1, oldest first, each with when its block
    /// was seen.
    pub attested: Vec<(AttestedCheckpoint, f64)>,
    /// RPC errors while polling (counted, not fatal: a missed poll only
    /// delays a sighting).
    pub errors: u64,
}

/// Polls the chains until dropped or [`Observer::stop`]ped.
pub struct Observer {
    started: Instant,
    seen: Arc<Mutex<Observations>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What to watch.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The L1's RPC URL.
    pub l1_url: String,
    /// The attestation contract.
    pub attestations: Address,
    /// Each rollup's id and RPC URL.
    pub rollups: Vec<(u64, String)>,
    /// The polling interval.
    pub poll: Duration,
}

impl Observer {
    /// Starts watching; `started` is the zero of every time recorded.
    pub fn start(watch: Watch, started: Instant) -> std::io::Result<Self> {
        let seen = Arc::new(Mutex::new(Observations::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopping) = (seen.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("observer".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            match runtime {
                Ok(runtime) => runtime.block_on(run(watch, started, shared, stopping)),
                Err(error) => eprintln!("observer: no runtime: {error}"),
            }
        })?;
        Ok(Self { started, seen, stop, thread: Some(thread) })
    }

    /// Milliseconds since the observer's zero.
    pub fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// A copy of what was seen so far.
    pub fn snapshot(&self) -> Observations {
        lock(&self.seen).clone()
    }

    /// Stops polling and answers everything seen.
    pub fn stop(mut self) -> Observations {
        self.halt();
        self.snapshot()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The lock, even if a poller panicked while holding it (what it wrote is
/// still a valid observation).
fn lock(seen: &Mutex<Observations>) -> std::sync::MutexGuard<'_, Observations> {
    seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

async fn run(
    watch: Watch,
    started: Instant,
    seen: Arc<Mutex<Observations>>,
    stop: Arc<AtomicBool>,
) {
    let mut tasks = Vec::new();
    for (id, url) in watch.rollups.clone() {
        let (seen, stop) = (seen.clone(), stop.clone());
        tasks.push(tokio::spawn(watch_l2(id, url, watch.poll, started, seen, stop)));
    }
    tasks.push(tokio::spawn(watch_l1(watch, started, seen, stop)));
    futures::future::join_all(tasks).await;
}

/// Records when each new block of one L2 is first seen. Blocks that
/// existed at the first poll are not recorded: their time is unknown.
async fn watch_l2(
    id: u64,
    url: String,
    poll: Duration,
    started: Instant,
    seen: Arc<Mutex<Observations>>,
    stop: Arc<AtomicBool>,
) {
    let Ok(url) = url.parse() else { return };
    let provider = ProviderBuilder::new().connect_http(url);
    let mut ticks = tokio::time::interval(poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        let Ok(number) = provider.get_block_number().await else {
            lock(&seen).errors += 1;
            continue;
        };
        let now = ms_since(started);
        if let Some(previous) = last
            && number > previous
        {
            let mut seen = lock(&seen);
            let blocks = seen.l2_seen.entry(id).or_default();
            for block in previous + 1..=number {
                blocks.insert(block, now);
            }
        }
        last = Some(last.map_or(number, |previous| previous.max(number)));
    }
}

/// Records when each new L1 block is first seen and the checkpoints it
/// attested.
async fn watch_l1(
    watch: Watch,
    started: Instant,
    seen: Arc<Mutex<Observations>>,
    stop: Arc<AtomicBool>,
) {
    let Ok(url) = watch.l1_url.parse() else { return };
    let provider = ProviderBuilder::new().connect_http(url);
    let mut ticks = tokio::time::interval(watch.poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        let Ok(number) = provider.get_block_number().await else {
            lock(&seen).errors += 1;
            continue;
        };
        let now = ms_since(started);
        let Some(previous) = last else {
            last = Some(number);
            continue;
        };
        if number <= previous {
            continue;
        }
        {
            let mut seen = lock(&seen);
            for block in previous + 1..=number {
                seen.l1_seen.entry(block).or_insert(now);
            }
        }
        match attested_between(&provider, watch.attestations, previous + 1, number).await {
            Ok(checkpoints) => {
                let mut seen = lock(&seen);
                seen.attested.extend(checkpoints.into_iter().map(|c| (c, now)));
                last = Some(number);
            }
            // Read the same range again at the next poll.
            Err(_) => lock(&seen).errors += 1,
        }
    }
}
