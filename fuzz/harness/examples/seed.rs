//! Seeds the fuzz corpus and the fixture from a real devnet's traffic.
//!
//! ```text
//! . toolchain/env && cargo run -p chorus-fuzz --example seed
//! ```
//!
//! Starts a devnet (four operators, two rollups, in this process, in a
//! temporary folder), waits for checkpoints attested on L1, and reads what
//! outsiders send or serve:
//!
//! - the aggregator's answers: `/v1/proposals/next`, `/v1/checkpoints`,
//!   `/v1/checkpoints/{id}/signatures` (seeds of `proposal` and
//!   `watcher_feed`, as received);
//! - the submissions operators posted, rebuilt from the public signatures
//!   (`api_signature`: each alone, and every checkpoint's as one session),
//!   and rejections signed with a real operator key (`api_rejection`);
//! - the real signatures, keys, proofs of possession and EIP-2537 keys
//!   (`bls_decode`, `bls_verify` with the signed checkpoint messages);
//! - the operators' real keystores and the submitter's (`keystore_bls`,
//!   `keystore_ecdsa`), and one re-encryption of each with a cheap KDF, so
//!   that the fuzzer also reaches a successful decryption;
//! - an operator's protection history, exported from its store after it
//!   stopped, as `chorus protection export` does (`protection_import`);
//! - an equivocation signed with a real key, as `chorus drill` makes one
//!   (`watcher_feed`).
//!
//! Writes `fuzz/fixtures/devnet.json` and `fuzz/corpus/<target>/seed-*`
//! (existing seeds are replaced; other corpus files are kept).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::Duration,
};

use aes::cipher::{KeyIvInit, StreamCipher};
use alloy::primitives::{Address, B256, Bytes, keccak256};
use chorus_contracts::{Commitment, table::fetch_table};
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_fuzz::fixture::{Fixture, Operator};
use chorus_keys::{
    bls::{PublicKey, SecretKey},
    ecdsa,
    keystore::Keystore,
    password::Password,
};
use chorus_operator::protection::{Domain as StoreDomain, Interchange, SlashingProtection};
use chorus_slashing::Evidence;
use chorus_wire::{
    CheckpointStatus, PublicSignature, RejectReason, RejectedCommitment, Rejection,
    SignedCheckpoint,
};
use eyre::{WrapErr, bail, eyre};
use sha2::{Digest, Sha256};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Checkpoints to wait for on L1.
const CHECKPOINTS: usize = 4;
/// Generous: a loaded two-core machine.
const TIMEOUT: Duration = Duration::from_secs(300);

fn main() -> eyre::Result<()> {
    actix_rt::System::new().block_on(run())
}

