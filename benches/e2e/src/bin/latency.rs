//! End-to-end latency, throughput and memory of Chorus on a devnet.
//!
//! ```text
//! cargo run --release -p chorus-bench-e2e --bin latency -- --operators 32 --rollups 16 --checkpoints 60
//! ```
//!
//! Starts a devnet (anvil L1 with a block a second, K anvil L2s with a
//! block a second, N operators and the aggregator, in this process unless
//! `--aggregator-exe` / `--operator-exe` run them as `chorus` processes),
//! watches every chain with this process's clock (see the crate docs), and
//! waits for `--warmup` plus `--checkpoints` checkpoints attested on L1.
//!
//! For every commitment a checkpoint records on L1 (rollup r, L2 block n),
//! the *exact* latency is from the moment block n + depth was seen on the
//! L2 (block n reached the operators' safety depth) to the moment the L1
//! block including the checkpoint was seen. The *covering* latency counts
//! every L2 block h the checkpoint newly covers (the previous recorded block
//! of r < h <= n): from h + depth seen to the inclusion seen; it adds the
//! wait for the next checkpoint. Stages come from the nodes' log events
//! (in process only).

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    time::{Duration, Instant},
};

use chorus_bench_e2e::{
    memory::ProcessUsage,
    observe::{Observations, Observer, Watch},
    stats::Summary,
    timeline::{Step, StepEvent, TimelineLayer},
};
use chorus_devnet::{Devnet, DevnetOptions, Mode};
use chorus_rollup::Safety;
use clap::Parser;
use eyre::{WrapErr, bail, eyre};
use serde::Serialize;
use tracing_subscriber::{
    EnvFilter, Layer, filter::Targets, layer::SubscriberExt, util::SubscriberInitExt,
};

/// End-to-end latency on a devnet (see the file's docs).
#[derive(Debug, Parser)]
struct Args {
    /// Operators (registered, in the table, running).
    #[arg(long, default_value_t = 4)]
    operators: usize,
    /// Rollups (anvil L2s).
    #[arg(long, default_value_t = 2)]
    rollups: usize,
    /// Attested checkpoints to measure, after the warm-up ones.
    #[arg(long, default_value_t = 60)]
    checkpoints: usize,
    /// Attested checkpoints not measured at the start.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// The L2s' block interval, in milliseconds. The devnet's default, 1000,
    /// locks every L2 block to the same phase of the L1's 1 s blocks (and
    /// of the proposer's 500 ms reads), so one run measures one phase; a
    /// slightly different interval (e.g. 970) sweeps the phases across a
    /// run, as unaligned real chains do.
    #[arg(long, default_value_t = 1000)]
    l2_block_ms: u64,
    /// How often each chain is polled, in milliseconds (the precision).
    #[arg(long, default_value_t = 50)]
    poll_ms: u64,
    /// The devnet folder (emptied of a previous devnet's files).
    #[arg(long, default_value = "target/bench-e2e/devnet")]
    dir: PathBuf,
    /// Also write the full results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Give up after this many seconds of measuring.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
    /// Run the aggregator as a process of this `chorus` executable.
    #[arg(long)]
    aggregator_exe: Option<PathBuf>,
    /// Run the operators as processes of this `chorus` executable.
    #[arg(long)]
    operator_exe: Option<PathBuf>,
}

