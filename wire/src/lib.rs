//! The HTTP API between operators and aggregators: routes, limits and the
//! JSON bodies both sides exchange.
//!
//! The transport is plain HTTP/JSON. An operator pulls proposals with a long
//! poll on [`routes::NEXT_PROPOSAL`], checks every commitment against its own
//! L2 node and answers either with a [`SignedCheckpoint`] or with a
//! [`Rejection`] naming the commitments it refuses and why. Each answer
//! carries a BLS signature, which is what authenticates it: the aggregator
//! keeps no accounts.
//!
//! Commitments travel as the Solidity struct (`chorus_contracts::Commitment`,
//! camelCase field names), so the JSON cannot drift from the on-chain
//! encoding. Byte strings are 0x-prefixed hex.
//!
//! With the `openapi` feature every body also derives `utoipa::ToSchema`,
//! and the module `openapi` describes the borrowed alloy and `sol!` types
//! (each once), so the aggregator generates its OpenAPI document (served at
//! [`routes::OPENAPI`]) from these very types. With the `client` feature,
//! `client::read_bounded` reads an answer up to a limit, for every client.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol_types::SolValue;
use chorus_contracts::Commitment;
use serde::{Deserialize, Serialize};

#[cfg(feature = "client")]
pub mod client;

/// The aggregator's routes.
pub mod routes {
    /// `GET`: the newest open proposal after `?after=ID`, waiting up to
    /// `?wait=SECONDS` ([`super::MAX_LONG_POLL_SECS`] at most) for one;
    /// `204 No Content` when none came.
    pub const NEXT_PROPOSAL: &str = "/v1/proposals/next";
    /// `POST` a [`super::SignedCheckpoint`].
    pub const SIGNATURES: &str = "/v1/signatures";
    /// `POST` a [`super::Rejection`].
    pub const REJECTIONS: &str = "/v1/rejections";
    /// `GET`: recent checkpoints ([`super::CheckpointStatus`]), newest first.
    pub const CHECKPOINTS: &str = "/v1/checkpoints";
    /// `GET /v1/checkpoints/{id}`: one [`super::CheckpointStatus`].
    pub const CHECKPOINT: &str = "/v1/checkpoints/{id}";
    /// `GET /v1/checkpoints/{id}/signatures`: every individual signature
    /// received for it ([`super::PublicSignature`]), public so that anyone
    /// can watch for equivocation.
    pub const CHECKPOINT_SIGNATURES: &str = "/v1/checkpoints/{id}/signatures";
    /// `GET`: recent divergence reports ([`super::Divergence`]).
    pub const DIVERGENCES: &str = "/v1/divergences";
    /// `GET`: the aggregator's overview ([`super::AggregatorStatus`]).
    pub const STATUS: &str = "/v1/status";
    /// `GET`: Prometheus metrics (text exposition format).
    pub const METRICS: &str = "/metrics";
    /// `GET`: liveness (`200` when serving).
    pub const HEALTH: &str = "/health";
    /// `GET`: the OpenAPI document of these routes, generated from the code.
    pub const OPENAPI: &str = "/openapi.json";
    /// `GET`: the dashboard (HTML) for people.
    pub const DASHBOARD: &str = "/";
}

/// Largest request body the aggregator reads; larger ones get `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest long poll the aggregator holds open.
pub const MAX_LONG_POLL_SECS: u64 = 30;

/// Where signatures of a checkpoint are valid: the L1 chain and the
/// attestation contract the signed message binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// The L1 chain id.
    pub l1_chain_id: u64,
    /// The attestation contract.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub attestation_contract: Address,
}

/// A checkpoint the aggregator asks operators to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// The aggregator's id for this checkpoint (increasing).
    pub checkpoint_id: u64,
    /// Where the signature will be valid.
    pub domain: Domain,
    /// The operator-table version the checkpoint names.
    pub table_version: u32,
    /// One commitment per rollup, sorted by rollup id.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<openapi::Commitment>))]
    pub commitments: Vec<Commitment>,
    /// Their Merkle root. Operators recompute it and never sign this field
    /// as given.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Bytes32))]
    pub commitments_root: B256,
}

impl Proposal {
    /// The 32-byte message signed to accept this proposal, for its root as
    /// given: what the aggregator checks answers against
    /// (`chorus_contracts::checkpoint::checkpoint_message`). An operator
    /// signs only a root it recomputed from the commitments.
    pub fn message(&self) -> B256 {
        chorus_contracts::checkpoint::checkpoint_message(
            self.domain.l1_chain_id,
            self.domain.attestation_contract,
            self.table_version,
            self.commitments_root,
        )
    }

