// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {IAllocationManager, IAVSRegistrar, OperatorSet} from "../../../src/interfaces/IEigenLayer.sol";
import {MockPermissionController} from "./MockPermissionController.sol";

/// @notice The parts of EigenLayer's AllocationManager Chorus calls, with the
///         caller checks and registrar calls of the real one, and stake that
///         tests set directly. Slashing is recorded, not applied.
contract MockAllocationManager is IAllocationManager {
    MockPermissionController public immutable permissionController;

    mapping(address avs => string) public metadataURI;
    mapping(address avs => address) public registrarOf;
    mapping(address avs => mapping(uint32 setId => bool)) public setExists;
    mapping(address avs => mapping(uint32 setId => address[])) private _setStrategies;
    mapping(address avs => mapping(address operator => bool)) public isMember;
    mapping(address operator => mapping(address strategy => uint256)) public stakeOf;

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
        IAVSRegistrar(registrarOf[params.avs]).deregisterOperator(params.operator, params.avs, params.operatorSetIds);
    }

    function slashOperator(address avs, SlashingParams calldata params) external {
        _checkCanCall(avs);
        Slashing storage s = _slashings.push();
        s.avs = avs;
        s.operator = params.operator;
        s.operatorSetId = params.operatorSetId;
        s.strategies = params.strategies;
        s.wadsToSlash = params.wadsToSlash;
        s.description = params.description;
    }

    function getMinimumSlashableStake(
        OperatorSet memory,
        address[] memory operators,
        address[] memory strategies,
        uint32
    ) external view returns (uint256[][] memory slashableStake) {
        slashableStake = new uint256[][](operators.length);
        for (uint256 i = 0; i < operators.length; ++i) {
            slashableStake[i] = new uint256[](strategies.length);
            for (uint256 s = 0; s < strategies.length; ++s) {
                slashableStake[i][s] = stakeOf[operators[i]][strategies[s]];
            }
        }
    }

    // ---- Operator side (the real one takes RegisterParams; the registrar call is the same) ----

    /// @notice As the real `registerForOperatorSets`: calls the AVS's registrar.
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

    function setStake(address operator, address strategy, uint256 amount) external {
        stakeOf[operator][strategy] = amount;
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

    function _checkCanCall(address account) private view {
        require(_canCall(account), "MockAllocationManager: invalid caller");
    }

    function _canCall(address account) private view returns (bool) {
        return permissionController.canCall(account, msg.sender, address(this), msg.sig);
    }
}
