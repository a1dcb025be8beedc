// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.30;

/// @title Chorus protocol types and interfaces.
/// @notice The one definition of everything Chorus signs, submits and emits.
///         The Rust crate `chorus-contracts` reads this file with alloy's
///         `sol!`, so the off-chain and on-chain encodings cannot drift.

/// @notice One rollup's state at one L2 block: a leaf of a checkpoint.
///         `rollupId` is the rollup's EIP-155 chain id.
struct Commitment {
    uint64 rollupId;
    uint64 l2BlockNumber;
    bytes32 l2BlockHash;
    bytes32 stateRoot;
}

/// @notice What operators sign, as an EIP-712 struct: its `hashStruct` is the
///         32-byte message hashed to G1. Binding the chain id and the
///         attestation contract makes a signature useless on any other
///         deployment.
struct ChorusCheckpoint {
    uint256 l1ChainId;
    address attestationContract;
    uint32 tableVersion;
    bytes32 commitmentsRoot;
}

/// @notice What a BLS key signs to be registered for one operator, as an
///         EIP-712 struct. The standard proof of possession does not name an
///         operator, so without this anyone could copy a key and its proof from
///         the mempool and register it first.
struct ChorusKeyRegistration {
    uint256 l1ChainId;
    address registry;
    address operator;
}

/// @notice A version of the operator table as a submitter restates it; the
///         attestation contract stores only its digest.
/// @param apk Aggregate G2 key of every operator in the table (EIP-2537, 256 bytes).
/// @param totalWeight Sum of the weights.
struct TableRef {
    uint32 version;
    bytes apk;
    uint256 totalWeight;
}

/// @notice An operator of the table that did not sign: its key, its weight,
///         and its position in the table version's leaves.
struct NonSigner {
    bytes pubkey;
    uint256 weight;
    uint256 index;
}

/// @notice One operator's signature over a checkpoint and the path from one
///         of its commitments to the checkpoint root: half of an equivocation
///         proof.
struct SignedCommitment {
    uint32 tableVersion;
    bytes32 commitmentsRoot;
    bytes signature;
    Commitment commitment;
    bytes32[] proof;
}

/// @notice The operator registry: EigenLayer's registrar for the Chorus
///         operator set, and the keeper of operator-table versions.
interface IChorusRegistry {
    event OperatorRegistered(address indexed operator, bytes32 indexed pubkeyHash, bytes pubkey);
    event OperatorDeregistered(address indexed operator);
    event OperatorEjected(address indexed operator, bytes32 indexed pubkeyHash);
    event OperatorPruned(address indexed operator);
    /// @notice Everything needed to rebuild the table off chain, leaves in order.
    event OperatorTableUpdated(
        uint32 indexed version,
        bytes apk,
        uint256 totalWeight,
        address leaves,
        address[] operators,
        bytes[] pubkeys,
        uint256[] weights
    );

    error OnlyAllocationManager();
    error OnlySlasher();
    error WrongAvs(address avs);
    error WrongOperatorSet();
    error InvalidRegistrationData();
    error InvalidProofOfPossession();
    error InvalidKeyOwnership();
    error OperatorAlreadyRegistered(address operator);
    error OperatorSetFull(uint32 maxOperators);
    error NoAllocatedStake(address operator);
    error OperatorHasWeight(address operator);
    error InvalidSlasher();
    error InvalidAttestations();
    error InvalidMultiplier(uint256 multiplier);
    error KeyAlreadyRegistered(bytes32 pubkeyHash, address owner);
    error KeyBanned(bytes32 pubkeyHash);
    error OperatorBanned(address operator);
    error SlasherAlreadySet();
    error TooManyOperators(uint256 count);
    error StrategiesNotAscending();
    error LengthMismatch();

    function OPERATOR_SET_ID() external view returns (uint32);
    function latestTableVersion() external view returns (uint32);
    function operatorOfKey(bytes32 pubkeyHash) external view returns (address);
    function pubkeyHashOf(address operator) external view returns (bytes32);
    function isRegistered(address operator) external view returns (bool);
    function operatorCount() external view returns (uint256);
    function strategies() external view returns (address[] memory);
    function slasher() external view returns (address);
    function attestations() external view returns (address);
    function updateOperatorTable() external returns (uint32 version);
    function pruneOperator(address operator) external;
    function maxOperators() external view returns (uint32);
    function minOperatorWeight() external view returns (uint256);
    function eject(address operator) external;
}

