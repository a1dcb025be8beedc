//! EigenLayer's slashing-era core (v1.3.0) on any chain.
//!
//! [`deploy_eigenlayer`] follows the order the contracts force (see
//! `EIGENLAYER.md` in the shared notes): the core contracts take each other's
//! addresses as constructor immutables, so the proxies come first.
//!
//! | round | transactions |
//! |---|---|
//! | 1 | `PauserRegistry`, `EmptyContract`, `MockERC20`, `PermissionController` implementation |
//! | 2 | one [`EigenLayerProxy`] per core contract, pointing at `EmptyContract` |
//! | 3 | the other five implementations, built with the proxy addresses; the [`DevnetStrategy`] |
//! | 4 | `ProxyAdmin.upgradeAndCall` for each proxy, with `initialize` (none for `PermissionController`) |
//! | 5 | `StrategyManager.addStrategiesToDepositWhitelist([strategy])` |
//!
//! Transactions of one round do not depend on each other: they are simulated
//! together, sent back to back (in nonce order, without waiting for each to
//! be mined) and their receipts awaited together; a round starts once the
//! previous one is mined. The deployer owns everything: every proxy's
//! `ProxyAdmin`, the core contracts, the pauser and unpauser roles, the
//! strategy whitelist.
//!
//! ETH restaking is not set up: the EigenPodManager exists (the
//! DelegationManager calls it when an operator registers) but its beacon
//! chain deposit contract and pod beacon are the `EmptyContract`.
//!
//! [`EigenLayerProxy`]: crate::contracts::EigenLayerProxy
//! [`DevnetStrategy`]: crate::contracts::DevnetStrategy

pub mod operator;

use std::time::Duration;

use alloy::{
    primitives::{Address, B256, Bytes, U256, b256},
    providers::Provider,
    sol_types::SolCall,
};
use eigen_utils::slashing::{
    core::{
        allocation_manager::AllocationManager, avs_directory::AVSDirectory,
        delegation_manager::DelegationManager, eigen_pod_manager::EigenPodManager,
        permission_controller::PermissionController, strategy_manager::StrategyManager,
    },
    sdk::mock_erc20::MockERC20,
};
use serde::{Deserialize, Serialize};

pub use eigen_utils::slashing::core::allocation_manager::AllocationManager::OperatorSet;

use crate::{
    DeployError, TxRecord,
    contracts::{DevnetStrategy, EigenLayerProxy, EmptyContract, PauserRegistry, ProxyAdmin},
    tx,
};

/// ERC-1967 implementation slot: `keccak256("eip1967.proxy.implementation") - 1`.
pub const IMPLEMENTATION_SLOT: B256 =
    b256!("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc");
/// ERC-1967 admin slot: `keccak256("eip1967.proxy.admin") - 1`.
pub const ADMIN_SLOT: B256 =
    b256!("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103");

/// Addresses of a deployed EigenLayer core, as written into the deployment
/// JSON (camelCase keys). The six core addresses are proxies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EigenLayerDeployment {
    /// `AllocationManager` proxy: operator sets, allocations, slashing.
    pub allocation_manager: Address,
    /// `DelegationManager` proxy: operators, delegation, shares.
    pub delegation_manager: Address,
    /// `StrategyManager` proxy: deposits into strategies.
    pub strategy_manager: Address,
    /// `AVSDirectory` proxy (pre-slashing registration; unused by Chorus).
    pub avs_directory: Address,
    /// `PermissionController` proxy: appointees acting for an AVS/operator.
    pub permission_controller: Address,
    /// `EigenPodManager` proxy (ETH restaking not configured).
    pub eigen_pod_manager: Address,
    /// The `PauserRegistry`.
    pub pauser_registry: Address,
    /// The restaking token (`MockERC20`: anyone may mint).
    pub token: Address,
    /// The [`DevnetStrategy`] over `token`.
    pub strategy: Address,
    /// Owner of the core contracts, of every `ProxyAdmin`, pauser, unpauser
    /// and strategy whitelister: the deployer.
    pub owner: Address,
    /// The implementations behind the proxies.
    pub implementations: EigenLayerImplementations,
}

/// Implementation contracts behind the proxies of an [`EigenLayerDeployment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EigenLayerImplementations {
    /// `AllocationManager` implementation.
    pub allocation_manager: Address,
    /// `DelegationManager` implementation.
    pub delegation_manager: Address,
    /// `StrategyManager` implementation.
    pub strategy_manager: Address,
    /// `AVSDirectory` implementation.
    pub avs_directory: Address,
    /// `PermissionController` implementation.
    pub permission_controller: Address,
    /// `EigenPodManager` implementation.
    pub eigen_pod_manager: Address,
    /// The `EmptyContract` every proxy pointed at first.
    pub empty_contract: Address,
}

