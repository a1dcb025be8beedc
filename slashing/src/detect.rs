//! Equivocation detection: pure, no I/O.
//!
//! Evidence is a signed checkpoint as somebody observed it (an aggregator's
//! public signature feed, or a drill). Aggregators publish signatures
//! without checking them, so every signature is verified before it is
//! believed: otherwise anyone could frame an operator, or make the watcher
//! waste gas on proofs the slasher refuses.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use alloy::primitives::{Address, Bytes};
use chorus_contracts::{
    Commitment, SignedCommitment,
    checkpoint::{CheckpointError, CheckpointTree, checkpoint_message},
};
use chorus_keys::bls::{PublicKey, SecretKey, Signature};
use chorus_wire::{Domain, PublicSignature};

/// Heights kept per rollup below the newest seen, by default: far more than
/// two aggregators' proposals for one height can lie apart, while memory
/// stays bounded (a signed checkpoint is stored once, shared by its rollups).
pub const DEFAULT_KEEP_HEIGHTS: u64 = 1_000;

/// One signed checkpoint, as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The operator that signed (as the feed names it).
    pub operator: Address,
    /// Its G2 key, EIP-2537 encoded (256 bytes), as in the operator table.
    pub pubkey: Bytes,
    /// Where the signature is valid.
    pub domain: Domain,
    /// The table version signed.
    pub table_version: u32,
    /// The checkpoint's commitments, sorted by rollup id.
    pub commitments: Vec<Commitment>,
    /// The 48-byte compressed BLS signature.
    pub signature: Bytes,
}

/// Why a piece of evidence is not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The signature binds another chain or attestation contract.
    #[error(
        "evidence for chain {} contract {} is not for this deployment (chain {}, contract {})",
        .got.l1_chain_id, .got.attestation_contract, .want.l1_chain_id, .want.attestation_contract
    )]
    WrongDomain {
        /// The evidence's domain.
        got: Domain,
        /// The watcher's.
        want: Domain,
    },
    /// The commitments do not form a checkpoint.
    #[error("the commitments do not form a checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The key is not a valid EIP-2537 G2 point.
    #[error("operator {0}'s public key is not a valid EIP-2537 G2 point")]
    BadKey(Address),
    /// The signature bytes are not a compressed G1 point.
    #[error("operator {0}'s signature is not a 48-byte compressed G1 point")]
    BadSignatureEncoding(Address),
    /// The checkpoint holds no commitment of the rollup.
    #[error("the checkpoint holds no commitment of rollup {0}")]
    RollupNotInCheckpoint(u64),
    /// The signature does not verify over the checkpoint.
    #[error("operator {0}'s signature does not verify over the checkpoint it claims to sign")]
    InvalidSignature(Address),
}

impl Evidence {
    /// Evidence from an aggregator's public signature feed for `domain`.
    pub fn from_public(domain: Domain, signature: PublicSignature) -> Self {
        Self {
            operator: signature.operator,
            pubkey: signature.pubkey,
            domain,
            table_version: signature.table_version,
            commitments: signature.commitments,
            signature: signature.signature,
        }
    }

    /// Signs `commitments` with `key` for `operator`: what a drill feeds the
    /// watcher (the signature is real, protection is not consulted).
    pub fn sign(
        domain: Domain,
        operator: Address,
        key: &SecretKey,
        table_version: u32,
        commitments: Vec<Commitment>,
    ) -> Result<Self, EvidenceError> {
        let tree = CheckpointTree::new(commitments)?;
        let message = message(domain, table_version, &tree);
        let signature = key.sign(message.as_slice());
        Ok(Self {
            operator,
            pubkey: Bytes::copy_from_slice(&key.public_key().to_eip2537()),
            domain,
            table_version,
            commitments: tree.commitments().to_vec(),
            signature: Bytes::copy_from_slice(&signature.to_bytes()),
        })
    }

    /// Checks the signature; returns the checkpoint tree it covers.
    pub fn verify(&self) -> Result<CheckpointTree, EvidenceError> {
        let tree = CheckpointTree::new(self.commitments.clone())?;
        let key = PublicKey::from_eip2537(&self.pubkey)
            .map_err(|_| EvidenceError::BadKey(self.operator))?;
        let signature = Signature::from_bytes(&self.signature)
            .map_err(|_| EvidenceError::BadSignatureEncoding(self.operator))?;
        let message = message(self.domain, self.table_version, &tree);
        key.verify(message.as_slice(), &signature)
            .map_err(|_| EvidenceError::InvalidSignature(self.operator))?;
        Ok(tree)
    }

