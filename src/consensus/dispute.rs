//! Disputed transactions: a transaction that is in some positions and not in others, with every
//! peer's vote, our vote, and how both changed over the round (rippled `DisputedTx`).
//!
//! Our vote follows the avalanche: while proposing, we keep a transaction only while the share
//! of "yes" (counting our own vote as one) exceeds the needed percent, which rises as the round
//! ages. The vote history is kept for the dashboard's drill-down: who flipped, when.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::avalanche::{AvalancheState, needed_weight};
use super::keys::{NodeId, NodeMap};
use super::params::ConsensusParams;
use super::time::Time;
use super::tx::Tx;

/// Who cast a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voter {
    /// This node.
    Us,
    /// A peer.
    Peer(NodeId),
}

/// One entry of a dispute's vote history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteChange {
    /// When the vote was cast or changed.
    pub at: Time,
    /// Whose vote.
    pub voter: Voter,
    /// The new vote.
    pub yes: bool,
    /// False for a first vote, true for a flip.
    pub flip: bool,
}

/// Most history entries kept per dispute (oldest dropped first).
pub const MAX_VOTE_HISTORY: usize = 512;

/// A disputed transaction and its votes. Serialized for engine checkpoints (votes in key order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispute {
    tx: Tx,
    our_vote: bool,
    yays: u32,
    nays: u32,
    #[serde(with = "crate::consensus::engine::checkpoint::sorted_map")]
    votes: NodeMap<bool>,
    avalanche: AvalancheState,
    avalanche_counter: u32,
    current_vote_counter: u32,
    pinned: bool,
    created: Time,
    history: VecDeque<VoteChange>,
    our_flips: u32,
    peer_flips: u32,
}

impl Dispute {
    /// A new dispute on `tx`, where our current vote is `our_vote`.
    pub fn new(tx: Tx, our_vote: bool, now: Time) -> Dispute {
        let mut d = Dispute {
            tx,
            our_vote,
            yays: 0,
            nays: 0,
            votes: NodeMap::default(),
            avalanche: AvalancheState::Init,
            avalanche_counter: 0,
            current_vote_counter: 0,
            pinned: false,
            created: now,
            history: VecDeque::new(),
            our_flips: 0,
            peer_flips: 0,
        };
        d.record(now, Voter::Us, our_vote, false);
        d
    }

    fn record(&mut self, at: Time, voter: Voter, yes: bool, flip: bool) {
        if self.history.len() >= MAX_VOTE_HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(VoteChange {
            at,
            voter,
            yes,
            flip,
        });
    }

    /// The disputed transaction.
    pub fn tx(&self) -> &Tx {
        &self.tx
    }

    /// Our current vote.
    pub fn our_vote(&self) -> bool {
        self.our_vote
    }

    /// Peers voting yes.
    pub fn yays(&self) -> u32 {
        self.yays
    }

    /// Peers voting no.
    pub fn nays(&self) -> u32 {
        self.nays
    }

    /// Whether the yes/no counts match the recorded votes (a checkpoint is checked with this:
    /// counts out of step with the votes would underflow when a vote is withdrawn).
    pub(crate) fn counts_match_votes(&self) -> bool {
        let yays = self.votes.values().filter(|v| **v).count();
        let nays = self.votes.len() - yays;
        (yays, nays) == (self.yays as usize, self.nays as usize)
    }

