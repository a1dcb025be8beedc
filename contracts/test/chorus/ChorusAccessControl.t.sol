// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {ChorusRegistry} from "../../src/ChorusRegistry.sol";
import {IChorusAttestations, IChorusRegistry} from "../../src/interfaces/IChorus.sol";
import {IAllocationManager} from "../../src/interfaces/IEigenLayer.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";

/// @notice Owner-only and slasher-only entry points, and the one-time AVS setup.
contract ChorusAccessControlTest is ChorusTestBase {
    address internal stranger = makeAddr("stranger");

    function _initialOperatorCount() internal pure override returns (uint256) {
        return 2;
    }

    // ------------------------------------------------------------------
    // Rollup list (attestations owner)
    // ------------------------------------------------------------------

    function test_addRollup_byOwner_lists() public {
        vm.expectEmit(true, false, false, true, address(attestations));
        emit IChorusAttestations.RollupAdded(324, "zkSync Era");
        vm.prank(owner);
        attestations.addRollup(324, "zkSync Era");
        assertTrue(attestations.isRollupListed(324));
        assertEq(attestations.listedRollups().length, 4);
    }

    function test_addRollup_byNonOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        attestations.addRollup(324, "zkSync Era");
    }

    function test_addRollup_twice_reverts() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.RollupAlreadyListed.selector, BASE));
        attestations.addRollup(BASE, "Base again");
    }

    function test_removeRollup_byOwner_unlists() public {
        vm.expectEmit(true, false, false, false, address(attestations));
        emit IChorusAttestations.RollupRemoved(OPTIMISM);
        vm.prank(owner);
        attestations.removeRollup(OPTIMISM);
        assertFalse(attestations.isRollupListed(OPTIMISM));
        uint64[] memory listed = attestations.listedRollups();
        assertEq(listed.length, 2);
        assertTrue(listed[0] != OPTIMISM && listed[1] != OPTIMISM);
    }

    function test_removeRollup_byNonOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        attestations.removeRollup(OPTIMISM);
    }

    function test_removeRollup_unlisted_reverts() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.RollupNotAttested.selector, 324));
        attestations.removeRollup(324);
    }

    // ------------------------------------------------------------------
    // AVS setup (registry owner)
    // ------------------------------------------------------------------

    function test_setupAvs_wiresEigenLayer() public view {
        assertEq(allocationManager.metadataURI(address(registry)), "https://chorus.example/avs.json");
        assertTrue(allocationManager.setExists(address(registry), SET_ID));
        address[] memory setStrategies = allocationManager.setStrategies(address(registry), SET_ID);
        assertEq(setStrategies.length, 2);
        assertEq(setStrategies[0], STRATEGY_A);
        assertEq(setStrategies[1], STRATEGY_B);
        assertEq(allocationManager.registrarOf(address(registry)), address(registry));
        assertTrue(
            permissionController.isAppointee(
                address(registry),
                address(slasher),
                address(allocationManager),
                IAllocationManager.slashOperator.selector
            )
        );
        assertEq(registry.slasher(), address(slasher));
        assertEq(registry.attestations(), address(attestations));
        assertEq(registry.multiplier(STRATEGY_B), MULTIPLIER_B);
        assertEq(registry.strategies().length, 2);
    }

    function test_setupAvs_byNonOwner_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        fresh.setupAvs("uri", _strategies(), _multipliers(), address(slasher), address(attestations));
    }

    function test_setupAvs_twice_reverts() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.SlasherAlreadySet.selector));
        registry.setupAvs("uri", _strategies(), _multipliers(), address(slasher), address(attestations));
    }

    function test_setupAvs_strategiesNotAscending_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        address[] memory strategies = new address[](2);
        (strategies[0], strategies[1]) = (STRATEGY_B, STRATEGY_A);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.StrategiesNotAscending.selector));
        fresh.setupAvs("uri", strategies, _multipliers(), address(slasher), address(attestations));
    }

    function test_setupAvs_hugeMultiplier_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        address[] memory strategies = new address[](2);
        (strategies[0], strategies[1]) = (STRATEGY_A, STRATEGY_B);
        uint256[] memory multipliers = _multipliers();
        multipliers[1] = fresh.MAX_MULTIPLIER() + 1;
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.InvalidMultiplier.selector, multipliers[1]));
        fresh.setupAvs("uri", strategies, multipliers, address(slasher), address(attestations));
    }

    function test_setupAvs_duplicateStrategy_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        address[] memory strategies = new address[](2);
        (strategies[0], strategies[1]) = (STRATEGY_A, STRATEGY_A);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.StrategiesNotAscending.selector));
        fresh.setupAvs("uri", strategies, _multipliers(), address(slasher), address(attestations));
    }

    function test_setupAvs_lengthMismatch_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.LengthMismatch.selector));
        fresh.setupAvs("uri", _strategies(), new uint256[](1), address(slasher), address(attestations));
    }

    function test_setupAvs_noStrategies_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.LengthMismatch.selector));
        fresh.setupAvs("uri", new address[](0), new uint256[](0), address(slasher), address(attestations));
    }

    /// @dev Without a slasher nobody could ever slash, and setupAvs (once only) could not be redone.
    function test_setupAvs_zeroSlasher_reverts() public {
        ChorusRegistry fresh = _freshRegistry();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.InvalidSlasher.selector));
        fresh.setupAvs("uri", _strategies(), _multipliers(), address(0), address(attestations));
        assertEq(fresh.slasher(), address(0));
        assertFalse(allocationManager.setExists(address(fresh), SET_ID));
    }

    /// @dev Like the slasher, the attestation contract is set once: every table update hands
    ///      it the new version, so one that cannot record (none at all, or one built for
    ///      another registry, which answers OnlyRegistry) would freeze the tables for
    ///      good, so setupAvs refuses it, as it refuses a zero slasher.
    function test_setupAvs_refusesAttestationsThatCannotRecord() public {
        address[2] memory unusable = [address(0), address(attestations)];
        string[2] memory what = ["no attestation contract", "the attestation contract of another registry"];
        for (uint256 i = 0; i < unusable.length; ++i) {
            ChorusRegistry fresh = _freshRegistry();
            vm.prank(owner);
            try fresh.setupAvs("uri", _strategies(), _multipliers(), address(slasher), unusable[i]) {
                // Accepted: from now on no table version can ever be published.
                vm.expectRevert();
                fresh.updateOperatorTable();
                assertTrue(false, string.concat("setupAvs accepted ", what[i], "; every table update now reverts"));
            } catch {}
        }
    }

    // ------------------------------------------------------------------
    // Table records (registry only)
    // ------------------------------------------------------------------

    function test_recordTable_byOwner_reverts() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.OnlyRegistry.selector));
        attestations.recordTable(2, bytes28(keccak256("forged")), address(0));
    }

    function test_recordTable_byStranger_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.OnlyRegistry.selector));
        attestations.recordTable(2, bytes28(keccak256("forged")), address(0));
    }

    /// @dev Anyone may call `updateOperatorTable`, the one way a version reaches the
    ///      attestation contract.
    function test_recordTable_throughUpdateOperatorTableByAnyone() public {
        _setStake(operators[0], 1, 0);
        vm.prank(stranger);
        assertEq(registry.updateOperatorTable(), 2);
        assertEq(attestations.latestTableVersion(), 2);
    }

    // ------------------------------------------------------------------
    // Ejection (slasher only)
    // ------------------------------------------------------------------

    function test_eject_byNonSlasher_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OnlySlasher.selector));
        registry.eject(operators[0]);
    }

    function test_eject_byOwner_reverts() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OnlySlasher.selector));
        registry.eject(operators[0]);
    }

    function test_eject_bySlasher_deregistersAndBans() public {
        vm.prank(address(slasher));
        registry.eject(operators[0]);
        assertFalse(registry.isRegistered(operators[0]));
        assertTrue(registry.keyBanned(registry.pubkeyHashOf(operators[0])));
    }

    function _freshRegistry() internal returns (ChorusRegistry) {
        return new ChorusRegistry(owner, allocationManager, permissionController, MAX_OPERATORS, MIN_OPERATOR_WEIGHT);
    }
}
