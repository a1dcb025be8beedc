//! Drives the real `chorus` binary through `chorus protection`, with the
//! flag names the CLI defines. No chain: the deployment file is written
//! here, and signed history is put into stores through the library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{chorus, deployment_without_contracts, flag, stderr, stdout_json};

use std::{path::Path, process::Output};

use alloy::primitives::{Address, B256};
use chorus::{
    chain::DEPLOYMENT_FLAG,
    keys::{DIR_FLAG, JSON_FLAG},
    password::PASSWORD_FILE_FLAG,
    protection::{BLS_KEYSTORE_FLAG, CREATE_FLAG, FILE_FLAG, OUT_FLAG, STORE_FLAG},
};
use chorus_contracts::Commitment;
use chorus_keys::bls::PublicKey;
use chorus_operator::protection::{CheckpointToSign, Domain, Safe, SlashingProtection};
use serde_json::Value;

const PASSWORD: &str = "operator password";

/// Asserts a command failed, printed nothing, and said `expected`.
fn assert_refused(output: &Output, expected: &str) -> String {
    let message = stderr(output);
    assert!(
        !output.status.success(),
        "must fail, stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        output.stdout.is_empty(),
        "printed a result: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(message.contains(expected), "expected {expected:?} in: {message}");
    message
}

/// A tempdir with a password file, BLS keys and deployments.
struct Workspace {
    dir: tempfile::TempDir,
    password_file: String,
}

/// A BLS key: its keystore file and public key.
struct Key {
    keystore: String,
    pubkey: PublicKey,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let password_file = dir.path().join("password").display().to_string();
        std::fs::write(&password_file, PASSWORD).unwrap();
        Self { dir, password_file }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `chorus keys generate --type bls --kdf pbkdf2` into `keys-<name>`.
    fn key(&self, name: &str) -> Key {
        let dir = self.path(&format!("keys-{name}"));
        let output = chorus(&[
            "keys",
            "generate",
            "--type",
            "bls",
            "--kdf",
            "pbkdf2",
            &flag(DIR_FLAG),
            &dir,
            &flag(PASSWORD_FILE_FLAG),
            &self.password_file,
            &flag(JSON_FLAG),
        ]);
        let json = stdout_json(&output);
        Key {
            keystore: json["path"].as_str().unwrap().to_owned(),
            pubkey: json["pubkey"].as_str().unwrap().parse().unwrap(),
        }
    }

    /// A deployment file on chain `chain_id` whose attestation contract is
    /// `0xbyte…byte`.
    fn deployment(&self, name: &str, chain_id: u64, byte: u8) -> (String, Domain) {
        let attestations = Address::repeat_byte(byte);
        let deployment = deployment_without_contracts(chain_id, attestations);
        let path = self.path(name);
        std::fs::write(&path, serde_json::to_string_pretty(&deployment).unwrap()).unwrap();
        (path, Domain { l1_chain_id: chain_id, attestation_contract: attestations })
    }

    /// Runs `chorus protection <command>` on a store with the common flags.
    fn protection(
        &self,
        command: &str,
        store: &str,
        deployment: &str,
        key: &Key,
        extra: &[&str],
    ) -> Output {
        let mut args = vec![
            "protection".to_owned(),
            command.to_owned(),
            flag(STORE_FLAG),
            store.to_owned(),
            flag(DEPLOYMENT_FLAG),
            deployment.to_owned(),
            flag(BLS_KEYSTORE_FLAG),
            key.keystore.clone(),
            flag(PASSWORD_FILE_FLAG),
            self.password_file.clone(),
        ];
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        chorus(&args)
    }
}

fn commitment(rollup_id: u64, height: u64, hash: u8) -> Commitment {
    Commitment {
        rollupId: rollup_id,
        l2BlockNumber: height,
        l2BlockHash: B256::repeat_byte(hash),
        stateRoot: B256::repeat_byte(hash.wrapping_add(1)),
    }
}

/// Records signed checkpoints in an existing store, as a node would.
fn sign(store: &str, domain: Domain, key: &Key, checkpoints: &[(u32, Vec<Commitment>)]) {
    let store = SlashingProtection::open(store, domain, &key.pubkey).unwrap();
    for (table_version, commitments) in checkpoints {
        let checkpoint = CheckpointToSign::new(*table_version, commitments.clone()).unwrap();
        assert_eq!(store.check_and_insert(&checkpoint).unwrap(), Safe::Valid);
    }
}

/// Some history: two checkpoints over two rollups.
fn history() -> Vec<(u32, Vec<Commitment>)> {
    vec![
        (1, vec![commitment(10, 5, 0x11), commitment(20, 100, 0x21)]),
        (2, vec![commitment(10, 7, 0x12), commitment(20, 100, 0x21)]),
    ]
}

/// Exports `store` to `out` through the CLI and returns the file's text.
fn export(work: &Workspace, store: &str, deployment: &str, key: &Key, out: &str) -> String {
    let output = work.protection("export", store, deployment, key, &[&flag(OUT_FLAG), out]);
    assert!(output.status.success(), "export failed: {}", stderr(&output));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn create_then_info_and_create_refuses_an_existing_path() {
    let work = Workspace::new();
    let key = work.key("a");
    let (deployment, domain) = work.deployment("deployment.json", 31337, 0xaa);
    let store = work.path("protection.sqlite");

    let created =
        stdout_json(&work.protection("create", &store, &deployment, &key, &[&flag(JSON_FLAG)]));
    assert_eq!(created["l1ChainId"], 31337);
    assert_eq!(created["pubkey"], key.pubkey.to_string());
    assert_eq!(created["checkpoints"], 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let info =
        stdout_json(&work.protection("info", &store, &deployment, &key, &[&flag(JSON_FLAG)]));
    assert_eq!(info["checkpoints"], 0);
    assert_eq!(info["signedCommitments"], 0);
    assert_eq!(info["integrityOk"], true);
    assert_eq!(
        info["attestationContract"].as_str().unwrap().to_lowercase(),
        domain.attestation_contract.to_string().to_lowercase()
    );

    sign(&store, domain, &key, &history());
    let info =
        stdout_json(&work.protection("info", &store, &deployment, &key, &[&flag(JSON_FLAG)]));
    assert_eq!(info["checkpoints"], 2);
    assert_eq!(info["signedCommitments"], 3);
    assert_eq!(info["latestHeights"]["10"], 7);
    assert_eq!(info["latestHeights"]["20"], 100);
    // The human form says the same.
    let human = work.protection("info", &store, &deployment, &key, &[]);
    assert!(human.status.success(), "{}", stderr(&human));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("integrity ok") && text.contains("rollup 10"), "{text}");

    // Creating again over the store is refused, the store untouched.
    let before = std::fs::read(&store).unwrap();
    let again = work.protection("create", &store, &deployment, &key, &[]);
    assert_refused(&again, "already exists");
    assert_eq!(std::fs::read(&store).unwrap(), before);
    let info =
        stdout_json(&work.protection("info", &store, &deployment, &key, &[&flag(JSON_FLAG)]));
    assert_eq!(info["checkpoints"], 2);

    // No store is ever created implicitly.
    let missing = work.path("missing.sqlite");
    assert_refused(
        &work.protection("info", &missing, &deployment, &key, &[]),
        "no slashing-protection store",
    );
    assert!(!Path::new(&missing).exists());
}

#[test]
fn export_then_import_round_trips_and_import_is_idempotent() {
    let work = Workspace::new();
    let key = work.key("a");
    let (deployment, domain) = work.deployment("deployment.json", 31337, 0xaa);
    let old = work.path("old.sqlite");
    assert!(work.protection("create", &old, &deployment, &key, &[]).status.success());
    sign(&old, domain, &key, &history());

    let exported = work.path("export.json");
    let first = export(&work, &old, &deployment, &key, &exported);
    assert_eq!(
        serde_json::from_str::<Value>(&first).unwrap()["signedCommitments"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&exported).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Never over an existing file.
    let again = work.protection("export", &old, &deployment, &key, &[&flag(OUT_FLAG), &exported]);
    assert_refused(&again, "already exists");
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), first);

    // Importing into a store that does not exist needs --create.
    let new = work.path("new.sqlite");
    let no_create =
        work.protection("import", &new, &deployment, &key, &[&flag(FILE_FLAG), &exported]);
    assert_refused(&no_create, &flag(CREATE_FLAG));
    assert!(!Path::new(&new).exists());

    let imported = stdout_json(&work.protection(
        "import",
        &new,
        &deployment,
        &key,
        &[&flag(FILE_FLAG), &exported, &flag(CREATE_FLAG), &flag(JSON_FLAG)],
    ));
    assert_eq!(imported["checkpointsImported"], 2);
    assert_eq!(imported["checkpointsAlreadyPresent"], 0);
    assert_eq!(imported["checkpoints"], 2);
    let round_trip = export(&work, &new, &deployment, &key, &work.path("export-new.json"));
    assert_eq!(round_trip, first, "the new store exports the same history");

    // Twice: nothing changes.
    let twice = stdout_json(&work.protection(
        "import",
        &new,
        &deployment,
        &key,
        &[&flag(FILE_FLAG), &exported, &flag(JSON_FLAG)],
    ));
    assert_eq!(twice["checkpointsImported"], 0);
    assert_eq!(twice["checkpointsAlreadyPresent"], 2);
    assert_eq!(twice["checkpoints"], 2);
    assert_eq!(export(&work, &new, &deployment, &key, &work.path("export-twice.json")), first);

    // --create on an existing store is refused, nothing imported.
    let create_again = work.protection(
        "import",
        &new,
        &deployment,
        &key,
        &[&flag(FILE_FLAG), &exported, &flag(CREATE_FLAG)],
    );
    assert_refused(&create_again, "already exists");
}

#[test]
fn import_of_another_deployments_file_is_refused_and_writes_nothing() {
    let work = Workspace::new();
    let key = work.key("a");
    let (deployment, domain) = work.deployment("deployment.json", 31337, 0xaa);
    let (other_deployment, other_domain) = work.deployment("other.json", 31337, 0xbb);

    let other_store = work.path("other.sqlite");
    assert!(work.protection("create", &other_store, &other_deployment, &key, &[]).status.success());
    sign(&other_store, other_domain, &key, &history());
    let foreign = work.path("foreign.json");
    export(&work, &other_store, &other_deployment, &key, &foreign);

    // Into an existing store of this deployment.
    let store = work.path("protection.sqlite");
    assert!(work.protection("create", &store, &deployment, &key, &[]).status.success());
    sign(&store, domain, &key, &history()[..1]);
    let before = export(&work, &store, &deployment, &key, &work.path("before.json"));
    let refused =
        work.protection("import", &store, &deployment, &key, &[&flag(FILE_FLAG), &foreign]);
    let message = assert_refused(&refused, "nothing was imported");
    assert!(message.contains("holds the history of"), "{message}");
    assert_eq!(export(&work, &store, &deployment, &key, &work.path("after.json")), before);

    // With --create: no store is created.
    let fresh = work.path("fresh.sqlite");
    let refused = work.protection(
        "import",
        &fresh,
        &deployment,
        &key,
        &[&flag(FILE_FLAG), &foreign, &flag(CREATE_FLAG)],
    );
    assert_refused(&refused, "no store was created");
    assert!(!Path::new(&fresh).exists());

    // Opening the store with the other deployment is refused too.
    let wrong = work.protection("info", &store, &other_deployment, &key, &[]);
    assert_refused(&wrong, "history of");
}

#[test]
fn opening_with_another_key_is_refused() {
    let work = Workspace::new();
    let key = work.key("a");
    let other_key = work.key("b");
    let (deployment, _) = work.deployment("deployment.json", 31337, 0xaa);
    let store = work.path("protection.sqlite");
    assert!(work.protection("create", &store, &deployment, &key, &[]).status.success());
    let before = std::fs::read(&store).unwrap();
    for command in ["info", "export"] {
        let out = work.path(&format!("{command}.json"));
        let out_flag = flag(OUT_FLAG);
        let extra: &[&str] = if command == "export" { &[&out_flag, &out] } else { &[] };
        let output = work.protection(command, &store, &deployment, &other_key, extra);
        let message = assert_refused(&output, "BLS key");
        assert!(message.contains(&other_key.pubkey.to_string()), "{message}");
        assert!(!Path::new(&out).exists(), "{command} wrote a file");
    }
    assert_eq!(std::fs::read(&store).unwrap(), before);

    // A file of another key is refused with --create, and no store is made.
    let exported = work.path("export.json");
    export(&work, &store, &deployment, &key, &exported);
    let fresh = work.path("fresh.sqlite");
    let refused = work.protection(
        "import",
        &fresh,
        &deployment,
        &other_key,
        &[&flag(FILE_FLAG), &exported, &flag(CREATE_FLAG)],
    );
    assert_refused(&refused, "BLS key");
    assert!(!Path::new(&fresh).exists());
}

#[test]
fn a_conflicting_file_is_refused_and_writes_nothing() {
    let work = Workspace::new();
    let key = work.key("a");
    let (deployment, domain) = work.deployment("deployment.json", 31337, 0xaa);

    // Two stores of one key and deployment that signed different blocks at
    // one height: what a second machine would have done.
    let store = work.path("protection.sqlite");
    let elsewhere = work.path("elsewhere.sqlite");
    for path in [&store, &elsewhere] {
        assert!(work.protection("create", path, &deployment, &key, &[]).status.success());
    }
    sign(&store, domain, &key, &[(1, vec![commitment(10, 7, 0x01)])]);
    sign(&elsewhere, domain, &key, &[(1, vec![commitment(10, 7, 0x02)])]);
    let conflicting = work.path("conflicting.json");
    let conflicting_text = export(&work, &elsewhere, &deployment, &key, &conflicting);
    let mine = work.path("mine.json");
    let mine_text = export(&work, &store, &deployment, &key, &mine);

    let refused =
        work.protection("import", &store, &deployment, &key, &[&flag(FILE_FLAG), &conflicting]);
    let message = assert_refused(&refused, "conflicts with this store");
    assert!(message.contains("Nothing was imported"), "{message}");
    assert_eq!(export(&work, &store, &deployment, &key, &work.path("after.json")), mine_text);

    // A file that conflicts with itself, imported with --create: refused,
    // and the store created for it is gone.
    let mut both: Value = serde_json::from_str(&mine_text).unwrap();
    let theirs: Value = serde_json::from_str(&conflicting_text).unwrap();
    both["signedCommitments"]
        .as_array_mut()
        .unwrap()
        .extend(theirs["signedCommitments"].as_array().unwrap().iter().cloned());
    let both_path = work.path("both.json");
    std::fs::write(&both_path, both.to_string()).unwrap();
    let fresh = work.path("fresh.sqlite");
    let refused = work.protection(
        "import",
        &fresh,
        &deployment,
        &key,
        &[&flag(FILE_FLAG), &both_path, &flag(CREATE_FLAG)],
    );
    assert_refused(&refused, "nothing was imported");
    for suffix in ["", "-wal", "-shm"] {
        assert!(!Path::new(&format!("{fresh}{suffix}")).exists(), "{fresh}{suffix} left behind");
    }
}
