//! Per-peer state: every validator's latest position this round, the last few proposals it sent
//! (replayed when a round starts or we switch ledgers), who bowed out, and counters the
//! dashboard shows (proposals seen, refusals by reason, position changes, last seen).
//!
//! Untrusted signers are tracked for display (their latest position, counters) but never enter
//! the current positions, so they can never be counted toward agreement.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::hash::Hash256;
use super::keys::NodeId;
use super::ledger::Seq;
use super::proposal::{Proposal, VerifiedProposal};
use super::refusal::Refusal;
use super::time::Time;

/// A peer's position as we hold it: the verified proposal and when we received it (staleness
/// is judged by our receipt time, not the sender's clock).
///
/// Serialized for engine checkpoints only: reading one back does not verify the signature
/// again (see `VerifiedProposal::restored`), so never decode one from network bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerPosition {
    /// The verified proposal.
    #[serde(with = "crate::consensus::engine::checkpoint::verified_proposal")]
    pub proposal: VerifiedProposal,
    /// When we received it (our clock).
    pub received: Time,
}

impl PeerPosition {
    /// The signed fields.
    pub fn get(&self) -> &Proposal {
        self.proposal.proposal()
    }
}

/// Counters and last-known facts about one peer, for the dashboard and reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PeerStats {
    /// Whether the peer is on our UNL.
    pub trusted: bool,
    /// Proposals received (including refused ones).
    pub proposals_seen: u64,
    /// Validations received.
    pub validations_seen: u64,
    /// Position changes this peer made (seq > 0 proposals taken).
    pub position_changes: u64,
    /// Refused messages by reason.
    pub refused: BTreeMap<Refusal, u64>,
    /// Last time we heard from it.
    pub last_seen: Option<Time>,
    /// Its latest proposal's ledger, position, close time and seq (trusted or not).
    pub last_proposal: Option<ProposalSummary>,
    /// Sequence of its latest validation.
    pub last_validated_seq: Option<Seq>,
    /// Hash of its latest validation.
    pub last_validated_ledger: Option<Hash256>,
    /// Times it was caught signing two different messages with one sequence.
    pub equivocations: u64,
}

/// The displayable fields of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalSummary {
    /// Ledger it builds on.
    pub prev_ledger: Hash256,
    /// Proposed tx-set id.
    pub position: Hash256,
    /// Proposed close time.
    pub close_time: Time,
    /// Position sequence.
    pub seq: u32,
    /// When we received it.
    pub received: Time,
}

impl ProposalSummary {
    /// The summary of `p` received at `received`.
    pub fn of(p: &Proposal, received: Time) -> ProposalSummary {
        ProposalSummary {
            prev_ledger: p.prev_ledger,
            position: p.position,
            close_time: p.close_time,
            seq: p.seq,
            received,
        }
    }
}

/// Most untrusted signers tracked; beyond this the least recently seen is forgotten, so a flood
/// of fresh keys cannot grow memory.
const MAX_UNTRUSTED: usize = 1024;

/// Peer positions, replay buffers and statistics. Serialized for engine checkpoints.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PeerTracker {
    stats: BTreeMap<NodeId, PeerStats>,
    recent: BTreeMap<NodeId, VecDeque<PeerPosition>>,
    current: BTreeMap<NodeId, PeerPosition>,
    dead: BTreeSet<NodeId>,
    equivocators: BTreeSet<NodeId>,
    untrusted_count: usize,
}

impl PeerTracker {
    /// An empty tracker.
    pub fn new() -> PeerTracker {
        PeerTracker::default()
    }

    /// Statistics for `node`, creating them (bounded for untrusted signers).
    pub fn stats_mut(&mut self, node: NodeId, trusted: bool) -> &mut PeerStats {
        if !self.stats.contains_key(&node) {
            if !trusted {
                if self.untrusted_count >= MAX_UNTRUSTED {
                    self.evict_untrusted();
                }
                self.untrusted_count += 1;
            }
            self.stats.insert(
                node,
                PeerStats {
                    trusted,
                    ..PeerStats::default()
                },
            );
        }
        self.stats.get_mut(&node).expect("inserted above")
    }

    fn evict_untrusted(&mut self) {
        let victim = self
            .stats
            .iter()
            .filter(|(_, s)| !s.trusted)
            .min_by_key(|(id, s)| (s.last_seen, **id))
            .map(|(id, _)| *id);
        if let Some(v) = victim {
            self.stats.remove(&v);
            self.untrusted_count -= 1;
        }
    }