fn main() -> eyre::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let timeline = TimelineLayer::new(started);
    let steps = Targets::new()
        .with_target("chorus_aggregator", tracing::Level::INFO)
        .with_target("chorus_operator", tracing::Level::INFO);
    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(logs))
        .with(timeline.clone().with_filter(steps))
        .init();
    let report = actix_rt::System::new().block_on(run(&args, started))?;
    let report = Report { steps: analyse_steps(&report, &timeline.events()), ..report };
    print_report(&args, &report);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).wrap_err_with(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Everything measured.
#[derive(Debug, Default, Serialize)]
struct Report {
    operators: usize,
    rollups: usize,
    l2_block_ms: u64,
    poll_ms: u64,
    setup_secs: f64,
    measured_secs: f64,
    checkpoints: usize,
    checkpoints_per_minute: f64,
    commitments_per_checkpoint: f64,
    exact: Option<Summary>,
    covering: Option<Summary>,
    steps: Vec<(String, Option<Summary>)>,
    memory: Memory,
    cpu: Cpu,
    observer_errors: u64,
    /// The aggregator's own latency histograms (`/metrics`), as text.
    aggregator_metrics: Vec<String>,
    #[serde(skip)]
    samples: Vec<CheckpointSample>,
}

/// Peak and current memory, KiB.
#[derive(Debug, Default, Serialize)]
struct Memory {
    /// This process (the in-process nodes, the devnet's harness and the
    /// observer): peak includes setup.
    this_process: ProcessUsage,
    aggregator_process: Option<ProcessUsage>,
    operator_processes_max: Option<ProcessUsage>,
    chains_total: ProcessUsage,
    chains_max_rss_kib: u64,
}

/// CPU used during the measured window, in cores (1.0 = one core busy).
#[derive(Debug, Default, Serialize)]
struct Cpu {
    this_process: f64,
    node_processes: f64,
    chains: f64,
}

/// One measured checkpoint, for the stage breakdown.
#[derive(Debug, Clone)]
struct CheckpointSample {
    root: String,
    ready_ms: f64,
    included_ms: f64,
}

async fn run(args: &Args, started: Instant) -> eyre::Result<Report> {
    let mut options = DevnetOptions {
        operators: args.operators,
        rollups: args.rollups,
        dir: args.dir.clone(),
        l2_block_time: Duration::from_millis(args.l2_block_ms),
        ..DevnetOptions::default()
    };
    if let Some(exe) = &args.aggregator_exe {
        options.aggregator_mode = Mode::Processes { chorus_exe: exe.clone() };
    }
    if let Some(exe) = &args.operator_exe {
        options.operator_mode = Mode::Processes { chorus_exe: exe.clone() };
    }
    let Safety::Confirmations(depth) = options.safety else {
        bail!("the latency benchmark needs a safety depth in confirmations");
    };
    std::fs::create_dir_all(&args.dir)?;
    eprintln!("starting a devnet: {} operators, {} rollups", args.operators, args.rollups);
    let devnet = Devnet::start(options).await?;
    let setup_secs = devnet.setup_duration().as_secs_f64();
    eprintln!("devnet running after {setup_secs:.1} s; measuring");
    let info = devnet.info();
    let watch = Watch {
        l1_url: info.l1.rpc_url.clone(),
        attestations: info.deployment.chorus.attestations,
        rollups: info.rollups.iter().map(|r| (r.chain_id, r.rpc_url.clone())).collect(),
        poll: Duration::from_millis(args.poll_ms),
    };
    let observer = Observer::start(watch, started)?;
    let measured = wait_and_measure(args, &devnet, &observer).await;
    let memory = memory_of(&devnet);
    let aggregator_metrics = latency_metrics(devnet.aggregator_url()).await;
    let seen = observer.stop();
    devnet.shutdown().await;
    let (window, cpu) = measured?;
    let mut report = analyse(&seen, depth, args.warmup);
    report.operators = args.operators;
    report.rollups = args.rollups;
    report.l2_block_ms = args.l2_block_ms;
    report.poll_ms = args.poll_ms;
    report.setup_secs = setup_secs;
    report.measured_secs = window.as_secs_f64();
    report.memory = memory;
    report.cpu = cpu;
    report.observer_errors = seen.errors;
    report.aggregator_metrics = aggregator_metrics;
    Ok(report)
}

/// Waits for enough attested checkpoints; answers the measured window and
/// the CPU used in it.
async fn wait_and_measure(
    args: &Args,
    devnet: &Devnet,
    observer: &Observer,
) -> eyre::Result<(Duration, Cpu)> {
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let wanted = args.warmup + args.checkpoints;
    let mut window: Option<(Instant, Usage)> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let attested = recording(&observer.snapshot()).len();
        if window.is_none() && attested >= args.warmup {
            window = Some((Instant::now(), Usage::now(devnet)));
        }
        if attested >= wanted {
            break;
        }
        if Instant::now() >= deadline {
            return Err(eyre!(
                "only {attested} of {wanted} checkpoints attested in {} s",
                args.timeout_secs
            ));
        }
    }
    let (since, before) = window.ok_or_else(|| eyre!("no measuring window"))?;
    let elapsed = since.elapsed();
    Ok((elapsed, Usage::now(devnet).cores_since(&before, elapsed)))
}

/// CPU ticks of this process, the node processes and the chains.
struct Usage {
    this: u64,
    nodes: u64,
    chains: u64,
}

impl Usage {
    fn now(devnet: &Devnet) -> Self {
        let ticks = |pids: Vec<u32>| {
            ProcessUsage::sum(pids.iter().filter_map(|pid| ProcessUsage::of(&pid.to_string())))
                .cpu_ticks
        };
        Self {
            this: ProcessUsage::of("self").map_or(0, |u| u.cpu_ticks),
            nodes: ticks(node_pids(devnet)),
            chains: ticks(devnet.chain_pids()),
        }
    }

