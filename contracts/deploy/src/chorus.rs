//! The Chorus contracts on an EigenLayer core: the registry (the AVS identity
//! and its registrar), the attestation contract (with the rollup list) and
//! the slasher, then the AVS setup that ties them to EigenLayer: metadata,
//! the operator set over the restaking strategy, the registrar, and the
//! slasher's appointment for `slashOperator`.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use chorus_contracts::deployable::{ChorusAttestations, ChorusRegistry, ChorusSlasher};
use serde::{Deserialize, Serialize};

use crate::{
    DeployError,
    eigenlayer::EigenLayerDeployment,
    tx::{TxRecord, deploy, send},
};

/// Basis points of the default quorum: two thirds of the stake (DESIGN.md).
pub const DEFAULT_QUORUM_BPS: u16 = 6_667;
/// Blocks a superseded operator table stays acceptable by default: about two
/// minutes of 12-second blocks, enough for checkpoints in flight.
pub const DEFAULT_TABLE_GRACE_PERIOD: u32 = 10;
/// Operators a table may hold by default. `updateOperatorTable` costs gas per
/// operator; this keeps it well under the 16,777,216 transaction gas cap
/// (BENCHMARKS.md has the measured cost).
pub const DEFAULT_MAX_OPERATORS: u32 = 200;
/// Least weight an operator needs to register by default: one whole token of
/// the restaking strategy at 1x (18 decimals). It makes holding places with
/// dust stake cost real stake.
pub const DEFAULT_MIN_OPERATOR_WEIGHT: u128 = 1_000_000_000_000_000_000;
/// Fraction of an operator's allocation slashed per equivocation by default
/// (1e18 = all): 10%.
pub const DEFAULT_WAD_TO_SLASH: u128 = 100_000_000_000_000_000;
/// Weight multiplier of the restaking strategy: 1x, with 18 decimals.
const UNIT_MULTIPLIER: u128 = 1_000_000_000_000_000_000;

/// A rollup to attest: its EIP-155 chain id and a name for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Display name.
    pub name: String,
}

/// Parameters of a Chorus deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChorusConfig {
    /// The AVS metadata URI registered with EigenLayer.
    pub metadata_uri: String,
    /// Quorum in basis points of the table's total weight.
    pub quorum_bps: u16,
    /// Blocks a superseded table version stays acceptable.
    pub table_grace_period: u32,
    /// Fraction slashed per equivocation, 1e18 = all.
    pub wad_to_slash: U256,
    /// Most operators the registry admits.
    pub max_operators: u32,
    /// Least weight an operator needs to register (and keep from pruning).
    pub min_operator_weight: U256,
    /// Rollups attested from the start.
    pub rollups: Vec<Rollup>,
}

impl Default for ChorusConfig {
    fn default() -> Self {
        Self {
            metadata_uri: "https://chorus.invalid/avs.json".to_owned(),
            quorum_bps: DEFAULT_QUORUM_BPS,
            table_grace_period: DEFAULT_TABLE_GRACE_PERIOD,
            wad_to_slash: U256::from(DEFAULT_WAD_TO_SLASH),
            max_operators: DEFAULT_MAX_OPERATORS,
            min_operator_weight: U256::from(DEFAULT_MIN_OPERATOR_WEIGHT),
            rollups: Vec::new(),
        }
    }
}

/// Addresses and parameters of deployed Chorus contracts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChorusDeployment {
    /// `ChorusRegistry`: the AVS and its registrar; operator tables.
    pub registry: Address,
    /// `ChorusAttestations`: checkpoints, the rollup list, views for rollups.
    pub attestations: Address,
    /// `ChorusSlasher`: equivocation proofs.
    pub slasher: Address,
    /// Quorum in basis points.
    pub quorum_bps: u16,
}

/// Deploys the Chorus contracts from `deployer` (their owner) on top of
/// `eigenlayer`, sets up the AVS and lists `config.rollups`.
pub async fn deploy_chorus<P: Provider>(
    provider: &P,
    deployer: Address,
    eigenlayer: &EigenLayerDeployment,
    config: &ChorusConfig,
) -> Result<(ChorusDeployment, Vec<TxRecord>), DeployError> {
    let mut records = Vec::new();
    let (registry, record) = deploy(
        "deploy ChorusRegistry",
        deployer,
        ChorusRegistry::deploy_builder(
            provider,
            deployer,
            eigenlayer.allocation_manager,
            eigenlayer.permission_controller,
            config.max_operators,
            config.min_operator_weight,
        ),
    )
    .await?;
    records.push(record);
    let (attestations, record) = deploy(
        "deploy ChorusAttestations",
        deployer,
        ChorusAttestations::deploy_builder(
            provider,
            deployer,
            registry,
            config.quorum_bps,
            config.table_grace_period,
        ),
    )
    .await?;
    records.push(record);
    let (slasher, record) = deploy(
        "deploy ChorusSlasher",
        deployer,
        ChorusSlasher::deploy_builder(
            provider,
            eigenlayer.allocation_manager,
            registry,
            attestations,
            config.wad_to_slash,
        ),
    )
    .await?;
    records.push(record);

    let registry_contract = ChorusRegistry::new(registry, provider);
    records.push(
        send(
            "set up the Chorus AVS (metadata, operator set, registrar, slasher)",
            deployer,
            registry_contract.setupAvs(
                config.metadata_uri.clone(),
                vec![eigenlayer.strategy],
                vec![U256::from(UNIT_MULTIPLIER)],
                slasher,
                attestations,
            ),
        )
        .await?,
    );
    let attestations_contract = ChorusAttestations::new(attestations, provider);
    for rollup in &config.rollups {
        records.push(
            send(
                "list a rollup",
                deployer,
                attestations_contract.addRollup(rollup.chain_id, rollup.name.clone()),
            )
            .await?,
        );
    }
    let deployment =
        ChorusDeployment { registry, attestations, slasher, quorum_bps: config.quorum_bps };
    Ok((deployment, records))
}

/// Everything deployed on one chain: the file `chorus deploy` writes and
/// every other command reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain's EIP-155 id.
    pub chain_id: u64,
    /// EigenLayer core, the restaking token and strategy.
    #[serde(flatten)]
    pub eigenlayer: EigenLayerDeployment,
    /// The Chorus contracts.
    #[serde(flatten)]
    pub chorus: ChorusDeployment,
}

/// The L1 section of operator and aggregator configuration files (`[l1]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Config {
    /// The L1 node's RPC URL.
    pub rpc_url: String,
    /// The deployment file `chorus deploy` wrote (`deployment.json`).
    pub deployment: std::path::PathBuf,
}
