//! Monitoring end to end: a devnet's operator and aggregator serve the
//! EigenLayer AVS node specification's metrics with sensible values, and
//! every metric the Prometheus alert rules and the Grafana dashboard in
//! `docker/` use is one the services serve.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{collections::BTreeSet, path::PathBuf, time::Duration};

use chorus_devnet::{Devnet, DevnetOptions};
use chorus_tests::{
    BoxError,
    api::{get_text, wait_for},
};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

/// One sample of the text exposition: `name{labels} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: String,
    value: f64,
}

/// What a `/metrics` page serves.
#[derive(Debug)]
struct Exposition {
    samples: Vec<Sample>,
    /// Metric families from `# TYPE` lines (counters without `_total`),
    /// including families that have no sample yet.
    families: BTreeSet<String>,
}

impl Exposition {
    fn parse(text: &str) -> Self {
        let mut samples = Vec::new();
        let mut families = BTreeSet::new();
        for line in text.lines() {
            if let Some(family) = line.strip_prefix("# TYPE ") {
                families.extend(family.split_whitespace().next().map(str::to_owned));
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let value = value.parse().unwrap_or_else(|_| panic!("sample value in {line:?}"));
            samples.push(Sample { name: name.to_owned(), labels: labels.to_owned(), value });
        }
        Self { samples, families }
    }

    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |sample| sample.name == name)
    }

    fn sum(&self, name: &str) -> f64 {
        self.named(name).map(|sample| sample.value).sum()
    }

    /// Whether `name` (as a query writes it: `x_total`, `x_bucket`, ...)
    /// is served.
    fn serves(&self, name: &str) -> bool {
        if self.samples.iter().any(|sample| sample.name == name) || self.families.contains(name) {
            return true;
        }
        ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .any(|family| self.families.contains(family))
    }
}

async fn scrape(base: &str) -> Result<Exposition, BoxError> {
    let (status, text) = get_text(base, "/metrics").await?;
    if status != 200 {
        return Err(format!("GET {base}/metrics: {status}").into());
    }
    Ok(Exposition::parse(&text))
}

fn docker_file(path: &str) -> (PathBuf, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docker").join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    (path, text)
}

/// Every `eigen_...` or `chorus_...` word in `text` (metric names in
/// PromQL; job names and uids use `chorus-`, so they do not match).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    for (start, _) in text.match_indices(['e', 'c']) {
        let rest = &text[start..];
        if !(rest.starts_with("eigen_") || rest.starts_with("chorus_")) {
            continue;
        }
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        // A bare prefix (`eigen_*` in prose) names no metric.
        if !name.ends_with('_') {
            names.insert(name.to_owned());
        }
    }
    names
}

/// The expressions of every Grafana panel target.
fn dashboard_queries(dashboard: &serde_json::Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().expect("the dashboard has panels");
    panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .map(|target| target["expr"].as_str().expect("every target has an expr").to_owned())
        .collect()
}

/// A light structural check of a YAML file (no YAML parser in the tree):
/// spaces only, no empty keys, nothing but comments before the first key.
fn assert_plausible_yaml(path: &PathBuf, text: &str) {
    assert!(!text.contains('\t'), "{path:?}: YAML indents with spaces only");
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.is_empty() || code.starts_with('#') {
            continue;
        }
        let indent = line.len() - code.len();
        assert_eq!(indent % 2, 0, "{path:?} line {}: odd indentation", number + 1);
        assert!(!code.starts_with(':'), "{path:?} line {}: empty key", number + 1);
    }
}

/// Every file of this repository a compose file mounts (`./prometheus/...`,
/// `./grafana/...`) exists; the operator's own files (`./operator/...`)
/// are the user's to provide.
fn assert_shipped_files_exist(path: &PathBuf, text: &str) {
    let docker = path.parent().unwrap();
    let mounted = text
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("- ./"))
        .filter_map(|mount| mount.split(':').next());
    let mut checked = 0;
    for file in mounted.filter(|f| f.starts_with("prometheus/") || f.starts_with("grafana/")) {
        assert!(docker.join(file).exists(), "{path:?} mounts {file}, which is missing");
        checked += 1;
    }
    assert!(checked >= 3, "{path:?}: {checked} files checked");
}

