// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.27;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

/// @title OpenZeppelin's transparent proxy, as a deployable artifact of this project.
/// @notice Unchanged OpenZeppelin 5.5.0 behaviour: the constructor deploys a
///         `ProxyAdmin` owned by `initialOwner`, whose address is in the
///         ERC-1967 admin slot (and, being the proxy's first CREATE, is
///         `address(proxy).create(nonce 1)`). Upgrades go through that
///         admin's `upgradeAndCall`.
/// @dev OpenZeppelin 5.6 reverts `ERC1967ProxyUninitialized()` on empty
///      `data`; the toolchain pins 5.5.0, where empty data is fine.
contract EigenLayerProxy is TransparentUpgradeableProxy {
    /// @param logic First implementation (must have code).
    /// @param initialOwner Owner of the proxy's own `ProxyAdmin`.
    /// @param data Call delegated to `logic` on construction; may be empty.
    constructor(address logic, address initialOwner, bytes memory data)
        payable
        TransparentUpgradeableProxy(logic, initialOwner, data)
    {}
}