    /// What is out of step in a tracker read back from a checkpoint, if anything: positions
    /// filed under another signer, or a wrong count of untrusted signers.
    pub(crate) fn inconsistency(&self) -> Option<String> {
        let untrusted = self.stats.values().filter(|s| !s.trusted).count();
        if untrusted != self.untrusted_count {
            return Some(format!(
                "the peer tracker counts {} untrusted signers but holds {untrusted}",
                self.untrusted_count
            ));
        }
        let misfiled = self.current.iter().any(|(id, p)| p.get().node != *id)
            || self
                .recent
                .iter()
                .any(|(id, buf)| buf.iter().any(|p| p.get().node != *id));
        misfiled.then(|| "a peer position is filed under another signer".to_string())
    }

    /// Counts a refusal against `node`.
    pub fn refuse(&mut self, node: NodeId, trusted: bool, why: Refusal) {
        *self
            .stats_mut(node, trusted)
            .refused
            .entry(why)
            .or_default() += 1;
    }

    /// All statistics.
    pub fn stats(&self) -> &BTreeMap<NodeId, PeerStats> {
        &self.stats
    }

    /// Records the latest proposal for display.
    pub fn note_proposal(&mut self, p: &Proposal, received: Time, trusted: bool) {
        let s = self.stats_mut(p.node, trusted);
        s.proposals_seen += 1;
        s.last_seen = Some(received);
        s.last_proposal = Some(ProposalSummary::of(p, received));
    }

    /// Checks `pos` against the replay buffer: `Some(Duplicate)` for a repeat;
    /// `Some(Equivocation)` when the same peer signed something else with the same ledger and
    /// seq (the peer is flagged; as in rippled the first proposal stays and this one is
    /// ignored); `Some(StaleSeq)` for a validator that restarted and rejoins the round with a
    /// new seq-0 position (closed later than its first one), which is not equivocation.
    /// Otherwise buffers it (keeping the last `keep`) and returns `None`.
    pub fn buffer(&mut self, pos: &PeerPosition, keep: usize) -> Option<Refusal> {
        let p = pos.get();
        let buf = self.recent.entry(p.node).or_default();
        for old in buf.iter() {
            let o = old.get();
            if o.prev_ledger == p.prev_ledger && o.seq == p.seq {
                if o == p {
                    return Some(Refusal::Duplicate);
                }
                if p.seq == super::proposal::SEQ_JOIN && p.close_time > o.close_time {
                    return Some(Refusal::StaleSeq);
                }
                self.equivocators.insert(p.node);
                if let Some(s) = self.stats.get_mut(&p.node) {
                    s.equivocations += 1;
                }
                return Some(Refusal::Equivocation);
            }
        }
        buf.push_back(pos.clone());
        while buf.len() > keep {
            buf.pop_front();
        }
        None
    }

    /// Buffered proposals (all peers, oldest first per peer) that build on `prev_ledger`.
    pub fn replayable(&self, prev_ledger: &Hash256) -> Vec<PeerPosition> {
        self.recent
            .values()
            .flat_map(|buf| buf.iter())
            .filter(|p| &p.get().prev_ledger == prev_ledger)
            .cloned()
            .collect()
    }

    /// `node`'s buffered proposals, oldest first.
    pub fn recent_of(&self, node: &NodeId) -> impl Iterator<Item = &PeerPosition> {
        self.recent.get(node).into_iter().flat_map(|b| b.iter())
    }

    /// Forgets replay buffers of peers no longer trusted.
    pub fn retain_trusted(&mut self, unl: &BTreeSet<NodeId>) {
        self.recent.retain(|id, _| unl.contains(id));
    }

    /// Current positions (trusted, this round, this ledger).
    pub fn current(&self) -> &BTreeMap<NodeId, PeerPosition> {
        &self.current
    }

    /// The current position of `node`.
    pub fn position(&self, node: &NodeId) -> Option<&PeerPosition> {
        self.current.get(node)
    }

    /// Sets `node`'s current position; returns the previous one.
    pub fn set_position(&mut self, pos: PeerPosition) -> Option<PeerPosition> {
        let node = pos.get().node;
        let old = self.current.insert(node, pos);
        if old.is_some()
            && let Some(s) = self.stats.get_mut(&node)
        {
            s.position_changes += 1;
        }
        old
    }

