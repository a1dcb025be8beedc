//! What `chorus operator run` and `chorus aggregator run` share: their
//! flags, the checks on key files, where a password comes from, the check
//! that the L1 answers for the deployment, and the actix system that runs
//! the service until SIGINT or SIGTERM. Unix only, as Chorus is.

use std::{
    future::Future,
    io::IsTerminal,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use chorus_aggregator::service::AggregatorHandle;
use chorus_deploy::chorus::Deployment;
use chorus_keys::password::{Password, PasswordSource};
use chorus_operator::node::NodeHandle;
use clap::Args;
use eyre::{WrapErr, bail};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::chain::{connect_read_only, parse_deployment};

/// Flag naming the configuration file.
pub const CONFIG_FLAG: &str = "config";
/// Flag accepting key files that others can read.
pub const ALLOW_INSECURE_KEY_PERMISSIONS_FLAG: &str = "allow-insecure-key-permissions";

/// Arguments of the `run` commands.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration file (TOML; see config/*.example.toml). Keys can be
    /// overridden by CHORUS_SECTION__KEY environment variables.
    #[arg(long = CONFIG_FLAG, value_name = "FILE")]
    pub config: PathBuf,
    /// Start even if a keystore or password file is readable by group or
    /// others (a warning is logged instead of refusing).
    #[arg(long = ALLOW_INSECURE_KEY_PERMISSIONS_FLAG)]
    pub allow_insecure_key_permissions: bool,
}

impl RunArgs {
    /// Refuses (or, when allowed, warns about) a secret file that users
    /// other than its owner can read; `origin` names the configuration key.
    pub fn check_secret_file(&self, path: &Path, origin: &str) -> eyre::Result<()> {
        let metadata = std::fs::metadata(path)
            .wrap_err_with(|| format!("cannot read {} ({origin})", path.display()))?;
        if !metadata.is_file() {
            bail!("{} ({origin}) is not a file", path.display());
        }
        let mode = unix_mode(&metadata);
        if mode & 0o077 == 0 {
            return Ok(());
        }
        if self.allow_insecure_key_permissions {
            tracing::warn!(
                file = %path.display(),
                mode = format!("{mode:03o}"),
                "this secret file is readable by other users of the machine; `chmod 600` it"
            );
            return Ok(());
        }
        bail!(
            "{} ({origin}) has mode {mode:03o}: other users of this machine can read it. Run \
             `chmod 600 {}`, or pass --{ALLOW_INSECURE_KEY_PERMISSIONS_FLAG} to start anyway",
            path.display(),
            path.display()
        )
    }
}

fn unix_mode(metadata: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777
}

/// Where a `run` command's keystore password comes from, in order: a file
/// named in the configuration, an environment variable, a prompt.
pub struct PasswordOrigin<'a> {
    /// The file, when the configuration names one.
    pub file: Option<&'a Path>,
    /// Its configuration key, e.g. `operator.bls_password_file`.
    pub file_key: &'a str,
    /// The environment variable, e.g. `CHORUS_BLS_PASSWORD`.
    pub env_var: &'a str,
    /// What the password opens, for the prompt and messages.
    pub what: &'a str,
}

impl PasswordOrigin<'_> {
    /// Reads the password. It is never logged nor echoed.
    pub fn read(&self) -> eyre::Result<Password> {
        if let Some(file) = self.file {
            return Ok(PasswordSource::File(file.to_path_buf()).read()?);
        }
        if std::env::var_os(self.env_var).is_some() {
            return Ok(PasswordSource::Env(self.env_var.to_owned()).read()?);
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "no password for {}: set {} in the configuration (a file holding it, mode 0600) \
                 or the environment variable {}, or start in a terminal to be asked",
                self.what,
                self.file_key,
                self.env_var
            );
        }
        let typed = rpassword::prompt_password(format!("Password for {}: ", self.what))
            .wrap_err("cannot read the password")?;
        let password = Password::new(typed);
        if password.is_empty() {
            bail!("empty password for {}", self.what);
        }
        Ok(password)
    }
}

/// Reads the deployment file a configuration names; `origin` names the key.
pub fn read_configured_deployment(path: &Path, origin: &str) -> eyre::Result<Deployment> {
    parse_deployment(path).wrap_err_with(|| format!("the deployment file ({origin}) is unusable"))
}

/// Checks that the L1 RPC answers and serves the deployment's chain.
pub async fn check_l1(rpc_url: &str, origin: &str, deployment: &Deployment) -> eyre::Result<()> {
    let chain = connect_read_only(rpc_url, origin)
        .await
        .wrap_err_with(|| format!("the L1 ({origin}) does not answer; nothing was started"))?;
    if chain.chain_id != deployment.chain_id {
        bail!(
            "the L1 at {} ({origin}) serves chain {}, but the deployment file describes chain {}: \
             point the RPC URL at the chain Chorus was deployed to, or use that chain's deployment \
             file",
            chain.url,
            chain.chain_id,
            deployment.chain_id
        );
    }
    Ok(())
}

