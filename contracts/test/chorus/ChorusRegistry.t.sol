// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Vm} from "forge-std/Test.sol";

import {BLS12381} from "../../src/bls/BLS12381.sol";
import {CheckpointLib} from "../../src/CheckpointLib.sol";
import {ChorusAttestations} from "../../src/ChorusAttestations.sol";
import {ChorusRegistry} from "../../src/ChorusRegistry.sol";
import {Eip2537} from "../../src/Eip2537.sol";
import {IChorusAttestations, IChorusRegistry} from "../../src/interfaces/IChorus.sol";
import {TableLeaves} from "../../src/TableLeaves.sol";
import {IAllocationManager, IAllocationManagerTypes, OperatorSet} from "../../src/interfaces/IEigenLayer.sol";
import {ChorusTestBase} from "./ChorusTestBase.sol";
import {BlsSigner} from "./utils/BlsSigner.sol";

/// @notice Registration through the AllocationManager (allocated stake, proof of
///         possession, key ownership, registration data, operator set checks, key
///         ownership for good), deregistration, ejection, pruning and the tables
///         they lead to.
contract ChorusRegistryTest is ChorusTestBase {
    uint256 internal constant NEW_SK = 777;
    /// abi.encode(bytes, bytes, bytes) of 256 + 128 + 128 bytes.
    uint256 internal constant DATA_LENGTH = 6 * 32 + 256 + 128 + 128;
    /// Weight of `newOperator`'s allocation: 10 + 2 * 20.
    uint256 internal constant NEW_WEIGHT = 50;
    address internal newOperator = makeAddr("new operator");

    function _initialOperatorCount() internal pure override returns (uint256) {
        return 3;
    }

    /// @dev The newcomer has allocated stake to the set, as EigenLayer operators do before
    ///      registering, so that the registration checks below are the ones that fail.
    function setUp() public override {
        super.setUp();
        _setStake(newOperator, 10, 20);
    }

    // ------------------------------------------------------------------
    // Valid registration
    // ------------------------------------------------------------------

    function test_register_validProofs_registersOperatorAndKey() public {
        bytes memory pubkey = BlsSigner.pubkey(NEW_SK);
        bytes32 pubkeyHash = keccak256(pubkey);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IChorusRegistry.OperatorRegistered(newOperator, pubkeyHash, pubkey);
        _register(newOperator, NEW_SK);

        assertTrue(registry.isRegistered(newOperator));
        assertEq(registry.operatorOfKey(pubkeyHash), newOperator);
        assertEq(registry.pubkeyHashOf(newOperator), pubkeyHash);
        assertEq(registry.pubkeyOf(pubkeyHash), pubkey);
        assertEq(registry.operatorCount(), 4);
    }

    function test_registrationData_isThreeEip2537Encodings() public view {
        bytes memory data = _registrationData(NEW_SK, newOperator);
        assertEq(data.length, DATA_LENGTH);
        (bytes memory pubkey, bytes memory pop, bytes memory ownership) = abi.decode(data, (bytes, bytes, bytes));
        assertEq(pubkey, BlsSigner.pubkey(NEW_SK));
        assertEq(pop, BlsSigner.pop(NEW_SK));
        bytes32 typehash = keccak256("ChorusKeyRegistration(uint256 l1ChainId,address registry,address operator)");
        bytes32 message = keccak256(abi.encode(typehash, block.chainid, address(registry), newOperator));
        assertEq(ownership, BlsSigner.signMessage(NEW_SK, message), "signature over hashStruct(ChorusKeyRegistration)");
    }

    function test_register_newOperatorJoinsNextTableWithItsWeight() public {
        _register(newOperator, NEW_SK);
        _updateTable();
        assertEq(table.ref.version, 2);
        assertEq(table.operators[3], newOperator, "appended in registration order");
        assertEq(table.pubkeys[3], BlsSigner.pubkey(NEW_SK));
        assertEq(table.weights[3], NEW_WEIGHT);
    }

    /// @dev A registered operator whose stake fell to zero stays registered (and costs every
    ///      update its read) but is left out of the table, until someone prunes it.
    function test_registeredOperatorWithoutStake_leftOutOfTable() public {
        _register(newOperator, NEW_SK);
        _setStake(newOperator, 0, 0);
        assertEq(_updateTable(), 1, "nothing to add: same version");
        assertFalse(_inTable(newOperator));
        assertEq(registry.operatorCount(), 4);
        assertTrue(registry.isRegistered(newOperator));
    }

    // ------------------------------------------------------------------
    // Allocated stake
    // ------------------------------------------------------------------

    /// @dev Without an allocation to the set there is nothing to slash: registration reverts
    ///      before the key is looked at, and the key stays free.
    function test_register_withoutAllocatedStake_revertsNoAllocatedStake() public {
        address stakeless = makeAddr("stakeless");
        uint32[] memory ids = _setIds();
        bytes memory data = _registrationData(NEW_SK, stakeless);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.NoAllocatedStake.selector, stakeless));
        allocationManager.registerForOperatorSets(stakeless, address(registry), ids, data);
        assertFalse(registry.isRegistered(stakeless));
        assertFalse(allocationManager.isMember(address(registry), stakeless), "the whole registration reverted");
        assertEq(registry.operatorOfKey(keccak256(BlsSigner.pubkey(NEW_SK))), address(0), "the key is still free");
        assertEq(registry.operatorCount(), 3);

        _setStake(stakeless, 1, 0);
        allocationManager.registerForOperatorSets(stakeless, address(registry), ids, data);
        assertTrue(registry.isRegistered(stakeless));
    }

    /// @dev Stake in strategies outside the operator set weighs nothing.
    function test_register_stakeOnlyInOtherStrategy_revertsNoAllocatedStake() public {
        address elsewhere = makeAddr("staked elsewhere");
        allocationManager.setStake(elsewhere, address(0x5C3), 1e24);
        bytes memory data = _registrationData(NEW_SK, elsewhere);
        uint32[] memory ids = _setIds();
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.NoAllocatedStake.selector, elsewhere));
        allocationManager.registerForOperatorSets(elsewhere, address(registry), ids, data);
    }

    /// @dev Any one strategy of the set with non-zero weight is enough.
    function test_register_stakeInOneStrategy_registers() public {
        address onlyB = makeAddr("only B");
        _setStake(onlyB, 0, 1);
        _register(onlyB, NEW_SK);
        _updateTable();
        assertEq(_weightOf(onlyB), 2);
    }

    /// @dev The registry reads the allocation, which exists before membership; the slashable
    ///      stake it weighs tables with is zero until the operator is a member.
    function test_register_readsAllocatedNotSlashableStake() public {
        OperatorSet memory set = OperatorSet({avs: address(registry), id: SET_ID});
        address[] memory one = _list(newOperator);
        address[] memory strategies = _strategies();
        assertEq(allocationManager.getMinimumSlashableStake(set, one, strategies, uint32(block.number))[0][0], 0);
        assertEq(allocationManager.getAllocatedStake(set, one, strategies)[0][0], 10);
        vm.expectCall(
            address(allocationManager), abi.encodeCall(IAllocationManager.getAllocatedStake, (set, one, strategies))
        );
        _register(newOperator, NEW_SK);
        assertEq(allocationManager.getMinimumSlashableStake(set, one, strategies, uint32(block.number))[0][0], 10);
    }

    // ------------------------------------------------------------------
    // Proof of possession (with a valid ownership signature)
    // ------------------------------------------------------------------

    function test_register_popOfAnotherKey_reverts() public {
        bytes memory data = _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK + 1), _ownership(NEW_SK, newOperator));
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidProofOfPossession.selector));
    }

    /// @dev Same key, same message (the compressed key), signature DST instead of PoP DST.
    function test_register_popUnderSignatureDst_reverts() public {
        bytes memory pubkey = BlsSigner.pubkey(NEW_SK);
        bytes memory message = BLS12381.hashToG1(BLS12381.compressG2(pubkey), BLS12381.SIGNATURE_DST);
        bytes memory data = _data(pubkey, BlsSigner.sign(NEW_SK, message), _ownership(NEW_SK, newOperator));
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidProofOfPossession.selector));
    }

    /// @dev A PoP over the uncompressed (EIP-2537) key is not the ciphersuite's PoP.
    function test_register_popOverUncompressedKey_reverts() public {
        bytes memory pubkey = BlsSigner.pubkey(NEW_SK);
        bytes memory pop = BlsSigner.sign(NEW_SK, BLS12381.hashToG1(pubkey, BLS12381.POP_DST));
        _expectRegisterRevert(
            _data(pubkey, pop, _ownership(NEW_SK, newOperator)),
            abi.encodeWithSelector(IChorusRegistry.InvalidProofOfPossession.selector)
        );
    }

    /// @dev A checkpoint signature is no proof of possession.
    function test_register_checkpointSignatureAsPop_reverts() public {
        bytes memory data = _data(
            BlsSigner.pubkey(NEW_SK),
            BlsSigner.signMessage(NEW_SK, attestations.checkpointMessage(1, keccak256("root"))),
            _ownership(NEW_SK, newOperator)
        );
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidProofOfPossession.selector));
    }

    /// @dev Nor is the ownership signature: both fields must be there.
    function test_register_ownershipSignatureAsPop_reverts() public {
        bytes memory ownership = _ownership(NEW_SK, newOperator);
        _expectRegisterRevert(
            _data(BlsSigner.pubkey(NEW_SK), ownership, ownership),
            abi.encodeWithSelector(IChorusRegistry.InvalidProofOfPossession.selector)
        );
    }

    function test_register_infinityKey_reverts() public {
        bytes memory data = _data(new bytes(BLS12381.G2_LENGTH), BlsSigner.pop(NEW_SK), _ownership(NEW_SK, newOperator));
        _expectRegisterRevert(data, abi.encodeWithSelector(BLS12381.PointAtInfinity.selector));
    }

    function test_register_infinityPop_reverts() public {
        bytes memory data =
            _data(BlsSigner.pubkey(NEW_SK), new bytes(BLS12381.G1_LENGTH), _ownership(NEW_SK, newOperator));
        _expectRegisterRevert(data, abi.encodeWithSelector(BLS12381.PointAtInfinity.selector));
    }

    /// @dev x.c0 = x.c0 + p: same point mod p, non-canonical encoding.
    function test_register_nonCanonicalKeyEncoding_reverts() public {
        bytes memory pubkey = BlsSigner.pubkey(NEW_SK);
        _addPToFirstFieldElement(pubkey);
        _expectRegisterRevert(
            _data(pubkey, BlsSigner.pop(NEW_SK), _ownership(NEW_SK, newOperator)),
            abi.encodeWithSelector(BLS12381.InvalidPointEncoding.selector)
        );
    }

    /// @dev A canonical encoding of a point off the curve: the pairing precompile refuses it.
    function test_register_keyOffCurve_reverts() public {
        bytes memory pubkey = BlsSigner.pubkey(NEW_SK);
        pubkey[255] = bytes1(uint8(pubkey[255]) ^ 1);
        _expectRegisterRevert(
            _data(pubkey, BlsSigner.pop(NEW_SK), _ownership(NEW_SK, newOperator)),
            abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK)
        );
    }

    // ------------------------------------------------------------------
    // Key ownership: the key's signature over ChorusKeyRegistration
    // ------------------------------------------------------------------

    /// @dev Anyone who sees an operator's registration data (in the mempool, or on another
    ///      deployment) used to be able to register that key first under their own address.
    ///      The ownership signature names the operator: a copy does not register, and the
    ///      victim still registers its own key afterwards.
    function test_register_copiedRegistrationData_doesNotRegister() public {
        bytes memory victimData = _registrationData(NEW_SK, newOperator);
        address squatter = makeAddr("squatter");
        _setStake(squatter, 1, 0);
        uint32[] memory ids = _setIds();
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
        allocationManager.registerForOperatorSets(squatter, address(registry), ids, victimData);
        assertFalse(registry.isRegistered(squatter));
        assertEq(registry.operatorOfKey(keccak256(BlsSigner.pubkey(NEW_SK))), address(0), "the key is still free");

        allocationManager.registerForOperatorSets(newOperator, address(registry), ids, victimData);
        assertEq(registry.operatorOfKey(keccak256(BlsSigner.pubkey(NEW_SK))), newOperator);
    }

    function test_register_ownershipForAnotherOperator_reverts() public {
        bytes memory data =
            _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), _ownership(NEW_SK, makeAddr("someone else")));
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
    }

    /// @dev Registration data made for another Chorus deployment on this chain.
    function test_register_dataForAnotherRegistry_reverts() public {
        ChorusRegistry other =
            new ChorusRegistry(owner, allocationManager, permissionController, MAX_OPERATORS, MIN_OPERATOR_WEIGHT);
        bytes memory data = BlsSigner.registrationData(NEW_SK, address(other), newOperator);
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
    }

    /// @dev Registration data made for this registry's address on another chain.
    function test_register_dataForAnotherChain_reverts() public {
        bytes memory ownership = BlsSigner.ownership(NEW_SK, block.chainid + 1, address(registry), newOperator);
        bytes memory data = _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), ownership);
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
    }

    /// @dev The registry reads `block.chainid` at registration: data made on chain A does
    ///      not register on chain B (a fork), data made on B does.
    function test_register_afterChainIdChange_needsDataForTheNewChain() public {
        bytes memory oldChainData = _registrationData(NEW_SK, newOperator);
        vm.chainId(block.chainid + 7);
        _expectRegisterRevert(oldChainData, abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
        _register(newOperator, NEW_SK);
        assertTrue(registry.isRegistered(newOperator));
    }

    function test_register_ownershipByAnotherKey_reverts() public {
        bytes memory data = _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), _ownership(NEW_SK + 1, newOperator));
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
    }

    /// @dev Same message, PoP DST instead of the signature DST.
    function test_register_ownershipUnderPopDst_reverts() public {
        bytes32 message = CheckpointLib.keyRegistrationMessage(block.chainid, address(registry), newOperator);
        bytes memory ownership = BlsSigner.sign(NEW_SK, BLS12381.hashToG1(abi.encodePacked(message), BLS12381.POP_DST));
        bytes memory data = _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), ownership);
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector));
    }

    /// @dev The PoP twice: a valid PoP proves no ownership.
    function test_register_popAsOwnership_reverts() public {
        bytes memory pop = BlsSigner.pop(NEW_SK);
        _expectRegisterRevert(
            _data(BlsSigner.pubkey(NEW_SK), pop, pop),
            abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector)
        );
    }

    /// @dev A checkpoint signature of the same key proves no ownership.
    function test_register_checkpointSignatureAsOwnership_reverts() public {
        bytes memory checkpointSignature =
            BlsSigner.signMessage(NEW_SK, attestations.checkpointMessage(1, keccak256("root")));
        _expectRegisterRevert(
            _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), checkpointSignature),
            abi.encodeWithSelector(IChorusRegistry.InvalidKeyOwnership.selector)
        );
    }

    function test_register_infinityOwnership_reverts() public {
        bytes memory data = _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), new bytes(BLS12381.G1_LENGTH));
        _expectRegisterRevert(data, abi.encodeWithSelector(BLS12381.PointAtInfinity.selector));
    }

    function test_register_nonCanonicalOwnership_reverts() public {
        bytes memory ownership = _ownership(NEW_SK, newOperator);
        _addPToFirstFieldElement(ownership);
        _expectRegisterRevert(
            _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), ownership),
            abi.encodeWithSelector(BLS12381.InvalidPointEncoding.selector)
        );
    }

    function test_register_ownershipOffCurve_reverts() public {
        bytes memory ownership = _ownership(NEW_SK, newOperator);
        ownership[127] = bytes1(uint8(ownership[127]) ^ 1);
        _expectRegisterRevert(
            _data(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK), ownership),
            abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, Eip2537.PAIRING_CHECK)
        );
    }

    // ------------------------------------------------------------------
    // Registration data
    // ------------------------------------------------------------------

    function test_register_emptyData_reverts() public {
        _expectRegisterRevert("", abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
    }

    function test_register_dataOneByteShort_reverts() public {
        bytes memory data = _registrationData(NEW_SK, newOperator);
        assertEq(data.length, DATA_LENGTH);
        assembly ("memory-safe") {
            mstore(data, sub(mload(data), 1))
        }
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
    }

    function test_register_dataOneByteLong_reverts() public {
        bytes memory data = bytes.concat(_registrationData(NEW_SK, newOperator), hex"00");
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
    }

    /// @dev The format before key ownership: abi.encode(pubkey, pop), 512 bytes.
    function test_register_twoFieldDataWithoutOwnership_reverts() public {
        bytes memory data = abi.encode(BlsSigner.pubkey(NEW_SK), BlsSigner.pop(NEW_SK));
        assertEq(data.length, 512);
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
    }

    /// @dev DATA_LENGTH bytes in all, but fields of other lengths.
    function test_register_rightTotalLengthWrongFieldLengths_reverts() public {
        bytes memory data = abi.encode(new bytes(288), new bytes(96), new bytes(128));
        assertEq(data.length, DATA_LENGTH);
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
        data = abi.encode(new bytes(256), new bytes(160), new bytes(96));
        assertEq(data.length, DATA_LENGTH);
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
    }

    /// @dev Compressed (96-byte) key and 48-byte signatures, as blst writes them, are not EIP-2537 encodings.
    function test_register_compressedEncodings_reverts() public {
        bytes memory data = _data(BLS12381.compressG2(BlsSigner.pubkey(NEW_SK)), new bytes(48), new bytes(48));
        _expectRegisterRevert(data, abi.encodeWithSelector(IChorusRegistry.InvalidRegistrationData.selector));
    }

    // ------------------------------------------------------------------
    // Operator set and caller
    // ------------------------------------------------------------------

    function test_register_wrongAvs_reverts() public {
        address otherAvs = makeAddr("other avs");
        bytes memory data = _registrationData(NEW_SK, newOperator);
        vm.prank(address(allocationManager));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.WrongAvs.selector, otherAvs));
        registry.registerOperator(newOperator, otherAvs, _setIds(), data);
    }

    function test_register_wrongOperatorSetId_reverts() public {
        uint32[] memory ids = new uint32[](1);
        ids[0] = 1;
        _expectRegisterWithIdsRevert(ids);
    }

    function test_register_twoOperatorSetIds_reverts() public {
        _expectRegisterWithIdsRevert(new uint32[](2));
    }

    function test_register_noOperatorSetId_reverts() public {
        _expectRegisterWithIdsRevert(new uint32[](0));
    }

    function test_register_callerNotAllocationManager_reverts() public {
        bytes memory data = _registrationData(NEW_SK, newOperator);
        vm.prank(newOperator);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OnlyAllocationManager.selector));
        registry.registerOperator(newOperator, address(registry), _setIds(), data);
    }

    /// @dev Defence in depth: the AllocationManager never registers a member twice, but if it
    ///      did, the operator would sit twice in the list (double weight, double key).
    function test_register_operatorAlreadyRegistered_reverts() public {
        address operator = operators[0];
        bytes memory sameKey = _registrationData(skOf[operator], operator);
        bytes memory otherKey = _registrationData(NEW_SK, operator);
        uint32[] memory ids = _setIds();
        vm.startPrank(address(allocationManager));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorAlreadyRegistered.selector, operator));
        registry.registerOperator(operator, address(registry), ids, sameKey);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorAlreadyRegistered.selector, operator));
        registry.registerOperator(operator, address(registry), ids, otherKey);
        vm.stopPrank();
        assertEq(registry.operatorCount(), 3);
        assertEq(registry.operatorOfKey(keccak256(BlsSigner.pubkey(NEW_SK))), address(0));
    }

    function test_deregister_callerNotAllocationManager_reverts() public {
        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OnlyAllocationManager.selector));
        registry.deregisterOperator(operators[0], address(registry), _setIds());
    }

    function test_deregister_wrongAvs_reverts() public {
        vm.prank(address(allocationManager));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.WrongAvs.selector, address(0xbad)));
        registry.deregisterOperator(operators[0], address(0xbad), _setIds());
    }

    function test_supportsAvs_onlyItself() public view {
        assertTrue(registry.supportsAVS(address(registry)));
        assertFalse(registry.supportsAVS(address(attestations)));
    }

    // ------------------------------------------------------------------
    // Key ownership for good
    // ------------------------------------------------------------------

    /// @dev Even with a valid ownership signature for the newcomer: a key has one operator.
    function test_register_keyOfAnotherOperator_reverts() public {
        bytes memory data = _registrationData(1, newOperator);
        uint32[] memory ids = _setIds();
        bytes32 pubkeyHash = keccak256(BlsSigner.pubkey(1));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.KeyAlreadyRegistered.selector, pubkeyHash, operators[0]));
        allocationManager.registerForOperatorSets(newOperator, address(registry), ids, data);
    }

    /// @dev A key stays its first operator's for good, registered or not.
    function test_register_keyOfDeregisteredOperator_reverts() public {
        _deregister(operators[0]);
        bytes memory data = _registrationData(1, newOperator);
        uint32[] memory ids = _setIds();
        bytes32 pubkeyHash = keccak256(BlsSigner.pubkey(1));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.KeyAlreadyRegistered.selector, pubkeyHash, operators[0]));
        allocationManager.registerForOperatorSets(newOperator, address(registry), ids, data);
    }

    function test_reregister_sameOperatorSameKey_afterDeregistration() public {
        address operator = operators[1];
        _deregister(operator);
        assertFalse(registry.isRegistered(operator));
        assertEq(registry.operatorCount(), 2);

        _register(operator, 2);
        assertTrue(registry.isRegistered(operator));
        assertEq(registry.operatorCount(), 3);
        assertEq(registry.operatorOfKey(keccak256(BlsSigner.pubkey(2))), operator);
        _setStake(operator, 5, 0);
        _updateTable();
        assertEq(table.operators[2], operator, "moved to the end of the registration array");
        assertEq(table.weights[2], 5);
    }

    /// @dev The key was proven this operator's at its first registration: coming back with
    ///      it checks the encodings' lengths only, not the proofs again.
    function test_reregister_ownKey_doesNotRecheckProofs() public {
        address operator = operators[1];
        _deregister(operator);
        bytes memory data = _data(BlsSigner.pubkey(2), new bytes(BLS12381.G1_LENGTH), new bytes(BLS12381.G1_LENGTH));
        allocationManager.registerForOperatorSets(operator, address(registry), _setIds(), data);
        assertTrue(registry.isRegistered(operator));
    }

    /// @dev An operator may come back with a new key; the old one stays its own.
    function test_reregister_withNewKey_afterDeregistration() public {
        address operator = operators[1];
        bytes32 oldKeyHash = registry.pubkeyHashOf(operator);
        _deregister(operator);
        _register(operator, NEW_SK);
        bytes32 newKeyHash = keccak256(BlsSigner.pubkey(NEW_SK));
        assertEq(registry.pubkeyHashOf(operator), newKeyHash);
        assertEq(registry.operatorOfKey(newKeyHash), operator);
        assertEq(registry.operatorOfKey(oldKeyHash), operator, "the old key is not freed");
        _updateTable();
        assertEq(table.pubkeys[_indexInTable(operator)], BlsSigner.pubkey(NEW_SK));
    }

    // ------------------------------------------------------------------
    // Deregistration and the table
    // ------------------------------------------------------------------

    function test_deregister_removesOperatorFromNextTable() public {
        vm.expectEmit(true, false, false, false, address(registry));
        emit IChorusRegistry.OperatorDeregistered(operators[0]);
        _deregister(operators[0]);
        assertFalse(registry.isRegistered(operators[0]));
        _updateTable();
        assertEq(table.operators.length, 2);
        // Swap and pop: the last operator takes the removed one's place.
        assertEq(table.operators[0], operators[2]);
        assertEq(table.operators[1], operators[1]);
    }

    function test_deregister_unknownOperator_isNoOp() public {
        vm.recordLogs();
        vm.prank(address(allocationManager));
        registry.deregisterOperator(newOperator, address(registry), _setIds());
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(registry.operatorCount(), 3);
    }

    function test_deregister_twice_secondIsNoOpWithoutEvent() public {
        _deregister(operators[0]);
        vm.recordLogs();
        vm.prank(address(allocationManager));
        registry.deregisterOperator(operators[0], address(registry), _setIds());
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(registry.operatorCount(), 2);
    }

    function test_updateOperatorTable_appliesStrategyMultipliers() public {
        _setStake(operators[0], 7, 0);
        _setStake(operators[1], 0, 7);
        _setStake(operators[2], 3, 5);
        _updateTable();
        assertEq(table.weights[0], 7);
        assertEq(table.weights[1], 14);
        assertEq(table.weights[2], 13);
        assertEq(table.ref.totalWeight, 34);
    }

    // ------------------------------------------------------------------
    // Ejection
    // ------------------------------------------------------------------

    /// @dev The registry removes the operator itself; EigenLayer's deregistration callback
    ///      then finds nothing to remove, so OperatorDeregistered is not emitted.
    function test_eject_removesLocallyAndEmitsOnlyOperatorEjected() public {
        address operator = operators[0];
        bytes32 pubkeyHash = registry.pubkeyHashOf(operator);
        vm.expectCall(
            address(allocationManager), abi.encodeWithSelector(IAllocationManager.deregisterFromOperatorSets.selector)
        );
        vm.recordLogs();
        _eject(operator);
        Vm.Log[] memory logs = _logsOf(vm.getRecordedLogs(), address(registry));
        assertEq(logs.length, 1, "one registry event");
        assertEq(logs[0].topics[0], IChorusRegistry.OperatorEjected.selector);
        assertEq(logs[0].topics[1], bytes32(uint256(uint160(operator))));
        assertEq(logs[0].topics[2], pubkeyHash);

        assertFalse(registry.isRegistered(operator));
        assertFalse(allocationManager.isMember(address(registry), operator), "deregistered on EigenLayer");
        assertTrue(registry.keyBanned(pubkeyHash));
        assertEq(registry.operatorCount(), 2);
        _updateTable();
        assertEq(table.operators.length, 2);
        assertEq(table.operators[0], operators[2], "swap and pop");
        assertEq(table.operators[1], operators[1]);
    }

    /// @dev EigenLayer refusing the deregistration (paused, upgraded, ...) does not undo
    ///      the ejection: the operator leaves the next table and stays banned.
    function test_eject_whenEigenLayerRefusesDeregistration_stillRemovesAndBans() public {
        address operator = operators[1];
        bytes32 pubkeyHash = registry.pubkeyHashOf(operator);
        allocationManager.setDeregistrationFails(true);
        _eject(operator);

        assertTrue(allocationManager.isMember(address(registry), operator), "still a member on EigenLayer");
        assertFalse(registry.isRegistered(operator));
        assertTrue(registry.keyBanned(pubkeyHash));
        assertEq(registry.operatorCount(), 2);
        _updateTable();
        assertFalse(_inTable(operator), "not in the next table");

        bytes memory data = _registrationData(skOf[operator], operator);
        uint32[] memory ids = _setIds();
        vm.prank(address(allocationManager));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorBanned.selector, operator));
        registry.registerOperator(operator, address(registry), ids, data);

        // When EigenLayer works again the operator may leave; the registry has nothing to do.
        allocationManager.setDeregistrationFails(false);
        vm.recordLogs();
        _deregister(operator);
        assertEq(_logsOf(vm.getRecordedLogs(), address(registry)).length, 0, "no registry event");
        assertFalse(allocationManager.isMember(address(registry), operator));
        assertEq(registry.operatorCount(), 2);
    }

    /// @dev An operator that already left is banned without a call to EigenLayer.
    function test_eject_deregisteredOperator_bansWithoutCallingEigenLayer() public {
        address operator = operators[2];
        _deregister(operator);
        vm.expectCall(
            address(allocationManager),
            abi.encodeWithSelector(IAllocationManager.deregisterFromOperatorSets.selector),
            0
        );
        _eject(operator);
        assertTrue(registry.keyBanned(registry.pubkeyHashOf(operator)));
        assertEq(registry.operatorCount(), 2);
    }

    // ------------------------------------------------------------------
    // Pruning (anyone)
    // ------------------------------------------------------------------

    function test_prune_weightedOperator_revertsOperatorHasWeight() public {
        address operator = operators[1];
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorHasWeight.selector, operator));
        _prune(operator);
        assertTrue(registry.isRegistered(operator));
        assertEq(registry.operatorCount(), 3);
    }

    /// @dev Weight in one strategy is weight: stake B alone (2x) keeps the operator.
    function test_prune_weightInOneStrategyOnly_reverts() public {
        address operator = operators[1];
        _setStake(operator, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorHasWeight.selector, operator));
        _prune(operator);
        _setStake(operator, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorHasWeight.selector, operator));
        _prune(operator);
        assertTrue(registry.isRegistered(operator));
    }

    /// @dev A weightless operator leaves: OperatorPruned (and no OperatorDeregistered, as
    ///      EigenLayer's callback finds nothing left to remove), deregistered on EigenLayer,
    ///      gone from the next table; neither it nor its key is banned.
    function test_prune_weightlessOperator_removesItFromNextTable() public {
        address operator = operators[0];
        bytes32 pubkeyHash = registry.pubkeyHashOf(operator);
        _setStake(operator, 0, 0);
        vm.expectCall(
            address(allocationManager), abi.encodeWithSelector(IAllocationManager.deregisterFromOperatorSets.selector)
        );
        vm.expectEmit(true, false, false, true, address(registry));
        emit IChorusRegistry.OperatorPruned(operator);
        vm.recordLogs();
        _prune(operator);
        Vm.Log[] memory logs = _logsOf(vm.getRecordedLogs(), address(registry));
        assertEq(logs.length, 1, "one registry event");
        assertEq(logs[0].topics[0], IChorusRegistry.OperatorPruned.selector);

        assertFalse(registry.isRegistered(operator));
        assertFalse(allocationManager.isMember(address(registry), operator), "deregistered on EigenLayer");
        assertEq(registry.operatorCount(), 2);
        assertFalse(registry.keyBanned(pubkeyHash), "pruning is no ban");
        assertEq(registry.operatorOfKey(pubkeyHash), operator, "the key stays its own");
        _updateTable();
        assertEq(table.ref.version, 2);
        assertEq(table.operators.length, 2);
        assertEq(table.operators[0], operators[2], "swap and pop");
        assertEq(table.operators[1], operators[1]);
    }

    /// @dev A pruned operator that allocates again may come back with its key.
    function test_prune_thenReallocateAndReregister() public {
        address operator = operators[0];
        _setStake(operator, 0, 0);
        _prune(operator);
        _setStake(operator, 3, 0);
        _register(operator, skOf[operator]);
        assertTrue(registry.isRegistered(operator));
        _updateTable();
        assertEq(_weightOf(operator), 3);
    }

    /// @dev EigenLayer refusing the deregistration (paused, ...) does not keep a weightless
    ///      operator in the registry; when it leaves EigenLayer later, the registry has nothing to do.
    function test_prune_whenEigenLayerRefusesDeregistration_stillRemoves() public {
        address operator = operators[1];
        _setStake(operator, 0, 0);
        allocationManager.setDeregistrationFails(true);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IChorusRegistry.OperatorPruned(operator);
        _prune(operator);

        assertTrue(allocationManager.isMember(address(registry), operator), "still a member on EigenLayer");
        assertFalse(registry.isRegistered(operator));
        assertEq(registry.operatorCount(), 2);
        _updateTable();
        assertEq(table.operators.length, 2);
        assertFalse(_inTable(operator));

        allocationManager.setDeregistrationFails(false);
        vm.recordLogs();
        _deregister(operator);
        assertEq(_logsOf(vm.getRecordedLogs(), address(registry)).length, 0, "no registry event");
        assertEq(registry.operatorCount(), 2);
    }

    /// @dev Never registered, deregistered, ejected, pruned already: nothing happens, and
    ///      EigenLayer is not even asked.
    function test_prune_notRegistered_isNoOp() public {
        _deregister(operators[0]);
        _eject(operators[1]);
        _setStake(operators[2], 0, 0);
        _prune(operators[2]);
        address[4] memory notRegistered = [newOperator, operators[0], operators[1], operators[2]];
        OperatorSet memory set = OperatorSet({avs: address(registry), id: SET_ID});
        for (uint256 i = 0; i < notRegistered.length; ++i) {
            address[] memory one = _list(notRegistered[i]);
            vm.expectCall(
                address(allocationManager),
                abi.encodeCall(
                    IAllocationManager.getMinimumSlashableStake, (set, one, _strategies(), uint32(block.number))
                ),
                0
            );
            vm.expectCall(
                address(allocationManager),
                abi.encodeCall(
                    IAllocationManager.deregisterFromOperatorSets,
                    (IAllocationManagerTypes.DeregisterParams({
                            operator: notRegistered[i], avs: address(registry), operatorSetIds: _setIds()
                        }))
                ),
                0
            );
            vm.recordLogs();
            _prune(notRegistered[i]);
            assertEq(vm.getRecordedLogs().length, 0, "no event");
        }
        assertEq(registry.operatorCount(), 0);
        assertFalse(registry.isRegistered(newOperator));
    }

    // ------------------------------------------------------------------
    // Empty tables
    // ------------------------------------------------------------------

    /// @dev No weighted operator left: a version with total weight 0, the point at infinity
    ///      as its key and a leaves contract holding nothing but its STOP byte, which
    ///      supersedes (and so retires) the previous one.
    function test_updateOperatorTable_noWeightedOperator_publishesEmptyVersion() public {
        vm.roll(100);
        _deregister(operators[0]);
        _setStake(operators[1], 0, 0);
        _eject(operators[2]);
        assertEq(registry.operatorCount(), 1, "operator 1 is registered but weighs nothing");

        bytes memory infinity = new bytes(BLS12381.G2_LENGTH);
        // The registry deploys the leaves contract with CREATE: its address is predictable.
        address expectedLeaves = vm.computeCreateAddress(address(registry), vm.getNonce(address(registry)));
        vm.expectEmit(true, false, false, true, address(registry));
        emit IChorusRegistry.OperatorTableUpdated(
            2, infinity, 0, expectedLeaves, new address[](0), new bytes[](0), new uint256[](0)
        );
        assertEq(_updateTable(), 2);
        assertEq(table.ref.apk, infinity);
        assertEq(table.ref.totalWeight, 0);
        assertEq(table.leaves, expectedLeaves);
        assertEq(expectedLeaves.code, hex"00", "a STOP byte, no leaf");
        assertEq(table.operators.length, 0);

        (bytes28 digest, uint32 expiresAtBlock, address leaves) = attestations.tableRecord(2);
        assertEq(digest, bytes28(keccak256(abi.encode(infinity, uint256(0)))));
        assertEq(expiresAtBlock, 0);
        assertEq(leaves, expectedLeaves);
        (, uint32 v1Expiry,) = attestations.tableRecord(1);
        assertEq(v1Expiry, 100 + GRACE_PERIOD, "the last non-empty table expires");

        vm.roll(200);
        assertEq(_updateTable(), 2, "still empty: same version");
        (, v1Expiry,) = attestations.tableRecord(1);
        assertEq(v1Expiry, 100 + GRACE_PERIOD, "expiry not moved");
        assertEq(attestations.latestTableVersion(), 2);
    }

    function test_updateOperatorTable_afterEmptyVersion_operatorsComeBack() public {
        for (uint256 i = 0; i < operators.length; ++i) {
            _setStake(operators[i], 0, 0);
        }
        assertEq(_updateTable(), 2);
        _setStake(operators[1], 4, 0);
        vm.roll(block.number + 1);
        assertEq(_updateTable(), 3);
        assertEq(table.operators.length, 1);
        assertEq(table.operators[0], operators[1]);
        assertEq(table.ref.totalWeight, 4);
        (, uint32 v2Expiry,) = attestations.tableRecord(2);
        assertEq(v2Expiry, block.number + GRACE_PERIOD);
    }

    /// @dev A registry nobody registered with publishes an empty first version, recorded as
    ///      version 1 in its attestation contract.
    function test_updateOperatorTable_noOperatorAtAll_emptyFirstVersion() public {
        (ChorusRegistry fresh, ChorusAttestations freshAttestations) = _freshChorus(MAX_OPERATORS, 1);
        assertEq(fresh.updateOperatorTable(), 1);
        (bytes28 digest, uint32 expiresAtBlock, address leaves) = freshAttestations.tableRecord(1);
        assertEq(digest, bytes28(keccak256(abi.encode(new bytes(BLS12381.G2_LENGTH), uint256(0)))));
        assertEq(expiresAtBlock, 0);
        assertEq(leaves.code, hex"00");
        assertEq(fresh.updateOperatorTable(), 1);
        assertEq(freshAttestations.latestTableVersion(), 1);
    }

    /// @dev The registry hands every version to its attestation contract; if that refuses,
    ///      the whole update reverts: no version exists in one place and not the other.
    function test_updateOperatorTable_attestationsRefuse_revertsWholeUpdate() public {
        _setStake(operators[0], 999, 0);
        vm.mockCallRevert(
            address(attestations),
            abi.encodeWithSelector(IChorusAttestations.recordTable.selector),
            abi.encodeWithSelector(IChorusAttestations.TableVersionNotNext.selector, 2)
        );
        vm.expectRevert(abi.encodeWithSelector(IChorusAttestations.TableVersionNotNext.selector, 2));
        registry.updateOperatorTable();
        vm.clearMockedCalls();
        assertEq(registry.latestTableVersion(), 1);
        assertEq(_updateTable(), 2, "the same update goes through once it is accepted");
        assertEq(_weightOf(operators[0]), 999);
    }

    /// @dev Exactly what the registry records: (version, digest of apk and total, leaves).
    function test_updateOperatorTable_callsRecordTable() public {
        _setStake(operators[1], 7, 0);
        address expectedLeaves = vm.computeCreateAddress(address(registry), vm.getNonce(address(registry)));
        vm.expectCall(
            address(attestations),
            abi.encodeCall(IChorusAttestations.recordTable, (2, _digestAfterStakeChange(), expectedLeaves))
        );
        _updateTable();
        assertEq(table.leaves, expectedLeaves);
    }

    // ------------------------------------------------------------------
    // Constructor bounds
    // ------------------------------------------------------------------

    /// @dev A full set's table update must fit one transaction: MAX_OPERATORS_LIMIT = 256.
    function test_constructor_maxOperatorsOutOfRange_reverts() public {
        uint32[4] memory invalid = [uint32(0), 257, 768, type(uint32).max];
        for (uint256 i = 0; i < invalid.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.TooManyOperators.selector, invalid[i]));
            new ChorusRegistry(owner, allocationManager, permissionController, invalid[i], MIN_OPERATOR_WEIGHT);
        }
    }

    function test_constructor_maxOperatorsBounds_accepted() public {
        assertEq(TableLeaves.MAX_LEAVES, 767, "one leaves contract holds more than the limit");
        assertEq(new ChorusRegistry(owner, allocationManager, permissionController, 1, 1).maxOperators(), 1);
        assertEq(new ChorusRegistry(owner, allocationManager, permissionController, 256, 1).maxOperators(), 256);
    }

    /// @dev Zero would admit operators without stake: it is read as 1.
    function test_constructor_minOperatorWeightZero_isOne() public {
        assertEq(new ChorusRegistry(owner, allocationManager, permissionController, 4, 0).minOperatorWeight(), 1);
        assertEq(new ChorusRegistry(owner, allocationManager, permissionController, 4, 1).minOperatorWeight(), 1);
        assertEq(new ChorusRegistry(owner, allocationManager, permissionController, 4, 1e18).minOperatorWeight(), 1e18);
        assertEq(registry.minOperatorWeight(), MIN_OPERATOR_WEIGHT);
    }

    // ------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------

    /// @dev A registry with its own attestation contract, set up on the same mock EigenLayer.
    function _freshChorus(uint32 maxOperators, uint256 minOperatorWeight)
        internal
        returns (ChorusRegistry fresh, ChorusAttestations freshAttestations)
    {
        fresh = new ChorusRegistry(owner, allocationManager, permissionController, maxOperators, minOperatorWeight);
        freshAttestations = new ChorusAttestations(owner, fresh, QUORUM_BPS, GRACE_PERIOD);
        vm.prank(owner);
        fresh.setupAvs("uri", _strategies(), _multipliers(), address(slasher), address(freshAttestations));
    }

    /// @dev Digest of the table after operator 1's weight became 7 (set-up table of three).
    function _digestAfterStakeChange() internal view returns (bytes28) {
        bytes memory apk = new bytes(BLS12381.G2_LENGTH);
        uint256 total = 0;
        for (uint256 i = 0; i < table.operators.length; ++i) {
            apk = BLS12381.g2Add(apk, table.pubkeys[i]);
            total += table.operators[i] == operators[1] ? 7 : table.weights[i];
        }
        return bytes28(keccak256(abi.encode(apk, total)));
    }

    function _data(bytes memory pubkey, bytes memory pop, bytes memory ownership) internal pure returns (bytes memory) {
        return abi.encode(pubkey, pop, ownership);
    }

    function _expectRegisterRevert(bytes memory data, bytes memory reason) internal {
        uint32[] memory ids = _setIds();
        vm.expectRevert(reason);
        allocationManager.registerForOperatorSets(newOperator, address(registry), ids, data);
        assertFalse(registry.isRegistered(newOperator));
    }

    function _expectRegisterWithIdsRevert(uint32[] memory ids) internal {
        bytes memory data = _registrationData(NEW_SK, newOperator);
        vm.prank(address(allocationManager));
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.WrongOperatorSet.selector));
        registry.registerOperator(newOperator, address(registry), ids, data);
    }

    /// @dev Adds p to the first 64-byte field element; p + x < 2^384 for x < p.
    function _addPToFirstFieldElement(bytes memory point) internal pure {
        uint256 hi;
        uint256 lo;
        assembly ("memory-safe") {
            hi := mload(add(point, 0x20))
            lo := mload(add(point, 0x40))
        }
        unchecked {
            uint256 newLo = lo + BLS12381.P_LO;
            hi = hi + BLS12381.P_HI + (newLo < lo ? 1 : 0);
            lo = newLo;
        }
        assembly ("memory-safe") {
            mstore(add(point, 0x20), hi)
            mstore(add(point, 0x40), lo)
        }
    }
}

