// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {Eip2537} from "../src/Eip2537.sol";

/// Runs the standard EIP-2537 vectors (vectors/eip2537_*.json) against the
/// precompiles of the configured EVM, so a wrong `evm_version` or a client
/// without BLS12-381 support fails here rather than deep inside the BLS library.
contract PrecompilesTest is Test {
    function test_G1Add() public view {
        _expectPass("eip2537_add_G1_bls.json", Eip2537.G1ADD);
    }

    function test_G2Add() public view {
        _expectPass("eip2537_add_G2_bls.json", Eip2537.G2ADD);
    }

    function test_MapFpToG1() public view {
        _expectPass("eip2537_map_fp_to_G1_bls.json", Eip2537.MAP_FP_TO_G1);
    }

    function test_PairingCheck() public view {
        _expectPass("eip2537_pairing_check_bls.json", Eip2537.PAIRING_CHECK);
    }

    function test_MapFpToG1_RejectsInvalidInput() public view {
        _expectFail("eip2537_fail-map_fp_to_G1_bls.json", Eip2537.MAP_FP_TO_G1);
    }

    function test_PairingCheck_RejectsInvalidInput() public view {
        _expectFail("eip2537_fail-pairing_check_bls.json", Eip2537.PAIRING_CHECK);
    }

    /// Each case must return `Expected` when given exactly `Gas`, and fail with
    /// one unit less: that pins the gas schedule the BLS library will budget for.
    function _expectPass(string memory file, address precompile) private view {
        string memory json = _load(file);
        uint256 n = _count(json);
        assertGt(n, 0, file);
        for (uint256 i = 0; i < n; i++) {
            string memory at = string.concat("$[", vm.toString(i), "]");
            string memory name = vm.parseJsonString(json, string.concat(at, ".Name"));
            bytes memory input = _bytes(json, string.concat(at, ".Input"));
            bytes memory expected = _bytes(json, string.concat(at, ".Expected"));
            uint256 gas = vm.parseJsonUint(json, string.concat(at, ".Gas"));

            (bool ok, bytes memory output) = precompile.staticcall{gas: gas}(input);
            assertTrue(ok, name);
            assertEq(output, expected, name);

            (ok,) = precompile.staticcall{gas: gas - 1}(input);
            assertFalse(ok, string.concat(name, ": succeeded below its gas cost"));
        }
    }

    function _expectFail(string memory file, address precompile) private view {
        string memory json = _load(file);
        uint256 n = _count(json);
        assertGt(n, 0, file);
        for (uint256 i = 0; i < n; i++) {
            string memory at = string.concat("$[", vm.toString(i), "]");
            string memory name = vm.parseJsonString(json, string.concat(at, ".Name"));
            bytes memory input = _bytes(json, string.concat(at, ".Input"));

            // Plenty of gas, so only invalid input can make the call fail.
            (bool ok,) = precompile.staticcall{gas: 1_000_000}(input);
            assertFalse(ok, name);
        }
    }

    function _load(string memory file) private view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/../vectors/", file));
    }

    /// The vector files are bare top-level arrays, which the cheatcodes cannot
    /// measure directly; probe indices until one is missing.
    function _count(string memory json) private view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat("$[", vm.toString(n), "]"))) n++;
    }

    /// The vectors store hex without a 0x prefix. vm.parseBytes tolerates that
    /// except for the empty input "", so add the prefix ourselves.
    function _bytes(string memory json, string memory key) private pure returns (bytes memory) {
        return vm.parseBytes(string.concat("0x", vm.parseJsonString(json, key)));
    }
}
