//! Reading rollups: the commitments an L2 node vouches for at a chosen
//! safety depth, and the one rule by which a proposed commitment is judged.
//!
//! Both sides of Chorus read rollups the same way: the aggregator proposes
//! from its [`RollupReader`], and every operator checks each proposed
//! commitment with [`RollupReader::judge`] against its own node before it
//! signs. A commitment is `(rollupId, l2BlockNumber, l2BlockHash,
//! stateRoot)` of one L2 block.

use std::{fmt, str::FromStr, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    providers::{DynProvider, Provider},
    rpc::types::Block,
    transports::{
        RpcError, TransportError, TransportErrorKind,
        http::reqwest::{self, Url},
    },
};
use chorus_contracts::Commitment;
use chorus_telemetry::RpcMetrics;
use serde::{Deserialize, Serialize};

/// How deep a block must be before it is committed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Safety {
    /// The node's `finalized` block.
    #[default]
    Finalized,
    /// The node's `safe` block.
    Safe,
    /// `latest` minus this many blocks (0: the latest block itself).
    Confirmations(u64),
}

impl Safety {
    fn tag(self) -> BlockNumberOrTag {
        match self {
            Self::Finalized => BlockNumberOrTag::Finalized,
            Self::Safe => BlockNumberOrTag::Safe,
            Self::Confirmations(_) => BlockNumberOrTag::Latest,
        }
    }
}

impl fmt::Display for Safety {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Finalized => f.write_str("finalized"),
            Self::Safe => f.write_str("safe"),
            Self::Confirmations(n) => write!(f, "{n}"),
        }
    }
}

/// A safety setting that is neither `finalized`, `safe` nor a block count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("safety {0:?} is not understood: use \"finalized\", \"safe\" or a number of confirmations")]
pub struct ParseSafetyError(String);

impl FromStr for Safety {
    type Err = ParseSafetyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "finalized" => Ok(Self::Finalized),
            "safe" => Ok(Self::Safe),
            other => other
                .parse()
                .map(Self::Confirmations)
                .map_err(|_| ParseSafetyError(text.to_owned())),
        }
    }
}

impl Serialize for Safety {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Confirmations(n) => serializer.serialize_u64(*n),
            other => serializer.collect_str(other),
        }
    }
}

impl<'de> Deserialize<'de> for Safety {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Count(n) => Ok(Self::Confirmations(n)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Why a rollup could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    /// The URL is not a URL. Not quoted: RPC URLs often hold an API key.
    #[error(
        "the L2 RPC URL of rollup {rollup_id} is not valid ({reason}; the URL is not shown: it may hold an API key)"
    )]
    BadUrl {
        /// The rollup.
        rollup_id: u64,
        /// The parser's complaint (it never quotes the URL).
        reason: String,
    },
    /// The node did not answer.
    #[error("L2 node of rollup {rollup_id} did not answer: {source}")]
    Rpc {
        /// The rollup.
        rollup_id: u64,
        /// The transport error, without the URL an HTTP error quotes (it
        /// may hold an API key).
        #[source]
        source: alloy::transports::TransportError,
    },
    /// The node serves another chain.
    #[error(
        "the L2 node configured for rollup {rollup_id} serves chain {actual}: point it at rollup {rollup_id}'s node"
    )]
    WrongChain {
        /// The rollup configured.
        rollup_id: u64,
        /// The chain id the node reports.
        actual: u64,
    },
    /// The node has no block at the safety depth yet.
    #[error("L2 node of rollup {rollup_id} has no {safety} block yet")]
    NoSafeBlock {
        /// The rollup.
        rollup_id: u64,
        /// The depth asked for.
        safety: Safety,
    },
}

/// What a node says of a proposed commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The node has this very block at or below its safety depth.
    Matches,
    /// The node has another block hash or state root at that height.
    Differs(Commitment),
    /// The block is beyond the node's safety depth.
    NotYetSafe {
        /// The node's safe head.
        safe_head: u64,
    },
}

/// One rollup read through one L2 node at one safety depth.
#[derive(Debug, Clone)]
pub struct RollupReader {
    rollup_id: u64,
    safety: Safety,
    provider: DynProvider,
}

