//! Hostile input against a running aggregator, while honest operators keep
//! working: every hostile request gets a clear refusal and changes nothing,
//! the aggregator stays up, and honest checkpoints keep landing on L1.
//!
//! A devnet (real anvil L1 and L2, EigenLayer and Chorus from their real
//! bytecode) with four registered operators: three run as honest nodes on
//! 127.0.0.1, the fourth never runs; the test holds every BLS key. Each
//! attacker has a loopback address of its own (Linux routes all of
//! 127.0.0.0/8 to `lo`), so the per-address rate limit tells them apart:
//!
//! - 127.0.0.5 sends the malformed, forged, replayed and duplicate
//!   requests, a round of each kind per checkpoint, each against the open
//!   proposal once an honest operator signed it; before and after each, the
//!   checkpoint is read (from 127.0.0.3) and must not have changed in any
//!   way the request could cause;
//! - 127.0.0.9 floods (as fast as it can, several connections at once);
//! - 127.0.0.7 is slow: a head sent a byte at a time, a body sent a byte at
//!   a time, and many connections that send nothing.
//!
//! Afterwards: every refusal counted by the aggregator is one the attackers
//! provoked (so no honest operator was ever refused, in particular never
//! rate limited), every checkpoint posted since the attack began is signed
//! by the three honest operators exactly (the quiet operator's forged
//! signatures never counted) and posted once, and more checkpoints land
//! after the attack. The counts are printed as a table (`--nocapture`).
//!
//! `CHORUS_LONG=1` runs more rounds and a larger flood.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::{BTreeMap, HashSet},
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy::primitives::{Address, B256, Bytes};
use chorus_contracts::{Commitment, checkpoint::checkpoint_message};
use chorus_devnet::{Devnet, DevnetOptions};
use chorus_keys::{
    bls::{PublicKey, SecretKey, Signature, deferred::UncheckedSignature},
    keystore::Keystore,
    password::PasswordSource,
};
use chorus_tests::{
    api::wait_for,
    l1::{assert_no_double_posts, submissions},
};
use chorus_wire::{
    ApiError, CheckpointState, CheckpointStatus, MAX_BODY_BYTES, Proposal, PublicSignature,
    RejectReason, RejectedCommitment, Rejection, SignedCheckpoint, routes,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::Instant,
};

/// Generous: a checkpoint takes a few seconds; CI machines are slow.
const LONG: Duration = Duration::from_secs(90);

/// The addresses of the parts the test plays.
const OBSERVER: [u8; 4] = [127, 0, 0, 3];
const HOSTILE: [u8; 4] = [127, 0, 0, 5];
const SLOW: [u8; 4] = [127, 0, 0, 7];
const FLOODER: [u8; 4] = [127, 0, 0, 9];

/// Honest nodes run; the last operator never does.
const HONEST: usize = 3;
const QUIET: usize = 3;

fn long_run() -> bool {
    std::env::var("CHORUS_LONG").is_ok_and(|v| v == "1")
}

/// Rounds of hostile requests (one checkpoint each).
fn rounds() -> usize {
    if long_run() { 40 } else { 5 }
}

/// Flood requests, and how many connections send them.
fn flood_size() -> (usize, usize) {
    if long_run() { (20_000, 16) } else { (3_000, 8) }
}

/// Idle connections opened at once.
fn idle_connections() -> usize {
    if long_run() { 1_000 } else { 200 }
}

fn client(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::from(address)).timeout(LONG).build().unwrap()
}

/// Operator `index`'s BLS key, from its devnet keystore.
fn operator_key(devnet: &Devnet, index: usize) -> SecretKey {
    let config = &devnet.operator_config(index).unwrap().operator;
    let password = PasswordSource::File(config.bls_password_file.clone().unwrap()).read().unwrap();
    Keystore::from_file(&config.bls_keystore).unwrap().decrypt(&password).unwrap().secret
}

/// The message of `proposal` as its fields name it, or with another chain
/// id, contract or table version.
fn message(proposal: &Proposal, chain_id: u64, contract: Address, version: u32) -> B256 {
    checkpoint_message(chain_id, contract, version, proposal.commitments_root)
}

fn signed(proposal: &Proposal, operator: Address, signature: &[u8]) -> SignedCheckpoint {
    proposal.signed_by(operator, signature)
}

fn honest_signature(proposal: &Proposal, key: &SecretKey) -> [u8; 48] {
    let d = proposal.domain;
    key.sign(
        message(proposal, d.l1_chain_id, d.attestation_contract, proposal.table_version).as_slice(),
    )
    .to_bytes()
}

/// Compressed G1 encodings that decode to no valid signature: one whose x
/// has no point on the curve, one on the curve outside the subgroup.
fn bad_points() -> ([u8; 48], [u8; 48]) {
    let (mut off_curve, mut off_subgroup) = (None, None);
    for x in 1..=255u8 {
        let mut bytes = [0u8; 48];
        bytes[0] = 0x80;
        bytes[47] = x;
        match UncheckedSignature::from_bytes(&bytes) {
            Err(_) => off_curve = off_curve.or(Some(bytes)),
            Ok(point) if point.check().is_err() => off_subgroup = off_subgroup.or(Some(bytes)),
            Ok(_) => {}
        }
    }
    assert!(Signature::from_bytes(&off_subgroup.unwrap()).is_err());
    (off_curve.unwrap(), off_subgroup.unwrap())
}

