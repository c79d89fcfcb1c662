//! Operator commands: submitting transactions, injecting a hand-made position, and pinning our
//! vote on a dispute. Injected positions go through the same path as ours (next seq, signed,
//! disputes refreshed), so peers cannot tell them from an organic position change.

use std::sync::Arc;

use super::{Command, Engine, Event, Mode, Output, Phase};
use crate::consensus::dispute::Voter;
use crate::consensus::pending::Offer;
use crate::consensus::refusal::{Refusal, Verdict};
use crate::consensus::txset::TxSet;

impl Engine {
    pub(super) fn command(&mut self, c: Command) -> Verdict {
        match c {
            Command::Submit(txs) => {
                let mut fresh = Vec::new();
                let mut full = false;
                for tx in txs {
                    match self.pending.offer(tx.clone()) {
                        Offer::Added => {
                            self.counters.txs_accepted += 1;
                            fresh.push(tx);
                        }
                        Offer::Known => {}
                        Offer::Full => full = true,
                    }
                }
                if !fresh.is_empty() {
                    self.broadcast_txs(fresh);
                    Verdict::Accepted
                } else if full {
                    Verdict::Refused(Refusal::PoolFull)
                } else {
                    Verdict::Refused(Refusal::Duplicate)
                }
            }
            Command::InjectPosition { txs, close_time } => {
                if self.phase != Phase::Establish || self.mode != Mode::Proposing {
                    return Verdict::Refused(Refusal::NotApplicable);
                }
                let Some(r) = self.result.as_ref() else {
                    return Verdict::Refused(Refusal::NotApplicable);
                };
                let set = Arc::new(TxSet::new(txs));
                let close = close_time.unwrap_or(r.position.close_time);
                let now = self.now;
                let mut flips = Vec::new();
                if let Some(r) = self.result.as_mut() {
                    for (id, d) in r.disputes.iter_mut() {
                        let yes = set.contains(id);
                        if d.our_vote() != yes {
                            d.align_our_vote(yes, now);
                            flips.push((*id, yes));
                        }
                    }
                    // Compare the new set against every set we hold again.
                    r.compares.clear();
                }
                for (tx, yes) in flips {
                    self.emit(Output::Event(Event::VoteChanged {
                        tx,
                        voter: Voter::Us,
                        yes,
                    }));
                }
                self.change_position(set.clone(), close);
                let sets: Vec<Arc<TxSet>> = self
                    .acquired
                    .values()
                    .filter(|s| s.id() != set.id())
                    .cloned()
                    .collect();
                for s in sets {
                    self.create_disputes(&s);
                }
                Verdict::Accepted
            }
            Command::OverrideVote { tx, vote } => {
                let now = self.now;
                let Some(r) = self.result.as_mut() else {
                    return Verdict::Refused(Refusal::NotApplicable);
                };
                let Some(d) = r.disputes.get_mut(&tx) else {
                    return Verdict::Refused(Refusal::NotApplicable);
                };
                if !d.override_vote(vote, now) {
                    return Verdict::Accepted;
                }
                let yes = d.our_vote();
                let disputed = d.tx().clone();
                let set = if yes {
                    r.txns.with(disputed)
                } else {
                    r.txns.without(&tx)
                };
                let close = r.position.close_time;
                self.emit(Output::Event(Event::VoteChanged {
                    tx,
                    voter: Voter::Us,
                    yes,
                }));
                self.change_position(Arc::new(set), close);
                Verdict::Accepted
            }
        }
    }
}
