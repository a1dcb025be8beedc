// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {BLS12381} from "./bls/BLS12381.sol";
import {CheckpointLib} from "./CheckpointLib.sol";
import {Commitment, IChorusAttestations, IChorusRegistry, NonSigner, TableRef} from "./interfaces/IChorus.sol";
import {RollupList} from "./RollupList.sol";
import {TableLeaves} from "./TableLeaves.sol";

/// @title Chorus attestations.
/// @notice Anyone may submit a checkpoint: the contract trusts no aggregator.
///         It checks the table the submitter restates against the registry's
///         digest, removes the proven non-signers from the aggregate key and
///         weight, checks the quorum (`signed * 10_000 >= total * quorumBps`)
///         and one aggregate BLS signature over `checkpointMessage`. A root is
///         attested once.
///
///         It keeps, per operator-table version, what checking needs: a 28-byte
///         digest of (aggregate key, total weight), when a superseded version
///         stops being accepted (`tableGracePeriod` blocks after the next one),
///         and the contract holding the version's operator leaves. The registry
///         records each version; nobody else can.
///
///         Gas: the aggregate key travels in calldata and is checked against the
///         digest in one slot, which costs less than reading eight slots of key;
///         a non-signer costs its key, its weight and one leaf read by position
///         from the leaves contract (no Merkle path).
contract ChorusAttestations is RollupList {
    /// @notice Basis points.
    uint16 internal constant BPS = 10_000;

    IChorusRegistry internal immutable _registry;
    uint16 public immutable quorumBps;
    uint32 public immutable tableGracePeriod;

    struct TableRecord {
        bytes28 digest;
        uint32 expiresAtBlock;
        address leaves;
    }

    struct Latest {
        Commitment commitment;
        bytes32 commitmentsRoot;
        uint64 attestedAtBlock;
    }

    mapping(bytes32 commitmentsRoot => uint64 attestedAtBlock) public attestedAt;
    mapping(uint64 rollupId => Latest) private _latest;
    mapping(uint32 version => TableRecord) private _tables;
    uint32 public latestTableVersion;

    constructor(address owner_, IChorusRegistry registry_, uint16 quorumBps_, uint32 tableGracePeriod_)
        Ownable(owner_)
    {
        if (quorumBps_ == 0 || quorumBps_ > BPS) revert InvalidQuorum(quorumBps_);
        _registry = registry_;
        quorumBps = quorumBps_;
        tableGracePeriod = tableGracePeriod_;
    }

    /// @inheritdoc IChorusAttestations
    function recordTable(uint32 version, bytes28 digest, address leaves) external {
        if (msg.sender != address(_registry)) revert OnlyRegistry();
        uint32 previous = latestTableVersion;
        if (version != previous + 1) revert TableVersionNotNext(version);
        if (previous != 0) {
            // Saturate rather than overflow: a huge grace period means "for as
            // long as a block number fits".
            uint256 expiry = block.number + tableGracePeriod;
            _tables[previous].expiresAtBlock = expiry > type(uint32).max ? type(uint32).max : uint32(expiry);
        }
        _tables[version] = TableRecord({digest: digest, expiresAtBlock: 0, leaves: leaves});
        latestTableVersion = version;
    }

    /// @inheritdoc IChorusAttestations
    function tableRecord(uint32 version) external view returns (bytes28 digest, uint32 expiresAtBlock, address leaves) {
        TableRecord storage record = _tables[version];
        return (record.digest, record.expiresAtBlock, record.leaves);
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
        // The key is the digest-checked aggregate, less registered keys.
        if (!BLS12381.verifyMessageTrustedKey(signersKey, signature, message)) revert InvalidSignature();
        attestedAt[commitmentsRoot] = uint64(block.number);
        emit CheckpointAttested(commitmentsRoot, table.version, signedWeight);
    }

    /// @dev The restated table must be a recorded version, current or
    ///      superseded within the grace period.
    function _checkTable(TableRef calldata table) private view {
        TableRecord storage record = _tables[table.version];
        (bytes28 digest, uint32 expiresAtBlock) = (record.digest, record.expiresAtBlock);
        if (digest == bytes28(0)) revert UnknownTableVersion(table.version);
        if (expiresAtBlock != 0 && block.number > expiresAtBlock) {
            revert StaleTableVersion(table.version, expiresAtBlock);
        }
        if (bytes28(keccak256(abi.encode(table.apk, table.totalWeight))) != digest) {
            revert TableMismatch(table.version);
        }
    }

    /// @dev Subtracts each proven non-signer's key and weight. Positions must
    ///      ascend strictly, so no one is subtracted twice.
    function _removeNonSigners(TableRef calldata table, NonSigner[] calldata nonSigners)
        private
        view
        returns (bytes memory signersKey, uint256 signedWeight)
    {
        signersKey = table.apk;
        signedWeight = table.totalWeight;
        if (nonSigners.length == 0) return (signersKey, signedWeight);
        address leaves = _tables[table.version].leaves;
        bytes memory missing;
        uint256 nextIndex = 0;
        for (uint256 i = 0; i < nonSigners.length; ++i) {
            NonSigner calldata nonSigner = nonSigners[i];
            if (nonSigner.index < nextIndex) revert NonSignersNotSorted();
            bytes32 leaf = CheckpointLib.operatorLeaf(keccak256(nonSigner.pubkey), nonSigner.weight);
            if (TableLeaves.read(leaves, nonSigner.index) != leaf) revert NonSignerNotInTable(nonSigner.index);
            // Below TableLeaves.MAX_LEAVES, or the read above found nothing.
            nextIndex = nonSigner.index + 1;
            // The leaf matched, so this is a registered (canonical) key.
            missing = i == 0 ? nonSigner.pubkey : BLS12381.g2Add(missing, nonSigner.pubkey);
            signedWeight -= nonSigner.weight;
        }
        signersKey = BLS12381.g2Add(signersKey, BLS12381.g2NegateTrusted(missing));
    }

    function _record(Commitment calldata commitment, bytes32 commitmentsRoot) private {
        Latest storage latest = _latest[commitment.rollupId];
        if (latest.attestedAtBlock != 0 && commitment.l2BlockNumber <= latest.commitment.l2BlockNumber) return;
        latest.commitment = commitment;
        latest.commitmentsRoot = commitmentsRoot;
        // The root's attestation block, also when it was attested earlier.
        latest.attestedAtBlock = attestedAt[commitmentsRoot];
        emit CommitmentAttested(
            commitment.rollupId, commitment.l2BlockNumber, commitment.l2BlockHash, commitment.stateRoot, commitmentsRoot
        );
    }
}
