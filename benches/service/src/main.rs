//! Load driver for the aggregator service (issue "Performance", item 5):
//! the hot path of signatures arriving over HTTP, beyond the quorum
//! collector's BLS work: actix-web's JSON decoding, the `Checkpoints`
//! actor, the `Collectors` thread, the store's writes and the receipt sent
//! back.
//!
//! It stands up a real chain (anvil L1 with EigenLayer and Chorus, `N`
//! operators registered through the real EigenLayer flow, two anvil L2s),
//! starts the aggregator in this process on its own thread, and then plays
//! the `N` operators: for each checkpoint the aggregator proposes it signs
//! the proposal with every operator's key (not timed) and posts the `N`
//! signatures with `--concurrency` requests in flight, timing each request
//! and the whole checkpoint. Between checkpoints it mines one block on each
//! L2, so the proposer proposes the next one.
//!
//! The driver runs on the main thread only (a current-thread runtime), so
//! under `valgrind --tool=callgrind --separate-threads=yes
//! --instr-atstart=no` (with `--callgrind`, which switches instrumentation
//! on for the load only; `--collect-atstart=no` would collect nothing) every thread but the first is the aggregator's.
//!
//! Run: `cargo run --release -p chorus-bench-service -- --operators 100`
//!
//! A benchmark, never a test: it prints figures and fails only when the
//! aggregator refuses a valid signature.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder,
    primitives::U256,
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use chorus_aggregator::service::{
    self, AggregatorConfig, AggregatorSetup,
    config::{AggregatorApiConfig, ProposerConfig, StoreConfig, SubmitterConfig},
};
use chorus_deploy::{
    anvil::{mine, spawn_anvil_with},
    chorus::{ChorusConfig, L1Config, Rollup},
};
use chorus_rollup::{RollupConfig, Safety};
use chorus_tests::Devchain;
use chorus_wire::{Proposal, SignedCheckpoint, routes};
use clap::Parser;
use eyre::{WrapErr, bail, eyre};
use futures::{StreamExt, stream};

/// The L2s' chain ids (each one a listed rollup).
const ROLLUPS: [u64; 2] = [901, 902];

/// Longest wait for the next proposal.
const PROPOSAL_WAIT_SECS: u64 = 30;

#[derive(Debug, Parser)]
#[command(about = "Operators posting signatures to a running aggregator, measured")]
struct Args {
    /// Registered operators; each signs every checkpoint.
    #[arg(long, default_value_t = 100)]
    operators: usize,
    /// Checkpoints signed; the first is a warm-up, left out of the summary.
    #[arg(long, default_value_t = 6)]
    rounds: usize,
    /// Requests in flight at once (as many operators posting at the same time).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Switch callgrind's instrumentation on for the load only (run under
    /// `valgrind --tool=callgrind --instr-atstart=no`).
    #[arg(long)]
    callgrind: bool,
    /// Where the aggregator's SQLite store goes (a fresh folder inside it);
    /// e.g. `/dev/shm` to see what the store's fsyncs cost.
    #[arg(long)]
    store_in: Option<std::path::PathBuf>,
}

/// One request's outcome.
struct Sent {
    latency: Duration,
    status: u16,
    response_bytes: usize,
    body: Option<String>,
}

/// One checkpoint's load.
struct Round {
    checkpoint_id: u64,
    wall: Duration,
    sent: Vec<Sent>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let args = Args::parse();
    if args.operators == 0 || args.rounds < 2 || args.concurrency == 0 {
        bail!("--operators and --concurrency must be positive and --rounds at least 2");
    }
    let started = Instant::now();
    let config = ChorusConfig {
        rollups: ROLLUPS
            .iter()
            .map(|id| Rollup { chain_id: *id, name: format!("rollup {id}") })
            .collect(),
        ..ChorusConfig::default()
    };
    let chain = Devchain::start(&config, args.operators)
        .await
        .map_err(|e| eyre!("cannot stand up the L1 with {} operators: {e}", args.operators))?;
    chain.update_table().await.map_err(|e| eyre!("cannot publish the operator table: {e}"))?;
    let l2s = ROLLUPS
        .iter()
        .map(|id| spawn_anvil_with(|anvil| anvil.chain_id(*id)))
        .collect::<Result<Vec<_>, _>>()?;
    for l2 in &l2s {
        mine(&ProviderBuilder::new().connect_http(l2.endpoint_url()), 3).await?;
    }
    let submitter = funded_submitter(&chain).await?;
    eprintln!(
        "set up: {} operators registered, table published, in {:.1} s",
        args.operators,
        started.elapsed().as_secs_f64()
    );

