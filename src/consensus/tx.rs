//! Transactions: opaque payloads whose id is the hash of their bytes.
//!
//! cpeers agrees on *which* transactions go into a ledger, not on what they mean, so a
//! transaction is just bytes (at most [`MAX_TX_BYTES`]). Two submissions of the same bytes are
//! the same transaction.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::hash::Hash256;

/// Largest payload accepted, from an operator or from the network.
pub const MAX_TX_BYTES: usize = 1024;

/// A transaction id: `sha512Half("TXN\0" || payload)`.
pub type TxId = Hash256;

/// Why a payload is not a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// Empty payloads are refused: they would all be the same transaction.
    #[error("transaction payload is empty")]
    Empty,
    /// Over [`MAX_TX_BYTES`].
    #[error("transaction payload is {0} bytes, more than the {MAX_TX_BYTES}-byte limit")]
    TooLarge(usize),
}

/// An immutable transaction; cloning shares the payload.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct Tx {
    id: TxId,
    payload: Arc<[u8]>,
}

impl Tx {
    /// Wraps `payload`, checking its size.
    pub fn new(payload: impl Into<Vec<u8>>) -> Result<Tx, TxError> {
        let payload: Vec<u8> = payload.into();
        if payload.is_empty() {
            return Err(TxError::Empty);
        }
        if payload.len() > MAX_TX_BYTES {
            return Err(TxError::TooLarge(payload.len()));
        }
        let id = Hash256::of(&[b"TXN\0", &payload]);
        Ok(Tx {
            id,
            payload: payload.into(),
        })
    }

    /// The transaction id.
    pub fn id(&self) -> TxId {
        self.id
    }

    /// The raw payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as text (lossy), for reports and the dashboard.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

impl TryFrom<Vec<u8>> for Tx {
    type Error = TxError;
    fn try_from(v: Vec<u8>) -> Result<Tx, TxError> {
        Tx::new(v)
    }
}

impl From<Tx> for Vec<u8> {
    fn from(tx: Tx) -> Vec<u8> {
        tx.payload.to_vec()
    }
}

impl fmt::Debug for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tx({} {:?})", self.id.short(), self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_content_hash_and_limits_hold() {
        let a = Tx::new("pay-1").unwrap();
        assert_eq!(a.id(), Tx::new("pay-1").unwrap().id());
        assert_ne!(a.id(), Tx::new("pay-2").unwrap().id());
        assert_eq!(Tx::new(""), Err(TxError::Empty));
        assert_eq!(
            Tx::new(vec![1u8; MAX_TX_BYTES + 1]),
            Err(TxError::TooLarge(MAX_TX_BYTES + 1))
        );
        assert!(Tx::new(vec![1u8; MAX_TX_BYTES]).is_ok());
    }
}