async fn run() -> eyre::Result<()> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = tempfile::tempdir()?;
    let dir = work.path().join("devnet");
    let mut devnet = Devnet::start(DevnetOptions { dir: dir.clone(), ..DevnetOptions::default() })
        .await
        .wrap_err("devnet did not start (run `. toolchain/env` first)")?;
    devnet.wait_for_checkpoints(CHECKPOINTS, TIMEOUT).await?;
    let mut seeds = Seeds::new(&fuzz)?;
    let base = devnet.aggregator_url().trim_end_matches('/').to_owned();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let response = http.get(&url).send().await?.error_for_status()?;
            let status = response.status();
            let body = response.bytes().await?.to_vec();
            eyre::Ok((status, body))
        }
    };

    let (status, next) = get("/v1/proposals/next?wait=20".to_owned()).await?;
    if status == reqwest::StatusCode::OK {
        seeds.add("proposal", "next", &next)?;
    }
    let (_, listed) = get("/v1/checkpoints?limit=8".to_owned()).await?;
    seeds.add("watcher_feed", "checkpoints", &listed)?;
    let statuses: Vec<CheckpointStatus> = serde_json::from_slice(&listed)?;
    let mut feeds = Vec::new();
    for status in &statuses {
        let id = status.proposal.checkpoint_id;
        let (_, body) = get(format!("/v1/checkpoints/{id}/signatures")).await?;
        let signatures: Vec<PublicSignature> = serde_json::from_slice(&body)?;
        seeds.add(
            "proposal",
            &format!("checkpoint-{id}"),
            &serde_json::to_vec(&status.proposal)?,
        )?;
        if !signatures.is_empty() {
            seeds.add("watcher_feed", &format!("signatures-{id}"), &body)?;
            feeds.push((status.clone(), signatures));
        }
    }
    // The fixture's checkpoint: the one most operators signed.
    let Some((chosen, chosen_signatures)) = feeds
        .iter()
        .max_by_key(|(status, signatures)| (signatures.len(), status.proposal.checkpoint_id))
    else {
        bail!("no checkpoint has signatures on the feed");
    };
    let proposal = chosen.proposal.clone();
    let domain = proposal.domain;
    let deployment = devnet.deployment().clone();
    let table =
        fetch_table(devnet.l1(), deployment.chorus.registry, proposal.table_version).await?;

    let operators_dir = dir.join("operators");
    let password = |index: usize| -> eyre::Result<Password> {
        let text =
            std::fs::read_to_string(operators_dir.join(index.to_string()).join("password.txt"))?;
        Ok(Password::new(text.trim_end_matches(['\n', '\r'])))
    };
    let secrets: Vec<SecretKey> = (0..devnet.operator_count())
        .map(|index| {
            let keystore =
                Keystore::from_file(&operators_dir.join(index.to_string()).join("bls.json"))?;
            Ok(keystore.decrypt(&password(index)?)?.secret)
        })
        .collect::<eyre::Result<_>>()?;
    let addresses: Vec<Address> = devnet.info().operators.iter().map(|o| o.address).collect();

    submissions(&mut seeds, &feeds)?;
    rejections(&mut seeds, &proposal, addresses[0], &secrets[0])?;
    bls(&mut seeds, &feeds, &secrets)?;
    equivocation(&mut seeds, domain, addresses[0], &secrets[0], &proposal.commitments)?;

    // Keystores: every operator's and the submitter's, as written.
    for index in 0..devnet.operator_count() {
        let folder = operators_dir.join(index.to_string());
        seeds.add(
            "keystore_bls",
            &format!("operator-{index}"),
            &std::fs::read(folder.join("bls.json"))?,
        )?;
        seeds.add(
            "keystore_ecdsa",
            &format!("operator-{index}"),
            &std::fs::read(folder.join("ecdsa.json"))?,
        )?;
    }
    for file in files_under(&dir.join("aggregator"))? {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if chorus_keys::KeyFileKind::detect(&text) == Some(chorus_keys::KeyFileKind::Ecdsa) {
            seeds.add("keystore_ecdsa", "submitter", text.as_bytes())?;
        }
    }
    let first_password = password(0)?;
    seeds.add(
        "keystore_bls",
        "cheap-pbkdf2",
        cheap_bls_keystore(&secrets[0], &first_password)?.as_bytes(),
    )?;
    let account = ecdsa::decrypt(&operators_dir.join("0").join("ecdsa.json"), &first_password)?;
    seeds.add(
        "keystore_ecdsa",
        "cheap-pbkdf2",
        cheap_ecdsa_keystore(&account.to_bytes().0, &first_password)?.as_bytes(),
    )?;

    // Protection: operator 0 stops, then its history is exported.
    devnet.stop_operator(0).await?;
    let store_domain = StoreDomain {
        l1_chain_id: domain.l1_chain_id,
        attestation_contract: domain.attestation_contract,
    };
    let store = SlashingProtection::open(
        operators_dir.join("0").join("protection.sqlite"),
        store_domain,
        &secrets[0].public_key(),
    )?;
    let history = store.export()?;
    drop(store);
    devnet.shutdown().await;
    seeds.add("protection_import", "export", history.to_json_pretty()?.as_bytes())?;
    let protection_base = first_half(&history);

    let fixture = Fixture {
        domain,
        quorum_bps: deployment.chorus.quorum_bps,
        operators: table
            .entries()
            .iter()
            .map(|e| Operator { address: e.operator, pubkey: e.pubkey.clone(), weight: e.weight })
            .collect(),
        proposal,
        keystore_password: first_password.as_str().to_owned(),
        protection_base,
    };
    let fixture_file = fuzz.join("fixtures").join("devnet.json");
    std::fs::write(&fixture_file, serde_json::to_string_pretty(&fixture)? + "\n")?;
    println!(
        "fixture: checkpoint {} ({} signatures); {} seeds written",
        fixture.proposal.checkpoint_id,
        chosen_signatures.len(),
        seeds.written
    );
    Ok(())
}

