// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

/// @title EIP-2537 precompile addresses
/// @notice The BLS12-381 precompiles available from the Prague hard fork on.
/// @dev Encodings (EIP-2537): a base-field element is 64 bytes (16 zero bytes,
///      then the 48-byte big-endian value); a G1 point is 128 bytes (x, y); a
///      G2 point is 256 bytes (x.c0, x.c1, y.c0, y.c1); the point at infinity
///      is all zeros. A failing call consumes all gas forwarded to it.
library Eip2537 {
    /// @notice G1 addition: 256 bytes (two G1 points) in, one G1 point out. No subgroup check.
    address internal constant G1ADD = address(0x0b);
    /// @notice G1 multi-scalar multiplication: k * (G1 point, 32-byte scalar) in, one G1 point out.
    address internal constant G1MSM = address(0x0c);
    /// @notice G2 addition: 512 bytes (two G2 points) in, one G2 point out. No subgroup check.
    address internal constant G2ADD = address(0x0d);
    /// @notice G2 multi-scalar multiplication: k * (G2 point, 32-byte scalar) in, one G2 point out.
    address internal constant G2MSM = address(0x0e);
    /// @notice Pairing check: k * (G1 point, G2 point) in; out is 32 bytes, 1 when the
    ///         product of the pairings is the identity, else 0. Points must be in their subgroups.
    address internal constant PAIRING_CHECK = address(0x0f);
    /// @notice Maps one base-field element (64 bytes) to a G1 point (SWU map, then cofactor clearing).
    address internal constant MAP_FP_TO_G1 = address(0x10);
    /// @notice Maps one Fp2 element (128 bytes) to a G2 point (SWU map, then cofactor clearing).
    address internal constant MAP_FP2_TO_G2 = address(0x11);
}
