//! The `chorus` binary: parses the command line, runs the command, and
//! reports a failure as one line that names the cause chain.

use std::process::ExitCode;

fn main() -> ExitCode {
    chorus::main_entry()
}
