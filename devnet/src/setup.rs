//! Setting a devnet up: its folder, its accounts, the contracts, the
//! operators' keys and registration, and every node's configuration file.

use std::{
    fs,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use chorus_aggregator::service::AggregatorConfig;
use chorus_contracts::IChorusRegistry;
use chorus_deploy::{
    chorus::{ChorusConfig, Deployment, Rollup, deploy_chorus},
    eigenlayer::{WaitOptions, deploy_eigenlayer},
};
use chorus_keys::{
    bls::SecretKey,
    keystore::{Kdf, Keystore},
    password::Password,
};
use chorus_operator::{
    node::NodeConfig,
    protection::{Domain, SlashingProtection},
    registration::{FULL_MAGNITUDE, RegistrationPlan, register_operator},
};
use chorus_rollup::Safety;
use serde::Serialize;
use serde_json::json;

use crate::{
    DevnetError,
    info::{DEPLOYMENT_JSON, DEVNET_JSON},
    process::is_alive,
};

/// The lock file naming the process that runs a devnet in its folder.
const LOCK_FILE: &str = "devnet.lock";
/// Tokens each operator deposits (1,000 with 18 decimals): equal weights.
const OPERATOR_DEPOSIT: u128 = 1_000_000_000_000_000_000_000;
/// ETH the deployer sends each fresh account on an L1 it did not start.
const FUNDING_WEI: u128 = 1_000_000_000_000_000_000;

/// Where every file of a devnet lives.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The devnet folder, absolute.
    pub(crate) dir: PathBuf,
}

impl Layout {
    /// Makes `dir` ready for a new devnet: creates it, or empties a previous
    /// devnet's files from it; refuses a folder of other files or one a
    /// running devnet uses. Takes the folder's lock.
    pub(crate) fn prepare(dir: &Path) -> Result<Self, DevnetError> {
        fs::create_dir_all(dir).map_err(|source| DevnetError::io("create", dir, source))?;
        let dir = dir.canonicalize().map_err(|source| DevnetError::io("resolve", dir, source))?;
        let layout = Self { dir };
        let lock = layout.dir.join(LOCK_FILE);
        let holder =
            fs::read_to_string(&lock).ok().and_then(|text| text.trim().parse::<i32>().ok());
        if let Some(pid) = holder
            && i64::from(pid) != i64::from(std::process::id())
            && is_alive(pid)
        {
            return Err(DevnetError::DirInUse { dir: layout.dir.clone(), pid });
        }
        let mut entries = fs::read_dir(&layout.dir)
            .map_err(|source| DevnetError::io("read", &layout.dir, source))?
            .filter_map(Result::ok)
            .map(|entry| entry.file_name());
        let previous = layout.dir.join(DEVNET_JSON).exists() || lock.exists();
        if !previous && entries.next().is_some() {
            return Err(DevnetError::DirNotEmpty(layout.dir.clone()));
        }
        if previous {
            layout.remove_previous()?;
        }
        for folder in [layout.logs(), layout.dir.join("operators"), layout.aggregator_dir()] {
            fs::create_dir_all(&folder)
                .map_err(|source| DevnetError::io("create", &folder, source))?;
        }
        fs::write(&lock, format!("{}\n", std::process::id()))
            .map_err(|source| DevnetError::io("write", &lock, source))?;
        Ok(layout)
    }

    /// Removes what a previous devnet wrote (and only that).
    fn remove_previous(&self) -> Result<(), DevnetError> {
        for folder in ["operators", "aggregator", "logs"] {
            let path = self.dir.join(folder);
            if path.exists() {
                fs::remove_dir_all(&path)
                    .map_err(|source| DevnetError::io("remove", &path, source))?;
            }
        }
        // The folders of a previous devnet's other aggregators.
        let entries =
            fs::read_dir(&self.dir).map_err(|source| DevnetError::io("read", &self.dir, source))?;
        for entry in entries.filter_map(Result::ok) {
            let is_other_aggregator =
                entry.file_name().to_str().is_some_and(|name| name.starts_with("aggregator-"));
            if is_other_aggregator && entry.path().is_dir() {
                let path = entry.path();
                fs::remove_dir_all(&path)
                    .map_err(|source| DevnetError::io("remove", &path, source))?;
            }
        }
        for file in [DEVNET_JSON, DEPLOYMENT_JSON, LOCK_FILE] {
            let path = self.dir.join(file);
            if path.exists() {
                fs::remove_file(&path)
                    .map_err(|source| DevnetError::io("remove", &path, source))?;
            }
        }
        Ok(())
    }