/// The corpus folders, seeds replaced.
struct Seeds {
    corpus: PathBuf,
    written: usize,
    cleared: BTreeSet<String>,
}

impl Seeds {
    fn new(fuzz: &Path) -> eyre::Result<Self> {
        Ok(Self { corpus: fuzz.join("corpus"), written: 0, cleared: BTreeSet::new() })
    }

    fn add(&mut self, target: &str, name: &str, data: &[u8]) -> eyre::Result<()> {
        let folder = self.corpus.join(target);
        std::fs::create_dir_all(&folder)?;
        if self.cleared.insert(target.to_owned()) {
            for entry in std::fs::read_dir(&folder)? {
                let path = entry?.path();
                let seed = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("seed-"));
                if seed {
                    std::fs::remove_file(path)?;
                }
            }
        }
        std::fs::write(folder.join(format!("seed-{name}")), data)?;
        self.written += 1;
        Ok(())
    }
}

/// Each operator's submission, as it posted it, alone and per checkpoint
/// as one NUL-separated session.
fn submissions(
    seeds: &mut Seeds,
    feeds: &[(CheckpointStatus, Vec<PublicSignature>)],
) -> eyre::Result<()> {
    for (status, signatures) in feeds {
        let id = status.proposal.checkpoint_id;
        let mut session = Vec::new();
        for (index, signature) in signatures.iter().enumerate() {
            let body = serde_json::to_vec(&SignedCheckpoint {
                checkpoint_id: id,
                operator: signature.operator,
                table_version: signature.table_version,
                commitments_root: signature.commitments_root,
                signature: signature.signature.clone(),
            })?;
            seeds.add("api_signature", &format!("{id}-{index}"), &body)?;
            if !session.is_empty() {
                session.push(0);
            }
            session.extend_from_slice(&body);
        }
        seeds.add("api_signature", &format!("{id}-session"), &session)?;
    }
    Ok(())
}

/// A signed rejection of each kind, by a real operator key.
fn rejections(
    seeds: &mut Seeds,
    proposal: &chorus_wire::Proposal,
    operator: Address,
    key: &SecretKey,
) -> eyre::Result<()> {
    let Some(first) = proposal.commitments.first() else { bail!("a proposal without commitments") };
    let mut ours = first.clone();
    ours.stateRoot = keccak256(ours.stateRoot);
    let reasons = [
        ("mismatch", RejectReason::Mismatch { ours }),
        ("not-yet-safe", RejectReason::NotYetSafe { safe_head: first.l2BlockNumber - 1 }),
        ("unknown-rollup", RejectReason::UnknownRollup),
        ("unavailable", RejectReason::Unavailable { detail: "connection refused".to_owned() }),
    ];
    let mut session = Vec::new();
    for (name, reason) in reasons {
        let rejected = vec![RejectedCommitment { commitment: first.clone(), reason }];
        let message = Rejection::message(
            &proposal.domain,
            proposal.checkpoint_id,
            proposal.table_version,
            proposal.commitments_root,
            &rejected,
        );
        let body = serde_json::to_vec(&Rejection {
            checkpoint_id: proposal.checkpoint_id,
            operator,
            table_version: proposal.table_version,
            commitments_root: proposal.commitments_root,
            rejected,
            signature: Bytes::copy_from_slice(&key.sign(message.as_slice()).to_bytes()),
        })?;
        seeds.add("api_rejection", name, &body)?;
        if !session.is_empty() {
            session.push(0);
        }
        session.extend_from_slice(&body);
    }
    seeds.add("api_rejection", "session", &session)
}

