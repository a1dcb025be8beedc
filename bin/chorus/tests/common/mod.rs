//! What every binary-driven test needs: running the real `chorus` binary,
//! reading its output, and the files it reads.

#![allow(dead_code, clippy::expect_used)]

use std::{
    path::Path,
    process::{Command, Output},
};

use alloy::primitives::Address;
use chorus::{
    chain::DEPLOYMENT_FLAG,
    protection::{BLS_KEYSTORE_FLAG, STORE_FLAG},
};
use chorus_deploy::{
    chorus::{ChorusDeployment, Deployment},
    eigenlayer::{EigenLayerDeployment, EigenLayerImplementations},
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

/// `chorus protection create`: a slashing-protection store at `store` for
/// the BLS key of `keystore` and the deployment in the file `deployment`.
/// Must succeed.
pub(crate) fn create_protection_store(store: &str, deployment: &str, keystore: &str) {
    ok(&chorus(&[
        "protection",
        "create",
        &flag(STORE_FLAG),
        store,
        &flag(DEPLOYMENT_FLAG),
        deployment,
        &flag(BLS_KEYSTORE_FLAG),
        keystore,
    ]));
}

/// Stderr of a command that must have failed.
pub(crate) fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    stderr(output)
}

/// A deployment on chain `chain_id` whose attestation contract is
/// `attestations`, every other address made up (`0x0101…`, `0x0202…`, …):
/// for commands that read a deployment file and stop before contacting L1.
pub(crate) fn deployment_without_contracts(chain_id: u64, attestations: Address) -> Deployment {
    let address = |byte| Address::repeat_byte(byte);
    Deployment {
        chain_id,
        eigenlayer: EigenLayerDeployment {
            allocation_manager: address(1),
            delegation_manager: address(2),
            strategy_manager: address(3),
            avs_directory: address(4),
            permission_controller: address(5),
            eigen_pod_manager: address(6),
            pauser_registry: address(7),
            token: address(8),
            strategy: address(9),
            owner: address(10),
            implementations: EigenLayerImplementations {
                allocation_manager: address(11),
                delegation_manager: address(12),
                strategy_manager: address(13),
                avs_directory: address(14),
                permission_controller: address(15),
                eigen_pod_manager: address(16),
                empty_contract: address(17),
            },
        },
        chorus: ChorusDeployment {
            registry: address(18),
            attestations,
            slasher: address(20),
            quorum_bps: 6667,
        },
    }
}
