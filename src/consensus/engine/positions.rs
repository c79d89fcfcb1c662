//! Our position during the establish phase: re-voting disputes, close-time agreement, the
//! consensus check, pausing for laggards, proposing and bowing out (rippled
//! `updateOurPositions`, `haveConsensus`, `shouldPause`, `leaveConsensus`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::io::Message;
use super::{Engine, Event, Mode, Output};
use crate::consensus::avalanche::needed_weight;
use crate::consensus::close_time::{participants_needed, round_close_time};
use crate::consensus::dispute::Voter;
use crate::consensus::hash::Hash256;
use crate::consensus::keys::NodeId;
use crate::consensus::proposal::{SEQ_LEAVE, VerifiedProposal};
use crate::consensus::rules::{
    CheckInputs, ConsensusState, PauseInputs, check_consensus, should_pause,
};
use crate::consensus::time::Time;
use crate::consensus::txset::TxSet;

impl Engine {
    /// rippled `updateOurPositions`.
    pub(super) fn update_our_positions(&mut self) {
        let p = self.cfg.params.clone();
        let now = self.now;
        let peer_cutoff = now.plus(-p.propose_freshness_ms);
        let our_cutoff = now.plus(-p.propose_interval_ms);
        let proposing = self.mode == Mode::Proposing;

        // Drop stale peer positions and un-vote them.
        for node in self.peers.remove_stale(peer_cutoff) {
            if let Some(r) = self.result.as_mut() {
                for d in r.disputes.values_mut() {
                    d.unvote(&node);
                }
            }
            self.emit(Output::Event(Event::PositionStale(node)));
        }
        let resolution = self.close_resolution_ms;
        let mut close_time_votes: BTreeMap<Time, i64> = BTreeMap::new();
        for pos in self.peers.current().values() {
            *close_time_votes
                .entry(round_close_time(pos.get().close_time, resolution))
                .or_default() += 1;
        }

        // Re-vote every dispute; the needed weight rises with the round's age.
        let converge = self.converge_percent;
        let mut add = Vec::new();
        let mut remove = Vec::new();
        let mut flips = Vec::new();
        {
            let r = self
                .result
                .as_mut()
                .expect("establish phase has a position");
            for (id, d) in r.disputes.iter_mut() {
                if d.update_vote(converge, proposing, &p, now) {
                    flips.push((*id, d.our_vote()));
                    if d.our_vote() {
                        add.push(d.tx().clone());
                    } else {
                        remove.push(*id);
                    }
                }
            }
        }
        for (tx, yes) in flips {
            self.emit(Output::Event(Event::VoteChanged {
                tx,
                voter: Voter::Us,
                yes,
            }));
        }
        let r = self
            .result
            .as_ref()
            .expect("establish phase has a position");
        let mut new_set: Option<TxSet> =
            (!add.is_empty() || !remove.is_empty()).then(|| r.txns.edited(add, &remove));

        // Close time: the most popular rounded time that has enough votes.
        let our_close = round_close_time(r.position.close_time, resolution);
        let mut consensus_close = Time::ZERO;
        self.have_close_time_consensus = false;
        if self.peers.current().is_empty() {
            self.have_close_time_consensus = true;
            consensus_close = our_close;
        } else {
            let (needed, next) = needed_weight(&p, self.close_time_avalanche, converge, 0, 0);
            if let Some(next) = next {
                self.close_time_avalanche = next;
            }
            let mut participants = self.peers.current().len() as i64;
            if proposing {
                *close_time_votes.entry(our_close).or_default() += 1;
                participants += 1;
            }
            let mut thresh_vote = participants_needed(participants, needed);
            let thresh_consensus = participants_needed(participants, p.av_ct_consensus_pct);
            for (&t, &votes) in &close_time_votes {
                if votes >= thresh_vote {
                    consensus_close = t;
                    thresh_vote = votes;
                    if thresh_vote >= thresh_consensus {
                        self.have_close_time_consensus = true;
                    }
                }
            }
        }

        let r = self
            .result
            .as_ref()
            .expect("establish phase has a position");
        if new_set.is_none() && (consensus_close != our_close || r.position_time <= our_cutoff) {
            // Close time moved, or our position is old enough to restate.
            new_set = Some((*r.txns).clone());
        }
        if let Some(set) = new_set {
            self.change_position(Arc::new(set), consensus_close);
        }
    }

    /// Adopts `txns` and `close_time` as our position: next proposal seq, disputes refreshed
    /// against peers holding the new set, broadcast when proposing.
    pub(super) fn change_position(&mut self, txns: Arc<TxSet>, close_time: Time) {
        let now = self.now;
        let new_id = txns.id();
        {
            let r = self.result.as_mut().expect("changing position needs one");
            r.txns = txns.clone();
            r.position.position = new_id;
            r.position.close_time = close_time;
            r.position_time = now;
            if r.position.seq != SEQ_LEAVE {
                r.position.seq += 1;
            }
        }
        self.remember_set(&txns);
        if let std::collections::btree_map::Entry::Vacant(e) = self.acquired.entry(new_id) {
            e.insert(txns.clone());
            let holders: Vec<NodeId> = self
                .peers
                .current()
                .iter()
                .filter(|(_, p)| p.get().position == new_id)
                .map(|(id, _)| *id)
                .collect();
            for node in holders {
                self.update_disputes(node, &txns);
            }
        }
        self.note_position_event();
        let bowed_out = self
            .result
            .as_ref()
            .is_some_and(|r| r.position.is_bow_out());
        if !bowed_out && self.mode == Mode::Proposing {
            self.propose();
        }
    }