/// Runs `future` in a fresh actix system (the node and the aggregator are
/// actix actors and expect one) and returns its result.
pub fn in_actix_system<F: Future<Output = eyre::Result<()>>>(future: F) -> eyre::Result<()> {
    actix_rt::System::new().block_on(future)
}

/// A running node or aggregator, as [`serve_until_signal`] drives it.
pub trait RunningService {
    /// Where its API listens.
    fn api_addr(&self) -> SocketAddr;
    /// Stops it and waits until it stopped.
    fn stop(self) -> impl Future<Output = ()>;
}

impl RunningService for NodeHandle {
    fn api_addr(&self) -> SocketAddr {
        NodeHandle::api_addr(self)
    }

    fn stop(self) -> impl Future<Output = ()> {
        NodeHandle::stop(self)
    }
}

impl RunningService for AggregatorHandle {
    fn api_addr(&self) -> SocketAddr {
        AggregatorHandle::api_addr(self)
    }

    fn stop(self) -> impl Future<Output = ()> {
        AggregatorHandle::stop(self)
    }
}

/// Starts a service and runs it until SIGINT or SIGTERM, then stops it
/// cleanly; a second signal during the stop exits at once (safe for the
/// operator: slashing protection is durable before any signature leaves).
/// `what` names the service in logs ("operator node", "aggregator").
pub async fn serve_until_signal<H, E>(
    what: &str,
    mut signals: ShutdownSignals,
    start: impl Future<Output = Result<H, E>>,
) -> eyre::Result<()>
where
    H: RunningService,
    E: std::error::Error + Send + Sync + 'static,
{
    let handle = tokio::select! {
        started = start => started.wrap_err_with(|| format!("the {what} could not start"))?,
        signal = signals.recv() => {
            tracing::info!(signal, "stopped while starting the {what}");
            return Ok(());
        }
    };
    tracing::info!(api = %handle.api_addr(), "{what} running; Ctrl-C or SIGTERM stops it");
    stop_on_signal(what, signals, handle.stop()).await;
    Ok(())
}

/// Waits for SIGINT or SIGTERM, then runs `stop`; a second signal during
/// the stop exits at once.
pub async fn stop_on_signal(
    what: &str,
    mut signals: ShutdownSignals,
    stop: impl Future<Output = ()>,
) {
    let signal = signals.recv().await;
    tracing::info!(signal, "stopping the {what} (signal again to exit at once)");
    tokio::select! {
        () = stop => tracing::info!("{what} stopped"),
        signal = signals.recv() => tracing::warn!(signal, "exiting without waiting for the {what} to stop"),
    }
}

/// SIGINT (Ctrl-C) and SIGTERM (`docker stop`, systemd, `chorus devnet
/// --processes`). Listened for from before the service starts: once tokio
/// handles a signal its default action (ending the process) is gone, so the
/// listeners live as long as the service does.
pub struct ShutdownSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl ShutdownSignals {
    /// Starts listening; call inside the runtime.
    pub fn listen() -> eyre::Result<Self> {
        Ok(Self {
            terminate: signal(SignalKind::terminate()).wrap_err("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).wrap_err("cannot listen for SIGINT")?,
        })
    }

    /// Waits for either and names it.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// A node or aggregator with the equivocation watcher of its `[watcher]`
/// section running beside it.
pub struct WithWatcher<H> {
    service: H,
    watcher: Option<chorus_slashing::WatcherHandle>,
}

impl<H: RunningService> RunningService for WithWatcher<H> {
    fn api_addr(&self) -> SocketAddr {
        self.service.api_addr()
    }

    async fn stop(self) {
        if let Some(watcher) = self.watcher {
            watcher.stop().await;
        }
        self.service.stop().await;
    }
}

/// Why a service or its watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError<E: std::error::Error + 'static> {
    /// The service itself.
    #[error(transparent)]
    Service(E),
    /// Its watcher (the service was stopped again).
    #[error("the [watcher] could not start: {0}")]
    Watcher(#[source] chorus_slashing::WatcherError),
}

/// Starts a service, then its watcher if one is configured.
pub async fn start_with_watcher<H: RunningService, E: std::error::Error + 'static>(
    start: impl Future<Output = Result<H, E>>,
    watcher: Option<crate::watch::ConfiguredWatcher>,
    deployment: chorus_deploy::chorus::Deployment,
) -> Result<WithWatcher<H>, StartError<E>> {
    let service = start.await.map_err(StartError::Service)?;
    let Some(watcher) = watcher else {
        return Ok(WithWatcher { service, watcher: None });
    };
    match watcher.start(deployment).await {
        Ok(handle) => Ok(WithWatcher { service, watcher: Some(handle) }),
        Err(error) => {
            service.stop().await;
            Err(StartError::Watcher(error))
        }
    }
}