    /// Every peer's vote, in key order (for display; the engine never iterates votes).
    pub fn votes(&self) -> BTreeMap<NodeId, bool> {
        self.votes.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// `peer`'s vote.
    pub fn vote_of(&self, peer: &NodeId) -> Option<bool> {
        self.votes.get(peer).copied()
    }

    /// The avalanche state this dispute has reached.
    pub fn avalanche(&self) -> AvalancheState {
        self.avalanche
    }

    /// Whether an operator pinned our vote.
    pub fn pinned(&self) -> bool {
        self.pinned
    }

    /// When the dispute was created.
    pub fn created(&self) -> Time {
        self.created
    }

    /// Vote history, oldest first.
    pub fn history(&self) -> &VecDeque<VoteChange> {
        &self.history
    }

    /// How many times we flipped.
    pub fn our_flips(&self) -> u32 {
        self.our_flips
    }

    /// How many times peers flipped.
    pub fn peer_flips(&self) -> u32 {
        self.peer_flips
    }

    /// Records `peer`'s vote. Returns true when it is new or changed (rippled `setVote`).
    pub fn set_vote(&mut self, peer: NodeId, yes: bool, now: Time) -> bool {
        match self.votes.insert(peer, yes) {
            None => {
                if yes {
                    self.yays += 1;
                } else {
                    self.nays += 1;
                }
                self.record(now, Voter::Peer(peer), yes, false);
                true
            }
            Some(old) if old == yes => false,
            Some(_) => {
                if yes {
                    self.nays -= 1;
                    self.yays += 1;
                } else {
                    self.yays -= 1;
                    self.nays += 1;
                }
                self.peer_flips += 1;
                self.record(now, Voter::Peer(peer), yes, true);
                true
            }
        }
    }

    /// Forgets `peer`'s vote (stale or bowed-out peer).
    pub fn unvote(&mut self, peer: &NodeId) {
        if let Some(old) = self.votes.remove(peer) {
            if old {
                self.yays -= 1;
            } else {
                self.nays -= 1;
            }
        }
    }

    /// Re-evaluates our vote at `percent_time` of the previous round. Returns true when our
    /// vote changed (rippled `updateVote`).
    pub fn update_vote(
        &mut self,
        percent_time: i64,
        proposing: bool,
        params: &ConsensusParams,
        now: Time,
    ) -> bool {
        if self.pinned {
            return false;
        }
        if self.our_vote && self.nays == 0 {
            return false;
        }
        if !self.our_vote && self.yays == 0 {
            return false;
        }
        self.avalanche_counter += 1;
        let (required, next) = needed_weight(
            params,
            self.avalanche,
            percent_time,
            self.avalanche_counter,
            params.av_min_rounds,
        );
        if let Some(next) = next {
            self.avalanche = next;
            self.avalanche_counter = 0;
        }
        let new_vote = if proposing {
            self.weight() > required
        } else {
            self.yays > self.nays
        };
        if new_vote == self.our_vote {
            self.current_vote_counter += 1;
            return false;
        }
        self.current_vote_counter = 0;
        self.set_our_vote(new_vote, now);
        true
    }

    /// Support for "yes" counting our vote as one: `(yays*100 + ours*100) / (yays+nays+1)`.
    pub fn weight(&self) -> i64 {
        let ours = if self.our_vote { 100 } else { 0 };
        (self.yays as i64 * 100 + ours) / (self.yays as i64 + self.nays as i64 + 1)
    }

    /// The support percent the current avalanche state requires.
    pub fn needed_pct(&self, params: &ConsensusParams) -> i64 {
        params.cutoff(self.avalanche).yes_pct
    }

    fn set_our_vote(&mut self, yes: bool, now: Time) {
        self.our_vote = yes;
        self.our_flips += 1;
        self.record(now, Voter::Us, yes, true);
    }

    /// Operator override: sets and pins our vote (`None` unpins). Returns true if the vote
    /// changed.
    pub fn override_vote(&mut self, vote: Option<bool>, now: Time) -> bool {
        match vote {
            None => {
                self.pinned = false;
                false
            }
            Some(yes) => {
                self.pinned = true;
                if yes != self.our_vote {
                    self.set_our_vote(yes, now);
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Sets our vote to match our position after an operator changed it.
    pub fn align_our_vote(&mut self, yes: bool, now: Time) {
        if yes != self.our_vote {
            self.set_our_vote(yes, now);
        }
    }

    /// Whether the dispute is stuck: in the last avalanche state long enough, nobody (or we)
    /// changing, and support beyond 80 % either way (rippled `DisputedTx::stalled`).
    pub fn stalled(&self, params: &ConsensusParams, proposing: bool, peers_unchanged: u32) -> bool {
        let current = params.cutoff(self.avalanche);
        let next = params.cutoff(current.next);
        if next.time_pct > current.time_pct || self.avalanche_counter < params.av_min_rounds {
            return false;
        }
        if proposing && self.current_vote_counter < params.av_min_rounds {
            return false;
        }
        if peers_unchanged < params.av_stalled_rounds
            && proposing
            && self.current_vote_counter < params.av_stalled_rounds
        {
            return false;
        }
        let support = (self.yays as i64 + i64::from(proposing && self.our_vote)) * 100;
        let total = self.nays as i64 + self.yays as i64 + i64::from(proposing);
        if total == 0 {
            return false;
        }
        let weight = support / total;
        weight > params.min_consensus_pct || weight < 100 - params.min_consensus_pct
    }

    /// How many votes must change for our vote to flip at `needed_pct`: the smallest number of
    /// peers moving to the other side that carries `weight()` across the threshold (None when
    /// no number of peer votes can, e.g. when no peer votes the other way).
    pub fn votes_to_flip(&self, needed_pct: i64, proposing: bool) -> Option<u32> {
        let (mut yays, mut nays) = (self.yays as i64, self.nays as i64);
        let ours = if self.our_vote { 100 } else { 0 };
        let mut moved = 0u32;
        loop {
            let vote = if proposing {
                (yays * 100 + ours) / (yays + nays + 1) > needed_pct
            } else {
                yays > nays
            };
            if vote != self.our_vote {
                return Some(moved);
            }
            if self.our_vote {
                if yays == 0 {
                    return None;
                }
                yays -= 1;
                nays += 1;
            } else {
                if nays == 0 {
                    return None;
                }
                nays -= 1;
                yays += 1;
            }
            moved += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(i: u32) -> NodeId {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&i.to_be_bytes());
        NodeId(b)
    }

    fn tx() -> Tx {
        Tx::new("disputed").unwrap()
    }

    #[test]
    fn set_vote_counts_and_unvote_forgets() {
        let mut d = Dispute::new(tx(), true, Time(0));
        assert!(d.set_vote(peer(1), true, Time(1)));
        assert!(!d.set_vote(peer(1), true, Time(2)));
        assert!(d.set_vote(peer(2), false, Time(3)));
        assert_eq!((d.yays(), d.nays()), (1, 1));
        assert!(d.set_vote(peer(1), false, Time(4)));
        assert_eq!((d.yays(), d.nays()), (0, 2));
        assert_eq!(d.peer_flips(), 1);
        d.unvote(&peer(1));
        assert_eq!((d.yays(), d.nays()), (0, 1));
        d.unvote(&peer(9));
        assert_eq!((d.yays(), d.nays()), (0, 1));
        assert!(
            d.history()
                .iter()
                .any(|h| h.flip && h.voter == Voter::Peer(peer(1)))
        );
    }

    /// rippled Consensus_test::testDisputes: 51 peers yes, 49 no. A proposing yes-voter keeps
    /// the transaction while the needed weight is 50 % (weight 51) but drops it when the
    /// avalanche reaches 65 %; a non-proposing observer follows the majority.
    #[test]
    fn vote_flips_when_needed_weight_passes_65() {
        let p = ConsensusParams::mainnet();
        let mut d = Dispute::new(tx(), true, Time(0));
        for i in 0..51 {
            d.set_vote(peer(i), true, Time(0));
        }
        for i in 51..100 {
            d.set_vote(peer(i), false, Time(0));
        }
        assert_eq!(d.weight(), 51);
        // Early in the round: 50 % needed, we stay yes.
        assert!(!d.update_vote(10, true, &p, Time(1)));
        assert!(!d.update_vote(40, true, &p, Time(2)));
        assert!(d.our_vote());
        assert_eq!(d.avalanche(), AvalancheState::Init);
        // 50 % of the previous round time and two updates in init: 65 % needed -> flip to no.
        assert!(d.update_vote(55, true, &p, Time(3)));
        assert!(!d.our_vote());
        assert_eq!(d.avalanche(), AvalancheState::Mid);
        assert_eq!(d.our_flips(), 1);

        // An observer votes with the majority, whatever the avalanche.
        let mut o = Dispute::new(tx(), false, Time(0));
        for i in 0..51 {
            o.set_vote(peer(i), true, Time(0));
        }
        for i in 51..100 {
            o.set_vote(peer(i), false, Time(0));
        }
        assert!(o.update_vote(10, false, &p, Time(1)));
        assert!(o.our_vote());
    }

    #[test]
    fn unanimous_disputes_never_move() {
        let p = ConsensusParams::mainnet();
        let mut d = Dispute::new(tx(), true, Time(0));
        d.set_vote(peer(1), true, Time(0));
        for t in 0..10 {
            assert!(!d.update_vote(500, true, &p, Time(t)));
        }
        // No avalanche progress while unanimous (rippled returns before getNeededWeight).
        assert_eq!(d.avalanche(), AvalancheState::Init);
    }

    #[test]
    fn stalled_needs_stuck_state_and_lopsided_support() {
        let p = ConsensusParams::mainnet();
        // 9 yes, 1 no, we vote yes: weight 90 % > 80 %.
        let mut d = Dispute::new(tx(), true, Time(0));
        for i in 0..9 {
            d.set_vote(peer(i), true, Time(0));
        }
        d.set_vote(peer(9), false, Time(0));
        assert!(!d.stalled(&p, true, 10));
        // Walk the avalanche to stuck: two updates per state at 250 % time.
        for t in 0..12 {
            d.update_vote(250, true, &p, Time(t));
        }
        assert_eq!(d.avalanche(), AvalancheState::Stuck);
        assert!(d.stalled(&p, true, 10));
        // Balanced support is never stalled.
        let mut b = Dispute::new(tx(), true, Time(0));
        for i in 0..5 {
            b.set_vote(peer(i), true, Time(0));
        }
        for i in 5..10 {
            b.set_vote(peer(i), false, Time(0));
        }
        for t in 0..12 {
            b.update_vote(250, true, &p, Time(t));
        }
        assert!(!b.stalled(&p, true, 10));
    }

    #[test]
    fn override_pins_our_vote() {
        let p = ConsensusParams::mainnet();
        let mut d = Dispute::new(tx(), false, Time(0));
        for i in 0..10 {
            d.set_vote(peer(i), true, Time(0));
        }
        assert!(!d.override_vote(Some(false), Time(1)));
        assert!(!d.update_vote(10, true, &p, Time(2)));
        assert!(!d.our_vote());
        d.override_vote(None, Time(3));
        assert!(d.update_vote(10, true, &p, Time(4)));
        assert!(d.our_vote());
    }

    #[test]
    fn votes_to_flip_counts_the_gap() {
        let mut d = Dispute::new(tx(), true, Time(0));
        for i in 0..51 {
            d.set_vote(peer(i), true, Time(0));
        }
        for i in 51..100 {
            d.set_vote(peer(i), false, Time(0));
        }
        // weight 51 at 50 % needed: one yes-voter moving to no brings it to 50 -> flips.
        assert_eq!(d.votes_to_flip(50, true), Some(1));
        assert_eq!(d.votes_to_flip(65, true), Some(0));
        let lonely = Dispute::new(tx(), true, Time(0));
        assert_eq!(lonely.votes_to_flip(50, true), None);
    }
}