/// Real points in every encoding, and real (key, signature, message)
/// triples and (key, proof of possession) pairs.
fn bls(
    seeds: &mut Seeds,
    feeds: &[(CheckpointStatus, Vec<PublicSignature>)],
    secrets: &[SecretKey],
) -> eyre::Result<()> {
    for (index, secret) in secrets.iter().enumerate() {
        let key = secret.public_key();
        let pop = secret.prove_possession();
        seeds.add("bls_decode", &format!("pubkey-{index}"), &key.to_bytes())?;
        seeds.add("bls_decode", &format!("pubkey-hex-{index}"), key.to_string().as_bytes())?;
        seeds.add("bls_decode", &format!("pop-{index}"), &pop.to_bytes())?;
        let mut pair = key.to_bytes().to_vec();
        pair.extend_from_slice(&pop.to_bytes());
        seeds.add("bls_verify", &format!("pop-{index}"), &pair)?;
    }
    for (status, signatures) in feeds.iter().take(2) {
        let id = status.proposal.checkpoint_id;
        let proposal = &status.proposal;
        let message = chorus_contracts::checkpoint::checkpoint_message(
            proposal.domain.l1_chain_id,
            proposal.domain.attestation_contract,
            proposal.table_version,
            proposal.commitments_root,
        );
        for (index, signature) in signatures.iter().enumerate() {
            let key =
                PublicKey::from_eip2537(&signature.pubkey).map_err(|e| eyre!("feed key: {e}"))?;
            let bytes = &signature.signature;
            seeds.add("bls_decode", &format!("signature-{id}-{index}"), bytes)?;
            seeds.add("bls_decode", &format!("pubkey-eip2537-{id}-{index}"), &signature.pubkey)?;
            if let Ok(strict) = chorus_keys::bls::Signature::from_bytes(bytes) {
                seeds.add(
                    "bls_decode",
                    &format!("signature-eip2537-{id}-{index}"),
                    &strict.to_eip2537(),
                )?;
                seeds.add(
                    "bls_decode",
                    &format!("signature-json-{id}-{index}"),
                    serde_json::to_string(&strict)?.as_bytes(),
                )?;
            }
            let mut triple = key.to_bytes().to_vec();
            triple.extend_from_slice(bytes);
            triple.extend_from_slice(message.as_slice());
            seeds.add("bls_verify", &format!("signature-{id}-{index}"), &triple)?;
        }
    }
    Ok(())
}

/// Two checkpoints with different state roots at one height, both signed
/// by a real key, as the feed would publish them (what `chorus drill`
/// makes to exercise the watcher).
fn equivocation(
    seeds: &mut Seeds,
    domain: chorus_wire::Domain,
    operator: Address,
    key: &SecretKey,
    commitments: &[Commitment],
) -> eyre::Result<()> {
    let mut feed = Vec::new();
    for variant in [0u8, 1] {
        let mut altered = commitments.to_vec();
        if let Some(first) = altered.first_mut() {
            first.stateRoot = keccak256([first.stateRoot.as_slice(), &[variant]].concat());
        }
        let evidence = Evidence::sign(domain, operator, key, 1, altered)?;
        let tree = evidence.verify()?;
        feed.push(PublicSignature {
            operator,
            pubkey: evidence.pubkey.clone(),
            table_version: evidence.table_version,
            commitments_root: tree.root(),
            commitments: evidence.commitments.clone(),
            signature: evidence.signature.clone(),
        });
    }
    seeds.add("watcher_feed", "equivocation", &serde_json::to_vec(&feed)?)
}

