//! Alloy bindings of the devnet support contracts in
//! `contracts/src/eigenlayer/`, generated from the committed artifacts in
//! `contracts/bindings/artifacts/` (refresh them with `forge build` and
//! `contracts/bindings/update-artifacts`).
//!
//! - [`EmptyContract`]: the first implementation behind every proxy.
//! - [`PauserRegistry`]: `isPauser`/`unpauser` for EigenLayer's `Pausable`.
//! - [`EigenLayerProxy`]: OpenZeppelin 5.5.0's `TransparentUpgradeableProxy`;
//!   upgrades go through its own [`ProxyAdmin`].
//! - [`DevnetStrategy`]: an `IStrategy` over one ERC-20 (`StrategyBase`
//!   share pricing, no proxy, no pausing).
//! - [`DevnetAVSRegistrar`]: an AVS registrar that admits every operator, so
//!   a plain account can act as an AVS in tests.

#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc, all_derives)]
    EmptyContract,
    "../bindings/artifacts/EmptyContract.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    PauserRegistry,
    "../bindings/artifacts/PauserRegistry.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    EigenLayerProxy,
    "../bindings/artifacts/EigenLayerProxy.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    DevnetStrategy,
    "../bindings/artifacts/DevnetStrategy.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    DevnetAVSRegistrar,
    "../bindings/artifacts/DevnetAVSRegistrar.json"
);

alloy::sol! {
    /// OpenZeppelin 5.5.0's `ProxyAdmin`, which each [`EigenLayerProxy`]
    /// deploys for itself (`contracts/src` has no artifact of it).
    #[sol(rpc, all_derives)]
    interface ProxyAdmin {
        error OwnableUnauthorizedAccount(address account);
        error OwnableInvalidOwner(address owner);

        function UPGRADE_INTERFACE_VERSION() external view returns (string memory);
        function owner() external view returns (address);
        function upgradeAndCall(address proxy, address implementation, bytes memory data) external payable;
        function transferOwnership(address newOwner) external;
    }
}