impl EigenLayerDeployment {
    /// `(name, proxy, implementation)` for the six core contracts.
    pub fn proxies(&self) -> [(&'static str, Address, Address); 6] {
        let i = &self.implementations;
        [
            ("AllocationManager", self.allocation_manager, i.allocation_manager),
            ("DelegationManager", self.delegation_manager, i.delegation_manager),
            ("StrategyManager", self.strategy_manager, i.strategy_manager),
            ("AVSDirectory", self.avs_directory, i.avs_directory),
            ("PermissionController", self.permission_controller, i.permission_controller),
            ("EigenPodManager", self.eigen_pod_manager, i.eigen_pod_manager),
        ]
    }
}

/// Parameters of the core contracts. [`Default`] is for devnets: short
/// delays, in blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EigenLayerConfig {
    /// Version string baked into every implementation (at most 31 bytes).
    pub version: String,
    /// `DelegationManager.MIN_WITHDRAWAL_DELAY`: blocks before a queued
    /// withdrawal completes (and during which it stays slashable).
    pub min_withdrawal_delay: u32,
    /// `AllocationManager.DEALLOCATION_DELAY`: blocks before a deallocation
    /// takes effect (and during which it stays slashable).
    pub deallocation_delay: u32,
    /// `AllocationManager.ALLOCATION_CONFIGURATION_DELAY`: an operator's
    /// allocation delay is usable after this many blocks + 1.
    pub allocation_configuration_delay: u32,
}

impl Default for EigenLayerConfig {
    fn default() -> Self {
        Self {
            version: "v1.3.0".to_owned(),
            min_withdrawal_delay: 5,
            deallocation_delay: 5,
            allocation_configuration_delay: 1,
        }
    }
}

impl EigenLayerConfig {
    fn validate(&self) -> Result<(), DeployError> {
        // OpenZeppelin ShortStrings: longer reverts `StringTooLong` in every constructor.
        if self.version.is_empty() || self.version.len() > 31 {
            return Err(DeployError::Config(format!(
                "version {:?} must be 1 to 31 bytes",
                self.version
            )));
        }
        Ok(())
    }
}

/// A finished deployment and what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployOutput {
    /// The addresses.
    pub deployment: EigenLayerDeployment,
    /// Every transaction, in round order.
    pub transactions: Vec<TxRecord>,
}

impl DeployOutput {
    /// Gas used by all transactions.
    pub fn total_gas(&self) -> u64 {
        self.transactions.iter().map(|t| t.gas_used).sum()
    }
}

/// Deploys EigenLayer core with the devnet [`EigenLayerConfig::default`],
/// `deployer` owning everything. `provider` must sign for `deployer` and
/// number nonces itself (alloy's default fillers do, with a nonce cache),
/// since a round's transactions are sent before the previous ones are mined.
pub async fn deploy_eigenlayer<P: Provider>(
    provider: &P,
    deployer: Address,
) -> Result<EigenLayerDeployment, DeployError> {
    Ok(deploy_eigenlayer_with(provider, deployer, &EigenLayerConfig::default()).await?.deployment)
}

