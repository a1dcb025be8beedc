// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IChorusAttestations} from "./interfaces/IChorus.sol";

/// @title The rollups Chorus attests, managed by the owner.
/// @notice Rollups are named by their EIP-155 chain id. Removing a rollup stops
///         new commitments for it; what was attested stays readable.
abstract contract RollupList is IChorusAttestations, Ownable {
    mapping(uint64 rollupId => bool) private _listed;
    uint64[] private _rollups;

    /// @notice Adds a rollup to the attested set.
    function addRollup(uint64 rollupId, string calldata name) external onlyOwner {
        if (_listed[rollupId]) revert RollupAlreadyListed(rollupId);
        _listed[rollupId] = true;
        _rollups.push(rollupId);
        emit RollupAdded(rollupId, name);
    }

    /// @notice Removes a rollup from the attested set.
    function removeRollup(uint64 rollupId) external onlyOwner {
        if (!_listed[rollupId]) revert RollupNotAttested(rollupId);
        _listed[rollupId] = false;
        for (uint256 i = 0; i < _rollups.length; ++i) {
            if (_rollups[i] == rollupId) {
                _rollups[i] = _rollups[_rollups.length - 1];
                _rollups.pop();
                break;
            }
        }
        emit RollupRemoved(rollupId);
    }

    /// @notice Whether commitments of `rollupId` are accepted.
    function isRollupListed(uint64 rollupId) public view returns (bool) {
        return _listed[rollupId];
    }

    /// @notice Every listed rollup, in no particular order.
    function listedRollups() external view returns (uint64[] memory) {
        return _rollups;
    }
}
