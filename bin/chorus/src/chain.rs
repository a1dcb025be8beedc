//! What the on-chain commands share: the RPC endpoint, the Ethereum key that
//! signs, and the async runtime they run on.

use std::path::{Path, PathBuf};

use alloy::{
    network::EthereumWallet,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    transports::http::reqwest::Url,
};
use chorus_deploy::chorus::Deployment;
use clap::Args;
use eyre::{WrapErr, bail};

use crate::password::PasswordArgs;

/// Flag naming the JSON-RPC endpoint.
pub const RPC_URL_FLAG: &str = "rpc-url";
/// Flag naming the deployment JSON.
pub const DEPLOYMENT_FLAG: &str = "deployment";

/// The Ethereum endpoint and the account that signs.
#[derive(Debug, Args)]
pub struct SignerArgs {
    /// JSON-RPC endpoint of the L1 (e.g. http://127.0.0.1:8545).
    #[arg(long = RPC_URL_FLAG, value_name = "URL", env = "CHORUS_RPC_URL")]
    pub rpc_url: String,
    /// Ethereum keystore (Web3 secret storage) of the account that signs.
    #[arg(long = "ecdsa-keystore", value_name = "PATH")]
    pub ecdsa_keystore: PathBuf,
    /// Password options for the keystore(s).
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// A connected, signing provider.
pub struct Chain {
    /// Signs with the keystore's key.
    pub provider: DynProvider,
    /// The signing account.
    pub account: Address,
    /// The chain's EIP-155 id, as the RPC reports it.
    pub chain_id: u64,
}

impl SignerArgs {
    /// Opens the keystore, connects, and checks the RPC answers.
    pub async fn connect(&self) -> eyre::Result<Chain> {
        let password = self.password.existing(&self.ecdsa_keystore.display().to_string())?;
        let signer =
            chorus_keys::ecdsa::decrypt(&self.ecdsa_keystore, &password).wrap_err_with(|| {
                format!("cannot open Ethereum keystore {}", self.ecdsa_keystore.display())
            })?;
        let account = signer.address();
        let url: Url = self.rpc_url.parse().wrap_err_with(|| {
            format!("--{RPC_URL_FLAG} is not a URL (it is not shown: it may hold an API key)")
        })?;
        // Hosted RPC URLs often carry an API key in the path or query: name
        // only the scheme, host and port in messages.
        let shown = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or("?"),
            url.port().map(|port| format!(":{port}")).unwrap_or_default()
        );
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased();
        let chain_id = provider.get_chain_id().await.wrap_err_with(|| {
            format!("cannot reach the RPC at {shown}: is the node running and the URL right?")
        })?;
        Ok(Chain { provider, account, chain_id })
    }
}

/// Reads a deployment JSON as `chorus deploy` writes it.
pub fn parse_deployment(path: &Path) -> eyre::Result<Deployment> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read deployment file {}", path.display()))?;
    serde_json::from_str(&text).wrap_err_with(|| {
        format!(
            "{} is not a Chorus deployment file (as `chorus deploy` writes); pass that file with \
             --{DEPLOYMENT_FLAG}",
            path.display()
        )
    })
}

/// Reads a deployment JSON and checks it belongs to `chain_id`.
pub fn read_deployment(path: &Path, chain_id: u64) -> eyre::Result<Deployment> {
    let deployment = parse_deployment(path)?;
    if deployment.chain_id != chain_id {
        bail!(
            "{} describes chain {}, but the RPC serves chain {chain_id}: point --{RPC_URL_FLAG} at \
             the chain it was deployed to",
            path.display(),
            deployment.chain_id
        );
    }
    Ok(deployment)
}

/// Runs an async command to completion on a fresh runtime.
pub fn block_on<F: std::future::Future<Output = eyre::Result<()>>>(future: F) -> eyre::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?
        .block_on(future)
}
