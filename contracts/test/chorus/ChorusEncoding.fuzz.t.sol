// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Test} from "forge-std/Test.sol";

import {BLS12381} from "../../src/bls/BLS12381.sol";
import {CheckpointLib} from "../../src/CheckpointLib.sol";
import {Commitment, IChorusAttestations, IChorusRegistry, NonSigner, TableRef} from "../../src/interfaces/IChorus.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Fuzzed encodings: Merkle trees, leaves, signed message, registration data, table
///         restatements, non-signer positions.
contract ChorusEncodingFuzzTest is ChorusTestBase {
    address internal constant FUZZED_OPERATOR = address(0xF022ED);

    function _initialOperatorCount() internal pure override returns (uint256) {
        return 3;
    }

    /// @dev The fuzzed operator has allocated stake, so that registrations fail (or pass) on
    ///      their data, not for want of stake.
    function setUp() public override {
        super.setUp();
        _setStake(FUZZED_OPERATOR, 1, 1);
    }

    // ------------------------------------------------------------------
    // Merkle trees
    // ------------------------------------------------------------------

    /// forge-config: default.fuzz.runs = 128
    function testFuzz_merkleRoot_matchesBuilderAndEveryProofVerifies(uint256 count, bytes32 seed) public pure {
        count = bound(count, 1, 70);
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
        bytes32 expected = MerkleBuilder.root(leaves);
        assertEq(CheckpointLib.merkleRoot(_copy(leaves)), expected, "same root");
        for (uint256 i = 0; i < count; ++i) {
            bytes32[] memory proof = MerkleBuilder.proof(leaves, i);
            assertTrue(MerkleProof.verify(proof, expected, leaves[i]), "OZ verifies the proof");
            assertLe(proof.length, _log2Ceil(count), "path no longer than the depth");
        }
    }

    function test_merkleRoot_smallShapes() public pure {
        bytes32[] memory leaves = new bytes32[](3);
        (leaves[0], leaves[1], leaves[2]) = (bytes32(uint256(3)), bytes32(uint256(1)), bytes32(uint256(2)));
        bytes32 pair = keccak256(abi.encode(bytes32(uint256(1)), bytes32(uint256(3))));
        bytes32 root =
            pair < leaves[2] ? keccak256(abi.encode(pair, leaves[2])) : keccak256(abi.encode(leaves[2], pair));
        assertEq(CheckpointLib.merkleRoot(_copy(leaves)), root, "odd last node carried up, pairs sorted");
        assertEq(CheckpointLib.merkleRoot(new bytes32[](0)), bytes32(0), "empty");
        bytes32[] memory one = new bytes32[](1);
        one[0] = keccak256("leaf");
        assertEq(CheckpointLib.merkleRoot(one), keccak256("leaf"), "a single leaf is the root");
    }

    // ------------------------------------------------------------------
    // Leaves and the signed message
    // ------------------------------------------------------------------

    function testFuzz_leafHash_isDoubleKeccakOfAbiEncode(Commitment memory commitment) public pure {
        bytes memory encoded =
            abi.encode(commitment.rollupId, commitment.l2BlockNumber, commitment.l2BlockHash, commitment.stateRoot);
        assertEq(encoded.length, 128, "four static words");
        assertEq(CheckpointLib.leafHash(commitment), keccak256(bytes.concat(keccak256(encoded))));
    }

    /// @dev One hash: leaves are read by position, never proven through a tree. (TableLeaves
    ///      reads an empty position as zero, which no leaf is.)
    function testFuzz_operatorLeaf_isKeccakOfAbiEncode(bytes32 pubkeyHash, uint256 weight) public pure {
        bytes32 leaf = CheckpointLib.operatorLeaf(pubkeyHash, weight);
        assertEq(leaf, keccak256(abi.encode(pubkeyHash, weight)));
        assertTrue(leaf != bytes32(0));
    }

    function testFuzz_signedMessage_isEip712HashStruct(uint256 chainId, address target, uint32 version, bytes32 root)
        public
        pure
    {
        bytes32 typehash = keccak256(
            "ChorusCheckpoint(uint256 l1ChainId,address attestationContract,uint32 tableVersion,bytes32 commitmentsRoot)"
        );
        assertEq(
            CheckpointLib.signedMessage(chainId, target, version, root),
            keccak256(abi.encode(typehash, chainId, target, version, root))
        );
    }

    function testFuzz_keyRegistrationMessage_isEip712HashStruct(uint256 chainId, address registry_, address operator)
        public
        pure
    {
        bytes32 typehash = keccak256("ChorusKeyRegistration(uint256 l1ChainId,address registry,address operator)");
        assertEq(
            CheckpointLib.keyRegistrationMessage(chainId, registry_, operator),
            keccak256(abi.encode(typehash, chainId, registry_, operator))
        );
    }

    /// @dev The two structs never hash alike, so a checkpoint signature is never an
    ///      ownership signature (and the reverse).
    function testFuzz_keyRegistrationMessage_differsFromCheckpointMessage(
        uint256 chainId,
        address target,
        address operator,
        uint32 version,
        bytes32 root
    ) public pure {
        assertTrue(
            CheckpointLib.keyRegistrationMessage(chainId, target, operator)
                != CheckpointLib.signedMessage(chainId, target, version, root)
        );
    }

    // ------------------------------------------------------------------
    // Registration data
    // ------------------------------------------------------------------

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_registration_randomBytes_neverRegisters(bytes memory data) public {
        _assertNeverRegisters(data);
    }

    /// @dev Right lengths, canonical coordinates, random points: off the curve, or wrong proofs.
    /// forge-config: default.fuzz.runs = 32
    function testFuzz_registration_randomCanonicalPoints_neverRegister(
        bytes32[8] memory key,
        bytes32[4] memory pop,
        bytes32[4] memory ownership
    ) public {
        _assertNeverRegisters(abi.encode(_canonical(key), _canonical(pop), _canonical(ownership)));
    }

    /// @dev A valid key and ownership with a proof over any other message under POP_DST.
    /// forge-config: default.fuzz.runs = 32
    function testFuzz_registration_popOverAnotherMessage_neverRegisters(uint256 sk, bytes memory message) public {
        sk = bound(sk, 100, type(uint128).max); // not a registered key
        bytes memory pubkey = BlsSigner.pubkey(sk);
        vm.assume(keccak256(message) != keccak256(BLS12381.compressG2(pubkey)));
        bytes memory pop = BlsSigner.sign(sk, BLS12381.hashToG1(message, BLS12381.POP_DST));
        _assertRegisterReverts(
            abi.encode(pubkey, pop, _ownership(sk, FUZZED_OPERATOR)),
            abi.encodeWithSelector(IChorusRegistry.InvalidProofOfPossession.selector)
        );
    }

    /// @dev A valid key and PoP, with the ownership signed for any other operator, registry or chain.
    /// forge-config: default.fuzz.runs = 32
    function testFuzz_registration_ownershipForAnythingElse_neverRegisters(
        uint256 sk,
        uint256 chainId,
        address registry_,
        address operator
    ) public {
        sk = bound(sk, 100, type(uint128).max); // not a registered key
        vm.assume(chainId != block.chainid || registry_ != address(registry) || operator != FUZZED_OPERATOR);
        bytes memory ownership = BlsSigner.ownership(sk, chainId, registry_, operator);
        _assertRegisterReverts(
            abi.encode(BlsSigner.pubkey(sk), BlsSigner.pop(sk), ownership),
            abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector)
        );
    }

    /// @dev And the control: the same constructions, for this operator here, register.
    /// forge-config: default.fuzz.runs = 32
    function testFuzz_registration_validProofs_register(uint256 sk) public {
        sk = bound(sk, 100, type(uint128).max);
        _register(FUZZED_OPERATOR, sk);
        assertTrue(registry.isRegistered(FUZZED_OPERATOR));
    }

    // ------------------------------------------------------------------
    // Table restatements
    // ------------------------------------------------------------------

    /// @dev Any one field of the restated TableRef (version, apk, totalWeight) changed:
    ///      TableMismatch, before any signature work.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_tableRef_singleFieldChange_reverts(uint8 field, uint256 position, bytes32 noise) public {
        _setStake(operators[0], 999, 0);
        _updateTable(); // v2 exists, so the version field can name another real table
        TableRef memory ref = table.ref;
        field = uint8(bound(field, 0, 2));
        vm.assume(noise != bytes32(0));
        if (field == 0) {
            ref.version = 1;
        } else if (field == 1) {
            position = bound(position, 0, ref.apk.length - 1);
            ref.apk[position] = bytes1(uint8(ref.apk[position]) ^ (uint8(uint256(noise)) | 1));
        } else {
            unchecked {
                ref.totalWeight += uint256(noise);
            }
        }
        bytes32 root = keccak256("root");
        bytes memory signature = _signCheckpoint(root, _none());
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.TableMismatch.selector, ref.version));
        attestations.submitCheckpoint(ref, root, new NonSigner[](0), signature);
    }

    // ------------------------------------------------------------------
    // Non-signers by position
    // ------------------------------------------------------------------

    /// @dev A table operator's true key and weight at any index but its own (huge ones
    ///      included, which an unchecked offset would wrap onto a real leaf): refused.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_nonSigner_anyOtherIndex_reverts(uint8 who, uint256 index) public {
        uint256 own = uint256(who) % table.operators.length;
        vm.assume(index != own);
        address missing = table.operators[own];
        NonSigner[] memory nonSigners = _nonSigners(_list(missing));
        nonSigners[0].index = index;
        _expectNotInTable(nonSigners, _list(missing), index);
    }

    /// @dev At its own index, any weight but its own: refused.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_nonSigner_anyOtherWeight_reverts(uint8 who, uint256 weight) public {
        uint256 own = uint256(who) % table.operators.length;
        vm.assume(weight != table.weights[own]);
        address missing = table.operators[own];
        NonSigner[] memory nonSigners = _nonSigners(_list(missing));
        nonSigners[0].weight = weight;
        _expectNotInTable(nonSigners, _list(missing), own);
    }

    /// @dev A second entry at any index not above the first: NonSignersNotSorted.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_nonSigners_notAscending_reverts(uint256 second) public {
        address[] memory missing = _list(table.operators[1], table.operators[2]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        second = bound(second, 0, nonSigners[0].index);
        nonSigners[1].index = second;
        bytes32 root = keccak256("root");
        bytes memory signature = _signCheckpoint(root, missing);
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.NonSignersNotSorted.selector));
        attestations.submitCheckpoint(ref, root, nonSigners, signature);
    }

    // ------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------

    function _expectNotInTable(NonSigner[] memory nonSigners, address[] memory missing, uint256 index) internal {
        bytes32 root = keccak256("root");
        bytes memory signature = _signCheckpoint(root, missing);
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, index));
        attestations.submitCheckpoint(ref, root, nonSigners, signature);
    }

    function _assertNeverRegisters(bytes memory data) internal {
        uint32[] memory ids = _setIds();
        try allocationManager.registerForOperatorSets(FUZZED_OPERATOR, address(registry), ids, data) {
            revert("registered with fuzzed data");
        } catch {}
        assertFalse(registry.isRegistered(FUZZED_OPERATOR));
        assertEq(registry.operatorCount(), operators.length);
    }

    function _assertRegisterReverts(bytes memory data, bytes memory reason) internal {
        uint32[] memory ids = _setIds();
        vm.expectRevert(reason);
        allocationManager.registerForOperatorSets(FUZZED_OPERATOR, address(registry), ids, data);
        assertFalse(registry.isRegistered(FUZZED_OPERATOR));
    }

    /// @dev Each 64-byte field element from two words: hi reduced below P_HI keeps it below p.
    function _canonical(bytes32[8] memory words) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < 8; i += 2) {
            out = bytes.concat(out, bytes32(uint256(words[i]) % BLS12381.P_HI), words[i + 1]);
        }
    }

    function _canonical(bytes32[4] memory words) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < 4; i += 2) {
            out = bytes.concat(out, bytes32(uint256(words[i]) % BLS12381.P_HI), words[i + 1]);
        }
    }

    function _copy(bytes32[] memory leaves) internal pure returns (bytes32[] memory copy) {
        copy = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            copy[i] = leaves[i];
        }
    }

    function _log2Ceil(uint256 n) internal pure returns (uint256 depth) {
        while ((uint256(1) << depth) < n) ++depth;
    }
}

