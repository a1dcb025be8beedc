// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {IAllocationManager, IAVSRegistrar, OperatorSet} from "../../../src/interfaces/IEigenLayer.sol";
import {MockPermissionController} from "./MockPermissionController.sol";

/// @notice The parts of EigenLayer's AllocationManager Chorus calls, with the
///         caller checks and registrar calls of the real one, and stake that
///         tests set directly. Slashing is recorded, not applied.
///
///         Stake is what an operator allocated to the set. As in EigenLayer
///         (v1.3.0), an allocation exists before the operator joins the set
///         (`getAllocatedStake` reports it regardless of membership), but it is
///         slashable only while the operator is slashable by the set: a member,
///         or deregistered within the last `deallocationDelay` blocks
///         (`getMinimumSlashableStake` reports 0 otherwise, and `slashOperator`
///         refuses).
contract MockAllocationManager is IAllocationManager {
    /// @notice Forces `isOperatorSlashable` one way, or leaves it to membership (Default).
    enum Slashability {
        Default,
        Slashable,
        NotSlashable
    }

    MockPermissionController public immutable permissionController;

    mapping(address avs => string) public metadataURI;
    mapping(address avs => address) public registrarOf;
    mapping(address avs => mapping(uint32 setId => bool)) public setExists;
    mapping(address avs => mapping(uint32 setId => address[])) private _setStrategies;
    mapping(address avs => mapping(address operator => bool)) public isMember;
    mapping(address operator => mapping(address strategy => uint256)) public stakeOf;
    /// @notice Last block in which a deregistered operator is still slashable.
    mapping(address avs => mapping(address operator => uint32)) public slashableUntil;
    mapping(address operator => Slashability) public slashabilityOverride;
    /// @notice EigenLayer's DEALLOCATION_DELAY, in blocks (mainnet: 17.5 days).
    uint32 public deallocationDelay = 100;

    struct Slashing {
        address avs;
        address operator;
        uint32 operatorSetId;
        address[] strategies;
        uint256[] wadsToSlash;
        string description;
    }

    Slashing[] private _slashings;

    /// @notice When set, `deregisterFromOperatorSets` reverts (a paused or changed EigenLayer).
    bool public deregistrationFails;
    bool public slashingFails;

    constructor(MockPermissionController permissionController_) {
        permissionController = permissionController_;
    }

    // ---- AVS side ----

    function updateAVSMetadataURI(address avs, string calldata uri) external {
        _checkCanCall(avs);
        metadataURI[avs] = uri;
    }

    function createOperatorSets(address avs, CreateSetParams[] calldata params) external {
        _checkCanCall(avs);
        for (uint256 i = 0; i < params.length; ++i) {
            require(!setExists[avs][params[i].operatorSetId], "MockAllocationManager: set exists");
            setExists[avs][params[i].operatorSetId] = true;
            _setStrategies[avs][params[i].operatorSetId] = params[i].strategies;
        }
    }

    function setAVSRegistrar(address avs, address registrar) external {
        _checkCanCall(avs);
        registrarOf[avs] = registrar;
    }

    function deregisterFromOperatorSets(DeregisterParams calldata params) external {
        // As the real one does while paused, or when it refuses for any other reason.
        require(!deregistrationFails, "MockAllocationManager: deregistration refused");
        require(_canCall(params.operator) || _canCall(params.avs), "MockAllocationManager: invalid caller");
        require(isMember[params.avs][params.operator], "MockAllocationManager: not a member");
        isMember[params.avs][params.operator] = false;
        slashableUntil[params.avs][params.operator] = uint32(block.number) + deallocationDelay;
        IAVSRegistrar(registrarOf[params.avs]).deregisterOperator(params.operator, params.avs, params.operatorSetIds);
    }

    function slashOperator(address avs, SlashingParams calldata params) external {
        _checkCanCall(avs);
        require(!slashingFails, "MockAllocationManager: slashing paused");
        // As the real one: OperatorNotSlashable.
        require(
            isOperatorSlashable(params.operator, OperatorSet({avs: avs, id: params.operatorSetId})),
            "MockAllocationManager: operator not slashable"
        );
        Slashing storage s = _slashings.push();
        s.avs = avs;
        s.operator = params.operator;
        s.operatorSetId = params.operatorSetId;
        s.strategies = params.strategies;
        s.wadsToSlash = params.wadsToSlash;
        s.description = params.description;
    }

    /// @notice Allocated stake that is slashable now: none unless the operator is slashable by the set.
    function getMinimumSlashableStake(
        OperatorSet memory operatorSet,
        address[] memory operators,
        address[] memory strategies,
        uint32
    ) external view returns (uint256[][] memory slashableStake) {
        slashableStake = _stakes(operators, strategies);
        for (uint256 i = 0; i < operators.length; ++i) {
            if (isOperatorSlashable(operators[i], operatorSet)) continue;
            for (uint256 s = 0; s < strategies.length; ++s) {
                slashableStake[i][s] = 0;
            }
        }
    }

    /// @notice Allocated stake, member or not (an operator allocates before it registers).
    function getAllocatedStake(OperatorSet memory, address[] memory operators, address[] memory strategies)
        external
        view
        returns (uint256[][] memory)
    {
        return _stakes(operators, strategies);
    }

    /// @notice A member, or deregistered at most `deallocationDelay` blocks ago, unless overridden.
    function isOperatorSlashable(address operator, OperatorSet memory operatorSet) public view returns (bool) {
        Slashability forced = slashabilityOverride[operator];
        if (forced != Slashability.Default) return forced == Slashability.Slashable;
        return isMember[operatorSet.avs][operator] || block.number <= slashableUntil[operatorSet.avs][operator];
    }

    // ---- Operator side (the real one takes RegisterParams; the registrar call is the same) ----

    /// @notice As the real `registerForOperatorSets`: calls the AVS's registrar. (The real one
    ///         also refuses an operator still slashable after leaving; not modelled here.)
    function registerForOperatorSets(address operator, address avs, uint32[] calldata ids, bytes calldata data)
        external
    {
        require(!isMember[avs][operator], "MockAllocationManager: already a member");
        isMember[avs][operator] = true;
        IAVSRegistrar(registrarOf[avs]).registerOperator(operator, avs, ids, data);
    }

    // ---- Test controls and views ----

    function setDeregistrationFails(bool fails) external {
        deregistrationFails = fails;
    }

    /// @notice Makes `slashOperator` revert, as EigenLayer does while slashing is paused.
    function setSlashingFails(bool fails) external {
        slashingFails = fails;
    }

    /// @notice The operator's allocation to the (one) set in `strategy`.
    function setStake(address operator, address strategy, uint256 amount) external {
        stakeOf[operator][strategy] = amount;
    }

    function setDeallocationDelay(uint32 blocks) external {
        deallocationDelay = blocks;
    }

    function setSlashabilityOverride(address operator, Slashability slashability) external {
        slashabilityOverride[operator] = slashability;
    }

    function setStrategies(address avs, uint32 setId) external view returns (address[] memory) {
        return _setStrategies[avs][setId];
    }

    function slashingCount() external view returns (uint256) {
        return _slashings.length;
    }

    function slashing(uint256 index) external view returns (Slashing memory) {
        return _slashings[index];
    }

    function _stakes(address[] memory operators, address[] memory strategies)
        private
        view
        returns (uint256[][] memory stake)
    {
        stake = new uint256[][](operators.length);
        for (uint256 i = 0; i < operators.length; ++i) {
            stake[i] = new uint256[](strategies.length);
            for (uint256 s = 0; s < strategies.length; ++s) {
                stake[i][s] = stakeOf[operators[i]][strategies[s]];
            }
        }
    }

    function _checkCanCall(address account) private view {
        require(_canCall(account), "MockAllocationManager: invalid caller");
    }

    function _canCall(address account) private view returns (bool) {
        return permissionController.canCall(account, msg.sender, address(this), msg.sig);
    }
}
