//! The interchange format: a store's whole history as JSON, in the spirit of
//! [EIP-3076](https://eips.ethereum.org/EIPS/eip-3076), so that an operator
//! can move to another machine (export there, import here) without ever
//! forgetting what its key signed.
//!
//! ```json
//! {
//!   "metadata": {
//!     "interchangeFormatVersion": "1",
//!     "l1ChainId": "1",
//!     "attestationContract": "0x…",
//!     "pubkey": "0x…"
//!   },
//!   "signedCommitments": [
//!     {
//!       "rollupId": "10",
//!       "l2BlockNumber": "123",
//!       "l2BlockHash": "0x…",
//!       "stateRoot": "0x…",
//!       "commitmentsRoot": "0x…",
//!       "tableVersion": "4"
//!     }
//!   ]
//! }
//! ```
//!
//! One record per (commitment, checkpoint) pair: a commitment that several
//! checkpoints covered appears once per checkpoint, so that the checkpoints
//! can be rebuilt. As in EIP-3076, numbers are decimal strings (JSON numbers
//! lose precision above 2^53 in many readers), hashes and keys `0x`-hex.
//! Every struct refuses unknown fields: a file from a newer or different
//! format fails loudly instead of being half-read.

use std::{fmt::Display, str::FromStr};

use alloy::primitives::{Address, B256};
use chorus_keys::bls::PublicKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Domain;

/// The only `interchangeFormatVersion` this build writes and reads.
pub const INTERCHANGE_FORMAT_VERSION: &str = "1";

/// A store's history: whose it is and every commitment it signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Interchange {
    /// Whose history this is.
    pub metadata: InterchangeMetadata,
    /// Every signed commitment, once per checkpoint that covered it.
    pub signed_commitments: Vec<InterchangeCommitment>,
}

/// The owner of an interchange file: a deployment and a BLS key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterchangeMetadata {
    /// The format version; [`INTERCHANGE_FORMAT_VERSION`] is the only one.
    pub interchange_format_version: String,
    /// The L1 chain id of the deployment.
    #[serde(with = "decimal")]
    pub l1_chain_id: u64,
    /// The attestation contract of the deployment.
    pub attestation_contract: Address,
    /// The BLS key (96-byte compressed G2), checked to be a valid key when
    /// read.
    pub pubkey: PublicKey,
}

impl InterchangeMetadata {
    /// The deployment the file belongs to.
    pub fn domain(&self) -> Domain {
        Domain { l1_chain_id: self.l1_chain_id, attestation_contract: self.attestation_contract }
    }
}

/// One commitment of one signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterchangeCommitment {
    /// The rollup's EIP-155 chain id.
    #[serde(with = "decimal")]
    pub rollup_id: u64,
    /// The L2 height.
    #[serde(with = "decimal")]
    pub l2_block_number: u64,
    /// The L2 block hash signed at that height.
    pub l2_block_hash: B256,
    /// The L2 state root signed at that height.
    pub state_root: B256,
    /// The root of the checkpoint that covered it.
    pub commitments_root: B256,
    /// The operator-table version that checkpoint named.
    #[serde(with = "decimal")]
    pub table_version: u32,
}

impl Interchange {
    /// Reads an interchange file's text. Unknown fields, numbers that are
    /// not decimal strings and invalid keys are refused.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The file's text, pretty-printed.
    pub fn to_json_pretty(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// Numbers as decimal strings, as in EIP-3076: only ASCII digits are read
/// (no sign, no spaces, no JSON number).
mod decimal {
    use super::*;

    pub(super) fn serialize<T: Display, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(super) fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "expected a decimal string of digits, got {text:?}"
            )));
        }
        text.parse().map_err(serde::de::Error::custom)
    }
}
