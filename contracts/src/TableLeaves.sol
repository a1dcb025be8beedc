// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

/// @title Operator-table leaves stored as contract code (the SSTORE2 pattern).
/// @notice A table version's leaves are written once, as the code of a fresh
///         contract, and read by position with EXTCODECOPY. Writing costs
///         200 gas a byte instead of 20,000 a slot; reading one leaf costs a
///         cold account access once per transaction and about 100 gas after,
///         which is what keeps a non-signer cheap in `submitCheckpoint`. The
///         code starts with a STOP byte, so calling the contract does nothing.
library TableLeaves {
    error LeavesNotStored();

    /// @notice Largest number of leaves one contract can hold: the EIP-170
    ///         limit of 24,576 bytes, less the STOP byte, in 32-byte leaves.
    uint256 internal constant MAX_LEAVES = 767;

    /// @notice Stores `leaves` and returns the contract that holds them.
    function write(bytes32[] memory leaves) internal returns (address store) {
        bytes memory code = abi.encodePacked(hex"00", leaves);
        // PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN:
        // returns the `len` bytes that follow this 10-byte prefix as the code.
        bytes memory creation = abi.encodePacked(hex"61", uint16(code.length), hex"80600a3d393df3", code);
        assembly ("memory-safe") {
            store := create(0, add(creation, 0x20), mload(creation))
        }
        if (store == address(0)) revert LeavesNotStored();
    }

    /// @notice The leaf at `index`; zero past the end (no real leaf is zero).
    ///         Indexes beyond any possible store read zero, so offsets cannot
    ///         wrap around to another leaf.
    function read(address store, uint256 index) internal view returns (bytes32 leaf) {
        if (index >= MAX_LEAVES) return bytes32(0);
        assembly ("memory-safe") {
            mstore(0x00, 0)
            extcodecopy(store, 0x00, add(1, mul(index, 0x20)), 0x20)
            leaf := mload(0x00)
        }
    }
}
