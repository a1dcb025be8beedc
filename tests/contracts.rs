//! The contracts end to end on a real anvil chain: EigenLayer core from
//! eigen-utils' bytecode, Chorus from forge's, operators registered through
//! the real EigenLayer flow, checkpoints signed with blst keys, and an
//! equivocating operator slashed through EigenLayer's AllocationManager.
//!
//! Each step also checks that Rust and Solidity agree: the signed message,
//! the checkpoint root, leaf proofs, operator-table leaves (the non-signer
//! path), and BLS signatures made by `chorus-keys` and verified by
//! `BLS12381.sol`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;

use alloy::primitives::{Address, Bytes};
use chorus_contracts::{
    Commitment,
    IChorusAttestations::{self, CheckpointAttested, IChorusAttestationsErrors},
    IChorusRegistry,
    IChorusSlasher::{self, IChorusSlasherErrors},
    checkpoint::CheckpointTree,
};
use chorus_deploy::chorus::ChorusConfig;
use chorus_tests::{Devchain, commitment, decode_event};
use eigen_utils::slashing::core::allocation_manager::AllocationManager;

/// The error of a call expected to revert.
fn reverted<T>(result: Result<T, alloy::contract::Error>) -> alloy::contract::Error {
    match result {
        Ok(_) => panic!("the call was expected to revert"),
        Err(error) => error,
    }
}

fn config() -> ChorusConfig {
    chorus_tests::two_rollups()
}

#[tokio::test(flavor = "multi_thread")]
async fn attest_read_back_and_slash_on_real_eigenlayer() {
    let chain = Devchain::start(&config(), 4).await.unwrap();
    let deployment = &chain.deployment;
    let table = chain.update_table().await.unwrap();
    assert_eq!(table.entries().len(), 4, "every registered operator has weight");
    let attestations = IChorusAttestations::new(deployment.chorus.attestations, &chain.provider);
    let all = chain.first_operators(4);

    // All four sign; recording mode stores each rollup's commitment.
    let tree = CheckpointTree::new(vec![commitment(10, 100, 1), commitment(11, 7, 2)]).unwrap();
    let message = chain.message(table.version(), tree.root());
    let on_chain_message =
        attestations.checkpointMessage(table.version(), tree.root()).call().await.unwrap();
    assert_eq!(on_chain_message, message, "Rust and Solidity sign the same message");
    let signature = chain.aggregate_signature(&all, message).unwrap();
    let receipt = chain
        .send(attestations.submitCheckpointWithCommitments(
            table.table_ref(),
            tree.commitments().to_vec(),
            Vec::new(),
            signature.clone(),
        ))
        .await
        .unwrap();
    let attested = decode_event::<CheckpointAttested>(&receipt).unwrap();
    assert_eq!(attested.commitmentsRoot, tree.root(), "Rust and Solidity build the same root");
    assert_eq!(attested.signedWeight, table.total_weight());

    // Rollups read it back.
    let latest = attestations.latestCommitment(10).call().await.unwrap();
    assert_eq!(latest.commitment, commitment(10, 100, 1));
    assert_eq!(latest.commitmentsRoot, tree.root());
    let (leaf, proof) = tree.proof_for(11).unwrap();
    let verify = |leaf: Commitment| attestations.verifyCommitment(leaf, tree.root(), proof.clone());
    assert!(verify(leaf.clone()).call().await.unwrap());
    assert!(!verify(commitment(11, 7, 99)).call().await.unwrap(), "a forged leaf fails");

    // A replay is refused.
    let replay = reverted(
        attestations
            .submitCheckpoint(table.table_ref(), tree.root(), Vec::new(), signature)
            .call()
            .await,
    );
    assert!(matches!(
        replay.as_decoded_interface_error::<IChorusAttestationsErrors>(),
        Some(IChorusAttestationsErrors::AlreadyAttested(_))
    ));

    // Three of four sign: the non-signer path, root-only.
    let next = CheckpointTree::new(vec![commitment(10, 101, 3), commitment(11, 8, 4)]).unwrap();
    let three = chain.first_operators(3);
    let non_signers = table.non_signers(&three);
    assert_eq!(non_signers.len(), 1);
    let signature = chain.aggregate_signature(&three, chain.message(table.version(), next.root()));
    let receipt = chain
        .send(attestations.submitCheckpoint(
            table.table_ref(),
            next.root(),
            non_signers,
            signature.unwrap(),
        ))
        .await
        .unwrap();
    let attested = decode_event::<CheckpointAttested>(&receipt).unwrap();
    assert_eq!(attested.signedWeight, table.signed_weight(&three));
    assert!(attestations.attestedAt(next.root()).call().await.unwrap() > 0);

    // Two of four is below two thirds: refused, and the error says so.
    let thin = CheckpointTree::new(vec![commitment(10, 102, 5)]).unwrap();
    let two = chain.first_operators(2);
    let signature = chain.aggregate_signature(&two, chain.message(table.version(), thin.root()));
    let refused = reverted(
        attestations
            .submitCheckpoint(
                table.table_ref(),
                thin.root(),
                table.non_signers(&two),
                signature.unwrap(),
            )
            .call()
            .await,
    );
    assert!(matches!(
        refused.as_decoded_interface_error::<IChorusAttestationsErrors>(),
        Some(IChorusAttestationsErrors::QuorumNotReached(_))
    ));

    // Operator 0 signs two conflicting commitments for rollup 10 at height 200.
    let offender = &chain.operators[0];
    let first = CheckpointTree::new(vec![commitment(10, 200, 6)]).unwrap();
    let second = CheckpointTree::new(vec![commitment(10, 200, 7), commitment(11, 9, 8)]).unwrap();
    let signed = |tree: &CheckpointTree| {
        chain.signed_commitment(offender, table.version(), tree, 10).unwrap()
    };
    let pubkey = Bytes::copy_from_slice(&offender.bls.public_key().to_eip2537());
    let slasher = IChorusSlasher::new(deployment.chorus.slasher, &chain.provider);

    // A proof of two identical commitments is no offence.
    let not_conflicting = reverted(
        slasher
            .proveEquivocation(offender.address, pubkey.clone(), signed(&first), signed(&first))
            .call()
            .await,
    );
    assert!(matches!(
        not_conflicting.as_decoded_interface_error::<IChorusSlasherErrors>(),
        Some(IChorusSlasherErrors::CommitmentsDoNotConflict(_))
    ));

    let receipt = chain
        .send(slasher.proveEquivocation(offender.address, pubkey, signed(&first), signed(&second)))
        .await
        .unwrap();
    let slashed = decode_event::<AllocationManager::OperatorSlashed>(&receipt).unwrap();
    assert_eq!(slashed.operator, offender.address, "EigenLayer slashed the equivocator");
    assert_eq!(slashed.strategies, vec![deployment.eigenlayer.strategy]);

    // It is out of the operator set and of the next table.
    let registry = IChorusRegistry::new(deployment.chorus.registry, &chain.provider);
    assert!(!registry.isRegistered(offender.address).call().await.unwrap());
    let after = chain.update_table().await.unwrap();
    assert!(after.version() > table.version());
    let members: HashSet<Address> = after.entries().iter().map(|entry| entry.operator).collect();
    assert_eq!(members.len(), 3);
    assert!(!members.contains(&offender.address));
}