    /// The answer that carries `operator`'s `signature` of this proposal.
    pub fn signed_by(&self, operator: Address, signature: &[u8]) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint_id: self.checkpoint_id,
            operator,
            table_version: self.table_version,
            commitments_root: self.commitments_root,
            signature: Bytes::copy_from_slice(signature),
        }
    }
}

/// An operator's signature over a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignedCheckpoint {
    /// The proposal answered.
    pub checkpoint_id: u64,
    /// The signing operator's Ethereum address (as registered).
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub operator: Address,
    /// The table version signed.
    pub table_version: u32,
    /// The root signed.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Bytes32))]
    pub commitments_root: B256,
    /// The 48-byte compressed G1 signature over the checkpoint message.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::BlsSignature))]
    pub signature: Bytes,
}

/// Why an operator refuses one commitment of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RejectReason {
    /// The operator's node has the block with another hash or state root:
    /// a divergence.
    #[serde(rename_all = "camelCase")]
    Mismatch {
        /// The operator's own commitment for that block.
        #[cfg_attr(feature = "openapi", schema(value_type = openapi::Commitment))]
        ours: Commitment,
    },
    /// The block is beyond the operator's safety depth.
    #[serde(rename_all = "camelCase")]
    NotYetSafe {
        /// The operator's safe head for that rollup.
        safe_head: u64,
    },
    /// The operator does not watch that rollup.
    UnknownRollup,
    /// The operator's L2 node could not be read.
    #[serde(rename_all = "camelCase")]
    Unavailable {
        /// What failed.
        detail: String,
    },
}

impl RejectReason {
    /// True when the operator's node disagrees with the commitment, as
    /// opposed to not being able to judge it yet.
    pub fn is_divergence(&self) -> bool {
        matches!(self, Self::Mismatch { .. })
    }
}

/// One refused commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RejectedCommitment {
    /// The commitment as proposed.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Commitment))]
    pub commitment: Commitment,
    /// Why it is refused.
    pub reason: RejectReason,
}

/// An operator's refusal of a proposal, signed so that nobody can report a
/// divergence in its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// The proposal answered.
    pub checkpoint_id: u64,
    /// The refusing operator.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub operator: Address,
    /// The proposal's table version.
    pub table_version: u32,
    /// The proposal's root.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Bytes32))]
    pub commitments_root: B256,
    /// The commitments refused (at least one).
    pub rejected: Vec<RejectedCommitment>,
    /// BLS signature over [`Rejection::message`].
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::BlsSignature))]
    pub signature: Bytes,
}

impl Rejection {
    /// What the operator signs for a rejection: a message of its own domain
    /// tag, so it can never be taken for a checkpoint signature (whose
    /// message is an EIP-712 hash).
    pub fn message(
        domain: &Domain,
        checkpoint_id: u64,
        table_version: u32,
        commitments_root: B256,
        rejected: &[RejectedCommitment],
    ) -> B256 {
        let rollups: Vec<u64> = rejected.iter().map(|r| r.commitment.rollupId).collect();
        keccak256(
            (
                keccak256("ChorusRejection(uint64 l1ChainId,address attestationContract,uint64 checkpointId,uint32 tableVersion,bytes32 commitmentsRoot,uint64[] rollupIds)"),
                domain.l1_chain_id,
                domain.attestation_contract,
                checkpoint_id,
                table_version,
                commitments_root,
                rollups,
            )
                .abi_encode(),
        )
    }
}

/// What the aggregator answers to an accepted signature or rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// `accepted`, or `duplicate` when the same answer came before.
    pub status: ReceiptStatus,
    /// The checkpoint as it stands after this answer.
    pub checkpoint: CheckpointStatus,
}

/// Whether an answer was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ReceiptStatus {
    /// Recorded now.
    Accepted,
    /// Recorded before; nothing changed.
    Duplicate,
}

/// Where a checkpoint is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum CheckpointState {
    /// Collecting signatures.
    Open,
    /// Quorum reached; the submitter is posting it.
    Submitting,
    /// Included on L1.
    Attested,
    /// Replaced by a newer proposal before reaching quorum.
    Superseded,
}

/// A checkpoint as the aggregator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckpointStatus {
    /// The proposal.
    pub proposal: Proposal,
    /// Its state.
    pub state: CheckpointState,
    /// Weight of the valid signatures collected.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::U256))]
    pub signed_weight: U256,
    /// Weight the quorum needs.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::U256))]
    pub needed_weight: U256,
    /// Total weight of the table version.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::U256))]
    pub total_weight: U256,
    /// Operators whose signature counts.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<openapi::Address>))]
    pub signers: Vec<Address>,
    /// Operators of the table that have not signed (yet).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<openapi::Address>))]
    pub missing: Vec<Address>,
    /// Operators that refused, with their reasons.
    pub rejections: Vec<OperatorRejection>,
    /// Why it has not been posted, in plain words, while it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
    /// The L1 transaction that carries it, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<openapi::Bytes32>))]
    pub l1_transaction: Option<B256>,
    /// The L1 block that included it: once attested, and while its
    /// inclusion waits for confirmations (`submitting`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_block: Option<u64>,
}

