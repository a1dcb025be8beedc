// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Test, Vm} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";

import {BLS12381} from "../../src/bls/BLS12381.sol";
import {ChorusRegistry} from "../../src/ChorusRegistry.sol";
import {IChorusRegistry} from "../../src/interfaces/IChorus.sol";
import {IAllocationManagerTypes} from "../../src/interfaces/IEigenLayer.sol";
import {MockAllocationManager} from "./mocks/MockAllocationManager.sol";
import {MockPermissionController} from "./mocks/MockPermissionController.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Registers, deregisters, ejects (with EigenLayer's deregistration
///         working or refused) and re-stakes a pool of operators at random,
///         updating the table after each step, and keeps a ghost model of the
///         registry: the registration array with swap-and-pop removal, bans, and stake.
contract OperatorTableHandler is Test {
    uint256 internal constant POOL = 8;
    address internal constant STRATEGY_A = address(0x5A1);
    address internal constant STRATEGY_B = address(0x5B2);

    ChorusRegistry internal immutable registry;
    MockAllocationManager internal immutable allocationManager;
    address internal immutable slasher;

    address[POOL] internal candidates;
    mapping(address operator => bytes) public pubkeyOf;
    mapping(address operator => bytes) internal registrationData;

    // Ghost model.
    address[] internal ghostRegistered;
    mapping(address operator => uint256) internal ghostIndexPlusOne;
    mapping(address operator => uint256) internal ghostStakeA;
    mapping(address operator => uint256) internal ghostStakeB;
    mapping(address operator => bool) public ghostBanned;
    mapping(address operator => bool) internal everRegistered;

    // The ghost table as of the last successful `updateOperatorTable`.
    address[] internal snapshotMembers;
    uint256[] internal snapshotWeights;
    // What the registry's last `OperatorTableUpdated` said, and the ghost table then.
    // (A new order whose root is the same, e.g. two leaves of one pair swapped by
    // swap-and-pop, keeps the digest: no new version, no event.)
    uint256 public eventTotalWeight;
    address[] internal eventOperators;
    uint256[] internal eventWeights;
    address[] internal ghostAtEventMembers;
    uint256[] internal ghostAtEventWeights;

    uint256 public calls;
    uint256 public emptyTables;
    uint256 public ejections;

    constructor(ChorusRegistry registry_, MockAllocationManager allocationManager_, address slasher_) {
        registry = registry_;
        allocationManager = allocationManager_;
        slasher = slasher_;
        for (uint256 i = 0; i < POOL; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < POOL / ROLLUPS, small
            address operator = address(uint160(0xC0DE00 + i));
            candidates[i] = operator;
            pubkeyOf[operator] = BlsSigner.pubkey(1000 + i);
            registrationData[operator] = BlsSigner.registrationData(1000 + i, address(registry_), operator);
        }
    }

    // ------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------

    function register(uint256 seed, uint64 stakeA, uint64 stakeB) external {
        address operator = _firstUnregisteredFrom(seed);
        if (operator == address(0)) return;
        allocationManager.registerForOperatorSets(operator, address(registry), _ids(), registrationData[operator]);
        everRegistered[operator] = true;
        ghostRegistered.push(operator);
        ghostIndexPlusOne[operator] = ghostRegistered.length;
        _setStake(operator, stakeA, stakeB);
        _update();
    }

    function deregister(uint256 seed) external {
        if (ghostRegistered.length == 0) return;
        address operator = ghostRegistered[seed % ghostRegistered.length];
        vm.prank(operator);
        allocationManager.deregisterFromOperatorSets(
            IAllocationManagerTypes.DeregisterParams({
                operator: operator, avs: address(registry), operatorSetIds: _ids()
            })
        );
        _ghostRemove(operator);
        _update();
    }

    /// @dev The slasher ejects an operator that registered at some point (registered now
    ///      or not); EigenLayer's deregistration works or is refused.
    function eject(uint256 seed, bool eigenLayerRefuses) external {
        address operator = candidates[seed % POOL];
        if (!everRegistered[operator]) return;
        allocationManager.setDeregistrationFails(eigenLayerRefuses);
        vm.prank(slasher);
        registry.eject(operator);
        allocationManager.setDeregistrationFails(false);
        ++ejections;
        ghostBanned[operator] = true;
        if (ghostIndexPlusOne[operator] != 0) _ghostRemove(operator);
        _update();
    }

    function setStake(uint256 seed, uint64 stakeA, uint64 stakeB) external {
        _setStake(candidates[seed % POOL], stakeA, stakeB);
        _update();
    }

    function updateTable() external {
        _update();
    }

    function rollBlocks(uint8 blocks) external {
        vm.roll(block.number + blocks);
        _update();
    }

    // ------------------------------------------------------------------
    // Ghost views
    // ------------------------------------------------------------------

    /// @notice Registered operators with non-zero weight, in registration-array order.
    function ghostTable() public view returns (address[] memory members, uint256[] memory weights) {
        members = new address[](ghostRegistered.length);
        weights = new uint256[](ghostRegistered.length);
        uint256 count = 0;
        for (uint256 i = 0; i < ghostRegistered.length; ++i) {
            address operator = ghostRegistered[i];
            uint256 weight = ghostStakeA[operator] + 2 * ghostStakeB[operator];
            if (weight == 0) continue;
            (members[count], weights[count]) = (operator, weight);
            ++count;
        }
        assembly ("memory-safe") {
            mstore(members, count)
            mstore(weights, count)
        }
    }

    function snapshot() external view returns (address[] memory, uint256[] memory) {
        return (snapshotMembers, snapshotWeights);
    }

    /// @notice The last event's operators and weights, and the ghost table when it was emitted.
    function lastEvent()
        external
        view
        returns (address[] memory, uint256[] memory, address[] memory, uint256[] memory)
    {
        return (eventOperators, eventWeights, ghostAtEventMembers, ghostAtEventWeights);
    }

    function ghostCount() external view returns (uint256) {
        return ghostRegistered.length;
    }

    function ghostIsRegistered(address operator) external view returns (bool) {
        return ghostIndexPlusOne[operator] != 0;
    }

    function candidate(uint256 index) external view returns (address) {
        return candidates[index];
    }

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    /// @dev Stakes up to 1e9 each, zero one time in four so that weightless operators occur.
    function _setStake(address operator, uint64 stakeA, uint64 stakeB) internal {
        uint256 a = stakeA % 4 == 0 ? 0 : bound(stakeA, 1, 1e9);
        uint256 b = stakeB % 4 == 0 ? 0 : bound(stakeB, 1, 1e9);
        allocationManager.setStake(operator, STRATEGY_A, a);
        allocationManager.setStake(operator, STRATEGY_B, b);
        (ghostStakeA[operator], ghostStakeB[operator]) = (a, b);
    }

    function _ghostRemove(address operator) internal {
        uint256 index = ghostIndexPlusOne[operator] - 1;
        address last = ghostRegistered[ghostRegistered.length - 1];
        ghostRegistered[index] = last;
        ghostIndexPlusOne[last] = index + 1;
        ghostRegistered.pop();
        delete ghostIndexPlusOne[operator];
    }

    /// @dev An empty table is a version like any other (total weight 0).
    function _update() internal {
        ++calls;
        (address[] memory members, uint256[] memory weights) = ghostTable();
        if (members.length == 0) ++emptyTables;
        vm.recordLogs();
        registry.updateOperatorTable();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] != IChorusRegistry.OperatorTableUpdated.selector) continue;
            address[] memory listed;
            uint256[] memory listedWeights;
            (, eventTotalWeight,, listed,, listedWeights) =
                abi.decode(logs[i].data, (bytes, uint256, bytes32, address[], bytes[], uint256[]));
            eventOperators = listed;
            eventWeights = listedWeights;
            ghostAtEventMembers = members;
            ghostAtEventWeights = weights;
        }
        snapshotMembers = members;
        snapshotWeights = weights;
    }

    function _firstUnregisteredFrom(uint256 seed) internal view returns (address) {
        for (uint256 k = 0; k < POOL; ++k) {
            address operator = candidates[(seed % POOL + k) % POOL];
            if (ghostIndexPlusOne[operator] == 0 && !ghostBanned[operator]) return operator;
        }
        return address(0);
    }

    function _ids() internal pure returns (uint32[] memory ids) {
        ids = new uint32[](1);
    }
}

