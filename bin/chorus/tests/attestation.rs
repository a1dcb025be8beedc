//! Drives `chorus attestation show` and `verify` against a real anvil chain
//! with EigenLayer and Chorus deployed, an operator registered and a
//! checkpoint attested, as a rollup or bridge developer would read it.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::process::Output;

use alloy::primitives::{B256, keccak256};
use chorus::{
    attestation::{
        BLOCK_FLAG, BLOCK_HASH_FLAG, COMMITMENT_JSON_FLAG, NOT_ATTESTED_EXIT, PROOF_FLAG,
        ROLLUP_FLAG, ROOT_FLAG, STATE_ROOT_FLAG,
    },
    chain::{DEPLOYMENT_FLAG, RPC_URL_FLAG},
    keys::JSON_FLAG,
};
use chorus_contracts::{Commitment, IChorusAttestations, checkpoint::CheckpointTree};
use chorus_deploy::chorus::{ChorusConfig, Rollup};
use chorus_tests::{Devchain, commitment};
use common::{all_output, chorus, flag, ok};
use serde_json::Value;

fn hex(hash: &B256) -> String {
    hash.to_string()
}

fn commitment_flags(commitment: &Commitment) -> Vec<String> {
    vec![
        flag(ROLLUP_FLAG),
        commitment.rollupId.to_string(),
        flag(BLOCK_FLAG),
        commitment.l2BlockNumber.to_string(),
        flag(BLOCK_HASH_FLAG),
        hex(&commitment.l2BlockHash),
        flag(STATE_ROOT_FLAG),
        hex(&commitment.stateRoot),
    ]
}

/// The output of a `verify` that checked and found the commitment not attested.
fn not_attested(output: &Output) -> String {
    let text = all_output(output);
    assert_eq!(output.status.code(), Some(i32::from(NOT_ATTESTED_EXIT)), "{text}");
    assert!(text.contains("not attested"), "{text}");
    text
}