impl RollupReader {
    /// Connects to `url` and checks that it serves chain `rollup_id`. Its
    /// requests are counted nowhere: services use [`Self::connect_counted`].
    pub async fn connect(rollup_id: u64, url: &str, safety: Safety) -> Result<Self, RollupError> {
        Self::connect_counted(rollup_id, url, safety, &RpcMetrics::default()).await
    }

    /// Connects to `url`, counting every request in `rpc` (the service's
    /// `eigen_rpc_request_*` metrics), and checks that it serves chain
    /// `rollup_id`.
    pub async fn connect_counted(
        rollup_id: u64,
        url: &str,
        safety: Safety,
        rpc: &RpcMetrics,
    ) -> Result<Self, RollupError> {
        let parsed: Url = url.parse().map_err(|e: <Url as FromStr>::Err| RollupError::BadUrl {
            rollup_id,
            reason: e.to_string(),
        })?;
        let provider = chorus_telemetry::http_provider(parsed, rpc);
        let reader = Self { rollup_id, safety, provider };
        let actual = reader.provider.get_chain_id().await.map_err(|e| reader.rpc(e))?;
        if actual != rollup_id {
            return Err(RollupError::WrongChain { rollup_id, actual });
        }
        Ok(reader)
    }

    /// The rollup's chain id.
    pub fn rollup_id(&self) -> u64 {
        self.rollup_id
    }

    /// The safety depth.
    pub fn safety(&self) -> Safety {
        self.safety
    }

    /// The commitment of the newest block at the safety depth.
    pub async fn safe_head(&self) -> Result<Commitment, RollupError> {
        let block = self.block(self.safety.tag()).await?;
        let block = match (self.safety, block) {
            (Safety::Confirmations(0), Some(block)) => block,
            (Safety::Confirmations(n), Some(latest)) => {
                let number = latest.header.number.checked_sub(n).ok_or(self.no_safe_block())?;
                self.block(number.into()).await?.ok_or(self.no_safe_block())?
            }
            (_, Some(block)) => block,
            (_, None) => return Err(self.no_safe_block()),
        };
        Ok(self.commitment(&block))
    }

    /// The commitment of block `number`, if the node has it.
    pub async fn commitment_at(&self, number: u64) -> Result<Option<Commitment>, RollupError> {
        Ok(self.block(number.into()).await?.map(|block| self.commitment(&block)))
    }

    /// Judges a proposed commitment of this rollup against the node: the
    /// rule every operator applies before it signs.
    pub async fn judge(&self, proposed: &Commitment) -> Result<Judgement, RollupError> {
        let head = self.safe_head().await?;
        let safe_head = head.l2BlockNumber;
        if proposed.l2BlockNumber > safe_head {
            return Ok(Judgement::NotYetSafe { safe_head });
        }
        // Aggregators propose safe heads: the block just read is usually
        // the one to compare, and reading it again would cost an RPC.
        let ours = if proposed.l2BlockNumber == safe_head {
            Some(head)
        } else {
            self.commitment_at(proposed.l2BlockNumber).await?
        };
        match ours {
            Some(ours) if ours == *proposed => Ok(Judgement::Matches),
            Some(ours) => Ok(Judgement::Differs(ours)),
            // Pruned below the safe head would be odd; treat as not safe.
            None => Ok(Judgement::NotYetSafe { safe_head }),
        }
    }

    async fn block(&self, id: BlockNumberOrTag) -> Result<Option<Block>, RollupError> {
        self.provider.get_block_by_number(id).await.map_err(|e| self.rpc(e))
    }

    fn commitment(&self, block: &Block) -> Commitment {
        Commitment {
            rollupId: self.rollup_id,
            l2BlockNumber: block.header.number,
            l2BlockHash: block.header.hash,
            stateRoot: block.header.state_root,
        }
    }

    fn rpc(&self, source: TransportError) -> RollupError {
        RollupError::Rpc { rollup_id: self.rollup_id, source: without_url(source) }
    }

    fn no_safe_block(&self) -> RollupError {
        RollupError::NoSafeBlock { rollup_id: self.rollup_id, safety: self.safety }
    }
}

