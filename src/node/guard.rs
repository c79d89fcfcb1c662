//! Cheap checks before any decoding or signature work: per-peer message rates and replays.
//!
//! Gossipsub forwards a message once and forgets its id after a minute; an honest node never
//! publishes the same bytes twice. So identical bytes arriving after gossip's window are a
//! replay, and a peer pushing thousands of messages a second is flooding. Both are rejected
//! (which costs the sender gossip score until it is graylisted and ignored outright) before we
//! spend a signature check on them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Messages one peer may forward per second before it counts as flooding. Generous: a mesh
/// peer relays every validator's proposals and validations.
pub const MAX_MESSAGES_PER_PEER_PER_SEC: u32 = 2_000;
/// How long message ids are remembered to recognise replays.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(30 * 60);
/// Most ids remembered.
pub const MAX_REMEMBERED: usize = 500_000;

/// What the guard says about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Go on.
    Pass,
    /// Over the sender's rate.
    Flood,
    /// Seen before.
    Replay,
}

/// Rate and replay bookkeeping. Ids are kept as 128-bit fingerprints (about 60 bytes an entry
/// instead of 170 for two owned copies), so the full window costs at most ~30 MiB.
#[derive(Debug, Default)]
pub struct Guard {
    rates: HashMap<PeerId, (Instant, u32)>,
    seen: HashSet<u128>,
    order: VecDeque<(Instant, u128)>,
}

/// The id's first 16 bytes when it is already a content hash (gossip ids are 32-byte hashes),
/// else a hash of it, so ids of other shapes cannot collide by padding.
fn fingerprint(id: &[u8]) -> u128 {
    let bytes = if id.len() == 32 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&id[..16]);
        b
    } else {
        let h = crate::consensus::Hash256::of(&[b"GUARD\0", id]);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h.0[..16]);
        b
    };
    u128::from_le_bytes(bytes)
}

impl Guard {
    /// Message ids remembered now (at most [`MAX_REMEMBERED`]).
    pub fn remembered(&self) -> usize {
        self.order.len()
    }

    /// Checks (and records) a message `id` forwarded by `from` at `now`.
    pub fn check(&mut self, from: PeerId, id: &[u8], now: Instant) -> Check {
        let r = self.rates.entry(from).or_insert((now, 0));
        if now.duration_since(r.0) >= Duration::from_secs(1) {
            *r = (now, 0);
        }
        r.1 += 1;
        if r.1 > MAX_MESSAGES_PER_PEER_PER_SEC {
            return Check::Flood;
        }
        if self.rates.len() > 4096 {
            self.rates
                .retain(|_, (t, _)| now.duration_since(*t) < Duration::from_secs(2));
        }
        while let Some((t, _)) = self.order.front() {
            if now.duration_since(*t) < REPLAY_WINDOW && self.order.len() < MAX_REMEMBERED {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        let key = fingerprint(id);
        if !self.seen.insert(key) {
            return Check::Replay;
        }
        self.order.push_back((now, key));
        Check::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_floods_are_caught() {
        let mut g = Guard::default();
        let p = PeerId::random();
        let t = Instant::now();
        assert_eq!(g.check(p, b"a", t), Check::Pass);
        assert_eq!(g.check(p, b"a", t), Check::Replay);
        let q = PeerId::random();
        for i in 0..MAX_MESSAGES_PER_PEER_PER_SEC - 1 {
            assert_eq!(g.check(q, &i.to_be_bytes(), t), Check::Pass);
        }
        assert_eq!(g.check(q, b"last", t), Check::Pass);
        assert_eq!(g.check(q, b"one more", t), Check::Flood);
        // A new second, a new budget.
        assert_eq!(
            g.check(q, b"later", t + Duration::from_secs(1)),
            Check::Pass
        );
    }
}
