// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Test, Vm} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";

import {BLS12381} from "../../src/bls/BLS12381.sol";
import {ChorusAttestations} from "../../src/ChorusAttestations.sol";
import {ChorusRegistry} from "../../src/ChorusRegistry.sol";
import {IChorusRegistry} from "../../src/interfaces/IChorus.sol";
import {IAllocationManagerTypes} from "../../src/interfaces/IEigenLayer.sol";
import {MockAllocationManager} from "./mocks/MockAllocationManager.sol";
import {MockPermissionController} from "./mocks/MockPermissionController.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";

/// @dev The registry's cap, half the pool of eight, so that registrations meet a full set.
uint32 constant MAX_OPERATORS = 4;
/// @dev The registry's stake threshold: stakes run from 0 to 3e9 in weight, and the fuzzer's
///      small values fall below it, so that refusals and prunes of weighted operators occur.
uint256 constant MIN_OPERATOR_WEIGHT = 1000;
/// @dev The attestation contract's grace period for superseded versions.
uint32 constant GRACE_PERIOD = 10;

/// @notice Registers (allocating first, up to the cap, from the minimum weight),
///         deregisters, ejects and prunes (below the minimum; with EigenLayer's
///         deregistration working or refused) and re-stakes a pool of operators at
///         random, updating the table after each step, and keeps a ghost model of
///         the registry: the registration array with swap-and-pop removal, bans,
///         and stake.
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
    // What the registry's last `OperatorTableUpdated` said. An update publishes when any
    // leaf changed (order included), so it always restates the latest ghost table.
    uint32 public eventVersion;
    uint256 public eventTotalWeight;
    address public eventLeaves;
    address[] internal eventOperators;
    uint256[] internal eventWeights;
    mapping(uint32 version => uint256) public publishedAtBlock;

    uint256 public calls;
    uint256 public emptyTables;
    uint256 public ejections;
    uint256 public prunes;
    uint256 public refusedFull;
    uint256 public refusedStakeless;

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

    /// @dev Allocates, then registers: refused when the set is full or the allocation weighs
    ///      nothing. An operator pruned while EigenLayer refused to deregister it leaves
    ///      EigenLayer's set first (the registry has nothing to do then).
    function register(uint256 seed, uint64 stakeA, uint64 stakeB) external {
        address operator = _firstUnregisteredFrom(seed);
        if (operator == address(0)) return;
        _setStake(operator, stakeA, stakeB);
        if (allocationManager.isMember(address(registry), operator)) _leaveEigenLayer(operator);
        if (ghostRegistered.length >= MAX_OPERATORS) {
            vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorSetFull.selector, MAX_OPERATORS));
            ++refusedFull;
        } else if (_ghostWeight(operator) < MIN_OPERATOR_WEIGHT) {
            vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.NoAllocatedStake.selector, operator));
            ++refusedStakeless;
        } else {
            everRegistered[operator] = true;
            ghostRegistered.push(operator);
            ghostIndexPlusOne[operator] = ghostRegistered.length;
        }
        allocationManager.registerForOperatorSets(operator, address(registry), _ids(), registrationData[operator]);
        _update();
    }

    /// @dev Anyone prunes a registered operator (three times in four) or any candidate:
    ///      refused while it weighs the minimum, a no-op unless registered; EigenLayer's
    ///      deregistration works or is refused.
    function prune(uint256 seed, bool eigenLayerRefuses) external {
        address operator = _registeredOrAny(seed);
        bool registered = ghostIndexPlusOne[operator] != 0;
        allocationManager.setDeregistrationFails(eigenLayerRefuses);
        if (registered && _ghostWeight(operator) >= MIN_OPERATOR_WEIGHT) {
            vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorHasWeight.selector, operator));
        } else if (registered) {
            _ghostRemove(operator);
            ++prunes;
        }
        registry.pruneOperator(operator);
        allocationManager.setDeregistrationFails(false);
        _update();
    }

    function deregister(uint256 seed) external {
        if (ghostRegistered.length == 0) return;
        address operator = ghostRegistered[seed % ghostRegistered.length];
        _leaveEigenLayer(operator);
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

    /// @dev An operator (registered, three times in four) deallocates everything: it weighs
    ///      nothing, and may be pruned.
    function withdrawStake(uint256 seed) external {
        _setStake(_registeredOrAny(seed), 0, 0);
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
            uint256 weight = _ghostWeight(operator);
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

    /// @notice The last event's operators and weights.
    function lastEvent() external view returns (address[] memory, uint256[] memory) {
        return (eventOperators, eventWeights);
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

    /// @dev Stakes up to 1e9 each: zero one time in four, so that weightless operators occur,
    ///      and at most 400 one time in four, so that weights (A + 2B) fall on either side
    ///      of MIN_OPERATOR_WEIGHT.
    function _setStake(address operator, uint64 stakeA, uint64 stakeB) internal {
        uint256 a = _stake(stakeA);
        uint256 b = _stake(stakeB);
        allocationManager.setStake(operator, STRATEGY_A, a);
        allocationManager.setStake(operator, STRATEGY_B, b);
        (ghostStakeA[operator], ghostStakeB[operator]) = (a, b);
    }

    function _stake(uint64 raw) internal pure returns (uint256) {
        if (raw % 4 == 0) return 0;
        if (raw % 4 == 1) return bound(raw, 1, 400);
        return bound(raw, 1, 1e9);
    }

    function _ghostWeight(address operator) internal view returns (uint256) {
        return ghostStakeA[operator] + 2 * ghostStakeB[operator];
    }

    /// @dev The operator's own deregistration on EigenLayer, which calls the registry back.
    function _leaveEigenLayer(address operator) internal {
        vm.prank(operator);
        allocationManager.deregisterFromOperatorSets(
            IAllocationManagerTypes.DeregisterParams({
                operator: operator, avs: address(registry), operatorSetIds: _ids()
            })
        );
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
            (, eventTotalWeight, eventLeaves, listed,, listedWeights) =
                abi.decode(logs[i].data, (bytes, uint256, address, address[], bytes[], uint256[]));
            // forge-lint: disable-next-line(unsafe-typecast) -- an indexed uint32
            eventVersion = uint32(uint256(logs[i].topics[1]));
            publishedAtBlock[eventVersion] = block.number;
            eventOperators = listed;
            eventWeights = listedWeights;
        }
        snapshotMembers = members;
        snapshotWeights = weights;
    }

    function _registeredOrAny(uint256 seed) internal view returns (address) {
        if (seed % 4 != 0 && ghostRegistered.length != 0) return ghostRegistered[(seed / 4) % ghostRegistered.length];
        return candidates[seed % POOL];
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

/// @notice The latest operator table always restates the ghost model, and the
///         attestation contract holds it: its digest and leaves, the previous version
///         expiring a grace period after it.
contract OperatorTableInvariantTest is StdInvariant, Test {
    OperatorTableHandler internal handler;
    ChorusRegistry internal registry;
    ChorusAttestations internal attestations;

    function setUp() public {
        MockPermissionController permissionController = new MockPermissionController();
        MockAllocationManager allocationManager = new MockAllocationManager(permissionController);
        address owner = makeAddr("owner");
        registry =
            new ChorusRegistry(owner, allocationManager, permissionController, MAX_OPERATORS, MIN_OPERATOR_WEIGHT);
        attestations = new ChorusAttestations(owner, registry, 6667, GRACE_PERIOD);
        address[] memory strategies = new address[](2);
        (strategies[0], strategies[1]) = (address(0x5A1), address(0x5B2));
        uint256[] memory multipliers = new uint256[](2);
        (multipliers[0], multipliers[1]) = (1e18, 2e18);
        vm.prank(owner);
        address slasher = makeAddr("slasher");
        registry.setupAvs("uri", strategies, multipliers, slasher, address(attestations));

        handler = new OperatorTableHandler(registry, allocationManager, slasher);
        // A first table, so that version 1 exists, of three operators (weight 3 x 1002, over
        // the minimum): one short of the cap.
        for (uint256 i = 0; i < MAX_OPERATORS - 1; ++i) {
            handler.register(i, 1002, 1002);
        }
        assertEq(registry.operatorCount(), MAX_OPERATORS - 1);

        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = OperatorTableHandler.register.selector;
        selectors[1] = OperatorTableHandler.deregister.selector;
        selectors[2] = OperatorTableHandler.setStake.selector;
        selectors[3] = OperatorTableHandler.updateTable.selector;
        selectors[4] = OperatorTableHandler.rollBlocks.selector;
        selectors[5] = OperatorTableHandler.eject.selector;
        selectors[6] = OperatorTableHandler.prune.selector;
        selectors[7] = OperatorTableHandler.withdrawStake.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @dev The latest record: the ghost table's digest, no expiry, and a leaves contract
    ///      whose code (read with EXTCODECOPY) is a STOP byte then the ghost table's leaves.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_latestRecord_equalsGhostTable() public view {
        (address[] memory members, uint256[] memory weights) = handler.snapshot();
        bytes memory apk = new bytes(BLS12381.G2_LENGTH);
        bytes32[] memory leaves = new bytes32[](members.length);
        uint256 totalWeight = 0;
        for (uint256 i = 0; i < members.length; ++i) {
            bytes memory pubkey = handler.pubkeyOf(members[i]);
            apk = BLS12381.g2Add(apk, pubkey);
            leaves[i] = keccak256(abi.encode(keccak256(pubkey), weights[i]));
            totalWeight += weights[i];
        }
        uint32 latest = registry.latestTableVersion();
        assertEq(attestations.latestTableVersion(), latest, "same latest version in both contracts");
        (bytes28 digest, uint32 expiresAtBlock, address store) = attestations.tableRecord(latest);
        assertEq(digest, bytes28(keccak256(abi.encode(apk, totalWeight))), "digest");
        assertEq(expiresAtBlock, 0, "the latest version never expires");
        assertEq(_code(store), abi.encodePacked(hex"00", leaves), "stored leaves");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_lastEvent_restatesGhostTable() public view {
        (address[] memory members, uint256[] memory weights) = handler.snapshot();
        uint256 sum = 0;
        for (uint256 i = 0; i < weights.length; ++i) {
            sum += weights[i];
        }
        assertEq(handler.eventTotalWeight(), sum, "total weight");
        (address[] memory listed, uint256[] memory listedWeights) = handler.lastEvent();
        assertEq(listed, members, "operators in registration-array order");
        assertEq(listedWeights, weights, "weights");
        uint32 latest = registry.latestTableVersion();
        assertEq(handler.eventVersion(), latest, "the last event is the latest version");
        (,, address store) = attestations.tableRecord(latest);
        assertEq(handler.eventLeaves(), store, "the event names the recorded leaves contract");
    }

    /// @dev Superseded when its successor was published, the previous version lasts the grace
    ///      period from that block.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_previousVersion_expiresGracePeriodAfterLatest() public view {
        uint32 latest = registry.latestTableVersion();
        assertGe(latest, 1);
        if (latest == 1) return;
        (bytes28 digest, uint32 expiresAtBlock, address store) = attestations.tableRecord(latest - 1);
        assertTrue(digest != bytes28(0), "kept");
        assertTrue(store.code.length != 0, "its leaves kept");
        assertEq(expiresAtBlock, handler.publishedAtBlock(latest) + GRACE_PERIOD, "expiry");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 16
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_operatorCount_equalsGhostCount() public view {
        assertEq(registry.operatorCount(), handler.ghostCount(), "count");
        assertLe(registry.operatorCount(), registry.maxOperators(), "cap");
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

    /// @dev The account's code by EXTCODESIZE and EXTCODECOPY.
    function _code(address account) internal view returns (bytes memory code) {
        assembly ("memory-safe") {
            let size := extcodesize(account)
            code := mload(0x40)
            mstore(code, size)
            extcodecopy(account, add(code, 0x20), 0, size)
            mstore(0x40, add(add(code, 0x20), and(add(size, 0x1f), not(0x1f))))
        }
    }
}
