//! The operator's signing path, stage by stage, outside any devnet.
//!
//! ```text
//! cargo run --release -p chorus-bench-e2e --bin signing -- --rounds 200 --rollups 1,16
//! ```
//!
//! What an operator does between receiving a proposal and posting its
//! signature, each stage timed alone with the code the node runs:
//!
//! 1. judge one commitment against its L2 node ([`RollupReader::judge`],
//!    the node being an anvil on this machine, safety 2 confirmations);
//! 2. slashing protection's check-and-insert of a checkpoint of K
//!    commitments ([`SlashingProtection::check_and_insert`]: one exclusive
//!    SQLite transaction, committed with fsync, in a temporary folder on
//!    the same disk as the devnet);
//! 3. the BLS signature of the checkpoint's message.
//!
//! The node judges a proposal's commitments concurrently (one RPC chain per
//! rollup), then runs 2 and 3 on the signer's thread.

use std::time::Instant;

use alloy::primitives::{Address, keccak256};
use chorus_bench_e2e::stats::Summary;
use chorus_contracts::Commitment;
use chorus_keys::bls::SecretKey;
use chorus_operator::protection::{CheckpointToSign, Domain, SlashingProtection};
use chorus_rollup::{RollupReader, Safety};
use clap::Parser;
use eyre::{WrapErr, eyre};

/// The operator's signing path (see the file's docs).
#[derive(Debug, Parser)]
struct Args {
    /// Proposals signed per configuration.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Commitments per checkpoint (rollups), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    rollups: Vec<usize>,
    /// Where the slashing-protection stores go (a temporary folder inside
    /// it); default: the system's temporary folder.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

fn main() -> eyre::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    println!("{}", Summary::header().replace("| ms |", "| µs |"));
    let judge = runtime.block_on(judge_rounds(args.rounds))?;
    println!("{}", Summary::row("judge one commitment against the L2 node", Summary::of(&judge)));
    for &rollups in &args.rollups {
        let (insert, sign) = protect_and_sign(&args, rollups)?;
        let name = format!("check-and-insert, {rollups} commitments (fsync)");
        println!("{}", Summary::row(&name, Summary::of(&insert)));
        let name = format!("BLS sign ({rollups} commitments: one message)");
        println!("{}", Summary::row(&name, Summary::of(&sign)));
    }
    Ok(())
}

fn micros(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e6
}

/// Judges the safe head of a fresh anvil `rounds` times, as a node does.
async fn judge_rounds(rounds: usize) -> eyre::Result<Vec<f64>> {
    let chain_id = chorus_devnet::FIRST_ROLLUP_ID;
    let anvil = chorus_deploy_anvil(chain_id)?;
    let url = anvil.endpoint();
    let provider = alloy::providers::ProviderBuilder::new().connect_http(url.parse()?);
    chorus_deploy::anvil::mine(&provider, 10).await?;
    let reader = RollupReader::connect(chain_id, &url, Safety::Confirmations(2)).await?;
    let head = reader.safe_head().await?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let judgement = reader.judge(&head).await?;
        times.push(micros(started));
        if judgement != chorus_rollup::Judgement::Matches {
            return Err(eyre!("the node disagrees with its own safe head: {judgement:?}"));
        }
    }
    Ok(times)
}

fn chorus_deploy_anvil(chain_id: u64) -> eyre::Result<alloy::node_bindings::AnvilInstance> {
    chorus_deploy::anvil::spawn_anvil_with(|anvil| anvil.chain_id(chain_id))
        .wrap_err("starting anvil (run toolchain/bootstrap first)")
}

/// Check-and-insert then sign `args.rounds` checkpoints of `rollups`
/// commitments each, every one at a new height (as a live node does).
fn protect_and_sign(args: &Args, rollups: usize) -> eyre::Result<(Vec<f64>, Vec<f64>)> {
    let folder = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let key = SecretKey::random();
    let domain = Domain { l1_chain_id: 31337, attestation_contract: Address::repeat_byte(0xc0) };
    let store = SlashingProtection::create(
        folder.path().join("protection.sqlite"),
        domain,
        &key.public_key(),
    )?;
    let (mut insert, mut sign) = (Vec::new(), Vec::new());
    for round in 0..args.rounds as u64 {
        let commitments = (0..rollups as u64)
            .map(|i| Commitment {
                rollupId: chorus_devnet::FIRST_ROLLUP_ID + i,
                l2BlockNumber: round + 1,
                l2BlockHash: keccak256([round.to_be_bytes(), i.to_be_bytes(), [0; 8]].concat()),
                stateRoot: keccak256([round.to_be_bytes(), i.to_be_bytes(), [1; 8]].concat()),
            })
            .collect();
        let checkpoint = CheckpointToSign::new(1, commitments)?;
        let started = Instant::now();
        store.check_and_insert(&checkpoint)?;
        insert.push(micros(started));
        let started = Instant::now();
        let message = checkpoint.signing_message(&store.domain());
        let signature = key.sign(message.as_slice());
        sign.push(micros(started));
        std::hint::black_box(signature);
    }
    Ok((insert, sign))
}