    /// Removes `node`'s current position.
    pub fn remove_position(&mut self, node: &NodeId) -> Option<PeerPosition> {
        self.current.remove(node)
    }

    /// Removes every position received at or before `cutoff`; returns whose.
    pub fn remove_stale(&mut self, cutoff: Time) -> Vec<NodeId> {
        let stale: Vec<NodeId> = self
            .current
            .iter()
            .filter(|(_, p)| p.received <= cutoff)
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            self.current.remove(id);
        }
        stale
    }

    /// Marks `node` as bowed out for this round.
    pub fn mark_dead(&mut self, node: NodeId) {
        self.dead.insert(node);
    }

    /// Whether `node` bowed out this round.
    pub fn is_dead(&self, node: &NodeId) -> bool {
        self.dead.contains(node)
    }

    /// Peers that bowed out this round.
    pub fn dead(&self) -> &BTreeSet<NodeId> {
        &self.dead
    }

    /// Whether `node` equivocated this round.
    pub fn is_equivocator(&self, node: &NodeId) -> bool {
        self.equivocators.contains(node)
    }

    /// Peers caught equivocating this round.
    pub fn equivocators(&self) -> &BTreeSet<NodeId> {
        &self.equivocators
    }

    /// Clears per-round state (positions, bow-outs, equivocation marks) at a new round.
    pub fn new_round(&mut self) {
        self.current.clear();
        self.dead.clear();
        self.equivocators.clear();
    }

    /// Records a validation from `node`.
    pub fn note_validation(
        &mut self,
        node: NodeId,
        trusted: bool,
        seq: Seq,
        ledger: Hash256,
        now: Time,
    ) {
        let s = self.stats_mut(node, trusted);
        s.validations_seen += 1;
        s.last_seen = Some(now);
        if s.last_validated_seq.is_none_or(|old| seq >= old) {
            s.last_validated_seq = Some(seq);
            s.last_validated_ledger = Some(ledger);
        }
    }

    /// Counts an equivocating validation.
    pub fn note_equivocation(&mut self, node: NodeId, trusted: bool) {
        self.stats_mut(node, trusted).equivocations += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::keys::{NodeKey, Verifier};

    fn pos(key: &NodeKey, seq: u32, position: &[u8], received: i64) -> PeerPosition {
        let p = Proposal {
            prev_ledger: Hash256::of(&[b"L"]),
            position: Hash256::of(&[position]),
            close_time: Time(5),
            seq,
            node: key.id(),
        };
        let v = p.sign(key, 0).verify(&mut Verifier::new(), 0).unwrap();
        PeerPosition {
            proposal: v,
            received: Time(received),
        }
    }

    #[test]
    fn buffer_keeps_last_n_and_spots_duplicates_and_equivocation() {
        let k = NodeKey::from_secret([4; 32]);
        let mut t = PeerTracker::new();
        for seq in 0..12 {
            assert_eq!(t.buffer(&pos(&k, seq, b"a", 0), 10), None);
        }
        assert_eq!(t.replayable(&Hash256::of(&[b"L"])).len(), 10);
        assert_eq!(
            t.buffer(&pos(&k, 11, b"a", 1), 10),
            Some(Refusal::Duplicate)
        );
        assert_eq!(
            t.buffer(&pos(&k, 11, b"b", 1), 10),
            Some(Refusal::Equivocation)
        );
        assert!(t.is_equivocator(&k.id()));
        t.new_round();
        assert!(!t.is_equivocator(&k.id()));
    }

    #[test]
    fn stale_positions_are_removed() {
        let a = NodeKey::from_secret([5; 32]);
        let b = NodeKey::from_secret([6; 32]);
        let mut t = PeerTracker::new();
        t.set_position(pos(&a, 0, b"x", 100));
        t.set_position(pos(&b, 0, b"x", 5_000));
        assert_eq!(t.remove_stale(Time(100)), vec![a.id()]);
        assert_eq!(t.current().len(), 1);
    }

    #[test]
    fn untrusted_stats_are_bounded() {
        let mut t = PeerTracker::new();
        for i in 0..(MAX_UNTRUSTED as u32 + 50) {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&i.to_be_bytes());
            t.stats_mut(NodeId(b), false).last_seen = Some(Time(i as i64));
        }
        assert_eq!(t.stats().len(), MAX_UNTRUSTED);
    }
}
