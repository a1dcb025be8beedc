//! The `chorus` command line: one binary whose subcommands drive every part
//! of Chorus. Each subcommand is a module; flag names are constants so that
//! the integration tests in `tests/` drive the real binary with the same
//! names.
//!
//! Errors from the libraries are typed; here, at the edge, they become
//! `eyre` reports that say what failed and what to do next.

use clap::{Parser, Subcommand};

pub mod chain;
pub mod deploy;
pub mod keys;
pub mod logging;
pub mod operator;
pub mod password;
pub mod protection;

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
    /// Operator tasks: registration with Chorus through EigenLayer.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Slashing protection: create, inspect, export and import a BLS key's store.
    #[command(subcommand)]
    Protection(protection::ProtectionCommand),
}

impl Cli {
    /// Runs the parsed command.
    pub fn run(self) -> eyre::Result<()> {
        match self.command {
            Command::Keys(command) => command.run(),
            Command::Deploy(args) => args.run(),
            Command::Operator(command) => command.run(),
            Command::Protection(command) => command.run(),
        }
    }
}
