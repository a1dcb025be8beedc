//! Gas of `submitCheckpoint` from real transaction receipts on anvil, for
//! the table in BENCHMARKS.md: operators x non-signers x root-only or
//! recording 1 or 10 rollups. Each case is a fresh checkpoint of a warm
//! contract (rollups recorded once before), so recording is steady state.
//!
//! Run: `cargo run --release -p chorus-tests --example gas`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;

use alloy::primitives::{Address, Bytes, keccak256};
use chorus_contracts::{
    Commitment, IChorusAttestations, IChorusSlasher, checkpoint::CheckpointTree,
    table::OperatorTable,
};
use chorus_deploy::chorus::{ChorusConfig, Rollup};
use chorus_tests::Devchain;

const ROLLUPS: u64 = 10;

fn tree(height: u64, rollups: u64) -> CheckpointTree {
    let commitments = (1..=rollups)
        .map(|rollup_id| Commitment {
            rollupId: rollup_id,
            l2BlockNumber: height,
            l2BlockHash: keccak256([height.to_be_bytes(), rollup_id.to_be_bytes()].concat()),
            stateRoot: keccak256([rollup_id.to_be_bytes(), height.to_be_bytes()].concat()),
        })
        .collect();
    CheckpointTree::new(commitments).unwrap()
}

/// Submits one checkpoint at `height` and returns the receipt's gas.
async fn submit(
    chain: &Devchain,
    table: &OperatorTable,
    signers: &HashSet<Address>,
    height: u64,
    recorded_rollups: Option<u64>,
) -> u64 {
    let deployment = &chain.deployment;
    let attestations = IChorusAttestations::new(deployment.chorus.attestations, &chain.provider);
    let tree = tree(height, recorded_rollups.unwrap_or(1));
    let signature =
        chain.aggregate_signature(signers, chain.message(table.version(), tree.root())).unwrap();
    let non_signers = table.non_signers(signers);
    let receipt = match recorded_rollups {
        None => {
            let call = attestations.submitCheckpoint(
                table.table_ref(),
                tree.root(),
                non_signers,
                signature,
            );
            chain.send(call).await
        }
        Some(_) => {
            let commitments = tree.commitments().to_vec();
            let call = attestations.submitCheckpointWithCommitments(
                table.table_ref(),
                commitments,
                non_signers,
                signature,
            );
            chain.send(call).await
        }
    };
    receipt.unwrap().gas_used
}

/// Gas of `proveEquivocation` for two one-rollup checkpoints.
async fn equivocation_gas(config: &ChorusConfig) -> u64 {
    let chain = Devchain::start(config, 10).await.unwrap();
    let table = chain.update_table().await.unwrap();
    let offender = &chain.operators[0];
    let first = tree(1_000, 1);
    let mut conflicting = first.commitments().to_vec();
    conflicting[0].stateRoot = keccak256(b"another state");
    let second = CheckpointTree::new(conflicting).unwrap();
    let slasher = IChorusSlasher::new(chain.deployment.chorus.slasher, &chain.provider);
    let call = slasher.proveEquivocation(
        offender.address,
        Bytes::copy_from_slice(&offender.bls.public_key().to_eip2537()),
        chain.signed_commitment(offender, table.version(), &first, 1).unwrap(),
        chain.signed_commitment(offender, table.version(), &second, 1).unwrap(),
    );
    chain.send(call).await.unwrap().gas_used
}

#[tokio::main]
async fn main() {
    let config = ChorusConfig {
        rollups: (1..=ROLLUPS)
            .map(|chain_id| Rollup { chain_id, name: format!("r{chain_id}") })
            .collect(),
        ..ChorusConfig::default()
    };
    let mut table_updates = Vec::new();
    println!("| operators | non-signers | root-only | recording 1 rollup | recording 10 rollups |");
    println!("|---:|---:|---:|---:|---:|");
    for operators in [10usize, 100, 200] {
        let chain = Devchain::start(&config, operators).await.unwrap();
        if operators == 10 {
            eprintln!("registration of one operator: {} gas", chain.operators[0].registration_gas);
        }
        let (table, update_gas) = chain.update_table_with_gas().await.unwrap();
        table_updates.push((operators, update_gas));
        let mut height = 1;
        // Warm up: every rollup has a recorded commitment already.
        submit(&chain, &table, &chain.first_operators(operators), height, Some(ROLLUPS)).await;
        for non_signers in [0usize, 1, 10] {
            // Two thirds must sign: with 10 operators, 3 is the most that may not.
            let non_signers = non_signers.min(operators - (operators * 2).div_ceil(3));
            let signers = chain.first_operators(operators - non_signers);
            let mut row = Vec::new();
            for mode in [None, Some(1), Some(ROLLUPS)] {
                height += 1;
                row.push(submit(&chain, &table, &signers, height, mode).await);
            }
            println!("| {operators} | {non_signers} | {} | {} | {} |", row[0], row[1], row[2]);
        }
    }
    println!();
    println!("| operators | updateOperatorTable |");
    println!("|---:|---:|");
    for (operators, gas) in table_updates {
        println!("| {operators} | {gas} |");
    }
    println!();
    println!(
        "equivocation proof (slash and eject), 10 operators: {}",
        equivocation_gas(&config).await
    );
}
