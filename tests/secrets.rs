//! No secret ever reaches a log or an error message.
//!
//! A whole devnet runs as processes (`chorus devnet --processes`: the
//! aggregator and every operator are `chorus ... run` children logging to
//! files) at `RUST_LOG=debug`, until two checkpoints are attested on L1.
//! Then every secret the devnet made is read back from its files (each
//! keystore password, each BLS secret key, each Ethereum private key,
//! decrypted with those passwords) and searched for, in hex of either case
//! and as the raw password, in everything Chorus wrote: the devnet's own
//! stdout and stderr and every node's log. The anvil logs are left out on
//! purpose: anvil prints its dev accounts' keys by design, and the devnet's
//! operators are some of those accounts.
//!
//! Then a node is started with a wrong keystore password, and its error
//! must say so without quoting the wrong password or the right one.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    fs,
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use alloy::hex;
use chorus_keys::{ecdsa, keystore::Keystore, password::Password};
use tokio::process::Command;

/// A devnet run to two checkpoints takes well under a minute; the rest is
/// margin for a loaded machine.
const DEVNET_DEADLINE: Duration = Duration::from_secs(300);
/// A node that cannot open its key stops at once.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(60);

fn chorus_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus-under-test"))
}

async fn run(command: &mut Command, deadline: Duration) -> Output {
    command.kill_on_drop(true);
    tokio::time::timeout(deadline, command.output())
        .await
        .expect("the command did not finish in time")
        .expect("the command could not be started")
}

/// One secret and the forms in which it could leak.
struct Secret {
    what: String,
    forms: Vec<String>,
}

impl Secret {
    fn password(what: String, password: &str) -> Self {
        Self { what, forms: vec![password.to_owned()] }
    }

    fn bytes(what: String, bytes: &[u8]) -> Self {
        let lower = hex::encode(bytes);
        Self { what, forms: vec![lower.to_uppercase(), lower] }
    }
}

fn password_of(dir: &Path) -> String {
    fs::read_to_string(dir.join("password.txt")).unwrap().trim_end_matches('\n').to_owned()
}

/// Every secret of one node folder: its password and the keys it opens.
fn secrets_of(dir: &Path, name: &str, keystores: &[(&str, bool)]) -> Vec<Secret> {
    let password = password_of(dir);
    let mut secrets = vec![Secret::password(format!("{name}'s password"), &password)];
    let password = Password::new(password);
    for (file, is_bls) in keystores {
        let path = dir.join(file);
        let secret = if *is_bls {
            let keystore = Keystore::from_file(&path).unwrap();
            keystore.decrypt(&password).unwrap().secret.to_bytes().to_vec()
        } else {
            ecdsa::decrypt(&path, &password).unwrap().credential().to_bytes().to_vec()
        };
        secrets.push(Secret::bytes(format!("{name}'s key in {file}"), &secret));
    }
    secrets
}

fn all_secrets(devnet: &Path, operators: usize) -> Vec<Secret> {
    let mut secrets =
        secrets_of(&devnet.join("aggregator"), "the aggregator", &[("submitter.json", false)]);
    for index in 0..operators {
        let dir = devnet.join("operators").join(index.to_string());
        secrets.extend(secrets_of(
            &dir,
            &format!("operator {index}"),
            &[("bls.json", true), ("ecdsa.json", false)],
        ));
    }
    secrets
}

