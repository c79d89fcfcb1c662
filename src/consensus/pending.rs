//! Transactions waiting for a fully validated ledger. A transaction stays here, and is proposed
//! again every round (also after switching ledgers), until a fully validated ledger holds it.
//! Ids of recently validated transactions are remembered so a late relay cannot re-add one.

use std::collections::{BTreeMap, HashSet, VecDeque};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::tx::{Tx, TxId};

/// How many recently validated ids are remembered to refuse late copies.
pub const REMEMBER_VALIDATED: usize = 200_000;

/// The pending pool.
#[derive(Debug, Clone)]
pub struct PendingPool {
    txs: BTreeMap<TxId, Tx>,
    capacity: usize,
    validated: HashSet<TxId>,
    validated_order: VecDeque<TxId>,
}

/// Result of offering a transaction to the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// New: now pending.
    Added,
    /// Already pending or already validated.
    Known,
    /// The pool is at capacity.
    Full,
}

impl PendingPool {
    /// A pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> PendingPool {
        PendingPool {
            txs: BTreeMap::new(),
            capacity,
            validated: HashSet::new(),
            validated_order: VecDeque::new(),
        }
    }

    /// Offers a transaction.
    pub fn offer(&mut self, tx: Tx) -> Offer {
        let id = tx.id();
        if self.txs.contains_key(&id) || self.validated.contains(&id) {
            return Offer::Known;
        }
        if self.txs.len() >= self.capacity {
            return Offer::Full;
        }
        self.txs.insert(id, tx);
        Offer::Added
    }

    /// Marks transactions as included in a fully validated ledger.
    pub fn validated<'a>(&mut self, ids: impl Iterator<Item = &'a TxId>) {
        for id in ids {
            self.txs.remove(id);
            if self.validated.insert(*id) {
                self.validated_order.push_back(*id);
                if self.validated_order.len() > REMEMBER_VALIDATED
                    && let Some(old) = self.validated_order.pop_front()
                {
                    self.validated.remove(&old);
                }
            }
        }
    }

    /// Whether `id` is pending.
    pub fn contains(&self, id: &TxId) -> bool {
        self.txs.contains_key(id)
    }

    /// Whether `id` was recently validated.
    pub fn was_validated(&self, id: &TxId) -> bool {
        self.validated.contains(id)
    }

    /// Pending transactions in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Tx> {
        self.txs.values()
    }

    /// The most transactions it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Validated ids remembered (at most [`REMEMBER_VALIDATED`]).
    pub fn remembered(&self) -> usize {
        self.validated.len()
    }

    /// Number pending.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }
}

/// Stored (for engine checkpoints) as the pending transactions in id order, the capacity and the
/// validated ids oldest first; the lookup set of validated ids is rebuilt from that list.
impl Serialize for PendingPool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let txs: Vec<&Tx> = self.txs.values().collect();
        (txs, self.capacity, &self.validated_order).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PendingPool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (txs, capacity, validated_order) =
            <(Vec<Tx>, usize, VecDeque<TxId>)>::deserialize(deserializer)?;
        let validated: HashSet<TxId> = validated_order.iter().copied().collect();
        if validated.len() != validated_order.len() {
            return Err(D::Error::custom(
                "pending pool: a validated id is listed twice",
            ));
        }
        let txs: BTreeMap<TxId, Tx> = txs.into_iter().map(|t| (t.id(), t)).collect();
        if txs.keys().any(|id| validated.contains(id)) {
            return Err(D::Error::custom(
                "pending pool: a transaction is both pending and validated",
            ));
        }
        Ok(PendingPool {
            txs,
            capacity,
            validated,
            validated_order,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_until_validated_and_is_not_readded() {
        let mut p = PendingPool::new(2);
        let a = Tx::new("a").unwrap();
        assert_eq!(p.offer(a.clone()), Offer::Added);
        assert_eq!(p.offer(a.clone()), Offer::Known);
        assert_eq!(p.offer(Tx::new("b").unwrap()), Offer::Added);
        assert_eq!(p.offer(Tx::new("c").unwrap()), Offer::Full);
        p.validated([a.id()].iter());
        assert!(!p.contains(&a.id()));
        assert!(p.was_validated(&a.id()));
        assert_eq!(p.offer(a), Offer::Known);
        assert_eq!(p.len(), 1);
    }
}
