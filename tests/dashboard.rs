//! The aggregator's dashboard in a real browser against a live devnet (real
//! anvil L1 and L2s, EigenLayer and Chorus from their real bytecode, one
//! operator reading a lying L2 node so that rejections and divergences show):
//! headless Chromium (Debian's `chromium`, driven by `playwright-core`
//! through `tests/browser/dashboard.mjs`) loads the page, and every number
//! it displays is checked against L1 itself.
//!
//! Needs `tests/browser/bootstrap` to have run (`scripts/test` runs it).
//! The screenshots are written to `target/tmp/dashboard*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    process::Stdio,
    str::FromStr,
    time::{Duration, Instant},
};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use chorus_contracts::{IChorusAttestations, table::fetch_latest_table};
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_tests::{BoxError, api::get_json, api::wait_for, lying_rpc::LyingRpc};
use chorus_wire::{AggregatorStatus, CheckpointState, CheckpointStatus, Divergence};
use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

/// What `dashboard.mjs` reads off the page (see its `readPage`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Readings {
    connection: Connection,
    first_render_ms: Option<u64>,
    rollups: Vec<RollupRow>,
    checkpoints: Vec<CheckpointRow>,
    grid: Grid,
    divergences: Vec<DivergenceRow>,
}

#[derive(Debug, Deserialize)]
struct Connection {
    state: String,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RollupRow {
    rollup_id: u64,
    attested: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointRow {
    id: u64,
    state: String,
    tx: Option<String>,
    l1_block: String,
    weight_text: String,
    signed_weight: String,
}

#[derive(Debug, Deserialize)]
struct Grid {
    operators: Vec<String>,
    cells: Vec<Cell>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cell {
    operator: String,
    checkpoint_id: u64,
    status: String,
    reasons: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DivergenceRow {
    operator: String,
}

/// One line of `dashboard.mjs`'s output.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    event: String,
    readings: Readings,
    #[serde(default)]
    shown_after_ms: Option<u64>,
    #[serde(default)]
    page_bytes: HashMap<String, u64>,
    #[serde(default)]
    screenshot: Option<PathBuf>,
}

/// `dashboard.mjs --interactive` running against the dashboard.
struct BrowserTest {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl BrowserTest {
    fn start(url: &str, screenshot: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/dashboard.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .args(["--url", url, "--interactive", "--timeout-ms"])
            .arg(LONG.as_millis().to_string())
            .arg("--screenshot")
            .arg(screenshot)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs tests/browser/dashboard.mjs: install Node.js 20 or newer");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, stdin, stdout }
    }

    /// The next event, which must be `expected`; fails if the script ends
    /// (its stderr, shown above, says why) or says nothing in time.
    async fn next(&mut self, expected: &str) -> Event {
        let line = tokio::time::timeout(LONG * 2, self.stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("dashboard.mjs printed no {expected:?} in time"))
            .unwrap();
        let Some(line) = line else {
            let status = self.child.wait().await.unwrap();
            panic!("dashboard.mjs ended ({status}) before {expected:?}: see its message above");
        };
        let event: Event = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("dashboard.mjs printed {line}: {e}"));
        assert_eq!(event.event, expected, "{line}");
        event
    }

    async fn command(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{command}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Closes its stdin and checks it ended well.
    async fn finish(mut self) {
        drop(self.stdin.take());
        let status = tokio::time::timeout(LONG, self.child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "dashboard.mjs failed: {status}");
    }
}

fn address(text: &str) -> Address {
    Address::from_str(text).unwrap_or_else(|e| panic!("the page shows {text:?}: {e}"))
}

/// A number as displayed (`12,345`).
fn displayed_number(text: &str) -> u64 {
    text.replace(',', "").parse().unwrap_or_else(|e| panic!("the page shows {text:?}: {e}"))
}

/// The whole tokens of a weight (18 decimals) as the page writes them.
fn whole_tokens(weight: U256) -> String {
    let whole = (weight / U256::from(10u64).pow(U256::from(18))).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Sets up the devnet with operator 0 reading `rollup_ids()[0]` through a
/// lying node, so that it rejects with `mismatch` and divergences show.
async fn devnet_with_a_liar(dir: &tempfile::TempDir) -> (Devnet, LyingRpc) {
    let options = DevnetOptions {
        operators: 4,
        rollups: 2,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    let mut devnet = Devnet::setup(options).await.unwrap();
    let lying_rollup = devnet.options().rollup_ids()[0];
    let upstream = devnet.info().rollup_rpc(lying_rollup).unwrap().to_owned();
    let proxy = LyingRpc::start(&upstream).unwrap();
    let mut config = devnet.operator_config(0).unwrap().clone();
    for rollup in config.rollups.iter_mut().filter(|r| r.id == lying_rollup) {
        rollup.rpc_url = proxy.url().to_owned();
    }
    devnet.set_operator_config(0, config).unwrap();
    devnet.wait_for_rollups(LONG).await.unwrap();
    devnet.start_aggregator().await.unwrap();
    for index in 0..devnet.operator_count() {
        devnet.start_operator(index).await.unwrap();
    }
    (devnet, proxy)
}

/// The newest checkpoint id the aggregator has proposed (0 before any).
async fn latest_checkpoint_id(devnet: &Devnet) -> u64 {
    let statuses: Vec<CheckpointStatus> =
        get_json(devnet.aggregator_url(), "/v1/checkpoints?limit=1").await.unwrap();
    statuses.iter().map(|s| s.proposal.checkpoint_id).max().unwrap_or(0)
}

/// Waits until nothing more can land: no checkpoint is being submitted and
/// the aggregator's attested heights are L1's.
async fn wait_until_settled(devnet: &Devnet) -> HashMap<u64, u64> {
    let attestations =
        IChorusAttestations::new(devnet.deployment().chorus.attestations, devnet.l1());
    wait_for("the last checkpoints to settle on L1", LONG, || async {
        let statuses: Vec<CheckpointStatus> =
            get_json(devnet.aggregator_url(), "/v1/checkpoints?limit=1000").await?;
        if statuses.iter().any(|s| s.state == CheckpointState::Submitting) {
            return Ok(None);
        }
        let overview: AggregatorStatus = get_json(devnet.aggregator_url(), "/v1/status").await?;
        let mut on_l1 = HashMap::new();
        for rollup in &overview.rollups {
            let latest = attestations.latestCommitment(rollup.rollup_id).call().await?;
            if rollup.attested != Some(latest.commitment.l2BlockNumber) {
                return Ok(None);
            }
            on_l1.insert(rollup.rollup_id, latest.commitment.l2BlockNumber);
        }
        Ok::<_, BoxError>(Some(on_l1))
    })
    .await
    .unwrap()
}

/// Every displayed L1 transaction is mined, calls the attestation contract,
/// sits in the displayed block and carries the displayed signed weight.
async fn assert_transactions_are_on_l1(devnet: &Devnet, readings: &Readings) -> usize {
    let attested: HashMap<B256, U256> = devnet
        .attested_checkpoints()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.tx_hash, c.signed_weight))
        .collect();
    let mut checked = 0;
    for row in &readings.checkpoints {
        let Some(tx) = &row.tx else { continue };
        let hash = B256::from_str(tx).unwrap();
        let transaction = devnet.l1().get_transaction_by_hash(hash).await.unwrap();
        let transaction =
            transaction.unwrap_or_else(|| panic!("checkpoint {}: {tx} is not on L1", row.id));
        assert_eq!(transaction.to(), Some(devnet.deployment().chorus.attestations), "{tx}");
        let receipt = devnet.l1().get_transaction_receipt(hash).await.unwrap().unwrap();
        assert!(receipt.status(), "{tx} reverted");
        assert_eq!(row.state, "attested", "checkpoint {} is mined in {tx}", row.id);
        assert_eq!(Some(displayed_number(&row.l1_block)), receipt.block_number, "{tx}");
        let on_l1 = attested.get(&hash).unwrap_or_else(|| panic!("{tx} attested nothing"));
        assert_eq!(&U256::from_str(&row.signed_weight).unwrap(), on_l1, "checkpoint {}", row.id);
        assert!(
            row.weight_text.starts_with(&whole_tokens(*on_l1)),
            "checkpoint {} shows {:?} for {on_l1}",
            row.id,
            row.weight_text
        );
        checked += 1;
    }
    checked
}

#[actix_rt::test]
async fn the_dashboard_shows_what_l1_holds_and_updates_live() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut devnet, proxy) = devnet_with_a_liar(&dir).await;
    let liar = devnet.info().operators[0].address;
    devnet.wait_for_checkpoints(2, LONG).await.unwrap();
    wait_for("a divergence reported", LONG, || async {
        let reports: Vec<Divergence> = get_json(devnet.aggregator_url(), "/v1/divergences").await?;
        Ok((!reports.is_empty()).then_some(()))
    })
    .await
    .unwrap();
    let devnet_ready = started.elapsed();

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let url = format!("{}/", devnet.aggregator_url());
    let browser_started = Instant::now();
    let mut browser = BrowserTest::start(&url, &screenshot);

    // First render: data on screen, the page's own files only.
    let loaded = browser.next("loaded").await;
    let page_bytes: u64 = loaded.page_bytes.values().sum();
    let paths: HashSet<&str> = loaded.page_bytes.keys().map(String::as_str).collect();
    assert_eq!(paths, HashSet::from(["/", "/dashboard.js", "/dashboard.css"]));
    assert_eq!(loaded.readings.connection.state, "live", "{:?}", loaded.readings.connection);
    let first_render = loaded.readings.first_render_ms.unwrap();

    // Live: a checkpoint attested after the first reading appears without
    // a reload (the script checks that the page was not reloaded).
    let live = browser.next("live").await;
    let screenshot = live.screenshot.unwrap();
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000, "a real screenshot");
    let newest_attested = |readings: &Readings| {
        readings.checkpoints.iter().filter(|c| c.state == "attested").map(|c| c.id).max()
    };
    assert!(
        newest_attested(&live.readings) > newest_attested(&loaded.readings),
        "a checkpoint attested after the page loaded is shown"
    );
    // The grid at that moment: the liar refused the rollup it disagrees on.
    let liar_cells: Vec<&Cell> =
        live.readings.grid.cells.iter().filter(|c| address(&c.operator) == liar).collect();
    assert!(
        liar_cells.iter().any(|c| c.status == "rejected" && c.reasons == ["mismatch"]),
        "the grid shows the liar's mismatch: {liar_cells:?}"
    );
    assert!(!live.readings.divergences.is_empty());
    for row in &live.readings.divergences {
        assert_eq!(address(&row.operator), liar);
    }

    // Stop two of four: no quorum, nothing more lands; then the page must
    // show exactly what L1 holds.
    devnet.stop_operator(2).await.unwrap();
    devnet.stop_operator(3).await.unwrap();
    let stopped_at = latest_checkpoint_id(&devnet).await;
    wait_for("a checkpoint proposed after the stop", LONG, || async {
        Ok((latest_checkpoint_id(&devnet).await > stopped_at).then_some(()))
    })
    .await
    .unwrap();
    let on_l1 = wait_until_settled(&devnet).await;
    browser.command("read").await;
    let settled = browser.next("read").await.readings;
    let shown: HashMap<u64, u64> =
        settled.rollups.iter().map(|r| (r.rollup_id, displayed_number(&r.attested))).collect();
    assert_eq!(shown, on_l1, "each rollup's attested height as L1 has it");
    let mined = assert_transactions_are_on_l1(&devnet, &settled).await;
    assert!(mined >= 2, "checkpoints with an L1 transaction on the page: {mined}");

    // The grid has a row for every operator of the table, and each
    // attested column adds up to the signed weight shown.
    let table = fetch_latest_table(devnet.l1(), devnet.deployment().chorus.registry).await.unwrap();
    let weights: HashMap<Address, U256> =
        table.entries().iter().map(|e| (e.operator, e.weight)).collect();
    let rows: HashSet<Address> = settled.grid.operators.iter().map(|o| address(o)).collect();
    assert_eq!(rows, weights.keys().copied().collect::<HashSet<_>>());
    for row in settled.checkpoints.iter().filter(|c| c.state == "attested") {
        let signed: U256 = settled
            .grid
            .cells
            .iter()
            .filter(|c| c.checkpoint_id == row.id && c.status == "signed")
            .map(|c| weights[&address(&c.operator)])
            .sum();
        assert_eq!(signed.to_string(), row.signed_weight, "grid column {}", row.id);
    }
    let stopped: HashSet<Address> =
        [2, 3].iter().map(|&i| devnet.info().operators[i].address).collect();
    let after_stop: Vec<&CheckpointRow> =
        settled.checkpoints.iter().filter(|c| c.id > stopped_at).collect();
    assert!(!after_stop.is_empty(), "the page shows the checkpoints proposed after the stop");
    for row in after_stop {
        assert_ne!(row.state, "attested", "no quorum after the stop: {row:?}");
    }
    let after_stop_cells: Vec<&Cell> = settled
        .grid
        .cells
        .iter()
        .filter(|c| c.checkpoint_id > stopped_at && stopped.contains(&address(&c.operator)))
        .collect();
    assert!(!after_stop_cells.is_empty());
    for cell in after_stop_cells {
        assert!(matches!(cell.status.as_str(), "pending" | "missed"), "{cell:?}");
    }

    // The aggregator goes away: the page says its data is stale.
    devnet.stop_aggregator().await;
    browser.command("unreachable").await;
    let gone = browser.next("unreachable").await.readings;
    assert_ne!(gone.connection.state, "live");
    assert!(gone.connection.text.starts_with("Stale"), "{:?}", gone.connection);
    browser.finish().await;
    let browser_time = browser_started.elapsed();

    println!("screenshot: {}", screenshot.display());
    println!(
        "page weight {page_bytes} bytes ({:?}); data on screen {} ms after navigation \
         (page's own clock: {first_render} ms); devnet ready in {devnet_ready:?}, \
         browser part {browser_time:?}, whole test {:?}",
        loaded.page_bytes,
        loaded.shown_after_ms.unwrap_or_default(),
        started.elapsed()
    );
    devnet.shutdown().await;
    proxy.stop().await;
}
