// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {BLS12381} from "../../src/bls/BLS12381.sol";
import {ChorusAttestations} from "../../src/ChorusAttestations.sol";
import {CheckpointLib} from "../../src/CheckpointLib.sol";
import {Commitment, IChorusAttestations, NonSigner, TableRef} from "../../src/interfaces/IChorus.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Aggregate verification, quorum, replay and table versions (root-only mode).
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
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, total, total, address(this));
        _submit(ROOT, _none());
        assertEq(attestations.attestedAt(ROOT), 42);
    }

    function test_submit_oneNonSigner_signedWeightExcludesIt() public {
        address missing = operators[3];
        uint256 total = table.ref.totalWeight;
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, total - _weightOf(missing), total, address(this));
        _submit(ROOT, _list(missing));
        assertGt(attestations.attestedAt(ROOT), 0);
    }

    function test_submit_severalNonSigners_signedWeightExcludesThem() public {
        address[] memory missing = _list(operators[0], operators[9], operators[4]);
        uint256 signed = table.ref.totalWeight - (200 + 209 + 204);
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(ROOT, 1, signed, table.ref.totalWeight, address(this));
        _submit(ROOT, missing);
    }

    /// @dev The last leaf of a 10-leaf tree is carried up twice: its proof is short.
    function test_submit_nonSignerWithCarriedUpLeaf_verifies() public {
        address missing = table.operators[9];
        assertEq(_nonSigners(_list(missing))[0].proof.length, 2, "10 -> 5 -> 3 -> 2 -> 1: two siblings");
        _submit(ROOT, _list(missing));
        assertGt(attestations.attestedAt(ROOT), 0);
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
        emit IChorusAttestations.CheckpointAttested(ROOT, table.ref.version, 6667, 10_000, address(this));
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

    function test_nonSigners_unsorted_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[1], operators[2]));
        (nonSigners[0], nonSigners[1]) = (nonSigners[1], nonSigners[0]);
        _expectSubmitRevert(
            nonSigners,
            _signCheckpoint(ROOT, _list(operators[1], operators[2])),
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

    function test_nonSigner_keyNotInTable_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[1]));
        nonSigners[0].pubkey = BlsSigner.pubkey(999);
        _expectSubmitRevert(
            nonSigners,
            _signCheckpoint(ROOT, _list(operators[1])),
            abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, keccak256(nonSigners[0].pubkey))
        );
    }

    function test_nonSigner_wrongWeight_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[1]));
        nonSigners[0].weight -= 1;
        _expectSubmitRevert(
            nonSigners,
            _signCheckpoint(ROOT, _list(operators[1])),
            abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, keccak256(nonSigners[0].pubkey))
        );
    }

    function test_nonSigner_proofOfAnotherLeaf_reverts() public {
        NonSigner[] memory nonSigners = _nonSigners(_list(operators[1]));
        nonSigners[0].proof = _nonSigners(_list(operators[6]))[0].proof;
        _expectSubmitRevert(
            nonSigners,
            _signCheckpoint(ROOT, _list(operators[1])),
            abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, keccak256(nonSigners[0].pubkey))
        );
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
        ChorusAttestations other = new ChorusAttestations(owner, registry, QUORUM_BPS);
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

    function test_table_wrongOperatorsRoot_reverts() public {
        TableRef memory ref = table.ref;
        ref.operatorsRoot = keccak256("another operator tree");
        _expectSubmitRevertWith(ref, abi.encodeWithSelector(IChorusAttestations.TableMismatch.selector, 1));
    }

    function test_table_digestMatchesRegistryRecord() public view {
        (bytes28 digest, uint32 expiresAtBlock) = registry.tableRecord(1);
        TableRef memory ref = table.ref;
        assertEq(digest, bytes28(keccak256(abi.encode(ref.apk, ref.totalWeight, ref.operatorsRoot))));
        assertEq(expiresAtBlock, 0, "latest never expires");
        assertEq(ref.operatorsRoot, MerkleBuilder.root(_operatorLeaves()));
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
        (bytes28 digestBefore,) = registry.tableRecord(1);
        vm.roll(block.number + 5);
        vm.recordLogs();
        assertEq(registry.updateOperatorTable(), 1);
        assertEq(vm.getRecordedLogs().length, 0, "no event");
        assertEq(registry.latestTableVersion(), 1);
        (bytes28 digest, uint32 expiresAtBlock) = registry.tableRecord(1);
        assertEq(digest, digestBefore);
        assertEq(expiresAtBlock, 0);
    }

    function test_updateOperatorTable_stakeChange_publishesNextVersionAndExpiresPrevious() public {
        vm.roll(100);
        _setStake(operators[0], 1000, 0);
        assertEq(_updateTable(), 2);
        (, uint32 expiresAtBlock) = registry.tableRecord(1);
        assertEq(expiresAtBlock, 100 + GRACE_PERIOD);
        (, uint32 latestExpiry) = registry.tableRecord(2);
        assertEq(latestExpiry, 0);
        assertEq(_weightOf(operators[0]), 1000);
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
        (, uint32 v1Expiry) = registry.tableRecord(1);
        (, uint32 v2Expiry) = registry.tableRecord(2);
        assertEq(v1Expiry, 100 + GRACE_PERIOD);
        assertEq(v2Expiry, 105 + GRACE_PERIOD);
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
            new ChorusAttestations(owner, registry, invalid[i]);
        }
    }

    function test_constructor_quorumBounds_accepted() public {
        assertEq(new ChorusAttestations(owner, registry, 1).quorumBps(), 1);
        assertEq(new ChorusAttestations(owner, registry, 10_000).quorumBps(), 10_000);
        assertEq(attestations.quorumBps(), QUORUM_BPS);
        assertEq(attestations.registry(), address(registry));
    }

    /// @dev At 100% every operator must sign: one non-signer, however light, is too many.
    function test_quorumOfAll_oneNonSigner_reverts() public {
        ChorusAttestations unanimous = new ChorusAttestations(owner, registry, 10_000);
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
}
