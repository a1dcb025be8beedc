//! `chorus operator status --config FILE [--json]`: what is wrong with this
//! operator, in plain words, and what to do about it.
//!
//! The checks live in [`chorus_operator::status`]; here each finding gets
//! its remedy, naming the command to run with this operator's own files,
//! and the report is printed one line per check, then a summary (or as one
//! JSON object with `--json`). No password is asked for.
//!
//! Exit status: 0 when no check found a problem (warnings may be shown),
//! [`PROBLEMS_EXIT`] when at least one did, 1 when the status could not be
//! checked at all (configuration or deployment file unreadable).

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use alloy::primitives::Address;
use chorus_operator::{
    node::NodeConfig,
    status::{self, CheckReport, Finding, Outcome, Severity, StatusReport},
};
use clap::Args;
use eyre::WrapErr;
use serde::Serialize;

use crate::{
    chain::{DEPLOYMENT_FLAG, RPC_URL_FLAG, block_on},
    config_file::{self, Loaded},
    keys::JSON_FLAG,
    password::PASSWORD_FILE_FLAG,
    protection::{BLS_KEYSTORE_FLAG, CREATE_FLAG, FILE_FLAG, STORE_FLAG},
    run::{CONFIG_FLAG, read_configured_deployment},
};

/// Exit status when at least one check found a problem.
pub const PROBLEMS_EXIT: u8 = 2;

/// Arguments of `chorus operator status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The operator node's configuration file, as `chorus operator run`
    /// takes it (CHORUS_SECTION__KEY overrides apply too).
    #[arg(long = CONFIG_FLAG, value_name = "FILE")]
    pub config: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long = JSON_FLAG)]
    pub json: bool,
}

impl StatusArgs {
    /// Checks, prints, and exits [`PROBLEMS_EXIT`] if a problem was found.
    pub fn run(self) -> eyre::Result<()> {
        let loaded: Loaded<NodeConfig> = config_file::load(&self.config)?;
        let config = &loaded.config;
        let deployment =
            read_configured_deployment(&config.l1.deployment, &loaded.origin_of("l1.deployment"))?;
        let mut report = None;
        block_on(async {
            report = Some(status::check(config, &deployment).await);
            Ok(())
        })?;
        let Some(report) = report else {
            eyre::bail!("the status check did not run");
        };
        let remedies =
            Remedies { config_file: &self.config, config, registry: deployment.chorus.registry };
        let text =
            if self.json { json_text(&report, &remedies)? } else { text(&report, &remedies) };
        // Written at once, and a closed pipe (`| head`) is an error, not a panic.
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .wrap_err("cannot write the report to stdout")?;
        if !report.is_healthy() {
            return Err(crate::CheckedNo {
                exit: PROBLEMS_EXIT,
                message: "the status check found problems (see above)".to_owned(),
            }
            .into());
        }
        Ok(())
    }
}

/// What a remedy needs to name this operator's own files.
struct Remedies<'a> {
    config_file: &'a Path,
    config: &'a NodeConfig,
    registry: Address,
}