/// What each kind of hostile request was answered, counted.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, BTreeMap<String, u64>>);

impl Tally {
    fn add(&mut self, kind: &'static str, answer: String) {
        *self.0.entry(kind).or_default().entry(answer).or_default() += 1;
    }

    fn sent(&self, kind: &str) -> u64 {
        self.0.get(kind).map_or(0, |answers| answers.values().sum())
    }

    fn saw(&self, kind: &str, answer: &str) -> bool {
        self.0.get(kind).is_some_and(|answers| answers.contains_key(answer))
    }

    fn print(&self) {
        println!("| kind | sent | answers |\n|---|---:|---|");
        for (kind, answers) in &self.0 {
            let list: Vec<String> = answers.iter().map(|(a, n)| format!("{a} x{n}")).collect();
            println!("| {kind} | {} | {} |", self.sent(kind), list.join(", "));
        }
    }
}

/// Codes of a checkpoint that takes no more answers: a hostile request
/// may arrive after the honest operators completed it.
const LATE: [&str; 3] = ["checkpoint_attested", "checkpoint_superseded", "checkpoint_closed"];

/// The hostile client and the observer, against one aggregator.
struct Attack {
    base: String,
    hostile: reqwest::Client,
    observer: reqwest::Client,
    tally: Tally,
    /// Refusals the attacker caused, by code (checked against the
    /// aggregator's own count).
    refusals: BTreeMap<String, u64>,
}

impl Attack {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn checkpoint(&self, id: u64) -> CheckpointStatus {
        let path = routes::CHECKPOINT.replace("{id}", &id.to_string());
        let response = self.observer.get(self.url(&path)).send().await.unwrap();
        response.error_for_status().unwrap().json().await.unwrap()
    }

    /// Sends `request` as hostile request `kind`; its answer must be one
    /// of `expected` (`"STATUS code"`, or `"200 duplicate"`/`"200 accepted"`
    /// for a receipt), and `target`, read before and after, must not have
    /// changed in any way it could cause: no signer removed, none added but
    /// an honest one (`allowed`), no rejection added.
    async fn send(
        &mut self,
        kind: &'static str,
        request: reqwest::RequestBuilder,
        target: u64,
        expected: &[&str],
        allowed: &HashSet<Address>,
    ) -> String {
        let before = self.checkpoint(target).await;
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let answer = if status == 200 {
            format!("200 {}", body["status"].as_str().unwrap_or("?"))
        } else {
            let error: ApiError = serde_json::from_value(body.clone())
                .unwrap_or_else(|e| panic!("{kind}: {status} without an ApiError ({e}): {body}"));
            assert!(!error.message.is_empty(), "{kind}: an empty message");
            *self.refusals.entry(error.code.clone()).or_default() += 1;
            format!("{status} {}", error.code)
        };
        let late = LATE.iter().any(|code| answer == format!("409 {code}"));
        assert!(
            expected.contains(&answer.as_str()) || late,
            "{kind}: answered {answer}, expected one of {expected:?}: {body}"
        );
        let after = self.checkpoint(target).await;
        let (was, now): (HashSet<_>, HashSet<_>) =
            (before.signers.iter().collect(), after.signers.iter().collect());
        assert!(was.is_subset(&now), "{kind} removed a signer: {before:?} -> {after:?}");
        for added in now.difference(&was) {
            assert!(allowed.contains(*added), "{kind} added signer {added}: {after:?}");
        }
        assert_eq!(before.rejections, after.rejections, "{kind} changed the rejections");
        self.tally.add(kind, answer.clone());
        answer
    }

    fn post_json<T: serde::Serialize>(&self, path: &str, body: &T) -> reqwest::RequestBuilder {
        self.hostile.post(self.url(path)).json(body)
    }

    fn post_raw(&self, path: &str, content_type: &str, body: String) -> reqwest::RequestBuilder {
        self.hostile.post(self.url(path)).header("content-type", content_type).body(body)
    }
}

/// The keys and addresses of the four operators.
struct Operators {
    addresses: Vec<Address>,
    keys: Vec<SecretKey>,
    pubkeys: Vec<PublicKey>,
}

