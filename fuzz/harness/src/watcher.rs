//! The slashing watcher's feed: an aggregator's answers to
//! `GET /v1/checkpoints/{id}/signatures` (and `GET /v1/checkpoints`),
//! decoded as the watcher's `Feed` decodes them and judged by the
//! `Detector` for the fixture's deployment.

use chorus_slashing::{Detector, Evidence, detect::DEFAULT_KEEP_HEIGHTS};
use chorus_wire::{CheckpointStatus, PublicSignature};

use crate::{bodies, fixture::fixture};

/// Most signatures judged per run (each costs a pairing).
const MAX_SIGNATURES: usize = 16;

/// A session of feed answers (NUL-separated), each a list of public
/// signatures, observed in order by one detector.
///
/// Invariants: every equivocation the detector reports is one operator and
/// key whose two pieces of evidence each verify on their own, over
/// different commitments at the reported rollup and height, and makes a
/// proof for the slasher.
pub fn feed(data: &[u8]) {
    let domain = fixture().domain;
    let mut detector = Detector::new(domain, DEFAULT_KEEP_HEIGHTS);
    let mut judged = 0;
    for body in bodies(data) {
        let Ok(signatures) = serde_json::from_slice::<Vec<PublicSignature>>(body) else {
            let _ = serde_json::from_slice::<Vec<CheckpointStatus>>(body);
            continue;
        };
        for signature in signatures {
            if judged == MAX_SIGNATURES {
                return;
            }
            judged += 1;
            let Ok(found) = detector.observe(Evidence::from_public(domain, signature)) else {
                continue;
            };
            for equivocation in found {
                let (first, second) = (&equivocation.first, &equivocation.second);
                assert_eq!(first.operator, equivocation.operator);
                assert_eq!(second.operator, equivocation.operator);
                assert_eq!(first.pubkey, equivocation.pubkey);
                assert_eq!(second.pubkey, equivocation.pubkey);
                assert!(first.verify().is_ok() && second.verify().is_ok());
                let at = |evidence: &Evidence| {
                    evidence
                        .commitments
                        .iter()
                        .find(|c| c.rollupId == equivocation.rollup_id)
                        .cloned()
                };
                let (Some(one), Some(other)) = (at(first), at(second)) else {
                    panic!("an equivocation names a rollup one side does not hold")
                };
                assert_eq!(one.l2BlockNumber, equivocation.height);
                assert_eq!(other.l2BlockNumber, equivocation.height);
                assert_ne!(one, other, "an equivocation over the same commitment");
                assert!(equivocation.signed_commitments().is_ok());
            }
        }
    }
}