    fn cores_since(&self, before: &Self, elapsed: Duration) -> Cpu {
        // Clock ticks are 1/100 s on Linux.
        let cores =
            |now: u64, then: u64| now.saturating_sub(then) as f64 / 100.0 / elapsed.as_secs_f64();
        Cpu {
            this_process: cores(self.this, before.this),
            node_processes: cores(self.nodes, before.nodes),
            chains: cores(self.chains, before.chains),
        }
    }
}

fn node_pids(devnet: &Devnet) -> Vec<u32> {
    (0..devnet.operator_count())
        .filter_map(|index| devnet.operator_pid(index))
        .chain(devnet.aggregator_pid())
        .collect()
}

fn memory_of(devnet: &Devnet) -> Memory {
    let usage = |pid: u32| ProcessUsage::of(&pid.to_string());
    let chains: Vec<ProcessUsage> = devnet.chain_pids().into_iter().filter_map(usage).collect();
    let operators: Vec<ProcessUsage> = (0..devnet.operator_count())
        .filter_map(|index| devnet.operator_pid(index))
        .filter_map(usage)
        .collect();
    Memory {
        this_process: ProcessUsage::of("self").unwrap_or_default(),
        aggregator_process: devnet.aggregator_pid().and_then(usage),
        operator_processes_max: operators.iter().copied().max_by_key(|u| u.hwm_kib),
        chains_max_rss_kib: chains.iter().map(|u| u.rss_kib).max().unwrap_or(0),
        chains_total: ProcessUsage::sum(chains),
    }
}

/// The sums and counts of the aggregator's quorum and inclusion latency
/// histograms (empty if it does not answer).
async fn latency_metrics(aggregator: &str) -> Vec<String> {
    let url = format!("{aggregator}/metrics");
    let Ok(response) = reqwest::get(&url).await else { return Vec::new() };
    let Ok(text) = response.text().await else { return Vec::new() };
    text.lines()
        .filter(|line| {
            (line.starts_with("chorus_quorum_latency_seconds")
                || line.starts_with("chorus_inclusion_latency_seconds"))
                && (line.contains("_sum") || line.contains("_count"))
        })
        .map(str::to_owned)
        .collect()
}

/// The attested checkpoints that recorded at least one commitment.
fn recording(seen: &Observations) -> Vec<&(chorus_devnet::AttestedCheckpoint, f64)> {
    seen.attested.iter().filter(|(c, _)| !c.commitments.is_empty()).collect()
}

/// The latencies of every measured checkpoint (see the file's docs).
fn analyse(seen: &Observations, depth: u64, warmup: usize) -> Report {
    let empty = BTreeMap::new();
    let mut previous: HashMap<u64, u64> = HashMap::new();
    let (mut exact, mut covering, mut samples) = (Vec::new(), Vec::new(), Vec::new());
    let mut commitments = 0usize;
    for (index, (checkpoint, included_ms)) in recording(seen).into_iter().enumerate() {
        let mut ready_ms = f64::MIN;
        let measured = index >= warmup;
        for commitment in &checkpoint.commitments {
            let (rollup, block) = (commitment.rollupId, commitment.l2BlockNumber);
            let l2 = seen.l2_seen.get(&rollup).unwrap_or(&empty);
            let from = previous.insert(rollup, block).map_or(block, |p| p + 1);
            if !measured {
                continue;
            }
            commitments += 1;
            if let Some(safe_ms) = l2.get(&(block + depth)) {
                exact.push(included_ms - safe_ms);
                ready_ms = ready_ms.max(*safe_ms);
            }
            for covered in from..=block {
                if let Some(safe_ms) = l2.get(&(covered + depth)) {
                    covering.push(included_ms - safe_ms);
                }
            }
        }
        if measured && ready_ms > f64::MIN {
            let root = format!("{}", checkpoint.root);
            samples.push(CheckpointSample { root, ready_ms, included_ms: *included_ms });
        }
    }
    let span_ms = match (samples.first(), samples.last()) {
        (Some(first), Some(last)) if samples.len() > 1 => last.included_ms - first.included_ms,
        _ => 0.0,
    };
    Report {
        checkpoints: samples.len(),
        checkpoints_per_minute: if span_ms > 0.0 {
            (samples.len() - 1) as f64 * 60_000.0 / span_ms
        } else {
            0.0
        },
        commitments_per_checkpoint: commitments as f64 / samples.len().max(1) as f64,
        exact: Summary::of(&exact),
        covering: Summary::of(&covering),
        samples,
        ..Report::default()
    }
}

