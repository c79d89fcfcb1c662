//! Ledgers: what a round produces. A ledger's hash covers every header field, so two nodes that
//! agree on the hash agree on the parent, the transactions and the close time.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::hash::Hash256;
use super::params::ConsensusParams;
use super::time::Time;
use super::txset::TxSet;

/// Ledger sequence number; genesis is 0.
pub type Seq = u32;

/// The hashed part of a ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHeader {
    /// Sequence number (parent + 1).
    pub seq: Seq,
    /// Hash of the parent ledger.
    pub parent: Hash256,
    /// Id of the transaction set this ledger applied.
    pub tx_set: Hash256,
    /// Agreed close time (or parent + 1 step when peers agreed to disagree).
    pub close_time: Time,
    /// False when the close time is the agree-to-disagree fallback.
    pub close_time_agreed: bool,
    /// Close-time resolution this ledger was closed with (ms).
    pub close_resolution_ms: i64,
}

impl LedgerHeader {
    /// The ledger hash.
    pub fn hash(&self) -> Hash256 {
        Hash256::of(&[
            b"LGR\0",
            &self.seq.to_be_bytes(),
            &self.parent.0,
            &self.tx_set.0,
            &self.close_time.ms().to_be_bytes(),
            &[self.close_time_agreed as u8],
            &self.close_resolution_ms.to_be_bytes(),
        ])
    }
}

/// A ledger: header, its hash, and the transactions it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    header: LedgerHeader,
    hash: Hash256,
    txs: Arc<TxSet>,
}

/// A ledger is stored as its header and transactions; reading one back checks that they belong
/// together and recomputes the hash, so stored bytes can never smuggle in a wrong cached hash.
impl Serialize for Ledger {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.header, &*self.txs).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Ledger {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (header, txs) = <(LedgerHeader, TxSet)>::deserialize(deserializer)?;
        Ledger::from_parts(header, Arc::new(txs)).map_err(serde::de::Error::custom)
    }
}

/// Why a ledger received from elsewhere is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LedgerError {
    /// The transactions do not hash to the header's `tx_set`.
    #[error("ledger {seq}: transactions hash to {actual}, header says {expected}")]
    TxSetMismatch {
        /// Ledger sequence.
        seq: Seq,
        /// Header's tx-set id.
        expected: Hash256,
        /// Id of the transactions supplied.
        actual: Hash256,
    },
}

impl Ledger {
    /// The genesis ledger every network starts from: seq 0, no transactions, close time 0.
    pub fn genesis(params: &ConsensusParams) -> Ledger {
        let txs = Arc::new(TxSet::empty());
        Ledger::from_parts(
            LedgerHeader {
                seq: 0,
                parent: Hash256::ZERO,
                tx_set: txs.id(),
                close_time: Time::ZERO,
                close_time_agreed: true,
                close_resolution_ms: params.genesis_resolution_ms(),
            },
            txs,
        )
        .expect("genesis tx set matches its header")
    }

    /// The ledger that applies `txs` on top of `parent`.
    pub fn next(
        parent: &Ledger,
        txs: Arc<TxSet>,
        close_time: Time,
        close_time_agreed: bool,
        close_resolution_ms: i64,
    ) -> Ledger {
        let header = LedgerHeader {
            seq: parent.seq() + 1,
            parent: parent.hash(),
            tx_set: txs.id(),
            close_time,
            close_time_agreed,
            close_resolution_ms,
        };
        let hash = header.hash();
        Ledger { header, hash, txs }
    }

    /// Reassembles a ledger from a header and transactions (from storage or a peer), checking
    /// that they belong together.
    pub fn from_parts(header: LedgerHeader, txs: Arc<TxSet>) -> Result<Ledger, LedgerError> {
        if txs.id() != header.tx_set {
            return Err(LedgerError::TxSetMismatch {
                seq: header.seq,
                expected: header.tx_set,
                actual: txs.id(),
            });
        }
        let hash = header.hash();
        Ok(Ledger { header, hash, txs })
    }

    /// The header.
    pub fn header(&self) -> &LedgerHeader {
        &self.header
    }

    /// The ledger hash.
    pub fn hash(&self) -> Hash256 {
        self.hash
    }

    /// Sequence number.
    pub fn seq(&self) -> Seq {
        self.header.seq
    }

    /// Parent hash.
    pub fn parent(&self) -> Hash256 {
        self.header.parent
    }

    /// Close time.
    pub fn close_time(&self) -> Time {
        self.header.close_time
    }

    /// Whether the close time was agreed.
    pub fn close_time_agreed(&self) -> bool {
        self.header.close_time_agreed
    }

    /// Close-time resolution (ms).
    pub fn close_resolution_ms(&self) -> i64 {
        self.header.close_resolution_ms
    }

    /// The transactions applied.
    pub fn txs(&self) -> &Arc<TxSet> {
        &self.txs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::tx::Tx;

    #[test]
    fn hash_covers_every_field_and_parts_are_checked() {
        let p = ConsensusParams::mainnet();
        let g = Ledger::genesis(&p);
        let txs = Arc::new(TxSet::new([Tx::new("a").unwrap()]));
        let l1 = Ledger::next(&g, txs.clone(), Time(10_000), true, 10_000);
        assert_eq!(l1.seq(), 1);
        assert_eq!(l1.parent(), g.hash());
        let variants = [
            Ledger::next(&g, Arc::new(TxSet::empty()), Time(10_000), true, 10_000),
            Ledger::next(&g, txs.clone(), Time(20_000), true, 10_000),
            Ledger::next(&g, txs.clone(), Time(10_000), false, 10_000),
            Ledger::next(&g, txs.clone(), Time(10_000), true, 20_000),
            Ledger::next(&l1, txs.clone(), Time(10_000), true, 10_000),
        ];
        for v in &variants {
            assert_ne!(v.hash(), l1.hash());
        }
        assert_eq!(
            Ledger::from_parts(l1.header().clone(), txs.clone()).unwrap(),
            l1
        );
        assert!(Ledger::from_parts(l1.header().clone(), Arc::new(TxSet::empty())).is_err());
    }

    #[test]
    fn serde_rebuilds_and_checks_the_ledger() {
        let p = ConsensusParams::mainnet();
        let g = Ledger::genesis(&p);
        let txs = Arc::new(TxSet::new([Tx::new("a").unwrap()]));
        let l1 = Ledger::next(&g, txs, Time(10_000), true, 10_000);
        let bytes = postcard::to_allocvec(&l1).unwrap();
        let back: Ledger = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, l1);
        assert_eq!(back.hash(), l1.hash());
        // Transactions that do not match the header are refused.
        let forged = postcard::to_allocvec(&(l1.header(), TxSet::empty())).unwrap();
        assert!(postcard::from_bytes::<Ledger>(&forged).is_err());
    }
}
