// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {IPermissionController} from "../../../src/interfaces/IEigenLayer.sol";

/// @notice EigenLayer's PermissionController reduced to appointees: an account
///         (with no admins, as the Chorus registry) may call for itself and
///         appoint others for one (target, selector).
contract MockPermissionController is IPermissionController {
    event AppointeeSet(address indexed account, address indexed appointee, address target, bytes4 selector);

    mapping(bytes32 => bool) private _appointed;

    function setAppointee(address account, address appointee, address target, bytes4 selector) external {
        require(msg.sender == account, "MockPermissionController: not the account");
        _appointed[_key(account, appointee, target, selector)] = true;
        emit AppointeeSet(account, appointee, target, selector);
    }

    function isAppointee(address account, address appointee, address target, bytes4 selector)
        public
        view
        returns (bool)
    {
        return _appointed[_key(account, appointee, target, selector)];
    }

    /// @notice As the real `canCall`: the account itself, or an appointee.
    function canCall(address account, address caller, address target, bytes4 selector) external view returns (bool) {
        return caller == account || isAppointee(account, caller, target, selector);
    }

    function _key(address account, address appointee, address target, bytes4 selector) private pure returns (bytes32) {
        return keccak256(abi.encode(account, appointee, target, selector));
    }
}
