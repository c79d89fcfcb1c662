//! The ledgers a node knows: its own chain, ledgers acquired from peers, and competing branches,
//! indexed by hash and sequence so ancestry questions are cheap. Bounded by pruning below the
//! fully validated ledger.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::hash::Hash256;
use super::ledger::{Ledger, Seq};

/// Known ledgers.
#[derive(Debug, Default, Clone)]
pub struct LedgerHistory {
    by_hash: HashMap<Hash256, Arc<Ledger>>,
    by_seq: BTreeMap<Seq, Vec<Hash256>>,
}

impl LedgerHistory {
    /// An empty history.
    pub fn new() -> LedgerHistory {
        LedgerHistory::default()
    }

    /// Adds a ledger (idempotent). Returns true if it was new.
    pub fn insert(&mut self, ledger: Arc<Ledger>) -> bool {
        let hash = ledger.hash();
        if self.by_hash.contains_key(&hash) {
            return false;
        }
        self.by_seq.entry(ledger.seq()).or_default().push(hash);
        self.by_hash.insert(hash, ledger);
        true
    }

    /// The ledger with `hash`.
    pub fn get(&self, hash: &Hash256) -> Option<&Arc<Ledger>> {
        self.by_hash.get(hash)
    }

    /// Whether `hash` is known.
    pub fn contains(&self, hash: &Hash256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Number of ledgers held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether no ledger is held.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Hashes of known ledgers at `seq` (in insertion order).
    pub fn at_seq(&self, seq: Seq) -> &[Hash256] {
        self.by_seq.get(&seq).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The hash of `from`'s ancestor at `seq` (itself when `seq` equals its sequence), if the
    /// chain between them is known.
    pub fn ancestor_at(&self, from: &Ledger, seq: Seq) -> Option<Hash256> {
        if seq > from.seq() {
            return None;
        }
        if seq == from.seq() {
            return Some(from.hash());
        }
        if seq + 1 == from.seq() {
            return Some(from.parent());
        }
        let mut cur = self.by_hash.get(&from.parent())?;
        while cur.seq() > seq + 1 {
            cur = self.by_hash.get(&cur.parent())?;
        }
        if cur.seq() == seq + 1 {
            Some(cur.parent())
        } else {
            Some(cur.hash())
        }
    }

    /// Whether `ancestor` is `desc` or one of its known ancestors.
    pub fn is_ancestor(&self, ancestor: &Ledger, desc: &Ledger) -> bool {
        self.ancestor_at(desc, ancestor.seq()) == Some(ancestor.hash())
    }

    /// The chain from `from` back to (excluding) sequence `down_to`, newest first, as far as it
    /// is known. The flag says whether it reached `down_to` without a gap.
    pub fn chain_back(&self, from: &Arc<Ledger>, down_to: Seq) -> (Vec<Arc<Ledger>>, bool) {
        let mut out = Vec::new();
        let mut cur = from.clone();
        while cur.seq() > down_to {
            out.push(cur.clone());
            if cur.seq() == down_to + 1 {
                return (out, true);
            }
            match self.by_hash.get(&cur.parent()) {
                Some(p) => cur = p.clone(),
                None => return (out, false),
            }
        }
        (out, true)
    }

    /// Drops every ledger below `seq`.
    pub fn prune_below(&mut self, seq: Seq) {
        while let Some((&s, _)) = self.by_seq.first_key_value() {
            if s >= seq {
                break;
            }
            if let Some(hashes) = self.by_seq.remove(&s) {
                for h in hashes {
                    self.by_hash.remove(&h);
                }
            }
        }
    }

    /// Lowest sequence held.
    pub fn lowest_seq(&self) -> Option<Seq> {
        self.by_seq.keys().next().copied()
    }
}

/// Stored (for engine checkpoints) as the ledgers by ascending sequence, in insertion order
/// within one sequence, so reading them back inserts them in an order that rebuilds both
/// indexes exactly. Each ledger's hash is recomputed as it is read.
impl Serialize for LedgerHistory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut all: Vec<&Ledger> = Vec::with_capacity(self.by_hash.len());
        for hashes in self.by_seq.values() {
            for h in hashes {
                let l = self.by_hash.get(h).ok_or_else(|| {
                    S::Error::custom("ledger history: an indexed ledger is missing")
                })?;
                all.push(l);
            }
        }
        if all.len() != self.by_hash.len() {
            return Err(S::Error::custom("ledger history: an unindexed ledger"));
        }
        all.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for LedgerHistory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut h = LedgerHistory::new();
        for l in Vec::<Arc<Ledger>>::deserialize(deserializer)? {
            if !h.insert(l) {
                return Err(D::Error::custom("ledger history: a ledger is listed twice"));
            }
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::params::ConsensusParams;
    use crate::consensus::time::Time;
    use crate::consensus::tx::Tx;
    use crate::consensus::txset::TxSet;

    fn child(parent: &Ledger, tag: &str) -> Arc<Ledger> {
        let txs = Arc::new(TxSet::new([Tx::new(tag).unwrap()]));
        Arc::new(Ledger::next(
            parent,
            txs,
            Time(parent.close_time().ms() + 10_000),
            true,
            10_000,
        ))
    }

    #[test]
    fn ancestry_and_pruning() {
        let g = Arc::new(Ledger::genesis(&ConsensusParams::mainnet()));
        let mut h = LedgerHistory::new();
        h.insert(g.clone());
        let a1 = child(&g, "a1");
        let a2 = child(&a1, "a2");
        let a3 = child(&a2, "a3");
        let b2 = child(&a1, "b2");
        for l in [&a1, &a2, &a3, &b2] {
            assert!(h.insert((*l).clone()));
        }
        assert!(!h.insert(a1.clone()));
        assert_eq!(h.ancestor_at(&a3, 1), Some(a1.hash()));
        assert_eq!(h.ancestor_at(&a3, 0), Some(g.hash()));
        assert_eq!(h.ancestor_at(&a3, 3), Some(a3.hash()));
        assert_eq!(h.ancestor_at(&a3, 4), None);
        assert!(h.is_ancestor(&a1, &b2));
        assert!(!h.is_ancestor(&a2, &b2));
        let (chain, complete) = h.chain_back(&a3, 0);
        assert!(complete);
        assert_eq!(
            chain.iter().map(|l| l.seq()).collect::<Vec<_>>(),
            vec![3, 2, 1]
        );
        h.prune_below(2);
        assert!(!h.contains(&a1.hash()));
        assert_eq!(
            h.ancestor_at(&a3, 1),
            Some(a1.hash()),
            "the parent hash is still known"
        );
        assert_eq!(h.ancestor_at(&a3, 0), None);
        let (_, complete) = h.chain_back(&a3, 0);
        assert!(!complete);
        assert_eq!(h.at_seq(2).len(), 2);
    }
}