/// One round: every hostile kind against `proposal`: those in the silent
/// operator's name at once, while the honest operators sign; the rest once
/// operator 0 signed. `previous` is the round before's proposal (replays).
async fn round(
    attack: &mut Attack,
    ops: &Operators,
    proposal: &Proposal,
    previous: &Proposal,
    points: ([u8; 48], [u8; 48]),
) {
    let id = proposal.checkpoint_id;
    let honest: HashSet<Address> = ops.addresses[..HONEST].iter().copied().collect();
    let (op0, key0) = (ops.addresses[0], &ops.keys[0]);
    let quiet = ops.addresses[QUIET];
    let d = proposal.domain;
    let version = proposal.table_version;
    let own = honest_signature(proposal, key0);
    let sig = routes::SIGNATURES;
    let rej = routes::REJECTIONS;
    let a = attack;
    // Bytes that are no signature (in the quiet operator's name: nothing of
    // its is held, so only the decoding can refuse them).
    let (off_curve, off_subgroup) = points;
    let mut infinity = [0u8; 48];
    infinity[0] = 0xc0;
    for (kind, bytes) in [
        ("signature of 47 bytes", vec![0x80; 47]),
        ("signature of 49 bytes", [own.to_vec(), vec![0]].concat()),
        ("point off the curve", off_curve.to_vec()),
        ("point at infinity", infinity.to_vec()),
    ] {
        let r = a.post_json(sig, &signed(proposal, quiet, &bytes));
        a.send(kind, r, id, &["400 malformed_signature"], &honest).await;
    }

    // A forged signature in the name of an operator that has not signed,
    // sent while the honest operators sign: its answer waits for the check
    // of its batch, so it is refused and never shown as a signer, not even
    // for a moment (`allowed` is the honest operators only).
    let other_chain = message(proposal, d.l1_chain_id + 1, d.attestation_contract, version);
    let forged = key0.sign(other_chain.as_slice()).to_bytes();
    let r = a.post_json(sig, &signed(proposal, quiet, &forged));
    a.send("forged, in a silent operator's name", r, id, &["400 invalid_signature"], &honest).await;
    // Wait until operator 0's own signature is in: from then on, any other
    // signature in its name is a conflict, whatever the checkpoint's state.
    let reader: &Attack = a;
    let signed_by_0 = wait_for("operator 0's signature", LONG, || async move {
        let status = reader.checkpoint(id).await;
        let op0_in = status.signers.contains(&op0) || status.state != CheckpointState::Open;
        Ok(op0_in.then_some(()))
    })
    .await;
    signed_by_0.unwrap();

    // Malformed bodies.
    let r = a.post_raw(sig, "application/json", "{not json".into());
    a.send("malformed JSON", r, id, &["400 malformed_json"], &honest).await;
    let r = a.post_json(sig, &json!({ "checkpointId": "one", "operator": 7 }));
    a.send("JSON of the wrong shape", r, id, &["400 malformed_json"], &honest).await;
    let mut short_root = serde_json::to_value(signed(proposal, quiet, &own)).unwrap();
    short_root["commitmentsRoot"] = json!(format!("0x{}", "ab".repeat(31)));
    let r = a.post_json(sig, &short_root);
    a.send("root of 31 bytes", r, id, &["400 malformed_json"], &honest).await;
    let r =
        a.post_raw(sig, "text/plain", serde_json::to_string(&signed(proposal, op0, &own)).unwrap());
    a.send("not JSON content type", r, id, &["415 unsupported_content_type"], &honest).await;
    let oversized = json!({ "padding": "x".repeat(MAX_BODY_BYTES + 1) });
    let r = a.post_json(sig, &oversized);
    a.send("oversized body (64 KiB + 1)", r, id, &["413 body_too_large"], &honest).await;
    let r = a.post_json(rej, &oversized);
    a.send("oversized rejection", r, id, &["413 body_too_large"], &honest).await;

    // Names a checkpoint, table or root other than the one served.
    let r = a.post_json(
        sig,
        &SignedCheckpoint { checkpoint_id: u64::MAX, ..signed(proposal, op0, &own) },
    );
    a.send("unknown checkpoint", r, id, &["404 unknown_checkpoint"], &honest).await;
    let r = a.post_json(
        sig,
        &SignedCheckpoint { table_version: version + 1, ..signed(proposal, op0, &own) },
    );
    a.send("another table version (named)", r, id, &["409 wrong_table_version"], &honest).await;
    let r = a.post_json(
        sig,
        &SignedCheckpoint { commitments_root: B256::repeat_byte(7), ..signed(proposal, op0, &own) },
    );
    a.send("another root (named)", r, id, &["409 wrong_root"], &honest).await;

    // Who signs.
    let stranger = SecretKey::random();
    let unregistered = Address::repeat_byte(0x42);
    let r =
        a.post_json(sig, &signed(proposal, unregistered, &honest_signature(proposal, &stranger)));
    a.send("unregistered operator", r, id, &["403 unknown_operator"], &honest).await;

    // Well-formed signatures that are not operator 0's over this
    // checkpoint, in its name: it already signed, so each is a conflict
    // (or found invalid alone, once the checkpoint is past its quorum).
    let conflict = ["409 conflicting_signature", "400 invalid_signature"];
    let other_chain = message(proposal, d.l1_chain_id + 1, d.attestation_contract, version);
    let other_contract = message(proposal, d.l1_chain_id, Address::repeat_byte(0xcc), version);
    let other_version = message(proposal, d.l1_chain_id, d.attestation_contract, version + 1);
    let replayed = honest_signature(previous, key0);
    for (kind, bytes) in [
        ("point outside the subgroup", off_subgroup),
        ("signature by an unregistered key", stranger.sign(other_chain.as_slice()).to_bytes()),
        ("valid signature, another chain id", key0.sign(other_chain.as_slice()).to_bytes()),
        ("valid signature, another contract", key0.sign(other_contract.as_slice()).to_bytes()),
        ("valid signature, another table version", key0.sign(other_version.as_slice()).to_bytes()),
        ("replay onto this checkpoint", replayed),
    ] {
        let r = a.post_json(sig, &signed(proposal, op0, &bytes));
        a.send(kind, r, id, &conflict, &honest).await;
    }
    // A replay as it was: the old checkpoint is closed, or still being
    // posted (then it is operator 0's own signature again: a duplicate).
    let r = a.post_json(sig, &signed(previous, op0, &replayed));
    let target = previous.checkpoint_id;
    a.send("replay of an old checkpoint", r, target, &["200 duplicate"], &honest).await;
    // The same signature again: idempotent.
    let r = a.post_json(sig, &signed(proposal, op0, &own));
    a.send("duplicate submission", r, id, &["200 duplicate"], &honest).await;

    // Rejections in the quiet operator's name: checked one by one.
    let commitment = proposal.commitments[0].clone();
    let mismatch = |c: &Commitment| RejectedCommitment {
        commitment: c.clone(),
        reason: RejectReason::Mismatch {
            ours: Commitment { stateRoot: B256::repeat_byte(0xee), ..c.clone() },
        },
    };
    let rejection = |rejected: Vec<RejectedCommitment>, key: &SecretKey| {
        let m = Rejection::message(&d, id, version, proposal.commitments_root, &rejected);
        Rejection {
            checkpoint_id: id,
            operator: quiet,
            table_version: version,
            commitments_root: proposal.commitments_root,
            rejected,
            signature: Bytes::copy_from_slice(&key.sign(m.as_slice()).to_bytes()),
        }
    };
    let quiet_key = &ops.keys[QUIET];
    let r = a.post_json(rej, &rejection(vec![], quiet_key));
    a.send("empty rejection", r, id, &["400 empty_rejection"], &honest).await;
    let invented =
        Commitment { l2BlockNumber: commitment.l2BlockNumber + 1_000, ..commitment.clone() };
    let r = a.post_json(rej, &rejection(vec![mismatch(&invented)], quiet_key));
    a.send("rejection of a commitment not proposed", r, id, &["400 unknown_commitment"], &honest)
        .await;
    let r = a.post_json(rej, &rejection(vec![mismatch(&commitment)], &stranger));
    a.send("forged rejection", r, id, &["400 invalid_signature"], &honest).await;
}