/// [`deploy_eigenlayer`] with explicit parameters, returning every
/// transaction too (for gas accounting).
pub async fn deploy_eigenlayer_with<P: Provider>(
    provider: &P,
    deployer: Address,
    config: &EigenLayerConfig,
) -> Result<DeployOutput, DeployError> {
    config.validate()?;
    let version = config.version.clone();
    let from = deployer;

    // Round 1: contracts that need no address.
    let round = tx::send_round(
        provider,
        vec![
            tx::plan(
                "deploy PauserRegistry",
                from,
                PauserRegistry::deploy_builder(provider, vec![deployer], deployer),
            ),
            tx::plan("deploy EmptyContract", from, EmptyContract::deploy_builder(provider)),
            tx::plan("deploy MockERC20 token", from, MockERC20::deploy_builder(provider)),
            tx::plan(
                "deploy PermissionController implementation",
                from,
                PermissionController::deploy_builder(provider, version.clone()),
            ),
        ],
    )
    .await?;
    let [pauser_registry, empty, token, pc_impl] = created(&round)?;
    let mut transactions = round;

    // Round 2: the proxies, all pointing at the empty contract.
    let proxy = |step| {
        tx::plan(
            step,
            from,
            EigenLayerProxy::deploy_builder(provider, empty, deployer, Bytes::new()),
        )
    };
    let round = tx::send_round(
        provider,
        vec![
            proxy("deploy AllocationManager proxy"),
            proxy("deploy DelegationManager proxy"),
            proxy("deploy StrategyManager proxy"),
            proxy("deploy AVSDirectory proxy"),
            proxy("deploy PermissionController proxy"),
            proxy("deploy EigenPodManager proxy"),
        ],
    )
    .await?;
    let [am, dm, sm, avsd, pc, epm] = created(&round)?;
    transactions.extend(round);

    // Round 3: implementations that know the proxies; the strategy.
    let round = tx::send_round(
        provider,
        vec![
            tx::plan(
                "deploy AllocationManager implementation",
                from,
                AllocationManager::deploy_builder(
                    provider,
                    dm,
                    pauser_registry,
                    pc,
                    config.deallocation_delay,
                    config.allocation_configuration_delay,
                    version.clone(),
                ),
            ),
            tx::plan(
                "deploy DelegationManager implementation",
                from,
                DelegationManager::deploy_builder(
                    provider,
                    sm,
                    epm,
                    am,
                    pauser_registry,
                    pc,
                    config.min_withdrawal_delay,
                    version.clone(),
                ),
            ),
            tx::plan(
                "deploy StrategyManager implementation",
                from,
                StrategyManager::deploy_builder(provider, dm, pauser_registry, version.clone()),
            ),
            tx::plan(
                "deploy AVSDirectory implementation",
                from,
                AVSDirectory::deploy_builder(provider, dm, pauser_registry, version.clone()),
            ),
            tx::plan(
                "deploy EigenPodManager implementation",
                from,
                // No ETH restaking: deposit contract and pod beacon are the empty contract.
                EigenPodManager::deploy_builder(
                    provider,
                    empty,
                    empty,
                    dm,
                    pauser_registry,
                    version.clone(),
                ),
            ),
            tx::plan(
                "deploy DevnetStrategy",
                from,
                DevnetStrategy::deploy_builder(provider, sm, token),
            ),
        ],
    )
    .await?;
    let [am_impl, dm_impl, sm_impl, avsd_impl, epm_impl, strategy] = created(&round)?;
    transactions.extend(round);

    // Round 4: upgrade each proxy through its own ProxyAdmin, and initialise.
    let unpaused = U256::ZERO;
    let upgrade = |step, proxy: Address, implementation, data: Vec<u8>| {
        let admin = ProxyAdmin::new(proxy_admin_address(proxy), provider);
        tx::plan(step, from, admin.upgradeAndCall(proxy, implementation, data.into()))
    };
    let round = tx::send_round(
        provider,
        vec![
            upgrade(
                "upgrade and initialize AllocationManager",
                am,
                am_impl,
                AllocationManager::initializeCall {
                    initialOwner: deployer,
                    initialPausedStatus: unpaused,
                }
                .abi_encode(),
            ),
            upgrade(
                "upgrade and initialize DelegationManager",
                dm,
                dm_impl,
                DelegationManager::initializeCall {
                    initialOwner: deployer,
                    initialPausedStatus: unpaused,
                }
                .abi_encode(),
            ),
            upgrade(
                "upgrade and initialize StrategyManager",
                sm,
                sm_impl,
                StrategyManager::initializeCall {
                    initialOwner: deployer,
                    initialStrategyWhitelister: deployer,
                    initialPausedStatus: unpaused,
                }
                .abi_encode(),
            ),
            upgrade(
                "upgrade and initialize AVSDirectory",
                avsd,
                avsd_impl,
                AVSDirectory::initializeCall {
                    initialOwner: deployer,
                    initialPausedStatus: unpaused,
                }
                .abi_encode(),
            ),
            upgrade(
                "upgrade and initialize EigenPodManager",
                epm,
                epm_impl,
                EigenPodManager::initializeCall {
                    initialOwner: deployer,
                    _initPausedStatus: unpaused,
                }
                .abi_encode(),
            ),
            // PermissionController has no initializer.
            upgrade("upgrade PermissionController", pc, pc_impl, Vec::new()),
        ],
    )
    .await?;
    transactions.extend(round);

    // Round 5: let stakers deposit into the strategy.
    let strategy_manager = StrategyManager::new(sm, provider);
    let whitelist = strategy_manager.addStrategiesToDepositWhitelist(vec![strategy]);
    transactions.push(tx::send("whitelist DevnetStrategy for deposits", from, whitelist).await?);

    let deployment = EigenLayerDeployment {
        allocation_manager: am,
        delegation_manager: dm,
        strategy_manager: sm,
        avs_directory: avsd,
        permission_controller: pc,
        eigen_pod_manager: epm,
        pauser_registry,
        token,
        strategy,
        owner: deployer,
        implementations: EigenLayerImplementations {
            allocation_manager: am_impl,
            delegation_manager: dm_impl,
            strategy_manager: sm_impl,
            avs_directory: avsd_impl,
            permission_controller: pc_impl,
            eigen_pod_manager: epm_impl,
            empty_contract: empty,
        },
    };
    Ok(DeployOutput { deployment, transactions })
}

