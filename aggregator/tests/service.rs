//! The aggregator service against a real anvil L1 (EigenLayer and Chorus
//! deployed, four operators registered through the real EigenLayer flow)
//! and two anvil L2s (chain ids 901 and 902). The test plays the operators:
//! it signs proposals with their BLS keys, as an operator node would.

use std::{path::Path, time::Duration};

use alloy::{
    network::EthereumWallet,
    node_bindings::AnvilInstance,
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use chorus_aggregator::service::{
    self, AggregatorConfig, AggregatorHandle, AggregatorSetup,
    config::{AggregatorApiConfig, ProposerConfig, StoreConfig, SubmitterConfig},
};
use chorus_contracts::{Commitment, IChorusAttestations, IChorusRegistry};
use chorus_deploy::{
    anvil::{mine, spawn_anvil_with},
    chorus::{ChorusConfig, Deployment, L1Config, Rollup, deploy_chorus},
    eigenlayer::{WaitOptions, deploy_eigenlayer},
};
use chorus_keys::bls::SecretKey;
use chorus_operator::registration::{FULL_MAGNITUDE, RegistrationPlan, register_operator};
use chorus_rollup::{RollupConfig, Safety};
use chorus_wire::{
    ApiError, CheckpointState, CheckpointStatus, Divergence, Proposal, PublicSignature, Receipt,
    ReceiptStatus, RejectReason, RejectedCommitment, Rejection, SignedCheckpoint, routes,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ROLLUPS: [u64; 2] = [901, 902];

struct Chain {
    _l1: AnvilInstance,
    l1_url: String,
    l2s: Vec<AnvilInstance>,
    provider: DynProvider,
    deployment: Deployment,
    operators: Vec<(Address, SecretKey)>,
    submitter: PrivateKeySigner,
}

/// L1 with EigenLayer and Chorus, four registered operators and a table;
/// two L2s with a few blocks each.
async fn chain() -> Result<Chain, Box<dyn std::error::Error>> {
    // Logs show with `--nocapture` (RUST_LOG to filter; info by default).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "chorus_aggregator=info".into()),
        )
        .with_test_writer()
        .try_init();
    let l1 = spawn_anvil_with(|anvil| anvil.args(["--accounts", "6"]))?;
    let signers: Vec<PrivateKeySigner> = l1.keys().iter().map(|k| k.clone().into()).collect();
    let deployer = signers[0].address();
    let mut wallet = EthereumWallet::new(signers[0].clone());
    for signer in &signers[1..5] {
        wallet.register_signer(signer.clone());
    }
    let provider = ProviderBuilder::new().wallet(wallet).connect_http(l1.endpoint_url()).erased();
    let chain_id = provider.get_chain_id().await?;
    let eigenlayer = deploy_eigenlayer(&provider, deployer).await?;
    let config = ChorusConfig {
        rollups: ROLLUPS
            .iter()
            .map(|id| Rollup { chain_id: *id, name: format!("rollup {id}") })
            .collect(),
        ..ChorusConfig::default()
    };
    let (chorus, _) = deploy_chorus(&provider, deployer, &eigenlayer, &config).await?;
    let deployment = Deployment { chain_id, eigenlayer, chorus };
    let plan = RegistrationPlan {
        deposit: U256::from(1_000_000_000_000_000_000_000u128),
        magnitude: FULL_MAGNITUDE,
        metadata_uri: "https://chorus.invalid/operator.json".to_owned(),
        wait: WaitOptions::anvil(),
    };
    let mut operators = Vec::new();
    for signer in &signers[1..5] {
        let bls = SecretKey::random();
        register_operator(&provider, &deployment, signer.address(), &bls, &plan).await?;
        operators.push((signer.address(), bls));
    }
    IChorusRegistry::new(deployment.chorus.registry, &provider)
        .updateOperatorTable()
        .from(deployer)
        .send()
        .await?
        .get_receipt()
        .await?;
    let mut l2s = Vec::new();
    for id in ROLLUPS {
        let l2 = spawn_anvil_with(|anvil| anvil.chain_id(id))?;
        let l2_provider = ProviderBuilder::new().connect_http(l2.endpoint_url());
        mine(&l2_provider, 3).await?;
        l2s.push(l2);
    }
    Ok(Chain {
        l1_url: l1.endpoint(),
        _l1: l1,
        l2s,
        provider,
        deployment,
        operators,
        submitter: signers[5].clone(),
    })
}

impl Chain {
    fn config(&self, store: &Path) -> AggregatorConfig {
        AggregatorConfig {
            l1: L1Config {
                rpc_url: self.l1_url.clone(),
                deployment: store.join("deployment.json"),
            },
            submitter: SubmitterConfig {
                keystore: store.join("unused-keystore.json"),
                password_file: None,
                bump_after_secs: 12,
                bump_percent: 15,
                max_fee_gwei: 500,
                // This L1 mines only on demand: no block would ever confirm one.
                confirmations: 0,
                standby_secs: 0,
            },
            rollups: ROLLUPS
                .iter()
                .zip(&self.l2s)
                .map(|(id, l2)| RollupConfig {
                    id: *id,
                    rpc_url: l2.endpoint(),
                    safety: Safety::Confirmations(0),
                })
                .collect(),
            api: AggregatorApiConfig {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                ..AggregatorApiConfig::default()
            },
            store: StoreConfig { path: store.join("aggregator.sqlite") },
            proposer: ProposerConfig { interval_ms: 200, proposal_timeout_secs: 12 },
            watcher: Default::default(),
        }
    }

    async fn start(&self, store: &Path) -> Result<AggregatorHandle, service::AggregatorError> {
        service::start(AggregatorSetup {
            config: self.config(store),
            submitter: self.submitter.clone(),
            deployment: self.deployment.clone(),
        })
        .await
    }

    async fn mine_l2s(&self, count: usize, blocks: u64) -> TestResult {
        for l2 in self.l2s.iter().take(count) {
            mine(&ProviderBuilder::new().connect_http(l2.endpoint_url()), blocks).await?;
        }
        Ok(())
    }

    /// Operator `index`'s signature of `proposal`, as an operator node makes it.
    fn sign(&self, index: usize, proposal: &Proposal) -> SignedCheckpoint {
        let (operator, key) = &self.operators[index];
        proposal.signed_by(*operator, &key.sign(proposal.message().as_slice()).to_bytes())
    }

    /// Operator `index` refuses `refused` as diverging from its own node.
    fn reject(&self, index: usize, proposal: &Proposal, refused: &Commitment) -> Rejection {
        let (operator, key) = &self.operators[index];
        let ours = Commitment { stateRoot: B256::repeat_byte(0xee), ..refused.clone() };
        let rejected = vec![RejectedCommitment {
            commitment: refused.clone(),
            reason: RejectReason::Mismatch { ours },
        }];
        let message = Rejection::message(
            &proposal.domain,
            proposal.checkpoint_id,
            proposal.table_version,
            proposal.commitments_root,
            &rejected,
        );
        Rejection {
            checkpoint_id: proposal.checkpoint_id,
            operator: *operator,
            table_version: proposal.table_version,
            commitments_root: proposal.commitments_root,
            rejected,
            signature: Bytes::copy_from_slice(&key.sign(message.as_slice()).to_bytes()),
        }
    }

    async fn attested_at(&self, root: B256) -> Result<u64, Box<dyn std::error::Error>> {
        let contract =
            IChorusAttestations::new(self.deployment.chorus.attestations, &self.provider);
        Ok(contract.attestedAt(root).call().await?)
    }
}

/// The aggregator's API, as an operator or a watcher calls it.
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(handle: &AggregatorHandle) -> Self {
        Self { base: format!("http://{}", handle.api_addr()), http: reqwest::Client::new() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn next_proposal(
        &self,
        after: Option<u64>,
    ) -> Result<Proposal, Box<dyn std::error::Error>> {
        let after = after.map_or(String::new(), |id| format!("&after={id}"));
        let url = self.url(&format!("{}?wait=20{after}", routes::NEXT_PROPOSAL));
        let response = self.http.get(url).send().await?;
        assert_eq!(response.status(), 200, "a proposal within 20 s");
        Ok(response.json().await?)
    }

    async fn post<T: serde::Serialize>(
        &self,
        path: &str,
        body: &T,
    ) -> reqwest::Result<reqwest::Response> {
        self.http.post(self.url(path)).json(body).send().await
    }

    async fn sign(&self, signed: &SignedCheckpoint) -> Result<Receipt, Box<dyn std::error::Error>> {
        let response = self.post(routes::SIGNATURES, signed).await?;
        assert_eq!(response.status(), 200);
        Ok(response.json().await?)
    }

    /// Posts and expects a refusal with `status` and `code`.
    async fn refused<T: serde::Serialize>(
        &self,
        path: &str,
        body: &T,
        status: u16,
        code: &str,
    ) -> TestResult {
        let response = self.post(path, body).await?;
        assert_eq!(response.status(), status, "{path} answers {status}");
        let error: ApiError = response.json().await?;
        assert_eq!(error.code, code, "{}", error.message);
        assert!(!error.message.is_empty());
        Ok(())
    }

    async fn checkpoint(&self, id: u64) -> Result<CheckpointStatus, Box<dyn std::error::Error>> {
        let path = routes::CHECKPOINT.replace("{id}", &id.to_string());
        Ok(self.http.get(self.url(&path)).send().await?.error_for_status()?.json().await?)
    }

    /// Waits (up to 60 s) until checkpoint `id` is in `state`.
    async fn wait_for(
        &self,
        id: u64,
        state: CheckpointState,
    ) -> Result<CheckpointStatus, Box<dyn std::error::Error>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.checkpoint(id).await?;
            if status.state == state {
                return Ok(status);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "checkpoint {id} never {state:?}: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, path: &str) -> Result<String, Box<dyn std::error::Error>> {
        Ok(self.http.get(self.url(path)).send().await?.error_for_status()?.text().await?)
    }
}

#[actix_rt::test]
async fn honest_operators_get_checkpoints_attested_and_bad_answers_get_4xx() -> TestResult {
    let chain = chain().await?;
    let dir = tempfile::tempdir()?;
    let aggregator = chain.start(dir.path()).await?;
    let api = Api::new(&aggregator);

    let first = api.next_proposal(None).await?;
    let rollups: Vec<u64> = first.commitments.iter().map(|c| c.rollupId).collect();
    assert_eq!(rollups, ROLLUPS);
    assert_eq!(first.domain.attestation_contract, chain.deployment.chorus.attestations);

    // Requests the aggregator cannot accept.
    let response = api
        .http
        .post(api.url(routes::SIGNATURES))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<ApiError>().await?.code, "malformed_json");
    let oversized = json!({ "padding": "x".repeat(chorus_wire::MAX_BODY_BYTES + 1) });
    api.refused(routes::SIGNATURES, &oversized, 413, "body_too_large").await?;
    let stranger =
        SignedCheckpoint { operator: Address::repeat_byte(0x42), ..chain.sign(0, &first) };
    api.refused(routes::SIGNATURES, &stranger, 403, "unknown_operator").await?;
    let short =
        SignedCheckpoint { signature: Bytes::from(vec![0x80; 47]), ..chain.sign(0, &first) };
    api.refused(routes::SIGNATURES, &short, 400, "malformed_signature").await?;
    let other_root =
        SignedCheckpoint { commitments_root: B256::repeat_byte(1), ..chain.sign(0, &first) };
    api.refused(routes::SIGNATURES, &other_root, 409, "wrong_root").await?;
    let unknown = SignedCheckpoint { checkpoint_id: 999, ..chain.sign(0, &first) };
    api.refused(routes::SIGNATURES, &unknown, 404, "unknown_checkpoint").await?;
    let missing = api.http.get(api.url("/v1/checkpoints/999")).send().await?;
    assert_eq!(missing.status(), 404);
    let other_version = SignedCheckpoint { table_version: 7, ..chain.sign(0, &first) };
    api.refused(routes::SIGNATURES, &other_version, 409, "wrong_table_version").await?;
    for (path, status, code) in [
        (routes::SIGNATURES, 405, "method_not_allowed"),
        ("/v1/checkpoints/first", 400, "bad_path"),
        ("/v1/proposals/next?wait=soon", 400, "bad_query"),
    ] {
        let response = api.http.get(api.url(path)).send().await?;
        assert_eq!(response.status(), status, "GET {path}");
        assert_eq!(response.json::<ApiError>().await?.code, code);
    }
    let nowhere = api.http.get(api.url("/v1/nowhere")).send().await?;
    assert_eq!(nowhere.status(), 404);
    assert_eq!(nowhere.json::<ApiError>().await?.code, "not_found");

    // Two honest signatures, one repeated.
    assert_eq!(api.sign(&chain.sign(0, &first)).await?.status, ReceiptStatus::Accepted);
    assert_eq!(api.sign(&chain.sign(0, &first)).await?.status, ReceiptStatus::Duplicate);
    // A well-formed signature over another message while the quorum is out
    // of reach: its answer waits for the check of its batch, so it is
    // refused at once and never shown as a signer.
    let mut early_forgery = chain.sign(2, &first);
    early_forgery.signature =
        Bytes::copy_from_slice(&chain.operators[2].1.sign(b"something earlier").to_bytes());
    api.refused(routes::SIGNATURES, &early_forgery, 400, "invalid_signature").await?;
    assert_eq!(api.checkpoint(first.checkpoint_id).await?.signers, vec![chain.operators[0].0]);
    let receipt = api.sign(&chain.sign(1, &first)).await?;
    assert_eq!(receipt.checkpoint.state, CheckpointState::Open);
    let waiting = receipt.checkpoint.waiting_for.unwrap_or_default();
    assert!(waiting.starts_with("quorum: 2 of 4 operators"), "{waiting}");
    // And one that could complete the quorum.
    let mut forged = chain.sign(2, &first);
    forged.signature =
        Bytes::copy_from_slice(&chain.operators[2].1.sign(b"something else").to_bytes());
    api.refused(routes::SIGNATURES, &forged, 400, "invalid_signature").await?;
    // The third honest signature completes the quorum.
    let receipt = api.sign(&chain.sign(3, &first)).await?;
    assert_eq!(receipt.checkpoint.state, CheckpointState::Submitting);

    let attested = api.wait_for(first.checkpoint_id, CheckpointState::Attested).await?;
    assert!(attested.l1_transaction.is_some());
    let block = chain.attested_at(first.commitments_root).await?;
    assert_eq!(Some(block), attested.l1_block, "L1 holds the root at the block reported");
    let contract = IChorusAttestations::new(chain.deployment.chorus.attestations, &chain.provider);
    let latest = contract.latestCommitment(901).call().await?;
    assert_eq!(latest.commitment, first.commitments[0]);
    let path = routes::CHECKPOINT_SIGNATURES.replace("{id}", &first.checkpoint_id.to_string());
    let public: Vec<PublicSignature> = api.http.get(api.url(&path)).send().await?.json().await?;
    let mut signers: Vec<Address> = public.iter().map(|s| s.operator).collect();
    signers.sort();
    let mut honest = vec![chain.operators[0].0, chain.operators[1].0, chain.operators[3].0];
    honest.sort();
    assert_eq!(signers, honest, "the forged signature is not published");
    let metrics = api.text(routes::METRICS).await?;
    assert!(metrics.contains("chorus_checkpoints_attested_total 1"), "{metrics}");
    assert!(
        metrics.contains("chorus_signatures_total{result=\"invalid_signature\"} 2"),
        "{metrics}"
    );
    let status: serde_json::Value = serde_json::from_str(&api.text(routes::STATUS).await?)?;
    assert_eq!(status["attestedCheckpoints"], 1);
    assert_eq!(api.text(routes::HEALTH).await?, r#"{"status":"ok"}"#);

    // Two operators' nodes disagree on rollup 902: more weight than the
    // quorum can spare, so it is re-proposed at once without it. (Only 901
    // moves, so the proposal cannot change under the test.)
    chain.mine_l2s(1, 2).await?;
    let second = api.next_proposal(Some(first.checkpoint_id)).await?;
    let contested = second.commitments[1].clone();
    let mut bad_rejection = chain.reject(1, &second, &contested);
    bad_rejection.signature = Bytes::copy_from_slice(&chain.operators[1].1.sign(b"x").to_bytes());
    api.refused(routes::REJECTIONS, &bad_rejection, 400, "invalid_signature").await?;
    for index in [2, 3] {
        let response =
            api.post(routes::REJECTIONS, &chain.reject(index, &second, &contested)).await?;
        assert_eq!(response.status(), 200);
    }
    let third = api.next_proposal(Some(second.checkpoint_id)).await?;
    assert_eq!(third.commitments, vec![second.commitments[0].clone()]);
    assert_eq!(api.checkpoint(second.checkpoint_id).await?.state, CheckpointState::Superseded);
    let divergences: Vec<Divergence> = serde_json::from_str(&api.text(routes::DIVERGENCES).await?)?;
    assert_eq!(divergences.len(), 2);
    assert!(divergences.iter().all(|d| d.proposed == contested));
    for index in 0..4 {
        api.sign(&chain.sign(index, &third)).await?;
    }
    api.wait_for(third.checkpoint_id, CheckpointState::Attested).await?;
    assert_ne!(chain.attested_at(third.commitments_root).await?, 0);
    assert_eq!(chain.attested_at(second.commitments_root).await?, 0);
    aggregator.stop().await;

    // After a restart, ids continue; an open checkpoint survives the next
    // restart with its signature, and completes.
    let aggregator = chain.start(dir.path()).await?;
    let api = Api::new(&aggregator);
    assert_eq!(api.checkpoint(third.checkpoint_id).await?.state, CheckpointState::Attested);
    chain.mine_l2s(2, 1).await?;
    let fourth = api.next_proposal(Some(third.checkpoint_id)).await?;
    assert_eq!(fourth.checkpoint_id, third.checkpoint_id + 1, "ids continue across restarts");
    api.sign(&chain.sign(0, &fourth)).await?;
    aggregator.stop().await;
    let nonce = chain.provider.get_transaction_count(chain.submitter.address()).await?;

    let aggregator = chain.start(dir.path()).await?;
    let api = Api::new(&aggregator);
    let resumed = api.checkpoint(fourth.checkpoint_id).await?;
    assert_eq!(resumed.state, CheckpointState::Open);
    assert_eq!(resumed.signers, vec![chain.operators[0].0]);
    assert_eq!(api.next_proposal(Some(third.checkpoint_id)).await?, fourth);
    api.sign(&chain.sign(1, &fourth)).await?;
    let receipt = api.sign(&chain.sign(2, &fourth)).await?;
    assert_eq!(receipt.checkpoint.state, CheckpointState::Submitting);
    api.wait_for(fourth.checkpoint_id, CheckpointState::Attested).await?;
    assert_ne!(chain.attested_at(fourth.commitments_root).await?, 0);
    let after = chain.provider.get_transaction_count(chain.submitter.address()).await?;
    assert_eq!(after, nonce + 1, "one transaction for the one new checkpoint");
    aggregator.stop().await;
    Ok(())
}

/// Sets anvil's automine (`evm_setAutomine`).
async fn set_automine(provider: &DynProvider, on: bool) -> TestResult {
    provider.raw_request::<_, serde_json::Value>("evm_setAutomine".into(), (on,)).await?;
    Ok(())
}

#[actix_rt::test]
async fn a_checkpoint_is_posted_once_through_fee_bumps_and_a_restart() -> TestResult {
    let chain = chain().await?;
    let dir = tempfile::tempdir()?;
    let mut config_bump = chain.config(dir.path());
    config_bump.submitter.bump_after_secs = 1;
    let start = || {
        service::start(AggregatorSetup {
            config: config_bump.clone(),
            submitter: chain.submitter.clone(),
            deployment: chain.deployment.clone(),
        })
    };
    let aggregator = start().await?;
    let api = Api::new(&aggregator);
    let proposal = api.next_proposal(None).await?;
    let nonce = chain.provider.get_transaction_count(chain.submitter.address()).await?;

    // L1 stops including transactions: the submission waits in the pool
    // and its fee is bumped, always at the one nonce pinned to it.
    set_automine(&chain.provider, false).await?;
    for index in 0..3 {
        api.sign(&chain.sign(index, &proposal)).await?;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !api.text(routes::METRICS).await?.contains("chorus_l1_transactions_total{kind=\"bump\"}")
    {
        assert!(tokio::time::Instant::now() < deadline, "no fee bump within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    aggregator.stop().await;

    // Restarted while the transaction is still pending: the pinned
    // submission is resumed, not built again.
    let aggregator = start().await?;
    let api = Api::new(&aggregator);
    assert_eq!(api.checkpoint(proposal.checkpoint_id).await?.state, CheckpointState::Submitting);
    mine(&chain.provider, 1).await?;
    set_automine(&chain.provider, true).await?;
    let attested = api.wait_for(proposal.checkpoint_id, CheckpointState::Attested).await?;
    assert_eq!(Some(chain.attested_at(proposal.commitments_root).await?), attested.l1_block);
    aggregator.stop().await;

    let after = chain.provider.get_transaction_count(chain.submitter.address()).await?;
    assert_eq!(after, nonce + 1, "exactly one transaction included");
    let store =
        chorus_aggregator::service::store::Store::open(&dir.path().join("aggregator.sqlite"))?;
    let submission = store.submission(proposal.checkpoint_id)?.ok_or("no pinned submission")?;
    assert_eq!(submission.nonce, nonce);
    assert!(submission.broadcasts.len() >= 2, "first send and at least one bump");
    let mut included = 0;
    for broadcast in &submission.broadcasts {
        if chain.provider.get_transaction_receipt(broadcast.tx_hash).await?.is_some() {
            included += 1;
        }
    }
    assert_eq!(included, 1, "one of the recorded transactions was included");
    Ok(())
}