/// Splits each measured checkpoint's latency into stages by the nodes' log
/// events (only what ran in this process logs here).
fn analyse_steps(report: &Report, events: &[StepEvent]) -> Vec<(String, Option<Summary>)> {
    let proposed: HashMap<&str, &StepEvent> = events
        .iter()
        .filter(|e| e.step == Step::Proposed)
        .filter_map(|e| e.root.as_deref().map(|root| (root, e)))
        .collect();
    let first = |step: Step, checkpoint: u64| {
        events.iter().find(|e| e.step == step && e.checkpoint == checkpoint).map(|e| e.at_ms)
    };
    let last_signed = |checkpoint: u64| {
        events
            .iter()
            .filter(|e| e.step == Step::Signed && e.checkpoint == checkpoint)
            .map(|e| e.at_ms)
            .reduce(f64::max)
    };
    let mut stages: Vec<(&str, Vec<f64>)> = [
        "safe depth seen -> proposed",
        "proposed -> first signature",
        "proposed -> last signature",
        "proposed -> quorum",
        "quorum -> L1 tx broadcast",
        "broadcast -> L1 inclusion seen",
    ]
    .into_iter()
    .map(|name| (name, Vec::new()))
    .collect();
    for sample in &report.samples {
        let Some(proposal) = proposed.get(sample.root.as_str()) else { continue };
        let id = proposal.checkpoint;
        let points = [
            Some(sample.ready_ms),
            Some(proposal.at_ms),
            first(Step::Signed, id),
            last_signed(id),
            first(Step::Quorum, id),
            first(Step::Broadcast, id),
            Some(sample.included_ms),
        ];
        // (from, to) indices into `points` for each stage, in order.
        let spans = [(0, 1), (1, 2), (1, 3), (1, 4), (4, 5), (5, 6)];
        for ((_, values), (from, to)) in stages.iter_mut().zip(spans) {
            if let (Some(a), Some(b)) = (points[from], points[to]) {
                values.push(b - a);
            }
        }
    }
    stages.into_iter().map(|(name, values)| (name.to_owned(), Summary::of(&values))).collect()
}

fn print_report(args: &Args, report: &Report) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "\n{} operators, {} rollups, L2 blocks every {} ms: {} checkpoints measured over {:.0} s ({:.1} a minute, {:.1} commitments each), setup {:.1} s, poll {} ms\n",
        report.operators,
        report.rollups,
        report.l2_block_ms,
        report.checkpoints,
        report.measured_secs,
        report.checkpoints_per_minute,
        report.commitments_per_checkpoint,
        report.setup_secs,
        args.poll_ms,
    );
    println!("{}", Summary::header());
    println!(
        "{}",
        Summary::row("L2 block at safety depth -> its checkpoint on L1 (exact)", report.exact)
    );
    println!("{}", Summary::row("every L2 block -> the checkpoint covering it", report.covering));
    for (name, summary) in &report.steps {
        println!("{}", Summary::row(name, *summary));
    }
    let m = &report.memory;
    println!(
        "\nmemory: this process {:.0} MiB now, {:.0} MiB peak (setup included); chains {:.0} MiB in all, {:.0} MiB the largest",
        mib(m.this_process.rss_kib),
        mib(m.this_process.hwm_kib),
        mib(m.chains_total.rss_kib),
        mib(m.chains_max_rss_kib),
    );
    if let Some(aggregator) = m.aggregator_process {
        println!("aggregator process: peak {:.1} MiB (VmHWM)", mib(aggregator.hwm_kib));
    }
    if let Some(operator) = m.operator_processes_max {
        println!("largest operator process: peak {:.1} MiB (VmHWM)", mib(operator.hwm_kib));
    }
    let metric = |name: &str| {
        report
            .aggregator_metrics
            .iter()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().last())
            .and_then(|value| value.parse::<f64>().ok())
    };
    for (what, name) in [
        ("quorum", "chorus_quorum_latency_seconds"),
        ("quorum -> inclusion", "chorus_inclusion_latency_seconds"),
    ] {
        if let (Some(sum), Some(count)) =
            (metric(&format!("{name}_sum")), metric(&format!("{name}_count")))
            && count > 0.0
        {
            println!(
                "aggregator metrics: {what} mean {:.0} ms over {count} checkpoints",
                sum / count * 1000.0
            );
        }
    }
    let c = &report.cpu;
    println!(
        "CPU while measuring (cores): this process {:.2}, node processes {:.2}, chains {:.2}; observer RPC errors {}",
        c.this_process, c.node_processes, c.chains, report.observer_errors
    );
}
