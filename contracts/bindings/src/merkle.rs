//! Merkle trees with the OpenZeppelin `MerkleProof` convention: each inner
//! node hashes its two children sorted, so a proof is a plain list of
//! siblings. The shape is fixed by `CheckpointLib.merkleRoot`: leaves in the
//! given order, adjacent pairs hashed level by level, an odd last node moved
//! up unchanged.

use alloy::primitives::{B256, keccak256};

/// Hashes two nodes in sorted order.
pub fn hash_pair(a: B256, b: B256) -> B256 {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    let mut both = [0u8; 64];
    both[..32].copy_from_slice(low.as_slice());
    both[32..].copy_from_slice(high.as_slice());
    keccak256(both)
}

/// A tree over a fixed list of leaf hashes, kept level by level so that any
/// leaf's proof can be read off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[0]` are the leaves; the last level holds the root alone.
    levels: Vec<Vec<B256>>,
}

impl MerkleTree {
    /// Builds the tree; `None` for no leaves (an empty checkpoint has no root).
    pub fn new(leaves: Vec<B256>) -> Option<Self> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves];
        while let Some(level) = levels.last().filter(|level| level.len() > 1) {
            let next = level
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => hash_pair(*a, *b),
                    [single] => *single,
                    _ => unreachable!("chunks(2) yields one or two nodes"),
                })
                .collect();
            levels.push(next);
        }
        Some(Self { levels })
    }

    /// The root.
    pub fn root(&self) -> B256 {
        self.levels.last().and_then(|top| top.first()).copied().unwrap_or_default()
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Always false: a tree has at least one leaf.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The siblings from leaf `index` up to the root; `None` past the end.
    pub fn proof(&self, index: usize) -> Option<Vec<B256>> {
        if index >= self.len() {
            return None;
        }
        let mut position = index;
        let mut proof = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = position ^ 1;
            if let Some(node) = level.get(sibling) {
                proof.push(*node);
            }
            position /= 2;
        }
        Some(proof)
    }
}

/// Checks `proof` from `leaf` to `root` (OpenZeppelin `MerkleProof.verify`).
pub fn verify(proof: &[B256], root: B256, leaf: B256) -> bool {
    proof.iter().fold(leaf, |node, sibling| hash_pair(node, *sibling)) == root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(count: u8) -> Vec<B256> {
        (0..count).map(|i| keccak256([i])).collect()
    }

    #[test]
    fn every_proof_verifies_for_every_size() {
        for count in 1..=17 {
            let tree = MerkleTree::new(leaves(count)).unwrap();
            for (index, leaf) in leaves(count).into_iter().enumerate() {
                let proof = tree.proof(index).unwrap();
                assert!(verify(&proof, tree.root(), leaf), "{count} leaves, leaf {index}");
                assert!(!verify(&proof, tree.root(), keccak256([0xff])), "wrong leaf");
            }
            assert!(tree.proof(count as usize).is_none());
        }
    }

    #[test]
    fn shape_of_three_leaves() {
        let l = leaves(3);
        let tree = MerkleTree::new(l.clone()).unwrap();
        assert_eq!(tree.root(), hash_pair(hash_pair(l[0], l[1]), l[2]));
        assert_eq!(MerkleTree::new(vec![l[0]]).unwrap().root(), l[0]);
        assert!(MerkleTree::new(Vec::new()).is_none());
    }
}
