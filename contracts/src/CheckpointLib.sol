// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Commitment} from "./interfaces/IChorus.sol";

/// @title Chorus protocol rules: leaf hashing, the signed message, Merkle roots.
/// @notice The Rust crate `chorus-contracts` implements the same rules and its
///         tests check both sides agree on a real chain.
library CheckpointLib {
    /// @notice EIP-712 type hash of `ChorusCheckpoint` (interfaces/IChorus.sol).
    bytes32 internal constant CHECKPOINT_TYPEHASH = keccak256(
        "ChorusCheckpoint(uint256 l1ChainId,address attestationContract,uint32 tableVersion,bytes32 commitmentsRoot)"
    );

    /// @notice EIP-712 type hash of `ChorusKeyRegistration` (interfaces/IChorus.sol).
    bytes32 internal constant KEY_REGISTRATION_TYPEHASH =
        keccak256("ChorusKeyRegistration(uint256 l1ChainId,address registry,address operator)");

    /// @notice Leaf of a checkpoint tree. Double hashing, as OpenZeppelin's
    ///         StandardMerkleTree, keeps a leaf from passing as an inner node.
    function leafHash(Commitment memory commitment) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(commitment))));
    }

    /// @notice Leaf of an operator table: the operator's key hash and weight.
    ///         Leaves are read by position (see TableLeaves), not through a
    ///         Merkle tree, so one hash suffices.
    function operatorLeaf(bytes32 pubkeyHash, uint256 weight) internal pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            mstore(0x00, pubkeyHash)
            mstore(0x20, weight)
            leaf := keccak256(0x00, 0x40)
        }
    }

    /// @notice `hashStruct(ChorusCheckpoint)`: the 32 bytes operators sign.
    function signedMessage(uint256 l1ChainId, address attestationContract, uint32 tableVersion, bytes32 root)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(CHECKPOINT_TYPEHASH, l1ChainId, attestationContract, tableVersion, root));
    }

    /// @notice `hashStruct(ChorusKeyRegistration)`: what a key signs to be
    ///         registered for `operator` in `registry`.
    function keyRegistrationMessage(uint256 l1ChainId, address registry, address operator)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(KEY_REGISTRATION_TYPEHASH, l1ChainId, registry, operator));
    }

    /// @notice Merkle root over `leaves` in order: adjacent pairs hash sorted
    ///         (OpenZeppelin `MerkleProof` convention), an odd last node moves
    ///         up unchanged. Overwrites `leaves`. Zero for no leaves.
    function merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 width = leaves.length;
        if (width == 0) return bytes32(0);
        while (width > 1) {
            uint256 next = 0;
            for (uint256 i = 0; i < width; i += 2) {
                leaves[next++] = i + 1 < width ? _hashPair(leaves[i], leaves[i + 1]) : leaves[i];
            }
            width = next;
        }
        return leaves[0];
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 hashed) {
        (bytes32 low, bytes32 high) = a < b ? (a, b) : (b, a);
        assembly ("memory-safe") {
            mstore(0x00, low)
            mstore(0x20, high)
            hashed := keccak256(0x00, 0x40)
        }
    }
}
