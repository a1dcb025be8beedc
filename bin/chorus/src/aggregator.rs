//! `chorus aggregator`: run an aggregator.
//!
//! `run --config FILE` checks what can be checked before anything starts
//! (configuration, deployment file, the submitter keystore's permissions
//! and password, the L1), then runs the aggregator in an actix system until
//! SIGINT or SIGTERM.

use chorus_aggregator::service::{self, AggregatorConfig, AggregatorSetup};
use clap::Subcommand;
use eyre::WrapErr;

use crate::{
    config_file::{self, Loaded, SUBMITTER_PASSWORD_ENV},
    run::{
        PasswordOrigin, RunArgs, ShutdownSignals, check_l1, in_actix_system,
        read_configured_deployment, serve_until_signal, start_with_watcher,
    },
    watch::ConfiguredWatcher,
};

/// The `aggregator` subcommands.
#[derive(Debug, Subcommand)]
pub enum AggregatorCommand {
    /// Run an aggregator: propose checkpoints of the configured rollups,
    /// collect operators' signatures to a quorum and post the aggregate to
    /// L1. Runs until Ctrl-C or SIGTERM.
    Run(RunArgs),
}

impl AggregatorCommand {
    /// Runs the subcommand.
    pub fn run(self) -> eyre::Result<()> {
        match self {
            Self::Run(args) => run(&args),
        }
    }
}

fn run(args: &RunArgs) -> eyre::Result<()> {
    let loaded: Loaded<AggregatorConfig> = config_file::load(&args.config)?;
    let config = &loaded.config;
    let deployment =
        read_configured_deployment(&config.l1.deployment, &loaded.origin_of("l1.deployment"))?;
    let submitter = &config.submitter;
    let keystore_origin = loaded.origin_of("submitter.keystore");
    args.check_secret_file(&submitter.keystore, &keystore_origin)?;
    if let Some(file) = &submitter.password_file {
        args.check_secret_file(file, &loaded.origin_of("submitter.password_file"))?;
    }
    let password = PasswordOrigin {
        file: submitter.password_file.as_deref(),
        file_key: "submitter.password_file",
        env_var: SUBMITTER_PASSWORD_ENV,
        what: "the submitter keystore",
    }
    .read()?;
    let signer =
        chorus_keys::ecdsa::decrypt(&submitter.keystore, &password).wrap_err_with(|| {
            format!(
                "cannot open the submitter's Ethereum keystore {}",
                submitter.keystore.display()
            )
        })?;
    drop(password);
    let l1_origin = loaded.origin_of("l1.rpc_url");
    let own_feed = vec![format!("http://{}", config.api.listen)];
    let watcher = ConfiguredWatcher::prepare(&config.watcher, &config.l1.rpc_url, &own_feed, args)?;
    let config = loaded.config;
    tracing::info!(
        submitter = %signer.address(),
        rollups = config.rollups.len(),
        "starting the aggregator"
    );
    in_actix_system(async move {
        let signals = ShutdownSignals::listen()?;
        check_l1(&config.l1.rpc_url, &l1_origin, &deployment).await?;
        let setup = AggregatorSetup { config, submitter: signer, deployment: deployment.clone() };
        let start = start_with_watcher(service::start(setup), watcher, deployment);
        serve_until_signal("aggregator", signals, start).await
    })
}
