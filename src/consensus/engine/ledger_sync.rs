//! Staying on the network's ledger: validations, full validation, the preferred ledger,
//! wrong-ledger recovery and acquiring ledgers (rippled `checkLedger`, `handleWrongLedger`,
//! `Validations::getPreferred`, `LedgerMaster::checkAccept`).

use std::sync::Arc;

use super::io::Message;
use super::{Engine, Event, KEEP_LEDGERS, Mode, Output};
use crate::consensus::hash::Hash256;
use crate::consensus::ledger::Ledger;
use crate::consensus::ledger::Seq;
use crate::consensus::refusal::{Refusal, Verdict};
use crate::consensus::validation::{Validation, VerifiedValidation};
use crate::consensus::validations::{Added, ValStatus};

/// Give up on a ledger nobody serves after this many retry intervals.
const LEDGER_GIVE_UP_RETRIES: i64 = 60;

impl Engine {
    /// A peer's validation.
    pub(super) fn peer_validation(&mut self, v: VerifiedValidation) -> Verdict {
        let val = v.validation().clone();
        if self.cfg.validating && val.node == self.our_id {
            return Verdict::Refused(Refusal::OwnMessage);
        }
        let trusted = self.validations.trusts(&val.node);
        self.peers
            .note_validation(val.node, trusted, val.seq, val.ledger, self.now);
        if !trusted {
            self.peers.refuse(val.node, false, Refusal::Untrusted);
            return Verdict::Refused(Refusal::Untrusted);
        }
        let added = self.add_validation(&val);
        let why = match added.status {
            ValStatus::Current => {
                self.counters.validations_accepted += 1;
                if let Some((seq, hash)) = added.acquire {
                    self.want_ledger_soon(hash, seq);
                }
                if val.full
                    && val.seq > self.fully_validated.seq()
                    && !self.ledgers.contains(&val.ledger)
                {
                    self.want_ledger_soon(val.ledger, val.seq);
                }
                if added.full_count >= self.validations.quorum() {
                    self.check_fully_validated();
                }
                return Verdict::Accepted;
            }
            ValStatus::Stale => Refusal::StaleValidation,
            ValStatus::BadSeq => Refusal::BadSeq,
            ValStatus::Duplicate => Refusal::Duplicate,
            ValStatus::Old => Refusal::OldValidation,
            ValStatus::Conflicting => {
                self.peers.note_equivocation(val.node, true);
                self.emit(Output::Event(Event::Equivocation(val.node)));
                Refusal::Equivocation
            }
        };
        self.peers.refuse(val.node, true, why);
        Verdict::Refused(why)
    }

    /// Offers a validation (a peer's or our own) to the tracker.
    pub(super) fn add_validation(&mut self, val: &Validation) -> Added {
        let (now, net) = (self.now, self.net_now());
        let (ledgers, cache) = (&self.ledgers, &mut self.ancestry);
        let mut acquired = |h: &Hash256| Engine::ancestry_of(ledgers, cache, h);
        self.validations.add(val, now, net, &mut acquired)
    }

    /// rippled `checkAccept`: the highest ledger with a quorum of validations becomes fully
    /// validated (and with it every ancestor).
    pub(super) fn check_fully_validated(&mut self) {
        for (seq, hash) in self
            .validations
            .quorum_ledgers_above(self.fully_validated.seq())
        {
            match self.ledgers.get(&hash).cloned() {
                Some(l) => {
                    self.set_fully_validated(l);
                    return;
                }
                None => self.want_ledger_soon(hash, seq),
            }
        }
    }

    fn set_fully_validated(&mut self, ledger: Arc<Ledger>) {
        let old = self.fully_validated.clone();
        if ledger.seq() <= old.seq() {
            return;
        }
        let (chain, complete) = self.ledgers.chain_back(&ledger, old.seq());
        if !complete {
            let gap = ledger.seq() - old.seq();
            if let Some(earliest) = chain.last() {
                let parent = earliest.parent();
                self.want_ledger(parent);
            }
            if gap <= KEEP_LEDGERS {
                return; // wait for the missing ancestors, then report every ledger in order
            }
        } else if chain.last().map(|l| l.parent()) != Some(old.hash()) {
            self.counters.forks_detected += 1;
            self.emit(Output::Event(Event::ForkDetected {
                ours: old.hash(),
                theirs: ledger.hash(),
            }));
        }
        for l in chain.iter().rev() {
            self.pending.validated(l.txs().ids());
            self.emit(Output::LedgerFullyValidated(l.clone()));
        }
        self.fully_validated = ledger;
        self.validated_at = self.now;
        let floor = self.fully_validated.seq().saturating_sub(KEEP_LEDGERS);
        if floor > 0 {
            self.ledgers.prune_below(floor.min(self.lcl.seq()));
            self.validations.prune_below(floor);
            let ledgers = &self.ledgers;
            self.ancestry.retain(|h, _| ledgers.contains(h));
        }
    }