/// @notice The cap on registered operators: every registered operator, weighted or
///         not, takes a place, and deregistration, ejection and pruning free one.
contract ChorusRegistryCapTest is ChorusTestBase {
    uint32 internal constant CAP = 4;
    uint256 internal nextSk = 1000;

    function _initialOperatorCount() internal pure override returns (uint256) {
        return 3;
    }

    function _maxOperators() internal pure override returns (uint32) {
        return CAP;
    }

    function test_maxOperators_isTheConstructorArgument() public view {
        assertEq(registry.maxOperators(), CAP);
    }

    function test_register_upToCap_thenOperatorSetFull() public {
        _newcomer("fourth");
        assertEq(registry.operatorCount(), CAP);
        _expectFull(makeAddr("fifth"));
    }

    /// @dev Weightless operators hold their places until pruned.
    function test_register_weightlessOperatorsCountTowardsCap() public {
        address fourth = _newcomer("fourth");
        for (uint256 i = 0; i < operators.length; ++i) {
            _setStake(operators[i], 0, 0);
        }
        _setStake(fourth, 0, 0);
        _expectFull(makeAddr("fifth"));
    }

    function test_register_slotFreedByDeregistration_isReused() public {
        _newcomer("fourth");
        address fifth = makeAddr("fifth");
        _expectFull(fifth);
        _deregister(operators[0]);
        _registerStaked(fifth);
        assertEq(registry.operatorCount(), CAP);
        _expectFull(makeAddr("sixth"));
        _updateTable();
        assertTrue(_inTable(fifth));
    }

    function test_register_slotFreedByPrune_isReused() public {
        _newcomer("fourth");
        address fifth = makeAddr("fifth");
        _expectFull(fifth);
        _setStake(operators[1], 0, 0);
        _prune(operators[1]);
        _registerStaked(fifth);
        assertEq(registry.operatorCount(), CAP);
        _expectFull(makeAddr("sixth"));
        _updateTable();
        assertTrue(_inTable(fifth));
        assertFalse(_inTable(operators[1]));
    }

    /// @dev The place is freed even when EigenLayer refuses the pruned operator's deregistration.
    function test_register_slotFreedByPruneWhileEigenLayerRefuses_isReused() public {
        _newcomer("fourth");
        _setStake(operators[1], 0, 0);
        allocationManager.setDeregistrationFails(true);
        _prune(operators[1]);
        allocationManager.setDeregistrationFails(false);
        _registerStaked(makeAddr("fifth"));
        assertEq(registry.operatorCount(), CAP);
    }

    function test_register_slotFreedByEjection_isReused() public {
        _newcomer("fourth");
        _eject(operators[2]);
        _registerStaked(makeAddr("fifth"));
        assertEq(registry.operatorCount(), CAP);
    }

    /// @dev The cap holds for a returning operator too.
    function test_reregister_whenFull_revertsOperatorSetFull() public {
        address operator = operators[0];
        _deregister(operator);
        _newcomer("fourth");
        _newcomer("fifth");
        bytes memory data = _registrationData(skOf[operator], operator);
        uint32[] memory ids = _setIds();
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorSetFull.selector, CAP));
        allocationManager.registerForOperatorSets(operator, address(registry), ids, data);
    }

    /// @dev An allocated operator with a fresh key.
    function _newcomer(string memory name) internal returns (address operator) {
        operator = makeAddr(name);
        _registerStaked(operator);
    }

    function _registerStaked(address operator) internal {
        _setStake(operator, 7, 0);
        _register(operator, nextSk++);
        assertTrue(registry.isRegistered(operator));
    }

    function _expectFull(address operator) internal {
        _setStake(operator, 7, 0);
        uint256 sk = nextSk++;
        bytes memory data = _registrationData(sk, operator);
        uint32[] memory ids = _setIds();
        uint256 countBefore = registry.operatorCount();
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorSetFull.selector, CAP));
        allocationManager.registerForOperatorSets(operator, address(registry), ids, data);
        assertFalse(registry.isRegistered(operator));
        assertFalse(allocationManager.isMember(address(registry), operator));
        assertEq(registry.operatorCount(), countBefore);
    }
}

