//! What the engine keeps in memory, against the rule that bounds it. A node runs for months;
//! `status` and `/metrics` show these so an operator can see memory is bounded, and which
//! collection is full, without a heap profiler.

use serde::Serialize;

use super::Engine;
use crate::consensus::pending::REMEMBER_VALIDATED;

/// One bounded collection.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Held {
    /// Which collection.
    pub what: &'static str,
    /// Entries in it now.
    pub items: usize,
    /// The most it can hold, when a count bounds it (else `rule` says what does).
    pub cap: Option<usize>,
    /// What bounds it, in words.
    pub rule: &'static str,
}

impl Engine {
    /// The engine's bounded collections.
    pub fn held(&self) -> Vec<Held> {
        vec![
            Held {
                what: "ledgers",
                items: self.ledgers.len(),
                cap: None,
                rule: "ledgers from 256 below the last fully validated one up",
            },
            Held {
                what: "validations",
                items: self.validations.held(),
                cap: Some(self.validations.bound()),
                rule: "512 per validator, none below the ledger window",
            },
            Held {
                what: "pending_txs",
                items: self.pending.len(),
                cap: Some(self.pending.capacity()),
                rule: "the pending pool's capacity",
            },
            Held {
                what: "validated_tx_ids",
                items: self.pending.remembered(),
                cap: Some(REMEMBER_VALIDATED),
                rule: "the most recently validated ids",
            },
            Held {
                what: "tx_sets",
                items: self.known_sets.len(),
                cap: None,
                rule: "sets of the last 4 ledgers and the current round",
            },
        ]
    }
}
