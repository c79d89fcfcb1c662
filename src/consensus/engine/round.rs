//! The round's life cycle: start, the open phase, closing the ledger, the establish phase and
//! accepting (rippled `startRound`, `startRoundInternal`, `timerEntry`, `phaseOpen`,
//! `closeLedger`, `phaseEstablish`, `onAccept`).

use std::collections::HashSet;
use std::sync::Arc;

use super::{Engine, Event, Mode, Output, Phase, RawCloseTimes, RoundResult};
use crate::consensus::avalanche::AvalancheState;
use crate::consensus::close_time::{adjust_close_offset, eff_close_time, next_resolution};
use crate::consensus::hash::Hash256;
use crate::consensus::ledger::Ledger;
use crate::consensus::proposal::{Proposal, SEQ_JOIN};
use crate::consensus::rules::{CloseInputs, ConsensusState, should_close_ledger};
use crate::consensus::tx::{Tx, TxId};
use crate::consensus::txset::TxSet;
use crate::consensus::validation::{Validation, VerifiedValidation};

use super::io::{AcceptedLedger, Message};

impl Engine {
    /// rippled `startRound`: begin building on `prev_ledger_id`, acquiring it if `prev_ledger`
    /// is not it.
    pub(super) fn start_round(
        &mut self,
        prev_ledger_id: Hash256,
        prev_ledger: Arc<Ledger>,
        proposing: bool,
    ) {
        if self.first_round {
            self.prev_round_ms = self.cfg.params.ledger_idle_interval_ms;
            self.prev_close_time = prev_ledger.close_time();
            self.first_round = false;
        } else {
            self.prev_close_time = self.raw_close_times.ours;
        }
        self.peers.retain_trusted(self.validations.unl());
        let mut mode = if proposing {
            Mode::Proposing
        } else {
            Mode::Observing
        };
        let mut ledger = prev_ledger;
        if ledger.hash() != prev_ledger_id {
            match self.ledgers.get(&prev_ledger_id) {
                Some(l) => {
                    let l = l.clone();
                    self.emit(Output::LedgerSwitched {
                        from: ledger.hash(),
                        to: l.clone(),
                    });
                    self.counters.switches += 1;
                    ledger = l;
                }
                None => {
                    mode = Mode::WrongLedger;
                    self.want_ledger(prev_ledger_id);
                    // rippled `beginConsensus`: no previous ledger, so not FULL.
                    if self.server_state == super::ServerState::Full {
                        self.set_state(
                            super::ServerState::Tracking,
                            super::StateReason::MissingLedger,
                        );
                    }
                }
            }
        }
        self.start_round_internal(prev_ledger_id, ledger, mode);
    }

    /// rippled `startRoundInternal`.
    pub(super) fn start_round_internal(
        &mut self,
        prev_ledger_id: Hash256,
        ledger: Arc<Ledger>,
        mode: Mode,
    ) {
        let switched = ledger.hash() != self.lcl.hash();
        self.set_phase(Phase::Open);
        self.set_mode(mode);
        self.round_in_step = mode == Mode::Proposing;
        self.prev_ledger_id = prev_ledger_id;
        self.lcl = ledger;
        self.result = None;
        self.converge_percent = 0;
        self.close_time_avalanche = AvalancheState::Init;
        self.have_close_time_consensus = false;
        self.open_start = self.now;
        self.peers.new_round();
        self.acquired.clear();
        self.raw_close_times = RawCloseTimes::default();
        self.last_check = None;
        self.close_resolution_ms = next_resolution(
            &self.cfg.params,
            self.lcl.close_resolution_ms(),
            self.lcl.close_time_agreed(),
            self.lcl.seq() + 1,
        );
        self.prune_sets();
        self.emit(Output::Event(Event::RoundStarted {
            prev_ledger: self.prev_ledger_id,
            seq: self.lcl.seq() + 1,
        }));
        self.playback_proposals();
        if switched {
            // The previous round's proposer count was on the chain we left; the round we join
            // is the one its proposers are in now. Without this a node that jumps onto the
            // network's ledger waits for as many proposers as its own chain had (the 3/4
            // rule), and a small group running ahead is never caught (a cpeers rule, found by
            // the randomized healing sweep).
            self.prev_proposers = self.peers.current().len();
        }
        if self.peers.current().len() > self.prev_proposers / 2 {
            // We may be falling behind: consider closing at once rather than at the next tick.
            self.timer_entry();
        }
    }

    /// rippled `timerEntry`.
    pub(super) fn timer_entry(&mut self) {
        if self.phase == Phase::Accepted {
            return;
        }
        self.check_ledger();
        match self.phase {
            Phase::Open => self.phase_open(),
            Phase::Establish => self.phase_establish(),
            Phase::Accepted => {}
        }
    }

    /// Transaction ids already on our chain above the fully validated ledger: pending but not
    /// to be proposed again on top of that chain.
    fn chain_txs_since_validated(&self) -> HashSet<TxId> {
        let floor = self.fully_validated.seq().min(self.lcl.seq());
        let (chain, _) = self.ledgers.chain_back(&self.lcl, floor);
        chain
            .iter()
            .flat_map(|l| l.txs().ids().copied().collect::<Vec<_>>())
            .collect()
    }

