// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.27;

/// @title Pauser roles for EigenLayer's core contracts on a devnet or testnet.
/// @notice The surface EigenLayer v1.3.0's `Pausable` reads (`isPauser`,
///         `unpauser`) and the two setters of EigenLayer's own registry.
///         Pausers may pause core functions; only the unpauser may unpause
///         and manage the roles.
contract PauserRegistry {
    /// @notice Whether an address may pause.
    mapping(address => bool) public isPauser;

    /// @notice The one address that may unpause and manage the roles.
    address public unpauser;

    /// @notice A pauser was added or removed.
    event PauserStatusChanged(address pauser, bool canPause);
    /// @notice The unpauser changed.
    event UnpauserChanged(address previousUnpauser, address newUnpauser);

    /// @notice The caller is not the unpauser.
    error OnlyUnpauser();
    /// @notice A zero address where a role holder is expected.
    error InputAddressZero();

    modifier onlyUnpauser() {
        require(msg.sender == unpauser, OnlyUnpauser());
        _;
    }

    /// @param pausers Initial pausers.
    /// @param unpauser_ The unpauser (may also be among `pausers`).
    constructor(address[] memory pausers, address unpauser_) {
        for (uint256 i = 0; i < pausers.length; ++i) {
            _setIsPauser(pausers[i], true);
        }
        _setUnpauser(unpauser_);
    }

    /// @notice Adds or removes a pauser.
    function setIsPauser(address pauser, bool canPause) external onlyUnpauser {
        _setIsPauser(pauser, canPause);
    }

    /// @notice Hands the unpauser role to another address.
    function setUnpauser(address newUnpauser) external onlyUnpauser {
        _setUnpauser(newUnpauser);
    }

    function _setIsPauser(address pauser, bool canPause) internal {
        require(pauser != address(0), InputAddressZero());
        isPauser[pauser] = canPause;
        emit PauserStatusChanged(pauser, canPause);
    }

    function _setUnpauser(address newUnpauser) internal {
        require(newUnpauser != address(0), InputAddressZero());
        emit UnpauserChanged(unpauser, newUnpauser);
        unpauser = newUnpauser;
    }
}
