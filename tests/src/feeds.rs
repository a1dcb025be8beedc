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
    /// Checkpoint ids it no longer serves (forgotten beyond its recent window).
    pub forgotten: u64,
}

/// Reads every checkpoint's signatures from the aggregator at `base`
/// (ids 1 to the newest it has proposed).
pub async fn read_feed(base: &str) -> Result<Feed, BoxError> {
    let recent: Vec<CheckpointStatus> = get_json(base, "/v1/checkpoints?limit=1000").await?;
    let newest = recent.iter().map(|status| status.proposal.checkpoint_id).max().unwrap_or(0);
    let mut feed = Feed { checkpoints: newest, ..Feed::default() };
    for id in 1..=newest {
        let path = routes::CHECKPOINT_SIGNATURES.replace("{id}", &id.to_string());
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