    let store = match &args.store_in {
        Some(parent) => tempfile::tempdir_in(parent)?,
        None => tempfile::tempdir()?,
    };
    let aggregator_config = AggregatorConfig {
        l1: L1Config {
            rpc_url: chain.anvil.endpoint(),
            deployment: store.path().join("deployment.json"),
        },
        submitter: SubmitterConfig {
            keystore: store.path().join("unused-keystore.json"),
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
            .zip(&l2s)
            .map(|(id, l2)| RollupConfig {
                id: *id,
                rpc_url: l2.endpoint(),
                safety: Safety::Confirmations(0),
            })
            .collect(),
        api: AggregatorApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            // The driver posts every operator's signature from one address,
            // as fast as the aggregator takes them.
            rate_limit_per_second: 0,
            ..AggregatorApiConfig::default()
        },
        store: StoreConfig { path: store.path().join("aggregator.sqlite") },
        proposer: ProposerConfig { interval_ms: 100, proposal_timeout_secs: 60 },
        watcher: Default::default(),
    };
    let aggregator = Aggregator::start(AggregatorSetup {
        config: aggregator_config,
        submitter,
        deployment: chain.deployment.clone(),
    })?;
    let base = format!("http://{}", aggregator.api_addr);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        // Below actix-web's keep-alive (5 s), so that the pool does not
        // reuse connections the server is closing.
        .pool_idle_timeout(Duration::from_secs(2))
        .build()?;
    let mut rounds = Vec::new();
    let mut after = None;
    for round in 0..args.rounds {
        if round > 0 {
            for l2 in &l2s {
                mine(&ProviderBuilder::new().connect_http(l2.endpoint_url()), 1).await?;
            }
        }
        let proposal = next_proposal(&client, &base, after).await?;
        after = Some(proposal.checkpoint_id);
        let signed: Vec<SignedCheckpoint> = chain
            .operators
            .iter()
            .map(|operator| sign(&operator.bls, operator.address, &proposal))
            .collect();
        // The warm-up round is not instrumented either.
        let instrument = args.callgrind && round > 0;
        if instrument {
            callgrind_instrumentation(true)?;
        }
        let measured = post_all(&client, &base, signed, args.concurrency).await;
        if instrument {
            callgrind_instrumentation(false)?;
        }
        let measured = Round { checkpoint_id: proposal.checkpoint_id, ..measured };
        if let Some(refused) = measured.sent.iter().find(|s| s.status != 200) {
            bail!(
                "checkpoint {}: the aggregator answered {} to a valid signature: {}",
                measured.checkpoint_id,
                refused.status,
                refused.body.as_deref().unwrap_or("")
            );
        }
        eprintln!(
            "checkpoint {}: {} signatures in {:.1} ms",
            measured.checkpoint_id,
            measured.sent.len(),
            measured.wall.as_secs_f64() * 1000.0
        );
        rounds.push(measured);
    }
    aggregator.stop();
    print_summary(&args, &rounds[1..]);
    Ok(())
}

/// A fresh submitter key with 100 ETH from the deployer.
async fn funded_submitter(chain: &Devchain) -> eyre::Result<PrivateKeySigner> {
    let submitter = PrivateKeySigner::random();
    let funding = TransactionRequest::default()
        .with_from(chain.deployer)
        .with_to(submitter.address())
        .with_value(U256::from(100u128 * 10u128.pow(18)));
    chain.provider.send_transaction(funding).await?.get_receipt().await?;
    Ok(submitter)
}

/// Operator `address`'s signature of `proposal`, as its node makes it.
fn sign(
    key: &chorus_keys::bls::SecretKey,
    address: alloy::primitives::Address,
    proposal: &Proposal,
) -> SignedCheckpoint {
    proposal.signed_by(address, &key.sign(proposal.message().as_slice()).to_bytes())
}

