//! The bodies of Chorus's fuzz targets: every decoder that sees bytes from
//! outside the process, driven through the same functions the aggregator,
//! the operator and the watcher call, with invariants that must hold for
//! any input.
//!
//! Each target is a plain function of the input bytes, listed in
//! [`TARGETS`]. Two things run them:
//!
//! - the cargo-fuzz project in `fuzz/` (nightly, libFuzzer; its own
//!   workspace and `Cargo.lock`), whose `fuzz_targets/<name>.rs` each call one
//!   function here, run by `scripts/fuzz [SECONDS_PER_TARGET]`;
//! - this crate's test `tests/corpus.rs`, under plain `cargo test`, which
//!   runs every file of `fuzz/corpus/<name>/` (seeded from a real devnet by
//!   `examples/seed.rs`, minimised with `cargo fuzz cmin`) and of
//!   `fuzz/regressions/<name>/` (every crash ever found) through them.
//!
//! A target panics (and libFuzzer reports a crash) only when an invariant
//! breaks: a decoder accepting what it must not, an encoding that does not
//! round-trip, an import that fails yet changes the store, an aggregate that
//! does not verify. Refusing bad input is the expected outcome.
//!
//! The fixture (`fuzz/fixtures/devnet.json`, [`fixture::Fixture`]) is a real
//! devnet's deployment, operator table and one checkpoint with its
//! proposal, captured by the seeding tool with the corpus: the aggregator
//! targets collect signatures for that checkpoint, the watcher and
//! operator targets judge evidence and proposals of that deployment.
//!
//! Inputs that carry several HTTP bodies (a session of submissions to one
//! checkpoint) separate them with a NUL byte, which JSON never contains.

pub mod api;
pub mod bls;
pub mod fixture;
pub mod keystore;
pub mod proposal;
pub mod protection;
pub mod watcher;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and its
/// corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("api_signature", api::signature),
    ("api_rejection", api::rejection),
    ("bls_decode", bls::decode),
    ("bls_verify", bls::verify),
    ("keystore_bls", keystore::bls),
    ("keystore_ecdsa", keystore::ecdsa),
    ("protection_import", protection::import),
    ("proposal", proposal::proposal),
    ("watcher_feed", watcher::feed),
];

/// The bodies of a session: the input split at NUL bytes.
fn bodies(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&byte| byte == 0)
}
