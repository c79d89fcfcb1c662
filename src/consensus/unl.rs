//! Signed UNL announcements and the fork-safety overlap bound.
//!
//! XRPL consensus is only fork-safe when trusted lists overlap enough: Chase & MacBrough (2018),
//! Theorem 8, requires for every pair of nodes i, j
//! `O(i,j) > n_j / 2 + n_i - q_i + t(i,j)`, where `n` are UNL sizes, `q_i` node i's quorum,
//! `O(i,j)` the overlap and `t(i,j)` the faulty validators the overlap may hold — about 90 %
//! overlap at an 80 % quorum with 20 % faults. Amores-Sesar, Cachin & Micic (2020) fork a
//! 7-node network with 60 % overlap and one byzantine node. So validators announce their UNL
//! (signed, so nobody can misstate another validator's list) and every node checks its overlap
//! with each trusted validator's list and warns when a pair falls below the bound.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keys::{NodeId, NodeKey, Sig, SignatureError, Verifier};

/// Most keys an announcement may list.
pub const MAX_UNL_KEYS: usize = 1024;

/// A validator's trusted list, as it announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlAnnouncement {
    /// The announcing validator.
    pub node: NodeId,
    /// Increases with every announcement (the signer's clock, ms): newer replaces older.
    pub seq: u64,
    /// Its trusted validators, sorted, without duplicates.
    pub unl: Vec<NodeId>,
}

impl UnlAnnouncement {
    /// An announcement of `unl` (sorted and deduplicated here).
    pub fn new(node: NodeId, seq: u64, unl: impl IntoIterator<Item = NodeId>) -> UnlAnnouncement {
        let set: BTreeSet<NodeId> = unl.into_iter().collect();
        UnlAnnouncement {
            node,
            seq,
            unl: set.into_iter().collect(),
        }
    }

    /// The bytes that are signed.
    pub fn signing_bytes(&self, network_id: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + 4 + 32 + 8 + 4 + 32 * self.unl.len());
        v.extend_from_slice(b"UNL\0");
        v.extend_from_slice(&network_id.to_be_bytes());
        v.extend_from_slice(&self.node.0);
        v.extend_from_slice(&self.seq.to_be_bytes());
        v.extend_from_slice(&(self.unl.len() as u32).to_be_bytes());
        for k in &self.unl {
            v.extend_from_slice(&k.0);
        }
        v
    }

    /// Signs with `key`.
    pub fn sign(self, key: &NodeKey, network_id: u32) -> SignedUnl {
        let signature = key.sign(&self.signing_bytes(network_id));
        SignedUnl {
            announcement: self,
            signature,
        }
    }
}

/// An announcement with its signature, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUnl {
    /// The signed fields.
    pub announcement: UnlAnnouncement,
    /// The announcing validator's signature.
    pub signature: Sig,
}

/// Why an announcement is refused before its signature is even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnlError {
    /// Bad signature or key.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Unsorted or duplicate keys, or too many.
    #[error("the listed keys are not sorted, unique and at most {MAX_UNL_KEYS}")]
    Malformed,
}

impl SignedUnl {
    /// Checks the list's shape and the signature.
    pub fn verify(self, verifier: &mut Verifier, network_id: u32) -> Result<VerifiedUnl, UnlError> {
        let a = &self.announcement;
        if a.unl.len() > MAX_UNL_KEYS || a.unl.windows(2).any(|w| w[0] >= w[1]) {
            return Err(UnlError::Malformed);
        }
        verifier.verify(&a.node, &a.signing_bytes(network_id), &self.signature)?;
        Ok(VerifiedUnl(Arc::new(self)))
    }
}

/// A checked announcement. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUnl(Arc<SignedUnl>);

impl VerifiedUnl {
    /// The signed fields.
    pub fn announcement(&self) -> &UnlAnnouncement {
        &self.0.announcement
    }

    /// The whole signed message.
    pub fn signed(&self) -> &Arc<SignedUnl> {
        &self.0
    }

    /// Re-wraps an announcement read back from an engine checkpoint, *without* checking it
    /// again: it was verified before it entered the engine whose state was saved, and a
    /// checkpoint is our own CRC-protected file. Never use this for bytes from the network.
    pub(crate) fn restored(signed: SignedUnl) -> VerifiedUnl {
        VerifiedUnl(Arc::new(signed))
    }
}

