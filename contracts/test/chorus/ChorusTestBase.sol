// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Test, Vm} from "forge-std/Test.sol";

import {ChorusAttestations} from "../../src/ChorusAttestations.sol";
import {ChorusRegistry} from "../../src/ChorusRegistry.sol";
import {ChorusSlasher} from "../../src/ChorusSlasher.sol";
import {Commitment, IChorusRegistry, NonSigner, TableRef} from "../../src/interfaces/IChorus.sol";
import {IAllocationManagerTypes} from "../../src/interfaces/IEigenLayer.sol";
import {MockAllocationManager} from "./mocks/MockAllocationManager.sol";
import {MockPermissionController} from "./mocks/MockPermissionController.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Deploys Chorus on mock EigenLayer, registers operators (operator i
///         has BLS secret key i + 1), publishes a table (the registry records each
///         version in the attestation contract) and signs checkpoints.
abstract contract ChorusTestBase is Test {
    uint32 internal constant GRACE_PERIOD = 10;
    /// Registry's cap on registered operators (the deployment default), unless a suite
    /// overrides `_maxOperators`.
    uint32 internal constant MAX_OPERATORS = 200;
    /// Least weight an operator needs to register (and keep from pruning), unless a suite
    /// overrides `_minOperatorWeight`. 1 is also what the registry makes of 0.
    uint256 internal constant MIN_OPERATOR_WEIGHT = 1;
    uint16 internal constant QUORUM_BPS = 6667;
    uint256 internal constant WAD_TO_SLASH = 1e17;
    uint32 internal constant SET_ID = 0;
    /// Strategies in ascending address order, weighted 1x and 2x.
    address internal constant STRATEGY_A = address(0x5A1);
    address internal constant STRATEGY_B = address(0x5B2);
    uint256 internal constant MULTIPLIER_A = 1e18;
    uint256 internal constant MULTIPLIER_B = 2e18;
    uint64 internal constant OPTIMISM = 10;
    uint64 internal constant BASE = 8453;
    uint64 internal constant ARBITRUM = 42161;

    /// A published operator table, as rebuilt from `OperatorTableUpdated`: the restated
    /// ref, the contract holding its leaves, and the leaves' content in order.
    struct Table {
        TableRef ref;
        address leaves;
        address[] operators;
        bytes[] pubkeys;
        uint256[] weights;
    }

    address internal owner = makeAddr("owner");
    MockPermissionController internal permissionController;
    MockAllocationManager internal allocationManager;
    ChorusRegistry internal registry;
    ChorusAttestations internal attestations;
    ChorusSlasher internal slasher;

    /// Every operator ever added, by index; its secret key is index + 1.
    address[] internal operators;
    mapping(address operator => uint256) internal skOf;
    /// The latest table published through `_updateTable`.
    Table internal table;

    function setUp() public virtual {
        _deployChorus();
        _addOperators(_initialOperatorCount());
        _updateTable();
    }

    /// @dev Ten operators weighing 200 + i (stake A = 100 + i at 1x, stake B = 50 at 2x).
    function _initialOperatorCount() internal pure virtual returns (uint256) {
        return 10;
    }

    function _maxOperators() internal pure virtual returns (uint32) {
        return MAX_OPERATORS;
    }

    function _minOperatorWeight() internal pure virtual returns (uint256) {
        return MIN_OPERATOR_WEIGHT;
    }

    // ------------------------------------------------------------------
    // Deployment and operators
    // ------------------------------------------------------------------

    function _deployChorus() internal {
        permissionController = new MockPermissionController();
        allocationManager = new MockAllocationManager(permissionController);
        registry =
            new ChorusRegistry(owner, allocationManager, permissionController, _maxOperators(), _minOperatorWeight());
        attestations = new ChorusAttestations(owner, registry, QUORUM_BPS, GRACE_PERIOD);
        slasher = new ChorusSlasher(allocationManager, registry, address(attestations), WAD_TO_SLASH);
        vm.startPrank(owner);
        registry.setupAvs(
            "https://chorus.example/avs.json", _strategies(), _multipliers(), address(slasher), address(attestations)
        );
        attestations.addRollup(OPTIMISM, "OP Mainnet");
        attestations.addRollup(BASE, "Base");
        attestations.addRollup(ARBITRUM, "Arbitrum One");
        vm.stopPrank();
    }

    function _strategies() internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (STRATEGY_A, STRATEGY_B);
    }

    function _multipliers() internal pure returns (uint256[] memory list) {
        list = new uint256[](2);
        (list[0], list[1]) = (MULTIPLIER_A, MULTIPLIER_B);
    }

    function _setIds() internal pure returns (uint32[] memory ids) {
        ids = new uint32[](1);
        ids[0] = SET_ID;
    }

    function _operatorAddress(uint256 index) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("chorus.test.operator", index)))));
    }

    /// @dev Adds `count` operators weighing 200 + index each (allocated before registering).
    function _addOperators(uint256 count) internal {
        for (uint256 i = 0; i < count; ++i) {
            uint256 index = operators.length;
            address operator = _operatorAddress(index);
            operators.push(operator);
            _setStake(operator, 100 + index, 50);
            _register(operator, index + 1);
        }
    }

    /// @dev Registers through the AllocationManager, as `registerForOperatorSets` does. The
    ///      registry refuses an operator without allocated stake: `_setStake` first.
    function _register(address operator, uint256 sk) internal {
        skOf[operator] = sk;
        allocationManager.registerForOperatorSets(
            operator, address(registry), _setIds(), _registrationData(sk, operator)
        );
    }

    /// @dev `abi.encode(pubkey, pop, ownership)` binding key `sk` to `operator` in this registry.
    function _registrationData(uint256 sk, address operator) internal view returns (bytes memory) {
        return BlsSigner.registrationData(sk, address(registry), operator);
    }

    /// @dev The key's signature over `ChorusKeyRegistration` for `operator` in this registry.
    function _ownership(uint256 sk, address operator) internal view returns (bytes memory) {
        return BlsSigner.ownership(sk, block.chainid, address(registry), operator);
    }

    function _deregister(address operator) internal {
        vm.prank(operator);
        allocationManager.deregisterFromOperatorSets(
            IAllocationManagerTypes.DeregisterParams({
                operator: operator, avs: address(registry), operatorSetIds: _setIds()
            })
        );
    }

    /// @dev Ejects as the slasher does after a proof.
    function _eject(address operator) internal {
        vm.prank(address(slasher));
        registry.eject(operator);
    }

    /// @dev Anyone may prune: an unrelated account does here.
    function _prune(address operator) internal {
        vm.prank(makeAddr("pruner"));
        registry.pruneOperator(operator);
    }

    /// @dev The operator's allocation to the set: weight = stakeA * 1 + stakeB * 2. It is
    ///      slashable (and counts in tables) only while the operator is a member, or
    ///      recently deregistered.
    function _setStake(address operator, uint256 stakeA, uint256 stakeB) internal {
        allocationManager.setStake(operator, STRATEGY_A, stakeA);
        allocationManager.setStake(operator, STRATEGY_B, stakeB);
    }

    // ------------------------------------------------------------------
    // Operator tables
    // ------------------------------------------------------------------

    /// @dev Calls `updateOperatorTable`; when it publishes a version, rebuilds `table` from
    ///      the event and checks what the attestation contract recorded against it.
    function _updateTable() internal returns (uint32 version) {
        vm.recordLogs();
        version = registry.updateOperatorTable();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(registry)) continue;
            if (logs[i].topics[0] != IChorusRegistry.OperatorTableUpdated.selector) continue;
            _storeTable(uint32(uint256(logs[i].topics[1])), logs[i].data);
            _assertRecorded();
        }
        assertEq(table.ref.version, version, "table version");
        assertEq(attestations.latestTableVersion(), version, "attestations' latest version");
    }

    /// @dev The attestation contract's record of `table`: its digest, no expiry, and the
    ///      event's leaves contract holding exactly the event's leaves.
    function _assertRecorded() internal view {
        (bytes28 digest, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(table.ref.version);
        assertEq(digest, bytes28(keccak256(abi.encode(table.ref.apk, table.ref.totalWeight))), "recorded digest");
        assertEq(expiresAtBlock, 0, "the latest version never expires");
        assertEq(leaves, table.leaves, "recorded leaves are the event's");
        assertEq(leaves.code, _expectedLeavesCode(), "leaves contract holds the event's leaves");
    }

    function _storeTable(uint32 version, bytes memory data) private {
        (
            bytes memory apk,
            uint256 totalWeight,
            address leaves,
            address[] memory members,
            bytes[] memory pubkeys,
            uint256[] memory weights
        ) = abi.decode(data, (bytes, uint256, address, address[], bytes[], uint256[]));
        table.ref = TableRef({version: version, apk: apk, totalWeight: totalWeight});
        table.leaves = leaves;
        table.operators = members;
        delete table.pubkeys;
        for (uint256 i = 0; i < pubkeys.length; ++i) {
            table.pubkeys.push(pubkeys[i]);
        }
        table.weights = weights;
    }

    function _tableRef() internal view returns (TableRef memory) {
        return table.ref;
    }

    /// @dev Leaf of an operator table, written from the spec: keccak of abi.encode(keyHash, weight)
    ///      (one hash: leaves are read by position, never proven through a tree).
    function _operatorLeaf(bytes memory pubkey, uint256 weight) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(pubkey), weight));
    }

    function _operatorLeaves() internal view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](table.operators.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            leaves[i] = _operatorLeaf(table.pubkeys[i], table.weights[i]);
        }
    }

    /// @dev What a leaves contract must hold for the latest `table`: a STOP byte, then the leaves.
    function _expectedLeavesCode() internal view returns (bytes memory) {
        return abi.encodePacked(hex"00", _operatorLeaves());
    }

    /// @dev The leaves contract of `version` as the attestation contract records it.
    function _recordedLeaves(uint32 version) internal view returns (address leaves) {
        (,, leaves) = attestations.tableRecord(version);
    }

    function _indexInTable(address operator) internal view returns (uint256) {
        for (uint256 i = 0; i < table.operators.length; ++i) {
            if (table.operators[i] == operator) return i;
        }
        revert("operator not in table");
    }

    function _inTable(address operator) internal view returns (bool) {
        for (uint256 i = 0; i < table.operators.length; ++i) {
            if (table.operators[i] == operator) return true;
        }
        return false;
    }

    function _weightOf(address operator) internal view returns (uint256) {
        return table.weights[_indexInTable(operator)];
    }

    /// @dev Non-signer entries for `missing` (any order), each with its position in the
    ///      table's leaves, sorted by that position as the contract wants them.
    function _nonSigners(address[] memory missing) internal view returns (NonSigner[] memory list) {
        list = new NonSigner[](missing.length);
        for (uint256 i = 0; i < missing.length; ++i) {
            uint256 index = _indexInTable(missing[i]);
            list[i] = NonSigner({pubkey: table.pubkeys[index], weight: table.weights[index], index: index});
        }
        _sortByIndex(list);
    }

    function _sortByIndex(NonSigner[] memory list) internal pure {
        for (uint256 i = 1; i < list.length; ++i) {
            NonSigner memory item = list[i];
            uint256 j = i;
            while (j > 0 && list[j - 1].index > item.index) {
                list[j] = list[j - 1];
                --j;
            }
            list[j] = item;
        }
    }

    // ------------------------------------------------------------------
    // Signing and submitting
    // ------------------------------------------------------------------

    /// @dev Every operator of `table` but `missing`.
    function _signersExcept(address[] memory missing) internal view returns (address[] memory signers) {
        signers = new address[](table.operators.length);
        uint256 count = 0;
        for (uint256 i = 0; i < table.operators.length; ++i) {
            if (!_contains(missing, table.operators[i])) signers[count++] = table.operators[i];
        }
        assembly ("memory-safe") {
            mstore(signers, count)
        }
    }

    /// @dev The aggregate (G1ADD of individual signatures) over `message`.
    function _aggregateSignature(address[] memory signers, bytes32 message) internal view returns (bytes memory) {
        bytes memory point = BlsSigner.messagePoint(message);
        bytes[] memory signatures = new bytes[](signers.length);
        for (uint256 i = 0; i < signers.length; ++i) {
            signatures[i] = BlsSigner.sign(skOf[signers[i]], point);
        }
        return BlsSigner.aggregate(signatures);
    }

    /// @dev The aggregate of every table operator but `missing` over this deployment's checkpoint.
    function _signCheckpoint(bytes32 root, address[] memory missing) internal view returns (bytes memory) {
        return _aggregateSignature(_signersExcept(missing), attestations.checkpointMessage(table.ref.version, root));
    }

    /// @dev One operator's own signature over a checkpoint of this deployment.
    function _signAs(address operator, uint32 version, bytes32 root) internal view returns (bytes memory) {
        return BlsSigner.signMessage(skOf[operator], attestations.checkpointMessage(version, root));
    }

    /// @dev Root-only submission signed by every table operator but `missing`.
    function _submit(bytes32 root, address[] memory missing) internal {
        attestations.submitCheckpoint(table.ref, root, _nonSigners(missing), _signCheckpoint(root, missing));
    }

    /// @dev Recording-mode submission signed by every table operator.
    function _submitWithCommitments(Commitment[] memory commitments) internal {
        bytes memory signature = _signCheckpoint(_checkpointRoot(commitments), _none());
        attestations.submitCheckpointWithCommitments(table.ref, commitments, new NonSigner[](0), signature);
    }

    // ------------------------------------------------------------------
    // Checkpoints
    // ------------------------------------------------------------------

    function _commitment(uint64 rollupId, uint64 height, bytes32 salt) internal pure returns (Commitment memory) {
        return Commitment({
            rollupId: rollupId,
            l2BlockNumber: height,
            l2BlockHash: keccak256(abi.encode("block", rollupId, height, salt)),
            stateRoot: keccak256(abi.encode("state", rollupId, height, salt))
        });
    }

    /// @dev Leaf of a checkpoint, written from the spec.
    function _commitmentLeaf(Commitment memory commitment) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(commitment))));
    }

    function _commitmentLeaves(Commitment[] memory commitments) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](commitments.length);
        for (uint256 i = 0; i < commitments.length; ++i) {
            leaves[i] = _commitmentLeaf(commitments[i]);
        }
    }

    function _checkpointRoot(Commitment[] memory commitments) internal pure returns (bytes32) {
        return MerkleBuilder.root(_commitmentLeaves(commitments));
    }

    function _commitmentProof(Commitment[] memory commitments, uint256 index) internal pure returns (bytes32[] memory) {
        return MerkleBuilder.proof(_commitmentLeaves(commitments), index);
    }

    /// @dev Three commitments (OP, Base, Arbitrum) at `height`, sorted by rollup id.
    function _threeCommitments(uint64 height, bytes32 salt) internal pure returns (Commitment[] memory list) {
        list = new Commitment[](3);
        list[0] = _commitment(OPTIMISM, height, salt);
        list[1] = _commitment(BASE, height, salt);
        list[2] = _commitment(ARBITRUM, height, salt);
    }

    // ------------------------------------------------------------------
    // Small utilities
    // ------------------------------------------------------------------

    function _none() internal pure returns (address[] memory) {
        return new address[](0);
    }

    function _list(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _list(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (a, b);
    }

    function _list(address a, address b, address c) internal pure returns (address[] memory list) {
        list = new address[](3);
        (list[0], list[1], list[2]) = (a, b, c);
    }

    function _contains(address[] memory list, address item) internal pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == item) return true;
        }
        return false;
    }

    /// @dev The logs of one emitter, in order.
    function _logsOf(Vm.Log[] memory logs, address emitter) internal pure returns (Vm.Log[] memory kept) {
        kept = new Vm.Log[](logs.length);
        uint256 count = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == emitter) kept[count++] = logs[i];
        }
        assembly ("memory-safe") {
            mstore(kept, count)
        }
    }

    function _sum(uint256[] memory values) internal pure returns (uint256 total) {
        for (uint256 i = 0; i < values.length; ++i) {
            total += values[i];
        }
    }
}
