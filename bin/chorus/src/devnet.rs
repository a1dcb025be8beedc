//! `chorus devnet`: a whole Chorus network on this machine, in one command.
//!
//! Starts anvil L1 and L2s (with traffic), deploys EigenLayer and Chorus,
//! registers operators through the real EigenLayer flow and runs the
//! aggregator and the operators (chorus-devnet does all of it), then prints
//! what happens live: checkpoints proposed, quorum reached, attested on L1,
//! lag per rollup. Ctrl-C or SIGTERM stops everything, leaving no process
//! behind; `--checkpoints M` exits 0 once M checkpoints are attested.

use std::{path::PathBuf, time::Duration};

use chorus_devnet::{Devnet, DevnetInfo, DevnetOptions, ProgressEvent};
use clap::Args;
use eyre::WrapErr;

/// Prints a progress line. A closed stdout (`chorus devnet | head`) costs
/// the line, not the devnet: it keeps running until Ctrl-C or
/// `--checkpoints`, and then stops its nodes and chains itself.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        // Ignored on purpose: progress is for a reader who may have left.
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Flag: how many operators.
pub const OPERATORS_FLAG: &str = "operators";
/// Flag: how many rollups.
pub const ROLLUPS_FLAG: &str = "rollups";
/// Flag: the devnet folder.
pub const DIR_FLAG: &str = "dir";
/// Flag: a running L1 to use instead of starting one.
pub const L1_RPC_FLAG: &str = "l1-rpc";
/// Flag: exit once this many checkpoints are attested.
pub const CHECKPOINTS_FLAG: &str = "checkpoints";
/// Flag: operators and aggregator as separate processes.
pub const PROCESSES_FLAG: &str = "processes";
/// Flag: how many aggregators.
pub const AGGREGATORS_FLAG: &str = "aggregators";

/// The log filter `chorus devnet` wants when `RUST_LOG` is unset: the
/// in-process nodes log about ten lines per checkpoint at `info`, which
/// would bury the progress lines; warnings and the devnet's own steps stay.
pub const DEFAULT_LOG_FILTER: &str = "warn,chorus_devnet=info";

/// How often progress is read.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Arguments of `chorus devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Operators to create, restake, register and run.
    #[arg(long = OPERATORS_FLAG, value_name = "N", default_value_t = 4)]
    pub operators: usize,
    /// Rollups (anvil L2s, chain ids 901, 902, ...) to start and attest.
    #[arg(long = ROLLUPS_FLAG, value_name = "K", default_value_t = 2)]
    pub rollups: usize,
    /// Folder for keystores, stores, configuration files, logs and
    /// devnet.json. It must be empty, missing, or a previous devnet's folder
    /// (whose files are replaced).
    #[arg(long = DIR_FLAG, value_name = "PATH", default_value = chorus_devnet::DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Use this running L1 instead of starting anvil. anvil's first dev
    /// account deploys (it must be funded there); operators and submitter
    /// get fresh keys it funds.
    #[arg(long = L1_RPC_FLAG, value_name = "URL")]
    pub l1_rpc: Option<String>,
    /// Exit (status 0) once this many checkpoints are attested on L1,
    /// printing their L1 transaction hashes.
    #[arg(long = CHECKPOINTS_FLAG, value_name = "M")]
    pub checkpoints: Option<usize>,
    /// Run the aggregator and every operator as separate `chorus` processes
    /// (`chorus aggregator run`, `chorus operator run`) instead of actors in
    /// this process; their logs go to DIR/logs/.
    #[arg(long = PROCESSES_FLAG)]
    pub processes: bool,
    /// Aggregators to run, each with its own submitter, store and port;
    /// every operator answers all of them. The first posts at once, the
    /// others stand by a few L1 blocks first (`[submitter] standby_secs`),
    /// so that they back it up without paying twice for one checkpoint.
    #[arg(long = AGGREGATORS_FLAG, value_name = "A", default_value_t = 1)]
    pub aggregators: usize,
}

impl DevnetArgs {
    /// Runs the devnet until Ctrl-C, SIGTERM, or `--checkpoints` are attested.
    pub fn run(self) -> eyre::Result<()> {
        actix_rt::System::new().block_on(self.run_in_system())
    }

    fn options(&self) -> eyre::Result<DevnetOptions> {
        let options = DevnetOptions {
            operators: self.operators,
            rollups: self.rollups,
            dir: self.dir.clone(),
            l1_rpc: self.l1_rpc.clone(),
            aggregators: self.aggregators,
            ..DevnetOptions::default()
        };
        if !self.processes {
            return Ok(options);
        }
        let exe = std::env::current_exe()
            .wrap_err("cannot find this chorus executable to run the nodes as processes")?;
        Ok(options.with_processes(exe))
    }

    async fn run_in_system(self) -> eyre::Result<()> {
        let options = self.options()?;
        let mut signals = Signals::listen()?;
        say!(
            "starting a devnet in {}: {} operators, {} rollups",
            self.dir.display(),
            self.operators,
            self.rollups
        );
        let mut devnet = tokio::select! {
            devnet = Devnet::start(options) => devnet.wrap_err("the devnet did not start")?,
            signal = signals.recv() => {
                // Dropping the half-built devnet killed and reaped its chains.
                say!("{signal}: stopped during setup");
                return Ok(());
            }
        };
        print_banner(devnet.info(), devnet.setup_duration());
        let outcome = self.follow(&mut devnet, &mut signals).await;
        say!("stopping the devnet");
        devnet.shutdown().await;
        outcome
    }

    /// Prints progress until a signal, or until `--checkpoints` are attested.
    async fn follow(&self, devnet: &mut Devnet, signals: &mut Signals) -> eyre::Result<()> {
        let mut monitor = devnet.progress();
        let mut attested = Vec::new();
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        loop {
            // A signal also interrupts a slow poll (an aggregator that hangs).
            let events = tokio::select! {
                signal = signals.recv() => {
                    say!("{signal}: stopping");
                    return Ok(());
                }
                events = async {
                    ticks.tick().await;
                    monitor.poll().await
                } => events,
            };
            for exited in devnet.exited_nodes() {
                // A node that died stays down: say so, and where to look.
                say!("warning: {exited}");
            }
            for event in events {
                say!("{event}");
                if let ProgressEvent::Attested(checkpoint) = event {
                    attested.push(checkpoint.tx_hash);
                }
            }
            if let Some(wanted) = self.checkpoints
                && attested.len() >= wanted
            {
                say!("{} checkpoints attested on L1; transactions:", attested.len());
                for tx in &attested {
                    say!("  {tx}");
                }
                return Ok(());
            }
        }
    }
}

fn print_banner(info: &DevnetInfo, setup: Duration) {
    say!("devnet up in {:.1} s", setup.as_secs_f64());
    say!("  devnet.json   {}", info.dir.join(chorus_devnet::DEVNET_JSON).display());
    for aggregator in info.aggregators() {
        say!("  aggregator    {}", aggregator.url);
    }
    say!("  L1            {} (chain {})", info.l1.rpc_url, info.l1.chain_id);
    for rollup in &info.rollups {
        say!("  rollup {:<6} {}", rollup.chain_id, rollup.rpc_url);
    }
    for operator in &info.operators {
        say!("  operator {:<4} {} {}", operator.index, operator.address, operator.api_url);
    }
    say!("Ctrl-C stops everything.");
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the start: once tokio
/// handles a signal, its default action (ending the process) is gone, so
/// the listeners must live as long as the devnet does.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> eyre::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate()).wrap_err("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).wrap_err("cannot listen for SIGINT")?,
        })
    }

    /// Waits for either and names it.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
