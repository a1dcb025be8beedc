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
        let url = parse_rpc_url(&self.rpc_url, &format!("--{RPC_URL_FLAG}"))?;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url.clone())
            .erased();
        let chain_id = fetch_chain_id(&provider, &url).await?;
        Ok(Chain { provider, account, chain_id })
    }
}

/// How long a command waits for the RPC's first answer before saying it
/// cannot reach it (a firewalled host never refuses the connection).
pub const RPC_TIMEOUT: Duration = Duration::from_secs(15);

/// Parses an RPC URL; `origin` names where it came from (a flag or a
/// configuration key). The URL itself is never echoed: it may hold an API key.
pub fn parse_rpc_url(text: &str, origin: &str) -> eyre::Result<Url> {
    text.parse().wrap_err_with(|| {
        format!("{origin} is not a URL (it is not shown: it may hold an API key)")
    })
}

/// The scheme, host and port of `url`, for messages: hosted RPC URLs often
/// carry an API key in the path or query.
pub fn shown_url(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or("?"),
        url.port().map(|port| format!(":{port}")).unwrap_or_default()
    )
}

/// Asks the RPC for its chain id, which also checks that it answers.
async fn fetch_chain_id(provider: &DynProvider, url: &Url) -> eyre::Result<u64> {
    let shown = shown_url(url);
    let failure = match tokio::time::timeout(RPC_TIMEOUT, provider.get_chain_id()).await {
        Ok(Ok(chain_id)) => return Ok(chain_id),
        Ok(Err(error)) => redact_url(&format!("{error:#}"), url),
        Err(_) => format!("no answer within {}s", RPC_TIMEOUT.as_secs()),
    };
    bail!("cannot reach the RPC at {shown}: is the node running and the URL right? ({failure})")
}

/// `text` with every part of `url` that may hold an API key (path, query,
/// credentials) replaced: transport errors quote the whole URL.
pub fn redact_url(text: &str, url: &Url) -> String {
    let shown = shown_url(url);
    let mut text = text.replace(url.as_str(), &shown);
    text = text.replace(url.as_str().trim_end_matches('/'), &shown);
    let secrets = [
        Some(url.path()).filter(|path| path.len() > 1),
        url.query(),
        Some(url.username()).filter(|user| !user.is_empty()),
        url.password(),
    ];
    for secret in secrets.into_iter().flatten() {
        text = text.replace(secret, "<redacted>");
    }
    text
}

/// A read-only connection: no key, for views and checks.
pub struct ReadOnlyChain {
    /// Reads the chain.
    pub provider: DynProvider,
    /// The chain's EIP-155 id, as the RPC reports it.
    pub chain_id: u64,
    /// The endpoint as messages may show it (scheme, host, port).
    pub shown: String,
    /// The endpoint, for [`redact_url`]: never print it whole.
    pub url: Url,
}

/// Connects to `rpc_url` without a key and checks it answers; `origin`
/// names where the URL came from, for messages.
pub async fn connect_read_only(rpc_url: &str, origin: &str) -> eyre::Result<ReadOnlyChain> {
    let url = parse_rpc_url(rpc_url, origin)?;
    let shown = shown_url(&url);
    let provider = ProviderBuilder::new().connect_http(url.clone()).erased();
    let chain_id = fetch_chain_id(&provider, &url).await?;
    Ok(ReadOnlyChain { provider, chain_id, shown, url })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn redaction_keeps_the_host_and_hides_keys() {
        let url: Url = "https://user:pw@rpc.example.org:8443/v3/KEY123?token=T0K".parse().unwrap();
        let error = format!("error sending request for url ({url}): timed out; path /v3/KEY123");
        let redacted = redact_url(&error, &url);
        assert!(redacted.contains("https://rpc.example.org:8443"), "{redacted}");
        for secret in ["KEY123", "T0K", "user", "pw@"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        let plain: Url = "http://127.0.0.1:8545".parse().unwrap();
        assert_eq!(redact_url("at http://127.0.0.1:8545/", &plain), "at http://127.0.0.1:8545");
    }
}
