//! `chorus devnet` without the rest of the binary: the same module
//! (`bin/chorus/src/devnet.rs`) behind a minimal command line, to run and
//! check it from this crate. `--processes` needs the real `chorus` binary:
//! use `chorus devnet --processes` for that.

// In the binary these items are public API; here nothing reaches them.
#[allow(unreachable_pub, dead_code)]
#[path = "../../bin/chorus/src/devnet.rs"]
mod devnet;

use clap::Parser;

/// `chorus devnet`, alone.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: devnet::DevnetArgs,
}

fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    Cli::parse().args.run()
}
