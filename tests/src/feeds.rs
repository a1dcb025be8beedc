//! Aggregators' public signature feeds (`/v1/checkpoints/{id}/signatures`),
//! read the way a slashing watcher reads them, and judged by the project's
//! own equivocation rule ([`chorus_slashing::Detector`]).

use chorus_slashing::{Detector, Equivocation, Evidence, detect::DEFAULT_KEEP_HEIGHTS};
use chorus_wire::{CheckpointStatus, Domain, PublicSignature, routes};

use crate::{
    BoxError,
    api::{get_json, get_text},
};

/// Every signature one aggregator's feed holds, and what it could not serve.
#[derive(Debug, Default)]
pub struct Feed {
    /// Every public signature of every checkpoint it still knows.
    pub signatures: Vec<PublicSignature>,
    /// Checkpoints it has proposed.
    pub checkpoints: u64,
    /// Checkpoints it no longer serves (beyond its recent window).
    pub forgotten: u64,
}

/// Reads the signatures of every checkpoint the aggregator at `base` still
/// serves (its recent window, newest first).
pub async fn read_feed(base: &str) -> Result<Feed, BoxError> {
    let recent: Vec<CheckpointStatus> = get_json(base, "/v1/checkpoints?limit=1000").await?;
    let newest = recent.iter().map(|status| status.proposal.checkpoint_id).max().unwrap_or(0);
    let mut feed = Feed { checkpoints: newest, ..Feed::default() };
    feed.forgotten = newest.saturating_sub(recent.len() as u64);
    for status in &recent {
        let id = status.proposal.checkpoint_id.to_string();
        let path = routes::CHECKPOINT_SIGNATURES.replace("{id}", &id);
        match get_text(base, &path).await? {
            (200, body) => feed.signatures.extend(serde_json::from_str::<Vec<_>>(&body)?),
            (404, _) => feed.forgotten += 1,
            (status, body) => return Err(format!("GET {base}{path}: {status}: {body}").into()),
        }
    }
    Ok(feed)
}

/// Feeds every signature to one [`Detector`] for `domain`, as a watcher
/// following all the feeds would: the equivocations found (none, from
/// honest operators), or the first signature the detector does not believe.
pub fn equivocations<'a>(
    domain: Domain,
    signatures: impl IntoIterator<Item = &'a PublicSignature>,
) -> Result<Vec<Equivocation>, BoxError> {
    let mut detector = Detector::new(domain, DEFAULT_KEEP_HEIGHTS);
    let mut found = Vec::new();
    for signature in signatures {
        found.extend(detector.observe(Evidence::from_public(domain, signature.clone()))?);
    }
    Ok(found)
}