    pub(super) fn note_position_event(&mut self) {
        if let Some(r) = &self.result {
            let ev = Event::PositionChanged {
                seq: r.position.seq,
                position: r.position.position,
                close_time: r.position.close_time,
                txs: r.txns.len(),
            };
            self.emit(Output::Event(ev));
        }
    }

    /// Signs and broadcasts our current position.
    pub(super) fn propose(&mut self) {
        let (Some(key), Some(r)) = (&self.key, &self.result) else {
            return;
        };
        let signed = r.position.clone().sign(key, self.cfg.network_id);
        let own = VerifiedProposal::own(signed);
        self.emit(Output::Broadcast(Message::Proposal(own.signed().clone())));
    }

    /// Agreement with our position: (agree, disagree) among current peer positions.
    pub(super) fn agreement(&self) -> (usize, usize) {
        let ours = self
            .result
            .as_ref()
            .map(|r| r.position.position)
            .unwrap_or(Hash256::ZERO);
        let agree = self
            .peers
            .current()
            .values()
            .filter(|p| p.get().position == ours)
            .count();
        (agree, self.peers.current().len() - agree)
    }

    /// rippled `haveConsensus`.
    pub(super) fn have_consensus(&mut self) -> bool {
        let (agree, disagree) = self.agreement();
        let finished = self.proposers_finished();
        let p = &self.cfg.params;
        let proposing = self.mode == Mode::Proposing;
        let r = self
            .result
            .as_ref()
            .expect("checking consensus needs a position");
        // Stalled only when there *are* disputes and all of them are stuck: rippled's
        // `all_of` over an empty dispute map declared a round without disputes stalled, i.e.
        // "consensus" while positions were still arriving (rippled #5627 / #5658).
        let stalled = self.have_close_time_consensus
            && !r.disputes.is_empty()
            && r.disputes
                .values()
                .all(|d| d.stalled(p, proposing, self.peer_unchanged_counter));
        let state = check_consensus(
            &CheckInputs {
                prev_proposers: self.prev_proposers,
                cur_proposers: agree + disagree,
                cur_agree: agree,
                cur_finished: finished,
                prev_agree_ms: self.prev_round_ms,
                cur_agree_ms: r.round_ms,
                stalled,
                proposing,
            },
            p,
        );
        let total = agree + disagree + usize::from(proposing);
        let agree_pct = ((agree + usize::from(proposing)) * 100)
            .checked_div(total)
            .map_or(100, |v| v as i64);
        let round_ms = r.round_ms;
        self.last_check = Some((state, agree_pct));
        self.emit(Output::Event(Event::Progress {
            round_ms,
            converge_pct: self.converge_percent,
            agree_pct,
            state,
            stalled,
        }));
        if let Some(r) = self.result.as_mut() {
            r.state = state;
        }
        match state {
            ConsensusState::No => false,
            ConsensusState::Expired => {
                // Give every avalanche state its minimum rounds before giving up.
                let minimum = 4 * self.cfg.params.av_min_rounds;
                if self.establish_counter < minimum {
                    return false;
                }
                self.leave_consensus();
                true
            }
            ConsensusState::MovedOn | ConsensusState::Yes => true,
        }
    }

    /// rippled `shouldPause`: hold back when too many trusted validators lag behind us. Gathers
    /// the inputs here; the rule itself is [`should_pause`] in `rules.rs`.
    pub(super) fn should_pause(&mut self) -> bool {
        let p = &self.cfg.params;
        let round_ms = self.result.as_ref().map_or(0, |r| r.round_ms);
        let ahead = self.lcl.seq() - self.fully_validated.seq().min(self.lcl.seq());
        let total = self.validations.unl().len();
        let (laggards, offline) =
            self.validations
                .laggards(self.lcl.seq(), self.now, self.net_now());
        let have_validated = self.largest_validated_seq > 0;
        let inputs = PauseInputs {
            ahead,
            total,
            laggards,
            offline,
            quorum: self.validations.quorum(),
            validator: self.cfg.validating,
            have_validated,
            round_ms,
        };
        let pause = should_pause(&inputs, p);
        if pause {
            self.emit(Output::Event(Event::Paused { laggards, offline }));
        }
        pause
    }

    /// rippled `leaveConsensus`: bow out (if proposing) and observe.
    pub(super) fn leave_consensus(&mut self) {
        if self.mode == Mode::Proposing {
            let bow_out = self
                .result
                .as_ref()
                .is_some_and(|r| !r.position.is_bow_out());
            if bow_out {
                let now = self.now;
                if let Some(r) = self.result.as_mut() {
                    r.position.seq = SEQ_LEAVE;
                    r.position_time = now;
                }
                self.propose();
            }
            self.set_mode(Mode::Observing);
        }
    }
}
