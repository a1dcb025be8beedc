// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Test, console2} from "forge-std/Test.sol";
import {Eip2537} from "../../src/Eip2537.sol";
import {BLS12381} from "../../src/bls/BLS12381.sol";
import {BLS12381Harness} from "./BLS12381Harness.sol";

/// The BLS library against the RFC 9380 vectors (../vectors/) and against the fixture that
/// keys/tests/eip2537.rs generates with blst (test/fixtures/bls_signatures.json), so that
/// the Rust signer and the Solidity verifier are checked on the same bytes.
///
/// Failure modes, as asserted below:
/// - a well-formed but wrong signature or proof (wrong message, key or DST): returns false;
/// - the point at infinity: reverts `PointAtInfinity`;
/// - a wrong length, non-zero padding or a coordinate >= p: reverts `InvalidPointEncoding`;
/// - a canonical point off the curve or outside its subgroup: reverts
///   `PrecompileFailed(PAIRING_CHECK)` (after the precompile consumed the gas forwarded to it).
contract BLS12381Test is Test {
    /// The order r of G1 and G2.
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// Gas for calls expected to fail in a precompile, which then consumes it all.
    uint256 private constant CALL_GAS = 1_000_000;

    BLS12381Harness private bls;

    function setUp() public {
        bls = new BLS12381Harness();
    }

    // -------------------------------------------------------------------------------
    // RFC 9380 vectors
    // -------------------------------------------------------------------------------

    function test_ExpandMessageXmd_Rfc9380() public view {
        _expandVectors("expand_message_xmd_SHA256_38.json");
    }

    /// The 256-byte DST exercises the oversize-DST rule (RFC 9380, 5.3.3).
    function test_ExpandMessageXmd_Rfc9380_OversizeDst() public view {
        _expandVectors("expand_message_xmd_SHA256_256.json");
    }

    function test_HashToFieldAndG1_Rfc9380() public view {
        string memory json = _vector("hash_to_g1_BLS12381G1_XMD_SHA-256_SSWU_RO.json");
        bytes memory dst = bytes(vm.parseJsonString(json, "$.dst"));
        uint256 n = _count(json, "$.vectors");
        assertGe(n, 5, "hash_to_g1 cases");
        for (uint256 i = 0; i < n; i++) {
            string memory at = string.concat("$.vectors[", vm.toString(i), "]");
            bytes memory message = bytes(vm.parseJsonString(json, string.concat(at, ".msg")));

            (bytes memory u0, bytes memory u1) = bls.hashToField(message, dst);
            assertEq(u0, _fp(vm.parseJsonBytes(json, string.concat(at, ".u[0]"))), "u[0]");
            assertEq(u1, _fp(vm.parseJsonBytes(json, string.concat(at, ".u[1]"))), "u[1]");

            bytes memory expected = bytes.concat(
                _fp(vm.parseJsonBytes(json, string.concat(at, ".P.x"))),
                _fp(vm.parseJsonBytes(json, string.concat(at, ".P.y")))
            );
            assertEq(bls.hashToG1(message, dst), expected, string(message));
        }
    }

    // -------------------------------------------------------------------------------
    // Against the Rust (blst) fixture
    // -------------------------------------------------------------------------------

    function test_Fixture_DstsMatch() public view {
        string memory json = _fixture();
        assertEq(bytes(vm.parseJsonString(json, "$.signatureDst")), BLS12381.SIGNATURE_DST);
        assertEq(bytes(vm.parseJsonString(json, "$.popDst")), BLS12381.POP_DST);
    }

    function test_Fixture_HashToG1MatchesRust() public view {
        string memory json = _fixture();
        uint256 n = _count(json, "$.messages");
        assertGt(n, 0, "messages");
        for (uint256 i = 0; i < n; i++) {
            string memory at = string.concat("$.messages[", vm.toString(i), "]");
            assertEq(
                bls.hashToG1(vm.parseJsonBytes(json, string.concat(at, ".message")), BLS12381.SIGNATURE_DST),
                vm.parseJsonBytes(json, string.concat(at, ".messageG1"))
            );
        }
    }

    /// -G2 is both the key of r - 1 (from blst) and g2Negate of the key of 1.
    function test_Fixture_NegatedGenerator() public view {
        string memory json = _fixture();
        bytes memory generator = vm.parseJsonBytes(json, "$.g2Generator");
        bytes memory negated = vm.parseJsonBytes(json, "$.negG2Generator");
        assertEq(BLS12381.negatedG2Generator(), negated);
        assertEq(bls.g2Negate(generator), negated);
        assertEq(bls.g2Negate(negated), generator);
    }

    function test_Fixture_CompressG2MatchesBlst() public view {
        string memory json = _fixture();
        uint256 n = _count(json, "$.keys");
        assertGt(n, 0, "keys");
        for (uint256 i = 0; i < n; i++) {
            assertEq(bls.compressG2(_key(json, i, "publicKey")), _key(json, i, "publicKeyCompressed"));
        }
    }

    function test_Fixture_SignaturesVerify() public view {
        string memory json = _fixture();
        uint256 keys = _count(json, "$.keys");
        uint256 messages = _count(json, "$.messages");
        assertGt(keys, 0, "keys");
        assertGt(messages, 0, "messages");
        for (uint256 i = 0; i < keys; i++) {
            bytes memory pubkey = _key(json, i, "publicKey");
            bytes[] memory signatures = vm.parseJsonBytesArray(json, _keyPath(i, "signatures"));
            assertEq(signatures.length, messages);
            for (uint256 j = 0; j < messages; j++) {
                assertTrue(bls.verifySignature(pubkey, signatures[j], _messageG1(json, j)), "verifySignature");
                assertTrue(bls.verifyMessage(pubkey, signatures[j], _message(json, j)), "verifyMessage");
            }
        }
    }

    function test_Fixture_WrongMessageFails() public view {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 0, "publicKey");
        bytes[] memory signatures = vm.parseJsonBytesArray(json, _keyPath(0, "signatures"));
        assertFalse(bls.verifySignature(pubkey, signatures[0], _messageG1(json, 1)));
        assertFalse(bls.verifyMessage(pubkey, signatures[1], _message(json, 0)));
        // One bit of difference in the message.
        bytes memory message = _message(json, 1);
        message[31] ^= 0x01;
        assertFalse(bls.verifyMessage(pubkey, signatures[1], message));
    }

    function test_Fixture_WrongKeyFails() public view {
        string memory json = _fixture();
        bytes[] memory signatures = vm.parseJsonBytesArray(json, _keyPath(0, "signatures"));
        assertFalse(bls.verifySignature(_key(json, 1, "publicKey"), signatures[0], _messageG1(json, 0)));
        // The negated key (the key of -sk) fails too.
        assertFalse(bls.verifySignature(bls.g2Negate(_key(json, 0, "publicKey")), signatures[0], _messageG1(json, 0)));
    }

    function test_Fixture_ProofsOfPossessionVerify() public view {
        string memory json = _fixture();
        uint256 n = _count(json, "$.keys");
        assertGt(n, 0, "keys");
        for (uint256 i = 0; i < n; i++) {
            assertTrue(bls.verifyProofOfPossession(_key(json, i, "publicKey"), _key(json, i, "proofOfPossession")));
        }
    }

    function test_Fixture_ProofOfPossessionForAnotherKeyFails() public view {
        string memory json = _fixture();
        assertFalse(bls.verifyProofOfPossession(_key(json, 1, "publicKey"), _key(json, 0, "proofOfPossession")));
    }

    /// The two DSTs separate signatures from proofs both ways.
    function test_Fixture_SwappedDstsFail() public view {
        string memory json = _fixture();
        uint256 n = _count(json, "$.keys");
        for (uint256 i = 0; i < n; i++) {
            bytes memory pubkey = _key(json, i, "publicKey");
            bytes memory compressed = _key(json, i, "publicKeyCompressed");
            // A signature over the compressed key (signature DST) is not a proof of possession.
            bytes memory signature = _key(json, i, "signatureOverCompressedKey");
            assertTrue(bls.verifyMessage(pubkey, signature, compressed), "is a signature");
            assertFalse(bls.verifyProofOfPossession(pubkey, signature), "signature DST accepted as PoP");
            // A proof of possession (PoP DST) is not a signature over the compressed key.
            assertFalse(
                bls.verifyMessage(pubkey, _key(json, i, "proofOfPossession"), compressed), "PoP accepted as signature"
            );
        }
    }

    /// g2Add over the signers' keys gives blst's aggregate key, and the aggregate signature
    /// verifies against it in one pairing check; leaving out a signer fails.
    function test_Fixture_AggregateVerifies() public view {
        string memory json = _fixture();
        uint256[] memory signers = vm.parseJsonUintArray(json, "$.aggregate.signers");
        assertGt(signers.length, 1, "signers");
        bytes memory aggregateKey = new bytes(BLS12381.G2_LENGTH);
        bytes memory allButLast = aggregateKey;
        for (uint256 i = 0; i < signers.length; i++) {
            allButLast = aggregateKey;
            aggregateKey = bls.g2Add(aggregateKey, _key(json, signers[i], "publicKey"));
        }
        assertEq(aggregateKey, vm.parseJsonBytes(json, "$.aggregate.publicKey"));

        uint256 messageIndex = vm.parseJsonUint(json, "$.aggregate.messageIndex");
        bytes memory signature = vm.parseJsonBytes(json, "$.aggregate.signature");
        assertTrue(bls.verifySignature(aggregateKey, signature, _messageG1(json, messageIndex)));
        assertTrue(bls.verifyMessage(aggregateKey, signature, _message(json, messageIndex)));
        assertFalse(bls.verifySignature(allButLast, signature, _messageG1(json, messageIndex)));
        // Removing a key with g2Negate gives the same sum as never adding it.
        bytes memory last = _key(json, signers[signers.length - 1], "publicKey");
        assertEq(bls.g2Add(aggregateKey, bls.g2Negate(last)), allButLast);
    }

    // -------------------------------------------------------------------------------
    // Malformed input
    // -------------------------------------------------------------------------------

    function test_Revert_InfinityKeyOrSignature() public {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 0, "publicKey");
        bytes memory signature = vm.parseJsonBytesArray(json, _keyPath(0, "signatures"))[0];
        bytes memory messageG1 = _messageG1(json, 0);
        bytes memory g1Infinity = new bytes(BLS12381.G1_LENGTH);
        bytes memory g2Infinity = new bytes(BLS12381.G2_LENGTH);

        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifySignature(g2Infinity, signature, messageG1);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifySignature(pubkey, g1Infinity, messageG1);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifySignature(pubkey, signature, g1Infinity);
        // Without the check, infinity key and signature would pass any message.
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifyMessage(g2Infinity, g1Infinity, "anything");
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifyProofOfPossession(g2Infinity, g1Infinity);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifyProofOfPossession(pubkey, g1Infinity);
    }

    /// The keys of 1 and r - 1 cancel: their sum is infinity, which no verifier accepts.
    function test_Revert_CancellingAggregateIsInfinity() public {
        string memory json = _fixture();
        uint256 n = _count(json, "$.keys");
        bytes memory sum = bls.g2Add(_key(json, 0, "publicKey"), _key(json, n - 1, "publicKey"));
        assertTrue(BLS12381.isG2Infinity(sum));
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        bls.verifyMessage(sum, new bytes(BLS12381.G1_LENGTH), "m");
    }

    function test_Revert_WrongLengths() public {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 0, "publicKey");
        bytes memory signature = vm.parseJsonBytesArray(json, _keyPath(0, "signatures"))[0];
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.verifyMessage(_key(json, 0, "publicKeyCompressed"), signature, "m");
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.verifyMessage(pubkey, bytes.concat(signature, hex"00"), "m");
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.verifyProofOfPossession(pubkey, "");
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.g2Add(pubkey, signature);
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.g1Negate(pubkey);
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.compressG2(signature);
    }

    /// x + p encodes the same x, so a non-canonical coordinate would give a second encoding
    /// of the same key or signature: refused, in every limb.
    function test_Revert_NonCanonicalCoordinate() public {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 2, "publicKey");
        bytes memory signature = vm.parseJsonBytesArray(json, _keyPath(2, "signatures"))[0];
        for (uint256 limb = 0; limb < 4; limb++) {
            vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
            bls.verifyMessage(_plusP(pubkey, limb), signature, _message(json, 0));
        }
        for (uint256 limb = 0; limb < 2; limb++) {
            vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
            bls.verifyMessage(pubkey, _plusP(signature, limb), _message(json, 0));
        }
        // p itself, and non-zero padding.
        bytes memory atP = bytes.concat(bytes32(BLS12381.P_HI), bytes32(BLS12381.P_LO), new bytes(64));
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.validateG1(atP);
        bytes memory padded = bytes.concat(signature);
        padded[64] = 0x01;
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.validateG1(padded);
        padded = bytes.concat(pubkey);
        padded[192 + 15] = 0x01;
        vm.expectRevert(BLS12381.InvalidPointEncoding.selector);
        bls.verifyProofOfPossession(padded, _key(json, 2, "proofOfPossession"));
    }

    /// Each call gets its own gas: a failing precompile consumes all gas forwarded to it.
    function test_Revert_OffCurve() public {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 3, "publicKey");
        bytes memory signature = vm.parseJsonBytesArray(json, _keyPath(3, "signatures"))[0];
        bytes memory badSignature = bytes.concat(signature);
        badSignature[127] ^= 0x01;
        bytes memory badKey = bytes.concat(pubkey);
        badKey[255] ^= 0x01;

        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK));
        bls.verifySignature{gas: CALL_GAS}(pubkey, badSignature, _messageG1(json, 0));
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK));
        bls.verifySignature{gas: CALL_GAS}(badKey, signature, _messageG1(json, 0));
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK));
        bls.verifyProofOfPossession{gas: CALL_GAS}(badKey, _key(json, 3, "proofOfPossession"));
        // The adders check the curve too.
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.G2ADD));
        bls.g2Add{gas: CALL_GAS}(pubkey, badKey);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.G1ADD));
        bls.g1Add{gas: CALL_GAS}(signature, badSignature);
    }

    /// What a caller pays for an off-curve point: the precompile keeps the 63/64 of the
    /// remaining gas forwarded to it. Only the sender of the bad point pays this.
    function test_OffCurve_ConsumesForwardedGas() public view {
        string memory json = _fixture();
        bytes memory badSignature = vm.parseJsonBytesArray(json, _keyPath(3, "signatures"))[0];
        badSignature[127] ^= 0x01;
        bytes memory pubkey = _key(json, 3, "publicKey");
        bytes memory messageG1 = _messageG1(json, 0);
        uint256 before = gasleft();
        try bls.verifySignature{gas: CALL_GAS}(pubkey, badSignature, messageG1) returns (bool) {
            revert("an off-curve signature verified");
        } catch (bytes memory reason) {
            assertEq(reason, abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK));
        }
        uint256 used = before - gasleft();
        console2.log("verifySignature, off-curve signature, 1M gas forwarded:", used);
        assertGt(used, (CALL_GAS * 60) / 64);
    }

    /// On the curve but outside the subgroup: G1ADD / G2ADD accept such points, only the
    /// pairing refuses them. Callers must not treat a g2Add result as subgroup-checked.
    function test_Revert_OutsideSubgroup() public {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 0, "publicKey");
        bytes memory signature = vm.parseJsonBytesArray(json, _keyPath(0, "signatures"))[0];
        bytes memory g1Outside = vm.parseJsonBytes(json, "$.g1OutsideSubgroup");
        bytes memory g2Outside = vm.parseJsonBytes(json, "$.g2OutsideSubgroup");

        bls.validateG1(g1Outside);
        bls.validateG2(g2Outside);
        bls.g1Add(signature, g1Outside);
        bls.g2Add(pubkey, g2Outside);

        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK));
        bls.verifySignature{gas: CALL_GAS}(pubkey, g1Outside, _messageG1(json, 0));
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK));
        bls.verifyProofOfPossession{gas: CALL_GAS}(g2Outside, signature);
    }

    function test_Revert_ExpandMessageXmdLimits() public {
        vm.expectRevert(BLS12381.ExpandLengthTooLarge.selector);
        bls.expandMessageXmd("m", "DST", 255 * 32 + 1);
        vm.expectRevert(BLS12381.EmptyDomainSeparationTag.selector);
        bls.expandMessageXmd("m", "", 32);
        assertEq(bls.expandMessageXmd("m", "DST", 255 * 32).length, 255 * 32);
    }

    // -------------------------------------------------------------------------------
    // Point helpers
    // -------------------------------------------------------------------------------

    function test_AddNegate_PointPlusNegationIsInfinity() public view {
        string memory json = _fixture();
        uint256 n = _count(json, "$.keys");
        bytes memory g1Infinity = new bytes(BLS12381.G1_LENGTH);
        bytes memory g2Infinity = new bytes(BLS12381.G2_LENGTH);
        for (uint256 i = 0; i < n; i++) {
            bytes memory key = _key(json, i, "publicKey");
            bytes memory negatedKey = bls.g2Negate(key);
            assertTrue(BLS12381.isG2Infinity(bls.g2Add(key, negatedKey)), "P + -P");
            assertEq(bls.g2Negate(negatedKey), key, "--P");
            assertEq(bls.g2Add(key, g2Infinity), key, "P + 0");
            // Same x, opposite sign bit.
            bytes memory compressed = bls.compressG2(key);
            bytes memory compressedNegated = bls.compressG2(negatedKey);
            assertEq(uint8(compressed[0] ^ compressedNegated[0]), 0x20, "sign bit");

            bytes memory pop = _key(json, i, "proofOfPossession");
            assertTrue(BLS12381.isG1Infinity(bls.g1Add(pop, bls.g1Negate(pop))), "Q + -Q");
            assertEq(bls.g1Negate(bls.g1Negate(pop)), pop, "--Q");
            assertEq(bls.g1Add(g1Infinity, pop), pop, "0 + Q");
        }
        assertEq(bls.g2Negate(g2Infinity), g2Infinity, "-0 in G2");
        assertEq(bls.g1Negate(g1Infinity), g1Infinity, "-0 in G1");
        bytes memory compressedInfinity = new bytes(96);
        compressedInfinity[0] = 0xc0;
        assertEq(bls.compressG2(g2Infinity), compressedInfinity);
    }

    function test_IsInfinity() public pure {
        assertTrue(BLS12381.isG1Infinity(new bytes(128)));
        assertTrue(BLS12381.isG2Infinity(new bytes(256)));
        assertFalse(BLS12381.isG1Infinity(new bytes(256)));
        assertFalse(BLS12381.isG2Infinity(new bytes(128)));
        assertFalse(BLS12381.isG1Infinity(""));
        bytes memory almost = new bytes(256);
        almost[255] = 0x01;
        assertFalse(BLS12381.isG2Infinity(almost));
    }

    // -------------------------------------------------------------------------------
    // Fuzz
    // -------------------------------------------------------------------------------

    /// Signs on chain with the MSM precompiles (sig = k * H(m), pk = k * G2, pop =
    /// k * H_pop(compress(pk))): a random key verifies its own signature and proof, and the
    /// key of k + 1 does not.
    function testFuzz_SignOnChainAndVerify(uint256 k, bytes memory message) public view {
        k = bound(k, 1, R - 2);
        bytes memory generator = BLS12381.g2Negate(BLS12381.negatedG2Generator());
        bytes memory pubkey = _g2Mul(generator, k);
        bytes memory signature = _g1Mul(bls.hashToG1(message, BLS12381.SIGNATURE_DST), k);
        assertTrue(bls.verifyMessage(pubkey, signature, message));
        assertFalse(bls.verifyMessage(_g2Mul(generator, k + 1), signature, message));

        bytes memory pop = _g1Mul(bls.hashToG1(bls.compressG2(pubkey), BLS12381.POP_DST), k);
        assertTrue(bls.verifyProofOfPossession(pubkey, pop));
        assertFalse(bls.verifyProofOfPossession(pubkey, signature));
    }

    /// The output has the requested length, is deterministic, and depends on the length
    /// (len_in_bytes is hashed in), so a shorter output is not a prefix of a longer one.
    function testFuzz_ExpandMessageXmd(bytes memory message, uint16 length) public view {
        uint256 lenInBytes = bound(length, 1, 255 * 32);
        bytes memory uniform = bls.expandMessageXmd(message, BLS12381.SIGNATURE_DST, lenInBytes);
        assertEq(uniform.length, lenInBytes);
        assertEq(uniform, bls.expandMessageXmd(message, BLS12381.SIGNATURE_DST, lenInBytes));
        if (lenInBytes < 255 * 32 && lenInBytes >= 32) {
            bytes memory longer = bls.expandMessageXmd(message, BLS12381.SIGNATURE_DST, lenInBytes + 1);
            assertNotEq(keccak256(_prefix(longer, 32)), keccak256(_prefix(uniform, 32)));
        }
    }

    /// hash_to_field outputs are canonical field elements, and hashToG1 outputs canonical,
    /// finite points (the pairing would refuse one off the curve or subgroup).
    function testFuzz_HashOutputsAreCanonical(bytes memory message) public view {
        (bytes memory u0, bytes memory u1) = bls.hashToField(message, BLS12381.POP_DST);
        bls.validateG1(bytes.concat(u0, u1));
        bls.validateG1(bls.hashToG1(message, BLS12381.POP_DST));
    }

    // -------------------------------------------------------------------------------
    // Gas
    // -------------------------------------------------------------------------------

    /// Logs what the library costs inside a caller (`forge test --mt test_Gas -vv`), without
    /// the harness's call and ABI overhead. The budgets guard against regressions; the
    /// precompile floors are 2 x 500 + 2 x 5,500 + 375 for the hash, 102,900 for the pairing.
    function test_Gas_Verification() public view {
        string memory json = _fixture();
        bytes memory pubkey = _key(json, 0, "publicKey");
        bytes memory digest = _message(json, 1);
        assertEq(digest.length, 32);
        bytes memory signature = vm.parseJsonBytesArray(json, _keyPath(0, "signatures"))[1];
        bytes memory messageG1 = _messageG1(json, 1);

        uint256 before = gasleft();
        bytes memory hashed = BLS12381.hashToG1(digest, BLS12381.SIGNATURE_DST);
        uint256 used = before - gasleft();
        assertEq(hashed, messageG1);
        console2.log("hashToG1 (32-byte message)", used);
        assertLt(used, 18_000, "hashToG1 budget");

        before = gasleft();
        bool valid = BLS12381.verifySignature(pubkey, signature, messageG1);
        used = before - gasleft();
        assertTrue(valid);
        console2.log("verifySignature (hashed message)", used);
        assertLt(used, 107_000, "verifySignature budget");

        before = gasleft();
        valid = BLS12381.verifyMessage(pubkey, signature, digest);
        used = before - gasleft();
        assertTrue(valid);
        console2.log("verifyMessage (hash + verify, 32-byte message)", used);
        assertLt(used, 124_000, "verifyMessage budget");

        bytes memory pop = _key(json, 0, "proofOfPossession");
        before = gasleft();
        valid = BLS12381.verifyProofOfPossession(pubkey, pop);
        used = before - gasleft();
        assertTrue(valid);
        console2.log("verifyProofOfPossession", used);
        assertLt(used, 124_000, "verifyProofOfPossession budget");
    }

    /// As `test_Gas_Verification`, for the point helpers.
    function test_Gas_Helpers() public view {
        bytes memory pubkey = _key(_fixture(), 0, "publicKey");

        uint256 before = gasleft();
        bytes memory sum = BLS12381.g2Add(pubkey, pubkey);
        console2.log("g2Add", before - gasleft());

        before = gasleft();
        BLS12381.g2Negate(sum);
        console2.log("g2Negate", before - gasleft());

        before = gasleft();
        BLS12381.compressG2(pubkey);
        console2.log("compressG2", before - gasleft());

        before = gasleft();
        BLS12381.validateG2(pubkey);
        console2.log("validateG2", before - gasleft());
    }

    // -------------------------------------------------------------------------------
    // Helpers
    // -------------------------------------------------------------------------------

    function _expandVectors(string memory file) private view {
        string memory json = _vector(file);
        bytes memory dst = bytes(vm.parseJsonString(json, "$.DST"));
        uint256 n = _count(json, "$.tests");
        assertGt(n, 0, file);
        for (uint256 i = 0; i < n; i++) {
            string memory at = string.concat("$.tests[", vm.toString(i), "]");
            bytes memory message = bytes(vm.parseJsonString(json, string.concat(at, ".msg")));
            uint256 lenInBytes = vm.parseUint(vm.parseJsonString(json, string.concat(at, ".len_in_bytes")));
            bytes memory expected =
                vm.parseBytes(string.concat("0x", vm.parseJsonString(json, string.concat(at, ".uniform_bytes"))));
            assertEq(bls.expandMessageXmd(message, dst, lenInBytes), expected, string.concat(file, " ", at));
        }
    }

    function _vector(string memory file) private view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/../vectors/", file));
    }

    function _fixture() private view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/test/fixtures/bls_signatures.json"));
    }

    /// Entries of the JSON array at `path`, probed by index.
    function _count(string memory json, string memory path) private view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(path, "[", vm.toString(n), "]"))) n++;
    }

    function _keyPath(uint256 i, string memory field) private pure returns (string memory) {
        return string.concat("$.keys[", vm.toString(i), "].", field);
    }

    function _key(string memory json, uint256 i, string memory field) private pure returns (bytes memory) {
        return vm.parseJsonBytes(json, _keyPath(i, field));
    }

    function _message(string memory json, uint256 i) private pure returns (bytes memory) {
        return vm.parseJsonBytes(json, string.concat("$.messages[", vm.toString(i), "].message"));
    }

    function _messageG1(string memory json, uint256 i) private pure returns (bytes memory) {
        return vm.parseJsonBytes(json, string.concat("$.messages[", vm.toString(i), "].messageG1"));
    }

    /// A 48-byte field element (RFC 9380 vectors) padded to EIP-2537's 64 bytes.
    function _fp(bytes memory value) private pure returns (bytes memory) {
        assertEq(value.length, 48, "field element length");
        return bytes.concat(new bytes(16), value);
    }

    /// `point` with field element `limb` replaced by limb + p (same value mod p).
    function _plusP(bytes memory point, uint256 limb) private pure returns (bytes memory out) {
        out = bytes.concat(point);
        uint256 hi;
        uint256 lo;
        uint256 at = 32 + 64 * limb;
        assembly ("memory-safe") {
            hi := mload(add(out, at))
            lo := mload(add(out, add(at, 32)))
        }
        unchecked {
            uint256 newLo = lo + BLS12381.P_LO;
            uint256 newHi = hi + BLS12381.P_HI + (newLo < lo ? 1 : 0);
            assembly ("memory-safe") {
                mstore(add(out, at), newHi)
                mstore(add(out, add(at, 32)), newLo)
            }
        }
    }

    function _prefix(bytes memory data, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; i++) {
            out[i] = data[i];
        }
    }

    function _g1Mul(bytes memory point, uint256 scalar) private view returns (bytes memory) {
        (bool ok, bytes memory out) = Eip2537.G1MSM.staticcall(bytes.concat(point, bytes32(scalar)));
        assertTrue(ok, "G1MSM");
        return out;
    }

    function _g2Mul(bytes memory point, uint256 scalar) private view returns (bytes memory) {
        (bool ok, bytes memory out) = Eip2537.G2MSM.staticcall(bytes.concat(point, bytes32(scalar)));
        assertTrue(ok, "G2MSM");
        return out;
    }
}
