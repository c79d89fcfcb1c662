//! How one ledger is laid out as bytes on disk.
//!
//! A record is one version byte ([`RECORD_VERSION`]) and a postcard body holding the ledger
//! hash, the header and the transaction payloads. The hash is stored so that a record checks
//! itself: decoding recomputes the hash from the header and the tx-set id from the payloads, and
//! anything that does not match is [`StorageError::Corrupt`]. A flipped bit on disk therefore
//! shows up as an error naming the ledger, never as a wrong ledger handed to the engine (which
//! would build on it and sign it).

use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

use super::StorageError;
use crate::consensus::hash::Hash256;
use crate::consensus::ledger::{Ledger, LedgerHeader};
use crate::consensus::tx::Tx;
use crate::consensus::txset::TxSet;

/// The record format version. Bump it when the body changes shape; old versions stay readable
/// or are refused by name, never misread.
pub const RECORD_VERSION: u8 = 1;

/// The body as it is written (borrowing the ledger: no copy of the transactions).
#[derive(Serialize)]
struct RecordOut<'a> {
    hash: Hash256,
    header: &'a LedgerHeader,
    #[serde(serialize_with = "txs_in_set_order")]
    txs: &'a TxSet,
}

fn txs_in_set_order<S: Serializer>(txs: &&TxSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(txs.iter())
}

/// The body as it is read back.
#[derive(Deserialize)]
struct RecordIn {
    hash: Hash256,
    header: LedgerHeader,
    txs: Vec<Tx>,
}

/// The record for `ledger`.
pub fn encode(ledger: &Ledger) -> Result<Vec<u8>, StorageError> {
    let body = RecordOut {
        hash: ledger.hash(),
        header: ledger.header(),
        txs: ledger.txs(),
    };
    postcard::to_extend(&body, vec![RECORD_VERSION]).map_err(|e| StorageError::Encode {
        what: format!("ledger {} ({})", ledger.seq(), ledger.hash().short()),
        detail: e.to_string(),
    })
}

/// The ledger in `bytes`, after checking that its hash and tx-set id are what the record says.
pub fn decode(bytes: &[u8]) -> Result<Ledger, StorageError> {
    let corrupt = |detail: String| StorageError::Corrupt {
        what: "ledger record".into(),
        detail,
    };
    let Some((&version, body)) = bytes.split_first() else {
        return Err(corrupt("empty record".into()));
    };
    if version != RECORD_VERSION {
        return Err(corrupt(format!(
            "record version {version}, this build reads version {RECORD_VERSION}"
        )));
    }
    let (rec, rest) = postcard::take_from_bytes::<RecordIn>(body)
        .map_err(|e| corrupt(format!("does not decode: {e}")))?;
    if !rest.is_empty() {
        return Err(corrupt(format!("{} trailing bytes", rest.len())));
    }
    let (seq, hash) = (rec.header.seq, rec.hash);
    let corrupt = |detail: String| StorageError::Corrupt {
        what: format!("ledger record {seq} ({})", hash.short()),
        detail,
    };
    let actual = rec.header.hash();
    if actual != rec.hash {
        return Err(corrupt(format!("header hashes to {}", actual.short())));
    }
    let count = rec.txs.len();
    let set = TxSet::new(rec.txs);
    if set.len() != count {
        return Err(corrupt(format!(
            "{} duplicate transactions",
            count - set.len()
        )));
    }
    Ledger::from_parts(rec.header, Arc::new(set)).map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::consensus::params::ConsensusParams;
    use crate::consensus::time::Time;

    fn sample(n: usize) -> Ledger {
        let g = Ledger::genesis(&ConsensusParams::mainnet());
        let txs = TxSet::new((0..n).map(|i| Tx::new(format!("tx-{i}")).unwrap()));
        Ledger::next(&g, txs.shared(), Time(30_000), false, 30_000)
    }

    fn is_corrupt(r: &Result<Ledger, StorageError>) -> bool {
        matches!(r, Err(StorageError::Corrupt { .. }))
    }

    #[test]
    fn round_trips() {
        for n in [0, 1, 7] {
            let l = sample(n);
            assert_eq!(decode(&encode(&l).unwrap()).unwrap(), l);
        }
        let g = Ledger::genesis(&ConsensusParams::mainnet());
        assert_eq!(decode(&encode(&g).unwrap()).unwrap(), g);
    }

    #[test]
    fn every_inconsistency_is_corrupt() {
        let l = sample(3);
        let good = encode(&l).unwrap();
        assert!(is_corrupt(&decode(&[])));
        let mut v = good.clone();
        v[0] = 2;
        assert!(is_corrupt(&decode(&v)));
        assert!(is_corrupt(&decode(&good[..good.len() - 1])));
        let mut v = good.clone();
        v.push(0);
        assert!(is_corrupt(&decode(&v)));
        // Stored hash altered.
        let mut v = good.clone();
        v[1] ^= 1;
        let err = decode(&v).unwrap_err();
        assert!(err.to_string().contains("header hashes to"), "{err}");
        // Header altered (seq is right after the 32-byte hash).
        let mut v = good.clone();
        v[33] ^= 1;
        assert!(is_corrupt(&decode(&v)));
        // A transaction payload altered: the tx-set id no longer matches the header.
        let mut v = good.clone();
        let last = v.len() - 1;
        v[last] ^= 1;
        let err = decode(&v).unwrap_err();
        assert!(err.to_string().contains("transactions hash to"), "{err}");
        // The same transaction twice: the set is the same, the record is not.
        let tx = Tx::new("dup").unwrap();
        let g = Ledger::genesis(&ConsensusParams::mainnet());
        let one = Ledger::next(&g, TxSet::new([tx.clone()]).shared(), Time(1), true, 1);
        let twice = postcard::to_extend(
            &(one.hash(), one.header(), vec![tx.clone(), tx]),
            vec![RECORD_VERSION],
        )
        .unwrap();
        let err = decode(&twice).unwrap_err();
        assert!(err.to_string().contains("duplicate"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_are_corrupt_never_a_panic(b in vec(any::<u8>(), 0..512), versioned in any::<bool>()) {
            let mut b = b;
            if versioned && !b.is_empty() {
                b[0] = RECORD_VERSION;
            }
            prop_assert!(is_corrupt(&decode(&b)));
        }

        #[test]
        fn a_damaged_record_is_corrupt_or_the_same_ledger(
            n in 0..6usize,
            at in any::<usize>(),
            byte in any::<u8>(),
            cut in proptest::option::of(any::<usize>()),
        ) {
            let l = sample(n);
            let mut b = encode(&l).unwrap();
            let i = at % b.len();
            b[i] = byte;
            if let Some(c) = cut {
                b.truncate(c % (b.len() + 1));
            }
            match decode(&b) {
                Ok(back) => prop_assert_eq!(back, l),
                Err(e) => prop_assert!(matches!(e, StorageError::Corrupt { .. }), "{}", e),
            }
        }
    }
}