    /// The ledger to build on, as rippled's `Validations::getPreferred(curr, minValidSeq)`
    /// chooses it with our last closed ledger as `curr` and our fully validated sequence as
    /// the minimum: the trie's preferred ledger (or, with an empty trie, the ledger most
    /// validators wait for), except that we keep `curr` when the preferred ledger is its child
    /// (we may be about to build it) or an earlier ledger on our own chain.
    pub(super) fn preferred_prev_ledger(&mut self) -> Hash256 {
        let curr = self.lcl.clone();
        let (now, net, largest) = (self.now, self.net_now(), self.largest_validated_seq);
        let stalled = self.stalled();
        let preferred = {
            let (ledgers, cache) = (&self.ledgers, &mut self.ancestry);
            let mut acquired = |h: &Hash256| Engine::ancestry_of(ledgers, cache, h);
            if stalled {
                self.validations
                    .heaviest(now, net, &mut acquired)
                    .map(|tip| (tip.seq, tip.id, Some(tip)))
            } else {
                self.validations.preferred(now, net, largest, &mut acquired)
            }
        };
        let awaited: Vec<(Seq, Hash256)> = self.validations.awaited().copied().collect();
        for (seq, hash) in awaited {
            self.want_ledger_soon(hash, seq);
        }
        let Some((seq, hash, tip)) = preferred else {
            return curr.hash();
        };
        let (seq, hash) = match tip {
            // The acquiring fallback is taken as it is.
            None => (seq, hash),
            Some(tip) => {
                if seq == curr.seq() + 1 && tip.ancestor(curr.seq()) == Some(curr.hash()) {
                    (curr.seq(), curr.hash())
                } else if seq > curr.seq() || self.ledgers.ancestor_at(&curr, seq) != Some(hash) {
                    (seq, hash)
                } else {
                    (curr.seq(), curr.hash())
                }
            }
        };
        if seq >= self.fully_validated.seq() {
            hash
        } else {
            curr.hash()
        }
    }

    /// Whether nothing has been fully validated for [`ConsensusParams::stall_recovery_ms`]:
    /// the preferred ledger is then the heaviest branch's tip.
    ///
    /// [`ConsensusParams::stall_recovery_ms`]: crate::consensus::ConsensusParams::stall_recovery_ms
    pub fn stalled(&self) -> bool {
        self.started && self.now.since(self.validated_at) > self.cfg.params.stall_recovery_ms
    }

    /// While stalled, re-send our latest validation once per
    /// [`ConsensusParams::stall_recovery_ms`]. Gossip does not repeat messages lost while a
    /// partition lasted, so after it heals two nodes may hold different latest validations for
    /// a validator that stopped validating (one that keeps switching to catch up signs
    /// nothing); the heaviest branch, which every node must compute alike to leave a stall,
    /// then differs between them. Receivers that already hold it count a duplicate. A cpeers
    /// addition (README, differences from rippled).
    ///
    /// [`ConsensusParams::stall_recovery_ms`]: crate::consensus::ConsensusParams::stall_recovery_ms
    pub(super) fn resend_validation_if_stalled(&mut self) {
        if !self.stalled() {
            return;
        }
        let every = self.cfg.params.stall_recovery_ms;
        if let Some((v, sent)) = &mut self.last_own_validation
            && self.now.since(*sent) >= every
        {
            *sent = self.now;
            let v = v.clone();
            self.emit(Output::Broadcast(Message::Validation(v)));
        }
    }

    /// rippled `checkLedger` (with `getPrevLedger`'s view change).
    pub(super) fn check_ledger(&mut self) {
        let net = self.preferred_prev_ledger();
        if net != self.prev_ledger_id {
            if self.mode != Mode::WrongLedger {
                self.consensus_view_change(&net);
            }
            self.handle_wrong_ledger(net);
        } else if self.lcl.hash() != self.prev_ledger_id {
            self.handle_wrong_ledger(net);
        }
    }

