//! Drives the real `chorus` binary through `chorus keys`, with the flag
//! names the CLI defines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{chorus, flag, stderr, stdout_json};

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use chorus::{
    keys::{DIR_FLAG, JSON_FLAG, KEYSTORE_FLAG, SECRET_FILE_FLAG},
    password::{PASSWORD_ENV_FLAG, PASSWORD_FILE_FLAG},
};
use chorus_keys::bls::{ProofOfPossession, PublicKey, SecretKey};
use serde_json::Value;

const EIP2335_PASSWORD: &str = "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}";
const EIP2335_SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

fn vector(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors").join(name)
}

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

#[test]
fn eip2335_vectors_show_g2_key_and_pop() {
    let work = Workspace::new();
    let password_file = work.file("password", EIP2335_PASSWORD);
    let secret = SecretKey::from_bytes(&hex::decode(EIP2335_SECRET).unwrap()).unwrap();
    for name in ["eip2335_scrypt.json", "eip2335_pbkdf2.json"] {
        let keystore = vector(name).display().to_string();
        let output = chorus(&[
            "keys",
            "show",
            &flag(KEYSTORE_FLAG),
            &keystore,
            &flag(PASSWORD_FILE_FLAG),
            &password_file,
            "--pop",
            &flag(JSON_FLAG),
        ]);
        let json = stdout_json(&output);
        let pubkey: PublicKey = json["pubkey"].as_str().unwrap().parse().unwrap();
        assert_eq!(pubkey, secret.public_key(), "{name}");
        assert_eq!(json["pubkey"].as_str().unwrap().len(), 2 + 2 * 96);
        let pop: ProofOfPossession = json["pop"].as_str().unwrap().parse().unwrap();
        assert_eq!(json["pop"].as_str().unwrap().len(), 2 + 2 * 48);
        assert!(pop.verify(&pubkey).is_ok(), "{name}: the PoP verifies");
        assert_eq!(pop, secret.prove_possession(), "{name}: PoP of that secret");
        // The vectors store the G1 key of validator tools: a notice, not an error.
        assert!(stderr(&output).contains("48-byte G1 public key"), "{name}: {}", stderr(&output));
    }
}

/// Each way a keystore can be bad, with the words its error must contain.
fn bad_keystores(work: &Workspace) -> Vec<(&'static str, String, &'static str)> {
    let good = std::fs::read_to_string(vector("eip2335_pbkdf2.json")).unwrap();
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut json: Value = serde_json::from_str(&good).unwrap();
        change(&mut json);
        json.to_string()
    };
    vec![
        ("wrong password", vector("eip2335_pbkdf2.json").display().to_string(), "wrong password"),
        (
            "bad checksum",
            work.file(
                "bad-checksum.json",
                &edit(&|json| json["crypto"]["checksum"]["message"] = "11".repeat(32).into()),
            ),
            "checksum does not match",
        ),
        (
            "unknown kdf",
            work.file(
                "unknown-kdf.json",
                &edit(&|json| json["crypto"]["kdf"]["function"] = "argon2id".into()),
            ),
            "unknown key derivation function",
        ),
        ("truncated", work.file("truncated.json", &good[..good.len() / 2]), "truncated"),
        ("malformed", work.file("malformed.json", "{\"version\": 4, \"crypto\": [}"), "malformed"),
    ]
}

#[test]
fn bad_keystores_fail_distinctly_and_write_nothing() {
    let work = Workspace::new();
    let right_password = work.file("password", EIP2335_PASSWORD);
    let wrong_password = work.file("wrong-password", "not the password");
    let mut messages = Vec::new();
    for (case, keystore, expected) in bad_keystores(&work) {
        let password = if case == "wrong password" { &wrong_password } else { &right_password };
        let import_dir = work.path(&format!("imported-{}", case.replace(' ', "-")));
        let (keystore_flag, password_flag, dir_flag) =
            (flag(KEYSTORE_FLAG), flag(PASSWORD_FILE_FLAG), flag(DIR_FLAG));
        for command in ["show", "import"] {
            let mut args =
                vec!["keys", command, &keystore_flag, &keystore, &password_flag, password];
            if command == "import" {
                args.extend([dir_flag.as_str(), import_dir.as_str()]);
            }
            let output = chorus(&args);
            assert!(!output.status.success(), "{case}/{command} must fail");
            assert!(output.stdout.is_empty(), "{case}/{command} printed a result");
            let message = stderr(&output);
            assert!(message.contains(expected), "{case}/{command}: {message}");
            if command == "import" {
                assert!(!Path::new(&import_dir).exists(), "{case}: import wrote something");
                messages.push(message);
            }
        }
    }
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 5, "each bad keystore has its own error");
}

