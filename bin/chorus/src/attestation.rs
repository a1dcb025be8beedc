//! `chorus attestation`: what L1 holds, read as a rollup or bridge developer
//! would: the latest attested commitment of a rollup (`show`), and whether a
//! given commitment is attested (`verify`). Read-only: no key needed.
//!
//! `show --json` prints the commitment with its checkpoint root and Merkle
//! proof; that same JSON is what `verify --commitment-json` reads, so a
//! script can pass one to the other, or to a contract's
//! `verifyCommitment(commitment, root, proof)`.
//!
//! `verify` exits 0 when the commitment is attested, [`NOT_ATTESTED_EXIT`]
//! when it is not, and 1 when it could not check (an RPC or input error).

use std::{fmt, path::PathBuf};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};
use chorus_contracts::{
    Commitment,
    IChorusAttestations::{self, CommitmentAttested, submitCheckpointWithCommitmentsCall},
    checkpoint::CheckpointTree,
};
use chorus_deploy::rpc_url::RpcUrl;
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use serde::{Deserialize, Serialize};

use crate::{
    chain::{DEPLOYMENT_FLAG, RPC_URL_FLAG, block_on, connect_read_only, read_deployment},
    keys::JSON_FLAG,
};

/// Flag naming the rollup (its chain id).
pub const ROLLUP_FLAG: &str = "rollup";
/// Flag naming the L2 block number.
pub const BLOCK_FLAG: &str = "block";
/// Flag naming the L2 block hash.
pub const BLOCK_HASH_FLAG: &str = "block-hash";
/// Flag naming the L2 state root.
pub const STATE_ROOT_FLAG: &str = "state-root";
/// Flag naming the checkpoint (commitments) root.
pub const ROOT_FLAG: &str = "root";
/// Flag naming the Merkle proof.
pub const PROOF_FLAG: &str = "proof";
/// Flag naming a JSON file holding the commitment (as `show --json` prints).
pub const COMMITMENT_JSON_FLAG: &str = "commitment-json";
/// Exit status of `verify` when the commitment is not attested.
pub const NOT_ATTESTED_EXIT: u8 = 2;

/// The `attestation` subcommands.
#[derive(Debug, Subcommand)]
pub enum AttestationCommand {
    /// The latest attested commitment of a rollup, as L1 records it.
    Show(ShowArgs),
    /// Check that a commitment is attested on L1. Exits 0 if it is, 2 if it
    /// is not, 1 if it could not be checked.
    Verify(VerifyArgs),
}

impl AttestationCommand {
    /// Runs the subcommand.
    pub fn run(self) -> eyre::Result<()> {
        match self {
            Self::Show(args) => block_on(args.run()),
            Self::Verify(args) => block_on(args.run()),
        }
    }
}

/// Which L1 and which deployment on it.
#[derive(Debug, Args)]
pub struct L1Args {
    /// JSON-RPC endpoint of the L1 (e.g. http://127.0.0.1:8545).
    #[arg(long = RPC_URL_FLAG, visible_alias = "rpc", value_name = "URL", env = "CHORUS_RPC_URL")]
    pub rpc_url: String,
    /// The deployment JSON written by `chorus deploy`.
    #[arg(long = DEPLOYMENT_FLAG, value_name = "FILE")]
    pub deployment: PathBuf,
}

/// The attestation contract of a deployment, on a chain that answers.
struct Attestations {
    provider: DynProvider,
    address: Address,
    /// For redacting errors: transport errors quote the whole URL.
    url: RpcUrl,
}

impl L1Args {
    async fn connect(&self) -> eyre::Result<Attestations> {
        let chain = connect_read_only(&self.rpc_url, &format!("--{RPC_URL_FLAG}")).await?;
        let deployment = read_deployment(&self.deployment, chain.chain_id)?;
        Ok(Attestations {
            provider: chain.provider,
            address: deployment.chorus.attestations,
            url: chain.url,
        })
    }
}

impl Attestations {
    fn contract(&self) -> IChorusAttestations::IChorusAttestationsInstance<&DynProvider> {
        IChorusAttestations::new(self.address, &self.provider)
    }

    /// Says what a failed view call most likely means, without the URL.
    fn read_error(&self, error: impl fmt::Display) -> eyre::Report {
        eyre!(
            "cannot read the attestation contract at {}: is --{DEPLOYMENT_FLAG} the deployment of \
             this chain? ({})",
            self.address,
            self.url.redact(&format!("{error:#}"))
        )
    }

