//! Staying on the network's ledger: validations, full validation, the preferred ledger,
//! wrong-ledger recovery and acquiring ledgers (rippled `checkLedger`, `handleWrongLedger`,
//! `Validations::getPreferred`, `LedgerMaster::checkAccept`).

use std::sync::Arc;

use super::{Engine, Event, KEEP_LEDGERS, Mode, Output};
use crate::consensus::hash::Hash256;
use crate::consensus::ledger::Ledger;
use crate::consensus::preferred::preferred_ledger;
use crate::consensus::refusal::{Refusal, Verdict};
use crate::consensus::validation::VerifiedValidation;
use crate::consensus::validations::AddOutcome;

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
        let p = &self.cfg.params;
        let current = val.sign_time > self.now.plus(-p.validation_valid_early_ms)
            && val.sign_time < self.now.plus(p.validation_valid_wall_ms);
        if !current {
            self.peers
                .refuse(val.node, trusted, Refusal::StaleValidation);
            return Verdict::Refused(Refusal::StaleValidation);
        }
        if !trusted {
            self.peers.refuse(val.node, false, Refusal::Untrusted);
            return Verdict::Refused(Refusal::Untrusted);
        }
        let why = match self.validations.add(&val, self.now) {
            AddOutcome::New { count } => {
                self.counters.validations_accepted += 1;
                if val.full
                    && val.seq > self.fully_validated.seq()
                    && !self.ledgers.contains(&val.ledger)
                {
                    self.want_ledger_soon(val.ledger, val.seq);
                }
                if count >= self.validations.quorum() {
                    self.check_fully_validated();
                }
                return Verdict::Accepted;
            }
            AddOutcome::Duplicate => Refusal::Duplicate,
            AddOutcome::Equivocation => {
                self.peers.note_equivocation(val.node, true);
                self.emit(Output::Event(Event::Equivocation(val.node)));
                Refusal::Equivocation
            }
            AddOutcome::Old => Refusal::OldValidation,
        };
        self.peers.refuse(val.node, true, why);
        Verdict::Refused(why)
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
        let floor = self.fully_validated.seq().saturating_sub(KEEP_LEDGERS);
        if floor > 0 {
            self.ledgers.prune_below(floor.min(self.lcl.seq()));
            self.validations.prune_below(floor);
        }
    }

    /// The ledger the trusted validations prefer as the one to build on (rippled
    /// `Validations::getPreferred(curr)`); our last closed ledger when they say nothing.
    pub(super) fn preferred_prev_ledger(&mut self) -> Hash256 {
        let max_age = self.cfg.params.validation_valid_local_ms;
        let fv_seq = self.fully_validated.seq();
        let latest = self.validations.tips(self.now, max_age);
        let unknown: Vec<(u32, Hash256)> = latest
            .iter()
            .filter(|(_, s, h)| *s > fv_seq && !self.ledgers.contains(h))
            .map(|(_, s, h)| (*s, *h))
            .collect();
        for (s, h) in unknown {
            self.want_ledger_soon(h, s);
        }
        // A validator whose latest ledger we lack still supports the branch of its latest
        // ledger we have: without this, a branch whose tips are one ledger ahead of us would
        // count for nothing and we could flip back to a minority branch.
        let ledgers = &self.ledgers;
        let tips: Vec<(u32, Hash256)> = self
            .validations
            .tips_known(self.now, max_age, |h| ledgers.contains(h))
            .into_iter()
            .map(|(_, s, h)| (s, h))
            .collect();
        let curr = self.lcl.clone();
        let Some((seq, hash)) = preferred_ledger(
            &self.ledgers,
            &self.fully_validated,
            &tips,
            self.largest_validated_seq,
        ) else {
            return curr.hash();
        };
        if seq == curr.seq() + 1 && self.ledgers.get(&hash).map(|l| l.parent()) == Some(curr.hash())
        {
            return curr.hash(); // we may be about to build it ourselves
        }
        if seq > curr.seq() {
            return hash;
        }
        if self.ledgers.ancestor_at(&curr, seq) != Some(hash) {
            return hash;
        }
        curr.hash()
    }

    /// rippled `checkLedger`.
    pub(super) fn check_ledger(&mut self) {
        let net = self.preferred_prev_ledger();
        if net != self.prev_ledger_id || self.lcl.hash() != self.prev_ledger_id {
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
                self.start_round_internal(ledger_id, l, Mode::SwitchedLedger);
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

    /// Trusted validators (other than us) whose latest validation is for a ledger after our
    /// last closed one (rippled `proposersFinished` / `getNodesAfter`).
    pub(super) fn proposers_finished(&self) -> usize {
        let lcl = &self.lcl;
        self.validations
            .tips(self.now, self.cfg.params.validation_valid_local_ms)
            .into_iter()
            .filter(|(node, seq, hash)| {
                *node != self.our_id
                    && *seq > lcl.seq()
                    && self
                        .ledgers
                        .get(hash)
                        .is_some_and(|l| self.ledgers.ancestor_at(l, lcl.seq()) == Some(lcl.hash()))
            })
            .count()
    }
}