    /// This evidence as one half of a proof: the commitment of `rollup_id`
    /// with its Merkle path and the signature in EIP-2537 form.
    pub fn signed_commitment(&self, rollup_id: u64) -> Result<SignedCommitment, EvidenceError> {
        let tree = CheckpointTree::new(self.commitments.clone())?;
        let signature = Signature::from_bytes(&self.signature)
            .map_err(|_| EvidenceError::BadSignatureEncoding(self.operator))?;
        let (commitment, proof) =
            tree.proof_for(rollup_id).ok_or(EvidenceError::RollupNotInCheckpoint(rollup_id))?;
        Ok(SignedCommitment {
            tableVersion: self.table_version,
            commitmentsRoot: tree.root(),
            signature: Bytes::copy_from_slice(&signature.to_eip2537()),
            commitment: commitment.clone(),
            proof,
        })
    }
}

fn message(domain: Domain, table_version: u32, tree: &CheckpointTree) -> alloy::primitives::B256 {
    checkpoint_message(domain.l1_chain_id, domain.attestation_contract, table_version, tree.root())
}

/// One operator's two valid signatures over conflicting commitments for
/// the same rollup and height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocation {
    /// The offender.
    pub operator: Address,
    /// Its key (EIP-2537 G2), as both signatures verify under it.
    pub pubkey: Bytes,
    /// The rollup.
    pub rollup_id: u64,
    /// The L2 height.
    pub height: u64,
    /// The checkpoint seen first.
    pub first: Evidence,
    /// The conflicting one.
    pub second: Evidence,
}

impl Equivocation {
    /// The two halves of `proveEquivocation`'s proof.
    pub fn signed_commitments(
        &self,
    ) -> Result<(SignedCommitment, SignedCommitment), EvidenceError> {
        Ok((
            self.first.signed_commitment(self.rollup_id)?,
            self.second.signed_commitment(self.rollup_id)?,
        ))
    }
}

/// Who signed what, per operator and key: height → the first valid
/// signed checkpoint covering it.
type Seen = HashMap<(Address, Bytes), BTreeMap<u64, Arc<Evidence>>>;

/// What the detector remembers of one rollup.
#[derive(Debug, Default)]
struct RollupMemory {
    seen: Seen,
    /// Newest height seen.
    newest: u64,
    /// Floor at the last full pruning.
    pruned_at: u64,
}

impl RollupMemory {
    /// Drops heights below `floor` for every operator, and operators left
    /// with none (an operator that stopped signing is forgotten too).
    fn prune(&mut self, floor: u64) {
        for heights in self.seen.values_mut() {
            *heights = heights.split_off(&floor);
        }
        self.seen.retain(|_, heights| !heights.is_empty());
        self.pruned_at = floor;
    }
}

/// Finds equivocations in a stream of evidence for one deployment.
#[derive(Debug)]
pub struct Detector {
    domain: Domain,
    keep_heights: u64,
    rollups: HashMap<u64, RollupMemory>,
}

impl Detector {
    /// A detector for `domain` that forgets heights more than `keep_heights`
    /// below the newest one seen for their rollup.
    pub fn new(domain: Domain, keep_heights: u64) -> Self {
        Self { domain, keep_heights, rollups: HashMap::new() }
    }

    /// Verifies `evidence` and returns the equivocations it reveals (one
    /// per rollup where it conflicts with an earlier signature).
    pub fn observe(&mut self, evidence: Evidence) -> Result<Vec<Equivocation>, EvidenceError> {
        if evidence.domain != self.domain {
            return Err(EvidenceError::WrongDomain { got: evidence.domain, want: self.domain });
        }
        let tree = evidence.verify()?;
        let evidence = Arc::new(evidence);
        let mut found = Vec::new();
        for commitment in tree.commitments() {
            if let Some(equivocation) = self.record(&evidence, commitment) {
                found.push(equivocation);
            }
        }
        Ok(found)
    }

    fn record(
        &mut self,
        evidence: &Arc<Evidence>,
        commitment: &Commitment,
    ) -> Option<Equivocation> {
        let rollup_id = commitment.rollupId;
        let height = commitment.l2BlockNumber;
        let memory = self.rollups.entry(rollup_id).or_default();
        memory.newest = memory.newest.max(height);
        let floor = memory.newest.saturating_sub(self.keep_heights);
        if height < floor {
            return None;
        }
        // Prune everyone once the window moved by a quarter: amortised cost.
        if floor >= memory.pruned_at.saturating_add(self.keep_heights / 4).max(1) {
            memory.prune(floor);
        }
        let heights = memory.seen.entry((evidence.operator, evidence.pubkey.clone())).or_default();
        let Some(earlier) = heights.get(&height) else {
            heights.insert(height, Arc::clone(evidence));
            return None;
        };
        let previous = earlier.commitments.iter().find(|c| c.rollupId == rollup_id)?;
        if previous.l2BlockHash == commitment.l2BlockHash
            && previous.stateRoot == commitment.stateRoot
        {
            return None;
        }
        Some(Equivocation {
            operator: evidence.operator,
            pubkey: evidence.pubkey.clone(),
            rollup_id,
            height,
            first: Evidence::clone(earlier),
            second: Evidence::clone(evidence),
        })
    }