impl Remedies<'_> {
    /// The `chorus operator register` line for this operator's files.
    fn register(&self, extra: &str) -> String {
        format!(
            "chorus operator register --{RPC_URL_FLAG} <L1 RPC URL> --ecdsa-keystore <keystore of \
             {}> --{BLS_KEYSTORE_FLAG} {} --{DEPLOYMENT_FLAG} {} --{PASSWORD_FILE_FLAG} \
             <password file>{extra}",
            self.config.operator.address,
            self.config.operator.bls_keystore.display(),
            self.config.l1.deployment.display()
        )
    }

    /// The flags naming this operator's store, deployment and key.
    fn store_flags(&self) -> String {
        let operator = &self.config.operator;
        format!(
            "--{STORE_FLAG} {} --{DEPLOYMENT_FLAG} {} --{BLS_KEYSTORE_FLAG} {}",
            operator.protection_db.display(),
            self.config.l1.deployment.display(),
            operator.bls_keystore.display()
        )
    }

    fn update_table(&self) -> String {
        format!(
            "anyone may call the registry's updateOperatorTable(), e.g. `cast send {} \
             'updateOperatorTable()' --{RPC_URL_FLAG} <L1 RPC URL> --keystore <any funded \
             keystore>`; aggregators use the new table at once",
            self.registry
        )
    }

    /// What to do about `finding`, in one sentence naming the command.
    fn remedy(&self, finding: &Finding) -> String {
        let config = self.config_file.display();
        match finding {
            Finding::L1Unreachable { .. } => {
                format!("start or repair the L1 node, or correct [l1] rpc_url in {config}")
            }
            Finding::L1WrongChain { expected, .. } => format!(
                "point [l1] rpc_url in {config} at a node of chain {expected}, or set [l1] \
                 deployment to the deployment file of the chain it serves"
            ),
            Finding::L1ReadFailed { .. } => format!(
                "check that [l1] deployment ({}) is the deployment on this L1, then run this \
                 command again",
                self.config.l1.deployment.display()
            ),
            Finding::NotAnEigenLayerOperator { operator } | Finding::NotRegistered { operator } => {
                format!(
                    "register (re-running is safe: steps already done are skipped): `{}`; if \
                     {operator} is not your operator, correct [operator] address in {config}",
                    self.register("")
                )
            }
            Finding::Ejected { .. } => "this address and its BLS key are banned for good: \
                 register a new operator address with a new BLS key (`chorus keys generate`)"
                .to_owned(),
            Finding::NoAllocation { .. } => format!(
                "allocate stake to Chorus by running registration again (it skips what is done): \
                 `{}`, then have the operator table updated",
                self.register(" --allocate-percent 100")
            ),
            Finding::AllocationPending { effect_block, .. } => {
                format!("wait for L1 block {effect_block}; then {}", self.update_table())
            }
            Finding::NoSlashableStake { .. } => format!(
                "deposit into the restaking strategy: `{}`",
                self.register(" --deposit <tokens>")
            ),
            Finding::NoTable | Finding::NotInTable { .. } => self.update_table(),
            Finding::BelowMinimumWeight { .. } => format!(
                "deposit or allocate more: `{}`",
                self.register(" --deposit <tokens> --allocate-percent 100")
            ),
            Finding::Deallocating { .. } => format!(
                "if you did not mean to leave, allocate again once it has taken effect: `{}`",
                self.register(" --allocate-percent 100")
            ),
            Finding::KeystoreUnreadable { .. } => format!(
                "correct [operator] bls_keystore in {config}; `chorus keys list --dir <key \
                 folder>` lists your keystores and their keys"
            ),
            Finding::KeyMismatch { .. } => format!(
                "point [operator] bls_keystore in {config} at the keystore of the key you \
                 registered (`chorus keys list --dir <key folder>` shows each file's key), with \
                 that key's protection store"
            ),
            Finding::KeyOfAnotherOperator { owner, .. } => format!(
                "if {owner} is your operator, set [operator] address = \"{owner}\" in {config}; \
                 otherwise use your own operator's BLS keystore"
            ),
            Finding::ProtectionMissing { .. } => format!(
                "if this key never signed for this deployment: `chorus protection create {}`; if \
                 it signed on another machine, import that machine's export instead: `chorus \
                 protection import --{CREATE_FLAG} {} --{FILE_FLAG} <export.json>`",
                self.store_flags(),
                self.store_flags()
            ),
            Finding::ProtectionOtherKey { .. } | Finding::ProtectionOtherDomain { .. } => format!(
                "point [operator] protection_db in {config} at the store of this key and \
                 deployment (`chorus protection info {}` names a store's owner); never delete a \
                 store that holds history",
                self.store_flags()
            ),
            Finding::ProtectionUnusable { .. } => format!(
                "check the file and its permissions; `chorus protection info {}` says more",
                self.store_flags()
            ),
            Finding::RollupUnreachable { rollup, .. } => format!(
                "start your node of rollup {rollup}, or correct its [[rollups]] rpc_url in {config}"
            ),
            Finding::RollupWrongChain { rollup, .. } => format!(
                "point the [[rollups]] entry with id = {rollup} in {config} at a node of chain \
                 {rollup}"
            ),
            Finding::RollupBehindL1 { rollup, .. } | Finding::RollupNoSafeBlock { rollup, .. } => {
                format!(
                    "let your node of rollup {rollup} sync (check its peers and its own L1 \
                     connection), or point its rpc_url in {config} at a synced node; until then \
                     the operator answers notYetSafe"
                )
            }
            Finding::RollupBehindAggregator { rollup, .. } => format!(
                "check that your node of rollup {rollup} is synced; if your safety depth is \
                 deliberately deeper than the aggregator's, this operator signs late or not at \
                 all: use the depth the aggregator uses"
            ),
            Finding::RollupNotListed { rollup } => format!(
                "remove the [[rollups]] entry with id = {rollup} from {config}, or ask the \
                 deployment's owner to list it"
            ),
            Finding::AggregatorUnreachable { .. } => format!(
                "check the [[aggregators]] url in {config}, that the aggregator runs, and \
                 firewalls between; the node keeps retrying meanwhile"
            ),
            Finding::AggregatorUnhealthy { .. } | Finding::AggregatorStatusUnreadable { .. } => {
                "tell the aggregator's host (its /metrics and log say more); check that the URL \
                 is the aggregator's base URL"
                    .to_owned()
            }
            Finding::AggregatorOtherDomain { .. } => format!(
                "use an aggregator of this deployment in {config}, or this aggregator's \
                 deployment file as [l1] deployment"
            ),
            Finding::NodeNotRunning { .. } => format!(
                "start it: `chorus operator run --{CONFIG_FLAG} {config}` (ignore this if it runs \
                 on another machine)"
            ),
            Finding::NodeUnhealthy { url, .. } => format!(
                "fix the services above; `curl {url}/eigen/node/services` and the node's log say \
                 why each is down"
            ),
        }
    }
}

