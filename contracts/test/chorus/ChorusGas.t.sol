// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {console} from "forge-std/console.sol";

import {IChorusAttestations, Commitment, NonSigner} from "../../src/interfaces/IChorus.sol";
import {TableLeaves} from "../../src/TableLeaves.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";

/// @notice Execution gas of one submission (gasleft delta around the call, accounts and
///         storage cooled first; no intrinsic or calldata gas). Each scenario is its own
///         test, so each runs as its own transaction; setUp has already recorded one
///         commitment for every rollup, so recording measures the steady state
///         (overwriting a rollup's latest commitment), and every root is new.
///         Run with `forge test --mc ChorusGas -vv` to see the figures.
abstract contract ChorusGasBase is ChorusTestBase {
    uint64 internal constant FIRST_ROLLUP = 1_000_000;
    uint256 internal constant ROLLUPS = 10;
    /// EIP-7825 per-transaction gas cap.
    uint256 internal constant TX_GAS_CAP = 16_777_216;

    function _manyNonSigners() internal pure virtual returns (uint256);

    function setUp() public override {
        _deployChorus();
        vm.startPrank(owner);
        for (uint256 i = 0; i < ROLLUPS; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < POOL / ROLLUPS, small
            attestations.addRollup(FIRST_ROLLUP + uint64(i), "gas rollup");
        }
        vm.stopPrank();
        _addOperators(_initialOperatorCount());
        _updateTable();
        _submitWithCommitments(_rollupCommitments(ROLLUPS, 1));
    }

    function test_gas_rootOnly_noNonSigner() public {
        _measureRootOnly(0);
    }

    function test_gas_rootOnly_oneNonSigner() public {
        _measureRootOnly(1);
    }

    function test_gas_rootOnly_manyNonSigners() public {
        _measureRootOnly(_manyNonSigners());
    }

    function test_gas_record1_noNonSigner() public {
        _measureRecording(1, 0);
    }

    function test_gas_record1_oneNonSigner() public {
        _measureRecording(1, 1);
    }

    function test_gas_record1_manyNonSigners() public {
        _measureRecording(1, _manyNonSigners());
    }

    function test_gas_record10_noNonSigner() public {
        _measureRecording(10, 0);
    }

    function test_gas_record10_oneNonSigner() public {
        _measureRecording(10, 1);
    }

    function test_gas_record10_manyNonSigners() public {
        _measureRecording(10, _manyNonSigners());
    }

    /// @dev A new version after one stake change. The mock AllocationManager reads two
    ///      slots per operator; the real getMinimumSlashableStake costs more.
    function test_gas_updateOperatorTable() public {
        _setStake(table.operators[0], 12_345, 0);
        vm.cool(address(registry));
        vm.cool(address(allocationManager));
        uint256 before = gasleft();
        uint32 version = registry.updateOperatorTable();
        uint256 used = before - gasleft();
        assertEq(version, 2);
        assertLt(used, TX_GAS_CAP);
        console.log(
            string.concat(
                "GAS updateOperatorTable operators=",
                vm.toString(table.operators.length),
                " execution=",
                vm.toString(used),
                " perOperator=",
                vm.toString(used / table.operators.length)
            )
        );
    }

    /// @dev Registration needs allocated stake, but an operator may deallocate afterwards: it
    ///      stays registered, weightless, and is weighed at every update until someone prunes
    ///      it. The marginal cost of such an operator (mock AllocationManager, so a lower
    ///      bound), and the update once they are all pruned.
    function test_gas_updateOperatorTable_weightlessRegistrants() public {
        uint256 weighted = table.operators.length;
        _setStake(table.operators[0], 12_345, 0);
        uint256 baseline = _measureUpdate();
        address[] memory weightless = new address[](weighted);
        for (uint256 i = 0; i < weighted; ++i) {
            weightless[i] = _operatorAddress(1_000_000 + i);
            _setStake(weightless[i], 1, 0);
            _register(weightless[i], 1_000_000 + i);
            _setStake(weightless[i], 0, 0);
        }
        _setStake(table.operators[0], 54_321, 0);
        uint256 used = _measureUpdate();
        assertEq(registry.latestTableVersion(), 3);

        for (uint256 i = 0; i < weighted; ++i) {
            registry.pruneOperator(weightless[i]);
        }
        assertEq(registry.operatorCount(), weighted);
        _setStake(table.operators[0], 11_111, 0);
        uint256 afterPrune = _measureUpdate();
        assertEq(registry.latestTableVersion(), 4);
        console.log(
            string.concat(
                "GAS updateOperatorTable weighted=",
                vm.toString(weighted),
                " weightless=",
                vm.toString(weighted),
                " execution=",
                vm.toString(used),
                " perWeightless=",
                vm.toString((used - baseline) / weighted),
                " afterPruningThem=",
                vm.toString(afterPrune)
            )
        );
    }

    /// @dev One prune of a weightless operator (EigenLayer's deregistration callback included).
    function test_gas_pruneOperator() public {
        address operator = table.operators[0];
        _setStake(operator, 0, 0);
        vm.cool(address(registry));
        vm.cool(address(allocationManager));
        uint256 before = gasleft();
        registry.pruneOperator(operator);
        uint256 used = before - gasleft();
        assertFalse(registry.isRegistered(operator));
        console.log(
            string.concat(
                "GAS pruneOperator operators=", vm.toString(table.operators.length), " execution=", vm.toString(used)
            )
        );
    }

    function _measureUpdate() internal returns (uint256 used) {
        vm.cool(address(registry));
        vm.cool(address(allocationManager));
        uint256 before = gasleft();
        registry.updateOperatorTable();
        used = before - gasleft();
    }

    // ------------------------------------------------------------------

    function _measureRootOnly(uint256 nonSignerCount) internal {
        bytes32 root = keccak256("gas root");
        address[] memory missing = _spreadNonSigners(nonSignerCount);
        bytes memory callData = abi.encodeCall(
            IChorusAttestations.submitCheckpoint,
            (table.ref, root, _nonSigners(missing), _signCheckpoint(root, missing))
        );
        _measure("root-only", 0, nonSignerCount, callData);
        assertGt(attestations.attestedAt(root), 0);
    }

    function _measureRecording(uint256 rollups, uint256 nonSignerCount) internal {
        Commitment[] memory commitments = _rollupCommitments(rollups, 2);
        address[] memory missing = _spreadNonSigners(nonSignerCount);
        bytes memory callData = abi.encodeCall(
            IChorusAttestations.submitCheckpointWithCommitments,
            (table.ref, commitments, _nonSigners(missing), _signCheckpoint(_checkpointRoot(commitments), missing))
        );
        _measure("recording", rollups, nonSignerCount, callData);
        (Commitment memory latest,,) = attestations.latestCommitment(FIRST_ROLLUP);
        assertEq(latest.l2BlockNumber, 2);
    }

    function _measure(string memory mode, uint256 rollups, uint256 nonSignerCount, bytes memory callData) internal {
        vm.cool(address(attestations));
        vm.cool(address(registry));
        // Non-signers' leaves are read from the version's leaves contract: a cold account.
        vm.cool(table.leaves);
        uint256 before = gasleft();
        (bool ok,) = address(attestations).call(callData);
        uint256 used = before - gasleft();
        assertTrue(ok, "submission failed");
        assertLt(used, TX_GAS_CAP);
        console.log(
            string.concat(
                "GAS operators=",
                vm.toString(table.operators.length),
                " nonSigners=",
                vm.toString(nonSignerCount),
                " mode=",
                mode,
                " rollups=",
                vm.toString(rollups),
                " execution=",
                vm.toString(used),
                " calldataBytes=",
                vm.toString(callData.length)
            )
        );
    }

    /// @dev `count` operators spread evenly over the table.
    function _spreadNonSigners(uint256 count) internal view returns (address[] memory missing) {
        missing = new address[](count);
        for (uint256 i = 0; i < count; ++i) {
            missing[i] = table.operators[i * table.operators.length / count];
        }
    }

    function _rollupCommitments(uint256 count, uint64 height) internal pure returns (Commitment[] memory list) {
        list = new Commitment[](count);
        for (uint256 i = 0; i < count; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < POOL / ROLLUPS, small
            list[i] = _commitment(FIRST_ROLLUP + uint64(i), height, "gas");
        }
    }
}