    /// Releases the folder's lock (the devnet stopped).
    pub(crate) fn release(&self) {
        let _ = fs::remove_file(self.dir.join(LOCK_FILE));
    }

    pub(crate) fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    pub(crate) fn deployment_file(&self) -> PathBuf {
        self.dir.join(DEPLOYMENT_JSON)
    }

    pub(crate) fn devnet_json(&self) -> PathBuf {
        self.dir.join(DEVNET_JSON)
    }

    pub(crate) fn operator_dir(&self, index: usize) -> PathBuf {
        self.dir.join("operators").join(index.to_string())
    }

    pub(crate) fn operator_config(&self, index: usize) -> PathBuf {
        self.operator_dir(index).join("operator.toml")
    }

    pub(crate) fn operator_log(&self, index: usize) -> PathBuf {
        self.logs().join(format!("operator-{index}.log"))
    }

    pub(crate) fn aggregator_dir(&self) -> PathBuf {
        self.dir.join("aggregator")
    }

    pub(crate) fn aggregator_config(&self) -> PathBuf {
        self.aggregator_dir().join("aggregator.toml")
    }

    pub(crate) fn aggregator_log(&self) -> PathBuf {
        self.logs().join("aggregator.log")
    }

    /// Aggregator `index`'s folder: the first's is `aggregator/`, the
    /// others' `aggregator-<index>/`.
    pub(crate) fn aggregator_dir_at(&self, index: usize) -> PathBuf {
        match index {
            0 => self.aggregator_dir(),
            _ => self.dir.join(format!("aggregator-{index}")),
        }
    }

    pub(crate) fn aggregator_config_at(&self, index: usize) -> PathBuf {
        self.aggregator_dir_at(index).join("aggregator.toml")
    }

    pub(crate) fn aggregator_log_at(&self, index: usize) -> PathBuf {
        match index {
            0 => self.aggregator_log(),
            _ => self.logs().join(format!("aggregator-{index}.log")),
        }
    }
}

/// The L1 accounts a devnet uses.
pub(crate) struct Accounts {
    /// Deploys and owns every contract.
    pub(crate) deployer: PrivateKeySigner,
    /// Pays for the aggregator's submissions.
    pub(crate) submitter: PrivateKeySigner,
    /// One per operator.
    pub(crate) operators: Vec<PrivateKeySigner>,
    /// The submitters of the aggregators after the first, one each.
    pub(crate) other_submitters: Vec<PrivateKeySigner>,
}

impl Accounts {
    /// From the dev accounts of an anvil the devnet started: 0 deploys, 1
    /// submits, 2.. are the operators, then the other aggregators'
    /// submitters (after the operators, so that a devnet of one aggregator
    /// keeps the accounts it always had).
    pub(crate) fn from_dev_accounts(
        mut signers: Vec<PrivateKeySigner>,
        operators: usize,
        aggregators: usize,
    ) -> Result<Self, DevnetError> {
        let needed = Self::needed(operators, aggregators);
        if signers.len() < needed {
            return Err(DevnetError::Options(format!(
                "anvil has {} accounts, {needed} are needed",
                signers.len(),
            )));
        }
        let other_submitters = signers.drain(2 + operators..needed).collect();
        let operators = signers.drain(2..2 + operators).collect();
        let submitter = signers.remove(1);
        let deployer = signers.remove(0);
        Ok(Self { deployer, submitter, operators, other_submitters })
    }

    /// How many accounts a devnet of `operators` and `aggregators` uses.
    pub(crate) fn needed(operators: usize, aggregators: usize) -> usize {
        1 + aggregators.max(1) + operators
    }

