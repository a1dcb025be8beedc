// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.27;

/// @title The first implementation behind each EigenLayer core proxy.
/// @notice EigenLayer's core contracts take each other's addresses as
///         immutables, so their proxies must exist before the
///         implementations can be constructed. Each proxy starts out
///         pointing here, then is upgraded to its real implementation.
///         ERC-1967 only accepts an implementation with code, and a contract
///         without functions would have an empty ABI, hence the one function.
/// @dev Also serves as the stand-in for the beacon-chain deposit contract and
///      EigenPod beacon on a devnet without ETH restaking: any call to them
///      reverts.
contract EmptyContract {
    /// @notice Marks this contract; always true.
    function isEmptyContract() external pure returns (bool) {
        return true;
    }
}
