//! The `chorus` binary: parses the command line, runs the command, and
//! reports a failure as one line that names the cause chain.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = chorus::Cli::parse();
    let outcome = chorus::logging::init(cli.log_format).and_then(|()| cli.run());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            // `{:#}` joins the cause chain: "what failed: why". Backtraces
            // are for developers and stay out of an operator's terminal.
            eprintln!("error: {report:#}");
            ExitCode::FAILURE
        }
    }
}
