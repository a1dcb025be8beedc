// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {BLS12381} from "./bls/BLS12381.sol";
import {CheckpointLib} from "./CheckpointLib.sol";
import {IChorusAttestations, IChorusRegistry} from "./interfaces/IChorus.sol";
import {TableLeaves} from "./TableLeaves.sol";
import {
    IAllocationManager,
    IAllocationManagerTypes,
    IAVSRegistrar,
    IPermissionController,
    OperatorSet
} from "./interfaces/IEigenLayer.sol";

/// @title Chorus operator registry.
/// @notice The Chorus AVS identity on EigenLayer and the registrar of its one
///         operator set. `AllocationManager.registerForOperatorSets` calls
///         `registerOperator` with
///         `data = abi.encode(bytes pubkeyG2, bytes popG1, bytes ownershipG1)`
///         (EIP-2537 encodings): the proof of possession (rogue-key defence) and
///         the key's signature over `ChorusKeyRegistration` for this operator, so
///         that a key copied from the mempool cannot be registered by another.
///         A key belongs to one operator for good.
///
///         Operator tables are versioned. `updateOperatorTable` (anyone may call
///         it) reads each registered operator's slashable stake from the
///         AllocationManager, weighs it per strategy, stores the operator leaves
///         as contract code (TableLeaves) and hands the attestation contract the
///         version's digest of (aggregate key, total weight) with the leaves'
///         address; the event carries the full table for off-chain use.
///         Operators with no weight are left out.
///
///         The table update costs gas per registered operator, so the set is
///         bounded: at most `maxOperators` operators, each with at least
///         `minOperatorWeight` of allocated stake when it registers, and anyone
///         may prune an operator whose weight fell below that. Without these,
///         stake-less registrations could push the update past the transaction
///         gas cap and freeze the latest table, and dust-stake registrations
///         could hold every place.
contract ChorusRegistry is IChorusRegistry, IAVSRegistrar, Ownable {
    /// @notice Chorus has one operator set.
    uint32 public constant OPERATOR_SET_ID = 0;
    /// @notice Largest `maxOperators` a deployment may choose: a full table's
    ///         update must fit one transaction (16,777,216 gas since EIP-7825).
    ///         Measured against EigenLayer core on anvil: see BENCHMARKS.md.
    uint32 public constant MAX_OPERATORS_LIMIT = 256;
    /// @notice Largest strategy multiplier (1,000,000x): with stake below 2^128
    ///         the weight cannot overflow.
    uint256 public constant MAX_MULTIPLIER = 1e24;
    /// @notice Strategy multipliers are fixed point with 18 decimals (1e18 = 1x).
    uint256 public constant MULTIPLIER_UNIT = 1e18;

    IAllocationManager public immutable allocationManager;
    IPermissionController public immutable permissionController;
    uint32 public immutable maxOperators;
    uint256 public immutable minOperatorWeight;

    struct OperatorInfo {
        bytes32 pubkeyHash;
        bool registered;
        bool banned;
    }

    mapping(address operator => OperatorInfo) private _operators;
    mapping(bytes32 pubkeyHash => address operator) public operatorOfKey;
    mapping(bytes32 pubkeyHash => bytes pubkey) private _pubkeys;
    mapping(bytes32 pubkeyHash => bool) public keyBanned;
    address[] private _registered;
    mapping(address operator => uint256 indexPlusOne) private _registeredIndex;

    address[] private _strategies;
    mapping(address strategy => uint256) public multiplier;

    address public slasher;
    address public attestations;
    uint32 public latestTableVersion;
    /// @dev Hash of the latest table's content, leaves included, so that an
    ///      update with nothing changed publishes no new version.
    bytes32 private _latestContent;

    modifier onlyAllocationManager() {
        if (msg.sender != address(allocationManager)) revert OnlyAllocationManager();
        _;
    }

    constructor(
        address owner_,
        IAllocationManager allocationManager_,
        IPermissionController permissionController_,
        uint32 maxOperators_,
        uint256 minOperatorWeight_
    ) Ownable(owner_) {
        if (maxOperators_ == 0 || maxOperators_ > MAX_OPERATORS_LIMIT) {
            revert TooManyOperators(maxOperators_);
        }
        allocationManager = allocationManager_;
        permissionController = permissionController_;
        maxOperators = maxOperators_;
        // Zero would admit stake-less operators; 1 is the least that does not.
        minOperatorWeight = minOperatorWeight_ == 0 ? 1 : minOperatorWeight_;
    }

    // ------------------------------------------------------------------
    // AVS setup (owner)
    // ------------------------------------------------------------------

    /// @notice Makes this contract the Chorus AVS on EigenLayer: metadata, the
    ///         operator set over `strategies_` (ascending, as slashing wants
    ///         them) with their weight multipliers, this contract as registrar,
    ///         `slasher_` appointed to call `slashOperator`, and `attestations_`
    ///         as the contract that keeps table versions. Once only.
    function setupAvs(
        string calldata metadataURI,
        address[] calldata strategies_,
        uint256[] calldata multipliers,
        address slasher_,
        address attestations_
    ) external onlyOwner {
        if (slasher != address(0)) revert SlasherAlreadySet();
        if (slasher_ == address(0)) revert InvalidSlasher();
        if (strategies_.length != multipliers.length || strategies_.length == 0) revert LengthMismatch();
        for (uint256 i = 0; i < strategies_.length; ++i) {
            if (i > 0 && strategies_[i - 1] >= strategies_[i]) revert StrategiesNotAscending();
            // stake x multiplier must never overflow in a table update.
            if (multipliers[i] > MAX_MULTIPLIER) revert InvalidMultiplier(multipliers[i]);
            _strategies.push(strategies_[i]);
            multiplier[strategies_[i]] = multipliers[i];
        }
        // Every table goes to this contract; one that cannot record would
        // stop table updates for good (setupAvs runs once).
        if (attestations_ == address(0) || IChorusAttestations(attestations_).registry() != address(this)) {
            revert InvalidAttestations();
        }
        slasher = slasher_;
        attestations = attestations_;

        allocationManager.updateAVSMetadataURI(address(this), metadataURI);
        IAllocationManagerTypes.CreateSetParams[] memory sets = new IAllocationManagerTypes.CreateSetParams[](1);
        sets[0] = IAllocationManagerTypes.CreateSetParams({operatorSetId: OPERATOR_SET_ID, strategies: strategies_});
        allocationManager.createOperatorSets(address(this), sets);
        allocationManager.setAVSRegistrar(address(this), address(this));
        permissionController.setAppointee(
            address(this), slasher_, address(allocationManager), IAllocationManager.slashOperator.selector
        );
    }

    // ------------------------------------------------------------------
    // IAVSRegistrar (called by the AllocationManager)
    // ------------------------------------------------------------------

    /// @inheritdoc IAVSRegistrar
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data)
        external
        onlyAllocationManager
    {
        _checkOperatorSet(avs, operatorSetIds);
        OperatorInfo storage info = _operators[operator];
        if (info.banned) revert OperatorBanned(operator);
        if (info.registered) revert OperatorAlreadyRegistered(operator);
        if (_registered.length >= maxOperators) revert OperatorSetFull(maxOperators);
        if (_allocatedWeight(operator) < minOperatorWeight) revert NoAllocatedStake(operator);
        (bytes memory pubkey, bytes memory pop, bytes memory ownership) = _decodeRegistration(data);
        bytes32 pubkeyHash = keccak256(pubkey);
        if (keyBanned[pubkeyHash]) revert KeyBanned(pubkeyHash);
        address owner_ = operatorOfKey[pubkeyHash];
        if (owner_ != address(0) && owner_ != operator) revert KeyAlreadyRegistered(pubkeyHash, owner_);
        if (owner_ == address(0)) {
            if (!BLS12381.verifyProofOfPossession(pubkey, pop)) revert InvalidProofOfPossession();
            bytes32 message = CheckpointLib.keyRegistrationMessage(block.chainid, address(this), operator);
            if (!BLS12381.verifyMessage(pubkey, ownership, abi.encodePacked(message))) revert InvalidKeyOwnership();
            operatorOfKey[pubkeyHash] = operator;
            _pubkeys[pubkeyHash] = pubkey;
        }
        info.pubkeyHash = pubkeyHash;
        info.registered = true;
        _registered.push(operator);
        _registeredIndex[operator] = _registered.length;
        emit OperatorRegistered(operator, pubkeyHash, pubkey);
    }

    /// @inheritdoc IAVSRegistrar
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds)
        external
        onlyAllocationManager
    {
        _checkOperatorSet(avs, operatorSetIds);
        // An ejected operator was already removed here.
        if (_removeRegistered(operator)) emit OperatorDeregistered(operator);
    }

    /// @inheritdoc IAVSRegistrar
    function supportsAVS(address avs) external view returns (bool) {
        return avs == address(this);
    }

    // ------------------------------------------------------------------
    // Ejection (slasher)
    // ------------------------------------------------------------------

    /// @notice Bans a slashed operator and its key, drops it from every future
    ///         table, and deregisters it from the operator set. The ban holds even
    ///         if EigenLayer refuses the deregistration (e.g. while paused): the
    ///         slash must not depend on it. The operator stays in the current
    ///         table until the next `updateOperatorTable`.
    function eject(address operator) external {
        if (msg.sender != slasher) revert OnlySlasher();
        OperatorInfo storage info = _operators[operator];
        info.banned = true;
        keyBanned[info.pubkeyHash] = true;
        emit OperatorEjected(operator, info.pubkeyHash);
        _leaveOperatorSet(operator);
    }

    /// @notice Removes a registered operator whose weight fell below
    ///         `minOperatorWeight` (it deallocated or was slashed), freeing its
    ///         place and the gas it costs every table update. Anyone may call it.
    function pruneOperator(address operator) external {
        if (!_operators[operator].registered) return;
        address[] memory one = new address[](1);
        one[0] = operator;
        uint256[][] memory stake = allocationManager.getMinimumSlashableStake(
            OperatorSet({avs: address(this), id: OPERATOR_SET_ID}), one, _strategies, uint32(block.number)
        );
        if (_weigh(stake[0]) >= minOperatorWeight) revert OperatorHasWeight(operator);
        emit OperatorPruned(operator);
        _leaveOperatorSet(operator);
    }

    // ------------------------------------------------------------------
    // Operator tables
    // ------------------------------------------------------------------

    /// @notice Builds a new table version from current stake. Returns the
    ///         latest version unchanged when nothing moved, so calling it is
    ///         never harmful.
    function updateOperatorTable() external returns (uint32 version) {
        (address[] memory members, uint256[] memory weights) = _weighOperators();
        bytes memory apk = new bytes(BLS12381.G2_LENGTH);
        bytes[] memory keys = new bytes[](members.length);
        bytes32[] memory leaves = new bytes32[](members.length);
        uint256 totalWeight = 0;
        for (uint256 i = 0; i < members.length; ++i) {
            bytes32 pubkeyHash = _operators[members[i]].pubkeyHash;
            keys[i] = _pubkeys[pubkeyHash];
            apk = BLS12381.g2Add(apk, keys[i]);
            leaves[i] = CheckpointLib.operatorLeaf(pubkeyHash, weights[i]);
            totalWeight += weights[i];
        }
        // An empty table is a valid version: it retires the previous one, and
        // no checkpoint can reach a quorum of nothing.
        bytes32 content = keccak256(abi.encode(apk, totalWeight, leaves));
        version = latestTableVersion;
        if (version != 0 && content == _latestContent) return version;
        version += 1;
        latestTableVersion = version;
        _latestContent = content;
        address store = TableLeaves.write(leaves);
        bytes28 digest = bytes28(keccak256(abi.encode(apk, totalWeight)));
        IChorusAttestations(attestations).recordTable(version, digest, store);
        emit OperatorTableUpdated(version, apk, totalWeight, store, members, keys, weights);
    }

    /// @dev Registered operators with non-zero weight, in registration-array
    ///      order, with weight = sum over strategies of slashable stake x multiplier.
    function _weighOperators() private view returns (address[] memory members, uint256[] memory weights) {
        address[] memory registered = _registered;
        members = new address[](registered.length);
        weights = new uint256[](registered.length);
        if (registered.length == 0) return (members, weights);
        uint256[][] memory stake = allocationManager.getMinimumSlashableStake(
            OperatorSet({avs: address(this), id: OPERATOR_SET_ID}), registered, _strategies, uint32(block.number)
        );
        uint256 count = 0;
        for (uint256 i = 0; i < registered.length; ++i) {
            uint256 weight = _weigh(stake[i]);
            if (weight == 0) continue;
            members[count] = registered[i];
            weights[count] = weight;
            ++count;
        }
        assembly ("memory-safe") {
            mstore(members, count)
            mstore(weights, count)
        }
    }

    // ------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------

    /// @inheritdoc IChorusRegistry
    function pubkeyHashOf(address operator) external view returns (bytes32) {
        return _operators[operator].pubkeyHash;
    }

    /// @notice The registered G2 key (EIP-2537) behind a key hash.
    function pubkeyOf(bytes32 pubkeyHash) external view returns (bytes memory) {
        return _pubkeys[pubkeyHash];
    }

    /// @inheritdoc IChorusRegistry
    function isRegistered(address operator) external view returns (bool) {
        return _operators[operator].registered;
    }

    /// @inheritdoc IChorusRegistry
    function operatorCount() external view returns (uint256) {
        return _registered.length;
    }

    /// @inheritdoc IChorusRegistry
    function strategies() external view returns (address[] memory) {
        return _strategies;
    }

    // ------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------

    function _checkOperatorSet(address avs, uint32[] calldata operatorSetIds) private view {
        if (avs != address(this)) revert WrongAvs(avs);
        if (operatorSetIds.length != 1 || operatorSetIds[0] != OPERATOR_SET_ID) revert WrongOperatorSet();
    }

    /// @dev Weight of one operator's stake per strategy: sum of stake x multiplier.
    function _weigh(uint256[] memory stakePerStrategy) private view returns (uint256 weight) {
        for (uint256 s = 0; s < _strategies.length; ++s) {
            weight += stakePerStrategy[s] * multiplier[_strategies[s]] / MULTIPLIER_UNIT;
        }
    }

    /// @dev Weight of what `operator` has allocated to the set (slashable once
    ///      it is a member; EigenLayer reports no slashable stake before).
    function _allocatedWeight(address operator) private view returns (uint256) {
        address[] memory one = new address[](1);
        one[0] = operator;
        uint256[][] memory stake = allocationManager.getAllocatedStake(
            OperatorSet({avs: address(this), id: OPERATOR_SET_ID}), one, _strategies
        );
        return _weigh(stake[0]);
    }

    /// @dev Drops `operator` here and asks EigenLayer to deregister it. The
    ///      local removal holds even if EigenLayer refuses (e.g. while paused).
    function _leaveOperatorSet(address operator) private {
        if (!_removeRegistered(operator)) return;
        uint32[] memory ids = new uint32[](1);
        ids[0] = OPERATOR_SET_ID;
        try allocationManager.deregisterFromOperatorSets(
            IAllocationManagerTypes.DeregisterParams({operator: operator, avs: address(this), operatorSetIds: ids})
        ) {}
            catch {}
    }

    /// @dev Removes `operator` from the registered list (swap and pop);
    ///      false if it was not in it.
    function _removeRegistered(address operator) private returns (bool) {
        uint256 indexPlusOne = _registeredIndex[operator];
        if (indexPlusOne == 0) return false;
        _operators[operator].registered = false;
        address last = _registered[_registered.length - 1];
        _registered[indexPlusOne - 1] = last;
        _registeredIndex[last] = indexPlusOne;
        _registered.pop();
        delete _registeredIndex[operator];
        return true;
    }

    function _decodeRegistration(bytes calldata data)
        private
        pure
        returns (bytes memory pubkey, bytes memory pop, bytes memory ownership)
    {
        // Three dynamic `bytes` of fixed lengths: exactly this many bytes.
        uint256 expected = 6 * 32 + BLS12381.G2_LENGTH + 2 * BLS12381.G1_LENGTH;
        if (data.length != expected) revert InvalidRegistrationData();
        (pubkey, pop, ownership) = abi.decode(data, (bytes, bytes, bytes));
        if (
            pubkey.length != BLS12381.G2_LENGTH || pop.length != BLS12381.G1_LENGTH
                || ownership.length != BLS12381.G1_LENGTH
        ) {
            revert InvalidRegistrationData();
        }
        // The points themselves are checked by verifyProofOfPossession.
    }
}
