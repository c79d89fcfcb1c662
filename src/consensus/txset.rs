//! Transaction sets: the "position" a proposal names by hash.
//!
//! A set is immutable once built (its id covers its sorted transaction ids), so positions can be
//! shared between rounds, peers and the simulator through an `Arc` without copying.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::hash::Hash256;
use super::tx::{Tx, TxId};

/// An ordered, immutable set of transactions and its id.
#[derive(Clone, PartialEq, Eq)]
pub struct TxSet {
    id: Hash256,
    txs: BTreeMap<TxId, Tx>,
}

impl std::fmt::Debug for TxSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TxSet({} x{})", self.id.short(), self.txs.len())
    }
}

impl TxSet {
    /// The empty set.
    pub fn empty() -> TxSet {
        TxSet::from_map(BTreeMap::new())
    }

    /// Builds a set from transactions (duplicates collapse).
    pub fn new(txs: impl IntoIterator<Item = Tx>) -> TxSet {
        TxSet::from_map(txs.into_iter().map(|t| (t.id(), t)).collect())
    }

    fn from_map(txs: BTreeMap<TxId, Tx>) -> TxSet {
        let id = set_id(txs.keys());
        TxSet { id, txs }
    }

    /// The set's hash: what proposals carry as their position.
    pub fn id(&self) -> Hash256 {
        self.id
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether the set holds no transaction.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: &TxId) -> bool {
        self.txs.contains_key(id)
    }

    /// The transaction with `id`.
    pub fn get(&self, id: &TxId) -> Option<&Tx> {
        self.txs.get(id)
    }

    /// Transactions in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Tx> {
        self.txs.values()
    }

    /// Transaction ids in order.
    pub fn ids(&self) -> impl Iterator<Item = &TxId> {
        self.txs.keys()
    }

    /// A copy with `tx` added.
    pub fn with(&self, tx: Tx) -> TxSet {
        let mut txs = self.txs.clone();
        txs.insert(tx.id(), tx);
        TxSet::from_map(txs)
    }

    /// A copy with `id` removed.
    pub fn without(&self, id: &TxId) -> TxSet {
        let mut txs = self.txs.clone();
        txs.remove(id);
        TxSet::from_map(txs)
    }

    /// A copy with several additions and removals applied at once (one re-hash).
    pub fn edited(&self, add: impl IntoIterator<Item = Tx>, remove: &[TxId]) -> TxSet {
        let mut txs = self.txs.clone();
        for id in remove {
            txs.remove(id);
        }
        for tx in add {
            txs.insert(tx.id(), tx);
        }
        TxSet::from_map(txs)
    }

    /// The symmetric difference with `other`: each differing transaction and whether it is in
    /// `self` (true) or only in `other` (false). Linear merge of the two sorted maps.
    pub fn diff<'a>(&'a self, other: &'a TxSet) -> Vec<(&'a Tx, bool)> {
        let mut out = Vec::new();
        let mut a = self.txs.iter().peekable();
        let mut b = other.txs.iter().peekable();
        loop {
            match (a.peek(), b.peek()) {
                (Some((ka, ta)), Some((kb, tb))) => match ka.cmp(kb) {
                    std::cmp::Ordering::Less => {
                        out.push((*ta, true));
                        a.next();
                    }
                    std::cmp::Ordering::Greater => {
                        out.push((*tb, false));
                        b.next();
                    }
                    std::cmp::Ordering::Equal => {
                        a.next();
                        b.next();
                    }
                },
                (Some((_, ta)), None) => {
                    out.push((*ta, true));
                    a.next();
                }
                (None, Some((_, tb))) => {
                    out.push((*tb, false));
                    b.next();
                }
                (None, None) => break,
            }
        }
        out
    }

    /// Wraps the set in an `Arc` for sharing.
    pub fn shared(self) -> Arc<TxSet> {
        Arc::new(self)
    }
}

/// A set is stored as its transactions (in id order) and nothing else: reading one back
/// rebuilds it and recomputes its id, so stored bytes can never pair a set with a wrong id.
impl Serialize for TxSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.txs.values())
    }
}

impl<'de> Deserialize<'de> for TxSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Tx>::deserialize(deserializer).map(TxSet::new)
    }
}

/// The id of a set holding exactly `ids` (which must be sorted, as a `BTreeMap`'s keys are).
pub fn set_id<'a>(ids: impl Iterator<Item = &'a TxId>) -> Hash256 {
    use sha2::{Digest, Sha512};
    let mut hasher = Sha512::new();
    hasher.update(b"SET\0");
    for id in ids {
        hasher.update(id.0);
    }
    let full = hasher.finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&full[..32]);
    Hash256(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(s: &str) -> Tx {
        Tx::new(s).unwrap()
    }

    #[test]
    fn id_ignores_insertion_order_and_tracks_content() {
        let a = TxSet::new([tx("a"), tx("b")]);
        let b = TxSet::new([tx("b"), tx("a"), tx("a")]);
        assert_eq!(a.id(), b.id());
        assert_eq!(a.len(), 2);
        assert_ne!(a.id(), a.with(tx("c")).id());
        assert_eq!(a.with(tx("c")).without(&tx("c").id()).id(), a.id());
        assert_ne!(TxSet::empty().id(), a.id());
    }

    #[test]
    fn serde_recomputes_the_id() {
        let a = TxSet::new([tx("a"), tx("b")]);
        let bytes = postcard::to_allocvec(&a).unwrap();
        let back: TxSet = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, a);
        // The bytes are just the transactions: the same as a list of them.
        let as_list: Vec<Tx> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(as_list.len(), 2);
    }

    #[test]
    fn diff_is_the_symmetric_difference() {
        let a = TxSet::new([tx("a"), tx("b"), tx("c")]);
        let b = TxSet::new([tx("b"), tx("d")]);
        let mut d: Vec<(String, bool)> =
            a.diff(&b).into_iter().map(|(t, s)| (t.text(), s)).collect();
        d.sort();
        assert_eq!(
            d,
            vec![("a".into(), true), ("c".into(), true), ("d".into(), false)]
        );
        assert!(a.diff(&a).is_empty());
    }
}
