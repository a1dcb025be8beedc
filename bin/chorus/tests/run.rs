//! Drives `chorus operator run` and `chorus aggregator run` up to the point
//! where they refuse to start, as an operator would meet them: a
//! configuration file with relative paths, keys made by `chorus keys`,
//! environment overrides. Each refusal must exit non-zero, name the problem,
//! never panic and never print a secret.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Output,
};

use alloy::primitives::Address;
use chorus::{
    keys::{DIR_FLAG, JSON_FLAG},
    password::PASSWORD_FILE_FLAG,
    run::{ALLOW_INSECURE_KEY_PERMISSIONS_FLAG, CONFIG_FLAG},
};
use common::{
    all_output, chorus, chorus_in, create_protection_store, deployment_without_contracts, flag,
    stdout_json,
};

const RIGHT_PASSWORD: &str = "right horse battery";
const WRONG_PASSWORD: &str = "wrong staple";
/// In the L1 URL's path, as hosted RPC URLs carry API keys: never shown.
const URL_SECRET: &str = "s3cr3t-api-key";

/// A deployment file for chain 31337; nothing needs to be deployed for the
/// checks that run before the L1 is contacted.
fn deployment_json() -> String {
    let deployment = deployment_without_contracts(31337, Address::repeat_byte(19));
    serde_json::to_string_pretty(&deployment).unwrap()
}

