// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @notice Merkle trees of the shape `CheckpointLib.merkleRoot` builds, written
///         independently: leaves in order, adjacent pairs hashed sorted (OZ
///         `Hashes.commutativeKeccak256`), an odd last node carried up unchanged.
///         Proofs verify with OZ `MerkleProof` (a carried node adds no sibling).
library MerkleBuilder {
    /// @notice The root; zero for no leaves. Does not modify `leaves`.
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        bytes32[] memory level = _copy(leaves);
        uint256 width = level.length;
        while (width > 1) {
            (level, width) = _up(level, width);
        }
        return level[0];
    }

    /// @notice The sibling path of `leaves[index]`, bottom up.
    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory path) {
        require(index < leaves.length, "MerkleBuilder: index out of range");
        bytes32[] memory level = _copy(leaves);
        uint256 width = level.length;
        path = new bytes32[](256);
        uint256 depth = 0;
        while (width > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < width) path[depth++] = level[sibling];
            (level, width) = _up(level, width);
            index >>= 1;
        }
        assembly ("memory-safe") {
            mstore(path, depth)
        }
    }

    /// @notice One level up, in place: returns the same array and the new width.
    function _up(bytes32[] memory level, uint256 width) private pure returns (bytes32[] memory, uint256) {
        uint256 next = 0;
        for (uint256 i = 0; i < width; i += 2) {
            level[next++] = i + 1 < width ? Hashes.commutativeKeccak256(level[i], level[i + 1]) : level[i];
        }
        return (level, next);
    }

    function _copy(bytes32[] memory leaves) private pure returns (bytes32[] memory copy) {
        copy = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            copy[i] = leaves[i];
        }
    }
}
