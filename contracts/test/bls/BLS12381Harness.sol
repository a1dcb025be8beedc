// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {BLS12381} from "../../src/bls/BLS12381.sol";

/// @notice Exposes the internal BLS12381 library as external calls, so that tests can
///         expect reverts and `forge test --gas-report` lists each function.
contract BLS12381Harness {
    /// @notice See `BLS12381.expandMessageXmd`.
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        external
        view
        returns (bytes memory)
    {
        return BLS12381.expandMessageXmd(message, dst, lenInBytes);
    }

    /// @notice See `BLS12381.hashToField`.
    function hashToField(bytes memory message, bytes memory dst) external view returns (bytes memory, bytes memory) {
        return BLS12381.hashToField(message, dst);
    }

    /// @notice See `BLS12381.hashToG1`.
    function hashToG1(bytes memory message, bytes memory dst) external view returns (bytes memory) {
        return BLS12381.hashToG1(message, dst);
    }

    /// @notice See `BLS12381.verifySignature`.
    function verifySignature(bytes memory pubkeyG2, bytes memory signatureG1, bytes memory messageG1)
        external
        view
        returns (bool)
    {
        return BLS12381.verifySignature(pubkeyG2, signatureG1, messageG1);
    }

    /// @notice See `BLS12381.verifyMessage`.
    function verifyMessage(bytes memory pubkeyG2, bytes memory signatureG1, bytes memory message)
        external
        view
        returns (bool)
    {
        return BLS12381.verifyMessage(pubkeyG2, signatureG1, message);
    }

    /// @notice See `BLS12381.verifyProofOfPossession`.
    function verifyProofOfPossession(bytes memory pubkeyG2, bytes memory popG1) external view returns (bool) {
        return BLS12381.verifyProofOfPossession(pubkeyG2, popG1);
    }

    /// @notice See `BLS12381.validateG1`.
    function validateG1(bytes memory point) external pure {
        BLS12381.validateG1(point);
    }

    /// @notice See `BLS12381.validateG2`.
    function validateG2(bytes memory point) external pure {
        BLS12381.validateG2(point);
    }

    /// @notice See `BLS12381.g1Add`.
    function g1Add(bytes memory a, bytes memory b) external view returns (bytes memory) {
        return BLS12381.g1Add(a, b);
    }

    /// @notice See `BLS12381.g2Add`.
    function g2Add(bytes memory a, bytes memory b) external view returns (bytes memory) {
        return BLS12381.g2Add(a, b);
    }

    /// @notice See `BLS12381.g1Negate`.
    function g1Negate(bytes memory point) external pure returns (bytes memory) {
        return BLS12381.g1Negate(point);
    }

    /// @notice See `BLS12381.g2Negate`.
    function g2Negate(bytes memory point) external pure returns (bytes memory) {
        return BLS12381.g2Negate(point);
    }

    /// @notice See `BLS12381.compressG2`.
    function compressG2(bytes memory point) external pure returns (bytes memory) {
        return BLS12381.compressG2(point);
    }
}
