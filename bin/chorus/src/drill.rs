//! `chorus drill`: rehearsals.
//!
//! - `chorus drill equivocation --yes ...`: the drill operator signs two
//!   conflicting checkpoints, a watcher lands the proof, and the report
//!   shows the slash on EigenLayer and the operator's removal from the next
//!   table. Test networks only, unless confirmed twice.
//! - `chorus drill liveness`: starts a devnet, stops some operators for a
//!   while, and reports whether the quorum held, the stall, and the recovery.

use std::{path::PathBuf, time::Duration};

use alloy::primitives::Address;
use chorus_devnet::DevnetOptions;
use chorus_drill::{
    consent::{Consent, ConsentError},
    equivocation::{DEFAULT_PROOF_TIMEOUT, EquivocationDrill, run_equivocation_drill},
    liveness::{OutagePlan, run_liveness_drill},
};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use serde::Serialize;

use crate::{
    chain::{DEPLOYMENT_FLAG, SignerArgs, read_deployment},
    keys::open_bls_keystore,
    password::PasswordArgs,
    run::in_actix_system,
};

/// Flag: the confirmation that the drill operator will be slashed.
pub const YES_FLAG: &str = "yes";
/// Flag: allow a chain that is not a known test network.
pub const ALLOW_NON_TESTNET_FLAG: &str = "allow-non-testnet";
/// Flag: the chain id, typed out to confirm a chain that is not a test network.
pub const CONFIRM_CHAIN_ID_FLAG: &str = "confirm-chain-id";
/// Flag: print the report as JSON.
pub const JSON_FLAG: &str = "json";
/// Flag: the operators to stop in a liveness drill.
pub const STOP_FLAG: &str = "stop";
/// Flag: how long they stay down.
pub const FOR_FLAG: &str = "for";

/// The log filter the drills want when `RUST_LOG` is unset: a liveness
/// drill runs a devnet's nodes in process, whose `info` lines would bury the
/// drill's own; the watcher's decisions stay visible.
pub const DEFAULT_LOG_FILTER: &str =
    "warn,chorus_drill=info,chorus_devnet=info,chorus_slashing=info";

/// The drills.
#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Slashing drill: make the drill operator sign two conflicting
    /// checkpoints, let a watcher prove it, and report the slash. The
    /// operator REALLY loses stake and is ejected.
    Equivocation(EquivocationArgs),
    /// Liveness drill on a fresh devnet: stop some operators for a while and
    /// report whether the quorum held, how long checkpoints stalled, and how
    /// the aggregator recovered.
    Liveness(LivenessArgs),
}

impl DrillCommand {
    /// Runs the drill.
    pub fn run(self) -> eyre::Result<()> {
        match self {
            Self::Equivocation(args) => in_actix_system(args.run()),
            Self::Liveness(args) => in_actix_system(args.run()),
        }
    }
}

/// Arguments of `chorus drill equivocation`.
#[derive(Debug, Args)]
pub struct EquivocationArgs {
    /// Confirm that the drill operator will be slashed on L1.
    #[arg(long = YES_FLAG)]
    pub yes: bool,
    /// Allow a chain that is not a known test network (anvil/hardhat 31337,
    /// Holesky, Sepolia, Hoodi); needs --confirm-chain-id too.
    #[arg(long = ALLOW_NON_TESTNET_FLAG)]
    pub allow_non_testnet: bool,
    /// The chain id of the chain to drill on, typed out again.
    #[arg(long = CONFIRM_CHAIN_ID_FLAG, value_name = "ID")]
    pub confirm_chain_id: Option<u64>,
    /// The L1 and the account that pays for the proof and the table update.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The deployment file (as `chorus deploy` writes it).
    #[arg(long = DEPLOYMENT_FLAG, value_name = "FILE")]
    pub deployment: PathBuf,
    /// The drill operator's BLS keystore (EIP-2335).
    #[arg(long = "bls-keystore", value_name = "FILE")]
    pub bls_keystore: PathBuf,
    /// File with the BLS keystore's password, when it is not the one of
    /// --password-file.
    #[arg(long = "bls-password-file", value_name = "FILE")]
    pub bls_password_file: Option<PathBuf>,
    /// The drill operator (default: the operator of the BLS key in the
    /// latest table); the drill refuses if the key is not this operator's.
    #[arg(long = "operator", value_name = "ADDRESS")]
    pub operator: Option<Address>,
    /// The rollup to equivocate on (default: the first listed).
    #[arg(long = "rollup", value_name = "ID")]
    pub rollup: Option<u64>,
    /// How long to wait for the proof to land, in seconds.
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = DEFAULT_PROOF_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Print the report as JSON.
    #[arg(long = JSON_FLAG)]
    pub json: bool,
}