/// `error` without the URL its HTTP client quotes ("error sending request
/// for url (...)"): rollup errors reach logs and operators' answers, and the
/// URL of a hosted node holds its API key.
fn without_url(error: TransportError) -> TransportError {
    match error {
        RpcError::Transport(TransportErrorKind::Custom(custom)) => {
            match custom.downcast::<reqwest::Error>() {
                Ok(http) => TransportErrorKind::custom(http.without_url()),
                Err(other) => RpcError::Transport(TransportErrorKind::Custom(other)),
            }
        }
        other => other,
    }
}

/// One rollup as a configuration file names it (`[[rollups]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupConfig {
    /// The rollup's EIP-155 chain id (its id in Chorus).
    pub id: u64,
    /// Your own node of that rollup.
    pub rpc_url: String,
    /// How deep a block must be: `"finalized"` (default), `"safe"`, or a
    /// number of confirmations.
    #[serde(default)]
    pub safety: Safety,
}

impl RollupConfig {
    /// Connects a reader as configured (its requests counted nowhere).
    pub async fn connect(&self) -> Result<RollupReader, RollupError> {
        RollupReader::connect(self.id, &self.rpc_url, self.safety).await
    }

    /// Connects a reader as configured, counting its requests in `rpc`.
    pub async fn connect_counted(&self, rpc: &RpcMetrics) -> Result<RollupReader, RollupError> {
        RollupReader::connect_counted(self.id, &self.rpc_url, self.safety, rpc).await
    }
}

/// How often readers poll their node, by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safety_parses_from_words_and_numbers() {
        assert_eq!("finalized".parse(), Ok(Safety::Finalized));
        assert_eq!("safe".parse(), Ok(Safety::Safe));
        assert_eq!("12".parse(), Ok(Safety::Confirmations(12)));
        assert!("soon".parse::<Safety>().unwrap_err().to_string().contains("finalized"));
        let from_toml: Safety = serde_json::from_str("3").unwrap();
        assert_eq!(from_toml, Safety::Confirmations(3));
        let from_text: Safety = serde_json::from_str("\"safe\"").unwrap();
        assert_eq!(from_text, Safety::Safe);
        assert_eq!(serde_json::to_string(&Safety::Confirmations(2)).unwrap(), "2");
    }

    #[tokio::test]
    async fn errors_never_quote_the_node_url() {
        // Port 9 (discard) on loopback: refused at once, no node there.
        let url = "http://127.0.0.1:9/v2/SECRETKEY";
        let error = RollupReader::connect(901, url, Safety::Finalized).await.unwrap_err();
        assert!(matches!(error, RollupError::Rpc { rollup_id: 901, .. }), "{error:?}");
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("SECRETKEY"), "{shown}");
        }
        let error =
            RollupReader::connect(901, "no-scheme/SECRETKEY", Safety::Finalized).await.unwrap_err();
        assert!(matches!(error, RollupError::BadUrl { rollup_id: 901, .. }), "{error:?}");
        assert!(!format!("{error} {error:?}").contains("SECRETKEY"), "{error:?}");
    }

    #[tokio::test]
    async fn judges_commitments_against_a_real_node() {
        let anvil = chorus_deploy::anvil::spawn_anvil_with(|a| a.chain_id(901)).unwrap();
        let url = anvil.endpoint();
        let err = RollupReader::connect(902, &url, Safety::Confirmations(0)).await.unwrap_err();
        assert!(matches!(err, RollupError::WrongChain { rollup_id: 902, actual: 901 }));
        let reader = RollupReader::connect(901, &url, Safety::Confirmations(0)).await.unwrap();
        let head = reader.safe_head().await.unwrap();
        assert_eq!(reader.judge(&head).await.unwrap(), Judgement::Matches);
        let lie = Commitment { stateRoot: alloy::primitives::B256::repeat_byte(9), ..head.clone() };
        assert_eq!(reader.judge(&lie).await.unwrap(), Judgement::Differs(head.clone()));
        let ahead = Commitment { l2BlockNumber: head.l2BlockNumber + 5, ..head.clone() };
        assert!(matches!(reader.judge(&ahead).await.unwrap(), Judgement::NotYetSafe { .. }));
        let deep = RollupReader::connect(901, &url, Safety::Confirmations(3)).await.unwrap();
        assert!(matches!(deep.safe_head().await, Err(RollupError::NoSafeBlock { .. })));
    }
}
