//! The devnet's chains: anvil processes that are always reaped, the switch
//! from automining to interval mining, and the traffic that keeps each L2's
//! state root moving.

use std::{
    fs::File,
    io,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use chorus_deploy::anvil::{Anvil, AnvilInstance, spawn_anvil_with};

use crate::DevnetError;

/// An anvil process that is killed *and reaped* when dropped.
///
/// alloy's [`AnvilInstance`] sends SIGTERM on drop but never waits, which
/// leaves a zombie for as long as this process lives; here the child is
/// killed and waited for first, so nothing is left behind.
#[derive(Debug)]
pub(crate) struct ManagedAnvil {
    instance: Option<AnvilInstance>,
    endpoint: String,
}

impl ManagedAnvil {
    /// Starts anvil configured by `configure`, its stdout copied to `log`.
    pub(crate) fn spawn(
        chain: &str,
        log: &Path,
        configure: impl FnOnce(Anvil) -> Anvil,
    ) -> Result<Self, DevnetError> {
        let file = File::create(log).map_err(|source| DevnetError::io("create", log, source))?;
        let mut instance = spawn_anvil_with(|anvil| configure(anvil).keep_stdout())
            .map_err(|source| DevnetError::Anvil { chain: chain.to_owned(), source })?;
        // anvil logs every request on stdout: drain it into the log file, or
        // the pipe fills and anvil stalls. The thread ends when anvil does.
        if let Some(stdout) = instance.child_mut().stdout.take() {
            copy_in_background(stdout, file);
        }
        let endpoint = instance.endpoint();
        Ok(Self { instance: Some(instance), endpoint })
    }

    /// The HTTP endpoint.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The dev accounts' keys, in anvil's order.
    pub(crate) fn signers(&self) -> Vec<PrivateKeySigner> {
        self.instance
            .as_ref()
            .map(|instance| instance.keys().iter().map(|key| key.clone().into()).collect())
            .unwrap_or_default()
    }

    /// The process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.instance.as_ref().map(|instance| instance.child().id())
    }

    /// Kills anvil and waits for it to exit.
    pub(crate) fn kill_and_reap(&mut self) {
        if let Some(mut instance) = self.instance.take() {
            let child = instance.child_mut();
            if let Err(error) = child.kill() {
                tracing::debug!(%error, "anvil was already gone");
            }
            if let Err(error) = child.wait() {
                tracing::warn!(%error, "cannot reap anvil");
            }
            // Its own Drop now only signals an exited, reaped child: the
            // `kill` it runs fails harmlessly.
            drop(instance);
        }
    }
}

impl Drop for ManagedAnvil {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

fn copy_in_background(mut from: impl io::Read + Send + 'static, mut to: File) {
    std::thread::spawn(move || {
        // Errors end the copy: the log is for people, losing its tail is
        // better than stalling anything.
        let _ = io::copy(&mut from, &mut to);
    });
}

/// Starts the L1: automining (setup is fast), enough dev accounts.
pub(crate) fn spawn_l1(log: &Path, accounts: usize) -> Result<ManagedAnvil, DevnetError> {
    let accounts = accounts.to_string();
    ManagedAnvil::spawn("the L1 (anvil)", log, |anvil| anvil.args(["--accounts", &accounts]))
}

/// Starts rollup `chain_id`'s L2: a block every `block_time`.
pub(crate) fn spawn_l2(
    chain_id: u64,
    block_time: Duration,
    log: &Path,
) -> Result<ManagedAnvil, DevnetError> {
    ManagedAnvil::spawn(&format!("rollup {chain_id} (anvil)"), log, |anvil| {
        anvil.chain_id(chain_id).block_time_f64(block_time.as_secs_f64())
    })
}

/// Switches an automining anvil to one block every `block_time`.
pub(crate) async fn set_interval_mining<P: Provider>(
    provider: &P,
    block_time: Duration,
) -> Result<(), DevnetError> {
    let seconds = block_time.as_secs();
    provider
        .raw_request::<_, serde_json::Value>("evm_setIntervalMining".into(), (seconds,))
        .await
        .map_err(|e| DevnetError::rpc("switching the L1 to interval mining", e))?;
    Ok(())
}

/// Whether the node at the other end is anvil (it then mines on request).
pub(crate) async fn is_anvil<P: Provider>(provider: &P) -> bool {
    provider
        .raw_request::<_, String>("web3_clientVersion".into(), ())
        .await
        .is_ok_and(|version| version.to_ascii_lowercase().contains("anvil"))
}

/// Sends a 1-wei transfer from `signer` to a fresh address every half block
/// on the L2 at `url`, until aborted: every block then changes the state
/// root (the sender's nonce and balance, a new account).
pub(crate) fn spawn_traffic(
    url: Url,
    signer: PrivateKeySigner,
    block_time: Duration,
) -> tokio::task::JoinHandle<()> {
    let from = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(block_time / 2);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut sent: u64 = 0;
        let mut warned = false;
        loop {
            ticks.tick().await;
            sent += 1;
            let to = traffic_recipient(sent);
            let transfer =
                TransactionRequest::default().with_from(from).with_to(to).with_value(U256::from(1));
            if let Err(error) = provider.send_transaction(transfer).await {
                // The L2 going away (shutdown) ends up here; say it once.
                if !warned {
                    tracing::debug!(%error, "L2 traffic: transfer not sent");
                    warned = true;
                }
            }
        }
    })
}

/// The `n`th traffic recipient: `0xc0ffee…` followed by `n`, never a
/// precompile (a transfer to one of those may revert).
fn traffic_recipient(n: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[..3].copy_from_slice(&[0xc0, 0xff, 0xee]);
    bytes[12..].copy_from_slice(&n.to_be_bytes());
    Address::from(bytes)
}

/// Where each chain's log goes.
pub(crate) fn log_path(logs: &Path, chain: &str) -> PathBuf {
    logs.join(format!("{chain}.log"))
}