/// The contracts a round created, in order.
fn created<const N: usize>(round: &[TxRecord]) -> Result<[Address; N], DeployError> {
    let mut addresses = [Address::ZERO; N];
    for (address, record) in addresses.iter_mut().zip(round) {
        *address = record.created()?;
    }
    Ok(addresses)
}

/// The `ProxyAdmin` an OpenZeppelin 5 transparent proxy creates in its
/// constructor: its first `CREATE`, at nonce 1. [`read_proxy`] reads the
/// same address from the ERC-1967 admin slot.
pub fn proxy_admin_address(proxy: Address) -> Address {
    proxy.create(1)
}

/// The ERC-1967 slots of a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxySlots {
    /// The implementation.
    pub implementation: Address,
    /// The admin (a `ProxyAdmin` contract).
    pub admin: Address,
}

/// Reads a proxy's ERC-1967 implementation and admin slots.
pub async fn read_proxy<P: Provider>(
    provider: &P,
    proxy: Address,
) -> Result<ProxySlots, DeployError> {
    const STEP: &str = "read ERC-1967 slots";
    let (implementation, admin) = tokio::try_join!(
        provider.get_storage_at(proxy, IMPLEMENTATION_SLOT.into()),
        provider.get_storage_at(proxy, ADMIN_SLOT.into()),
    )
    .map_err(|e| DeployError::rpc(STEP, e))?;
    let address = |word: U256| Address::from_word(word.into());
    Ok(ProxySlots { implementation: address(implementation), admin: address(admin) })
}

/// Checks a deployment on chain: every proxy points at its recorded
/// implementation and is initialised with `deployment.owner` as owner, and
/// the strategy is whitelisted. Use it before reusing a deployment file.
pub async fn verify_deployment<P: Provider>(
    provider: &P,
    deployment: &EigenLayerDeployment,
) -> Result<(), DeployError> {
    for (_, proxy, expected) in deployment.proxies() {
        let slots = read_proxy(provider, proxy).await?;
        if slots.implementation != expected {
            return Err(DeployError::WrongImplementation {
                proxy,
                found: slots.implementation,
                expected,
            });
        }
    }
    let owner = |step: &'static str, found: Result<Address, alloy::contract::Error>| {
        let found = found.map_err(|e| DeployError::from_contract_error(step, e))?;
        if found == deployment.owner {
            Ok(())
        } else {
            Err(DeployError::Precondition {
                step,
                reason: format!(
                    "owner is {found}, expected {} (not initialised?)",
                    deployment.owner
                ),
            })
        }
    };
    let d = deployment;
    let sm = StrategyManager::new(d.strategy_manager, provider);
    let (am, dm, sm_owner, avsd, epm, whitelisted) = tokio::join!(
        async { AllocationManager::new(d.allocation_manager, provider).owner().call().await },
        async { DelegationManager::new(d.delegation_manager, provider).owner().call().await },
        async { sm.owner().call().await },
        async { AVSDirectory::new(d.avs_directory, provider).owner().call().await },
        async { EigenPodManager::new(d.eigen_pod_manager, provider).owner().call().await },
        async { sm.strategyIsWhitelistedForDeposit(d.strategy).call().await },
    );
    owner("check AllocationManager owner", am)?;
    owner("check DelegationManager owner", dm)?;
    owner("check StrategyManager owner", sm_owner)?;
    owner("check AVSDirectory owner", avsd)?;
    owner("check EigenPodManager owner", epm)?;
    const STEP: &str = "check strategy whitelist";
    if !whitelisted.map_err(|e| DeployError::from_contract_error(STEP, e))? {
        return Err(DeployError::Precondition {
            step: STEP,
            reason: format!("strategy {} is not whitelisted for deposits", d.strategy),
        });
    }
    Ok(())
}

/// How to wait for blocks (allocation delay, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long.
    pub timeout: Duration,
    /// How often to re-check the chain while waiting for blocks to come.
    pub poll_interval: Duration,
    /// Mine the missing blocks with `anvil_mine` instead of waiting for them.
    /// Only for chains that support it (anvil, hardhat); on an automining
    /// anvil nothing else would produce blocks.
    pub mine: bool,
}

impl WaitOptions {
    /// For a local anvil: mine what is needed, give up after 10 seconds.
    pub const fn anvil() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(50),
            mine: true,
        }
    }

    /// For a chain producing its own blocks: poll every `poll_interval`.
    pub const fn chain(timeout: Duration, poll_interval: Duration) -> Self {
        Self { timeout, poll_interval, mine: false }
    }
}
