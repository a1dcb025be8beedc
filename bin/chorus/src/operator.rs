//! `chorus operator`: what an operator does with its keys: register with
//! Chorus, run the node, and ask what is wrong with it.

mod run;
pub mod status;

use std::{path::PathBuf, time::Duration};

use alloy::primitives::U256;
use chorus_deploy::eigenlayer::{WaitOptions, operator::StepOutcome};
use chorus_operator::registration::{FULL_MAGNITUDE, RegistrationPlan, register_operator};
use clap::{Args, Subcommand};
use eyre::WrapErr;

use crate::{
    chain::{DEPLOYMENT_FLAG, SignerArgs, block_on, read_deployment},
    keys::open_bls_keystore,
    run::RunArgs,
};

/// How long to wait for the allocation delay on a live chain before saying
/// to come back later (re-running resumes where it stopped).
const ALLOCATION_WAIT: Duration = Duration::from_secs(15 * 60);
/// How often to look for new blocks meanwhile.
const POLL: Duration = Duration::from_secs(4);

/// The `operator` subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Register with Chorus through EigenLayer: deposit, register as an
    /// operator, allocate, join the Chorus operator set with the BLS key.
    /// Safe to re-run: steps already done are skipped.
    Register(RegisterArgs),
    /// Run the operator node: watch the configured rollups through your own
    /// nodes, answer the aggregators' proposals, sign behind slashing
    /// protection. Runs until Ctrl-C or SIGTERM.
    Run(RunArgs),
    /// Say in plain words what is wrong with this operator, and what to do.
    ///
    /// Checks the L1, the registration, the allocated stake and the
    /// operator table, the BLS key, the slashing-protection store, each
    /// rollup's L2 node, each aggregator and the node's own API. Reads the
    /// same --config as `run`; needs no password. Exits 0 when no problem
    /// is found, 2 when one is, 1 when it could not check.
    Status(status::StatusArgs),
}

impl OperatorCommand {
    /// Runs the subcommand.
    pub fn run(self) -> eyre::Result<()> {
        match self {
            Self::Register(args) => block_on(args.run()),
            Self::Run(args) => run::run(&args),
            Self::Status(args) => args.run(),
        }
    }
}

/// Arguments of `chorus operator register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Endpoint and the operator's Ethereum key.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The operator's BLS keystore (same password as the Ethereum keystore).
    #[arg(long = "bls-keystore", value_name = "PATH")]
    pub bls_keystore: PathBuf,
    /// The deployment JSON written by `chorus deploy`.
    #[arg(long = DEPLOYMENT_FLAG, value_name = "FILE")]
    pub deployment: PathBuf,
    /// Tokens (whole units, 18 decimals) to hold in the restaking strategy.
    #[arg(long, default_value_t = 1_000)]
    pub deposit: u64,
    /// Share of the stake to allocate to Chorus, in percent.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub allocate_percent: u64,
    /// Operator metadata URI for EigenLayer.
    #[arg(long, default_value = "https://chorus.invalid/operator.json")]
    pub metadata_uri: String,
    /// Mine the blocks of the allocation delay (anvil devnets only).
    #[arg(long)]
    pub mine: bool,
}

impl RegisterArgs {
    async fn run(self) -> eyre::Result<()> {
        let chain = self.signer.connect().await?;
        let deployment = read_deployment(&self.deployment, chain.chain_id)?;
        let bls = open_bls_keystore(&self.bls_keystore, &self.signer.password)?;
        let plan = RegistrationPlan {
            deposit: U256::from(self.deposit) * U256::from(10u64).pow(U256::from(18)),
            magnitude: FULL_MAGNITUDE / 100 * self.allocate_percent,
            metadata_uri: self.metadata_uri,
            wait: if self.mine {
                WaitOptions::anvil()
            } else {
                WaitOptions::chain(ALLOCATION_WAIT, POLL)
            },
        };
        let steps = register_operator(&chain.provider, &deployment, chain.account, &bls, &plan)
            .await
            .map_err(|error| chain.scrub(error))
            .wrap_err("registration stopped; fix the cause and run the command again")?;
        for report in steps {
            match report.outcome {
                StepOutcome::Skipped(why) => println!("{:<58} already done: {why}", report.step),
                StepOutcome::Executed(ref txs) => println!(
                    "{:<58} done ({} transaction(s), {} gas)",
                    report.step,
                    txs.len(),
                    report.outcome.gas_used()
                ),
            }
        }
        println!("operator {} is registered with Chorus", chain.account);
        Ok(())
    }
}
