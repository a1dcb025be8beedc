//! Drives `chorus deploy` and `chorus operator register` against a real
//! anvil, as an operator would: keystores on disk, passwords from a file.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{chorus, failure, flag, ok};

use alloy::providers::ProviderBuilder;
use chorus::{
    chain::{DEPLOYMENT_FLAG, RPC_URL_FLAG},
    deploy::OUT_FLAG,
    keys::{DIR_FLAG, JSON_FLAG, SECRET_FILE_FLAG},
    password::PASSWORD_FILE_FLAG,
};
use chorus_contracts::IChorusRegistry;
use serde_json::Value;

#[test]
fn deploy_then_register_an_operator_twice() {
    let anvil = chorus_deploy::anvil::spawn_anvil().unwrap();
    let rpc = anvil.endpoint();
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name).display().to_string();
    std::fs::write(path("password"), "devnet password\n").unwrap();
    let keys = path("keys");
    let import_ecdsa = |index: usize| {
        let secret = path(&format!("secret-{index}"));
        std::fs::write(&secret, hex::encode(anvil.keys()[index].to_bytes())).unwrap();
        let output = chorus(&[
            "keys",
            "import",
            &flag(DIR_FLAG),
            &keys,
            &flag(SECRET_FILE_FLAG),
            &secret,
            "--type",
            "ecdsa",
            &flag(PASSWORD_FILE_FLAG),
            &path("password"),
            &flag(JSON_FLAG),
        ]);
        let report: Value = serde_json::from_str(&ok(&output)).unwrap();
        report["path"].as_str().unwrap().to_owned()
    };
    let deployer = import_ecdsa(0);
    let operator = import_ecdsa(1);
    let bls: Value = serde_json::from_str(&ok(&chorus(&[
        "keys",
        "generate",
        &flag(DIR_FLAG),
        &path("bls"),
        "--type",
        "bls",
        "--kdf",
        "pbkdf2",
        &flag(PASSWORD_FILE_FLAG),
        &path("password"),
        &flag(JSON_FLAG),
    ])))
    .unwrap();
    let bls = bls["path"].as_str().unwrap().to_owned();

    let deployment = path("deployment.json");
    let deploy = |out: &str| {
        chorus(&[
            "deploy",
            &flag(RPC_URL_FLAG),
            &rpc,
            "--ecdsa-keystore",
            &deployer,
            &flag(PASSWORD_FILE_FLAG),
            &path("password"),
            "--rollup",
            "10:op-devnet",
            &flag(OUT_FLAG),
            out,
        ])
    };
    ok(&deploy(&deployment));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&deployment).unwrap()).unwrap();
    for key in [
        "chainId",
        "allocationManager",
        "delegationManager",
        "strategyManager",
        "strategy",
        "token",
        "registry",
        "attestations",
        "slasher",
    ] {
        assert!(!written[key].is_null(), "deployment JSON lacks {key}");
    }
    assert!(failure(&deploy(&deployment)).contains("exists"), "never overwrites a deployment");

    // Against an existing EigenLayer (as on a testnet): only Chorus is deployed.
    let second = path("second.json");
    ok(&chorus(&[
        "deploy",
        &flag(RPC_URL_FLAG),
        &rpc,
        "--ecdsa-keystore",
        &deployer,
        &flag(PASSWORD_FILE_FLAG),
        &path("password"),
        "--eigenlayer",
        &deployment,
        &flag(OUT_FLAG),
        &second,
    ]));
    let reused: Value = serde_json::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
    assert_eq!(reused["allocationManager"], written["allocationManager"], "core reused");
    assert_ne!(reused["registry"], written["registry"], "a new Chorus registry");

    let register = || {
        chorus(&[
            "operator",
            "register",
            &flag(RPC_URL_FLAG),
            &rpc,
            "--ecdsa-keystore",
            &operator,
            "--bls-keystore",
            &bls,
            &flag(DEPLOYMENT_FLAG),
            &deployment,
            &flag(PASSWORD_FILE_FLAG),
            &path("password"),
            "--mine",
        ])
    };
    let first = ok(&register());
    assert!(first.contains("is registered with Chorus"), "{first}");
    let again = ok(&register());
    assert_eq!(again.matches("already done").count(), 4, "re-run skips every step:\n{again}");

    let registry: alloy::primitives::Address =
        written["registry"].as_str().unwrap().parse().unwrap();
    let operator_address = anvil.addresses()[1];
    let registered = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
        IChorusRegistry::new(registry, provider).isRegistered(operator_address).call().await
    });
    assert!(registered.unwrap(), "the registry lists the operator");
}

#[test]
fn unreachable_rpc_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name).display().to_string();
    std::fs::write(path("password"), "pw").unwrap();
    let generated: Value = serde_json::from_str(&ok(&chorus(&[
        "keys",
        "generate",
        &flag(DIR_FLAG),
        &path("keys"),
        "--type",
        "ecdsa",
        &flag(PASSWORD_FILE_FLAG),
        &path("password"),
        &flag(JSON_FLAG),
    ])))
    .unwrap();
    let keystore = generated["path"].as_str().unwrap();
    // Port 1 on loopback: nothing listens there.
    let message = failure(&chorus(&[
        "deploy",
        &flag(RPC_URL_FLAG),
        "http://127.0.0.1:1",
        "--ecdsa-keystore",
        keystore,
        &flag(PASSWORD_FILE_FLAG),
        &path("password"),
        &flag(OUT_FLAG),
        &path("d.json"),
    ]));
    assert!(message.contains("cannot reach the RPC at http://127.0.0.1:1"), "{message}");
    assert!(!work.path().join("d.json").exists(), "nothing written");
}