    /// An RPC failure, without the URL.
    fn rpc_error(&self, what: &str, error: impl fmt::Display) -> eyre::Report {
        eyre!("{what}: {}", self.url.redact(&format!("{error:#}")))
    }

    /// The latest attested commitment of `rollup_id`, or why there is none.
    async fn latest(&self, rollup_id: u64) -> eyre::Result<AttestedCommitment> {
        let contract = self.contract();
        let latest = contract
            .latestCommitment(rollup_id)
            .call()
            .await
            .map_err(|error| self.read_error(error))?;
        let listed = contract
            .isRollupListed(rollup_id)
            .call()
            .await
            .map_err(|error| self.read_error(error))?;
        if latest.attestedAtBlock != 0 {
            let mut attested = AttestedCommitment::new(
                &latest.commitment,
                Some(latest.commitmentsRoot),
                Some(latest.attestedAtBlock),
            );
            attested.listed = Some(listed);
            return Ok(attested);
        }
        if listed {
            bail!(
                "rollup {rollup_id} is listed in the attestation contract {} but has no attested \
                 commitment yet: the first checkpoint that includes it records one (is an \
                 aggregator running for it?)",
                self.address
            );
        }
        let all = contract.listedRollups().call().await.map_err(|error| self.read_error(error))?;
        let all = if all.is_empty() {
            "none".to_owned()
        } else {
            all.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        };
        bail!(
            "rollup {rollup_id} is not listed in the attestation contract {} (listed: {all}); \
             check the chain id, or ask the contract's owner to add it",
            self.address
        )
    }

    /// The Merkle proof of `attested` in its checkpoint, rebuilt from the
    /// submission that recorded it: the `CommitmentAttested` event in the
    /// attestation block names the transaction, whose calldata holds every
    /// commitment of the checkpoint.
    async fn proof(&self, attested: &AttestedCommitment) -> eyre::Result<Vec<B256>> {
        let (Some(root), Some(block)) = (attested.commitments_root, attested.attested_at_block)
        else {
            bail!("the commitment has no checkpoint");
        };
        let filter = Filter::new()
            .address(self.address)
            .event_signature(CommitmentAttested::SIGNATURE_HASH)
            .topic1(B256::from(U256::from(attested.rollup_id)))
            .topic2(B256::from(U256::from(attested.l2_block_number)))
            .from_block(block)
            .to_block(block);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|error| self.rpc_error("cannot read the events", error))?;
        let transaction = logs
            .iter()
            .filter(|log| {
                log.log_decode::<CommitmentAttested>()
                    .is_ok_and(|event| event.inner.data.commitmentsRoot == root)
            })
            .find_map(|log| log.transaction_hash)
            .ok_or_else(|| eyre!("no CommitmentAttested event in L1 block {block}"))?;
        let submission = self
            .provider
            .get_transaction_by_hash(transaction)
            .await
            .map_err(|error| self.rpc_error("cannot read the submission", error))?
            .ok_or_else(|| eyre!("the node does not serve transaction {transaction}"))?;
        let call = submitCheckpointWithCommitmentsCall::abi_decode(submission.input())
            .wrap_err_with(|| {
                format!("transaction {transaction} is not a direct submitCheckpointWithCommitments")
            })?;
        let tree = CheckpointTree::new(call.commitments).map_err(|error| eyre!("{error}"))?;
        if tree.root() != root {
            bail!("transaction {transaction} holds another checkpoint");
        }
        let (leaf, proof) = tree
            .proof_for(attested.rollup_id)
            .ok_or_else(|| eyre!("the checkpoint has no leaf for the rollup"))?;
        if *leaf != attested.commitment() {
            bail!("the checkpoint holds another commitment for the rollup");
        }
        Ok(proof)
    }
}

/// A commitment with where it is attested: what `show --json` prints and
/// `verify --commitment-json` reads (camelCase, hashes as 0x-hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestedCommitment {
    /// The rollup's chain id.
    pub rollup_id: u64,
    /// The L2 block number.
    pub l2_block_number: u64,
    /// The L2 block hash.
    pub l2_block_hash: B256,
    /// The L2 state root.
    pub state_root: B256,
    /// The root of the checkpoint that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitments_root: Option<B256>,
    /// The L1 block that attested that checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attested_at_block: Option<u64>,
    /// Its Merkle proof in the checkpoint (empty when it is the only leaf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Vec<B256>>,
    /// Whether the rollup is (still) listed; informational, ignored on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<bool>,
}