    /// Heights remembered, over every rollup and operator (for tests and metrics).
    pub fn remembered(&self) -> usize {
        self.rollups.values().flat_map(|memory| memory.seen.values()).map(BTreeMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::keccak256;

    use super::*;

    fn domain() -> Domain {
        Domain { l1_chain_id: 31337, attestation_contract: Address::repeat_byte(7) }
    }

    fn commitment(rollup_id: u64, height: u64, variant: u8) -> Commitment {
        Commitment {
            rollupId: rollup_id,
            l2BlockNumber: height,
            l2BlockHash: keccak256([variant, 1]),
            stateRoot: keccak256([variant, 2]),
        }
    }

    fn signed(key: &SecretKey, commitments: Vec<Commitment>) -> Evidence {
        Evidence::sign(domain(), Address::repeat_byte(1), key, 3, commitments).unwrap()
    }

    #[test]
    fn conflicting_signatures_are_an_equivocation_with_a_valid_proof() {
        let key = SecretKey::random();
        let mut detector = Detector::new(domain(), 100);
        assert!(detector.observe(signed(&key, vec![commitment(10, 5, 1)])).unwrap().is_empty());
        let found = detector
            .observe(signed(&key, vec![commitment(10, 5, 2), commitment(11, 9, 1)]))
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].rollup_id, found[0].height), (10, 5));
        let (a, b) = found[0].signed_commitments().unwrap();
        assert_eq!(a.commitment, commitment(10, 5, 1));
        assert_eq!(b.commitment, commitment(10, 5, 2));
        assert_eq!(b.proof.len(), 1);
        assert_eq!(a.signature.len(), 128);
    }

    #[test]
    fn same_commitment_twice_is_no_offence() {
        let key = SecretKey::random();
        let mut detector = Detector::new(domain(), 100);
        detector.observe(signed(&key, vec![commitment(10, 5, 1)])).unwrap();
        let again = signed(&key, vec![commitment(10, 5, 1), commitment(11, 2, 4)]);
        assert!(detector.observe(again).unwrap().is_empty());
        // Other heights and other operators never conflict.
        detector.observe(signed(&key, vec![commitment(10, 6, 2)])).unwrap();
        let other = SecretKey::random();
        assert!(detector.observe(signed(&other, vec![commitment(10, 5, 9)])).unwrap().is_empty());
    }

    #[test]
    fn forged_signatures_are_never_believed() {
        let key = SecretKey::random();
        let mut detector = Detector::new(domain(), 100);
        detector.observe(signed(&key, vec![commitment(10, 5, 1)])).unwrap();
        // A signature by another key, claimed as the operator's.
        let mut forged = signed(&SecretKey::random(), vec![commitment(10, 5, 2)]);
        forged.pubkey = Bytes::copy_from_slice(&key.public_key().to_eip2537());
        assert_eq!(
            detector.observe(forged),
            Err(EvidenceError::InvalidSignature(Address::repeat_byte(1)))
        );
        // The operator's real signature, with the commitments swapped.
        let mut swapped = signed(&key, vec![commitment(10, 5, 1)]);
        swapped.commitments = vec![commitment(10, 5, 3)];
        assert!(matches!(detector.observe(swapped), Err(EvidenceError::InvalidSignature(_))));
        // Garbage bytes.
        let mut garbage = signed(&key, vec![commitment(10, 5, 4)]);
        garbage.signature = Bytes::from(vec![0xab; 48]);
        assert!(matches!(detector.observe(garbage), Err(EvidenceError::BadSignatureEncoding(_))));
        // Another deployment's signature.
        let mut elsewhere = signed(&key, vec![commitment(10, 5, 5)]);
        elsewhere.domain.l1_chain_id = 1;
        assert!(matches!(detector.observe(elsewhere), Err(EvidenceError::WrongDomain { .. })));
        assert_eq!(detector.remembered(), 1);
    }

    #[test]
    fn memory_is_bounded_by_the_height_window() {
        let key = SecretKey::random();
        let mut detector = Detector::new(domain(), 10);
        for height in 0..50 {
            detector.observe(signed(&key, vec![commitment(10, height, 1)])).unwrap();
        }
        // Window of 10 below the newest (pruned every quarter window): at most 12.
        assert!(detector.remembered() <= 12, "remembered {}", detector.remembered());
        // An operator that stopped signing is forgotten as the window moves.
        let quiet = SecretKey::random();
        detector.observe(signed(&quiet, vec![commitment(10, 49, 1)])).unwrap();
        for height in 50..80 {
            detector.observe(signed(&key, vec![commitment(10, height, 1)])).unwrap();
        }
        assert!(detector.remembered() <= 12, "remembered {}", detector.remembered());
        // A conflict far below the window is ignored (no memory of it).
        assert!(detector.observe(signed(&key, vec![commitment(10, 2, 2)])).unwrap().is_empty());
        // Within the window it is found.
        assert_eq!(detector.observe(signed(&key, vec![commitment(10, 75, 2)])).unwrap().len(), 1);
    }
}
