//! Launching the project's pinned anvil, for tests and devnets.
//!
//! The binary is looked up in order: the `CHORUS_ANVIL` environment
//! variable, `<workspace>/toolchain/node_modules/.bin/anvil` (installed by
//! `toolchain/bootstrap`; the workspace path is fixed at compile time), then
//! `PATH`. anvil listens on a free port chosen by the OS and is killed when
//! the returned [`AnvilInstance`] is dropped. anvil 1.7 runs the latest
//! hardfork by default (Osaka: EIP-2537 BLS12-381 precompiles, EIP-7825's
//! 2^24 per-transaction gas cap) and automines.

use std::path::{Path, PathBuf};

pub use alloy::node_bindings::{Anvil, AnvilInstance};

/// Environment variable that overrides the anvil binary.
pub const ANVIL_ENV: &str = "CHORUS_ANVIL";

/// Why anvil could not be started.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// `CHORUS_ANVIL` names a file that does not exist.
    #[error("{ANVIL_ENV}={0} does not exist")]
    EnvNotFound(PathBuf),
    /// No anvil anywhere.
    #[error(
        "anvil not found (looked for {toolchain} and on PATH): run toolchain/bootstrap, or set {ANVIL_ENV}"
    )]
    NotFound {
        /// Where the pinned toolchain's anvil should be.
        toolchain: PathBuf,
    },
    /// anvil started but failed (or did not print its address in time).
    #[error("failed to start {path}: {source}")]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// The error.
        #[source]
        source: alloy::node_bindings::NodeError,
    },
}

/// Where the pinned toolchain installs anvil.
pub fn toolchain_anvil() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../toolchain/node_modules/.bin/anvil")
}

/// Finds the anvil binary (see the [module docs](self) for the order).
pub fn anvil_path() -> Result<PathBuf, AnvilError> {
    if let Some(path) = std::env::var_os(ANVIL_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(AnvilError::EnvNotFound(path)) };
    }
    let toolchain = toolchain_anvil();
    if toolchain.is_file() {
        return Ok(toolchain);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths).map(|dir| dir.join("anvil")).find(|path| path.is_file())
        })
        .ok_or(AnvilError::NotFound { toolchain })
}

/// Starts anvil with its defaults (chain id 31337, ten funded accounts,
/// automine) on a free port.
pub fn spawn_anvil() -> Result<AnvilInstance, AnvilError> {
    spawn_anvil_with(|anvil| anvil)
}

/// Starts anvil configured by `configure` (block time, chain id, extra
/// arguments, ...), e.g. `spawn_anvil_with(|a| a.block_time(1))`.
pub fn spawn_anvil_with(
    configure: impl FnOnce(Anvil) -> Anvil,
) -> Result<AnvilInstance, AnvilError> {
    let path = anvil_path()?;
    configure(Anvil::at(&path)).try_spawn().map_err(|source| AnvilError::Spawn { path, source })
}

/// Mines `blocks` blocks at once (`anvil_mine`; anvil and hardhat only).
pub async fn mine<P: alloy::providers::Provider>(
    provider: &P,
    blocks: u64,
) -> Result<(), alloy::transports::TransportError> {
    use alloy::primitives::U64;
    provider
        .raw_request::<_, serde_json::Value>(
            "anvil_mine".into(),
            (Some(U64::from(blocks)), None::<U64>),
        )
        .await
        .map(drop)
}