/// One operator's refusal as recorded by the aggregator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OperatorRejection {
    /// The operator.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub operator: Address,
    /// What it refused.
    pub rejected: Vec<RejectedCommitment>,
}

/// An individual signature, as published for watchers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PublicSignature {
    /// The signer.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub operator: Address,
    /// Its G2 key, EIP-2537 encoded (256 bytes), as in the table.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::BlsPublicKey))]
    pub pubkey: Bytes,
    /// The table version signed.
    pub table_version: u32,
    /// The root signed.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Bytes32))]
    pub commitments_root: B256,
    /// The commitments under that root.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<openapi::Commitment>))]
    pub commitments: Vec<Commitment>,
    /// The 48-byte compressed signature.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::BlsSignature))]
    pub signature: Bytes,
}

/// An operator's node disagreeing with the aggregator on a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Divergence {
    /// The checkpoint where it showed.
    pub checkpoint_id: u64,
    /// The operator.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub operator: Address,
    /// The commitment proposed (the aggregator's view).
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Commitment))]
    pub proposed: Commitment,
    /// The operator's view.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Commitment))]
    pub theirs: Commitment,
}

/// One rollup in the aggregator's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RollupStatus {
    /// The rollup's chain id.
    pub rollup_id: u64,
    /// The aggregator's safe head of it, if its node answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_head: Option<u64>,
    /// The latest block attested on L1 for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attested: Option<u64>,
    /// Blocks between the safe head and the attested one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<u64>,
}

/// The aggregator's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AggregatorStatus {
    /// Its domain.
    pub domain: Domain,
    /// The operator-table version it proposes under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_version: Option<u32>,
    /// Every rollup it proposes.
    pub rollups: Vec<RollupStatus>,
    /// Checkpoints attested on L1 since it started.
    pub attested_checkpoints: u64,
    /// The submitter's address.
    #[cfg_attr(feature = "openapi", schema(value_type = openapi::Address))]
    pub submitter: Address,
}

/// The body of every `4xx`/`5xx` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// A stable machine-readable code (`unknown_operator`, `bad_signature`,
    /// `body_too_large`, ...).
    pub code: String,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

/// OpenAPI schemas for the types the bodies borrow from alloy and from the
/// `sol!` bindings, which cannot derive `ToSchema` themselves. Each is
/// described here once, as serde writes it, and the bodies point their
/// fields at it with `#[schema(value_type = ...)]`.
#[cfg(feature = "openapi")]
pub mod openapi {
    use std::borrow::Cow;

    use utoipa::{
        PartialSchema, ToSchema,
        openapi::{
            RefOr,
            schema::{ObjectBuilder, Ref, Schema, Type},
        },
    };

