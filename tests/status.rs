//! `chorus operator status` on a live devnet: a healthy operator, then each
//! situation an operator meets, made real, each read through the real CLI
//! (`chorus-under-test operator status --config FILE`):
//!
//! - a BLS keystore of another key in a healthy operator's configuration;
//! - an unregistered operator (fresh keys from `chorus keys generate`, the
//!   configuration copied and edited);
//! - an L2 RPC that is behind (a fresh anvil with the rollup's chain id);
//! - an aggregator URL that refuses connections;
//! - the fresh operator registered (`chorus operator register`) but not in
//!   the operator table yet, then with its allocation taken back to zero
//!   (EigenLayer's deallocation, waited out): registered without stake.
//!
//! One devnet (one operator, one rollup, in process) serves every case, in
//! sequence.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
};
use chorus_deploy::{
    anvil::{mine, spawn_anvil_with},
    eigenlayer::{OperatorSet, operator::allocate},
};
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_operator::registration::OPERATOR_SET_ID;
use chorus_tests::api::{get_text, wait_for};

/// Time for the devnet's first checkpoint or the node to turn healthy.
const PATIENCE: Duration = Duration::from_secs(60);
/// `chorus operator status`'s exit status when it found a problem.
const PROBLEMS: i32 = 2;

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

/// Runs the CLI off the actix thread (the in-process nodes run there and
/// must keep answering); returns the exit code and everything it printed.
async fn chorus(args: Vec<String>) -> (i32, String) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(chorus_exe()).args(&args).env("RUST_LOG", "warn").output().unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

async fn status(config: &Path) -> (i32, String) {
    chorus(vec!["operator".into(), "status".into(), "--config".into(), path(config)]).await
}

fn path(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

/// The report line of `check` and the remedy line under it, if any.
fn check_lines<'a>(output: &'a str, check: &str) -> (&'a str, &'a str) {
    let lines: Vec<&str> = output.lines().collect();
    let at = lines
        .iter()
        .position(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.len() > 1 && line.contains(&format!(" {check} "))
        })
        .unwrap_or_else(|| panic!("no line for {check:?} in:\n{output}"));
    let remedy = lines.get(at + 1).filter(|line| line.trim_start().starts_with("->"));
    (lines[at], remedy.copied().unwrap_or(""))
}

/// Asserts that `check` is a PROBLEM whose line says each of `says` and
/// whose remedy says each of `fix`.
fn assert_problem(output: &str, check: &str, says: &[&str], fix: &[&str]) {
    let (line, remedy) = check_lines(output, check);
    assert!(line.trim_start().starts_with("PROBLEM"), "{check} is not a problem:\n{output}");
    for words in says {
        assert!(line.contains(words), "{check} does not say {words:?}:\n{output}");
    }
    for words in fix {
        assert!(remedy.contains(words), "{check}'s remedy does not say {words:?}:\n{output}");
    }
    assert!(output.contains("problem(s) to fix"), "no summary of problems:\n{output}");
}

/// Sets `key` in `[section]` (or the first `[[section]]`) of a TOML text
/// to `value` (TOML-encoded); fails if the key is not there.
fn set_key(text: &str, section: &str, key: &str, value: &str) -> String {
    let mut current = String::new();
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                current = trimmed.trim_matches(|c| c == '[' || c == ']').to_owned();
            } else if current == section && !found && trimmed.starts_with(&format!("{key} ")) {
                found = true;
                return format!("{key} = {value}");
            }
            line.to_owned()
        })
        .collect();
    assert!(found, "no {key} in [{section}] of:\n{text}");
    lines.join("\n") + "\n"
}

