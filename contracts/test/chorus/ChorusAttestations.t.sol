// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {BLS12381} from "../../src/bls/BLS12381.sol";
import {ChorusAttestations} from "../../src/ChorusAttestations.sol";
import {ChorusRegistry} from "../../src/ChorusRegistry.sol";
import {CheckpointLib} from "../../src/CheckpointLib.sol";
import {IChorusAttestations, NonSigner, TableRef} from "../../src/interfaces/IChorus.sol";
import {TableLeaves} from "../../src/TableLeaves.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";

/// @notice Aggregate verification, quorum, non-signers read by position from the
///         version's leaves, replay, and the table versions the registry records here
///         (root-only mode).
contract ChorusAttestationsTest is ChorusTestBase {
    bytes32 internal constant ROOT = keccak256("checkpoint root");

    // ------------------------------------------------------------------
    // Aggregate verification
    // ------------------------------------------------------------------

    function test_submit_allSigned_attestsRootWithFullWeight() public {
        uint256 total = table.ref.totalWeight;
        assertEq(total, 2045, "10 operators weighing 200 + i");
        vm.roll(42);
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, total);
        _submit(ROOT, _none());
        assertEq(attestations.attestedAt(ROOT), 42);
    }

    function test_submit_oneNonSigner_signedWeightExcludesIt() public {
        address missing = operators[3];
        uint256 total = table.ref.totalWeight;
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, total - _weightOf(missing));
        _submit(ROOT, _list(missing));
        assertGt(attestations.attestedAt(ROOT), 0);
    }

    function test_submit_severalNonSigners_signedWeightExcludesThem() public {
        address[] memory missing = _list(operators[0], operators[9], operators[4]);
        uint256 signed = table.ref.totalWeight - (200 + 209 + 204);
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, signed);
        _submit(ROOT, missing);
    }

    /// @dev The first and the last leaf of the version (indexes 0 and 9).
    function test_submit_nonSignersAtFirstAndLastIndex_verify() public {
        address[] memory missing = _list(table.operators[9], table.operators[0]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        assertEq(nonSigners[0].index, 0);
        assertEq(nonSigners[1].index, 9);
        uint256 signed = table.ref.totalWeight - table.weights[0] - table.weights[9];
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, signed);
        _submit(ROOT, missing);
    }

    /// @dev Each operator in turn is the one non-signer, at its own index.
    function test_submit_eachOperatorAsSoleNonSigner_verifies() public {
        for (uint256 i = 0; i < table.operators.length; ++i) {
            bytes32 root = keccak256(abi.encode("root without", i));
            _submit(root, _list(table.operators[i]));
            assertGt(attestations.attestedAt(root), 0);
        }
    }

    function test_submit_anyoneMaySubmit() public {
        NonSigner[] memory none = new NonSigner[](0);
        bytes memory signature = _signCheckpoint(ROOT, _none());
        TableRef memory ref = table.ref;
        vm.prank(makeAddr("stranger"));
        attestations.submitCheckpoint(ref, ROOT, none, signature);
        assertGt(attestations.attestedAt(ROOT), 0);
    }

    // ------------------------------------------------------------------
    // Quorum boundary: signed * 10_000 >= total * 6_667
    // ------------------------------------------------------------------

    /// @dev Table of three: 6666 + 3333 + 1 = 10_000 (operator 1 weighs 1 + 2 * 1666).
    function _tableOfThreeAtEdge() internal {
        _setStake(operators[0], 6666, 0);
        _setStake(operators[1], 1, 1666);
        _setStake(operators[2], 1, 0);
        for (uint256 i = 3; i < operators.length; ++i) {
            _setStake(operators[i], 0, 0);
        }
        _updateTable();
        assertEq(table.operators.length, 3);
        assertEq(table.ref.totalWeight, 10_000);
    }

    function test_quorum_exactlyAtThreshold_passes() public {
        _tableOfThreeAtEdge();
        // 6667 * 10_000 == 10_000 * 6667
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, table.ref.version, 6667);
        _submit(ROOT, _list(operators[1]));
    }

    function test_quorum_oneUnitBelowThreshold_reverts() public {
        _tableOfThreeAtEdge();
        address[] memory missing = _list(operators[1], operators[2]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        bytes memory signature = _signCheckpoint(ROOT, missing);
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.QuorumNotReached.selector, 6666, 10_000));
        attestations.submitCheckpoint(ref, ROOT, nonSigners, signature);
    }

    // ------------------------------------------------------------------
    // Non-signer lists
    // ------------------------------------------------------------------

    /// @dev Indexes must ascend: the same two non-signers listed in descending order.
    function test_nonSigners_descendingIndexes_revert() public {
        address[] memory missing = _list(operators[1], operators[2]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        (nonSigners[0], nonSigners[1]) = (nonSigners[1], nonSigners[0]);
        _expectSubmitRevert(
            nonSigners,
            _signCheckpoint(ROOT, missing),
            abi.encodeWithSelector(IChorusAttestations.NonSignersNotSorted.selector)
        );
    }

    /// @dev Listing one operator twice would subtract its weight twice.
    function test_nonSigners_duplicate_reverts() public {
        NonSigner[] memory once = _nonSigners(_list(operators[1]));
        NonSigner[] memory twice = new NonSigner[](2);
        (twice[0], twice[1]) = (once[0], once[0]);
        _expectSubmitRevert(
            twice,
            _signCheckpoint(ROOT, _list(operators[1])),
            abi.encodeWithSelector(IChorusAttestations.NonSignersNotSorted.selector)
        );
    }

    /// @dev The order is checked on the index before the leaf: a duplicate index with
    ///      another key is refused as unsorted, not as a wrong leaf.
    function test_nonSigners_duplicateIndexOtherKey_revertsNotSorted() public {
        address[] memory missing = _list(operators[1], operators[2]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        nonSigners[1].index = nonSigners[0].index;
        _expectSubmitRevert(
            nonSigners,
            _signCheckpoint(ROOT, missing),
            abi.encodeWithSelector(IChorusAttestations.NonSignersNotSorted.selector)
        );
    }

    function test_nonSigner_keyNotInTable_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[1]));
        nonSigners[0].pubkey = BlsSigner.pubkey(999);
        _expectSubmitRevert(nonSigners, _signCheckpoint(ROOT, _list(operators[1])), _notInTable(1));
    }

    function test_nonSigner_wrongWeight_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[1]));
        nonSigners[0].weight -= 1;
        _expectSubmitRevert(nonSigners, _signCheckpoint(ROOT, _list(operators[1])), _notInTable(1));
    }

    /// @dev The right key and weight at another operator's index, or one off.
    function test_nonSigner_rightKeyWrongIndex_reverts() public {
        bytes memory signature = _signCheckpoint(ROOT, _list(operators[1]));
        uint256[3] memory wrong = [uint256(0), 2, 6];
        for (uint256 i = 0; i < wrong.length; ++i) {
            NonSigner[] memory nonSigners = _nonSigners(_list(operators[1]));
            nonSigners[0].index = wrong[i];
            _expectSubmitRevert(nonSigners, signature, _notInTable(wrong[i]));
        }
    }

    /// @dev Two non-signers at their indexes with their keys exchanged: both leaves mismatch.
    function test_nonSigners_keysExchanged_reverts() public {
        address[] memory missing = _list(operators[1], operators[6]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        (nonSigners[0].pubkey, nonSigners[1].pubkey) = (nonSigners[1].pubkey, nonSigners[0].pubkey);
        (nonSigners[0].weight, nonSigners[1].weight) = (nonSigners[1].weight, nonSigners[0].weight);
        _expectSubmitRevert(nonSigners, _signCheckpoint(ROOT, missing), _notInTable(1));
    }

    /// @dev Past the last leaf (10 leaves here) every position reads as empty, up to the
    ///      last one a leaves contract can hold and beyond.
    function test_nonSigner_indexPastTheEnd_reverts() public {
        assertEq(table.operators.length, 10);
        bytes memory signature = _signCheckpoint(ROOT, _list(operators[9]));
        uint256[4] memory pastEnd = [uint256(10), 11, TableLeaves.MAX_LEAVES - 1, TableLeaves.MAX_LEAVES];
        for (uint256 i = 0; i < pastEnd.length; ++i) {
            NonSigner[] memory nonSigners = _nonSigners(_list(operators[9]));
            nonSigners[0].index = pastEnd[i];
            _expectSubmitRevert(nonSigners, signature, _notInTable(pastEnd[i]));
        }
    }

    /// @dev 1 + 2**251 * 32 wraps to 1 modulo 2**256: an unchecked offset would read leaf 0
    ///      (leaf k for 2**251 + k), so a real key and weight would pass at a fake index.
    function test_nonSigner_hugeIndexThatWouldWrapToARealLeaf_reverts() public {
        unchecked {
            assertEq(1 + (uint256(1) << 251) * 32, 1, "the offset wraps to leaf 0's");
        }
        bytes memory signature = _signCheckpoint(ROOT, _list(table.operators[0]));
        uint256[3] memory huge = [uint256(1) << 251, (uint256(1) << 251) + 3, type(uint256).max];
        for (uint256 i = 0; i < huge.length; ++i) {
            NonSigner[] memory nonSigners = _nonSigners(_list(table.operators[0]));
            nonSigners[0].index = huge[i];
            _expectSubmitRevert(nonSigners, signature, _notInTable(huge[i]));
        }
    }

    /// @dev The same operator listed at its index and again at the index that would wrap to
    ///      it: ascending, so only the read past MAX_LEAVES stops its weight counting twice.
    function test_nonSigners_sameOperatorAgainAtWrappingIndex_reverts() public {
        address first = table.operators[0];
        NonSigner[] memory once = _nonSigners(_list(first));
        NonSigner[] memory twice = new NonSigner[](2);
        twice[0] = once[0];
        twice[1] = NonSigner({pubkey: once[0].pubkey, weight: once[0].weight, index: uint256(1) << 251});
        _expectSubmitRevert(twice, _signCheckpoint(ROOT, _list(first)), _notInTable(uint256(1) << 251));
    }

    /// @dev An empty version's leaves contract holds only its STOP byte: nobody is in it.
    function test_nonSigner_inEmptyTable_reverts() public {
        bytes memory pubkey = table.pubkeys[0];
        uint256 weight = table.weights[0];
        for (uint256 i = 0; i < operators.length; ++i) {
            _setStake(operators[i], 0, 0);
        }
        assertEq(_updateTable(), 2);
        assertEq(table.leaves.code, hex"00");
        NonSigner[] memory nonSigners = new NonSigner[](1);
        nonSigners[0] = NonSigner({pubkey: pubkey, weight: weight, index: 0});
        _expectSubmitRevert(nonSigners, new bytes(BLS12381.G1_LENGTH), _notInTable(0));
    }

    /// @dev Indexes are positions in the restated version's leaves. Swap and pop moved the
    ///      last operator to index 0 in v2: its v1 index holds under v1 (in the grace
    ///      period) and not under v2, and its v2 index not under v1.
    function test_nonSigner_indexIsPositionInTheRestatedVersion() public {
        address moved = operators[9];
        TableRef memory v1 = table.ref;
        NonSigner[] memory v1NonSigners = _nonSigners(_list(moved));
        assertEq(v1NonSigners[0].index, 9);
        bytes32 rootA = keccak256("under v1, v1 index");
        bytes32 rootB = keccak256("under v1, v2 index");
        bytes memory signatureA = _signCheckpoint(rootA, _list(moved));
        bytes memory signatureB = _signCheckpoint(rootB, _list(moved));

        _deregister(operators[0]);
        assertEq(_updateTable(), 2);
        assertEq(table.operators[0], moved, "swap and pop");
        NonSigner[] memory v2NonSigners = _nonSigners(_list(moved));
        assertEq(v2NonSigners[0].index, 0);

        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, 0));
        attestations.submitCheckpoint(v1, rootB, v2NonSigners, signatureB);
        attestations.submitCheckpoint(v1, rootA, v1NonSigners, signatureA);
        assertGt(attestations.attestedAt(rootA), 0);

        bytes memory v2Signature = _signCheckpoint(ROOT, _list(moved));
        _expectSubmitRevert(v1NonSigners, v2Signature, _notInTable(9));
        _submit(ROOT, _list(moved));
        assertGt(attestations.attestedAt(ROOT), 0);
    }

    // ------------------------------------------------------------------
    // Signatures
    // ------------------------------------------------------------------

    /// @dev One operator did not sign, but is not listed as a non-signer.
    function test_signature_missingSignerNotDeclared_reverts() public {
        _expectSubmitRevert(
            new NonSigner[](0),
            _signCheckpoint(ROOT, _list(operators[5])),
            abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector)
        );
    }

    /// @dev A declared non-signer's signature is in the aggregate anyway.
    function test_signature_nonSignerAlsoSigned_reverts() public {
        _expectSubmitRevert(
            _nonSigners(_list(operators[5])),
            _signCheckpoint(ROOT, _none()),
            abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector)
        );
    }

    function test_signature_overAnotherRoot_reverts() public {
        _expectSubmitRevert(
            new NonSigner[](0),
            _signCheckpoint(keccak256("another root"), _none()),
            abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector)
        );
    }

    function test_signature_forAnotherAttestationContract_reverts() public {
        ChorusAttestations other = _mirror(QUORUM_BPS);
        bytes32 otherMessage = other.checkpointMessage(table.ref.version, ROOT);
        assertTrue(otherMessage != attestations.checkpointMessage(table.ref.version, ROOT));
        bytes memory signature = _aggregateSignature(table.operators, otherMessage);
        _expectSubmitRevert(
            new NonSigner[](0), signature, abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector)
        );
        // The same signature is good on the contract it was made for.
        other.submitCheckpoint(table.ref, ROOT, new NonSigner[](0), signature);
        assertGt(other.attestedAt(ROOT), 0);
    }

    function test_signature_forAnotherChain_reverts() public {
        bytes32 otherChain = CheckpointLib.signedMessage(1, address(attestations), table.ref.version, ROOT);
        _expectSubmitRevert(
            new NonSigner[](0),
            _aggregateSignature(table.operators, otherChain),
            abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector)
        );
    }

    function test_signature_forAnotherTableVersion_reverts() public {
        bytes memory forV1 = _signCheckpoint(ROOT, _none());
        _setStake(operators[0], 1000, 0);
        _updateTable();
        assertEq(table.ref.version, 2);
        // Operators 1..9 signed v1 and still weigh the same; v2 only re-weighs operator 0.
        _expectSubmitRevert(
            new NonSigner[](0), forV1, abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector)
        );
    }

    function test_signature_atInfinity_reverts() public {
        _expectSubmitRevert(
            new NonSigner[](0), new bytes(BLS12381.G1_LENGTH), abi.encodeWithSelector(BLS12381.PointAtInfinity.selector)
        );
    }

    function test_signature_wrongLength_reverts() public {
        _expectSubmitRevert(
            new NonSigner[](0),
            new bytes(BLS12381.G1_LENGTH - 1),
            abi.encodeWithSelector(BLS12381.InvalidPointEncoding.selector)
        );
    }

    /// @dev The message point and every verifier use the same domain: `checkpointMessage`
    ///      is the EIP-712 hashStruct of ChorusCheckpoint on this chain and contract.
    function test_checkpointMessage_isHashStructOfChorusCheckpoint() public view {
        bytes32 typehash = keccak256(
            "ChorusCheckpoint(uint256 l1ChainId,address attestationContract,uint32 tableVersion,bytes32 commitmentsRoot)"
        );
        assertEq(
            attestations.checkpointMessage(7, ROOT),
            keccak256(abi.encode(typehash, block.chainid, address(attestations), uint32(7), ROOT))
        );
    }

    // ------------------------------------------------------------------
    // Restated tables
    // ------------------------------------------------------------------

    function test_table_wrongTotalWeight_reverts() public {
        TableRef memory ref = table.ref;
        ref.totalWeight += 1;
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.TableMismatch.selector, 1));
    }

    function test_table_lowerTotalWeight_reverts() public {
        // A smaller total would make the quorum easier: it must not pass as the table.
        TableRef memory ref = table.ref;
        ref.totalWeight = 1;
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.TableMismatch.selector, 1));
    }

    function test_table_wrongApk_reverts() public {
        TableRef memory ref = table.ref;
        ref.apk = BlsSigner.pubkey(12345);
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.TableMismatch.selector, 1));
    }

    /// @dev The same point with x.c0 + p: a non-canonical encoding. The contract skips the
    ///      aggregate key's encoding check because the digest pins the exact bytes the
    ///      registry's precompiles produced; any other encoding is another digest.
    function test_table_nonCanonicalApkEncoding_revertsTableMismatch() public {
        TableRef memory ref = table.ref;
        ref.apk = bytes.concat(ref.apk);
        _addPToFirstFieldElement(ref.apk);
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.TableMismatch.selector, 1));
    }

    /// @dev Likewise a non-signer's key: only the registered bytes hash to its leaf.
    function test_nonSigner_nonCanonicalKeyEncoding_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[3]));
        _addPToFirstFieldElement(nonSigners[0].pubkey);
        _expectSubmitRevert(nonSigners, _signCheckpoint(ROOT, _list(operators[3])), _notInTable(3));
    }

    /// @dev The digest covers (apk, totalWeight) only; the leaves are kept beside it.
    function test_table_recordHoldsDigestAndLeaves() public view {
        (bytes28 digest, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(1);
        TableRef memory ref = table.ref;
        assertEq(digest, bytes28(keccak256(abi.encode(ref.apk, ref.totalWeight))));
        assertEq(expiresAtBlock, 0, "latest never expires");
        assertEq(leaves, table.leaves, "the event's leaves contract");
        bytes memory code = leaves.code;
        assertEq(code.length, 1 + 32 * 10);
        assertEq(uint8(code[0]), 0, "STOP first");
        for (uint256 i = 0; i < table.operators.length; ++i) {
            bytes32 leaf;
            assembly ("memory-safe") {
                leaf := mload(add(add(code, 0x21), mul(i, 0x20)))
            }
            assertEq(leaf, keccak256(abi.encode(keccak256(table.pubkeys[i]), table.weights[i])), "leaf i");
        }
    }

    function test_table_unknownVersionRecord_isEmpty() public view {
        (bytes28 digest, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(2);
        assertEq(digest, bytes28(0));
        assertEq(expiresAtBlock, 0);
        assertEq(leaves, address(0));
        (digest,, leaves) = attestations.tableRecord(0);
        assertEq(digest, bytes28(0));
        assertEq(leaves, address(0));
    }

    function test_table_apkIsSumOfOperatorKeys() public view {
        bytes memory sum = new bytes(BLS12381.G2_LENGTH);
        for (uint256 i = 0; i < operators.length; ++i) {
            sum = BLS12381.g2Add(sum, BlsSigner.pubkey(i + 1));
        }
        assertEq(table.ref.apk, sum);
    }

    // ------------------------------------------------------------------
    // Replay
    // ------------------------------------------------------------------

    function test_replay_sameRootTwice_reverts() public {
        _submit(ROOT, _none());
        NonSigner[] memory none = new NonSigner[](0);
        bytes memory signature = _signCheckpoint(ROOT, _none());
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.AlreadyAttested.selector, ROOT));
        attestations.submitCheckpoint(ref, ROOT, none, signature);
    }

    function test_replay_sameRootWithOtherSignerSet_reverts() public {
        _submit(ROOT, _none());
        address[] memory missing = _list(operators[2]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        bytes memory signature = _signCheckpoint(ROOT, missing);
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.AlreadyAttested.selector, ROOT));
        attestations.submitCheckpoint(ref, ROOT, nonSigners, signature);
    }

    function test_replay_sameRootUnderNewerTable_reverts() public {
        _submit(ROOT, _none());
        _setStake(operators[0], 1000, 0);
        _updateTable();
        NonSigner[] memory none = new NonSigner[](0);
        bytes memory signature = _signCheckpoint(ROOT, _none());
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.AlreadyAttested.selector, ROOT));
        attestations.submitCheckpoint(ref, ROOT, none, signature);
    }

    // ------------------------------------------------------------------
    // Table versions
    // ------------------------------------------------------------------

    function test_updateOperatorTable_nothingChanged_returnsSameVersion() public {
        (bytes28 digestBefore,, address leavesBefore) = attestations.tableRecord(1);
        vm.roll(block.number + 5);
        vm.recordLogs();
        assertEq(registry.updateOperatorTable(), 1);
        assertEq(vm.getRecordedLogs().length, 0, "no event");
        assertEq(registry.latestTableVersion(), 1);
        assertEq(attestations.latestTableVersion(), 1);
        (bytes28 digest, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(1);
        assertEq(digest, digestBefore);
        assertEq(expiresAtBlock, 0);
        assertEq(leaves, leavesBefore, "no new leaves contract");
    }

    function test_updateOperatorTable_stakeChange_publishesNextVersionAndExpiresPrevious() public {
        address v1Leaves = table.leaves;
        bytes memory v1Code = v1Leaves.code;
        vm.roll(100);
        _setStake(operators[0], 1000, 0);
        assertEq(_updateTable(), 2);
        (, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(1);
        assertEq(expiresAtBlock, 100 + GRACE_PERIOD);
        assertEq(leaves, v1Leaves, "v1 keeps its leaves");
        assertEq(v1Leaves.code, v1Code, "unchanged");
        (, uint32 latestExpiry, address v2Leaves) = attestations.tableRecord(2);
        assertEq(latestExpiry, 0);
        assertTrue(v2Leaves != v1Leaves, "a leaves contract per version");
        assertEq(_weightOf(operators[0]), 1000);
        assertEq(attestations.latestTableVersion(), 2);
    }

    /// @dev Weight moved between two operators, total unchanged: same apk and total, so the
    ///      same digest, but other leaves, so a new version. A non-signer's v1 weight no
    ///      longer holds under v2.
    function test_updateOperatorTable_sameTotalOtherWeights_publishesWithSameDigest() public {
        TableRef memory v1 = table.ref;
        NonSigner[] memory v1NonSigners = _nonSigners(_list(operators[0]));
        vm.roll(100);
        _setStake(operators[0], 100 + 5, 50);
        _setStake(operators[1], 101 - 5, 50);
        assertEq(_updateTable(), 2, "a new version");
        assertEq(table.ref.totalWeight, v1.totalWeight);
        assertEq(table.ref.apk, v1.apk);
        (bytes28 v1Digest, uint32 v1Expiry, address v1Leaves) = attestations.tableRecord(1);
        (bytes28 v2Digest,, address v2Leaves) = attestations.tableRecord(2);
        assertEq(v2Digest, v1Digest, "same digest");
        assertTrue(v2Leaves != v1Leaves);
        assertEq(v1Expiry, 100 + GRACE_PERIOD, "v1 superseded all the same");

        bytes memory signature = _signCheckpoint(ROOT, _list(operators[0]));
        _expectSubmitRevert(v1NonSigners, signature, _notInTable(0));
        v1NonSigners[0].weight = _weightOf(operators[0]);
        attestations.submitCheckpoint(table.ref, ROOT, v1NonSigners, signature);
        assertGt(attestations.attestedAt(ROOT), 0);
    }

    /// @dev The same operators and weights in another order (one left and came back, so swap
    ///      and pop moved it to the end) are other leaves: a new version, same digest.
    function test_updateOperatorTable_reorderOnly_publishes() public {
        address operator = operators[0];
        TableRef memory v1 = table.ref;
        _deregister(operator);
        _register(operator, skOf[operator]);
        assertEq(_updateTable(), 2);
        assertEq(table.operators[0], operators[9]);
        assertEq(table.operators[9], operator);
        assertEq(table.ref.totalWeight, v1.totalWeight);
        assertEq(table.ref.apk, v1.apk);
        assertEq(_updateTable(), 2, "then nothing changed");
    }

    function test_staleTable_acceptedUntilLastGraceBlock() public {
        TableRef memory v1 = table.ref;
        bytes memory signature = _signCheckpoint(ROOT, _none());
        NonSigner[] memory none = new NonSigner[](0);
        vm.roll(100);
        _setStake(operators[0], 1000, 0);
        _updateTable();
        vm.roll(100 + GRACE_PERIOD);
        attestations.submitCheckpoint(v1, ROOT, none, signature);
        assertEq(attestations.attestedAt(ROOT), 100 + GRACE_PERIOD);
    }

    function test_staleTable_rejectedAfterGracePeriod() public {
        TableRef memory v1 = table.ref;
        bytes memory signature = _signCheckpoint(ROOT, _none());
        NonSigner[] memory none = new NonSigner[](0);
        vm.roll(100);
        _setStake(operators[0], 1000, 0);
        _updateTable();
        vm.roll(100 + GRACE_PERIOD + 1);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.StaleTableVersion.selector, 1, 100 + GRACE_PERIOD));
        attestations.submitCheckpoint(v1, ROOT, none, signature);
    }

    /// @dev A superseded version keeps the expiry it got when first superseded.
    function test_staleTable_expiryNotExtendedByLaterVersions() public {
        vm.roll(100);
        _setStake(operators[0], 1000, 0);
        _updateTable();
        vm.roll(105);
        _setStake(operators[0], 2000, 0);
        _updateTable();
        (, uint32 v1Expiry,) = attestations.tableRecord(1);
        (, uint32 v2Expiry,) = attestations.tableRecord(2);
        assertEq(v1Expiry, 100 + GRACE_PERIOD);
        assertEq(v2Expiry, 105 + GRACE_PERIOD);
    }

    /// @dev With no grace period a superseded version still counts in the block that
    ///      superseded it (expiresAtBlock is the last block accepted), never after.
    function test_zeroGracePeriod_previousVersionLastsTheSupersedingBlockOnly() public {
        ChorusAttestations strict = new ChorusAttestations(owner, registry, QUORUM_BPS, 0);
        assertEq(strict.tableGracePeriod(), 0);
        TableRef memory v1 = table.ref;
        _record(strict, 1, v1.apk, v1.totalWeight, table.leaves);
        NonSigner[] memory none = new NonSigner[](0);
        bytes32 late = keccak256("late");
        bytes memory signature = _aggregateSignature(table.operators, strict.checkpointMessage(1, ROOT));
        bytes memory lateSignature = _aggregateSignature(table.operators, strict.checkpointMessage(1, late));

        vm.roll(100);
        _record(strict, 2, v1.apk, v1.totalWeight + 1, table.leaves);
        (, uint32 expiresAtBlock,) = strict.tableRecord(1);
        assertEq(expiresAtBlock, 100);
        strict.submitCheckpoint(v1, ROOT, none, signature);
        vm.roll(101);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.StaleTableVersion.selector, 1, 100));
        strict.submitCheckpoint(v1, late, none, lateSignature);
    }

    /// @dev A grace period near type(uint32).max (say, meant as "superseded versions never
    ///      expire") must not overflow when a version is superseded: that would make every
    ///      later table update revert and freeze the tables at version 1 for good. The
    ///      expiry saturates at type(uint32).max instead.
    function test_hugeGracePeriod_saturatesInsteadOfFreezingTables() public {
        ChorusRegistry fresh = new ChorusRegistry(owner, allocationManager, permissionController, MAX_OPERATORS, 1);
        ChorusAttestations lenient = new ChorusAttestations(owner, fresh, QUORUM_BPS, type(uint32).max);
        vm.prank(owner);
        fresh.setupAvs("uri", _strategies(), _multipliers(), address(slasher), address(lenient));
        assertEq(fresh.updateOperatorTable(), 1, "an empty first version, nothing to supersede");

        address operator = makeAddr("operator of the lenient deployment");
        _setStake(operator, 5, 0);
        allocationManager.registerForOperatorSets(
            operator, address(fresh), _setIds(), BlsSigner.registrationData(4242, address(fresh), operator)
        );
        try fresh.updateOperatorTable() returns (uint32 version) {
            assertEq(version, 2);
        } catch {
            assertTrue(false, "updateOperatorTable reverts for good: the expiry of version 1 overflows uint32");
        }
    }

    function test_unknownTableVersion_reverts() public {
        TableRef memory ref = table.ref;
        ref.version = 2;
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.UnknownTableVersion.selector, 2));
        ref.version = 0;
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.UnknownTableVersion.selector, 0));
    }

    // ------------------------------------------------------------------
    // Empty tables: departed operators stop attesting
    // ------------------------------------------------------------------

    function test_emptyTable_afterDeregistration_retiresPreviousTable() public {
        _expectDepartedOperatorsRetired(Departure.Deregistered);
    }

    function test_emptyTable_afterStakeWithdrawn_retiresPreviousTable() public {
        _expectDepartedOperatorsRetired(Departure.ZeroStake);
    }

    function test_emptyTable_afterEjection_retiresPreviousTable() public {
        _expectDepartedOperatorsRetired(Departure.Ejected);
    }

    /// @dev No checkpoint reaches a quorum of nothing, whatever signature it carries.
    function test_emptyTable_anySubmission_quorumNotReached() public {
        for (uint256 i = 0; i < operators.length; ++i) {
            _deregister(operators[i]);
        }
        assertEq(_updateTable(), 2);
        TableRef memory empty = table.ref;
        assertEq(empty.totalWeight, 0);
        NonSigner[] memory none = new NonSigner[](0);
        bytes memory anySignature = BlsSigner.signMessage(1, attestations.checkpointMessage(2, ROOT));
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.QuorumNotReached.selector, 0, 0));
        attestations.submitCheckpoint(empty, ROOT, none, anySignature);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.QuorumNotReached.selector, 0, 0));
        attestations.submitCheckpoint(empty, ROOT, none, new bytes(BLS12381.G1_LENGTH));
    }

    enum Departure {
        Deregistered,
        ZeroStake,
        Ejected
    }

    /// @dev Every operator leaves; the old table's signatures count until the empty version
    ///      that replaced it has been the latest for the grace period, and never after.
    function _expectDepartedOperatorsRetired(Departure departure) internal {
        TableRef memory v1 = table.ref;
        bytes32 lateRoot = keccak256("signed before leaving, submitted late");
        bytes memory signature = _signCheckpoint(ROOT, _none());
        bytes memory lateSignature = _signCheckpoint(lateRoot, _none());
        NonSigner[] memory none = new NonSigner[](0);

        vm.roll(100);
        for (uint256 i = 0; i < operators.length; ++i) {
            if (departure == Departure.Deregistered) _deregister(operators[i]);
            else if (departure == Departure.ZeroStake) _setStake(operators[i], 0, 0);
            else _eject(operators[i]);
        }
        assertEq(_updateTable(), 2, "an empty version is published");
        assertEq(table.ref.totalWeight, 0);

        vm.roll(100 + GRACE_PERIOD);
        attestations.submitCheckpoint(v1, ROOT, none, signature);
        assertEq(attestations.attestedAt(ROOT), 100 + GRACE_PERIOD, "in flight: still lands");

        vm.roll(100 + GRACE_PERIOD + 1);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.StaleTableVersion.selector, 1, 100 + GRACE_PERIOD));
        attestations.submitCheckpoint(v1, lateRoot, none, lateSignature);
        assertEq(attestations.attestedAt(lateRoot), 0);
    }

    // ------------------------------------------------------------------
    // Quorum parameter
    // ------------------------------------------------------------------

    function test_constructor_quorumOutOfRange_reverts() public {
        uint16[3] memory invalid = [uint16(0), 10_001, type(uint16).max];
        for (uint256 i = 0; i < invalid.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.InvalidQuorum.selector, invalid[i]));
            new ChorusAttestations(owner, registry, invalid[i], GRACE_PERIOD);
        }
    }

    function test_constructor_quorumBounds_accepted() public {
        assertEq(new ChorusAttestations(owner, registry, 1, GRACE_PERIOD).quorumBps(), 1);
        assertEq(new ChorusAttestations(owner, registry, 10_000, GRACE_PERIOD).quorumBps(), 10_000);
        assertEq(attestations.quorumBps(), QUORUM_BPS);
        assertEq(attestations.registry(), address(registry));
        assertEq(attestations.tableGracePeriod(), GRACE_PERIOD);
    }

    function test_constructor_noTableYet() public {
        ChorusAttestations fresh = new ChorusAttestations(owner, registry, QUORUM_BPS, GRACE_PERIOD);
        assertEq(fresh.latestTableVersion(), 0);
        (bytes28 digest,, address leaves) = fresh.tableRecord(1);
        assertEq(digest, bytes28(0));
        assertEq(leaves, address(0));
        NonSigner[] memory none = new NonSigner[](0);
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.UnknownTableVersion.selector, 1));
        fresh.submitCheckpoint(ref, ROOT, none, "");
    }

    // ------------------------------------------------------------------
    // recordTable: the registry's, in order
    // ------------------------------------------------------------------

    function test_recordTable_byAnyoneButTheRegistry_reverts() public {
        address[4] memory callers = [owner, makeAddr("stranger"), address(slasher), address(attestations)];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.OnlyRegistry.selector));
            attestations.recordTable(2, bytes28(keccak256("forged")), table.leaves);
        }
        assertEq(attestations.latestTableVersion(), 1);
        (bytes28 digest,,) = attestations.tableRecord(2);
        assertEq(digest, bytes28(0));
    }

    /// @dev Versions are consecutive: neither a recorded one again nor a gap.
    function test_recordTable_versionNotNext_reverts() public {
        uint32[4] memory wrong = [uint32(0), 1, 3, type(uint32).max];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(address(registry));
            vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.TableVersionNotNext.selector, wrong[i]));
            attestations.recordTable(wrong[i], bytes28(keccak256("forged")), table.leaves);
        }
        (bytes28 digest, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(1);
        assertEq(digest, bytes28(keccak256(abi.encode(table.ref.apk, table.ref.totalWeight))), "v1 untouched");
        assertEq(expiresAtBlock, 0);
        assertEq(leaves, table.leaves);
    }

    /// @dev A fresh attestation contract starts at version 1.
    function test_recordTable_firstVersionIsOne() public {
        ChorusAttestations fresh = new ChorusAttestations(owner, registry, QUORUM_BPS, GRACE_PERIOD);
        vm.startPrank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.TableVersionNotNext.selector, 0));
        fresh.recordTable(0, bytes28(keccak256("d")), table.leaves);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.TableVersionNotNext.selector, 2));
        fresh.recordTable(2, bytes28(keccak256("d")), table.leaves);
        fresh.recordTable(1, bytes28(keccak256("d")), table.leaves);
        vm.stopPrank();
        assertEq(fresh.latestTableVersion(), 1);
    }

    /// @dev Every version the registry publishes lands here with the event's leaves contract.
    function test_recordTable_followsEveryPublishedVersion() public {
        address[] memory seen = new address[](4);
        seen[0] = table.leaves;
        for (uint32 v = 2; v <= 4; ++v) {
            vm.roll(block.number + 1);
            _setStake(operators[v], 1000 + v, 0);
            assertEq(_updateTable(), v);
            seen[v - 1] = table.leaves;
        }
        for (uint32 v = 1; v <= 4; ++v) {
            (,, address leaves) = attestations.tableRecord(v);
            assertEq(leaves, seen[v - 1]);
        }
        assertEq(attestations.latestTableVersion(), registry.latestTableVersion());
    }

    /// @dev At 100% every operator must sign: one non-signer, however light, is too many.
    function test_quorumOfAll_oneNonSigner_reverts() public {
        ChorusAttestations unanimous = _mirror(10_000);
        address[] memory missing = _list(operators[0]);
        bytes32 message = unanimous.checkpointMessage(table.ref.version, ROOT);
        bytes memory signature = _aggregateSignature(_signersExcept(missing), message);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        TableRef memory ref = table.ref;
        vm.expectRevert(
            abi.encodeWithSelector(
                IChorusAttestations.QuorumNotReached.selector, ref.totalWeight - 200, ref.totalWeight
            )
        );
        unanimous.submitCheckpoint(ref, ROOT, nonSigners, signature);
        unanimous.submitCheckpoint(ref, ROOT, new NonSigner[](0), _aggregateSignature(table.operators, message));
        assertGt(unanimous.attestedAt(ROOT), 0);
    }

    // ------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------

    function _expectSubmitRevert(NonSigner[] memory nonSigners, bytes memory signature, bytes memory reason) internal {
        TableRef memory ref = table.ref;
        vm.expectRevert(reason);
        attestations.submitCheckpoint(ref, ROOT, nonSigners, signature);
        assertEq(attestations.attestedAt(ROOT), 0);
    }

    function _expectSubmitRevertWith(TableRef memory ref, bytes memory reason) internal {
        bytes memory signature = _signCheckpoint(ROOT, _none());
        vm.expectRevert(reason);
        attestations.submitCheckpoint(ref, ROOT, new NonSigner[](0), signature);
    }

    /// @dev Adds p to the first 64-byte field element; p + x < 2^384 for x < p.
    function _addPToFirstFieldElement(bytes memory point) internal pure {
        uint256 hi;
        uint256 lo;
        assembly ("memory-safe") {
            hi := mload(add(point, 0x20))
            lo := mload(add(point, 0x40))
        }
        unchecked {
            uint256 newLo = lo + BLS12381.P_LO;
            hi = hi + BLS12381.P_HI + (newLo < lo ? 1 : 0);
            lo = newLo;
        }
        assembly ("memory-safe") {
            mstore(add(point, 0x20), hi)
            mstore(add(point, 0x40), lo)
        }
    }

    function _notInTable(uint256 index) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, index);
    }

    /// @dev Another attestation contract of this registry with the latest table recorded as
    ///      version 1 (the registry records only in its own; here it is impersonated).
    function _mirror(uint16 quorumBps) internal returns (ChorusAttestations other) {
        assertEq(table.ref.version, 1);
        other = new ChorusAttestations(owner, registry, quorumBps, GRACE_PERIOD);
        _record(other, 1, table.ref.apk, table.ref.totalWeight, table.leaves);
    }

    function _record(ChorusAttestations target, uint32 version, bytes memory apk, uint256 totalWeight, address leaves)
        internal
    {
        vm.prank(address(registry));
        target.recordTable(version, bytes28(keccak256(abi.encode(apk, totalWeight))), leaves);
    }
}
