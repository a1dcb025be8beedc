// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.27;

/// @title An AVS registrar that admits every operator, for devnets and tests.
/// @notice EigenLayer v1.3.0's AllocationManager calls an AVS's registrar on
///         `registerForOperatorSets`/`deregisterFromOperatorSets`; without one
///         it calls the AVS address itself, which fails for an account
///         without code. This registrar lets a plain account act as an AVS in
///         tests: the AVS calls
///         `AllocationManager.setAVSRegistrar(avs, registrar)` and operators
///         can then join its operator sets (and become slashable) freely.
///         Chorus's own registry is the registrar of the real AVS.
contract DevnetAVSRegistrar {
    /// @notice The only caller of the callbacks.
    address public immutable allocationManager;
    /// @notice The AVS this registrar serves.
    address public immutable avs;

    /// @notice An operator joined operator sets of `avs`.
    event OperatorRegistered(address indexed operator, uint32[] operatorSetIds);
    /// @notice An operator left operator sets of `avs`.
    event OperatorDeregistered(address indexed operator, uint32[] operatorSetIds);

    /// @notice The caller is not the AllocationManager.
    error OnlyAllocationManager();
    /// @notice A callback for an AVS other than `avs`.
    error WrongAVS();

    modifier onlyAllocationManager() {
        require(msg.sender == allocationManager, OnlyAllocationManager());
        _;
    }

    /// @param allocationManager_ The AllocationManager (its proxy).
    /// @param avs_ The AVS account.
    constructor(address allocationManager_, address avs_) {
        allocationManager = allocationManager_;
        avs = avs_;
    }

    /// @notice Admits `operator` to `operatorSetIds`; `data` is ignored.
    function registerOperator(address operator, address avs_, uint32[] calldata operatorSetIds, bytes calldata)
        external
        onlyAllocationManager
    {
        require(avs_ == avs, WrongAVS());
        emit OperatorRegistered(operator, operatorSetIds);
    }

    /// @notice Accepts every deregistration.
    function deregisterOperator(address operator, address avs_, uint32[] calldata operatorSetIds)
        external
        onlyAllocationManager
    {
        require(avs_ == avs, WrongAVS());
        emit OperatorDeregistered(operator, operatorSetIds);
    }

    /// @notice Checked by `AllocationManager.setAVSRegistrar`.
    function supportsAVS(address avs_) external view returns (bool) {
        return avs_ == avs;
    }
}