#[test]
fn generate_list_show_and_never_overwrite() {
    let work = Workspace::new();
    let keys = work.path("keys");
    let output = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["keys", "generate", &flag(DIR_FLAG), &keys, "--kdf", "pbkdf2"])
        .args([&flag(PASSWORD_ENV_FLAG), "TEST_KEYSTORE_PASSWORD", &flag(JSON_FLAG)])
        .env("TEST_KEYSTORE_PASSWORD", "operator password")
        .output()
        .unwrap();
    let generated = stdout_json(&output);
    let generated = generated.as_array().expect("both keys");
    assert_eq!(generated.len(), 2);
    assert_eq!(generated[0]["type"], "bls");
    assert_eq!(generated[1]["type"], "ecdsa");

    for key in generated {
        let path = key["path"].as_str().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{path}");
        }
        let shown = Command::new(env!("CARGO_BIN_EXE_chorus"))
            .args(["keys", "show", &flag(KEYSTORE_FLAG), path, &flag(JSON_FLAG)])
            .args([&flag(PASSWORD_ENV_FLAG), "TEST_KEYSTORE_PASSWORD"])
            .env("TEST_KEYSTORE_PASSWORD", "operator password")
            .output()
            .unwrap();
        let shown = stdout_json(&shown);
        assert_eq!(shown["pubkey"], key["pubkey"]);
        assert_eq!(shown["address"], key["address"]);
    }

    let listed = stdout_json(&chorus(&["keys", "list", &flag(DIR_FLAG), &keys, &flag(JSON_FLAG)]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for key in generated {
        assert!(listed.iter().any(|entry| entry["path"] == key["path"]
            && entry["pubkey"] == key["pubkey"]
            && entry["address"] == key["address"]));
    }

    // Importing a keystore that is already there is refused, the file untouched.
    let bls_path = generated[0]["path"].as_str().unwrap();
    let before = std::fs::read(bls_path).unwrap();
    let password_file = work.file("password", "operator password\n");
    let again = chorus(&[
        "keys",
        "import",
        &flag(DIR_FLAG),
        &keys,
        &flag(KEYSTORE_FLAG),
        bls_path,
        &flag(PASSWORD_FILE_FLAG),
        &password_file,
    ]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert_eq!(std::fs::read(bls_path).unwrap(), before);
}

#[test]
fn import_raw_secrets_without_echoing_them() {
    let work = Workspace::new();
    let keys = work.path("keys");
    let password = work.file("password", "new password");
    let bls_secret = work.file("bls-secret", &format!("0x{EIP2335_SECRET}\n"));
    let ecdsa_hex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    let ecdsa_secret = work.file("ecdsa-secret", ecdsa_hex);
    let import = |secret: &str, key_type: &str| {
        chorus(&[
            "keys",
            "import",
            &flag(DIR_FLAG),
            &keys,
            &flag(SECRET_FILE_FLAG),
            secret,
            "--type",
            key_type,
            "--kdf",
            "pbkdf2",
            &flag(PASSWORD_FILE_FLAG),
            &password,
            &flag(JSON_FLAG),
        ])
    };
    let bls = import(&bls_secret, "bls");
    let expected = SecretKey::from_bytes(&hex::decode(EIP2335_SECRET).unwrap()).unwrap();
    assert_eq!(stdout_json(&bls)["pubkey"], expected.public_key().to_string());
    let ecdsa = import(&ecdsa_secret, "ecdsa");
    assert_eq!(stdout_json(&ecdsa)["address"], "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    for output in [&bls, &ecdsa] {
        let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr(output));
        assert!(!all.contains(EIP2335_SECRET) && !all.contains(ecdsa_hex), "secret echoed");
    }

    let garbage = work.file("garbage", "0xnot-hex-at-all-secretish");
    let refused = import(&garbage, "bls");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("single hex string"));
    assert!(!stderr(&refused).contains("secretish"));
}

#[test]
fn no_password_and_no_terminal_is_a_clear_error() {
    let work = Workspace::new();
    let output = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["keys", "generate", &flag(DIR_FLAG), &work.path("keys")])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains(&flag(PASSWORD_FILE_FLAG)), "{message}");
    assert!(!Path::new(&work.path("keys")).exists(), "nothing written");
}

/// A reader that went away (`chorus keys show ... | head -0`) ends the
/// command as it ends Unix tools (SIGPIPE), not with a panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::{os::unix::process::ExitStatusExt, process::Stdio};

    let work = Workspace::new();
    let password_file = work.file("password", EIP2335_PASSWORD);
    let keystore = vector("eip2335_pbkdf2.json").display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["keys", "show", &flag(KEYSTORE_FLAG), &keystore])
        .args([&flag(PASSWORD_FILE_FLAG), &password_file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the only read end before anything is written: the first
    // write meets a broken pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = stderr(&output);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // SIGPIPE; or success, should the parent thread have been descheduled
    // for the whole key derivation before closing its end.
    let quiet = output.status.signal() == Some(13) || output.status.success();
    assert!(quiet, "ended by SIGPIPE, not {:?}: {stderr}", output.status);
}
