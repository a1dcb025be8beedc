//! Everything that can stop a devnet from starting or from doing what it
//! was asked.
//!
//! Messages do not repeat their source: print an error with its chain
//! (`{:#}` of an eyre report, or walk `source()`) to see the cause.

use std::{path::PathBuf, time::Duration};

/// Why the devnet could not start, or an operation on it failed.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The options make no devnet.
    #[error("invalid devnet options: {0}")]
    Options(String),
    /// The devnet folder holds files that are not a previous devnet's.
    #[error(
        "{0} is not empty and holds no devnet.json: it is not a previous devnet. Choose another \
         folder (or an empty one), or move its contents away"
    )]
    DirNotEmpty(PathBuf),
    /// Another devnet is running in the folder.
    #[error(
        "a devnet (process {pid}) is still running in {dir}: stop it first, or choose another folder"
    )]
    DirInUse {
        /// The folder.
        dir: PathBuf,
        /// The process that runs it.
        pid: i32,
    },
    /// A file or folder could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done ("create", "write", "read", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// anvil could not be started.
    #[error("cannot start {chain}")]
    Anvil {
        /// Which chain ("the L1", "rollup 901").
        chain: String,
        /// Why.
        #[source]
        source: chorus_deploy::anvil::AnvilError,
    },
    /// A node did not answer an RPC call.
    #[error("{what}")]
    Rpc {
        /// What was being asked, of which node.
        what: String,
        /// The transport error.
        #[source]
        source: alloy::transports::TransportError,
    },
    /// Deploying EigenLayer or Chorus failed.
    #[error("deploying EigenLayer and Chorus failed")]
    Deploy(#[from] chorus_deploy::DeployError),
    /// An operator's registration failed.
    #[error("registration of operator {index} ({address}) failed")]
    Registration {
        /// The operator's index in the devnet.
        index: usize,
        /// Its address.
        address: alloy::primitives::Address,
        /// Why.
        #[source]
        source: chorus_operator::registration::RegistrationError,
    },
    /// A transaction the devnet sends itself (table update, funding) failed.
    #[error("{what} failed: {reason}")]
    Transaction {
        /// The transaction.
        what: String,
        /// Why.
        reason: String,
    },
    /// A BLS keystore could not be written or opened.
    #[error("BLS keystore {path}")]
    BlsKeystore {
        /// The keystore.
        path: PathBuf,
        /// Why.
        #[source]
        source: chorus_keys::keystore::KeystoreError,
    },
    /// An Ethereum keystore could not be written or opened.
    #[error("Ethereum keystore {path}")]
    EcdsaKeystore {
        /// The keystore.
        path: PathBuf,
        /// Why.
        #[source]
        source: chorus_keys::ecdsa::EcdsaKeystoreError,
    },
    /// A key file (password) could not be written.
    #[error("cannot write {path}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: chorus_keys::file::WriteError,
    },
    /// A password file could not be read.
    #[error(transparent)]
    Password(#[from] chorus_keys::password::PasswordError),
    /// A slashing-protection store could not be created or opened.
    #[error("slashing-protection store")]
    Protection(#[from] chorus_operator::protection::OpenError),
    /// A configuration could not be written as TOML.
    #[error("cannot write {path} as TOML")]
    ConfigToml {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: toml::ser::Error,
    },
    /// A JSON file could not be written or read.
    #[error("{path}: not the expected JSON")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// No operator with that index.
    #[error("the devnet has no operator {index} (it has {count}, numbered from 0)")]
    NoSuchOperator {
        /// The index asked for.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// The node or aggregator asked to start is running already.
    #[error("{0} is already running: stop it first")]
    AlreadyRunning(String),
    /// An in-process operator node failed to start.
    #[error("operator {index} did not start")]
    Node {
        /// The operator's index.
        index: usize,
        /// Why.
        #[source]
        source: chorus_operator::node::NodeError,
    },
    /// The in-process aggregator failed to start.
    #[error("the aggregator did not start")]
    Aggregator(#[from] chorus_aggregator::service::AggregatorError),
    /// A child process could not be started.
    #[error("cannot run {exe}")]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A child process exited while it should be serving.
    #[error("{name} exited ({status}): see {log}")]
    ChildExited {
        /// Which node.
        name: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// Its log file.
        log: PathBuf,
    },
    /// Something did not happen in time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
    /// A blocking task (key derivation, store creation) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(String),
}

impl DevnetError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io { action, path: path.into(), source }
    }

    pub(crate) fn rpc(what: impl Into<String>, source: alloy::transports::TransportError) -> Self {
        Self::Rpc { what: what.into(), source }
    }
}
