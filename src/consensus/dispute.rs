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

    /// rippled Consensus_test::testDisputes, row for row: 100 peers split 51/49, four disputes
    /// (proposing and voting yes, proposing and voting no, observing with yes, observing with
    /// no), then peers moving to the proposer's original vote while the needed weight steps
    /// 50 -> 65 -> 70 -> 95 %: the proposing yes-voter flips at each step and back as support
    /// catches up (51 < 65, 66 > 65, 67 < 70, 71 > 70, 72 < 95, 96 > 95). Stall onset as rippled
    /// logs it: "voting NO for 11 rounds", the recent flipper only once peers are unchanged
    /// (`avSTALLED_ROUNDS`) or its own vote is four updates old.
    #[test]
    fn disputes_like_rippled() {
        let p = ConsensusParams::mainnet();
        // proposing true, proposing false, following true, following false
        const PT: usize = 0;
        const PF: usize = 1;
        const FT: usize = 2;
        const FF: usize = 3;
        let proposing = [true, true, false, false];
        let mut d = [
            Dispute::new(Tx::new("99").unwrap(), true, Time(0)),
            Dispute::new(Tx::new("98").unwrap(), false, Time(0)),
            Dispute::new(Tx::new("97").unwrap(), true, Time(0)),
            Dispute::new(Tx::new("96").unwrap(), false, Time(0)),
        ];
        let update = |d: &mut [Dispute; 4], pct: i64| -> [bool; 4] {
            let mut changed = [false; 4];
            for i in 0..4 {
                changed[i] = d[i].update_vote(pct, proposing[i], &p, Time(pct));
            }
            changed
        };
        let votes = |d: &[Dispute; 4]| d.each_ref().map(|x| x.our_vote());
        let stalled = |d: &[Dispute; 4], peers_unchanged: u32| -> [bool; 4] {
            [0, 1, 2, 3].map(|i| d[i].stalled(&p, proposing[i], peers_unchanged))
        };
        let none = [false; 4];
        let only_pt = [true, false, false, false];

        // An even split, then the middle vote moved to match ours.
        for i in 0..100 {
            for x in d.iter_mut() {
                assert!(x.set_vote(peer(i), i < 50, Time(0)));
            }
        }
        assert!(d[PT].set_vote(peer(50), true, Time(0)));
        assert!(d[PF].set_vote(peer(49), false, Time(0)));
        assert!(d[FT].set_vote(peer(50), true, Time(0)));
        assert!(d[FF].set_vote(peer(49), false, Time(0)));
        assert_eq!(votes(&d), [true, false, true, false]);
        assert_eq!(stalled(&d, 0), none);

        // In the majority: no change.
        assert_eq!(update(&mut d, 5), none);
        assert_eq!(update(&mut d, 10), none);
        assert_eq!(stalled(&d, 2), none);

        // 51 % support; the requirement jumps to 65 %.
        assert_eq!(update(&mut d, 55), only_pt);
        assert_eq!(votes(&d), [false, false, true, false]);

        // 16 peers move to each dispute's original vote: 66 % > 65 %.
        for i in 0..16 {
            assert!(d[PT].set_vote(peer(99 - i), true, Time(0)));
            assert!(d[PF].set_vote(peer(i), false, Time(0)));
            assert!(d[FT].set_vote(peer(99 - i), true, Time(0)));
            assert!(d[FF].set_vote(peer(i), false, Time(0)));
        }
        assert_eq!(update(&mut d, 60), only_pt);
        assert_eq!(votes(&d), [true, false, true, false]);

        // The requirement jumps to 70 %: 67 % is not enough.
        assert_eq!(update(&mut d, 86), only_pt);
        assert_eq!(votes(&d), [false, false, true, false]);

        // 5 more: 71 % > 70 %.
        for i in 16..21 {
            assert!(d[PT].set_vote(peer(99 - i), true, Time(0)));
            assert!(d[PF].set_vote(peer(i), false, Time(0)));
            assert!(d[FT].set_vote(peer(99 - i), true, Time(0)));
            assert!(d[FF].set_vote(peer(i), false, Time(0)));
        }
        assert_eq!(update(&mut d, 90), only_pt);
        assert_eq!(votes(&d), [true, false, true, false]);
        // Still 70 % needed until 200 %.
        assert_eq!(update(&mut d, 150), none);
        assert_eq!(update(&mut d, 190), none);
        assert_eq!(votes(&d), [true, false, true, false]);
        assert_eq!(stalled(&d, 3), none);

        // The requirement jumps to 95 %: 72 % is not enough.
        assert_eq!(update(&mut d, 220), only_pt);
        assert_eq!(votes(&d), [false, false, true, false]);

        // 25 more: 96 % > 95 %.
        for i in 21..46 {
            assert!(d[PT].set_vote(peer(99 - i), true, Time(0)));
            assert!(d[PF].set_vote(peer(i), false, Time(0)));
            assert!(d[FT].set_vote(peer(99 - i), true, Time(0)));
            assert!(d[FF].set_vote(peer(i), false, Time(0)));
        }
        assert_eq!(update(&mut d, 250), only_pt);
        assert_eq!(votes(&d), [true, false, true, false]);
        // Just entered the stuck state: not stalled however long peers have been unchanged.
        for peers_unchanged in 0..6 {
            assert_eq!(stalled(&d, peers_unchanged), none);
        }
        let peers_unchanged = 6;

        // Second update in the stuck state. The others have voted the same way for 11 updates
        // and are stalled (rippled: "voting NO for 11 rounds", support 2 %, 97 %, 3 %); the
        // proposing yes-voter changed one update ago.
        assert_eq!(update(&mut d, 250), none);
        assert_eq!(votes(&d), [true, false, true, false]);
        assert_eq!(d[PF].current_vote_counter, 11);
        assert_eq!(stalled(&d, 0), [false, true, true, true]);
        assert_eq!(stalled(&d, peers_unchanged), [false, true, true, true]);
        // Two and three updates after its flip: stalled only if peers are unchanged.
        for i in 1..3 {
            assert_eq!(update(&mut d, 250 + 10 * i), none);
            assert_eq!(d[PT].current_vote_counter, 1 + i as u32);
            assert_eq!(d[PF].current_vote_counter, 11 + i as u32);
            assert_eq!(stalled(&d, 0), [false, true, true, true]);
            assert_eq!(stalled(&d, peers_unchanged), [true; 4]);
        }
        // Four updates: its own vote is settled, stalled regardless of peers.
        for i in 3..5 {
            assert_eq!(update(&mut d, 250 + 10 * i), none);
            assert_eq!(d[PT].current_vote_counter, 1 + i as u32);
            assert_eq!(stalled(&d, 0), [true; 4]);
            assert_eq!(stalled(&d, peers_unchanged), [true; 4]);
        }
    }

    /// A dispute where we vote yes with `weight()` exactly `w`: of 100 votes counting ours,
    /// `w` are yes.
    fn yes_dispute_with_weight(w: u32) -> Dispute {
        let mut d = Dispute::new(tx(), true, Time(0));
        for i in 0..99 {
            d.set_vote(peer(i), i + 1 < w, Time(0));
        }
        assert_eq!(d.weight(), i64::from(w));
        d
    }

    /// rippled `DisputedTx::updateVote`: a proposer keeps its yes only while the weight is
    /// strictly above the state's `consensusPct` (50, 65, 70, 95).
    #[test]
    fn a_vote_needs_more_than_each_cutoffs_weight() {
        let p = ConsensusParams::mainnet();
        use AvalancheState::*;
        for (state, needed) in [(Init, 50), (Mid, 65), (Late, 70), (Stuck, 95)] {
            // At the state's own start time and first update in it: no advance.
            let pct = p.cutoff(state).time_pct;
            let mut at = yes_dispute_with_weight(needed);
            at.avalanche = state;
            assert!(
                at.update_vote(pct, true, &p, Time(1)),
                "{} {needed}",
                state.name()
            );
            assert!(!at.our_vote());
            let mut above = yes_dispute_with_weight(needed + 1);
            above.avalanche = state;
            assert!(!above.update_vote(pct, true, &p, Time(1)));
            assert!(above.our_vote());
            assert_eq!(above.avalanche(), state);
        }
    }

    /// rippled `avalancheCutoffs` times, one percent either side, on a vote whose weight lies
    /// between the two states' requirements: at 84 % of the previous round time a 68 % yes
    /// still passes (65 % needed), at 85 % it fails (70 % needed); likewise 60 % at 49/50 %
    /// (50 -> 65 % needed) and 80 % at 199/200 % (70 -> 95 % needed).
    #[test]
    fn each_cutoff_time_decides_the_needed_weight() {
        let p = ConsensusParams::mainnet();
        use AvalancheState::*;
        for (from, to, time, weight) in [
            (Init, Mid, 50, 60),
            (Mid, Late, 85, 68),
            (Late, Stuck, 200, 80),
        ] {
            let case = format!("{} -> {} at {time} %", from.name(), to.name());
            // Second update in the state, so only the time holds it back.
            let mut before = yes_dispute_with_weight(weight);
            before.avalanche = from;
            before.avalanche_counter = 1;
            assert!(!before.update_vote(time - 1, true, &p, Time(1)), "{case}");
            assert_eq!(before.avalanche(), from, "{case}");
            assert!(before.our_vote(), "{case}");
            let mut at = yes_dispute_with_weight(weight);
            at.avalanche = from;
            at.avalanche_counter = 1;
            assert!(at.update_vote(time, true, &p, Time(1)), "{case}");
            assert_eq!(at.avalanche(), to, "{case}");
            assert!(!at.our_vote(), "{case}");
        }
    }

    /// rippled `avMIN_ROUNDS` is 2 and `getNeededWeight` moves one state per update: at 500 %
    /// of the previous round time, a dispute reaches stuck on its sixth update, two per state.
    #[test]
    fn a_dispute_advances_one_state_every_second_update() {
        let p = ConsensusParams::mainnet();
        use AvalancheState::*;
        let mut d = yes_dispute_with_weight(99);
        let states: Vec<AvalancheState> = (0..7)
            .map(|t| {
                d.update_vote(500, true, &p, Time(t));
                d.avalanche()
            })
            .collect();
        assert_eq!(states, vec![Init, Mid, Mid, Late, Late, Stuck, Stuck]);
        assert!(d.our_vote());
    }

    /// A dispute in the stuck state for `av_min_rounds` updates, voting yes with weight `w`,
    /// our vote unchanged for `vote_rounds` updates.
    fn stuck_dispute(w: u32, vote_rounds: u32) -> Dispute {
        let mut d = yes_dispute_with_weight(w);
        d.avalanche = AvalancheState::Stuck;
        d.avalanche_counter = 2;
        d.current_vote_counter = vote_rounds;
        d
    }

    /// rippled `avSTALLED_ROUNDS` is 4: a proposer's settled vote (at least `avMIN_ROUNDS`
    /// updates old) is stalled once peers were unchanged for 4 rounds, or once its own vote is
    /// 4 updates old, whichever comes first (`DisputedTx::stalled`).
    #[test]
    fn stalled_after_four_unchanged_rounds() {
        let p = ConsensusParams::mainnet();
        let d = stuck_dispute(90, 2);
        assert!(!d.stalled(&p, true, 3));
        assert!(d.stalled(&p, true, 4));
        assert!(!stuck_dispute(90, 3).stalled(&p, true, 0));
        assert!(stuck_dispute(90, 4).stalled(&p, true, 0));
    }

    /// rippled `avMIN_ROUNDS` is 2 in `DisputedTx::stalled` too: two updates in the stuck state,
    /// and (proposing) our vote two updates old, however long peers have been unchanged.
    #[test]
    fn stalled_waits_two_updates() {
        let p = ConsensusParams::mainnet();
        let mut d = stuck_dispute(90, 10);
        d.avalanche_counter = 1;
        assert!(!d.stalled(&p, true, 10));
        d.avalanche_counter = 2;
        assert!(d.stalled(&p, true, 10));
        assert!(!stuck_dispute(90, 1).stalled(&p, true, 10));
        assert!(stuck_dispute(90, 2).stalled(&p, true, 10));
    }

    /// rippled `DisputedTx::stalled`: support beyond `minCONSENSUS_PCT` (80) either way, strictly:
    /// 81 % or 19 % stalls, 80 % and 20 % do not.
    #[test]
    fn stalled_needs_more_than_80_percent_either_way() {
        let p = ConsensusParams::mainnet();
        for (w, want) in [
            (81, true),
            (80, false),
            (50, false),
            (20, false),
            (19, true),
        ] {
            assert_eq!(stuck_dispute(w, 10).stalled(&p, true, 10), want, "{w} %");
        }
    }

    /// rippled's init cutoff starts at 0 % and every later one later still, so a dispute in any
    /// state but stuck has room to change and is never stalled, however lopsided and old
    /// (`DisputedTx::stalled` compares the next cutoff's time with the current one's).
    #[test]
    fn only_stuck_disputes_stall() {
        let p = ConsensusParams::mainnet();
        use AvalancheState::*;
        for state in [Init, Mid, Late] {
            let mut d = stuck_dispute(99, 10);
            d.avalanche = state;
            d.avalanche_counter = 10;
            assert!(!d.stalled(&p, true, 10), "{}", state.name());
            assert!(!d.stalled(&p, false, 10), "{}", state.name());
        }
        // Ten updates early in the round keep a dispute in init: not stalled.
        let mut early = yes_dispute_with_weight(99);
        for t in 0..10 {
            early.update_vote(10, true, &p, Time(t));
        }
        assert_eq!(early.avalanche(), Init);
        assert!(!early.stalled(&p, true, 10));
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