    /// Pending transactions that our next position should hold.
    pub(super) fn proposable_txs(&self) -> Vec<Tx> {
        let in_chain = self.chain_txs_since_validated();
        self.pending
            .iter()
            .filter(|t| !in_chain.contains(&t.id()))
            .cloned()
            .collect()
    }

    fn has_open_txs(&self) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        let in_chain = self.chain_txs_since_validated();
        self.pending.iter().any(|t| !in_chain.contains(&t.id()))
    }

    /// rippled `phaseOpen`.
    fn phase_open(&mut self) {
        let p = &self.cfg.params;
        // rippled: the previous ledger's close time when it is trustworthy (not on the wrong
        // ledger, agreed, and not the agree-to-disagree "parent + 1 step"); otherwise the time
        // we saw ourselves.
        let parent_close = self.ledgers.get(&self.lcl.parent()).map(|l| l.close_time());
        let previous_close_correct = self.mode != Mode::WrongLedger
            && self.lcl.close_time_agreed()
            && parent_close.is_none_or(|t| self.lcl.close_time() != t.plus(p.close_time_step_ms));
        let last_close = if previous_close_correct {
            self.lcl.close_time()
        } else {
            self.prev_close_time
        };
        let net_now = self.net_now();
        let inputs = CloseInputs {
            any_transactions: self.has_open_txs(),
            prev_proposers: self.prev_proposers,
            proposers_closed: self.peers.current().len(),
            proposers_validated: self.validations.count_for(&self.prev_ledger_id),
            prev_round_ms: self.prev_round_ms,
            since_prev_close_ms: net_now.since(last_close),
            open_ms: self.now.since(self.open_start),
            idle_interval_ms: p
                .ledger_idle_interval_ms
                .max(2 * self.lcl.close_resolution_ms()),
        };
        if should_close_ledger(&inputs, p) {
            self.close_ledger();
        }
    }

    /// rippled `closeLedger`: take our initial position.
    fn close_ledger(&mut self) {
        self.set_phase(Phase::Establish);
        let close_time = self.net_now();
        self.raw_close_times.ours = close_time;
        self.peer_unchanged_counter = 0;
        self.establish_counter = 0;
        let txns = Arc::new(TxSet::new(self.proposable_txs()));
        let position = Proposal {
            prev_ledger: self.lcl.hash(),
            position: txns.id(),
            close_time,
            seq: SEQ_JOIN,
            node: self.our_id,
        };
        self.result = Some(RoundResult {
            txns: txns.clone(),
            position,
            position_time: self.now,
            disputes: Default::default(),
            compares: Default::default(),
            membership: Default::default(),
            round_start: self.now,
            round_ms: 0,
            state: ConsensusState::No,
            proposers: 0,
        });
        self.remember_set(&txns);
        self.acquired.insert(txns.id(), txns.clone());
        self.note_position_event();
        if self.mode == Mode::Proposing {
            self.propose();
        }
        let sets: Vec<Arc<TxSet>> = self
            .peers
            .current()
            .values()
            .filter_map(|p| self.acquired.get(&p.get().position).cloned())
            .collect();
        for set in sets {
            self.create_disputes(&set);
        }
    }

    /// rippled `phaseEstablish`.
    fn phase_establish(&mut self) {
        self.peer_unchanged_counter += 1;
        self.establish_counter += 1;
        let now = self.now;
        let proposers = self.peers.current().len();
        let round_ms = {
            let r = self
                .result
                .as_mut()
                .expect("establish phase has a position");
            r.round_ms = now.since(r.round_start);
            r.proposers = proposers;
            r.round_ms
        };
        let p = &self.cfg.params;
        self.converge_percent = round_ms * 100 / self.prev_round_ms.max(p.av_min_consensus_time_ms);
        if round_ms < p.ledger_min_consensus_ms {
            return;
        }
        self.update_our_positions();
        if self.should_pause() || !self.have_consensus() {
            return;
        }
        if !self.have_close_time_consensus {
            return;
        }
        self.prev_proposers = self.peers.current().len();
        self.prev_round_ms = round_ms;
        if let Some(r) = self.result.as_mut() {
            // Positions that went stale during this update no longer count as proposers.
            r.proposers = self.prev_proposers;
        }
        // rippled `updateOperatingMode`: nobody else proposed on this ledger.
        if self.peers.current().is_empty()
            && self.server_state == super::ServerState::Full
            && !self.alone()
        {
            self.set_state(
                super::ServerState::Connected,
                super::StateReason::NoPeerPositions,
            );
        }
        self.set_phase(Phase::Accepted);
        self.on_accept();
    }

    /// rippled `onAccept` / `doAccept`: build the ledger, validate it, start the next round.
    fn on_accept(&mut self) {
        let result = self.result.clone().expect("accepting needs a position");
        let step = self.cfg.params.close_time_step_ms;
        let (close_time, agreed) =
            if result.position.close_time == crate::consensus::time::Time::ZERO {
                // Agree to disagree: one step after the parent.
                (self.lcl.close_time().plus(step), false)
            } else {
                (
                    eff_close_time(
                        result.position.close_time,
                        self.close_resolution_ms,
                        self.lcl.close_time(),
                        step,
                    ),
                    true,
                )
            };
        let ledger = Arc::new(Ledger::next(
            &self.lcl,
            result.txns.clone(),
            close_time,
            agreed,
            self.close_resolution_ms,
        ));
        self.ledgers.insert(ledger.clone());
        self.remember_set(&result.txns);
        *self.counters.rounds.entry(result.state.name()).or_default() += 1;

        self.adjust_close_time(result.state);
        let compatible = self.ledgers.is_ancestor(&self.fully_validated, &ledger);
        let mut validated = false;
        // A validator signs for the rounds it began in step (proposing; full validation, or a
        // partial one if it bowed out since) and, partially, for rounds it followed other
        // proposers through. A node catching up (not FULL) that built a ledger nobody else
        // proposed on signs nothing: rippled signs that partial validation too, which puts
        // support on a dead-end branch and makes catching-up nodes hold each other back (see
        // README, differences from rippled).
        if self.cfg.validating
            && (self.round_in_step || result.proposers > 0)
            && compatible
            && result.state != ConsensusState::MovedOn
            && ledger.seq() > self.largest_validated_seq
            && let Some(key) = &self.key
        {
            // rippled signs with the network clock, strictly later than its previous one.
            let sign_time = self.net_now().max(self.last_sign_time.plus(step));
            let v = Validation {
                ledger: ledger.hash(),
                seq: ledger.seq(),
                tx_set: result.txns.id(),
                full: self.mode == Mode::Proposing,
                sign_time,
                node: self.our_id,
            }
            .sign(key, self.cfg.network_id);
            self.last_sign_time = sign_time;
            self.largest_validated_seq = ledger.seq();
            let own = VerifiedValidation::own(v.clone());
            self.add_validation(own.validation());
            self.emit(Output::PersistValidatedSeq(ledger.seq()));
            let v = Arc::new(v);
            self.last_own_validation = Some((v.clone(), self.now));
            self.emit(Output::Broadcast(Message::Validation(v)));
            validated = true;
        }
        self.emit(Output::LedgerAccepted(AcceptedLedger {
            ledger: ledger.clone(),
            result: result.state,
            round_ms: result.round_ms,
            proposers: result.proposers,
            mode: self.mode,
            disputes: result.disputes.len(),
            validated,
        }));
        // Disputed transactions that did not get in stay pending for the next round (rippled
        // applies them first to the new open ledger).
        for d in result.disputes.values() {
            if !result.txns.contains(&d.tx().id()) {
                self.pending.offer(d.tx().clone());
            }
        }
        self.lcl = ledger.clone();
        self.check_fully_validated();

        self.accepted_since_announce += 1;
        if self.accepted_since_announce >= super::ANNOUNCE_EVERY_LEDGERS {
            self.announce_unl();
        }
        self.end_consensus(ledger);
    }

    /// rippled `endConsensus`: between rounds, take the ledger the validations prefer (never
    /// our own parent, never one off our fully validated chain), update the operating mode,
    /// and begin the next round, proposing only when FULL.
    fn end_consensus(&mut self, closed: Arc<Ledger>) {
        let mut best = self.preferred_prev_ledger();
        if best == closed.parent() {
            best = closed.hash();
        }
        if best != closed.hash()
            && let Some(target) = self.ledgers.get(&best)
            && !self.ledgers.is_ancestor(&self.fully_validated, target)
        {
            best = closed.hash();
        }
        let switched = (best != closed.hash()).then(|| self.switch_reason(&best));
        self.end_consensus_state(switched);
        let proposing = self.may_propose();
        self.start_round(best, closed, proposing);
    }

    /// rippled `doAccept`'s close-time correction: move our clock offset toward the average of
    /// our close time and the peers' initial close times (whole close-time steps; see
    /// [`adjust_close_offset`]).
    fn adjust_close_time(&mut self, state: ConsensusState) {
        if !matches!(self.mode, Mode::Proposing | Mode::Observing)
            || state == ConsensusState::MovedOn
        {
            return;
        }
        let step = self.cfg.params.close_time_step_ms.max(1);
        let ours = self.raw_close_times.ours.ms().div_euclid(step);
        let mut total = ours;
        let mut count: i64 = 1;
        for (t, n) in &self.raw_close_times.peers {
            total += t.ms().div_euclid(step) * i64::from(*n);
            count += i64::from(*n);
        }
        total += count / 2;
        let by = total.div_euclid(count) - ours;
        let offset = adjust_close_offset(self.close_offset_ms / step, by);
        self.close_offset_ms = offset * step;
    }

    fn prune_sets(&mut self) {
        let floor = self.lcl.seq().saturating_sub(4);
        self.known_sets.retain(|_, (_, seq)| *seq >= floor);
    }
}