/// Everything Chorus wrote: its own output and every node log (not anvil's).
fn chorus_output(devnet: &Path, output: &Output) -> Vec<(String, String)> {
    let mut texts = vec![
        ("devnet stdout".to_owned(), String::from_utf8_lossy(&output.stdout).into_owned()),
        ("devnet stderr".to_owned(), String::from_utf8_lossy(&output.stderr).into_owned()),
    ];
    for entry in fs::read_dir(devnet.join("logs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let is_anvil = name == "l1.log" || name.starts_with("rollup-");
        if !is_anvil {
            texts.push((name, fs::read_to_string(&path).unwrap()));
        }
    }
    texts
}

/// Which secrets appear where.
fn leaks(secrets: &[Secret], texts: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in secrets {
        for (name, text) in texts {
            if secret.forms.iter().any(|form| text.contains(form.as_str())) {
                found.push(format!("{} appears in {name}", secret.what));
            }
        }
    }
    found
}

fn assert_no_secret_in(secrets: &[Secret], texts: &[(String, String)]) {
    let found = leaks(secrets, texts);
    assert!(found.is_empty(), "secrets leaked: {found:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_logs_of_a_devnet_run_or_in_refusals() {
    let operators = 3;
    let folder = tempfile::tempdir().unwrap();
    let devnet = folder.path().join("devnet");
    let output = run(
        Command::new(chorus_exe())
            .args(["devnet", "--processes", "--checkpoints", "2", "--rollups", "1"])
            .args(["--operators", &operators.to_string()])
            .arg("--dir")
            .arg(&devnet)
            .env("RUST_LOG", "debug"),
        DEVNET_DEADLINE,
    )
    .await;
    assert!(output.status.success(), "devnet failed: {}", String::from_utf8_lossy(&output.stderr));

    let texts = chorus_output(&devnet, &output);
    let logged = |name: &str, needle: &str| {
        texts.iter().any(|(file, text)| file == name && text.contains(needle))
    };
    // The search means something only if the nodes really logged, at debug.
    assert!(logged("aggregator.log", "DEBUG"), "the aggregator logged nothing at debug");
    assert!(logged("aggregator.log", "quorum reached"), "the aggregator never logged a quorum");
    for index in 0..operators {
        assert!(logged(&format!("operator-{index}.log"), "DEBUG"), "operator {index} is silent");
    }
    let secrets = all_secrets(&devnet, operators);
    assert_eq!(secrets.len(), 2 + 3 * operators);
    // The search finds a secret where there is one (here, a key in upper case).
    let planted = [("planted".to_owned(), format!("key={}", secrets[1].forms[0]))];
    assert_eq!(leaks(&secrets, &planted).len(), 1);
    assert_no_secret_in(&secrets, &texts);
    let searched: usize = texts.iter().map(|(_, text)| text.len()).sum();
    eprintln!("{} secrets, none in {} files ({searched} bytes)", secrets.len(), texts.len());

    refuses_wrong_passwords_without_quoting_them(&devnet, &secrets).await;
}

/// Starts `chorus <role> run` with a wrong password file; it must stop,
/// say the password is wrong, and quote no password.
async fn refuses_wrong_passwords_without_quoting_them(devnet: &Path, secrets: &[Secret]) {
    let wrong = "not-the-password-7c1e9a";
    let wrong_file = devnet.join("wrong-password.txt");
    fs::write(&wrong_file, wrong).unwrap();
    fs::set_permissions(&wrong_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let cases = [
        (
            "operator",
            devnet.join("operators/0/operator.toml"),
            "CHORUS_OPERATOR__BLS_PASSWORD_FILE",
        ),
        (
            "aggregator",
            devnet.join("aggregator/aggregator.toml"),
            "CHORUS_SUBMITTER__PASSWORD_FILE",
        ),
    ];
    for (role, config, override_key) in cases {
        let output = run(
            Command::new(chorus_exe())
                .args([role, "run", "--config"])
                .arg(&config)
                .env(override_key, &wrong_file),
            REFUSAL_DEADLINE,
        )
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!output.status.success(), "{role} started with a wrong password");
        assert!(stderr.contains("wrong password"), "{role} did not say why: {stderr}");
        assert!(!stderr.contains(wrong), "{role} quoted the wrong password");
        let texts = [(format!("{role} refusal"), stderr)];
        assert_no_secret_in(secrets, &texts);
    }
}