/// @notice Aggregated attestations of rollup state, checked against the
///         registry's operator tables.
interface IChorusAttestations {
    event CheckpointAttested(bytes32 indexed commitmentsRoot, uint32 indexed tableVersion, uint256 signedWeight);
    event CommitmentAttested(
        uint64 indexed rollupId,
        uint64 indexed l2BlockNumber,
        bytes32 l2BlockHash,
        bytes32 stateRoot,
        bytes32 commitmentsRoot
    );
    event RollupAdded(uint64 indexed rollupId, string name);
    event RollupRemoved(uint64 indexed rollupId);

    error AlreadyAttested(bytes32 commitmentsRoot);
    error UnknownTableVersion(uint32 version);
    error StaleTableVersion(uint32 version, uint32 expiredAtBlock);
    error TableMismatch(uint32 version);
    error OnlyRegistry();
    error TableVersionNotNext(uint32 version);
    error NonSignersNotSorted();
    error NonSignerNotInTable(uint256 index);
    error QuorumNotReached(uint256 signedWeight, uint256 totalWeight);
    error InvalidSignature();
    error NoCommitments();
    error CommitmentsNotSorted();
    error RollupNotAttested(uint64 rollupId);
    error RollupAlreadyListed(uint64 rollupId);
    error InvalidQuorum(uint16 quorumBps);

    function registry() external view returns (address);
    function quorumBps() external view returns (uint16);
    function tableGracePeriod() external view returns (uint32);
    /// @notice Records a new table version; the previous one stays acceptable
    ///         for `tableGracePeriod` blocks. Only the registry calls it.
    function recordTable(uint32 version, bytes28 digest, address leaves) external;
    /// @return digest First 28 bytes of keccak256(abi.encode(apk, totalWeight)); zero if unknown.
    /// @return expiresAtBlock Last block a superseded version is accepted in; zero while it is the latest.
    /// @return leaves Contract whose code holds the version's operator leaves (SSTORE2).
    function tableRecord(uint32 version) external view returns (bytes28 digest, uint32 expiresAtBlock, address leaves);
    /// @notice The 32-byte message operators sign for this checkpoint here.
    function checkpointMessage(uint32 tableVersion, bytes32 commitmentsRoot) external view returns (bytes32);
    /// @notice Root-only mode: attests the root; rollups prove leaves against it.
    function submitCheckpoint(
        TableRef calldata table,
        bytes32 commitmentsRoot,
        NonSigner[] calldata nonSigners,
        bytes calldata signature
    ) external;
    /// @notice Recording mode: the root is computed from every commitment, and
    ///         each rollup's latest commitment is stored.
    function submitCheckpointWithCommitments(
        TableRef calldata table,
        Commitment[] calldata commitments,
        NonSigner[] calldata nonSigners,
        bytes calldata signature
    ) external;
    /// @return attestedAtBlock L1 block of the attestation; zero if never attested.
    function attestedAt(bytes32 commitmentsRoot) external view returns (uint64 attestedAtBlock);
    function latestCommitment(uint64 rollupId)
        external
        view
        returns (Commitment memory commitment, bytes32 commitmentsRoot, uint64 attestedAtBlock);
    /// @notice True if `commitment` is a leaf of the attested checkpoint `commitmentsRoot`.
    function verifyCommitment(Commitment calldata commitment, bytes32 commitmentsRoot, bytes32[] calldata proof)
        external
        view
        returns (bool);
    function isRollupListed(uint64 rollupId) external view returns (bool);
    function listedRollups() external view returns (uint64[] memory);
    function addRollup(uint64 rollupId, string calldata name) external;
    function removeRollup(uint64 rollupId) external;
}

/// @notice Verifies equivocation proofs and slashes through EigenLayer.
interface IChorusSlasher {
    event EquivocationProven(
        address indexed operator, uint64 indexed rollupId, uint64 indexed l2BlockNumber, bytes32 rootA, bytes32 rootB
    );

    error KeyNotOfOperator(bytes32 pubkeyHash, address operator);
    error NotSameRollupHeight();
    error CommitmentsDoNotConflict();
    error NotInCheckpoint();
    error InvalidSignature();
    error AlreadySlashed(address operator);
    error InvalidWadToSlash(uint256 wad);

    function proveEquivocation(
        address operator,
        bytes calldata pubkey,
        SignedCommitment calldata a,
        SignedCommitment calldata b
    ) external;
}