    /// For an L1 the devnet did not start: fresh keys besides the deployer.
    pub(crate) fn fresh(deployer: PrivateKeySigner, operators: usize, aggregators: usize) -> Self {
        let random = |count: usize| (0..count).map(|_| PrivateKeySigner::random()).collect();
        Self {
            deployer,
            submitter: PrivateKeySigner::random(),
            operators: random(operators),
            other_submitters: random(aggregators.saturating_sub(1)),
        }
    }

    /// Every aggregator's submitter, the first aggregator's first.
    pub(crate) fn submitters(&self) -> impl Iterator<Item = &PrivateKeySigner> {
        std::iter::once(&self.submitter).chain(&self.other_submitters)
    }

    /// A wallet that signs for every account (the deployer by default).
    pub(crate) fn wallet(&self) -> EthereumWallet {
        let mut wallet = EthereumWallet::new(self.deployer.clone());
        for submitter in self.submitters() {
            wallet.register_signer(submitter.clone());
        }
        for operator in &self.operators {
            wallet.register_signer(operator.clone());
        }
        wallet
    }

    /// Sends the submitter and every operator [`FUNDING_WEI`] from the
    /// deployer, unless they hold that much already.
    pub(crate) async fn fund(&self, provider: &DynProvider) -> Result<(), DevnetError> {
        let from = self.deployer.address();
        let mut pending = Vec::new();
        let accounts = self.submitters().chain(&self.operators);
        for account in accounts.map(PrivateKeySigner::address) {
            let balance = provider
                .get_balance(account)
                .await
                .map_err(|e| DevnetError::rpc(format!("reading the balance of {account}"), e))?;
            if balance >= U256::from(FUNDING_WEI) {
                continue;
            }
            let transfer = TransactionRequest::default()
                .with_from(from)
                .with_to(account)
                .with_value(U256::from(FUNDING_WEI));
            let sent = provider.send_transaction(transfer).await.map_err(|e| {
                DevnetError::rpc(format!("funding {account} from the deployer {from}"), e)
            })?;
            pending.push((account, sent));
        }
        for (account, sent) in pending {
            let receipt = sent.get_receipt().await.map_err(|e| DevnetError::Transaction {
                what: format!("funding {account}"),
                reason: e.to_string(),
            })?;
            if !receipt.status() {
                return Err(DevnetError::Transaction {
                    what: format!("funding {account}"),
                    reason: "reverted".to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Deploys EigenLayer core and Chorus (as `chorus deploy` does) with the
/// rollups listed, and writes `deployment.json`.
pub(crate) async fn deploy(
    provider: &DynProvider,
    deployer: Address,
    rollup_ids: &[u64],
    layout: &Layout,
) -> Result<Deployment, DevnetError> {
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| DevnetError::rpc("reading the L1 chain id", e))?;
    let eigenlayer = deploy_eigenlayer(provider, deployer).await?;
    let rollups = rollup_ids
        .iter()
        .map(|&chain_id| Rollup { chain_id, name: format!("devnet rollup {chain_id}") })
        .collect();
    let config = ChorusConfig { rollups, ..ChorusConfig::default() };
    let (chorus, _) = deploy_chorus(provider, deployer, &eigenlayer, &config).await?;
    let deployment = Deployment { chain_id, eigenlayer, chorus };
    crate::info::write_json(&layout.deployment_file(), &deployment)?;
    Ok(deployment)
}

/// One operator's files, written before its registration.
pub(crate) struct OperatorFiles {
    /// Its BLS key, kept only for the registration.
    pub(crate) secret: SecretKey,
    /// Its BLS keystore.
    pub(crate) bls_keystore: PathBuf,
    /// The password of both its keystores.
    pub(crate) password_file: PathBuf,
    /// Its slashing-protection store.
    pub(crate) protection_db: PathBuf,
}

/// Creates operator `index`'s folder: a fresh BLS key in an EIP-2335
/// keystore (PBKDF2: quick to open, this is a devnet), its Ethereum key in a
/// Web3 keystore, one password file for both, and an empty
/// slashing-protection store for the deployment. Blocking (key derivation).
pub(crate) fn create_operator_files(
    layout: &Layout,
    index: usize,
    account: &PrivateKeySigner,
    domain: Domain,
) -> Result<OperatorFiles, DevnetError> {
    let dir = layout.operator_dir(index);
    fs::create_dir_all(&dir).map_err(|source| DevnetError::io("create", &dir, source))?;
    let password_file = dir.join("password.txt");
    let password = write_password(&password_file)?;
    let secret = SecretKey::random();
    let bls_keystore = dir.join("bls.json");
    Keystore::encrypt(&secret, &password, Kdf::Pbkdf2, "")
        .and_then(|keystore| keystore.write_new(&bls_keystore))
        .map_err(|source| DevnetError::BlsKeystore { path: bls_keystore.clone(), source })?;
    let ecdsa_keystore = dir.join("ecdsa.json");
    chorus_keys::ecdsa::write_new(&ecdsa_keystore, account, &password)
        .map_err(|source| DevnetError::EcdsaKeystore { path: ecdsa_keystore, source })?;
    let protection_db = dir.join("protection.sqlite");
    SlashingProtection::create(&protection_db, domain, &secret.public_key())?;
    Ok(OperatorFiles { secret, bls_keystore, password_file, protection_db })
}

/// Writes a fresh random password to a new 0600 file. Devnet passwords
/// guard nothing of value, but they are still never printed or logged.
pub(crate) fn write_password(path: &Path) -> Result<Password, DevnetError> {
    let text = alloy::hex::encode(rand_bytes());
    chorus_keys::file::write_new_private_file(path, text.as_bytes())
        .map_err(|source| DevnetError::KeyFile { path: path.to_path_buf(), source })?;
    Ok(Password::new(text))
}

fn rand_bytes() -> [u8; 16] {
    // A fresh secp256k1 key is 32 random bytes from the OS; half of one is
    // all a devnet password needs, without another RNG dependency.
    let key = PrivateKeySigner::random().to_bytes();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&key[..16]);
    bytes
}

/// Registers every operator through the real EigenLayer flow, concurrently
/// (each step is its own account's transactions).
pub(crate) async fn register_operators(
    provider: &DynProvider,
    deployment: &Deployment,
    operators: &[(Address, &SecretKey)],
    wait: WaitOptions,
) -> Result<(), DevnetError> {
    let plan = RegistrationPlan {
        deposit: U256::from(OPERATOR_DEPOSIT),
        magnitude: FULL_MAGNITUDE,
        metadata_uri: "https://chorus.invalid/devnet-operator.json".to_owned(),
        wait,
    };
    let registrations = operators.iter().enumerate().map(|(index, (address, secret))| {
        let plan = &plan;
        async move {
            register_operator(provider, deployment, *address, secret, plan)
                .await
                .map_err(|source| DevnetError::Registration { index, address: *address, source })
        }
    });
    futures::future::try_join_all(registrations).await?;
    Ok(())
}

/// `updateOperatorTable`, so the registered operators form the table.
pub(crate) async fn update_operator_table(
    provider: &DynProvider,
    deployment: &Deployment,
    from: Address,
) -> Result<(), DevnetError> {
    let what = "updateOperatorTable";
    let failed = |reason: String| DevnetError::Transaction { what: what.to_owned(), reason };
    let registry = IChorusRegistry::new(deployment.chorus.registry, provider);
    let receipt = registry
        .updateOperatorTable()
        .from(from)
        .send()
        .await
        .map_err(|e| failed(revert_reason(&e)))?
        .get_receipt()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !receipt.status() {
        return Err(failed(format!("transaction {} reverted", receipt.transaction_hash)));
    }
    Ok(())
}

fn revert_reason(error: &alloy::contract::Error) -> String {
    match error.as_revert_data() {
        Some(data) => chorus_deploy::decode_revert(&data),
        None => error.to_string(),
    }
}

/// Where the nodes' ports are chosen: below Linux's default ephemeral range
/// (32768–60999). A port the kernel hands out for `bind(0)` is ephemeral,
/// and between its choice and the node's own bind any outgoing connection
/// of the process (RPC clients of a parallel test) could take it as its
/// local port: seen as `AddrInUse` in CI. Ports below the range are never
/// given to outgoing connections.
const NODE_PORTS: std::ops::Range<u32> = 20_000..32_000;

/// How many ports this process has handed out (devnets in parallel tests
/// take successive ones).
static PORTS_TAKEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Free TCP ports on 127.0.0.1, distinct, from [`NODE_PORTS`]: each
/// listener is held until all are chosen. Successive calls in one process
/// move on through the range, from an offset set by the process id so that
/// two processes rarely start at the same port; a port another process
/// holds fails its bind here and is skipped.
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>, DevnetError> {
    let span = NODE_PORTS.end - NODE_PORTS.start;
    let offset = std::process::id().wrapping_mul(7_919) % span;
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..span {
        if listeners.len() == count {
            break;
        }
        let taken = PORTS_TAKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Ok(port) = u16::try_from(NODE_PORTS.start + (offset + taken) % span) else { continue };
        if let Ok(listener) = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))) {
            listeners.push((port, listener));
        }
    }
    if listeners.len() < count {
        let no_port = std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("no {count} free ports between {} and {}", NODE_PORTS.start, NODE_PORTS.end),
        );
        return Err(DevnetError::io("bind", "127.0.0.1", no_port));
    }
    Ok(listeners.into_iter().map(|(port, _)| port).collect())
}