    /// A string schema matching `pattern`, with an example.
    fn hex_string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .pattern(Some(pattern))
            .examples([example])
            .into()
    }

    /// Declares a schema type named `$name` in the document.
    /// `refers to` lists the named schemas it points at, so that a document
    /// using it collects them too.
    macro_rules! named_schema {
        ($(#[$doc:meta])* $type:ident, $name:literal, $schema:expr $(, refers to $($ref:ident),+)?) => {
            $(#[$doc])*
            pub struct $type;

            impl PartialSchema for $type {
                fn schema() -> RefOr<Schema> {
                    $schema
                }
            }

            impl ToSchema for $type {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed($name)
                }

                fn schemas(_schemas: &mut Vec<(String, RefOr<Schema>)>) {
                    $($(
                        _schemas.push(($ref::name().into_owned(), $ref::schema()));
                        $ref::schemas(_schemas);
                    )+)?
                }
            }
        };
    }

    named_schema!(
        /// `alloy::primitives::Address`: 20 bytes as 0x-prefixed hex. Served
        /// in lower case; any case is accepted (EIP-55 checksums are not
        /// checked).
        Address,
        "Address",
        hex_string(
            "An Ethereum address: 20 bytes, 0x-prefixed hex.",
            "^0x[0-9a-fA-F]{40}$",
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
        )
    );

    named_schema!(
        /// `alloy::primitives::B256`: 32 bytes as 0x-prefixed hex (roots,
        /// block hashes, transaction hashes).
        Bytes32,
        "Bytes32",
        hex_string(
            "32 bytes, 0x-prefixed hex: a hash or a Merkle root.",
            "^0x[0-9a-fA-F]{64}$",
            "0x3a2f1bd1d1cbd3c5ab8b07c1e9a1f83b8d5a04c4c7f5d2bd3b0f5dc7e1e0d1a2",
        )
    );

    named_schema!(
        /// A BLS12-381 signature (`alloy::primitives::Bytes`): a G1 point,
        /// 48 bytes compressed, as 0x-prefixed hex.
        BlsSignature,
        "BlsSignature",
        hex_string(
            "A BLS12-381 signature: a G1 point, 48 bytes compressed (ZCash encoding), \
             0x-prefixed hex. It authenticates the body it is in.",
            "^0x[0-9a-fA-F]{96}$",
            "0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb",
        )
    );

    named_schema!(
        /// A BLS12-381 public key (`alloy::primitives::Bytes`) as the
        /// operator table holds it: a G2 point, EIP-2537 encoded.
        BlsPublicKey,
        "BlsPublicKey",
        hex_string(
            "A BLS12-381 public key: a G2 point, 256 bytes uncompressed in the EIP-2537 \
             encoding (as in the operator table), 0x-prefixed hex.",
            "^0x[0-9a-fA-F]{512}$",
            "0x00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb80000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be",
        )
    );

    named_schema!(
        /// `alloy::primitives::U256` as serde writes it: 0x-prefixed lower
        /// case hex without leading zeros (`0x0` for zero).
        U256,
        "U256",
        hex_string(
            "An unsigned 256-bit integer (a stake weight, in the token's base unit), \
             as 0x-prefixed lower-case hex without leading zeros (0x0 for zero).",
            "^0x(0|[1-9a-f][0-9a-f]{0,63})$",
            "0xde0b6b3a7640000",
        )
    );

    named_schema!(
        /// `chorus_contracts::Commitment`, the `sol!` struct: its Solidity
        /// field names, integers as JSON numbers. (The aggregator's
        /// `tests/openapi.rs` checks it against what serde writes.)
        Commitment,
        "Commitment",
        ObjectBuilder::new()
            .description(Some(
                "One rollup's state at one L2 block, as the Solidity struct \
                 `Commitment(uint64 rollupId, uint64 l2BlockNumber, bytes32 l2BlockHash, \
                 bytes32 stateRoot)` with its field names; rollupId is the rollup's \
                 EIP-155 chain id.",
            ))
            .property("rollupId", u64::schema())
            .required("rollupId")
            .property("l2BlockNumber", u64::schema())
            .required("l2BlockNumber")
            .property("l2BlockHash", Ref::from_schema_name(Bytes32::name()))
            .required("l2BlockHash")
            .property("stateRoot", Ref::from_schema_name(Bytes32::name()))
            .required("stateRoot")
            .into(),
        refers to Bytes32
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commitment(rollup: u64) -> Commitment {
        Commitment {
            rollupId: rollup,
            l2BlockNumber: 7,
            l2BlockHash: B256::repeat_byte(1),
            stateRoot: B256::repeat_byte(2),
        }
    }

    #[test]
    fn commitments_travel_with_solidity_field_names() {
        let json = serde_json::to_value(commitment(901)).unwrap();
        assert_eq!(json["rollupId"], 901);
        assert_eq!(json["l2BlockNumber"], 7);
        assert!(json["stateRoot"].as_str().unwrap().starts_with("0x0202"));
    }

    #[test]
    fn reject_reasons_are_tagged() {
        let reason = RejectReason::NotYetSafe { safe_head: 3 };
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(json, r#"{"kind":"notYetSafe","safeHead":3}"#);
        assert!(!reason.is_divergence());
        assert!(RejectReason::Mismatch { ours: commitment(1) }.is_divergence());
    }

    #[test]
    fn rejection_messages_bind_what_is_refused() {
        let domain = Domain { l1_chain_id: 1, attestation_contract: Address::repeat_byte(3) };
        let refused = |rollup| RejectedCommitment {
            commitment: commitment(rollup),
            reason: RejectReason::UnknownRollup,
        };
        let root = B256::repeat_byte(4);
        let one = Rejection::message(&domain, 1, 1, root, &[refused(901)]);
        assert_ne!(one, Rejection::message(&domain, 1, 1, root, &[refused(902)]));
        assert_ne!(one, Rejection::message(&domain, 2, 1, root, &[refused(901)]));
        let other = Domain { l1_chain_id: 2, ..domain };
        assert_ne!(one, Rejection::message(&other, 1, 1, root, &[refused(901)]));
    }
}
