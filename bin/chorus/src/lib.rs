//! The `chorus` command line: one binary whose subcommands drive every part
//! of Chorus. Each subcommand is a module; flag names are constants so that
//! the integration tests in `tests/` drive the real binary with the same
//! names.
//!
//! Errors from the libraries are typed; here, at the edge, they become
//! `eyre` reports that say what failed and what to do next.

use clap::{Parser, Subcommand};

pub mod aggregator;
pub mod attestation;
pub mod chain;
pub mod config_file;
pub mod deploy;
pub mod devnet;
pub mod drill;
pub mod keys;
pub mod logging;
pub mod operator;
pub mod password;
pub mod protection;
pub mod run;
pub mod watch;

/// Restaked validation for rollups: operator keys, nodes and tooling.
#[derive(Debug, Parser)]
#[command(name = "chorus", version, about, propagate_version = true)]
pub struct Cli {
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = logging::LogFormat::Human)]
    pub log_format: logging::LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, import, list and inspect BLS and Ethereum keystores.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Deploy EigenLayer core (unless given) and Chorus, and set up the AVS.
    Deploy(deploy::DeployArgs),
    /// Operator tasks: registration with Chorus through EigenLayer, and the
    /// operator node.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Run an aggregator.
    #[command(subcommand)]
    Aggregator(aggregator::AggregatorCommand),
    /// Read attestations from L1: a rollup's latest attested commitment, and
    /// whether a commitment is attested.
    #[command(subcommand)]
    Attestation(attestation::AttestationCommand),
    /// A whole Chorus network on this machine: anvil L1 and L2s, EigenLayer
    /// and Chorus deployed, operators registered, aggregator and operators
    /// running, live progress. Ctrl-C stops everything.
    Devnet(devnet::DevnetArgs),
    /// Slashing protection: create, inspect, export and import a BLS key's store.
    #[command(subcommand)]
    Protection(protection::ProtectionCommand),
    /// Drills: an equivocation that gets the drill operator slashed (test
    /// networks), and operators stopped on a devnet to measure liveness.
    #[command(subcommand)]
    Drill(drill::DrillCommand),
    /// Watch aggregators' public signature feeds for equivocation and prove
    /// it to the slasher; runs until Ctrl-C or SIGTERM.
    Watch(watch::WatchArgs),
}

impl Command {
    /// Whether the command prints its answer and exits. Those end quietly
    /// when their reader goes away (`chorus keys list | head`), as Unix
    /// tools do. The long-running ones (nodes, the watcher, the devnet)
    /// keep SIGPIPE ignored: a peer closing a socket must not kill a node,
    /// and the devnet must stop its chains itself.
    fn prints_and_exits(&self) -> bool {
        match self {
            Command::Keys(_)
            | Command::Deploy(_)
            | Command::Attestation(_)
            | Command::Protection(_)
            | Command::Drill(_) => true,
            Command::Operator(command) => !matches!(command, operator::OperatorCommand::Run(_)),
            Command::Aggregator(_) | Command::Devnet(_) | Command::Watch(_) => false,
        }
    }
}

impl Cli {
    /// Runs the parsed command.
    pub fn run(self) -> eyre::Result<()> {
        match self.command {
            Command::Keys(command) => command.run(),
            Command::Deploy(args) => args.run(),
            Command::Operator(command) => command.run(),
            Command::Aggregator(command) => command.run(),
            Command::Attestation(command) => command.run(),
            Command::Devnet(args) => args.run(),
            Command::Protection(command) => command.run(),
            Command::Drill(command) => command.run(),
            Command::Watch(args) => args.run(),
        }
    }
}

/// The whole program: parses the command line, runs the command, and
/// reports a failure as one line that names the cause chain. `main` is this
/// call, so that test packages can build the same binary.
pub fn main_entry() -> std::process::ExitCode {
    use std::process::ExitCode;

    let cli = Cli::parse();
    if cli.command.prints_and_exits() {
        sigpipe::reset();
    }
    // The devnet's in-process nodes would bury its progress lines at `info`.
    let default_filter = match cli.command {
        Command::Devnet(_) => devnet::DEFAULT_LOG_FILTER,
        Command::Drill(_) => drill::DEFAULT_LOG_FILTER,
        _ => "info",
    };
    let outcome = crate::logging::init(cli.log_format, default_filter).and_then(|()| cli.run());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            // `{:#}` joins the cause chain: "what failed: why". Backtraces
            // are for developers and stay out of an operator's terminal.
            eprintln!("error: {report:#}");
            // A check that ran and said "no" exits with its own status, so
            // scripts tell it apart from "could not check" (1).
            match report.downcast_ref::<CheckedNo>() {
                Some(no) => ExitCode::from(no.exit),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// A command that checked and found "no" (not attested, problems found):
/// the binary exits with `exit` rather than 1, which means "could not
/// check".
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CheckedNo {
    /// The exit status.
    pub exit: u8,
    /// The answer, in plain words.
    pub message: String,
}
