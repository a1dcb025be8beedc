//! `chorus operator run --config FILE`: the operator node.
//!
//! Every check that can fail on the operator's side runs before anything
//! starts, cheapest first, and names what to fix: the configuration, the
//! deployment file, the key file's permissions, the slashing-protection
//! store's presence, the password, the store's owner, the L1. Then the node
//! runs in an actix system until SIGINT or SIGTERM.

use std::path::Path;

use chorus_operator::{
    node::{self, NodeConfig, NodeSetup},
    protection::{Domain, SlashingProtection},
};
use eyre::{WrapErr, bail};

use crate::{
    config_file::{self, BLS_PASSWORD_ENV, Loaded},
    keys::{decrypt_bls_keystore_with, parse_bls_keystore, read_keystore_text},
    run::{
        PasswordOrigin, RunArgs, ShutdownSignals, check_l1, in_actix_system,
        read_configured_deployment, serve_until_signal, start_with_watcher,
    },
    watch::ConfiguredWatcher,
};

/// Loads everything the node needs, starts it and runs it until a signal.
pub(super) fn run(args: &RunArgs) -> eyre::Result<()> {
    let loaded: Loaded<NodeConfig> = config_file::load(&args.config)?;
    let config = &loaded.config;
    let deployment =
        read_configured_deployment(&config.l1.deployment, &loaded.origin_of("l1.deployment"))?;
    let operator = &config.operator;
    args.check_secret_file(&operator.bls_keystore, &loaded.origin_of("operator.bls_keystore"))?;
    if let Some(file) = &operator.bls_password_file {
        args.check_secret_file(file, &loaded.origin_of("operator.bls_password_file"))?;
    }
    require_store(&operator.protection_db, &loaded)?;
    let keystore_text = read_keystore_text(&operator.bls_keystore)?;
    let keystore = parse_bls_keystore(&keystore_text, &operator.bls_keystore)?;
    let password = PasswordOrigin {
        file: operator.bls_password_file.as_deref(),
        file_key: "operator.bls_password_file",
        env_var: BLS_PASSWORD_ENV,
        what: "the BLS keystore",
    }
    .read()?;
    let key = decrypt_bls_keystore_with(&keystore, &operator.bls_keystore, &password)?;
    drop(password);
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    let protection = SlashingProtection::open(&operator.protection_db, domain, &key.public_key())
        .wrap_err_with(|| {
        format!(
            "cannot use the slashing-protection store ({}); the node was not started",
            loaded.origin_of("operator.protection_db")
        )
    })?;
    let l1_origin = loaded.origin_of("l1.rpc_url");
    let own_feeds: Vec<String> = config.aggregators.iter().map(|a| a.url.clone()).collect();
    let watcher =
        ConfiguredWatcher::prepare(&config.watcher, &config.l1.rpc_url, &own_feeds, args)?;
    let config = loaded.config;
    tracing::info!(
        operator = %config.operator.address,
        pubkey = %key.public_key(),
        rollups = config.rollups.len(),
        aggregators = config.aggregators.len(),
        "starting the operator node"
    );
    in_actix_system(async move {
        let signals = ShutdownSignals::listen()?;
        check_l1(&config.l1.rpc_url, &l1_origin, &deployment).await?;
        let setup = NodeSetup { config, key, deployment: deployment.clone(), protection };
        let start = start_with_watcher(node::start(setup), watcher, deployment);
        serve_until_signal("operator node", signals, start).await
    })
}

/// Refuses to go on without a store, saying how to make one; never creates
/// one (a fresh store where the key signed before would forget that history).
fn require_store(store: &Path, loaded: &Loaded<NodeConfig>) -> eyre::Result<()> {
    if std::fs::symlink_metadata(store).is_ok() {
        return Ok(());
    }
    let config = &loaded.config;
    bail!(
        "no slashing-protection store at {} ({}). If this BLS key has never signed for this \
         deployment, create one with\n  chorus protection create --store {} --deployment {} \
         --bls-keystore {}\nIf it signed on another machine, import that machine's export instead: \
         `chorus protection import --create --file EXPORT` with the same flags. The node was not started",
        store.display(),
        loaded.origin_of("operator.protection_db"),
        store.display(),
        config.l1.deployment.display(),
        config.operator.bls_keystore.display()
    )
}
