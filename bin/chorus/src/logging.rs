//! Log output through `tracing-subscriber`: human-readable or JSON lines on
//! stderr, filtered by `RUST_LOG` (default `info`). Command output proper
//! goes to stdout, so logs never mix with data a script reads.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Plain text for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber; `default_filter` applies when `RUST_LOG`
/// is unset.
pub fn init(format: LogFormat, default_filter: &str) -> eyre::Result<()> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match format {
        LogFormat::Human => builder.with_target(false).without_time().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|err| eyre::eyre!("cannot install the log subscriber: {err}"))
}
