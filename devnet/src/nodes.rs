//! Running the operator nodes and the aggregator, in this process (actors
//! in the current actix system) or as `chorus` child processes.

use std::{
    future::Future,
    path::Path,
    time::{Duration, Instant},
};

use chorus_aggregator::service::{AggregatorConfig, AggregatorHandle, AggregatorSetup};
use chorus_deploy::chorus::Deployment;
use chorus_keys::{keystore::Keystore, password::PasswordSource};
use chorus_operator::{
    node::{NodeConfig, NodeHandle, NodeSetup},
    protection::{Domain, SlashingProtection},
};

use crate::{DevnetError, Mode, process::ChildProcess};

/// How long a child process may take to stop on SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long a child process may take to serve its API.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How often a starting child's API is tried.
const START_POLL: Duration = Duration::from_millis(100);

/// An in-process node that can be stopped.
pub(crate) trait InProcess {
    /// Stops it and waits until it stopped.
    fn stop(self) -> impl Future<Output = ()>;
}

impl InProcess for NodeHandle {
    fn stop(self) -> impl Future<Output = ()> {
        NodeHandle::stop(self)
    }
}

impl InProcess for AggregatorHandle {
    fn stop(self) -> impl Future<Output = ()> {
        AggregatorHandle::stop(self)
    }
}

/// A running operator node or aggregator.
#[derive(Debug)]
pub(crate) enum Running<H> {
    /// Actors in this process.
    InProcess(H),
    /// A `chorus` child process.
    Process(ChildProcess),
}

impl<H: InProcess> Running<H> {
    /// Stops it gracefully (SIGTERM for a process).
    pub(crate) async fn stop(self) {
        match self {
            Self::InProcess(handle) => handle.stop().await,
            Self::Process(child) => {
                child.terminate(STOP_GRACE).await;
            }
        }
    }

    /// Stops it at once: SIGKILL for a process. In process there is no
    /// harsher way to end actors than stopping them, so this stops them.
    pub(crate) async fn kill(self) {
        match self {
            Self::InProcess(handle) => handle.stop().await,
            Self::Process(child) => {
                child.kill();
            }
        }
    }

    /// Fails if it is a child process that has exited; it then counts as
    /// stopped.
    pub(crate) fn check_running(&mut self) -> Result<(), DevnetError> {
        match self {
            Self::InProcess(_) => Ok(()),
            Self::Process(child) => child.check_running(),
        }
    }

    /// The child's process id, in process mode.
    pub(crate) fn pid(&self) -> Option<u32> {
        match self {
            Self::InProcess(_) => None,
            Self::Process(child) => child.pid(),
        }
    }
}

/// Reads the deployment file a configuration names.
fn read_deployment(path: &Path) -> Result<Deployment, DevnetError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| DevnetError::io("read", path, source))?;
    serde_json::from_str(&text)
        .map_err(|source| DevnetError::Json { path: path.to_path_buf(), source })
}

/// Starts operator `index` as its configuration says, in `mode`.
pub(crate) async fn start_operator(
    index: usize,
    config: &NodeConfig,
    config_file: &Path,
    mode: &Mode,
    log: &Path,
) -> Result<Running<NodeHandle>, DevnetError> {
    match mode {
        Mode::InProcess => {
            let setup = operator_setup(config.clone()).await?;
            let handle = chorus_operator::node::start(setup)
                .await
                .map_err(|source| DevnetError::Node { index, source })?;
            Ok(Running::InProcess(handle))
        }
        Mode::Processes { chorus_exe } => {
            let name = format!("operator {index}");
            let url = format!("http://{}/eigen/node/health", config.api.listen);
            let child =
                spawn_and_wait(&name, chorus_exe, "operator", config_file, log, &url).await?;
            Ok(Running::Process(child))
        }
    }
}

/// Opens what the node needs, as `chorus operator run` does: the keystore
/// with its password file, the deployment, the protection store.
async fn operator_setup(config: NodeConfig) -> Result<NodeSetup, DevnetError> {
    let operator = config.operator.clone();
    let password_file = operator.bls_password_file.clone().ok_or_else(|| {
        DevnetError::Options(format!(
            "operator {} has no bls_password_file: the devnet cannot open its keystore",
            operator.address
        ))
    })?;
    let keystore_path = operator.bls_keystore.clone();
    // Key derivation is deliberately slow: off the async reactor.
    let secret = tokio::task::spawn_blocking(move || {
        let password = PasswordSource::File(password_file).read()?;
        Keystore::from_file(&keystore_path)
            .and_then(|keystore| keystore.decrypt(&password))
            .map(|decrypted| decrypted.secret)
            .map_err(|source| DevnetError::BlsKeystore { path: keystore_path, source })
    })
    .await
    .map_err(|e| DevnetError::Task(e.to_string()))??;
    let deployment = read_deployment(&config.l1.deployment)?;
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    let protection =
        SlashingProtection::open(&operator.protection_db, domain, &secret.public_key())?;
    Ok(NodeSetup { config, key: secret, deployment, protection })
}

/// Starts the aggregator as its configuration says, in `mode`.
pub(crate) async fn start_aggregator(
    config: &AggregatorConfig,
    config_file: &Path,
    mode: &Mode,
    log: &Path,
) -> Result<Running<AggregatorHandle>, DevnetError> {
    match mode {
        Mode::InProcess => {
            let submitter = config.submitter.clone();
            let password_file = submitter.password_file.clone().ok_or_else(|| {
                DevnetError::Options(
                    "the aggregator has no submitter.password_file: the devnet cannot open its \
                     keystore"
                        .to_owned(),
                )
            })?;
            let keystore = submitter.keystore.clone();
            let signer = tokio::task::spawn_blocking(move || {
                let password = PasswordSource::File(password_file).read()?;
                chorus_keys::ecdsa::decrypt(&keystore, &password)
                    .map_err(|source| DevnetError::EcdsaKeystore { path: keystore, source })
            })
            .await
            .map_err(|e| DevnetError::Task(e.to_string()))??;
            let deployment = read_deployment(&config.l1.deployment)?;
            let setup = AggregatorSetup { config: config.clone(), submitter: signer, deployment };
            Ok(Running::InProcess(chorus_aggregator::service::start(setup).await?))
        }
        Mode::Processes { chorus_exe } => {
            let url = format!("http://{}{}", config.api.listen, chorus_wire::routes::HEALTH);
            let child =
                spawn_and_wait("aggregator", chorus_exe, "aggregator", config_file, log, &url)
                    .await?;
            Ok(Running::Process(child))
        }
    }
}

/// Runs `chorus <command> run --config FILE` and waits until `url`
/// answers at all (any status: the API is up) or the child exits.
async fn spawn_and_wait(
    name: &str,
    exe: &Path,
    command: &str,
    config_file: &Path,
    log: &Path,
    url: &str,
) -> Result<ChildProcess, DevnetError> {
    let config = config_file.to_string_lossy();
    let mut child = ChildProcess::spawn(name, exe, &[command, "run", "--config", &config], log)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| DevnetError::Task(format!("cannot build an HTTP client: {e}")))?;
    let started = Instant::now();
    loop {
        child.check_running()?;
        if client.get(url).send().await.is_ok() {
            return Ok(child);
        }
        if started.elapsed() > START_DEADLINE {
            return Err(DevnetError::Timeout {
                what: format!("{name} to serve {url} (see {})", log.display()),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(START_POLL).await;
    }
}
