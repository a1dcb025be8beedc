// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {BLS12381} from "../../../src/bls/BLS12381.sol";
import {CheckpointLib} from "../../../src/CheckpointLib.sol";
import {Eip2537} from "../../../src/Eip2537.sol";

/// @notice A BLS12-381 signer for tests, on the EIP-2537 MSM precompiles:
///         keys in G2, signatures in G1, secret keys are plain scalars.
/// @dev Never use outside tests: secret keys are small integers in calldata.
library BlsSigner {
    /// @notice The G2 generator: the negation of `BLS12381.negatedG2Generator()`.
    function g2Generator() internal pure returns (bytes memory) {
        return BLS12381.g2Negate(BLS12381.negatedG2Generator());
    }

    /// @notice sk * G2 (G2MSM, one pair).
    function pubkey(uint256 sk) internal view returns (bytes memory) {
        return _msm(Eip2537.G2MSM, g2Generator(), sk, BLS12381.G2_LENGTH);
    }

    /// @notice sk * H (G1MSM, one pair): the signature over the message point H.
    function sign(uint256 sk, bytes memory messageG1) internal view returns (bytes memory) {
        return _msm(Eip2537.G1MSM, messageG1, sk, BLS12381.G1_LENGTH);
    }

    /// @notice The proof of possession: a signature under POP_DST over the compressed key.
    function pop(uint256 sk) internal view returns (bytes memory) {
        bytes memory compressed = BLS12381.compressG2(pubkey(sk));
        return sign(sk, BLS12381.hashToG1(compressed, BLS12381.POP_DST));
    }

    /// @notice The key's signature (SIGNATURE_DST) over `ChorusKeyRegistration{l1ChainId,
    ///         registry, operator}`: it binds the key to `operator` in that registry.
    function ownership(uint256 sk, uint256 l1ChainId, address registry, address operator)
        internal
        view
        returns (bytes memory)
    {
        return signMessage(sk, CheckpointLib.keyRegistrationMessage(l1ChainId, registry, operator));
    }

    /// @notice `data` for `IAVSRegistrar.registerOperator`:
    ///         abi.encode(pubkey, pop, ownership) for `operator` in `registry` on this chain.
    function registrationData(uint256 sk, address registry, address operator) internal view returns (bytes memory) {
        return abi.encode(pubkey(sk), pop(sk), ownership(sk, block.chainid, registry, operator));
    }

    /// @notice The G1 point a checkpoint message is signed as (SIGNATURE_DST).
    function messagePoint(bytes32 message) internal view returns (bytes memory) {
        return BLS12381.hashToG1(abi.encodePacked(message), BLS12381.SIGNATURE_DST);
    }

    /// @notice Signs a 32-byte checkpoint message.
    function signMessage(uint256 sk, bytes32 message) internal view returns (bytes memory) {
        return sign(sk, messagePoint(message));
    }

    /// @notice Sum of G1 points (G1ADD); infinity for none.
    function aggregate(bytes[] memory signatures) internal view returns (bytes memory sum) {
        sum = new bytes(BLS12381.G1_LENGTH);
        for (uint256 i = 0; i < signatures.length; ++i) {
            sum = BLS12381.g1Add(sum, signatures[i]);
        }
    }

    function _msm(address precompile, bytes memory point, uint256 scalar, uint256 outLength)
        private
        view
        returns (bytes memory out)
    {
        bool ok;
        (ok, out) = precompile.staticcall(bytes.concat(point, bytes32(scalar)));
        require(ok && out.length == outLength, "BlsSigner: MSM failed");
    }
}