impl AttestedCommitment {
    fn new(commitment: &Commitment, root: Option<B256>, attested_at: Option<u64>) -> Self {
        Self {
            rollup_id: commitment.rollupId,
            l2_block_number: commitment.l2BlockNumber,
            l2_block_hash: commitment.l2BlockHash,
            state_root: commitment.stateRoot,
            commitments_root: root,
            attested_at_block: attested_at,
            proof: None,
            listed: None,
        }
    }

    /// The Solidity struct.
    pub fn commitment(&self) -> Commitment {
        Commitment {
            rollupId: self.rollup_id,
            l2BlockNumber: self.l2_block_number,
            l2BlockHash: self.l2_block_hash,
            stateRoot: self.state_root,
        }
    }

    fn print(&self) {
        let line = |label: &str, value: &dyn fmt::Display| println!("{label:<20} {value}");
        line("rollup", &self.rollup_id);
        line("L2 block", &self.l2_block_number);
        line("L2 block hash", &self.l2_block_hash);
        line("state root", &self.state_root);
        if let Some(root) = &self.commitments_root {
            line("checkpoint root", root);
        }
        if let Some(block) = &self.attested_at_block {
            line("attested at", &format!("L1 block {block}"));
        }
        match &self.proof {
            Some(proof) if proof.is_empty() => line("proof", &"none needed (only leaf)"),
            Some(proof) => {
                let hashes: Vec<String> = proof.iter().map(B256::to_string).collect();
                line("proof", &hashes.join(","));
            }
            None => {}
        }
        if self.listed == Some(false) {
            line("note", &"the rollup is no longer listed; this is its last attestation");
        }
    }
}

/// Arguments of `chorus attestation show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The rollup's chain id.
    #[arg(long = ROLLUP_FLAG, value_name = "ID")]
    pub rollup: u64,
    /// The L1 and the deployment.
    #[command(flatten)]
    pub l1: L1Args,
    /// Print one JSON object (the input of `verify --commitment-json`).
    #[arg(long = JSON_FLAG)]
    pub json: bool,
}

impl ShowArgs {
    async fn run(self) -> eyre::Result<()> {
        let attestations = self.l1.connect().await?;
        let mut attested = attestations.latest(self.rollup).await?;
        match attestations.proof(&attested).await {
            Ok(proof) => attested.proof = Some(proof),
            // The commitment itself is what was asked; the proof is a help.
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "cannot rebuild the commitment's Merkle proof; `attestation verify` still \
                 confirms it as the latest without one"
            ),
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&attested)?);
        } else {
            attested.print();
        }
        Ok(())
    }
}

/// Arguments of `chorus attestation verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The rollup's chain id.
    #[arg(long = ROLLUP_FLAG, value_name = "ID", required_unless_present = "commitment_json")]
    pub rollup: Option<u64>,
    /// The L2 block number.
    #[arg(long = BLOCK_FLAG, value_name = "N", required_unless_present = "commitment_json")]
    pub block: Option<u64>,
    /// The L2 block hash (0x-hex).
    #[arg(long = BLOCK_HASH_FLAG, value_name = "HASH", required_unless_present = "commitment_json")]
    pub block_hash: Option<B256>,
    /// The L2 state root (0x-hex).
    #[arg(long = STATE_ROOT_FLAG, value_name = "ROOT", required_unless_present = "commitment_json")]
    pub state_root: Option<B256>,
    /// The root of the checkpoint holding the commitment. Without it, the
    /// commitment is checked against the rollup's latest attested one.
    #[arg(long = ROOT_FLAG, value_name = "ROOT", requires = "rollup")]
    pub root: Option<B256>,
    /// The commitment's Merkle proof in that checkpoint, comma-separated
    /// (none when it is the checkpoint's only leaf).
    #[arg(long = PROOF_FLAG, value_name = "HASH,...", value_delimiter = ',', requires = "root")]
    pub proof: Vec<B256>,
    /// Read the commitment (and root and proof) from a JSON file as
    /// `chorus attestation show --json` prints it; `-` reads stdin.
    #[arg(
        long = COMMITMENT_JSON_FLAG,
        value_name = "FILE",
        conflicts_with_all = ["rollup", "block", "block_hash", "state_root", "root", "proof"]
    )]
    pub commitment_json: Option<PathBuf>,
    /// The L1 and the deployment.
    #[command(flatten)]
    pub l1: L1Args,
    /// Print the verdict as one JSON object.
    #[arg(long = JSON_FLAG)]
    pub json: bool,
}