/// One connection's result: how long until the aggregator closed it, and
/// the status line it answered, if any.
#[derive(Debug)]
struct Closed {
    after: Duration,
    answer: String,
}

async fn connect_from(address: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((address, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// Sends `head` then `trickle` a byte every 200 ms until the aggregator
/// closes the connection (by `LONG` at most); what it answered.
async fn slowloris(to: SocketAddr, head: String, trickle: &'static [u8]) -> Closed {
    let started = Instant::now();
    let mut stream = connect_from(SLOW, to).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut next = 0;
    loop {
        assert!(started.elapsed() < LONG, "a slow connection was never closed");
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            },
            // Pacing the attacker, not waiting for the aggregator.
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                let byte = trickle[next % trickle.len()];
                next += 1;
                if stream.write_all(&[byte]).await.is_err() {
                    // Closed while writing: read what it answered.
                    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
                    break;
                }
            }
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    Closed { after: started.elapsed(), answer: answer.lines().next().unwrap_or("").to_owned() }
}

/// Opens `count` connections that send nothing; waits until the aggregator
/// closed every one; answers the longest any was held.
async fn idle(to: SocketAddr, count: usize) -> Duration {
    let started = Instant::now();
    let mut streams = Vec::new();
    for _ in 0..count {
        streams.push(connect_from(SLOW, to).await);
    }
    let mut longest = Duration::ZERO;
    for mut stream in streams {
        let mut sink = Vec::new();
        tokio::time::timeout(LONG, stream.read_to_end(&mut sink))
            .await
            .expect("an idle connection was never closed")
            .ok();
        longest = longest.max(started.elapsed());
    }
    longest
}

/// What the flood got back.
#[derive(Debug, Default)]
struct Flood {
    ok: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

async fn flood(base: String, total: usize, connections: usize) -> Arc<Flood> {
    let counts = Arc::new(Flood::default());
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (base, counts, next) = (base.clone(), counts.clone(), next.clone());
        tasks.push(actix_rt::spawn(async move {
            let http = client(FLOODER);
            while next.fetch_add(1, Ordering::Relaxed) < total as u64 {
                let response = http.get(format!("{base}{}", routes::STATUS)).send().await.unwrap();
                match response.status().as_u16() {
                    200 => counts.ok.fetch_add(1, Ordering::Relaxed),
                    429 => {
                        let retry = response.headers().get("retry-after").cloned();
                        let error: ApiError = response.json().await.unwrap();
                        assert_eq!(error.code, "rate_limited");
                        let seconds = retry.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                        assert!(seconds.is_some_and(|s| s >= 1), "429 without Retry-After");
                        counts.limited.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => counts.other.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    counts
}

/// The aggregator's count of refusals, by code.
async fn refusals(observer: &reqwest::Client, base: &str) -> BTreeMap<String, u64> {
    let text = observer.get(format!("{base}{}", routes::METRICS)).send().await.unwrap();
    let text = text.text().await.unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("chorus_api_refusals_total{code=\""))
        .filter_map(|rest| {
            let (code, value) = rest.split_once("\"} ")?;
            Some((code.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

#[actix_rt::test]
async fn under_attack_the_aggregator_refuses_everything_hostile_and_honest_work_lands() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 4,
        rollups: 1,
        dir: dir.path().join("devnet"),
        // Checkpoints stay in `submitting` for a while, so that hostile
        // requests meet every state.
        l1_block_time: Duration::from_secs(2),
        ..Default::default()
    };
    let mut devnet = Devnet::setup(options).await.unwrap();
    // The observer reads a lot, fast: exempt, as a trusted dashboard would be.
    let mut config = devnet.aggregator_config().clone();
    config.api.rate_limit_exempt = vec![IpAddr::from(OBSERVER)];
    devnet.set_aggregator_config(config).unwrap();
    devnet.wait_for_rollups(LONG).await.unwrap();
    devnet.start_aggregator().await.unwrap();
    for index in 0..HONEST {
        devnet.start_operator(index).await.unwrap();
    }
    let ops = Operators {
        addresses: devnet.info().operators.iter().map(|o| o.address).collect(),
        keys: (0..4).map(|i| operator_key(&devnet, i)).collect(),
        pubkeys: devnet
            .info()
            .operators
            .iter()
            .map(|o| PublicKey::from_bytes(&alloy::hex::decode(&o.bls_pubkey).unwrap()).unwrap())
            .collect(),
    };
    let base = devnet.aggregator_url().trim_end_matches('/').to_owned();
    let to: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let attack_began = alloy::providers::Provider::get_block_number(devnet.l1()).await.unwrap();

    let mut attack = Attack {
        base: base.clone(),
        hostile: client(HOSTILE),
        observer: client(OBSERVER),
        tally: Tally::default(),
        refusals: BTreeMap::new(),
    };
    let refused_before = refusals(&attack.observer, &base).await;

    // The slow and the flood run beside the rounds.
    let (total, connections) = flood_size();
    let flooding = actix_rt::spawn(flood(base.clone(), total, connections));
    let head = format!("GET {} HTTP/1.1\r\nHost: {to}\r\n", routes::STATUS);
    let slow_head = actix_rt::spawn(slowloris(to, head, b"X-Slow: a\r\n"));
    let body_head = format!(
        "POST {} HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        routes::SIGNATURES
    );
    let slow_body = actix_rt::spawn(slowloris(to, body_head, b"{\"a\":1,"));
    let idling = actix_rt::spawn(idle(to, idle_connections()));

    let points = bad_points();
    let observer = attack.observer.clone();
    let next = |after: Option<u64>| {
        let (observer, base) = (observer.clone(), base.clone());
        async move {
            let after = after.map_or(String::new(), |id| format!("&after={id}"));
            let url = format!("{base}{}?wait=20{after}", routes::NEXT_PROPOSAL);
            wait_for("a proposal", LONG, || async {
                let response = observer.get(&url).send().await?;
                Ok(if response.status() == 200 {
                    Some(response.json::<Proposal>().await?)
                } else {
                    None
                })
            })
            .await
            .unwrap()
        }
    };
    let mut previous = next(None).await;
    let mut proposal = next(Some(previous.checkpoint_id)).await;
    for _ in 0..rounds() {
        round(&mut attack, &ops, &proposal, &previous, points).await;
        previous = proposal.clone();
        proposal = next(Some(proposal.checkpoint_id)).await;
    }

    let flood = flooding.await.unwrap();
    let slow_head = slow_head.await.unwrap();
    let slow_body = slow_body.await.unwrap();
    let idle_for = idling.await.unwrap();
    let attack_ended = alloy::providers::Provider::get_block_number(devnet.l1()).await.unwrap();

    // Honest work landed during the attack, and lands after it.
    let attested = devnet.attested_checkpoints().await.unwrap();
    let during =
        attested.iter().filter(|c| (attack_began..=attack_ended).contains(&c.l1_block)).count();
    assert!(during >= 2, "only {during} checkpoints landed during the attack");
    wait_for("two checkpoints after the attack", LONG, || async {
        let attested = devnet.attested_checkpoints().await?;
        Ok((attested.iter().filter(|c| c.l1_block > attack_ended).count() >= 2).then_some(()))
    })
    .await
    .unwrap();

    // Every posted checkpoint since the attack began: once, by the three
    // honest operators exactly (the quiet one is the one non-signer).
    let posted = submissions(devnet.l1(), devnet.deployment().chorus.attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();
    let since: Vec<_> = posted.iter().filter(|p| p.block >= attack_began).collect();
    assert!(since.len() >= 4);
    for submission in &since {
        assert_eq!(
            submission.non_signers, 1,
            "posted with a signer too many or too few: {submission:?}"
        );
    }
    let statuses: Vec<CheckpointStatus> = attack
        .observer
        .get(format!("{base}{}?limit=1000", routes::CHECKPOINTS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let honest: HashSet<Address> = ops.addresses[..HONEST].iter().copied().collect();
    for status in statuses.iter().filter(|s| s.state == CheckpointState::Attested) {
        let signers: HashSet<Address> = status.signers.iter().copied().collect();
        assert_eq!(signers, honest, "checkpoint {}", status.proposal.checkpoint_id);
        assert!(status.rejections.is_empty(), "a hostile rejection was recorded");
        // Each published signature verifies alone under its signer's key.
        let path = routes::CHECKPOINT_SIGNATURES
            .replace("{id}", &status.proposal.checkpoint_id.to_string());
        let public: Vec<PublicSignature> = attack
            .observer
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for signature in public {
            let index = ops.addresses.iter().position(|a| *a == signature.operator).unwrap();
            assert!(index < HONEST, "a signature in the silent operator's name is published");
            let p = &status.proposal;
            let m = checkpoint_message(
                p.domain.l1_chain_id,
                p.domain.attestation_contract,
                p.table_version,
                p.commitments_root,
            );
            ops.pubkeys[index]
                .verify(m.as_slice(), &Signature::from_bytes(&signature.signature).unwrap())
                .unwrap();
        }
    }

    // Slow clients were cut off; the flood was limited; nobody else was.
    assert!(slow_head.after < Duration::from_secs(30), "{slow_head:?}");
    assert!(slow_body.answer.contains("408"), "{slow_body:?}");
    assert!(slow_body.after < Duration::from_secs(30), "{slow_body:?}");
    assert!(idle_for < Duration::from_secs(30), "idle connections held {idle_for:?}");
    let (ok, limited, other) = (
        flood.ok.load(Ordering::Relaxed),
        flood.limited.load(Ordering::Relaxed),
        flood.other.load(Ordering::Relaxed),
    );
    assert!(limited > 0 && other == 0, "flood: {flood:?}");
    let mut refused = refusals(&attack.observer, &base).await;
    let mut caused = attack.refusals.clone();
    *caused.entry("rate_limited".to_owned()).or_default() += limited;
    *caused.entry("request_timeout".to_owned()).or_default() += 1;
    // An honest answer that comes after its checkpoint closed (superseded
    // on a slow machine) is refused too, rightly: only those may differ.
    for code in LATE {
        let honest = refused.remove(code).unwrap_or(0) - refused_before.get(code).unwrap_or(&0);
        assert!(honest >= caused.remove(code).unwrap_or(0));
    }
    let mut expected = refused_before.clone();
    expected.retain(|code, _| !LATE.contains(&code.as_str()));
    for (code, count) in caused {
        *expected.entry(code).or_default() += count;
    }
    assert_eq!(
        refused, expected,
        "refusals the attackers did not cause (an honest operator was refused)"
    );

    // Each kind was sent every round and got its proper answer at least once.
    for kind in attack.tally.0.keys() {
        assert_eq!(attack.tally.sent(kind), rounds() as u64, "{kind}");
    }
    for (kind, answer) in [
        ("point off the curve", "400 malformed_signature"),
        ("point at infinity", "400 malformed_signature"),
        ("valid signature, another chain id", "409 conflicting_signature"),
        ("duplicate submission", "200 duplicate"),
        ("forged rejection", "400 invalid_signature"),
        ("forged, in a silent operator's name", "400 invalid_signature"),
    ] {
        assert!(attack.tally.saw(kind, answer), "{kind} never answered {answer}");
    }
    let (_, health) = chorus_tests::api::get_text(&base, routes::HEALTH).await.unwrap();
    assert_eq!(health, r#"{"status":"ok"}"#);

    attack.tally.print();
    println!(
        "| flood from 127.0.0.9 (GET /v1/status, {connections} connections) | {total} | 200 x{ok}, 429 rate_limited x{limited} |"
    );
    println!(
        "| head a byte per 200 ms | 1 | closed after {:?}: {:?} |",
        slow_head.after, slow_head.answer
    );
    println!(
        "| body a byte per 200 ms | 1 | closed after {:?}: {:?} |",
        slow_body.after, slow_body.answer
    );
    println!("| idle connections | {} | all closed within {idle_for:?} |", idle_connections());
    println!(
        "checkpoints landed during the attack: {during}; posted since it began: {}",
        since.len()
    );
    devnet.shutdown().await;
}

/// A metric of the operator's `/metrics`: the sum of the series of `name`
/// whose labels contain `labels`.
async fn operator_metric(api: &str, name: &str, labels: &str) -> u64 {
    let (_, text) = chorus_tests::api::get_text(api, "/metrics").await.unwrap();
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Waits for a poll of `attacker` from now: a poll counted after a change
/// of behaviour is served the new way. (Each failed poll doubles the
/// operator's backoff, so the test waits for no more than one.)
async fn met(attacker: &chorus_tests::malicious_aggregator::MaliciousAggregator) {
    let polls = attacker.polls();
    wait_for("a poll of the changed aggregator", LONG, || async {
        Ok((attacker.polls() > polls).then_some(()))
    })
    .await
    .unwrap();
}

/// The node answers its health route: `200`, or `206` (partially healthy,
/// in the EigenLayer node API) while the attacker counts as a failing
/// aggregator; never `503`.
async fn assert_operator_healthy(api: &str) {
    let (status, body) = chorus_tests::api::get_text(api, "/eigen/node/health").await.unwrap();
    assert!([200, 206].contains(&status), "the operator is unhealthy: {status} {body}");
}

/// Waits until `name{labels}` of the operator exceeds `before`.
async fn operator_counted(api: &str, name: &str, labels: &str, before: u64) -> u64 {
    let what = format!("{name}{{{labels}}} above {before}");
    wait_for(&what, LONG, || async {
        let now = operator_metric(api, name, labels).await;
        Ok((now > before).then_some(now))
    })
    .await
    .unwrap()
}

/// One operator with two aggregators: the devnet's (honest) and a stand-in
/// that attacks it. The operator signs nothing wrong for the attacker,
/// stays healthy, keeps signing the honest aggregator's checkpoints (which
/// land on L1 throughout), and signs the attacker's proposals again once
/// they are honest.
#[actix_rt::test]
async fn an_operator_facing_a_malicious_aggregator_signs_nothing_wrong_and_keeps_working() {
    use chorus_contracts::{checkpoint::CheckpointTree, table::fetch_latest_table};
    use chorus_operator::node::{NodeConfig, config::AggregatorEndpoint};
    use chorus_rollup::{RollupReader, Safety};
    use chorus_tests::malicious_aggregator::{Answer, Behaviour, MaliciousAggregator};
    use chorus_wire::Domain;

    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        operators: 1,
        rollups: 1,
        dir: dir.path().join("devnet"),
        ..Default::default()
    };
    let mut devnet = Devnet::setup(options).await.unwrap();
    devnet.wait_for_rollups(LONG).await.unwrap();
    devnet.start_aggregator().await.unwrap();
    let mut attacker = MaliciousAggregator::start().unwrap();
    let mut config: NodeConfig = devnet.operator_config(0).unwrap().clone();
    config.aggregators.push(AggregatorEndpoint { url: attacker.url().to_owned() });
    devnet.set_operator_config(0, config).unwrap();
    devnet.start_operator(0).await.unwrap();
    let api = devnet.info().operators[0].api_url.clone();
    let port = attacker.url().rsplit(':').next().unwrap().trim_end_matches('/').to_owned();

    let deployment = devnet.deployment().clone();
    let domain = Domain {
        l1_chain_id: deployment.chain_id,
        attestation_contract: deployment.chorus.attestations,
    };
    let version =
        fetch_latest_table(devnet.l1(), deployment.chorus.registry).await.unwrap().version();
    let rollup = devnet.info().rollups[0].clone();
    let l2 = RollupReader::connect(rollup.chain_id, &rollup.rpc_url, Safety::Confirmations(0))
        .await
        .unwrap();
    let proposal = |id: u64, commitments: Vec<Commitment>| {
        let root = CheckpointTree::new(commitments.clone()).map(|t| t.root()).unwrap_or_default();
        Proposal {
            checkpoint_id: id,
            domain,
            table_version: version,
            commitments,
            commitments_root: root,
        }
    };
    let truth = |height: u64| {
        let l2 = &l2;
        async move { l2.commitment_at(height).await.unwrap().unwrap() }
    };
    devnet.wait_for_checkpoints(1, LONG).await.unwrap();
    let landed = || async { devnet.attested_checkpoints().await.unwrap().len() };
    let mut progress = landed().await;
    // Honest work lands while the attacker does what it does.
    let mut honest_lands = async || {
        let before = progress;
        progress = wait_for("an honest checkpoint on L1", LONG, || async {
            let now = landed().await;
            Ok((now > before).then_some(now))
        })
        .await
        .unwrap();
    };
    let mut tally: Vec<(&str, String)> = Vec::new();

    // Two heights a few blocks back: wait until the L2 has them (the first
    // checkpoint can land before it has 5 blocks).
    let reader = &l2;
    let tip = wait_for("an L2 at least 5 blocks high", LONG, || async move {
        let tip = reader.safe_head().await?.l2BlockNumber;
        Ok((tip >= 5).then_some(tip))
    })
    .await
    .unwrap();
    let (h1, h2) = (tip - 4, tip - 3);
    let (true1, true2) = (truth(h1).await, truth(h2).await);
    let fake = Commitment { stateRoot: B256::repeat_byte(0xfa), ..true1.clone() };

    // A root that is not the root of the commitments: dropped unanswered.
    let ignored = "chorus_proposals_ignored_total";
    let mut wrong_root = proposal(1, vec![true1.clone()]);
    wrong_root.commitments_root = B256::repeat_byte(9);
    attacker.propose(vec![wrong_root]);
    operator_counted(&api, ignored, "root_mismatch", 0).await;
    tally.push((
        "proposal whose root is not its commitments'",
        "dropped (ignored: root_mismatch)".into(),
    ));
    honest_lands().await;

    // Another deployment's proposal: dropped.
    let mut foreign = proposal(2, vec![true1.clone()]);
    foreign.domain.l1_chain_id += 1;
    attacker.propose(vec![foreign]);
    operator_counted(&api, ignored, "wrong_domain", 0).await;
    tally.push(("proposal of another L1 chain", "dropped (ignored: wrong_domain)".into()));

    // Two commitments for one height: the false one is refused, the true
    // one signed; never both.
    attacker.propose(vec![proposal(3, vec![fake.clone()]), proposal(4, vec![true1.clone()])]);
    match attacker.answer_to(3, LONG).await.unwrap() {
        Answer::Rejected(r) => {
            assert_eq!(r.rejected[0].reason, RejectReason::Mismatch { ours: true1.clone() })
        }
        other => panic!("the false commitment was signed: {other:?}"),
    }
    assert!(matches!(attacker.answer_to(4, LONG).await.unwrap(), Answer::Signed(_)));
    tally.push((
        "conflicting commitments (false, then true, one height)",
        "false one rejected (mismatch), true one signed".into(),
    ));

    // A rollup it does not watch: refused as unknown.
    let unknown = Commitment { rollupId: 999, ..true2.clone() };
    attacker.propose(vec![proposal(5, vec![unknown])]);
    match attacker.answer_to(5, LONG).await.unwrap() {
        Answer::Rejected(r) => assert_eq!(r.rejected[0].reason, RejectReason::UnknownRollup),
        other => panic!("a commitment of an unknown rollup was signed: {other:?}"),
    }
    tally.push(("commitment of a rollup it does not watch", "rejected (unknownRollup)".into()));
    honest_lands().await;

    // Over the bounds: 1,025 commitments; a 2 MiB body; a body without end;
    // garbage. Each is a failed request to that aggregator, nothing more.
    let errors_before = operator_metric(&api, "chorus_aggregator_errors_total", &port).await;
    let many: Vec<Commitment> =
        (1..=1_025).map(|id| Commitment { rollupId: id, ..true2.clone() }).collect();
    attacker.propose(vec![proposal(6, many)]);
    met(&attacker).await;
    tally.push((
        "proposal of 1,025 commitments",
        "not taken as a proposal (aggregator error)".into(),
    ));
    for (kind, behaviour) in [
        ("garbage JSON", Behaviour::Body(b"{\"checkpointId\": [1, {".to_vec())),
        ("a 2 MiB body", Behaviour::Body(vec![b' '; 2 * 1024 * 1024])),
        ("a body that never ends", Behaviour::Endless),
    ] {
        attacker.behave(behaviour);
        met(&attacker).await;
        assert_operator_healthy(&api).await;
        tally.push((kind, "not read past 1 MiB, not taken (aggregator error)".into()));
    }
    // Each of the four was taken for a failed request (and no more).
    operator_counted(&api, "chorus_aggregator_errors_total", &port, errors_before + 3).await;
    honest_lands().await;

    // It hangs: the poll is held, honest work goes on.
    attacker.behave(Behaviour::Hang);
    let polls = attacker.polls();
    wait_for("a poll held by the hanging aggregator", LONG, || async {
        Ok((attacker.polls() > polls).then_some(()))
    })
    .await
    .unwrap();
    honest_lands().await;
    honest_lands().await;
    assert_operator_healthy(&api).await;
    tally.push((
        "a server that never answers",
        "poll held; honest checkpoints landed meanwhile".into(),
    ));

    // It turns honest: its true proposal is signed, and delivered although
    // the first post of it is answered 429 (the operator answers again).
    attacker.throttle(1);
    attacker.behave(Behaviour::Propose);
    attacker.propose(vec![proposal(7, vec![true2.clone()])]);
    assert!(matches!(attacker.answer_to(7, LONG).await.unwrap(), Answer::Signed(_)));
    assert_eq!(attacker.throttled_left(), 0, "the first answer was throttled");
    tally.push(("its first post answered 429", "answered again after a backoff, delivered".into()));
    wait_for("the operator fully healthy again", LONG, || async {
        Ok((chorus_tests::api::get_text(&api, "/eigen/node/health").await?.0 == 200).then_some(()))
    })
    .await
    .unwrap();
    honest_lands().await;

    // Everything the attacker got: signatures that verify, over true
    // commitments only, never two for one height; nothing for 1, 2, 3, 5, 6.
    let pubkey =
        PublicKey::from_bytes(&alloy::hex::decode(&devnet.info().operators[0].bls_pubkey).unwrap())
            .unwrap();
    let mut signed_ids = Vec::new();
    for answer in attacker.received() {
        let Answer::Signed(s) = answer else { continue };
        signed_ids.push(s.checkpoint_id);
        let m = checkpoint_message(
            domain.l1_chain_id,
            domain.attestation_contract,
            s.table_version,
            s.commitments_root,
        );
        pubkey.verify(m.as_slice(), &Signature::from_bytes(&s.signature).unwrap()).unwrap();
    }
    signed_ids.sort();
    assert_eq!(signed_ids, vec![4, 7], "signed exactly the two true proposals");
    let posted = submissions(devnet.l1(), deployment.chorus.attestations).await.unwrap();
    assert_no_double_posts(&posted).unwrap();
    println!("| against the operator | answer |\n|---|---|");
    for (kind, answer) in &tally {
        println!("| {kind} | {answer} |");
    }
    println!("honest checkpoints on L1 by the end: {progress}");
    devnet.shutdown().await;
    attacker.stop().await;
}
