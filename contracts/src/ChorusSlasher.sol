// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {BLS12381} from "./bls/BLS12381.sol";
import {CheckpointLib} from "./CheckpointLib.sol";
import {IChorusRegistry, IChorusSlasher, SignedCommitment} from "./interfaces/IChorus.sol";
import {IAllocationManager, IAllocationManagerTypes, OperatorSet} from "./interfaces/IEigenLayer.sol";

/// @title Chorus slasher: equivocation proofs.
/// @notice Equivocation: one operator signed two checkpoints of this deployment
///         (same chain id and attestation contract, any table versions) whose
///         trees hold commitments for the same rollup and L2 height that differ
///         in block hash or state root. The proof carries both signatures and
///         both Merkle paths; when it holds, the operator is slashed through
///         `AllocationManager.slashOperator` (this contract is the AVS's
///         appointee for that call) and ejected from future tables. Anyone may
///         submit a proof. An operator is slashed once: the first proof ejects
///         and bans it, so further proofs of the same act (one per rollup it
///         covered) would only multiply the penalty. If EigenLayer refuses the
///         slash, the operator is banned anyway and a later proof may slash.
contract ChorusSlasher is IChorusSlasher {
    IAllocationManager public immutable allocationManager;
    IChorusRegistry public immutable registry;
    /// @notice The attestation contract whose checkpoints operators sign.
    address public immutable attestations;
    /// @notice Fraction of the operator's allocation slashed per offence (1e18 = all).
    uint256 public immutable wadToSlash;

    mapping(address operator => bool) public slashed;

    constructor(
        IAllocationManager allocationManager_,
        IChorusRegistry registry_,
        address attestations_,
        uint256 wadToSlash_
    ) {
        allocationManager = allocationManager_;
        registry = registry_;
        attestations = attestations_;
        if (wadToSlash_ == 0 || wadToSlash_ > 1e18) revert InvalidWadToSlash(wadToSlash_);
        wadToSlash = wadToSlash_;
    }

    /// @inheritdoc IChorusSlasher
    function proveEquivocation(
        address operator,
        bytes calldata pubkey,
        SignedCommitment calldata a,
        SignedCommitment calldata b
    ) external {
        bytes32 pubkeyHash = keccak256(pubkey);
        if (operator == address(0) || registry.operatorOfKey(pubkeyHash) != operator) {
            revert KeyNotOfOperator(pubkeyHash, operator);
        }
        if (slashed[operator]) revert AlreadySlashed(operator);
        uint64 rollupId = a.commitment.rollupId;
        uint64 height = a.commitment.l2BlockNumber;
        if (b.commitment.rollupId != rollupId || b.commitment.l2BlockNumber != height) revert NotSameRollupHeight();
        if (a.commitment.l2BlockHash == b.commitment.l2BlockHash && a.commitment.stateRoot == b.commitment.stateRoot) {
            revert CommitmentsDoNotConflict();
        }
        _checkSigned(pubkey, a);
        _checkSigned(pubkey, b);

        // The ban never waits for the slash. Past EigenLayer's deallocation
        // delay a departed operator can no longer be slashed: it is banned all
        // the same. If the slash itself fails (slashing paused, or too little
        // gas forwarded), the ban holds and the offence stays open, so a later
        // proof can still slash.
        OperatorSet memory set = OperatorSet({avs: address(registry), id: registry.OPERATOR_SET_ID()});
        slashed[operator] = !allocationManager.isOperatorSlashable(operator, set) || _trySlash(operator);
        registry.eject(operator);
        emit EquivocationProven(operator, rollupId, height, a.commitmentsRoot, b.commitmentsRoot);
    }

    /// @dev The commitment is in the checkpoint and the operator signed the checkpoint.
    function _checkSigned(bytes calldata pubkey, SignedCommitment calldata signed) private view {
        bytes32 leaf = CheckpointLib.leafHash(signed.commitment);
        if (!MerkleProof.verifyCalldata(signed.proof, signed.commitmentsRoot, leaf)) revert NotInCheckpoint();
        bytes32 message =
            CheckpointLib.signedMessage(block.chainid, attestations, signed.tableVersion, signed.commitmentsRoot);
        if (!BLS12381.verifyMessage(pubkey, signed.signature, abi.encodePacked(message))) revert InvalidSignature();
    }

    function _trySlash(address operator) private returns (bool) {
        address[] memory strategies = registry.strategies();
        uint256[] memory wads = new uint256[](strategies.length);
        for (uint256 i = 0; i < wads.length; ++i) {
            wads[i] = wadToSlash;
        }
        try allocationManager.slashOperator(
            address(registry),
            IAllocationManagerTypes.SlashingParams({
                operator: operator,
                operatorSetId: registry.OPERATOR_SET_ID(),
                strategies: strategies,
                wadsToSlash: wads,
                description: "chorus: equivocation"
            })
        ) {
            return true;
        } catch {
            return false;
        }
    }
}
