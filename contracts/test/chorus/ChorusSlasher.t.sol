// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Vm} from "forge-std/Test.sol";

import {ChorusAttestations} from "../../src/ChorusAttestations.sol";
import {ChorusSlasher} from "../../src/ChorusSlasher.sol";
import {CheckpointLib} from "../../src/CheckpointLib.sol";
import {Commitment, IChorusRegistry, IChorusSlasher, SignedCommitment} from "../../src/interfaces/IChorus.sol";
import {IAllocationManager, OperatorSet} from "../../src/interfaces/IEigenLayer.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";
import {MockAllocationManager} from "./mocks/MockAllocationManager.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";

/// @notice Equivocation proofs: slashing through the AllocationManager, ejection, rejected proofs.
contract ChorusSlasherTest is ChorusTestBase {
    address internal offender;
    address internal watcher = makeAddr("watcher");

    function setUp() public override {
        super.setUp();
        offender = operators[2];
    }

    // ------------------------------------------------------------------
    // Valid proofs
    // ------------------------------------------------------------------

    function test_prove_slashesThroughAllocationManager() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);

        assertEq(allocationManager.slashingCount(), 1);
        MockAllocationManager.Slashing memory slashing = allocationManager.slashing(0);
        assertEq(slashing.avs, address(registry), "the registry is the AVS");
        assertEq(slashing.operator, offender);
        assertEq(slashing.operatorSetId, SET_ID);
        assertEq(slashing.strategies.length, 2);
        assertEq(slashing.strategies[0], STRATEGY_A, "ascending");
        assertEq(slashing.strategies[1], STRATEGY_B, "ascending");
        assertEq(slashing.wadsToSlash.length, 2);
        assertEq(slashing.wadsToSlash[0], WAD_TO_SLASH);
        assertEq(slashing.wadsToSlash[1], WAD_TO_SLASH);
        assertEq(slashing.description, "chorus: equivocation");
    }

    /// @dev The registry removes the operator itself before EigenLayer's deregistration calls
    ///      back, so the callback is a no-op: OperatorEjected, then EquivocationProven, and no
    ///      OperatorDeregistered.
    function test_prove_emitsOperatorEjectedAndEquivocationProven() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        bytes32 pubkeyHash = registry.pubkeyHashOf(offender);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IChorusRegistry.OperatorEjected(offender, pubkeyHash);
        vm.expectEmit(true, true, true, true, address(slasher));
        emit IChorusSlasher.EquivocationProven(offender, OPTIMISM, 100, a.commitmentsRoot, b.commitmentsRoot);
        vm.recordLogs();
        _prove(offender, a, b);
        Vm.Log[] memory registryLogs = _logsOf(vm.getRecordedLogs(), address(registry));
        assertEq(registryLogs.length, 1, "OperatorEjected only");
        assertEq(registryLogs[0].topics[0], IChorusRegistry.OperatorEjected.selector);
        assertTrue(slasher.slashed(offender));
    }

    function test_prove_ejectsOperatorAndBansItsKey() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);

        assertFalse(registry.isRegistered(offender));
        assertFalse(allocationManager.isMember(address(registry), offender), "deregistered on EigenLayer");
        assertTrue(registry.keyBanned(registry.pubkeyHashOf(offender)));
        assertEq(registry.operatorCount(), operators.length - 1);
        _updateTable();
        assertEq(table.ref.version, 2);
        assertFalse(_inTable(offender), "not in the next table");
    }

    function test_prove_ejectedOperatorCannotReregister() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);
        bytes memory data = _registrationData(skOf[offender], offender);
        uint32[] memory ids = _setIds();
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorBanned.selector, offender));
        allocationManager.registerForOperatorSets(offender, address(registry), ids, data);
    }

    function test_prove_bannedKeyCannotBeRegisteredByAnother() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);
        address accomplice = makeAddr("accomplice");
        _setStake(accomplice, 1, 0);
        // Even with a fresh ownership signature by the key for the accomplice.
        bytes memory data = _registrationData(skOf[offender], accomplice);
        uint32[] memory ids = _setIds();
        bytes32 pubkeyHash = registry.pubkeyHashOf(offender);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.KeyBanned.selector, pubkeyHash));
        allocationManager.registerForOperatorSets(accomplice, address(registry), ids, data);
    }

    function test_prove_stateRootOnlyDiffers() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        Commitment[] memory second = _threeCommitments(100, "a");
        second[0].stateRoot = keccak256("other state");
        _prove(offender, _signed(offender, 1, first, 0), _signed(offender, 1, second, 0));
        assertEq(allocationManager.slashingCount(), 1);
    }

    function test_prove_blockHashOnlyDiffers() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        Commitment[] memory second = _threeCommitments(100, "a");
        second[2].l2BlockHash = keccak256("other block");
        _prove(offender, _signed(offender, 1, first, 2), _signed(offender, 1, second, 2));
        assertEq(allocationManager.slashingCount(), 1);
    }

    /// @dev The domain is the chain and the attestation contract; table versions may differ.
    function test_prove_checkpointsOfDifferentTableVersions() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        Commitment[] memory second = _threeCommitments(100, "b");
        _prove(offender, _signed(offender, 1, first, 1), _signed(offender, 2, second, 1));
        assertEq(allocationManager.slashingCount(), 1);
    }

    /// @dev Signatures need not have landed on chain: individual signatures are public.
    function test_prove_afterOneCheckpointWasAttested() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        _submitWithCommitments(first);
        _prove(offender, _signed(offender, 1, first, 0), _signed(offender, 1, _threeCommitments(100, "b"), 0));
        assertEq(allocationManager.slashingCount(), 1);
    }

    /// @dev A deregistered operator stays slashable for what it signed until EigenLayer's
    ///      deallocation delay has passed (the last block of the delay included); ejection
    ///      still bans it.
    function test_prove_deregisteredOperator_slashedAndBanned() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _deregister(offender);
        vm.roll(block.number + allocationManager.deallocationDelay());
        assertTrue(allocationManager.isOperatorSlashable(offender, _set()), "last slashable block");
        _prove(offender, a, b);
        assertEq(allocationManager.slashingCount(), 1);
        assertEq(allocationManager.slashing(0).operator, offender);
        assertTrue(registry.keyBanned(registry.pubkeyHashOf(offender)));
    }

    function test_prove_asksEigenLayerWhetherOperatorIsSlashable() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        vm.expectCall(
            address(allocationManager), abi.encodeCall(IAllocationManager.isOperatorSlashable, (offender, _set()))
        );
        _prove(offender, a, b);
    }

    // ------------------------------------------------------------------
    // Valid proofs against operators EigenLayer no longer lets slash
    // ------------------------------------------------------------------

    /// @dev Past the deallocation delay EigenLayer refuses to slash a departed operator: the
    ///      proof still stands (EquivocationProven), bans the operator and its key, and
    ///      records no slashing; `slashed` marks the offence as dealt with.
    /// @dev A refused slash (EigenLayer paused) must not keep an equivocator in the tables:
    ///      the ban holds, and the offence stays open so that a later proof slashes.
    function test_prove_slashRefused_bansNowAndSlashesOnRetry() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        bytes32 pubkeyHash = registry.pubkeyHashOf(offender);
        allocationManager.setSlashingFails(true);
        _prove(offender, a, b);

        assertEq(allocationManager.slashingCount(), 0, "EigenLayer refused the slash");
        assertFalse(slasher.slashed(offender), "the offence stays open");
        assertTrue(registry.keyBanned(pubkeyHash), "banned all the same");
        assertFalse(registry.isRegistered(offender), "ejected all the same");

        allocationManager.setSlashingFails(false);
        _prove(offender, a, b);
        assertEq(allocationManager.slashingCount(), 1, "the retry slashes");
        assertTrue(slasher.slashed(offender));
        _expectProofRevert(offender, a, b, _alreadySlashed(offender));
    }

    function test_prove_pastDeallocationDelay_bansWithoutSlashing() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        bytes32 pubkeyHash = registry.pubkeyHashOf(offender);
        _deregister(offender);
        vm.roll(block.number + allocationManager.deallocationDelay() + 1);
        assertFalse(allocationManager.isOperatorSlashable(offender, _set()));

        vm.expectCall(address(allocationManager), abi.encodeWithSelector(IAllocationManager.slashOperator.selector), 0);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IChorusRegistry.OperatorEjected(offender, pubkeyHash);
        vm.expectEmit(true, true, true, true, address(slasher));
        emit IChorusSlasher.EquivocationProven(offender, OPTIMISM, 100, a.commitmentsRoot, b.commitmentsRoot);
        _prove(offender, a, b);

        assertEq(allocationManager.slashingCount(), 0, "no slashing");
        assertTrue(slasher.slashed(offender));
        assertTrue(registry.keyBanned(pubkeyHash));
        _expectProofRevert(offender, a, b, _alreadySlashed(offender));
        _expectBannedForGood(offender);
    }

    /// @dev EigenLayer's word decides (here forced): a member it calls not slashable is
    ///      ejected and deregistered, not slashed.
    function test_prove_memberNotSlashable_ejectedWithoutSlashing() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        allocationManager.setSlashabilityOverride(offender, MockAllocationManager.Slashability.NotSlashable);
        _prove(offender, a, b);

        assertEq(allocationManager.slashingCount(), 0);
        assertFalse(registry.isRegistered(offender));
        assertFalse(allocationManager.isMember(address(registry), offender), "deregistered on EigenLayer");
        _updateTable();
        assertFalse(_inTable(offender));
        allocationManager.setSlashabilityOverride(offender, MockAllocationManager.Slashability.Default);
        _expectBannedForGood(offender);
    }

    // ------------------------------------------------------------------
    // Rejected proofs
    // ------------------------------------------------------------------

    function test_prove_sameCommitmentInTwoCheckpoints_reverts() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        Commitment[] memory second = _threeCommitments(100, "b");
        second[0] = first[0];
        _expectProofRevert(
            offender,
            _signed(offender, 1, first, 0),
            _signed(offender, 1, second, 0),
            abi.encodeWithSelector(IChorusSlasher.CommitmentsDoNotConflict.selector)
        );
    }

    function test_prove_differentHeights_reverts() public {
        _expectProofRevert(
            offender,
            _signed(offender, 1, _threeCommitments(100, "a"), 0),
            _signed(offender, 1, _threeCommitments(101, "b"), 0),
            abi.encodeWithSelector(IChorusSlasher.NotSameRollupHeight.selector)
        );
    }

    function test_prove_differentRollups_reverts() public {
        _expectProofRevert(
            offender,
            _signed(offender, 1, _threeCommitments(100, "a"), 0),
            _signed(offender, 1, _threeCommitments(100, "b"), 1),
            abi.encodeWithSelector(IChorusSlasher.NotSameRollupHeight.selector)
        );
    }

    function test_prove_badMerklePath_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        b.proof[0] = keccak256("not a sibling");
        _expectProofRevert(offender, a, b, abi.encodeWithSelector(IChorusSlasher.NotInCheckpoint.selector));
    }

    /// @dev A commitment the operator never signed, with a signature over another root.
    function test_prove_commitmentNotInSignedCheckpoint_reverts() public {
        (SignedCommitment memory a,) = _equivocation(offender);
        Commitment[] memory unsigned = _threeCommitments(100, "b");
        SignedCommitment memory b = _signed(offender, 1, unsigned, 0);
        b.commitmentsRoot = a.commitmentsRoot;
        b.signature = a.signature;
        _expectProofRevert(offender, a, b, abi.encodeWithSelector(IChorusSlasher.NotInCheckpoint.selector));
    }

    function test_prove_signatureByAnotherKey_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        b.signature = _signAs(operators[5], b.tableVersion, b.commitmentsRoot);
        _expectProofRevert(offender, a, b, abi.encodeWithSelector(IChorusSlasher.InvalidSignature.selector));
    }

    function test_prove_signatureOverAnotherAttestationContract_reverts() public {
        ChorusAttestations other = new ChorusAttestations(owner, registry, QUORUM_BPS, GRACE_PERIOD);
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        b.signature = BlsSigner.signMessage(skOf[offender], other.checkpointMessage(b.tableVersion, b.commitmentsRoot));
        _expectProofRevert(offender, a, b, abi.encodeWithSelector(IChorusSlasher.InvalidSignature.selector));
    }

    function test_prove_signatureOverAnotherChain_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        bytes32 message = CheckpointLib.signedMessage(1, address(attestations), b.tableVersion, b.commitmentsRoot);
        b.signature = BlsSigner.signMessage(skOf[offender], message);
        _expectProofRevert(offender, a, b, abi.encodeWithSelector(IChorusSlasher.InvalidSignature.selector));
    }

    function test_prove_signatureOfOtherTableVersion_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        b.tableVersion = 2;
        _expectProofRevert(offender, a, b, abi.encodeWithSelector(IChorusSlasher.InvalidSignature.selector));
    }

    function test_prove_keyOfAnotherOperator_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        address innocent = operators[7];
        bytes memory pubkey = BlsSigner.pubkey(skOf[offender]);
        vm.expectRevert(abi.encodeWithSelector(IChorusSlasher.KeyNotOfOperator.selector, keccak256(pubkey), innocent));
        slasher.proveEquivocation(innocent, pubkey, a, b);
        assertEq(allocationManager.slashingCount(), 0);
    }

    function test_prove_unregisteredKey_reverts() public {
        uint256 rogueSk = 4242;
        Commitment[] memory first = _threeCommitments(100, "a");
        Commitment[] memory second = _threeCommitments(100, "b");
        SignedCommitment memory a = _signedWithSk(rogueSk, 1, first, 0);
        SignedCommitment memory b = _signedWithSk(rogueSk, 1, second, 0);
        bytes memory pubkey = BlsSigner.pubkey(rogueSk);
        vm.expectRevert(abi.encodeWithSelector(IChorusSlasher.KeyNotOfOperator.selector, keccak256(pubkey), offender));
        slasher.proveEquivocation(offender, pubkey, a, b);
    }

    function test_prove_sameOffenceTwice_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);
        _expectProofRevert(offender, a, b, _alreadySlashed(offender));
        _expectProofRevert(offender, b, a, _alreadySlashed(offender));
        assertEq(allocationManager.slashingCount(), 1);
    }

    /// @dev A third checkpoint at the same rollup and height: the same act.
    function test_prove_sameRollupHeightFromOtherCheckpoints_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);
        SignedCommitment memory c = _signed(offender, 1, _threeCommitments(100, "c"), 0);
        _expectProofRevert(offender, a, c, _alreadySlashed(offender));
    }

    /// @dev Two conflicting checkpoints of three rollups each are one act: the other
    ///      rollups' leaves of the same checkpoints do not slash again.
    function test_prove_otherRollupOfSameCheckpoints_reverts() public {
        Commitment[] memory first = _threeCommitments(100, "a");
        Commitment[] memory second = _threeCommitments(100, "b");
        _prove(offender, _signed(offender, 1, first, 0), _signed(offender, 1, second, 0));
        _expectProofRevert(
            offender, _signed(offender, 1, first, 1), _signed(offender, 1, second, 1), _alreadySlashed(offender)
        );
        _expectProofRevert(
            offender, _signed(offender, 1, first, 2), _signed(offender, 1, second, 2), _alreadySlashed(offender)
        );
        assertEq(allocationManager.slashingCount(), 1);
    }

    /// @dev Once slashed, an operator is banned: a separate offence at another height does not slash again.
    function test_prove_otherOffenceAfterSlash_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);
        _expectProofRevert(
            offender,
            _signed(offender, 2, _threeCommitments(500, "x"), 1),
            _signed(offender, 2, _threeCommitments(500, "y"), 1),
            _alreadySlashed(offender)
        );
    }

    /// @dev AlreadySlashed comes before any check of the proof itself.
    function test_prove_afterSlash_anyProofRevertsAlreadySlashed() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        _prove(offender, a, b);
        SignedCommitment memory empty;
        _expectProofRevert(offender, empty, empty, _alreadySlashed(offender));
    }

    /// @dev Each operator is slashed once, independently of the others.
    function test_prove_twoOperators_eachSlashedOnce() public {
        address other = operators[6];
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        (SignedCommitment memory c, SignedCommitment memory d) = _equivocation(other);
        _prove(offender, a, b);
        _prove(other, c, d);
        assertEq(allocationManager.slashingCount(), 2);
        assertEq(allocationManager.slashing(1).operator, other);
        assertEq(registry.operatorCount(), operators.length - 2);
    }

    /// @dev `operatorOfKey` of an unregistered key is address(0): naming operator 0 with a
    ///      self-made key must not "prove" anything (slash address(0), ban key hash 0).
    function test_prove_operatorZeroWithUnregisteredKey_reverts() public {
        uint256 rogueSk = 31337;
        bytes memory pubkey = BlsSigner.pubkey(rogueSk);
        SignedCommitment memory a = _signedWithSk(rogueSk, 1, _threeCommitments(100, "a"), 0);
        SignedCommitment memory b = _signedWithSk(rogueSk, 1, _threeCommitments(100, "b"), 0);
        vm.expectRevert(abi.encodeWithSelector(IChorusSlasher.KeyNotOfOperator.selector, keccak256(pubkey), address(0)));
        slasher.proveEquivocation(address(0), pubkey, a, b);
        assertEq(allocationManager.slashingCount(), 0);
        assertFalse(registry.keyBanned(bytes32(0)));
    }

    function test_prove_operatorZeroWithRegisteredKey_reverts() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        bytes memory pubkey = BlsSigner.pubkey(skOf[offender]);
        vm.expectRevert(abi.encodeWithSelector(IChorusSlasher.KeyNotOfOperator.selector, keccak256(pubkey), address(0)));
        slasher.proveEquivocation(address(0), pubkey, a, b);
    }

    /// @dev EigenLayer refusing the deregistration (paused, ...) must not save the offender:
    ///      the slash, the ban and the removal from the next table all happen.
    function test_prove_whenEigenLayerRefusesDeregistration_stillSlashesAndBans() public {
        (SignedCommitment memory a, SignedCommitment memory b) = _equivocation(offender);
        allocationManager.setDeregistrationFails(true);
        _prove(offender, a, b);

        assertEq(allocationManager.slashingCount(), 1);
        assertEq(allocationManager.slashing(0).operator, offender);
        assertTrue(slasher.slashed(offender));
        assertTrue(allocationManager.isMember(address(registry), offender), "EigenLayer kept it");
        assertFalse(registry.isRegistered(offender));
        assertTrue(registry.keyBanned(registry.pubkeyHashOf(offender)));
        _updateTable();
        assertFalse(_inTable(offender), "not in the next table");

        bytes memory data = _registrationData(skOf[offender], offender);
        uint32[] memory ids = _setIds();
        vm.prank(address(allocationManager));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorBanned.selector, offender));
        registry.registerOperator(offender, address(registry), ids, data);
    }

    // ------------------------------------------------------------------
    // Constructor
    // ------------------------------------------------------------------

    function test_constructor_wadOutOfRange_reverts() public {
        uint256[3] memory invalid = [uint256(0), 1e18 + 1, type(uint256).max];
        for (uint256 i = 0; i < invalid.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IChorusSlasher.InvalidWadToSlash.selector, invalid[i]));
            new ChorusSlasher(allocationManager, registry, address(attestations), invalid[i]);
        }
    }

    function test_constructor_wadBounds_accepted() public {
        assertEq(new ChorusSlasher(allocationManager, registry, address(attestations), 1).wadToSlash(), 1);
        assertEq(new ChorusSlasher(allocationManager, registry, address(attestations), 1e18).wadToSlash(), 1e18);
        assertEq(slasher.wadToSlash(), WAD_TO_SLASH);
        assertEq(slasher.attestations(), address(attestations));
    }

    function test_slashOperator_onlyByAppointedSlasher() public {
        assertTrue(
            permissionController.isAppointee(
                address(registry),
                address(slasher),
                address(allocationManager),
                allocationManager.slashOperator.selector
            )
        );
        MockAllocationManager.SlashingParams memory params;
        vm.prank(watcher);
        vm.expectRevert("MockAllocationManager: invalid caller");
        allocationManager.slashOperator(address(registry), params);
    }

    // ------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------

    /// @dev Two checkpoints (three rollups at height 100, every leaf different) signed by `operator`.
    function _equivocation(address operator) internal view returns (SignedCommitment memory, SignedCommitment memory) {
        return
            (_signed(operator, 1, _threeCommitments(100, "a"), 0), _signed(operator, 1, _threeCommitments(100, "b"), 0));
    }

    function _signed(address operator, uint32 version, Commitment[] memory commitments, uint256 index)
        internal
        view
        returns (SignedCommitment memory)
    {
        return _signedWithSk(skOf[operator], version, commitments, index);
    }

    function _signedWithSk(uint256 sk, uint32 version, Commitment[] memory commitments, uint256 index)
        internal
        view
        returns (SignedCommitment memory signed)
    {
        signed.tableVersion = version;
        signed.commitmentsRoot = _checkpointRoot(commitments);
        signed.signature = BlsSigner.signMessage(sk, attestations.checkpointMessage(version, signed.commitmentsRoot));
        signed.commitment = commitments[index];
        signed.proof = _commitmentProof(commitments, index);
    }

    function _set() internal view returns (OperatorSet memory) {
        return OperatorSet({avs: address(registry), id: SET_ID});
    }

    /// @dev Neither the operator (with stake and a valid key) nor its key under another
    ///      operator registers again.
    function _expectBannedForGood(address operator) internal {
        uint32[] memory ids = _setIds();
        if (allocationManager.isMember(address(registry), operator)) _deregister(operator);
        bytes memory data = _registrationData(skOf[operator], operator);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorBanned.selector, operator));
        allocationManager.registerForOperatorSets(operator, address(registry), ids, data);

        address accomplice = makeAddr("accomplice");
        _setStake(accomplice, 1, 0);
        data = _registrationData(skOf[operator], accomplice);
        bytes32 pubkeyHash = registry.pubkeyHashOf(operator);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.KeyBanned.selector, pubkeyHash));
        allocationManager.registerForOperatorSets(accomplice, address(registry), ids, data);
    }

    function _alreadySlashed(address operator) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IChorusSlasher.AlreadySlashed.selector, operator);
    }

    function _prove(address operator, SignedCommitment memory a, SignedCommitment memory b) internal {
        bytes memory pubkey = BlsSigner.pubkey(skOf[operator]);
        vm.prank(watcher);
        slasher.proveEquivocation(operator, pubkey, a, b);
    }

    function _expectProofRevert(
        address operator,
        SignedCommitment memory a,
        SignedCommitment memory b,
        bytes memory reason
    ) internal {
        bytes memory pubkey = BlsSigner.pubkey(skOf[operator]);
        uint256 slashingsBefore = allocationManager.slashingCount();
        vm.prank(watcher);
        vm.expectRevert(reason);
        slasher.proveEquivocation(operator, pubkey, a, b);
        assertEq(allocationManager.slashingCount(), slashingsBefore, "no slashing");
    }
}
