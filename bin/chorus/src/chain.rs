//! What the on-chain commands share: the RPC endpoint, the Ethereum key that
//! signs, and the async runtime they run on.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
};
use chorus_deploy::{chorus::Deployment, rpc_url::RpcUrl};
use clap::Args;
use eyre::{WrapErr, bail, eyre};

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
    /// The endpoint, shown as scheme, host and port.
    pub url: RpcUrl,
}

impl Chain {
    /// `error` (and its sources) as a report that does not quote the RPC
    /// URL: transport errors do, and it may hold an API key.
    pub fn scrub(&self, error: impl std::error::Error + 'static) -> eyre::Report {
        eyre!(self.url.redact_error(&error))
    }
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
        let url = parse_rpc_url(&self.rpc_url, &format!("--{RPC_URL_FLAG}"))?;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url.url().clone())
            .erased();
        let chain_id = fetch_chain_id(&provider, &url).await?;
        Ok(Chain { provider, account, chain_id, url })
    }
}

/// How long a command waits for the RPC's first answer before saying it
/// cannot reach it (a firewalled host never refuses the connection).
pub const RPC_TIMEOUT: Duration = Duration::from_secs(15);

/// Parses an RPC URL; `origin` names where it came from (a flag or a
/// configuration key). The URL itself is never echoed: it may hold an API key.
pub fn parse_rpc_url(text: &str, origin: &str) -> eyre::Result<RpcUrl> {
    RpcUrl::parse(text).map_err(|invalid| eyre!("{origin} is {invalid}"))
}

/// Asks the RPC for its chain id, which also checks that it answers.
async fn fetch_chain_id(provider: &DynProvider, url: &RpcUrl) -> eyre::Result<u64> {
    let failure = match tokio::time::timeout(RPC_TIMEOUT, provider.get_chain_id()).await {
        Ok(Ok(chain_id)) => return Ok(chain_id),
        Ok(Err(error)) => url.redact(&format!("{error:#}")),
        Err(_) => format!("no answer within {}s", RPC_TIMEOUT.as_secs()),
    };
    bail!("cannot reach the RPC at {url}: is the node running and the URL right? ({failure})")
}

/// A read-only connection: no key, for views and checks.
pub struct ReadOnlyChain {
    /// Reads the chain.
    pub provider: DynProvider,
    /// The chain's EIP-155 id, as the RPC reports it.
    pub chain_id: u64,
    /// The endpoint: shown as scheme, host and port, and able to take
    /// itself out of error texts ([`RpcUrl::redact`]).
    pub url: RpcUrl,
}

/// Connects to `rpc_url` without a key and checks it answers; `origin`
/// names where the URL came from, for messages.
pub async fn connect_read_only(rpc_url: &str, origin: &str) -> eyre::Result<ReadOnlyChain> {
    let url = parse_rpc_url(rpc_url, origin)?;
    let provider = ProviderBuilder::new().connect_http(url.url().clone()).erased();
    let chain_id = fetch_chain_id(&provider, &url).await?;
    Ok(ReadOnlyChain { provider, chain_id, url })
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