    /// rippled `handleWrongLedger`.
    fn handle_wrong_ledger(&mut self, ledger_id: Hash256) {
        self.leave_consensus();
        if self.prev_ledger_id != ledger_id {
            self.prev_ledger_id = ledger_id;
            if let Some(r) = self.result.as_mut() {
                r.disputes.clear();
                r.compares.clear();
                r.membership.clear();
            }
            self.peers.new_round();
            self.raw_close_times.peers.clear();
            self.playback_proposals();
        }
        if self.lcl.hash() == self.prev_ledger_id {
            return;
        }
        match self.ledgers.get(&self.prev_ledger_id).cloned() {
            Some(l) => {
                self.emit(Output::LedgerSwitched {
                    from: self.lcl.hash(),
                    to: l.clone(),
                });
                self.counters.switches += 1;
                // Stalled and still FULL (a switch does not demote then): keep proposing.
                let mode = if self.stalled() && self.may_propose() {
                    Mode::Proposing
                } else {
                    Mode::SwitchedLedger
                };
                self.start_round_internal(ledger_id, l, mode);
            }
            None => {
                self.set_mode(Mode::WrongLedger);
                let id = self.prev_ledger_id;
                self.want_ledger(id);
            }
        }
    }

    /// Asks for a validated ledger we lack — at once, unless it is the next ledger, which we
    /// are usually building ourselves (peers' validations often arrive a moment before our own
    /// accept): that one is fetched only if we still lack it a little later.
    pub(super) fn want_ledger_soon(&mut self, hash: Hash256, seq: crate::consensus::ledger::Seq) {
        const MAX_SOON: usize = 1024;
        if self.ledgers.contains(&hash) {
            return;
        }
        if seq != self.lcl.seq() + 1 {
            self.want_ledger(hash);
        } else if self.soon.len() < MAX_SOON {
            self.soon.entry(hash).or_insert(self.now);
        }
    }

    /// Asks for a ledger (and its ancestors above our fully validated one) unless we have it
    /// or already asked.
    pub(super) fn want_ledger(&mut self, hash: Hash256) {
        if self.ledgers.contains(&hash) || self.wanted_ledgers.contains_key(&hash) {
            return;
        }
        self.wanted_ledgers.insert(hash, (self.now, self.now));
        self.emit(Output::AcquireLedger {
            hash,
            back_to: self.fully_validated.seq(),
        });
    }

    /// Re-asks for ledgers still missing; gives up on ones nobody served for a minute.
    pub(super) fn retry_ledgers(&mut self) {
        let now = self.now;
        let wait = 2 * self.cfg.params.ledger_granularity_ms;
        let due: Vec<Hash256> = self
            .soon
            .iter()
            .filter(|(h, first)| !self.ledgers.contains(h) && now.since(**first) >= wait)
            .map(|(h, _)| *h)
            .collect();
        let ledgers = &self.ledgers;
        self.soon
            .retain(|h, first| !ledgers.contains(h) && now.since(*first) < wait);
        for h in due {
            self.want_ledger(h);
        }
        let retry = self.cfg.params.acquire_retry_ms;
        let give_up = retry * LEDGER_GIVE_UP_RETRIES;
        self.wanted_ledgers
            .retain(|_, (first, _)| now.since(*first) <= give_up);
        let mut due = Vec::new();
        for (hash, (_, last)) in self.wanted_ledgers.iter_mut() {
            if now.since(*last) >= retry {
                *last = now;
                due.push(*hash);
            }
        }
        let back_to = self.fully_validated.seq();
        for hash in due {
            self.emit(Output::AcquireLedger { hash, back_to });
        }
    }

    /// A ledger arrived (one we asked for, or an ancestor of one).
    pub(super) fn ledger_arrived(&mut self, ledger: Arc<Ledger>) -> Verdict {
        let hash = ledger.hash();
        if self.ledgers.contains(&hash) {
            return Verdict::Refused(Refusal::Duplicate);
        }
        if self.wanted_ledgers.remove(&hash).is_none() {
            return Verdict::Refused(Refusal::Unrequested);
        }
        let parent = ledger.parent();
        let fv_seq = self.fully_validated.seq();
        self.ledgers.insert(ledger.clone());
        self.remember_set(ledger.txs());
        if ledger.seq() > fv_seq + 1 && !self.ledgers.contains(&parent) {
            // Its ancestors usually follow in the same response; accept them when they come.
            self.wanted_ledgers
                .entry(parent)
                .or_insert((self.now, self.now));
        }
        self.check_fully_validated();
        Verdict::Accepted
    }

    /// rippled `proposersFinished` / `getNodesAfter`: trusted validators (partial or full, us
    /// included) whose latest validated ledger in the trie descends from the ledger this round
    /// builds on.
    pub(super) fn proposers_finished(&mut self) -> usize {
        let net = self.net_now();
        if self.lcl.hash() == self.prev_ledger_id {
            let lcl = self.lcl.hash();
            let (ledgers, cache) = (&self.ledgers, &mut self.ancestry);
            match Engine::ancestry_of(ledgers, cache, &lcl) {
                Some(a) => self.validations.nodes_after(self.now, net, &a),
                None => 0,
            }
        } else {
            self.validations.children_of(&self.prev_ledger_id)
        }
    }
}