/// A copy of `original` in `dir` with `edits` applied: (section, key, TOML value).
fn edited_config(
    original: &Path,
    dir: &Path,
    name: &str,
    edits: &[(&str, &str, String)],
) -> PathBuf {
    let mut text = std::fs::read_to_string(original).unwrap();
    for (section, key, value) in edits {
        text = set_key(&text, section, key, value);
    }
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

fn quoted(value: impl std::fmt::Display) -> String {
    format!("\"{value}\"")
}

/// A local URL nothing listens on: a port bound, then released.
fn refusing_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// Fresh keys from `chorus keys generate`: (address, BLS keystore, Ethereum keystore).
async fn generate_keys(dir: &Path, password_file: &Path) -> (Address, PathBuf, PathBuf) {
    let (code, output) = chorus(vec![
        "keys".into(),
        "generate".into(),
        "--dir".into(),
        path(dir),
        "--kdf".into(),
        "pbkdf2".into(),
        "--password-file".into(),
        path(password_file),
        "--json".into(),
    ])
    .await;
    assert_eq!(code, 0, "{output}");
    let json_start = output.find('[').unwrap();
    let reports: serde_json::Value = serde_json::Deserializer::from_str(&output[json_start..])
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    let field = |kind: &str, key: &str| {
        reports
            .as_array()
            .unwrap()
            .iter()
            .find(|report| report["type"] == kind)
            .and_then(|report| report[key].as_str())
            .unwrap()
            .to_owned()
    };
    let address: Address = field("ecdsa", "address").parse().unwrap();
    (address, field("bls", "path").into(), field("ecdsa", "path").into())
}

#[actix_rt::test]
async fn operator_status_names_each_problem_and_its_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 1,
        rollups: 1,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    let devnet = Devnet::start(options).await.unwrap();
    let info = devnet.info().clone();
    let operator0 = info.operators[0].config_file.clone();
    let node_api = info.operators[0].api_url.clone();
    wait_for("operator 0 healthy", PATIENCE, || async {
        Ok((get_text(&node_api, "/eigen/node/health").await?.0 == 200).then_some(()))
    })
    .await
    .unwrap();
    devnet.wait_for_checkpoints(1, PATIENCE).await.unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();

    // Healthy: exit 0 and says so, in text and JSON.
    let (code, output) = status(&operator0).await;
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("All is well"), "{output}");
    assert!(!output.contains("PROBLEM"), "{output}");
    let (code, json) = chorus(vec![
        "operator".into(),
        "status".into(),
        "--config".into(),
        path(&operator0),
        "--json".into(),
    ])
    .await;
    assert_eq!(code, 0, "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["healthy"], true, "{json}");
    let ids: Vec<&str> =
        report["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in ["l1", "registration", "stake", "key", "protection", "rollup:901", "node-api"] {
        assert!(ids.contains(&id), "no {id} check in {json}");
    }

    // Fresh keys for an operator that does not exist yet.
    let password_file = work.join("password.txt");
    std::fs::write(&password_file, "status-test-password").unwrap();
    let keys = work.join("keys");
    let (fresh, fresh_bls, fresh_ecdsa) = generate_keys(&keys, &password_file).await;

    // Key mismatch: operator 0 with a BLS keystore of another key.
    let config = edited_config(
        &operator0,
        &work,
        "other-key.toml",
        &[("operator", "bls_keystore", quoted(fresh_bls.display()))],
    );
    let (code, output) = status(&config).await;
    assert_eq!(code, PROBLEMS, "{output}");
    assert_problem(&output, "BLS key", &["not the key registered"], &["bls_keystore"]);
    assert_problem(&output, "slashing protection", &["belongs to BLS key"], &["protection_db"]);

    // Unregistered: the fresh operator's own configuration.
    let fresh_store = work.join("fresh-protection.sqlite");
    let fresh_config = edited_config(
        &operator0,
        &work,
        "fresh.toml",
        &[
            ("operator", "address", quoted(fresh)),
            ("operator", "bls_keystore", quoted(fresh_bls.display())),
            ("operator", "protection_db", quoted(fresh_store.display())),
            ("api", "listen", quoted(refusing_url().trim_start_matches("http://"))),
        ],
    );
    let (code, output) = status(&fresh_config).await;
    assert_eq!(code, PROBLEMS, "{output}");
    assert_problem(&output, "registration", &["not registered"], &["chorus operator register"]);
    assert_problem(
        &output,
        "slashing protection",
        &["no slashing-protection store"],
        &["chorus protection create", "chorus protection import"],
    );
    let (line, _) = check_lines(&output, "node API");
    assert!(line.trim_start().starts_with("warning"), "{output}");

    // L2 RPC behind: a fresh chain 901 with nothing past genesis, while L1
    // already attests later blocks of rollup 901.
    let stale = spawn_anvil_with(|anvil| anvil.chain_id(901)).unwrap();
    let config = edited_config(
        &operator0,
        &work,
        "behind.toml",
        &[("rollups", "rpc_url", quoted(stale.endpoint()))],
    );
    let (code, output) = status(&config).await;
    assert_eq!(code, PROBLEMS, "{output}");
    assert_problem(&output, "rollup 901", &["behind", "L1 already attests"], &["sync"]);
    drop(stale);

    // Aggregator unreachable: a URL that refuses connections.
    let refusing = refusing_url();
    let config = edited_config(
        &operator0,
        &work,
        "no-aggregator.toml",
        &[("aggregators", "url", quoted(&refusing))],
    );
    let (code, output) = status(&config).await;
    assert_eq!(code, PROBLEMS, "{output}");
    assert_problem(
        &output,
        &format!("aggregator {refusing}"),
        &["unreachable"],
        &["[[aggregators]] url"],
    );

    // Registered, but not in the operator table until someone updates it.
    let deployment = devnet.deployment().clone();
    let fund = TransactionRequest::default()
        .with_from(devnet.deployer())
        .with_to(fresh)
        .with_value(U256::from(10u128.pow(19)));
    let funded = devnet.l1().send_transaction(fund).await.unwrap().get_receipt().await.unwrap();
    assert!(funded.status());
    let (code, output) = chorus(vec![
        "operator".into(),
        "register".into(),
        "--rpc-url".into(),
        info.l1.rpc_url.clone(),
        "--ecdsa-keystore".into(),
        path(&fresh_ecdsa),
        "--bls-keystore".into(),
        path(&fresh_bls),
        "--password-file".into(),
        path(&password_file),
        "--deployment".into(),
        path(&info.deployment_file),
        "--mine".into(),
    ])
    .await;
    assert_eq!(code, 0, "{output}");
    let (code, output) = status(&fresh_config).await;
    assert_eq!(code, PROBLEMS, "{output}");
    assert_problem(
        &output,
        "stake",
        &["not in the latest operator table"],
        &["updateOperatorTable"],
    );

    // Registered without stake: the allocation taken back to zero and the
    // deallocation delay mined past.
    let signer = chorus_keys::ecdsa::decrypt(
        &fresh_ecdsa,
        &chorus_keys::password::Password::new("status-test-password"),
    )
    .unwrap();
    let as_fresh = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(info.l1.rpc_url.parse().unwrap());
    let set = OperatorSet { avs: deployment.chorus.registry, id: OPERATOR_SET_ID };
    let eigenlayer = &deployment.eigenlayer;
    allocate(&as_fresh, eigenlayer, fresh, set, eigenlayer.strategy, 0).await.unwrap();
    mine(&as_fresh, 10).await.unwrap();
    let (code, output) = status(&fresh_config).await;
    assert_eq!(code, PROBLEMS, "{output}");
    let (line, _) = check_lines(&output, "registration");
    assert!(line.trim_start().starts_with("ok"), "registered now:\n{output}");
    assert_problem(
        &output,
        "stake",
        &["no stake allocated"],
        &["chorus operator register", "--allocate-percent"],
    );

    devnet.shutdown().await;
}