/// What every node's `[[rollups]]` lists.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RollupEntry {
    pub(crate) id: u64,
    pub(crate) rpc_url: String,
    pub(crate) safety: Safety,
}

/// Builds operator `index`'s configuration. Built from JSON so that keys
/// the node gains later take their defaults here too.
#[allow(clippy::too_many_arguments)]
pub(crate) fn operator_config(
    address: Address,
    files: &OperatorFiles,
    l1_rpc: &str,
    deployment_file: &Path,
    rollups: &[RollupEntry],
    aggregator_urls: &[String],
    listen: SocketAddr,
) -> Result<NodeConfig, DevnetError> {
    let aggregators: Vec<_> = aggregator_urls.iter().map(|url| json!({ "url": url })).collect();
    let value = json!({
        "operator": {
            "address": address,
            "bls_keystore": files.bls_keystore,
            "bls_password_file": files.password_file,
            "protection_db": files.protection_db,
        },
        "l1": { "rpc_url": l1_rpc, "deployment": deployment_file },
        "rollups": rollups,
        "aggregators": aggregators,
        "api": { "listen": listen },
    });
    serde_json::from_value(value).map_err(|source| DevnetError::Json {
        path: PathBuf::from("(operator configuration)"),
        source,
    })
}

/// Builds the configuration of the aggregator whose folder is `dir` (see
/// [`operator_config`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn aggregator_config(
    layout: &Layout,
    dir: &Path,
    l1_rpc: &str,
    rollups: &[RollupEntry],
    submitter_keystore: &Path,
    password_file: &Path,
    listen: SocketAddr,
    standby_secs: u64,
) -> Result<AggregatorConfig, DevnetError> {
    let value = json!({
        "l1": { "rpc_url": l1_rpc, "deployment": layout.deployment_file() },
        "submitter": {
            "keystore": submitter_keystore,
            "password_file": password_file,
            "standby_secs": standby_secs,
        },
        "rollups": rollups,
        "api": { "listen": listen },
        "store": { "path": dir.join("aggregator.sqlite") },
    });
    serde_json::from_value(value).map_err(|source| DevnetError::Json {
        path: PathBuf::from("(aggregator configuration)"),
        source,
    })
}

/// Writes a configuration file as TOML, replacing it.
pub(crate) fn write_toml<T: Serialize>(path: &Path, config: &T) -> Result<(), DevnetError> {
    let text = toml::to_string(config)
        .map_err(|source| DevnetError::ConfigToml { path: path.to_path_buf(), source })?;
    let text = format!("# Written by `chorus devnet`; rewritten at every devnet start.\n\n{text}");
    fs::write(path, text).map_err(|source| DevnetError::io("write", path, source))
}

/// How to wait for blocks during registration on this L1.
pub(crate) fn wait_options(anvil: bool) -> WaitOptions {
    if anvil {
        WaitOptions::anvil()
    } else {
        WaitOptions::chain(std::time::Duration::from_secs(300), std::time::Duration::from_secs(1))
    }
}