/// @dev Ten operators: at most three may abstain under a 2/3 quorum, so "many" is three.
contract ChorusGas10Test is ChorusGasBase {
    function _initialOperatorCount() internal pure override returns (uint256) {
        return 10;
    }

    function _manyNonSigners() internal pure override returns (uint256) {
        return 3;
    }
}

contract ChorusGas100Test is ChorusGasBase {
    function _initialOperatorCount() internal pure override returns (uint256) {
        return 100;
    }

    function _manyNonSigners() internal pure override returns (uint256) {
        return 10;
    }

    /// @dev The most a table update can cost here: `maxOperators` weighted operators
    ///      (mock AllocationManager, so a lower bound). The cap must keep it under the
    ///      transaction gas cap with the real AllocationManager's reads.
    function test_gas_updateOperatorTable_atMaxOperators() public {
        uint32 cap = registry.maxOperators();
        _addOperators(cap - operators.length);
        assertEq(registry.operatorCount(), cap);
        _updateTable();
        assertEq(table.operators.length, cap);
        _setStake(table.operators[0], 12_345, 0);
        uint256 used = _measureUpdate();
        assertLt(used, TX_GAS_CAP);
        console.log(
            string.concat(
                "GAS updateOperatorTable atMaxOperators=",
                vm.toString(cap),
                " execution=",
                vm.toString(used),
                " perOperator=",
                vm.toString(used / cap)
            )
        );
    }
}

/// @notice The registry's bound on `maxOperators` against the transaction gas cap: the cap on
///         operators exists so that a full set's table update fits in one transaction.
contract ChorusGasOperatorBoundTest is ChorusTestBase {
    /// EIP-7825 per-transaction gas cap.
    uint256 internal constant TX_GAS_CAP = 16_777_216;

    function _maxOperators() internal pure override returns (uint32) {
        return 256;
    }

    function setUp() public override {
        _deployChorus();
    }

    /// @dev A full set at the constructor's limit must update in one transaction (here
    ///      with the mock AllocationManager; the Rust gas example measures the real one).
    function test_fullSetAtLimit_updateFitsInOneTransaction() public {
        uint32 limit = registry.maxOperators();
        assertEq(limit, registry.MAX_OPERATORS_LIMIT(), "the set is as large as allowed");
        _addOperators(limit);
        vm.cool(address(registry));
        vm.cool(address(allocationManager));
        uint256 before = gasleft();
        registry.updateOperatorTable();
        uint256 used = before - gasleft();
        console.log(string.concat("GAS updateOperatorTable operators=256 execution=", vm.toString(used)));
        assertLt(used, TX_GAS_CAP, "a full set's table update does not fit in a transaction");
    }
}
