//! Fetching what the engine asks for (`AcquireTxSet`, `AcquireLedger`) from peers, one peer at a
//! time: on a timeout, a failure or an empty answer the next candidate is tried; when all fail
//! the fetch is dropped and the engine's own retry asks again later.

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;

use crate::consensus::Hash256;
use crate::net::wire::{MAX_LEDGERS_PER_RESPONSE, Request};

/// What is being fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchKey {
    /// A transaction set by id.
    TxSet(Hash256),
    /// A ledger (and ancestors) by hash.
    Ledger(Hash256),
}

#[derive(Debug)]
struct Fetch {
    back_to: u32,
    candidates: VecDeque<PeerId>,
}

/// In-flight fetches.
#[derive(Debug, Default)]
pub struct Fetcher {
    active: HashMap<FetchKey, Fetch>,
    requests: HashMap<OutboundRequestId, (FetchKey, PeerId)>,
}

/// Most peers tried for one fetch.
const MAX_CANDIDATES: usize = 8;

impl Fetcher {
    /// Starts fetching `key` unless it is already being fetched. Returns the request to send
    /// and to whom.
    pub fn start(
        &mut self,
        key: FetchKey,
        back_to: u32,
        candidates: Vec<PeerId>,
    ) -> Option<(PeerId, Request)> {
        if self.active.contains_key(&key) {
            return None;
        }
        let mut c: VecDeque<PeerId> = VecDeque::new();
        for p in candidates {
            if !c.contains(&p) && c.len() < MAX_CANDIDATES {
                c.push_back(p);
            }
        }
        self.active.insert(
            key,
            Fetch {
                back_to,
                candidates: c,
            },
        );
        self.next(key)
    }

    /// The next attempt for `key`, or `None` (and the fetch is dropped) when no peer is left.
    pub fn next(&mut self, key: FetchKey) -> Option<(PeerId, Request)> {
        let f = self.active.get_mut(&key)?;
        let Some(peer) = f.candidates.pop_front() else {
            self.active.remove(&key);
            return None;
        };
        let req = match key {
            FetchKey::TxSet(id) => Request::TxSet(id),
            FetchKey::Ledger(hash) => Request::Ledgers {
                hash,
                back_to: f.back_to,
                max: MAX_LEDGERS_PER_RESPONSE as u32,
            },
        };
        Some((peer, req))
    }

    /// Records that `id` carries the attempt for `key` to `peer`.
    pub fn sent(&mut self, id: OutboundRequestId, key: FetchKey, peer: PeerId) {
        self.requests.insert(id, (key, peer));
    }

    /// The fetch an answer (or failure) belongs to.
    pub fn answered(&mut self, id: &OutboundRequestId) -> Option<(FetchKey, PeerId)> {
        self.requests.remove(id)
    }

    /// Done with `key`.
    pub fn finish(&mut self, key: &FetchKey) {
        self.active.remove(key);
    }

    /// Whether nothing is being fetched.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_each_candidate_once_then_gives_up() {
        let mut f = Fetcher::default();
        let a = PeerId::random();
        let b = PeerId::random();
        let key = FetchKey::TxSet(Hash256::of(&[b"s"]));
        let (p, _) = f.start(key, 0, vec![a, b, a]).unwrap();
        assert_eq!(p, a);
        assert!(f.start(key, 0, vec![b]).is_none(), "already fetching");
        let (p, _) = f.next(key).unwrap();
        assert_eq!(p, b);
        assert!(f.next(key).is_none());
        assert!(f.is_empty());
    }
}
