//! The real `chorus` binary, run as an operator runs it, with the flag
//! names the CLI defines.

use std::{
    path::Path,
    process::{Command, Output},
};

use chorus::{
    chain::DEPLOYMENT_FLAG,
    keys::JSON_FLAG,
    password::PASSWORD_FILE_FLAG,
    protection::{BLS_KEYSTORE_FLAG, FILE_FLAG, OUT_FLAG, STORE_FLAG},
};
use chorus_operator::node::NodeConfig;

/// `chorus protection <command> --json` on the slashing-protection store
/// of the operator `config` describes (its store, deployment, BLS keystore
/// and password file). `file` is the history written (`export`: `--out`)
/// or read (`import`: `--file`).
pub fn protection(
    chorus_exe: &Path,
    config: &NodeConfig,
    command: &str,
    file: Option<&Path>,
) -> std::io::Result<Output> {
    let operator = &config.operator;
    let mut cmd = Command::new(chorus_exe);
    cmd.args(["protection", command, &flag(JSON_FLAG), &flag(STORE_FLAG)])
        .arg(&operator.protection_db)
        .arg(flag(DEPLOYMENT_FLAG))
        .arg(&config.l1.deployment)
        .arg(flag(BLS_KEYSTORE_FLAG))
        .arg(&operator.bls_keystore);
    if let Some(password_file) = &operator.bls_password_file {
        cmd.arg(flag(PASSWORD_FILE_FLAG)).arg(password_file);
    }
    if let Some(file) = file {
        cmd.arg(flag(if command == "export" { OUT_FLAG } else { FILE_FLAG })).arg(file);
    }
    cmd.output()
}

fn flag(name: &str) -> String {
    format!("--{name}")
}