/// @notice The BLS library on its own (no Chorus setUp), so that a broken library
///         reports here alone: every other suite then fails in setUp.
contract ChorusBlsSanityTest is Test {
    /// @dev RFC 9380 J.9.1, msg = "". Guards `BLS12381._call` reading the return size
    ///      after the call (Yul evaluates arguments right to left): read before, hashToG1
    ///      failed at its first MODEXP, whose predecessor (SHA-256) returned 32 bytes.
    function test_hashToG1_rfc9380EmptyMessage() public view {
        bytes memory point = BLS12381.hashToG1("", "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_");
        assertEq(
            point,
            bytes.concat(
                bytes16(0),
                hex"052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1",
                bytes16(0),
                hex"08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265"
            )
        );
    }

    /// @dev The trusted variants the attestation contract uses for the digest-checked
    ///      aggregate agree with the checked ones on canonical points.
    function test_trustedVariants_agreeOnCanonicalKeys() public view {
        bytes memory pubkey = BLS12381.g2Add(BlsSigner.pubkey(42), BlsSigner.pubkey(43));
        assertEq(BLS12381.g2NegateTrusted(pubkey), BLS12381.g2Negate(pubkey));
        bytes32 message = keccak256("message");
        bytes[] memory signatures = new bytes[](2);
        signatures[0] = BlsSigner.signMessage(42, message);
        signatures[1] = BlsSigner.signMessage(43, message);
        bytes memory aggregate = BlsSigner.aggregate(signatures);
        assertTrue(BLS12381.verifyMessageTrustedKey(pubkey, aggregate, abi.encodePacked(message)));
        assertTrue(BLS12381.verifyMessage(pubkey, aggregate, abi.encodePacked(message)));
        assertFalse(BLS12381.verifyMessageTrustedKey(pubkey, signatures[0], abi.encodePacked(message)));
    }

    /// @dev The test signer agrees with the library: a signature it makes verifies, and an
    ///      ownership signature is a plain signature over the 32-byte struct hash.
    function test_blsSigner_signatureVerifiesWithLibrary() public view {
        bytes memory pubkey = BlsSigner.pubkey(42);
        bytes32 message = CheckpointLib.keyRegistrationMessage(1, address(1), address(2));
        assertTrue(
            BLS12381.verifyMessage(
                pubkey, BlsSigner.ownership(42, 1, address(1), address(2)), abi.encodePacked(message)
            )
        );
        assertTrue(BLS12381.verifyProofOfPossession(pubkey, BlsSigner.pop(42)));
        assertFalse(
            BLS12381.verifyMessage(
                pubkey, BlsSigner.ownership(43, 1, address(1), address(2)), abi.encodePacked(message)
            )
        );
    }
}