/// What `verify --json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Verdict<'a> {
    attested: bool,
    commitment: &'a AttestedCommitment,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl VerifyArgs {
    /// The commitment to check, from the flags or the JSON file.
    fn claim(&self) -> eyre::Result<AttestedCommitment> {
        if let Some(path) = &self.commitment_json {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).wrap_err("cannot read stdin")?
            } else {
                std::fs::read_to_string(path)
                    .wrap_err_with(|| format!("cannot read {}", path.display()))?
            };
            let mut claim: AttestedCommitment =
                serde_json::from_str(&text).wrap_err_with(|| {
                    format!(
                        "{} is not a commitment as `chorus attestation show --json` prints it",
                        path.display()
                    )
                })?;
            claim.attested_at_block = None;
            return Ok(claim);
        }
        let missing = || eyre!("give the commitment's flags or --{COMMITMENT_JSON_FLAG}");
        let root = self.root;
        Ok(AttestedCommitment {
            rollup_id: self.rollup.ok_or_else(missing)?,
            l2_block_number: self.block.ok_or_else(missing)?,
            l2_block_hash: self.block_hash.ok_or_else(missing)?,
            state_root: self.state_root.ok_or_else(missing)?,
            commitments_root: root,
            attested_at_block: None,
            proof: root.map(|_| self.proof.clone()),
            listed: None,
        })
    }

    async fn run(self) -> eyre::Result<()> {
        let claim = self.claim()?;
        let attestations = self.l1.connect().await?;
        match check(&attestations, &claim).await? {
            Ok(attested) => {
                if self.json {
                    let verdict = Verdict { attested: true, commitment: &attested, reason: None };
                    println!("{}", serde_json::to_string_pretty(&verdict)?);
                } else {
                    println!(
                        "attested: rollup {} L2 block {} (block hash {}, state root {}) is in \
                         checkpoint {}, attested at L1 block {}",
                        attested.rollup_id,
                        attested.l2_block_number,
                        attested.l2_block_hash,
                        attested.state_root,
                        attested.commitments_root.unwrap_or_default(),
                        attested.attested_at_block.unwrap_or_default()
                    );
                }
                Ok(())
            }
            Err(reason) => {
                if self.json {
                    let verdict =
                        Verdict { attested: false, commitment: &claim, reason: Some(&reason) };
                    println!("{}", serde_json::to_string_pretty(&verdict)?);
                }
                Err(crate::CheckedNo {
                    exit: NOT_ATTESTED_EXIT,
                    message: format!("not attested: {reason}"),
                }
                .into())
            }
        }
    }
}

/// Checks `claim` on chain: `Ok(Ok(attested))` with where it is attested,
/// `Ok(Err(reason))` when it is not, `Err` when it could not be checked.
async fn check(
    attestations: &Attestations,
    claim: &AttestedCommitment,
) -> eyre::Result<Result<AttestedCommitment, String>> {
    let contract = attestations.contract();
    let commitment = claim.commitment();
    let Some(root) = claim.commitments_root else {
        return check_against_latest(attestations, claim).await;
    };
    let proof = claim.proof.clone().unwrap_or_default();
    let included = contract
        .verifyCommitment(commitment, root, proof.clone())
        .call()
        .await
        .map_err(|error| attestations.read_error(error))?;
    let attested_at =
        contract.attestedAt(root).call().await.map_err(|error| attestations.read_error(error))?;
    if included {
        let mut attested =
            AttestedCommitment::new(&claim.commitment(), Some(root), Some(attested_at));
        attested.proof = Some(proof);
        return Ok(Ok(attested));
    }
    if attested_at == 0 {
        return Ok(Err(format!(
            "no checkpoint with root {root} is attested by {}",
            attestations.address
        )));
    }
    Ok(Err(format!(
        "checkpoint {root} is attested (L1 block {attested_at}), but the commitment is not one of \
         its leaves with this proof: the block hash, state root or proof differ"
    )))
}

/// Without a root: attested if it is the rollup's latest attested commitment.
async fn check_against_latest(
    attestations: &Attestations,
    claim: &AttestedCommitment,
) -> eyre::Result<Result<AttestedCommitment, String>> {
    let latest = attestations.latest(claim.rollup_id).await?;
    if latest.commitment() == claim.commitment() {
        return Ok(Ok(latest));
    }
    if latest.l2_block_number == claim.l2_block_number {
        return Ok(Err(format!(
            "L1 attests rollup {} block {} with block hash {} and state root {}, not the ones given",
            latest.rollup_id, latest.l2_block_number, latest.l2_block_hash, latest.state_root
        )));
    }
    bail!(
        "the commitment is not rollup {}'s latest attested one (that is L2 block {}); to check an \
         older commitment, pass --{ROOT_FLAG} and --{PROOF_FLAG} of its checkpoint",
        claim.rollup_id,
        latest.l2_block_number
    )
}