/// A check's result word.
fn label(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "ok",
        Severity::Skipped => "skipped",
        Severity::Warning => "warning",
        Severity::Problem => "PROBLEM",
    }
}

fn message(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Passed(seen) => seen.clone(),
        Outcome::Found(finding) => finding.to_string(),
        Outcome::Skipped(why) => format!("not checked: {why}"),
    }
}

/// The report as text: one line per check (and its remedy under a
/// finding), then the summary.
fn text(report: &StatusReport, remedies: &Remedies<'_>) -> String {
    let mut text =
        format!("Chorus operator {} ({})\n\n", report.operator, remedies.config_file.display());
    let width = report.checks.iter().map(|c| c.check.to_string().len()).max().unwrap_or(0);
    for CheckReport { check, outcome } in &report.checks {
        let severity = outcome.severity();
        let line = format!(
            "  {:<8} {:<width$}  {}\n",
            label(severity),
            check.to_string(),
            message(outcome)
        );
        text.push_str(&line);
        if let Some(finding) = outcome.finding() {
            text.push_str(&format!(
                "  {:<8} {:<width$}  -> {}\n",
                "",
                "",
                remedies.remedy(finding)
            ));
        }
    }
    text.push_str(&format!("\n{}\n", summary(report)));
    text
}

/// The last line: all is well, or what needs fixing first.
fn summary(report: &StatusReport) -> String {
    let names =
        |severity| report.with_severity(severity).map(|c| c.check.to_string()).collect::<Vec<_>>();
    let (problems, warnings) = (names(Severity::Problem), names(Severity::Warning));
    let skipped = report.with_severity(Severity::Skipped).count();
    let skipped = if skipped == 0 { String::new() } else { format!(" ({skipped} not checked)") };
    if problems.is_empty() {
        let warnings = match warnings.len() {
            0 => String::new(),
            count => format!("; {count} warning(s) to read: {}", warnings.join(", ")),
        };
        return format!(
            "All is well: no problem found in {} checks{skipped}{warnings}.",
            report.checks.len()
        );
    }
    format!(
        "{} problem(s) to fix, in this order: {}{}{skipped}. Run this command again afterwards.",
        problems.len(),
        problems.join(", "),
        if warnings.is_empty() {
            String::new()
        } else {
            format!("; warnings: {}", warnings.join(", "))
        }
    )
}

