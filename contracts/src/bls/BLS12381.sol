// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Eip2537} from "../Eip2537.sol";

/// @title BLS12-381 signatures over the EIP-2537 precompiles
/// @notice Minimal-signature-size BLS (signatures in G1, public keys in G2) with the
///         proof-of-possession ciphersuite of draft-irtf-cfrg-bls-signature-05:
///         RFC 9380 hash-to-G1, signature and proof-of-possession verification, and
///         the point helpers the Chorus registry, attestation contract and slasher need.
/// @dev Encodings are EIP-2537's: a base-field element (Fp) is 64 bytes, 16 zero bytes then
///      the 48-byte big-endian value; G1 is `x || y` (128 bytes); G2 is
///      `x.c0 || x.c1 || y.c0 || y.c1` (256 bytes); the point at infinity is all zeros.
///
///      What is checked where:
///      - `validateG1` / `validateG2` (pure, cheap): length, zero padding, every coordinate
///        below p, not infinity. They do not check the curve or the subgroup.
///      - PAIRING_CHECK checks the curve and the subgroup of every input, and fails (here:
///        `PrecompileFailed`) otherwise. It accepts infinity, which would make a check pass,
///        so every verifier here refuses infinity first.
///      - G1ADD / G2ADD check the curve but NOT the subgroup, and accept infinity.
///
///      A failing precompile consumes all the gas forwarded to it. The calls here forward
///      all remaining gas (so a later repricing cannot break them), and the encoding checks
///      run first, so only a point off the curve or outside its subgroup, which no honest
///      party sends, reaches a failing precompile: 63/64 of the remaining gas is then spent
///      before `PrecompileFailed` reverts.
library BLS12381 {
    /// @notice A point has the wrong length, non-zero padding, or a coordinate not below p.
    error InvalidPointEncoding();
    /// @notice A point is the point at infinity, which is never a valid key, signature or message.
    error PointAtInfinity();
    /// @notice A precompile call failed: an input point is not on the curve or not in its
    ///         subgroup, the chain lacks the precompile (before Prague), or gas ran out.
    /// @param precompile The precompile that failed.
    error PrecompileFailed(address precompile);
    /// @notice expand_message_xmd was asked for more than 255 SHA-256 blocks (RFC 9380, 5.3.1).
    error ExpandLengthTooLarge();
    /// @notice A domain separation tag must not be empty (RFC 9380, 3.1).
    error EmptyDomainSeparationTag();

    /// @notice Signature DST: the PoP ciphersuite with signatures in G1
    ///         (draft-irtf-cfrg-bls-signature-05, 4.2.3).
    bytes internal constant SIGNATURE_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
    /// @notice Proof-of-possession DST (draft-irtf-cfrg-bls-signature-05, 4.2.3).
    bytes internal constant POP_DST = "BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

    /// @notice Bytes of a base-field element in EIP-2537.
    uint256 internal constant FP_LENGTH = 64;
    /// @notice Bytes of a G1 point in EIP-2537.
    uint256 internal constant G1_LENGTH = 128;
    /// @notice Bytes of a G2 point in EIP-2537.
    uint256 internal constant G2_LENGTH = 256;
    /// @notice Bytes of a ZCash-compressed G2 point (what a proof of possession signs).
    uint256 internal constant G2_COMPRESSED_LENGTH = 96;

    /// @notice The base-field modulus p, first 32 bytes of its 64-byte EIP-2537 encoding.
    uint256 internal constant P_HI = 0x000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd7;
    /// @notice The base-field modulus p, last 32 bytes of its 64-byte EIP-2537 encoding.
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// @dev (p - 1) / 2, high word: y is the "larger" root (ZCash sign bit) iff y > (p - 1) / 2.
    uint256 private constant HALF_P_HI = 0x000000000000000000000000000000000d0088f51cbff34d258dd3db21a5d66b;
    /// @dev (p - 1) / 2, low word.
    uint256 private constant HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// @notice -G2 (the negated G2 generator), x.c0 high word. x is the generator's own.
    uint256 internal constant NEG_G2_X_C0_HI = 0x00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051;
    /// @notice -G2, x.c0 low word.
    uint256 internal constant NEG_G2_X_C0_LO = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    /// @notice -G2, x.c1 high word.
    uint256 internal constant NEG_G2_X_C1_HI = 0x0000000000000000000000000000000013e02b6052719f607dacd3a088274f65;
    /// @notice -G2, x.c1 low word.
    uint256 internal constant NEG_G2_X_C1_LO = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    /// @notice -G2, y.c0 high word: p - y.c0 of the generator.
    uint256 internal constant NEG_G2_Y_C0_HI = 0x000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bc;
    /// @notice -G2, y.c0 low word.
    uint256 internal constant NEG_G2_Y_C0_LO = 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    /// @notice -G2, y.c1 high word: p - y.c1 of the generator.
    uint256 internal constant NEG_G2_Y_C1_HI = 0x0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d;
    /// @notice -G2, y.c1 low word.
    uint256 internal constant NEG_G2_Y_C1_LO = 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    /// @dev SHA-256 precompile, as a number for inline assembly.
    uint256 private constant SHA256_PRECOMPILE = 0x02;
    /// @dev MODEXP precompile (EIP-198); at least 500 gas per call from Osaka on (EIP-7883).
    address private constant MODEXP = address(0x05);
    /// @dev L of RFC 9380, 8.8.1 (BLS12381G1_XMD:SHA-256_SSWU_RO_): bytes hashed per field element,
    ///      ceil((ceil(log2(p)) + k) / 8) = ceil((381 + 128) / 8).
    uint256 private constant HASH_TO_FIELD_L = 64;
    /// @dev Bytes of the MODEXP input that reduces 64 bytes mod p: three 32-byte lengths,
    ///      the 64-byte base, the 1-byte exponent 1 and the 64-byte modulus.
    uint256 private constant MODEXP_INPUT_LENGTH = 96 + 64 + 1 + 64;
    /// @dev RFC 9380, 5.3.3: the prefix hashed with a DST longer than 255 bytes.
    bytes private constant OVERSIZE_DST_PREFIX = "H2C-OVERSIZE-DST-";

    // ---------------------------------------------------------------------------------
    // Hashing to G1 (RFC 9380)
    // ---------------------------------------------------------------------------------

    /// @notice expand_message_xmd with SHA-256 (RFC 9380, 5.3.1).
    /// @dev A DST longer than 255 bytes is first replaced by
    ///      SHA-256("H2C-OVERSIZE-DST-" || DST) (RFC 9380, 5.3.3).
    ///      Cost: one SHA-256 call over 64 + |msg| + |DST| + 4 bytes, then one per 32 output bytes.
    /// @param message The message, any length.
    /// @param dst The domain separation tag, not empty.
    /// @param lenInBytes The output length, at most 255 * 32 = 8160.
    /// @return uniform `lenInBytes` pseudo-random bytes.
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        internal
        view
        returns (bytes memory uniform)
    {
        if (dst.length == 0) revert EmptyDomainSeparationTag();
        if (dst.length > 255) dst = abi.encodePacked(sha256(bytes.concat(OVERSIZE_DST_PREFIX, dst)));
        // ell = ceil(len_in_bytes / b_in_bytes) <= 255 also bounds len_in_bytes below 65536.
        uint256 ell = (lenInBytes + 31) >> 5;
        if (ell > 255) revert ExpandLengthTooLarge();

        bool ok;
        assembly ("memory-safe") {
            // The output, allocated in whole 32-byte blocks: b_1 || ... || b_ell.
            uniform := mload(0x40)
            mstore(uniform, lenInBytes)
            let out := add(uniform, 0x20)
            mstore(0x40, add(out, shl(5, ell)))

            let dstLength := mload(dst)
            let messageLength := mload(message)
            // Scratch beyond the free memory pointer:
            // msg_prime = Z_pad (64 zero bytes) || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1)
            //             || DST || I2OSP(len(DST), 1)
            let buffer := mload(0x40)
            mstore(buffer, 0)
            mstore(add(buffer, 0x20), 0)
            mcopy(add(buffer, 0x40), add(message, 0x20), messageLength)
            let tail := add(add(buffer, 0x40), messageLength)
            // Two length bytes, then the zero byte: the rest of this word is zero.
            mstore(tail, shl(240, lenInBytes))
            mcopy(add(tail, 3), add(dst, 0x20), dstLength)
            mstore8(add(add(tail, 3), dstLength), dstLength)
            // b_0 = H(msg_prime), kept in scratch space.
            ok := staticcall(gas(), SHA256_PRECOMPILE, buffer, sub(add(add(tail, 4), dstLength), buffer), 0x00, 0x20)
            let b0 := mload(0x00)

            // b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime), with b_1 = H(b_0 || 1 || DST_prime)
            // (strxor(b_0, 0) = b_0). The DST_prime suffix is written once.
            mcopy(add(buffer, 0x21), add(dst, 0x20), dstLength)
            mstore8(add(add(buffer, 0x21), dstLength), dstLength)
            let blockInputLength := add(dstLength, 0x22)
            let previous := 0
            for { let i := 1 } iszero(gt(i, ell)) { i := add(i, 1) } {
                mstore(buffer, xor(b0, previous))
                mstore8(add(buffer, 0x20), i)
                let at := add(out, shl(5, sub(i, 1)))
                ok := and(ok, staticcall(gas(), SHA256_PRECOMPILE, buffer, blockInputLength, at, 0x20))
                previous := mload(at)
            }
            // uniform_bytes = the first len_in_bytes bytes; zero the rest of the last block
            // (this may write up to 31 zero bytes past the allocation, which is free memory).
            mstore(add(out, lenInBytes), 0)
        }
        if (!ok) revert PrecompileFailed(address(0x02)); // SHA256_PRECOMPILE
    }

    /// @notice hash_to_field for BLS12381G1_XMD:SHA-256_SSWU_RO_ (RFC 9380, 5.2, count = 2,
    ///         m = 1, L = 64): two base-field elements.
    /// @dev Each element is 64 expanded bytes reduced mod p by MODEXP (base^1 mod p).
    /// @param message The message.
    /// @param dst The domain separation tag.
    /// @return u0 u[0], 64 bytes in the EIP-2537 Fp encoding.
    /// @return u1 u[1], likewise.
    function hashToField(bytes memory message, bytes memory dst)
        internal
        view
        returns (bytes memory u0, bytes memory u1)
    {
        bytes memory uniform = expandMessageXmd(message, dst, 2 * HASH_TO_FIELD_L);
        u0 = new bytes(FP_LENGTH);
        u1 = new bytes(FP_LENGTH);
        uint256 from;
        uint256 to0;
        uint256 to1;
        assembly ("memory-safe") {
            from := add(uniform, 0x20)
            to0 := add(u0, 0x20)
            to1 := add(u1, 0x20)
        }
        _reduceModP(from, to0);
        _reduceModP(from + HASH_TO_FIELD_L, to1);
    }

    /// @notice hash_to_curve for BLS12381G1_XMD:SHA-256_SSWU_RO_ (RFC 9380, 3 and 8.8.1):
    ///         the point a signature over `message` is checked against.
    /// @dev u = hash_to_field(msg, 2); P = clear_cofactor(map_to_curve(u[0]) + map_to_curve(u[1])).
    ///      MAP_FP_TO_G1 clears the cofactor of each map_to_curve output; clearing is a group
    ///      homomorphism, so adding the cleared points equals clearing the sum.
    ///      Cost (Osaka): 2 x MODEXP (500) + 2 x MAP_FP_TO_G1 (5,500) + G1ADD (375) + SHA-256.
    /// @param message The message.
    /// @param dst The domain separation tag (`SIGNATURE_DST` or `POP_DST` for Chorus).
    /// @return point The G1 point, 128 bytes (EIP-2537).
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        bytes memory uniform = expandMessageXmd(message, dst, 2 * HASH_TO_FIELD_L);
        uint256 from;
        uint256 pair;
        uint256 out;
        assembly ("memory-safe") {
            from := add(uniform, 0x20)
            point := mload(0x40)
            mstore(point, G1_LENGTH)
            out := add(point, 0x20)
            // The G1ADD input (Q0 || Q1), allocated so that _reduceModP's scratch lies beyond it.
            pair := add(out, G1_LENGTH)
            mstore(0x40, add(pair, mul(2, G1_LENGTH)))
        }
        // u[i] lands in the first 64 bytes of its slot, and is mapped to Q_i in place.
        _reduceModP(from, pair);
        _call(Eip2537.MAP_FP_TO_G1, pair, FP_LENGTH, pair, G1_LENGTH);
        _reduceModP(from + HASH_TO_FIELD_L, pair + G1_LENGTH);
        _call(Eip2537.MAP_FP_TO_G1, pair + G1_LENGTH, FP_LENGTH, pair + G1_LENGTH, G1_LENGTH);
        _call(Eip2537.G1ADD, pair, 2 * G1_LENGTH, out, G1_LENGTH);
    }

    // ---------------------------------------------------------------------------------
    // Verification
    // ---------------------------------------------------------------------------------

    /// @notice Checks `signatureG1` by `pubkeyG2` over the already hashed message point:
    ///         e(signature, -G2) * e(messageG1, pubkey) == 1, one 2-pair PAIRING_CHECK.
    /// @dev Same-message aggregates verify the same way: pass the sum of the signers' keys
    ///      (PoP-checked at registration, see `g2Add`) and the sum of their signatures.
    ///      Cost (Osaka): 32,600 x 2 + 37,700 = 102,900 for the pairing, plus encoding checks.
    ///      Reverts `InvalidPointEncoding` / `PointAtInfinity` on a malformed or infinite input,
    ///      and `PrecompileFailed(PAIRING_CHECK)` for a point off its curve or subgroup.
    /// @param pubkeyG2 The public key (or aggregate key), 256 bytes.
    /// @param signatureG1 The signature (or aggregate signature), 128 bytes.
    /// @param messageG1 The message hashed to G1 (`hashToG1(message, SIGNATURE_DST)`), 128 bytes.
    /// @return True iff the signature is valid; false for a well-formed but wrong signature.
    function verifySignature(bytes memory pubkeyG2, bytes memory signatureG1, bytes memory messageG1)
        internal
        view
        returns (bool)
    {
        validateG2(pubkeyG2);
        validateG1(signatureG1);
        validateG1(messageG1);
        return _pairingCheck(signatureG1, messageG1, pubkeyG2);
    }

    /// @notice Checks `signatureG1` by `pubkeyG2` over `message`, hashed to G1 under
    ///         `SIGNATURE_DST`: `verifySignature` with the hash computed here.
    /// @param pubkeyG2 The public key (or aggregate key), 256 bytes.
    /// @param signatureG1 The signature (or aggregate signature), 128 bytes.
    /// @param message The signed message (for Chorus, the 32-byte checkpoint digest).
    /// @return True iff the signature is valid. Reverts as `verifySignature` does.
    function verifyMessage(bytes memory pubkeyG2, bytes memory signatureG1, bytes memory message)
        internal
        view
        returns (bool)
    {
        validateG2(pubkeyG2);
        validateG1(signatureG1);
        return _pairingCheck(signatureG1, hashToG1(message, SIGNATURE_DST), pubkeyG2);
    }

    /// @notice `verifyMessage` for an aggregate key known to be canonical: one the
    ///         precompiles built from registered keys, checked against a stored
    ///         digest. Skips only the key's encoding check (about 800 gas); the
    ///         pairing precompile still rejects points off the curve or subgroup,
    ///         and an infinity key cannot verify a non-infinity signature.
    function verifyMessageTrustedKey(bytes memory aggregateKeyG2, bytes memory signatureG1, bytes memory message)
        internal
        view
        returns (bool)
    {
        if (aggregateKeyG2.length != G2_LENGTH) revert InvalidPointEncoding();
        validateG1(signatureG1);
        return _pairingCheck(signatureG1, hashToG1(message, SIGNATURE_DST), aggregateKeyG2);
    }

    /// @notice Checks a proof of possession: a signature under `POP_DST` over the key's own
    ///         96-byte ZCash-compressed encoding (draft-irtf-cfrg-bls-signature-05, 3.3.3).
    /// @dev The compressed key is recomputed here (`compressG2`), since EIP-2537 has no
    ///      decompression. The pairing also proves that the key is on the curve and in G2.
    ///      A PoP does not bind who registers the key: anyone may copy a registered key and its
    ///      proof, so "one key, one operator" is for the caller to enforce.
    /// @param pubkeyG2 The public key, 256 bytes.
    /// @param popG1 The proof, 128 bytes.
    /// @return True iff the proof is valid. Reverts as `verifySignature` does.
    function verifyProofOfPossession(bytes memory pubkeyG2, bytes memory popG1) internal view returns (bool) {
        validateG2(pubkeyG2);
        validateG1(popG1);
        return _pairingCheck(popG1, hashToG1(_compressG2(pubkeyG2), POP_DST), pubkeyG2);
    }

    // ---------------------------------------------------------------------------------
    // Point helpers
    // ---------------------------------------------------------------------------------

    /// @notice Checks a G1 point's encoding: 128 bytes, both coordinates canonical (padding
    ///         zero, value below p), not the point at infinity.
    /// @dev Does NOT check the curve equation or the subgroup: PAIRING_CHECK does both.
    /// @param point The point.
    function validateG1(bytes memory point) internal pure {
        if (point.length != G1_LENGTH) revert InvalidPointEncoding();
        if (_checkFieldElements(point, 2)) revert PointAtInfinity();
    }

    /// @notice Checks a G2 point's encoding: 256 bytes, all four coordinates canonical,
    ///         not the point at infinity.
    /// @dev Does NOT check the curve equation or the subgroup: PAIRING_CHECK does both.
    /// @param point The point.
    function validateG2(bytes memory point) internal pure {
        if (point.length != G2_LENGTH) revert InvalidPointEncoding();
        if (_checkFieldElements(point, 4)) revert PointAtInfinity();
    }

    /// @notice Whether `point` is the EIP-2537 G1 point at infinity: 128 zero bytes.
    /// @param point The point.
    /// @return True iff it is 128 bytes long and all zero.
    function isG1Infinity(bytes memory point) internal pure returns (bool) {
        return point.length == G1_LENGTH && _isZero(point);
    }

    /// @notice Whether `point` is the EIP-2537 G2 point at infinity: 256 zero bytes.
    /// @param point The point.
    /// @return True iff it is 256 bytes long and all zero.
    function isG2Infinity(bytes memory point) internal pure returns (bool) {
        return point.length == G2_LENGTH && _isZero(point);
    }

    /// @notice a + b in G1 (G1ADD).
    /// @dev G1ADD checks the curve but not the subgroup; infinity is a valid operand and result.
    ///      Reverts `InvalidPointEncoding` on a wrong length, `PrecompileFailed(G1ADD)` on a
    ///      non-canonical coordinate or a point off the curve.
    /// @param a A G1 point, 128 bytes.
    /// @param b A G1 point, 128 bytes.
    /// @return sum The sum, 128 bytes.
    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        if (a.length != G1_LENGTH || b.length != G1_LENGTH) revert InvalidPointEncoding();
        sum = _add(Eip2537.G1ADD, a, b, G1_LENGTH);
    }

    /// @notice a + b in G2 (G2ADD): aggregates public keys, and with `g2Negate` removes one.
    /// @dev G2ADD checks the curve but not the subgroup; infinity is a valid operand and result
    ///      (keys that cancel out sum to infinity, which the verifiers refuse).
    ///      Reverts `InvalidPointEncoding` on a wrong length, `PrecompileFailed(G2ADD)` on a
    ///      non-canonical coordinate or a point off the curve.
    /// @param a A G2 point, 256 bytes.
    /// @param b A G2 point, 256 bytes.
    /// @return sum The sum, 256 bytes.
    function g2Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        if (a.length != G2_LENGTH || b.length != G2_LENGTH) revert InvalidPointEncoding();
        sum = _add(Eip2537.G2ADD, a, b, G2_LENGTH);
    }

    /// @notice -P in G1: y becomes p - y (0 stays 0, so infinity stays infinity).
    /// @dev Reverts `InvalidPointEncoding` unless the encoding is canonical (the arithmetic
    ///      needs y < p). Does not check the curve.
    /// @param point A G1 point, 128 bytes.
    /// @return negated -point, 128 bytes.
    function g1Negate(bytes memory point) internal pure returns (bytes memory negated) {
        if (point.length != G1_LENGTH) revert InvalidPointEncoding();
        _checkFieldElements(point, 2);
        negated = bytes.concat(point);
        _negateFieldElement(negated, 1);
    }

    /// @notice -P in G2: both limbs of y become p - limb (0 stays 0, so infinity stays infinity).
    /// @dev Reverts `InvalidPointEncoding` unless the encoding is canonical. Does not check the curve.
    /// @param point A G2 point, 256 bytes.
    /// @return negated -point, 256 bytes.
    function g2Negate(bytes memory point) internal pure returns (bytes memory negated) {
        if (point.length != G2_LENGTH) revert InvalidPointEncoding();
        _checkFieldElements(point, 4);
        negated = bytes.concat(point);
        _negateFieldElement(negated, 2);
        _negateFieldElement(negated, 3);
    }

    /// @notice `g2Negate` for a point known to be canonical (a registered key, or
    ///         a precompile's output): skips the encoding check.
    function g2NegateTrusted(bytes memory point) internal pure returns (bytes memory negated) {
        if (point.length != G2_LENGTH) revert InvalidPointEncoding();
        negated = bytes.concat(point);
        _negateFieldElement(negated, 2);
        _negateFieldElement(negated, 3);
    }

    /// @notice The 96-byte ZCash compressed encoding of a G2 point, as blst's
    ///         `PublicKey::to_bytes` writes it: x.c1 || x.c0 with flags in the top three bits
    ///         (0x80 compressed, 0x40 infinity, 0x20 when y is the larger of +-y, compared on
    ///         y.c1 first and on y.c0 when y.c1 is zero).
    /// @dev Reverts `InvalidPointEncoding` unless the encoding is canonical. Does not check the
    ///      curve: the sign bit of an off-curve "point" is meaningless.
    /// @param point A G2 point, 256 bytes.
    /// @return compressed 96 bytes.
    function compressG2(bytes memory point) internal pure returns (bytes memory compressed) {
        if (point.length != G2_LENGTH) revert InvalidPointEncoding();
        if (_checkFieldElements(point, 4)) {
            compressed = new bytes(G2_COMPRESSED_LENGTH);
            compressed[0] = bytes1(0xc0);
            return compressed;
        }
        return _compressG2(point);
    }

    /// @notice -G2, the negated generator the verifiers pair the signature with.
    /// @return point 256 bytes (EIP-2537).
    function negatedG2Generator() internal pure returns (bytes memory point) {
        point = new bytes(G2_LENGTH);
        uint256 to;
        assembly ("memory-safe") {
            to := add(point, 0x20)
        }
        _writeNegatedG2Generator(to);
    }

    // ---------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------

    /// @dev e(sig, -G2) * e(h, pk) == 1. Inputs must already have passed the encoding checks.
    /// @param signatureG1 The signature, 128 bytes.
    /// @param messageG1 The message point, 128 bytes.
    /// @param pubkeyG2 The key, 256 bytes.
    /// @return valid Whether the pairing product is the identity.
    function _pairingCheck(bytes memory signatureG1, bytes memory messageG1, bytes memory pubkeyG2)
        private
        view
        returns (bool valid)
    {
        uint256 input;
        assembly ("memory-safe") {
            // (sig, -G2) || (H(m), pk): 2 x (128 + 256) = 768 bytes of scratch.
            input := mload(0x40)
            mcopy(input, add(signatureG1, 0x20), G1_LENGTH)
            mcopy(add(input, add(G1_LENGTH, G2_LENGTH)), add(messageG1, 0x20), G1_LENGTH)
            mcopy(add(input, add(mul(2, G1_LENGTH), G2_LENGTH)), add(pubkeyG2, 0x20), G2_LENGTH)
        }
        _writeNegatedG2Generator(input + G1_LENGTH);
        // The output goes to scratch space 0x00..0x20.
        _call(Eip2537.PAIRING_CHECK, input, 2 * (G1_LENGTH + G2_LENGTH), 0, 32);
        assembly ("memory-safe") {
            valid := eq(mload(0x00), 1)
        }
    }

    /// @dev Writes the eight words of -G2 at memory address `to`.
    /// @param to Where the 256 bytes go.
    function _writeNegatedG2Generator(uint256 to) private pure {
        assembly ("memory-safe") {
            mstore(to, NEG_G2_X_C0_HI)
            mstore(add(to, 0x20), NEG_G2_X_C0_LO)
            mstore(add(to, 0x40), NEG_G2_X_C1_HI)
            mstore(add(to, 0x60), NEG_G2_X_C1_LO)
            mstore(add(to, 0x80), NEG_G2_Y_C0_HI)
            mstore(add(to, 0xa0), NEG_G2_Y_C0_LO)
            mstore(add(to, 0xc0), NEG_G2_Y_C1_HI)
            mstore(add(to, 0xe0), NEG_G2_Y_C1_LO)
        }
    }

    /// @dev Reduces the 64 big-endian bytes at `from` mod p into the 64 bytes at `to`
    ///      (RFC 9380, 5.2, step 6: e_j = OS2IP(tv) mod p) with MODEXP: from^1 mod p. The
    ///      result is below p < 2^384, so it is already an EIP-2537 Fp encoding.
    ///      Builds the MODEXP input in scratch memory beyond the free memory pointer.
    /// @param from Memory address of the 64 input bytes.
    /// @param to Memory address of the 64 output bytes.
    function _reduceModP(uint256 from, uint256 to) private view {
        uint256 input;
        assembly ("memory-safe") {
            input := mload(0x40)
            // Bsize, Esize, Msize; base; exponent 0x01; modulus.
            mstore(input, HASH_TO_FIELD_L)
            mstore(add(input, 0x20), 1)
            mstore(add(input, 0x40), FP_LENGTH)
            mcopy(add(input, 0x60), from, HASH_TO_FIELD_L)
            mstore8(add(input, 0xa0), 1)
            mstore(add(input, 0xa1), P_HI)
            mstore(add(input, 0xc1), P_LO)
        }
        _call(MODEXP, input, MODEXP_INPUT_LENGTH, to, FP_LENGTH);
    }

    /// @dev a + b through G1ADD or G2ADD, into a new `length`-byte array.
    /// @param precompile G1ADD or G2ADD.
    /// @param a The first point, `length` bytes.
    /// @param b The second point, `length` bytes.
    /// @param length Bytes of one point.
    /// @return sum The sum.
    function _add(address precompile, bytes memory a, bytes memory b, uint256 length)
        private
        view
        returns (bytes memory sum)
    {
        uint256 input;
        uint256 out;
        assembly ("memory-safe") {
            sum := mload(0x40)
            mstore(sum, length)
            out := add(sum, 0x20)
            input := add(out, length)
            mstore(0x40, input)
            // a || b as scratch beyond the allocation.
            mcopy(input, add(a, 0x20), length)
            mcopy(add(input, length), add(b, 0x20), length)
        }
        _call(precompile, input, 2 * length, out, length);
    }

    /// @dev Calls a precompile and reverts with `PrecompileFailed` unless it succeeds with
    ///      exactly `outputLength` bytes (a missing precompile "succeeds" with none).
    /// @param precompile The precompile address.
    /// @param input Memory address of the input.
    /// @param inputLength Bytes of input.
    /// @param output Memory address for the output.
    /// @param outputLength Bytes of output expected.
    function _call(address precompile, uint256 input, uint256 inputLength, uint256 output, uint256 outputLength)
        private
        view
    {
        bool ok;
        assembly ("memory-safe") {
            // Two statements: Yul evaluates arguments right to left, so `and(staticcall(..),
            // eq(returndatasize(), ..))` would read the return size before the call.
            ok := staticcall(gas(), precompile, input, inputLength, output, outputLength)
            ok := and(ok, eq(returndatasize(), outputLength))
        }
        if (!ok) revert PrecompileFailed(precompile);
    }

    /// @dev Checks `count` 64-byte field elements of `point` (whose length the caller checked):
    ///      each below p, which also proves its top 16 bytes zero since p < 2^384. Reverts
    ///      `InvalidPointEncoding` otherwise.
    /// @param point The point.
    /// @param count Number of field elements: 2 for G1, 4 for G2.
    /// @return infinity Whether every element is zero (the point at infinity).
    function _checkFieldElements(bytes memory point, uint256 count) private pure returns (bool infinity) {
        bool malformed;
        assembly ("memory-safe") {
            let any := 0
            let at := add(point, 0x20)
            let end := add(at, shl(6, count))
            for {} lt(at, end) { at := add(at, 0x40) } {
                let hi := mload(at)
                let lo := mload(add(at, 0x20))
                // (hi, lo) < (P_HI, P_LO) as a 512-bit number.
                malformed := or(malformed, iszero(or(lt(hi, P_HI), and(eq(hi, P_HI), lt(lo, P_LO)))))
                any := or(any, or(hi, lo))
            }
            infinity := iszero(any)
        }
        if (malformed) revert InvalidPointEncoding();
    }

    /// @dev Whether every byte of `data` is zero.
    /// @param data The bytes.
    /// @return zero True iff all zero (also for empty data).
    function _isZero(bytes memory data) private pure returns (bool zero) {
        assembly ("memory-safe") {
            let any := 0
            let at := add(data, 0x20)
            let end := add(at, mload(data))
            for {} lt(at, end) { at := add(at, 0x20) } { any := or(any, mload(at)) }
            // Lengths here are multiples of 32, so no byte past the end was read.
            zero := iszero(any)
        }
    }

    /// @dev Replaces the `index`-th 64-byte field element v of `point` by p - v, or keeps 0.
    ///      v must be below p (checked by the caller).
    /// @param point The point, modified in place.
    /// @param index Which field element: 1 is G1's y, 2 and 3 are G2's y.c0 and y.c1.
    function _negateFieldElement(bytes memory point, uint256 index) private pure {
        assembly ("memory-safe") {
            let at := add(add(point, 0x20), shl(6, index))
            let hi := mload(at)
            let lo := mload(add(at, 0x20))
            let nonzero := iszero(iszero(or(hi, lo)))
            // 512-bit (P_HI, P_LO) - (hi, lo) with the borrow from the low word.
            mstore(at, mul(nonzero, sub(sub(P_HI, hi), lt(P_LO, lo))))
            mstore(add(at, 0x20), mul(nonzero, sub(P_LO, lo)))
        }
    }

    /// @dev `compressG2` for a point known to be canonical and not infinity.
    /// @param point A G2 point, 256 bytes.
    /// @return compressed 96 bytes: x.c1 || x.c0 (48 bytes each), flags 0x80 | 0x20 * sign.
    function _compressG2(bytes memory point) private pure returns (bytes memory compressed) {
        assembly ("memory-safe") {
            compressed := mload(0x40)
            mstore(compressed, G2_COMPRESSED_LENGTH)
            let out := add(compressed, 0x20)
            mstore(0x40, add(out, G2_COMPRESSED_LENGTH))
            let p := add(point, 0x20)
            // The 48 value bytes of x.c1 (limb 1), then of x.c0 (limb 0).
            mcopy(out, add(p, 0x50), 48)
            mcopy(add(out, 48), add(p, 0x10), 48)

            // Sign: y.c1 > (p - 1) / 2, or, when y.c1 is zero, y.c0 > (p - 1) / 2.
            let y0Hi := mload(add(p, 0x80))
            let y0Lo := mload(add(p, 0xa0))
            let y1Hi := mload(add(p, 0xc0))
            let y1Lo := mload(add(p, 0xe0))
            let y1Zero := iszero(or(y1Hi, y1Lo))
            let hi := y1Hi
            let lo := y1Lo
            if y1Zero {
                hi := y0Hi
                lo := y0Lo
            }
            let larger := or(gt(hi, HALF_P_HI), and(eq(hi, HALF_P_HI), gt(lo, HALF_P_LO)))
            // x.c1 < p < 2^381 leaves its top three bits free for the flags.
            let flags := or(0x80, mul(larger, 0x20))
            mstore8(out, or(byte(0, mload(out)), flags))
        }
    }
}
