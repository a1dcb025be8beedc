//! What every binary-driven test needs: running the real `chorus` binary and
//! reading its output.

#![allow(dead_code, clippy::expect_used)]

use std::process::{Command, Output};

use serde_json::Value;

/// Runs the `chorus` binary this package built.
pub(crate) fn chorus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("the chorus binary runs")
}

/// `--name`, for the flag constants the CLI defines.
pub(crate) fn flag(name: &str) -> String {
    format!("--{name}")
}

/// What the command wrote on stderr.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Stdout of a command that must have succeeded.
pub(crate) fn ok(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "chorus failed: {stdout}\n{}", stderr(output));
    stdout
}

/// Stdout of a command that must have succeeded, as JSON.
pub(crate) fn stdout_json(output: &Output) -> Value {
    serde_json::from_str(&ok(output)).expect("stdout is JSON")
}

/// Stderr of a command that must have failed.
pub(crate) fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    stderr(output)
}