/// @notice The stake threshold: registering needs allocated weight of at least
///         `minOperatorWeight`, and an operator whose weight fell below it may be pruned.
///         Weights count after the strategy multipliers (A at 1x, B at 2x).
contract ChorusRegistryMinWeightTest is ChorusTestBase {
    uint256 internal constant MIN = 100;
    uint256 internal nextSk = 2000;

    function _initialOperatorCount() internal pure override returns (uint256) {
        return 3;
    }

    function _minOperatorWeight() internal pure override returns (uint256) {
        return MIN;
    }

    function test_minOperatorWeight_isTheConstructorArgument() public view {
        assertEq(registry.minOperatorWeight(), MIN);
    }

    /// @dev Exactly the minimum registers, whichever strategies make it up.
    function test_register_weightExactlyMin_registers() public {
        _expectRegisters(makeAddr("A only"), MIN, 0);
        _expectRegisters(makeAddr("B only"), 0, MIN / 2);
        _expectRegisters(makeAddr("A and B"), MIN - 2, 1);
        _updateTable();
        assertEq(_weightOf(makeAddr("A only")), MIN);
        assertEq(_weightOf(makeAddr("B only")), MIN);
        assertEq(_weightOf(makeAddr("A and B")), MIN);
    }

    /// @dev One unit short is refused, before the key is looked at: the key stays free.
    function test_register_weightMinMinusOne_revertsNoAllocatedStake() public {
        _expectRefused(makeAddr("A only"), MIN - 1, 0);
        _expectRefused(makeAddr("B only"), 1, (MIN - 2) / 2);
        _expectRefused(makeAddr("A and B"), MIN - 3, 1);
        assertEq(registry.operatorCount(), 3);
    }

    function test_prune_weightMinMinusOne_removes() public {
        address operator = operators[1];
        _setStake(operator, MIN - 1, 0);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IChorusRegistry.OperatorPruned(operator);
        _prune(operator);
        assertFalse(registry.isRegistered(operator));
        assertFalse(allocationManager.isMember(address(registry), operator));
        assertEq(registry.operatorCount(), 2);
    }

    function test_prune_weightExactlyMin_revertsOperatorHasWeight() public {
        address operator = operators[1];
        _setStake(operator, MIN - 2, 1);
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.OperatorHasWeight.selector, operator));
        _prune(operator);
        assertTrue(registry.isRegistered(operator));
    }

    /// @dev Below the minimum but above zero, an operator stays in the tables with its weight
    ///      until someone prunes it: the threshold gates registration, not table membership.
    function test_operatorBelowMin_inTablesUntilPruned() public {
        address operator = operators[0];
        _setStake(operator, MIN - 1, 0);
        assertEq(_updateTable(), 2);
        assertEq(_weightOf(operator), MIN - 1);
        _prune(operator);
        assertEq(_updateTable(), 3);
        assertFalse(_inTable(operator));
    }

    /// @dev Pruned below the minimum, the operator comes back once it allocates the minimum.
    function test_prunedOperator_reregistersAtMin() public {
        address operator = operators[2];
        _setStake(operator, MIN - 1, 0);
        _prune(operator);
        _expectRefused(operator, MIN - 1, 0);
        _setStake(operator, MIN, 0);
        _register(operator, skOf[operator]);
        assertTrue(registry.isRegistered(operator));
    }

    function _expectRegisters(address operator, uint256 stakeA, uint256 stakeB) internal {
        _setStake(operator, stakeA, stakeB);
        _register(operator, nextSk++);
        assertTrue(registry.isRegistered(operator));
    }

    function _expectRefused(address operator, uint256 stakeA, uint256 stakeB) internal {
        _setStake(operator, stakeA, stakeB);
        uint256 sk = registry.pubkeyHashOf(operator) == bytes32(0) ? nextSk++ : skOf[operator];
        bytes memory data = _registrationData(sk, operator);
        uint32[] memory ids = _setIds();
        vm.expectRevert(abi.encodeWithSelector(IChorusRegistry.NoAllocatedStake.selector, operator));
        allocationManager.registerForOperatorSets(operator, address(registry), ids, data);
        assertFalse(registry.isRegistered(operator));
        if (registry.pubkeyHashOf(operator) == bytes32(0)) {
            assertEq(registry.operatorOfKey(keccak256(BlsSigner.pubkey(sk))), address(0), "the key is still free");
        }
    }
}
