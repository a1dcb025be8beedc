// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";

import {TableLeaves} from "../../src/TableLeaves.sol";

/// @dev Calls the library as the registry and the attestation contract do: the store is
///      created by this contract, and reads go through an external call.
contract TableLeavesHarness {
    function write(bytes32[] memory leaves) external returns (address) {
        return TableLeaves.write(leaves);
    }

    function read(address store, uint256 index) external view returns (bytes32) {
        return TableLeaves.read(store, index);
    }
}

/// @notice Operator-table leaves as contract code (SSTORE2): the code is a STOP byte then
///         the leaves, reads by position, zero past the end and beyond any possible store.
contract TableLeavesTest is Test {
    /// EIP-170: the largest runtime code a contract may have.
    uint256 internal constant MAX_CODE_SIZE = 24_576;
    /// EIP-3860: the largest initcode CREATE accepts.
    uint256 internal constant MAX_INITCODE_SIZE = 49_152;

    TableLeavesHarness internal harness;

    function setUp() public {
        harness = new TableLeavesHarness();
    }

    /// @dev Also why the PUSH2 holding the code length in `write` cannot wrap on chain: from
    ///      2,048 leaves (65,537 bytes of code) on, the initcode is over EIP-3860's limit, so
    ///      CREATE aborts instead of storing a truncated table.
    function test_maxLeaves_isWhatEip170Allows() public pure {
        assertEq(TableLeaves.MAX_LEAVES, 767);
        assertLe(1 + 32 * TableLeaves.MAX_LEAVES, MAX_CODE_SIZE, "767 leaves and the STOP byte fit");
        assertGt(1 + 32 * (TableLeaves.MAX_LEAVES + 1), MAX_CODE_SIZE, "768 do not");
        assertGt(1 + 32 * 2048, type(uint16).max, "the length wraps a PUSH2 from 2,048 leaves");
        assertGt(10 + 1 + 32 * 2048, MAX_INITCODE_SIZE, "where the initcode is over EIP-3860");
    }

    function test_write_codeIsStopByteThenLeaves() public {
        bytes32[] memory leaves = _leaves(5, "a");
        address store = harness.write(leaves);
        bytes memory code = store.code;
        assertEq(code.length, 1 + 5 * 32);
        assertEq(uint8(code[0]), 0x00, "STOP first");
        assertEq(code, abi.encodePacked(hex"00", leaves));
    }

    function test_read_roundTrip() public {
        bytes32[] memory leaves = _leaves(9, "b");
        address store = harness.write(leaves);
        for (uint256 i = 0; i < leaves.length; ++i) {
            assertEq(harness.read(store, i), leaves[i]);
        }
    }

    /// @dev Each write is a new contract; an earlier one keeps its leaves.
    function test_write_twice_twoStores() public {
        bytes32[] memory first = _leaves(3, "first");
        bytes32[] memory second = _leaves(3, "second");
        address a = harness.write(first);
        address b = harness.write(second);
        assertTrue(a != b);
        assertEq(harness.read(a, 2), first[2]);
        assertEq(harness.read(b, 2), second[2]);
    }

    /// @dev The STOP byte makes a call to the store a successful no-op that returns nothing.
    function test_callingStore_doesNothing() public {
        address store = harness.write(_leaves(2, "c"));
        bytes memory codeBefore = store.code;
        (bool ok, bytes memory returned) = store.call(abi.encodeWithSignature("anything(uint256)", 1));
        assertTrue(ok);
        assertEq(returned.length, 0);
        (ok, returned) = store.call("");
        assertTrue(ok);
        assertEq(returned.length, 0);
        assertEq(store.code, codeBefore);
    }

    function test_read_pastEnd_isZero() public {
        address store = harness.write(_leaves(4, "d"));
        uint256[5] memory pastEnd = [uint256(4), 5, 100, TableLeaves.MAX_LEAVES - 1, TableLeaves.MAX_LEAVES];
        for (uint256 i = 0; i < pastEnd.length; ++i) {
            assertEq(harness.read(store, pastEnd[i]), bytes32(0));
        }
    }

    /// @dev The offset 1 + 32 * index wraps modulo 2**256 from index 2**251 on: a raw
    ///      EXTCODECOPY there reads leaf 0 (2**251 + k: leaf k). The library reads zero for
    ///      every index from MAX_LEAVES on.
    function test_read_hugeIndex_doesNotWrapToARealLeaf() public {
        bytes32[] memory leaves = _leaves(4, "e");
        address store = harness.write(leaves);
        uint256 wrapping = uint256(1) << 251;
        assertEq(_rawRead(store, wrapping), leaves[0], "an unchecked offset wraps to leaf 0");
        assertEq(_rawRead(store, wrapping + 3), leaves[3], "and 2**251 + 3 to leaf 3");
        uint256[5] memory huge = [wrapping, wrapping + 3, wrapping - 1, type(uint256).max, type(uint256).max / 32];
        for (uint256 i = 0; i < huge.length; ++i) {
            assertEq(harness.read(store, huge[i]), bytes32(0));
        }
    }

    function test_emptyTable_isStopByteOnly() public {
        address store = harness.write(new bytes32[](0));
        assertEq(store.code, hex"00");
        assertEq(harness.read(store, 0), bytes32(0));
    }

    /// @dev An address without code reads as empty everywhere.
    function test_read_fromAccountWithoutCode_isZero() public view {
        assertEq(harness.read(address(0), 0), bytes32(0));
        assertEq(harness.read(address(0xE0A), 3), bytes32(0));
    }

    /// @dev The largest table: 767 leaves fill 24,545 of the 24,576 bytes EIP-170 allows.
    function test_maxLeaves_fit() public {
        bytes32[] memory leaves = _leaves(TableLeaves.MAX_LEAVES, "max");
        address store = harness.write(leaves);
        assertEq(store.code.length, 1 + 32 * TableLeaves.MAX_LEAVES);
        assertEq(harness.read(store, 0), leaves[0]);
        assertEq(harness.read(store, 383), leaves[383]);
        assertEq(harness.read(store, TableLeaves.MAX_LEAVES - 1), leaves[TableLeaves.MAX_LEAVES - 1]);
        assertEq(harness.read(store, TableLeaves.MAX_LEAVES), bytes32(0));
    }

    /// @dev One more leaf is over the EIP-170 limit: on chain CREATE fails and `write` reverts
    ///      LeavesNotStored. forge runs tests without the limit unless told
    ///      (`FOUNDRY_CODE_SIZE_LIMIT=24576 forge test --mc TableLeavesTest` takes the chain's
    ///      path), so without it the store is created, over the limit.
    function test_maxLeavesPlusOne_overEip170() public {
        bytes32[] memory leaves = _leaves(TableLeaves.MAX_LEAVES + 1, "over");
        try harness.write(leaves) returns (address store) {
            assertGt(store.code.length, MAX_CODE_SIZE, "created only where EIP-170 is off");
        } catch (bytes memory reason) {
            assertEq(reason, abi.encodeWithSelector(TableLeaves.LeavesNotStored.selector));
        }
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_roundTrip(uint256 count, bytes32 seed, uint256 index) public {
        count = bound(count, 0, TableLeaves.MAX_LEAVES);
        bytes32[] memory leaves = _leaves(count, seed);
        address store = harness.write(leaves);
        assertEq(store.code, abi.encodePacked(hex"00", leaves));
        if (count != 0) {
            uint256 i = index % count;
            assertEq(harness.read(store, i), leaves[i]);
        }
        if (index >= count) assertEq(harness.read(store, index), bytes32(0));
    }

    function _leaves(uint256 count, bytes32 seed) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
    }

    /// @dev EXTCODECOPY at 1 + 32 * index with wrapping arithmetic: what `read` would do
    ///      without its bound.
    function _rawRead(address store, uint256 index) internal view returns (bytes32 leaf) {
        assembly ("memory-safe") {
            mstore(0x00, 0)
            extcodecopy(store, 0x00, add(1, mul(index, 0x20)), 0x20)
            leaf := mload(0x00)
        }
    }
}
