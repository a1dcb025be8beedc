//! `chorus aggregator run` and `chorus operator run` as processes, as an
//! operator starts them: configuration files, keys made by `chorus keys`, a
//! store made by `chorus protection create`, a real L1 with Chorus deployed
//! and an L2. Both must serve their API and `/metrics`, and stop cleanly
//! (exit 0) on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use chorus::{
    keys::{DIR_FLAG, JSON_FLAG, SECRET_FILE_FLAG},
    password::PASSWORD_FILE_FLAG,
    run::CONFIG_FLAG,
};
use chorus_deploy::{
    anvil::spawn_anvil_with,
    chorus::{ChorusConfig, Rollup},
};
use chorus_tests::Devchain;
use common::{chorus, create_protection_store, flag, stdout_json};

const L2_CHAIN_ID: u64 = 901;

/// A `chorus ... run` process, killed if the test fails before it stopped.
struct Service {
    child: Option<Child>,
    log: PathBuf,
}

impl Service {
    fn start(dir: &Path, name: &str, command: &str, config: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_chorus"))
            .args([command, "run", &flag(CONFIG_FLAG), &config.display().to_string()])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child: Some(child), log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (with a deadline) for the exit.
    fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let status =
            Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM ran");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("no exit within 30 s of SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `GET path` on `addr`: the status line and body, or `None` while nothing
/// answers.
fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// Waits (with a deadline) until `path` answers, and returns the answer.
fn wait_for(service: &Service, addr: SocketAddr, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(response) = get(addr, path) {
            return response;
        }
        assert!(Instant::now() < deadline, "{path} never answered:\n{}", service.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn write_secret(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregator_and_operator_serve_until_sigterm() {
    let config = ChorusConfig {
        rollups: vec![Rollup { chain_id: L2_CHAIN_ID, name: "l2".into() }],
        ..ChorusConfig::default()
    };
    let chain = Devchain::start(&config, 1).await.unwrap();
    chain.update_table().await.unwrap();
    let l2_anvil = spawn_anvil_with(|anvil| anvil.chain_id(L2_CHAIN_ID)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let text = |name: &str| dir.join(name).display().to_string();
    std::fs::write(dir.join("deployment.json"), serde_json::to_string(&chain.deployment).unwrap())
        .unwrap();
    write_secret(&dir.join("password"), "serve test password\n");

    // The submitter: anvil's deployer account, imported.
    write_secret(&dir.join("secret"), &hex::encode(chain.anvil.keys()[0].to_bytes()));
    let submitter = stdout_json(&chorus(&[
        "keys",
        "import",
        &flag(DIR_FLAG),
        &text("keys"),
        &flag(SECRET_FILE_FLAG),
        &text("secret"),
        "--type",
        "ecdsa",
        &flag(PASSWORD_FILE_FLAG),
        &text("password"),
        &flag(JSON_FLAG),
    ]));
    // The operator: a BLS key (not registered: the node runs, and refuses
    // to sign) and its store.
    let bls = stdout_json(&chorus(&[
        "keys",
        "generate",
        &flag(DIR_FLAG),
        &text("keys"),
        "--type",
        "bls",
        "--kdf",
        "pbkdf2",
        &flag(PASSWORD_FILE_FLAG),
        &text("password"),
        &flag(JSON_FLAG),
    ]));
    let bls = bls["path"].as_str().unwrap().to_owned();
    create_protection_store(&text("protection.sqlite"), &text("deployment.json"), &bls);

    let (aggregator_api, operator_api) = (free_port(), free_port());
    let l1 = chain.anvil.endpoint();
    let l2 = l2_anvil.endpoint();
    let aggregator_toml = dir.join("aggregator.toml");
    std::fs::write(
        &aggregator_toml,
        format!(
            r#"
[l1]
rpc_url = "{l1}"
deployment = "deployment.json"

[submitter]
keystore = "{}"
password_file = "password"

[[rollups]]
id = {L2_CHAIN_ID}
rpc_url = "{l2}"
safety = 0

[api]
listen = "{aggregator_api}"

[store]
path = "aggregator.sqlite"
"#,
            submitter["path"].as_str().unwrap()
        ),
    )
    .unwrap();
    let operator_toml = dir.join("operator.toml");
    std::fs::write(
        &operator_toml,
        format!(
            r#"
[operator]
address = "{}"
bls_keystore = "{bls}"
bls_password_file = "password"
protection_db = "protection.sqlite"

[l1]
rpc_url = "{l1}"
deployment = "deployment.json"

[[rollups]]
id = {L2_CHAIN_ID}
rpc_url = "{l2}"
safety = 0

[[aggregators]]
url = "http://{aggregator_api}"

[api]
listen = "{operator_api}"
"#,
            chain.anvil.addresses()[5]
        ),
    )
    .unwrap();

    let mut aggregator = Service::start(dir, "aggregator", "aggregator", &aggregator_toml);
    let health = wait_for(&aggregator, aggregator_api, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let metrics = wait_for(&aggregator, aggregator_api, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");

    let mut operator = Service::start(dir, "operator", "operator", &operator_toml);
    let node = wait_for(&operator, operator_api, "/eigen/node");
    assert!(node.starts_with("HTTP/1.1 200"), "{node}");
    let health = wait_for(&operator, operator_api, "/eigen/node/health");
    assert!(health.starts_with("HTTP/1.1 "), "the node answers its health: {health}");
    let metrics = wait_for(&operator, operator_api, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");

    let status = operator.terminate();
    let log = operator.log();
    assert!(status.success(), "the operator exits 0 on SIGTERM:\n{log}");
    assert!(log.contains("SIGTERM") && log.contains("operator node stopped"), "{log}");
    let status = aggregator.terminate();
    let log = aggregator.log();
    assert!(status.success(), "the aggregator exits 0 on SIGTERM:\n{log}");
    assert!(log.contains("aggregator stopped"), "{log}");
    assert!(!log.contains("serve test password"), "no secret in the log");
}
