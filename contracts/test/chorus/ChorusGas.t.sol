// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {console} from "forge-std/console.sol";

import {IChorusAttestations, Commitment, NonSigner} from "../../src/interfaces/IChorus.sol";
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

    /// @dev Registration is open to any EigenLayer operator, with or without stake, and every
    ///      registrant is weighed at each update even when it weighs nothing: the marginal
    ///      cost of a weightless registrant (mock AllocationManager, so a lower bound).
    function test_gas_updateOperatorTable_weightlessRegistrants() public {
        uint256 weighted = table.operators.length;
        _setStake(table.operators[0], 12_345, 0);
        uint256 baseline = _measureUpdate();
        for (uint256 i = 0; i < weighted; ++i) {
            address operator = _operatorAddress(1_000_000 + i);
            _register(operator, 1_000_000 + i);
        }
        _setStake(table.operators[0], 54_321, 0);
        uint256 used = _measureUpdate();
        assertEq(registry.latestTableVersion(), 3);
        console.log(
            string.concat(
                "GAS updateOperatorTable weighted=",
                vm.toString(weighted),
                " weightless=",
                vm.toString(weighted),
                " execution=",
                vm.toString(used),
                " perWeightless=",
                vm.toString((used - baseline) / weighted)
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
}