/// The output of a command that could not answer (exit 1).
fn could_not(output: &Output) -> String {
    let text = all_output(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn show_and_verify_what_l1_holds() {
    let config = ChorusConfig {
        rollups: vec![
            Rollup { chain_id: 10, name: "optimism-devnet".into() },
            Rollup { chain_id: 11, name: "arbitrum-devnet".into() },
            Rollup { chain_id: 12, name: "not attested yet".into() },
        ],
        ..ChorusConfig::default()
    };
    let chain = Devchain::start(&config, 1).await.unwrap();
    let table = chain.update_table().await.unwrap();
    let attestations =
        IChorusAttestations::new(chain.deployment.chorus.attestations, &chain.provider);
    let older = CheckpointTree::new(vec![commitment(10, 90, 9)]).unwrap();
    let tree = CheckpointTree::new(vec![commitment(10, 100, 1), commitment(11, 7, 2)]).unwrap();
    let mut attested_at = 0;
    for checkpoint in [&older, &tree] {
        let message = chain.message(table.version(), checkpoint.root());
        let signature = chain.aggregate_signature(&chain.first_operators(1), message).unwrap();
        let receipt = chain
            .send(attestations.submitCheckpointWithCommitments(
                table.table_ref(),
                checkpoint.commitments().to_vec(),
                Vec::new(),
                signature,
            ))
            .await
            .unwrap();
        attested_at = receipt.block_number.unwrap();
    }

    let work = tempfile::tempdir().unwrap();
    let deployment = work.path().join("deployment.json").display().to_string();
    std::fs::write(&deployment, serde_json::to_string_pretty(&chain.deployment).unwrap()).unwrap();
    let rpc = chain.anvil.endpoint();
    let l1 = [flag(RPC_URL_FLAG), rpc.clone(), flag(DEPLOYMENT_FLAG), deployment.clone()];
    let run = |command: &str, args: &[String]| {
        let mut all: Vec<&str> = vec!["attestation", command];
        all.extend(args.iter().map(String::as_str));
        all.extend(l1.iter().map(String::as_str));
        chorus(&all)
    };

    // show: the latest commitment of rollup 10, with its proof.
    let shown = ok(&run("show", &[flag(ROLLUP_FLAG), "10".into(), flag(JSON_FLAG)]));
    let json: Value = serde_json::from_str(&shown).unwrap();
    let latest = commitment(10, 100, 1);
    assert_eq!(json["rollupId"], 10);
    assert_eq!(json["l2BlockNumber"], 100);
    assert_eq!(json["l2BlockHash"], hex(&latest.l2BlockHash));
    assert_eq!(json["stateRoot"], hex(&latest.stateRoot));
    assert_eq!(json["commitmentsRoot"], hex(&tree.root()));
    assert_eq!(json["attestedAtBlock"], attested_at);
    let (_, proof) = tree.proof_for(10).unwrap();
    let expected: Vec<String> = proof.iter().map(hex).collect();
    assert_eq!(json["proof"], serde_json::json!(expected), "the proof is rebuilt");
    let human = ok(&run("show", &[flag(ROLLUP_FLAG), "10".into()]));
    assert!(
        human.contains(&hex(&tree.root())) && human.contains(&format!("L1 block {attested_at}"))
    );

    // show: a listed rollup never attested, and an unlisted one.
    let text = could_not(&run("show", &[flag(ROLLUP_FLAG), "12".into()]));
    assert!(text.contains("no attested commitment yet"), "{text}");
    let text = could_not(&run("show", &[flag(ROLLUP_FLAG), "99".into()]));
    assert!(text.contains("not listed") && text.contains("listed: 10, 11, 12"), "{text}");

    // verify: what show printed, as a file.
    let file = work.path().join("latest.json").display().to_string();
    std::fs::write(&file, &shown).unwrap();
    let verified = ok(&run("verify", &[flag(COMMITMENT_JSON_FLAG), file.clone()]));
    assert!(verified.starts_with("attested:"), "{verified}");

    // verify: the latest by its flags, without a proof.
    let verified = ok(&run("verify", &commitment_flags(&latest)));
    assert!(verified.contains(&format!("attested at L1 block {attested_at}")), "{verified}");

    // verify: another leaf of the checkpoint, with root and proof.
    let (other, other_proof) = tree.proof_for(11).unwrap();
    let mut args = commitment_flags(other);
    args.extend([flag(ROOT_FLAG), hex(&tree.root()), flag(PROOF_FLAG)]);
    args.push(other_proof.iter().map(hex).collect::<Vec<_>>().join(","));
    ok(&run("verify", &args));

    // verify: an older checkpoint's only leaf (empty proof).
    let mut args = commitment_flags(&commitment(10, 90, 9));
    args.extend([flag(ROOT_FLAG), hex(&older.root())]);
    ok(&run("verify", &args));

    // Not attested: another state root for the latest block.
    let forged = Commitment { stateRoot: keccak256(b"forged"), ..latest.clone() };
    let text = not_attested(&run("verify", &commitment_flags(&forged)));
    assert!(text.contains(&hex(&latest.stateRoot)), "says what L1 holds: {text}");
    let mut args = commitment_flags(&forged);
    args.push(flag(JSON_FLAG));
    let output = run("verify", &args);
    not_attested(&output);
    let verdict: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdict["attested"], false);

    // Not attested: a wrong proof, and a root never attested.
    let mut args = commitment_flags(other);
    args.extend([flag(ROOT_FLAG), hex(&tree.root()), flag(PROOF_FLAG), hex(&B256::repeat_byte(7))]);
    not_attested(&run("verify", &args));
    let mut args = commitment_flags(&latest);
    args.extend([flag(ROOT_FLAG), hex(&B256::repeat_byte(8))]);
    let text = not_attested(&run("verify", &args));
    assert!(text.contains("no checkpoint with root"), "{text}");

    // Could not check: an older commitment without its root.
    let text = could_not(&run("verify", &commitment_flags(&commitment(10, 90, 9))));
    assert!(text.contains(&flag(ROOT_FLAG)), "says what to pass: {text}");
}

#[test]
fn an_unreachable_rpc_is_not_a_verdict() {
    let work = tempfile::tempdir().unwrap();
    let deployment = work.path().join("deployment.json");
    std::fs::write(&deployment, "{}").unwrap();
    let output = chorus(&[
        "attestation",
        "verify",
        &flag(ROLLUP_FLAG),
        "10",
        &flag(BLOCK_FLAG),
        "1",
        &flag(BLOCK_HASH_FLAG),
        &hex(&B256::ZERO),
        &flag(STATE_ROOT_FLAG),
        &hex(&B256::ZERO),
        "--rpc",
        "http://127.0.0.1:1",
        &flag(DEPLOYMENT_FLAG),
        &deployment.display().to_string(),
    ]);
    let text = could_not(&output);
    assert!(text.contains("cannot reach the RPC at http://127.0.0.1:1"), "{text}");
}