impl EquivocationArgs {
    fn consent(&self) -> Consent {
        Consent {
            yes: self.yes,
            allow_non_testnet: self.allow_non_testnet,
            confirm_chain_id: self.confirm_chain_id,
        }
    }

    async fn run(self) -> eyre::Result<()> {
        // Refused before any key is opened or any password asked.
        if !self.yes {
            return Err(ConsentError::NotConfirmed.into());
        }
        let chain = self.signer.connect().await?;
        self.consent().approve(chain.chain_id)?;
        let deployment = read_deployment(&self.deployment, chain.chain_id)?;
        let bls_password = match &self.bls_password_file {
            Some(file) => PasswordArgs { password_file: Some(file.clone()), password_env: None },
            None => self.signer.password.clone(),
        };
        let drill_key = open_bls_keystore(&self.bls_keystore, &bls_password)?;
        let drill = EquivocationDrill {
            l1: chain.provider.clone(),
            payer: chain.account,
            deployment,
            drill_key,
            operator: self.operator,
            rollup: self.rollup,
            consent: self.consent(),
            store_dir: None,
            timeout: Duration::from_secs(self.timeout),
        };
        let report = run_equivocation_drill(drill).await.map_err(|e| chain.scrub(e))?;
        print_report(&report, self.json)
    }
}

/// Arguments of `chorus drill liveness`.
#[derive(Debug, Args)]
pub struct LivenessArgs {
    /// Operators of the devnet.
    #[arg(long = "operators", value_name = "N", default_value_t = 4)]
    pub operators: usize,
    /// Rollups of the devnet.
    #[arg(long = "rollups", value_name = "K", default_value_t = 2)]
    pub rollups: usize,
    /// The operators to stop (devnet indexes, from 0), comma-separated.
    #[arg(long = STOP_FLAG, value_name = "I,J", value_delimiter = ',', default_value = "0")]
    pub stop: Vec<usize>,
    /// How long they stay down, in seconds.
    #[arg(long = FOR_FLAG, value_name = "SECONDS", default_value_t = 20)]
    pub seconds: u64,
    /// How long to wait for a checkpoint signed by everyone, before the stop
    /// and after the restart, in seconds.
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
    /// The devnet folder (default: a temporary one, removed afterwards).
    #[arg(long = "dir", value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long = JSON_FLAG)]
    pub json: bool,
}

impl LivenessArgs {
    async fn run(self) -> eyre::Result<()> {
        let temp = match &self.dir {
            Some(_) => None,
            None => Some(tempfile::tempdir().wrap_err("cannot create a temporary devnet folder")?),
        };
        let dir = match (&self.dir, &temp) {
            (Some(dir), _) => dir.clone(),
            (None, Some(temp)) => temp.path().join("devnet"),
            (None, None) => eyre::bail!("no devnet folder"),
        };
        let options = DevnetOptions {
            operators: self.operators,
            rollups: self.rollups,
            dir,
            ..DevnetOptions::default()
        };
        let plan = OutagePlan {
            stop: self.stop.clone(),
            outage: Duration::from_secs(self.seconds),
            timeout: Duration::from_secs(self.timeout),
        };
        let report = run_liveness_drill(options, &plan).await?;
        print_report(&report, self.json)
    }
}

fn print_report<R: Serialize + std::fmt::Display>(report: &R, json: bool) -> eyre::Result<()> {
    if json {
        let text = serde_json::to_string_pretty(report).wrap_err("cannot encode the report")?;
        println!("{text}");
    } else {
        println!("{report}");
    }
    Ok(())
}