/// The records of the first half of the history's checkpoints.
fn first_half(history: &Interchange) -> Interchange {
    let checkpoints: BTreeSet<(u32, B256)> =
        history.signed_commitments.iter().map(|r| (r.table_version, r.commitments_root)).collect();
    let kept: BTreeSet<(u32, B256)> =
        checkpoints.iter().take(checkpoints.len() / 2).copied().collect();
    Interchange {
        metadata: history.metadata.clone(),
        signed_commitments: history
            .signed_commitments
            .iter()
            .filter(|r| kept.contains(&(r.table_version, r.commitments_root)))
            .cloned()
            .collect(),
    }
}

/// PBKDF2 rounds of the cheap re-encryptions: decryptable in a fuzz run.
const CHEAP_ROUNDS: u32 = 16;

fn derive(password: &Password, salt: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(&password.eip2335_bytes(), salt, CHEAP_ROUNDS, &mut key);
    key
}

/// `secret` in an EIP-2335 keystore with PBKDF2 at [`CHEAP_ROUNDS`]: the
/// real keystore's shape, a cheap KDF (EIP-2335's steps, written out here).
fn cheap_bls_keystore(secret: &SecretKey, password: &Password) -> eyre::Result<String> {
    let (salt, iv) = ([7u8; 32], [9u8; 16]);
    let key = derive(password, &salt);
    let mut ciphertext = secret.to_bytes().to_vec();
    Aes128Ctr::new(key[..16].into(), (&iv).into()).apply_keystream(&mut ciphertext);
    let checksum = Sha256::new().chain_update(&key[16..]).chain_update(&ciphertext).finalize();
    let json = serde_json::json!({
        "crypto": {
            "kdf": { "function": "pbkdf2", "params": { "dklen": 32, "c": CHEAP_ROUNDS, "prf": "hmac-sha256", "salt": alloy::hex::encode(salt) }, "message": "" },
            "checksum": { "function": "sha256", "params": {}, "message": alloy::hex::encode(checksum) },
            "cipher": { "function": "aes-128-ctr", "params": { "iv": alloy::hex::encode(iv) }, "message": alloy::hex::encode(&ciphertext) }
        },
        "description": "fuzz seed: a devnet key under a cheap KDF",
        "pubkey": alloy::hex::encode(secret.public_key().to_bytes()),
        "path": "",
        "uuid": "1d85ae20-35c5-4611-98e8-aa14a633906f",
        "version": 4
    });
    let text = serde_json::to_string_pretty(&json)?;
    Keystore::from_json(&text)?.decrypt(password)?;
    Ok(text)
}

/// An Ethereum key in a Web3 keystore with PBKDF2 at [`CHEAP_ROUNDS`]
/// (Web3 secret storage: MAC = keccak256(DK[16..32] || ciphertext)).
fn cheap_ecdsa_keystore(secret: &[u8], password: &Password) -> eyre::Result<String> {
    let (salt, iv) = ([5u8; 32], [3u8; 16]);
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_str().as_bytes(), &salt, CHEAP_ROUNDS, &mut key);
    let mut ciphertext = secret.to_vec();
    Aes128Ctr::new(key[..16].into(), (&iv).into()).apply_keystream(&mut ciphertext);
    let mac = keccak256([&key[16..], ciphertext.as_slice()].concat());
    let json = serde_json::json!({
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": alloy::hex::encode(iv) },
            "ciphertext": alloy::hex::encode(&ciphertext),
            "kdf": "pbkdf2",
            "kdfparams": { "c": CHEAP_ROUNDS, "dklen": 32, "prf": "hmac-sha256", "salt": alloy::hex::encode(salt) },
            "mac": alloy::hex::encode(mac)
        },
        "id": "0b4e1b0e-8a55-4f06-9a3c-6f1d2c1e9f10",
        "version": 3
    });
    let text = serde_json::to_string(&json)?;
    let scratch = tempfile::tempdir()?;
    let path = scratch.path().join("ecdsa.json");
    std::fs::write(&path, &text)?;
    ecdsa::decrypt(&path, password)?;
    Ok(text)
}

fn files_under(dir: &Path) -> eyre::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}
