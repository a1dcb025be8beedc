// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Vm} from "forge-std/Test.sol";

import {Commitment, IChorusAttestations, NonSigner, TableRef} from "../../src/interfaces/IChorus.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";

/// @notice Recording mode (latest commitment per rollup) and leaf checks against attested roots.
contract ChorusRecordingTest is ChorusTestBase {
    function test_recording_storesEachRollupsLatestCommitment() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        vm.roll(77);
        vm.expectEmit(true, true, false, true, address(attestations));
        emit IChorusAttestations.CheckpointAttested(root, 1, table.ref.totalWeight);
        for (uint256 i = 0; i < 3; ++i) {
            Commitment memory c = commitments[i];
            vm.expectEmit(true, true, false, true, address(attestations));
            emit IChorusAttestations.CommitmentAttested(c.rollupId, c.l2BlockNumber, c.l2BlockHash, c.stateRoot, root);
        }
        _submitWithCommitments(commitments);

        assertEq(attestations.attestedAt(root), 77);
        for (uint256 i = 0; i < 3; ++i) {
            _assertLatest(commitments[i], root, 77);
        }
    }

    function test_recording_higherHeightOverwrites() public {
        _submitWithCommitments(_threeCommitments(100, "a"));
        Commitment[] memory later = _threeCommitments(101, "b");
        vm.roll(block.number + 3);
        _submitWithCommitments(later);
        _assertLatest(later[1], _checkpointRoot(later), uint64(block.number));
    }

    function test_recording_olderHeightDoesNotOverwrite() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        _submitWithCommitments(first);
        uint64 firstBlock = uint64(block.number);
        vm.roll(block.number + 1);
        Commitment[] memory older = _threeCommitments(99, "b");
        _submitWithCommitments(older);

        assertGt(attestations.attestedAt(_checkpointRoot(older)), 0, "the older checkpoint is still attested");
        for (uint256 i = 0; i < 3; ++i) {
            _assertLatest(first[i], _checkpointRoot(first), firstBlock);
        }
    }

    /// @dev First attested wins at one height; a later checkpoint does not replace it.
    function test_recording_sameHeightDoesNotOverwrite() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        _submitWithCommitments(first);
        _submitWithCommitments(_threeCommitments(100, "b"));
        _assertLatest(first[0], _checkpointRoot(first), uint64(block.number));
    }

    function test_recording_mixedHeights_updatesOnlyNewer() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        _submitWithCommitments(first);
        Commitment[] memory second = new Commitment[](2);
        second[0] = _commitment(OPTIMISM, 101, "b");
        second[1] = _commitment(BASE, 50, "b");
        _submitWithCommitments(second);
        _assertLatest(second[0], _checkpointRoot(second), uint64(block.number));
        _assertLatest(first[1], _checkpointRoot(first), uint64(block.number));
    }

    function test_recording_withNonSigner() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        address[] memory missing = _list(operators[4]);
        attestations.submitCheckpointWithCommitments(
            table.ref, commitments, _nonSigners(missing), _signCheckpoint(root, missing)
        );
        _assertLatest(commitments[2], root, uint64(block.number));
    }

    /// @dev Recording mode checks non-signers as root-only mode does: by position in the
    ///      version's leaves. Nothing is recorded when one is wrong.
    function test_recording_nonSignerAtWrongIndex_revertsAndRecordsNothing() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        address[] memory missing = _list(operators[4]);
        NonSigner[] memory nonSigners = _nonSigners(missing);
        assertEq(nonSigners[0].index, 4);
        nonSigners[0].index = 5;
        bytes memory signature = _signCheckpoint(root, missing);
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.NonSignerNotInTable.selector, 5));
        attestations.submitCheckpointWithCommitments(ref, commitments, nonSigners, signature);
        assertEq(attestations.attestedAt(root), 0);
        (Commitment memory latest,,) = attestations.latestCommitment(OPTIMISM);
        assertEq(latest.l2BlockNumber, 0, "nothing recorded");
    }

    function test_recording_unknownRollup_hasNothing() public view {
        (Commitment memory commitment, bytes32 root, uint64 attestedAtBlock) = attestations.latestCommitment(OPTIMISM);
        assertEq(commitment.l2BlockNumber, 0);
        assertEq(root, bytes32(0));
        assertEq(attestedAtBlock, 0);
    }

    function test_recording_unlistedRollup_reverts() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        commitments[2].rollupId = 999_999;
        _expectRecordingRevert(
            commitments, abi.encodeWithSelector(IChorusAttestations.RollupNotAttested.selector, 999_999)
        );
    }

    function test_recording_removedRollup_revertsButKeepsWhatWasRecorded() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        _submitWithCommitments(first);
        vm.prank(owner);
        attestations.removeRollup(BASE);
        _expectRecordingRevert(
            _threeCommitments(101, "b"), abi.encodeWithSelector(IChorusAttestations.RollupNotAttested.selector, BASE)
        );
        _assertLatest(first[1], _checkpointRoot(first), uint64(block.number));
    }

    function test_recording_unsorted_reverts() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        (commitments[0], commitments[1]) = (commitments[1], commitments[0]);
        _expectRecordingRevert(commitments, abi.encodeWithSelector(IChorusAttestations.CommitmentsNotSorted.selector));
    }

    function test_recording_twoCommitmentsOfOneRollup_reverts() public {
        Commitment[] memory commitments = new Commitment[](2);
        commitments[0] = _commitment(OPTIMISM, 100, "a");
        commitments[1] = _commitment(OPTIMISM, 101, "a");
        _expectRecordingRevert(commitments, abi.encodeWithSelector(IChorusAttestations.CommitmentsNotSorted.selector));
    }

    function test_recording_noCommitments_reverts() public {
        _expectRecordingRevert(new Commitment[](0), abi.encodeWithSelector(IChorusAttestations.NoCommitments.selector));
    }

    /// @dev The signature covers the root of the commitments: changing one leaf changes the root.
    function test_recording_commitmentChangedAfterSigning_reverts() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes memory signature = _signCheckpoint(_checkpointRoot(commitments), _none());
        commitments[1].stateRoot = keccak256("forged state");
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.InvalidSignature.selector));
        attestations.submitCheckpointWithCommitments(ref, commitments, new NonSigner[](0), signature);
    }

    // ------------------------------------------------------------------
    // Recording a root that is attested already
    // ------------------------------------------------------------------

    /// @dev Anyone who sees a recording-mode submission in the mempool can post the same root,
    ///      non-signers and signature through `submitCheckpoint` first. The recording then
    ///      skips the (done) attestation and still records every commitment.
    function test_recording_afterRootOnlyFrontRun_stillRecords() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        bytes memory signature = _signCheckpoint(root, _none());
        TableRef memory ref = table.ref;
        NonSigner[] memory none = new NonSigner[](0);

        vm.roll(50);
        vm.prank(makeAddr("front-runner"));
        attestations.submitCheckpoint(ref, root, none, signature);
        assertEq(attestations.attestedAt(root), 50);

        vm.roll(52);
        vm.recordLogs();
        attestations.submitCheckpointWithCommitments(ref, commitments, none, signature);
        Vm.Log[] memory logs = _logsOf(vm.getRecordedLogs(), address(attestations));
        assertEq(logs.length, 3, "three CommitmentAttested, no second CheckpointAttested");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(logs[i].topics[0], IChorusAttestations.CommitmentAttested.selector);
            // The latest commitment carries its root's attestation block, not the recording's.
            _assertLatest(commitments[i], root, 50);
        }
        assertEq(attestations.attestedAt(root), 50, "attestation block unchanged");
    }

    /// @dev The block reported with a rollup's latest commitment is its root's attestation
    ///      block, so it can go back: a higher height recorded late, from a root attested
    ///      root-only long ago, reports that older block.
    function test_recording_lateRecordedHigherHeight_reportsItsOlderAttestationBlock() public {
        Commitment[] memory early = _threeCommitments(300, "early");
        bytes32 earlyRoot = _checkpointRoot(early);
        vm.roll(50);
        _submit(earlyRoot, _none());

        vm.roll(60);
        Commitment[] memory middle = _threeCommitments(200, "middle");
        _submitWithCommitments(middle);
        _assertLatest(middle[0], _checkpointRoot(middle), 60);

        vm.roll(70);
        attestations.submitCheckpointWithCommitments(table.ref, early, new NonSigner[](0), "");
        for (uint256 i = 0; i < 3; ++i) {
            _assertLatest(early[i], earlyRoot, 50);
        }
    }

    /// @dev The root is proven already: neither the table nor the signature is looked at.
    function test_recording_attestedRoot_signatureAndTableNotChecked() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        _submit(root, _none());

        TableRef memory bogus = table.ref;
        bogus.version = 99;
        bogus.totalWeight = 0;
        attestations.submitCheckpointWithCommitments(bogus, commitments, new NonSigner[](0), "");
        for (uint256 i = 0; i < 3; ++i) {
            _assertLatest(commitments[i], root, uint64(block.number));
        }
    }

    /// @dev The listing and order checks still apply before the root is looked up.
    function test_recording_attestedRoot_unlistedRollupStillReverts() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        commitments[1].rollupId = 999;
        _submit(_checkpointRoot(commitments), _none());
        _expectRecordingRevert(commitments, abi.encodeWithSelector(IChorusAttestations.RollupNotAttested.selector, 999));
    }

    /// @dev Recording the same commitments twice: the second records nothing new and emits nothing.
    function test_recording_sameCommitmentsTwice_secondIsNoOp() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        _submitWithCommitments(commitments);
        uint64 firstBlock = uint64(block.number);
        vm.roll(block.number + 1);
        vm.recordLogs();
        _submitWithCommitments(commitments);
        assertEq(_logsOf(vm.getRecordedLogs(), address(attestations)).length, 0);
        _assertLatest(commitments[0], _checkpointRoot(commitments), firstBlock);
    }

    /// @dev Root-only mode does not have this exemption: a second attestation is refused.
    function test_rootOnly_afterRecording_revertsAlreadyAttested() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        _submitWithCommitments(commitments);
        bytes memory signature = _signCheckpoint(root, _none());
        TableRef memory ref = table.ref;
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.AlreadyAttested.selector, root));
        attestations.submitCheckpoint(ref, root, new NonSigner[](0), signature);
    }

    /// @dev A root attested long ago may be recorded later, but never moves a rollup back.
    function test_recording_oldAttestedRoot_doesNotRegress() public {
        Commitment[] memory old = _threeCommitments(100, "old");
        bytes32 oldRoot = _checkpointRoot(old);
        _submit(oldRoot, _none());
        Commitment[] memory current = _threeCommitments(200, "new");
        _submitWithCommitments(current);
        attestations.submitCheckpointWithCommitments(table.ref, old, new NonSigner[](0), "");
        for (uint256 i = 0; i < 3; ++i) {
            _assertLatest(current[i], _checkpointRoot(current), uint64(block.number));
        }
    }

    // ------------------------------------------------------------------
    // verifyCommitment
    // ------------------------------------------------------------------

    function test_verifyCommitment_everyLeafOfRootOnlyCheckpoint() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        _submit(root, _none());
        for (uint256 i = 0; i < commitments.length; ++i) {
            assertTrue(attestations.verifyCommitment(commitments[i], root, _commitmentProof(commitments, i)));
        }
    }

    function test_verifyCommitment_everyLeafOfRecordedCheckpoint() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        _submitWithCommitments(commitments);
        bytes32 root = _checkpointRoot(commitments);
        for (uint256 i = 0; i < commitments.length; ++i) {
            assertTrue(attestations.verifyCommitment(commitments[i], root, _commitmentProof(commitments, i)));
        }
    }

    function test_verifyCommitment_nonLeaf_false() public {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        _submit(root, _none());
        Commitment memory forged = commitments[0];
        forged.stateRoot = keccak256("forged state");
        assertFalse(attestations.verifyCommitment(forged, root, _commitmentProof(commitments, 0)));
        assertFalse(attestations.verifyCommitment(commitments[0], root, _commitmentProof(commitments, 1)));
    }

    function test_verifyCommitment_unattestedRoot_false() public view {
        Commitment[] memory commitments = _threeCommitments(100, "a");
        bytes32 root = _checkpointRoot(commitments);
        assertFalse(attestations.verifyCommitment(commitments[0], root, _commitmentProof(commitments, 0)));
    }

    // ------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------

    function _assertLatest(Commitment memory expected, bytes32 expectedRoot, uint64 expectedBlock) internal view {
        (Commitment memory commitment, bytes32 root, uint64 attestedAtBlock) =
            attestations.latestCommitment(expected.rollupId);
        assertEq(keccak256(abi.encode(commitment)), keccak256(abi.encode(expected)), "commitment");
        assertEq(root, expectedRoot, "root");
        assertEq(attestedAtBlock, expectedBlock, "block");
    }

    function _expectRecordingRevert(Commitment[] memory commitments, bytes memory reason) internal {
        bytes memory signature =
            commitments.length == 0 ? new bytes(128) : _signCheckpoint(_checkpointRoot(commitments), _none());
        TableRef memory ref = table.ref;
        vm.expectRevert(reason);
        attestations.submitCheckpointWithCommitments(ref, commitments, new NonSigner[](0), signature);
    }
}