/// A directory as an operator or aggregator host lays it out: the
/// configuration beside the keys and the deployment file.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let site = Self { dir: tempfile::tempdir().unwrap() };
        site.secret_file("password", RIGHT_PASSWORD);
        std::fs::write(site.path("deployment.json"), deployment_json()).unwrap();
        site
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn text(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// Writes a file readable by its owner only.
    fn secret_file(&self, name: &str, contents: &str) {
        let path = self.path(name);
        std::fs::write(&path, format!("{contents}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Generates a key with `chorus keys generate` under `keys/`; returns
    /// its path relative to the site.
    fn generate(&self, key_type: &str) -> String {
        let report = stdout_json(&chorus(&[
            "keys",
            "generate",
            &flag(DIR_FLAG),
            &self.text("keys"),
            "--type",
            key_type,
            "--kdf",
            "pbkdf2",
            &flag(PASSWORD_FILE_FLAG),
            &self.text("password"),
            &flag(JSON_FLAG),
        ]));
        let path = PathBuf::from(report["path"].as_str().unwrap());
        path.strip_prefix(self.dir.path()).unwrap().display().to_string()
    }

    /// Runs the binary from `/`, so that only the configuration's own
    /// directory can make its relative paths work.
    fn run(&self, command: &str, config: &str, env: &[(&str, &str)], extra: &[&str]) -> Output {
        let config = self.text(config);
        let mut args = vec![command, "run", "--config", &config];
        args.extend_from_slice(extra);
        chorus_in(Path::new("/"), env, &args)
    }
}

/// An operator site: BLS key, password file, configuration.
fn operator_site() -> (Site, String) {
    let site = Site::new();
    let keystore = site.generate("bls");
    let config = format!(
        r#"
[operator]
address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
bls_keystore = "{keystore}"
bls_password_file = "password"
protection_db = "protection.sqlite"

[l1]
rpc_url = "http://127.0.0.1:1/{URL_SECRET}"
deployment = "deployment.json"

[[rollups]]
id = 10
rpc_url = "http://127.0.0.1:2"

[[aggregators]]
url = "http://127.0.0.1:3"
"#
    );
    std::fs::write(site.path("operator.toml"), config).unwrap();
    (site, keystore)
}

fn create_store(site: &Site, keystore: &str) {
    create_protection_store(
        &site.text("protection.sqlite"),
        &site.text("deployment.json"),
        &site.text(keystore),
    );
}

/// The output of a run that must have refused to start.
fn refused(output: &Output) -> String {
    let text = all_output(output);
    assert_eq!(output.status.code(), Some(1), "exits 1:\n{text}");
    assert!(!text.contains("panicked"), "no panic:\n{text}");
    for secret in [RIGHT_PASSWORD, WRONG_PASSWORD, URL_SECRET] {
        assert!(!text.contains(secret), "never prints a secret ({secret}):\n{text}");
    }
    text
}

#[test]
fn operator_run_without_a_protection_store_says_how_to_create_one() {
    let (site, _) = operator_site();
    let text = refused(&site.run("operator", "operator.toml", &[], &[]));
    assert!(text.contains("no slashing-protection store at"), "{text}");
    assert!(text.contains("operator.protection_db in"), "names the key: {text}");
    assert!(text.contains("chorus protection create --store"), "says what to do: {text}");
    assert!(!site.path("protection.sqlite").exists(), "never creates a store");
}

#[test]
fn operator_run_with_a_wrong_password_names_the_keystore() {
    let (site, keystore) = operator_site();
    create_store(&site, &keystore);
    site.secret_file("password", WRONG_PASSWORD);
    let text = refused(&site.run("operator", "operator.toml", &[], &[]));
    assert!(text.contains("cannot open BLS keystore"), "{text}");
    assert!(text.contains(&keystore), "names the file: {text}");
}

#[test]
fn operator_run_with_an_unreachable_l1_names_the_key_and_env_overrides_win() {
    let (site, keystore) = operator_site();
    create_store(&site, &keystore);
    // Relative paths resolved against the configuration's directory (the
    // binary runs from `/`): it got as far as the L1.
    let text = refused(&site.run("operator", "operator.toml", &[], &[]));
    assert!(text.contains("cannot reach the RPC at http://127.0.0.1:1"), "{text}");
    assert!(text.contains("l1.rpc_url in"), "names the key: {text}");

    let env =
        [("CHORUS_L1__RPC_URL", "http://127.0.0.1:2"), ("CHORUS_BLS_PASSWORD", WRONG_PASSWORD)];
    let text = refused(&site.run("operator", "operator.toml", &env, &[]));
    assert!(text.contains("cannot reach the RPC at http://127.0.0.1:2"), "env wins: {text}");
    assert!(text.contains("set by CHORUS_L1__RPC_URL"), "names the variable: {text}");
}

#[test]
fn operator_run_refuses_a_keystore_others_can_read() {
    let (site, keystore) = operator_site();
    create_store(&site, &keystore);
    std::fs::set_permissions(site.path(&keystore), std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = refused(&site.run("operator", "operator.toml", &[], &[]));
    assert!(text.contains("has mode 644") && text.contains("chmod 600"), "{text}");
    assert!(text.contains(&flag(ALLOW_INSECURE_KEY_PERMISSIONS_FLAG)), "{text}");

    let allow = flag(ALLOW_INSECURE_KEY_PERMISSIONS_FLAG);
    let text = refused(&site.run("operator", "operator.toml", &[], &[&allow]));
    assert!(text.contains("readable by other users"), "warns: {text}");
    assert!(text.contains("cannot reach the RPC"), "and goes on: {text}");
}

#[test]
fn an_enabled_watcher_needs_its_own_key() {
    let (site, keystore) = operator_site();
    create_store(&site, &keystore);
    let env = [("CHORUS_WATCHER__ENABLED", "true")];
    let text = refused(&site.run("operator", "operator.toml", &env, &[]));
    assert!(text.contains("names no watcher.ecdsa_keystore"), "{text}");

    // A path from the environment is taken as given: absolute here.
    let watcher_key = site.text(&site.generate("ecdsa"));
    let env = [
        ("CHORUS_WATCHER__ENABLED", "true"),
        ("CHORUS_WATCHER__ECDSA_KEYSTORE", watcher_key.as_str()),
        ("CHORUS_WATCHER_PASSWORD", WRONG_PASSWORD),
    ];
    let text = refused(&site.run("operator", "operator.toml", &env, &[]));
    assert!(text.contains("cannot open the watcher's Ethereum keystore"), "{text}");
}

#[test]
fn configuration_errors_name_the_key() {
    let (site, _) = operator_site();
    let config = std::fs::read_to_string(site.path("operator.toml")).unwrap();
    std::fs::write(site.path("typo.toml"), config.replace("protection_db", "protecton_db"))
        .unwrap();
    let text = refused(&site.run("operator", "typo.toml", &[], &[]));
    assert!(text.contains("unknown field `protecton_db`"), "{text}");
    assert!(text.contains("typo.toml"), "names the file: {text}");

    let env = [("CHORUS_API__LISEN", "0.0.0.0:1")];
    let text = refused(&site.run("operator", "operator.toml", &env, &[]));
    assert!(text.contains("unknown field `lisen`") && text.contains("CHORUS_API__LISEN"), "{text}");

    let text = refused(&site.run("operator", "absent.toml", &[], &[]));
    assert!(text.contains("absent.toml") && text.contains("operator.example.toml"), "{text}");

    let output = chorus_in(Path::new("/"), &[], &["operator", "run", &flag(CONFIG_FLAG), "/"]);
    refused(&output);
}

/// An aggregator site: submitter key, configuration without a password file.
fn aggregator_site() -> Site {
    let site = Site::new();
    let keystore = site.generate("ecdsa");
    let config = format!(
        r#"
[l1]
rpc_url = "http://127.0.0.1:1/{URL_SECRET}"
deployment = "deployment.json"

[submitter]
keystore = "{keystore}"

[[rollups]]
id = 10
rpc_url = "http://127.0.0.1:2"

[store]
path = "aggregator.sqlite"
"#
    );
    std::fs::write(site.path("aggregator.toml"), config).unwrap();
    site
}

#[test]
fn aggregator_run_says_where_a_password_comes_from_and_checks_the_l1() {
    let site = aggregator_site();
    let text = refused(&site.run("aggregator", "aggregator.toml", &[], &[]));
    assert!(text.contains("submitter.password_file"), "{text}");
    assert!(text.contains("CHORUS_SUBMITTER_PASSWORD"), "{text}");

    let wrong = [("CHORUS_SUBMITTER_PASSWORD", WRONG_PASSWORD)];
    let text = refused(&site.run("aggregator", "aggregator.toml", &wrong, &[]));
    assert!(text.contains("cannot open the submitter's Ethereum keystore"), "{text}");

    let right = [("CHORUS_SUBMITTER_PASSWORD", RIGHT_PASSWORD)];
    let text = refused(&site.run("aggregator", "aggregator.toml", &right, &[]));
    assert!(text.contains("cannot reach the RPC at http://127.0.0.1:1"), "{text}");
    assert!(!site.path("aggregator.sqlite").exists(), "nothing started, nothing written");
}
