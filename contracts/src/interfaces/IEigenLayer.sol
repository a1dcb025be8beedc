// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

/// @title The parts of EigenLayer core (v1.3.0, slashing era) that Chorus calls.
/// @notice Signatures match the bytecode eigensdk-rs ships in `eigen-utils` 2.0.
///         Only what Chorus uses is declared.

/// @notice An operator set: an AVS address and a set id.
struct OperatorSet {
    address avs;
    uint32 id;
}

/// @notice Types of IAllocationManager.
interface IAllocationManagerTypes {
    struct CreateSetParams {
        uint32 operatorSetId;
        address[] strategies;
    }

    struct DeregisterParams {
        address operator;
        address avs;
        uint32[] operatorSetIds;
    }

    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        address[] strategies;
        uint256[] wadsToSlash;
        string description;
    }
}

/// @notice The AllocationManager calls Chorus's registry on (de)registration and
///         is called by Chorus to read stake, to eject and to slash.
interface IAllocationManager is IAllocationManagerTypes {
    function updateAVSMetadataURI(address avs, string calldata metadataURI) external;
    function createOperatorSets(address avs, CreateSetParams[] calldata params) external;
    function setAVSRegistrar(address avs, address registrar) external;
    function deregisterFromOperatorSets(DeregisterParams calldata params) external;
    function slashOperator(address avs, SlashingParams calldata params) external;
    function getAllocatedStake(OperatorSet memory operatorSet, address[] memory operators, address[] memory strategies)
        external
        view
        returns (uint256[][] memory);
    function isOperatorSlashable(address operator, OperatorSet memory operatorSet) external view returns (bool);
    function getMinimumSlashableStake(
        OperatorSet memory operatorSet,
        address[] memory operators,
        address[] memory strategies,
        uint32 futureBlock
    ) external view returns (uint256[][] memory slashableStake);
}

/// @notice Lets an AVS appoint another contract (the slasher) for one function.
interface IPermissionController {
    function setAppointee(address account, address appointee, address target, bytes4 selector) external;
}

/// @notice What the AllocationManager calls on an AVS's registrar.
interface IAVSRegistrar {
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data)
        external;
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;
    function supportsAVS(address avs) external view returns (bool);
}
