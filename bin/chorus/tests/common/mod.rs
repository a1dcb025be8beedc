//! What every binary-driven test needs: running the real `chorus` binary and
//! reading its output.

#![allow(dead_code, clippy::expect_used)]

use std::{
    path::Path,
    process::{Command, Output},
};

use serde_json::Value;

/// Runs the `chorus` binary this package built.
pub(crate) fn chorus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("the chorus binary runs")
}

/// Runs the `chorus` binary with extra environment variables, from `cwd`.
/// Variables of the test's own environment that start with `CHORUS_` are
/// removed, so that a developer's shell cannot change the outcome.
pub(crate) fn chorus_in(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chorus"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CHORUS_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(cwd)
        .args(args)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .output()
        .expect("the chorus binary runs")
}

/// Everything the command wrote, stdout then stderr.
pub(crate) fn all_output(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr(output))
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