/// The first open proposal after `after` (long poll).
async fn next_proposal(
    client: &reqwest::Client,
    base: &str,
    after: Option<u64>,
) -> eyre::Result<Proposal> {
    let mut url = format!("{base}{}?wait={PROPOSAL_WAIT_SECS}", routes::NEXT_PROPOSAL);
    if let Some(after) = after {
        url.push_str(&format!("&after={after}"));
    }
    let response = client.get(&url).send().await?;
    if response.status() != 200 {
        bail!("no proposal after {after:?} within {PROPOSAL_WAIT_SECS} s ({})", response.status());
    }
    response.json().await.wrap_err("the proposal does not decode")
}

/// Posts every signature, `concurrency` at a time; times each and all.
async fn post_all(
    client: &reqwest::Client,
    base: &str,
    signed: Vec<SignedCheckpoint>,
    concurrency: usize,
) -> Round {
    let url = format!("{base}{}", routes::SIGNATURES);
    let start = Instant::now();
    let sent = stream::iter(signed)
        .map(|signature| {
            let url = &url;
            async move {
                let begun = Instant::now();
                let mut sent = client.post(url).json(&signature).send().await;
                // A pooled connection the server closed while idle fails
                // before the request leaves: send it once more (at worst
                // the aggregator answers `duplicate`, also a 200).
                if sent.as_ref().is_err_and(reqwest::Error::is_request) {
                    sent = client.post(url).json(&signature).send().await;
                }
                match sent {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.bytes().await.unwrap_or_default();
                        Sent {
                            latency: begun.elapsed(),
                            status,
                            response_bytes: body.len(),
                            body: (status != 200)
                                .then(|| String::from_utf8_lossy(&body).into_owned()),
                        }
                    }
                    Err(error) => Sent {
                        latency: begun.elapsed(),
                        status: 0,
                        response_bytes: 0,
                        body: Some(error.to_string()),
                    },
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    Round { checkpoint_id: 0, wall: start.elapsed(), sent }
}

fn print_summary(args: &Args, rounds: &[Round]) {
    let mut latencies: Vec<Duration> =
        rounds.iter().flat_map(|r| r.sent.iter().map(|s| s.latency)).collect();
    latencies.sort();
    let mut rates: Vec<f64> =
        rounds.iter().map(|r| r.sent.len() as f64 / r.wall.as_secs_f64()).collect();
    rates.sort_by(f64::total_cmp);
    let signatures: usize = rounds.iter().map(|r| r.sent.len()).sum();
    let bytes: usize = rounds.iter().flat_map(|r| r.sent.iter().map(|s| s.response_bytes)).sum();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| operators | concurrency | checkpoints | signatures/s (median, min-max) | p50 | p90 | p99 | max | receipt bytes |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} | {:.0} ({:.0}-{:.0}) | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
        args.operators,
        args.concurrency,
        rounds.len(),
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1],
        ms(percentile(&latencies, 50)),
        ms(percentile(&latencies, 90)),
        ms(percentile(&latencies, 99)),
        ms(latencies[latencies.len() - 1]),
        bytes / signatures.max(1),
    );
}

/// The `p`th percentile of sorted `values` (nearest rank).
fn percentile(values: &[Duration], p: usize) -> Duration {
    let rank = (values.len() * p).div_ceil(100).max(1);
    values[rank.min(values.len()) - 1]
}

/// Switches callgrind's instrumentation for this process on or off.
fn callgrind_instrumentation(on: bool) -> eyre::Result<()> {
    let state = if on { "on" } else { "off" };
    let status = std::process::Command::new("callgrind_control")
        .args(["-i", state, &std::process::id().to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .wrap_err("callgrind_control did not run (is valgrind installed?)")?;
    if !status.success() {
        bail!("callgrind_control -i {state} failed: is this process running under callgrind?");
    }
    Ok(())
}

/// The aggregator on its own thread, in its own actix system.
struct Aggregator {
    api_addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Aggregator {
    fn start(setup: AggregatorSetup) -> eyre::Result<Self> {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("aggregator".into()).spawn(move || {
            actix_rt::System::new().block_on(async move {
                match service::start(setup).await {
                    Ok(handle) => {
                        let _ = started_tx.send(Ok(handle.api_addr()));
                        let _ = stop_rx.await;
                        handle.stop().await;
                    }
                    Err(error) => {
                        let _ = started_tx.send(Err(error.to_string()));
                    }
                }
            });
        })?;
        let api_addr = started_rx
            .recv()
            .map_err(|_| eyre!("the aggregator thread ended before starting"))?
            .map_err(|error| eyre!("the aggregator did not start: {error}"))?;
        Ok(Self { api_addr, stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