/// @notice The latest operator table always restates the ghost model.
contract OperatorTableInvariantTest is StdInvariant, Test {
    OperatorTableHandler internal handler;
    ChorusRegistry internal registry;

    function setUp() public {
        MockPermissionController permissionController = new MockPermissionController();
        MockAllocationManager allocationManager = new MockAllocationManager(permissionController);
        address owner = makeAddr("owner");
        registry = new ChorusRegistry(owner, allocationManager, permissionController, 10);
        address[] memory strategies = new address[](2);
        (strategies[0], strategies[1]) = (address(0x5A1), address(0x5B2));
        uint256[] memory multipliers = new uint256[](2);
        (multipliers[0], multipliers[1]) = (1e18, 2e18);
        vm.prank(owner);
        address slasher = makeAddr("slasher");
        registry.setupAvs("uri", strategies, multipliers, slasher);

        handler = new OperatorTableHandler(registry, allocationManager, slasher);
        handler.register(0, 1, 1); // a first table, so that version 1 exists

        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = OperatorTableHandler.register.selector;
        selectors[1] = OperatorTableHandler.deregister.selector;
        selectors[2] = OperatorTableHandler.setStake.selector;
        selectors[3] = OperatorTableHandler.updateTable.selector;
        selectors[4] = OperatorTableHandler.rollBlocks.selector;
        selectors[5] = OperatorTableHandler.eject.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_latestDigest_equalsGhostTable() public view {
        (address[] memory members, uint256[] memory weights) = handler.snapshot();
        bytes memory apk = new bytes(BLS12381.G2_LENGTH);
        bytes32[] memory leaves = new bytes32[](members.length);
        uint256 totalWeight = 0;
        for (uint256 i = 0; i < members.length; ++i) {
            bytes memory pubkey = handler.pubkeyOf(members[i]);
            apk = BLS12381.g2Add(apk, pubkey);
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(keccak256(pubkey), weights[i]))));
            totalWeight += weights[i];
        }
        bytes28 expected = bytes28(keccak256(abi.encode(apk, totalWeight, MerkleBuilder.root(leaves))));
        (bytes28 digest, uint32 expiresAtBlock) = registry.tableRecord(registry.latestTableVersion());
        assertEq(digest, expected, "digest");
        assertEq(expiresAtBlock, 0, "the latest version never expires");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_totalWeightAndOrder_equalGhost() public view {
        (, uint256[] memory weights) = handler.snapshot();
        uint256 sum = 0;
        for (uint256 i = 0; i < weights.length; ++i) {
            sum += weights[i];
        }
        assertEq(handler.eventTotalWeight(), sum, "total weight");
        (
            address[] memory listed,
            uint256[] memory listedWeights,
            address[] memory ghost,
            uint256[] memory ghostWeights
        ) = handler.lastEvent();
        assertEq(listed, ghost, "operators in registration-array order");
        assertEq(listedWeights, ghostWeights, "weights");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_operatorCount_equalsGhostCount() public view {
        assertEq(registry.operatorCount(), handler.ghostCount(), "count");
        for (uint256 i = 0; i < 8; ++i) {
            address operator = handler.candidate(i);
            assertEq(registry.isRegistered(operator), handler.ghostIsRegistered(operator), "registered flag");
        }
    }

    /// @dev An ejected operator is never registered again, nor its key.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_ejectedOperators_stayOut() public view {
        for (uint256 i = 0; i < 8; ++i) {
            address operator = handler.candidate(i);
            if (!handler.ghostBanned(operator)) continue;
            assertFalse(registry.isRegistered(operator), "ejected operator registered");
            assertTrue(registry.keyBanned(keccak256(handler.pubkeyOf(operator))), "key banned");
        }
    }
}
