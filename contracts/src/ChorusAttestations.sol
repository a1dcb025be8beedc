// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {BLS12381} from "./bls/BLS12381.sol";
import {CheckpointLib} from "./CheckpointLib.sol";
import {Commitment, IChorusAttestations, IChorusRegistry, NonSigner, TableRef} from "./interfaces/IChorus.sol";
import {RollupList} from "./RollupList.sol";

/// @title Chorus attestations.
/// @notice Anyone may submit a checkpoint: the contract trusts no aggregator.
///         It checks the table the submitter restates against the registry's
///         digest, removes the proven non-signers from the aggregate key and
///         weight, checks the quorum (`signed * 10_000 >= total * quorumBps`)
///         and one aggregate BLS signature over `checkpointMessage`. A root is
///         attested once.
///
///         Gas: the aggregate key travels in calldata and is checked against a
///         28-byte digest in one storage slot, which costs less than reading
///         eight slots of key; each non-signer costs its key, its weight and a
///         Merkle path.
contract ChorusAttestations is RollupList {
    /// @notice Basis points.
    uint16 internal constant BPS = 10_000;

    IChorusRegistry internal immutable _registry;
    uint16 public immutable quorumBps;

    struct Latest {
        Commitment commitment;
        bytes32 commitmentsRoot;
        uint64 attestedAtBlock;
    }

    mapping(bytes32 commitmentsRoot => uint64 attestedAtBlock) public attestedAt;
    mapping(uint64 rollupId => Latest) private _latest;

    constructor(address owner_, IChorusRegistry registry_, uint16 quorumBps_) Ownable(owner_) {
        if (quorumBps_ == 0 || quorumBps_ > BPS) revert InvalidQuorum(quorumBps_);
        _registry = registry_;
        quorumBps = quorumBps_;
    }

    /// @inheritdoc IChorusAttestations
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IChorusAttestations
    function checkpointMessage(uint32 tableVersion, bytes32 commitmentsRoot) public view returns (bytes32) {
        return CheckpointLib.signedMessage(block.chainid, address(this), tableVersion, commitmentsRoot);
    }

    /// @inheritdoc IChorusAttestations
    function submitCheckpoint(
        TableRef calldata table,
        bytes32 commitmentsRoot,
        NonSigner[] calldata nonSigners,
        bytes calldata signature
    ) external {
        _attest(table, commitmentsRoot, nonSigners, signature);
    }

    /// @inheritdoc IChorusAttestations
    function submitCheckpointWithCommitments(
        TableRef calldata table,
        Commitment[] calldata commitments,
        NonSigner[] calldata nonSigners,
        bytes calldata signature
    ) external {
        if (commitments.length == 0) revert NoCommitments();
        bytes32[] memory leaves = new bytes32[](commitments.length);
        for (uint256 i = 0; i < commitments.length; ++i) {
            uint64 rollupId = commitments[i].rollupId;
            if (i > 0 && commitments[i - 1].rollupId >= rollupId) revert CommitmentsNotSorted();
            if (!isRollupListed(rollupId)) revert RollupNotAttested(rollupId);
            leaves[i] = CheckpointLib.leafHash(commitments[i]);
        }
        bytes32 commitmentsRoot = CheckpointLib.merkleRoot(leaves);
        // A root attested already (e.g. by someone who copied this signature
        // into a root-only submission) still gets its commitments recorded.
        if (attestedAt[commitmentsRoot] == 0) _attest(table, commitmentsRoot, nonSigners, signature);
        for (uint256 i = 0; i < commitments.length; ++i) {
            _record(commitments[i], commitmentsRoot);
        }
    }

    /// @inheritdoc IChorusAttestations
    function latestCommitment(uint64 rollupId)
        external
        view
        returns (Commitment memory commitment, bytes32 commitmentsRoot, uint64 attestedAtBlock)
    {
        Latest storage latest = _latest[rollupId];
        return (latest.commitment, latest.commitmentsRoot, latest.attestedAtBlock);
    }

    /// @inheritdoc IChorusAttestations
    function verifyCommitment(Commitment calldata commitment, bytes32 commitmentsRoot, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return attestedAt[commitmentsRoot] != 0
            && MerkleProof.verifyCalldata(proof, commitmentsRoot, CheckpointLib.leafHash(commitment));
    }

    function _attest(
        TableRef calldata table,
        bytes32 commitmentsRoot,
        NonSigner[] calldata nonSigners,
        bytes calldata signature
    ) private {
        if (attestedAt[commitmentsRoot] != 0) revert AlreadyAttested(commitmentsRoot);
        _checkTable(table);
        (bytes memory signersKey, uint256 signedWeight) = _removeNonSigners(table, nonSigners);
        if (signedWeight * BPS < table.totalWeight * quorumBps || signedWeight == 0) {
            revert QuorumNotReached(signedWeight, table.totalWeight);
        }
        bytes memory message = abi.encodePacked(checkpointMessage(table.version, commitmentsRoot));
        if (!BLS12381.verifyMessage(signersKey, signature, message)) revert InvalidSignature();
        attestedAt[commitmentsRoot] = uint64(block.number);
        emit CheckpointAttested(commitmentsRoot, table.version, signedWeight, table.totalWeight, msg.sender);
    }

    /// @dev The restated table must be the registry's version, current or
    ///      superseded within the grace period.
    function _checkTable(TableRef calldata table) private view {
        (bytes28 digest, uint32 expiresAtBlock) = _registry.tableRecord(table.version);
        if (digest == bytes28(0)) revert UnknownTableVersion(table.version);
        if (expiresAtBlock != 0 && block.number > expiresAtBlock) {
            revert StaleTableVersion(table.version, expiresAtBlock);
        }
        if (bytes28(keccak256(abi.encode(table.apk, table.totalWeight, table.operatorsRoot))) != digest) {
            revert TableMismatch(table.version);
        }
    }

    /// @dev Subtracts each proven non-signer's key and weight. Key hashes must
    ///      ascend strictly, so no one is subtracted twice.
    function _removeNonSigners(TableRef calldata table, NonSigner[] calldata nonSigners)
        private
        view
        returns (bytes memory signersKey, uint256 signedWeight)
    {
        signersKey = table.apk;
        signedWeight = table.totalWeight;
        if (nonSigners.length == 0) return (signersKey, signedWeight);
        bytes memory missing = new bytes(BLS12381.G2_LENGTH);
        bytes32 previous = bytes32(0);
        for (uint256 i = 0; i < nonSigners.length; ++i) {
            NonSigner calldata nonSigner = nonSigners[i];
            bytes32 pubkeyHash = keccak256(nonSigner.pubkey);
            if (pubkeyHash <= previous) revert NonSignersNotSorted();
            previous = pubkeyHash;
            bytes32 leaf = CheckpointLib.operatorLeaf(pubkeyHash, nonSigner.weight);
            if (!MerkleProof.verifyCalldata(nonSigner.proof, table.operatorsRoot, leaf)) {
                revert NonSignerNotInTable(pubkeyHash);
            }
            missing = BLS12381.g2Add(missing, nonSigner.pubkey);
            signedWeight -= nonSigner.weight;
        }
        signersKey = BLS12381.g2Add(signersKey, BLS12381.g2Negate(missing));
    }

    function _record(Commitment calldata commitment, bytes32 commitmentsRoot) private {
        Latest storage latest = _latest[commitment.rollupId];
        if (latest.attestedAtBlock != 0 && commitment.l2BlockNumber <= latest.commitment.l2BlockNumber) return;
        latest.commitment = commitment;
        latest.commitmentsRoot = commitmentsRoot;
        latest.attestedAtBlock = uint64(block.number);
        emit CommitmentAttested(
            commitment.rollupId, commitment.l2BlockNumber, commitment.l2BlockHash, commitment.stateRoot, commitmentsRoot
        );
    }
}
