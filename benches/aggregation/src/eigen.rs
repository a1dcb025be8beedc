//! eigensdk-rs's `BlsAggregatorService` (eigen-services-blsaggregation 2.x)
//! fed N operators through eigensdk's own in-process AVS registry double
//! (`FakeAvsRegistryService`: operator keys and stakes held in memory, no
//! chain), each with its own BN254 signature as eigensdk expects.
//!
//! One run: start the service, initialise a task, hand in the N signatures
//! one after another (each `process_signature` answers after eigensdk
//! verified that signature), and wait for the aggregated response. The
//! threshold makes the service wait for every valid signature (100% when
//! all are valid, 99% with 1% invalid), so that, like the collector, it
//! handles all N. Signatures are handed in as eigensdk's decoded points:
//! eigensdk's time includes no decoding of bytes, which favours it.

use std::{collections::HashMap, time::Duration};

use alloy::primitives::{B256, U256};
use eigen_crypto_bls::{BlsKeyPair, Signature};
use eigen_services_avsregistry::fake_avs_registry_service::FakeAvsRegistryService;
use eigen_services_blsaggregation::{
    bls_agg::{BlsAggregatorService, TaskMetadata, TaskSignature},
    bls_aggregation_service_response::BlsAggregationServiceResponse,
};
use eigen_types::test::TestOperator;

use crate::is_invalid;

const QUORUM: u8 = 0;
const BLOCK: u64 = 1;
const TASK: u32 = 0;

/// N operators registered with eigensdk's registry double, and their
/// signatures of one task response.
pub struct EigenInput {
    registry: FakeAvsRegistryService,
    digest: B256,
    signatures: Vec<(B256, Signature)>,
    threshold_percent: u8,
}

/// `count` operators of equal stake; in the invalid case every hundredth
/// signs another digest but claims the task's.
pub fn eigen_input(count: usize, one_percent_invalid: bool) -> EigenInput {
    let digest = B256::repeat_byte(0x42);
    let other = B256::repeat_byte(0x24);
    let mut operators = Vec::with_capacity(count);
    let mut signatures = Vec::with_capacity(count);
    for i in 0..count {
        // Distinct secret scalars (benchmark keys, not secrets).
        let secret = (i as u128 + 1) * 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835 % (1u128 << 120);
        let keypair = BlsKeyPair::new(secret.to_string()).expect("scalar below the modulus");
        let operator_id = B256::left_padding_from(&(i as u64 + 1).to_be_bytes());
        let signed = if is_invalid(i, one_percent_invalid) { other } else { digest };
        signatures.push((operator_id, keypair.sign_message(&signed.0)));
        operators.push(TestOperator {
            operator_id,
            stake_per_quorum: HashMap::from([(QUORUM, U256::from(100))]),
            bls_keypair: keypair,
        });
    }
    EigenInput {
        registry: FakeAvsRegistryService::new(BLOCK, operators),
        digest,
        signatures,
        threshold_percent: if one_percent_invalid { 99 } else { 100 },
    }
}

/// One task through the service, from the signatures handed in to the
/// aggregated response. Run inside a Tokio runtime (the benchmark uses a
/// current-thread one: one core, as the collector).
pub async fn eigen_aggregate(input: &EigenInput) -> BlsAggregationServiceResponse {
    let service = BlsAggregatorService::new(input.registry.clone());
    let (handle, mut responses) = service.start();
    let metadata = TaskMetadata::new(
        TASK,
        BLOCK,
        vec![QUORUM],
        vec![input.threshold_percent],
        Duration::from_secs(3_600),
    );
    handle.initialize_task(metadata).await.expect("new task");
    for (operator_id, signature) in &input.signatures {
        let signed = TaskSignature::new(TASK, input.digest, signature.clone(), *operator_id);
        // Invalid signatures are answered with an error; the rest count.
        let _ = handle.process_signature(signed).await;
    }
    responses.receive_aggregated_response().await.expect("quorum reached")
}