/// Our overlap with one trusted validator's list, against the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlapCheck {
    /// The other validator.
    pub validator: NodeId,
    /// Our UNL size (`n_i`).
    pub ours: usize,
    /// Its UNL size (`n_j`).
    pub theirs: usize,
    /// Validators on both lists (`O(i,j)`).
    pub overlap: usize,
    /// The smallest overlap above the bound `n_j/2 + n_i - q_i + t(i,j)`.
    pub min_overlap: usize,
    /// Whether `overlap >= min_overlap`.
    pub safe: bool,
}

/// Checks our list (`ours`, quorum `quorum`) against `theirs`, assuming up to `fault_pct`
/// percent of each list faulty.
pub fn check_overlap(
    validator: NodeId,
    ours: &BTreeSet<NodeId>,
    quorum: usize,
    theirs: &BTreeSet<NodeId>,
    fault_pct: i64,
) -> OverlapCheck {
    let n_i = ours.len();
    let n_j = theirs.len();
    let overlap = ours.intersection(theirs).count();
    let faults = |n: usize| (n as i64 * fault_pct / 100).max(0) as usize;
    let t = faults(n_i).min(faults(n_j)).min(overlap);
    // O > n_j/2 + n_i - q_i + t  <=>  2·O > n_j + 2·(n_i - q_i + t): stay in integers.
    let twice_bound = n_j as i64 + 2 * (n_i as i64 - quorum as i64 + t as i64);
    let min_overlap = (twice_bound.max(-1) / 2 + 1).max(0) as usize;
    OverlapCheck {
        validator,
        ours: n_i,
        theirs: n_j,
        overlap,
        min_overlap,
        safe: overlap >= min_overlap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::validations::quorum_for;

    fn ids(range: std::ops::Range<u8>) -> BTreeSet<NodeId> {
        range.map(|i| NodeId([i; 32])).collect()
    }

    #[test]
    fn identical_lists_are_safe_and_about_ninety_percent_is_the_line() {
        let all = ids(0..100);
        let q = quorum_for(100, 80);
        assert!(check_overlap(NodeId([0; 32]), &all, q, &all, 20).safe);
        // 100 validators each, 80 % quorum, 20 faulty: O must exceed 50 + 100 - 80 + 20 = 90.
        let theirs_91: BTreeSet<NodeId> = (9..109).map(|i| NodeId([i as u8; 32])).collect();
        let c = check_overlap(NodeId([1; 32]), &all, q, &theirs_91, 20);
        assert_eq!(c.overlap, 91);
        assert_eq!(c.min_overlap, 91);
        assert!(c.safe);
        let theirs_90: BTreeSet<NodeId> = (10..110).map(|i| NodeId([i as u8; 32])).collect();
        assert!(!check_overlap(NodeId([1; 32]), &all, q, &theirs_90, 20).safe);
    }

    #[test]
    fn the_seven_node_sixty_percent_layout_is_flagged() {
        // Amores-Sesar et al.: 7 nodes, lists of 5 overlapping in 3 (60 %).
        let a = ids(0..5);
        let b = ids(2..7);
        let c = check_overlap(NodeId([9; 32]), &a, quorum_for(5, 80), &b, 20);
        assert_eq!(c.overlap, 3);
        assert!(!c.safe);
    }

    #[test]
    fn announcements_verify_and_refuse_tampering() {
        let key = NodeKey::from_secret([3; 32]);
        let a = UnlAnnouncement::new(key.id(), 1, ids(0..5).into_iter().rev());
        assert!(a.unl.windows(2).all(|w| w[0] < w[1]), "sorted on creation");
        let signed = a.sign(&key, 7);
        let mut v = Verifier::new();
        assert!(signed.clone().verify(&mut v, 7).is_ok());
        let mut bad = signed.clone();
        bad.announcement.unl.pop();
        assert!(bad.verify(&mut v, 7).is_err());
        let mut unsorted = signed.clone();
        unsorted.announcement.unl.swap(0, 1);
        assert_eq!(unsorted.verify(&mut v, 7).unwrap_err(), UnlError::Malformed);
        assert!(signed.verify(&mut v, 8).is_err());
    }
}
