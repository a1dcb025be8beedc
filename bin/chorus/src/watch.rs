//! `chorus watch`: an equivocation watcher. It follows aggregators' public
//! signature feeds, proves any operator's two signatures over conflicting
//! commitments to the slasher from the given account, and records what it
//! sent (or what the slasher refused) so a restart never sends it again.

use std::{path::PathBuf, time::Duration};

use chorus_slashing::{Url, Watcher, WatcherSetup};
use clap::Args;
use eyre::{WrapErr, bail};

use crate::{
    chain::{DEPLOYMENT_FLAG, SignerArgs, read_deployment},
    run::{ShutdownSignals, in_actix_system},
};

/// Flag naming an aggregator to follow (repeatable).
pub const AGGREGATOR_FLAG: &str = "aggregator";
/// Flag naming the proof store.
pub const STORE_FLAG: &str = "store";

/// Arguments of `chorus watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Base URL of an aggregator whose public signature feed to follow
    /// (repeat for several).
    #[arg(long = AGGREGATOR_FLAG, value_name = "URL", required = true)]
    pub aggregators: Vec<String>,
    /// The L1 endpoint and the account that sends proofs (and pays their gas).
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The deployment JSON (as `chorus deploy` writes it).
    #[arg(long = DEPLOYMENT_FLAG, value_name = "FILE")]
    pub deployment: PathBuf,
    /// The proof store (SQLite): what was submitted or refused.
    #[arg(long = STORE_FLAG, value_name = "FILE", default_value = "watcher.sqlite")]
    pub store: PathBuf,
    /// How often each aggregator is polled, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    pub poll_interval_ms: u64,
}

impl WatchArgs {
    /// Runs the watcher until SIGINT or SIGTERM.
    pub fn run(self) -> eyre::Result<()> {
        in_actix_system(self.watch())
    }

    async fn watch(self) -> eyre::Result<()> {
        let signals = ShutdownSignals::listen()?;
        let aggregators = parse_aggregators(&self.aggregators)?;
        let chain = self.signer.connect().await?;
        let deployment = read_deployment(&self.deployment, chain.chain_id)?;
        let watcher = Watcher::start(WatcherSetup {
            deployment,
            provider: chain.provider,
            from: chain.account,
            aggregators,
            store: self.store.clone(),
            poll_interval: Duration::from_millis(self.poll_interval_ms.max(100)),
        })
        .await
        .wrap_err("the watcher could not start")?;
        tracing::info!(
            account = %chain.account,
            store = %self.store.display(),
            aggregators = self.aggregators.len(),
            "watcher running; Ctrl-C or SIGTERM stops it"
        );
        crate::run::stop_on_signal("watcher", signals, watcher.stop()).await;
        Ok(())
    }
}

/// Parses `--aggregator` URLs (http or https base URLs).
fn parse_aggregators(texts: &[String]) -> eyre::Result<Vec<Url>> {
    texts
        .iter()
        .map(|text| {
            let url: Url = text.parse().wrap_err_with(|| {
                format!("--{AGGREGATOR_FLAG} {text} is not a URL (e.g. http://127.0.0.1:8080)")
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!("--{AGGREGATOR_FLAG} {text} must be an http or https URL");
            }
            Ok(url)
        })
        .collect()
}

/// A `[watcher]` section checked and its key opened, ready to start beside
/// a node once the actix system runs.
pub struct ConfiguredWatcher {
    signer: alloy::signers::local::PrivateKeySigner,
    l1: chorus_deploy::rpc_url::RpcUrl,
    aggregators: Vec<Url>,
    store: PathBuf,
    poll_interval: Duration,
}

impl ConfiguredWatcher {
    /// Checks `[watcher]` and opens its key; `None` when it is not enabled.
    /// `own_feeds` are the aggregators followed when the section names none
    /// (an operator's aggregators, or the aggregator itself).
    pub fn prepare(
        config: &chorus_slashing::WatcherConfig,
        l1_rpc_url: &str,
        own_feeds: &[String],
        args: &crate::run::RunArgs,
    ) -> eyre::Result<Option<Self>> {
        if !config.enabled {
            return Ok(None);
        }
        let Some(keystore) = &config.ecdsa_keystore else {
            bail!(
                "[watcher] is enabled but names no watcher.ecdsa_keystore: proofs are sent from \
                 an account of its own (make one with `chorus keys generate --type ecdsa`)"
            );
        };
        args.check_secret_file(keystore, "watcher.ecdsa_keystore")?;
        if let Some(file) = &config.password_file {
            args.check_secret_file(file, "watcher.password_file")?;
        }
        let password = crate::run::PasswordOrigin {
            file: config.password_file.as_deref(),
            file_key: "watcher.password_file",
            env_var: crate::config_file::WATCHER_PASSWORD_ENV,
            what: "the watcher keystore",
        }
        .read()?;
        let signer = chorus_keys::ecdsa::decrypt(keystore, &password).wrap_err_with(|| {
            format!("cannot open the watcher's Ethereum keystore {}", keystore.display())
        })?;
        let feeds = if config.aggregators.is_empty() { own_feeds } else { &config.aggregators };
        Ok(Some(Self {
            signer,
            l1: crate::chain::parse_rpc_url(l1_rpc_url, "l1.rpc_url")?,
            aggregators: parse_aggregators(feeds)?,
            store: config.store.clone(),
            poll_interval: config.poll_interval(),
        }))
    }

    /// Starts the watcher in the current actix system.
    pub async fn start(
        self,
        deployment: chorus_deploy::chorus::Deployment,
    ) -> Result<chorus_slashing::WatcherHandle, chorus_slashing::WatcherError> {
        use alloy::providers::{Provider, ProviderBuilder};
        let from = self.signer.address();
        let provider = ProviderBuilder::new()
            .wallet(alloy::network::EthereumWallet::from(self.signer))
            .connect_http(self.l1.url().clone())
            .erased();
        tracing::info!(account = %from, feeds = self.aggregators.len(), "starting the watcher");
        Watcher::start(WatcherSetup {
            deployment,
            provider,
            from,
            aggregators: self.aggregators,
            store: self.store,
            poll_interval: self.poll_interval,
        })
        .await
    }
}