/// `--json`: the whole report for scripts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport {
    operator: Address,
    healthy: bool,
    problems: usize,
    warnings: usize,
    checks: Vec<JsonCheck>,
    summary: String,
}

#[derive(Serialize)]
struct JsonCheck {
    /// Stable id: `l1`, `rollup:901`, ...
    id: String,
    /// Human name.
    check: String,
    /// `ok`, `skipped`, `warning` or `problem`.
    status: &'static str,
    /// The finding's stable code, when something is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remedy: Option<String>,
}

fn json_text(report: &StatusReport, remedies: &Remedies<'_>) -> eyre::Result<String> {
    let checks = report
        .checks
        .iter()
        .map(|CheckReport { check, outcome }| JsonCheck {
            id: check.id(),
            check: check.to_string(),
            status: match outcome.severity() {
                Severity::Problem => "problem",
                other => label(other),
            },
            code: outcome.finding().map(Finding::code),
            message: message(outcome),
            remedy: outcome.finding().map(|finding| remedies.remedy(finding)),
        })
        .collect();
    let json = JsonReport {
        operator: report.operator,
        healthy: report.is_healthy(),
        problems: report.with_severity(Severity::Problem).count(),
        warnings: report.with_severity(Severity::Warning).count(),
        checks,
        summary: summary(report),
    };
    Ok(format!("{}\n", serde_json::to_string_pretty(&json)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chorus_operator::status::Check;

    use super::*;

    fn config() -> NodeConfig {
        serde_json::from_value(serde_json::json!({
            "operator": {
                "address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "bls_keystore": "/keys/bls.json",
                "protection_db": "/data/protection.sqlite",
            },
            "l1": { "rpc_url": "https://l1.example/v2/SECRET", "deployment": "/data/deployment.json" },
            "rollups": [{ "id": 901, "rpc_url": "http://l2.example:8545" }],
            "aggregators": [{ "url": "http://agg.example:7300" }],
        }))
        .unwrap()
    }

    #[test]
    fn a_problem_is_named_with_the_command_that_fixes_it() {
        let config = config();
        let operator = config.operator.address;
        let remedies = Remedies {
            config_file: Path::new("/data/operator.toml"),
            config: &config,
            registry: Address::repeat_byte(1),
        };
        let report = StatusReport {
            operator,
            checks: vec![
                CheckReport { check: Check::L1, outcome: Outcome::Passed("chain 1".to_owned()) },
                CheckReport {
                    check: Check::Registration,
                    outcome: Outcome::Found(Finding::NotRegistered { operator }),
                },
                CheckReport {
                    check: Check::Stake,
                    outcome: Outcome::Skipped("not registered".to_owned()),
                },
            ],
        };
        let text = text(&report, &remedies);
        let problem = text.lines().find(|line| line.contains("PROBLEM")).unwrap();
        assert!(problem.contains("registration") && problem.contains("not registered"), "{text}");
        assert!(text.contains("-> register"), "{text}");
        assert!(text.contains("chorus operator register --rpc-url <L1 RPC URL>"), "{text}");
        assert!(text.contains("--bls-keystore /keys/bls.json"), "{text}");
        assert!(!text.contains("SECRET"), "never an RPC URL whole: {text}");
        assert!(text.contains("1 problem(s) to fix, in this order: registration"), "{text}");

        let json: serde_json::Value =
            serde_json::from_str(&json_text(&report, &remedies).unwrap()).unwrap();
        assert_eq!(json["healthy"], false);
        assert_eq!(json["checks"][1]["code"], "unregistered");
        assert_eq!(json["checks"][1]["status"], "problem");
        assert_eq!(json["checks"][2]["status"], "skipped");
    }

    #[test]
    fn a_clean_report_says_all_is_well() {
        let report = StatusReport {
            operator: Address::ZERO,
            checks: vec![CheckReport {
                check: Check::L1,
                outcome: Outcome::Passed("chain 1".to_owned()),
            }],
        };
        assert!(summary(&report).starts_with("All is well"), "{}", summary(&report));
    }
}