#[test]
fn alert_rules_and_dashboard_parse() {
    let (path, alerts) = docker_file("prometheus/alerts.yml");
    assert_plausible_yaml(&path, &alerts);
    assert!(alerts.starts_with("groups:") || alerts.contains("\ngroups:"), "{path:?}");
    let rules = alerts.matches("- alert: ").count();
    assert_eq!(rules, alerts.matches("    expr: ").count(), "{path:?}: one expr per alert");
    assert!(rules >= 8, "{path:?}: {rules} rules");
    for file in [
        "prometheus/prometheus.yml",
        "prometheus/scrape/operator.yml",
        "prometheus/scrape/aggregator.yml",
        "prometheus/scrape/devnet.yml",
        "grafana/provisioning/datasources/prometheus.yml",
        "grafana/provisioning/dashboards/chorus.yml",
    ] {
        let (path, text) = docker_file(file);
        assert_plausible_yaml(&path, &text);
    }
    for file in ["operator.compose.yml", "aggregator.compose.yml", "devnet.compose.yml"] {
        let (path, text) = docker_file(file);
        assert_plausible_yaml(&path, &text);
        assert_shipped_files_exist(&path, &text);
    }
    let (path, text) = docker_file("grafana/dashboards/chorus.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let queries = dashboard_queries(&dashboard);
    assert!(queries.len() >= 15, "{path:?}: {} queries", queries.len());
    assert!(queries.iter().all(|query| !metric_names(query).is_empty()), "{queries:?}");
}

#[actix_rt::test]
async fn services_serve_the_specification_metrics_and_every_name_monitoring_uses() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 3,
        rollups: 2,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    let devnet = Devnet::start(options).await.unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();

    // (a) The specification's names on an operator, with sensible values.
    let operator_url = devnet.info().operators[0].api_url.clone();
    let operator = wait_for("operator performance score 100", LONG, || async {
        let exposition = scrape(&operator_url).await?;
        Ok((exposition.sum("eigen_performance_score") == 100.0).then_some(exposition))
    })
    .await
    .unwrap();
    let stakes: Vec<&Sample> = operator.named("eigen_registered_stakes").collect();
    assert_eq!(stakes.len(), 1, "{stakes:?}");
    assert!(stakes[0].value > 0.0, "{stakes:?}");
    assert!(stakes[0].labels.contains("quorum_number=\"0\""), "{stakes:?}");
    assert!(stakes[0].labels.contains("quorum_name=\"chorus\""), "{stakes:?}");
    assert_rpc_metrics("operator", &operator);

    // The aggregator counts its RPC requests too, and its own metrics.
    // Its submitter learns of the attestation from the receipt, possibly
    // after the devnet saw it on L1.
    let aggregator_url = devnet.aggregator_url().to_owned();
    let aggregator = wait_for("the aggregator to count an attestation", LONG, || async {
        let exposition = scrape(&aggregator_url).await?;
        Ok((exposition.sum("chorus_checkpoints_attested_total") >= 1.0).then_some(exposition))
    })
    .await
    .unwrap();
    assert_rpc_metrics("aggregator", &aggregator);
    assert!(aggregator.sum("chorus_submitter_balance_ether") > 0.0);

    // (b) Every name the alerts and the dashboard use is served.
    let (_, alerts) = docker_file("prometheus/alerts.yml");
    let (_, dashboard) = docker_file("grafana/dashboards/chorus.json");
    let used: BTreeSet<String> =
        metric_names(&alerts).into_iter().chain(metric_names(&dashboard)).collect();
    assert!(used.len() >= 15, "{used:?}");
    let missing: Vec<&String> =
        used.iter().filter(|name| !operator.serves(name) && !aggregator.serves(name)).collect();
    assert!(missing.is_empty(), "used by monitoring but served by neither service: {missing:?}");
    devnet.shutdown().await;
}

/// RPC requests counted per method against anvil (the devnet's L1 and
/// L2s), each timed.
fn assert_rpc_metrics(service: &str, exposition: &Exposition) {
    let requests: Vec<&Sample> = exposition.named("eigen_rpc_request_total").collect();
    assert!(exposition.sum("eigen_rpc_request_total") > 0.0, "{service}: {requests:?}");
    assert!(
        requests.iter().any(|sample| sample.labels.contains("method=\"eth_blockNumber\"")
            && sample.labels.contains("client_version=\"anvil/")),
        "{service}: {requests:?}"
    );
    assert!(exposition.sum("eigen_rpc_request_duration_seconds_count") > 0.0, "{service}");
    assert!(exposition.serves("chorus_rpc_request_errors_total"), "{service}");
    for sample in &requests {
        assert!(!sample.labels.contains("http"), "{service}: no URL in labels: {sample:?}");
    }
}
